//! # ftp-sansio: a sans-IO FTP client
//!
//! Everything an FTP client decides lives in this crate; it owns no socket, thread or clock.
//! Drivers (`ftp-blocking`, `ftp-mio`, or your own event loop) move bytes and open sockets as
//! the core asks.
//!
//! - [`command`]: typed commands encoded into a caller's buffer, with injection-proof arguments.
//! - [`reply`]: the streaming reply parser (RFC 959 §4.2) and typed decoders (227, 229, 257,
//!   213, 211 FEAT, 150 sizes).
//! - [`session`]: the whole client conversation as a sans-IO state machine.
//! - [`retry`]: what to do after a failure (retry, reconnect, give up) and how long to wait.
//! - [`listing`]: `LIST` and `MLSD`/`MLST` parsers.
//! - [`ascii`]: streaming CRLF <-> LF transforms for ASCII-mode transfers.
//! - [`time`]: timestamps with the precision a server gave.
//! - `tls` (cargo feature `tls`): the FTPS configuration and a sans-IO TLS layer over rustls.
//!
//! # Rust version
//!
//! Rust 1.80 or newer; with the `tls` feature (rustls, which depends on zeroize) 1.85 or newer.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

pub mod ascii;
pub mod command;
pub mod listing;
pub mod reply;
pub mod retry;
pub mod session;
pub mod time;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;
pub mod url;
