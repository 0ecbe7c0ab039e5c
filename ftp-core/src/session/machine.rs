//! The plumbing behind [`Session`]: the operation in flight as an enum of per-family
//! sub-machines (each family in its own file: `login`, `commands`, `transfer`, `abort`,
//! `tls`), the output helpers every family uses, and the routing of replies.

use std::time::Instant;

use crate::command::Command;
use crate::reply::decode;
use crate::reply::{Reply, ReplyClass};

use super::abort::Abort;
use super::commands::Cmd;
use super::login::Login;
use super::pipeline::Early;
use super::tls::TlsOp;
use super::transfer::Transfer;
use super::{DataIntent, Event, OpError, Outcome, ProtocolError, Session};

/// The operation in flight.
#[derive(Debug)]
pub(super) enum Op {
    /// Waiting for the server's greeting (120 is skipped). See `login.rs`.
    Greeting,
    /// See `login.rs`.
    Login(Box<Login>),
    /// One command or a short fixed sequence. See `commands.rs`.
    Cmd(Cmd),
    /// `AUTH TLS`, `PBSZ`/`PROT`, `CCC`. See `tls.rs`.
    Tls(TlsOp),
    /// See `transfer.rs`.
    Transfer(Box<Transfer>),
    /// See `abort.rs`.
    Abort(Abort),
    /// An operation that cannot use the early `EPSV` (`pipeline.rs`) whose reply is still
    /// owed: it starts (sends its first command) once that reply has been read.
    AfterEarly(Box<super::Operation>),
}

/// What a step decided.
pub(super) enum Flow {
    /// Keep the operation in flight.
    Wait(Op),
    /// The operation ended.
    Done(Result<Outcome, OpError>),
    /// The operation ended and the session closes normally (`QUIT`, refused greeting).
    DoneAndClose(Result<Outcome, OpError>),
    /// The operation ended and the session is closed.
    Fatal(OpError),
}

pub(super) fn err(reply: Reply) -> Flow {
    Flow::Done(Err(OpError::from_reply(reply)))
}

pub(super) fn class(reply: &Reply) -> ReplyClass {
    reply.code().class()
}

pub(super) fn decode_err(reply: &Reply, error: decode::DecodeError) -> OpError {
    OpError::Protocol(ProtocolError::Decode {
        code: reply.code().get(),
        error,
    })
}
impl Session {
    // ----------------------------------------------------------------------------------
    // Output helpers
    // ----------------------------------------------------------------------------------

    /// Appends one command to the transmit buffer and arms the reply deadline.
    pub(super) fn send(&mut self, now: Instant, cmd: Command<'_>) {
        let before = self.tx.len();
        match cmd.encode(&mut self.tx) {
            Ok(()) => self.last_verb = verb_key(&self.tx[before..]),
            // Arguments are validated when the operation starts, so this cannot happen; if it
            // did, nothing was written and the reply timeout ends the operation.
            Err(e) => debug_assert!(false, "unvalidated argument: {e}"),
        }
        self.await_reply(now);
    }

    /// Arms the reply deadline (waiting for a reply without sending).
    pub(super) fn await_reply(&mut self, now: Instant) {
        self.reply_deadline = self.config.reply_timeout.and_then(|t| now.checked_add(t));
    }

    /// Arms the deadline of a whole operation (as it starts); cleared when it ends.
    pub(super) fn arm_op_deadline(&mut self, now: Instant) {
        self.op_deadline = self
            .config
            .operation_timeout
            .and_then(|t| now.checked_add(t));
    }

    pub(super) fn arm_data_deadline(&mut self, now: Instant) {
        self.data_deadline = self.config.data_timeout.and_then(|t| now.checked_add(t));
    }

    pub(super) fn intent(&mut self, intent: DataIntent) {
        match intent {
            DataIntent::Connect { .. } | DataIntent::Listen { .. } => self.data_open = true,
            DataIntent::Close => self.data_open = false,
            DataIntent::Stream { .. } => {}
        }
        self.events.push_back(Event::Data(intent));
    }

    /// Ends the operation (already taken out of `self.op`) with `result`; a data connection
    /// still open is closed first, so `Close` always precedes `Completed`.
    fn end_op(&mut self, result: Result<Outcome, OpError>) {
        if self.data_open {
            self.intent(DataIntent::Close);
        }
        self.reply_deadline = None;
        self.data_deadline = None;
        self.op_deadline = None;
        self.op = None;
        self.next_type = None;
        if self.early_behind() {
            // Not reached (a transfer ends after its final reply, an abort settles the early
            // EPSV first); if it were, its reply is the next one.
            self.early = Early::Owed;
        }
        self.events.push_back(Event::Completed(result));
    }

    /// Closes the session for good (nothing more is sent or accepted).
    fn close_session(&mut self) {
        if self.data_open {
            self.intent(DataIntent::Close);
        }
        self.op = None;
        self.closed = true;
        self.early = Early::None;
        self.next_type = None;
        self.reply_deadline = None;
        self.data_deadline = None;
        self.op_deadline = None;
        self.tx.clear();
        self.tx_pos = 0;
    }

    /// Ends the operation in flight (if any) with `error` and closes the session.
    pub(super) fn fatal(&mut self, error: OpError) {
        if self.op.is_some() {
            self.end_op(Err(error));
        }
        self.close_session();
    }

    pub(super) fn apply(&mut self, flow: Flow) {
        match flow {
            Flow::Wait(op) => self.op = Some(op),
            Flow::Done(result) => self.end_op(result),
            Flow::DoneAndClose(result) => {
                self.end_op(result);
                self.close_session();
            }
            Flow::Fatal(error) => {
                self.end_op(Err(error));
                self.close_session();
            }
        }
    }

    // ----------------------------------------------------------------------------------
    // Replies
    // ----------------------------------------------------------------------------------

    /// One complete reply from the server.
    pub(super) fn on_reply(&mut self, now: Instant, reply: Reply) {
        if self.config.trace_replies {
            self.events.push_back(Event::Reply(reply.clone()));
        }
        if reply.code().get() == 421 {
            // Service closing (RFC 959 §4.2): valid at any point, ends everything.
            self.fatal(OpError::Temporary(reply));
            return;
        }
        if self.early_reply(now, &reply) {
            // The early EPSV's answer (`pipeline.rs`).
            return;
        }
        let code = reply.code().get();
        if self.stray_after_abort && matches!(code, 226 | 426 | 451) {
            let stray = match &self.op {
                // Nobody asked: it was the aborted transfer's.
                None => true,
                Some(op) => self.is_stray_abort_reply(op, code),
            };
            if stray {
                self.stray_after_abort = false;
                if self.op.is_some() {
                    // The command's own reply is still owed.
                    self.await_reply(now);
                }
                return;
            }
        }
        if self.in_tls_shutdown() {
            // Nothing is owed during the TLS shutdown: a stray reply changes nothing, and the
            // shutdown's deadline keeps running (clearing it would wait forever).
            return;
        }
        let Some(op) = self.op.take() else {
            // No operation owns this reply (e.g. a late second reply): nothing to do.
            return;
        };
        self.reply_deadline = None;
        let transfer = matches!(op, Op::Transfer(_));
        let flow = self.step_reply(now, op, reply);
        if transfer {
            self.early_after_transfer_reply(&flow);
        }
        self.apply(flow);
    }

    /// Whether a `226`/`426`/`451` arriving while `op` runs can only be a late reply of an
    /// aborted transfer. RFC 959 §5.4 lists 226 and 426 only for transfer commands and
    /// `ABOR` (which the abort reads itself), 451 only for commands that touch files. The
    /// command is the last one sent.
    fn step_reply(&mut self, now: Instant, op: Op, reply: Reply) -> Flow {
        let preliminary = class(&reply) == ReplyClass::Preliminary;
        match op {
            Op::Transfer(t) => self.transfer_reply(now, t, reply),
            Op::Abort(a) => self.abort_reply(now, a, reply),
            Op::Tls(step @ (TlsOp::AuthHandshake { .. } | TlsOp::CccShutdown { .. })) => {
                self.tls_reply(now, step, reply)
            }
            op if preliminary => {
                // 1yz: another reply follows (RFC 959 §4.2); 120 before the greeting.
                self.await_reply(now);
                Flow::Wait(op)
            }
            Op::Greeting => self.greeting_reply(reply),
            Op::Login(login) => self.login_reply(now, login, reply),
            Op::Cmd(cmd) => self.command_reply(now, cmd, reply),
            Op::Tls(step) => self.tls_reply(now, step, reply),
            // Only while the early EPSV's reply is owed, and `on_reply` gives that reply to
            // `early_reply`; were it to come here, it is that reply all the same.
            Op::AfterEarly(next) => self.begin(now, *next),
        }
    }
}

/// States that `step_reply` routes elsewhere before the match: never reached. Returns a
/// harmless flow instead of panicking.
pub(super) fn unreachable_flow() -> Flow {
    debug_assert!(false, "state routed elsewhere");
    Flow::Fatal(OpError::ConnectionClosed)
}

/// The verb of an encoded command line, upper-cased and space-padded to 4 bytes; zeros when
/// it is longer than 4 bytes or empty.
fn verb_key(line: &[u8]) -> [u8; 4] {
    let end = line
        .iter()
        .position(|&b| b == b' ' || b == b'\r' || b == b'\n')
        .unwrap_or(line.len());
    let mut key = [b' '; 4];
    if end == 0 || end > 4 {
        return [0; 4];
    }
    for (k, b) in key.iter_mut().zip(&line[..end]) {
        *k = b.to_ascii_uppercase();
    }
    key
}
