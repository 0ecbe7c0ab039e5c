//! The one error type of this crate: the counterpart of ftplib's `all_errors`.

use std::fmt;
use std::io;

use ftp_sansio::reply::Reply;
use ftp_sansio::retry::Recovery;
use ftp_sansio::session::{DataFailure, LocalClose, OpError, TimeoutKind, UsageError};

/// What kind of failure an [`Error`] is; ftplib's exception classes, plus the ones Python
/// reports through `OSError`/`EOFError`.
///
/// ```
/// use ftp_blocking::ErrorKind;
/// assert_ne!(ErrorKind::Temporary, ErrorKind::Permanent);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// ftplib's `error_reply`: a positive reply the operation did not expect (for example a
    /// `1xx`/`3xx` answer to [`voidcmd`](crate::Ftp::voidcmd)).
    Reply,
    /// ftplib's `error_temp`: a `4xx` reply (transient negative completion).
    Temporary,
    /// ftplib's `error_perm`: a `5xx` reply (permanent negative completion).
    Permanent,
    /// ftplib's `error_proto`: the server broke the protocol (a malformed reply stream, an
    /// undecodable `227`/`229`/`213` payload, an unparsable listing line, ...).
    Protocol,
    /// A socket or local I/O error (including errors returned by the caller's callbacks,
    /// readers and writers, and a download that ended before its announced size).
    Io,
    /// A deadline passed: connecting, waiting for a reply, or a stalled data connection.
    Timeout,
    /// The connection is closed: by [`Ftp::close`](crate::Ftp::close) or
    /// [`Ftp::quit`](crate::Ftp::quit), by the server, or it was never opened.
    Closed,
    /// The caller passed an argument that cannot be sent (CR, LF or NUL in a path or command,
    /// an empty command).
    InvalidInput,
    /// FTPS (feature `tls`): the TLS layer failed or was refused. A certificate that is not
    /// trusted or not valid for the host name, a failed handshake, or a server that answered
    /// `AUTH TLS` with an error (then [`Error::reply`] holds that reply). Never followed by a
    /// clear-text fallback.
    Tls,
    /// What the server sent is larger than the limit set for it: a listing collected by
    /// [`nlst`](crate::Ftp::nlst), [`dir`](crate::Ftp::dir), [`list`](crate::Ftp::list) or
    /// [`mlsd`](crate::Ftp::mlsd) beyond [`Ftp::set_max_listing`](crate::Ftp::set_max_listing).
    /// The transfer was aborted; the connection stays usable.
    TooLarge,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Reply => "unexpected reply",
            ErrorKind::Temporary => "temporary failure",
            ErrorKind::Permanent => "permanent failure",
            ErrorKind::Protocol => "protocol error",
            ErrorKind::Io => "I/O error",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Closed => "connection closed",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Tls => "TLS failure",
            ErrorKind::TooLarge => "too large",
        })
    }
}

/// Why something failed.
#[derive(Debug)]
enum Detail {
    Op(OpError),
    Io(io::Error),
    Usage(UsageError),
    Message(String),
}

/// An error of any [`Ftp`](crate::Ftp) method: its [`kind`](Error::kind), the server's
/// [`reply`](Error::reply) when there was one, and the underlying cause
/// ([`std::error::Error::source`]).
///
/// ```no_run
/// use ftp_blocking::{ErrorKind, Ftp};
/// let mut ftp = Ftp::connect("127.0.0.1:21")?;
/// ftp.login("anonymous", "")?;
/// match ftp.delete("not-there.txt") {
///     Err(e) if e.kind() == ErrorKind::Permanent => {
///         println!("refused: {}", e.reply().map(|r| r.code().get()).unwrap_or(0));
///     }
///     Err(e) => return Err(e),
///     Ok(reply) => println!("deleted: {reply}"),
/// }
/// # Ok::<(), ftp_blocking::Error>(())
/// ```
pub struct Error {
    kind: ErrorKind,
    reply: Option<Reply>,
    /// Boxed: keeps `Result<T, Error>` small.
    detail: Box<Detail>,
    /// What was being done, and with whom (`RETR f on 127.0.0.1:21`, `connect to ...`).
    context: Option<Box<str>>,
    /// The session was closed by this failure (a refused `AUTH TLS` closes it although the
    /// refusal itself is only a negative reply), or never opened (a failed connect).
    closed_session: bool,
    /// The I/O error is the caller's side of a transfer (its callback, reader or writer).
    local: bool,
}

/// `Result<T, ftp_blocking::Error>`.
///
/// ```
/// fn pwd_or_root(ftp: &mut ftp_blocking::Ftp) -> ftp_blocking::Result<String> {
///     ftp.pwd().or_else(|_| Ok("/".to_owned()))
/// }
/// assert_eq!(pwd_or_root(&mut ftp_blocking::Ftp::new()).unwrap(), "/");
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The kind of failure.
    ///
    /// ```
    /// use ftp_blocking::{ErrorKind, Ftp};
    /// let err = Ftp::new().pwd().unwrap_err(); // never connected
    /// assert_eq!(err.kind(), ErrorKind::Closed);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The server's reply behind the error, when there was one (always for
    /// [`ErrorKind::Reply`], [`ErrorKind::Temporary`] and [`ErrorKind::Permanent`]).
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// if let Err(e) = ftp.cwd("missing") {
    ///     eprintln!("server said: {}", e.reply().map(|r| r.text()).unwrap_or_default());
    /// }
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn reply(&self) -> Option<&Reply> {
        self.reply.as_ref()
    }

    /// The reply code, when there was a reply.
    ///
    /// ```
    /// assert_eq!(ftp_blocking::Ftp::new().noop().unwrap_err().code(), None);
    /// ```
    pub fn code(&self) -> Option<u16> {
        self.reply.as_ref().map(|r| r.code().get())
    }

    /// The session-level error from `ftp-sansio`, when the failure came from there.
    ///
    /// ```no_run
    /// use ftp_blocking::ftp_sansio::session::OpError;
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// let err = ftp.retrbinary("RETR f", |_| Ok(()), 8192, None).unwrap_err();
    /// if let Some(OpError::Truncated { expected, received, .. }) = err.op_error() {
    ///     eprintln!("only {received} of {expected} bytes");
    /// }
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn op_error(&self) -> Option<&OpError> {
        match &*self.detail {
            Detail::Op(e) => Some(e),
            _ => None,
        }
    }

    /// The I/O error behind an [`ErrorKind::Io`] (or socket [`ErrorKind::Timeout`]) failure.
    ///
    /// ```no_run
    /// match ftp_blocking::Ftp::connect("127.0.0.1:1") {
    ///     Err(e) => println!("{:?}", e.io_error().map(|io| io.kind())), // ConnectionRefused
    ///     Ok(_) => {}
    /// }
    /// ```
    pub fn io_error(&self) -> Option<&io::Error> {
        match &*self.detail {
            Detail::Io(e) => Some(e),
            _ => None,
        }
    }

    /// The error for calls on a connection that is closed or was never opened.
    pub(crate) fn closed() -> Error {
        Error {
            kind: ErrorKind::Closed,
            reply: None,
            context: None,
            closed_session: false,
            local: false,
            detail: Box::new(Detail::Message("the FTP connection is closed".into())),
        }
    }

    pub(crate) fn io(e: io::Error) -> Error {
        let kind = match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ErrorKind::Timeout,
            _ => ErrorKind::Io,
        };
        Error {
            kind,
            reply: None,
            context: None,
            closed_session: false,
            local: false,
            detail: Box::new(Detail::Io(e)),
        }
    }

    pub(crate) fn protocol(msg: String) -> Error {
        Error {
            kind: ErrorKind::Protocol,
            reply: None,
            context: None,
            closed_session: false,
            local: false,
            detail: Box::new(Detail::Message(msg)),
        }
    }

    /// A server's answer larger than the caller's limit (`what` says which).
    pub(crate) fn too_large(what: String) -> Error {
        Error {
            kind: ErrorKind::TooLarge,
            reply: None,
            context: None,
            closed_session: false,
            local: false,
            detail: Box::new(Detail::Message(what)),
        }
    }

    /// A TLS failure (handshake, certificate, configuration); `e` wraps the rustls error.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) fn tls(e: io::Error) -> Error {
        Error {
            kind: ErrorKind::Tls,
            reply: None,
            context: None,
            closed_session: false,
            local: false,
            detail: Box::new(Detail::Io(e)),
        }
    }

    /// What was being done when it failed, and with which server: the operation with its
    /// argument (`RETR pub/file.txt on 127.0.0.1:21`, passwords masked) or the connect
    /// (`connect to 127.0.0.1:21`). `None` for errors that are not about one operation.
    ///
    /// ```
    /// let e = ftp_blocking::Ftp::connect("127.0.0.1:1").unwrap_err();
    /// assert_eq!(e.context(), Some("connect to 127.0.0.1:1"));
    /// assert!(e.to_string().starts_with("connect to 127.0.0.1:1: "), "{e}");
    /// ```
    pub fn context(&self) -> Option<&str> {
        self.context.as_deref()
    }

    /// Names what failed (kept when a context is already there: the innermost is the most
    /// precise).
    pub(crate) fn with_context(mut self, context: impl Into<String>) -> Error {
        if self.context.is_none() {
            self.context = Some(context.into().into_boxed_str());
        }
        self
    }

    /// Marks the error as the one that closed the session.
    pub(crate) fn closing(mut self, closed: bool) -> Error {
        self.closed_session |= closed;
        self
    }

    /// The same error with another kind (reply and cause kept).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) fn with_kind(mut self, kind: ErrorKind) -> Error {
        self.kind = kind;
        self
    }

    pub(crate) fn usage(e: UsageError) -> Error {
        let kind = match e {
            UsageError::Closed => ErrorKind::Closed,
            _ => ErrorKind::InvalidInput,
        };
        Error {
            kind,
            reply: None,
            context: None,
            closed_session: false,
            local: false,
            detail: Box::new(Detail::Usage(e)),
        }
    }

    /// Maps a session error; `control_io` is the I/O error that made the driver report the
    /// control connection as closed, if that is what happened.
    pub(crate) fn op(e: OpError, control_io: Option<io::Error>) -> Error {
        if let (OpError::ConnectionClosed | OpError::LocalClose(_), Some(io)) = (&e, control_io) {
            let mut err = Error::io(io);
            err.kind = match e {
                OpError::LocalClose(LocalClose::Tls) => ErrorKind::Tls,
                _ => ErrorKind::Closed,
            };
            return err;
        }
        let reply = e.reply().cloned();
        let kind = match &e {
            OpError::Reply(_) => ErrorKind::Reply,
            OpError::Temporary(_) => ErrorKind::Temporary,
            OpError::Permanent(_) => ErrorKind::Permanent,
            OpError::Protocol(_) => ErrorKind::Protocol,
            OpError::Timeout(_) => ErrorKind::Timeout,
            OpError::ConnectionClosed => ErrorKind::Closed,
            OpError::LocalClose(LocalClose::Tls | LocalClose::TlsUnavailable) => ErrorKind::Tls,
            OpError::LocalClose(_) => ErrorKind::Closed,
            OpError::Data { failure, reply } => match (failure, reply) {
                (DataFailure::TimedOut, _) => ErrorKind::Timeout,
                // The reply's class, as the core maps any reply (ftplib's error_temp / error_perm).
                (_, Some(r)) => match OpError::from_reply(r.clone()) {
                    OpError::Temporary(_) => ErrorKind::Temporary,
                    OpError::Permanent(_) => ErrorKind::Permanent,
                    _ => ErrorKind::Io,
                },
                _ => ErrorKind::Io,
            },
            OpError::Truncated { .. } => ErrorKind::Io,
        };
        Error {
            kind,
            reply,
            context: None,
            closed_session: false,
            local: false,
            detail: Box::new(Detail::Op(e)),
        }
    }

    /// A data-side failure (the caller's callback, reader or writer, or the data socket),
    /// with the final reply of the transfer if one was read afterwards.
    pub(crate) fn data_io(e: io::Error, reply: Option<Reply>) -> Error {
        let mut err = Error::io(e);
        err.reply = reply;
        err.local = true;
        err
    }

    /// The caller's callback failed with `e` (outside a transfer's data).
    pub(crate) fn local(e: io::Error) -> Error {
        Error::data_io(e, None)
    }

    /// Whether the session ended with this error: the control connection was lost (a reply
    /// timeout, the server or the driver closing it, a broken reply stream, `421`) or the
    /// session was closed on purpose (a refused `AUTH TLS`), or no session was opened (the
    /// connect failed): the [`Ftp`](crate::Ftp) is closed afterwards.
    ///
    /// ```
    /// assert!(ftp_blocking::Ftp::new().noop().unwrap_err().is_fatal());
    /// ```
    pub fn is_fatal(&self) -> bool {
        self.closed_session
            || match &*self.detail {
                Detail::Op(e) => e.is_fatal(),
                _ => self.kind == ErrorKind::Closed,
            }
    }

    /// What to do after this failure, as `ftp-sansio`'s retry policy decides
    /// ([`ftp_sansio::retry`], where the whole table is): a failure of the protocol core → its
    /// verdict ([`OpError::recovery`]); the control connection failing or a connect that failed
    /// (refused, timed out, reset) → [`LocalClose::recovery`], `Reconnect` for the network's
    /// failures; the caller's callback, reader or writer failing → [`Recovery::of_local_io`];
    /// another I/O error on a session still open (a data socket read through a
    /// [`DataStream`](crate::DataStream)) → [`DataFailure::recovery`]; a closed or never opened
    /// connection → `Reconnect`; TLS, protocol, invalid-input and too-large errors → `GiveUp`.
    /// A `Retry` of a failure that closed the session is a `Reconnect`
    /// ([`Recovery::after_close`]).
    ///
    /// ```no_run
    /// use ftp_blocking::ftp_sansio::retry::Recovery;
    /// match ftp_blocking::Ftp::connect("127.0.0.1:21") {
    ///     Err(e) if e.recovery() == Recovery::Reconnect => { /* wait, then connect again */ }
    ///     Err(e) => return Err(e),
    ///     Ok(ftp) => { /* ... */ }
    /// }
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn recovery(&self) -> Recovery {
        let recovery = match &*self.detail {
            Detail::Op(e) => e.recovery(),
            Detail::Usage(u) => u.recovery(),
            _ if self.kind == ErrorKind::Tls => Recovery::GiveUp,
            Detail::Io(io) if self.local => Recovery::of_local_io(io.kind()),
            Detail::Io(io) if self.is_fatal() => LocalClose::from_io(io).recovery(),
            Detail::Io(io) => DataFailure::from_io(io).recovery(),
            Detail::Message(_) if self.kind == ErrorKind::Closed => Recovery::Reconnect,
            Detail::Message(_) => Recovery::GiveUp,
        };
        if self.is_fatal() {
            recovery.after_close()
        } else {
            recovery
        }
    }

    /// Whether this failure of a transfer sent with `REST` is the server refusing the restart
    /// ([`OpError::is_rest_refusal`]): the download can only start again from byte 0
    /// ([`ftp_sansio::retry::Resume`] decides).
    ///
    /// ```
    /// // a closed connection is no refusal of REST
    /// assert!(!ftp_blocking::Ftp::new().noop().unwrap_err().is_rest_refusal());
    /// ```
    pub fn is_rest_refusal(&self) -> bool {
        self.op_error().is_some_and(OpError::is_rest_refusal)
    }

    /// Whether a data-connection deadline (not a reply deadline) passed. The session is
    /// still usable afterwards (it resynchronised with `ABOR` if needed).
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// match ftp.retrbinary("RETR slow.bin", |_| Ok(()), 8192, None) {
    ///     Err(e) if e.is_data_timeout() => { ftp.noop()?; } // try again later
    ///     other => { other?; }
    /// }
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn is_data_timeout(&self) -> bool {
        matches!(
            *self.detail,
            Detail::Op(OpError::Timeout(TimeoutKind::Data))
        ) || matches!(
            *self.detail,
            Detail::Op(OpError::Data {
                failure: DataFailure::TimedOut,
                ..
            })
        )
    }
}

/// What `fn main() -> Result<(), ftp_blocking::Error>` prints: the kind, the message
/// (with the operation and server) and the reply as text.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind);
        d.field("message", &self.to_string());
        if let Some(r) = &self.reply {
            d.field("reply", &r.text());
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(c) = &self.context {
            write!(f, "{c}: ")?;
        }
        match &*self.detail {
            Detail::Op(e) => write!(f, "{e}"),
            Detail::Io(e) => match &self.reply {
                Some(r) => write!(f, "{}: {e} (server: {r})", self.kind),
                None => write!(f, "{}: {e}", self.kind),
            },
            Detail::Usage(e) => write!(f, "{e}"),
            Detail::Message(m) => write!(f, "{}: {m}", self.kind),
        }
    }
}

/// The message already holds the session error's or the I/O error's text, so the chain
/// goes on below it: an I/O error's own cause (a rustls error inside a TLS failure), never
/// the same sentence twice.
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.detail {
            Detail::Io(e) => e.source(),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::io(e)
    }
}

impl From<Error> for io::Error {
    /// Keeps I/O errors as they were; anything else becomes an `io::Error` of a fitting kind
    /// wrapping the FTP error (so `?` works in functions returning `io::Result`).
    fn from(e: Error) -> io::Error {
        let kind = match e.kind {
            ErrorKind::Timeout => io::ErrorKind::TimedOut,
            ErrorKind::Closed => io::ErrorKind::NotConnected,
            ErrorKind::InvalidInput => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::Other,
        };
        match *e.detail {
            Detail::Io(io) if e.kind == ErrorKind::Io => io,
            _ => io::Error::new(kind, e),
        }
    }
}
