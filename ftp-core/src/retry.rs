//! What to do after an operation failed, and how long to wait before doing it: the one retry
//! policy of every driver and program built on this crate.
//!
//! Three parts, all sans-IO (no socket, no clock, no random number generator: the time and the
//! random numbers are arguments):
//!
//! - [`Recovery`]: the classification of a failure. Every error type of the core has a
//!   `recovery()` method ([`OpError::recovery`], [`LocalClose::recovery`],
//!   [`TimeoutKind::recovery`], [`DataFailure::recovery`], [`ProtocolError::recovery`],
//!   [`UsageError::recovery`]); drivers map their own errors onto these.
//! - [`Backoff`] and [`Retries`]: exponential, capped delays with jitter, bounded by a number
//!   of retries and optionally by a deadline, for reconnects and for transfers.
//! - [`Resume`]: the bookkeeping of one download retried with `REST` (RFC 3659 §5), including
//!   the fallback to a restart from byte 0 when the server refuses `REST`.
//!
//! # The classification
//!
//! | failure | recovery | why |
//! |---|---|---|
//! | `421` (any command, the greeting included) | [`Reconnect`](Recovery::Reconnect) | the server closes the session: "service not available", often "too many users" |
//! | `425`, `426` | [`Retry`](Recovery::Retry) | the data connection could not open, or broke |
//! | `450`, `451` | [`Retry`](Recovery::Retry) | file busy, local error on the server: transient by definition |
//! | `452` | [`GiveUp`](Recovery::GiveUp) | insufficient storage: a full disk does not empty itself within a backoff |
//! | other `4xx` | [`Retry`](Recovery::Retry) | RFC 959 §4.2: the same command may succeed later |
//! | `5xx` (`530`, `550`, `553`, ...) | [`GiveUp`](Recovery::GiveUp) | permanent: the same request fails the same way |
//! | a `1xx`/`2xx`/`3xx` where another was expected ([`OpError::Reply`]) | [`GiveUp`](Recovery::GiveUp) | the server's behaviour, not the link's |
//! | after `REST`: `500`, `501`, `502`, `504`, `554` ([`OpError::is_rest_refusal`]) | [`Retry`](Recovery::Retry) from byte 0 ([`Resume`]) | the server cannot resume there: start over, without `REST` |
//! | the server closed the control connection ([`OpError::ConnectionClosed`]) | [`Reconnect`](Recovery::Reconnect) | a cut, a restart, an idle timeout |
//! | control connection I/O error ([`LocalClose::Io`]), a connect that failed | [`Recovery::of_control_io`]: [`Reconnect`](Recovery::Reconnect), except local and permission errors | refused, reset, timed out: the server or the path may come back |
//! | control TLS failure ([`LocalClose::Tls`], [`LocalClose::TlsUnavailable`]) | [`GiveUp`](Recovery::GiveUp) | a certificate or a configuration: never retried silently |
//! | closed by the user ([`LocalClose::User`]) | [`GiveUp`](Recovery::GiveUp) | on purpose |
//! | reply, TLS handshake or operation timeout ([`TimeoutKind`]) | [`Reconnect`](Recovery::Reconnect) | the session is closed (the stream may be out of step) |
//! | data timeout ([`TimeoutKind::Data`]) | [`Retry`](Recovery::Retry) | the session resynchronised with `ABOR` and is usable |
//! | data connection refused, reset, cut, timed out, other I/O ([`DataFailure`]) | [`Retry`](Recovery::Retry) | the control connection is fine; resume from the bytes held |
//! | data connection TLS failure ([`DataFailure::Tls`]) | [`GiveUp`](Recovery::GiveUp) | a certificate or a session-reuse refusal repeats |
//! | the local sink or source failed ([`DataFailure::Local`]) | [`GiveUp`](Recovery::GiveUp) | a full disk, a permission ([`Recovery::of_local_io`] refines it when the driver has the I/O error) |
//! | a data failure with a negative final reply | the reply's code, as above | the server said why |
//! | a download shorter than announced ([`OpError::Truncated`]) | [`Retry`](Recovery::Retry) | resume from what arrived |
//! | the control stream ended in the middle of a reply ([`ProtocolError::EofMidReply`]) | [`Reconnect`](Recovery::Reconnect) | a cut connection |
//! | a malformed reply stream, clear text after `234` ([`ProtocolError`]) | [`GiveUp`](Recovery::GiveUp) | a broken or hostile server; after `234`, a possible injection |
//! | an undecodable reply, a bad data address, an `MLST` without facts | [`GiveUp`](Recovery::GiveUp) | the server answers the same way again |
//! | the session was closed before the operation's turn ([`UsageError::Closed`]) | [`Reconnect`](Recovery::Reconnect) | never sent: costs no attempt |
//! | other caller mistakes ([`UsageError`]) | [`GiveUp`](Recovery::GiveUp) | the same call fails the same way |
//!
//! A [`Retry`](Recovery::Retry) of a failure that also closed the session becomes a
//! [`Reconnect`](Recovery::Reconnect) ([`Recovery::after_close`]).
//!
//! ```
//! use ftp_sansio::retry::{Backoff, Recovery, Resume};
//! use ftp_sansio::session::{DataFailure, OpError};
//! use std::time::{Duration, Instant};
//!
//! let now = Instant::now();
//! let mut resume = Resume::new(Backoff::default());
//! // the data connection was reset after 1000 bytes had been written to the local file
//! let e = OpError::Data { failure: DataFailure::Reset, reply: None };
//! assert_eq!(e.recovery(), Recovery::Retry);
//! let next = resume.on_failure(e.recovery(), false, now, 12345);
//! assert!(next.delay().is_some_and(|d| d <= Duration::from_millis(250)));
//! assert_eq!(resume.offset(1000), 1000); // REST 1000, append to the local file
//! ```

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use crate::session::{DataFailure, LocalClose, OpError, ProtocolError, TimeoutKind, UsageError};

/// What to do after an operation failed. See the [module docs](self) for the whole table.
///
/// ```
/// use ftp_sansio::retry::Recovery;
/// assert_eq!(Recovery::of_reply_code(426), Recovery::Retry);
/// assert_eq!(Recovery::of_reply_code(421), Recovery::Reconnect);
/// assert_eq!(Recovery::of_reply_code(550), Recovery::GiveUp);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Recovery {
    /// Transient, and the session is still usable: run the operation again on it (a download
    /// resumes with `REST` from the bytes already safely held, see [`Resume`]).
    Retry,
    /// The session is gone: connect, log in, return to the folder, then run the operation
    /// again (resuming), after a [`Backoff`] delay.
    Reconnect,
    /// Permanent, or not safe to repeat without a person looking: report it and go on.
    GiveUp,
}

impl Recovery {
    /// The recovery of a negative (or unexpected) reply code: `421` → `Reconnect`; `452` →
    /// `GiveUp`; any other `4xx` (`425`, `426`, `450`, `451`, ...) → `Retry`; `5xx`, positive
    /// codes and codes outside `100..=599` → `GiveUp`.
    ///
    /// ```
    /// use ftp_sansio::retry::Recovery;
    /// assert_eq!(Recovery::of_reply_code(425), Recovery::Retry);
    /// assert_eq!(Recovery::of_reply_code(452), Recovery::GiveUp);
    /// assert_eq!(Recovery::of_reply_code(530), Recovery::GiveUp);
    /// ```
    pub fn of_reply_code(code: u16) -> Recovery {
        match code {
            421 => Recovery::Reconnect,
            452 => Recovery::GiveUp,
            400..=499 => Recovery::Retry,
            _ => Recovery::GiveUp,
        }
    }

    /// The recovery of an I/O error on the control connection, or of a connect that failed:
    /// the session is gone, so `Reconnect`, unless the error is one that a new connection
    /// would meet again (`PermissionDenied`, `InvalidInput`, `InvalidData`, `Unsupported`,
    /// `OutOfMemory`, `AddrInUse`): `GiveUp`. Refused, reset, aborted, timed out, unreachable
    /// and unknown errors are `Reconnect`: a server restarting or with a full backlog, a path
    /// that comes back. ([`Retries`] bounds a server that never does.)
    ///
    /// ```
    /// use ftp_sansio::retry::Recovery;
    /// use std::io::ErrorKind;
    /// assert_eq!(Recovery::of_control_io(ErrorKind::ConnectionRefused), Recovery::Reconnect);
    /// assert_eq!(Recovery::of_control_io(ErrorKind::TimedOut), Recovery::Reconnect);
    /// assert_eq!(Recovery::of_control_io(ErrorKind::PermissionDenied), Recovery::GiveUp);
    /// ```
    pub fn of_control_io(kind: ErrorKind) -> Recovery {
        match kind {
            ErrorKind::PermissionDenied
            | ErrorKind::InvalidInput
            | ErrorKind::InvalidData
            | ErrorKind::Unsupported
            | ErrorKind::OutOfMemory
            | ErrorKind::AddrInUse => Recovery::GiveUp,
            _ => Recovery::Reconnect,
        }
    }

    /// The recovery of the caller's local sink or source failing (writing the downloaded file,
    /// reading the uploaded one): `Retry` for the kinds that mean "not now" (`Interrupted`,
    /// `WouldBlock`, `TimedOut`), `GiveUp` for everything else (a full disk, a permission, a
    /// vanished folder: the next attempt meets it again).
    ///
    /// ```
    /// use ftp_sansio::retry::Recovery;
    /// use std::io::ErrorKind;
    /// assert_eq!(Recovery::of_local_io(ErrorKind::Interrupted), Recovery::Retry);
    /// assert_eq!(Recovery::of_local_io(ErrorKind::PermissionDenied), Recovery::GiveUp);
    /// ```
    pub fn of_local_io(kind: ErrorKind) -> Recovery {
        match kind {
            ErrorKind::Interrupted | ErrorKind::WouldBlock | ErrorKind::TimedOut => Recovery::Retry,
            _ => Recovery::GiveUp,
        }
    }

    /// The same recovery for a failure after which the session turned out to be closed:
    /// `Retry` becomes `Reconnect` (there is no session to retry on); `Reconnect` and
    /// `GiveUp` stay.
    ///
    /// ```
    /// use ftp_sansio::retry::Recovery;
    /// assert_eq!(Recovery::Retry.after_close(), Recovery::Reconnect);
    /// assert_eq!(Recovery::GiveUp.after_close(), Recovery::GiveUp);
    /// ```
    pub fn after_close(self) -> Recovery {
        match self {
            Recovery::Retry => Recovery::Reconnect,
            other => other,
        }
    }

    /// Whether the operation may be tried again (`Retry` or `Reconnect`).
    ///
    /// ```
    /// use ftp_sansio::retry::Recovery;
    /// assert!(Recovery::Reconnect.is_transient());
    /// assert!(!Recovery::GiveUp.is_transient());
    /// ```
    pub fn is_transient(self) -> bool {
        self != Recovery::GiveUp
    }
}

impl OpError {
    /// What to do after this failure (see the [table](crate::retry)).
    ///
    /// ```
    /// use ftp_sansio::retry::Recovery;
    /// use ftp_sansio::session::{OpError, TimeoutKind};
    /// assert_eq!(OpError::ConnectionClosed.recovery(), Recovery::Reconnect);
    /// assert_eq!(OpError::Timeout(TimeoutKind::Data).recovery(), Recovery::Retry);
    /// let short = OpError::Truncated { expected: 10, received: 4, reply: None };
    /// assert_eq!(short.recovery(), Recovery::Retry);
    /// ```
    pub fn recovery(&self) -> Recovery {
        let recovery = match self {
            OpError::Reply(_) => Recovery::GiveUp,
            OpError::Temporary(r) | OpError::Permanent(r) => {
                Recovery::of_reply_code(r.code().get())
            }
            OpError::Protocol(p) => p.recovery(),
            OpError::Timeout(k) => k.recovery(),
            OpError::ConnectionClosed => Recovery::Reconnect,
            OpError::LocalClose(l) => l.recovery(),
            OpError::Data { failure, reply } => match reply {
                // The server said why: its reply decides (426 → Retry, 550 → GiveUp, ...).
                Some(r) if r.code().get() >= 400 => Recovery::of_reply_code(r.code().get()),
                _ => failure.recovery(),
            },
            OpError::Truncated { reply, .. } => match reply {
                Some(r) if r.code().get() >= 400 => Recovery::of_reply_code(r.code().get()),
                _ => Recovery::Retry,
            },
        };
        if self.is_fatal() {
            recovery.after_close()
        } else {
            recovery
        }
    }

    /// Whether this failure of a transfer sent with `REST` is the server refusing the
    /// restart: `500`/`502` (no `REST`), `501`/`504` (not that argument, RFC 3659 §5.4), or
    /// `554` (the transfer refused at that offset, RFC 3659 §5.5). The download cannot resume:
    /// it starts again from byte 0, without `REST` ([`Resume::on_failure`]). Meaningless for a
    /// transfer sent without `REST`.
    ///
    /// ```
    /// use ftp_sansio::reply::{Code, Reply};
    /// use ftp_sansio::session::OpError;
    /// let r = Reply::from_lines(Code::new(502).unwrap(), &[b"502 REST not implemented"]);
    /// assert!(OpError::Permanent(r).is_rest_refusal());
    /// let r = Reply::from_lines(Code::new(550).unwrap(), &[b"550 No such file"]);
    /// assert!(!OpError::Permanent(r).is_rest_refusal());
    /// ```
    pub fn is_rest_refusal(&self) -> bool {
        matches!(self, OpError::Permanent(r) if matches!(r.code().get(), 500 | 501 | 502 | 504 | 554))
    }
}

impl LocalClose {
    /// What to do after the driver closed the control connection for this reason: an I/O
    /// error → [`Recovery::of_control_io`]; a TLS failure or TLS not available → `GiveUp`
    /// (never retried silently); closed by the user → `GiveUp`.
    ///
    /// ```
    /// use ftp_sansio::retry::Recovery;
    /// use ftp_sansio::session::LocalClose;
    /// let reset = LocalClose::Io(std::io::ErrorKind::ConnectionReset);
    /// assert_eq!(reset.recovery(), Recovery::Reconnect);
    /// assert_eq!(LocalClose::Tls.recovery(), Recovery::GiveUp);
    /// ```
    pub fn recovery(&self) -> Recovery {
        match self {
            LocalClose::Io(kind) => Recovery::of_control_io(*kind),
            LocalClose::Tls | LocalClose::TlsUnavailable | LocalClose::User => Recovery::GiveUp,
        }
    }
}

impl TimeoutKind {
    /// What to do after this deadline passed: a data timeout leaves the session usable
    /// (`Retry`); the others close it (`Reconnect`).
    ///
    /// ```
    /// use ftp_sansio::retry::Recovery;
    /// use ftp_sansio::session::TimeoutKind;
    /// assert_eq!(TimeoutKind::Reply.recovery(), Recovery::Reconnect);
    /// assert_eq!(TimeoutKind::Data.recovery(), Recovery::Retry);
    /// ```
    pub fn recovery(&self) -> Recovery {
        match self {
            TimeoutKind::Data => Recovery::Retry,
            TimeoutKind::Reply | TimeoutKind::Tls | TimeoutKind::Operation => Recovery::Reconnect,
        }
    }
}

impl DataFailure {
    /// What to do after the data connection failed this way (the control connection being
    /// fine): refused, reset, timed out, other I/O → `Retry`; TLS → `GiveUp`; the local sink
    /// or source → `GiveUp` (see [`Recovery::of_local_io`] for a finer verdict).
    ///
    /// ```
    /// use ftp_sansio::retry::Recovery;
    /// use ftp_sansio::session::DataFailure;
    /// assert_eq!(DataFailure::Reset.recovery(), Recovery::Retry);
    /// assert_eq!(DataFailure::Local.recovery(), Recovery::GiveUp);
    /// ```
    pub fn recovery(&self) -> Recovery {
        match self {
            DataFailure::Refused
            | DataFailure::Reset
            | DataFailure::TimedOut
            | DataFailure::Other => Recovery::Retry,
            DataFailure::Tls | DataFailure::Local => Recovery::GiveUp,
        }
    }
}

impl ProtocolError {
    /// What to do after the server broke the protocol this way: the control connection ending
    /// in the middle of a reply is a cut (`Reconnect`); everything else is the server's doing
    /// and would repeat (`GiveUp`), clear text after `234` above all; except a pipelined
    /// `EPSV` answered during the transfer (`Retry`: the session stopped pipelining).
    ///
    /// ```
    /// use ftp_sansio::retry::Recovery;
    /// use ftp_sansio::session::ProtocolError;
    /// assert_eq!(ProtocolError::EofMidReply.recovery(), Recovery::Reconnect);
    /// assert_eq!(ProtocolError::DataAfterAuth.recovery(), Recovery::GiveUp);
    /// let early = ProtocolError::EarlyEpsvDuringTransfer { reply: None };
    /// assert_eq!(early.recovery(), Recovery::Retry);
    /// ```
    pub fn recovery(&self) -> Recovery {
        match self {
            ProtocolError::EofMidReply => Recovery::Reconnect,
            // the session stopped pipelining: the same transfer again is clean
            ProtocolError::EarlyEpsvDuringTransfer { .. } => Recovery::Retry,
            ProtocolError::Framing(_)
            | ProtocolError::DataAfterAuth
            | ProtocolError::Decode { .. }
            | ProtocolError::BadDataAddress(_)
            | ProtocolError::MissingEntry => Recovery::GiveUp,
        }
    }
}

impl UsageError {
    /// What to do after this caller error: [`UsageError::Closed`] (the session closed before
    /// the operation's turn: it was never sent) → `Reconnect`; any other → `GiveUp`.
    ///
    /// ```
    /// use ftp_sansio::retry::Recovery;
    /// use ftp_sansio::session::UsageError;
    /// assert_eq!(UsageError::Closed.recovery(), Recovery::Reconnect);
    /// assert_eq!(UsageError::Busy.recovery(), Recovery::GiveUp);
    /// ```
    pub fn recovery(&self) -> Recovery {
        match self {
            UsageError::Closed => Recovery::Reconnect,
            _ => Recovery::GiveUp,
        }
    }
}

/// Exponential backoff: the `n`-th retry (from 0) waits `initial × 2ⁿ`, at most `max`, of
/// which the last `jitter_percent` are random (so a crowd of sessions that failed together
/// does not come back together). The random number is an argument: no generator lives here.
///
/// ```
/// use ftp_sansio::retry::Backoff;
/// use std::time::Duration;
/// let b = Backoff { jitter_percent: 0, ..Backoff::default() };
/// assert_eq!(b.delay(0, 0), Duration::from_millis(250));
/// assert_eq!(b.delay(2, 0), Duration::from_secs(1));
/// assert_eq!(b.delay(30, 0), Duration::from_secs(8)); // capped
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Backoff {
    /// The delay before the first retry. Default 250 ms.
    pub initial: Duration,
    /// The longest delay. Default 8 s.
    pub max: Duration,
    /// How many retries after the first failure ([`Retries`] gives up after them). Default 4
    /// (five attempts in all).
    pub max_retries: u32,
    /// No retry starts later than this after the first failure (`None`: no deadline). Default
    /// `None`.
    pub deadline: Option<Duration>,
    /// Which part of each delay is random, in percent: 0 waits exactly, 50 (the default)
    /// waits between half and all of it, 100 anywhere from 0. Values over 100 count as 100.
    pub jitter_percent: u8,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(8),
            max_retries: 4,
            deadline: None,
            jitter_percent: 50,
        }
    }
}

impl Backoff {
    /// The delay before retry number `retry` (0 for the first), with `random` (any `u64`,
    /// uniformly drawn by the caller) choosing the jittered part.
    ///
    /// ```
    /// use ftp_sansio::retry::Backoff;
    /// use std::time::Duration;
    /// let b = Backoff::default(); // 50 % jitter
    /// let d = b.delay(1, 0xdead_beef_dead_beef);
    /// assert!(d >= Duration::from_millis(250) && d <= Duration::from_millis(500));
    /// ```
    pub fn delay(&self, retry: u32, random: u64) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        let full = self
            .initial
            .checked_mul(factor)
            .unwrap_or(self.max)
            .min(self.max);
        let nanos = full.as_nanos();
        let jitter = nanos * u128::from(self.jitter_percent.min(100)) / 100;
        // the top 32 bits of `random` pick a point in 0..=jitter
        let take = jitter * u128::from(random >> 32) / u128::from(u32::MAX);
        let left = nanos - take;
        Duration::new(
            u64::try_from(left / 1_000_000_000).unwrap_or(u64::MAX),
            (left % 1_000_000_000) as u32,
        )
    }
}

/// The retries of one thing (a session's reconnects, one file's transfer): counts them against
/// [`Backoff::max_retries`] and [`Backoff::deadline`], and says how long to wait before each.
///
/// ```
/// use ftp_sansio::retry::{Backoff, Retries};
/// use std::time::Instant;
/// let now = Instant::now();
/// let mut r = Retries::new(Backoff { max_retries: 2, ..Backoff::default() });
/// assert!(r.next_delay(now, 1).is_some());
/// assert!(r.next_delay(now, 2).is_some());
/// assert_eq!(r.next_delay(now, 3), None); // give up
/// r.reset(); // it worked in the meantime
/// assert!(r.next_delay(now, 4).is_some());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retries {
    backoff: Backoff,
    retries: u32,
    first_failure: Option<Instant>,
}

impl Retries {
    /// No failure yet.
    ///
    /// ```
    /// let r = ftp_sansio::retry::Retries::new(Default::default());
    /// assert_eq!(r.count(), 0);
    /// ```
    pub fn new(backoff: Backoff) -> Retries {
        Retries {
            backoff,
            retries: 0,
            first_failure: None,
        }
    }

    /// A failure happened at `now`: the delay before the next attempt, or `None` when the
    /// retries are used up or the next attempt would start past the deadline (give up).
    /// `random` is any uniformly drawn `u64` (see [`Backoff::delay`]).
    ///
    /// ```
    /// use ftp_sansio::retry::{Backoff, Retries};
    /// use std::time::{Duration, Instant};
    /// let now = Instant::now();
    /// let b = Backoff { deadline: Some(Duration::from_millis(300)), jitter_percent: 0, ..Backoff::default() };
    /// let mut r = Retries::new(b);
    /// assert_eq!(r.next_delay(now, 0), Some(Duration::from_millis(250)));
    /// // 250 ms later the next retry would wait 500 ms: past the deadline
    /// assert_eq!(r.next_delay(now + Duration::from_millis(250), 0), None);
    /// ```
    pub fn next_delay(&mut self, now: Instant, random: u64) -> Option<Duration> {
        let first = *self.first_failure.get_or_insert(now);
        if self.retries >= self.backoff.max_retries {
            return None;
        }
        let delay = self.backoff.delay(self.retries, random);
        if let Some(limit) = self.backoff.deadline {
            let start = now.checked_add(delay)?;
            if first.checked_add(limit).is_some_and(|end| start > end) {
                return None;
            }
        }
        self.retries += 1;
        Some(delay)
    }

    /// How many retries were granted since the last [`reset`](Retries::reset).
    ///
    /// ```
    /// let mut r = ftp_sansio::retry::Retries::new(Default::default());
    /// r.next_delay(std::time::Instant::now(), 0);
    /// assert_eq!(r.count(), 1);
    /// ```
    pub fn count(&self) -> u32 {
        self.retries
    }

    /// Forgets the failures (the thing worked): the next failure starts from the first delay
    /// and a fresh deadline.
    ///
    /// ```
    /// let mut r = ftp_sansio::retry::Retries::new(Default::default());
    /// r.next_delay(std::time::Instant::now(), 0);
    /// r.reset();
    /// assert_eq!(r.count(), 0);
    /// ```
    pub fn reset(&mut self) {
        self.retries = 0;
        self.first_failure = None;
    }
}

/// What to do next with a transfer that failed ([`Resume::on_failure`]).
///
/// ```
/// use ftp_sansio::retry::Next;
/// use std::time::Duration;
/// let n = Next::Retry { delay: Duration::ZERO };
/// assert_eq!(n.delay(), Some(Duration::ZERO));
/// assert_eq!(Next::GiveUp.delay(), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Next {
    /// Run it again after `delay`, on a usable session, from [`Resume::offset`].
    Retry {
        /// How long to wait first.
        delay: Duration,
    },
    /// Run it again after `delay` on a new session (connect, log in, change folder first),
    /// from [`Resume::offset`].
    Reconnect {
        /// How long to wait first.
        delay: Duration,
    },
    /// Report the failure; no more attempts.
    GiveUp,
}

impl Next {
    /// The delay before the next attempt; `None` for [`Next::GiveUp`].
    ///
    /// ```
    /// use ftp_sansio::retry::Next;
    /// use std::time::Duration;
    /// assert_eq!(Next::Reconnect { delay: Duration::from_secs(1) }.delay(), Some(Duration::from_secs(1)));
    /// ```
    pub fn delay(self) -> Option<Duration> {
        match self {
            Next::Retry { delay } | Next::Reconnect { delay } => Some(delay),
            Next::GiveUp => None,
        }
    }
}

/// The retries of one download resumed with `REST` (RFC 3659 §5): how many attempts are
/// left, and whether the server still accepts `REST`.
///
/// Each attempt starts at [`offset`](Resume::offset)`(held)`, `held` being the bytes already
/// safely in the local file: `REST held` and append, or, once the server refused `REST`
/// ([`OpError::is_rest_refusal`]), from byte 0 with the local file emptied first.
///
/// ```
/// use ftp_sansio::reply::{Code, Reply};
/// use ftp_sansio::retry::{Backoff, Next, Resume};
/// use ftp_sansio::session::OpError;
/// use std::time::{Duration, Instant};
///
/// let now = Instant::now();
/// let mut resume = Resume::new(Backoff::default());
/// assert_eq!(resume.offset(4096), 4096);
/// // REST 4096 was answered "502 Command not implemented"
/// let e = OpError::Permanent(Reply::from_lines(Code::new(502).unwrap(), &[b"502 no"]));
/// let next = resume.on_failure(e.recovery(), e.is_rest_refusal(), now, 7);
/// assert_eq!(next, Next::Retry { delay: Duration::ZERO });
/// assert_eq!(resume.offset(4096), 0); // start over, without REST
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resume {
    retries: Retries,
    rest: bool,
}

impl Resume {
    /// A download not tried yet; `backoff` bounds its retries.
    ///
    /// ```
    /// let r = ftp_sansio::retry::Resume::new(Default::default());
    /// assert_eq!(r.attempts_failed(), 0);
    /// ```
    pub fn new(backoff: Backoff) -> Resume {
        Resume {
            retries: Retries::new(backoff),
            rest: true,
        }
    }

    /// Where the next attempt starts when the local file holds `held` bytes: `held` (send
    /// `REST held` when it is not 0, and append), or 0 once the server refused `REST` (empty
    /// the local file first).
    ///
    /// ```
    /// let r = ftp_sansio::retry::Resume::new(Default::default());
    /// assert_eq!(r.offset(0), 0);
    /// assert_eq!(r.offset(10), 10);
    /// ```
    pub fn offset(&self, held: u64) -> u64 {
        if self.rest {
            held
        } else {
            0
        }
    }

    /// Whether the server is still taken to accept `REST` (no refusal seen).
    ///
    /// ```
    /// assert!(ftp_sansio::retry::Resume::new(Default::default()).rest_allowed());
    /// ```
    pub fn rest_allowed(&self) -> bool {
        self.rest
    }

    /// How many failed attempts were granted a retry so far.
    ///
    /// ```
    /// use ftp_sansio::retry::{Recovery, Resume};
    /// let mut r = Resume::new(Default::default());
    /// r.on_failure(Recovery::Retry, false, std::time::Instant::now(), 0);
    /// assert_eq!(r.attempts_failed(), 1);
    /// ```
    pub fn attempts_failed(&self) -> u32 {
        self.retries.count()
    }

    /// An attempt failed with `recovery` (the error's classification) at `now`;
    /// `rest_refused`: the attempt was sent with `REST` and the error
    /// [`is a refusal of it`](OpError::is_rest_refusal). Returns what to do next:
    ///
    /// - a refused `REST` (the first time): [`Next::Retry`] at once, from byte 0 from now on;
    /// - a [`Recovery::GiveUp`]: [`Next::GiveUp`];
    /// - [`Recovery::Retry`] / [`Recovery::Reconnect`]: [`Next::Retry`] / [`Next::Reconnect`]
    ///   after the backoff's next delay, or [`Next::GiveUp`] when the retries are used up.
    ///
    /// Every answer but `GiveUp` uses up one retry. An operation that was never sent (queued
    /// behind a session that closed, [`UsageError::Closed`]) is not a failed attempt: do not
    /// report it here.
    ///
    /// ```
    /// use ftp_sansio::retry::{Backoff, Next, Recovery, Resume};
    /// use std::time::Instant;
    /// let now = Instant::now();
    /// let mut r = Resume::new(Backoff { max_retries: 1, ..Backoff::default() });
    /// assert!(matches!(r.on_failure(Recovery::Reconnect, false, now, 0), Next::Reconnect { .. }));
    /// assert_eq!(r.on_failure(Recovery::Retry, false, now, 0), Next::GiveUp);
    /// ```
    pub fn on_failure(
        &mut self,
        recovery: Recovery,
        rest_refused: bool,
        now: Instant,
        random: u64,
    ) -> Next {
        if rest_refused && self.rest {
            // Not transient: waiting would not help. Starting over does, once.
            self.rest = false;
            return match self.retries.next_delay(now, random) {
                Some(_) => Next::Retry {
                    delay: Duration::ZERO,
                },
                None => Next::GiveUp,
            };
        }
        if recovery == Recovery::GiveUp {
            return Next::GiveUp;
        }
        match self.retries.next_delay(now, random) {
            None => Next::GiveUp,
            Some(delay) if recovery == Recovery::Retry => Next::Retry { delay },
            Some(delay) => Next::Reconnect { delay },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::ReplyError;
    use crate::reply::{Code, Reply};

    fn reply(code: u16) -> Reply {
        let line = format!("{code} text");
        Reply::from_lines(Code::new(code).unwrap(), &[line.as_bytes()])
    }

    #[test]
    fn reply_codes() {
        use Recovery::*;
        for (code, want) in [
            (421, Reconnect),
            (425, Retry),
            (426, Retry),
            (450, Retry),
            (451, Retry),
            (452, GiveUp),
            (430, Retry),
            (500, GiveUp),
            (502, GiveUp),
            (530, GiveUp),
            (550, GiveUp),
            (553, GiveUp),
            (226, GiveUp),
            (350, GiveUp),
            (0, GiveUp),
            (999, GiveUp),
        ] {
            assert_eq!(Recovery::of_reply_code(code), want, "{code}");
        }
        assert_eq!(OpError::Temporary(reply(421)).recovery(), Reconnect);
        assert_eq!(OpError::Temporary(reply(450)).recovery(), Retry);
        assert_eq!(OpError::Permanent(reply(550)).recovery(), GiveUp);
        assert_eq!(OpError::Permanent(reply(530)).recovery(), GiveUp);
        assert_eq!(OpError::Reply(reply(226)).recovery(), GiveUp);
    }

    #[test]
    fn rest_refusals() {
        for code in [500, 501, 502, 504, 554] {
            assert!(OpError::Permanent(reply(code)).is_rest_refusal(), "{code}");
        }
        for e in [
            OpError::Permanent(reply(550)),
            OpError::Permanent(reply(530)),
            OpError::Temporary(reply(450)),
            OpError::ConnectionClosed,
        ] {
            assert!(!e.is_rest_refusal(), "{e}");
        }
    }

    #[test]
    fn closed_sessions_and_timeouts() {
        use Recovery::*;
        assert_eq!(OpError::ConnectionClosed.recovery(), Reconnect);
        assert_eq!(OpError::Timeout(TimeoutKind::Reply).recovery(), Reconnect);
        assert_eq!(OpError::Timeout(TimeoutKind::Tls).recovery(), Reconnect);
        assert_eq!(
            OpError::Timeout(TimeoutKind::Operation).recovery(),
            Reconnect
        );
        assert_eq!(OpError::Timeout(TimeoutKind::Data).recovery(), Retry);
        for kind in [
            ErrorKind::ConnectionReset,
            ErrorKind::ConnectionAborted,
            ErrorKind::ConnectionRefused,
            ErrorKind::BrokenPipe,
            ErrorKind::UnexpectedEof,
            ErrorKind::TimedOut,
            ErrorKind::NotConnected,
            ErrorKind::AddrNotAvailable,
            ErrorKind::Other,
        ] {
            assert_eq!(LocalClose::Io(kind).recovery(), Reconnect, "{kind:?}");
            assert_eq!(
                OpError::LocalClose(LocalClose::Io(kind)).recovery(),
                Reconnect
            );
        }
        for kind in [
            ErrorKind::PermissionDenied,
            ErrorKind::InvalidInput,
            ErrorKind::InvalidData,
            ErrorKind::Unsupported,
            ErrorKind::OutOfMemory,
            ErrorKind::AddrInUse,
        ] {
            assert_eq!(LocalClose::Io(kind).recovery(), GiveUp, "{kind:?}");
        }
        assert_eq!(LocalClose::Tls.recovery(), GiveUp);
        assert_eq!(LocalClose::TlsUnavailable.recovery(), GiveUp);
        assert_eq!(LocalClose::User.recovery(), GiveUp);
        assert_eq!(OpError::LocalClose(LocalClose::User).recovery(), GiveUp);
    }

    #[test]
    fn data_failures() {
        use Recovery::*;
        for (failure, want) in [
            (DataFailure::Refused, Retry),
            (DataFailure::Reset, Retry),
            (DataFailure::TimedOut, Retry),
            (DataFailure::Other, Retry),
            (DataFailure::Tls, GiveUp),
            (DataFailure::Local, GiveUp),
        ] {
            assert_eq!(failure.recovery(), want, "{failure:?}");
            let e = OpError::Data {
                failure,
                reply: None,
            };
            assert_eq!(e.recovery(), want, "{failure:?}");
            // a positive final reply does not change the data connection's verdict
            let e = OpError::Data {
                failure,
                reply: Some(reply(226)),
            };
            assert_eq!(e.recovery(), want, "{failure:?} + 226");
        }
        // a negative final reply decides
        let with = |code| OpError::Data {
            failure: DataFailure::Reset,
            reply: Some(reply(code)),
        };
        assert_eq!(with(426).recovery(), Retry);
        assert_eq!(with(451).recovery(), Retry);
        assert_eq!(with(550).recovery(), GiveUp);
        assert_eq!(with(421).recovery(), Reconnect);
        let short = |r| OpError::Truncated {
            expected: 100,
            received: 50,
            reply: r,
        };
        assert_eq!(short(None).recovery(), Retry);
        assert_eq!(short(Some(reply(226))).recovery(), Retry);
        assert_eq!(short(Some(reply(426))).recovery(), Retry);
        assert_eq!(short(Some(reply(552))).recovery(), GiveUp);
    }

    #[test]
    fn protocol_and_usage_errors() {
        use Recovery::*;
        assert_eq!(ProtocolError::EofMidReply.recovery(), Reconnect);
        assert_eq!(
            OpError::Protocol(ProtocolError::EofMidReply).recovery(),
            Reconnect
        );
        for p in [
            ProtocolError::Framing(ReplyError::LineTooLong { limit: 8 }),
            ProtocolError::DataAfterAuth,
            ProtocolError::BadDataAddress("127.0.0.1:0".parse().unwrap()),
            ProtocolError::MissingEntry,
        ] {
            assert_eq!(p.recovery(), GiveUp, "{p}");
            assert_eq!(OpError::Protocol(p.clone()).recovery(), GiveUp, "{p}");
        }
        assert_eq!(UsageError::Closed.recovery(), Reconnect);
        for u in [
            UsageError::Busy,
            UsageError::NotAbortable,
            UsageError::AlreadyTls,
            UsageError::TlsRequired,
            UsageError::RawTlsCommand,
        ] {
            assert_eq!(u.recovery(), GiveUp, "{u}");
        }
    }

    #[test]
    fn after_close() {
        assert_eq!(Recovery::Retry.after_close(), Recovery::Reconnect);
        assert_eq!(Recovery::Reconnect.after_close(), Recovery::Reconnect);
        assert_eq!(Recovery::GiveUp.after_close(), Recovery::GiveUp);
        assert!(Recovery::Retry.is_transient() && Recovery::Reconnect.is_transient());
        assert_eq!(Recovery::of_local_io(ErrorKind::TimedOut), Recovery::Retry);
        assert_eq!(Recovery::of_local_io(ErrorKind::Other), Recovery::GiveUp);
    }

    #[test]
    fn backoff_grows_caps_and_jitters() {
        let exact = Backoff {
            jitter_percent: 0,
            ..Backoff::default()
        };
        let ms = |n| Duration::from_millis(n);
        let delays: Vec<_> = (0..8).map(|i| exact.delay(i, u64::MAX)).collect();
        assert_eq!(
            delays,
            [
                ms(250),
                ms(500),
                ms(1000),
                ms(2000),
                ms(4000),
                ms(8000),
                ms(8000),
                ms(8000)
            ]
        );
        // no overflow however large the retry number or the initial delay
        assert_eq!(exact.delay(u32::MAX, 0), ms(8000));
        let huge = Backoff {
            initial: Duration::MAX,
            max: Duration::MAX,
            ..exact
        };
        assert_eq!(huge.delay(40, 0), Duration::MAX);
        // jitter: between (1 - j) and 1 of the delay, set by the random number
        let half = Backoff::default();
        assert_eq!(half.delay(2, 0), ms(1000));
        assert_eq!(half.delay(2, u64::MAX), ms(500));
        let mid = half.delay(2, 1 << 63);
        assert!(mid > ms(700) && mid < ms(800), "{mid:?}");
        let full = Backoff {
            jitter_percent: 250,
            ..Backoff::default()
        };
        assert_eq!(full.delay(0, u64::MAX), Duration::ZERO);
    }

    #[test]
    fn retries_count_and_deadline() {
        let now = Instant::now();
        let mut r = Retries::new(Backoff {
            max_retries: 3,
            jitter_percent: 0,
            ..Backoff::default()
        });
        let ms = |n| Duration::from_millis(n);
        assert_eq!(r.next_delay(now, 0), Some(ms(250)));
        assert_eq!(r.next_delay(now, 0), Some(ms(500)));
        assert_eq!(r.next_delay(now, 0), Some(ms(1000)));
        assert_eq!(r.next_delay(now, 0), None);
        assert_eq!(r.next_delay(now, 0), None);
        assert_eq!(r.count(), 3);
        r.reset();
        assert_eq!(r.next_delay(now, 0), Some(ms(250)));

        let mut never = Retries::new(Backoff {
            max_retries: 0,
            ..Backoff::default()
        });
        assert_eq!(never.next_delay(now, 0), None);

        // the deadline counts from the first failure; a clock going backwards is harmless
        let mut d = Retries::new(Backoff {
            max_retries: 100,
            deadline: Some(Duration::from_secs(1)),
            jitter_percent: 0,
            ..Backoff::default()
        });
        assert_eq!(d.next_delay(now, 0), Some(ms(250)));
        assert_eq!(d.next_delay(now + ms(250), 0), Some(ms(500)));
        assert_eq!(d.next_delay(now + ms(750), 0), None); // would start at 1750 ms
        let mut back = Retries::new(Backoff {
            deadline: Some(Duration::from_secs(1)),
            ..Backoff::default()
        });
        assert!(back.next_delay(now + ms(500), 0).is_some());
        assert!(back.next_delay(now, 0).is_some());
    }

    #[test]
    fn resume_falls_back_to_a_restart_once() {
        let now = Instant::now();
        let mut r = Resume::new(Backoff {
            max_retries: 3,
            jitter_percent: 0,
            ..Backoff::default()
        });
        assert_eq!(r.offset(100), 100);
        assert!(matches!(
            r.on_failure(Recovery::Retry, false, now, 0),
            Next::Retry { delay } if delay == Duration::from_millis(250)
        ));
        assert_eq!(r.offset(200), 200);
        // REST refused: at once, from 0; a second refusal is only the error it is (GiveUp)
        let e = OpError::Permanent(reply(502));
        assert_eq!(
            r.on_failure(e.recovery(), e.is_rest_refusal(), now, 0),
            Next::Retry {
                delay: Duration::ZERO
            }
        );
        assert!(!r.rest_allowed());
        assert_eq!(r.offset(200), 0);
        assert_eq!(
            r.on_failure(e.recovery(), e.is_rest_refusal(), now, 0),
            Next::GiveUp
        );
        assert_eq!(r.attempts_failed(), 2);
        // reconnects use up the same retries
        assert!(matches!(
            r.on_failure(Recovery::Reconnect, false, now, 0),
            Next::Reconnect { .. }
        ));
        assert_eq!(
            r.on_failure(Recovery::Reconnect, false, now, 0),
            Next::GiveUp
        );
        // a permanent failure gives up at once, whatever is left
        let mut fresh = Resume::new(Backoff::default());
        assert_eq!(
            fresh.on_failure(Recovery::GiveUp, false, now, 0),
            Next::GiveUp
        );
        assert_eq!(fresh.attempts_failed(), 0);
    }
}
