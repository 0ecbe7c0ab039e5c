//! Many FTP sessions on one thread, in the caller's [`mio`] event loop.
//!
//! The protocol lives in `ftp-sansio` ([`ftp_sansio::session::Session`], sans-IO); this crate
//! only owns sockets and time. The caller owns the [`mio::Poll`] and its loop; a
//! [`Sessions`] value registers its sockets with a range of the caller's tokens, and the
//! caller hands it the events for them. Nothing here blocks or spawns a thread:
//!
//! - control and passive data connections use non-blocking connects (completed on the first
//!   writable event, checked with `take_error`/`peer_addr`); active mode binds a listener on
//!   the control connection's local address and closes any connection that does not come
//!   from the server's IP (port theft; the transfer then ends with the data timeout if the
//!   server never connects);
//! - sockets are registered once for both directions (mio is edge-triggered), so control
//!   output is written as soon as the core produces it, and a `WouldBlock` simply waits for
//!   the next writable edge;
//! - deadlines come from the core (reply, data connect/accept/idle timeouts of
//!   [`ftp_sansio::session::Config`]); [`Sessions::poll_timeout`] sizes the caller's wait and
//!   [`Sessions::handle_timeouts`] acts on them;
//! - data bytes never pass through the core: they move between the data socket and a
//!   [`DataEnd`] (an [`std::io::Write`] sink, an [`std::io::Read`] source, or a bounded
//!   buffer) through one reusable buffer per session. A sink or source that returns
//!   `WouldBlock` pauses the transfer (the socket is no longer read, so TCP flow control
//!   slows the server) until [`Sessions::resume`]; nothing ever buffers a whole file;
//! - one session moves at most [`Options::fairness_budget`] bytes per event before the
//!   others get their turn.
//!
//! # The loop
//!
//! ```no_run
//! use ftp_mio::core::Config;
//! use ftp_mio::Sessions;
//! use mio::{Events, Poll, Token};
//!
//! let addr = "192.0.2.7:21".parse()?; // a SocketAddr: name resolution is the caller's
//! let mut poll = Poll::new()?;
//! let mut ftp = Sessions::new(poll.registry(), Token(0), 16)?;
//! let (s, _greeting) = ftp.connect(addr, Config::default())?;
//! ftp.login(s, "anonymous", "")?;
//! ftp.cwd(s, "pub")?;
//! let listing = ftp.nlst(s, None)?;
//! let up = ftp.store(s, "copy.txt", &b"not allowed for anonymous"[..])?;
//! ftp.quit(s)?; // the session ends after QUIT, and with it the loop
//!
//! let mut events = Events::with_capacity(128);
//! while !ftp.is_empty() {
//!     if let Err(e) = poll.poll(&mut events, ftp.poll_timeout()) {
//!         if e.kind() != std::io::ErrorKind::Interrupted {
//!             return Err(e.into()); // a signal (EINTR) only ends the wait early
//!         }
//!     }
//!     for event in events.iter() {
//!         ftp.handle_event(event);
//!     }
//!     ftp.handle_timeouts();
//!     while let Some(done) = ftp.poll_completion() {
//!         if done.op == listing {
//!             println!("{}", String::from_utf8_lossy(&done.data.unwrap_or_default()));
//!         } else if done.op == up {
//!             // a refusal (550 for anonymous) is a typed error, and the session goes on
//!             if let Err(err) = done.result {
//!                 println!("upload refused: {:?}", err.reply().map(|r| r.code()));
//!             }
//!         }
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! (`tests/tests/mio_docs.rs` in the repository runs this loop against an in-process server.)
//!
//! Sessions are independent: a session whose server disconnects fails its operations alone
//! ([`Error::is_fatal`]), the others go on. FTPS (`AUTH TLS`, implicit TLS, `PROT P`) needs
//! the `tls` feature (the `tls` module); without it a session that would need TLS fails with
//! [`Error::TlsUnsupported`].
//!
//! # Features and Rust version
//!
//! - `tls`: FTPS through rustls (the `tls` module); needs Rust 1.85 (rustls depends on zeroize).
//!
//! Without features the crate builds with Rust 1.80.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod conn;
mod data;
mod error;
mod sessions;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;
#[cfg(not(feature = "tls"))]
mod tls;

pub use data::DataEnd;
pub use error::Error;
pub use sessions::{Completion, OpId, Options, SessionId, Sessions};

/// The `ftp-sansio` types that appear in this crate's API, re-exported for convenience.
///
/// ```
/// use ftp_mio::core::{Config, Outcome};
/// let config = Config { passive: true, ..Config::default() };
/// # let _ = (config, None::<Outcome>);
/// ```
pub mod core {
    pub use ftp_sansio::session::{
        Config, OpError, Operation, Outcome, Session, TransferKind, TransferRequest, UsageError,
    };
}
