//! The state machine behind [`Session`]: one operation in flight as an explicit enum of
//! per-operation sub-machines, each step a function from (state, input) to the next state.

use core::net::{IpAddr, SocketAddr};
use std::time::Instant;

use crate::command::{Command, ProtLevel, TransferType};
use crate::reply::decode;
use crate::reply::{Reply, ReplyClass};

use super::{
    DataEvent, DataFailure, DataIntent, Direction, Event, OpError, Outcome, ProtocolError, Session,
    TimeoutKind, TlsIntent, TransferKind, TransferRequest,
};

/// The operation in flight.
#[derive(Debug)]
pub(super) enum Op {
    /// Waiting for the server's greeting (120 is skipped).
    Greeting,
    Login(Box<Login>),
    /// `FEAT` as an operation of its own.
    Feat,
    /// One command whose final reply is interpreted by `Expect`.
    Simple(Expect),
    /// `CDUP` sent for `CWD ..`; on 500 fall back to `CWD ..`.
    CdupForDotDot,
    /// `RNFR` sent; `RNTO to` follows on 3xx.
    Rnfr {
        to: Vec<u8>,
    },
    /// `TYPE I` sent before `SIZE path`.
    SizeType {
        path: Vec<u8>,
    },
    /// `PBSZ 0` sent; `PROT level` follows.
    Pbsz {
        level: ProtLevel,
    },
    /// `PROT level` sent.
    Prot {
        level: ProtLevel,
    },
    /// `HOST` sent before `AUTH TLS`.
    AuthHost,
    /// `AUTH TLS` sent.
    Auth,
    /// 234 received; waiting for the driver's handshake. No input is accepted meanwhile.
    AuthHandshake {
        reply: Reply,
    },
    /// `CCC` sent.
    Ccc,
    /// 200 to `CCC`; waiting for the driver's TLS shutdown.
    CccShutdown {
        reply: Reply,
    },
    Transfer(Box<Transfer>),
    Abort(Abort),
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

pub(super) struct Login {
    user: String,
    password: String,
    account: Option<String>,
    stage: LoginStage,
    /// The reply that completed the login (kept while FEAT/OPTS run).
    result: Option<Reply>,
}

/// Secrets stay out of `{:?}` of a [`Session`] (drivers log it; `PASS` and `ACCT` are
/// sensitive, see [`Command::is_sensitive`]).
impl core::fmt::Debug for Login {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Login")
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .field("account", &self.account.as_ref().map(|_| "<hidden>"))
            .field("stage", &self.stage)
            .field("result", &self.result)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoginStage {
    Host,
    User,
    Pass,
    Acct,
    Feat,
    Opts,
}

#[derive(Debug)]
pub(super) struct Transfer {
    kind: TransferKind,
    ascii: bool,
    rest: Option<u64>,
    phase: Phase,
    /// A 2xx before the 1xx was skipped once (ftplib does the same for servers that send
    /// `200` before `150`).
    skipped_2xx: bool,
    /// Size announced by the 1xx reply.
    announced: Option<u64>,
    final_reply: Option<Reply>,
    data: DataState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// `TYPE` sent.
    Type,
    /// `EPSV` sent.
    Epsv,
    /// `PASV` sent.
    Pasv,
    /// [`DataIntent::Connect`] out; waiting for [`DataEvent::Connected`].
    Connecting,
    /// [`DataIntent::Listen`] out; waiting for [`DataEvent::Listening`].
    Listening,
    /// `EPRT` sent for this address.
    Eprt(SocketAddr),
    /// `PORT` sent.
    Port,
    /// `REST` sent.
    Rest,
    /// The transfer command sent; waiting for 1xx.
    Command,
    /// 1xx received: data moves; waiting for the final reply and the end of data.
    Streaming,
}

impl Phase {
    /// Whether a reply to a command of this phase is outstanding.
    fn awaits_reply(self) -> bool {
        matches!(
            self,
            Phase::Type | Phase::Epsv | Phase::Pasv | Phase::Eprt(_) | Phase::Port | Phase::Rest
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataState {
    Pending,
    Finished(u64),
    Failed(DataFailure, u64),
}

/// The `ABOR` sub-machine (RFC 959 §4.1.3 and what servers really send).
#[derive(Debug)]
pub(super) struct Abort {
    stage: AbortStage,
    /// `Some`: the error the operation ends with instead of [`Outcome::Aborted`] (a data
    /// timeout that needed an `ABOR` to resynchronise).
    instead: Option<OpError>,
}

#[derive(Debug)]
enum AbortStage {
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

fn err(reply: Reply) -> Flow {
    Flow::Done(Err(OpError::from_reply(reply)))
}

fn class(reply: &Reply) -> ReplyClass {
    reply.code().class()
}

fn decode_err(reply: &Reply, error: decode::DecodeError) -> OpError {
    OpError::Protocol(ProtocolError::Decode {
        code: reply.code().get(),
        error,
    })
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

pub(super) fn transfer_command(kind: &TransferKind) -> Command<'_> {
    match kind {
        TransferKind::Retr(p) => Command::Retr(p.into()),
        TransferKind::Stor(p) => Command::Stor(p.into()),
        TransferKind::Appe(p) => Command::Appe(p.into()),
        TransferKind::Stou => Command::Stou,
        TransferKind::List(p) => Command::List(p.as_ref().map(Into::into)),
        TransferKind::Nlst(p) => Command::Nlst(p.as_ref().map(Into::into)),
        TransferKind::Mlsd(p) => Command::Mlsd(p.as_ref().map(Into::into)),
        TransferKind::Raw { line, .. } => Command::Raw(line.into()),
    }
}

impl Transfer {
    pub(super) fn new(req: TransferRequest) -> Transfer {
        Transfer {
            kind: req.kind,
            ascii: req.ascii,
            rest: req.rest,
            phase: Phase::Type,
            skipped_2xx: false,
            announced: None,
            final_reply: None,
            data: DataState::Pending,
        }
    }

    fn direction(&self) -> Direction {
        self.kind.direction()
    }

    fn wanted_type(&self) -> TransferType {
        if self.ascii {
            TransferType::Ascii
        } else {
            TransferType::Binary
        }
    }
}

impl Login {
    pub(super) fn new(user: String, password: String, account: Option<String>) -> Login {
        // ftplib's login(): '' means anonymous, whose empty (or '-') password is 'anonymous@'.
        let user = if user.is_empty() {
            "anonymous".to_owned()
        } else {
            user
        };
        let password = if user == "anonymous" && (password.is_empty() || password == "-") {
            "anonymous@".to_owned()
        } else {
            password
        };
        Login {
            user,
            password,
            account,
            stage: LoginStage::User,
            result: None,
        }
    }

    /// The login starting with `HOST` (already sent).
    pub(super) fn at_host(mut self: Box<Self>) -> Box<Self> {
        self.stage = LoginStage::Host;
        self
    }

    pub(super) fn user(&self) -> &str {
        &self.user
    }
    pub(super) fn password(&self) -> &str {
        &self.password
    }
    pub(super) fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }
}

impl Session {
    // ----------------------------------------------------------------------------------
    // Output helpers
    // ----------------------------------------------------------------------------------

    /// Appends one command to the transmit buffer and arms the reply deadline.
    pub(super) fn send(&mut self, now: Instant, cmd: Command<'_>) {
        let was_empty = self.tx.len() == self.tx_pos;
        let before = self.tx.len();
        match cmd.encode(&mut self.tx) {
            Ok(()) => {
                self.last_verb = verb_key(&self.tx[before..]);
                if was_empty && self.tx.len() > before {
                    self.events.push_back(Event::Transmit);
                }
            }
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

    fn arm_data_deadline(&mut self, now: Instant) {
        self.data_deadline = self.config.data_timeout.and_then(|t| now.checked_add(t));
    }

    fn intent(&mut self, intent: DataIntent) {
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
        self.events.push_back(Event::Completed(result));
    }

    /// Closes the session for good (nothing more is sent or accepted).
    fn close_session(&mut self) {
        if self.data_open {
            self.intent(DataIntent::Close);
        }
        self.op = None;
        self.closed = true;
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
        let Some(op) = self.op.take() else {
            // No operation owns this reply (e.g. a late second reply): nothing to do.
            return;
        };
        if let Op::CccShutdown { .. } = op {
            // Nothing is owed during the TLS shutdown: a stray reply changes nothing, and the
            // shutdown's deadline keeps running (clearing it would wait forever).
            self.op = Some(op);
            return;
        }
        self.reply_deadline = None;
        let flow = self.step_reply(now, op, reply);
        self.apply(flow);
    }

    /// Whether a `226`/`426`/`451` arriving while `op` runs can only be a late reply of an
    /// aborted transfer. RFC 959 §5.4 lists 226 and 426 only for transfer commands and
    /// `ABOR` (which the abort reads itself), 451 only for commands that touch files. The
    /// command is the last one sent.
    fn is_stray_abort_reply(&self, op: &Op, code: u16) -> bool {
        match op {
            // The abort reads its own replies; the TLS steps accept none.
            Op::Abort(_) | Op::AuthHandshake { .. } | Op::CccShutdown { .. } | Op::Greeting => {
                return false
            }
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

    fn step_reply(&mut self, now: Instant, op: Op, reply: Reply) -> Flow {
        let preliminary = class(&reply) == ReplyClass::Preliminary;
        match op {
            Op::Transfer(t) => return self.transfer_reply(now, t, reply),
            Op::Abort(a) => return self.abort_reply(now, a, reply),
            Op::AuthHandshake { .. } => {
                return Flow::Fatal(OpError::Protocol(ProtocolError::DataAfterAuth))
            }
            Op::CccShutdown { reply: r } => {
                // Nothing is owed during the TLS shutdown; keep waiting for the driver.
                return Flow::Wait(Op::CccShutdown { reply: r });
            }
            _ if preliminary => {
                // 1yz: another reply follows (RFC 959 §4.2); 120 before the greeting.
                self.await_reply(now);
                return Flow::Wait(op);
            }
            _ => {}
        }
        let positive = class(&reply) == ReplyClass::Completion;
        match op {
            Op::Greeting => {
                if positive {
                    self.welcome = Some(reply.clone());
                    Flow::Done(Ok(Outcome::Greeting(reply)))
                } else {
                    // A server that refuses service: nothing else can follow.
                    Flow::DoneAndClose(Err(OpError::from_reply(reply)))
                }
            }
            Op::Login(login) => self.login_reply(now, login, reply),
            Op::Feat => {
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
            Op::Simple(expect) => self.simple_reply(expect, reply),
            Op::CdupForDotDot => {
                if positive {
                    Flow::Done(Ok(Outcome::Done(reply)))
                } else if reply.code().get() == 500 {
                    self.send(now, Command::Cwd("..".into()));
                    Flow::Wait(Op::Simple(Expect::Done))
                } else {
                    err(reply)
                }
            }
            Op::Rnfr { to } => match class(&reply) {
                ReplyClass::Intermediate => {
                    self.send(now, Command::Rnto((&to).into()));
                    Flow::Wait(Op::Simple(Expect::Done))
                }
                _ => err(reply),
            },
            Op::SizeType { path } => {
                if positive {
                    self.cur_type = Some(TransferType::Binary);
                    self.send(now, Command::Size((&path).into()));
                    Flow::Wait(Op::Simple(Expect::Size))
                } else {
                    err(reply)
                }
            }
            Op::Pbsz { level } => {
                if positive {
                    self.send(now, Command::Prot(level));
                    Flow::Wait(Op::Prot { level })
                } else {
                    err(reply)
                }
            }
            Op::Prot { level } => {
                if positive {
                    self.data_tls = level != ProtLevel::Clear;
                    Flow::Done(Ok(Outcome::Done(reply)))
                } else {
                    err(reply)
                }
            }
            Op::AuthHost => {
                let code = reply.code().get();
                if positive || code == 500 || code == 502 {
                    self.send(now, Command::Auth("TLS".into()));
                    Flow::Wait(Op::Auth)
                } else {
                    err(reply)
                }
            }
            Op::Auth => {
                if reply.code().get() == 234 {
                    self.events.push_back(Event::Tls(TlsIntent::UpgradeControl));
                    // The handshake gets as long as a reply would.
                    self.await_reply(now);
                    Flow::Wait(Op::AuthHandshake { reply })
                } else {
                    // Never go on in clear text when TLS was asked for.
                    err(reply)
                }
            }
            Op::Ccc => {
                if positive {
                    self.events
                        .push_back(Event::Tls(TlsIntent::DowngradeControl));
                    self.await_reply(now);
                    Flow::Wait(Op::CccShutdown { reply })
                } else {
                    err(reply)
                }
            }
            Op::Transfer(_) | Op::Abort(_) | Op::AuthHandshake { .. } | Op::CccShutdown { .. } => {
                unreachable_flow()
            }
        }
    }

    fn login_reply(&mut self, now: Instant, mut login: Box<Login>, reply: Reply) -> Flow {
        let code = reply.code().get();
        let cls = class(&reply);
        match login.stage {
            LoginStage::Host => {
                // RFC 7151 §3: 220 accepts; a server without HOST (500/502) is tolerated.
                if cls == ReplyClass::Completion || code == 500 || code == 502 {
                    self.send(now, Command::User(login.user.as_str().into()));
                    login.stage = LoginStage::User;
                    Flow::Wait(Op::Login(login))
                } else {
                    err(reply)
                }
            }
            LoginStage::User | LoginStage::Pass | LoginStage::Acct => match cls {
                ReplyClass::Completion => self.logged_in(now, login, reply),
                ReplyClass::Intermediate => {
                    if code == 332 || login.stage == LoginStage::Pass {
                        // 332: need account (RFC 959 §4.1.1).
                        if code != 332 || login.stage == LoginStage::Acct {
                            return err(reply);
                        }
                        match login.account.take() {
                            Some(acct) => {
                                self.send(now, Command::Acct(acct.as_str().into()));
                                login.stage = LoginStage::Acct;
                                Flow::Wait(Op::Login(login))
                            }
                            None => err(reply),
                        }
                    } else if login.stage == LoginStage::User {
                        self.send(now, Command::Pass(login.password.as_str().into()));
                        login.stage = LoginStage::Pass;
                        Flow::Wait(Op::Login(login))
                    } else {
                        err(reply)
                    }
                }
                _ => err(reply),
            },
            LoginStage::Feat => {
                if cls == ReplyClass::Completion {
                    if let Ok(f) = decode::feat(reply.as_ref()) {
                        let utf8 = f.contains("UTF8");
                        self.features = Some(f);
                        if utf8 {
                            self.send(now, Command::Opts("UTF8 ON".into()));
                            login.stage = LoginStage::Opts;
                            return Flow::Wait(Op::Login(login));
                        }
                    }
                }
                Flow::Done(Ok(Outcome::LoggedIn(login.result.take().unwrap_or(reply))))
            }
            LoginStage::Opts => {
                // Pure-FTPd answers 504 although it offers UTF8: ignored.
                Flow::Done(Ok(Outcome::LoggedIn(login.result.take().unwrap_or(reply))))
            }
        }
    }

    fn logged_in(&mut self, now: Instant, mut login: Box<Login>, reply: Reply) -> Flow {
        if self.config.auto_feat {
            login.result = Some(reply);
            login.stage = LoginStage::Feat;
            self.send(now, Command::Feat);
            Flow::Wait(Op::Login(login))
        } else {
            Flow::Done(Ok(Outcome::LoggedIn(reply)))
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

    // ----------------------------------------------------------------------------------
    // Transfers
    // ----------------------------------------------------------------------------------

    /// First step of a transfer: `TYPE` when it changes, else the data connection.
    pub(super) fn transfer_begin(&mut self, now: Instant, mut t: Box<Transfer>) -> Flow {
        let wanted = t.wanted_type();
        if self.cur_type != Some(wanted) {
            self.send(now, Command::Type(wanted));
            t.phase = Phase::Type;
            Flow::Wait(Op::Transfer(t))
        } else {
            self.data_setup(now, t)
        }
    }

    fn data_setup(&mut self, now: Instant, mut t: Box<Transfer>) -> Flow {
        if self.config.passive {
            if self.config.use_epsv && !self.epsv_refused {
                self.send(now, Command::Epsv);
                t.phase = Phase::Epsv;
            } else {
                self.send(now, Command::Pasv);
                t.phase = Phase::Pasv;
            }
        } else {
            let tls = self.data_tls;
            self.intent(DataIntent::Listen { tls });
            self.arm_data_deadline(now);
            t.phase = Phase::Listening;
        }
        Flow::Wait(Op::Transfer(t))
    }

    fn connect(&mut self, now: Instant, mut t: Box<Transfer>, addr: SocketAddr) -> Flow {
        if addr.port() == 0 {
            return Flow::Done(Err(OpError::Protocol(ProtocolError::BadDataAddress(addr))));
        }
        let tls = self.data_tls;
        self.intent(DataIntent::Connect { addr, tls });
        self.arm_data_deadline(now);
        t.phase = Phase::Connecting;
        Flow::Wait(Op::Transfer(t))
    }

    fn send_port(&mut self, now: Instant, mut t: Box<Transfer>, addr: SocketAddr) -> Flow {
        match addr {
            SocketAddr::V4(v4) if !self.config.use_epsv || self.eprt_refused => {
                self.send(now, Command::Port(v4));
                t.phase = Phase::Port;
            }
            _ => {
                self.send(now, Command::Eprt(addr));
                t.phase = Phase::Eprt(addr);
            }
        }
        Flow::Wait(Op::Transfer(t))
    }

    fn rest_or_command(&mut self, now: Instant, mut t: Box<Transfer>) -> Flow {
        if let Some(offset) = t.rest {
            self.send(now, Command::Rest(offset));
            t.phase = Phase::Rest;
        } else {
            self.send(now, transfer_command(&t.kind));
            t.phase = Phase::Command;
        }
        Flow::Wait(Op::Transfer(t))
    }

    fn transfer_reply(&mut self, now: Instant, mut t: Box<Transfer>, reply: Reply) -> Flow {
        let cls = class(&reply);
        let code = reply.code().get();
        if cls == ReplyClass::Preliminary && t.phase != Phase::Command {
            // Stray 1yz: another reply follows.
            if t.phase.awaits_reply()
                || (t.phase == Phase::Streaming && t.data != DataState::Pending)
            {
                self.await_reply(now);
            }
            return Flow::Wait(Op::Transfer(t));
        }
        let positive = cls == ReplyClass::Completion;
        match t.phase {
            Phase::Type => {
                if positive {
                    self.cur_type = Some(t.wanted_type());
                    self.data_setup(now, t)
                } else {
                    err(reply)
                }
            }
            Phase::Epsv => {
                if code == 229 {
                    match decode::epsv(reply.as_ref()) {
                        Ok(port) => {
                            let addr = SocketAddr::new(self.peer.ip(), port);
                            self.connect(now, t, addr)
                        }
                        Err(e) => Flow::Done(Err(decode_err(&reply, e))),
                    }
                } else if code == 500 || code == 502 {
                    // EPSV unknown (RFC 2428 §3 is optional): PASV from now on.
                    self.epsv_refused = true;
                    self.send(now, Command::Pasv);
                    t.phase = Phase::Pasv;
                    Flow::Wait(Op::Transfer(t))
                } else if positive {
                    Flow::Done(Err(OpError::Reply(reply)))
                } else {
                    err(reply)
                }
            }
            Phase::Pasv => {
                if code == 227 {
                    match decode::pasv(reply.as_ref()) {
                        Ok(pa) => {
                            let ip = if self.config.trust_pasv_address && !pa.ip.is_unspecified() {
                                IpAddr::V4(pa.ip)
                            } else {
                                self.peer.ip()
                            };
                            self.connect(now, t, SocketAddr::new(ip, pa.port))
                        }
                        Err(e) => Flow::Done(Err(decode_err(&reply, e))),
                    }
                } else if positive {
                    Flow::Done(Err(OpError::Reply(reply)))
                } else {
                    err(reply)
                }
            }
            Phase::Eprt(addr) => {
                if positive {
                    self.rest_or_command(now, t)
                } else if (code == 500 || code == 502) && addr.is_ipv4() {
                    self.eprt_refused = true;
                    self.send_port(now, t, addr)
                } else {
                    err(reply)
                }
            }
            Phase::Port => {
                if positive {
                    self.rest_or_command(now, t)
                } else {
                    err(reply)
                }
            }
            Phase::Rest => {
                // RFC 959 says 350; ftplib accepts any positive reply.
                if cls == ReplyClass::Intermediate || positive {
                    self.send(now, transfer_command(&t.kind));
                    t.phase = Phase::Command;
                    Flow::Wait(Op::Transfer(t))
                } else {
                    err(reply)
                }
            }
            Phase::Command => match cls {
                ReplyClass::Preliminary => {
                    t.phase = Phase::Streaming;
                    // A new transfer runs: a late reply of an aborted one is no longer
                    // told apart from its own.
                    self.stray_after_abort = false;
                    let direction = t.direction();
                    if direction == Direction::Download {
                        t.announced = decode::transfer_size(reply.as_ref()).ok().flatten();
                    }
                    if t.data == DataState::Pending {
                        let expected_size = if t.rest.is_none() { t.announced } else { None };
                        let (ascii, tls) = (t.ascii, self.data_tls);
                        self.intent(DataIntent::Stream {
                            direction,
                            expected_size,
                            ascii,
                            tls,
                        });
                        self.arm_data_deadline(now);
                    } else {
                        // The data connection already ended: only the final reply is owed.
                        self.await_reply(now);
                    }
                    Flow::Wait(Op::Transfer(t))
                }
                ReplyClass::Completion if !t.skipped_2xx => {
                    // Some servers send 200 before 150 (see ftplib's ntransfercmd).
                    t.skipped_2xx = true;
                    self.await_reply(now);
                    Flow::Wait(Op::Transfer(t))
                }
                ReplyClass::Completion | ReplyClass::Intermediate => {
                    Flow::Done(Err(OpError::Reply(reply)))
                }
                _ => err(reply),
            },
            Phase::Streaming if matches!(t.data, DataState::Failed(..)) => {
                // The data side failed first: report that, with the server's view.
                let failure = match t.data {
                    DataState::Failed(f, _) => f,
                    _ => DataFailure::Other,
                };
                Flow::Done(Err(OpError::Data {
                    failure,
                    reply: Some(reply),
                }))
            }
            Phase::Streaming => match cls {
                ReplyClass::Completion => match t.data {
                    DataState::Pending => {
                        // 226 before the end of data: wait for it (the data idle deadline
                        // still runs).
                        t.final_reply = Some(reply);
                        Flow::Wait(Op::Transfer(t))
                    }
                    DataState::Finished(bytes) => self.transfer_done(&t, bytes, reply),
                    DataState::Failed(failure, _) => Flow::Done(Err(OpError::Data {
                        failure,
                        reply: Some(reply),
                    })),
                },
                ReplyClass::Intermediate => Flow::Done(Err(OpError::Reply(reply))),
                // 425/426/451/550 ...: never success, whatever arrived on the data side.
                _ => err(reply),
            },
            Phase::Connecting | Phase::Listening => {
                // Nothing was asked: an unsolicited reply in the middle of a set-up (e.g. a
                // server giving up on its passive listener). Mapped by class like any other
                // final reply: 4xx is error_temp, 5xx error_perm, a positive one error_reply.
                err(reply)
            }
        }
    }

    fn transfer_done(&mut self, t: &Transfer, bytes: u64, reply: Reply) -> Flow {
        if t.direction() == Direction::Download && !t.ascii {
            if let Some(announced) = t.announced {
                // After REST, vsftpd announces the whole size, ProFTPD the rest: only the
                // smaller reading is certain.
                let expected = match t.rest {
                    Some(r) => announced.saturating_sub(r),
                    None => announced,
                };
                if bytes < expected {
                    return Flow::Done(Err(OpError::Truncated {
                        expected,
                        received: bytes,
                        reply: Some(reply),
                    }));
                }
            }
        }
        Flow::Done(Ok(Outcome::Transferred { bytes, reply }))
    }

    pub(super) fn on_data_event(&mut self, now: Instant, ev: DataEvent) {
        let Some(op) = self.op.take() else {
            if matches!(ev, DataEvent::Finished { .. } | DataEvent::Failed { .. }) {
                self.data_open = false;
            }
            return;
        };
        let flow = match op {
            Op::Transfer(t) => self.transfer_data(now, t, ev),
            other => {
                if matches!(ev, DataEvent::Finished { .. } | DataEvent::Failed { .. }) {
                    self.data_open = false;
                }
                Flow::Wait(other)
            }
        };
        self.apply(flow);
    }

    fn transfer_data(&mut self, now: Instant, mut t: Box<Transfer>, ev: DataEvent) -> Flow {
        match (t.phase, ev) {
            (Phase::Connecting, DataEvent::Connected) => {
                self.data_deadline = None;
                self.rest_or_command(now, t)
            }
            (Phase::Listening, DataEvent::Listening(addr)) => {
                self.data_deadline = None;
                if addr.port() == 0 {
                    return Flow::Done(Err(OpError::Data {
                        failure: DataFailure::Other,
                        reply: None,
                    }));
                }
                self.send_port(now, t, addr)
            }
            (Phase::Connecting | Phase::Listening, DataEvent::Failed { kind, .. }) => {
                self.data_open = false;
                Flow::Done(Err(OpError::Data {
                    failure: kind,
                    reply: None,
                }))
            }
            (Phase::Streaming, DataEvent::Accepted | DataEvent::Progress(_))
                if t.data == DataState::Pending =>
            {
                self.arm_data_deadline(now);
                Flow::Wait(Op::Transfer(t))
            }
            (Phase::Command | Phase::Streaming, DataEvent::Finished { bytes })
                if t.data == DataState::Pending =>
            {
                self.data_open = false;
                self.data_deadline = None;
                t.data = DataState::Finished(bytes);
                match t.final_reply.take() {
                    Some(reply) => self.transfer_done(&t, bytes, reply),
                    None => {
                        self.await_reply(now);
                        Flow::Wait(Op::Transfer(t))
                    }
                }
            }
            (Phase::Command | Phase::Streaming, DataEvent::Failed { kind, bytes })
                if t.data == DataState::Pending =>
            {
                self.data_open = false;
                self.data_deadline = None;
                t.data = DataState::Failed(kind, bytes);
                match t.final_reply.take() {
                    Some(reply) => Flow::Done(Err(OpError::Data {
                        failure: kind,
                        reply: Some(reply),
                    })),
                    None => {
                        // The server still owes its final reply (426, or 226 for an upload
                        // it thinks complete): read it so the control stream stays in step.
                        self.await_reply(now);
                        Flow::Wait(Op::Transfer(t))
                    }
                }
            }
            _ => Flow::Wait(Op::Transfer(t)),
        }
    }

    /// The data deadline passed.
    pub(super) fn on_data_timeout(&mut self, now: Instant) {
        let Some(op) = self.op.take() else { return };
        let flow = match op {
            Op::Transfer(t) => match t.phase {
                Phase::Connecting | Phase::Listening => {
                    Flow::Done(Err(OpError::Timeout(TimeoutKind::Data)))
                }
                Phase::Streaming if t.data == DataState::Pending => {
                    if t.final_reply.is_some() {
                        Flow::Done(Err(OpError::Timeout(TimeoutKind::Data)))
                    } else {
                        // The server may be mid-transfer: ABOR resynchronises the stream.
                        self.stray_after_abort = false;
                        self.intent(DataIntent::Close);
                        self.send(now, Command::Abor);
                        Flow::Wait(Op::Abort(Abort {
                            stage: AbortStage::First,
                            instead: Some(OpError::Timeout(TimeoutKind::Data)),
                        }))
                    }
                }
                _ => Flow::Wait(Op::Transfer(t)),
            },
            other => Flow::Wait(other),
        };
        self.apply(flow);
    }

    // ----------------------------------------------------------------------------------
    // ABOR
    // ----------------------------------------------------------------------------------

    /// Starts aborting the transfer in flight; see [`Session::abort`].
    pub(super) fn abort_transfer(&mut self, now: Instant, t: &Transfer) -> Op {
        self.stray_after_abort = false;
        if self.data_open {
            self.intent(DataIntent::Close);
        }
        self.data_deadline = None;
        if t.phase == Phase::Type {
            // The `TYPE` reply will be read by the abort: the server's type is unknown.
            self.cur_type = None;
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
        Op::Abort(Abort {
            stage,
            instead: None,
        })
    }

    /// `ABOR` while idle.
    pub(super) fn abort_idle(&mut self, now: Instant) -> Op {
        self.stray_after_abort = false;
        self.send(now, Command::Abor);
        Op::Abort(Abort {
            stage: AbortStage::Single,
            instead: None,
        })
    }

    fn abort_reply(&mut self, now: Instant, mut a: Abort, reply: Reply) -> Flow {
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
                    // late (libunftp).
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

    // ----------------------------------------------------------------------------------
    // TLS
    // ----------------------------------------------------------------------------------

    pub(super) fn on_tls_established(&mut self) {
        match self.op.take() {
            Some(Op::AuthHandshake { reply }) => {
                self.control_tls = true;
                self.apply(Flow::Done(Ok(Outcome::Done(reply))));
            }
            Some(Op::CccShutdown { reply }) => {
                self.control_tls = false;
                self.apply(Flow::Done(Ok(Outcome::Done(reply))));
            }
            other => self.op = other,
        }
    }

    /// Whether the session waits for the driver's TLS handshake (no input allowed).
    pub(super) fn awaiting_tls_upgrade(&self) -> bool {
        matches!(self.op, Some(Op::AuthHandshake { .. }))
    }

    /// Whether the reply deadline currently guards a TLS change.
    pub(super) fn awaiting_tls(&self) -> bool {
        matches!(
            self.op,
            Some(Op::AuthHandshake { .. } | Op::CccShutdown { .. })
        )
    }
}

/// States that `step_reply` routes elsewhere before the match: never reached. Returns a
/// harmless flow instead of panicking.
fn unreachable_flow() -> Flow {
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
