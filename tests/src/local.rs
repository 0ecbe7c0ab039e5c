//! [`LocalServer`]: libunftp with its filesystem back end, inside the test process.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use libunftp::options::ActivePassiveMode;
use libunftp::{Server, ServerBuilder};
use tokio::io::AsyncRead;
use unftp_core::auth::{
    AuthenticationError, Authenticator, Credentials, Principal, UserDetail, UserDetailError,
    UserDetailProvider,
};
use unftp_core::storage::{self, ErrorKind, Fileinfo, StorageBackend};
use unftp_sbe_fs::{Filesystem, Meta};

use crate::ports::{passive_range, V4};
use crate::{ServerKind, TestServer, PASSWORD, USER};

/// The greeting of the in-process server.
const GREETING: &str = "ftp-rs test server (libunftp) ready";

/// libunftp serving a fresh temporary directory on a free loopback port, in this process.
///
/// - `anonymous` (or `ftp`), any password: may list and download, every change is refused
///   with `550 Permission denied`;
/// - [`USER`]/[`PASSWORD`]: may also upload, rename, delete and make or remove directories;
///   any other user or password gets `530`;
/// - PASV/EPSV on a passive range of its own ([`passive_range`]), PORT/EPRT enabled
///   (`ActivePassiveMode::ActiveAndPassive`);
/// - FTPS only when asked for with [`LocalServerBuilder::ftps`].
///
/// The server runs on its own tokio runtime; dropping the value stops it (connections are
/// cut) and deletes the directory.
///
/// ```no_run
/// use ftp_tests::{LocalServer, RawClient, TestServer};
/// let server = LocalServer::start();
/// server.write_file("README", b"hi\n").unwrap();
/// let mut c = RawClient::connect(server.addr()).unwrap();
/// c.login("anonymous", "x").unwrap();
/// assert_eq!(c.retr("README").unwrap(), b"hi\n");
/// ```
pub struct LocalServer {
    addr: SocketAddr,
    root: PathBuf,
    passive: RangeInclusive<u16>,
    cert: Option<PathBuf>,
    runtime: Option<tokio::runtime::Runtime>,
    // last: the directory goes after the runtime (and with it every open file) is gone
    _dir: tempfile::TempDir,
}

impl fmt::Debug for LocalServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalServer")
            .field("addr", &self.addr)
            .field("root", &self.root)
            .field("passive", &self.passive)
            .field("cert", &self.cert)
            .finish()
    }
}

/// Options of a [`LocalServer`]; made by [`LocalServer::builder`].
#[derive(Clone, Debug, Default)]
pub struct LocalServerBuilder {
    ipv6: bool,
    passive: Option<RangeInclusive<u16>>,
    ftps: Option<(PathBuf, PathBuf)>,
}

impl LocalServerBuilder {
    /// Listen on `[::1]` instead of `127.0.0.1`.
    pub fn ipv6(mut self) -> Self {
        self.ipv6 = true;
        self
    }

    /// Use this passive port range instead of a fresh [`passive_range`].
    pub fn passive_ports(mut self, range: RangeInclusive<u16>) -> Self {
        self.passive = Some(range);
        self
    }

    /// Offer explicit FTPS (`AUTH TLS`, optional for clients) with this PEM certificate chain
    /// and PEM private key. [`TestServer::cert_pem`] then returns `cert`.
    pub fn ftps(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.ftps = Some((cert.into(), key.into()));
        self
    }

    /// Starts the server; it accepts connections when this returns.
    pub fn start(self) -> io::Result<LocalServer> {
        let dir = tempfile::Builder::new()
            .prefix("ftp-rs-libunftp-")
            .tempdir()?;
        let root = dir.path().join("root");
        std::fs::create_dir(&root)?;
        let passive = self.passive.clone().unwrap_or_else(passive_range);

        let make = {
            let root = root.clone();
            let passive = passive.clone();
            let ftps = self.ftps.clone();
            move || build_server(&root, passive.clone(), ftps.as_ref())
        };
        // Build once now, so that configuration errors (a bad certificate...) surface here.
        make().map_err(|e| io::Error::other(format!("libunftp: {e}")))?;

        let ip = if self.ipv6 {
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        } else {
            V4
        };
        // Binding port 0 ourselves (instead of Server::listen on a port picked in advance)
        // leaves no window for another process to take the port.
        let listener = std::net::TcpListener::bind((ip, 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("libunftp-test")
            .enable_all()
            .build()?;
        let listener = {
            let _context = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        runtime.spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _peer)) => match make() {
                        Ok(server) => {
                            tokio::spawn(server.service(stream));
                        }
                        Err(e) => log::error!("libunftp test server: {e}"),
                    },
                    Err(e) => {
                        // e.g. EMFILE: do not spin
                        log::warn!("libunftp test server: accept: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                }
            }
        });

        Ok(LocalServer {
            addr,
            root,
            passive,
            cert: self.ftps.map(|(cert, _)| cert),
            runtime: Some(runtime),
            _dir: dir,
        })
    }
}

impl LocalServer {
    /// Options for a server that differs from the default one.
    pub fn builder() -> LocalServerBuilder {
        LocalServerBuilder::default()
    }

    /// Starts a server with the default options (IPv4, fresh passive range, no TLS).
    /// Panics when it cannot (no free port, no temporary directory).
    pub fn start() -> LocalServer {
        match LocalServer::builder().start() {
            Ok(server) => server,
            Err(e) => panic!("could not start the in-process libunftp server: {e}"),
        }
    }

    /// The passive port range this server uses.
    pub fn passive_ports(&self) -> RangeInclusive<u16> {
        self.passive.clone()
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                // Dropped inside some async context, where blocking is not allowed.
                runtime.shutdown_background();
            } else {
                // Drops every task (listener, sessions, data connections) and waits for the
                // worker threads, so that the port is closed when drop returns.
                runtime.shutdown_timeout(std::time::Duration::from_secs(5));
            }
        }
    }
}

impl TestServer for LocalServer {
    fn kind(&self) -> ServerKind {
        ServerKind::Libunftp
    }
    fn addr(&self) -> SocketAddr {
        self.addr
    }
    fn root(&self) -> &Path {
        &self.root
    }
    fn cert_pem(&self) -> Option<&Path> {
        self.cert.as_deref()
    }
    fn hand_over(&self, _path: &Path) -> io::Result<()> {
        Ok(()) // the server runs as us
    }
}

fn build_server(
    root: &Path,
    passive: RangeInclusive<u16>,
    ftps: Option<&(PathBuf, PathBuf)>,
) -> Result<Server<AnonymousReadOnly, TestUser>, libunftp::ServerError> {
    let root = root.to_path_buf();
    let storage = Box::new(move || AnonymousReadOnly {
        // The directory exists until the server is dropped; failing here is a harness bug.
        fs: Filesystem::new(root.clone()).expect("the test server's root directory is gone"),
    });
    let mut builder = ServerBuilder::with_user_detail_provider(storage, Arc::new(TestUsers))
        .authenticator(Arc::new(TestUsers))
        .greeting(GREETING)
        .passive_ports(passive)
        .active_passive_mode(ActivePassiveMode::ActiveAndPassive);
    if let Some((cert, key)) = ftps {
        builder = builder.ftps(cert.clone(), key.clone());
    }
    builder.build()
}

/// Who logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TestUser {
    name: String,
    anonymous: bool,
}

impl fmt::Display for TestUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl UserDetail for TestUser {}

fn is_anonymous(user: &str) -> bool {
    user == "anonymous" || user == "ftp"
}

/// Authenticator and user-detail provider: anonymous with any password, ftptest/ftptest.
#[derive(Debug)]
struct TestUsers;

#[async_trait]
impl Authenticator for TestUsers {
    async fn authenticate(
        &self,
        username: &str,
        creds: &Credentials,
    ) -> Result<Principal, AuthenticationError> {
        let ok = is_anonymous(username)
            || (username == USER && creds.password.as_deref() == Some(PASSWORD));
        if ok {
            Ok(Principal {
                username: username.to_string(),
            })
        } else if username == USER {
            Err(AuthenticationError::BadPassword)
        } else {
            Err(AuthenticationError::BadUser)
        }
    }
}

#[async_trait]
impl UserDetailProvider for TestUsers {
    type User = TestUser;
    async fn provide_user_detail(
        &self,
        principal: &Principal,
    ) -> Result<TestUser, UserDetailError> {
        Ok(TestUser {
            name: principal.username.clone(),
            anonymous: is_anonymous(&principal.username),
        })
    }
}

/// The filesystem back end, with every change refused to anonymous users (as the system
/// servers are configured).
#[derive(Debug)]
struct AnonymousReadOnly {
    fs: Filesystem,
}

impl AnonymousReadOnly {
    fn may_write(user: &TestUser) -> storage::Result<()> {
        if user.anonymous {
            Err(ErrorKind::PermissionDenied.into())
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl StorageBackend<TestUser> for AnonymousReadOnly {
    type Metadata = Meta;

    fn enter(&mut self, user: &TestUser) -> io::Result<()> {
        StorageBackend::<TestUser>::enter(&mut self.fs, user)
    }

    fn supported_features(&self) -> u32 {
        StorageBackend::<TestUser>::supported_features(&self.fs)
    }

    async fn metadata<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &TestUser,
        path: P,
    ) -> storage::Result<Meta> {
        self.fs.metadata(user, path).await
    }

    async fn list<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &TestUser,
        path: P,
    ) -> storage::Result<Vec<Fileinfo<PathBuf, Meta>>> {
        self.fs.list(user, path).await
    }

    async fn get<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &TestUser,
        path: P,
        start_pos: u64,
    ) -> storage::Result<Box<dyn AsyncRead + Send + Sync + Unpin>> {
        self.fs.get(user, path, start_pos).await
    }

    async fn put<
        P: AsRef<Path> + Send + fmt::Debug,
        R: AsyncRead + Send + Sync + Unpin + 'static,
    >(
        &self,
        user: &TestUser,
        input: R,
        path: P,
        start_pos: u64,
    ) -> storage::Result<u64> {
        Self::may_write(user)?;
        self.fs.put(user, input, path, start_pos).await
    }

    async fn del<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &TestUser,
        path: P,
    ) -> storage::Result<()> {
        Self::may_write(user)?;
        self.fs.del(user, path).await
    }

    async fn mkd<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &TestUser,
        path: P,
    ) -> storage::Result<()> {
        Self::may_write(user)?;
        self.fs.mkd(user, path).await
    }

    async fn rename<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &TestUser,
        from: P,
        to: P,
    ) -> storage::Result<()> {
        Self::may_write(user)?;
        self.fs.rename(user, from, to).await
    }

    async fn rmd<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &TestUser,
        path: P,
    ) -> storage::Result<()> {
        Self::may_write(user)?;
        self.fs.rmd(user, path).await
    }

    async fn cwd<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &TestUser,
        path: P,
    ) -> storage::Result<()> {
        self.fs.cwd(user, path).await
    }
}
