//! The adapter every driver implements for the conformance suite, and the driver-neutral
//! results the scenarios compare.
//!
//! A scenario never names a driver: it connects through [`Driver::connect`], runs neutral
//! operations ([`Cmd`], [`Download`], [`Upload`], [`ListKind`], abort, quit) and checks
//! [`Verdict`]s: success with the final reply, or a [`Failure`] of one [`Class`], with the
//! reply code, whether the session ended, and the core's [`OpError`] when there was one.
//!
//! # Adding a driver
//!
//! 1. Write a type holding one client session of the driver (its connection, or its event
//!    loop and the session's id) and `impl Driver` for it in a new file next to `blocking.rs`
//!    and `mio.rs`: each method starts the operation, runs the driver until it ends and maps
//!    the driver's result with [`Verdict`]'s constructors ([`class_of_op`] classifies the
//!    core's errors the same way for every driver; map the driver's own errors, such as a
//!    local I/O error or a buffer limit, to the [`Class`] documented on each variant). An
//!    async driver blocks on its runtime inside each method (a current-thread runtime held
//!    by the type). A driver that lives in an example, such as the tokio client of issue 14
//!    in ftp-core's examples, comes in with `#[path = "…"] mod …;` from `main.rs`, its
//!    dependencies added to the tests crate as dev-dependencies.
//! 2. Add `name: Type` to the `drivers:` list of the `conformance!` call in `main.rs`: every
//!    scenario, active and pending, gets a test `scenario::name` (`scenario::name::server`
//!    for the real-server ones), and the `table` test counts it.

use std::net::SocketAddr;
use std::time::Duration;

use ftp_sansio::reply::{Reply, ReplyClass};
use ftp_sansio::session::{Config, DataFailure, OpError, Operation, TimeoutKind};

use crate::hostile_common::bounded;

/// How a driver opens a session: the core's [`Config`] plus what drivers keep outside it.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The session configuration, passed to the driver unchanged.
    pub config: Config,
    /// The most bytes a collected listing may have (`None`: the driver's default).
    pub listing_limit: Option<usize>,
    /// A connect timeout for drivers that take one apart from `config` (ftp-blocking);
    /// drivers bounding the connect with `config`'s timeouts ignore it.
    pub connect_timeout: Option<Duration>,
    /// The TLS versions `AUTH TLS` offers (when it is given a certificate to trust).
    pub tls_versions: TlsVersion,
}

/// Which TLS versions a client offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlsVersion {
    /// TLS 1.2 only (the drivers' default).
    #[default]
    Tls12,
    /// TLS 1.3 only.
    Tls13,
}

impl Setup {
    /// `config` with the driver's default listing limit and no separate connect timeout.
    pub fn new(config: Config) -> Setup {
        Setup {
            config,
            listing_limit: None,
            connect_timeout: None,
            tls_versions: TlsVersion::default(),
        }
    }
}

/// What kind of failure a driver reported, whatever its error type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// A positive reply the operation did not expect.
    Reply,
    /// A `4xx` reply (also a data-connection failure whose final reply was `4xx`).
    Temporary,
    /// A `5xx` reply (also a data-connection failure whose final reply was `5xx`).
    Permanent,
    /// The server broke the protocol.
    Protocol,
    /// A socket or local I/O error: a refused or broken connection, the caller's sink or
    /// source failing.
    Io,
    /// A deadline passed (reply, data, operation, connect); [`Failure::op`] tells which.
    Timeout,
    /// The control connection is closed (by the server, or before the operation ran).
    Closed,
    /// A download ended before the size the server announced.
    Truncated,
    /// What the server sent is larger than the caller's limit (a listing).
    TooLarge,
    /// The caller's request was refused before anything was sent (CR/LF/NUL in a name, an
    /// operation the session's state does not allow).
    Usage,
    /// TLS failed or was refused.
    Tls,
}

/// A failed operation, driver-neutral.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The kind of failure.
    pub class: Class,
    /// The server's reply code behind it, if any.
    pub code: Option<u16>,
    /// Whether the session ended with it.
    pub fatal: bool,
    /// The core's verdict, when the failure came from the protocol core.
    pub op: Option<OpError>,
    /// The kind of the I/O error behind it, when the driver reports one.
    pub io: Option<std::io::ErrorKind>,
    /// The driver's own description (for assertion messages and local reasons).
    pub message: String,
}

/// A successful operation's result.
#[derive(Clone, Debug, Default)]
pub struct Success {
    /// The final reply, when the driver's API returns it.
    pub reply: Option<Reply>,
    /// A path (`PWD`, `MKD`), decoded lossily as every driver's text API does.
    pub path: Option<String>,
    /// A number: the size of `SIZE`, the Unix time of `MDTM`.
    pub number: Option<u64>,
}

/// The result of one neutral operation.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// It succeeded.
    Ok(Success),
    /// It failed.
    Err(Failure),
}

impl Verdict {
    /// A success with the final reply.
    pub fn reply(reply: Reply) -> Verdict {
        Verdict::Ok(Success {
            reply: Some(reply),
            ..Success::default()
        })
    }

    /// A failure from the core's verdict.
    pub fn op(e: OpError) -> Verdict {
        Verdict::Err(Failure {
            class: class_of_op(&e),
            code: e.reply().map(|r| r.code().get()),
            fatal: e.is_fatal(),
            message: e.to_string(),
            op: Some(e),
            io: None,
        })
    }

    /// A failure the driver saw itself.
    pub fn failure(class: Class, fatal: bool, message: impl Into<String>) -> Verdict {
        Verdict::Err(Failure {
            class,
            code: None,
            fatal,
            op: None,
            io: None,
            message: message.into(),
        })
    }

    /// The success, or a panic naming the failure.
    #[track_caller]
    pub fn ok(self) -> Success {
        match self {
            Verdict::Ok(s) => s,
            Verdict::Err(f) => panic!("expected success, got {f:?}"),
        }
    }

    /// The failure, or a panic naming the success.
    #[track_caller]
    pub fn failed(self) -> Failure {
        match self {
            Verdict::Err(f) => f,
            Verdict::Ok(s) => panic!("expected a failure, got {s:?}"),
        }
    }

    /// The failure, which must be of `class`.
    #[track_caller]
    pub fn err(self, class: Class) -> Failure {
        let f = self.failed();
        assert_eq!(f.class, class, "{f:?}");
        f
    }

    /// The failure, which must be of `class` with reply `code`.
    #[track_caller]
    pub fn err_code(self, class: Class, code: u16) -> Failure {
        let f = self.err(class);
        assert_eq!(f.code, Some(code), "{f:?}");
        f
    }

    /// The failure, which must be a data-connection timeout (the session goes on).
    #[track_caller]
    pub fn data_timeout(self) -> Failure {
        let f = self.err(Class::Timeout);
        assert_eq!(f.timeout(), Some(TimeoutKind::Data), "{f:?}");
        assert!(!f.fatal, "{f:?}");
        f
    }

    /// Whether it succeeded.
    pub fn is_ok(&self) -> bool {
        matches!(self, Verdict::Ok(_))
    }
}

impl Success {
    /// The final reply's code (a panic when the driver gave none).
    #[track_caller]
    pub fn code(&self) -> u16 {
        self.reply
            .as_ref()
            .map(|r| r.code().get())
            .unwrap_or_else(|| panic!("no reply in {self:?}"))
    }
}

impl Failure {
    /// The timeout kind, when the core reported a timeout.
    pub fn timeout(&self) -> Option<TimeoutKind> {
        match &self.op {
            Some(OpError::Timeout(k)) => Some(*k),
            Some(OpError::Data {
                failure: DataFailure::TimedOut,
                ..
            }) => Some(TimeoutKind::Data),
            _ => None,
        }
    }
}

/// The neutral class of a core error, the same for every driver: the reply's class for
/// replies, a data failure by what the driver saw (a timeout, else the final reply's class
/// when one came, else I/O).
pub fn class_of_op(e: &OpError) -> Class {
    let by_reply = |r: &Reply| match r.code().class() {
        ReplyClass::TransientNegative => Class::Temporary,
        ReplyClass::PermanentNegative => Class::Permanent,
        _ => Class::Reply,
    };
    if let OpError::Reply(r) | OpError::Temporary(r) | OpError::Permanent(r) = e {
        return by_reply(r);
    }
    if let OpError::Data { failure, reply } = e {
        return match (failure, reply) {
            (DataFailure::TimedOut, _) => Class::Timeout,
            (_, Some(r)) if by_reply(r) != Class::Reply => by_reply(r),
            _ => Class::Io,
        };
    }
    if matches!(e, OpError::Protocol(_)) {
        Class::Protocol
    } else if matches!(e, OpError::Timeout(_)) {
        Class::Timeout
    } else if matches!(e, OpError::Truncated { .. }) {
        Class::Truncated
    } else {
        // ConnectionClosed, and any way of ending the session the core adds.
        Class::Closed
    }
}

/// A simple command: one request, one final reply, no data connection.
#[derive(Clone, Debug)]
pub enum Cmd<'a> {
    /// `CWD path`.
    Cwd(&'a str),
    /// `CDUP`.
    Cdup,
    /// `PWD`: the path in [`Success::path`].
    Pwd,
    /// `MKD path`: the path in [`Success::path`].
    Mkd(&'a str),
    /// `RMD path`.
    Rmd(&'a str),
    /// `DELE path`.
    Dele(&'a str),
    /// `RNFR from` + `RNTO to`.
    Rename(&'a str, &'a str),
    /// `SIZE path`: the size in [`Success::number`].
    Size(&'a str),
    /// `MDTM path`.
    Mdtm(&'a str),
    /// `MLST path`.
    Mlst(&'a str),
    /// `FEAT`.
    Feat,
    /// `SYST`.
    Syst,
    /// `STAT path`.
    Stat(&'a str),
    /// `SITE args`.
    Site(&'a str),
    /// `HELP`.
    Help,
    /// `NOOP`.
    Noop,
    /// A raw command line (ftplib's `sendcmd`).
    Raw(&'a str),
}

impl Cmd<'_> {
    /// The core's operation for this command, for adapters of drivers that take
    /// [`Operation`]s (ftp-mio, the tokio client).
    pub fn operation(&self) -> Operation {
        let p = |s: &str| s.as_bytes().to_vec();
        match *self {
            Cmd::Cwd(d) => Operation::Cwd(p(d)),
            Cmd::Cdup => Operation::Cdup,
            Cmd::Pwd => Operation::Pwd,
            Cmd::Mkd(d) => Operation::Mkd(p(d)),
            Cmd::Rmd(d) => Operation::Rmd(p(d)),
            Cmd::Dele(f) => Operation::Dele(p(f)),
            Cmd::Rename(from, to) => Operation::Rename {
                from: p(from),
                to: p(to),
            },
            Cmd::Size(f) => Operation::Size(p(f)),
            Cmd::Mdtm(f) => Operation::Mdtm(p(f)),
            Cmd::Mlst(f) => Operation::Mlst(Some(p(f))),
            Cmd::Feat => Operation::Feat,
            Cmd::Syst => Operation::Syst,
            Cmd::Stat(f) => Operation::Stat(Some(p(f))),
            Cmd::Site(a) => Operation::Site(p(a)),
            Cmd::Help => Operation::Help(None),
            Cmd::Noop => Operation::Noop,
            Cmd::Raw(line) => Operation::Raw {
                line: p(line),
                require_2xx: false,
            },
        }
    }
}

/// The core's login operation, for the same adapters.
pub fn login_operation(user: &str, password: &str) -> Operation {
    Operation::Login {
        user: user.into(),
        password: password.into(),
        account: None,
    }
}

/// Which collecting listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// `NLST`: names (every driver's text API decodes them lossily: compare them so).
    Nlst,
    /// `LIST`, parsed: entry names as bytes.
    List,
    /// `MLSD`, parsed: entry names as bytes.
    Mlsd,
}

/// A download request.
#[derive(Clone, Debug, Default)]
pub struct Download<'a> {
    /// The path (`RETR path`).
    pub path: &'a str,
    /// `REST` offset.
    pub rest: Option<u64>,
    /// The caller's sink fails (an I/O error) once it was given this many bytes.
    pub sink_fails_after: Option<usize>,
}

/// An upload request.
#[derive(Clone, Debug, Default)]
pub struct Upload<'a> {
    /// The path (`STOR path`, or `APPE path` with `append`).
    pub path: &'a str,
    /// What to send.
    pub data: &'a [u8],
    /// `APPE` instead of `STOR`.
    pub append: bool,
    /// `REST` offset.
    pub rest: Option<u64>,
    /// The caller's source fails (an I/O error) after giving this many bytes.
    pub source_fails_after: Option<usize>,
}

/// One client session of a driver, driven through neutral operations. Every method runs
/// the driver until the operation ended and returns its [`Verdict`].
pub trait Driver: Sized {
    /// The name in test names and messages.
    const NAME: &'static str;

    /// Connects to `addr` and reads the greeting. The session value is returned whatever
    /// happened, so a scenario can check it is closed after a failure.
    fn connect(addr: SocketAddr, setup: &Setup) -> (Self, Verdict);
    /// The greeting as received, once there was one.
    fn welcome(&self) -> Option<Reply>;
    /// `USER` + `PASS`.
    fn login(&mut self, user: &str, password: &str) -> Verdict;
    /// A simple command.
    fn command(&mut self, cmd: Cmd<'_>) -> Verdict;
    /// A binary download into a vector: the verdict and every byte given to the sink.
    fn download(&mut self, request: Download<'_>) -> (Verdict, Vec<u8>);
    /// A binary upload.
    fn upload(&mut self, request: Upload<'_>) -> Verdict;
    /// A collected listing (bounded by [`Setup::listing_limit`]) and its entry names.
    fn listing(&mut self, kind: ListKind, path: Option<&str>) -> (Verdict, Vec<Vec<u8>>);
    /// Starts `RETR path`, waits until at least `after` bytes arrived, then aborts it: the
    /// verdict of the abort (the `ABOR` reply on success).
    fn abort_download(&mut self, path: &str, after: usize) -> Verdict;
    /// `ABOR` with no transfer running.
    fn abort_idle(&mut self) -> Verdict;
    /// `QUIT`.
    fn quit(&mut self) -> Verdict;
    /// Whether the driver still holds an open session (it may not know yet that the server
    /// went away; the scenarios check that with a command).
    fn is_open(&self) -> bool;
    /// Explicit FTPS: `AUTH TLS` for `server_name`, trusting only the certificate `trust`
    /// (`None`: the driver's default roots, which trust no test certificate).
    fn auth_tls(&mut self, server_name: &str, trust: Option<&[u8]>) -> Verdict;
    /// `PBSZ 0` + `PROT P` through the driver's FTPS call.
    fn prot_p(&mut self) -> Verdict;
    /// TLS handshakes on data connections so far, and how many of them resumed the control
    /// connection's session; `None` without TLS.
    fn tls_data_handshakes(&self) -> Option<(u64, u64)>;
    /// Closes the session from the caller's side, as the driver's API does it (no `QUIT`).
    fn close(&mut self);
}

/// A driver session with the checks every scenario makes: each call ends within
/// [`BOUND`](crate::hostile_common::BOUND)
/// (a liveness bound, not a speed target), plus `usable`/`closed`.
pub struct Client<D: Driver> {
    /// The driver's session.
    pub d: D,
}

impl<D: Driver> Client<D> {
    /// Connects (bounded); the client and the greeting's verdict.
    #[track_caller]
    pub fn connect(addr: SocketAddr, setup: &Setup) -> (Client<D>, Verdict) {
        let (d, v) = bounded(&format!("{}: connect", D::NAME), || D::connect(addr, setup));
        (Client { d }, v)
    }

    /// Connects and expects the greeting to succeed.
    #[track_caller]
    pub fn open(addr: SocketAddr, setup: &Setup) -> Client<D> {
        let (c, v) = Client::connect(addr, setup);
        v.ok();
        c
    }

    /// Connects and logs in as `user`/`pw`, both of which must succeed.
    #[track_caller]
    pub fn logged_in(addr: SocketAddr, setup: &Setup) -> Client<D> {
        let mut c = Client::open(addr, setup);
        c.login("user", "pw").ok();
        c
    }

    /// `USER` + `PASS`.
    #[track_caller]
    pub fn login(&mut self, user: &str, password: &str) -> Verdict {
        bounded(&format!("{}: login", D::NAME), || {
            self.d.login(user, password)
        })
    }

    /// A simple command.
    #[track_caller]
    pub fn cmd(&mut self, cmd: Cmd<'_>) -> Verdict {
        let what = format!("{}: {cmd:?}", D::NAME);
        bounded(&what, || self.d.command(cmd))
    }

    /// `RETR path` into a vector.
    #[track_caller]
    pub fn get(&mut self, path: &str) -> (Verdict, Vec<u8>) {
        self.download(Download {
            path,
            ..Download::default()
        })
    }

    /// A download.
    #[track_caller]
    pub fn download(&mut self, request: Download<'_>) -> (Verdict, Vec<u8>) {
        let what = format!("{}: {request:?}", D::NAME);
        bounded(&what, || self.d.download(request))
    }

    /// `STOR path` from `data`.
    #[track_caller]
    pub fn put(&mut self, path: &str, data: &[u8]) -> Verdict {
        self.upload(Upload {
            path,
            data,
            ..Upload::default()
        })
    }

    /// An upload.
    #[track_caller]
    pub fn upload(&mut self, request: Upload<'_>) -> Verdict {
        let what = format!("{}: upload {}", D::NAME, request.path);
        bounded(&what, || self.d.upload(request))
    }

    /// A collected listing.
    #[track_caller]
    pub fn listing(&mut self, kind: ListKind, path: Option<&str>) -> (Verdict, Vec<Vec<u8>>) {
        bounded(&format!("{}: {kind:?}", D::NAME), || {
            self.d.listing(kind, path)
        })
    }

    /// Abort a running download after `after` bytes.
    #[track_caller]
    pub fn abort_download(&mut self, path: &str, after: usize) -> Verdict {
        bounded(&format!("{}: abort", D::NAME), || {
            self.d.abort_download(path, after)
        })
    }

    /// `ABOR` with nothing running.
    #[track_caller]
    pub fn abort_idle(&mut self) -> Verdict {
        bounded(&format!("{}: abort", D::NAME), || self.d.abort_idle())
    }

    /// `QUIT`.
    #[track_caller]
    pub fn quit(&mut self) -> Verdict {
        bounded(&format!("{}: quit", D::NAME), || self.d.quit())
    }

    /// `AUTH TLS`, trusting `cert_pem` only.
    #[track_caller]
    pub fn auth_tls(&mut self, server_name: &str, cert_pem: &[u8]) -> Verdict {
        bounded(&format!("{}: auth_tls", D::NAME), || {
            self.d.auth_tls(server_name, Some(cert_pem))
        })
    }

    /// `NOOP`.
    #[track_caller]
    pub fn noop(&mut self) -> Verdict {
        self.cmd(Cmd::Noop)
    }

    /// The session still works: it is open and a `NOOP` round trip succeeds with `200`.
    #[track_caller]
    pub fn assert_usable(&mut self) {
        assert!(self.d.is_open(), "{}: the session ended", D::NAME);
        let ok = self.noop().ok();
        assert_eq!(ok.code(), 200, "{}: NOOP after the failure", D::NAME);
    }

    /// The session ended: the driver says so, and a command fails as closed.
    #[track_caller]
    pub fn assert_closed(&mut self) {
        assert!(!self.d.is_open(), "{}: the session is still open", D::NAME);
        self.noop().err(Class::Closed);
    }
}
