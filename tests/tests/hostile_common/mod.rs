//! What the hostile tests of both drivers share: timeouts, the liveness bound, scripts of
//! the fault server, data to transfer.
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ftp_sansio::session::Config;
use ftp_tests::fault::{reply, well_behaved, Action, Script};

/// The drivers' reply, data and connect timeout in these tests.
pub const T: Duration = Duration::from_millis(1000);

/// Every case must end within this (a liveness bound, not a speed target): a few timeouts
/// plus scheduling slack on a loaded 2-core machine.
pub const BOUND: Duration = Duration::from_secs(15);

/// A session configuration with short timeouts and no automatic FEAT.
pub fn config() -> Config {
    Config {
        reply_timeout: Some(T),
        data_timeout: Some(T),
        auto_feat: false,
        ..Config::default()
    }
}

/// Runs `f`, asserting it returns within [`BOUND`].
pub fn bounded<R>(what: &str, f: impl FnOnce() -> R) -> R {
    let t = Instant::now();
    let r = f();
    let took = t.elapsed();
    assert!(took < BOUND, "{what}: took {took:?} (bound {BOUND:?})");
    r
}

/// `n` bytes of a recognisable pattern (not all equal, so shifted data is noticed).
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// The well-behaved base with `RETR` answered by a download of `data`.
pub fn serving(data: &[u8]) -> Script {
    well_behaved().on("RETR", ftp_tests::fault::download(data))
}

/// A `RETR` that announces `announced` bytes, sends `sent` of `data`, closes the data
/// connection, then does `after` on the control connection.
pub fn retr_cut(data: &[u8], sent: usize, after: Vec<Action>) -> Vec<Action> {
    let mut v = reply(&format!(
        "150 Opening BINARY mode data connection for f ({} bytes).",
        data.len()
    ));
    v.push(Action::DataSend(data[..sent].to_vec()));
    v.push(Action::DataClose);
    v.extend(after);
    v
}

/// A file served honouring `REST`, cut after `cut` bytes on the first `RETR` (data closed,
/// then the control connection dropped), whole (from the `REST` offset) afterwards.
pub fn resumable(data: &[u8], cut: usize) -> Script {
    let file = Arc::new(data.to_vec());
    let announce = format!(
        "150 Opening BINARY mode data connection for f ({} bytes).",
        data.len()
    );
    let mut first = reply(&announce);
    first.push(Action::DataSendFile {
        data: Arc::clone(&file),
        end: cut,
    });
    first.push(Action::DataClose);
    first.push(Action::Disconnect);
    let mut later = reply("150 Opening BINARY mode data connection for f.");
    later.push(Action::DataSendFile {
        data: file,
        end: usize::MAX,
    });
    later.push(Action::DataClose);
    later.extend(reply("226 Transfer complete."));
    well_behaved()
        .on("SIZE", reply(&format!("213 {}", data.len())))
        .on("RETR", later)
        .once("RETR", first)
}

/// A `LIST` answer whose one line is 10 MiB long: `150`, a listing head, 10 Mi of `n`,
/// close, `226`.
pub fn ten_mib_listing_line() -> Vec<Action> {
    let mut v = reply("150 Here comes the directory listing.");
    v.push(Action::DataSend(TEN_MIB_HEAD.to_vec()));
    v.push(Action::DataFlood {
        pattern: b"n".to_vec(),
        len: 10 << 20,
    });
    v.push(Action::DataClose);
    v.extend(reply("226 Directory send OK."));
    v
}

/// How the line of [`ten_mib_listing_line`] starts.
pub const TEN_MIB_HEAD: &[u8] = b"-rw-r--r-- 1 a b 1 Jan 1 2024 ";

/// A listing of 2 Mi lines `x` (6 MiB with the line ends), far past a 1 MiB listing limit.
pub fn six_mib_listing() -> Vec<Action> {
    let line: &[u8] = b"x";
    ftp_tests::fault::listing(&vec![line; 2 << 20])
}

/// A privileged port on 127.0.0.1 where nothing listens (connecting is refused), if one of
/// a few candidates is.
pub fn closed_privileged_port() -> Option<u16> {
    [1u16, 7, 9, 13, 17, 19, 37, 79, 113, 119, 389, 1023]
        .into_iter()
        .find(|&p| {
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, p));
            matches!(
                TcpStream::connect_timeout(&addr, Duration::from_secs(1)),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused
            )
        })
}

/// Peak resident memory of this process (VmHWM), in bytes, where /proc tells it.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Command lines with CR, LF or NUL a caller might pass as names.
pub const BAD_NAMES: &[&str] = &[
    "a\r\nDELE important",
    "a\nDELE important",
    "a\rb",
    "nul\0byte",
    "\r\n",
];

/// A listener on 127.0.0.1 that never accepts, with its accept queue filled: further SYNs
/// are dropped, so a connect to `addr` waits until the client's own timeout. Keep it alive
/// for as long as the case runs.
pub struct UnansweredListener {
    /// Where to connect.
    pub addr: std::net::SocketAddr,
    _listener: std::net::TcpListener,
    _fillers: Vec<std::net::TcpStream>,
}

/// An [`UnansweredListener`], or `None` when the queue never fills (SYN cookies).
pub fn unanswered_listener() -> Option<UnansweredListener> {
    let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4096 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(s) => fillers.push(s),
            Err(_) => {
                return Some(UnansweredListener {
                    addr,
                    _listener: listener,
                    _fillers: fillers,
                })
            }
        }
    }
    None
}
