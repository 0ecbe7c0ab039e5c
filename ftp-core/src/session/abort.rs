//! `ABOR` (RFC 959 §4.1.3) and what real servers answer to it, the `NOOP` that
//! resynchronises after an ambiguous answer, and the late replies of an aborted transfer.

use std::time::Instant;

use crate::command::Command;
use crate::reply::{Reply, ReplyClass};

use super::machine::{class, err, Flow, Op};
use super::tls::TlsOp;
use super::transfer::{Phase, Transfer};
use super::{DataIntent, OpError, Outcome, Session};

/// The `ABOR` sub-machine (RFC 959 §4.1.3 and what servers really send).
#[derive(Debug)]
pub(super) struct Abort {
    pub(super) stage: AbortStage,
    /// `Some`: the error the operation ends with instead of [`Outcome::Aborted`] (a data
    /// timeout that needed an `ABOR` to resynchronise).
    pub(super) instead: Option<OpError>,
    /// `ABOR` went out while the data connection was open and carrying the transfer: it
    /// is closed ([`DataIntent::Close`]) on the first reply, or when the grace
    /// ([`Config::abort_grace`](super::Config::abort_grace), armed as the data deadline)
    /// passes.
    pub(super) close_data: bool,
}

#[derive(Debug)]
pub(super) enum AbortStage {
    /// A reply to a set-up command is outstanding; `ABOR` is sent once it arrives.
    /// `clear_rest`: that command is `REST`; if the server accepts it, `REST 0` goes first
    /// so that its restart marker does not apply to the next transfer.
    Deferred { clear_rest: bool },
    /// `ABOR` sent and nothing else owed: the next final reply is `ABOR`'s.
    Single,
    /// `ABOR` sent while the transfer's final reply was still owed.
    First,
    /// The transfer ended with an error reply (426, 451, ...); `ABOR`'s reply comes next.
    AfterTransferReply,
    /// A 226 came first: it is either the transfer's (then `ABOR`'s reply follows: 225/226,
    /// or 500/502 where `ABOR` is unknown) or `ABOR`'s only reply. Or a 225 came first:
    /// `ABOR`'s own reply (`abor_known`), with the transfer command's reply unseen (some
    /// servers drop it, some send it late). `NOOP` was sent to find out: replies up to
    /// `NOOP`'s (200) are read.
    Sync {
        abor_reply: Reply,
        absorbed: bool,
        abor_known: bool,
    },
    /// The abort is over (`result`), but the early `EPSV` sent behind the transfer
    /// (`pipeline.rs`) was not answered with a recognisable `229`: its reply may still come,
    /// or may have been read as one of the abort's. `NOOP` was sent; replies up to its `200`
    /// are read (at most one before it).
    Drain {
        result: Result<Outcome, OpError>,
        absorbed: bool,
    },
}

impl Session {
    pub(super) fn is_stray_abort_reply(&self, op: &Op, code: u16) -> bool {
        match op {
            // The abort reads its own replies; the TLS steps accept none.
            Op::Abort(_)
            | Op::Tls(TlsOp::AuthHandshake { .. } | TlsOp::CccShutdown { .. })
            | Op::Greeting => return false,
            // Before the 1xx a transfer command gets 425 when the data connection fails, not
            // 426 (nothing was transferred, so nothing was aborted): a 426 then is the late
            // one. (A 226 there is skipped anyway, see `skipped_2xx`.) After the 1xx any 426
            // may be the transfer's own.
            Op::Transfer(t) if t.phase == Phase::Command => return code == 426,
            Op::Transfer(t) if t.phase == Phase::Streaming => return false,
            _ => {}
        }
        const TRANSFER_VERBS: [&[u8; 4]; 7] = [
            b"RETR", b"STOR", b"STOU", b"APPE", b"LIST", b"NLST", b"MLSD",
        ];
        const NO_FILE_VERBS: [&[u8; 4]; 16] = [
            b"TYPE", b"EPSV", b"PASV", b"EPRT", b"PORT", b"REST", b"NOOP", b"PWD ", b"XPWD",
            b"SYST", b"FEAT", b"HELP", b"OPTS", b"MODE", b"STRU", b"HOST",
        ];
        let verb = &self.last_verb;
        match code {
            226 | 426 => !TRANSFER_VERBS.contains(&verb) && *verb != [0; 4],
            451 => NO_FILE_VERBS.contains(&verb),
            _ => false,
        }
    }

    /// Starts aborting the transfer in flight; see [`Session::abort`]. `instead`: the error
    /// the abort ends with rather than [`Outcome::Aborted`] (a data timeout, a local
    /// failure).
    ///
    /// The order is a protocol decision, made here for every driver: `ABOR` goes out
    /// first, and a data connection that carries the transfer is closed only on the first
    /// reply or after [`Config::abort_grace`](super::Config::abort_grace). Some servers drop
    /// the whole session when the data connection vanishes before `ABOR` arrives; others
    /// notice `ABOR` only once the data connection fails (vsftpd without async `ABOR`),
    /// which the grace takes care of. A data connection that carries nothing yet (the
    /// transfer command not sent) is closed at once.
    pub(super) fn abort_transfer(
        &mut self,
        now: Instant,
        t: &Transfer,
        instead: Option<OpError>,
    ) -> Op {
        self.stray_after_abort = false;
        self.early_drop_port();
        self.data_deadline = None;
        if t.phase == Phase::Type {
            // The `TYPE` reply will be read by the abort: the server's type is unknown.
            self.cur_type = None;
        }
        let carrying = self.data_open && matches!(t.phase, Phase::Command | Phase::Streaming);
        if self.data_open && !carrying {
            self.intent(DataIntent::Close);
        }
        let stage = if t.phase.awaits_reply() {
            AbortStage::Deferred {
                clear_rest: t.phase == Phase::Rest,
            }
        } else {
            self.send(now, Command::Abor);
            match t.phase {
                Phase::Command => AbortStage::First,
                Phase::Streaming if t.final_reply.is_none() => AbortStage::First,
                _ => AbortStage::Single,
            }
        };
        let mut close_data = false;
        if carrying {
            let grace = self.config.abort_grace;
            match now.checked_add(grace) {
                Some(deadline) if !grace.is_zero() => {
                    // The grace bounds the wait for the first answer: a server may answer
                    // only once its data connection fails. The reply deadline runs again
                    // from the moment the data connection is closed.
                    self.data_deadline = Some(deadline);
                    self.reply_deadline = None;
                    close_data = true;
                }
                _ => self.intent(DataIntent::Close),
            }
        }
        Op::Abort(Abort {
            stage,
            instead,
            close_data,
        })
    }

    /// The grace after `ABOR` passed (the data deadline during an abort): close the data
    /// connection now, so that a server that only notices `ABOR` once its transfer fails
    /// answers.
    pub(super) fn abort_grace_passed(&mut self, now: Instant, mut a: Abort) -> Flow {
        self.close_aborted_data(&mut a);
        self.await_reply(now);
        Flow::Wait(Op::Abort(a))
    }

    fn close_aborted_data(&mut self, a: &mut Abort) {
        if a.close_data {
            a.close_data = false;
            self.data_deadline = None;
            if self.data_open {
                self.intent(DataIntent::Close);
            }
        }
    }

    /// `ABOR` while idle.
    pub(super) fn abort_idle(&mut self, now: Instant) -> Op {
        self.stray_after_abort = false;
        self.early_drop_port();
        self.send(now, Command::Abor);
        Op::Abort(Abort {
            stage: AbortStage::Single,
            instead: None,
            close_data: false,
        })
    }

    pub(super) fn abort_reply(&mut self, now: Instant, a: Abort, reply: Reply) -> Flow {
        match self.abort_step(now, a, reply) {
            Flow::Done(result) if self.early_behind() => {
                // The early EPSV's answer was not recognised (no 229 came): it is still owed,
                // or it was read as one of the abort's replies. NOOP's 200 settles it.
                self.send(now, Command::Noop);
                Flow::Wait(Op::Abort(Abort {
                    stage: AbortStage::Drain {
                        result,
                        absorbed: false,
                    },
                    instead: None,
                    close_data: false,
                }))
            }
            flow => flow,
        }
    }

    fn abort_step(&mut self, now: Instant, mut a: Abort, reply: Reply) -> Flow {
        // The server answered: it has seen `ABOR` (or ended the transfer itself).
        self.close_aborted_data(&mut a);
        let cls = class(&reply);
        let code = reply.code().get();
        if cls == ReplyClass::Preliminary {
            // A late 150 for the aborted command: its final reply still follows.
            if matches!(a.stage, AbortStage::Single) {
                a.stage = AbortStage::First;
            }
            self.await_reply(now);
            return Flow::Wait(Op::Abort(a));
        }
        match core::mem::replace(&mut a.stage, AbortStage::Single) {
            AbortStage::Deferred { clear_rest } if clear_rest && cls.is_positive() => {
                // The server keeps a restart offset until a transfer command uses it
                // (vsftpd, pyftpdlib): reset it, or the next download would start there.
                self.send(now, Command::Rest(0));
                a.stage = AbortStage::Deferred { clear_rest: false };
                Flow::Wait(Op::Abort(a))
            }
            AbortStage::Deferred { .. } => {
                self.send(now, Command::Abor);
                a.stage = AbortStage::Single;
                Flow::Wait(Op::Abort(a))
            }
            AbortStage::Single => Self::abort_end(a, reply),
            AbortStage::AfterTransferReply => {
                // The transfer's failure reply was read, so the transfer is over: whatever
                // final reply follows answers `ABOR` and ends the abort (Pure-FTPd answers
                // `426` + `451` for an aborted upload). Only a refusal of `ABOR` itself
                // (500/501/502, RFC 959 §5.4) or a nonsensical 3xx is an error.
                if matches!(code, 300..=399 | 500..=502) {
                    Self::abort_end(a, reply)
                } else {
                    Self::abort_done(a, reply)
                }
            }
            AbortStage::First => {
                if cls == ReplyClass::Completion {
                    // 225 ("data connection open; no transfer in progress") is ABOR's own
                    // reply, with the transfer command's reply not seen: pyftpdlib drops it,
                    // other servers may still send it (a late 425 or 550). A 226 is
                    // ambiguous. Either way, resynchronise with NOOP so that no late reply
                    // is taken for the next command's.
                    self.send(now, Command::Noop);
                    a.stage = AbortStage::Sync {
                        abor_known: code == 225,
                        abor_reply: reply,
                        absorbed: false,
                    };
                    Flow::Wait(Op::Abort(a))
                } else {
                    // 426/451/...: the transfer's reply; ABOR's follows.
                    a.stage = AbortStage::AfterTransferReply;
                    self.await_reply(now);
                    Flow::Wait(Op::Abort(a))
                }
            }
            AbortStage::Drain { result, absorbed } => {
                if code != 200 && !absorbed {
                    a.stage = AbortStage::Drain {
                        result,
                        absorbed: true,
                    };
                    self.await_reply(now);
                    Flow::Wait(Op::Abort(a))
                } else {
                    self.early_settled();
                    Flow::Done(result)
                }
            }
            AbortStage::Sync {
                abor_reply,
                absorbed,
                abor_known,
            } if absorbed && code != 200 && self.early_behind() => {
                // One more reply before NOOP's: the early EPSV's (a refusal; a 229 is
                // recognised before it gets here).
                self.early_settled();
                a.stage = AbortStage::Sync {
                    abor_reply,
                    absorbed,
                    abor_known,
                };
                self.await_reply(now);
                Flow::Wait(Op::Abort(a))
            }
            AbortStage::Sync {
                abor_reply,
                absorbed,
                abor_known,
            } => {
                // NOOP answers 200 (every server we know); one reply before it is never
                // NOOP's: absorb it, so that NOOP's reply is not left for the next operation.
                if !absorbed && code != 200 {
                    let abor_reply = if abor_known || code == 426 || code == 451 {
                        // The first 226 was ABOR's and the aborted transfer's own failure
                        // reply comes late (libunftp: `226 Closed data channel`, then
                        // `426 Connection closed`).
                        abor_reply
                    } else {
                        // ABOR's own reply (225/226, or 500/502 from a server without
                        // ABOR): the first 226 was the transfer's.
                        reply
                    };
                    a.stage = AbortStage::Sync {
                        abor_reply,
                        absorbed: true,
                        abor_known,
                    };
                    self.await_reply(now);
                    Flow::Wait(Op::Abort(a))
                } else {
                    // NOOP's reply: the stream is in step again. Without an absorbed reply
                    // the first 226 was ABOR's, and the transfer's own reply may still come
                    // late (libunftp). Everything sent before NOOP is answered.
                    self.early_settled();
                    self.stray_after_abort = !absorbed;
                    Self::abort_end(a, abor_reply)
                }
            }
        }
    }

    fn abort_end(a: Abort, reply: Reply) -> Flow {
        match a.instead {
            Some(e) => Flow::Done(Err(e)),
            None if class(&reply) == ReplyClass::Completion => {
                Flow::Done(Ok(Outcome::Aborted { reply }))
            }
            None => err(reply),
        }
    }

    /// Ends the abort with [`Outcome::Aborted`] whatever the reply's class (unless the abort
    /// stands in for another error).
    fn abort_done(a: Abort, reply: Reply) -> Flow {
        match a.instead {
            Some(e) => Flow::Done(Err(e)),
            None => Flow::Done(Ok(Outcome::Aborted { reply })),
        }
    }
}
