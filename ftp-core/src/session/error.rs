//! Errors of the session: per operation ([`OpError`], inside [`Event::Completed`]), broken
//! protocol ([`ProtocolError`]), and caller mistakes ([`UsageError`], returned at once).
//!
//! [`Event::Completed`]: super::Event::Completed

use core::net::SocketAddr;

use crate::command::CommandError;
use crate::reply::decode::DecodeError;
use crate::reply::{Reply, ReplyClass, ReplyError};

use super::DataFailure;

/// Why an operation failed. Drivers map these onto ftplib's errors: [`OpError::Reply`] is
/// `error_reply`, [`OpError::Temporary`] `error_temp`, [`OpError::Permanent`]
/// `error_perm`, [`OpError::Protocol`] `error_proto`.
///
/// After [`OpError::is_fatal`] errors the session is closed; after the others it is idle and
/// the next operation can start.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum OpError {
    /// A positive reply the operation did not expect (e.g. 2xx to `RNFR`, 3xx to `voidcmd`).
    #[error("unexpected reply: {0}")]
    Reply(Reply),
    /// A 4xx reply (transient negative completion). A `421` also closes the session.
    #[error("temporary failure: {0}")]
    Temporary(Reply),
    /// A 5xx reply (permanent negative completion).
    #[error("permanent failure: {0}")]
    Permanent(Reply),
    /// The server broke the protocol (see [`ProtocolError::is_fatal`]).
    #[error("protocol error: {0}")]
    Protocol(ProtocolError),
    /// A deadline passed. [`TimeoutKind::Reply`], [`TimeoutKind::Tls`] and
    /// [`TimeoutKind::Operation`] close the session.
    #[error("timed out waiting for {0}")]
    Timeout(TimeoutKind),
    /// The server closed the control connection.
    #[error("control connection closed by the server")]
    ConnectionClosed,
    /// The driver closed the control connection itself
    /// ([`Session::handle_close`](super::Session::handle_close)).
    #[error("control connection closed: {0}")]
    LocalClose(LocalClose),
    /// The data connection failed; `reply` is the server's final reply when it came.
    #[error("data connection failed: {failure}")]
    Data {
        /// What the driver saw.
        failure: DataFailure,
        /// The transfer's final reply, if received.
        reply: Option<Reply>,
    },
    /// A binary download ended before the size the server announced.
    #[error("transfer truncated: {received} of {expected} bytes")]
    Truncated {
        /// Announced size.
        expected: u64,
        /// Bytes received.
        received: u64,
        /// The transfer's final reply, if received.
        reply: Option<Reply>,
    },
}

impl OpError {
    /// The error for a negative (or unexpected) final reply: 4xx → [`OpError::Temporary`],
    /// 5xx → [`OpError::Permanent`], anything else → [`OpError::Reply`].
    ///
    /// ```
    /// use ftp_sansio::reply::{Code, Reply};
    /// use ftp_sansio::session::OpError;
    /// let r = Reply::from_lines(Code::new(550).unwrap(), &[b"550 No such file"]);
    /// assert!(matches!(OpError::from_reply(r), OpError::Permanent(_)));
    /// ```
    pub fn from_reply(reply: Reply) -> OpError {
        match reply.code().class() {
            ReplyClass::TransientNegative => OpError::Temporary(reply),
            ReplyClass::PermanentNegative => OpError::Permanent(reply),
            _ => OpError::Reply(reply),
        }
    }

    /// The server reply behind the error, if any.
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            OpError::Reply(r) | OpError::Temporary(r) | OpError::Permanent(r) => Some(r),
            OpError::Data { reply, .. } | OpError::Truncated { reply, .. } => reply.as_ref(),
            OpError::Protocol(ProtocolError::EarlyEpsvDuringTransfer { reply }) => reply.as_ref(),
            _ => None,
        }
    }

    /// Whether this kind of error always closes the session (connection lost, control
    /// stream out of step, `421`). A refused greeting and `QUIT` close it too: drivers
    /// check [`Session::is_closed`](super::Session::is_closed) after every operation.
    pub fn is_fatal(&self) -> bool {
        match self {
            OpError::Temporary(r) => r.code().get() == 421,
            OpError::Protocol(p) => p.is_fatal(),
            OpError::Timeout(k) => *k != TimeoutKind::Data,
            OpError::ConnectionClosed | OpError::LocalClose(_) => true,
            _ => false,
        }
    }
}

/// Why a driver closed the control connection on its own, given to
/// [`Session::handle_close`](super::Session::handle_close).
///
/// ```
/// use ftp_sansio::session::LocalClose;
/// let e = LocalClose::Io(std::io::ErrorKind::ConnectionReset);
/// assert_eq!(e.to_string(), "reading or writing it failed (connection reset)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LocalClose {
    /// Reading or writing the control connection failed with this kind of I/O error.
    Io(std::io::ErrorKind),
    /// The control connection's TLS failed: handshake (certificate, name, version), a bad
    /// record, an alert, or the `CCC` shutdown.
    Tls,
    /// A TLS intent came and the driver cannot carry it out (built without TLS support, or
    /// no TLS configuration given).
    TlsUnavailable,
    /// The user closed the session (dropped the client, asked for a close).
    User,
}

impl LocalClose {
    /// The reason for a control connection that failed with `e`: with the `tls` feature a
    /// TLS layer's failure inside it (the `tls` module) is [`LocalClose::Tls`]; anything else
    /// [`LocalClose::Io`] with the error's kind. What drivers give
    /// [`Session::handle_close`](super::Session::handle_close) when a control read or write
    /// fails.
    ///
    /// ```
    /// use ftp_sansio::session::LocalClose;
    /// let e = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
    /// assert_eq!(LocalClose::from_io(&e), LocalClose::Io(std::io::ErrorKind::ConnectionReset));
    /// ```
    pub fn from_io(e: &std::io::Error) -> LocalClose {
        #[cfg(feature = "tls")]
        if crate::tls::TlsError::of_io(e).is_some_and(|t| t.is_tls_failure()) {
            return LocalClose::Tls;
        }
        LocalClose::Io(e.kind())
    }
}

impl core::fmt::Display for LocalClose {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LocalClose::Io(kind) => write!(f, "reading or writing it failed ({kind})"),
            LocalClose::Tls => f.write_str("its TLS failed"),
            LocalClose::TlsUnavailable => f.write_str("TLS was asked for and is not available"),
            LocalClose::User => f.write_str("closed by the user"),
        }
    }
}

/// Which deadline passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeoutKind {
    /// No reply within [`Config::reply_timeout`](super::Config::reply_timeout) (fatal).
    Reply,
    /// The data connection did not connect, was not accepted, or made no progress within
    /// [`Config::data_timeout`](super::Config::data_timeout). The session sends `ABOR` when
    /// the server may still be transferring, and stays usable.
    Data,
    /// The control TLS handshake (or CCC shutdown) did not finish within the reply timeout
    /// (fatal).
    Tls,
    /// The whole operation took longer than
    /// [`Config::operation_timeout`](super::Config::operation_timeout), however much progress
    /// it made (fatal).
    Operation,
}

impl core::fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            TimeoutKind::Reply => "a reply",
            TimeoutKind::Data => "the data connection",
            TimeoutKind::Tls => "the TLS handshake",
            TimeoutKind::Operation => "the whole operation",
        })
    }
}

/// The server broke the protocol.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// The control stream is not a valid sequence of replies (fatal).
    #[error("bad reply stream: {0}")]
    Framing(ReplyError),
    /// The control connection closed in the middle of a reply (fatal).
    #[error("control connection closed in the middle of a reply")]
    EofMidReply,
    /// Bytes arrived in clear text after `234` and before the TLS handshake: they could be
    /// injected by an attacker, so they are refused (fatal).
    #[error("clear-text bytes after 234 to AUTH TLS")]
    DataAfterAuth,
    /// A complete reply whose text could not be decoded (227 address, 229 port, 213 size,
    /// ...). The stream is still in step: the session stays usable.
    #[error("cannot decode reply {code}: {error}")]
    Decode {
        /// The reply code.
        code: u16,
        /// What the decoder said.
        error: DecodeError,
    },
    /// The server named a data address no client should use (port 0). Not fatal.
    #[error("server gave an unusable data address {0}")]
    BadDataAddress(SocketAddr),
    /// An `MLST` reply without a fact line. Not fatal.
    #[error("MLST reply without a fact line")]
    MissingEntry,
    /// [`Config::pipeline_passive`](super::Config::pipeline_passive): the server answered
    /// the next transfer's early `EPSV` while this transfer was running, so it acts on
    /// commands during transfers and may have cut this transfer's data connection
    /// (pyftpdlib closes it, and may still call the transfer complete). The transfer is not
    /// reported as a success: its data is not trusted. `reply` is the transfer's final
    /// reply, if one came. Not fatal; the session stops pipelining.
    #[error("the server answered the pipelined EPSV during the transfer; its data is not trusted")]
    EarlyEpsvDuringTransfer {
        /// The transfer's final reply, if one came.
        reply: Option<Reply>,
    },
}

impl ProtocolError {
    /// Whether the session had to close because of it.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            ProtocolError::Framing(_) | ProtocolError::EofMidReply | ProtocolError::DataAfterAuth
        )
    }
}

/// A caller mistake, returned synchronously; the session's state is unchanged.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum UsageError {
    /// Another operation is in flight (FTP runs one at a time).
    #[error("another operation is in flight")]
    Busy,
    /// The session is closed (after `QUIT`, a fatal error, or `421`).
    #[error("the session is closed")]
    Closed,
    /// An argument would not encode (CR, LF or NUL in it, or empty where one is needed).
    #[error("invalid argument: {0}")]
    InvalidArgument(CommandError),
    /// `abort` while an operation other than a transfer is in flight, or while an abort is
    /// already under way.
    #[error("nothing to abort")]
    NotAbortable,
    /// `AUTH TLS` on a control connection that already runs TLS.
    #[error("the control connection already runs TLS")]
    AlreadyTls,
    /// Protected data (`PROT P`, typed or raw) or `CCC` before the control connection runs
    /// TLS.
    #[error("this needs TLS on the control connection first (AUTH TLS)")]
    TlsRequired,
    /// `AUTH` or `CCC` as a raw command line: they change how the control connection is
    /// framed, so only their operations ([`Operation::AuthTls`](super::Operation::AuthTls),
    /// [`Operation::Ccc`](super::Operation::Ccc)) may send them.
    #[error("AUTH and CCC cannot be sent as raw commands; use their operations")]
    RawTlsCommand,
}
