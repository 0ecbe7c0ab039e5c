//! One session's sockets and state: the glue between an `ftp_sansio::session::Session` and
//! mio. Every protocol decision is the core's; this file only carries out its intents.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::Instant;

use ftp_sansio::session::{
    DataEvent, DataFailure, DataIntent, Direction, Event, LocalClose, OpError, Operation, Outcome,
    Session, TlsIntent, UsageError,
};
use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Registry, Token};

use crate::data::{failure_kind, DataEnd, Pump, Pumped};
use crate::tls::Sock;
use crate::{Completion, Error, OpId, Options, SessionId};

/// What a [`Conn`] needs from its owner while it works.
pub(crate) struct Shared {
    pub(crate) registry: Registry,
    pub(crate) options: Options,
    pub(crate) completions: VecDeque<Completion>,
    /// Slots whose pump stopped on the fairness budget.
    pub(crate) ready: Vec<usize>,
    /// Control read buffer, shared by all sessions.
    pub(crate) scratch: Box<[u8]>,
}

/// An operation waiting for its turn.
pub(crate) struct Queued {
    pub(crate) op: OpId,
    pub(crate) operation: Operation,
    pub(crate) end: Option<DataEnd>,
}

/// The operation in flight.
struct Current {
    op: OpId,
    end: Option<DataEnd>,
    /// A failure only the driver saw (sink, buffer limit, TLS); reported instead of the
    /// core's generic data error.
    local_error: Option<Error>,
    /// `AUTH TLS`: a refusal is reported as a TLS error.
    auth_tls: bool,
    /// A login: when it fails, the operations queued behind it are cancelled.
    login: bool,
    /// The operation as errors name it (the core's `Display`: secrets masked).
    what: String,
    /// The core was told which operation comes next (`Session::prepare_next`).
    hinted: bool,
}

/// A session's TLS side (feature `tls`); without the feature no value exists.
#[cfg(feature = "tls")]
pub(crate) type TlsCtx = crate::tls::TlsContext;
/// A session's TLS side (feature `tls`); without the feature no value exists.
#[cfg(not(feature = "tls"))]
pub(crate) type TlsCtx = std::convert::Infallible;

/// The data connection.
enum Data {
    None,
    /// Passive: non-blocking connect in progress.
    Connecting(TcpStream),
    /// Passive: connected; waiting for the core's `Stream`.
    Connected(TcpStream),
    /// Active: listening; waiting for the core's `Stream`.
    Listening(TcpListener),
    /// Active: `Stream` came; waiting for the server to connect.
    Accepting(TcpListener),
    /// Moving bytes (TLS once `Stream` asked for it).
    Streaming(Sock),
}

/// One FTP session on the caller's poll.
pub(crate) struct Conn {
    pub(crate) id: SessionId,
    slot: usize,
    tokens: [Token; 3],
    pub(crate) core: Session,
    control: Sock,
    /// FTPS: the session's TLS configuration and server name (control and data).
    pub(crate) tls: Option<TlsCtx>,
    /// After `234`: the control handshake runs; tell the core when it is done.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    upgrading: bool,
    /// After `200` to `CCC`: the control connection's TLS shutdown runs.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    downgrading: bool,
    /// The non-blocking connect of the control connection completed.
    control_up: bool,
    control_error: Option<io::Error>,
    pub(crate) queue: VecDeque<Queued>,
    current: Option<Current>,
    data: Data,
    pump: Pump,
    /// The sink or source said `WouldBlock`: wait for `resume`.
    paused: bool,
    /// In `Shared::ready`.
    pub(crate) in_ready: bool,
    /// The data connection of the transfer in flight runs TLS (`PROT P`).
    data_tls: bool,
}

pub(crate) const CONTROL: usize = 0;
pub(crate) const DATA: usize = 1;
pub(crate) const LISTENER: usize = 2;

impl Conn {
    /// Starts the non-blocking connect and registers the control socket.
    #[allow(clippy::too_many_arguments)] // crate-private; one call site each
    pub(crate) fn open(
        sh: &mut Shared,
        id: SessionId,
        tokens: [Token; 3],
        addr: SocketAddr,
        config: ftp_sansio::session::Config,
        greeting: OpId,
        now: Instant,
        implicit_tls: Option<TlsCtx>,
    ) -> io::Result<Conn> {
        let mut control = TcpStream::connect(addr)?;
        // Commands are small and each waits for its reply: never delay them.
        let _ = control.set_nodelay(true);
        sh.registry.register(
            &mut control,
            tokens[CONTROL],
            Interest::READABLE | Interest::WRITABLE,
        )?;
        let mut control = Sock::plain(control);
        let core = match &implicit_tls {
            None => Session::new(config, addr, now),
            Some(ctx) => {
                // TLS from the first byte; the ClientHello waits in rustls until connected.
                start_tls(ctx, &mut control)?;
                Session::new_implicit_tls(config, addr, now)
            }
        };
        Ok(Conn {
            id,
            slot: id.slot(),
            tokens,
            core,
            control,
            tls: implicit_tls,
            upgrading: false,
            downgrading: false,
            control_up: false,
            control_error: None,
            queue: VecDeque::new(),
            current: Some(Current {
                op: greeting,
                end: None,
                local_error: None,
                auth_tls: false,
                login: false,
                what: "the greeting".to_owned(),
                hinted: false,
            }),
            data: Data::None,
            pump: Pump::default(),
            paused: false,
            in_ready: false,
            data_tls: false,
        })
    }

    /// Whether the session ended and its slot can be freed.
    pub(crate) fn is_finished(&self) -> bool {
        self.core.is_closed() && self.current.is_none() && self.queue.is_empty()
    }

    /// Bytes moved so far by the transfer in flight.
    pub(crate) fn progress(&self) -> Option<u64> {
        let cur = self.current.as_ref()?;
        cur.end.as_ref().map(|_| self.pump.bytes)
    }

    /// The operation in flight.
    pub(crate) fn current_op(&self) -> Option<OpId> {
        self.current.as_ref().map(|c| c.op)
    }

    // ---------------------------------------------------------------------------------
    // Readiness
    // ---------------------------------------------------------------------------------

    /// A readiness event for one of this session's tokens (`which`: CONTROL/DATA/LISTENER).
    pub(crate) fn on_ready(&mut self, sh: &mut Shared, which: usize, now: Instant) {
        match which {
            CONTROL => self.on_control(sh, now),
            DATA => match &mut self.data {
                Data::Connecting(stream) => match connect_result(stream) {
                    Ok(true) => {
                        let Data::Connecting(stream) =
                            std::mem::replace(&mut self.data, Data::None)
                        else {
                            unreachable!()
                        };
                        self.data = Data::Connected(stream);
                        self.core.handle_data_event(now, DataEvent::Connected);
                    }
                    Ok(false) => {}
                    Err(e) => self.data_failed(sh, now, failure_kind(&e), None),
                },
                Data::Streaming(_) => self.pump(sh, now),
                // A readiness of a previous data connection (tokens are reused), or data
                // before the core asked for it: acted on when `Stream` comes.
                _ => {}
            },
            LISTENER => self.try_accept(sh, now),
            _ => {}
        }
        self.drive(sh, now);
    }

    fn on_control(&mut self, sh: &mut Shared, now: Instant) {
        if self.core.is_closed() {
            return;
        }
        if !self.control_up {
            match connect_result(&mut self.control.tcp) {
                Ok(true) => self.control_up = true,
                Ok(false) => return,
                Err(e) => {
                    self.control_failed(now, e);
                    return;
                }
            }
        }
        if !self.tls_step(now) {
            return;
        }
        loop {
            match self.control.read(&mut sh.scratch) {
                Ok(0) => {
                    self.core.handle_eof(now);
                    return;
                }
                Ok(n) => {
                    self.core.handle_input(now, &sh.scratch[..n]);
                    if self.core.is_closed() {
                        return;
                    }
                    if self.control.is_tls() {
                        // A TLS change (CCC) takes effect before the next read: the server's
                        // close_notify may already be in; it must not read as EOF.
                        while let Some(ev) = self.core.poll_event() {
                            self.on_core_event(sh, now, ev);
                        }
                        if !self.tls_step(now) {
                            return;
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.control_failed(now, e);
                    return;
                }
            }
        }
    }

    fn control_failed(&mut self, now: Instant, e: io::Error) {
        let reason = LocalClose::from_io(&e);
        if self.control_error.is_none() {
            self.control_error = Some(e);
        }
        self.core.handle_close(now, reason);
    }

    /// Writes pending control bytes until the socket would block.
    fn flush_control(&mut self, now: Instant) {
        while self.control_up && !self.core.is_closed() {
            let out = self.core.poll_transmit();
            if out.is_empty() {
                return;
            }
            match self.control.write(out) {
                Ok(0) => {
                    self.control_failed(now, io::ErrorKind::WriteZero.into());
                    return;
                }
                Ok(n) => self.core.consume_transmit(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.control_failed(now, e);
                    return;
                }
            }
        }
    }

    /// The core's deadline passed (or it may have).
    pub(crate) fn on_timeout(&mut self, sh: &mut Shared, now: Instant) {
        self.core.handle_timeout(now);
        self.drive(sh, now);
    }

    /// Continues a pump whose sink or source said `WouldBlock` (the caller's `resume`).
    pub(crate) fn resume(&mut self, sh: &mut Shared, now: Instant) {
        self.paused = false;
        self.pump(sh, now);
        self.drive(sh, now);
    }

    /// Continues a pump that stopped on the fairness budget (a sink or source that said
    /// `WouldBlock` meanwhile stays paused until [`Conn::resume`]).
    pub(crate) fn continue_pump(&mut self, sh: &mut Shared, now: Instant) {
        self.in_ready = false;
        self.pump(sh, now);
        self.drive(sh, now);
    }

    // ---------------------------------------------------------------------------------
    // The core's outputs
    // ---------------------------------------------------------------------------------

    /// Flushes control output, carries out the core's events and starts queued operations,
    /// until nothing changes.
    pub(crate) fn drive(&mut self, sh: &mut Shared, now: Instant) {
        loop {
            self.hint_next(now);
            self.flush_control(now);
            let mut progressed = false;
            while let Some(ev) = self.core.poll_event() {
                progressed = true;
                self.on_core_event(sh, now, ev);
            }
            if self.current.is_none() && !self.queue.is_empty() {
                progressed = true;
                if self.core.is_closed() {
                    for q in self.queue.drain(..) {
                        sh.completions.push_back(Completion {
                            session: self.id,
                            op: q.op,
                            result: Err(Error::Usage(UsageError::Closed)),
                            data: q.end.and_then(DataEnd::into_buffer),
                        });
                    }
                } else if let Some(q) = self.queue.pop_front() {
                    self.start(sh, now, q);
                }
            }
            if !progressed {
                break;
            }
        }
        if self.core.is_closed() {
            self.close_data(sh);
        }
    }

    /// Tells the core, once per operation, which queued operation starts after the one in
    /// flight: with `Config::pipeline_passive` it may send that transfer's `EPSV` early
    /// (the core decides whether that is safe).
    fn hint_next(&mut self, now: Instant) {
        let (Some(cur), Some(next)) = (self.current.as_mut(), self.queue.front()) else {
            return;
        };
        if !cur.hinted {
            cur.hinted = true;
            self.core.prepare_next(now, &next.operation);
        }
    }

    fn start(&mut self, sh: &mut Shared, now: Instant, q: Queued) {
        let auth_tls = matches!(q.operation, Operation::AuthTls);
        let login = matches!(q.operation, Operation::Login { .. });
        let what = q.operation.to_string();
        match self.core.start(now, q.operation) {
            Ok(()) => {
                if q.end.is_some() {
                    self.pump.bytes = 0;
                }
                self.current = Some(Current {
                    op: q.op,
                    end: q.end,
                    local_error: None,
                    auth_tls,
                    login,
                    what,
                    hinted: false,
                });
            }
            Err(e) => sh.completions.push_back(Completion {
                session: self.id,
                op: q.op,
                result: Err(Error::Usage(e)),
                data: q.end.and_then(DataEnd::into_buffer),
            }),
        }
    }

    /// `abort` of the public API.
    pub(crate) fn abort(
        &mut self,
        sh: &mut Shared,
        now: Instant,
        new_op: OpId,
    ) -> Result<OpId, Error> {
        self.core.abort(now)?;
        // No more data moves; the session closes the connection when it decides.
        self.pump.halt();
        self.paused = false;
        let op = match &self.current {
            Some(c) => c.op,
            None => {
                self.current = Some(Current {
                    op: new_op,
                    end: None,
                    local_error: None,
                    auth_tls: false,
                    login: false,
                    what: "ABOR".to_owned(),
                    hinted: false,
                });
                new_op
            }
        };
        self.drive(sh, now);
        Ok(op)
    }

    fn on_core_event(&mut self, sh: &mut Shared, now: Instant, ev: Event) {
        match ev {
            Event::Reply(r) => log::debug!("session {}: {}", self.id, r),
            Event::Data(intent) => self.on_intent(sh, now, intent),
            Event::Tls(intent) => self.tls_intent(now, intent),
            // A refused AUTH TLS closes the session in the core (nothing queued behind it
            // goes out in clear text); nothing to decide here.
            Event::Completed(result) => self.complete(sh, result),
        }
    }

    /// Carries out a [`TlsIntent`] (feature `tls`): start the control handshake after
    /// `234`, or the TLS shutdown after `CCC`. Without TLS support, or without a TLS
    /// configuration, the session ends rather than go on in clear text.
    fn tls_intent(&mut self, now: Instant, intent: TlsIntent) {
        #[cfg(feature = "tls")]
        {
            match intent {
                TlsIntent::UpgradeControl => match &self.tls {
                    Some(ctx) => match start_tls(ctx, &mut self.control) {
                        Ok(()) => self.upgrading = true,
                        Err(e) => return self.control_failed(now, e),
                    },
                    None => {
                        self.set_local_error(Error::TlsUnsupported);
                        return self.core.handle_close(now, LocalClose::TlsUnavailable);
                    }
                },
                TlsIntent::DowngradeControl => self.downgrading = true,
            }
            // Edge-triggered: the socket may not signal again by itself.
            self.tls_step(now);
        }
        #[cfg(not(feature = "tls"))]
        {
            let _ = intent;
            self.set_local_error(Error::TlsUnsupported);
            self.core.handle_close(now, LocalClose::TlsUnavailable);
        }
    }

    /// Moves a control TLS handshake or shutdown on. `false` while one still runs (then the
    /// control connection carries no FTP bytes yet).
    fn tls_step(&mut self, now: Instant) -> bool {
        #[cfg(feature = "tls")]
        {
            if self.downgrading {
                match self.control.downgrade_step() {
                    Ok(true) => {
                        self.downgrading = false;
                        self.core.handle_tls_established(now);
                    }
                    Ok(false) => return false,
                    Err(e) => {
                        self.downgrading = false;
                        self.control_failed(now, e);
                        return false;
                    }
                }
            }
            if self.control.is_handshaking() {
                match self.control.drive_handshake() {
                    Ok(true) => {}
                    Ok(false) => return false,
                    Err(e) => {
                        self.upgrading = false;
                        self.control_failed(now, e);
                        return false;
                    }
                }
            }
            if self.upgrading {
                self.upgrading = false;
                self.core.handle_tls_established(now);
            }
        }
        let _ = now;
        true
    }

    fn set_local_error(&mut self, e: Error) {
        if let Some(c) = &mut self.current {
            if c.local_error.is_none() {
                c.local_error = Some(e);
            }
        }
    }

    fn complete(&mut self, sh: &mut Shared, result: Result<Outcome, OpError>) {
        self.close_data(sh);
        self.paused = false;
        let Some(mut cur) = self.current.take() else {
            log::warn!("session {}: a completion without an operation", self.id);
            return;
        };
        let auth_tls = cur.auth_tls;
        let result = result.map_err(|e| {
            if let Some(local) = cur.local_error.take() {
                local
            } else if let Some(io) = self.control_error.take() {
                tls_or_io(io)
            } else if auth_tls {
                // AUTH TLS refused: a TLS error (the core closed the session).
                let reply = e.reply().cloned();
                Error::Tls {
                    source: io::Error::other(format!("AUTH TLS failed: {e}")),
                    reply,
                }
            } else {
                Error::Op {
                    error: e,
                    context: Some(format!("{} on {}", cur.what, self.core.control_peer())),
                }
            }
        });
        // (A login that closed the session leaves the queue to the close: `Closed` each.)
        let login_failed = cur.login && result.is_err() && !self.core.is_closed();
        sh.completions.push_back(Completion {
            session: self.id,
            op: cur.op,
            result,
            data: cur.end.and_then(DataEnd::into_buffer),
        });
        if login_failed {
            // Everything queued behind a failed login would fail on its own (530 each):
            // report it once, as cancelled, without sending it.
            for q in self.queue.drain(..) {
                sh.completions.push_back(Completion {
                    session: self.id,
                    op: q.op,
                    result: Err(Error::Cancelled { login: cur.op }),
                    data: q.end.and_then(DataEnd::into_buffer),
                });
            }
        }
    }

    fn on_intent(&mut self, sh: &mut Shared, now: Instant, intent: DataIntent) {
        match intent {
            DataIntent::Connect { addr, tls } => {
                self.close_data(sh);
                if tls && self.tls.is_none() {
                    return self.tls_refused(now);
                }
                match TcpStream::connect(addr) {
                    Ok(mut stream) => {
                        let interest = Interest::READABLE | Interest::WRITABLE;
                        match sh
                            .registry
                            .register(&mut stream, self.tokens[DATA], interest)
                        {
                            Ok(()) => self.data = Data::Connecting(stream),
                            Err(_) => self.data_failed(sh, now, DataFailure::Other, None),
                        }
                    }
                    Err(e) => self.data_failed(sh, now, failure_kind(&e), None),
                }
            }
            DataIntent::Listen { tls } => {
                self.close_data(sh);
                if tls && self.tls.is_none() {
                    return self.tls_refused(now);
                }
                match self.listen(sh) {
                    Ok((listener, addr)) => {
                        self.data = Data::Listening(listener);
                        self.core.handle_data_event(now, DataEvent::Listening(addr));
                    }
                    Err(_) => self.data_failed(sh, now, DataFailure::Other, None),
                }
            }
            DataIntent::Stream {
                direction,
                ascii,
                tls,
                ..
            } => {
                if tls && self.tls.is_none() {
                    return self.tls_refused(now);
                }
                self.data_tls = tls;
                let end_fits = self
                    .current
                    .as_ref()
                    .and_then(|c| c.end.as_ref())
                    .is_some_and(|e| e.is_download() == (direction == Direction::Download));
                if !end_fits {
                    self.set_local_error(Error::WrongDataEnd);
                    return self.data_failed(sh, now, DataFailure::Other, None);
                }
                self.pump.begin(direction, ascii, sh.options.data_buffer);
                self.paused = false;
                match std::mem::replace(&mut self.data, Data::None) {
                    Data::Connected(stream) => {
                        let mut stream = Sock::plain(stream);
                        if let Err(e) = self.data_start_tls(&mut stream) {
                            let _ = sh.registry.deregister(&mut stream.tcp);
                            return self.data_failed(sh, now, failure_kind(&e), None);
                        }
                        self.data = Data::Streaming(stream);
                        // Edge-triggered: bytes may already wait; move them now.
                        self.pump(sh, now);
                    }
                    Data::Listening(listener) => {
                        self.data = Data::Accepting(listener);
                        self.try_accept(sh, now);
                    }
                    other => {
                        self.data = other;
                        self.data_failed(sh, now, DataFailure::Other, None);
                    }
                }
            }
            DataIntent::Close => self.close_data(sh),
        }
    }

    /// With `PROT P` in force: starts the data connection's TLS, resuming the control
    /// connection's session (same config and store, same server name).
    fn data_start_tls(&mut self, sock: &mut Sock) -> io::Result<()> {
        if !self.data_tls {
            return Ok(());
        }
        match &self.tls {
            Some(ctx) => start_tls(ctx, sock),
            None => Err(io::Error::other("PROT P without a TLS configuration")),
        }
    }

    fn tls_refused(&mut self, now: Instant) {
        self.set_local_error(Error::TlsUnsupported);
        self.core.handle_close(now, LocalClose::TlsUnavailable);
    }

    /// Binds a listener on the control connection's local IP (active mode).
    fn listen(&mut self, sh: &mut Shared) -> io::Result<(TcpListener, SocketAddr)> {
        let ip = self.control.tcp.local_addr()?.ip();
        let mut listener = TcpListener::bind(SocketAddr::new(ip, 0))?;
        let addr = listener.local_addr()?;
        sh.registry
            .register(&mut listener, self.tokens[LISTENER], Interest::READABLE)?;
        Ok((listener, addr))
    }

    fn try_accept(&mut self, sh: &mut Shared, now: Instant) {
        let Data::Accepting(listener) = &mut self.data else {
            return;
        };
        // Readiness is edge-triggered: accept until the queue is empty.
        let accepted = loop {
            match listener.accept() {
                // Port theft (RFC 2577 §8): only the server may connect. Drop it and keep
                // waiting for the server until the data timeout.
                Ok((stream, peer)) if !self.core.is_acceptable_data_peer(peer) => drop(stream),
                other => break other,
            }
        };
        match accepted {
            Ok((mut stream, _peer)) => {
                let _ = sh.registry.deregister(listener);
                let interest = Interest::READABLE | Interest::WRITABLE;
                if sh
                    .registry
                    .register(&mut stream, self.tokens[DATA], interest)
                    .is_err()
                {
                    self.data = Data::None;
                    return self.data_failed(sh, now, DataFailure::Other, None);
                }
                let mut stream = Sock::plain(stream);
                if let Err(e) = self.data_start_tls(&mut stream) {
                    let _ = sh.registry.deregister(&mut stream.tcp);
                    return self.data_failed(sh, now, failure_kind(&e), None);
                }
                self.data = Data::Streaming(stream);
                self.core.handle_data_event(now, DataEvent::Accepted);
                self.pump(sh, now);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => self.data_failed(sh, now, failure_kind(&e), None),
        }
    }

    /// Moves data until something would block (or the budget is spent).
    fn pump(&mut self, sh: &mut Shared, now: Instant) {
        if self.paused {
            return;
        }
        let Data::Streaming(stream) = &mut self.data else {
            return;
        };
        let Some(end) = self.current.as_mut().and_then(|c| c.end.as_mut()) else {
            return;
        };
        let result = self.pump.run(stream, end, sh.options.fairness_budget);
        if self.pump.bytes != self.pump.reported {
            self.pump.reported = self.pump.bytes;
            self.core
                .handle_data_event(now, DataEvent::Progress(self.pump.bytes));
        }
        match result {
            Pumped::Blocked => {}
            Pumped::Paused => self.paused = true,
            Pumped::Budget => {
                if !self.in_ready {
                    self.in_ready = true;
                    sh.ready.push(self.slot);
                }
            }
            Pumped::Finished => {
                self.close_data(sh);
                let bytes = self.pump.bytes;
                self.core
                    .handle_data_event(now, DataEvent::Finished { bytes });
            }
            Pumped::Failed(DataFailure::Local, local) => {
                // The sink or source gave up: the session aborts the transfer (ABOR first,
                // then the data connection closes when it says so).
                if let Some(e) = local {
                    self.set_local_error(e);
                }
                self.pump.halt();
                self.paused = false;
                let bytes = self.pump.bytes;
                self.core
                    .handle_data_event(now, DataEvent::LocalFailure { bytes });
            }
            Pumped::Failed(kind, local) => {
                if let Some(e) = local {
                    self.set_local_error(e);
                }
                self.data_failed(sh, now, kind, None);
            }
        }
    }

    fn data_failed(&mut self, sh: &mut Shared, now: Instant, kind: DataFailure, e: Option<Error>) {
        if let Some(e) = e {
            self.set_local_error(e);
        }
        self.close_data(sh);
        let bytes = self.pump.bytes;
        self.core
            .handle_data_event(now, DataEvent::Failed { kind, bytes });
    }

    /// Drops the data connection or listener, deregistering it first.
    pub(crate) fn close_data(&mut self, sh: &mut Shared) {
        match std::mem::replace(&mut self.data, Data::None) {
            Data::None => {}
            Data::Connecting(mut s) | Data::Connected(mut s) => {
                let _ = sh.registry.deregister(&mut s);
            }
            Data::Streaming(mut s) => {
                if s.is_tls() {
                    #[cfg(feature = "tls")]
                    if let Some(ctx) = self.tls.as_mut() {
                        ctx.count_data(&s);
                    }
                    s.close_notify();
                }
                let _ = sh.registry.deregister(&mut s.tcp);
            }
            Data::Listening(mut l) | Data::Accepting(mut l) => {
                let _ = sh.registry.deregister(&mut l);
            }
        }
    }

    /// Deregisters and drops every socket; completes every operation with `error()`.
    pub(crate) fn shut(&mut self, sh: &mut Shared, error: impl Fn() -> Error) {
        self.close_data(sh);
        let _ = sh.registry.deregister(&mut self.control.tcp);
        if let Some(cur) = self.current.take() {
            sh.completions.push_back(Completion {
                session: self.id,
                op: cur.op,
                result: Err(error()),
                data: cur.end.and_then(DataEnd::into_buffer),
            });
        }
        for q in self.queue.drain(..) {
            sh.completions.push_back(Completion {
                session: self.id,
                op: q.op,
                result: Err(error()),
                data: q.end.and_then(DataEnd::into_buffer),
            });
        }
    }

    /// Deregisters the control socket (the session ended by itself).
    pub(crate) fn release(&mut self, sh: &mut Shared) {
        self.close_data(sh);
        let _ = sh.registry.deregister(&mut self.control.tcp);
    }

    /// The local address of the control connection (for tests and logs).
    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        self.control.tcp.local_addr()
    }

    /// The control connection's negotiated TLS version.
    #[cfg(feature = "tls")]
    pub(crate) fn control_tls_version(&self) -> Option<crate::tls::rustls::ProtocolVersion> {
        self.control.protocol_version()
    }
}

/// Starts TLS on `sock` with the session's context.
#[cfg(feature = "tls")]
fn start_tls(ctx: &TlsCtx, sock: &mut Sock) -> io::Result<()> {
    ctx.start(sock)
}

/// Without the `tls` feature there is no context to start TLS with.
#[cfg(not(feature = "tls"))]
fn start_tls(ctx: &TlsCtx, _sock: &mut Sock) -> io::Result<()> {
    match *ctx {}
}

/// A control connection I/O error: [`Error::Tls`] when rustls produced it.
fn tls_or_io(io: io::Error) -> Error {
    #[cfg(feature = "tls")]
    if crate::tls::is_tls_io_error(&io) {
        return Error::Tls {
            source: io,
            reply: None,
        };
    }
    Error::Io(io)
}

/// Whether a non-blocking connect finished: `Ok(true)` connected, `Ok(false)` not yet (a
/// spurious or stale readiness), `Err` failed.
fn connect_result(stream: &mut TcpStream) -> io::Result<bool> {
    if let Some(e) = stream.take_error()? {
        return Err(e);
    }
    match stream.peer_addr() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
        Err(e) => Err(e),
    }
}
