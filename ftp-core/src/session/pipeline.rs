//! [`Config::pipeline_passive`](super::Config::pipeline_passive): the next passive transfer's
//! `EPSV`, sent right behind the running transfer's command, and the bookkeeping that keeps
//! every reply matched to its command.
//!
//! On a server that answers in order the replies come as `[1xx] final(transfer) 229(early)`.
//! The early `EPSV`'s reply is therefore read:
//! - `Early::Behind`: while the running transfer's final reply is unread, only a `229` can
//!   be its answer (no transfer command or `ABOR` gets one); it arrives *out of order*, and
//!   the server is one that acts on commands during a transfer: pipelining stops for the
//!   session and the port is not used. If the transfer's data connection ends before its
//!   final reply, `NOOP`'s `200` bounds the wait (`Phase::Resync`). Every other reply is the
//!   transfer's (or, during an abort, the abort's).
//! - `Early::Owed`: the transfer's final reply was read, so the next reply, whatever it is,
//!   is the early `EPSV`'s.
//! - `Early::Got`: its `229` arrived and waits for the next operation, which uses it if it is
//!   a passive transfer of the same type started soon after ([`EARLY_PORT_TTL`]).
//!
//! An operation that cannot use it and starts while its reply is still owed waits for that
//! reply before it sends anything (`Op::AfterEarly`). An abort of the running transfer
//! ends with a `NOOP` round trip unless the early reply was recognised as a `229`, so that
//! an early refusal read as part of the abort cannot leave a reply behind.

use std::time::{Duration, Instant};

use crate::command::{Command, TransferType};
use crate::reply::Reply;

use super::machine::{Flow, Op};
use super::transfer::{Phase, Transfer};
use super::{Operation, Session, TransferRequest};

/// How long a `229` answering an early `EPSV` is kept for the next operation. Servers close
/// a passive listener nobody connects to after a while (pyftpdlib after 30 s, vsftpd after
/// its 60 s `accept_timeout`); the next transfer normally starts at once.
pub(super) const EARLY_PORT_TTL: Duration = Duration::from_secs(10);

/// The state of the early `EPSV` (see the module docs).
#[derive(Debug, Default)]
pub(super) enum Early {
    /// None sent, or its reply was read and used or dropped.
    #[default]
    None,
    /// Sent behind the running transfer's command; that transfer's final reply is unread.
    Behind,
    /// The running transfer's final reply was read: the next reply is the early `EPSV`'s.
    Owed,
    /// Its `229` arrived at `at`; the next operation may use it.
    Got { reply: Reply, at: Instant },
}

/// What [`Session::start`] does about the early `EPSV`.
pub(super) enum EarlyUse {
    /// Nothing: none is pending (or its `229` was dropped).
    Ignore,
    /// The transfer takes it over: its reply (if it came) is the transfer's `EPSV` reply.
    Adopt(Option<Reply>),
    /// Its reply is still owed and the operation cannot use it: wait for it first.
    Wait,
}

fn wanted(ascii: bool) -> TransferType {
    if ascii {
        TransferType::Ascii
    } else {
        TransferType::Binary
    }
}

impl Session {
    /// Whether a transfer could be set up with an `EPSV` sent earlier: passive mode with
    /// `EPSV` and no `TYPE` change.
    fn can_use_early(&self, req: &TransferRequest) -> bool {
        self.config.passive
            && self.config.use_epsv
            && !self.epsv_refused
            && self.cur_type == Some(wanted(req.ascii))
    }

    /// The hint of [`Session::prepare_next`]: the next operation's transfer type, if it is a
    /// transfer. A transfer in flight that already sent its command sends the early `EPSV`
    /// now.
    pub(super) fn note_next(&mut self, next: &Operation) {
        self.next_type = match next {
            Operation::Transfer(req) => Some(wanted(req.ascii)),
            _ => None,
        };
        match self.op.take() {
            Some(Op::Transfer(t)) => {
                self.send_early_epsv(t.as_ref());
                self.op = Some(Op::Transfer(t));
            }
            other => self.op = other,
        }
    }

    /// Sends the early `EPSV` behind `t`'s command when everything allows it. The bytes go
    /// straight into the transmit buffer: the reply deadline and the last verb stay those of
    /// the transfer command, whose reply comes first.
    pub(super) fn send_early_epsv(&mut self, t: &Transfer) {
        let allowed = self.config.pipeline_passive
            && self.config.passive
            && self.config.use_epsv
            && !self.epsv_refused
            && !self.pipelining_stopped
            // A late reply of an aborted transfer may still come: keep the stream simple.
            && !self.stray_after_abort
            && matches!(self.early, Early::None)
            && matches!(t.phase, Phase::Command | Phase::Streaming)
            && t.data_pending()
            && t.via_epsv
            && self.next_type.is_some()
            && self.next_type == self.cur_type;
        if !allowed {
            return;
        }
        match Command::Epsv.encode(&mut self.tx) {
            Ok(()) => {}
            // `EPSV` has no argument: it always encodes.
            Err(_) => return,
        }
        self.early = if t.final_reply.is_some() {
            // 226 before the end of data: the next reply is the early EPSV's.
            Early::Owed
        } else {
            Early::Behind
        };
    }

    /// A reply arrived; returns `true` when it was the early `EPSV`'s (consumed here).
    pub(super) fn early_reply(&mut self, now: Instant, reply: &Reply) -> bool {
        let code = reply.code().get();
        match self.early {
            Early::Behind if code == 229 => {
                match self.op.take() {
                    Some(Op::Transfer(mut t)) => {
                        // Answered before the running transfer's final reply: the server acts
                        // on commands during transfers (it may even have dropped this
                        // transfer's data connection). Stop pipelining, and do not use the
                        // port: a server juggling data channels mid-transfer may have lost
                        // its listener (pyftpdlib then never answers a RETR on it); the next
                        // transfer asks for its own.
                        t.early_out_of_order = true;
                        self.pipelining_stopped = true;
                        self.early = Early::None;
                        if t.data_pending() {
                            self.op = Some(Op::Transfer(t));
                            self.rearm_if_waiting(now);
                        } else {
                            // Its data connection already ended: the final reply may never
                            // come (pyftpdlib).
                            let flow = self.resync_after_early(now, t);
                            self.apply(flow);
                        }
                    }
                    other => {
                        // An abort reads the stream: the port is not used.
                        self.op = other;
                        self.early = Early::None;
                        self.rearm_if_waiting(now);
                    }
                }
                true
            }
            Early::Owed if code < 200 => {
                // A 1yz announces another reply (RFC 959 §4.2): the final one is the answer.
                self.rearm_if_waiting(now);
                true
            }
            Early::Owed => {
                let keep = code == 229 && matches!(self.op, None | Some(Op::Transfer(_)));
                if code != 229 {
                    // Refused (or something else): the next transfer sends its own EPSV.
                    self.pipelining_stopped = true;
                }
                self.early = if keep {
                    Early::Got {
                        reply: reply.clone(),
                        at: now,
                    }
                } else {
                    Early::None
                };
                match self.op.take() {
                    Some(Op::AfterEarly(next)) => {
                        self.reply_deadline = None;
                        let flow = self.begin(now, *next);
                        self.apply(flow);
                    }
                    other => {
                        self.op = other;
                        self.rearm_if_waiting(now);
                    }
                }
                true
            }
            _ => false,
        }
    }

    /// A reply that was not the operation's own was consumed: the operation's reply is
    /// still owed, so a running reply deadline starts again (one that was not running, while
    /// data moves, stays off).
    fn rearm_if_waiting(&mut self, now: Instant) {
        if self.reply_deadline.is_some() {
            self.await_reply(now);
        }
    }

    /// The transfer in flight read a reply; if that was its final reply, the early `EPSV`'s
    /// reply is the next one.
    pub(super) fn early_after_transfer_reply(&mut self, flow: &Flow) {
        if !matches!(self.early, Early::Behind) {
            return;
        }
        let final_read = match flow {
            Flow::Wait(Op::Transfer(t)) => t.final_reply.is_some(),
            Flow::Wait(_) => false,
            _ => true,
        };
        if final_read {
            self.early = Early::Owed;
        }
    }

    /// What `start(op)` does about a pending early `EPSV` (taking it out when used or
    /// dropped).
    pub(super) fn early_for(&mut self, now: Instant, op: &Operation) -> EarlyUse {
        let usable = match op {
            Operation::Transfer(req) => self.can_use_early(req),
            _ => false,
        };
        match core::mem::take(&mut self.early) {
            Early::None => EarlyUse::Ignore,
            Early::Behind | Early::Owed if usable => EarlyUse::Adopt(None),
            Early::Behind | Early::Owed => {
                self.early = Early::Owed;
                EarlyUse::Wait
            }
            Early::Got { reply, at } => {
                let fresh = now
                    .checked_duration_since(at)
                    .is_some_and(|age| age < EARLY_PORT_TTL);
                if usable && fresh {
                    EarlyUse::Adopt(Some(reply))
                } else {
                    EarlyUse::Ignore
                }
            }
        }
    }

    /// `req` starts with the early `EPSV` as its own: its reply (if it came) is handled as
    /// the answer to the transfer's `EPSV`.
    pub(super) fn adopt_early(&mut self, now: Instant, req: TransferRequest, reply: Option<Reply>) {
        let mut t = Box::new(Transfer::new(req));
        t.phase = Phase::Epsv;
        self.last_verb = *b"EPSV";
        match reply {
            Some(reply) => {
                let flow = self.transfer_reply(now, t, reply);
                self.apply(flow);
            }
            None => {
                self.await_reply(now);
                self.op = Some(Op::Transfer(t));
            }
        }
    }

    /// The early `EPSV`'s reply may still be owed (not recognised as a `229`) when an abort
    /// of the transfer that sent it ends.
    pub(super) fn early_behind(&self) -> bool {
        matches!(self.early, Early::Behind)
    }

    /// An abort starts: a `229` kept for the next transfer is dropped, since `ABOR` may close
    /// the passive port it names (libunftp closes its data channel, and a later `RETR` on
    /// that port is never answered).
    pub(super) fn early_drop_port(&mut self) {
        if matches!(self.early, Early::Got { .. }) {
            self.early = Early::None;
        }
    }

    /// Everything sent before a `NOOP` has been answered (its `200` came).
    pub(super) fn early_settled(&mut self) {
        if matches!(self.early, Early::Behind | Early::Owed) {
            self.early = Early::None;
        }
    }
}
