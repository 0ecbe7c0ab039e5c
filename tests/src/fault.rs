//! A fault-injection FTP server: a scripted peer on `127.0.0.1` that can say or do anything at
//! any step, for tests proving the clients survive broken and hostile servers.
//!
//! A [`Script`] lists what the server does on connect (the greeting) and for each command verb
//! it receives; each step is a list of [`Action`]s: replies, raw bytes, bytes one at a time with
//! delays, silence, disconnects, and data-connection behaviour (passive listeners that answer
//! `227`/`229` with any address, connections refused, accepted but silent, closed early,
//! uploads read). [`FaultServer::start`] runs the script on a thread; the server records every
//! command line it received ([`FaultServer::commands`]), so tests can also prove a client sent
//! nothing.
//!
//! ```
//! use ftp_tests::fault::{disconnect, reply, FaultServer, Script};
//! use std::io::{BufRead, BufReader, Write};
//!
//! let server = FaultServer::start(
//!     Script::new()
//!         .greet("220 fault server")
//!         .on("USER", reply("331 password please"))
//!         .on("PASS", [reply("421 changed my mind"), disconnect()])
//!         .otherwise(reply("500 what?")),
//! );
//! let mut c = std::net::TcpStream::connect(server.addr()).unwrap();
//! let mut r = BufReader::new(c.try_clone().unwrap());
//! let mut line = String::new();
//! r.read_line(&mut line).unwrap();
//! assert_eq!(line, "220 fault server\r\n");
//! c.write_all(b"USER me\r\nPASS pw\r\n").unwrap();
//! line.clear();
//! r.read_line(&mut line).unwrap();
//! assert_eq!(line, "331 password please\r\n");
//! line.clear();
//! r.read_line(&mut line).unwrap();
//! assert_eq!(line, "421 changed my mind\r\n");
//! line.clear();
//! assert_eq!(r.read_line(&mut line).unwrap(), 0); // disconnected
//! assert_eq!(server.commands(), ["USER me", "PASS pw"]);
//! ```
//!
//! Every socket operation of the server has a timeout and the thread polls a stop flag, so a
//! test never hangs on the server: dropping the [`FaultServer`] stops it.

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How often blocking waits of the server look at the stop flag.
const POLL: Duration = Duration::from_millis(20);
/// Longest the server waits for a client's data connection or data, and for a write to go
/// through, before it gives up on the step.
const IO_LIMIT: Duration = Duration::from_secs(10);
/// Longest command line the server reads; a longer one ends the connection.
const MAX_COMMAND: usize = 64 * 1024;
/// Most bytes of an upload the server keeps.
const MAX_UPLOAD: usize = 64 * 1024 * 1024;

/// One thing the server does. Lists of actions run in order; see the free functions
/// ([`reply`], [`raw`], ...) for the common ones.
#[derive(Clone, Debug)]
pub enum Action {
    /// Sends these bytes as they are.
    Send(Vec<u8>),
    /// Sends these bytes one at a time, sleeping between them.
    Trickle(Vec<u8>, Duration),
    /// Sends `pattern` over and over until `len` bytes went out (e.g. one byte without a line
    /// end: a line that never ends; `" more\r\n"`: a multi-line reply that never closes);
    /// stops early when the client stops reading or goes away.
    Flood {
        /// The bytes repeated.
        pattern: Vec<u8>,
        /// How many bytes in all.
        len: usize,
    },
    /// Waits.
    Sleep(Duration),
    /// Closes the control connection (and any data connection); the script for this
    /// connection ends.
    Disconnect,
    /// Never answers again on this connection: reads and discards whatever the client sends
    /// until it goes away (or the server is dropped).
    Hang,
    /// Opens a passive listener on `127.0.0.1` and answers
    /// `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2).` naming `claim_ip` (the listener's
    /// address when `None`) and the listener's port.
    Pasv {
        /// The address the 227 names (`None`: 127.0.0.1).
        claim_ip: Option<Ipv4Addr>,
    },
    /// Opens a passive listener on `127.0.0.1` and answers
    /// `229 Entering Extended Passive Mode (|||port|)`.
    Epsv,
    /// Answers a 227 naming an address and port on which nothing of ours listens: the
    /// port was bound on `127.0.0.1` and released, so connecting there is refused.
    PasvRefused {
        /// The address the 227 names.
        claim_ip: Ipv4Addr,
    },
    /// Answers `229 (|||port|)` with a released port: connecting is refused.
    EpsvRefused,
    /// Remembers the address of the client's `PORT`/`EPRT` argument and answers
    /// `200 PORT command successful.` (or `501` when it cannot be parsed).
    ActivePort,
    /// Remembers the offset of a `REST n` argument and answers `350 Restarting at n.`.
    Rest,
    /// Makes sure a data connection is open: accepts the client's passive connection or
    /// connects to its active address. Gives up (data stays closed) after 10 s.
    DataOpen,
    /// Sends bytes on the data connection (opening it first).
    DataSend(Vec<u8>),
    /// Sends `data[rest..end]` on the data connection, where `rest` is the last `REST`
    /// offset on this control connection (then forgotten); `end` is clamped to the length.
    DataSendFile {
        /// The whole file.
        data: Arc<Vec<u8>>,
        /// One past the last byte to send (`usize::MAX`: to the end).
        end: usize,
    },
    /// Sends `pattern` over and over on the data connection (opening it first) until `len`
    /// bytes went out or the client stops reading or closes it.
    DataFlood {
        /// The bytes repeated.
        pattern: Vec<u8>,
        /// How many bytes in all.
        len: usize,
    },
    /// Reads the data connection (opening it first) until the client closes it, and records
    /// the bytes as an upload ([`FaultServer::uploads`]).
    DataRecv,
    /// Closes the data connection and the passive listener.
    DataClose,
    /// A third party steals the port (RFC 2577 §8): connects to the client's active-mode
    /// address (from its `PORT`/`EPRT`) from the local address `from` (`127.0.0.2` looks like
    /// another host to the client) and sends a few bytes. Pair it with
    /// [`Action::ForeignClosed`].
    ForeignConnect {
        /// The address the connection comes from.
        from: IpAddr,
    },
    /// Waits (up to 10 s) for the client to close the [`Action::ForeignConnect`] connection
    /// and records whether it closed it without sending anything on it
    /// ([`FaultServer::foreign_closed`]).
    ForeignClosed,
}

/// `text` as a reply: each `\n`-separated line sent with CRLF.
///
/// ```
/// use ftp_tests::fault::{reply, Action};
/// match &reply("211-Features:\n SIZE\n211 End")[0] {
///     Action::Send(b) => assert_eq!(b, b"211-Features:\r\n SIZE\r\n211 End\r\n"),
///     _ => unreachable!(),
/// }
/// ```
pub fn reply(text: &str) -> Vec<Action> {
    let mut b = Vec::with_capacity(text.len() + 2);
    for line in text.split('\n') {
        b.extend_from_slice(line.as_bytes());
        b.extend_from_slice(b"\r\n");
    }
    vec![Action::Send(b)]
}

/// Bytes exactly as given (no line end added): for invalid UTF-8, bare LF, cut replies...
pub fn raw(bytes: &[u8]) -> Vec<Action> {
    vec![Action::Send(bytes.to_vec())]
}

/// [`Action::Disconnect`].
pub fn disconnect() -> Vec<Action> {
    vec![Action::Disconnect]
}

/// [`Action::Hang`]: never answer again.
pub fn hang() -> Vec<Action> {
    vec![Action::Hang]
}

/// [`Action::Flood`]: `pattern` repeated up to `len` bytes.
pub fn flood(pattern: &[u8], len: usize) -> Vec<Action> {
    vec![Action::Flood {
        pattern: pattern.to_vec(),
        len,
    }]
}

/// [`Action::Sleep`].
pub fn sleep(d: Duration) -> Vec<Action> {
    vec![Action::Sleep(d)]
}

/// [`reply`] sent one byte at a time with `delay` between bytes.
pub fn trickle(text: &str, delay: Duration) -> Vec<Action> {
    let Action::Send(b) = reply(text).remove(0) else {
        unreachable!()
    };
    vec![Action::Trickle(b, delay)]
}

/// A passive listener announced by `227` with the true address.
pub fn pasv() -> Vec<Action> {
    vec![Action::Pasv { claim_ip: None }]
}

/// A passive listener on `127.0.0.1` announced by `227` naming another host.
pub fn pasv_claiming(ip: Ipv4Addr) -> Vec<Action> {
    vec![Action::Pasv { claim_ip: Some(ip) }]
}

/// A passive listener announced by `229`.
pub fn epsv() -> Vec<Action> {
    vec![Action::Epsv]
}

/// A complete download: `150`, `data`, close, `226`.
pub fn download(data: &[u8]) -> Vec<Action> {
    let mut v = reply(&format!(
        "150 Opening BINARY mode data connection ({} bytes).",
        data.len()
    ));
    v.push(Action::DataSend(data.to_vec()));
    v.push(Action::DataClose);
    v.extend(reply("226 Transfer complete."));
    v
}

/// A listing: `150`, `lines` (joined with CRLF, each terminated), close, `226`.
pub fn listing(lines: &[&[u8]]) -> Vec<Action> {
    let mut data = Vec::new();
    for l in lines {
        data.extend_from_slice(l);
        data.extend_from_slice(b"\r\n");
    }
    let mut v = reply("150 Here comes the directory listing.");
    v.push(Action::DataSend(data));
    v.push(Action::DataClose);
    v.extend(reply("226 Directory send OK."));
    v
}

/// An upload: `150`, read until the client closes, `226`.
pub fn upload() -> Vec<Action> {
    let mut v = reply("150 Ok to send data.");
    v.push(Action::DataRecv);
    v.push(Action::DataClose);
    v.extend(reply("226 Transfer complete."));
    v
}

/// Greeting, `USER`/`PASS`, `TYPE`, `EPSV`/`PASV`, `PORT`/`EPRT`, `REST`, `FEAT`, `OPTS`,
/// `NOOP`, `SYST`, `PWD`, `CWD`, `QUIT` answered like a plain well-behaved server: the base
/// most tests add their fault to (rules added later to the script win over these).
pub fn well_behaved() -> Script {
    Script::new()
        .greet("220 fault server ready")
        .on("USER", reply("331 Please specify the password."))
        .on("PASS", reply("230 Login successful."))
        .on("TYPE", reply("200 Type set."))
        .on("EPSV", epsv())
        .on("PASV", pasv())
        .on("PORT", vec![Action::ActivePort])
        .on("EPRT", vec![Action::ActivePort])
        .on("REST", vec![Action::Rest])
        .on(
            "FEAT",
            reply("211-Features:\n EPSV\n PASV\n REST STREAM\n SIZE\n211 End"),
        )
        .on("OPTS", reply("200 OK"))
        .on("NOOP", reply("200 NOOP ok."))
        .on("SYST", reply("215 UNIX Type: L8"))
        .on("PWD", reply("257 \"/\" is the current directory"))
        .on("CWD", reply("250 Directory changed."))
        .on("QUIT", [reply("221 Goodbye."), disconnect()])
        .otherwise(reply("502 Command not implemented."))
}

/// Anything that can be turned into a list of actions (one action, an array, a `Vec`).
pub trait IntoActions {
    /// The actions.
    fn into_actions(self) -> Vec<Action>;
}

impl IntoActions for Action {
    fn into_actions(self) -> Vec<Action> {
        vec![self]
    }
}

impl IntoActions for Vec<Action> {
    fn into_actions(self) -> Vec<Action> {
        self
    }
}

impl<const N: usize> IntoActions for [Action; N] {
    fn into_actions(self) -> Vec<Action> {
        self.into()
    }
}

impl<const N: usize> IntoActions for [Vec<Action>; N] {
    fn into_actions(self) -> Vec<Action> {
        self.into_iter().flatten().collect()
    }
}

#[derive(Clone, Debug)]
struct Rule {
    verb: String,
    /// `Some`: only for a command line with exactly this argument.
    arg: Option<Vec<u8>>,
    actions: Vec<Action>,
    /// `Some(n)`: used `n` more times, then skipped.
    remaining: Option<usize>,
}

/// What the server does: greeting actions, per-verb rules, a fallback. Rules are looked up
/// newest first, so a fault added after [`well_behaved`] overrides its rule for that verb;
/// [`Script::once`] rules are used up (across connections), which scripts a first attempt
/// that fails and a second that works.
#[derive(Clone, Debug)]
pub struct Script {
    greeting: Vec<Action>,
    rules: Vec<Rule>,
    otherwise: Vec<Action>,
}

impl Default for Script {
    fn default() -> Self {
        Script::new()
    }
}

impl Script {
    /// A server that greets with nothing and answers every command with `502`.
    pub fn new() -> Script {
        Script {
            greeting: Vec::new(),
            rules: Vec::new(),
            otherwise: reply("502 Command not implemented."),
        }
    }

    /// The greeting reply (replaces any greeting set before).
    pub fn greet(self, text: &str) -> Script {
        self.greet_with(reply(text))
    }

    /// Arbitrary actions on connect, instead of a greeting reply.
    pub fn greet_with(mut self, actions: impl IntoActions) -> Script {
        self.greeting = actions.into_actions();
        self
    }

    /// What to do each time the verb (case-insensitive) arrives.
    pub fn on(mut self, verb: &str, actions: impl IntoActions) -> Script {
        self.rules.push(Rule {
            verb: verb.to_ascii_uppercase(),
            arg: None,
            actions: actions.into_actions(),
            remaining: None,
        });
        self
    }

    /// What to do each time the verb arrives with exactly this argument (`"LIST sub"`:
    /// verb `LIST`, argument `sub`); other arguments fall through to older rules.
    pub fn on_arg(mut self, verb: &str, arg: &[u8], actions: impl IntoActions) -> Script {
        self.rules.push(Rule {
            verb: verb.to_ascii_uppercase(),
            arg: Some(arg.to_vec()),
            actions: actions.into_actions(),
            remaining: None,
        });
        self
    }

    /// What to do the next time the verb arrives, once; afterwards older rules apply again.
    pub fn once(mut self, verb: &str, actions: impl IntoActions) -> Script {
        self.rules.push(Rule {
            verb: verb.to_ascii_uppercase(),
            arg: None,
            actions: actions.into_actions(),
            remaining: Some(1),
        });
        self
    }

    /// What to do for verbs no rule matches.
    pub fn otherwise(mut self, actions: impl IntoActions) -> Script {
        self.otherwise = actions.into_actions();
        self
    }

    /// The actions for `verb` with `arg`, using up a `once` rule.
    fn actions_for(&mut self, verb: &str, arg: &[u8]) -> Vec<Action> {
        for rule in self.rules.iter_mut().rev() {
            if rule.verb != verb || rule.remaining == Some(0) {
                continue;
            }
            if rule.arg.as_deref().is_some_and(|a| a != arg) {
                continue;
            }
            if let Some(n) = &mut rule.remaining {
                *n -= 1;
            }
            return rule.actions.clone();
        }
        self.otherwise.clone()
    }
}

#[derive(Debug, Default)]
struct Log {
    commands: Vec<Vec<u8>>,
    connections: usize,
    data_connections: usize,
    uploads: Vec<Vec<u8>>,
    /// Commands that arrived while a data connection was open, and whether the client had
    /// closed that connection by then.
    data_at_commands: Vec<(String, bool)>,
    foreign_closed: Vec<bool>,
    finished: usize,
}

/// A running fault server; stops when dropped.
#[derive(Debug)]
pub struct FaultServer {
    addr: SocketAddr,
    log: Arc<Mutex<Log>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FaultServer {
    /// Binds `127.0.0.1:0` and serves `script` to every control connection, one at a time.
    pub fn start(script: Script) -> FaultServer {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        listener.set_nonblocking(true).expect("set_nonblocking");
        let log = Arc::new(Mutex::new(Log::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log2, stop2) = (Arc::clone(&log), Arc::clone(&stop));
        let thread = thread::Builder::new()
            .name("fault-server".into())
            .spawn(move || serve(listener, script, log2, stop2))
            .expect("spawn the fault server");
        FaultServer {
            addr,
            log,
            stop,
            thread: Some(thread),
        }
    }

    /// The control address (`127.0.0.1:port`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every command line received so far, without CRLF, lossily decoded.
    pub fn commands(&self) -> Vec<String> {
        self.raw_commands()
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect()
    }

    /// Every command line received so far, without its line end, as bytes.
    pub fn raw_commands(&self) -> Vec<Vec<u8>> {
        self.lock().commands.clone()
    }

    /// The verbs received so far (first word, upper-cased).
    pub fn verbs(&self) -> Vec<String> {
        self.commands()
            .iter()
            .map(|c| c.split(' ').next().unwrap_or("").to_ascii_uppercase())
            .collect()
    }

    /// Control connections accepted so far.
    pub fn connections(&self) -> usize {
        self.lock().connections
    }

    /// Control connections whose script ended and whose sockets the server closed (by a
    /// [`Action::Disconnect`], or because the client went away).
    pub fn finished_connections(&self) -> usize {
        self.lock().finished
    }

    /// Data connections established so far (accepted or connected).
    pub fn data_connections(&self) -> usize {
        self.lock().data_connections
    }

    /// The bytes of each upload received ([`Action::DataRecv`]).
    pub fn uploads(&self) -> Vec<Vec<u8>> {
        self.lock().uploads.clone()
    }

    /// For each command that arrived while the server held a data connection open: the
    /// command line (lossily decoded) and whether the client had already closed that data
    /// connection when the command was read (end of stream or reset seen). Shows the order
    /// in which a client sends `ABOR` and closes the data connection.
    pub fn data_closed_at_commands(&self) -> Vec<(String, bool)> {
        self.lock().data_at_commands.clone()
    }

    /// For each [`Action::ForeignClosed`]: whether the client closed the foreign connection
    /// without sending anything on it (`false`: it sent data there, or kept it open).
    pub fn foreign_closed(&self) -> Vec<bool> {
        self.lock().foreign_closed.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(listener: TcpListener, mut script: Script, log: Arc<Mutex<Log>>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                log.lock().unwrap_or_else(|e| e.into_inner()).connections += 1;
                let mut conn = Conn {
                    control: stream,
                    log: &log,
                    stop: &stop,
                    inbuf: Vec::new(),
                    listener: None,
                    active: None,
                    data: None,
                    rest: 0,
                    foreign: None,
                };
                // Errors end this connection only (the client went away, a timeout...).
                let _ = conn.run(&mut script);
                drop(conn);
                log.lock().unwrap_or_else(|e| e.into_inner()).finished += 1;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => thread::sleep(POLL),
            Err(_) => thread::sleep(POLL),
        }
    }
}

/// Why a connection's script stopped.
enum End {
    /// Disconnect / Hang / client gone: stop this connection.
    Stop,
}

impl From<io::Error> for End {
    fn from(_: io::Error) -> End {
        End::Stop
    }
}

struct Conn<'a> {
    control: TcpStream,
    log: &'a Mutex<Log>,
    stop: &'a AtomicBool,
    inbuf: Vec<u8>,
    listener: Option<TcpListener>,
    active: Option<SocketAddr>,
    data: Option<TcpStream>,
    rest: u64,
    foreign: Option<TcpStream>,
}

impl Conn<'_> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn run(&mut self, script: &mut Script) -> Result<(), End> {
        self.control.set_nonblocking(false)?;
        self.control.set_read_timeout(Some(POLL))?;
        self.control.set_write_timeout(Some(IO_LIMIT))?;
        let greeting = script.greeting.clone();
        self.perform(&greeting, &[])?;
        loop {
            let line = self.read_command()?;
            self.log
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .commands
                .push(line.clone());
            if let Some(d) = &self.data {
                let closed = peer_closed(d);
                self.log
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .data_at_commands
                    .push((String::from_utf8_lossy(&line).into_owned(), closed));
            }
            let verb = String::from_utf8_lossy(line.split(|&b| b == b' ').next().unwrap_or(&[]))
                .to_ascii_uppercase();
            let arg = line
                .iter()
                .position(|&b| b == b' ')
                .map_or(&[][..], |i| &line[i + 1..]);
            let actions = script.actions_for(&verb, arg);
            self.perform(&actions, arg)?;
        }
    }

    /// One command line (without CR/LF); errors when the client leaves or the server stops.
    fn read_command(&mut self) -> Result<Vec<u8>, End> {
        loop {
            if let Some(i) = self.inbuf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.inbuf.drain(..=i).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            if self.inbuf.len() > MAX_COMMAND {
                return Err(End::Stop);
            }
            self.read_some()?;
        }
    }

    /// Reads what is there (waiting at most one poll interval); `End` on EOF or stop.
    fn read_some(&mut self) -> Result<(), End> {
        if self.stopped() {
            return Err(End::Stop);
        }
        let mut buf = [0u8; 4096];
        match self.control.read(&mut buf) {
            Ok(0) => Err(End::Stop),
            Ok(n) => {
                self.inbuf.extend_from_slice(&buf[..n]);
                Ok(())
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(()),
            Err(_) => Err(End::Stop),
        }
    }

    fn perform(&mut self, actions: &[Action], arg: &[u8]) -> Result<(), End> {
        for action in actions {
            if self.stopped() {
                return Err(End::Stop);
            }
            self.act(action, arg)?;
        }
        Ok(())
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), End> {
        self.control.write_all(bytes)?;
        Ok(())
    }

    fn act(&mut self, action: &Action, arg: &[u8]) -> Result<(), End> {
        match action {
            Action::Send(b) => self.send(b)?,
            Action::Trickle(b, delay) => {
                for byte in b {
                    self.send(std::slice::from_ref(byte))?;
                    self.control.flush()?;
                    self.sleep(*delay)?;
                }
            }
            Action::Flood { pattern, len } => {
                if pattern.is_empty() {
                    return Ok(());
                }
                let chunk = pattern.repeat((64 * 1024 / pattern.len()).max(1));
                let mut left = *len;
                while left > 0 {
                    let n = left.min(chunk.len());
                    // A client that stopped reading makes this time out: the step ends.
                    self.send(&chunk[..n])?;
                    left -= n;
                }
            }
            Action::Sleep(d) => self.sleep(*d)?,
            Action::Disconnect => {
                self.data = None;
                self.listener = None;
                let _ = self.control.shutdown(Shutdown::Both);
                return Err(End::Stop);
            }
            Action::Hang => loop {
                // Discard input until the client leaves (read_some errs) or the server stops.
                self.read_some()?;
                self.inbuf.clear();
            },
            Action::Pasv { claim_ip } => {
                let port = self.listen()?;
                let ip = claim_ip.unwrap_or(Ipv4Addr::LOCALHOST).octets();
                let text = format!(
                    "227 Entering Passive Mode ({},{},{},{},{},{}).\r\n",
                    ip[0],
                    ip[1],
                    ip[2],
                    ip[3],
                    port >> 8,
                    port & 0xff
                );
                self.send(text.as_bytes())?;
            }
            Action::Epsv => {
                let port = self.listen()?;
                let text = format!("229 Entering Extended Passive Mode (|||{port}|)\r\n");
                self.send(text.as_bytes())?;
            }
            Action::PasvRefused { claim_ip } => {
                let port = released_port()?;
                let ip = claim_ip.octets();
                let text = format!(
                    "227 Entering Passive Mode ({},{},{},{},{},{}).\r\n",
                    ip[0],
                    ip[1],
                    ip[2],
                    ip[3],
                    port >> 8,
                    port & 0xff
                );
                self.send(text.as_bytes())?;
            }
            Action::EpsvRefused => {
                let port = released_port()?;
                let text = format!("229 Entering Extended Passive Mode (|||{port}|)\r\n");
                self.send(text.as_bytes())?;
            }
            Action::ActivePort => match parse_active(arg) {
                Some(addr) => {
                    self.active = Some(addr);
                    self.send(b"200 PORT command successful.\r\n")?;
                }
                None => self.send(b"501 Bad address.\r\n")?,
            },
            Action::Rest => {
                let text = String::from_utf8_lossy(arg);
                match text.trim().parse::<u64>() {
                    Ok(n) => {
                        self.rest = n;
                        self.send(format!("350 Restarting at {n}.\r\n").as_bytes())?;
                    }
                    Err(_) => self.send(b"501 Bad offset.\r\n")?,
                }
            }
            Action::DataOpen => {
                self.data_open();
            }
            Action::DataSend(b) => {
                if let Some(d) = self.data_open() {
                    // A client that closed the data connection: the step goes on.
                    let _ = d.write_all(b);
                }
            }
            Action::DataSendFile { data, end } => {
                let rest = usize::try_from(std::mem::take(&mut self.rest)).unwrap_or(usize::MAX);
                let end = (*end).min(data.len());
                let part = data.get(rest.min(end)..end).unwrap_or(&[]).to_vec();
                if let Some(d) = self.data_open() {
                    let _ = d.write_all(&part);
                }
            }
            Action::DataFlood { pattern, len } => {
                if pattern.is_empty() {
                    return Ok(());
                }
                let chunk = pattern.repeat((64 * 1024 / pattern.len()).max(1));
                if let Some(d) = self.data_open() {
                    let mut left = *len;
                    while left > 0 {
                        let n = left.min(chunk.len());
                        if d.write_all(&chunk[..n]).is_err() {
                            break;
                        }
                        left -= n;
                    }
                }
            }
            Action::DataRecv => {
                let mut got = Vec::new();
                if let Some(d) = self.data_open() {
                    let _ = d.set_read_timeout(Some(IO_LIMIT));
                    let mut buf = [0u8; 16 * 1024];
                    loop {
                        match d.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) if got.len() + n <= MAX_UPLOAD => {
                                got.extend_from_slice(&buf[..n])
                            }
                            Ok(_) => break,
                        }
                    }
                }
                self.log
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .uploads
                    .push(got);
            }
            Action::DataClose => {
                if let Some(d) = self.data.take() {
                    let _ = d.shutdown(Shutdown::Both);
                }
                self.listener = None;
            }
            Action::ForeignConnect { from } => {
                if let Some(to) = self.active {
                    if let Ok(mut s) = connect_from(*from, to) {
                        let _ = s.write_all(b"stolen!");
                        self.foreign = Some(s);
                    }
                }
            }
            Action::ForeignClosed => {
                let silent = self.foreign.take().is_some_and(|mut s| {
                    let _ = s.set_read_timeout(Some(IO_LIMIT));
                    let mut buf = [0u8; 64];
                    match s.read(&mut buf) {
                        Ok(0) => true,
                        Ok(_) => false,
                        Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
                    }
                });
                self.log
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .foreign_closed
                    .push(silent);
            }
        }
        Ok(())
    }

    /// Sleeps in small steps, ending early when the server stops.
    fn sleep(&self, d: Duration) -> Result<(), End> {
        let until = Instant::now() + d;
        while Instant::now() < until {
            if self.stopped() {
                return Err(End::Stop);
            }
            thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
        }
        Ok(())
    }

    /// A fresh passive listener on 127.0.0.1; returns its port.
    fn listen(&mut self) -> Result<u16, End> {
        self.data = None;
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = l.local_addr()?.port();
        l.set_nonblocking(true)?;
        self.listener = Some(l);
        Ok(port)
    }

    /// The data connection, opening it if needed (accept within 10 s, or connect).
    fn data_open(&mut self) -> Option<&mut TcpStream> {
        if self.data.is_none() {
            let stream = if let Some(l) = &self.listener {
                let until = Instant::now() + IO_LIMIT;
                loop {
                    match l.accept() {
                        Ok((s, _)) => break Some(s),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            if Instant::now() >= until || self.stopped() {
                                break None;
                            }
                            thread::sleep(Duration::from_millis(5));
                        }
                        Err(_) => break None,
                    }
                }
            } else if let Some(a) = self.active {
                TcpStream::connect_timeout(&a, IO_LIMIT).ok()
            } else {
                None
            };
            let s = stream?;
            let _ = s.set_nonblocking(false);
            let _ = s.set_write_timeout(Some(IO_LIMIT));
            self.log
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .data_connections += 1;
            self.data = Some(s);
        }
        self.data.as_mut()
    }
}

/// A connection to `to` from the local address `from` (within 10 s). std cannot bind a
/// socket before connecting; tokio's `TcpSocket` can.
fn connect_from(from: IpAddr, to: SocketAddr) -> io::Result<TcpStream> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let s = rt.block_on(async {
        let sock = if to.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        sock.bind(SocketAddr::new(from, 0))?;
        match tokio::time::timeout(IO_LIMIT, sock.connect(to)).await {
            Ok(s) => s?.into_std(),
            Err(_) => Err(io::Error::from(ErrorKind::TimedOut)),
        }
    })?;
    s.set_nonblocking(false)?;
    Ok(s)
}

/// Whether the other end of `s` closed it (end of stream or an error such as a reset),
/// looking without waiting and without taking any byte.
fn peer_closed(s: &TcpStream) -> bool {
    if s.set_nonblocking(true).is_err() {
        return true;
    }
    let mut b = [0u8; 1];
    let closed = match s.peek(&mut b) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != ErrorKind::WouldBlock,
    };
    let _ = s.set_nonblocking(false);
    closed
}

/// A port on 127.0.0.1 that was just free (bound and released): connecting is refused.
fn released_port() -> io::Result<u16> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    l.local_addr().map(|a| a.port())
}

/// `h1,h2,h3,h4,p1,p2` (PORT) or `|1|ip|port|` / `|2|ip|port|` (EPRT).
fn parse_active(arg: &[u8]) -> Option<SocketAddr> {
    let text = std::str::from_utf8(arg).ok()?.trim();
    if let Some(rest) = text.strip_prefix('|') {
        let parts: VecDeque<&str> = rest.split('|').collect();
        if parts.len() < 3 {
            return None;
        }
        let ip: IpAddr = parts[1].parse().ok()?;
        let port: u16 = parts[2].parse().ok()?;
        return Some(SocketAddr::new(ip, port));
    }
    let n: Vec<u8> = text
        .split(',')
        .map(|p| p.trim().parse().ok())
        .collect::<Option<_>>()?;
    if n.len() != 6 {
        return None;
    }
    let ip = Ipv4Addr::new(n[0], n[1], n[2], n[3]);
    Some(SocketAddr::new(
        IpAddr::V4(ip),
        u16::from(n[4]) << 8 | u16::from(n[5]),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};

    fn line(r: &mut impl BufRead) -> String {
        let mut s = String::new();
        r.read_line(&mut s).unwrap();
        s
    }

    #[test]
    fn parses_port_and_eprt() {
        assert_eq!(
            parse_active(b"127,0,0,1,4,1"),
            Some("127.0.0.1:1025".parse().unwrap())
        );
        assert_eq!(
            parse_active(b"|1|127.0.0.1|2000|"),
            Some("127.0.0.1:2000".parse().unwrap())
        );
        assert_eq!(
            parse_active(b"|2|::1|2000|"),
            Some("[::1]:2000".parse().unwrap())
        );
        assert_eq!(parse_active(b"1,2,3"), None);
        assert_eq!(parse_active(b"300,0,0,1,4,1"), None);
    }

    #[test]
    fn once_rules_are_used_up_and_newest_wins() {
        let mut s = Script::new()
            .on("RETR", reply("550 old"))
            .on("RETR", reply("450 new"))
            .once("RETR", reply("150 first"));
        let text = |a: Vec<Action>| match &a[0] {
            Action::Send(b) => String::from_utf8_lossy(b).into_owned(),
            _ => unreachable!(),
        };
        assert_eq!(text(s.actions_for("RETR", b"f")), "150 first\r\n");
        assert_eq!(text(s.actions_for("RETR", b"f")), "450 new\r\n");
        let none = "502 Command not implemented.\r\n";
        assert_eq!(text(s.actions_for("DELE", b"f")), none);
        let mut s = s.on_arg("LIST", b"sub", reply("226 sub"));
        assert_eq!(text(s.actions_for("LIST", b"sub")), "226 sub\r\n");
        assert_eq!(text(s.actions_for("LIST", b"other")), none);
    }

    #[test]
    fn passive_download_with_claimed_address() {
        let server = FaultServer::start(
            well_behaved()
                .on("PASV", pasv_claiming(Ipv4Addr::new(192, 0, 2, 7)))
                .on("RETR", download(b"hello")),
        );
        let mut c = TcpStream::connect(server.addr()).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut r = BufReader::new(c.try_clone().unwrap());
        assert!(line(&mut r).starts_with("220"));
        c.write_all(b"PASV\r\n").unwrap();
        let l = line(&mut r);
        assert!(
            l.starts_with("227 Entering Passive Mode (192,0,2,7,"),
            "{l}"
        );
        let nums: Vec<u16> = l[l.find('(').unwrap() + 1..l.find(')').unwrap()]
            .split(',')
            .map(|n| n.parse().unwrap())
            .collect();
        let port = nums[4] << 8 | nums[5];
        let mut d = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        c.write_all(b"RETR f\r\n").unwrap();
        assert!(line(&mut r).starts_with("150"));
        let mut got = Vec::new();
        d.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"hello");
        assert!(line(&mut r).starts_with("226"));
        assert_eq!(server.data_connections(), 1);
        assert_eq!(server.verbs(), ["PASV", "RETR"]);
    }

    #[test]
    fn refused_port_refuses() {
        let server = FaultServer::start(well_behaved().on("EPSV", vec![Action::EpsvRefused]));
        let c = TcpStream::connect(server.addr()).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut r = BufReader::new(c.try_clone().unwrap());
        line(&mut r);
        (&c).write_all(b"EPSV\r\n").unwrap();
        let l = line(&mut r);
        let port: u16 = l.split('|').nth(3).unwrap().parse().unwrap();
        let e = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
    }

    #[test]
    fn records_whether_the_data_connection_was_closed_at_each_command() {
        let mut retr = reply("150 here it comes");
        retr.push(Action::DataSend(b"some".to_vec()));
        let server = FaultServer::start(
            well_behaved()
                .on("RETR", retr)
                .on("ABOR", reply("226 aborted")),
        );
        let mut c = TcpStream::connect(server.addr()).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut r = BufReader::new(c.try_clone().unwrap());
        assert!(line(&mut r).starts_with("220"));
        c.write_all(b"EPSV\r\n").unwrap();
        let l = line(&mut r);
        let port: u16 = l.split('|').nth(3).unwrap().parse().unwrap();
        let mut d = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        c.write_all(b"RETR f\r\n").unwrap();
        assert!(line(&mut r).starts_with("150"));
        let mut four = [0u8; 4];
        d.read_exact(&mut four).unwrap();
        // open while NOOP arrives, closed (and seen so) before ABOR
        c.write_all(b"NOOP\r\n").unwrap();
        assert!(line(&mut r).starts_with("200"));
        drop(d);
        thread::sleep(Duration::from_millis(100));
        c.write_all(b"ABOR\r\n").unwrap();
        assert!(line(&mut r).starts_with("226"));
        assert_eq!(
            server.data_closed_at_commands(),
            [("NOOP".to_string(), false), ("ABOR".to_string(), true)]
        );
    }

    #[test]
    fn hang_ends_when_the_server_is_dropped() {
        let server = FaultServer::start(Script::new().greet_with(Action::Hang));
        let c = TcpStream::connect(server.addr()).unwrap();
        thread::sleep(Duration::from_millis(50));
        let t = Instant::now();
        drop(server);
        assert!(t.elapsed() < Duration::from_secs(5));
        drop(c);
    }

    #[test]
    fn flood_stops_when_the_client_leaves() {
        let server = FaultServer::start(Script::new().greet_with(flood(b"x", 100 << 20)));
        let mut c = TcpStream::connect(server.addr()).unwrap();
        let mut buf = [0u8; 1000];
        c.read_exact(&mut buf).unwrap();
        assert!(buf.iter().all(|&b| b == b'x'));
        drop(c);
        let t = Instant::now();
        drop(server);
        assert!(t.elapsed() < IO_LIMIT + Duration::from_secs(5));
    }
}
