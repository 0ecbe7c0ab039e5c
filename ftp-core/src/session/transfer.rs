//! Transfers: `TYPE`, the data connection (`EPSV`/`PASV` or `EPRT`/`PORT`), `REST`, the
//! transfer command, its 1xx and final reply, and the data events in whatever order they
//! come (RFC 959 §3.2-3.3, RFC 2428, RFC 3659 §5).

use core::net::{IpAddr, SocketAddr};
use std::time::Instant;

use crate::command::{Command, TransferType};
use crate::reply::decode;
use crate::reply::{Reply, ReplyClass};

use super::machine::{class, decode_err, err, Flow, Op};
use super::{
    DataEvent, DataFailure, DataIntent, Direction, OpError, Outcome, ProtocolError, Session,
    TimeoutKind, TransferKind, TransferRequest,
};

#[derive(Debug)]
pub(super) struct Transfer {
    kind: TransferKind,
    ascii: bool,
    rest: Option<u64>,
    pub(super) phase: Phase,
    /// A 2xx before the 1xx was skipped once (ftplib does the same for servers that send
    /// `200` before `150`).
    skipped_2xx: bool,
    /// Size announced by the 1xx reply.
    announced: Option<u64>,
    pub(super) final_reply: Option<Reply>,
    data: DataState,
    /// The data connection came from a `229` (pipelining builds on an `EPSV` that works).
    pub(super) via_epsv: bool,
    /// An early `EPSV` (`pipeline.rs`) was answered before this transfer's final reply.
    pub(super) early_out_of_order: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
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
    /// The data connection ended before the final reply, after an early `EPSV` was
    /// answered out of order (the server acts on commands during transfers and may never
    /// answer this one): `NOOP` sent; the replies up to its `200` are read, the first other
    /// one as the transfer's final reply.
    Resync,
}

impl Phase {
    /// Whether a reply to a command of this phase is outstanding.
    pub(super) fn awaits_reply(self) -> bool {
        matches!(
            self,
            Phase::Type
                | Phase::Epsv
                | Phase::Pasv
                | Phase::Eprt(_)
                | Phase::Port
                | Phase::Rest
                | Phase::Resync
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataState {
    Pending,
    Finished(u64),
    Failed(DataFailure, u64),
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

/// Whether a server applies a restart marker (`REST`) to this transfer command: the file
/// transfers do, the listings do not (RFC 3659 §5.3: `REST` is followed by `RETR`, `STOR`
/// or `APPE`). A raw command line counts as a file transfer unless its verb is a listing's.
fn uses_restart_marker(kind: &TransferKind) -> bool {
    match kind {
        TransferKind::Retr(_)
        | TransferKind::Stor(_)
        | TransferKind::Appe(_)
        | TransferKind::Stou => true,
        TransferKind::List(_) | TransferKind::Nlst(_) | TransferKind::Mlsd(_) => false,
        TransferKind::Raw { line, .. } => {
            let verb = line.get(..4).map(<[u8]>::to_ascii_uppercase);
            !matches!(verb.as_deref(), Some(b"LIST" | b"NLST" | b"MLSD"))
        }
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
            via_epsv: false,
            early_out_of_order: false,
        }
    }

    /// The data side has not ended yet.
    pub(super) fn data_pending(&self) -> bool {
        self.data == DataState::Pending
    }

    /// Only the replies up to the resynchronising `NOOP`'s are read ([`Phase::Resync`]).
    pub(super) fn is_resyncing(&self) -> bool {
        self.phase == Phase::Resync
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

impl Session {
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
        // A restart marker of an earlier transfer that may still be held is reset first.
        let clear = self.stale_rest && uses_restart_marker(&t.kind);
        if let Some(offset) = t.rest.or(clear.then_some(0)) {
            self.send(now, Command::Rest(offset));
            t.phase = Phase::Rest;
        } else {
            self.send(now, transfer_command(&t.kind));
            t.phase = Phase::Command;
            // With `Config::pipeline_passive`: the next transfer's EPSV in the same write.
            self.send_early_epsv(&t);
        }
        Flow::Wait(Op::Transfer(t))
    }

    pub(super) fn transfer_reply(
        &mut self,
        now: Instant,
        mut t: Box<Transfer>,
        reply: Reply,
    ) -> Flow {
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
                            t.via_epsv = true;
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
                let accepted = cls == ReplyClass::Intermediate || positive;
                // `REST 0` clearing an old marker refused for good (5xx): there is nothing
                // better to do than go on (and not ask again for every transfer). A 4xx
                // (421: the server is closing) ends the transfer like any other.
                let refused_clear = t.rest.is_none() && cls == ReplyClass::PermanentNegative;
                if accepted || refused_clear {
                    self.stale_rest = accepted && t.rest.is_some_and(|n| n > 0);
                    self.send(now, transfer_command(&t.kind));
                    t.phase = Phase::Command;
                    self.send_early_epsv(&t);
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
            Phase::Resync => {
                if code != 200 && t.final_reply.is_none() {
                    // The transfer's own final reply, late: NOOP's follows.
                    t.final_reply = Some(reply);
                    self.await_reply(now);
                    return Flow::Wait(Op::Transfer(t));
                }
                // NOOP's reply (or the one after the transfer's): in step again. Without the
                // transfer's reply, it may still come late: skipped once, as after an abort.
                self.stray_after_abort = t.final_reply.is_none();
                match (t.data, t.final_reply.take()) {
                    (DataState::Finished(bytes), Some(r))
                        if class(&r) == ReplyClass::Completion =>
                    {
                        self.transfer_done(&t, bytes, r)
                    }
                    (DataState::Finished(_), Some(r)) => err(r),
                    (DataState::Failed(failure, _), reply) => {
                        Flow::Done(Err(OpError::Data { failure, reply }))
                    }
                    // The data connection ended, the server never confirmed the transfer: it
                    // closed the connection on the early EPSV (pyftpdlib).
                    (_, reply) => Flow::Done(Err(OpError::Protocol(
                        ProtocolError::EarlyEpsvDuringTransfer { reply },
                    ))),
                }
            }
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
        if t.early_out_of_order {
            // The server acted on the early EPSV during this transfer: pyftpdlib then cuts
            // the data connection and may still answer 226. Never a success.
            return Flow::Done(Err(OpError::Protocol(
                ProtocolError::EarlyEpsvDuringTransfer { reply: Some(reply) },
            )));
        }
        if uses_restart_marker(&t.kind) {
            // The transfer command used (and so cleared) the restart marker.
            self.stale_rest = false;
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
                    None if t.early_out_of_order => self.resync_after_early(now, t),
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
                    None if t.early_out_of_order => self.resync_after_early(now, t),
                    None => {
                        // The server still owes its final reply (426, or 226 for an upload
                        // it thinks complete): read it so the control stream stays in step.
                        self.await_reply(now);
                        Flow::Wait(Op::Transfer(t))
                    }
                }
            }
            (Phase::Command | Phase::Streaming, DataEvent::LocalFailure { .. })
                if t.data == DataState::Pending =>
            {
                match t.final_reply.take() {
                    // The server is done: nothing to abort.
                    Some(reply) => Flow::Done(Err(OpError::Data {
                        failure: DataFailure::Local,
                        reply: Some(reply),
                    })),
                    // The server goes on sending or waiting for data: abort.
                    None => {
                        let instead = Some(OpError::Data {
                            failure: DataFailure::Local,
                            reply: None,
                        });
                        Flow::Wait(self.abort_transfer(now, &t, instead))
                    }
                }
            }
            _ => Flow::Wait(Op::Transfer(t)),
        }
    }

    /// The data connection ended (finished or failed) before the final reply, after the
    /// server answered the early `EPSV` during this transfer: it may have closed this data
    /// connection itself and never answer the command (pyftpdlib). `NOOP`'s `200` tells
    /// when everything is read ([`Phase::Resync`]).
    pub(super) fn resync_after_early(&mut self, now: Instant, mut t: Box<Transfer>) -> Flow {
        self.send(now, Command::Noop);
        t.phase = Phase::Resync;
        Flow::Wait(Op::Transfer(t))
    }

    /// The data deadline passed (during an abort: its grace).
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
                        let instead = Some(OpError::Timeout(TimeoutKind::Data));
                        Flow::Wait(self.abort_transfer(now, &t, instead))
                    }
                }
                _ => Flow::Wait(Op::Transfer(t)),
            },
            Op::Abort(a) => self.abort_grace_passed(now, a),
            other => Flow::Wait(other),
        };
        self.apply(flow);
    }
}
