//! One-command operations and their small sequences: `FEAT`, `CWD` (with `CDUP` for
//! `..`), `PWD`, `MKD`, `RMD`, `DELE`, `RNFR` + `RNTO`, `TYPE I` + `SIZE`, `MDTM`, `MLST`,
//! `SITE`, `STAT`, `SYST`, `NOOP`, `HELP`, `QUIT` and raw command lines.

use std::time::Instant;

use crate::command::{Command, TransferType};
use crate::reply::decode;
use crate::reply::{Reply, ReplyClass};

use super::machine::{class, decode_err, err, unreachable_flow, Flow, Op};
use super::tls::raw_prot_protects;
use super::{OpError, Operation, Outcome, ProtocolError, Session};

/// A command-family operation in flight.
#[derive(Debug)]
pub(super) enum Cmd {
    /// `FEAT` as an operation of its own.
    Feat,
    /// One command whose final reply is interpreted by `Expect`.
    Simple(Expect),
    /// `CDUP` sent for `CWD ..`; on 500 fall back to `CWD ..`.
    CdupForDotDot,
    /// `RNFR` sent; `RNTO to` follows on 3xx.
    Rnfr { to: Vec<u8> },
    /// `TYPE I` sent before `SIZE path`.
    SizeType { path: Vec<u8> },
}

/// How to interpret the final reply of a one-command operation.
#[derive(Debug)]
pub(super) enum Expect {
    /// Any 2xx is success ([`Outcome::Done`]).
    Done,
    /// 257 path; `asked` is the fallback for `MKD` when the reply has none.
    Path {
        asked: Option<Vec<u8>>,
    },
    Size,
    Mdtm,
    Mlst,
    Raw {
        require_2xx: bool,
        /// A raw `PROT x`: whether data needs TLS once it succeeds.
        prot: Option<bool>,
    },
    Quit,
}

/// The fact line of an MLST reply (RFC 3659 §7.2): the line starting with a space.
fn mlst_entry(reply: &Reply) -> Option<Vec<u8>> {
    let lines: Vec<&[u8]> = reply.lines().collect();
    if lines.len() < 3 {
        return None;
    }
    let body = &lines[1..lines.len() - 1];
    let line = body
        .iter()
        .find(|l| l.first() == Some(&b' '))
        .or_else(|| body.iter().find(|l| !l.is_empty()))?;
    let line = line.strip_prefix(b" ").unwrap_or(line);
    if line.is_empty() {
        None
    } else {
        Some(line.to_vec())
    }
}

impl Session {
    /// Sends the first command of a command-family operation. `op` is one of the variants
    /// [`Session::start`] routes here.
    pub(super) fn start_command(&mut self, now: Instant, op: Operation) -> Op {
        let cmd = match op {
            Operation::Feat => {
                self.send(now, Command::Feat);
                Cmd::Feat
            }
            Operation::Cwd(path) => {
                if path == b".." {
                    self.send(now, Command::Cdup);
                    Cmd::CdupForDotDot
                } else {
                    let path: &[u8] = if path.is_empty() { b"." } else { &path };
                    self.send(now, Command::Cwd(path.into()));
                    Cmd::Simple(Expect::Done)
                }
            }
            Operation::Cdup => self.simple(now, Command::Cdup, Expect::Done),
            Operation::Pwd => self.simple(now, Command::Pwd, Expect::Path { asked: None }),
            Operation::Mkd(path) => {
                self.send(now, Command::Mkd((&path).into()));
                Cmd::Simple(Expect::Path { asked: Some(path) })
            }
            Operation::Rmd(p) => self.simple(now, Command::Rmd((&p).into()), Expect::Done),
            Operation::Dele(p) => self.simple(now, Command::Dele((&p).into()), Expect::Done),
            Operation::Rename { from, to } => {
                self.send(now, Command::Rnfr((&from).into()));
                Cmd::Rnfr { to }
            }
            Operation::Size(path) => {
                if self.cur_type == Some(TransferType::Binary) {
                    self.simple(now, Command::Size((&path).into()), Expect::Size)
                } else {
                    self.send(now, Command::Type(TransferType::Binary));
                    Cmd::SizeType { path }
                }
            }
            Operation::Mdtm(p) => self.simple(now, Command::Mdtm((&p).into()), Expect::Mdtm),
            Operation::Mlst(p) => {
                let cmd = Command::Mlst(p.as_ref().map(Into::into));
                self.simple(now, cmd, Expect::Mlst)
            }
            Operation::Site(p) => self.simple(now, Command::Site((&p).into()), Expect::Done),
            Operation::Stat(p) => {
                let cmd = Command::Stat(p.as_ref().map(Into::into));
                self.simple(now, cmd, Expect::Done)
            }
            Operation::Syst => self.simple(now, Command::Syst, Expect::Done),
            Operation::Help(p) => {
                let cmd = Command::Help(p.as_ref().map(Into::into));
                self.simple(now, cmd, Expect::Done)
            }
            Operation::Quit => self.simple(now, Command::Quit, Expect::Quit),
            Operation::Raw { line, require_2xx } => {
                // Commands that change state the session tracks: forget or follow it.
                if starts_with_verb(&line, b"TYPE") || starts_with_verb(&line, b"REIN") {
                    self.cur_type = None;
                }
                let prot = raw_prot_protects(&line);
                self.simple(
                    now,
                    Command::Raw((&line).into()),
                    Expect::Raw { require_2xx, prot },
                )
            }
            Operation::Noop => self.simple(now, Command::Noop, Expect::Done),
            // Other families' operations are never routed here; `NOOP` is harmless.
            _ => {
                debug_assert!(false, "not a command-family operation");
                self.simple(now, Command::Noop, Expect::Done)
            }
        };
        Op::Cmd(cmd)
    }

    fn simple(&mut self, now: Instant, cmd: Command<'_>, expect: Expect) -> Cmd {
        self.send(now, cmd);
        Cmd::Simple(expect)
    }

    /// The final reply to a command-family operation.
    pub(super) fn command_reply(&mut self, now: Instant, cmd: Cmd, reply: Reply) -> Flow {
        let positive = class(&reply) == ReplyClass::Completion;
        match cmd {
            Cmd::Feat => {
                if !positive {
                    return err(reply);
                }
                match decode::feat(reply.as_ref()) {
                    Ok(f) => {
                        self.features = Some(f.clone());
                        Flow::Done(Ok(Outcome::Features(f)))
                    }
                    Err(e) => Flow::Done(Err(decode_err(&reply, e))),
                }
            }
            Cmd::Simple(expect) => self.simple_reply(expect, reply),
            Cmd::CdupForDotDot => {
                if positive {
                    Flow::Done(Ok(Outcome::Done(reply)))
                } else if reply.code().get() == 500 {
                    self.send(now, Command::Cwd("..".into()));
                    Flow::Wait(Op::Cmd(Cmd::Simple(Expect::Done)))
                } else {
                    err(reply)
                }
            }
            Cmd::Rnfr { to } => match class(&reply) {
                ReplyClass::Intermediate => {
                    self.send(now, Command::Rnto((&to).into()));
                    Flow::Wait(Op::Cmd(Cmd::Simple(Expect::Done)))
                }
                _ => err(reply),
            },
            Cmd::SizeType { path } => {
                if positive {
                    self.cur_type = Some(TransferType::Binary);
                    self.send(now, Command::Size((&path).into()));
                    Flow::Wait(Op::Cmd(Cmd::Simple(Expect::Size)))
                } else {
                    err(reply)
                }
            }
        }
    }

    fn simple_reply(&mut self, expect: Expect, reply: Reply) -> Flow {
        let cls = class(&reply);
        if matches!(expect, Expect::Quit) {
            return Flow::DoneAndClose(if cls == ReplyClass::Completion {
                Ok(Outcome::Closed(reply))
            } else {
                Err(OpError::from_reply(reply))
            });
        }
        if let Expect::Raw { require_2xx, prot } = expect {
            return match cls {
                ReplyClass::Completion => {
                    if let Some(tls) = prot {
                        self.data_tls = tls;
                    }
                    Flow::Done(Ok(Outcome::Done(reply)))
                }
                ReplyClass::Intermediate if !require_2xx => Flow::Done(Ok(Outcome::Done(reply))),
                _ => err(reply),
            };
        }
        if cls != ReplyClass::Completion {
            return err(reply);
        }
        match expect {
            Expect::Done => Flow::Done(Ok(Outcome::Done(reply))),
            Expect::Path { asked } => match decode::path(reply.as_ref()) {
                Ok(p) => Flow::Done(Ok(Outcome::Path(p))),
                Err(e) => match asked {
                    Some(a) => Flow::Done(Ok(Outcome::Path(a))),
                    None if reply.code().get() != 257 => Flow::Done(Err(OpError::Reply(reply))),
                    None => Flow::Done(Err(decode_err(&reply, e))),
                },
            },
            Expect::Size => match decode::size(reply.as_ref()) {
                Ok(n) => Flow::Done(Ok(Outcome::Size(n))),
                Err(e) => Flow::Done(Err(decode_err(&reply, e))),
            },
            Expect::Mdtm => match decode::mdtm(reply.as_ref()) {
                Ok(t) => Flow::Done(Ok(Outcome::Mtime(t))),
                Err(e) => Flow::Done(Err(decode_err(&reply, e))),
            },
            Expect::Mlst => match mlst_entry(&reply) {
                Some(line) => Flow::Done(Ok(Outcome::Entry(line))),
                None => Flow::Done(Err(OpError::Protocol(ProtocolError::MissingEntry))),
            },
            Expect::Raw { .. } | Expect::Quit => unreachable_flow(),
        }
    }
}

/// Whether `line` starts with `verb` (case-insensitive) followed by a space or its end.
pub(super) fn starts_with_verb(line: &[u8], verb: &[u8]) -> bool {
    line.len() >= verb.len()
        && line[..verb.len()].eq_ignore_ascii_case(verb)
        && line.get(verb.len()).map_or(true, |&b| b == b' ')
}
