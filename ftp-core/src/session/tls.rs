//! FTPS on the control connection (RFC 4217): `AUTH TLS` and the handshake it asks the
//! driver for, `PBSZ` + `PROT`, `CCC` and its TLS shutdown, and the rules that keep TLS
//! decisions out of the drivers:
//!
//! - a refused `AUTH TLS` (or a `HOST` refused before it) closes the session unless
//!   [`Config::allow_clear_after_refused_auth`](super::Config::allow_clear_after_refused_auth)
//!   is set, so nothing queued behind it can go out in clear text, whichever loop runs the
//!   session; a failed handshake is reported by the driver with
//!   [`Session::handle_close`] and closes it too;
//! - `AUTH TLS` on a control connection that already runs TLS is refused
//!   ([`UsageError::AlreadyTls`]);
//! - protected data (`PROT P`/`S`/`E`, typed or raw) and `CCC` need a TLS control connection
//!   first ([`UsageError::TlsRequired`]);
//! - `AUTH` and `CCC` change the connection's framing and are only sent through their
//!   operations, never as raw lines ([`UsageError::RawTlsCommand`]).

use std::time::Instant;

use crate::command::{Command, ProtLevel};
use crate::reply::{Reply, ReplyClass};

use super::commands::starts_with_verb;
use super::machine::{class, err, Flow, Op};
use super::{Event, OpError, Operation, Outcome, ProtocolError, Session, TlsIntent, UsageError};

/// A TLS-family operation in flight.
#[derive(Debug)]
pub(super) enum TlsOp {
    /// `PBSZ 0` sent; `PROT level` follows.
    Pbsz { level: ProtLevel },
    /// `PROT level` sent.
    Prot { level: ProtLevel },
    /// `HOST` sent before `AUTH TLS`.
    AuthHost,
    /// `AUTH TLS` sent.
    Auth,
    /// 234 received; waiting for the driver's handshake. No input is accepted meanwhile.
    AuthHandshake { reply: Reply },
    /// `CCC` sent.
    Ccc,
    /// 200 to `CCC`; waiting for the driver's TLS shutdown.
    CccShutdown { reply: Reply },
}

impl Session {
    /// The TLS rules of [`Session::start`]: refuses `op` when it cannot be right in the
    /// session's TLS state (see the module docs).
    pub(super) fn check_tls_use(&self, op: &Operation) -> Result<(), UsageError> {
        match op {
            Operation::AuthTls if self.control_tls => Err(UsageError::AlreadyTls),
            Operation::Protect(level) if *level != ProtLevel::Clear && !self.control_tls => {
                Err(UsageError::TlsRequired)
            }
            Operation::Ccc if !self.control_tls => Err(UsageError::TlsRequired),
            Operation::Raw { line, .. }
            | Operation::Transfer(super::TransferRequest {
                kind: super::TransferKind::Raw { line, .. },
                ..
            }) => {
                if starts_with_verb(line, b"AUTH") || starts_with_verb(line, b"CCC") {
                    Err(UsageError::RawTlsCommand)
                } else if raw_prot_protects(line) == Some(true) && !self.control_tls {
                    Err(UsageError::TlsRequired)
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// Sends the first command of a TLS-family operation (`AuthTls`, `Protect`, `Ccc`).
    pub(super) fn start_tls_op(&mut self, now: Instant, op: Operation) -> Op {
        let step = match op {
            Operation::AuthTls => {
                if self.send_host(now) {
                    TlsOp::AuthHost
                } else {
                    self.send(now, Command::Auth("TLS".into()));
                    TlsOp::Auth
                }
            }
            Operation::Protect(level) => {
                self.send(now, Command::Pbsz(0));
                TlsOp::Pbsz { level }
            }
            // `Ccc`, and (never routed here) anything else: `CCC` is checked by
            // `check_tls_use` like every TLS operation.
            _ => {
                debug_assert!(matches!(op, Operation::Ccc), "not a TLS-family operation");
                self.send(now, Command::Ccc);
                TlsOp::Ccc
            }
        };
        Op::Tls(step)
    }

    /// A reply while a TLS-family operation is in flight (1xx already skipped, except
    /// during the handshake and the shutdown, which accept none).
    pub(super) fn tls_reply(&mut self, now: Instant, step: TlsOp, reply: Reply) -> Flow {
        let positive = class(&reply) == ReplyClass::Completion;
        let code = reply.code().get();
        match step {
            TlsOp::AuthHandshake { .. } => {
                Flow::Fatal(OpError::Protocol(ProtocolError::DataAfterAuth))
            }
            TlsOp::CccShutdown { reply: r } => {
                // Nothing is owed during the TLS shutdown; keep waiting for the driver.
                Flow::Wait(Op::Tls(TlsOp::CccShutdown { reply: r }))
            }
            TlsOp::Pbsz { level } => {
                if positive {
                    self.send(now, Command::Prot(level));
                    Flow::Wait(Op::Tls(TlsOp::Prot { level }))
                } else {
                    err(reply)
                }
            }
            TlsOp::Prot { level } => {
                if positive {
                    self.data_tls = level != ProtLevel::Clear;
                    Flow::Done(Ok(Outcome::Done(reply)))
                } else {
                    err(reply)
                }
            }
            TlsOp::AuthHost => {
                if positive || code == 500 || code == 502 {
                    self.send(now, Command::Auth("TLS".into()));
                    Flow::Wait(Op::Tls(TlsOp::Auth))
                } else {
                    self.auth_refused(reply)
                }
            }
            TlsOp::Auth => {
                if code == 234 {
                    self.events.push_back(Event::Tls(TlsIntent::UpgradeControl));
                    // The handshake gets as long as a reply would.
                    self.await_reply(now);
                    Flow::Wait(Op::Tls(TlsOp::AuthHandshake { reply }))
                } else {
                    self.auth_refused(reply)
                }
            }
            TlsOp::Ccc => {
                if positive {
                    self.events
                        .push_back(Event::Tls(TlsIntent::DowngradeControl));
                    self.await_reply(now);
                    Flow::Wait(Op::Tls(TlsOp::CccShutdown { reply }))
                } else {
                    err(reply)
                }
            }
        }
    }

    /// `AUTH TLS` (or the `HOST` before it) was refused: never go on in clear text unless the
    /// caller opted in. The operation ends with the server's reply either way.
    fn auth_refused(&mut self, reply: Reply) -> Flow {
        if self.config.allow_clear_after_refused_auth {
            err(reply)
        } else {
            Flow::DoneAndClose(Err(OpError::from_reply(reply)))
        }
    }

    pub(super) fn on_tls_established(&mut self) {
        match self.op.take() {
            Some(Op::Tls(TlsOp::AuthHandshake { reply })) => {
                self.control_tls = true;
                self.apply(Flow::Done(Ok(Outcome::Done(reply))));
            }
            Some(Op::Tls(TlsOp::CccShutdown { reply })) => {
                self.control_tls = false;
                self.apply(Flow::Done(Ok(Outcome::Done(reply))));
            }
            other => self.op = other,
        }
    }

    /// Whether the session waits for the driver's TLS handshake (no input allowed).
    pub(super) fn awaiting_tls_upgrade(&self) -> bool {
        matches!(self.op, Some(Op::Tls(TlsOp::AuthHandshake { .. })))
    }

    /// Whether the reply deadline currently guards a TLS change.
    pub(super) fn awaiting_tls(&self) -> bool {
        matches!(
            self.op,
            Some(Op::Tls(
                TlsOp::AuthHandshake { .. } | TlsOp::CccShutdown { .. }
            ))
        )
    }

    /// Whether a reply arriving now is ignored: nothing is owed during a TLS shutdown (a
    /// stray reply changes nothing, and the shutdown's deadline keeps running).
    pub(super) fn in_tls_shutdown(&self) -> bool {
        matches!(self.op, Some(Op::Tls(TlsOp::CccShutdown { .. })))
    }

    /// Clear-text bytes after 234: withdraw an upgrade the driver has not seen yet, and close.
    pub(super) fn refuse_after_auth(&mut self) {
        self.events
            .retain(|e| !matches!(e, Event::Tls(TlsIntent::UpgradeControl)));
        self.fatal(OpError::Protocol(ProtocolError::DataAfterAuth));
    }
}

/// For a raw `PROT x` line: `Some(true)` when it asks for protected data (`P`, `S`, `E`),
/// `Some(false)` for `PROT C`, `None` for any other line.
pub(super) fn raw_prot_protects(line: &[u8]) -> Option<bool> {
    if starts_with_verb(line, b"PROT") {
        Some(!line[4..].trim_ascii().eq_ignore_ascii_case(b"C"))
    } else {
        None
    }
}
