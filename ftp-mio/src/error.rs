//! The error of an operation run by [`Sessions`](crate::Sessions).

use std::io;

use ftp_sansio::retry::Recovery;
use ftp_sansio::session::{OpError, UsageError};

/// Why an operation failed (in [`Completion::result`](crate::Completion::result)) or could
/// not be started (returned by the typed calls of [`Sessions`](crate::Sessions)).
///
/// The protocol's verdicts come from `ftp-sansio` unchanged ([`Error::Op`]); the other variants
/// are what only the driver can see: the sockets, the caller's sink or source, the driver's own
/// bounds.
///
/// ```
/// use ftp_mio::Error;
/// use ftp_sansio::session::OpError;
/// let e = Error::from(OpError::ConnectionClosed);
/// assert!(e.is_fatal());
/// assert_eq!(e.to_string(), "control connection closed by the server");
/// let e = Error::BufferFull { limit: 1024 };
/// assert!(!e.is_fatal());
/// ```
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server (or the protocol core judging its replies) failed the operation: a negative
    /// reply, a broken data connection, a timeout, a truncated download, ... See
    /// [`OpError`] and [`OpError::is_fatal`]. `context` names the operation, its argument
    /// and the server (`RETR pub/f.txt on 192.0.2.7:21`, passwords never), as the message
    /// starts with.
    #[error("{}{error}", context.as_deref().map(|c| format!("{c}: ")).unwrap_or_default())]
    Op {
        /// The session's verdict.
        error: OpError,
        /// What failed, and on which server (set for every completion of an operation).
        context: Option<String>,
    },
    /// The control connection failed locally: the non-blocking connect was refused or timed
    /// out, or a read or write returned an error. The session is closed.
    #[error("control connection: {0}")]
    Io(#[source] io::Error),
    /// The caller's sink (download) or source (upload) returned an error; the transfer was
    /// stopped and the data connection dropped. The session stays usable.
    #[error("local sink or source failed: {0}")]
    Local(#[source] io::Error),
    /// A download into a driver-owned buffer ([`Sessions::list`](crate::Sessions::list),
    /// [`Sessions::retrieve_to_vec`](crate::Sessions::retrieve_to_vec), ...) would have grown
    /// past its limit. Nothing was silently cut: the transfer was stopped.
    #[error("download larger than the buffer limit of {limit} bytes")]
    BufferFull {
        /// The limit in bytes.
        limit: usize,
    },
    /// The server asked for TLS (control or data); this driver has no TLS layer, so the
    /// session was closed rather than continuing in clear text.
    #[error("TLS was required but ftp-mio has no TLS support")]
    TlsUnsupported,
    /// FTPS (feature `tls`): TLS failed or was refused: `AUTH TLS` answered with an error
    /// (`reply`), a certificate not trusted or not valid for the server name, a failed
    /// handshake on the control connection, or a bad `TlsConfig` setting. A
    /// session this happens to is closed, never continued in clear text. (A failed handshake
    /// on a data connection is an [`Error::Op`] data failure; the session goes on.)
    #[error("TLS: {source}")]
    Tls {
        /// The cause (often wrapping a `rustls::Error`).
        #[source]
        source: io::Error,
        /// The server's refusal of `AUTH TLS`, if that is what happened.
        reply: Option<ftp_sansio::reply::Reply>,
    },
    /// The operation could not start: the session closed before its turn, or an argument
    /// cannot be sent (CR, LF or NUL in a path).
    #[error(transparent)]
    Usage(UsageError),
    /// The [`DataEnd`](crate::DataEnd) does not fit the transfer: a source for a download or
    /// a sink or buffer for an upload.
    #[error("the data end does not match the transfer's direction")]
    WrongDataEnd,
    /// The [`SessionId`](crate::SessionId) names no open session (it ended, or never existed).
    #[error("no such session")]
    NoSuchSession,
    /// Never sent: the login queued before it on the same session failed, so the operations
    /// queued behind that login were cancelled (they would only have failed one by one).
    /// `login` is the failed login's id. The session itself stays as the login left it.
    #[error("not sent: the login it was queued behind ({login}) failed")]
    Cancelled {
        /// The failed login.
        login: crate::OpId,
    },
    /// Every session slot given to [`Sessions::new`](crate::Sessions::new) is in use.
    #[error("no free session slot (all {0} are in use)")]
    NoFreeSlot(usize),
}

impl Error {
    /// Whether the session is gone after this error (the control connection closed or its
    /// stream is out of step): operations queued behind it fail with
    /// [`UsageError::Closed`].
    ///
    /// ```
    /// use ftp_mio::Error;
    /// assert!(Error::Io(std::io::ErrorKind::ConnectionRefused.into()).is_fatal());
    /// assert!(!Error::Local(std::io::ErrorKind::Other.into()).is_fatal());
    /// ```
    pub fn is_fatal(&self) -> bool {
        match self {
            Error::Op { error, .. } => error.is_fatal(),
            Error::Io(_) | Error::TlsUnsupported | Error::Tls { .. } | Error::NoSuchSession => true,
            Error::Usage(u) => *u == UsageError::Closed,
            Error::Local(_)
            | Error::BufferFull { .. }
            | Error::WrongDataEnd
            | Error::Cancelled { .. }
            | Error::NoFreeSlot(_) => false,
        }
    }

    /// What to do after this failure, as `ftp-sansio`'s retry policy decides
    /// ([`ftp_sansio::retry`], where the whole table is): [`Error::Op`] → the core's verdict
    /// ([`OpError::recovery`]); [`Error::Io`] (the control connection: a connect refused or
    /// timed out, a read or write that failed) → [`Recovery::of_control_io`], `Reconnect` for
    /// the network's failures; [`Error::Local`] → [`Recovery::of_local_io`];
    /// [`Error::Usage`] → [`UsageError::recovery`] (`Closed`: the operation was never sent,
    /// `Reconnect`); [`Error::NoSuchSession`] → `Reconnect`; [`Error::NoFreeSlot`] → `Retry`
    /// (a slot frees when a session ends); TLS failures, [`Error::BufferFull`],
    /// [`Error::WrongDataEnd`] and [`Error::Cancelled`] (the login before it failed: its own
    /// error says more) → `GiveUp`.
    ///
    /// ```
    /// use ftp_mio::Error;
    /// use ftp_sansio::retry::Recovery;
    /// use ftp_sansio::session::{OpError, TimeoutKind};
    /// use std::io::ErrorKind;
    /// assert_eq!(Error::Io(ErrorKind::ConnectionRefused.into()).recovery(), Recovery::Reconnect);
    /// assert_eq!(Error::from(OpError::Timeout(TimeoutKind::Reply)).recovery(), Recovery::Reconnect);
    /// assert_eq!(Error::from(OpError::Timeout(TimeoutKind::Data)).recovery(), Recovery::Retry);
    /// assert_eq!(Error::Local(ErrorKind::PermissionDenied.into()).recovery(), Recovery::GiveUp);
    /// ```
    pub fn recovery(&self) -> Recovery {
        let recovery = match self {
            Error::Op { error, .. } => error.recovery(),
            Error::Io(io) => Recovery::of_control_io(io.kind()),
            Error::Local(io) => Recovery::of_local_io(io.kind()),
            Error::Usage(u) => u.recovery(),
            Error::NoSuchSession => Recovery::Reconnect,
            Error::NoFreeSlot(_) => Recovery::Retry,
            Error::BufferFull { .. }
            | Error::TlsUnsupported
            | Error::Tls { .. }
            | Error::WrongDataEnd
            | Error::Cancelled { .. } => Recovery::GiveUp,
        };
        if self.is_fatal() {
            recovery.after_close()
        } else {
            recovery
        }
    }

    /// Whether this failure of a transfer sent with `REST` (e.g.
    /// [`Sessions::retrieve_from`](crate::Sessions::retrieve_from)) is the server refusing the
    /// restart ([`OpError::is_rest_refusal`]): the download can only start again from byte 0
    /// ([`ftp_sansio::retry::Resume`] decides).
    ///
    /// ```
    /// use ftp_sansio::reply::{Code, Reply};
    /// use ftp_sansio::session::OpError;
    /// let r = Reply::from_lines(Code::new(502).unwrap(), &[b"502 REST not implemented"]);
    /// assert!(ftp_mio::Error::from(OpError::Permanent(r)).is_rest_refusal());
    /// ```
    pub fn is_rest_refusal(&self) -> bool {
        matches!(self, Error::Op { error, .. } if error.is_rest_refusal())
    }

    /// The server's reply behind the error, if there is one.
    ///
    /// ```
    /// use ftp_sansio::reply::{Code, Reply};
    /// use ftp_sansio::session::OpError;
    /// let r = Reply::from_lines(Code::new(550).unwrap(), &[b"550 No such file"]);
    /// let e = ftp_mio::Error::from(OpError::Permanent(r));
    /// assert_eq!(e.reply().unwrap().code().get(), 550);
    /// ```
    pub fn reply(&self) -> Option<&ftp_sansio::reply::Reply> {
        match self {
            Error::Op { error, .. } => error.reply(),
            Error::Tls { reply, .. } => reply.as_ref(),
            _ => None,
        }
    }
}

impl From<OpError> for Error {
    fn from(e: OpError) -> Self {
        Error::Op {
            error: e,
            context: None,
        }
    }
}

impl From<UsageError> for Error {
    fn from(e: UsageError) -> Self {
        Error::Usage(e)
    }
}
