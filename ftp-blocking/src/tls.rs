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
//! # Certificates
//! Verified by default against the Mozilla roots of the `webpki-roots` crate, for the host name
//! given to [`Ftp::connect_tls`] (an IP address works if the certificate names it). Add your own
//! root with [`TlsConfigBuilder::add_root_pem`] / [`TlsConfigBuilder::add_root_der`] (a
//! self-signed server, a company CA), or bring a whole [`rustls::ClientConfig`] with
//! [`TlsConfig::from_rustls`] (client certificates, a custom verifier, other protocol versions).
//! There is no switch to accept any certificate; a custom verifier in your own `ClientConfig`
//! is the only way, and rustls names that API `dangerous()`.
//!
//! # Session reuse on data connections
//! vsftpd (`require_ssl_reuse=YES`, its default) and ProFTPD (mod_tls's default) refuse a
//! protected data connection whose TLS session does not resume the control connection's. So
//! every connection of one [`Ftp`] uses one `Arc<ClientConfig>` (hence one session store), and
//! the same server name, for control and data: each data connection resumes. The store is a
//! fresh in-memory one per control connection (whatever [`rustls::ClientConfig::resumption`]
//! the config had), so sessions never leak between connections or servers.
//!
//! # TLS versions and tickets: why TLS 1.2 is the default
//! Under TLS 1.2 a session can be resumed any number of times. Under TLS 1.3 each resumption
//! spends one single-use ticket: OpenSSL servers send two after the control handshake and one
//! more on each resumed *download*; after an *upload* this driver sends `close_notify` and reads
//! the data connection to its end so that the ticket vsftpd sends then is taken. ProFTPD 1.3.8
//! sends no ticket on resumed uploads, so under TLS 1.3 at most two uploads work per login there
//! (the third data connection is refused with `425`). [`TlsVersions::Tls12`] is therefore the
//! default: it works with every server tested, any number of transfers. Choose
//! [`TlsVersions::Any`] (1.3 preferred) for servers that need TLS 1.3, knowing the ProFTPD limit.
//!
//! # One definition for both drivers
//! The configuration types and the per-connection TLS state ([`shared`]) are written once,
//! here, and ftp-mio's `tls` feature uses them: [`TlsConfig`] and [`TlsConfigBuilder`] are
//! aliases of [`shared::TlsConfig`]`<Error>` and [`shared::TlsConfigBuilder`]`<Error>` (ftp-mio
//! has the same with its own error type); [`TlsVersions`] and [`TlsInfo`] are the same types in
//! both crates. Only the socket handling (blocking here, non-blocking in ftp-mio) differs.
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

pub use rustls;
use rustls::{ClientConnection, StreamOwned};

use crate::error::{Error, ErrorKind, Result};

pub(crate) use shared::TlsContext;

/// The customary port of implicit FTPS (`ftps`, 990).
///
/// ```
/// assert_eq!(ftp_blocking::tls::IMPLICIT_PORT, 990);
/// ```
pub const IMPLICIT_PORT: u16 = 990;

/// What an FTPS connection trusts and offers: a [`rustls::ClientConfig`] template. Cheap to
/// clone; one value can serve many connections (each gets its own session store). The methods
/// are those of [`shared::TlsConfig`]; failures are [`ErrorKind::Tls`] errors.
///
/// ```
/// use ftp_blocking::tls::{TlsConfig, TlsVersions};
/// let default = TlsConfig::new(); // webpki roots, TLS 1.2
/// let both = TlsConfig::builder().versions(TlsVersions::Any).build()?;
/// # Ok::<(), ftp_blocking::Error>(())
/// ```
pub type TlsConfig = shared::TlsConfig<Error>;

/// Builds a [`TlsConfig`]: extra trusted roots, TLS versions. Made by [`TlsConfig::builder`];
/// the methods are those of [`shared::TlsConfigBuilder`], failing with [`ErrorKind::Tls`].
///
/// ```no_run
/// use ftp_blocking::tls::{TlsConfig, TlsVersions};
/// let pem = std::fs::read("server-ca.pem")?;
/// let tls = TlsConfig::builder()
///     .without_webpki_roots()        // trust only this CA
///     .add_root_pem(&pem)?
///     .versions(TlsVersions::Any)
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type TlsConfigBuilder = shared::TlsConfigBuilder<Error>;

/// A bad TLS configuration is an [`ErrorKind::Tls`] error whose cause is the [`io::Error`]
/// of the [`shared::TlsConfigError`].
impl From<shared::TlsConfigError> for Error {
    fn from(e: shared::TlsConfigError) -> Error {
        Error::tls(e.into())
    }
}

/// The TLS protocol versions offered.
///
/// ```
/// use ftp_blocking::tls::TlsVersions;
/// assert_eq!(TlsVersions::default(), TlsVersions::Tls12);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TlsVersions {
    /// TLS 1.2 only (default): resumable any number of times, so any number of protected
    /// transfers per login on every server tested (see the [module docs](self)).
    #[default]
    Tls12,
    /// TLS 1.3 only.
    Tls13,
    /// Both; the server picks (TLS 1.3 where it can). With ProFTPD 1.3.8 at most two uploads
    /// per login then work on protected data connections.
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

/// What the TLS layer of an FTPS connection negotiated; from
/// [`Ftp::tls_info`](crate::Ftp::tls_info) (and ftp-mio's `Sessions::tls_info`).
///
/// ```no_run
/// use ftp_blocking::{tls::TlsConfig, Ftp};
/// let ftp = Ftp::connect_tls("localhost", 21, &TlsConfig::new())?;
/// println!("{:?}", ftp.tls_info().unwrap().protocol_version);
/// # Ok::<(), ftp_blocking::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsInfo {
    /// The control connection's TLS version (`None` before the handshake or after
    /// [`Ftp::ccc`](crate::Ftp::ccc)).
    pub protocol_version: Option<rustls::ProtocolVersion>,
    /// Protected data connections whose handshake completed.
    pub data_handshakes: u64,
    /// How many of them resumed the control connection's session.
    pub data_resumed: u64,
}

pub mod shared {
    //! The driver-independent part of FTPS, written once and used by both drivers: this
    //! crate names [`TlsConfig<Error>`](TlsConfig) `ftp_blocking::tls::TlsConfig`, and
    //! ftp-mio (whose `tls` feature depends on this crate's) names `TlsConfig<ftp_mio::Error>`
    //! `ftp_mio::tls::TlsConfig`. The type parameter `E` is only the error the builder's
    //! methods return, so that each driver keeps its own error type: `E` converts from
    //! [`TlsConfigError`]. [`TlsContext`] is the per-connection part (session store, server
    //! name, resumption counters) each driver wraps around its own sockets.

    use std::fmt;
    use std::io;
    use std::marker::PhantomData;
    use std::sync::Arc;

    use rustls::client::Resumption;
    use rustls::pki_types::{CertificateDer, ServerName};
    use rustls::{ClientConfig, ClientConnection, HandshakeKind, RootCertStore};

    use super::{TlsInfo, TlsVersions};

    /// How many sessions/tickets a connection's store keeps.
    const STORE_SIZE: usize = 32;

    /// A TLS configuration that cannot be made (a bad root certificate, nothing trusted) or
    /// a host name that cannot be a TLS server name. Each driver turns it into its own TLS
    /// error, with [`io::Error::from`] as the cause.
    ///
    /// ```
    /// use ftp_blocking::tls::shared::{TlsConfigError, TlsContext};
    /// use ftp_blocking::tls::TlsConfig;
    /// let err: TlsConfigError = TlsContext::new(&TlsConfig::new(), "no such name!").unwrap_err();
    /// assert_eq!(std::io::Error::from(err).kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    #[derive(Debug)]
    pub struct TlsConfigError(io::Error);

    impl TlsConfigError {
        fn new(
            kind: io::ErrorKind,
            e: impl Into<Box<dyn std::error::Error + Send + Sync>>,
        ) -> TlsConfigError {
            TlsConfigError(io::Error::new(kind, e))
        }

        fn rustls(e: rustls::Error) -> TlsConfigError {
            TlsConfigError::new(io::ErrorKind::InvalidData, e)
        }
    }

    impl fmt::Display for TlsConfigError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.fmt(f)
        }
    }

    impl std::error::Error for TlsConfigError {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.0.source()
        }
    }

    impl From<TlsConfigError> for io::Error {
        fn from(e: TlsConfigError) -> io::Error {
            e.0
        }
    }

    /// What an FTPS connection trusts and offers: a [`rustls::ClientConfig`] template. Cheap
    /// to clone; one value can serve many connections (each gets its own session store).
    /// `E`: the error of the builder ([`crate::tls::TlsConfig`] uses [`crate::Error`]).
    ///
    /// ```
    /// use ftp_blocking::tls::{TlsConfig, TlsVersions};
    /// let default = TlsConfig::new(); // webpki roots, TLS 1.2
    /// let both = TlsConfig::builder().versions(TlsVersions::Any).build()?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub struct TlsConfig<E> {
        config: Arc<ClientConfig>,
        error: PhantomData<fn() -> E>,
    }

    impl<E> Clone for TlsConfig<E> {
        fn clone(&self) -> Self {
            TlsConfig::from_rustls(self.config.clone())
        }
    }

    impl<E> fmt::Debug for TlsConfig<E> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("TlsConfig").finish_non_exhaustive()
        }
    }

    impl<E> Default for TlsConfig<E> {
        fn default() -> Self {
            TlsConfig::new()
        }
    }

    impl<E> TlsConfig<E> {
        /// Certificates verified against the webpki (Mozilla) roots; [`TlsVersions::default`].
        ///
        /// ```
        /// let tls = ftp_blocking::tls::TlsConfig::new();
        /// ```
        pub fn new() -> TlsConfig<E> {
            TlsConfig::builder()
                .try_build()
                .expect("the default TLS configuration is valid")
        }

        /// A configuration with roots of your own and other options.
        ///
        /// ```
        /// let tls = ftp_blocking::tls::TlsConfig::builder().without_webpki_roots();
        /// ```
        pub fn builder() -> TlsConfigBuilder<E> {
            TlsConfigBuilder {
                roots: RootCertStore::empty(),
                webpki_roots: true,
                versions: TlsVersions::default(),
                error: PhantomData,
            }
        }

        /// Uses your own complete rustls configuration (its verifier, client certificate,
        /// protocol versions, crypto provider...). Only its session store is replaced, per
        /// connection, by a fresh in-memory one: data connections must resume the control
        /// connection's session.
        ///
        /// ```
        /// use std::sync::Arc;
        /// use ftp_blocking::tls::{rustls, TlsConfig};
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
        pub fn from_rustls(config: Arc<ClientConfig>) -> TlsConfig<E> {
            TlsConfig {
                config,
                error: PhantomData,
            }
        }

        /// The rustls configuration connections start from.
        ///
        /// ```
        /// let tls = ftp_blocking::tls::TlsConfig::new();
        /// assert!(tls.rustls_config().alpn_protocols.is_empty());
        /// ```
        pub fn rustls_config(&self) -> &Arc<ClientConfig> {
            &self.config
        }
    }

    /// Builds a [`TlsConfig`]: extra trusted roots, TLS versions. Made by
    /// [`TlsConfig::builder`]; failures are `E` (made from a [`TlsConfigError`]).
    ///
    /// ```no_run
    /// use ftp_blocking::tls::{TlsConfig, TlsVersions};
    /// let pem = std::fs::read("server-ca.pem")?;
    /// let tls = TlsConfig::builder()
    ///     .without_webpki_roots()        // trust only this CA
    ///     .add_root_pem(&pem)?
    ///     .versions(TlsVersions::Any)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub struct TlsConfigBuilder<E> {
        roots: RootCertStore,
        webpki_roots: bool,
        versions: TlsVersions,
        error: PhantomData<fn() -> E>,
    }

    impl<E> Clone for TlsConfigBuilder<E> {
        fn clone(&self) -> Self {
            TlsConfigBuilder {
                roots: self.roots.clone(),
                webpki_roots: self.webpki_roots,
                versions: self.versions,
                error: PhantomData,
            }
        }
    }

    impl<E> fmt::Debug for TlsConfigBuilder<E> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("TlsConfigBuilder")
                .field("roots", &self.roots)
                .field("webpki_roots", &self.webpki_roots)
                .field("versions", &self.versions)
                .finish()
        }
    }

    impl<E: From<TlsConfigError>> TlsConfigBuilder<E> {
        /// Trusts one more root certificate (DER). Fails (the driver's TLS error) if it
        /// cannot be a trust anchor.
        ///
        /// ```
        /// let der = vec![1, 2, 3]; // not a certificate
        /// assert!(ftp_blocking::tls::TlsConfig::builder().add_root_der(der).is_err());
        /// ```
        pub fn add_root_der(mut self, der: impl Into<Vec<u8>>) -> Result<Self, E> {
            self.roots
                .add(CertificateDer::from(der.into()))
                .map_err(TlsConfigError::rustls)?;
            Ok(self)
        }

        /// Trusts every certificate in a PEM text (`-----BEGIN CERTIFICATE-----` blocks;
        /// other blocks are skipped). Fails (the driver's TLS error) when there is no
        /// certificate in it or one is malformed.
        ///
        /// ```no_run
        /// let pem = std::fs::read("self-signed.pem")?;
        /// let tls = ftp_blocking::tls::TlsConfig::builder().add_root_pem(&pem)?.build()?;
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn add_root_pem(mut self, pem: &[u8]) -> Result<Self, E> {
            use rustls::pki_types::pem::PemObject;
            let mut n = 0;
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| {
                    TlsConfigError::new(
                        io::ErrorKind::InvalidData,
                        format!("bad PEM certificate: {e}"),
                    )
                })?;
                self.roots.add(cert).map_err(TlsConfigError::rustls)?;
                n += 1;
            }
            if n == 0 {
                return Err(TlsConfigError::new(
                    io::ErrorKind::InvalidData,
                    "no certificate in the PEM text",
                )
                .into());
            }
            Ok(self)
        }

        /// The configuration (rustls with the `ring` provider). Fails (the driver's TLS
        /// error) when no root is trusted.
        ///
        /// ```
        /// let tls = ftp_blocking::tls::TlsConfig::builder().build()?;
        /// # Ok::<(), ftp_blocking::Error>(())
        /// ```
        pub fn build(self) -> Result<TlsConfig<E>, E> {
            Ok(self.try_build()?)
        }
    }

    impl<E> TlsConfigBuilder<E> {
        /// Trusts only the roots added with [`add_root_pem`](Self::add_root_pem) /
        /// [`add_root_der`](Self::add_root_der), not the webpki roots.
        ///
        /// ```
        /// let b = ftp_blocking::tls::TlsConfig::builder().without_webpki_roots();
        /// assert!(b.build().is_err()); // nothing trusted at all
        /// ```
        pub fn without_webpki_roots(mut self) -> Self {
            self.webpki_roots = false;
            self
        }

        /// The TLS versions to offer (default [`TlsVersions::Tls12`], see the
        /// [module docs](crate::tls)).
        ///
        /// ```
        /// use ftp_blocking::tls::{TlsConfig, TlsVersions};
        /// let tls = TlsConfig::builder().versions(TlsVersions::Tls13).build()?;
        /// # Ok::<(), ftp_blocking::Error>(())
        /// ```
        pub fn versions(mut self, versions: TlsVersions) -> Self {
            self.versions = versions;
            self
        }

        fn try_build(self) -> Result<TlsConfig<E>, TlsConfigError> {
            let mut roots = self.roots;
            if self.webpki_roots {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            if roots.is_empty() {
                return Err(TlsConfigError::new(
                    io::ErrorKind::InvalidInput,
                    "no trusted root certificate",
                ));
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = ClientConfig::builder_with_provider(provider)
                .with_protocol_versions(self.versions.list())
                .map_err(TlsConfigError::rustls)?
                .with_root_certificates(roots)
                .with_no_client_auth();
            Ok(TlsConfig::from_rustls(Arc::new(config)))
        }
    }

    /// The TLS side of one control connection, shared by its data connections: a copy of
    /// the [`TlsConfig`] with a fresh in-memory session store (so data connections resume
    /// the control connection's session, and sessions never leak to other connections), the
    /// server name checked against certificates, and the data-connection counters of
    /// [`TlsInfo`]. Drivers make one per control connection and open every
    /// [`ClientConnection`] of it with [`client`](TlsContext::client).
    ///
    /// ```
    /// use ftp_blocking::tls::{shared::TlsContext, TlsConfig};
    /// let mut ctx = TlsContext::new(&TlsConfig::new(), "[::1]")?;
    /// let conn = ctx.client()?;          // a control or data connection, handshake not begun
    /// assert!(conn.is_handshaking());
    /// ctx.count_data_handshake(&conn); // not finished: not counted
    /// assert_eq!(ctx.info(None).data_handshakes, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[derive(Clone)]
    pub struct TlsContext {
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        data_handshakes: u64,
        data_resumed: u64,
    }

    impl fmt::Debug for TlsContext {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("TlsContext")
                .field("name", &self.name)
                .field("data_handshakes", &self.data_handshakes)
                .field("data_resumed", &self.data_resumed)
                .finish_non_exhaustive()
        }
    }

    impl TlsContext {
        /// `host`: a DNS name or an IP address (brackets allowed), checked against the
        /// certificate. Fails ([`io::ErrorKind::InvalidInput`]) if it cannot be a TLS
        /// server name.
        ///
        /// ```
        /// use ftp_blocking::tls::{shared::TlsContext, TlsConfig};
        /// assert!(TlsContext::new(&TlsConfig::new(), "ftp.example.com").is_ok());
        /// assert!(TlsContext::new(&TlsConfig::new(), "not a name").is_err());
        /// ```
        pub fn new<E>(tls: &TlsConfig<E>, host: &str) -> Result<TlsContext, TlsConfigError> {
            let bare = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            let name = ServerName::try_from(bare.to_owned()).map_err(|e| {
                TlsConfigError::new(
                    io::ErrorKind::InvalidInput,
                    format!("{host:?} is not a valid TLS server name: {e}"),
                )
            })?;
            let mut config = (*tls.config).clone();
            config.resumption = Resumption::in_memory_sessions(STORE_SIZE);
            Ok(TlsContext {
                config: Arc::new(config),
                name,
                data_handshakes: 0,
                data_resumed: 0,
            })
        }

        /// A new client connection (control or data) to the server, its handshake not begun;
        /// a rustls error comes as an [`io::ErrorKind::InvalidData`] error.
        ///
        /// ```
        /// use ftp_blocking::tls::{shared::TlsContext, TlsConfig};
        /// let ctx = TlsContext::new(&TlsConfig::new(), "localhost")?;
        /// assert!(ctx.client()?.wants_write()); // the ClientHello
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn client(&self) -> io::Result<ClientConnection> {
            ClientConnection::new(self.config.clone(), self.name.clone())
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
        }

        /// Counts a data connection whose handshake completed (and whether it resumed);
        /// one still handshaking is not counted.
        ///
        /// ```
        /// use ftp_blocking::tls::{shared::TlsContext, TlsConfig};
        /// let mut ctx = TlsContext::new(&TlsConfig::new(), "localhost")?;
        /// ctx.count_data_handshake(&ctx.client()?);
        /// assert_eq!(ctx.info(None).data_handshakes, 0);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn count_data_handshake(&mut self, conn: &ClientConnection) {
            if conn.is_handshaking() {
                return;
            }
            self.data_handshakes += 1;
            if conn.handshake_kind() == Some(HandshakeKind::Resumed) {
                self.data_resumed += 1;
            }
        }

        /// What was negotiated: `protocol_version` is the control connection's (the
        /// driver knows it), the counters are this context's.
        ///
        /// ```
        /// use ftp_blocking::tls::{shared::TlsContext, TlsConfig};
        /// let ctx = TlsContext::new(&TlsConfig::new(), "localhost")?;
        /// assert_eq!(ctx.info(None).data_resumed, 0);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn info(&self, protocol_version: Option<rustls::ProtocolVersion>) -> TlsInfo {
            TlsInfo {
                protocol_version,
                data_handshakes: self.data_handshakes,
                data_resumed: self.data_resumed,
            }
        }
    }
}

/// A TLS client stream over a blocking socket.
pub(crate) type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// The blocking handshakes of a [`TlsContext`].
impl TlsContext {
    /// The context of a connection to `host`; a bad name is [`ErrorKind::InvalidInput`].
    fn for_host(tls: &TlsConfig, host: &str) -> Result<TlsContext> {
        TlsContext::new(tls, host).map_err(|e| Error::from(e).with_kind(ErrorKind::InvalidInput))
    }

    /// Runs the client handshake on `sock` (its timeouts apply).
    pub(crate) fn handshake(&self, sock: TcpStream) -> io::Result<TlsStream> {
        let mut stream = StreamOwned::new(self.client()?, sock);
        while stream.conn.is_handshaking() {
            stream.conn.complete_io(&mut stream.sock)?;
        }
        Ok(stream)
    }

    /// A data connection's handshake; counts resumptions.
    pub(crate) fn data_handshake(&mut self, sock: TcpStream) -> io::Result<TlsStream> {
        let stream = self.handshake(sock)?;
        self.count_data_handshake(&stream.conn);
        Ok(stream)
    }
}

/// Whether `e` came out of rustls (a TLS failure rather than a socket one).
pub(crate) fn is_tls_io_error(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>())
}

/// Ends a TLS data connection after an upload: `close_notify`, then read to the end (the
/// server's `close_notify`, or EOF) so that a TLS 1.3 ticket sent meanwhile is taken. Errors
/// here do not matter any more: the data went out.
pub(crate) fn finish_upload(mut s: TlsStream) -> io::Result<()> {
    s.conn.send_close_notify();
    s.flush()?;
    while s.conn.wants_write() {
        s.conn.write_tls(&mut s.sock)?;
    }
    let _ = s.sock.shutdown(Shutdown::Write);
    drain(&mut s);
    Ok(())
}

/// Reads and drops whatever comes until the peer's `close_notify`, EOF, an error or 1 MiB.
fn drain(s: &mut TlsStream) {
    let mut buf = [0u8; 4096];
    let mut left = 1usize << 20;
    while left > 0 {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => left = left.saturating_sub(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
}

/// Ends a TLS data connection after a download (EOF seen): answer with `close_notify`.
pub(crate) fn finish_download(mut s: TlsStream) {
    s.conn.send_close_notify();
    let _ = s.flush();
}

/// Ends TLS on the control connection after `CCC` (RFC 4217 §6): `close_notify`, then wait
/// (bounded by the socket's read timeout) for the server's, and hand back the socket.
pub(crate) fn downgrade(mut s: TlsStream) -> io::Result<TcpStream> {
    s.conn.send_close_notify();
    s.flush()?;
    let mut buf = [0u8; 512];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "data on the control connection during the CCC shutdown",
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(s.sock)
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
        let ctx = TlsContext::for_host(tls, host)?;
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
        let ctx = TlsContext::for_host(tls, host)?;
        let conn = self.conn()?;
        if conn.is_control_tls() {
            return Err(Error::tls(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the control connection already runs TLS",
            ))
            .with_kind(ErrorKind::InvalidInput));
        }
        conn.set_tls_context(ctx);
        match self.expect_reply(Operation::AuthTls) {
            Ok(reply) => Ok(reply),
            Err(e) => {
                // Never leave a connection on which TLS failed: no clear-text login by mistake.
                self.close();
                Err(as_tls_failure(e))
            }
        }
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
        if self.conn()?.tls_context().is_none() {
            return Err(Error::tls(io::Error::new(
                io::ErrorKind::InvalidInput,
                "PROT P needs TLS on the control connection first (auth_tls)",
            ))
            .with_kind(ErrorKind::InvalidInput));
        }
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
    /// ftp.nlst(None::<&str>)?;
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
