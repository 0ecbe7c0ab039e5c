//! FTPS (RFC 4217) without I/O: the TLS configuration every driver shares and a sans-IO TLS
//! layer over [rustls]. Needs the `tls` cargo feature.
//!
//! rustls is sans-IO itself (a [`rustls::ClientConnection`] takes and gives bytes), so this
//! module owns every TLS decision of an FTP client and a driver only moves bytes between
//! its sockets and a [`TlsLayer`]:
//!
//! | what | where |
//! |---|---|
//! | trusted roots, TLS versions, your own `rustls::ClientConfig` | [`TlsConfig`], [`TlsConfigBuilder`] |
//! | one session store and one server name per control connection, so data connections resume its session | [`TlsContext`] |
//! | handshake, encryption, decryption | [`TlsLayer`] ([`TlsContext::start`]) |
//! | `close_notify` after a download, `close_notify` and a drain bounded by [`DRAIN_LIMIT`] after an upload | [`TlsLayer::send_close_notify`], [`TlsLayer::drain`] |
//! | the `CCC` shutdown, with the clear text that follows handed back | [`TlsLayer::downgrade`] |
//! | "is this a TLS failure", and what it means for a transfer | [`TlsError`], [`TlsError::of_io`], [`TlsError::data_failure`] |
//!
//! # Certificates
//! Verified by default against the Mozilla roots of the `webpki-roots` crate, for the host
//! name given to [`TlsContext::new`] (an IP address works if the certificate names it). Add
//! your own root with [`TlsConfigBuilder::add_root_pem`] / [`TlsConfigBuilder::add_root_der`]
//! (a self-signed server, a company CA), or bring a whole [`rustls::ClientConfig`] with
//! [`TlsConfig::from_rustls`] (client certificates, a custom verifier, other protocol
//! versions). There is no switch to accept any certificate; a custom verifier in your own
//! `ClientConfig` is the only way, and rustls names that API `dangerous()`.
//!
//! # Session reuse on data connections
//! vsftpd (`require_ssl_reuse=YES`, its default) and ProFTPD (mod_tls's default) refuse a
//! protected data connection whose TLS session does not resume the control connection's.
//! So every connection of one control connection is started from one [`TlsContext`]: one
//! `Arc<ClientConfig>` (hence one session store) and the same server name. The store is a
//! fresh in-memory one per context (whatever [`rustls::ClientConfig::resumption`] the
//! config had), so sessions never leak between connections or servers.
//!
//! # TLS versions and tickets: why TLS 1.2 is the default
//! Under TLS 1.2 a session can be resumed any number of times. Under TLS 1.3 each resumption
//! spends one single-use ticket: OpenSSL servers send two after the control handshake and
//! one more on each resumed *download*; after an *upload* [`TlsLayer::drain`] sends
//! `close_notify` and reads the data connection to its end so that the ticket vsftpd sends
//! then is taken. ProFTPD 1.3.8 sends no ticket on resumed uploads, so under TLS 1.3 at most
//! two uploads work per login there (the third data connection is refused with `425`).
//! [`TlsVersions::Tls12`] is therefore the default: it works with every server tested, any
//! number of transfers. Choose [`TlsVersions::Any`] (1.3 preferred) for servers that need
//! TLS 1.3, knowing the ProFTPD limit.
//!
//! # A driver's loop
//! The layer never touches a socket: the driver owns one (here any `Read + Write` it opened,
//! for implicit FTPS) and moves bytes between it and the layer.
//! ```no_run
//! use std::io::{Read, Write};
//! use ftp_sansio::tls::{Received, TlsConfig, TlsContext};
//!
//! fn greeting(mut sock: impl Read + Write) -> Result<String, Box<dyn std::error::Error>> {
//! let ctx = TlsContext::new(&TlsConfig::new(), "ftp.example.com")?;
//! let mut tls = ctx.start()?;
//! let mut buf = [0u8; 16 * 1024];
//! let mut greeting = [0u8; 512];
//! let n = loop {
//!     while tls.wants_write() {                                    // send what TLS asks
//!         let n = sock.write(tls.pending_output())?;
//!         tls.consume_output(n);
//!     }
//!     match tls.read(&mut greeting)? {
//!         Received::Data(n) => break n,
//!         Received::PeerClosed => break 0,
//!         Received::NeedCiphertext => match sock.read(&mut buf)? {  // feed what arrives
//!             0 => tls.receive_eof()?,
//!             n => tls.receive(&buf[..n])?,
//!         },
//!     }
//! };
//! Ok(String::from_utf8_lossy(&greeting[..n]).into_owned())
//! }
//! ```

use std::io;

pub use rustls;

use crate::session::DataFailure;

mod config;
mod layer;
#[cfg(test)]
mod tests;

pub use config::{
    TlsConfig, TlsConfigBuilder, TlsConfigError, TlsContext, TlsInfo, TlsVersions, IMPLICIT_PORT,
};
pub use layer::{Downgrade, Drain, Received, TlsLayer, DRAIN_LIMIT, OUTPUT_LIMIT};

/// A failure of a [`TlsLayer`]. Once one happened the layer returns it from every call.
///
/// ```
/// use ftp_sansio::tls::TlsError;
/// let e = TlsError::UnexpectedEof;
/// assert!(!e.is_tls_failure());
/// assert_eq!(std::io::Error::from(e).kind(), std::io::ErrorKind::UnexpectedEof);
/// ```
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// rustls refused the peer: an untrusted or wrong certificate, a corrupt record, clear
    /// text where TLS was expected, an alert from the peer.
    #[error(transparent)]
    Rustls(#[from] rustls::Error),
    /// The stream ended without the peer's `close_notify` (during the handshake, or cutting
    /// data short).
    #[error("the connection ended without a TLS close_notify")]
    UnexpectedEof,
    /// Plaintext arrived where only the peer's `close_notify` may (the `CCC` shutdown).
    #[error("data on the control connection during the CCC shutdown")]
    DataDuringShutdown,
    /// [`TlsLayer::write`] after [`TlsLayer::send_close_notify`].
    #[error("no data can be written after close_notify")]
    WriteAfterClose,
}

impl TlsError {
    /// Whether this is a failure of TLS itself (rustls refused something, or the `CCC`
    /// shutdown broke the protocol) rather than the connection merely ending.
    ///
    /// ```
    /// use ftp_sansio::tls::{rustls, TlsError};
    /// assert!(TlsError::from(rustls::Error::DecryptError).is_tls_failure());
    /// assert!(!TlsError::UnexpectedEof.is_tls_failure());
    /// ```
    pub fn is_tls_failure(&self) -> bool {
        !matches!(self, TlsError::UnexpectedEof)
    }

    /// Whether the peer's certificate was refused (untrusted, expired, for another name).
    ///
    /// ```
    /// use ftp_sansio::tls::{rustls, TlsError};
    /// let e = TlsError::from(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName));
    /// assert!(e.is_certificate());
    /// assert!(!TlsError::UnexpectedEof.is_certificate());
    /// ```
    pub fn is_certificate(&self) -> bool {
        matches!(
            self,
            TlsError::Rustls(
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            )
        )
    }

    /// What this means for a data transfer: [`DataFailure::Reset`] for a stream cut short,
    /// [`DataFailure::Tls`] for everything else.
    ///
    /// ```
    /// use ftp_sansio::session::DataFailure;
    /// use ftp_sansio::tls::TlsError;
    /// assert_eq!(TlsError::UnexpectedEof.data_failure(), DataFailure::Reset);
    /// assert_eq!(TlsError::DataDuringShutdown.data_failure(), DataFailure::Tls);
    /// ```
    pub fn data_failure(&self) -> DataFailure {
        match self {
            TlsError::UnexpectedEof => DataFailure::Reset,
            _ => DataFailure::Tls,
        }
    }

    /// The [`io::ErrorKind`] a driver's I/O error carries for it ([`From`] uses it):
    /// `UnexpectedEof` for a stream cut short, `BrokenPipe` for a write after
    /// `close_notify`, `InvalidData` for TLS failures.
    ///
    /// ```
    /// use ftp_sansio::tls::TlsError;
    /// assert_eq!(TlsError::WriteAfterClose.io_kind(), std::io::ErrorKind::BrokenPipe);
    /// ```
    pub fn io_kind(&self) -> io::ErrorKind {
        match self {
            TlsError::UnexpectedEof => io::ErrorKind::UnexpectedEof,
            TlsError::WriteAfterClose => io::ErrorKind::BrokenPipe,
            _ => io::ErrorKind::InvalidData,
        }
    }

    /// The [`TlsError`] inside a driver's [`io::Error`] (made with [`From`]), if there is
    /// one: how a driver tells a TLS failure from a socket failure.
    ///
    /// ```
    /// use std::io;
    /// use ftp_sansio::tls::TlsError;
    /// let io_err = io::Error::from(TlsError::DataDuringShutdown);
    /// assert!(TlsError::of_io(&io_err).is_some_and(TlsError::is_tls_failure));
    /// assert!(TlsError::of_io(&io::Error::from(io::ErrorKind::ConnectionReset)).is_none());
    /// ```
    pub fn of_io(e: &io::Error) -> Option<&TlsError> {
        e.get_ref()?.downcast_ref::<TlsError>()
    }

    /// An error rustls returned through an `io` API.
    fn from_rustls_io(e: io::Error) -> TlsError {
        let text = e.to_string();
        match e
            .into_inner()
            .map(|inner| inner.downcast::<rustls::Error>())
        {
            Some(Ok(r)) => TlsError::Rustls(*r),
            _ => TlsError::Rustls(rustls::Error::General(text)),
        }
    }
}

/// An I/O error of [`TlsError::io_kind`] wrapping the error ([`TlsError::of_io`] finds it).
///
/// ```
/// let e = std::io::Error::from(ftp_sansio::tls::TlsError::UnexpectedEof);
/// assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
/// ```
impl From<TlsError> for io::Error {
    fn from(e: TlsError) -> io::Error {
        io::Error::new(e.io_kind(), e)
    }
}
