//! Helpers shared by the `blocking_*` test files.
#![allow(dead_code)]

use std::sync::Once;

/// A logger that prints every record with `eprintln!`, so that libtest captures it per test
/// and shows it only for failing tests (the protocol trace of `set_debuglevel(2)`).
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        if record.target().starts_with("ftp_blocking") {
            let line = record.args().to_string();
            captured(&line);
            eprintln!("{line}");
        }
    }
    fn flush(&self) {}
}

static LOGGER: StderrLogger = StderrLogger;

/// Installs [`StderrLogger`] once per test binary.
pub fn init_logger() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if log::set_logger(&LOGGER).is_ok() {
            log::set_max_level(log::LevelFilter::Info);
        }
    });
}

// ---- log capture --------------------------------------------------------------------------

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<Vec<String>>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` and returns what `ftp_blocking` logged on this thread meanwhile.
pub fn capture_log<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    init_logger();
    CAPTURE.with(|c| *c.borrow_mut() = Some(Vec::new()));
    let out = f();
    let lines = CAPTURE.with(|c| c.borrow_mut().take()).unwrap_or_default();
    (out, lines)
}

fn captured(line: &str) {
    CAPTURE.with(|c| {
        if let Some(v) = c.borrow_mut().as_mut() {
            v.push(line.to_owned());
        }
    });
}

// ---- scripted peers -----------------------------------------------------------------------

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

/// The control connection as a scripted server sees it.
pub struct Ctl {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    /// Every command line received, in order.
    pub received: Vec<String>,
}

impl Ctl {
    /// Sends raw bytes (replies must carry their own CRLF).
    pub fn send(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).expect("peer: send");
    }

    /// Sends one reply line, adding CRLF.
    pub fn reply(&mut self, line: &str) {
        self.send(&format!("{line}\r\n"));
    }

    /// The next command line without CRLF (`None` at EOF).
    pub fn line(&mut self) -> Option<String> {
        let mut buf = Vec::new();
        match self.reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => None,
            Ok(_) => {
                let s = String::from_utf8_lossy(&buf)
                    .trim_end_matches(['\r', '\n'])
                    .to_owned();
                self.received.push(s.clone());
                Some(s)
            }
        }
    }

    /// Reads the next command and asserts it is `expected`.
    pub fn expect(&mut self, expected: &str) {
        let got = self.line();
        assert_eq!(got.as_deref(), Some(expected), "peer: unexpected command");
    }

    /// Reads the next command, asserts it is `expected`, and answers `reply`.
    pub fn answer(&mut self, expected: &str, reply: &str) {
        self.expect(expected);
        self.reply(reply);
    }

    /// A login as `anonymous` (password `anonymous@`), without FEAT.
    pub fn login(&mut self) {
        self.answer("USER anonymous", "331 Password please.");
        self.answer("PASS anonymous@", "230 Logged in.");
    }

    /// Expects `EPSV`, listens on a fresh port of the peer's address and answers 229.
    pub fn epsv(&mut self) -> TcpListener {
        self.expect("EPSV");
        let ip = self.writer.local_addr().unwrap().ip();
        let l = TcpListener::bind((ip, 0)).unwrap();
        let port = l.local_addr().unwrap().port();
        self.reply(&format!("229 Entering Extended Passive Mode (|||{port}|)"));
        l
    }

    /// Expects `PASV`, listens and answers 227.
    pub fn pasv(&mut self) -> TcpListener {
        self.expect("PASV");
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = l.local_addr().unwrap().port();
        self.reply(&format!(
            "227 Entering Passive Mode (127,0,0,1,{},{}).",
            port >> 8,
            port & 0xff
        ));
        l
    }

    /// Leaves the connection open without answering for `ms` milliseconds.
    pub fn pause(&mut self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }

    /// Closes the control connection.
    pub fn close(&mut self) {
        let _ = self.writer.shutdown(std::net::Shutdown::Both);
    }
}

/// Accepts one data connection (10 s at most).
pub fn accept(l: &TcpListener) -> TcpStream {
    l.set_nonblocking(true).unwrap();
    let until = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                return s;
            }
            Err(_) if std::time::Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(2))
            }
            Err(e) => panic!("peer: no data connection: {e}"),
        }
    }
}

/// Reads a data connection to its end.
pub fn read_all(mut s: TcpStream) -> Vec<u8> {
    let mut v = Vec::new();
    s.read_to_end(&mut v).unwrap();
    v
}

/// A scripted FTP server: a thread that accepts one connection and plays `script`.
pub struct Peer {
    pub addr: SocketAddr,
    handle: Option<JoinHandle<Vec<String>>>,
}

impl Peer {
    /// A peer on 127.0.0.1 that greets with `220 scripted peer` then runs `script`.
    pub fn start(script: impl FnOnce(&mut Ctl) + Send + 'static) -> Peer {
        Peer::start_on(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            "220 scripted peer\r\n",
            script,
        )
    }

    /// A peer on `ip` that sends `greeting` (raw) first.
    pub fn start_on(
        ip: IpAddr,
        greeting: &'static str,
        script: impl FnOnce(&mut Ctl) + Send + 'static,
    ) -> Peer {
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(20)))
                .unwrap();
            let mut ctl = Ctl {
                reader: BufReader::new(stream.try_clone().unwrap()),
                writer: stream,
                received: Vec::new(),
            };
            ctl.send(greeting);
            script(&mut ctl);
            ctl.received
        });
        Peer {
            addr,
            handle: Some(handle),
        }
    }

    /// Waits for the script to end (re-raising its panic) and returns the commands it got.
    pub fn join(mut self) -> Vec<String> {
        match self.handle.take().unwrap().join() {
            Ok(v) => v,
            Err(p) => std::panic::resume_unwind(p),
        }
    }
}
