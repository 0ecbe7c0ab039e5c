//! The driver loop: one control socket, at most one data socket, and an
//! [`ftp_sansio::session::Session`] that makes every decision.
//!
//! Each step: write what [`Session::poll_transmit`] holds, drain [`Session::poll_event`]
//! (carrying out data intents at once), then block on the control socket until the next
//! reply or the deadline of [`Session::poll_timeout`], and feed what happened back in. A
//! transfer stops the loop when the session asks for the data to move
//! ([`DataIntent::Stream`]); the caller moves it with [`Conn::data_read`] /
//! [`Conn::data_write`] and reports the end with [`Conn::data_finished`].

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use ftp_sansio::command::Command;
use ftp_sansio::reply::Reply;
use ftp_sansio::session::{
    Config, DataEvent, DataFailure, DataIntent, Direction, Event, LocalClose, OpError, Operation,
    Outcome, Session, TlsIntent,
};

use crate::error::{Error, Result};

/// Connect timeout for data connections when the session has no data timeout.
const DEFAULT_DATA_CONNECT: Duration = Duration::from_secs(60);
/// How long one wait on the control socket lasts while a listener waits for the server.
const ACCEPT_POLL: Duration = Duration::from_millis(2);

/// The TLS side of a connection (feature `tls`); without the feature no value exists.
#[cfg(feature = "tls")]
pub(crate) type TlsCtx = crate::tls::TlsContext;
/// The TLS side of a connection (feature `tls`); without the feature no value exists.
#[cfg(not(feature = "tls"))]
pub(crate) type TlsCtx = std::convert::Infallible;

/// A socket, clear or TLS (control and data connections alike).
#[derive(Debug)]
enum Sock {
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<crate::tls::TlsStream>),
}

impl Sock {
    fn tcp(&self) -> &TcpStream {
        match self {
            Sock::Plain(s) => s,
            #[cfg(feature = "tls")]
            Sock::Tls(s) => &s.sock,
        }
    }
    fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        self.tcp().set_nonblocking(on)
    }
    fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.tcp().set_read_timeout(t)
    }
    fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.tcp().set_write_timeout(t)
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp().local_addr()
    }
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.tcp().shutdown(how)
    }
}

impl Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Sock::Plain(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Sock::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sock::Plain(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Sock::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sock::Plain(s) => s.flush(),
            #[cfg(feature = "tls")]
            Sock::Tls(s) => s.flush(),
        }
    }
}

/// The data connection, as far as it got.
#[derive(Debug)]
enum Data {
    None,
    /// Active mode: waiting for the server to connect.
    Listener(TcpListener),
    /// Connected (passive) or accepted (active); TLS once the handshake ran.
    Stream(Sock),
}

/// What the session asked for with [`DataIntent::Stream`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StreamInfo {
    pub direction: Direction,
    pub expected_size: Option<u64>,
    pub ascii: bool,
}

/// Where a run of the loop stopped.
#[derive(Debug)]
pub(crate) enum Step {
    /// The operation ended.
    Completed(std::result::Result<Outcome, OpError>),
    /// Data must move now.
    Stream(StreamInfo),
}

/// One control connection and its session.
#[derive(Debug)]
pub(crate) struct Conn {
    control: Sock,
    /// FTPS: the per-connection TLS configuration and server name (control and data).
    tls: Option<TlsCtx>,
    /// The context given for an `AUTH TLS` not yet carried out.
    tls_offer: Option<TlsCtx>,
    /// Opens passive data connections instead of a direct connect (a proxy, a tunnel).
    connector: Option<DataConnector>,
    /// The data connection of the transfer in flight must run TLS (`PROT P`).
    data_tls: bool,
    session: Session,
    rbuf: Box<[u8]>,
    data: Data,
    /// Bytes moved on the current data connection.
    data_bytes: u64,
    completed: Option<std::result::Result<Outcome, OpError>>,
    stream: Option<StreamInfo>,
    /// The I/O error that ended the control connection, if one did.
    control_error: Option<io::Error>,
    /// The operation in flight (or the last one), as errors name it (`RETR f`, secrets
    /// masked: [`Operation`]'s `Display`).
    last_op: String,
    debuglevel: u8,
    /// The timeout given to socket reads/writes the last time it was set (avoids a system
    /// call per loop when it does not change).
    read_timeout: Option<Option<Duration>>,
}

/// Opens a passive data connection to the address the session names (the server's IP and
/// the port it gave), within the timeout: for data through a proxy or a tunnel. See
/// [`Ftp::set_data_connector`](crate::Ftp::set_data_connector).
pub(crate) struct DataConnector(
    pub(crate) Box<dyn FnMut(SocketAddr, Duration) -> io::Result<TcpStream> + Send>,
);

impl std::fmt::Debug for DataConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataConnector(..)")
    }
}

fn now() -> Instant {
    Instant::now()
}

/// A command line as it may be logged: secrets masked.
fn loggable(line: &[u8]) -> String {
    if Command::Raw(line.into()).is_sensitive() {
        let verb = line.split(|&b| b == b' ').next().unwrap_or(line);
        format!("{} ********", String::from_utf8_lossy(verb))
    } else {
        String::from_utf8_lossy(line).into_owned()
    }
}

fn failure_of(e: &io::Error) -> DataFailure {
    DataFailure::from_io(e)
}

impl Conn {
    /// Opens the control connection and reads the greeting.
    pub(crate) fn open(
        addrs: &[SocketAddr],
        connect_timeout: Option<Duration>,
        config: Config,
        debuglevel: u8,
        implicit_tls: Option<TlsCtx>,
    ) -> Result<(Conn, Reply)> {
        let mut last = None;
        let mut control = None;
        let mut tried = None;
        // Without an explicit connect timeout, the reply timeout bounds the connect too (not
        // the OS default of minutes): a server that never answers must not hang the caller.
        let connect_timeout = connect_timeout.or(config.reply_timeout);
        for addr in addrs {
            tried = Some(*addr);
            let attempt = match connect_timeout {
                Some(t) => TcpStream::connect_timeout(addr, t),
                None => TcpStream::connect(addr),
            };
            match attempt {
                Ok(s) => {
                    control = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let control = match control {
            Some(c) => c,
            None => {
                // No session was opened: the error is fatal (`Error::is_fatal`), as ftp-mio's.
                let e = Error::io(last.unwrap_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to")
                }))
                .closing(true);
                return Err(match tried {
                    Some(addr) => e.with_context(format!("connect to {addr}")),
                    None => e,
                });
            }
        };
        let peer = control.peer_addr()?;
        Conn::over(control, peer, config, debuglevel, implicit_tls, None)
    }

    /// The session over an already connected control stream (see [`Conn::open`]); `peer` is
    /// the FTP server's address (data connections go to its IP), `connector` opens passive
    /// data connections instead of a direct connect (a proxy, a tunnel).
    pub(crate) fn over(
        control: TcpStream,
        peer: SocketAddr,
        mut config: Config,
        debuglevel: u8,
        implicit_tls: Option<TlsCtx>,
        connector: Option<DataConnector>,
    ) -> Result<(Conn, Reply)> {
        let _ = control.set_nodelay(true);
        config.trace_replies = debuglevel > 0;
        let (control, session) = match &implicit_tls {
            None => (Sock::Plain(control), Session::new(config, peer, now())),
            Some(ctx) => {
                let control = implicit_handshake(ctx, control, config.reply_timeout)?;
                (control, Session::new_implicit_tls(config, peer, now()))
            }
        };
        let mut conn = Conn {
            control,
            tls: implicit_tls,
            tls_offer: None,
            data_tls: false,
            session,
            rbuf: vec![0; 16 * 1024].into_boxed_slice(),
            data: Data::None,
            data_bytes: 0,
            completed: None,
            stream: None,
            control_error: None,
            last_op: "the greeting".to_owned(),
            connector,
            debuglevel,
            read_timeout: None,
        };
        if debuglevel > 0 {
            log::info!("*connect* {peer}");
        }
        match conn.run()? {
            Step::Completed(Ok(Outcome::Greeting(reply))) => Ok((conn, reply)),
            Step::Completed(Ok(other)) => Err(Error::protocol(format!(
                "unexpected outcome of the greeting: {other:?}"
            ))),
            Step::Completed(Err(e)) => Err(conn.op_error(e)),
            Step::Stream(_) => Err(Error::protocol("data stream during the greeting".into())),
        }
    }

    /// Passive data connections through `connector` from now on (`None`: direct).
    pub(crate) fn set_connector(&mut self, connector: Option<DataConnector>) {
        self.connector = connector;
    }

    pub(crate) fn session(&self) -> &Session {
        &self.session
    }

    pub(crate) fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.session.is_closed()
    }

    pub(crate) fn set_debuglevel(&mut self, level: u8) {
        self.debuglevel = level;
        self.session.config_mut().trace_replies = level > 0;
    }

    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        self.control.local_addr()
    }

    pub(crate) fn peer_addr(&self) -> SocketAddr {
        self.session.control_peer()
    }

    /// Turns a session error into ours, attaching the control socket's I/O error if that is
    /// what closed the session.
    pub(crate) fn op_error(&mut self, e: OpError) -> Error {
        let context = format!("{} on {}", self.last_op, self.peer_addr());
        Error::op(e, self.control_error.take())
            .with_context(context)
            .closing(self.session.is_closed())
    }

    /// Starts `op` and runs the loop until it completes or data must move.
    pub(crate) fn start(&mut self, op: Operation) -> Result<Step> {
        self.last_op = op.to_string();
        if self.debuglevel == 1 {
            // Level 1: one line per request (level 2 logs every line sent in `flush`).
            log::info!("*cmd* {}", self.last_op);
        }
        self.drain_idle();
        self.session.start(now(), op).map_err(Error::usage)?;
        self.run()
    }

    /// Feeds the session whatever arrived on the control connection while no operation was
    /// in flight, without waiting: a late reply of an aborted transfer is then seen (and
    /// dropped by the session) before the next command, and a `421` or a closed connection
    /// is noticed before anything is sent.
    fn drain_idle(&mut self) {
        if self.control.set_nonblocking(true).is_err() {
            return;
        }
        loop {
            match self.control.read(&mut self.rbuf) {
                Ok(0) => {
                    self.session.handle_eof(now());
                    break;
                }
                Ok(n) => self.session.handle_input(now(), &self.rbuf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    self.control_failed(e);
                    break;
                }
            }
        }
        if let Err(e) = self.control.set_nonblocking(false) {
            self.control_failed(e);
        }
        self.process_events();
        // Nothing can complete while idle; a stray result would belong to no one.
        self.completed = None;
    }

    /// `ABOR` for the transfer in flight (or on its own when idle); runs until the
    /// operation completes.
    pub(crate) fn abort(&mut self) -> Result<std::result::Result<Outcome, OpError>> {
        if self.debuglevel == 1 {
            log::info!("*cmd* ABOR");
        }
        self.session.abort(now()).map_err(Error::usage)?;
        self.stream = None;
        self.run_to_completion()
    }

    /// Runs until the operation completes; a data stream requested meanwhile (which should
    /// not happen outside a transfer) is refused.
    pub(crate) fn run_to_completion(&mut self) -> Result<std::result::Result<Outcome, OpError>> {
        loop {
            match self.run()? {
                Step::Completed(r) => return Ok(r),
                Step::Stream(_) => {
                    // Nobody will move the data: tell the session.
                    self.data = Data::None;
                    let bytes = self.data_bytes;
                    self.session.handle_data_event(
                        now(),
                        DataEvent::Failed {
                            kind: DataFailure::Other,
                            bytes,
                        },
                    );
                }
            }
        }
    }

    /// The loop: until the operation completes or data must move.
    pub(crate) fn run(&mut self) -> Result<Step> {
        loop {
            // Events first, so that the trace shows a reply before the command it triggers.
            self.process_events();
            self.flush();
            self.process_events();
            if let Some(r) = self.completed.take() {
                self.stream = None;
                if self.session.is_closed() {
                    self.data = Data::None;
                }
                return Ok(Step::Completed(r));
            }
            if !self.session.poll_transmit().is_empty() {
                continue;
            }
            if let Some(s) = self.stream.take() {
                return Ok(Step::Stream(s));
            }
            self.read_control(None);
        }
    }

    /// Writes pending control bytes. A write error closes the session (reported through
    /// [`Event::Completed`]).
    fn flush(&mut self) {
        loop {
            let pending = self.session.poll_transmit();
            if pending.is_empty() {
                return;
            }
            if self.debuglevel >= 2 {
                for line in pending.split_inclusive(|&b| b == b'\n') {
                    let line = line.strip_suffix(b"\r\n").unwrap_or(line);
                    log::info!("*put* {}", loggable(line));
                }
            }
            let timeout = self.session.config().reply_timeout;
            let _ = self.control.set_write_timeout(timeout);
            match self.control.write(pending) {
                Ok(0) => {
                    self.control_failed(io::Error::from(io::ErrorKind::WriteZero));
                    return;
                }
                Ok(n) => self.session.consume_transmit(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.control_failed(e);
                    return;
                }
            }
        }
    }

    fn control_failed(&mut self, e: io::Error) {
        if self.debuglevel > 0 {
            log::info!("*error* control connection: {e}");
        }
        let reason = LocalClose::from_io(&e);
        self.control_error = Some(e);
        self.session.handle_close(now(), reason);
    }

    /// Carries out every pending event.
    fn process_events(&mut self) {
        while let Some(ev) = self.session.poll_event() {
            match ev {
                Event::Tls(intent) => self.tls_intent(intent),
                Event::Reply(r) => self.log_reply(&r),
                Event::Data(DataIntent::Connect { addr, .. }) => self.data_connect(addr),
                Event::Data(DataIntent::Listen { .. }) => self.data_listen(),
                Event::Data(DataIntent::Stream {
                    direction,
                    expected_size,
                    ascii,
                    tls,
                }) => {
                    self.data_tls = tls;
                    self.stream = Some(StreamInfo {
                        direction,
                        expected_size,
                        ascii,
                    });
                }
                Event::Data(DataIntent::Close) => {
                    self.data = Data::None;
                    self.stream = None;
                }
                Event::Completed(r) => self.completed = Some(r),
            }
        }
    }

    fn log_reply(&self, r: &Reply) {
        match self.debuglevel {
            0 => {}
            1 => log::info!("*resp* {}", String::from_utf8_lossy(r.last_line())),
            _ => {
                for line in r.lines() {
                    log::info!("*get* {}", String::from_utf8_lossy(line));
                }
            }
        }
    }

    fn data_timeout(&self) -> Option<Duration> {
        self.session.config().data_timeout
    }

    fn data_connect(&mut self, addr: SocketAddr) {
        self.data_bytes = 0;
        let timeout = self.data_timeout().unwrap_or(DEFAULT_DATA_CONNECT);
        if self.debuglevel >= 2 {
            log::info!("*data* connect {addr}");
        }
        let attempt = match self.connector.as_mut() {
            Some(connect) => (connect.0)(addr, timeout),
            None => TcpStream::connect_timeout(&addr, timeout),
        };
        let ev = match attempt {
            Ok(s) => {
                self.data = Data::Stream(Sock::Plain(s));
                DataEvent::Connected
            }
            Err(e) => {
                if self.debuglevel > 0 {
                    log::info!("*data* connect {addr}: {e}");
                }
                DataEvent::Failed {
                    kind: failure_of(&e),
                    bytes: 0,
                }
            }
        };
        self.session.handle_data_event(now(), ev);
    }

    fn data_listen(&mut self) {
        self.data_bytes = 0;
        // The server connects to the address we announce: the control connection's own.
        let bound = self
            .control
            .local_addr()
            .and_then(|local| TcpListener::bind(SocketAddr::new(local.ip(), 0)))
            .and_then(|l| {
                l.set_nonblocking(true)?;
                let addr = l.local_addr()?;
                Ok((l, addr))
            });
        let ev = match bound {
            Ok((l, addr)) => {
                if self.debuglevel >= 2 {
                    log::info!("*data* listening on {addr}");
                }
                self.data = Data::Listener(l);
                DataEvent::Listening(addr)
            }
            Err(e) => DataEvent::Failed {
                kind: failure_of(&e),
                bytes: 0,
            },
        };
        self.session.handle_data_event(now(), ev);
    }

    /// Waits for the control socket until `max_wait` or the session's deadline passes, then
    /// feeds what happened to the session.
    fn read_control(&mut self, max_wait: Option<Duration>) {
        let t = now();
        let until_deadline = match self.session.poll_timeout() {
            Some(d) if d <= t => {
                self.session.handle_timeout(t);
                return;
            }
            Some(d) => Some(d - t),
            None => None,
        };
        let wait = match (until_deadline, max_wait) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // A zero duration means "no timeout" to std: never ask for it.
        let wait = wait.map(|w| w.max(Duration::from_millis(1)));
        if self.read_timeout != Some(wait) {
            if let Err(e) = self.control.set_read_timeout(wait) {
                self.control_failed(e);
                return;
            }
            self.read_timeout = Some(wait);
        }
        match self.control.read(&mut self.rbuf) {
            Ok(0) => {
                if self.debuglevel > 0 {
                    log::info!("*eof* control connection closed by the server");
                }
                self.session.handle_eof(now());
            }
            Ok(n) => self.session.handle_input(now(), &self.rbuf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                self.session.handle_timeout(now());
            }
            Err(e) => self.control_failed(e),
        }
    }

    // ---------------------------------------------------------------------------------
    // Moving data (after Step::Stream)
    // ---------------------------------------------------------------------------------

    /// Makes sure the data connection is a connected stream (accepting the server's
    /// connection in active mode while watching the control connection). `Ok(false)` when
    /// the operation ended meanwhile (its result is kept for the next [`Conn::run`]).
    pub(crate) fn data_ready(&mut self) -> Result<bool> {
        loop {
            match &self.data {
                Data::Stream(_) => return Ok(true),
                Data::None => {
                    if self.completed.is_some() || self.session.is_idle() {
                        return Ok(false);
                    }
                    // Asked to stream without a connection: report it and let the session
                    // finish the operation.
                    self.session.handle_data_event(
                        now(),
                        DataEvent::Failed {
                            kind: DataFailure::Other,
                            bytes: 0,
                        },
                    );
                    return Ok(false);
                }
                Data::Listener(l) => match l.accept() {
                    Ok((s, peer)) if !self.session.is_acceptable_data_peer(peer) => {
                        // Port theft (RFC 2577 §8): only the server may connect. Drop it and
                        // keep waiting for the server until the data timeout.
                        if self.debuglevel >= 1 {
                            log::warn!("*data* refused a connection from {peer}");
                        }
                        drop(s);
                    }
                    Ok((s, peer)) => {
                        if self.debuglevel >= 2 {
                            log::info!("*data* accepted {peer}");
                        }
                        s.set_nonblocking(false)?;
                        self.data = Data::Stream(Sock::Plain(s));
                        self.session.handle_data_event(now(), DataEvent::Accepted);
                        self.process_events();
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        self.flush();
                        self.read_control(Some(ACCEPT_POLL));
                        self.process_events();
                        if self.completed.is_some() {
                            return Ok(false);
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.data = Data::None;
                        self.session.handle_data_event(
                            now(),
                            DataEvent::Failed {
                                kind: failure_of(&e),
                                bytes: 0,
                            },
                        );
                        return Ok(false);
                    }
                },
            }
        }
    }

    fn set_data_timeouts(&mut self) {
        let t = self.data_timeout().map(|t| t.max(Duration::from_millis(1)));
        if let Data::Stream(s) = &self.data {
            let _ = s.set_read_timeout(t);
            let _ = s.set_write_timeout(t);
        }
    }

    /// Prepares the data socket for moving bytes: `Ok(false)` when there is none (the
    /// operation ended; call [`Conn::run`] for its result).
    pub(crate) fn begin_data(&mut self) -> Result<bool> {
        if !self.data_ready()? {
            return Ok(false);
        }
        self.data_bytes = 0;
        self.set_data_timeouts();
        if self.data_tls {
            return Ok(self.data_handshake());
        }
        Ok(true)
    }

    /// Reads from the data connection. `Ok(0)` is the end of the data (already reported to
    /// the session). Errors and stalls are reported to the session too; the error returned
    /// is the socket's.
    pub(crate) fn data_read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Data::Stream(s) = &mut self.data else {
                return Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    "the data connection was closed",
                ));
            };
            match s.read(buf) {
                Ok(0) => {
                    if let Data::Stream(s) = std::mem::replace(&mut self.data, Data::None) {
                        close_after_download(s);
                    }
                    let bytes = self.data_bytes;
                    self.session
                        .handle_data_event(now(), DataEvent::Finished { bytes });
                    return Ok(0);
                }
                Ok(n) => {
                    self.data_bytes += n as u64;
                    self.report_progress()?;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.data_error(e)),
            }
        }
    }

    /// Tells the session that data moved. A deadline can pass while data keeps moving (the
    /// session's `operation_timeout` bounds a whole transfer, however it progresses): then
    /// the session acts on it (closing the data connection) and the transfer stops here with
    /// a `TimedOut` error; the session's own verdict follows.
    fn report_progress(&mut self) -> io::Result<()> {
        let t = now();
        self.session
            .handle_data_event(t, DataEvent::Progress(self.data_bytes));
        if self.session.poll_timeout().is_some_and(|d| d <= t) {
            self.session.handle_timeout(t);
            self.process_events();
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "a deadline of the session passed while data was moving",
            ));
        }
        Ok(())
    }

    /// Writes all of `buf` to the data connection (reporting progress).
    pub(crate) fn data_write(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let Data::Stream(s) = &mut self.data else {
                return Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    "the data connection was closed",
                ));
            };
            match s.write(buf) {
                Ok(0) => return Err(self.data_error(io::Error::from(io::ErrorKind::WriteZero))),
                Ok(n) => {
                    buf = &buf[n..];
                    self.data_bytes += n as u64;
                    self.report_progress()?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.data_error(e)),
            }
        }
        Ok(())
    }

    /// An upload is complete: shut the write side down, close, tell the session.
    pub(crate) fn data_finish_upload(&mut self) -> io::Result<()> {
        let Data::Stream(s) = &mut self.data else {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the data connection was closed",
            ));
        };
        let _ = s.flush();
        // TLS: close_notify first, see `tls::finish_upload`.
        let shut = match s {
            Sock::Plain(p) => p.shutdown(Shutdown::Write),
            #[cfg(feature = "tls")]
            Sock::Tls(_) => Ok(()),
        };
        if let Err(e) = shut {
            if e.kind() != io::ErrorKind::NotConnected {
                return Err(self.data_error(e));
            }
        }
        #[cfg(feature = "tls")]
        if let Data::Stream(Sock::Tls(t)) = std::mem::replace(&mut self.data, Data::None) {
            if let Err(e) = crate::tls::finish_upload(*t) {
                return Err(self.data_error(e));
            }
        }
        self.data = Data::None;
        let bytes = self.data_bytes;
        self.session
            .handle_data_event(now(), DataEvent::Finished { bytes });
        Ok(())
    }

    /// Bytes moved on the current data connection.
    pub(crate) fn data_bytes(&self) -> u64 {
        self.data_bytes
    }

    /// A data socket error: a stall becomes the session's data timeout (it decides whether
    /// to `ABOR`), anything else a [`DataEvent::Failed`]. Returns the error for the caller.
    fn data_error(&mut self, e: io::Error) -> io::Error {
        let kind = failure_of(&e);
        if kind == DataFailure::TimedOut {
            // The socket waited as long as the data timeout: the session's deadline passed.
            let t = now();
            match self.session.poll_timeout() {
                Some(d) if d <= t => self.session.handle_timeout(t),
                _ => {
                    self.data = Data::None;
                    let bytes = self.data_bytes;
                    self.session
                        .handle_data_event(t, DataEvent::Failed { kind, bytes });
                }
            }
        } else {
            self.data = Data::None;
            let bytes = self.data_bytes;
            self.session
                .handle_data_event(now(), DataEvent::Failed { kind, bytes });
        }
        e
    }

    /// The caller gave up on moving data (its callback, reader or writer failed): close the
    /// data connection and abort the transfer. Returns the transfer's final reply if one was
    /// read.
    pub(crate) fn data_abandon(&mut self) -> Option<Reply> {
        self.stream = None;
        if self.session.is_idle() || self.session.is_closed() {
            self.data = Data::None;
            return None;
        }
        // The session decides what follows (ABOR, then closing the data connection).
        let bytes = self.data_bytes;
        self.session
            .handle_data_event(now(), DataEvent::LocalFailure { bytes });
        let result = self.run_to_completion();
        match result {
            Ok(Ok(Outcome::Aborted { reply })) => Some(reply),
            Ok(Ok(Outcome::Transferred { reply, .. })) => Some(reply),
            Ok(Err(e)) => e.reply().cloned(),
            _ => None,
        }
    }

    /// Whether the control connection runs TLS.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) fn is_control_tls(&self) -> bool {
        !matches!(self.control, Sock::Plain(_))
    }

    /// The TLS context (feature `tls`), if FTPS was set up on this connection.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) fn tls_context(&self) -> Option<&TlsCtx> {
        self.tls.as_ref()
    }

    /// Offers the TLS context for a coming `AUTH TLS`: it becomes the connection's context
    /// when the session asks for the upgrade (a refused `AUTH TLS`, one the session does not
    /// even send, leaves the current context as it was).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) fn offer_tls_context(&mut self, ctx: TlsCtx) {
        self.tls_offer = Some(ctx);
    }

    /// The negotiated TLS version of the control connection.
    #[cfg(feature = "tls")]
    pub(crate) fn control_tls_version(&self) -> Option<crate::tls::rustls::ProtocolVersion> {
        match &self.control {
            Sock::Tls(s) => s.conn().protocol_version(),
            Sock::Plain(_) => None,
        }
    }

    /// Carries out a [`TlsIntent`]: the `AUTH TLS` handshake, or the `CCC` shutdown. A
    /// failure closes the session (never a clear-text fallback).
    #[cfg(feature = "tls")]
    fn tls_intent(&mut self, intent: TlsIntent) {
        let timeout = crate::tls::socket_timeout(self.session.config().reply_timeout);
        // The socket's timeouts change below: set them again before the next read.
        self.read_timeout = None;
        let tcp = match self.control.tcp().try_clone() {
            Ok(t) => t,
            Err(e) => return self.control_failed(e),
        };
        if let Err(e) = tcp
            .set_read_timeout(timeout)
            .and_then(|()| tcp.set_write_timeout(timeout))
        {
            return self.control_failed(e);
        }
        match intent {
            TlsIntent::UpgradeControl => {
                if let Some(offer) = self.tls_offer.take() {
                    self.tls = Some(offer);
                }
                let Some(ctx) = &self.tls else {
                    self.control_error =
                        Some(io::Error::other("AUTH TLS without a TLS configuration"));
                    return self.session.handle_close(now(), LocalClose::TlsUnavailable);
                };
                if self.debuglevel >= 2 {
                    log::info!("*tls* handshake on the control connection");
                }
                match crate::tls::handshake(ctx, tcp) {
                    Ok(s) => {
                        if self.debuglevel > 0 {
                            log::info!(
                                "*tls* control connection: {:?}, {:?}",
                                s.conn().protocol_version(),
                                s.conn().negotiated_cipher_suite().map(|c| c.suite())
                            );
                        }
                        self.control = Sock::Tls(Box::new(s));
                        self.session.handle_tls_established(now());
                    }
                    Err(e) => self.control_failed(e),
                }
            }
            TlsIntent::DowngradeControl => {
                let old = std::mem::replace(&mut self.control, Sock::Plain(tcp));
                match old {
                    Sock::Tls(s) => match crate::tls::downgrade(*s) {
                        Ok((_, cleartext)) => {
                            self.session.handle_tls_established(now());
                            // Clear text right behind the server's close_notify.
                            if !cleartext.is_empty() {
                                self.session.handle_input(now(), &cleartext);
                            }
                        }
                        Err(e) => self.control_failed(e),
                    },
                    // Already clear (should not happen): nothing to shut down.
                    Sock::Plain(_) => self.session.handle_tls_established(now()),
                }
            }
        }
    }

    /// Without the `tls` feature no TLS intent can be carried out: the session closes.
    #[cfg(not(feature = "tls"))]
    fn tls_intent(&mut self, _intent: TlsIntent) {
        self.control_failed(io::Error::new(
            io::ErrorKind::Unsupported,
            "TLS needs the `tls` feature of ftp-blocking",
        ));
    }

    /// The TLS handshake of a protected data connection (resuming the control connection's
    /// session). `false` when it failed (reported to the session).
    #[cfg(feature = "tls")]
    fn data_handshake(&mut self) -> bool {
        let failed = |this: &mut Conn, e: io::Error| {
            if this.debuglevel > 0 {
                log::info!("*tls* data connection handshake failed: {e}");
            }
            this.data = Data::None;
            this.session.handle_data_event(
                now(),
                DataEvent::Failed {
                    kind: DataFailure::Tls,
                    bytes: 0,
                },
            );
            false
        };
        let tcp = match std::mem::replace(&mut self.data, Data::None) {
            Data::Stream(Sock::Plain(tcp)) => tcp,
            other => {
                // Already TLS (cannot happen) or gone: leave it as it was.
                self.data = other;
                return matches!(self.data, Data::Stream(_));
            }
        };
        let Some(ctx) = self.tls.as_mut() else {
            return failed(self, io::Error::other("PROT P without a TLS configuration"));
        };
        match crate::tls::data_handshake(ctx, tcp) {
            Ok(s) => {
                if self.debuglevel >= 2 {
                    log::info!("*tls* data connection: {:?}", s.conn().handshake_kind());
                }
                self.data = Data::Stream(Sock::Tls(Box::new(s)));
                true
            }
            Err(e) => failed(self, e),
        }
    }

    /// Without the `tls` feature a protected data connection cannot be made.
    #[cfg(not(feature = "tls"))]
    fn data_handshake(&mut self) -> bool {
        self.data = Data::None;
        self.session.handle_data_event(
            now(),
            DataEvent::Failed {
                kind: DataFailure::Tls,
                bytes: 0,
            },
        );
        false
    }

    /// Closes the sockets (without `QUIT`).
    pub(crate) fn shutdown(&mut self) {
        self.data = Data::None;
        let _ = self.control.shutdown(Shutdown::Both);
    }
}

/// Implicit FTPS: the TLS handshake before the greeting.
#[cfg(feature = "tls")]
fn implicit_handshake(ctx: &TlsCtx, tcp: TcpStream, timeout: Option<Duration>) -> Result<Sock> {
    let t = crate::tls::socket_timeout(timeout);
    tcp.set_read_timeout(t)?;
    tcp.set_write_timeout(t)?;
    match crate::tls::handshake(ctx, tcp) {
        Ok(s) => Ok(Sock::Tls(Box::new(s))),
        Err(e) => Err(Error::tls(e)),
    }
}

/// Without the `tls` feature there is no TLS context to hand in.
#[cfg(not(feature = "tls"))]
fn implicit_handshake(ctx: &TlsCtx, _tcp: TcpStream, _timeout: Option<Duration>) -> Result<Sock> {
    match *ctx {}
}

/// The end of a download's data connection: TLS answers the server's `close_notify`.
fn close_after_download(s: Sock) {
    match s {
        Sock::Plain(_) => {}
        #[cfg(feature = "tls")]
        Sock::Tls(t) => crate::tls::finish_download(*t),
    }
}
