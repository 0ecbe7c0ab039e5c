//! What an FTPS connection trusts and offers, and the per-control-connection TLS context.

use std::fmt;
use std::io;
use std::sync::Arc;

use rustls::client::Resumption;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, HandshakeKind, RootCertStore};

use super::{TlsError, TlsLayer};

/// How many sessions/tickets the store of one control connection keeps.
const STORE_SIZE: usize = 32;

/// The customary port of implicit FTPS (`ftps`, 990).
///
/// ```
/// assert_eq!(ftp_sansio::tls::IMPLICIT_PORT, 990);
/// ```
pub const IMPLICIT_PORT: u16 = 990;

/// The TLS protocol versions offered.
///
/// ```
/// use ftp_sansio::tls::TlsVersions;
/// assert_eq!(TlsVersions::default(), TlsVersions::Tls12);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TlsVersions {
    /// TLS 1.2 only (default): resumable any number of times, so any number of protected
    /// transfers per login on every server tested (see the [module docs](crate::tls)).
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

/// What the TLS layer of an FTPS connection negotiated (drivers hand it out, e.g.
/// `ftp_blocking::Ftp::tls_info`); made by [`TlsContext::info`].
///
/// ```
/// use ftp_sansio::tls::{TlsConfig, TlsContext};
/// let ctx = TlsContext::new(&TlsConfig::new(), "localhost")?;
/// let info = ctx.info(None);
/// assert_eq!((info.protocol_version, info.data_handshakes, info.data_resumed), (None, 0, 0));
/// # Ok::<(), ftp_sansio::tls::TlsConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsInfo {
    /// The control connection's TLS version (`None` before the handshake or after `CCC`).
    pub protocol_version: Option<rustls::ProtocolVersion>,
    /// Protected data connections whose handshake completed.
    pub data_handshakes: u64,
    /// How many of them resumed the control connection's session.
    pub data_resumed: u64,
}

/// A TLS configuration that cannot be made (a bad root certificate, nothing trusted) or a
/// host name that cannot be a TLS server name. Drivers turn it into their own TLS error
/// (`From`); its cause is an [`io::Error`] ([`io::Error::from`]).
///
/// ```
/// use ftp_sansio::tls::{TlsConfig, TlsConfigError, TlsContext};
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

    /// What kind of failure: [`io::ErrorKind::InvalidInput`] for a bad server name or
    /// nothing trusted, [`io::ErrorKind::InvalidData`] for a bad certificate.
    ///
    /// ```
    /// use ftp_sansio::tls::TlsConfig;
    /// let err = TlsConfig::builder().add_root_der(vec![1, 2, 3]).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    /// ```
    pub fn kind(&self) -> io::ErrorKind {
        self.0.kind()
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

/// What an FTPS connection trusts and offers: a [`rustls::ClientConfig`] template. Cheap to
/// clone; one value can serve many connections (each gets its own session store through
/// [`TlsContext::new`]).
///
/// ```
/// use ftp_sansio::tls::{TlsConfig, TlsVersions};
/// let default = TlsConfig::new(); // webpki roots, TLS 1.2
/// let both = TlsConfig::builder().versions(TlsVersions::Any).build()?;
/// # Ok::<(), ftp_sansio::tls::TlsConfigError>(())
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
    /// Certificates verified against the webpki (Mozilla) roots; [`TlsVersions::default`].
    ///
    /// ```
    /// let tls = ftp_sansio::tls::TlsConfig::new();
    /// ```
    pub fn new() -> TlsConfig {
        // Cannot fail: the webpki roots are never empty and the ring provider supports
        // TLS 1.2 (a unit test checks every `TlsVersions`). No input reaches this.
        TlsConfig::builder()
            .build()
            .expect("the default TLS configuration is valid")
    }

    /// A configuration with roots of your own and other options.
    ///
    /// ```
    /// let tls = ftp_sansio::tls::TlsConfig::builder().without_webpki_roots();
    /// ```
    pub fn builder() -> TlsConfigBuilder {
        TlsConfigBuilder {
            roots: RootCertStore::empty(),
            webpki_roots: true,
            versions: TlsVersions::default(),
        }
    }

    /// Uses your own complete rustls configuration (its verifier, client certificate,
    /// protocol versions, crypto provider...). Only its session store is replaced, per
    /// control connection, by a fresh in-memory one: data connections must resume the
    /// control connection's session.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use ftp_sansio::tls::{rustls, TlsConfig};
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

    /// The rustls configuration connections start from.
    ///
    /// ```
    /// let tls = ftp_sansio::tls::TlsConfig::new();
    /// assert!(tls.rustls_config().alpn_protocols.is_empty());
    /// ```
    pub fn rustls_config(&self) -> &Arc<ClientConfig> {
        &self.config
    }
}

/// Builds a [`TlsConfig`]: extra trusted roots, TLS versions. Made by [`TlsConfig::builder`];
/// failures are [`TlsConfigError`]s (each driver's error converts from it, so `?` works in
/// a function returning the driver's error).
///
/// ```no_run
/// use ftp_sansio::tls::{TlsConfig, TlsConfigError, TlsVersions};
/// /// `pem`: your CA's certificate, read by the caller.
/// fn only_my_ca(pem: &[u8]) -> Result<TlsConfig, TlsConfigError> {
///     TlsConfig::builder()
///         .without_webpki_roots() // trust only this CA
///         .add_root_pem(pem)?
///         .versions(TlsVersions::Any)
///         .build()
/// }
/// ```
#[derive(Clone)]
pub struct TlsConfigBuilder {
    roots: RootCertStore,
    webpki_roots: bool,
    versions: TlsVersions,
}

impl fmt::Debug for TlsConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfigBuilder")
            .field("roots", &self.roots)
            .field("webpki_roots", &self.webpki_roots)
            .field("versions", &self.versions)
            .finish()
    }
}

impl TlsConfigBuilder {
    /// Trusts one more root certificate (DER). Fails if it cannot be a trust anchor.
    ///
    /// ```
    /// let der = vec![1, 2, 3]; // not a certificate
    /// assert!(ftp_sansio::tls::TlsConfig::builder().add_root_der(der).is_err());
    /// ```
    pub fn add_root_der(mut self, der: impl Into<Vec<u8>>) -> Result<Self, TlsConfigError> {
        self.roots
            .add(CertificateDer::from(der.into()))
            .map_err(TlsConfigError::rustls)?;
        Ok(self)
    }

    /// Trusts every certificate in a PEM text (`-----BEGIN CERTIFICATE-----` blocks; other
    /// blocks are skipped). Fails when there is no certificate in it or one is malformed.
    ///
    /// ```
    /// let builder = ftp_sansio::tls::TlsConfig::builder();
    /// assert!(builder.add_root_pem(b"no PEM here").is_err());
    /// ```
    pub fn add_root_pem(mut self, pem: &[u8]) -> Result<Self, TlsConfigError> {
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
            ));
        }
        Ok(self)
    }

    /// Trusts only the roots added with [`add_root_pem`](Self::add_root_pem) /
    /// [`add_root_der`](Self::add_root_der), not the webpki roots.
    ///
    /// ```
    /// let b = ftp_sansio::tls::TlsConfig::builder().without_webpki_roots();
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
    /// use ftp_sansio::tls::{TlsConfig, TlsVersions};
    /// let tls = TlsConfig::builder().versions(TlsVersions::Tls13).build()?;
    /// # Ok::<(), ftp_sansio::tls::TlsConfigError>(())
    /// ```
    pub fn versions(mut self, versions: TlsVersions) -> Self {
        self.versions = versions;
        self
    }

    /// The configuration (rustls with the `ring` provider). Fails when no root is trusted.
    ///
    /// ```
    /// let tls = ftp_sansio::tls::TlsConfig::builder().build()?;
    /// # Ok::<(), ftp_sansio::tls::TlsConfigError>(())
    /// ```
    pub fn build(self) -> Result<TlsConfig, TlsConfigError> {
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

/// The TLS side of one control connection, shared by its data connections: a copy of the
/// [`TlsConfig`] with a fresh in-memory session store (so data connections resume the
/// control connection's session, which vsftpd and ProFTPD insist on, and sessions never leak
/// to other connections), the one server name checked against every certificate, and the
/// data-connection counters of [`TlsInfo`]. A driver makes one per control connection and
/// opens every TLS connection of it (control and data) with [`start`](TlsContext::start).
///
/// ```
/// use ftp_sansio::tls::{TlsConfig, TlsContext};
/// let mut ctx = TlsContext::new(&TlsConfig::new(), "[::1]")?;
/// let layer = ctx.start()?;           // handshake not begun: the ClientHello waits
/// assert!(layer.is_handshaking() && layer.wants_write());
/// ctx.count_data_handshake(&layer);   // not finished: not counted
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
    /// certificate. Fails ([`io::ErrorKind::InvalidInput`]) if it cannot be a TLS server
    /// name.
    ///
    /// ```
    /// use ftp_sansio::tls::{TlsConfig, TlsContext};
    /// assert!(TlsContext::new(&TlsConfig::new(), "ftp.example.com").is_ok());
    /// assert!(TlsContext::new(&TlsConfig::new(), "not a name").is_err());
    /// ```
    pub fn new(tls: &TlsConfig, host: &str) -> Result<TlsContext, TlsConfigError> {
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

    /// A new TLS client connection (control or data) to the server, as a [`TlsLayer`]
    /// whose ClientHello waits in [`TlsLayer::pending_output`].
    ///
    /// ```
    /// use ftp_sansio::tls::{TlsConfig, TlsContext};
    /// let ctx = TlsContext::new(&TlsConfig::new(), "localhost")?;
    /// assert!(!ctx.start()?.pending_output().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start(&self) -> Result<TlsLayer, TlsError> {
        TlsLayer::new(self.config.clone(), self.name.clone())
    }

    /// Counts a data connection whose handshake completed (and whether it resumed the
    /// control connection's session); one still handshaking is not counted.
    ///
    /// ```
    /// use ftp_sansio::tls::{TlsConfig, TlsContext};
    /// let mut ctx = TlsContext::new(&TlsConfig::new(), "localhost")?;
    /// ctx.count_data_handshake(&ctx.start()?);
    /// assert_eq!(ctx.info(None).data_handshakes, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn count_data_handshake(&mut self, layer: &TlsLayer) {
        let conn = layer.connection();
        if conn.is_handshaking() {
            return;
        }
        self.data_handshakes += 1;
        if conn.handshake_kind() == Some(HandshakeKind::Resumed) {
            self.data_resumed += 1;
        }
    }

    /// What was negotiated: `protocol_version` is the control connection's (the driver
    /// knows it, e.g. from [`TlsLayer::connection`]), the counters are this context's.
    ///
    /// ```
    /// use ftp_sansio::tls::{TlsConfig, TlsContext};
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
