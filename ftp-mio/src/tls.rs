//! FTPS (RFC 4217) for the mio driver: explicit (`AUTH TLS`), implicit (TLS from the first
//! byte) and protected data connections, with [rustls] over non-blocking sockets. The public
//! items need the `tls` cargo feature; without it a session that would need TLS fails with
//! [`Error::TlsUnsupported`](crate::Error::TlsUnsupported).
//!
//! | you want | call |
//! |---|---|
//! | explicit FTPS | [`Sessions::connect`], then [`Sessions::auth_tls`], [`Sessions::login`], [`Sessions::prot_p`] (queued in that order) |
//! | implicit FTPS (port 990) | [`Sessions::connect_implicit_tls`] |
//! | clear data again | [`Sessions::prot_c`] |
//! | clear control after login | [`Sessions::ccc`] |
//!
//! Operations run in the order they were queued, so a login queued behind `AUTH TLS` runs
//! only over TLS: if `AUTH TLS` is refused or the handshake fails (untrusted certificate,
//! wrong name), that operation fails with [`Error::Tls`](crate::Error::Tls) **and the session
//! is closed**: the queued login fails with `UsageError::Closed` and never goes out in clear
//! text.
//!
//! Certificates are verified against the webpki roots by default; add roots with
//! [`TlsConfigBuilder`] or bring a whole `rustls::ClientConfig` ([`TlsConfig::from_rustls`]).
//! Every data connection of a session uses that session's own `Arc<ClientConfig>` (one
//! session store) and the same server name as its control connection, so it resumes the
//! control connection's TLS session, which vsftpd and ProFTPD insist on. TLS 1.2 is the
//! default ([`TlsVersions`]): under TLS 1.3 ProFTPD 1.3.8 allows at most two uploads in a row
//! per login (no ticket on resumed uploads); after each upload this driver sends
//! `close_notify` and reads the data connection to its end so that vsftpd's new ticket is
//! taken.
//!
//! [`Sessions::connect`]: crate::Sessions::connect
//! [`Sessions::auth_tls`]: crate::Sessions::auth_tls
//! [`Sessions::login`]: crate::Sessions::login
//! [`Sessions::prot_p`]: crate::Sessions::prot_p
//! [`Sessions::prot_c`]: crate::Sessions::prot_c
//! [`Sessions::ccc`]: crate::Sessions::ccc
//! [`Sessions::connect_implicit_tls`]: crate::Sessions::connect_implicit_tls
#![cfg_attr(not(feature = "tls"), allow(dead_code))]

use std::io::{self, Read, Write};
use std::net::Shutdown;

use mio::net::TcpStream;

#[cfg(feature = "tls")]
pub use with_tls::*;

/// A socket, clear or TLS; TLS is driven without blocking (the handshake runs inside
/// `read`/`write`, which return `WouldBlock` until it is done).
#[derive(Debug)]
pub(crate) struct Sock {
    pub(crate) tcp: TcpStream,
    #[cfg(feature = "tls")]
    tls: Option<Box<Layer>>,
}

/// A TLS layer and where its closing stands.
#[cfg(feature = "tls")]
#[derive(Debug)]
struct Layer {
    conn: rustls::ClientConnection,
    close_sent: bool,
    write_shut: bool,
}

impl Sock {
    /// A clear socket.
    pub(crate) fn plain(tcp: TcpStream) -> Sock {
        Sock {
            tcp,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Whether TLS runs on it.
    pub(crate) fn is_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        false
    }

    /// Ends an upload: clear, shut the write side down; TLS, `close_notify`, then read to
    /// the end so that a TLS 1.3 ticket sent meanwhile is taken. `Ok(false)`: would block,
    /// call again on the next readiness.
    pub(crate) fn finish_upload(&mut self) -> io::Result<bool> {
        #[cfg(feature = "tls")]
        if let Some(layer) = self.tls.as_mut() {
            return layer.finish_upload(&mut self.tcp);
        }
        match self.tcp.shutdown(Shutdown::Write) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// After a download's end: answer the server's `close_notify` (best effort).
    pub(crate) fn close_notify(&mut self) {
        #[cfg(feature = "tls")]
        if let Some(layer) = self.tls.as_mut() {
            layer.conn.send_close_notify();
            let _ = flush(&mut layer.conn, &mut self.tcp);
        }
    }
}

impl Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(layer) = self.tls.as_mut() {
            return tls_read(&mut layer.conn, &mut self.tcp, buf);
        }
        self.tcp.read(buf)
    }
}

impl Write for Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(layer) = self.tls.as_mut() {
            return tls_write(&mut layer.conn, &mut self.tcp, buf);
        }
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        #[cfg(feature = "tls")]
        if let Some(layer) = self.tls.as_mut() {
            return flush(&mut layer.conn, &mut self.tcp);
        }
        self.tcp.flush()
    }
}

/// Writes pending TLS records until none is left or the socket would block.
#[cfg(feature = "tls")]
fn flush(conn: &mut rustls::ClientConnection, tcp: &mut TcpStream) -> io::Result<()> {
    while conn.wants_write() {
        match conn.write_tls(tcp) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads TLS records from the socket and processes them; `Ok(false)` at EOF.
#[cfg(feature = "tls")]
fn pull(conn: &mut rustls::ClientConnection, tcp: &mut TcpStream) -> io::Result<bool> {
    let open = loop {
        match conn.read_tls(tcp) {
            Ok(0) => break false,
            Ok(_) => break true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    if let Err(e) = conn.process_new_packets() {
        // Send the alert if we can; the error is what matters.
        let _ = flush(conn, tcp);
        return Err(io::Error::new(io::ErrorKind::InvalidData, e));
    }
    Ok(open)
}

#[cfg(feature = "tls")]
fn tls_read(
    conn: &mut rustls::ClientConnection,
    tcp: &mut TcpStream,
    buf: &mut [u8],
) -> io::Result<usize> {
    let _ = flush_nb(conn, tcp)?;
    let mut eof = false;
    loop {
        match conn.reader().read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if eof {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
            }
            Err(e) => return Err(e),
        }
        if !pull(conn, tcp)? {
            eof = true;
        }
        let _ = flush_nb(conn, tcp)?;
    }
}

#[cfg(feature = "tls")]
fn tls_write(
    conn: &mut rustls::ClientConnection,
    tcp: &mut TcpStream,
    buf: &[u8],
) -> io::Result<usize> {
    if conn.is_handshaking() {
        drive_handshake(conn, tcp)?;
        if conn.is_handshaking() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
    }
    // Never buffer more than one write ahead of the socket.
    flush(conn, tcp)?;
    let n = conn.writer().write(buf)?;
    flush_nb(conn, tcp)?;
    Ok(n)
}

/// [`flush`], where `WouldBlock` is no error: `Ok(false)` if records are left.
#[cfg(feature = "tls")]
fn flush_nb(conn: &mut rustls::ClientConnection, tcp: &mut TcpStream) -> io::Result<bool> {
    match flush(conn, tcp) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(e),
    }
}

/// Moves the handshake on as far as the socket allows.
#[cfg(feature = "tls")]
fn drive_handshake(conn: &mut rustls::ClientConnection, tcp: &mut TcpStream) -> io::Result<()> {
    while conn.is_handshaking() {
        flush_nb(conn, tcp)?;
        if !conn.is_handshaking() {
            break;
        }
        match pull(conn, tcp) {
            Ok(true) => {}
            Ok(false) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    flush_nb(conn, tcp)?;
    Ok(())
}

#[cfg(feature = "tls")]
impl Layer {
    fn finish_upload(&mut self, tcp: &mut TcpStream) -> io::Result<bool> {
        if !self.close_sent {
            self.conn.send_close_notify();
            self.close_sent = true;
        }
        if !self.write_shut {
            if !flush_nb(&mut self.conn, tcp)? {
                return Ok(false);
            }
            let _ = tcp.shutdown(Shutdown::Write);
            self.write_shut = true;
        }
        // Drain to the server's close_notify or EOF; errors no longer matter.
        let mut scratch = [0u8; 4096];
        loop {
            match tls_read(&mut self.conn, tcp, &mut scratch) {
                Ok(0) => return Ok(true),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Ok(true),
            }
        }
    }
}

#[cfg(feature = "tls")]
mod with_tls {
    use std::fmt;
    use std::io;
    use std::sync::Arc;

    use rustls::client::Resumption;
    use rustls::pki_types::{CertificateDer, ServerName};
    use rustls::{ClientConfig, ClientConnection, HandshakeKind, RootCertStore};

    use super::{drive_handshake, flush_nb, Layer, Sock};
    use crate::Error;

    pub use rustls;

    /// The customary port of implicit FTPS (`ftps`, 990).
    ///
    /// ```
    /// assert_eq!(ftp_mio::tls::IMPLICIT_PORT, 990);
    /// ```
    pub const IMPLICIT_PORT: u16 = 990;

    fn tls_error(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
        Error::Tls {
            source: io::Error::new(io::ErrorKind::InvalidData, e),
            reply: None,
        }
    }

    /// The TLS protocol versions offered.
    ///
    /// ```
    /// use ftp_mio::tls::TlsVersions;
    /// assert_eq!(TlsVersions::default(), TlsVersions::Tls12);
    /// ```
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub enum TlsVersions {
        /// TLS 1.2 only (default): resumable any number of times, so any number of protected
        /// transfers per login on every server tested.
        #[default]
        Tls12,
        /// TLS 1.3 only.
        Tls13,
        /// Both; the server picks (TLS 1.3 where it can). ProFTPD 1.3.8 then refuses the
        /// third upload in a row of a login (no ticket left).
        Any,
    }

    impl TlsVersions {
        fn list(self) -> &'static [&'static rustls::SupportedProtocolVersion] {
            static V12: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
            static V13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
            static ANY: [&rustls::SupportedProtocolVersion; 2] =
                [&rustls::version::TLS13, &rustls::version::TLS12];
            match self {
                TlsVersions::Tls12 => &V12,
                TlsVersions::Tls13 => &V13,
                TlsVersions::Any => &ANY,
            }
        }
    }

    /// What FTPS sessions trust and offer: a `rustls::ClientConfig` template. Cheap to
    /// clone; each session gets its own copy with its own session store.
    ///
    /// ```
    /// use ftp_mio::tls::{TlsConfig, TlsVersions};
    /// let default = TlsConfig::new(); // webpki roots, TLS 1.2
    /// let both = TlsConfig::builder().versions(TlsVersions::Any).build()?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    #[derive(Clone)]
    pub struct TlsConfig {
        config: Arc<ClientConfig>,
    }

    impl fmt::Debug for TlsConfig {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("TlsConfig").finish_non_exhaustive()
        }
    }

    impl Default for TlsConfig {
        fn default() -> Self {
            TlsConfig::new()
        }
    }

    impl TlsConfig {
        /// Certificates verified against the webpki (Mozilla) roots; TLS 1.2.
        ///
        /// ```
        /// let tls = ftp_mio::tls::TlsConfig::new();
        /// ```
        pub fn new() -> TlsConfig {
            TlsConfig::builder()
                .build()
                .expect("the default TLS configuration is valid")
        }

        /// A configuration with roots of your own and other options.
        ///
        /// ```
        /// let b = ftp_mio::tls::TlsConfig::builder().without_webpki_roots();
        /// ```
        pub fn builder() -> TlsConfigBuilder {
            TlsConfigBuilder {
                roots: RootCertStore::empty(),
                webpki_roots: true,
                versions: TlsVersions::default(),
            }
        }

        /// Your own complete rustls configuration (verifier, client certificate, versions,
        /// provider). Only its session store is replaced, per session, by a fresh in-memory
        /// one: data connections must resume their control connection's session.
        ///
        /// ```
        /// use std::sync::Arc;
        /// use ftp_mio::tls::{rustls, TlsConfig};
        /// let provider = Arc::new(rustls::crypto::ring::default_provider());
        /// let mut roots = rustls::RootCertStore::empty();
        /// roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        /// let config = rustls::ClientConfig::builder_with_provider(provider)
        ///     .with_safe_default_protocol_versions()
        ///     .unwrap()
        ///     .with_root_certificates(roots)
        ///     .with_no_client_auth();
        /// let tls = TlsConfig::from_rustls(Arc::new(config));
        /// ```
        pub fn from_rustls(config: Arc<ClientConfig>) -> TlsConfig {
            TlsConfig { config }
        }

        /// The rustls configuration sessions start from.
        ///
        /// ```
        /// let tls = ftp_mio::tls::TlsConfig::new();
        /// assert!(tls.rustls_config().alpn_protocols.is_empty());
        /// ```
        pub fn rustls_config(&self) -> &Arc<ClientConfig> {
            &self.config
        }
    }

    /// Builds a [`TlsConfig`]; made by [`TlsConfig::builder`].
    ///
    /// ```no_run
    /// use ftp_mio::tls::{TlsConfig, TlsVersions};
    /// let pem = std::fs::read("server-ca.pem")?;
    /// let tls = TlsConfig::builder()
    ///     .without_webpki_roots()
    ///     .add_root_pem(&pem)?
    ///     .versions(TlsVersions::Any)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[derive(Clone, Debug)]
    pub struct TlsConfigBuilder {
        roots: RootCertStore,
        webpki_roots: bool,
        versions: TlsVersions,
    }

    impl TlsConfigBuilder {
        /// Trusts one more root certificate (DER); [`Error::Tls`] if it cannot be one.
        ///
        /// ```
        /// assert!(ftp_mio::tls::TlsConfig::builder().add_root_der(vec![1, 2, 3]).is_err());
        /// ```
        pub fn add_root_der(mut self, der: impl Into<Vec<u8>>) -> Result<Self, Error> {
            self.roots
                .add(CertificateDer::from(der.into()))
                .map_err(tls_error)?;
            Ok(self)
        }

        /// Trusts every certificate of a PEM text; [`Error::Tls`] when there is none or one
        /// is malformed.
        ///
        /// ```
        /// assert!(ftp_mio::tls::TlsConfig::builder().add_root_pem(b"nothing").is_err());
        /// ```
        pub fn add_root_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
            use rustls::pki_types::pem::PemObject;
            let mut n = 0;
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| tls_error(format!("bad PEM certificate: {e}")))?;
                self.roots.add(cert).map_err(tls_error)?;
                n += 1;
            }
            if n == 0 {
                return Err(tls_error("no certificate in the PEM text"));
            }
            Ok(self)
        }

        /// Trusts only the roots added here, not the webpki roots.
        ///
        /// ```
        /// assert!(ftp_mio::tls::TlsConfig::builder().without_webpki_roots().build().is_err());
        /// ```
        pub fn without_webpki_roots(mut self) -> Self {
            self.webpki_roots = false;
            self
        }

        /// The TLS versions to offer (default [`TlsVersions::Tls12`]).
        ///
        /// ```
        /// use ftp_mio::tls::{TlsConfig, TlsVersions};
        /// let tls = TlsConfig::builder().versions(TlsVersions::Tls13).build()?;
        /// # Ok::<(), ftp_mio::Error>(())
        /// ```
        pub fn versions(mut self, versions: TlsVersions) -> Self {
            self.versions = versions;
            self
        }

        /// The configuration (rustls, `ring` provider); [`Error::Tls`] when nothing is
        /// trusted.
        ///
        /// ```
        /// let tls = ftp_mio::tls::TlsConfig::builder().build()?;
        /// # Ok::<(), ftp_mio::Error>(())
        /// ```
        pub fn build(self) -> Result<TlsConfig, Error> {
            let mut roots = self.roots;
            if self.webpki_roots {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            if roots.is_empty() {
                return Err(tls_error("no trusted root certificate"));
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = ClientConfig::builder_with_provider(provider)
                .with_protocol_versions(self.versions.list())
                .map_err(tls_error)?
                .with_root_certificates(roots)
                .with_no_client_auth();
            Ok(TlsConfig {
                config: Arc::new(config),
            })
        }
    }

    /// What TLS negotiated on a session; from [`Sessions::tls_info`](crate::Sessions::tls_info).
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// let info = ftp.tls_info(session).unwrap();
    /// assert_eq!(info.data_resumed, info.data_handshakes);
    /// ```
    #[derive(Clone, Debug, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct TlsInfo {
        /// The control connection's TLS version (`None` before the handshake or after CCC).
        pub protocol_version: Option<rustls::ProtocolVersion>,
        /// Protected data connections whose handshake completed.
        pub data_handshakes: u64,
        /// How many of them resumed the control connection's session.
        pub data_resumed: u64,
    }

    /// A session's TLS side: its own config (one store) and the server name, shared by the
    /// control and data connections.
    #[derive(Clone)]
    pub(crate) struct TlsContext {
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        pub(crate) data_handshakes: u64,
        pub(crate) data_resumed: u64,
    }

    impl fmt::Debug for TlsContext {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("TlsContext")
                .field("name", &self.name)
                .finish_non_exhaustive()
        }
    }

    impl TlsContext {
        /// `host`: DNS name or IP address (brackets allowed), checked against the certificate.
        pub(crate) fn new(tls: &TlsConfig, host: &str) -> Result<TlsContext, Error> {
            let bare = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            let name = ServerName::try_from(bare.to_owned()).map_err(|e| Error::Tls {
                source: io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{host:?} is not a valid TLS server name: {e}"),
                ),
                reply: None,
            })?;
            let mut config = (*tls.config).clone();
            config.resumption = Resumption::in_memory_sessions(32);
            Ok(TlsContext {
                config: Arc::new(config),
                name,
                data_handshakes: 0,
                data_resumed: 0,
            })
        }

        /// Starts TLS on `sock` (the ClientHello goes out as soon as the socket allows).
        pub(crate) fn start(&self, sock: &mut Sock) -> io::Result<()> {
            let conn = ClientConnection::new(self.config.clone(), self.name.clone())
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let mut layer = Box::new(Layer {
                conn,
                close_sent: false,
                write_shut: false,
            });
            flush_nb(&mut layer.conn, &mut sock.tcp)?;
            sock.tls = Some(layer);
            Ok(())
        }

        /// Counts a data connection whose handshake completed.
        pub(crate) fn count_data(&mut self, sock: &Sock) {
            if let Some(layer) = &sock.tls {
                if !layer.conn.is_handshaking() {
                    self.data_handshakes += 1;
                    if layer.conn.handshake_kind() == Some(HandshakeKind::Resumed) {
                        self.data_resumed += 1;
                    }
                }
            }
        }
    }

    impl Sock {
        /// Whether a TLS handshake is still running.
        pub(crate) fn is_handshaking(&self) -> bool {
            self.tls.as_ref().is_some_and(|l| l.conn.is_handshaking())
        }

        /// Moves a running handshake on; `Ok(true)` once it is done (or there is none).
        pub(crate) fn drive_handshake(&mut self) -> io::Result<bool> {
            match self.tls.as_mut() {
                Some(layer) => {
                    drive_handshake(&mut layer.conn, &mut self.tcp)?;
                    Ok(!layer.conn.is_handshaking())
                }
                None => Ok(true),
            }
        }

        /// The negotiated TLS version.
        pub(crate) fn protocol_version(&self) -> Option<rustls::ProtocolVersion> {
            self.tls.as_ref().and_then(|l| l.conn.protocol_version())
        }

        /// One step of the `CCC` shutdown (RFC 4217 §6): `close_notify`, then wait for the
        /// server's; `Ok(true)` when the socket is clear again.
        pub(crate) fn downgrade_step(&mut self) -> io::Result<bool> {
            let Some(layer) = self.tls.as_mut() else {
                return Ok(true);
            };
            if !layer.close_sent {
                layer.conn.send_close_notify();
                layer.close_sent = true;
            }
            if !flush_nb(&mut layer.conn, &mut self.tcp)? {
                return Ok(false);
            }
            let mut scratch = [0u8; 512];
            loop {
                match super::tls_read(&mut layer.conn, &mut self.tcp, &mut scratch) {
                    Ok(0) => break,
                    Ok(_) => {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "data on the control connection during the CCC shutdown",
                        ))
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            self.tls = None;
            Ok(true)
        }
    }

    /// Whether `e` came out of rustls.
    pub(crate) fn is_tls_io_error(e: &io::Error) -> bool {
        e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>())
    }
}

#[cfg(feature = "tls")]
mod api {
    use std::net::SocketAddr;

    use ftp_core::command::ProtLevel;
    use ftp_core::session::{Config, Operation};

    use super::{TlsConfig, TlsContext, TlsInfo};
    use crate::{Error, OpId, SessionId, Sessions};

    impl Sessions {
        /// Implicit FTPS: like [`connect`](Sessions::connect), but TLS runs from the first
        /// byte (the greeting included), verifying the certificate for `server_name` (a DNS
        /// name or an IP address). Queue [`login`](Sessions::login) and
        /// [`prot_p`](Sessions::prot_p) next. A failed handshake fails the greeting's
        /// operation with [`Error::Tls`] and closes the session.
        ///
        /// ```no_run
        /// use ftp_mio::{tls::TlsConfig, Sessions};
        /// # let poll = mio::Poll::new().unwrap();
        /// let mut ftp = Sessions::new(poll.registry(), mio::Token(0), 4).unwrap();
        /// let addr = "192.0.2.7:990".parse().unwrap();
        /// let (s, _greeting) = ftp.connect_implicit_tls(addr, Default::default(), "ftp.example.com", &TlsConfig::new())?;
        /// ftp.login(s, "alice", "secret")?;
        /// ftp.prot_p(s)?;
        /// # Ok::<(), ftp_mio::Error>(())
        /// ```
        pub fn connect_implicit_tls(
            &mut self,
            addr: SocketAddr,
            config: Config,
            server_name: &str,
            tls: &TlsConfig,
        ) -> Result<(SessionId, OpId), Error> {
            let ctx = TlsContext::new(tls, server_name)?;
            self.connect_with(addr, config, Some(ctx))
        }

        /// Explicit FTPS: queues `AUTH TLS`; on `234` the control connection's handshake
        /// runs, verifying the certificate for `server_name` (the name data connections use
        /// too). Queue the login after it: it then goes over TLS. A refusal or a failed
        /// handshake completes this operation with [`Error::Tls`] and **closes the session**,
        /// so what was queued behind it fails and nothing goes out in clear text.
        ///
        /// ```no_run
        /// use ftp_mio::{tls::TlsConfig, Sessions};
        /// # let poll = mio::Poll::new().unwrap();
        /// let mut ftp = Sessions::new(poll.registry(), mio::Token(0), 4).unwrap();
        /// let (s, _greeting) = ftp.connect("192.0.2.7:21".parse().unwrap(), Default::default())?;
        /// ftp.auth_tls(s, "ftp.example.com", &TlsConfig::new())?;
        /// ftp.login(s, "alice", "secret")?;
        /// ftp.prot_p(s)?;
        /// # Ok::<(), ftp_mio::Error>(())
        /// ```
        pub fn auth_tls(
            &mut self,
            session: SessionId,
            server_name: &str,
            tls: &TlsConfig,
        ) -> Result<OpId, Error> {
            let ctx = TlsContext::new(tls, server_name)?;
            self.conn_mut(session)?.tls = Some(ctx);
            self.enqueue(session, Operation::AuthTls, None)
        }

        /// `PBSZ 0` + `PROT P`: from then on data connections run TLS, resuming the control
        /// connection's session. Fails at once ([`Error::Tls`]) on a session without FTPS.
        ///
        /// ```no_run
        /// # let poll = mio::Poll::new().unwrap();
        /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
        /// # let session: ftp_mio::SessionId = todo!();
        /// ftp.prot_p(session)?;
        /// # Ok::<(), ftp_mio::Error>(())
        /// ```
        pub fn prot_p(&mut self, session: SessionId) -> Result<OpId, Error> {
            if self.conn_ref(session)?.tls.is_none() {
                return Err(Error::Tls {
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "PROT P needs FTPS: auth_tls or connect_implicit_tls first",
                    ),
                    reply: None,
                });
            }
            self.enqueue(session, Operation::Protect(ProtLevel::Private), None)
        }

        /// `PBSZ 0` + `PROT C`: data connections in clear text again.
        ///
        /// ```no_run
        /// # let poll = mio::Poll::new().unwrap();
        /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
        /// # let session: ftp_mio::SessionId = todo!();
        /// ftp.prot_c(session)?;
        /// # Ok::<(), ftp_mio::Error>(())
        /// ```
        pub fn prot_c(&mut self, session: SessionId) -> Result<OpId, Error> {
            self.enqueue(session, Operation::Protect(ProtLevel::Clear), None)
        }

        /// `CCC` (RFC 4217 §6): after `200` the control connection's TLS is shut down and
        /// commands go on in clear text; data connections keep following `PROT`.
        ///
        /// ```no_run
        /// # let poll = mio::Poll::new().unwrap();
        /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
        /// # let session: ftp_mio::SessionId = todo!();
        /// ftp.ccc(session)?;
        /// # Ok::<(), ftp_mio::Error>(())
        /// ```
        pub fn ccc(&mut self, session: SessionId) -> Result<OpId, Error> {
            self.enqueue(session, Operation::Ccc, None)
        }

        /// What TLS negotiated on a session (`None` without FTPS or for an unknown session).
        ///
        /// ```no_run
        /// # let poll = mio::Poll::new().unwrap();
        /// # let ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
        /// # let session: ftp_mio::SessionId = todo!();
        /// if let Some(info) = ftp.tls_info(session) {
        ///     println!("{:?}, {} of {} data connections resumed",
        ///         info.protocol_version, info.data_resumed, info.data_handshakes);
        /// }
        /// ```
        pub fn tls_info(&self, session: SessionId) -> Option<TlsInfo> {
            let conn = self.conn_ref(session).ok()?;
            let ctx = conn.tls.as_ref()?;
            Some(TlsInfo {
                protocol_version: conn.control_tls_version(),
                data_handshakes: ctx.data_handshakes,
                data_resumed: ctx.data_resumed,
            })
        }
    }
}
