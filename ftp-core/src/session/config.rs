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
/// assert!(config.use_epsv && !config.trust_pasv_address);
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
            operation_timeout: None,
            limits: Limits::default(),
            trace_replies: false,
        }
    }
}
