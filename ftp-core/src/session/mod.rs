//! The whole client conversation as a sans-IO state machine.
//!
//! A [`Session`] owns no socket, thread or clock. The driver (`ftp-blocking`, `ftp-mio`, or
//! your own loop) feeds it what arrived and what happened, and pulls what to do:
//!
//! | the driver calls | when |
//! |---|---|
//! | [`Session::handle_input`] | bytes arrived on the control connection |
//! | [`Session::handle_eof`] | the control connection was closed by the server |
//! | [`Session::handle_close`] | the driver closed it itself ([`LocalClose`]: I/O or TLS failure, ...) |
//! | [`Session::handle_data_event`] | something happened to a data connection ([`DataEvent`]) |
//! | [`Session::handle_tls_established`] | a [`TlsIntent`] was carried out |
//! | [`Session::handle_timeout`] | `now >= poll_timeout()` |
//! | [`Session::start`] / [`Session::abort`] | to run an [`Operation`] / abort a transfer |
//!
//! and after **every** call drains the outputs, in any order: [`Session::poll_transmit`] +
//! [`Session::consume_transmit`] (control bytes to write, from one reused buffer),
//! [`Session::poll_event`] until `None` ([`Event`]: data intents, TLS intents, the
//! [`Event::Completed`] of the operation), and [`Session::poll_timeout`] (the deadline to
//! wait until). Time is an [`Instant`] argument; the core only compares it with deadlines it
//! computed with `checked_add`, so any `now` (even one going backwards) is safe.
//!
//! # Contract
//! - One operation at a time (FTP is sequential, RFC 959 §5.1); [`Session::new`] starts with
//!   the greeting in flight. Every operation ends with exactly **one**
//!   [`Event::Completed`]. Afterwards the session is idle (the next `start` works) or
//!   closed ([`Session::is_closed`]; `start` returns [`UsageError::Closed`]); it is never
//!   left waiting for nothing.
//! - No command is sent before the reply to the previous one has arrived, except `ABOR`
//!   (and the `NOOP` that resynchronises after an ambiguous `ABOR` answer, see below).
//! - Fatal (the session closes, [`OpError::is_fatal`]): EOF, a malformed reply stream,
//!   `421` at any point, a reply timeout (the stream would be out of step), an operation
//!   timeout ([`Config::operation_timeout`], off by default), clear-text bytes after `234`. Not fatal: negative replies, undecodable payloads, data failures, data
//!   timeouts.
//! - Data bytes never pass through the core: the driver moves them between the data socket
//!   and the user, and reports [`DataEvent`]s. The core judges completion from the 1xx, the
//!   final reply and the end of data, in whatever order they come.
//!
//! # Life of a transfer
//! 1. `TYPE A`/`TYPE I` if the type changes (RFC 959 §4.1.2).
//! 2. Passive: `EPSV` (RFC 2428 §3), falling back to `PASV` (RFC 959) on 500/502 for the
//!    rest of the session; from 227 only the port is used unless
//!    [`Config::trust_pasv_address`]. → [`DataIntent::Connect`] → [`DataEvent::Connected`].
//!    Active: [`DataIntent::Listen`] → [`DataEvent::Listening`] → `EPRT` (RFC 2428 §2),
//!    falling back to `PORT` for IPv4 on 500/502.
//! 3. `REST n` when resuming (RFC 3659 §5), then the command (`RETR`, `STOR`, `APPE`,
//!    `STOU`, `LIST`, `NLST`, `MLSD` (RFC 3659 §7), or a raw line). After a resumed
//!    transfer that did not complete, the next file transfer sends `REST 0` first: some
//!    servers (libunftp) keep the old restart marker until a transfer succeeds.
//! 4. 1xx → [`DataIntent::Stream`] (with the size a `150 ... (N bytes)` announced) → the
//!    driver moves data → [`DataEvent::Finished`]; the final 226/250 may come before or
//!    after it. 425/426/451/4xx/5xx are errors whatever the data did; a binary download
//!    shorter than announced is [`OpError::Truncated`].
//!
//! # ABOR (RFC 959 §4.1.3)
//! [`Session::abort`] sends `ABOR` first; a data connection that carries the transfer is
//! closed ([`DataIntent::Close`]) on the server's first answer or once
//! [`Config::abort_grace`] has passed, whichever comes first (some servers drop the whole
//! session when the data connection vanishes before `ABOR` arrives; others, like vsftpd
//! without async `ABOR`, read `ABOR` only once the data connection fails). The reply timeout
//! starts again when the grace closes the data connection. A failing sink or source
//! ([`DataEvent::LocalFailure`]) and a data timeout abort the same way. Servers answer `426` +
//! `226` (transfer cut), `226` + `226` (transfer had finished), `225`, or a lone `226`. The
//! first two are told apart from the last by the first reply: after `426` one more reply is
//! read. After an ambiguous `226`, or a `225` while the transfer command's own reply is
//! still unseen (pyftpdlib never sends it; another server may send it late), the session
//! sends `NOOP` and reads until its `200`, absorbing the one reply that may come before it
//! (`ABOR`'s 225/226, 500/502 from a server without `ABOR`, or the transfer's late reply).
//! The control connection is in step afterwards.
//! Once the transfer's `426` was read, any 2xx/4xx/5xx reply but a refusal of `ABOR` (500/501/502)
//! ends the abort as [`Outcome::Aborted`] (Pure-FTPd answers `426` + `451`).
//!
//! When an abort ends without the transfer's own final reply (libunftp answers `ABOR` with
//! `226` at once and its data task may send the transfer's `426`, or an upload's `226`,
//! after later replies), one late reply of the aborted transfer is skipped if it comes as
//! the "reply" to a command that cannot get it: a `226` or `426` (RFC 959 §5.4 lists them
//! only for transfer commands and `ABOR`) to any command but a transfer command, a `426`
//! to a transfer command before its 1xx (a failure to connect is `425`), or a
//! `451` to a command that touches no file (`TYPE`,
//! `EPSV`, `PASV`, `EPRT`, `PORT`, `REST`, `NOOP`, `PWD`, `SYST`, `FEAT`, ...). At most one
//! reply per abort is skipped; one arriving while idle is dropped and uses up the allowance.
//!
//! # FTPS (RFC 4217)
//! [`Operation::AuthTls`] sends `AUTH TLS`; on `234` it emits [`TlsIntent::UpgradeControl`]
//! and waits for [`Session::handle_tls_established`]. Any refusal ends the operation with
//! the server's reply **and closes the session** (unless
//! [`Config::allow_clear_after_refused_auth`]), so nothing queued behind it goes out in clear
//! text; a failed handshake is reported with [`Session::handle_close`]`(`[`LocalClose::Tls`]`)`.
//! `AUTH TLS` twice ([`UsageError::AlreadyTls`]), protected data or `CCC` before TLS
//! ([`UsageError::TlsRequired`], raw `PROT P` included) and raw `AUTH`/`CCC`
//! ([`UsageError::RawTlsCommand`]) are refused by [`Session::start`] without a byte sent.
//! [`Operation::Protect`] sends `PBSZ 0` + `PROT`; data intents then carry `tls: true`
//! (the driver must resume the control connection's TLS session on data connections).
//! `HOST` (RFC 7151 §3) goes before `AUTH`/`USER` when configured.
//!
//! # Notes for drivers
//! - [`DataEvent::Connected`] means the TCP connection; with `tls: true` the data TLS
//!   handshake runs when [`DataIntent::Stream`] comes (after the command went out), and must
//!   resume the control connection's TLS session.
//! - Active mode: bind the listener on the control connection's local IP; accept only once
//!   [`DataIntent::Stream`] comes (the server connects after the command), then report
//!   [`DataEvent::Accepted`]. Close connections for which
//!   [`Session::is_acceptable_data_peer`] is false (port theft) and keep accepting.
//! - After [`DataEvent::Finished`] the driver closes the data connection itself;
//!   [`DataIntent::Close`] is only for failures and aborts, and harmless when nothing is open.
//! - After [`Session::abort`] or [`DataEvent::LocalFailure`], move no more data but keep the
//!   data connection open until [`DataIntent::Close`] comes: the session decides when.
//! - Map a data socket's I/O error with [`DataFailure::from_io_kind`], so every driver
//!   reports the same failure for the same error.
//! - When the driver closes the control connection itself (a read or write failed, TLS
//!   failed, a TLS intent it cannot carry out), it calls [`Session::handle_close`], never
//!   [`Session::handle_eof`] (which means the server closed it).
//! - [`Session::handle_tls_established`] confirms both TLS intents (upgrade and CCC downgrade).
//! - After any `Completed`, check [`Session::is_closed`]: a refused greeting, `QUIT` and fatal
//!   errors end the session.
//!
//! # A driver loop
//! A fake in-memory driver that plays a scripted server (each `PASV`/`RETR` answered from a
//! table, data "moved" instantly):
//!
//! ```
//! use ftp_sansio::session::{
//!     Config, DataEvent, DataIntent, Event, Operation, Outcome, Session, TransferKind,
//!     TransferRequest,
//! };
//! use std::time::Instant;
//!
//! /// What our fake server answers to each command line.
//! fn server(line: &[u8]) -> &'static [u8] {
//!     match line {
//!         b"USER anonymous" => b"331 Please specify the password.\r\n",
//!         b"PASS anonymous@" => b"230 Login successful.\r\n",
//!         b"TYPE I" => b"200 Switching to Binary mode.\r\n",
//!         b"EPSV" => b"229 Entering Extended Passive Mode (|||50000|)\r\n",
//!         b"RETR hello.txt" => {
//!             b"150 Opening BINARY mode data connection for hello.txt (11 bytes).\r\n226 Done.\r\n"
//!         }
//!         _ => b"500 Unknown command.\r\n",
//!     }
//! }
//!
//! /// Runs until the operation in flight completes; returns its result.
//! fn run(s: &mut Session, now: Instant) -> Result<Outcome, ftp_sansio::session::OpError> {
//!     loop {
//!         // 1. write pending control bytes (here: answer each line at once)
//!         let out = s.poll_transmit().to_vec();
//!         s.consume_transmit(out.len());
//!         for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
//!             let reply = server(line.strip_suffix(b"\r").unwrap());
//!             s.handle_input(now, reply);
//!         }
//!         // 2. drain events: carry out intents, stop at Completed
//!         while let Some(ev) = s.poll_event() {
//!             match ev {
//!                 Event::Data(DataIntent::Connect { addr, .. }) => {
//!                     assert_eq!(addr, "127.0.0.1:50000".parse().unwrap());
//!                     s.handle_data_event(now, DataEvent::Connected);
//!                 }
//!                 Event::Data(DataIntent::Stream { expected_size, .. }) => {
//!                     assert_eq!(expected_size, Some(11));
//!                     s.handle_data_event(now, DataEvent::Finished { bytes: 11 });
//!                 }
//!                 Event::Completed(result) => return result,
//!                 _ => {}
//!             }
//!         }
//!         // 3. a real driver now waits for I/O until s.poll_timeout(), then calls
//!         //    handle_input / handle_eof / handle_timeout with a fresh `now`.
//!     }
//! }
//!
//! fn demo(now: Instant) {
//!     let config = Config { auto_feat: false, ..Config::default() };
//!     let mut s = Session::new(config, "127.0.0.1:21".parse().unwrap(), now);
//!     s.handle_input(now, b"220 (vsFTPd 3.0.3)\r\n");
//!     assert!(matches!(s.poll_event(), Some(Event::Completed(Ok(Outcome::Greeting(_))))));
//!
//!     let login = Operation::Login { user: String::new(), password: String::new(), account: None };
//!     s.start(now, login).unwrap();
//!     assert!(matches!(run(&mut s, now), Ok(Outcome::LoggedIn(_))));
//!
//!     let get = TransferRequest { kind: TransferKind::Retr(b"hello.txt".to_vec()), ascii: false, rest: None };
//!     s.start(now, Operation::Transfer(get)).unwrap();
//!     match run(&mut s, now) {
//!         Ok(Outcome::Transferred { bytes, reply }) => {
//!             assert_eq!(bytes, 11);
//!             assert_eq!(reply.code().get(), 226);
//!         }
//!         other => panic!("{other:?}"),
//!     }
//!     assert!(s.is_idle());
//! }
//! # // `Instant` values come from the driver's clock; this crate never reads one.
//! # let _ = demo;
//! ```

mod abort;
mod commands;
mod config;
mod error;
mod login;
mod machine;
mod pipeline;
mod tls;
mod transfer;
mod types;

use core::net::SocketAddr;
use std::collections::VecDeque;
use std::time::Instant;

pub use config::Config;
pub use error::{LocalClose, OpError, ProtocolError, TimeoutKind, UsageError};
pub use types::{
    DataEvent, DataFailure, DataIntent, Direction, Event, ListPath, Operation, Outcome, TlsIntent,
    TransferKind, TransferRequest,
};

use crate::command::{Command, CommandError, TransferType};
use crate::reply::decode::Features;
use crate::reply::{Reply, ReplyParser};
use login::Login;
use machine::{Flow, Op};
use pipeline::{Early, EarlyUse};
use transfer::Transfer;

/// An FTP client session on one control connection: see the [module docs](self).
///
/// ```
/// use ftp_sansio::session::{Config, Event, Outcome, Session};
/// fn greet(now: std::time::Instant) {
///     let mut s = Session::new(Config::default(), "[::1]:21".parse().unwrap(), now);
///     s.handle_input(now, b"220-Welcome\r\n220 ready\r\n");
///     match s.poll_event() {
///         Some(Event::Completed(Ok(Outcome::Greeting(r)))) => assert_eq!(r.code().get(), 220),
///         other => panic!("{other:?}"),
///     }
///     assert_eq!(s.welcome().unwrap().text(), "220-Welcome\n220 ready");
/// }
/// # let _ = greet;
/// ```
pub struct Session {
    config: Config,
    /// The control connection's peer: passive data connections go to its IP.
    peer: SocketAddr,
    parser: ReplyParser,
    /// Control bytes to send: `tx[tx_pos..]`.
    tx: Vec<u8>,
    tx_pos: usize,
    events: VecDeque<Event>,
    op: Option<Op>,
    closed: bool,
    welcome: Option<Reply>,
    features: Option<Features>,
    /// The representation type the server is known to use (`None`: unknown).
    cur_type: Option<TransferType>,
    epsv_refused: bool,
    eprt_refused: bool,
    /// A `REST n` (n > 0) was accepted and no transfer has completed since: the server may
    /// still hold that restart marker. libunftp keeps it after a transfer that failed, and
    /// ABOR does not reset it on vsftpd or pyftpdlib, so the next file transfer without
    /// `REST` would start at `n` (a download short or shifted, an upload written from `n`).
    /// The next file transfer sends `REST 0` first (`transfer.rs`).
    stale_rest: bool,
    /// PROT P (or S/E) in force: data connections need TLS.
    data_tls: bool,
    control_tls: bool,
    host_sent: bool,
    /// A data connection or listener was asked for and has not ended.
    data_open: bool,
    reply_deadline: Option<Instant>,
    data_deadline: Option<Instant>,
    /// The whole operation's deadline ([`Config::operation_timeout`]).
    op_deadline: Option<Instant>,
    /// An abort (or the resynchronisation after an early `EPSV` answered out of order)
    /// ended without the transfer's own final reply: one stray `226`/`426` (or `451`, see
    /// `Session::is_stray_abort_reply`) may still come and is skipped.
    stray_after_abort: bool,
    /// [`Config::pipeline_passive`]: the early `EPSV` (`pipeline.rs`).
    early: Early,
    /// The type of the transfer announced by [`Session::prepare_next`] for after the
    /// operation in flight (`None`: no transfer announced). Cleared when an operation ends.
    next_type: Option<TransferType>,
    /// An early `EPSV` was answered out of order or refused: none is sent any more.
    pipelining_stopped: bool,
    /// The verb of the last command sent (upper case, space-padded; zeros when longer than
    /// 4 bytes): tells which replies it may legitimately get.
    last_verb: [u8; 4],
}

/// Shows the state, not the control bytes waiting to be sent (they may hold `PASS`);
/// the login in flight hides its password and account.
impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("peer", &self.peer)
            .field("op", &self.op)
            .field("closed", &self.closed)
            .field("pending_transmit", &self.poll_transmit().len())
            .field("events", &self.events)
            .field("cur_type", &self.cur_type)
            .field("epsv_refused", &self.epsv_refused)
            .field("eprt_refused", &self.eprt_refused)
            .field("control_tls", &self.control_tls)
            .field("data_tls", &self.data_tls)
            .field("data_open", &self.data_open)
            .field("reply_deadline", &self.reply_deadline)
            .field("data_deadline", &self.data_deadline)
            .field("op_deadline", &self.op_deadline)
            .field("stray_after_abort", &self.stray_after_abort)
            .field("early", &self.early)
            .field("next_type", &self.next_type)
            .field("pipelining_stopped", &self.pipelining_stopped)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session on a freshly opened control connection to `control_peer`; the greeting is
    /// the operation in flight (it ends with [`Outcome::Greeting`]).
    pub fn new(config: Config, control_peer: SocketAddr, now: Instant) -> Session {
        let parser = ReplyParser::with_limits(config.limits);
        let mut s = Session {
            config,
            peer: control_peer,
            parser,
            tx: Vec::with_capacity(256),
            tx_pos: 0,
            events: VecDeque::new(),
            op: Some(Op::Greeting),
            closed: false,
            welcome: None,
            features: None,
            cur_type: None,
            epsv_refused: false,
            eprt_refused: false,
            stale_rest: false,
            data_tls: false,
            control_tls: false,
            host_sent: false,
            data_open: false,
            reply_deadline: None,
            data_deadline: None,
            op_deadline: None,
            stray_after_abort: false,
            early: Early::None,
            next_type: None,
            pipelining_stopped: false,
            last_verb: [0; 4],
        };
        s.arm_op_deadline(now);
        s.await_reply(now);
        s
    }

    /// A session on a control connection that runs TLS from its first byte (implicit FTPS,
    /// port 990 by custom): the driver finished the TLS handshake before any FTP byte, so
    /// [`is_control_tls`](Self::is_control_tls) is `true` from the start and the greeting is
    /// read over TLS. Everything else is as with [`Session::new`]; data connections still
    /// follow `PROT` ([`Operation::Protect`]).
    ///
    /// ```
    /// use ftp_sansio::session::{Config, Event, Outcome, Session};
    /// fn greet(now: std::time::Instant) {
    ///     let mut s = Session::new_implicit_tls(Config::default(), "127.0.0.1:990".parse().unwrap(), now);
    ///     assert!(s.is_control_tls() && !s.is_data_tls());
    ///     s.handle_input(now, b"220 ready\r\n");
    ///     assert!(matches!(s.poll_event(), Some(Event::Completed(Ok(Outcome::Greeting(_))))));
    ///     assert!(s.is_control_tls());
    /// }
    /// # let _ = greet; // `Instant`s come from the driver's clock (see tests/session_tls_implicit.rs)
    /// ```
    pub fn new_implicit_tls(config: Config, control_peer: SocketAddr, now: Instant) -> Session {
        let mut s = Session::new(config, control_peer, now);
        s.control_tls = true;
        s
    }

    // ---------------------------------------------------------------------------------
    // Inputs
    // ---------------------------------------------------------------------------------

    /// Bytes received on the control connection (after TLS decryption, if any). Any split
    /// of the stream into calls gives the same result. Problems surface as events.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        let mut rest = bytes;
        while !self.closed {
            if self.awaiting_tls_upgrade() && !rest.is_empty() {
                // Nothing may arrive in clear text between 234 and the handshake.
                self.refuse_after_auth();
                return;
            }
            let taken = self.parser.push(rest);
            rest = &rest[taken..];
            let mut progressed = taken > 0;
            loop {
                if self.closed {
                    return;
                }
                let reply = match self.parser.next_reply() {
                    Ok(Some(r)) => r.to_owned(),
                    Ok(None) => break,
                    Err(e) => {
                        self.fatal(OpError::Protocol(ProtocolError::Framing(e)));
                        return;
                    }
                };
                if self.awaiting_tls_upgrade() {
                    self.refuse_after_auth();
                    return;
                }
                progressed = true;
                self.on_reply(now, reply);
            }
            if self.awaiting_tls_upgrade() && (self.parser.has_partial() || !rest.is_empty()) {
                self.refuse_after_auth();
                return;
            }
            if rest.is_empty() || !progressed {
                // `!progressed` cannot happen with a conforming parser (a full buffer
                // yields an error); stop rather than spin.
                return;
            }
        }
    }

    /// The server closed the control connection. Ends the operation in flight with
    /// [`OpError::ConnectionClosed`] ([`ProtocolError::EofMidReply`] if a reply was cut
    /// short) and closes the session.
    pub fn handle_eof(&mut self, _now: Instant) {
        if self.closed {
            return;
        }
        let error = if self.parser.has_partial() {
            OpError::Protocol(ProtocolError::EofMidReply)
        } else {
            OpError::ConnectionClosed
        };
        self.fatal(error);
    }

    /// The driver closed the control connection itself, for `reason` (a failed read or
    /// write, a failed TLS handshake, no TLS support for a TLS intent, the user's wish).
    /// Ends the operation in flight with [`OpError::LocalClose`] and closes the session;
    /// nothing more is sent. Use this, not [`handle_eof`](Self::handle_eof), whenever the
    /// server did not close the connection: the error then says what really happened.
    ///
    /// ```
    /// use ftp_sansio::session::{Config, Event, LocalClose, OpError, Session};
    /// fn tls_failed(now: std::time::Instant) {
    ///     let mut s = Session::new(Config::default(), "127.0.0.1:21".parse().unwrap(), now);
    ///     s.handle_close(now, LocalClose::Tls);
    ///     match s.poll_event() {
    ///         Some(Event::Completed(Err(OpError::LocalClose(LocalClose::Tls)))) => {}
    ///         other => panic!("{other:?}"),
    ///     }
    ///     assert!(s.is_closed() && s.poll_transmit().is_empty());
    /// }
    /// # let _ = tls_failed;
    /// ```
    pub fn handle_close(&mut self, _now: Instant, reason: LocalClose) {
        if !self.closed {
            self.fatal(OpError::LocalClose(reason));
        }
    }

    /// Call when `now >= poll_timeout()`. Early or repeated calls do nothing; each deadline
    /// is cleared before it is acted on, so it is never reported twice.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        if let Some(d) = self.op_deadline {
            if now >= d {
                self.op_deadline = None;
                self.fatal(OpError::Timeout(TimeoutKind::Operation));
                return;
            }
        }
        if let Some(d) = self.reply_deadline {
            if now >= d {
                self.reply_deadline = None;
                let kind = if self.awaiting_tls() {
                    TimeoutKind::Tls
                } else {
                    TimeoutKind::Reply
                };
                self.fatal(OpError::Timeout(kind));
                return;
            }
        }
        if let Some(d) = self.data_deadline {
            if now >= d {
                self.data_deadline = None;
                self.on_data_timeout(now);
            }
        }
    }

    /// Something happened to the data connection. Events that do not fit the current state
    /// are ignored.
    pub fn handle_data_event(&mut self, now: Instant, ev: DataEvent) {
        if self.closed {
            return;
        }
        self.on_data_event(now, ev);
    }

    /// The driver carried out [`TlsIntent::UpgradeControl`] (handshake done) or
    /// [`TlsIntent::DowngradeControl`] (TLS shut down). Ignored at any other time.
    pub fn handle_tls_established(&mut self, _now: Instant) {
        if !self.closed {
            self.on_tls_established();
        }
    }

    // ---------------------------------------------------------------------------------
    // Outputs
    // ---------------------------------------------------------------------------------

    /// Control bytes waiting to be written (complete CRLF-terminated commands; may be empty).
    pub fn poll_transmit(&self) -> &[u8] {
        &self.tx[self.tx_pos..]
    }

    /// `n` bytes of [`poll_transmit`](Self::poll_transmit) were written (more than are
    /// pending counts as all).
    pub fn consume_transmit(&mut self, n: usize) {
        self.tx_pos = self.tx_pos.saturating_add(n).min(self.tx.len());
        if self.tx_pos == self.tx.len() {
            self.tx.clear();
            self.tx_pos = 0;
        }
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The earliest deadline: call [`handle_timeout`](Self::handle_timeout) once it passes.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.reply_deadline, self.data_deadline, self.op_deadline]
            .into_iter()
            .flatten()
            .min()
    }

    // ---------------------------------------------------------------------------------
    // Operations
    // ---------------------------------------------------------------------------------

    /// Starts `op`. Fails without changing anything when another operation is in flight
    /// ([`UsageError::Busy`]), the session is closed, or an argument cannot be sent.
    pub fn start(&mut self, now: Instant, op: Operation) -> Result<(), UsageError> {
        if self.closed {
            return Err(UsageError::Closed);
        }
        if self.op.is_some() {
            return Err(UsageError::Busy);
        }
        self.validate(&op).map_err(UsageError::InvalidArgument)?;
        self.check_tls_use(&op)?;
        self.arm_op_deadline(now);
        match self.early_for(now, &op) {
            EarlyUse::Ignore => {}
            EarlyUse::Adopt(reply) => {
                if let Operation::Transfer(req) = op {
                    self.adopt_early(now, req, reply);
                    return Ok(());
                }
                // Not reached: `early_for` hands the early EPSV only to transfers.
                let flow = self.begin(now, op);
                self.apply(flow);
                return Ok(());
            }
            EarlyUse::Wait => {
                // The early EPSV's reply comes first; nothing is sent before it.
                self.await_reply(now);
                self.op = Some(Op::AfterEarly(Box::new(op)));
                return Ok(());
            }
        }
        let flow = self.begin(now, op);
        self.apply(flow);
        Ok(())
    }

    /// Sends `op`'s first command(s): each family's first command, replies and validation
    /// live in its own file.
    fn begin(&mut self, now: Instant, op: Operation) -> Flow {
        match op {
            Operation::Login {
                user,
                password,
                account,
            } => Flow::Wait(self.start_login(now, Login::new(user, password, account))),
            Operation::Transfer(req) => self.transfer_begin(now, Box::new(Transfer::new(req))),
            op @ (Operation::AuthTls | Operation::Protect(_) | Operation::Ccc) => {
                Flow::Wait(self.start_tls_op(now, op))
            }
            op => Flow::Wait(self.start_command(now, op)),
        }
    }

    /// Announces the operation the driver will start next, right after the one in flight
    /// completes, so that the session can prepare it. Only a hint: the driver still calls
    /// [`start`](Self::start) for it as usual, and may start something else instead.
    ///
    /// With [`Config::pipeline_passive`], when `next` is a passive transfer of the type the
    /// running transfer uses, the session sends `next`'s `EPSV` right behind the running
    /// transfer's command (in the same write when the hint comes before the command goes
    /// out; at once when it comes later). Its reply is read after the running transfer's
    /// final reply, and the next [`start`](Self::start) of such a transfer uses it: the
    /// data connection is asked for at once ([`DataIntent::Connect`] right from `start`
    /// when the `229` already came). Without the switch, or when anything makes it unsafe,
    /// nothing is sent. Call it at most once per operation, while it is in flight; a later
    /// call replaces the hint (an `EPSV` already sent stays).
    ///
    /// Replies stay matched to their commands whatever happens:
    /// - the running transfer fails (`550`, `425`, a cut data connection): its error is
    ///   reported as always, and the early `EPSV`'s reply is still the next one read;
    /// - the early `EPSV` is refused (any reply but `229`): the next transfer sends its own
    ///   `EPSV` (with the usual `PASV` fallback), as if nothing had been sent early, and
    ///   pipelining stops for the session;
    /// - the next operation is not such a transfer (the driver changed its mind, the type
    ///   changes): it sends nothing until the early reply has been read, then runs as usual;
    ///   the server's passive port is left unused (the next `EPSV` replaces it). A `229` is
    ///   also dropped when the next transfer starts more than a few seconds later;
    /// - the running transfer is aborted: a `229` read during the abort is the early
    ///   `EPSV`'s; when none came, the abort ends with a `NOOP` round trip, reading every
    ///   reply up to its `200`, so none is left behind;
    /// - the server answers the early `EPSV` *before* the running transfer's final reply (it
    ///   acts on commands during a transfer: pyftpdlib, libunftp): the `229` is recognised
    ///   (no transfer command gets one) and dropped (the next transfer asks for its own
    ///   port), and pipelining stops for the session
    ///   ([`is_pipelining_stopped`](Self::is_pipelining_stopped)). Such a server may have
    ///   cut the running transfer's data connection, so that transfer is never reported as
    ///   a success: it ends with its own error reply, a data failure, or
    ///   [`ProtocolError::EarlyEpsvDuringTransfer`] (pyftpdlib closes the data connection,
    ///   which looks like the end of the file, and may still answer `226`). When its data
    ///   connection ends before its final reply, the session sends `NOOP` and reads up to
    ///   its `200`, taking at most one reply before it as the transfer's (pyftpdlib never
    ///   answers the transfer's command then), so the session stays in step.
    ///
    /// ```
    /// use ftp_sansio::session::{Config, Operation, Session, TransferKind, TransferRequest};
    /// fn hint(now: std::time::Instant) {
    ///     let config = Config { pipeline_passive: true, ..Config::default() };
    ///     let mut s = Session::new(config, "127.0.0.1:21".parse().unwrap(), now);
    ///     let next = Operation::Transfer(TransferRequest {
    ///         kind: TransferKind::Retr(b"b.bin".to_vec()),
    ///         ascii: false,
    ///         rest: None,
    ///     });
    ///     // The greeting is in flight, not a transfer: nothing is sent early.
    ///     s.prepare_next(now, &next);
    ///     assert!(s.poll_transmit().is_empty());
    /// }
    /// # let _ = hint; // the whole exchange: tests/session_pipeline.rs
    /// ```
    pub fn prepare_next(&mut self, _now: Instant, next: &Operation) {
        if !self.closed {
            self.note_next(next);
        }
    }

    /// Aborts the transfer in flight (RFC 959 §4.1.3): the data connection is closed
    /// ([`DataIntent::Close`]), `ABOR` is sent (after the reply to a set-up command, if one
    /// is outstanding, and after `REST 0` if that command was an accepted `REST`) and the
    /// transfer ends with [`Outcome::Aborted`] once the server's answers are read. When
    /// idle, sends `ABOR` as an operation of its own (so does a transfer that waits for an
    /// early `EPSV`'s reply before it starts, see [`prepare_next`](Self::prepare_next); it
    /// ends with the answer). Fails with [`UsageError::NotAbortable`] during other
    /// operations, a running abort, or a transfer whose data connection already failed and
    /// that only reads its last replies.
    pub fn abort(&mut self, now: Instant) -> Result<(), UsageError> {
        if self.closed {
            return Err(UsageError::Closed);
        }
        match self.op.take() {
            None => {
                self.arm_op_deadline(now);
                let op = self.abort_idle(now);
                self.op = Some(op);
                Ok(())
            }
            Some(Op::Transfer(t)) if !t.is_resyncing() => {
                let op = self.abort_transfer(now, &t, None);
                self.op = Some(op);
                Ok(())
            }
            Some(Op::AfterEarly(next)) if matches!(*next, Operation::Transfer(_)) => {
                // The transfer has sent nothing yet: `ABOR` alone, answered after the early
                // EPSV's reply; the transfer ends with its answer.
                let op = self.abort_idle(now);
                self.op = Some(op);
                Ok(())
            }
            other => {
                self.op = other;
                Err(UsageError::NotAbortable)
            }
        }
    }

    // ---------------------------------------------------------------------------------
    // Getters
    // ---------------------------------------------------------------------------------

    /// The greeting (ftplib's `getwelcome`), once received.
    pub fn welcome(&self) -> Option<&Reply> {
        self.welcome.as_ref()
    }

    /// The features from the last successful `FEAT`, if any.
    pub fn features(&self) -> Option<&Features> {
        self.features.as_ref()
    }

    /// The listing to ask for when the caller wants parsed entries of `path`: `MLSD` when the
    /// server's `FEAT` reply offers `MLST` (RFC 3659 §7.8: a server that implements `MLSD`
    /// lists `MLST` in `FEAT`), else `LIST`, whose formats
    /// [`listing::parse_list_line`](crate::listing::parse_list_line) parses. Before any
    /// `FEAT` ([`Config::auto_feat`] off and no [`Operation::Feat`] run) it is `LIST`. One
    /// decision for every driver's "entries" call; parse the result with
    /// [`listing::parse_mlsx_line`](crate::listing::parse_mlsx_line) for `MLSD`.
    ///
    /// ```
    /// use ftp_sansio::session::{Config, Session, TransferKind};
    /// fn pick(now: std::time::Instant) {
    ///     let s = Session::new(Config::default(), "127.0.0.1:21".parse().unwrap(), now);
    ///     // Nothing known about the server yet: LIST.
    ///     assert!(matches!(s.entries_listing(None), TransferKind::List(None)));
    /// }
    /// # let _ = pick;
    /// ```
    pub fn entries_listing(&self, path: Option<Vec<u8>>) -> TransferKind {
        if self.features.as_ref().is_some_and(|f| f.contains("MLST")) {
            TransferKind::Mlsd(path)
        } else {
            TransferKind::List(path)
        }
    }

    /// Whether no operation is in flight and the session is open (`start` would not fail
    /// with `Busy`/`Closed`).
    pub fn is_idle(&self) -> bool {
        !self.closed && self.op.is_none()
    }

    /// Whether pipelining ([`Config::pipeline_passive`]) stopped for good on this session:
    /// the server answered an early `EPSV` before the running transfer's final reply (it
    /// acts on commands during transfers), or refused one. See
    /// [`prepare_next`](Self::prepare_next).
    ///
    /// ```
    /// use ftp_sansio::session::{Config, Session};
    /// fn check(now: std::time::Instant) {
    ///     let s = Session::new(Config::default(), "127.0.0.1:21".parse().unwrap(), now);
    ///     assert!(!s.is_pipelining_stopped());
    /// }
    /// # let _ = check;
    /// ```
    pub fn is_pipelining_stopped(&self) -> bool {
        self.pipelining_stopped
    }

    /// Whether the session is closed (after `QUIT`, a refused greeting or a fatal error).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Whether the control connection runs TLS (after `AUTH TLS`, until `CCC`).
    pub fn is_control_tls(&self) -> bool {
        self.control_tls
    }

    /// Whether data connections are protected (`PROT P` in force).
    pub fn is_data_tls(&self) -> bool {
        self.data_tls
    }

    /// The control connection's peer address given to [`Session::new`].
    pub fn control_peer(&self) -> SocketAddr {
        self.peer
    }

    /// Active mode: whether a data connection accepted from `peer` may carry the transfer,
    /// i.e. comes from the control connection's peer IP (IPv4-mapped IPv6 addresses count as
    /// their IPv4 address; the port is not checked, servers connect from any port).
    ///
    /// This is the defence against data port theft (RFC 2577 §8): anyone who can reach the
    /// listener announced by `EPRT`/`PORT` could connect first, and would receive an upload
    /// or feed a download. Drivers close a connection from another address without a word
    /// and keep accepting; if the server's connection never comes, the data timeout ends the
    /// transfer ([`OpError::Timeout`]`(`[`TimeoutKind::Data`]`)`).
    ///
    /// ```
    /// use ftp_sansio::session::{Config, Session};
    /// fn check(now: std::time::Instant) {
    ///     let s = Session::new(Config::default(), "192.0.2.7:21".parse().unwrap(), now);
    ///     assert!(s.is_acceptable_data_peer("192.0.2.7:20".parse().unwrap()));
    ///     assert!(s.is_acceptable_data_peer("[::ffff:192.0.2.7]:50123".parse().unwrap()));
    ///     assert!(!s.is_acceptable_data_peer("192.0.2.8:20".parse().unwrap()));
    /// }
    /// # let _ = check;
    /// ```
    pub fn is_acceptable_data_peer(&self, peer: SocketAddr) -> bool {
        peer.ip().to_canonical() == self.peer.ip().to_canonical()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The configuration, to change between operations (reply limits stay as they were at
    /// [`Session::new`]).
    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.config
    }

    // ---------------------------------------------------------------------------------
    // Private helpers
    // ---------------------------------------------------------------------------------

    /// Encodes every command `op` may send with caller data, so that no argument can fail
    /// halfway through an operation.
    fn validate(&self, op: &Operation) -> Result<(), CommandError> {
        let mut scratch = Vec::new();
        let mut check = |cmd: Command<'_>| {
            scratch.clear();
            cmd.encode(&mut scratch)
        };
        if matches!(op, Operation::Login { .. } | Operation::AuthTls) && !self.host_sent {
            if let Some(h) = &self.config.host {
                check(Command::Host(h.into()))?;
            }
        }
        match op {
            Operation::Login {
                user,
                password,
                account,
            } => {
                let login = Login::new(user.clone(), password.clone(), account.clone());
                check(Command::User(login.user().into()))?;
                check(Command::Pass(login.password().into()))?;
                if let Some(a) = login.account() {
                    check(Command::Acct(a.into()))?;
                }
            }
            Operation::Cwd(p) if !p.is_empty() => check(Command::Cwd(p.into()))?,
            Operation::Mkd(p) => check(Command::Mkd(p.into()))?,
            Operation::Rmd(p) => check(Command::Rmd(p.into()))?,
            Operation::Dele(p) => check(Command::Dele(p.into()))?,
            Operation::Rename { from, to } => {
                check(Command::Rnfr(from.into()))?;
                check(Command::Rnto(to.into()))?;
            }
            Operation::Size(p) => check(Command::Size(p.into()))?,
            Operation::Mdtm(p) => check(Command::Mdtm(p.into()))?,
            Operation::Mlst(p) => check(Command::Mlst(p.as_ref().map(Into::into)))?,
            Operation::Site(p) => check(Command::Site(p.into()))?,
            Operation::Stat(p) => check(Command::Stat(p.as_ref().map(Into::into)))?,
            Operation::Help(p) => check(Command::Help(p.as_ref().map(Into::into)))?,
            Operation::Raw { line, .. } => check(Command::Raw(line.into()))?,
            Operation::Transfer(req) => check(transfer::transfer_command(&req.kind))?,
            _ => {}
        }
        Ok(())
    }
}
