//! An async FTP client on tokio: nothing but glue around the sans-IO core
//! [`ftp_sansio::session::Session`].
//!
//! Copy this file into a project that depends on `ftp-sansio` (feature `tls`) and `tokio`
//! (features `net`, `io-util`, `time`, `macros`, `rt`). Every protocol decision (which
//! command, which reply means what, fallbacks, the order of an abort, timeouts, every TLS
//! rule) is the core's; this file only moves bytes between tokio sockets and the core and
//! carries out the core's intents:
//!
//! - control bytes: [`Session::poll_transmit`] is written to the control socket, what the
//!   socket reads goes to [`Session::handle_input`] (EOF: `handle_eof`, an I/O error:
//!   `handle_close`);
//! - data connections: [`DataIntent`]s are carried out (connect, listen + accept, stream,
//!   close) and reported back as [`DataEvent`]s; data bytes move between the data socket and
//!   the caller's [`AsyncRead`]/[`AsyncWrite`] through one reused buffer;
//! - time: [`Session::poll_timeout`] is armed on one tokio timer, and `tokio::select!` waits
//!   for the control socket, the data socket and that timer at once;
//! - FTPS: [`TlsIntent`]s start or end a [`TlsLayer`] (`ftp_sansio::tls`) on the control
//!   connection, and protected data intents get one from the same [`TlsContext`] (so they
//!   resume the control connection's session); ciphertext moves between the sockets and the
//!   layers, plaintext between the layers and the session or the caller. The layer decides
//!   the handshake, `close_notify`, the bounded drain after an upload and the `ccc` shutdown;
//!   the core classifies its failures ([`LocalClose::from_io`], [`DataFailure::from_io`]).
//!
//! # Cancellation
//! Every method takes `&mut self` and keeps its sockets, buffers and the session in the
//! client, never in the future. Dropping a future (or `tokio::time::timeout` firing around
//! it) therefore leaves the client in a consistent state, and the next call first settles
//! what the cancelled one left:
//!
//! | cancelled while | the next call | the client afterwards |
//! |---|---|---|
//! | a command (login, cwd, size, ...) | reads the command's reply and drops it | usable |
//! | a transfer (retrieve, store, a listing) | aborts it through the core ([`Session::abort`]) and waits for the abort to end | usable |
//! | a TLS handshake | closes the session | closed: [`Error::Closed`] says a TLS handshake was cancelled |
//!
//! [`Client::abort`] after a cancelled transfer does the same abort and returns the server's
//! answer. If the settling itself fails fatally (the server went away), the call returns
//! [`Error::Closed`] with the reason.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use ftp_sansio::session::Config;
//! use ftp_sansio::tls::TlsConfig;
//! let (mut ftp, _welcome) = Client::connect("127.0.0.1:21", Config::default()).await?;
//! ftp.auth_tls(&TlsConfig::new(), "ftp.example.com").await?; // explicit FTPS
//! ftp.login("anonymous", "").await?;
//! ftp.prot_p().await?;                                       // protected data
//! let mut file = tokio::fs::File::create("README").await?;
//! ftp.retrieve("README", &mut file, None).await?;
//! ftp.quit().await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Instant;

use ftp_sansio::ascii::{CrlfToLf, LfToCrlf};
use ftp_sansio::command::ProtLevel;
use ftp_sansio::listing::{self, ListEntry, ParsedLine};
use ftp_sansio::reply::Reply;
use ftp_sansio::session::{
    Config, DataEvent, DataFailure, DataIntent, Direction, Event, ListPath, LocalClose, OpError,
    Operation, Outcome, Session, TlsIntent, TransferKind, TransferRequest, UsageError,
};
use ftp_sansio::time::Timestamp;
use ftp_sansio::tls::{
    Downgrade, Received, TlsConfig, TlsConfigError, TlsContext, TlsError, TlsInfo, TlsLayer,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream, ToSocketAddrs};
use tokio::time::Sleep;

/// Size of the data buffer (and of the control read buffer's big brother): bulk data moves in
/// chunks of this size.
pub const DATA_BUFFER: usize = 64 * 1024;
/// Default limit on a listing's size ([`Client::set_max_listing`]).
pub const DEFAULT_MAX_LISTING: usize = 64 * 1024 * 1024;
/// Control read buffer size.
const CONTROL_BUFFER: usize = 16 * 1024;
/// Bytes a transfer moves before the driver reports progress to the core and looks at the
/// control connection and the timer again.
const STEP_BUDGET: usize = 1024 * 1024;

/// What went wrong in a [`Client`] call.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The operation failed as the core judged it: a negative reply, a protocol error, a
    /// timeout, the control connection closed ([`OpError::is_fatal`] says whether the session
    /// closed with it).
    Op {
        /// The operation, as the core shows it (secrets masked), and the server.
        operation: String,
        /// What the core said.
        error: OpError,
    },
    /// The core refused to start the operation (an argument with CR/LF/NUL, a TLS rule);
    /// nothing was sent and the client is usable.
    Usage(UsageError),
    /// Connecting the control connection failed, or reading or writing it failed (the
    /// session is closed).
    Io {
        /// What was being done: the connect, or the operation in flight, and the server.
        context: String,
        /// The socket's error.
        source: io::Error,
    },
    /// The caller's sink or source failed; the core aborted the transfer and the client is
    /// usable.
    Local {
        /// The transfer, as the core shows it, and the server.
        operation: String,
        /// The sink's or source's error.
        source: io::Error,
    },
    /// TLS failed on the control connection (the handshake: certificate, name, version; a
    /// record; the `ccc` shutdown). The session is closed.
    Tls {
        /// The operation in flight, and the server.
        context: String,
        /// What the TLS layer said.
        source: TlsError,
    },
    /// The TLS configuration or the server name was refused before anything was sent.
    TlsConfig(TlsConfigError),
    /// A listing was larger than [`Client::set_max_listing`]; the transfer was aborted.
    ListingTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A listing line no parser of [`ftp_sansio::listing`] understands.
    Unparsed {
        /// The line, lossily decoded.
        line: String,
    },
    /// The session is closed; `reason` says why (the error that closed it, `quit`, a
    /// cancelled TLS handshake, a TLS layer that is not available).
    Closed {
        /// Why the session closed.
        reason: String,
    },
    /// The core ended the operation with an outcome this call does not expect (a bug of
    /// this glue, reported rather than panicking).
    Unexpected(Box<Outcome>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Op { operation, error } => write!(f, "{operation}: {error}"),
            Error::Usage(e) => write!(f, "refused before sending: {e}"),
            Error::Io { context, source } => write!(f, "{context}: control connection: {source}"),
            Error::Local { operation, source } => write!(
                f,
                "{operation}: local sink or source failed, transfer aborted: {source}"
            ),
            Error::Tls { context, source } => {
                write!(f, "{context}: control connection TLS: {source}")
            }
            Error::TlsConfig(e) => write!(f, "TLS configuration: {e}"),
            Error::ListingTooLarge { limit } => {
                write!(f, "listing larger than {limit} bytes, transfer aborted")
            }
            Error::Unparsed { line } => write!(f, "unparsable listing line: {line:?}"),
            Error::Closed { reason } => write!(f, "session closed: {reason}"),
            Error::Unexpected(o) => write!(f, "unexpected outcome from the core: {o:?}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Op { error, .. } => Some(error),
            Error::Usage(e) => Some(e),
            Error::Io { source, .. } | Error::Local { source, .. } => Some(source),
            Error::Tls { source, .. } => Some(source),
            Error::TlsConfig(e) => Some(e),
            _ => None,
        }
    }
}

/// What a cancelled call may have left in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    None,
    Command,
    Transfer,
    Handshake,
}

/// A passive connect in progress.
type Connecting = Pin<Box<dyn Future<Output = io::Result<TcpStream>> + Send>>;

/// The data connection.
enum Data {
    None,
    Connecting(Connecting),
    Connected(TcpStream),
    Listening(TcpListener),
    Accepting(TcpListener),
    Streaming(DataSock),
}

/// A data connection that moves bytes, in clear or through a [`TlsLayer`] (`PROT P`). Every
/// method is cancel-safe: what was read or encrypted stays in the layer.
struct DataSock {
    tcp: TcpStream,
    tls: Option<Box<TlsLayer>>,
    /// Ciphertext read buffer (TLS only).
    cbuf: Vec<u8>,
    write_shut: bool,
}

impl DataSock {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let DataSock { tcp, tls, cbuf, .. } = self;
        let Some(layer) = tls else {
            return tcp.read(buf).await;
        };
        loop {
            send_tls(tcp, layer).await?;
            match layer.read(buf)? {
                Received::Data(n) => return Ok(n),
                Received::PeerClosed => return Ok(0),
                Received::NeedCiphertext => receive_tls(tcp, layer, cbuf).await?,
            }
        }
    }

    async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let DataSock { tcp, tls, cbuf, .. } = self;
        let Some(layer) = tls else {
            return tcp.write(buf).await;
        };
        loop {
            while layer.is_handshaking() {
                send_tls(tcp, layer).await?;
                receive_tls(tcp, layer, cbuf).await?;
            }
            send_tls(tcp, layer).await?;
            // Taken into the layer at once; sent by the next call or by `finish`.
            match layer.write(buf)? {
                0 => continue,
                n => return Ok(n),
            }
        }
    }

    /// The end of an upload: the write side shut (TLS: `close_notify` first, then the
    /// layer's bounded drain).
    async fn finish(&mut self) -> io::Result<()> {
        let DataSock {
            tcp,
            tls,
            cbuf,
            write_shut,
        } = self;
        let Some(layer) = tls else {
            return tcp.shutdown().await;
        };
        layer.send_close_notify();
        send_tls(tcp, layer).await?;
        if !*write_shut {
            let _ = tcp.shutdown().await;
            *write_shut = true;
        }
        while !layer.drain().is_done() {
            if receive_tls(tcp, layer, cbuf).await.is_err() {
                break;
            }
        }
        Ok(())
    }
}

/// Writes what the TLS layer has to send.
async fn send_tls(tcp: &mut TcpStream, layer: &mut TlsLayer) -> io::Result<()> {
    while layer.wants_write() {
        match tcp.write(layer.pending_output()).await? {
            0 => return Err(io::ErrorKind::WriteZero.into()),
            n => layer.consume_output(n),
        }
    }
    Ok(())
}

/// Feeds one socket read to the TLS layer.
async fn receive_tls(tcp: &mut TcpStream, layer: &mut TlsLayer, buf: &mut [u8]) -> io::Result<()> {
    match tcp.read(buf).await? {
        0 => layer.receive_eof()?,
        n => layer.receive(&buf[..n])?,
    }
    Ok(())
}

/// Where a transfer's bytes come from or go to.
enum End<'a, W: ?Sized, R: ?Sized> {
    None,
    Sink(&'a mut W),
    Source(&'a mut R),
    Buffer { data: &'a mut Vec<u8>, limit: usize },
}

/// A transfer end that moves nothing (commands, settling).
type NoEnd<'a> = End<'a, tokio::io::Sink, tokio::io::Empty>;

impl<W, R> End<'_, W, R>
where
    W: AsyncWrite + Unpin + ?Sized,
    R: AsyncRead + Unpin + ?Sized,
{
    fn direction(&self) -> Option<Direction> {
        match self {
            End::None => None,
            End::Sink(_) | End::Buffer { .. } => Some(Direction::Download),
            End::Source(_) => Some(Direction::Upload),
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<usize, LocalFailure> {
        match self {
            End::Sink(w) => match w.write(bytes).await {
                Ok(0) if !bytes.is_empty() => {
                    Err(LocalFailure::Io(io::ErrorKind::WriteZero.into()))
                }
                Ok(n) => Ok(n),
                Err(e) => Err(LocalFailure::Io(e)),
            },
            End::Buffer { data, limit } => {
                if data.len().saturating_add(bytes.len()) > *limit {
                    return Err(LocalFailure::ListingTooLarge(*limit));
                }
                data.extend_from_slice(bytes);
                Ok(bytes.len())
            }
            End::None | End::Source(_) => Err(wrong_end()),
        }
    }

    async fn flush(&mut self) -> Result<(), LocalFailure> {
        match self {
            End::Sink(w) => w.flush().await.map_err(LocalFailure::Io),
            _ => Ok(()),
        }
    }

    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, LocalFailure> {
        match self {
            End::Source(r) => r.read(buf).await.map_err(LocalFailure::Io),
            _ => Err(wrong_end()),
        }
    }
}

fn wrong_end() -> LocalFailure {
    LocalFailure::Io(io::Error::new(
        io::ErrorKind::InvalidInput,
        "the transfer's direction does not match its data end",
    ))
}

/// Why the local end of a transfer gave up.
enum LocalFailure {
    Io(io::Error),
    ListingTooLarge(usize),
}

/// What one step of the data connection did.
enum DataStep {
    Connected(TcpStream),
    Accepted(TcpStream),
    Moved,
    Finished,
    Failed(io::Error),
    Local(LocalFailure),
}

/// One transfer's byte stream: the reused buffers and where the transfer stands. Every field
/// is updated only after an await completed, so a cancelled step loses nothing.
struct Pump {
    /// `None`: no data moves (idle, halted by an abort or a local failure).
    direction: Option<Direction>,
    ascii: bool,
    raw: Box<[u8]>,
    conv: Vec<u8>,
    in_conv: bool,
    pos: usize,
    len: usize,
    down: CrlfToLf,
    up: LfToCrlf,
    eof: bool,
    tail_done: bool,
    bytes: u64,
    reported: u64,
}

impl Pump {
    fn new() -> Pump {
        Pump {
            direction: None,
            ascii: false,
            raw: vec![0; DATA_BUFFER].into_boxed_slice(),
            conv: Vec::new(),
            in_conv: false,
            pos: 0,
            len: 0,
            down: CrlfToLf::new(),
            up: LfToCrlf::new(),
            eof: false,
            tail_done: false,
            bytes: 0,
            reported: 0,
        }
    }

    fn begin(&mut self, direction: Direction, ascii: bool) {
        self.direction = Some(direction);
        self.ascii = ascii;
        self.conv.clear();
        self.in_conv = false;
        self.pos = 0;
        self.len = 0;
        self.down = CrlfToLf::new();
        self.up = LfToCrlf::new();
        self.eof = false;
        self.tail_done = false;
        self.bytes = 0;
        self.reported = 0;
    }

    fn pending(&self) -> &[u8] {
        let buf = if self.in_conv {
            &self.conv[..]
        } else {
            &self.raw[..]
        };
        &buf[self.pos..self.len]
    }

    /// `n` fresh bytes in `raw`: pending as they are, or converted in ASCII mode.
    fn fill(&mut self, n: usize, direction: Direction) {
        self.pos = 0;
        if self.ascii {
            self.conv.clear();
            match direction {
                Direction::Download => self.down.push(&self.raw[..n], &mut self.conv),
                Direction::Upload => self.up.push(&self.raw[..n], &mut self.conv),
            }
            self.in_conv = true;
            self.len = self.conv.len();
        } else {
            self.in_conv = false;
            self.len = n;
        }
    }

    async fn run<W, R>(&mut self, sock: &mut DataSock, end: &mut End<'_, W, R>) -> DataStep
    where
        W: AsyncWrite + Unpin + ?Sized,
        R: AsyncRead + Unpin + ?Sized,
    {
        match self.direction {
            Some(Direction::Download) => self.download(sock, end).await,
            Some(Direction::Upload) => self.upload(sock, end).await,
            None => std::future::pending().await,
        }
    }

    async fn download<W, R>(&mut self, sock: &mut DataSock, end: &mut End<'_, W, R>) -> DataStep
    where
        W: AsyncWrite + Unpin + ?Sized,
        R: AsyncRead + Unpin + ?Sized,
    {
        let mut moved = 0;
        loop {
            while self.pos < self.len {
                match end.write(self.pending()).await {
                    Ok(n) => self.pos += n,
                    Err(e) => return DataStep::Local(e),
                }
            }
            if self.eof {
                if self.ascii && !self.tail_done {
                    self.tail_done = true;
                    self.conv.clear();
                    self.down.finish(&mut self.conv);
                    self.in_conv = true;
                    self.pos = 0;
                    self.len = self.conv.len();
                    continue;
                }
                return match end.flush().await {
                    Ok(()) => DataStep::Finished,
                    Err(e) => DataStep::Local(e),
                };
            }
            if moved >= STEP_BUDGET {
                return DataStep::Moved;
            }
            match sock.read(&mut self.raw).await {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    self.bytes += n as u64;
                    moved += n;
                    self.fill(n, Direction::Download);
                }
                Err(e) => return DataStep::Failed(e),
            }
        }
    }

    async fn upload<W, R>(&mut self, sock: &mut DataSock, end: &mut End<'_, W, R>) -> DataStep
    where
        W: AsyncWrite + Unpin + ?Sized,
        R: AsyncRead + Unpin + ?Sized,
    {
        let mut moved = 0;
        loop {
            while self.pos < self.len {
                match sock.write(self.pending()).await {
                    Ok(0) => return DataStep::Failed(io::ErrorKind::WriteZero.into()),
                    Ok(n) => {
                        self.pos += n;
                        self.bytes += n as u64;
                        moved += n;
                    }
                    Err(e) => return DataStep::Failed(e),
                }
            }
            if self.eof {
                return match sock.finish().await {
                    Ok(()) => DataStep::Finished,
                    Err(e) => DataStep::Failed(e),
                };
            }
            if moved >= STEP_BUDGET {
                return DataStep::Moved;
            }
            match end.read(&mut self.raw).await {
                Ok(0) => self.eof = true,
                Ok(n) => self.fill(n, Direction::Upload),
                Err(e) => return DataStep::Local(e),
            }
        }
    }
}

/// The core's deadline on one tokio timer. The timer is moved only to an earlier deadline;
/// when it fires early (the deadline moved later) the core ignores the early
/// `handle_timeout` and the timer is armed again.
struct Timer {
    sleep: Pin<Box<Sleep>>,
    armed: Option<Instant>,
}

impl Timer {
    fn arm(&mut self, deadline: Option<Instant>) {
        match (deadline, self.armed) {
            (None, _) => self.armed = None,
            (Some(d), Some(armed)) if armed <= d => {}
            (Some(d), _) => {
                self.sleep.as_mut().reset(tokio::time::Instant::from_std(d));
                self.armed = Some(d);
            }
        }
    }
}

/// What woke the driver up.
enum Wake {
    Control(io::Result<usize>),
    Timer,
    Data(DataStep),
}

/// An FTP session on tokio sockets. See the [module docs](self) for what cancelling a call
/// does.
pub struct Client {
    session: Session,
    control: TcpStream,
    /// The control connection's TLS (explicit after `auth_tls`, implicit from the start).
    control_tls: Option<Box<TlsLayer>>,
    /// After `ccc`: the layer whose `close_notify` still goes out before clear text.
    retiring_tls: Option<Box<TlsLayer>>,
    /// The session's TLS configuration and server name (control and data connections).
    tls: Option<TlsContext>,
    /// The core's upgrade (after `234`) or downgrade (after `ccc`'s `200`) is being done.
    upgrading: bool,
    downgrading: bool,
    /// The transfer in flight runs TLS on its data connection.
    data_tls: bool,
    rbuf: Box<[u8]>,
    data: Data,
    pump: Pump,
    timer: Timer,
    pending: Pending,
    /// The I/O error behind a [`LocalClose::Io`], reported instead of the core's summary.
    control_error: Option<io::Error>,
    /// The TLS failure behind a [`LocalClose::Tls`].
    control_tls_error: Option<TlsError>,
    /// The sink's or source's failure behind a [`DataFailure::Local`].
    local_error: Option<LocalFailure>,
    /// The operation in flight as the core shows it, with the server, for errors.
    operation: String,
    /// Why the session closed, once it did.
    closed: Option<String>,
    max_listing: usize,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("session", &self.session)
            .field("pending", &self.pending)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects to `addr` and reads the greeting (ftplib's `connect`, which returns the
    /// welcome). `config` is the core's: passive or active mode, timeouts, `FEAT` after
    /// login... The core's deadline for the greeting (its reply timeout, and its operation
    /// timeout when set) bounds the TCP connect too; a connect that does not finish by then
    /// is [`Error::Io`] with [`io::ErrorKind::TimedOut`].
    pub async fn connect(
        addr: impl ToSocketAddrs,
        config: Config,
    ) -> Result<(Client, Reply), Error> {
        Client::open(addr, config, None).await
    }

    /// Connects with implicit FTPS: TLS from the first byte (usually port 990), for `host`
    /// (the name or address the server's certificate names), then reads the greeting.
    /// Data connections are protected (`PROT P`) only after [`Client::prot_p`].
    pub async fn connect_implicit_tls(
        addr: impl ToSocketAddrs,
        host: &str,
        tls: &TlsConfig,
        config: Config,
    ) -> Result<(Client, Reply), Error> {
        let ctx = TlsContext::new(tls, host).map_err(Error::TlsConfig)?;
        Client::open(addr, config, Some(ctx)).await
    }

    async fn open(
        addr: impl ToSocketAddrs,
        config: Config,
        implicit: Option<TlsContext>,
    ) -> Result<(Client, Reply), Error> {
        let start = Instant::now();
        // The core's deadline for the greeting (its reply and operation timeouts, counted
        // from `start`) bounds the TCP connect too; the session below counts from `start`.
        let probe = Session::new(config.clone(), SocketAddr::from(([0, 0, 0, 0], 0)), start);
        let connect = TcpStream::connect(addr);
        let connected = match probe.poll_timeout() {
            Some(d) => tokio::time::timeout_at(d.into(), connect)
                .await
                .unwrap_or_else(|_| {
                    Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "no connection before the greeting's deadline",
                    ))
                }),
            None => connect.await,
        };
        let control = connected.map_err(|source| Error::Io {
            context: "connect".to_owned(),
            source,
        })?;
        // Commands are small and each waits for its reply: never delay them.
        let _ = control.set_nodelay(true);
        let peer = control.peer_addr().map_err(|source| Error::Io {
            context: "connect".to_owned(),
            source,
        })?;
        let (session, control_tls) = match &implicit {
            None => (Session::new(config, peer, start), None),
            Some(ctx) => {
                let layer = ctx.start().map_err(|source| Error::Tls {
                    context: format!("greeting of {peer}"),
                    source,
                })?;
                let session = Session::new_implicit_tls(config, peer, start);
                (session, Some(Box::new(layer)))
            }
        };
        let mut client = Client {
            session,
            control,
            control_tls,
            retiring_tls: None,
            tls: implicit,
            upgrading: false,
            downgrading: false,
            data_tls: false,
            rbuf: vec![0; CONTROL_BUFFER].into_boxed_slice(),
            data: Data::None,
            pump: Pump::new(),
            timer: Timer {
                sleep: Box::pin(tokio::time::sleep_until(tokio::time::Instant::now())),
                armed: None,
            },
            pending: Pending::Command,
            control_error: None,
            control_tls_error: None,
            local_error: None,
            operation: format!("greeting of {peer}"),
            closed: None,
            max_listing: DEFAULT_MAX_LISTING,
        };
        match client.run(&mut NoEnd::None).await? {
            Outcome::Greeting(reply) => Ok((client, reply)),
            other => Err(unexpected(other)),
        }
    }

    /// The greeting, once received.
    pub fn welcome(&self) -> Option<&Reply> {
        self.session.welcome()
    }

    /// Whether the session is closed (after `quit`, a fatal error or a cancelled TLS
    /// handshake); every further call returns [`Error::Closed`].
    pub fn is_closed(&self) -> bool {
        self.closed.is_some() || self.session.is_closed()
    }

    /// The core's configuration, to change between calls (passive/active mode, timeouts).
    pub fn config_mut(&mut self) -> &mut Config {
        self.session.config_mut()
    }

    /// ftplib's `set_pasv`: `true` for passive data connections, `false` for active ones.
    pub fn set_pasv(&mut self, passive: bool) {
        self.session.config_mut().passive = passive;
    }

    /// Limits the size of a listing (`nlst`, `list`, `mlsd`); a longer one is aborted with
    /// [`Error::ListingTooLarge`].
    pub fn set_max_listing(&mut self, bytes: usize) {
        self.max_listing = bytes;
    }

    /// The control connection's local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.control.local_addr()
    }

    /// Logs in (ftplib's `login`; an empty user is anonymous). Returns the final reply.
    pub async fn login(&mut self, user: &str, password: &str) -> Result<Reply, Error> {
        let op = Operation::Login {
            user: user.to_owned(),
            password: password.to_owned(),
            account: None,
        };
        match self.command(op).await? {
            Outcome::LoggedIn(reply) => Ok(reply),
            other => Err(unexpected(other)),
        }
    }

    /// Changes the working directory.
    pub async fn cwd(&mut self, path: impl AsRef<[u8]>) -> Result<Reply, Error> {
        self.done(Operation::Cwd(path.as_ref().to_vec())).await
    }

    /// The working directory.
    pub async fn pwd(&mut self) -> Result<String, Error> {
        self.path(Operation::Pwd).await
    }

    /// Creates a directory; returns its path as the server names it.
    pub async fn mkd(&mut self, path: impl AsRef<[u8]>) -> Result<String, Error> {
        self.path(Operation::Mkd(path.as_ref().to_vec())).await
    }

    /// Removes a directory.
    pub async fn rmd(&mut self, path: impl AsRef<[u8]>) -> Result<Reply, Error> {
        self.done(Operation::Rmd(path.as_ref().to_vec())).await
    }

    /// Deletes a file.
    pub async fn delete(&mut self, path: impl AsRef<[u8]>) -> Result<Reply, Error> {
        self.done(Operation::Dele(path.as_ref().to_vec())).await
    }

    /// Renames `from` to `to`.
    pub async fn rename(
        &mut self,
        from: impl AsRef<[u8]>,
        to: impl AsRef<[u8]>,
    ) -> Result<Reply, Error> {
        let op = Operation::Rename {
            from: from.as_ref().to_vec(),
            to: to.as_ref().to_vec(),
        };
        self.done(op).await
    }

    /// A file's size in bytes.
    pub async fn size(&mut self, path: impl AsRef<[u8]>) -> Result<u64, Error> {
        match self
            .command(Operation::Size(path.as_ref().to_vec()))
            .await?
        {
            Outcome::Size(n) => Ok(n),
            other => Err(unexpected(other)),
        }
    }

    /// A file's modification time, with the precision the server gave.
    pub async fn mdtm(&mut self, path: impl AsRef<[u8]>) -> Result<Timestamp, Error> {
        match self
            .command(Operation::Mdtm(path.as_ref().to_vec()))
            .await?
        {
            Outcome::Mtime(t) => Ok(t),
            other => Err(unexpected(other)),
        }
    }

    /// The names in a directory (ftplib's `nlst`); `path`: `None`, `"dir"`, `&bytes[..]`
    /// ([`ListPath`]).
    pub async fn nlst(&mut self, path: impl ListPath) -> Result<Vec<String>, Error> {
        let buf = self
            .listing_bytes(TransferKind::Nlst(path.into_path()))
            .await?;
        Ok(listing::list_lines(&buf)
            .filter_map(listing::parse_nlst_line)
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect())
    }

    /// A directory's entries from the human-readable listing, parsed by
    /// [`listing::parse_list`] (Unix, Windows, EPLF, VMS). Lines that carry no entry are
    /// skipped; a line no parser understands is [`Error::Unparsed`].
    pub async fn list(&mut self, path: impl ListPath) -> Result<Vec<ListEntry>, Error> {
        let buf = self
            .listing_bytes(TransferKind::List(path.into_path()))
            .await?;
        let now = now_timestamp().ok_or_else(|| Error::Unparsed {
            line: "the system clock is outside the listing parser's range".into(),
        })?;
        entries(listing::parse_list(&buf, now))
    }

    /// A directory's entries from the machine-readable listing (RFC 3659), parsed by
    /// [`listing::parse_mlsd`].
    pub async fn mlsd(&mut self, path: impl ListPath) -> Result<Vec<ListEntry>, Error> {
        let buf = self
            .listing_bytes(TransferKind::Mlsd(path.into_path()))
            .await?;
        entries(listing::parse_mlsd(&buf))
    }

    /// A directory's entries through the listing the core picks
    /// ([`Session::entries_listing`]: the machine-readable one when the server offers it,
    /// else the human-readable one), parsed as [`Client::mlsd`] or [`Client::list`] does.
    pub async fn entries(&mut self, path: impl ListPath) -> Result<Vec<ListEntry>, Error> {
        self.settle().await?;
        let kind = self.session.entries_listing(path.into_path());
        let machine = matches!(kind, TransferKind::Mlsd(_));
        let buf = self.listing_bytes(kind).await?;
        if machine {
            return entries(listing::parse_mlsd(&buf));
        }
        let now = now_timestamp().ok_or_else(|| Error::Unparsed {
            line: "the system clock is outside the listing parser's range".into(),
        })?;
        entries(listing::parse_list(&buf, now))
    }

    /// Downloads `path` in binary mode into `sink`, from byte `rest` on when given (resume).
    /// Returns the bytes received.
    pub async fn retrieve<W>(
        &mut self,
        path: impl AsRef<[u8]>,
        sink: &mut W,
        rest: Option<u64>,
    ) -> Result<u64, Error>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        let req = TransferRequest {
            kind: TransferKind::Retr(path.as_ref().to_vec()),
            ascii: false,
            rest,
        };
        let mut end: End<'_, W, tokio::io::Empty> = End::Sink(sink);
        transferred(self.transfer(req, &mut end).await?)
    }

    /// Uploads everything `source` yields to `path` in binary mode, replacing it. Returns the
    /// bytes sent.
    pub async fn store<R>(&mut self, path: impl AsRef<[u8]>, source: &mut R) -> Result<u64, Error>
    where
        R: AsyncRead + Unpin + ?Sized,
    {
        let req = TransferRequest {
            kind: TransferKind::Stor(path.as_ref().to_vec()),
            ascii: false,
            rest: None,
        };
        let mut end: End<'_, tokio::io::Sink, R> = End::Source(source);
        transferred(self.transfer(req, &mut end).await?)
    }

    /// Aborts: a transfer left in flight by a cancelled call is aborted through the core
    /// (the answer to the abort is returned; if the transfer had finished meanwhile, its
    /// final reply); when nothing is in flight, the core's abort runs on its own.
    pub async fn abort(&mut self) -> Result<Reply, Error> {
        if self.pending == Pending::Transfer && self.take_queued().is_none() {
            self.abort_in_flight()?;
            return reply_of(self.run(&mut NoEnd::None).await?);
        }
        self.settle().await?;
        self.control_error = None;
        self.session
            .abort(Instant::now())
            .map_err(|e| self.usage(e))?;
        self.operation = format!("abort ({})", self.session.control_peer());
        self.pending = Pending::Command;
        reply_of(self.run(&mut NoEnd::None).await?)
    }

    /// Any operation of the core that needs no data connection (ftplib's `sendcmd` is
    /// [`Operation::Raw`]; `feat`, `syst`, `stat`, `site`, `help`, `noop`, `mlst`, `cdup`
    /// are there too). A transfer needs a data end: [`Client::transfer_into`] or
    /// [`Client::transfer_from`].
    pub async fn operation(&mut self, op: Operation) -> Result<Outcome, Error> {
        if let Operation::Transfer(_) = op {
            return Err(Error::Local {
                operation: op.to_string(),
                source: io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a transfer needs a data end: use transfer_into or transfer_from",
                ),
            });
        }
        self.command(op).await
    }

    /// Any download the core knows (ftplib's `transfercmd`: a listing, a raw command, a
    /// resumed retrieve in ASCII mode...) into `sink`. A request for an upload fails the
    /// transfer locally ([`Error::Local`]) and the core aborts it.
    pub async fn transfer_into<W>(
        &mut self,
        req: TransferRequest,
        sink: &mut W,
    ) -> Result<Outcome, Error>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        let mut end: End<'_, W, tokio::io::Empty> = End::Sink(sink);
        self.transfer(req, &mut end).await
    }

    /// Any upload the core knows (append, store under a unique name, resume with a restart
    /// offset, ASCII mode) from `source`.
    pub async fn transfer_from<R>(
        &mut self,
        req: TransferRequest,
        source: &mut R,
    ) -> Result<Outcome, Error>
    where
        R: AsyncRead + Unpin + ?Sized,
    {
        let mut end: End<'_, tokio::io::Sink, R> = End::Source(source);
        self.transfer(req, &mut end).await
    }

    /// Closes the session from this side without a word to the server (the core's
    /// `handle_close` with [`LocalClose::User`]); every further call returns
    /// [`Error::Closed`].
    pub async fn close(&mut self) {
        self.closed
            .get_or_insert_with(|| "closed by the user".to_owned());
        self.session.handle_close(Instant::now(), LocalClose::User);
        let _ = self.take_queued();
        self.drop_data();
        self.pending = Pending::None;
        let _ = self.control.shutdown().await;
    }

    /// Explicit FTPS (RFC 4217): the core asks the server for TLS and, once it agrees, the
    /// control connection's handshake runs for `host` (the name or address the server's
    /// certificate names) with `tls`. A refusal or a failed handshake closes the session (the
    /// core's rule: nothing goes on in clear text). Returns the server's agreement.
    pub async fn auth_tls(&mut self, tls: &TlsConfig, host: &str) -> Result<Reply, Error> {
        self.settle().await?;
        let ctx = TlsContext::new(tls, host).map_err(Error::TlsConfig)?;
        // The session may refuse (TLS already runs): the context in use stays until it has
        // accepted the operation.
        self.start(Operation::AuthTls, Pending::Command)?;
        self.tls = Some(ctx);
        reply_of(self.run(&mut NoEnd::None).await?)
    }

    /// Protected data connections from now on (ftplib's `prot_p`); each resumes the
    /// control connection's TLS session.
    pub async fn prot_p(&mut self) -> Result<Reply, Error> {
        self.done(Operation::Protect(ProtLevel::Private)).await
    }

    /// Clear data connections again (ftplib's `prot_c`).
    pub async fn prot_c(&mut self) -> Result<Reply, Error> {
        self.done(Operation::Protect(ProtLevel::Clear)).await
    }

    /// Ends TLS on the control connection (RFC 4217 §6); data protection stays as it was.
    pub async fn ccc(&mut self) -> Result<Reply, Error> {
        self.done(Operation::Ccc).await
    }

    /// The TLS version of the control connection and how many data connections completed a
    /// handshake and resumed its session; `None` without TLS.
    pub fn tls_info(&self) -> Option<TlsInfo> {
        let version = self
            .control_tls
            .as_ref()
            .and_then(|l| l.connection().protocol_version());
        self.tls.as_ref().map(|ctx| ctx.info(version))
    }

    /// Ends the session politely; the client is closed afterwards.
    pub async fn quit(&mut self) -> Result<Reply, Error> {
        match self.command(Operation::Quit).await? {
            Outcome::Closed(reply) => Ok(reply),
            other => Err(unexpected(other)),
        }
    }

    // ---------------------------------------------------------------------------------
    // Running operations
    // ---------------------------------------------------------------------------------

    async fn command(&mut self, op: Operation) -> Result<Outcome, Error> {
        self.settle().await?;
        self.start(op, Pending::Command)?;
        self.run(&mut NoEnd::None).await
    }

    async fn done(&mut self, op: Operation) -> Result<Reply, Error> {
        reply_of(self.command(op).await?)
    }

    async fn path(&mut self, op: Operation) -> Result<String, Error> {
        match self.command(op).await? {
            Outcome::Path(p) => Ok(String::from_utf8_lossy(&p).into_owned()),
            other => Err(unexpected(other)),
        }
    }

    async fn transfer<W, R>(
        &mut self,
        req: TransferRequest,
        end: &mut End<'_, W, R>,
    ) -> Result<Outcome, Error>
    where
        W: AsyncWrite + Unpin + ?Sized,
        R: AsyncRead + Unpin + ?Sized,
    {
        self.settle().await?;
        self.start(Operation::Transfer(req), Pending::Transfer)?;
        self.run(end).await
    }

    /// A listing's bytes as the server sent them (ASCII mode, line ends converted), within
    /// [`Client::set_max_listing`]: for a caller who parses them itself.
    pub async fn listing_bytes(&mut self, kind: TransferKind) -> Result<Vec<u8>, Error> {
        let mut data = Vec::new();
        let req = TransferRequest {
            kind,
            ascii: true,
            rest: None,
        };
        let mut end: NoEnd<'_> = End::Buffer {
            data: &mut data,
            limit: self.max_listing,
        };
        transferred(self.transfer(req, &mut end).await?)?;
        Ok(data)
    }

    fn start(&mut self, op: Operation, pending: Pending) -> Result<(), Error> {
        self.control_error = None;
        self.control_tls_error = None;
        self.local_error = None;
        self.operation = format!("{op} ({})", self.session.control_peer());
        self.session
            .start(Instant::now(), op)
            .map_err(|e| self.usage(e))?;
        self.pending = pending;
        Ok(())
    }

    fn usage(&self, e: UsageError) -> Error {
        match (e, &self.closed) {
            (UsageError::Closed, Some(reason)) => Error::Closed {
                reason: reason.clone(),
            },
            (e, _) => Error::Usage(e),
        }
    }

    /// Finishes what a cancelled call left in flight (see the module docs).
    async fn settle(&mut self) -> Result<(), Error> {
        match self.pending {
            Pending::None => self.absorb_input().await,
            Pending::Command => {
                let _ = self.run(&mut NoEnd::None).await;
            }
            Pending::Transfer => {
                if self.take_queued().is_none() && self.abort_in_flight().is_ok() {
                    let _ = self.run(&mut NoEnd::None).await;
                }
            }
            Pending::Handshake => {
                self.closed
                    .get_or_insert_with(|| "a TLS handshake was cancelled".to_owned());
                self.session.handle_close(Instant::now(), LocalClose::User);
                let _ = self.take_queued();
            }
        }
        match &self.closed {
            Some(reason) => Err(Error::Closed {
                reason: reason.clone(),
            }),
            None if self.session.is_closed() => Err(Error::Closed {
                reason: "the session is closed".to_owned(),
            }),
            None => Ok(()),
        }
    }

    /// Between operations: gives the core what already arrived on the control connection
    /// (a `421` and the server's close while idle), without waiting, so that it can refuse
    /// the next operation instead of sending it into a closed connection.
    async fn absorb_input(&mut self) {
        while !self.session.is_closed() {
            // `yield_now` lets the runtime poll its I/O driver once: what already arrived
            // is read, and nothing is waited for.
            let r = tokio::select! {
                biased;
                r = self.control.read(&mut self.rbuf) => r,
                () = tokio::task::yield_now() => break,
            };
            let eof = matches!(r, Ok(0));
            self.on_control_read(r);
            while self.control_step() {}
            if eof {
                break;
            }
        }
        let _ = self.take_queued();
    }

    /// Handles the events already queued (of a cancelled call); the result if its
    /// operation had completed.
    fn take_queued(&mut self) -> Option<Result<Outcome, Error>> {
        self.process(&mut NoEnd::None)
    }

    /// Asks the core to abort the transfer in flight; no more data moves.
    fn abort_in_flight(&mut self) -> Result<(), Error> {
        self.pump.direction = None;
        match self.session.abort(Instant::now()) {
            // An abort is already under way (a local failure, a data timeout).
            Ok(()) | Err(UsageError::NotAbortable) => Ok(()),
            Err(e) => Err(self.usage(e)),
        }
    }

    /// Drives the session until the operation in flight completes.
    async fn run<W, R>(&mut self, end: &mut End<'_, W, R>) -> Result<Outcome, Error>
    where
        W: AsyncWrite + Unpin + ?Sized,
        R: AsyncRead + Unpin + ?Sized,
    {
        loop {
            if let Some(result) = self.process(end) {
                return result;
            }
            if self.control_step() {
                continue;
            }
            if self.session.is_idle() || self.session.is_closed() {
                // Cannot happen while the core keeps its contract; never wait for nothing.
                self.pending = Pending::None;
                return Err(Error::Closed {
                    reason: self
                        .closed
                        .clone()
                        .unwrap_or_else(|| "no operation in flight".to_owned()),
                });
            }
            if self.wants_flush() {
                self.flush().await;
                continue;
            }
            self.wait(end).await;
        }
    }

    /// The control connection's TLS work that needs no I/O: a finished handshake or `ccc`
    /// shutdown reported to the core, or one piece of decrypted input given to it. `true`
    /// if anything happened (then the core's events come first).
    fn control_step(&mut self) -> bool {
        let now = Instant::now();
        let Some(layer) = self.control_tls.as_mut() else {
            return false;
        };
        if self.session.is_closed() {
            return false;
        }
        if self.downgrading {
            return match layer.downgrade() {
                Ok(Downgrade::NeedCiphertext) => false,
                Ok(Downgrade::Done { cleartext }) => {
                    self.downgrading = false;
                    self.pending = Pending::Command;
                    self.retiring_tls = self.control_tls.take();
                    self.session.handle_tls_established(now);
                    if !cleartext.is_empty() {
                        self.session.handle_input(now, &cleartext);
                    }
                    true
                }
                Err(e) => {
                    self.control_tls_failed(e);
                    true
                }
            };
        }
        if layer.is_handshaking() {
            return false;
        }
        if self.upgrading {
            self.upgrading = false;
            self.pending = Pending::Command;
            self.session.handle_tls_established(now);
            return true;
        }
        match layer.read(&mut self.rbuf) {
            Ok(Received::Data(n)) => self.session.handle_input(now, &self.rbuf[..n]),
            Ok(Received::NeedCiphertext) => return false,
            Ok(Received::PeerClosed) => self.session.handle_eof(now),
            Err(e) => self.control_tls_failed(e),
        }
        true
    }

    /// The control connection's TLS layer failed: the core classifies it
    /// ([`LocalClose::from_io`]) and closes the session.
    fn control_tls_failed(&mut self, e: TlsError) {
        // The alert for the server, if the socket takes it now (a courtesy).
        if let Some(layer) = self.control_tls.as_mut() {
            if let Ok(n) = self.control.try_write(layer.pending_output()) {
                layer.consume_output(n);
            }
        }
        let io = io::Error::from(e.clone());
        if LocalClose::from_io(&io) == LocalClose::Tls {
            self.control_tls_error.get_or_insert(e);
        }
        self.control_failed(io);
    }

    fn wants_flush(&self) -> bool {
        let tls_out = |l: &Option<Box<TlsLayer>>| l.as_ref().is_some_and(|l| l.wants_write());
        !self.session.is_closed()
            && (!self.session.poll_transmit().is_empty()
                || tls_out(&self.control_tls)
                || tls_out(&self.retiring_tls))
    }

    /// Writes the control bytes the core queued (through TLS when it runs), after what a
    /// retired TLS layer still has to send (its `close_notify`).
    async fn flush(&mut self) {
        loop {
            if let Some(layer) = self.control_tls.as_mut() {
                let out = self.session.poll_transmit();
                if !out.is_empty() {
                    match layer.write(out) {
                        Ok(n) => self.session.consume_transmit(n),
                        Err(e) => return self.control_tls_failed(e),
                    }
                }
            }
            let layer = match (&mut self.retiring_tls, &mut self.control_tls) {
                (Some(l), _) if l.wants_write() => Some(l),
                (Some(_), _) => {
                    self.retiring_tls = None;
                    continue;
                }
                (None, Some(l)) => Some(l),
                (None, None) => None,
            };
            let out = match &layer {
                Some(l) => l.pending_output(),
                None => self.session.poll_transmit(),
            };
            if out.is_empty() {
                return;
            }
            match self.control.write(out).await {
                Ok(0) => return self.control_failed(io::ErrorKind::WriteZero.into()),
                Ok(n) => match layer {
                    Some(l) => l.consume_output(n),
                    None => self.session.consume_transmit(n),
                },
                Err(e) => return self.control_failed(e),
            }
        }
    }

    fn control_failed(&mut self, e: io::Error) {
        let reason = LocalClose::from_io(&e);
        self.control_error.get_or_insert(e);
        self.session.handle_close(Instant::now(), reason);
    }

    /// Waits for the control socket, the data connection or the core's deadline, and feeds
    /// what happened to the core.
    async fn wait<W, R>(&mut self, end: &mut End<'_, W, R>)
    where
        W: AsyncWrite + Unpin + ?Sized,
        R: AsyncRead + Unpin + ?Sized,
    {
        self.timer.arm(self.session.poll_timeout());
        let Client {
            session,
            control,
            rbuf,
            data,
            pump,
            timer,
            ..
        } = self;
        let data_busy = match data {
            Data::Connecting(_) | Data::Accepting(_) => true,
            Data::Streaming(_) => pump.direction.is_some(),
            _ => false,
        };
        let session: &Session = session;
        // Data before control: bytes that arrived before the server's final reply (or its
        // close) reach the caller first, as they arrived.
        let wake = tokio::select! {
            biased;
            () = timer.sleep.as_mut(), if timer.armed.is_some() => Wake::Timer,
            s = data_step(data, pump, end, session), if data_busy => Wake::Data(s),
            r = control.read(rbuf) => Wake::Control(r),
        };
        let now = Instant::now();
        match wake {
            Wake::Control(r) => self.on_control_read(r),
            Wake::Timer => {
                self.timer.armed = None;
                self.report_progress(now);
                self.session.handle_timeout(now);
            }
            Wake::Data(step) => self.on_data_step(now, step),
        }
    }

    /// A read of the control socket (in `rbuf`): to the TLS layer when it runs, else to the
    /// core.
    fn on_control_read(&mut self, r: io::Result<usize>) {
        let now = Instant::now();
        match (r, self.control_tls.as_mut()) {
            (Ok(0), Some(layer)) => {
                if let Err(e) = layer.receive_eof() {
                    self.control_tls_failed(e);
                }
            }
            (Ok(n), Some(layer)) => {
                if let Err(e) = layer.receive(&self.rbuf[..n]) {
                    self.control_tls_failed(e);
                }
            }
            (Ok(0), None) => self.session.handle_eof(now),
            (Ok(n), None) => self.session.handle_input(now, &self.rbuf[..n]),
            (Err(e), _) => self.control_failed(e),
        }
    }

    fn report_progress(&mut self, now: Instant) {
        if self.pump.bytes != self.pump.reported {
            self.pump.reported = self.pump.bytes;
            self.session
                .handle_data_event(now, DataEvent::Progress(self.pump.bytes));
        }
    }

    fn on_data_step(&mut self, now: Instant, step: DataStep) {
        self.report_progress(now);
        let bytes = self.pump.bytes;
        match step {
            DataStep::Connected(s) => {
                self.data = Data::Connected(s);
                self.session.handle_data_event(now, DataEvent::Connected);
            }
            DataStep::Accepted(s) => match self.data_sock(s) {
                Ok(sock) => {
                    self.data = Data::Streaming(sock);
                    self.session.handle_data_event(now, DataEvent::Accepted);
                }
                Err(e) => self.data_failed(now, &e.into()),
            },
            DataStep::Moved => {}
            DataStep::Finished => {
                self.drop_data();
                self.pump.direction = None;
                self.session
                    .handle_data_event(now, DataEvent::Finished { bytes });
            }
            DataStep::Failed(e) => self.data_failed(now, &e),
            DataStep::Local(e) => {
                // The core aborts; the data connection stays open until it says Close.
                self.pump.direction = None;
                self.local_error.get_or_insert(e);
                self.session
                    .handle_data_event(now, DataEvent::LocalFailure { bytes });
            }
        }
    }

    /// A data socket for the transfer in flight: with a TLS layer from the session's context
    /// when the core asked for a protected one (it resumes the control connection's session).
    fn data_sock(&self, tcp: TcpStream) -> Result<DataSock, TlsError> {
        let tls = match (&self.tls, self.data_tls) {
            (Some(ctx), true) => Some(Box::new(ctx.start()?)),
            _ => None,
        };
        let cbuf = if tls.is_some() {
            vec![0; CONTROL_BUFFER]
        } else {
            Vec::new()
        };
        Ok(DataSock {
            tcp,
            tls,
            cbuf,
            write_shut: false,
        })
    }

    /// Drops the data connection; a TLS one is counted (handshake, resumption) and gets our
    /// `close_notify` if the socket takes it now.
    fn drop_data(&mut self) {
        if let Data::Streaming(mut sock) = std::mem::replace(&mut self.data, Data::None) {
            if let (Some(layer), Some(ctx)) = (sock.tls.as_mut(), self.tls.as_mut()) {
                ctx.count_data_handshake(layer);
                layer.send_close_notify();
                if let Ok(n) = sock.tcp.try_write(layer.pending_output()) {
                    layer.consume_output(n);
                }
            }
        }
    }

    fn data_failed(&mut self, now: Instant, e: &io::Error) {
        self.drop_data();
        self.pump.direction = None;
        let kind = DataFailure::from_io(e);
        let bytes = self.pump.bytes;
        self.session
            .handle_data_event(now, DataEvent::Failed { kind, bytes });
    }

    /// Handles the core's queued events; the result once the operation completed.
    fn process<W, R>(&mut self, end: &mut End<'_, W, R>) -> Option<Result<Outcome, Error>>
    where
        W: AsyncWrite + Unpin + ?Sized,
        R: AsyncRead + Unpin + ?Sized,
    {
        while let Some(ev) = self.session.poll_event() {
            match ev {
                Event::Completed(result) => return Some(self.complete(result)),
                Event::Data(intent) => self.on_intent(intent, end.direction()),
                Event::Tls(intent) => self.on_tls(intent),
                Event::Reply(_) => {}
            }
        }
        None
    }

    fn complete(&mut self, result: Result<Outcome, OpError>) -> Result<Outcome, Error> {
        self.pending = Pending::None;
        self.drop_data();
        self.pump.direction = None;
        let local = self.local_error.take();
        let io = self.control_error.take();
        let result = result.map_err(|e| match (e, local, io) {
            (
                OpError::Data {
                    failure: DataFailure::Local,
                    ..
                },
                Some(local),
                _,
            ) => match local {
                LocalFailure::Io(source) => Error::Local {
                    operation: self.operation.clone(),
                    source,
                },
                LocalFailure::ListingTooLarge(limit) => Error::ListingTooLarge { limit },
            },
            (OpError::LocalClose(LocalClose::Tls), _, _) if self.control_tls_error.is_some() => {
                match self.control_tls_error.take() {
                    Some(source) => Error::Tls {
                        context: self.operation.clone(),
                        source,
                    },
                    None => Error::Op {
                        operation: self.operation.clone(),
                        error: OpError::LocalClose(LocalClose::Tls),
                    },
                }
            }
            (OpError::LocalClose(LocalClose::Io(_)), _, Some(source)) => Error::Io {
                context: self.operation.clone(),
                source,
            },
            (error, _, _) => Error::Op {
                operation: self.operation.clone(),
                error,
            },
        });
        if self.session.is_closed() && self.closed.is_none() {
            self.closed = Some(match &result {
                Ok(_) => "ended by quit".to_owned(),
                Err(e) => e.to_string(),
            });
        }
        result
    }

    fn on_intent(&mut self, intent: DataIntent, end: Option<Direction>) {
        let now = Instant::now();
        match intent {
            DataIntent::Connect { tls: true, .. } | DataIntent::Listen { tls: true }
                if self.tls.is_none() =>
            {
                self.tls_unavailable(now)
            }
            DataIntent::Connect { addr, .. } => {
                self.data = Data::Connecting(Box::pin(TcpStream::connect(addr)));
            }
            DataIntent::Listen { .. } => match self.listen() {
                Ok((listener, addr)) => {
                    self.data = Data::Listening(listener);
                    self.session
                        .handle_data_event(now, DataEvent::Listening(addr));
                }
                Err(e) => self.data_failed(now, &e),
            },
            DataIntent::Stream { tls: true, .. } if self.tls.is_none() => self.tls_unavailable(now),
            DataIntent::Stream {
                direction,
                ascii,
                tls,
                ..
            } => {
                if end != Some(direction) {
                    // Settling a cancelled call: nothing to move the data to or from.
                    self.pump.direction = None;
                    let bytes = self.pump.bytes;
                    self.session
                        .handle_data_event(now, DataEvent::LocalFailure { bytes });
                    return;
                }
                self.pump.begin(direction, ascii);
                self.data_tls = tls;
                self.data = match std::mem::replace(&mut self.data, Data::None) {
                    Data::Connected(s) => match self.data_sock(s) {
                        Ok(sock) => Data::Streaming(sock),
                        Err(e) => return self.data_failed(now, &e.into()),
                    },
                    Data::Listening(l) => Data::Accepting(l),
                    _ => {
                        let e = io::Error::new(io::ErrorKind::NotConnected, "no data connection");
                        return self.data_failed(now, &e);
                    }
                };
            }
            DataIntent::Close => {
                self.drop_data();
                self.pump.direction = None;
            }
        }
    }

    /// The core's TLS intents: start the control handshake (after `234`) or the `ccc`
    /// shutdown; `control_step` reports each done.
    fn on_tls(&mut self, intent: TlsIntent) {
        let now = Instant::now();
        match intent {
            TlsIntent::UpgradeControl => match self.tls.as_ref().map(TlsContext::start) {
                Some(Ok(layer)) => {
                    self.control_tls = Some(Box::new(layer));
                    self.upgrading = true;
                    self.pending = Pending::Handshake;
                }
                Some(Err(e)) => self.control_tls_failed(e),
                None => self.tls_unavailable(now),
            },
            TlsIntent::DowngradeControl if self.control_tls.is_some() => {
                self.downgrading = true;
                self.pending = Pending::Handshake;
            }
            TlsIntent::DowngradeControl => self.tls_unavailable(now),
        }
    }

    fn tls_unavailable(&mut self, now: Instant) {
        self.session.handle_close(now, LocalClose::TlsUnavailable);
    }

    /// Active mode: a listener on the control connection's local IP, any port.
    fn listen(&self) -> io::Result<(TcpListener, SocketAddr)> {
        let ip = self.control.local_addr()?.ip();
        let socket = if ip.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.bind(SocketAddr::new(ip, 0))?;
        let listener = socket.listen(8)?;
        let addr = listener.local_addr()?;
        Ok((listener, addr))
    }
}

/// One step of the data connection: connect, accept, or move data.
async fn data_step<W, R>(
    data: &mut Data,
    pump: &mut Pump,
    end: &mut End<'_, W, R>,
    session: &Session,
) -> DataStep
where
    W: AsyncWrite + Unpin + ?Sized,
    R: AsyncRead + Unpin + ?Sized,
{
    match data {
        Data::Connecting(connect) => match connect.as_mut().await {
            Ok(s) => DataStep::Connected(s),
            Err(e) => DataStep::Failed(e),
        },
        Data::Accepting(listener) => loop {
            match listener.accept().await {
                Ok((s, peer)) if session.is_acceptable_data_peer(peer) => {
                    return DataStep::Accepted(s)
                }
                // Port theft (RFC 2577): not the server; drop it, keep waiting.
                Ok(_) => {}
                Err(e) => return DataStep::Failed(e),
            }
        },
        Data::Streaming(sock) => pump.run(sock, end).await,
        _ => std::future::pending().await,
    }
}

fn transferred(outcome: Outcome) -> Result<u64, Error> {
    match outcome {
        Outcome::Transferred { bytes, .. } => Ok(bytes),
        other => Err(unexpected(other)),
    }
}

fn reply_of(outcome: Outcome) -> Result<Reply, Error> {
    match outcome {
        Outcome::Done(reply)
        | Outcome::Aborted { reply }
        | Outcome::Transferred { reply, .. }
        | Outcome::Closed(reply) => Ok(reply),
        other => Err(unexpected(other)),
    }
}

fn unexpected(outcome: Outcome) -> Error {
    Error::Unexpected(Box::new(outcome))
}

fn entries<'a>(lines: impl Iterator<Item = ParsedLine<'a>>) -> Result<Vec<ListEntry>, Error> {
    let mut out = Vec::new();
    for line in lines {
        match line {
            ParsedLine::Entry(e) => out.push(e.to_owned()),
            ParsedLine::NotAnEntry => {}
            ParsedLine::Unparsed(raw) => {
                return Err(Error::Unparsed {
                    line: String::from_utf8_lossy(raw).into_owned(),
                })
            }
        }
    }
    Ok(out)
}

/// Now, for the listing parser's year rule.
fn now_timestamp() -> Option<Timestamp> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Timestamp::from_unix_seconds(i64::try_from(secs).unwrap_or(0))
}
