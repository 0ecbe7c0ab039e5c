//! Session configuration.

use std::time::Duration;

use crate::reply::Limits;

/// How a [`Session`](super::Session) behaves. Every field can be changed between operations
/// through [`Session::config_mut`](super::Session::config_mut); a change applies from the
/// next operation on.
///
/// ```
/// use ftp_sansio::session::Config;
/// use std::time::Duration;
/// let config = Config {
///     passive: false,                       // active mode: EPRT/PORT
///     reply_timeout: Some(Duration::from_secs(10)),
///     ..Config::default()
/// };
/// assert!(config.use_epsv && !config.trust_pasv_address && !config.pipeline_passive);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `true` (default): passive data connections (`EPSV`/`PASV`, the client connects);
    /// `false`: active (`EPRT`/`PORT`, the server connects to a listener of the driver).
    pub passive: bool,
    /// `false` (default): from a 227 reply only the port is used and the client connects to
    /// the control connection's peer address, as curl does, so a server cannot steer the
    /// client to a third host (and NAT-mangled addresses do not matter). `true`: connect to
    /// the address the 227 names (an unspecified `0.0.0.0` still means the control peer).
    pub trust_pasv_address: bool,
    /// `true` (default): the extended commands of RFC 2428 first: `EPSV` in passive mode
    /// (on `500`/`502` the session falls back to `PASV` and remembers that for the rest of
    /// the session) and `EPRT` in active mode (on `500`/`502`, IPv4 falls back to `PORT`,
    /// also remembered). `false`: `PASV`/`PORT` directly; `EPRT` still serves IPv6.
    pub use_epsv: bool,
    /// `true` (default): after a successful login the session sends `FEAT` (RFC 2389) and
    /// keeps the result ([`Session::features`](super::Session::features)); when `UTF8` is
    /// offered it sends `OPTS UTF8 ON` (RFC 2640). Failures of either are ignored.
    pub auto_feat: bool,
    /// `Some(name)`: `HOST name` (RFC 7151) is sent once, before `AUTH` or `USER`, whichever
    /// comes first. A server that does not know `HOST` (`500`/`502`) is tolerated.
    pub host: Option<String>,
    /// Longest wait for a reply (default 60 s). When it passes, the operation ends with
    /// [`OpError::Timeout`](super::OpError::Timeout) and the session closes: the control
    /// stream is out of step. `None`: wait forever. Not running while a transfer's data
    /// moves (then [`Config::data_timeout`] applies).
    pub reply_timeout: Option<Duration>,
    /// Longest wait for a data connection to connect or be accepted, and longest time
    /// without [`DataEvent::Progress`](super::DataEvent::Progress) while it streams
    /// (default 60 s). `None`: wait forever.
    pub data_timeout: Option<Duration>,
    /// Hard upper bound on one whole operation — the greeting, a login (with its `FEAT`), a
    /// command, a whole transfer including its data — however much progress it makes
    /// (default `None`: no bound). [`Config::reply_timeout`] and [`Config::data_timeout`]
    /// restart with every `1xx` reply and every
    /// [`DataEvent::Progress`](super::DataEvent::Progress), so a server trickling `120`
    /// replies or one data byte per timeout could keep an operation alive forever; set this
    /// when a hard limit matters (crawlers, batch jobs). The deadline is armed when the
    /// operation starts (at [`Session::new`](super::Session::new) for the greeting); when it
    /// passes, the operation ends with
    /// [`OpError::Timeout`](super::OpError::Timeout)`(`[`TimeoutKind::Operation`](super::TimeoutKind::Operation)`)`
    /// and the session closes (the control stream may be out of step). An abort of a
    /// transfer counts as part of the transfer.
    pub operation_timeout: Option<Duration>,
    /// Bounds on reply size; a reply beyond them is a protocol error that closes the session.
    pub limits: Limits,
    /// `true`: every reply is also reported as [`Event::Reply`](super::Event::Reply) (for
    /// debug logging, ftplib's `set_debuglevel`). Default `false`.
    pub trace_replies: bool,
    /// `false` (default): when the server refuses `AUTH TLS` (or the `HOST` sent before it),
    /// the operation fails with the server's reply **and the session closes**: nothing
    /// queued behind it (a login with a password) can go out in clear text, whichever loop
    /// drives the session. `true`: curl's "try TLS, else go on in clear text": the session
    /// stays open and usable without TLS. A failed handshake always closes the session.
    pub allow_clear_after_refused_auth: bool,
    /// How long an abort of a running transfer keeps the data connection open after
    /// sending `ABOR` (default 1 s). `ABOR` goes first; the data connection is closed when
    /// the server's first reply to it arrives or when this grace passes, whichever is
    /// first. Servers that watch the control connection during a transfer answer at once;
    /// servers that only notice `ABOR` once the data connection fails (vsftpd without
    /// `async_abor_enable`) get it closed after the grace; and no server sees its data
    /// connection vanish before `ABOR` arrives (some drop the whole session then). The
    /// reply timeout does not run during the grace; it starts when the data connection is
    /// closed.
    /// `Duration::ZERO` closes the data connection right after `ABOR` is queued.
    pub abort_grace: Duration,
    /// `true`: save one round trip per passive transfer by sending the *next* transfer's
    /// `EPSV` right behind the running transfer's command, in the same write, when the
    /// driver has announced that transfer with
    /// [`Session::prepare_next`](super::Session::prepare_next). A server that handles
    /// commands one at a time answers `229` right after its `226`, and the next data
    /// connection opens the moment the current transfer ends: a small file costs 2 round
    /// trips instead of 3 (`tests/NETWORK.md`). Default `false`.
    ///
    /// The session sends it only when it is safe to: the next operation is a transfer, the
    /// representation type stays the same (no `TYPE` needed), passive mode with `EPSV`, the
    /// running transfer itself got its data connection from a `229`, and nothing made the
    /// session stop pipelining (see below). Replies stay matched exactly: see
    /// [`Session::prepare_next`](super::Session::prepare_next) for failures, aborts and
    /// servers that answer out of order.
    ///
    /// Off by default because not every server handles commands one at a time. Checked with
    /// `ftp-mio` (many consecutive small downloads, a failing one in the middle, an abort;
    /// `tests/tests/pipeline_system.rs`):
    /// - **vsftpd 3.0.3, ProFTPD 1.3.8 and Pure-FTPd 1.0.50 accept it**: they read `EPSV` only
    ///   once the transfer has ended and answer it right after the transfer's final reply;
    /// - **pyftpdlib 2.2.0 and libunftp 0.24 refuse it**: they act on `EPSV` during the
    ///   transfer and answer `229` before the transfer's final reply. pyftpdlib closes the
    ///   running transfer's data connection (the download ends early, sometimes with a
    ///   `226`, sometimes with no final reply at all), and afterwards may never answer a
    ///   later `RETR` on the session (its data channel state is broken) until the reply
    ///   timeout closes the session; libunftp may leave the running download without data.
    ///
    /// The session recognises the early `229` and stops pipelining for the rest of the
    /// session ([`Session::is_pipelining_stopped`](super::Session::is_pipelining_stopped));
    /// the transfer that was running is never reported as a success (its data is not
    /// trusted), and the replies stay in step. Turn the switch on only for servers known to
    /// take it.
    pub pipeline_passive: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            passive: true,
            trust_pasv_address: false,
            use_epsv: true,
            auto_feat: true,
            host: None,
            reply_timeout: Some(Duration::from_secs(60)),
            data_timeout: Some(Duration::from_secs(60)),
            allow_clear_after_refused_auth: false,
            abort_grace: Duration::from_secs(1),
            pipeline_passive: false,
            operation_timeout: None,
            limits: Limits::default(),
            trace_replies: false,
        }
    }
}
