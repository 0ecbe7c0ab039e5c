//! FTPS (RFC 4217) with [rustls]: explicit (`AUTH TLS`), implicit (TLS from the first byte)
//! and protected data connections. Needs the `tls` cargo feature.
//!
//! | you want | call |
//! |---|---|
//! | explicit FTPS, ftplib's `FTP_TLS` | [`Ftp::connect_tls`] (connect + `AUTH TLS`), then [`Ftp::login`] and [`Ftp::prot_p`] |
//! | upgrade a clear connection | [`Ftp::auth_tls`] |
//! | implicit FTPS (port 990) | [`Ftp::connect_implicit_tls`] |
//! | protect / unprotect data | [`Ftp::prot_p`] / [`Ftp::prot_c`] |
//! | clear control after login (RFC 4217 §6) | [`Ftp::ccc`] |
//!
//! ```no_run
//! use ftp_blocking::{tls::TlsConfig, Ftp};
//!
//! let mut ftp = Ftp::connect_tls("ftp.example.com", 21, &TlsConfig::new())?; // AUTH TLS
//! ftp.login("alice", "secret")?;                 // the password goes over TLS
//! ftp.prot_p()?;                                 // PBSZ 0 + PROT P: data over TLS too
//! let mut data = Vec::new();
//! ftp.retrbinary("RETR report.pdf", |b| { data.extend_from_slice(b); Ok(()) }, 8192, None)?;
//! ftp.quit()?;
//! # Ok::<(), ftp_blocking::Error>(())
//! ```
//!
//! # Certificates, session reuse, TLS versions
//! The configuration ([`TlsConfig`], [`TlsConfigBuilder`], [`TlsVersions`]) and every TLS
//! decision (session reuse on data connections, `close_notify` and the bounded drain after
//! an upload, the `CCC` shutdown) are ftp-sansio's, written once for every driver: see
//! [`ftp_sansio::tls`]. Certificates are verified against the webpki roots by default; add
//! your own root with [`TlsConfigBuilder::add_root_pem`] (a self-signed server, a company
//! CA). [`TlsVersions::Tls12`] is the default (any number of protected transfers on every
//! server tested; under TLS 1.3 ProFTPD 1.3.8 allows two uploads per login). A bad
//! configuration converts into an [`ErrorKind::Tls`] error, so `?` works in functions
//! returning [`Error`]. This module only moves bytes between blocking sockets and the
//! core's [`TlsLayer`].
//!
//! [`Ftp`]: crate::Ftp
//! [`Ftp::connect_tls`]: crate::Ftp::connect_tls
//! [`Ftp::connect_implicit_tls`]: crate::Ftp::connect_implicit_tls
//! [`Ftp::auth_tls`]: crate::Ftp::auth_tls
//! [`Ftp::login`]: crate::Ftp::login
//! [`Ftp::prot_p`]: crate::Ftp::prot_p
//! [`Ftp::prot_c`]: crate::Ftp::prot_c
//! [`Ftp::ccc`]: crate::Ftp::ccc

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

pub use ftp_sansio::tls::{
    rustls, TlsConfig, TlsConfigBuilder, TlsConfigError, TlsInfo, TlsVersions, IMPLICIT_PORT,
};
use ftp_sansio::tls::{Downgrade, Received, TlsError, TlsLayer};

use crate::error::{Error, ErrorKind, Result};

pub(crate) use ftp_sansio::tls::TlsContext;

/// A bad TLS configuration is an [`ErrorKind::Tls`] error whose cause is the [`io::Error`]
/// of the [`TlsConfigError`].
///
/// ```
/// use ftp_blocking::{tls::TlsConfig, ErrorKind};
/// let err = ftp_blocking::Error::from(TlsConfig::builder().without_webpki_roots().build().unwrap_err());
/// assert_eq!(err.kind(), ErrorKind::Tls);
/// ```
impl From<TlsConfigError> for Error {
    fn from(e: TlsConfigError) -> Error {
        Error::tls(e.into())
    }
}

/// A TLS client stream over a blocking socket: the socket's bytes go through the core's
/// [`TlsLayer`]; the socket's timeouts bound every wait.
#[derive(Debug)]
pub(crate) struct TlsStream {
    layer: TlsLayer,
    pub(crate) sock: TcpStream,
}

impl TlsStream {
    /// The rustls connection (what was negotiated).
    pub(crate) fn conn(&self) -> &rustls::ClientConnection {
        self.layer.connection()
    }

    /// Writes all the ciphertext the layer holds.
    fn send(&mut self) -> io::Result<()> {
        while self.layer.wants_write() {
            match self.sock.write(self.layer.pending_output()) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.layer.consume_output(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// One read from the socket, fed to the layer (a TLS failure's alert goes out first).
    fn receive(&mut self) -> io::Result<()> {
        let mut buf = [0u8; 16 * 1024];
        let n = loop {
            match self.sock.read(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        let fed = match buf.get(..n) {
            Some(b) if n > 0 => self.layer.receive(b),
            _ => self.layer.receive_eof(),
        };
        fed.map_err(|e| self.failed(e))
    }

    /// A TLS failure: send the alert (best effort), return the error.
    fn failed(&mut self, e: TlsError) -> io::Error {
        let _ = self.send();
        e.into()
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            self.send()?;
            match self.layer.read(buf).map_err(|e| self.failed(e))? {
                Received::Data(n) => return Ok(n),
                Received::PeerClosed => return Ok(0),
                Received::NeedCiphertext => self.receive()?,
            }
        }
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.layer.write(buf).map_err(|e| self.failed(e))?;
        self.send()?;
        if n == 0 && !buf.is_empty() {
            // The layer was full: now that all went out it takes more.
            let n = self.layer.write(buf).map_err(|e| self.failed(e))?;
            self.send()?;
            return Ok(n);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// The context of a connection to `host`; a bad name is [`ErrorKind::InvalidInput`].
fn context_for(tls: &TlsConfig, host: &str) -> Result<TlsContext> {
    TlsContext::new(tls, host).map_err(|e| Error::from(e).with_kind(ErrorKind::InvalidInput))
}

/// Runs the client handshake on `sock` (its timeouts apply).
pub(crate) fn handshake(ctx: &TlsContext, sock: TcpStream) -> io::Result<TlsStream> {
    let mut s = TlsStream {
        layer: ctx.start()?,
        sock,
    };
    while s.layer.is_handshaking() {
        s.send()?;
        s.receive()?;
    }
    s.send()?;
    Ok(s)
}

/// A data connection's handshake; counts resumptions.
pub(crate) fn data_handshake(ctx: &mut TlsContext, sock: TcpStream) -> io::Result<TlsStream> {
    let stream = handshake(ctx, sock)?;
    ctx.count_data_handshake(&stream.layer);
    Ok(stream)
}

/// Whether `e` is a TLS failure (rather than a socket one).
pub(crate) fn is_tls_io_error(e: &io::Error) -> bool {
    TlsError::of_io(e).is_some_and(TlsError::is_tls_failure)
}

/// Ends a TLS data connection after an upload: `close_notify`, then the core's bounded
/// drain (the peer's `close_notify`, EOF, an error or its cap). Errors in the drain do not
/// matter any more: the data went out.
pub(crate) fn finish_upload(mut s: TlsStream) -> io::Result<()> {
    s.layer.send_close_notify();
    s.send()?;
    let _ = s.sock.shutdown(Shutdown::Write);
    while !s.layer.drain().is_done() {
        if s.receive().is_err() {
            break;
        }
    }
    Ok(())
}

/// Ends a TLS data connection after a download (EOF seen): answer with `close_notify`.
pub(crate) fn finish_download(mut s: TlsStream) {
    s.layer.send_close_notify();
    let _ = s.send();
}

/// Ends TLS on the control connection after `CCC` (RFC 4217 §6), waiting (bounded by the
/// socket's read timeout) for the server's `close_notify`; hands back the socket and the
/// clear-text bytes that came right after it.
pub(crate) fn downgrade(mut s: TlsStream) -> io::Result<(TcpStream, Vec<u8>)> {
    loop {
        match s.layer.downgrade().map_err(|e| s.failed(e))? {
            Downgrade::NeedCiphertext => {
                s.send()?;
                s.receive()?;
            }
            Downgrade::Done { cleartext } => {
                s.send()?;
                return Ok((s.sock, cleartext));
            }
        }
    }
}

/// The deadline for a handshake: the given timeout, at least 1 ms (0 means "none" to std).
pub(crate) fn socket_timeout(t: Option<Duration>) -> Option<Duration> {
    t.map(|t| t.max(Duration::from_millis(1)))
}

// -------------------------------------------------------------------------------------
// The FTPS methods of `Ftp`
// -------------------------------------------------------------------------------------

use crate::{Ftp, Reply, DEFAULT_PORT};
use ftp_sansio::command::ProtLevel;
use ftp_sansio::session::Operation;

/// `host` without the brackets of an IPv6 literal, for resolving.
fn bare_host(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// A failure of `AUTH TLS` or of its handshake becomes [`ErrorKind::Tls`].
fn as_tls_failure(e: Error) -> Error {
    if e.reply().is_some() || e.io_error().is_some_and(is_tls_io_error) {
        e.with_kind(ErrorKind::Tls)
    } else {
        e
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
impl Ftp {
    /// Explicit FTPS (ftplib's `FTP_TLS(host)` + `auth()`): connects to `host` on `port`,
    /// reads the greeting and upgrades the control connection with `AUTH TLS`, verifying the
    /// certificate for `host`. Then [`login`](Ftp::login) (over TLS) and
    /// [`prot_p`](Ftp::prot_p) to protect data connections too.
    ///
    /// A server that refuses `AUTH TLS`, or a certificate that is not trusted or not valid for
    /// `host`, gives an [`ErrorKind::Tls`] error and no connection: nothing is ever sent in
    /// clear text after TLS was asked for.
    ///
    /// ```no_run
    /// use ftp_blocking::{tls::TlsConfig, ErrorKind, Ftp};
    /// match Ftp::connect_tls("ftp.example.com", 21, &TlsConfig::new()) {
    ///     Ok(mut ftp) => {
    ///         ftp.login("alice", "secret")?;
    ///         ftp.prot_p()?;
    ///     }
    ///     Err(e) if e.kind() == ErrorKind::Tls => eprintln!("no FTPS: {e}"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn connect_tls(host: &str, port: u16, tls: &TlsConfig) -> Result<Ftp> {
        let mut ftp = Ftp::new();
        ftp.connect_host(host, Some(port))?;
        ftp.auth_tls(host, tls)?;
        Ok(ftp)
    }

    /// Implicit FTPS: connects to `host` on `port` (usually [`IMPLICIT_PORT`], 990) and runs
    /// TLS from the first byte, the greeting included. Then [`login`](Ftp::login) and
    /// [`prot_p`](Ftp::prot_p) as with [`connect_tls`](Ftp::connect_tls).
    ///
    /// ```no_run
    /// use ftp_blocking::{tls::{TlsConfig, IMPLICIT_PORT}, Ftp};
    /// let mut ftp = Ftp::connect_implicit_tls("ftp.example.com", IMPLICIT_PORT, &TlsConfig::new())?;
    /// ftp.login("alice", "secret")?;
    /// ftp.prot_p()?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn connect_implicit_tls(host: &str, port: u16, tls: &TlsConfig) -> Result<Ftp> {
        let mut ftp = Ftp::new();
        ftp.connect_host_implicit_tls(host, Some(port), tls)?;
        Ok(ftp)
    }

    /// [`connect_implicit_tls`](Ftp::connect_implicit_tls) on this client, keeping its
    /// settings (timeouts, [`Config`](crate::Config), debug level); `port` defaults to
    /// [`IMPLICIT_PORT`]. Returns the greeting. An open connection is closed first.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use ftp_blocking::{tls::TlsConfig, Ftp};
    /// let mut ftp = Ftp::new();
    /// ftp.set_timeout(Some(Duration::from_secs(10)));
    /// let welcome = ftp.connect_host_implicit_tls("localhost", None, &TlsConfig::new())?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn connect_host_implicit_tls(
        &mut self,
        host: &str,
        port: Option<u16>,
        tls: &TlsConfig,
    ) -> Result<Reply> {
        let ctx = context_for(tls, host)?;
        let port = port.unwrap_or(IMPLICIT_PORT);
        self.open_with_tls((bare_host(host), port), Some(ctx))
    }

    /// ftplib's `auth()`: `AUTH TLS` on this (clear) connection, then the TLS handshake,
    /// verifying the certificate for `host` (a DNS name or an IP address; the name data
    /// connections use too). Log in afterwards: user and password then go over TLS.
    ///
    /// On any failure (`AUTH TLS` refused: [`ErrorKind::Tls`] with the server's reply; an
    /// untrusted certificate or a wrong name: [`ErrorKind::Tls`]) the connection is
    /// **closed**, so that a following [`login`](Ftp::login) cannot go out in clear text.
    ///
    /// ```no_run
    /// use ftp_blocking::{tls::TlsConfig, Ftp};
    /// let mut ftp = Ftp::new();
    /// ftp.connect_host("localhost", Some(21))?;
    /// ftp.auth_tls("localhost", &TlsConfig::new())?;
    /// ftp.login("alice", "secret")?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn auth_tls(&mut self, host: &str, tls: &TlsConfig) -> Result<Reply> {
        let ctx = context_for(tls, host)?;
        // The session decides: refused when the control connection already runs TLS; a
        // refused AUTH TLS or a failed handshake closes it (no clear-text login by mistake).
        self.conn()?.offer_tls_context(ctx);
        self.expect_reply(Operation::AuthTls)
            .map_err(as_tls_failure)
    }

    /// ftplib's `prot_p()`: `PBSZ 0` + `PROT P`; from now on data connections run TLS,
    /// resuming the control connection's session. Needs TLS on the control connection
    /// ([`connect_tls`](Ftp::connect_tls), [`auth_tls`](Ftp::auth_tls),
    /// [`connect_implicit_tls`](Ftp::connect_implicit_tls)), else an
    /// [`ErrorKind::InvalidInput`] error and nothing is sent.
    ///
    /// ```no_run
    /// use ftp_blocking::{tls::TlsConfig, Ftp};
    /// let mut ftp = Ftp::connect_tls("localhost", 21, &TlsConfig::new())?;
    /// ftp.login("alice", "secret")?;
    /// ftp.prot_p()?;
    /// assert!(ftp.is_data_protected());
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn prot_p(&mut self) -> Result<Reply> {
        // The session refuses it before AUTH TLS (nothing is sent).
        self.expect_reply(Operation::Protect(ProtLevel::Private))
    }

    /// ftplib's `prot_c()`: `PBSZ 0` + `PROT C`; data connections go back to clear text.
    ///
    /// ```no_run
    /// use ftp_blocking::{tls::TlsConfig, Ftp};
    /// let mut ftp = Ftp::connect_tls("localhost", 21, &TlsConfig::new())?;
    /// ftp.login("alice", "secret")?;
    /// ftp.prot_c()?;
    /// assert!(!ftp.is_data_protected());
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn prot_c(&mut self) -> Result<Reply> {
        self.expect_reply(Operation::Protect(ProtLevel::Clear))
    }

    /// ftplib's `ccc()`: `CCC` (RFC 4217 §6), then the control connection's TLS is shut down
    /// and commands go on in clear text (for firewalls that must read them). Data
    /// connections keep following `PROT`. Refused by most servers unless configured.
    ///
    /// ```no_run
    /// use ftp_blocking::{tls::TlsConfig, Ftp};
    /// let mut ftp = Ftp::connect_tls("localhost", 21, &TlsConfig::new())?;
    /// ftp.login("alice", "secret")?;
    /// ftp.prot_p()?;
    /// ftp.ccc()?;
    /// assert!(!ftp.is_tls());
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn ccc(&mut self) -> Result<Reply> {
        self.expect_reply(Operation::Ccc)
    }

    /// Whether the control connection runs TLS now.
    ///
    /// ```
    /// assert!(!ftp_blocking::Ftp::new().is_tls());
    /// ```
    pub fn is_tls(&self) -> bool {
        self.conn_ref().is_ok_and(|c| c.is_control_tls())
    }

    /// Whether data connections are protected (`PROT P` in force).
    ///
    /// ```
    /// assert!(!ftp_blocking::Ftp::new().is_data_protected());
    /// ```
    pub fn is_data_protected(&self) -> bool {
        self.conn_ref().is_ok_and(|c| c.session().is_data_tls())
    }

    /// What TLS negotiated on this connection, once FTPS was set up.
    ///
    /// ```no_run
    /// use ftp_blocking::{tls::TlsConfig, Ftp};
    /// let mut ftp = Ftp::connect_tls("localhost", 21, &TlsConfig::new())?;
    /// ftp.login("alice", "secret")?;
    /// ftp.prot_p()?;
    /// ftp.nlst(None)?;
    /// let info = ftp.tls_info().unwrap();
    /// assert_eq!(info.data_resumed, info.data_handshakes);
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn tls_info(&self) -> Option<TlsInfo> {
        let conn = self.conn_ref().ok()?;
        let ctx = conn.tls_context()?;
        Some(ctx.info(conn.control_tls_version()))
    }
}

/// The default port of explicit FTPS is the FTP port.
///
/// ```
/// assert_eq!(ftp_blocking::tls::EXPLICIT_PORT, 21);
/// ```
pub const EXPLICIT_PORT: u16 = DEFAULT_PORT;
