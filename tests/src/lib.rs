//! Test harness of the workspace: real FTP servers on loopback, started per test.
//!
//! Two kinds of server, one interface ([`TestServer`]):
//!
//! - [`LocalServer`]: [libunftp] with its filesystem back end, running inside the test process on
//!   `127.0.0.1` (or `::1`) over a fresh temporary directory. It needs nothing installed, so
//!   tests that use it run under a plain `cargo test`.
//! - [`SystemServer`]: vsftpd, ProFTPD, Pure-FTPd or pyftpdlib, started by the scripts in
//!   `tests/servers/` on a free loopback port over a fresh temporary directory, and stopped when
//!   the value is dropped. They must be installed first (`tests/servers/install.sh`, which
//!   `tests/run-all.sh` runs), and three of them need root (or password-less `sudo`). Tests that
//!   use them are `#[ignore]`d with the reason [`IGNORE_REASON`]; `tests/run-all.sh` runs them.
//!
//! Every server follows the same conventions, so one test body can run against all of them:
//! the user `anonymous` (any password) may only read, the user [`USER`] with [`PASSWORD`] may
//! read and write, and both start in the server's root directory ([`TestServer::root`] on the
//! local disk, `/` over FTP). PASV, EPSV, PORT and EPRT are all enabled (active connections only
//! towards the client's own address). The system servers also offer explicit FTPS (`AUTH TLS`)
//! with a self-signed certificate ([`TestServer::cert_pem`]); vsftpd and ProFTPD insist that TLS
//! data connections resume the control connection's session.
//!
//! The [`server_tests!`] macro turns a function `fn(&dyn TestServer)` into one test per server.
//!
//! [`link`] puts a simulated network (delay, bandwidth cap, cuts, stalls, resets, refusals)
//! between a client and any of these servers; `tests/NETWORK.md` describes it and what it
//! measured. [`soak`] runs thousands of transfers with both drivers through such a link while
//! it breaks connections at random, and checks every file (`tests/tests/soak.rs`, the `soak`
//! bench).
//!
//! ```no_run
//! use ftp_tests::{LocalServer, RawClient, TestServer};
//!
//! let server = LocalServer::start();
//! server.write_file("hello.txt", b"hello, ftp\n").unwrap();
//! let mut ftp = RawClient::connect(server.addr()).unwrap();
//! assert_eq!(ftp.login(ftp_tests::USER, ftp_tests::PASSWORD).unwrap().code, 230);
//! assert_eq!(ftp.cmd("SIZE hello.txt").unwrap().code, 213);
//! ```
//!
//! [libunftp]: https://docs.rs/libunftp
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::io;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};

pub mod fault;
pub mod link;
mod local;
mod ports;
mod raw;
pub mod soak;
mod system;
pub mod tls;

pub use local::{LocalServer, LocalServerBuilder};
pub use ports::{free_port, ipv6_available, passive_range, passive_ranges};
pub use raw::{RawClient, RawReply};
pub use system::{
    system_servers_available, system_servers_status, SystemServer, SystemServerBuilder,
};

/// The read-write user every test server knows.
pub const USER: &str = "ftptest";
/// The password of [`USER`].
pub const PASSWORD: &str = "ftptest";
/// The user name of read-only anonymous logins (any password is accepted).
pub const ANONYMOUS: &str = "anonymous";

/// The reason given by `#[ignore]` on every test that needs a system server.
///
/// `#[ignore = ...]` only takes a literal, so test files spell it out; this constant (and
/// [`ignored_reason`]) is the reference they must match, and the harness's own tests check that
/// every `#[ignore]` under `tests/` uses it:
///
/// ```text
/// #[test]
/// #[ignore = "needs system FTP servers: run tests/run-all.sh"]
/// fn against_vsftpd() { /* SystemServer::start(ServerKind::Vsftpd) ... */ }
/// ```
///
/// ```
/// assert_eq!(ftp_tests::IGNORE_REASON, "needs system FTP servers: run tests/run-all.sh");
/// ```
pub const IGNORE_REASON: &str = "needs system FTP servers: run tests/run-all.sh";

/// The text of [`IGNORE_REASON`], for code that wants a function.
///
/// ```
/// assert!(ftp_tests::ignored_reason().contains("tests/run-all.sh"));
/// ```
pub fn ignored_reason() -> &'static str {
    IGNORE_REASON
}

/// Which FTP server implementation a [`TestServer`] is.
///
/// Tests use it to expect the documented differences between servers (reply texts, MLSD
/// support, the replies to a missing path...), never to skip a check silently.
///
/// ```
/// use ftp_tests::ServerKind;
/// assert_eq!(ServerKind::PureFtpd.name(), "pure-ftpd");
/// assert!(ServerKind::SYSTEM.iter().all(|k| k.is_system()));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerKind {
    /// libunftp with the filesystem back end, in-process ([`LocalServer`]).
    Libunftp,
    /// vsftpd (no MLSD/MLST; requires TLS session reuse on data connections).
    Vsftpd,
    /// ProFTPD with mod_tls (requires TLS session reuse on data connections).
    Proftpd,
    /// Pure-FTPd.
    PureFtpd,
    /// pyftpdlib (Python), runs without root.
    Pyftpdlib,
}

impl ServerKind {
    /// The four servers started from `tests/servers/` ([`SystemServer`]).
    pub const SYSTEM: [ServerKind; 4] = [
        ServerKind::Vsftpd,
        ServerKind::Proftpd,
        ServerKind::PureFtpd,
        ServerKind::Pyftpdlib,
    ];

    /// Every kind, the in-process one first.
    pub const ALL: [ServerKind; 5] = [
        ServerKind::Libunftp,
        ServerKind::Vsftpd,
        ServerKind::Proftpd,
        ServerKind::PureFtpd,
        ServerKind::Pyftpdlib,
    ];

    /// Short lower-case name; for system servers also the suffix of `tests/servers/start-*.sh`.
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Libunftp => "libunftp",
            ServerKind::Vsftpd => "vsftpd",
            ServerKind::Proftpd => "proftpd",
            ServerKind::PureFtpd => "pure-ftpd",
            ServerKind::Pyftpdlib => "pyftpdlib",
        }
    }

    /// True for the servers started by the scripts (everything but libunftp).
    pub fn is_system(self) -> bool {
        self != ServerKind::Libunftp
    }

    /// True when the server's start script must run as root.
    pub fn needs_root(self) -> bool {
        matches!(
            self,
            ServerKind::Vsftpd | ServerKind::Proftpd | ServerKind::PureFtpd
        )
    }
}

impl std::fmt::Display for ServerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a test needs to know about a running server, whichever it is.
///
/// Files are put in place with [`write_file`](TestServer::write_file) rather than `std::fs`
/// directly: for system servers the root belongs to the FTP user `ftptest`, and a file the test
/// process creates must be handed over to it or `ftptest` could not overwrite or delete it.
pub trait TestServer {
    /// Which implementation this is.
    fn kind(&self) -> ServerKind;
    /// The control connection's address (`127.0.0.1:port` or `[::1]:port`).
    fn addr(&self) -> SocketAddr;
    /// The local directory the server serves as `/`.
    fn root(&self) -> &Path;
    /// The self-signed certificate (PEM) the server offers after `AUTH TLS`, if it offers TLS.
    fn cert_pem(&self) -> Option<&Path>;
    /// Gives `path` (inside [`root`](TestServer::root)) to the account the server writes as,
    /// after the test process created or changed it. A no-op for in-process servers.
    fn hand_over(&self, path: &Path) -> io::Result<()>;

    /// The read-write user: always [`USER`].
    fn user(&self) -> &str {
        USER
    }
    /// The password of [`user`](TestServer::user): always [`PASSWORD`].
    fn password(&self) -> &str {
        PASSWORD
    }
    /// `root()` joined with a relative path such as `"sub/file.txt"`. Panics on absolute paths
    /// or `..`, so a test cannot escape the root by mistake.
    fn local_path(&self, rel: &str) -> PathBuf {
        let rel = Path::new(rel);
        assert!(
            rel.components().all(|c| matches!(c, Component::Normal(_))),
            "local_path wants a relative path without '..': {rel:?}"
        );
        self.root().join(rel)
    }
    /// Writes `contents` to `rel` under the root (creating parent directories) and hands the
    /// new file and directories over to the server's account. Returns the local path.
    fn write_file(&self, rel: &str, contents: &[u8]) -> io::Result<PathBuf> {
        let path = self.local_path(rel);
        let parent = path.parent().expect("a path under the root has a parent");
        std::fs::create_dir_all(parent)?;
        std::fs::write(&path, contents)?;
        // hand over from the first directory below the root that we may have created
        let first = Path::new(rel).components().next().expect("non-empty path");
        self.hand_over(&self.root().join(first))?;
        Ok(path)
    }
    /// Creates the directory `rel` (and its parents) under the root, handed over to the server.
    fn create_dir(&self, rel: &str) -> io::Result<PathBuf> {
        let path = self.local_path(rel);
        std::fs::create_dir_all(&path)?;
        let first = Path::new(rel).components().next().expect("non-empty path");
        self.hand_over(&self.root().join(first))?;
        Ok(path)
    }
    /// Reads the file `rel` under the root, as the server left it.
    fn read_file(&self, rel: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.local_path(rel))
    }
}

/// Starts a server of the given kind with default options: [`LocalServer::start`] for
/// [`ServerKind::Libunftp`], [`SystemServer::start`] for the others. Panics (with instructions)
/// when it cannot.
///
/// ```no_run
/// use ftp_tests::{start, ServerKind, TestServer};
/// let server = start(ServerKind::Pyftpdlib);
/// assert_eq!(server.kind(), ServerKind::Pyftpdlib);
/// ```
pub fn start(kind: ServerKind) -> Box<dyn TestServer> {
    match kind {
        ServerKind::Libunftp => Box::new(LocalServer::start()),
        _ => Box::new(SystemServer::start(kind)),
    }
}

/// Like [`start`], but the server listens on `[::1]` instead of `127.0.0.1`. Check
/// [`ipv6_available`] first: some machines (containers) have no IPv6 loopback.
///
/// ```no_run
/// use ftp_tests::{start_ipv6, ServerKind, TestServer};
/// let server = start_ipv6(ServerKind::Libunftp);
/// assert!(server.addr().is_ipv6());
/// ```
pub fn start_ipv6(kind: ServerKind) -> Box<dyn TestServer> {
    match kind {
        ServerKind::Libunftp => match LocalServer::builder().ipv6().start() {
            Ok(server) => Box::new(server),
            Err(e) => panic!("could not start the in-process libunftp server on ::1: {e}"),
        },
        _ => match SystemServer::builder(kind).ipv6().start() {
            Ok(server) => Box::new(server),
            Err(e) => panic!("cannot start {kind} on ::1: {e}"),
        },
    }
}

/// Defines, for each function `name(server: &dyn TestServer)`, a module `name` with one test per
/// server: `libunftp` (runs under plain `cargo test`), and `vsftpd`, `proftpd`, `pure_ftpd`,
/// `pyftpdlib`, `#[ignore]`d with [`IGNORE_REASON`] (run them with `tests/run-all.sh`, or
/// `cargo test -- --include-ignored` once `tests/servers/install.sh` has run).
///
/// With `ipv6:` first, every server listens on `[::1]`; on a machine without an IPv6 loopback
/// ([`ipv6_available`]) those tests say so on stderr and return.
///
/// ```
/// use ftp_tests::{server_tests, RawClient, TestServer};
///
/// fn greets_with_220(server: &dyn TestServer) {
///     let mut c = RawClient::connect(server.addr()).unwrap();
///     assert_eq!(c.welcome().code, 220);
/// }
/// fn greets_over_ipv6(server: &dyn TestServer) {
///     assert!(server.addr().is_ipv6());
///     greets_with_220(server);
/// }
/// server_tests!(greets_with_220);
/// server_tests!(ipv6: greets_over_ipv6);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! server_tests {
    (ipv6: $($name:ident),+ $(,)?) => {
        $(
            #[allow(non_snake_case)]
            mod $name {
                fn run(kind: $crate::ServerKind) {
                    if !$crate::ipv6_available() {
                        eprintln!("no IPv6 loopback here: {kind} on ::1 not tested");
                        return;
                    }
                    let server = $crate::start_ipv6(kind);
                    super::$name(&*server);
                }
                #[test]
                fn libunftp() {
                    run($crate::ServerKind::Libunftp);
                }
                #[test]
                #[ignore = "needs system FTP servers: run tests/run-all.sh"]
                fn vsftpd() {
                    run($crate::ServerKind::Vsftpd);
                }
                #[test]
                #[ignore = "needs system FTP servers: run tests/run-all.sh"]
                fn proftpd() {
                    run($crate::ServerKind::Proftpd);
                }
                #[test]
                #[ignore = "needs system FTP servers: run tests/run-all.sh"]
                fn pure_ftpd() {
                    run($crate::ServerKind::PureFtpd);
                }
                #[test]
                #[ignore = "needs system FTP servers: run tests/run-all.sh"]
                fn pyftpdlib() {
                    run($crate::ServerKind::Pyftpdlib);
                }
            }
        )+
    };
    ($($name:ident),+ $(,)?) => {
        $(
            #[allow(non_snake_case)]
            mod $name {
                #[test]
                fn libunftp() {
                    let server = $crate::LocalServer::start();
                    super::$name(&server);
                }
                #[test]
                #[ignore = "needs system FTP servers: run tests/run-all.sh"]
                fn vsftpd() {
                    let server = $crate::SystemServer::start($crate::ServerKind::Vsftpd);
                    super::$name(&server);
                }
                #[test]
                #[ignore = "needs system FTP servers: run tests/run-all.sh"]
                fn proftpd() {
                    let server = $crate::SystemServer::start($crate::ServerKind::Proftpd);
                    super::$name(&server);
                }
                #[test]
                #[ignore = "needs system FTP servers: run tests/run-all.sh"]
                fn pure_ftpd() {
                    let server = $crate::SystemServer::start($crate::ServerKind::PureFtpd);
                    super::$name(&server);
                }
                #[test]
                #[ignore = "needs system FTP servers: run tests/run-all.sh"]
                fn pyftpdlib() {
                    let server = $crate::SystemServer::start($crate::ServerKind::Pyftpdlib);
                    super::$name(&server);
                }
            }
        )+
    };
}

/// One `mio::Poll::poll` for the tests' and benches' loops: a signal (`EINTR`) only ends the
/// wait early (the events are then empty and the loop goes round again); any other error
/// panics, naming it.
///
/// ```
/// let mut poll = mio::Poll::new().unwrap();
/// let mut events = mio::Events::with_capacity(8);
/// ftp_tests::poll_once(&mut poll, &mut events, Some(std::time::Duration::ZERO));
/// assert!(events.is_empty());
/// ```
pub fn poll_once(
    poll: &mut mio::Poll,
    events: &mut mio::Events,
    timeout: Option<std::time::Duration>,
) {
    if let Err(e) = poll.poll(events, timeout) {
        assert_eq!(e.kind(), std::io::ErrorKind::Interrupted, "poll: {e}");
    }
}
