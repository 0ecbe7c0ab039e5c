//! What goes into a [`Session`](super::Session) (operations, data events) and what comes out
//! (events, intents, outcomes).

use core::net::SocketAddr;

use crate::command::ProtLevel;
use crate::reply::decode::Features;
use crate::reply::Reply;
use crate::time::Timestamp;

use super::OpError;

/// One operation of the client; [`Session::start`](super::Session::start) runs it and it ends
/// with exactly one [`Event::Completed`]. Paths and arguments are bytes (servers use UTF-8 or
/// legacy encodings); CR, LF and NUL in them are refused by `start` with
/// [`UsageError::InvalidArgument`](super::UsageError::InvalidArgument).
///
/// ```
/// use ftp_sansio::session::{Operation, TransferKind, TransferRequest};
/// let login = Operation::Login { user: "ftptest".into(), password: "secret".into(), account: None };
/// let get = Operation::Transfer(TransferRequest {
///     kind: TransferKind::Retr(b"dir/file.bin".to_vec()),
///     ascii: false,
///     rest: Some(1024), // resume at byte 1024
/// });
/// # let _ = (login, get);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum Operation {
    /// `USER`, then `PASS` on 331, then `ACCT` on 332 (RFC 959 §4.1.1); ends with
    /// [`Outcome::LoggedIn`]. An empty `user` means `anonymous`; `anonymous` with an empty
    /// password sends `anonymous@` (as ftplib does). `HOST` goes first when configured, and
    /// `FEAT` / `OPTS UTF8 ON` follow with [`Config::auto_feat`](super::Config::auto_feat).
    Login {
        /// User name (`""`: anonymous).
        user: String,
        /// Password (never logged by well-behaved drivers: `PASS` is sensitive).
        password: String,
        /// Account, sent with `ACCT` when the server asks for one (332).
        account: Option<String>,
    },
    /// `FEAT` (RFC 2389): [`Outcome::Features`], also kept in the session.
    Feat,
    /// `CWD path`: [`Outcome::Done`]. `..` is sent as `CDUP` (falling back to `CWD ..` when
    /// `CDUP` is unknown, `500`), an empty path as `CWD .` (ftplib's `cwd`).
    Cwd(Vec<u8>),
    /// `CDUP`: [`Outcome::Done`].
    Cdup,
    /// `PWD`: [`Outcome::Path`] from the 257 reply (RFC 959 Appendix II).
    Pwd,
    /// `MKD path`: [`Outcome::Path`], the created directory as the 257 reply names it, or the
    /// path asked for when the server's reply has no parsable path.
    Mkd(Vec<u8>),
    /// `RMD path`: [`Outcome::Done`].
    Rmd(Vec<u8>),
    /// `DELE path`: [`Outcome::Done`].
    Dele(Vec<u8>),
    /// `RNFR from` then, on 350, `RNTO to`: [`Outcome::Done`].
    Rename {
        /// Current name.
        from: Vec<u8>,
        /// New name.
        to: Vec<u8>,
    },
    /// `SIZE path` (RFC 3659 §4): [`Outcome::Size`]. Sends `TYPE I` first unless binary is
    /// already the current type (several servers refuse `SIZE` in ASCII mode).
    Size(Vec<u8>),
    /// `MDTM path` (RFC 3659 §3): [`Outcome::Mtime`].
    Mdtm(Vec<u8>),
    /// `MLST [path]` (RFC 3659 §7): [`Outcome::Entry`], the fact line.
    Mlst(Option<Vec<u8>>),
    /// `SITE args`: [`Outcome::Done`].
    Site(Vec<u8>),
    /// `STAT [path]`: [`Outcome::Done`] with the (often multi-line) reply.
    Stat(Option<Vec<u8>>),
    /// `SYST`: [`Outcome::Done`].
    Syst,
    /// `NOOP`: [`Outcome::Done`].
    Noop,
    /// `HELP [topic]`: [`Outcome::Done`].
    Help(Option<Vec<u8>>),
    /// `QUIT`: [`Outcome::Closed`]; the session is closed afterwards whatever the reply.
    Quit,
    /// A whole command line (without CRLF), for ftplib's `sendcmd` (`require_2xx: false`:
    /// any positive final reply is [`Outcome::Done`]) and `voidcmd` (`require_2xx: true`:
    /// a 1xx/3xx final reply is [`OpError::Reply`]). Preliminary 1xx replies are skipped so
    /// the control stream stays in step. A line starting with `TYPE` or `REIN` makes the
    /// session forget the current representation type; a successful `PROT x` sets whether
    /// data connections use TLS. Prefer the typed operations for everything else.
    Raw {
        /// The command line, without CRLF.
        line: Vec<u8>,
        /// Whether only a 2xx reply counts as success.
        require_2xx: bool,
    },
    /// A data transfer: see [`TransferRequest`].
    Transfer(TransferRequest),
    /// `AUTH TLS` (RFC 4217 §4): on 234 the session emits
    /// [`Event::Tls`]`(`[`TlsIntent::UpgradeControl`]`)` and waits for
    /// [`Session::handle_tls_established`](super::Session::handle_tls_established); then
    /// [`Outcome::Done`]. A refusal is an error, never a silent clear-text continue.
    AuthTls,
    /// `PBSZ 0` then `PROT x` (RFC 4217 §8-9): [`Outcome::Done`]. Afterwards data intents
    /// carry `tls: true` for any level but [`ProtLevel::Clear`].
    Protect(ProtLevel),
    /// `CCC` (RFC 4217 §6): on 200 the session emits
    /// [`Event::Tls`]`(`[`TlsIntent::DowngradeControl`]`)` and waits for
    /// [`Session::handle_tls_established`](super::Session::handle_tls_established).
    Ccc,
}

/// What the operation sends, as one short line for messages and logs: the commands with
/// their arguments (`RETR pub/file.txt`, `RNFR a / RNTO b`), never a password or account
/// (`USER alice / PASS ********`). `Debug` shows the same, so logging an operation cannot
/// leak a secret.
///
/// ```
/// use ftp_sansio::session::{Operation, TransferKind, TransferRequest};
/// let login = Operation::Login { user: "alice".into(), password: "s3cret".into(), account: None };
/// assert_eq!(login.to_string(), "USER alice / PASS ********");
/// assert!(!format!("{login:?}").contains("s3cret"));
/// let get = Operation::Transfer(TransferRequest {
///     kind: TransferKind::Retr(b"pub/file.txt".to_vec()),
///     ascii: false,
///     rest: Some(100),
/// });
/// assert_eq!(get.to_string(), "REST 100 / RETR pub/file.txt");
/// ```
impl core::fmt::Display for Operation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        fn arg(f: &mut core::fmt::Formatter<'_>, verb: &str, a: &[u8]) -> core::fmt::Result {
            write!(f, "{verb} {}", String::from_utf8_lossy(a))
        }
        fn opt(
            f: &mut core::fmt::Formatter<'_>,
            verb: &str,
            a: &Option<Vec<u8>>,
        ) -> core::fmt::Result {
            match a {
                Some(a) => arg(f, verb, a),
                None => f.write_str(verb),
            }
        }
        /// A raw line with the argument of a sensitive verb masked.
        fn raw(f: &mut core::fmt::Formatter<'_>, line: &[u8]) -> core::fmt::Result {
            if crate::command::Command::Raw(line.into()).is_sensitive() {
                let verb = line.split(|&b| b == b' ').next().unwrap_or(line);
                write!(f, "{} ********", String::from_utf8_lossy(verb))
            } else {
                f.write_str(&String::from_utf8_lossy(line))
            }
        }
        match self {
            Operation::Login { user, account, .. } => {
                let user = if user.is_empty() { "anonymous" } else { user };
                write!(f, "USER {user} / PASS ********")?;
                if account.is_some() {
                    f.write_str(" / ACCT ********")?;
                }
                Ok(())
            }
            Operation::Feat => f.write_str("FEAT"),
            Operation::Cwd(p) => arg(f, "CWD", p),
            Operation::Cdup => f.write_str("CDUP"),
            Operation::Pwd => f.write_str("PWD"),
            Operation::Mkd(p) => arg(f, "MKD", p),
            Operation::Rmd(p) => arg(f, "RMD", p),
            Operation::Dele(p) => arg(f, "DELE", p),
            Operation::Rename { from, to } => {
                arg(f, "RNFR", from)?;
                arg(f, " / RNTO", to)
            }
            Operation::Size(p) => arg(f, "SIZE", p),
            Operation::Mdtm(p) => arg(f, "MDTM", p),
            Operation::Mlst(p) => opt(f, "MLST", p),
            Operation::Site(p) => arg(f, "SITE", p),
            Operation::Stat(p) => opt(f, "STAT", p),
            Operation::Syst => f.write_str("SYST"),
            Operation::Noop => f.write_str("NOOP"),
            Operation::Help(p) => opt(f, "HELP", p),
            Operation::Quit => f.write_str("QUIT"),
            Operation::Raw { line, .. } => raw(f, line),
            Operation::Transfer(t) => {
                if let Some(offset) = t.rest {
                    write!(f, "REST {offset} / ")?;
                }
                match &t.kind {
                    TransferKind::Retr(p) => arg(f, "RETR", p),
                    TransferKind::Stor(p) => arg(f, "STOR", p),
                    TransferKind::Appe(p) => arg(f, "APPE", p),
                    TransferKind::Stou => f.write_str("STOU"),
                    TransferKind::List(p) => opt(f, "LIST", p),
                    TransferKind::Nlst(p) => opt(f, "NLST", p),
                    TransferKind::Mlsd(p) => opt(f, "MLSD", p),
                    TransferKind::Raw { line, .. } => raw(f, line),
                }
            }
            Operation::AuthTls => f.write_str("AUTH TLS"),
            Operation::Protect(level) => {
                let l = match level {
                    ProtLevel::Clear => "C",
                    ProtLevel::Safe => "S",
                    ProtLevel::Confidential => "E",
                    ProtLevel::Private => "P",
                };
                write!(f, "PBSZ 0 / PROT {l}")
            }
            Operation::Ccc => f.write_str("CCC"),
        }
    }
}

impl core::fmt::Debug for Operation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Operation({self})")
    }
}

/// A data transfer (RFC 959 §3.2-3.3): `TYPE` (only when it changes), the data connection
/// (`EPSV`/`PASV` or listen + `EPRT`/`PORT`), `REST` when resuming, the command, and the
/// 1xx / data / final-reply sequence. Ends with [`Outcome::Transferred`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferRequest {
    /// What to transfer.
    pub kind: TransferKind,
    /// `true`: `TYPE A` (lines end in CRLF on the wire; see [`crate::ascii`]); `false`:
    /// `TYPE I`. Listings are usually fetched with `true`, as ftplib's `retrlines` does.
    pub ascii: bool,
    /// `Some(n)`: `REST n` (RFC 3659 §5) before the command, to resume at byte `n`.
    pub rest: Option<u64>,
}

/// The transfer command. Downloads: `Retr`, `List`, `Nlst`, `Mlsd`, `Raw { upload: false }`;
/// uploads: `Stor`, `Appe`, `Stou`, `Raw { upload: true }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransferKind {
    /// `RETR path`: download a file.
    Retr(Vec<u8>),
    /// `STOR path`: upload, replacing.
    Stor(Vec<u8>),
    /// `APPE path`: upload, appending.
    Appe(Vec<u8>),
    /// `STOU`: upload under a name the server chooses.
    Stou,
    /// `LIST [path]`: human-readable listing (see [`crate::listing`]).
    List(Option<Vec<u8>>),
    /// `NLST [path]`: names only.
    Nlst(Option<Vec<u8>>),
    /// `MLSD [path]` (RFC 3659 §7): machine-readable listing.
    Mlsd(Option<Vec<u8>>),
    /// Any command line that opens a data connection (ftplib's `transfercmd`).
    Raw {
        /// The command line, without CRLF.
        line: Vec<u8>,
        /// Whether the client sends (`true`) or receives (`false`) the data.
        upload: bool,
    },
}

impl TransferKind {
    /// A raw transfer command line (ftplib's `transfercmd`), its direction decided by its
    /// verb: `STOR`, `STOU` and `APPE` (any case, followed by a space or the end) send data,
    /// anything else receives it.
    ///
    /// ```
    /// use ftp_sansio::session::{Direction, TransferKind};
    /// let up = TransferKind::from_raw_line(b"stou".to_vec());
    /// assert_eq!(up, TransferKind::Raw { line: b"stou".to_vec(), upload: true });
    /// assert_eq!(TransferKind::from_raw_line(b"APPE log.txt".to_vec()).direction(), Direction::Upload);
    /// assert_eq!(TransferKind::from_raw_line(b"RETR STOR".to_vec()).direction(), Direction::Download);
    /// assert_eq!(TransferKind::from_raw_line(b"STORE x".to_vec()).direction(), Direction::Download);
    /// ```
    pub fn from_raw_line(line: Vec<u8>) -> TransferKind {
        let verb_end = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
        let verb = &line[..verb_end];
        let upload = [&b"STOR"[..], b"STOU", b"APPE"]
            .iter()
            .any(|v| verb.eq_ignore_ascii_case(v));
        TransferKind::Raw { line, upload }
    }

    /// The direction data flows.
    ///
    /// ```
    /// use ftp_sansio::session::{Direction, TransferKind};
    /// assert_eq!(TransferKind::List(None).direction(), Direction::Download);
    /// assert_eq!(TransferKind::Stou.direction(), Direction::Upload);
    /// ```
    pub fn direction(&self) -> Direction {
        match self {
            TransferKind::Stor(_) | TransferKind::Appe(_) | TransferKind::Stou => Direction::Upload,
            TransferKind::Raw { upload: true, .. } => Direction::Upload,
            _ => Direction::Download,
        }
    }
}

/// Which way data flows on a data connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Server to client (`RETR`, listings).
    Download,
    /// Client to server (`STOR`, `APPE`, `STOU`).
    Upload,
}

/// Why a data connection failed, as the driver saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataFailure {
    /// The connection was refused (passive connect).
    Refused,
    /// The connection was reset or broke while moving data.
    Reset,
    /// The driver's own socket timeout fired.
    TimedOut,
    /// The TLS handshake or a TLS record failed.
    Tls,
    /// The local side gave up: the user's sink or source failed, or a local limit (a
    /// listing's size bound) was reached. Reported with [`DataEvent::LocalFailure`]; the
    /// session aborts the transfer (`ABOR`) so the server stops too.
    Local,
    /// Anything else (bind/listen failure, an unexpected socket error, ...).
    Other,
}

impl DataFailure {
    /// The one mapping of a data connection's I/O error onto a failure, for every driver:
    /// refused → [`Refused`](Self::Refused); reset, aborted, broken pipe, unexpected end
    /// → [`Reset`](Self::Reset); timed out or would block (a socket timeout) →
    /// [`TimedOut`](Self::TimedOut); invalid data (what TLS libraries report for a bad
    /// record) → [`Tls`](Self::Tls); anything else → [`Other`](Self::Other).
    ///
    /// ```
    /// use ftp_sansio::session::DataFailure;
    /// use std::io::ErrorKind;
    /// assert_eq!(DataFailure::from_io_kind(ErrorKind::ConnectionReset), DataFailure::Reset);
    /// assert_eq!(DataFailure::from_io_kind(ErrorKind::WouldBlock), DataFailure::TimedOut);
    /// ```
    pub fn from_io_kind(kind: std::io::ErrorKind) -> DataFailure {
        Self::of_kind(kind)
    }

    /// [`from_io_kind`](Self::from_io_kind) for a whole error: with the `tls` feature a
    /// TLS layer's error carried inside it (the `tls` module) is classified first (a bad
    /// record, an alert, a certificate: [`Tls`](Self::Tls)). What drivers call for a data
    /// socket's error.
    ///
    /// ```
    /// use ftp_sansio::session::DataFailure;
    /// let e = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
    /// assert_eq!(DataFailure::from_io(&e), DataFailure::Reset);
    /// ```
    pub fn from_io(e: &std::io::Error) -> DataFailure {
        #[cfg(feature = "tls")]
        if let Some(tls) = crate::tls::TlsError::of_io(e) {
            return tls.data_failure();
        }
        Self::of_kind(e.kind())
    }

    fn of_kind(kind: std::io::ErrorKind) -> DataFailure {
        use std::io::ErrorKind as K;
        match kind {
            K::ConnectionRefused => DataFailure::Refused,
            K::ConnectionReset
            | K::ConnectionAborted
            | K::BrokenPipe
            | K::UnexpectedEof
            | K::NotConnected => DataFailure::Reset,
            K::TimedOut | K::WouldBlock => DataFailure::TimedOut,
            K::InvalidData => DataFailure::Tls,
            _ => DataFailure::Other,
        }
    }
}

impl core::fmt::Display for DataFailure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            DataFailure::Refused => "connection refused",
            DataFailure::Reset => "connection reset",
            DataFailure::TimedOut => "timed out",
            DataFailure::Tls => "TLS failure",
            DataFailure::Local => "given up locally",
            DataFailure::Other => "I/O failure",
        })
    }
}

/// What happened to the data connection, reported by the driver through
/// [`Session::handle_data_event`](super::Session::handle_data_event). Events that do not
/// fit the current state (late, duplicated, after the operation ended) are ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataEvent {
    /// Passive: the TCP connection to [`DataIntent::Connect`]'s address is established.
    /// (A TLS handshake, if any, happens later, when [`DataIntent::Stream`] asks for it.)
    Connected,
    /// Active: the listener asked for by [`DataIntent::Listen`] is bound at this address;
    /// the session then sends `EPRT`/`PORT` with it.
    Listening(SocketAddr),
    /// Active: the server's connection was accepted.
    Accepted,
    /// Bytes moved on the data connection so far (refreshes the data idle deadline).
    Progress(u64),
    /// The transfer's data is complete: download: end of stream seen; upload: everything
    /// written and the write side shut down. `bytes` counts bytes on the wire (before any
    /// ASCII conversion). The driver closes the connection itself.
    Finished {
        /// Total bytes moved.
        bytes: u64,
    },
    /// The local side gave up on the transfer: the user's sink or source failed, or a local
    /// limit was reached (a listing's size bound). The driver keeps the data connection
    /// open and moves nothing more on it; the session aborts the transfer as
    /// [`Session::abort`](super::Session::abort) does (`ABOR` first, then
    /// [`DataIntent::Close`]) and ends it with [`OpError::Data`](super::OpError::Data)
    /// carrying [`DataFailure::Local`]. The driver keeps the details (the sink's error) to
    /// report them.
    LocalFailure {
        /// Bytes moved before giving up.
        bytes: u64,
    },
    /// The data connection failed (connect, bind, accept, handshake or while moving data).
    /// The driver has dropped it.
    Failed {
        /// What went wrong.
        kind: DataFailure,
        /// Bytes moved before the failure.
        bytes: u64,
    },
}

/// What the session asks the driver to do with a data connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataIntent {
    /// Passive: open a TCP connection to `addr` and report [`DataEvent::Connected`] (or
    /// `Failed`). The transfer command is sent only after that. `tls` says the connection
    /// will need TLS (PROT P); do the handshake when [`DataIntent::Stream`] comes, not now:
    /// servers start their side of it only after the command (RFC 4217 §7), and it must
    /// resume the control connection's TLS session (vsftpd, ProFTPD insist).
    Connect {
        /// Where to connect (by default the control peer's IP and the port the server gave).
        addr: SocketAddr,
        /// Whether the data connection will be protected.
        tls: bool,
    },
    /// Active: bind a listener on the control connection's *local* IP, any port, and report
    /// [`DataEvent::Listening`] with its address (or `Failed`).
    Listen {
        /// Whether the data connection will be protected.
        tls: bool,
    },
    /// Move the data now (the server accepted the command with 1xx). Active mode: accept
    /// the server's connection first ([`DataEvent::Accepted`]). With `tls`, do the client
    /// handshake (resuming the control session) before moving bytes. Report
    /// [`DataEvent::Progress`] as bytes move and end with `Finished` or `Failed`.
    Stream {
        /// Which way the data flows.
        direction: Direction,
        /// Download size announced by the 1xx reply (`(N bytes)`), when there was one and no
        /// `REST` was sent (servers disagree on what the size means after `REST`).
        expected_size: Option<u64>,
        /// Whether the transfer is in ASCII mode (convert line ends with [`crate::ascii`]).
        ascii: bool,
        /// Whether to run TLS on the data connection.
        tls: bool,
    },
    /// Drop the data connection (and any listener) now, without waiting for it to finish:
    /// the transfer failed or is being aborted. Harmless when there is none.
    Close,
}

/// What the session asks the driver to do with the control connection's TLS layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TlsIntent {
    /// After `234` to `AUTH TLS`: run the TLS client handshake on the control connection,
    /// then call [`Session::handle_tls_established`](super::Session::handle_tls_established).
    /// No control bytes are queued meanwhile, and any clear-text bytes the server sent
    /// after the 234 were refused as a protocol error (no injection before TLS).
    UpgradeControl,
    /// After `200` to `CCC`: send TLS close_notify, go on in clear text (RFC 4217 §6), then
    /// call [`Session::handle_tls_established`](super::Session::handle_tls_established).
    DowngradeControl,
}

/// Something for the driver: pulled with [`Session::poll_event`](super::Session::poll_event).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Do something with the data connection.
    Data(DataIntent),
    /// Change the control connection's TLS state.
    Tls(TlsIntent),
    /// A reply was received (only with [`Config::trace_replies`](super::Config::trace_replies)).
    Reply(Reply),
    /// The operation in flight ended; exactly one per operation, including the greeting
    /// that [`Session::new`](super::Session::new) waits for.
    Completed(Result<Outcome, OpError>),
}

/// The success value of an operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The server's greeting (220), also kept as [`Session::welcome`](super::Session::welcome).
    Greeting(Reply),
    /// Login finished; the final reply of `USER`/`PASS`/`ACCT` (usually 230).
    LoggedIn(Reply),
    /// A command succeeded; its final reply.
    Done(Reply),
    /// A path from a 257 reply (`PWD`, `MKD`), quotes undone.
    Path(Vec<u8>),
    /// `SIZE` result.
    Size(u64),
    /// `MDTM` result.
    Mtime(Timestamp),
    /// `FEAT` result.
    Features(Features),
    /// `MLST` fact line (`type=file;size=11; /hello.txt`), leading space removed.
    Entry(Vec<u8>),
    /// A transfer succeeded: bytes on the wire and the final reply (226/250).
    Transferred {
        /// Bytes moved, as the driver reported them.
        bytes: u64,
        /// The final reply.
        reply: Reply,
    },
    /// The transfer was aborted with `ABOR` ([`Session::abort`](super::Session::abort)); the
    /// reply to `ABOR`: usually 225/226, or whatever final reply followed the transfer's
    /// `426` (Pure-FTPd sends `451` there), as ftplib's `abort` returns it. Only a refusal
    /// of `ABOR` (500/501/502, or a negative reply when no transfer reply came first) or a
    /// 3xx is an error. The control connection is usable again.
    Aborted {
        /// The `ABOR` reply.
        reply: Reply,
    },
    /// `QUIT` answered; the session is closed.
    Closed(Reply),
}

/// The optional path of a listing (`LIST`, `NLST`, `MLSD`): what the drivers' listing calls
/// accept, so that the everyday cases need no type annotation.
///
/// | you write | the command |
/// |---|---|
/// | `None` | `NLST` (the current directory) |
/// | `Some("pub")` or `"pub"` | `NLST pub` |
/// | `name.as_slice()`, `&bytes[..]` (a `&[u8]`) | `NLST` + those bytes (names that are not UTF-8) |
/// | `&String`, `&Vec<u8>` | the same |
///
/// Only `Option<&str>` is an `Option`, so a bare `None` needs no `None::<&str>`.
///
/// ```
/// use ftp_sansio::session::ListPath;
/// fn arg(p: impl ListPath) -> Option<Vec<u8>> { p.into_path() }
/// assert_eq!(arg(None), None);
/// assert_eq!(arg(Some("pub")), Some(b"pub".to_vec()));
/// assert_eq!(arg("pub"), Some(b"pub".to_vec()));
/// assert_eq!(arg(&b"d\xe9j\xe0"[..]), Some(b"d\xe9j\xe0".to_vec()));
/// ```
pub trait ListPath {
    /// The path's bytes, `None` for none.
    fn into_path(self) -> Option<Vec<u8>>;
}

impl ListPath for Option<&str> {
    fn into_path(self) -> Option<Vec<u8>> {
        self.map(|p| p.as_bytes().to_vec())
    }
}

impl ListPath for &str {
    fn into_path(self) -> Option<Vec<u8>> {
        Some(self.as_bytes().to_vec())
    }
}

impl ListPath for &String {
    fn into_path(self) -> Option<Vec<u8>> {
        Some(self.as_bytes().to_vec())
    }
}

impl ListPath for &[u8] {
    fn into_path(self) -> Option<Vec<u8>> {
        Some(self.to_vec())
    }
}

impl ListPath for &Vec<u8> {
    fn into_path(self) -> Option<Vec<u8>> {
        Some(self.clone())
    }
}
