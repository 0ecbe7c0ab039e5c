//! # ftp-blocking: a blocking FTP client with the API of Python's `ftplib`
//!
//! [`Ftp`] speaks FTP over `std::net` sockets, one call at a time, with the method names of
//! Python's `ftplib.FTP` (`login`, `retrbinary`, `storlines`, `nlst`, `cwd`, ...) so an
//! ftplib user finds them at once. Every protocol decision (which command follows which
//! reply, EPSV → PASV fallback, what a reply means, ABOR's reply combinations, timeouts)
//! is made by the sans-IO state machine [`ftp_sansio::session::Session`]; this crate only
//! moves bytes between sockets and your code.
//!
//! The sample session of the ftplib documentation:
//!
//! ```no_run
//! use ftp_blocking::Ftp;
//! use std::io::Write;
//!
//! let mut ftp = Ftp::connect("127.0.0.1:21")?;       // connect to host, port 21
//! ftp.login("", "")?;                                 // user anonymous, password anonymous@
//! ftp.retrlines("LIST", |line| {                      // list directory contents
//!     println!("{}", String::from_utf8_lossy(line));
//!     Ok(())
//! })?;
//! let mut file = std::fs::File::create("README")?;
//! let reply = ftp.retrbinary("RETR README", |block| file.write_all(block), 8192, None)?;
//! assert_eq!(reply.code().get(), 226);
//! ftp.quit()?;
//! # Ok::<(), ftp_blocking::Error>(())
//! ```
//!
//! Beyond ftplib: [`Ftp::mlsd`] / [`Ftp::mlst`] with typed facts, [`Ftp::mdtm`],
//! [`Ftp::feat`], streaming [`DataStream`]s ([`Ftp::retr_reader`], [`Ftp::stor_writer`])
//! that implement [`std::io::Read`] / [`std::io::Write`], connect and I/O timeouts, active
//! mode ([`Ftp::set_pasv`]`(false)`: EPRT/PORT to a listener on the control connection's
//! local address) and IPv6 (EPSV/EPRT).
//!
//! Errors are one type, [`Error`], the counterpart of ftplib's `all_errors`; its
//! [`ErrorKind`] says which of `error_reply`, `error_temp`, `error_perm`, `error_proto` (or
//! I/O, timeout, closed) it is, and it carries the server's reply when there was one.
//!
//! Debug output ([`Ftp::set_debuglevel`]) goes through the [`log`] facade at the `info`
//! level, target `ftp_blocking`; passwords are masked.
//!
//! # Features and Rust version
//!
//! - `tls`: explicit and implicit FTPS through rustls (the `tls` module); needs Rust 1.85
//!   (rustls depends on zeroize).
//!
//! Without features the crate builds with Rust 1.80.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod conn;
mod data;
mod error;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;

use std::io::{self, BufRead, Read};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

pub use ftp_sansio;
pub use ftp_sansio::listing::{EntryKind, ListEntry};
pub use ftp_sansio::reply::decode::Features;
pub use ftp_sansio::reply::Reply;
pub use ftp_sansio::session::Config;
pub use ftp_sansio::time::Timestamp;

pub use data::DataStream;
pub use error::{Error, ErrorKind, Result};

use conn::{Conn, Step};
use ftp_sansio::ascii::{LfToCrlf, LineSplitter};
use ftp_sansio::listing::{parse_list_line, parse_mlsx_line, ParsedLine};
pub use ftp_sansio::session::Direction;
use ftp_sansio::session::{ListPath, OpError, Operation, Outcome, TransferKind, TransferRequest};

/// The FTP control port (RFC 959).
pub const DEFAULT_PORT: u16 = 21;
/// ftplib's default block size for [`Ftp::retrbinary`] and [`Ftp::storbinary`].
pub const DEFAULT_BLOCKSIZE: usize = 8192;
/// Longest line [`Ftp::retrlines`] accepts (a longer one is a protocol error, never a
/// silent cut).
pub const MAX_LINE: usize = 64 * 1024;
/// Default limit of the listings [`Ftp::nlst`], [`Ftp::dir`], [`Ftp::list`] and
/// [`Ftp::mlsd`] collect in memory (bytes as sent by the server): 64 MiB.
pub const DEFAULT_MAX_LISTING: usize = 64 * 1024 * 1024;

/// An FTP client connection: Python's `ftplib.FTP` in Rust.
///
/// Created connected ([`Ftp::connect`], [`Ftp::connect_timeout`], [`Ftp::connect_with`])
/// or not ([`Ftp::new`], then [`Ftp::connect_host`]). After [`quit`](Ftp::quit),
/// [`close`](Ftp::close) or a fatal error (the server closed the connection, a reply
/// timeout, `421`) every call returns an [`ErrorKind::Closed`] error.
///
/// ```no_run
/// use ftp_blocking::Ftp;
/// let mut ftp = Ftp::connect(("127.0.0.1", 2121))?;
/// println!("{}", ftp.getwelcome().unwrap_or_default());
/// ftp.login("ftptest", "ftptest")?;
/// ftp.cwd("pub")?;
/// for name in ftp.nlst(None)? {
///     println!("{name}");
/// }
/// ftp.quit()?;
/// # Ok::<(), ftp_blocking::Error>(())
/// ```
#[derive(Debug)]
pub struct Ftp {
    conn: Option<Conn>,
    welcome: Option<Reply>,
    config: Config,
    connect_timeout: Option<Duration>,
    debuglevel: u8,
    max_listing: usize,
}

impl Default for Ftp {
    fn default() -> Self {
        Ftp::new()
    }
}

fn bytes<P: AsRef<[u8]> + ?Sized>(p: &P) -> Vec<u8> {
    p.as_ref().to_vec()
}

fn opt_bytes<P: AsRef<[u8]>>(p: Option<P>) -> Option<Vec<u8>> {
    p.map(|p| p.as_ref().to_vec())
}

/// The current time as a [`Timestamp`] (UTC), for parsing `LIST` dates without a year.
fn now_timestamp() -> Timestamp {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Timestamp::from_unix_seconds(secs)
        .or_else(|| Timestamp::new(1970, 1, 1, 0, 0, 0))
        .expect("the epoch is a valid timestamp")
}

impl Ftp {
    // ---------------------------------------------------------------------------------
    // Connecting
    // ---------------------------------------------------------------------------------

    /// An unconnected client (ftplib's `FTP()` without a host); connect it with
    /// [`connect_host`](Ftp::connect_host). Uses [`Config::default`].
    ///
    /// ```
    /// let ftp = ftp_blocking::Ftp::new();
    /// assert!(!ftp.is_connected());
    /// ```
    pub fn new() -> Ftp {
        Ftp {
            conn: None,
            welcome: None,
            config: Config::default(),
            connect_timeout: None,
            debuglevel: 0,
            max_listing: DEFAULT_MAX_LISTING,
        }
    }

    /// Connects to `addr` (`"host:port"`, `(host, port)`, a [`SocketAddr`], ...) and reads
    /// the greeting: ftplib's `FTP(host)`. Every address `addr` resolves to is tried in
    /// turn.
    ///
    /// ```no_run
    /// let ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn connect<A: ToSocketAddrs>(addr: A) -> Result<Ftp> {
        Ftp::connect_with(addr, Config::default(), None)
    }

    /// [`connect`](Ftp::connect) with a timeout used for connecting, for every reply and
    /// for stalled data connections (ftplib's `timeout` argument).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let ftp = ftp_blocking::Ftp::connect_timeout("127.0.0.1:21", Duration::from_secs(5))?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn connect_timeout<A: ToSocketAddrs>(addr: A, timeout: Duration) -> Result<Ftp> {
        let config = Config {
            reply_timeout: Some(timeout),
            data_timeout: Some(timeout),
            ..Config::default()
        };
        Ftp::connect_with(addr, config, Some(timeout))
    }

    /// Connects with a session [`Config`] of your own (passive or active mode, EPSV use,
    /// automatic `FEAT`, timeouts, ...) and an optional connect timeout (without one, the
    /// config's `reply_timeout` bounds the connect).
    ///
    /// ```no_run
    /// use ftp_blocking::{Config, Ftp};
    /// let config = Config { passive: false, auto_feat: false, ..Config::default() };
    /// let ftp = Ftp::connect_with("[::1]:21", config, None)?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn connect_with<A: ToSocketAddrs>(
        addr: A,
        config: Config,
        connect_timeout: Option<Duration>,
    ) -> Result<Ftp> {
        let mut ftp = Ftp {
            config,
            connect_timeout,
            ..Ftp::new()
        };
        ftp.open(addr)?;
        Ok(ftp)
    }

    /// ftplib's `connect(host, port)`: connects this client to `host` on `port` (21 when
    /// `None`) and returns the greeting. An open connection is closed first.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::new();
    /// ftp.set_debuglevel(1);
    /// let welcome = ftp.connect_host("localhost", Some(2121))?;
    /// println!("{welcome}");
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn connect_host(&mut self, host: &str, port: Option<u16>) -> Result<Reply> {
        let port = port.unwrap_or(DEFAULT_PORT);
        // "::1" and other IPv6 literals, with or without brackets.
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        self.open((host, port))
    }

    /// Runs FTP over a control connection you opened yourself (through a SOCKS or HTTP
    /// `CONNECT` proxy, an SSH port forward, a socket with options of your own) and reads
    /// the greeting. `server` is the FTP server's address as the server sees it: passive
    /// data connections go to its IP and the port the server names, directly or through
    /// your [`set_data_connector`](Ftp::set_data_connector) (needed when only the proxy can
    /// reach the server). Active mode listens on the stream's local address, so through a
    /// proxy use passive mode (the default).
    ///
    /// ```no_run
    /// use ftp_blocking::{Config, Ftp};
    /// use std::net::TcpStream;
    /// let server = "192.0.2.7:21".parse().unwrap();
    /// let stream = TcpStream::connect(server)?; // or a tunnel's stream
    /// let mut ftp = Ftp::connect_stream(stream, server, Config::default())?;
    /// ftp.login("anonymous", "")?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn connect_stream(stream: TcpStream, server: SocketAddr, config: Config) -> Result<Ftp> {
        let mut ftp = Ftp {
            config,
            ..Ftp::new()
        };
        let (conn, welcome) = Conn::over(
            stream,
            server,
            ftp.config.clone(),
            ftp.debuglevel,
            None,
            None,
        )?;
        ftp.conn = Some(conn);
        ftp.welcome = Some(welcome);
        Ok(ftp)
    }

    /// Opens passive data connections with `connect(address, timeout)` instead of a direct
    /// TCP connect: the address is the server's IP and the port its `229`/`227` reply
    /// named. For data through the same proxy or tunnel as the control connection
    /// ([`connect_stream`](Ftp::connect_stream)). Applies to the open connection.
    ///
    /// ```no_run
    /// use std::net::TcpStream;
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.set_data_connector(|addr, timeout| {
    ///     // e.g. ask your SOCKS proxy for `addr`; here: a direct connect
    ///     TcpStream::connect_timeout(&addr, timeout)
    /// })?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn set_data_connector(
        &mut self,
        connect: impl FnMut(SocketAddr, Duration) -> std::io::Result<TcpStream> + Send + 'static,
    ) -> Result<()> {
        self.conn()?
            .set_connector(Some(conn::DataConnector(Box::new(connect))));
        Ok(())
    }

    fn open<A: ToSocketAddrs>(&mut self, addr: A) -> Result<Reply> {
        self.open_with_tls(addr, None)
    }

    /// [`open`](Ftp::open); with `implicit_tls`, TLS runs from the first byte (implicit FTPS).
    fn open_with_tls<A: ToSocketAddrs>(
        &mut self,
        addr: A,
        implicit_tls: Option<conn::TlsCtx>,
    ) -> Result<Reply> {
        self.close();
        let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
        let (conn, welcome) = Conn::open(
            &addrs,
            self.connect_timeout,
            self.config.clone(),
            self.debuglevel,
            implicit_tls,
        )?;
        self.conn = Some(conn);
        self.welcome = Some(welcome.clone());
        Ok(welcome)
    }

    /// Whether a connection is open (connected and neither quit nor closed).
    ///
    /// ```
    /// assert!(!ftp_blocking::Ftp::new().is_connected());
    /// ```
    pub fn is_connected(&self) -> bool {
        self.conn.as_ref().is_some_and(|c| !c.is_closed())
    }

    /// The server's greeting (ftplib's `getwelcome`), lines joined with `\n`; `None` before
    /// the first connection. Kept after [`close`](Ftp::close).
    ///
    /// ```no_run
    /// let ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// assert!(ftp.getwelcome().unwrap().starts_with("220"));
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn getwelcome(&self) -> Option<String> {
        self.welcome.as_ref().map(Reply::text)
    }

    /// The greeting as a [`Reply`].
    ///
    /// ```no_run
    /// let ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// assert_eq!(ftp.welcome().unwrap().code().get(), 220);
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn welcome(&self) -> Option<&Reply> {
        self.welcome.as_ref()
    }

    /// The control connection's local address (the one active mode listens on).
    ///
    /// ```no_run
    /// let ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// assert!(ftp.local_addr()?.ip().is_loopback());
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.conn_ref()?.local_addr()?)
    }

    /// The server's address.
    ///
    /// ```no_run
    /// let ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// assert_eq!(ftp.peer_addr()?.port(), 21);
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn peer_addr(&self) -> Result<SocketAddr> {
        Ok(self.conn_ref()?.peer_addr())
    }

    // ---------------------------------------------------------------------------------
    // Settings
    // ---------------------------------------------------------------------------------

    /// ftplib's `set_debuglevel`: `0` (default) logs nothing; `1` one line per request and
    /// one per reply (`*cmd*`, `*resp*`); `2` or more every line sent and received on the
    /// control connection (`*put*`, `*get*`) and data connection events (`*data*`).
    /// Output goes to the [`log`] facade at `info` level; `PASS` and `ACCT` arguments are
    /// masked.
    ///
    /// ```
    /// let mut ftp = ftp_blocking::Ftp::new();
    /// ftp.set_debuglevel(2);
    /// assert_eq!(ftp.debuglevel(), 2);
    /// ```
    pub fn set_debuglevel(&mut self, level: u8) {
        self.debuglevel = level;
        if let Some(c) = &mut self.conn {
            c.set_debuglevel(level);
        }
    }

    /// The debug level set with [`set_debuglevel`](Ftp::set_debuglevel).
    ///
    /// ```
    /// assert_eq!(ftp_blocking::Ftp::new().debuglevel(), 0);
    /// ```
    pub fn debuglevel(&self) -> u8 {
        self.debuglevel
    }

    /// ftplib's `set_pasv`: `true` (the default) for passive data connections (EPSV, PASV),
    /// `false` for active ones (EPRT, PORT; the client listens on the control connection's
    /// local address). In active mode a data connection from any IP but the server's is
    /// closed and ignored (port theft); if the server's own never comes, the transfer fails
    /// with the data timeout.
    ///
    /// ```
    /// let mut ftp = ftp_blocking::Ftp::new();
    /// ftp.set_pasv(false);
    /// assert!(!ftp.config().passive);
    /// ```
    pub fn set_pasv(&mut self, passive: bool) {
        self.update_config(|c| c.passive = passive);
    }

    /// Sets how many bytes of listing [`nlst`](Ftp::nlst), [`dir`](Ftp::dir),
    /// [`list`](Ftp::list) and [`mlsd`](Ftp::mlsd) collect before they abort the transfer
    /// with an [`ErrorKind::TooLarge`] error (default [`DEFAULT_MAX_LISTING`]), so a server
    /// cannot exhaust memory with an endless listing. [`retrlines`](Ftp::retrlines) hands
    /// each line to the caller and has no such limit.
    ///
    /// ```
    /// let mut ftp = ftp_blocking::Ftp::new();
    /// ftp.set_max_listing(1 << 20);
    /// assert_eq!(ftp.max_listing(), 1 << 20);
    /// ```
    pub fn set_max_listing(&mut self, bytes: usize) {
        self.max_listing = bytes;
    }

    /// The limit set by [`set_max_listing`](Ftp::set_max_listing).
    ///
    /// ```
    /// let ftp = ftp_blocking::Ftp::new();
    /// assert_eq!(ftp.max_listing(), ftp_blocking::DEFAULT_MAX_LISTING);
    /// ```
    pub fn max_listing(&self) -> usize {
        self.max_listing
    }

    /// Sets the timeout for connecting, for every reply and for stalled data connections
    /// (`None`: wait forever); applies from the next call on.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut ftp = ftp_blocking::Ftp::new();
    /// ftp.set_timeout(Some(Duration::from_secs(3)));
    /// assert_eq!(ftp.config().reply_timeout, Some(Duration::from_secs(3)));
    /// ```
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.connect_timeout = timeout;
        self.update_config(|c| {
            c.reply_timeout = timeout;
            c.data_timeout = timeout;
        });
    }

    /// The session configuration in use (or the one the next connection will use).
    ///
    /// ```
    /// assert!(ftp_blocking::Ftp::new().config().passive);
    /// ```
    pub fn config(&self) -> &Config {
        match &self.conn {
            Some(c) => c.session().config(),
            None => &self.config,
        }
    }

    /// Changes the session configuration (for this connection and the next ones).
    ///
    /// ```
    /// let mut ftp = ftp_blocking::Ftp::new();
    /// ftp.update_config(|c| c.use_epsv = false);
    /// assert!(!ftp.config().use_epsv);
    /// ```
    pub fn update_config(&mut self, f: impl Fn(&mut Config)) {
        f(&mut self.config);
        if let Some(c) = &mut self.conn {
            f(c.session_mut().config_mut());
        }
    }

    /// The features the server announced in reply to `FEAT` (sent after login by default,
    /// see [`Config::auto_feat`], or by [`feat`](Ftp::feat)).
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// let has_mlsd = ftp.features().is_some_and(|f| f.contains("MLST"));
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn features(&self) -> Option<&Features> {
        self.conn.as_ref().and_then(|c| c.session().features())
    }

    // ---------------------------------------------------------------------------------
    // The driver glue
    // ---------------------------------------------------------------------------------

    fn conn_ref(&self) -> Result<&Conn> {
        match &self.conn {
            Some(c) if !c.is_closed() => Ok(c),
            _ => Err(Error::closed()),
        }
    }

    fn conn(&mut self) -> Result<&mut Conn> {
        match &mut self.conn {
            Some(c) if !c.is_closed() => Ok(c),
            _ => Err(Error::closed()),
        }
    }

    /// Drops the sockets once the session has closed (after QUIT or a fatal error).
    fn reap(&mut self) {
        if self.conn.as_ref().is_some_and(Conn::is_closed) {
            if let Some(mut c) = self.conn.take() {
                c.shutdown();
            }
        }
    }

    /// Maps a completed operation's result.
    fn finish(&mut self, r: std::result::Result<Outcome, OpError>) -> Result<Outcome> {
        let out = match r {
            Ok(o) => Ok(o),
            Err(e) => Err(match &mut self.conn {
                Some(c) => c.op_error(e),
                None => Error::op(e, None),
            }),
        };
        self.reap();
        out
    }

    /// Runs a non-transfer operation to completion.
    fn run_op(&mut self, op: Operation) -> Result<Outcome> {
        let conn = self.conn()?;
        let r = match conn.start(op) {
            Ok(Step::Completed(r)) => r,
            Ok(Step::Stream(_)) => match conn.run_to_completion() {
                Ok(r) => r,
                Err(e) => {
                    self.reap();
                    return Err(e);
                }
            },
            Err(e) => {
                self.reap();
                return Err(e);
            }
        };
        self.finish(r)
    }

    fn expect_reply(&mut self, op: Operation) -> Result<Reply> {
        match self.run_op(op)? {
            Outcome::Done(r)
            | Outcome::LoggedIn(r)
            | Outcome::Closed(r)
            | Outcome::Greeting(r)
            | Outcome::Aborted { reply: r }
            | Outcome::Transferred { reply: r, .. } => Ok(r),
            other => Err(unexpected(other)),
        }
    }

    /// Starts a transfer: `Ok(Ok(info))` when data must move now, `Ok(Err(reply))` when the
    /// transfer succeeded before any data moved.
    fn start_transfer(
        &mut self,
        req: TransferRequest,
    ) -> Result<std::result::Result<conn::StreamInfo, Reply>> {
        let conn = self.conn()?;
        let step = match conn.start(Operation::Transfer(req)) {
            Ok(s) => s,
            Err(e) => {
                self.reap();
                return Err(e);
            }
        };
        match step {
            Step::Stream(info) => {
                let conn = self.conn()?;
                match conn.begin_data() {
                    Ok(true) => Ok(Ok(info)),
                    Ok(false) => self.end_transfer().map(Err),
                    Err(e) => {
                        self.reap();
                        Err(e)
                    }
                }
            }
            Step::Completed(r) => transferred(self.finish(r)?).map(Err),
        }
    }

    /// Runs the transfer in flight to its end and returns its final reply.
    fn end_transfer(&mut self) -> Result<Reply> {
        let conn = match &mut self.conn {
            Some(c) => c,
            None => return Err(Error::closed()),
        };
        match conn.run_to_completion() {
            Ok(r) => transferred(self.finish(r)?),
            Err(e) => {
                self.reap();
                Err(e)
            }
        }
    }

    /// The caller's side of a transfer failed with `e`: abort and report `e` (with the
    /// transfer's final reply if one came).
    fn abandon(&mut self, e: io::Error) -> Error {
        let reply = self.conn.as_mut().and_then(Conn::data_abandon);
        self.reap();
        Error::data_io(e, reply)
    }

    /// Downloads with `req`, handing each block read (at most `blocksize` bytes) to `sink`.
    fn download(
        &mut self,
        req: TransferRequest,
        blocksize: usize,
        sink: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> Result<Reply> {
        if let Err(reply) = self.start_transfer(req)? {
            // Ended before any data moved (e.g. an empty listing on some servers).
            return Ok(reply);
        }
        let mut buf = vec![0u8; blocksize.max(1)];
        loop {
            let conn = self.conn.as_mut().ok_or_else(Error::closed)?;
            match conn.data_read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if let Err(e) = sink(&buf[..n]) {
                        return Err(self.abandon(e));
                    }
                }
                // Already reported to the session: its verdict follows.
                Err(_) => break,
            }
        }
        self.end_transfer()
    }

    /// Uploads what `source` puts into the buffer it is given (0 bytes: the end).
    fn upload(
        &mut self,
        req: TransferRequest,
        blocksize: usize,
        source: &mut dyn FnMut(&mut Vec<u8>) -> io::Result<usize>,
    ) -> Result<Reply> {
        match self.start_transfer(req)? {
            Ok(_) => {}
            Err(reply) => return Ok(reply),
        }
        let mut buf = Vec::with_capacity(blocksize.max(1));
        loop {
            buf.clear();
            let n = match source(&mut buf) {
                Ok(n) => n,
                Err(e) => return Err(self.abandon(e)),
            };
            if n == 0 {
                break;
            }
            let conn = self.conn.as_mut().ok_or_else(Error::closed)?;
            if conn.data_write(&buf).is_err() {
                // Reported to the session: its verdict follows.
                return self.end_transfer();
            }
        }
        let conn = self.conn.as_mut().ok_or_else(Error::closed)?;
        let _ = conn.data_finish_upload();
        self.end_transfer()
    }

    // ---------------------------------------------------------------------------------
    // ftplib's methods
    // ---------------------------------------------------------------------------------

    /// ftplib's `login(user, passwd)`: `USER`, `PASS` (and `ACCT` if asked for, see
    /// [`login_acct`](Ftp::login_acct)). An empty `user` logs in as `anonymous`; an empty
    /// password for `anonymous` is sent as `anonymous@`. Returns the final reply (230).
    /// Afterwards `FEAT` is sent (see [`Config::auto_feat`]).
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// let reply = ftp.login("", "")?;           // anonymous
    /// assert_eq!(reply.code().get(), 230);
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn login(&mut self, user: &str, password: &str) -> Result<Reply> {
        self.login_acct(user, password, None)
    }

    /// [`login`](Ftp::login) with an account for servers that answer `332`.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login_acct("alice", "secret", Some("billing"))?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn login_acct(&mut self, user: &str, password: &str, acct: Option<&str>) -> Result<Reply> {
        self.expect_reply(Operation::Login {
            user: user.to_owned(),
            password: password.to_owned(),
            account: acct.map(str::to_owned),
        })
    }

    /// ftplib's `abort` when no transfer runs: sends `ABOR` and returns its reply (`225`
    /// or `226`). To abort a running transfer use [`DataStream::abort`], or return an error
    /// from a [`retrbinary`](Ftp::retrbinary) callback.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// let reply = ftp.abort()?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn abort(&mut self) -> Result<Reply> {
        let conn = self.conn()?;
        let r = match conn.abort() {
            Ok(r) => r,
            Err(e) => {
                self.reap();
                return Err(e);
            }
        };
        match self.finish(r)? {
            Outcome::Aborted { reply } | Outcome::Done(reply) => Ok(reply),
            other => Err(unexpected(other)),
        }
    }

    /// ftplib's `sendcmd`: sends one command line and returns the final reply (any `2xx` or
    /// `3xx`; a `4xx`/`5xx` is an error of kind [`ErrorKind::Temporary`] /
    /// [`ErrorKind::Permanent`]). Preliminary `1xx` replies are skipped.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// let reply = ftp.sendcmd("SYST")?;
    /// println!("{reply}");
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn sendcmd(&mut self, cmd: &str) -> Result<Reply> {
        self.expect_reply(Operation::Raw {
            line: bytes(cmd),
            require_2xx: false,
        })
    }

    /// ftplib's `voidcmd`: like [`sendcmd`](Ftp::sendcmd) but only a `2xx` reply is a
    /// success; a `3xx` is an error of kind [`ErrorKind::Reply`].
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.voidcmd("NOOP")?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn voidcmd(&mut self, cmd: &str) -> Result<Reply> {
        self.expect_reply(Operation::Raw {
            line: bytes(cmd),
            require_2xx: true,
        })
    }

    /// ftplib's `retrbinary`: sends `cmd` (e.g. `"RETR README"`) in binary mode (`TYPE I`)
    /// and calls `callback` with each block of data (at most `blocksize` bytes). `rest`
    /// resumes at that byte offset (`REST`). Returns the final reply (226). An error returned
    /// by `callback` aborts the transfer (`ABOR`) and is returned as [`ErrorKind::Io`].
    ///
    /// A download shorter than the size the server announced is an [`ErrorKind::Io`] error
    /// (never a silent truncation).
    ///
    /// ```no_run
    /// use std::io::Write;
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// let mut out = Vec::new();
    /// ftp.retrbinary("RETR README", |block| out.write_all(block), 8192, None)?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn retrbinary<F>(
        &mut self,
        cmd: &str,
        mut callback: F,
        blocksize: usize,
        rest: Option<u64>,
    ) -> Result<Reply>
    where
        F: FnMut(&[u8]) -> io::Result<()>,
    {
        let req = TransferRequest {
            kind: TransferKind::Raw {
                line: bytes(cmd),
                upload: false,
            },
            ascii: false,
            rest,
        };
        self.download(req, blocksize, &mut callback)
    }

    /// ftplib's `retrlines`: sends `cmd` (`"LIST"`, `"NLST"`, `"RETR notes.txt"`, ...) in
    /// ASCII mode (`TYPE A`) and calls `callback` with each line, its `CRLF` (or `LF`)
    /// removed. Lines longer than [`MAX_LINE`] are a [`ErrorKind::Protocol`] error.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// ftp.retrlines("LIST", |line| {
    ///     println!("{}", String::from_utf8_lossy(line));
    ///     Ok(())
    /// })?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn retrlines<F>(&mut self, cmd: &str, callback: F) -> Result<Reply>
    where
        F: FnMut(&[u8]) -> io::Result<()>,
    {
        let kind = TransferKind::Raw {
            line: bytes(cmd),
            upload: false,
        };
        self.lines(kind, None, callback)
    }

    /// Downloads `kind` in ASCII mode and hands `callback` each line. With `limit`, more
    /// than that many bytes abort the transfer with [`ErrorKind::TooLarge`].
    fn lines<F>(
        &mut self,
        kind: TransferKind,
        limit: Option<usize>,
        mut callback: F,
    ) -> Result<Reply>
    where
        F: FnMut(&[u8]) -> io::Result<()>,
    {
        let req = TransferRequest {
            kind,
            ascii: true,
            rest: None,
        };
        let mut splitter = LineSplitter::new(MAX_LINE);
        let mut too_long = false;
        let mut total: usize = 0;
        let mut over_limit = false;
        let mut sink = |block: &[u8]| -> io::Result<()> {
            total = total.saturating_add(block.len());
            if limit.is_some_and(|l| total > l) {
                over_limit = true;
                return Err(io::Error::other("listing over the limit"));
            }
            splitter.push(block);
            loop {
                match splitter.next_line() {
                    Ok(Some(line)) => callback(line)?,
                    Ok(None) => return Ok(()),
                    Err(e) => {
                        too_long = true;
                        return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                    }
                }
            }
        };
        let result = self.download(req, DEFAULT_BLOCKSIZE * 8, &mut sink);
        if over_limit {
            return Err(Error::too_large(format!(
                "the listing is larger than {} bytes (Ftp::set_max_listing); transfer aborted",
                limit.unwrap_or_default()
            )));
        }
        if too_long {
            let e = result.err();
            return Err(Error::protocol(format!(
                "a line of the listing is longer than {MAX_LINE} bytes{}",
                e.map(|e| format!(" ({e})")).unwrap_or_default()
            )));
        }
        let reply = result?;
        match splitter.finish() {
            Ok(Some(last)) => callback(&last).map_err(Error::local)?,
            Ok(None) => {}
            Err(e) => return Err(Error::protocol(e.to_string())),
        }
        Ok(reply)
    }

    /// ftplib's `storbinary`: sends `cmd` (e.g. `"STOR name"`, `"APPE name"`) in binary mode
    /// and uploads everything `file` yields, read in blocks of `blocksize` bytes. `rest`
    /// sends `REST` first (resume an upload at that offset). Returns the final reply (226).
    /// A read error aborts the transfer.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("ftptest", "ftptest")?;
    /// let mut file = std::fs::File::open("report.pdf")?;
    /// ftp.storbinary("STOR report.pdf", &mut file, 8192, None)?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn storbinary<R: Read + ?Sized>(
        &mut self,
        cmd: &str,
        file: &mut R,
        blocksize: usize,
        rest: Option<u64>,
    ) -> Result<Reply> {
        let req = TransferRequest {
            kind: TransferKind::Raw {
                line: bytes(cmd),
                upload: true,
            },
            ascii: false,
            rest,
        };
        let blocksize = blocksize.max(1);
        let mut source = |buf: &mut Vec<u8>| -> io::Result<usize> {
            buf.resize(blocksize, 0);
            let n = loop {
                match file.read(buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            };
            buf.truncate(n);
            Ok(n)
        };
        self.upload(req, blocksize, &mut source)
    }

    /// ftplib's `storlines`: sends `cmd` in ASCII mode (`TYPE A`) and uploads the lines of
    /// `file` with `CRLF` line ends (an existing `CRLF` is kept, a bare `LF` becomes `CRLF`).
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("ftptest", "ftptest")?;
    /// let text = std::io::Cursor::new("line one\nline two\n");
    /// ftp.storlines("STOR notes.txt", text)?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn storlines<R: BufRead>(&mut self, cmd: &str, mut file: R) -> Result<Reply> {
        let req = TransferRequest {
            kind: TransferKind::Raw {
                line: bytes(cmd),
                upload: true,
            },
            ascii: true,
            rest: None,
        };
        let mut conv = LfToCrlf::new();
        let mut source = |buf: &mut Vec<u8>| -> io::Result<usize> {
            let chunk = loop {
                match file.fill_buf() {
                    Ok(c) => break c,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            };
            let n = chunk.len();
            if n == 0 {
                return Ok(0);
            }
            conv.push(chunk, buf);
            file.consume(n);
            Ok(buf.len())
        };
        self.upload(req, DEFAULT_BLOCKSIZE, &mut source)
    }

    /// ftplib's `transfercmd`: opens a data connection (passive or active), sends `cmd`
    /// (after `REST rest` if given) and returns the connection as a [`DataStream`] once the
    /// server accepted the command (`1xx`). `STOR`, `STOU` and `APPE` commands are uploads,
    /// anything else a download. Binary mode (`TYPE I`).
    ///
    /// ```no_run
    /// use std::io::Read;
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// let mut data = ftp.transfercmd("RETR README", None)?;
    /// let mut text = String::new();
    /// data.read_to_string(&mut text)?;
    /// let reply = data.finish()?;            // 226
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn transfercmd(&mut self, cmd: &str, rest: Option<u64>) -> Result<DataStream<'_>> {
        Ok(self.ntransfercmd(cmd, rest)?.0)
    }

    /// ftplib's `ntransfercmd`: [`transfercmd`](Ftp::transfercmd) and the size the server
    /// announced in its `150 ... (N bytes)` reply (`None` when it gave none, or after
    /// `REST`).
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// let (data, size) = ftp.ntransfercmd("RETR README", None)?;
    /// println!("{size:?} bytes expected");
    /// data.finish()?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn ntransfercmd(
        &mut self,
        cmd: &str,
        rest: Option<u64>,
    ) -> Result<(DataStream<'_>, Option<u64>)> {
        let req = TransferRequest {
            kind: TransferKind::from_raw_line(bytes(cmd)),
            ascii: false,
            rest,
        };
        let stream = self.data_stream(req)?;
        let size = stream.expected_size();
        Ok((stream, size))
    }

    fn data_stream(&mut self, req: TransferRequest) -> Result<DataStream<'_>> {
        match self.start_transfer(req)? {
            Ok(info) => Ok(DataStream::new(self, info)),
            Err(reply) => Ok(DataStream::finished(self, reply)),
        }
    }

    /// ftplib's `nlst`: the names `NLST [path]` returns (ASCII mode), one per line.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// let names = ftp.nlst(Some("pub"))?;
    /// let here = ftp.nlst(None)?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn nlst(&mut self, path: impl ListPath) -> Result<Vec<String>> {
        let mut names = Vec::new();
        self.lines(
            TransferKind::Nlst(path.into_path()),
            Some(self.max_listing),
            |l| {
                if !l.is_empty() {
                    names.push(String::from_utf8_lossy(l).into_owned());
                }
                Ok(())
            },
        )?;
        Ok(names)
    }

    /// ftplib's `dir`: the lines of `LIST [path]` (ASCII mode), as the server wrote them.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// for line in ftp.dir(None)? {
    ///     println!("{line}");
    /// }
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn dir(&mut self, path: impl ListPath) -> Result<Vec<String>> {
        let mut lines = Vec::new();
        self.lines(
            TransferKind::List(path.into_path()),
            Some(self.max_listing),
            |l| {
                lines.push(String::from_utf8_lossy(l).into_owned());
                Ok(())
            },
        )?;
        Ok(lines)
    }

    /// `LIST [path]` parsed into entries ([`ftp_sansio::listing::parse_list_line`]: Unix,
    /// Windows, EPLF and VMS formats). Lines that carry no entry (`total 8`) are skipped; a
    /// line no parser understands is an [`ErrorKind::Protocol`] error.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// for e in ftp.list(None)? {
    ///     println!("{} {:?} {:?}", e.name_lossy(), e.kind(), e.size());
    /// }
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn list(&mut self, path: impl ListPath) -> Result<Vec<ListEntry>> {
        let now = now_timestamp();
        self.collect_entries(TransferKind::List(path.into_path()), "LIST", |l| {
            parse_list_line(l, now)
        })
    }

    /// `MLSD [path]` (RFC 3659 §7): the directory's entries with typed facts (kind, size,
    /// modification time, permissions, any other fact through [`ListEntry::fact`]). Servers
    /// may include the directory itself ([`EntryKind::CurrentDir`]) and its parent
    /// ([`EntryKind::ParentDir`]). A malformed line is an [`ErrorKind::Protocol`] error.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// for e in ftp.mlsd(None)? {
    ///     if !e.kind().is_dir() {
    ///         println!("{} {:?} {:?}", e.name_lossy(), e.size(), e.mtime());
    ///     }
    /// }
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn mlsd(&mut self, path: impl ListPath) -> Result<Vec<ListEntry>> {
        self.collect_entries(
            TransferKind::Mlsd(path.into_path()),
            "MLSD",
            parse_mlsx_line,
        )
    }

    /// The directory's entries, the best way the server offers: `MLSD` (typed facts, exact
    /// times) when its `FEAT` reply lists `MLST`, else `LIST` parsed from the server's
    /// format (Unix, Windows, EPLF, VMS). The choice is the session's
    /// ([`Session::entries_listing`](ftp_sansio::session::Session::entries_listing)), so
    /// every driver makes the same one; `FEAT` runs after [`login`](Ftp::login) by default.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// for e in ftp.entries(None)? {
    ///     println!("{} {:?} {:?}", e.name_lossy(), e.kind(), e.size());
    /// }
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn entries(&mut self, path: impl ListPath) -> Result<Vec<ListEntry>> {
        match self.conn()?.session().entries_listing(path.into_path()) {
            TransferKind::Mlsd(p) => {
                self.collect_entries(TransferKind::Mlsd(p), "MLSD", parse_mlsx_line)
            }
            kind => {
                let now = now_timestamp();
                self.collect_entries(kind, "LIST", |l| parse_list_line(l, now))
            }
        }
    }

    /// Downloads a listing (within [`set_max_listing`](Ftp::set_max_listing)) and parses each
    /// line with `parse`; lines that carry no entry are skipped, the first line no parser
    /// understands makes it an [`ErrorKind::Protocol`] error naming `what` (`LIST`, `MLSD`).
    fn collect_entries(
        &mut self,
        kind: TransferKind,
        what: &str,
        parse: impl Fn(&[u8]) -> ParsedLine<'_>,
    ) -> Result<Vec<ListEntry>> {
        let mut entries = Vec::new();
        let mut bad = None;
        self.lines(kind, Some(self.max_listing), |l| {
            match parse(l) {
                ParsedLine::Entry(e) => entries.push(e.to_owned()),
                ParsedLine::NotAnEntry => {}
                ParsedLine::Unparsed(raw) => {
                    bad.get_or_insert_with(|| String::from_utf8_lossy(raw).into_owned());
                }
            }
            Ok(())
        })?;
        match bad {
            Some(line) => Err(Error::protocol(format!("unparsable {what} line: {line:?}"))),
            None => Ok(entries),
        }
    }

    /// `MLST [path]` (RFC 3659 §7): the facts of one file or directory. Its
    /// [`name`](ListEntry::name) is the path as the server wrote it (often absolute).
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// let e = ftp.mlst(Some("README"))?;
    /// println!("{:?} bytes, modified {:?}", e.size(), e.mtime());
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn mlst<P: AsRef<[u8]>>(&mut self, path: Option<P>) -> Result<ListEntry> {
        match self.run_op(Operation::Mlst(opt_bytes(path)))? {
            Outcome::Entry(line) => match parse_mlsx_line(&line) {
                ParsedLine::Entry(e) => Ok(e.to_owned()),
                _ => Err(Error::protocol(format!(
                    "unparsable MLST fact line: {:?}",
                    String::from_utf8_lossy(&line)
                ))),
            },
            other => Err(unexpected(other)),
        }
    }

    /// ftplib's `rename`: `RNFR from`, `RNTO to`. Returns the final reply.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("ftptest", "ftptest")?;
    /// ftp.rename("draft.txt", "final.txt")?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn rename<P: AsRef<[u8]>, Q: AsRef<[u8]>>(&mut self, from: P, to: Q) -> Result<Reply> {
        self.expect_reply(Operation::Rename {
            from: bytes(&from),
            to: bytes(&to),
        })
    }

    /// ftplib's `delete`: `DELE path`; returns the reply.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("ftptest", "ftptest")?;
    /// ftp.delete("old.log")?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn delete<P: AsRef<[u8]>>(&mut self, path: P) -> Result<Reply> {
        self.expect_reply(Operation::Dele(bytes(&path)))
    }

    /// ftplib's `cwd`: changes the server's current directory (`".."` is sent as `CDUP`,
    /// an empty path as `CWD .`).
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// ftp.cwd("pub")?;
    /// ftp.cwd("..")?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn cwd<P: AsRef<[u8]>>(&mut self, path: P) -> Result<Reply> {
        self.expect_reply(Operation::Cwd(bytes(&path)))
    }

    /// `CDUP`: to the parent directory.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// ftp.cdup()?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn cdup(&mut self) -> Result<Reply> {
        self.expect_reply(Operation::Cdup)
    }

    /// ftplib's `mkd`: creates a directory; returns its path as the server's `257` reply
    /// names it (the path asked for when the reply has none).
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("ftptest", "ftptest")?;
    /// let created = ftp.mkd("backups")?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn mkd<P: AsRef<[u8]>>(&mut self, path: P) -> Result<String> {
        match self.run_op(Operation::Mkd(bytes(&path)))? {
            Outcome::Path(p) => Ok(String::from_utf8_lossy(&p).into_owned()),
            other => Err(unexpected(other)),
        }
    }

    /// ftplib's `pwd`: the server's current directory (from the `257` reply, quotes undone).
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// assert_eq!(ftp.pwd()?, "/");
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn pwd(&mut self) -> Result<String> {
        match self.run_op(Operation::Pwd)? {
            Outcome::Path(p) => Ok(String::from_utf8_lossy(&p).into_owned()),
            other => Err(unexpected(other)),
        }
    }

    /// ftplib's `rmd`: removes a directory.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("ftptest", "ftptest")?;
    /// ftp.rmd("backups")?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn rmd<P: AsRef<[u8]>>(&mut self, path: P) -> Result<Reply> {
        self.expect_reply(Operation::Rmd(bytes(&path)))
    }

    /// ftplib's `size`: `SIZE path` (RFC 3659 §4) in binary mode (`TYPE I` is sent first
    /// when needed: servers refuse `SIZE` in ASCII mode).
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// let n = ftp.size("README")?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn size<P: AsRef<[u8]>>(&mut self, path: P) -> Result<u64> {
        match self.run_op(Operation::Size(bytes(&path)))? {
            Outcome::Size(n) => Ok(n),
            other => Err(unexpected(other)),
        }
    }

    /// `MDTM path` (RFC 3659 §3): the modification time (UTC) with the precision the server
    /// gave.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// let t = ftp.mdtm("README")?;
    /// println!("{t} = {} s since 1970", t.unix_seconds());
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn mdtm<P: AsRef<[u8]>>(&mut self, path: P) -> Result<Timestamp> {
        match self.run_op(Operation::Mdtm(bytes(&path)))? {
            Outcome::Mtime(t) => Ok(t),
            other => Err(unexpected(other)),
        }
    }

    /// `FEAT` (RFC 2389): the server's features (also kept for [`features`](Ftp::features)).
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// let f = ftp.feat()?;
    /// if f.contains("MLST") { println!("MLSD available: {:?}", f.params("MLST")); }
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn feat(&mut self) -> Result<Features> {
        match self.run_op(Operation::Feat)? {
            Outcome::Features(f) => Ok(f),
            other => Err(unexpected(other)),
        }
    }

    /// `NOOP`.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.noop()?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn noop(&mut self) -> Result<Reply> {
        self.expect_reply(Operation::Noop)
    }

    /// `SYST`: the server's system type reply.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// println!("{}", ftp.syst()?);
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn syst(&mut self) -> Result<Reply> {
        self.expect_reply(Operation::Syst)
    }

    /// `STAT [path]`: the (usually multi-line) status reply.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// println!("{}", ftp.stat(None::<&str>)?);
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn stat<P: AsRef<[u8]>>(&mut self, path: Option<P>) -> Result<Reply> {
        self.expect_reply(Operation::Stat(opt_bytes(path)))
    }

    /// `SITE args`.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("ftptest", "ftptest")?;
    /// ftp.site("CHMOD 644 notes.txt")?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn site<P: AsRef<[u8]>>(&mut self, args: P) -> Result<Reply> {
        self.expect_reply(Operation::Site(bytes(&args)))
    }

    /// Opens a download of `path` (binary, `REST rest` first if given) as a [`DataStream`]
    /// to read from; [`finish`](DataStream::finish) it to get the final reply.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// let mut reader = ftp.retr_reader("big.iso", None)?;
    /// let mut file = std::fs::File::create("big.iso")?;
    /// std::io::copy(&mut reader, &mut file)?;
    /// reader.finish()?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn retr_reader<P: AsRef<[u8]>>(
        &mut self,
        path: P,
        rest: Option<u64>,
    ) -> Result<DataStream<'_>> {
        self.data_stream(TransferRequest {
            kind: TransferKind::Retr(bytes(&path)),
            ascii: false,
            rest,
        })
    }

    /// Opens an upload to `path` (`STOR`, binary) as a [`DataStream`] to write to; call
    /// [`finish`](DataStream::finish) when done (dropping it unfinished aborts).
    ///
    /// ```no_run
    /// use std::io::Write;
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("ftptest", "ftptest")?;
    /// let mut w = ftp.stor_writer("hello.txt")?;
    /// w.write_all(b"hello\n")?;
    /// w.finish()?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn stor_writer<P: AsRef<[u8]>>(&mut self, path: P) -> Result<DataStream<'_>> {
        self.data_stream(TransferRequest {
            kind: TransferKind::Stor(bytes(&path)),
            ascii: false,
            rest: None,
        })
    }

    /// Like [`stor_writer`](Ftp::stor_writer) but appends to `path` (`APPE`).
    ///
    /// ```no_run
    /// use std::io::Write;
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("ftptest", "ftptest")?;
    /// let mut w = ftp.appe_writer("log.txt")?;
    /// w.write_all(b"one more line\n")?;
    /// w.finish()?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn appe_writer<P: AsRef<[u8]>>(&mut self, path: P) -> Result<DataStream<'_>> {
        self.data_stream(TransferRequest {
            kind: TransferKind::Appe(bytes(&path)),
            ascii: false,
            rest: None,
        })
    }

    /// ftplib's `quit`: sends `QUIT` and closes the connection (also when the server answers
    /// with an error, which is returned). Calls afterwards fail with [`ErrorKind::Closed`].
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.quit()?;
    /// assert!(ftp.quit().is_err());
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn quit(&mut self) -> Result<Reply> {
        let r = self.expect_reply(Operation::Quit);
        self.close();
        r
    }

    /// ftplib's `close`: closes the connection without `QUIT`. Harmless when already closed.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.close();
    /// assert!(!ftp.is_connected());
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn close(&mut self) {
        if let Some(mut c) = self.conn.take() {
            c.shutdown();
        }
    }
}

/// The final reply of a finished transfer.
fn transferred(o: Outcome) -> Result<Reply> {
    match o {
        Outcome::Transferred { reply, .. } | Outcome::Done(reply) => Ok(reply),
        other => Err(unexpected(other)),
    }
}

fn unexpected(o: Outcome) -> Error {
    Error::protocol(format!("unexpected outcome {o:?}"))
}
