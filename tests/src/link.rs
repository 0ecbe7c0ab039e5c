//! A link simulator: a proxy on `127.0.0.1` that puts a slow, narrow or broken network between
//! an FTP client and a real server on loopback.
//!
//! The kernel's netem is not available where these tests run, so the network is simulated in
//! userspace. A [`Link`] listens on a loopback port of its own; every control connection a
//! client opens there is forwarded to the server, and so is every data connection:
//!
//! - **passive**: the server's `227`/`229` replies are rewritten to name a listener of the link,
//!   which forwards the client's connection to the port the server announced (on the server's
//!   control address, as clients do by default);
//! - **active**: the client's `PORT`/`EPRT` commands are rewritten to name a listener of the
//!   link (on the address the server sees the control connection come from, so servers that
//!   only connect back to their peer accept it), which forwards the server's connection to the
//!   client's listener.
//!
//! Every connection, control or data, then gets:
//!
//! - **a handshake**: the link connects to the far side only after the three packets of a TCP
//!   handshake would have crossed it (2 × the delay towards the accepting side + 1 × the other),
//!   so the accepting side gets the connection, and the connecting side's first bytes arrive,
//!   when they would over a real link. (The connecting side's own `connect` returns at once: its
//!   kernel completes the handshake with the link's listener.)
//! - **one-way delay** per direction ([`LinkBuilder::delay`]; the round trip is twice the
//!   delay): a delay line, not a queue. Each chunk read from one side is stamped with the time it
//!   may be delivered (`read time + delay`) and written to the other side when that time comes,
//!   while the link goes on reading; so order is kept and throughput does not suffer from the
//!   delay (a 20 ms link still carries hundreds of MB/s). Delivery is never early; a thread of
//!   the link keeps the time (tokio's millisecond timers would add 1-2 ms per round trip), so
//!   it is late only by the machine's scheduling latency.
//! - **a bandwidth cap** per direction ([`LinkBuilder::rate`]), shared by all connections of the
//!   link like a real access link: a token bucket with no stored credit (a chunk of `n` bytes
//!   occupies the link for `n / rate` after the previous one), so `X` bytes never take less
//!   than `X / rate`. A direction reads no further ahead than 20 ms of link time (and in pieces
//!   of at most 10 ms), so the control connection does not wait behind megabytes of queued
//!   data.
//! - **faults**, scripted per connection ([`LinkBuilder::fault`]) or drawn from a seeded random
//!   generator ([`LinkBuilder::random_faults`]): see [`Fault`].
//!
//! Reading ahead is bounded per connection and direction ([`LinkBuilder::buffer`], 16 MiB by
//! default), so a slow receiver pushes back on the sender through TCP as usual. What the link
//! does not model: loss and retransmission, and the delay's effect on TCP's windows and slow
//! start (each endpoint's TCP talks to the link over loopback, and the link reads eagerly), and
//! ACKs: they come from the link's kernel at once, so a sender that waits for its data to be
//! acknowledged (vsftpd closes a data connection with `SO_LINGER` before it sends 226) waits
//! a round trip less than over a real link.
//! Plain FTP only: after `AUTH TLS` the replies cannot be read, so passive data connections
//! bypass the link (clients connect straight to the server's port on loopback).
//!
//! The link runs on a tokio runtime of its own (two worker threads); dropping the [`Link`]
//! stops it and closes every connection it carries. [`Link::stats`] counts connections, bytes
//! each way and faults injected.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use ftp_tests::link::{Fault, Link, Target};
//! use ftp_tests::{LocalServer, TestServer};
//!
//! let server = LocalServer::start();
//! server.write_file("f.bin", &vec![7u8; 1 << 20]).unwrap();
//! // 20 ms round trips, 10 MB/s down, the second data connection cut after 64 KiB.
//! let link = Link::builder(server.addr())
//!     .delay(Duration::from_millis(10))
//!     .rate_down(10_000_000)
//!     .fault(Target::Data(1), Fault::Reset { after: 64 * 1024 })
//!     .start()
//!     .unwrap();
//! let mut ftp = ftp_blocking::Ftp::connect(link.addr()).unwrap();
//! ftp.login(ftp_tests::USER, ftp_tests::PASSWORD).unwrap();
//! let started = Instant::now();
//! ftp.noop().unwrap();
//! assert!(started.elapsed() >= Duration::from_millis(20));
//! let mut got = Vec::new();
//! ftp.retrbinary("RETR f.bin", |b| { got.extend_from_slice(b); Ok(()) }, 65536, None).unwrap();
//! assert_eq!(got.len(), 1 << 20);
//! assert!(ftp.retrbinary("RETR f.bin", |_| Ok(()), 65536, None).is_err()); // reset
//! let stats = link.stats();
//! assert_eq!((stats.data_connections, stats.resets), (2, 1));
//! ```

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, oneshot, watch, Semaphore};
use tokio::time::{sleep_until, Instant};

/// Largest chunk read at once.
const CHUNK: usize = 256 * 1024;
/// How far ahead of the link's clock a capped direction reads: the queue of a bottleneck
/// router, in time. Long enough that a late timer (a loaded machine) does not leave the link
/// idle, short enough that a command does not wait long behind bulk data.
const RATE_HORIZON: Duration = Duration::from_millis(20);
/// How long a data listener of the link waits for its one connection.
const DATA_ACCEPT_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest held-back partial control line before it is forwarded unexamined.
const MAX_LINE: usize = 4096;

/// What goes wrong with one connection.
///
/// Byte counts (`after`) are bytes that entered the link on that connection, both directions
/// together (a data connection only carries one direction); the fault takes effect when the
/// `after`-th byte is delivered, that is after the delay, so the peers see exactly `after` bytes
/// before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// After `after` bytes, both sides are closed in an orderly way (FIN): each peer sees the
    /// other end close. What is still unread in the link is dropped (a sender still writing gets
    /// a reset from its kernel). On a download this is a silent truncation unless the server
    /// notices its own failure (it does when it was still sending).
    Cut {
        /// Bytes delivered before the cut.
        after: u64,
    },
    /// After `after` bytes, nothing is delivered either way for `duration`, then the connection
    /// carries on (what arrived meanwhile is queued, up to the buffer).
    Stall {
        /// Bytes delivered before the stall.
        after: u64,
        /// How long nothing moves.
        duration: Duration,
    },
    /// After `after` bytes, both sides are reset (`SO_LINGER` 0 then close: RST, no FIN).
    Reset {
        /// Bytes delivered before the reset.
        after: u64,
    },
    /// The connection is not let through. A data connection is refused for real: the link
    /// names, in the rewritten `227`/`229` (passive) or `PORT`/`EPRT` (active), a port where
    /// nothing listens, so the connecting side gets "connection refused". A userspace
    /// listener cannot refuse one control connection and accept the next, so a refused control
    /// connection is accepted and reset at once, before the greeting.
    Refuse,
}

/// Which connection a scripted [`Fault`] applies to. Connections are numbered from 0 in the
/// order the link sees them, control and data separately (a data connection's number is
/// taken when its `227`/`229`/`PORT`/`EPRT` passes through the link, across all control
/// connections).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The n-th control connection.
    Control(u64),
    /// The n-th data connection.
    Data(u64),
    /// Every control connection.
    EveryControl,
    /// Every data connection.
    EveryData,
}

/// Seeded random faults ([`LinkBuilder::random_faults`]): each connection draws one fault (or
/// none) with the given probabilities, in the order connections are made, so one session's
/// faults are the same from run to run for a given seed.
///
/// ```
/// use ftp_tests::link::RandomFaults;
/// let r = RandomFaults { cut: 0.01, ..RandomFaults::new(42) };
/// assert_eq!(r.seed, 42);
/// assert!(!r.control);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RandomFaults {
    /// The generator's seed.
    pub seed: u64,
    /// Probability of [`Fault::Cut`].
    pub cut: f64,
    /// Probability of [`Fault::Reset`].
    pub reset: f64,
    /// Probability of [`Fault::Stall`].
    pub stall: f64,
    /// Probability of [`Fault::Refuse`].
    pub refuse: f64,
    /// `after` of cuts, resets and stalls is drawn uniformly from `0..max_after`.
    pub max_after: u64,
    /// For control connections (with [`control`](Self::control)): `after` is drawn from
    /// `0..control_max_after` instead. A control connection carries a few hundred bytes per
    /// transfer, so with a `max_after` sized for files its faults would hardly ever come
    /// due. `None` (default): `max_after`.
    pub control_max_after: Option<u64>,
    /// Duration of the stalls.
    pub stall_for: Duration,
    /// Whether control connections draw faults too (default: only data connections).
    pub control: bool,
}

impl RandomFaults {
    /// No faults yet (all probabilities 0), `max_after` 1 MiB, stalls of 5 s, data only.
    pub fn new(seed: u64) -> RandomFaults {
        RandomFaults {
            seed,
            cut: 0.0,
            reset: 0.0,
            stall: 0.0,
            refuse: 0.0,
            max_after: 1 << 20,
            control_max_after: None,
            stall_for: Duration::from_secs(5),
            control: false,
        }
    }
}

/// Counters of a [`Link`] ([`Link::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Control connections accepted (refused ones included).
    pub control_connections: u64,
    /// Data connections set up (refused ones included).
    pub data_connections: u64,
    /// Bytes delivered from clients to servers, control and data.
    pub bytes_up: u64,
    /// Bytes delivered from servers to clients, control and data.
    pub bytes_down: u64,
    /// [`Fault::Cut`]s carried out.
    pub cuts: u64,
    /// [`Fault::Stall`]s carried out.
    pub stalls: u64,
    /// [`Fault::Reset`]s carried out.
    pub resets: u64,
    /// [`Fault::Refuse`]s carried out.
    pub refusals: u64,
}

impl LinkStats {
    /// All faults carried out.
    pub fn faults(&self) -> u64 {
        self.cuts + self.stalls + self.resets + self.refusals
    }
}

/// Options of a [`Link`]; made by [`Link::builder`].
#[derive(Clone, Debug)]
pub struct LinkBuilder {
    upstream: SocketAddr,
    delay_up: Duration,
    delay_down: Duration,
    rate_up: Option<u64>,
    rate_down: Option<u64>,
    buffer: usize,
    faults: Vec<(Target, Fault)>,
    random: Option<RandomFaults>,
}

impl LinkBuilder {
    /// One-way delay in both directions (round trip = 2 × `delay`). Default 0.
    pub fn delay(self, delay: Duration) -> Self {
        self.delay_up(delay).delay_down(delay)
    }
    /// One-way delay from client to server.
    pub fn delay_up(mut self, delay: Duration) -> Self {
        self.delay_up = delay;
        self
    }
    /// One-way delay from server to client.
    pub fn delay_down(mut self, delay: Duration) -> Self {
        self.delay_down = delay;
        self
    }
    /// Bandwidth cap in bytes per second, both directions (each has its own). Default none.
    pub fn rate(self, bytes_per_second: u64) -> Self {
        self.rate_up(bytes_per_second).rate_down(bytes_per_second)
    }
    /// Bandwidth cap from client to server, bytes per second (0: none).
    pub fn rate_up(mut self, bytes_per_second: u64) -> Self {
        self.rate_up = Some(bytes_per_second).filter(|&r| r > 0);
        self
    }
    /// Bandwidth cap from server to client, bytes per second (0: none).
    pub fn rate_down(mut self, bytes_per_second: u64) -> Self {
        self.rate_down = Some(bytes_per_second).filter(|&r| r > 0);
        self
    }
    /// Most bytes read ahead per connection and direction (at least 256 KiB; default 16 MiB).
    pub fn buffer(mut self, bytes: usize) -> Self {
        self.buffer = bytes.max(CHUNK);
        self
    }
    /// Scripts a fault. The first rule whose target matches a new connection applies; a
    /// connection without a scripted fault may still draw a random one.
    pub fn fault(mut self, target: Target, fault: Fault) -> Self {
        self.faults.push((target, fault));
        self
    }
    /// Draws faults at random for the connections without a scripted one.
    pub fn random_faults(mut self, random: RandomFaults) -> Self {
        self.random = Some(random);
        self
    }

    /// Starts the link on a free port of the upstream's loopback address (`127.0.0.1` or
    /// `::1`); it accepts connections when this returns.
    pub fn start(self) -> io::Result<Link> {
        let listen_ip = match self.upstream.ip() {
            IpAddr::V6(ip) if ip.is_loopback() => IpAddr::V6(ip),
            _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ftp-link")
            .enable_all()
            .build()?;
        let listener = std::net::TcpListener::bind((listen_ip, 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (listener, refusing) = {
            let _context = runtime.enter();
            let refusing = match listen_ip {
                IpAddr::V4(_) => TcpSocket::new_v4()?,
                IpAddr::V6(_) => TcpSocket::new_v6()?,
            };
            // bound, never listening: connections to it are refused
            refusing.bind(SocketAddr::new(listen_ip, 0))?;
            (TcpListener::from_std(listener)?, refusing)
        };
        let refused_addr = refusing.local_addr()?;
        let inner = Arc::new(Inner {
            upstream: self.upstream,
            listen_ip,
            delay: [self.delay_up, self.delay_down],
            shapers: [
                self.rate_up.map(Shaper::new),
                self.rate_down.map(Shaper::new),
            ],
            buffer: self.buffer,
            faults: self.faults,
            random: self.random.map(|r| Mutex::new((r, SplitMix64(r.seed)))),
            refused_addr,
            _refusing: refusing,
            next_control: AtomicU64::new(0),
            next_data: AtomicU64::new(0),
            recycled: Mutex::new(Vec::new()),
            counters: Counters::default(),
            timer: Timer::start()?,
        });
        runtime.spawn(accept_control(listener, inner.clone()));
        Ok(Link {
            addr,
            inner,
            runtime: Some(runtime),
        })
    }
}

/// A simulated network between FTP clients and one server; see the [module docs](self).
pub struct Link {
    addr: SocketAddr,
    inner: Arc<Inner>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("addr", &self.addr)
            .field("upstream", &self.inner.upstream)
            .field("delay", &self.inner.delay)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Link {
    /// Options for a link to the server whose control connection is at `upstream`: no delay,
    /// no cap, no faults until set.
    pub fn builder(upstream: SocketAddr) -> LinkBuilder {
        LinkBuilder {
            upstream,
            delay_up: Duration::ZERO,
            delay_down: Duration::ZERO,
            rate_up: None,
            rate_down: None,
            buffer: 16 << 20,
            faults: Vec::new(),
            random: None,
        }
    }

    /// A link with `delay` each way (round trip 2 × `delay`) and nothing else; panics when it
    /// cannot start.
    pub fn with_delay(upstream: SocketAddr, delay: Duration) -> Link {
        match Link::builder(upstream).delay(delay).start() {
            Ok(link) => link,
            Err(e) => panic!("could not start the link simulator: {e}"),
        }
    }

    /// Where clients connect (instead of the server's address).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's control address.
    pub fn upstream(&self) -> SocketAddr {
        self.inner.upstream
    }

    /// The counters so far.
    pub fn stats(&self) -> LinkStats {
        let c = &self.inner.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        LinkStats {
            control_connections: get(&c.control),
            data_connections: get(&c.data),
            bytes_up: get(&c.bytes[UP]),
            bytes_down: get(&c.bytes[DOWN]),
            cuts: get(&c.cuts),
            stalls: get(&c.stalls),
            resets: get(&c.resets),
            refusals: get(&c.refusals),
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                runtime.shutdown_background();
            } else {
                // drops every task, and with them every socket
                runtime.shutdown_timeout(Duration::from_secs(2));
            }
        }
    }
}

// ---- internals ---------------------------------------------------------------------------

const UP: usize = 0;
const DOWN: usize = 1;

#[derive(Default)]
struct Counters {
    control: AtomicU64,
    data: AtomicU64,
    bytes: [AtomicU64; 2],
    cuts: AtomicU64,
    stalls: AtomicU64,
    resets: AtomicU64,
    refusals: AtomicU64,
}

struct Inner {
    upstream: SocketAddr,
    listen_ip: IpAddr,
    /// One-way delay, `[UP]` and `[DOWN]`.
    delay: [Duration; 2],
    shapers: [Option<Shaper>; 2],
    buffer: usize,
    faults: Vec<(Target, Fault)>,
    random: Option<Mutex<(RandomFaults, SplitMix64)>>,
    refused_addr: SocketAddr,
    _refusing: TcpSocket,
    next_control: AtomicU64,
    next_data: AtomicU64,
    /// Data connection numbers given back ([`Inner::recycle_data`]).
    recycled: Mutex<Vec<(u64, Option<Fault>)>>,
    counters: Counters,
    timer: Timer,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Control,
    Data,
}

impl Inner {
    /// The fault (if any) of the next connection of this kind.
    /// The number and fault (if any) of the next data connection.
    fn next_data(&self) -> (u64, Option<Fault>) {
        let recycled = self
            .recycled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop();
        self.counters.data.fetch_add(1, Ordering::Relaxed);
        recycled.unwrap_or_else(|| {
            let n = self.next_data.fetch_add(1, Ordering::Relaxed);
            (n, self.fault_for(Kind::Data, n))
        })
    }

    /// Gives back a data connection's number (and fault) that was never used: the server
    /// refused the `PORT`/`EPRT` that took it (a client then tries the other command).
    fn recycle_data(&self, number: (u64, Option<Fault>)) {
        self.counters.data.fetch_sub(1, Ordering::Relaxed);
        if number.1 == Some(Fault::Refuse) {
            self.counters.refusals.fetch_sub(1, Ordering::Relaxed);
        }
        self.recycled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(number);
    }

    /// The fault (if any) of connection `n` of this kind.
    fn fault_for(&self, kind: Kind, n: u64) -> Option<Fault> {
        let scripted = self.faults.iter().find_map(|&(target, fault)| {
            let hit = match (target, kind) {
                (Target::Control(i), Kind::Control) | (Target::Data(i), Kind::Data) => i == n,
                (Target::EveryControl, Kind::Control) | (Target::EveryData, Kind::Data) => true,
                _ => false,
            };
            hit.then_some(fault)
        });
        if scripted.is_some() {
            return scripted;
        }
        let random = self.random.as_ref()?;
        let mut guard = random.lock().unwrap_or_else(|e| e.into_inner());
        let (r, rng) = &mut *guard;
        if kind == Kind::Control && !r.control {
            return None;
        }
        let x = rng.unit();
        let max_after = match kind {
            Kind::Control => r.control_max_after.unwrap_or(r.max_after),
            Kind::Data => r.max_after,
        };
        let after = rng.next() % max_after.max(1);
        let mut edge = r.refuse;
        if x < edge {
            return Some(Fault::Refuse);
        }
        edge += r.reset;
        if x < edge {
            return Some(Fault::Reset { after });
        }
        edge += r.cut;
        if x < edge {
            return Some(Fault::Cut { after });
        }
        edge += r.stall;
        if x < edge {
            return Some(Fault::Stall {
                after,
                duration: r.stall_for,
            });
        }
        None
    }

    /// Waits out the TCP handshake of a connection through the link: SYN, SYN-ACK and ACK
    /// cross it before the accepting side has the connection. The connecting side's kernel
    /// has already completed its own handshake with the link (a userspace proxy cannot hold
    /// it back), but nothing it sends arrives before this.
    async fn handshake(&self, side: Side) {
        let (forward, back) = match side {
            Side::ClientConnects => (self.delay[UP], self.delay[DOWN]),
            Side::ServerConnects => (self.delay[DOWN], self.delay[UP]),
        };
        let wait = 2 * forward + back;
        if !wait.is_zero() {
            let _ = self.timer.at(Instant::now() + wait).await;
        }
    }

    fn count_refusal(&self) {
        self.counters.refusals.fetch_add(1, Ordering::Relaxed);
    }
}

/// SplitMix64: small, seedable, good enough to pick faults.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The delay line's clock: a thread that sleeps precisely (tokio's timers fire up to about
/// 2 ms late: they round up to whole milliseconds, twice, which would add some 10 % to a 20 ms
/// round trip).
struct Timer {
    tx: std::sync::mpsc::Sender<(std::time::Instant, oneshot::Sender<()>)>,
}

impl Timer {
    fn start() -> io::Result<Timer> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("ftp-link-timer".into())
            .spawn(move || Timer::run(rx))?;
        Ok(Timer { tx })
    }

    /// Resolves at `at` (or as soon as the timer is gone).
    fn at(&self, at: Instant) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        // when the thread is gone the sender is dropped with the message: resolves at once
        let _ = self.tx.send((at.into_std(), tx));
        rx
    }

    fn run(rx: std::sync::mpsc::Receiver<(std::time::Instant, oneshot::Sender<()>)>) {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        use std::sync::mpsc::RecvTimeoutError;
        let mut due: BinaryHeap<Reverse<(std::time::Instant, u64)>> = BinaryHeap::new();
        let mut waiting = std::collections::HashMap::new();
        let mut seq = 0u64;
        loop {
            let now = std::time::Instant::now();
            while let Some(&Reverse((at, id))) = due.peek() {
                if at > now {
                    break;
                }
                due.pop();
                if let Some(tx) = waiting.remove(&id) {
                    let _: Result<(), ()> = oneshot::Sender::send(tx, ());
                }
            }
            let next = match due.peek() {
                Some(&Reverse((at, _))) => rx.recv_timeout(at.saturating_duration_since(now)),
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match next {
                Ok((at, tx)) => {
                    seq += 1;
                    due.push(Reverse((at, seq)));
                    waiting.insert(seq, tx);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

/// The bandwidth cap of one direction: the time the link is busy until.
struct Shaper {
    rate: u64,
    busy_until: Mutex<Instant>,
}

impl Shaper {
    fn new(rate: u64) -> Shaper {
        Shaper {
            rate,
            busy_until: Mutex::new(Instant::now()),
        }
    }

    /// Largest read: 10 ms of link time, between 4 KiB and [`CHUNK`].
    fn chunk(&self) -> usize {
        usize::try_from(self.rate / 100)
            .unwrap_or(CHUNK)
            .clamp(4096, CHUNK)
    }

    /// Waits until the link is at most [`RATE_HORIZON`] ahead of now.
    async fn gate(&self) {
        let busy = *self.busy_until.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = busy.checked_sub(RATE_HORIZON) {
            if at > Instant::now() {
                sleep_until(at).await;
            }
        }
    }

    /// Books `n` bytes on the link; returns when their last byte has left.
    fn book(&self, n: usize) -> Instant {
        let mut busy = self.busy_until.lock().unwrap_or_else(|e| e.into_inner());
        let start = (*busy).max(Instant::now());
        let nanos = (n as u128 * 1_000_000_000).div_ceil(u128::from(self.rate));
        *busy = start + Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        *busy
    }
}

async fn accept_control(listener: TcpListener, inner: Arc<Inner>) {
    loop {
        let (client, _) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                log::warn!("link: accept: {e}");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        inner.counters.control.fetch_add(1, Ordering::Relaxed);
        let n = inner.next_control.fetch_add(1, Ordering::Relaxed);
        let fault = inner.fault_for(Kind::Control, n);
        let inner = inner.clone();
        tokio::spawn(async move {
            if fault == Some(Fault::Refuse) {
                inner.count_refusal();
                reset(client);
                return;
            }
            inner.handshake(Side::ClientConnects).await;
            match TcpStream::connect(inner.upstream).await {
                Ok(server) => pump(inner, Kind::Control, client, server, fault),
                Err(e) => {
                    log::warn!("link: connecting to {}: {e}", inner.upstream);
                    reset(client);
                }
            }
        });
    }
}

/// Closes a stream with RST.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// How a connection ends early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Abort {
    None,
    Fin,
    Rst,
}

/// What one connection's four tasks share.
struct Conn {
    inner: Arc<Inner>,
    kind: Kind,
    fault: Option<Fault>,
    /// Bytes that entered the link on this connection, both directions.
    entered: AtomicU64,
    /// Set once the fault has been scheduled.
    fault_armed: AtomicBool,
    stall_until: Mutex<Option<Instant>>,
    abort: watch::Sender<Abort>,
    /// For active data connections: the client's listener (`PORT`/`EPRT` rewriting).
    active_peer_ip: IpAddr,
    /// The server-side local address (where active listeners are put).
    upstream_local: IpAddr,
    /// The data connection number taken by the last `PORT`/`EPRT`, until the server replies.
    active_pending: Mutex<Option<(u64, Option<Fault>)>>,
}

impl Conn {
    fn abort(&self, how: Abort) {
        self.abort.send_if_modified(|a| {
            if *a == Abort::None {
                *a = how;
                true
            } else {
                false
            }
        });
    }
}

/// One item of a direction's delay line.
enum Item {
    Data {
        bytes: Vec<u8>,
        release: Instant,
        /// Budget permits to give back once delivered.
        permits: usize,
    },
    /// The sending side closed (FIN): close the receiving side's write half when due.
    Eof { release: Instant },
    /// The sending side failed (reset): reset the whole connection when due.
    Broken { release: Instant },
    /// The scripted fault, due when the bytes before it have been delivered.
    Fault { fault: Fault, release: Instant },
}

impl Item {
    fn release(&self) -> Instant {
        match self {
            Item::Data { release, .. }
            | Item::Eof { release }
            | Item::Broken { release }
            | Item::Fault { release, .. } => *release,
        }
    }
}

/// Starts forwarding between `client` and `server` (already connected) on four tasks.
fn pump(inner: Arc<Inner>, kind: Kind, client: TcpStream, server: TcpStream, fault: Option<Fault>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let active_peer_ip = client
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(inner.listen_ip);
    let upstream_local = server
        .local_addr()
        .map(|a| a.ip())
        .unwrap_or(inner.listen_ip);
    let (abort, _) = watch::channel(Abort::None);
    let conn = Arc::new(Conn {
        inner: inner.clone(),
        kind,
        fault,
        entered: AtomicU64::new(0),
        fault_armed: AtomicBool::new(false),
        stall_until: Mutex::new(None),
        abort,
        active_peer_ip,
        upstream_local,
        active_pending: Mutex::new(None),
    });
    let (client_r, client_w) = client.into_split();
    let (server_r, server_w) = server.into_split();
    for (dir, r, w) in [(UP, client_r, server_w), (DOWN, server_r, client_w)] {
        let (tx, rx) = mpsc::unbounded_channel();
        let budget = Arc::new(Semaphore::new(inner.buffer));
        let pool = Pool::default();
        tokio::spawn(read_side(
            conn.clone(),
            dir,
            r,
            tx,
            budget.clone(),
            pool.clone(),
        ));
        tokio::spawn(write_side(conn.clone(), dir, w, rx, budget, pool));
    }
}

/// Read buffers handed back by a direction's writer, so that its reader does not allocate
/// (and fault in) a fresh one for every chunk.
#[derive(Clone, Default)]
struct Pool(Arc<Mutex<Vec<Vec<u8>>>>);

impl Pool {
    /// Most buffers kept.
    const KEEP: usize = 16;

    /// A buffer for a read of at most about `capacity` bytes (a read fills the capacity, and a
    /// capped direction's reads must stay small).
    fn take(&self, capacity: usize) -> Vec<u8> {
        let mut buf = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .filter(|b| b.capacity() <= capacity + capacity / 2)
            .unwrap_or_default();
        buf.clear();
        buf.reserve_exact(capacity);
        buf
    }

    fn give(&self, buf: Vec<u8>) {
        if buf.capacity() >= CHUNK / 8 {
            let mut pool = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if pool.len() < Pool::KEEP {
                pool.push(buf);
            }
        }
    }
}

/// Reads one side, stamps the chunks and queues them for the other side.
async fn read_side(
    conn: Arc<Conn>,
    dir: usize,
    mut r: OwnedReadHalf,
    tx: mpsc::UnboundedSender<Item>,
    budget: Arc<Semaphore>,
    pool: Pool,
) {
    read_loop(&conn, dir, &mut r, &tx, &budget, &pool).await;
    if *conn.abort.borrow() == Abort::Rst {
        // the socket closes with RST once the write half is gone too
        let _ = r.as_ref().set_zero_linger();
    }
}

async fn read_loop(
    conn: &Arc<Conn>,
    dir: usize,
    r: &mut OwnedReadHalf,
    tx: &mpsc::UnboundedSender<Item>,
    budget: &Arc<Semaphore>,
    pool: &Pool,
) {
    let inner = conn.inner.clone();
    let delay = inner.delay[dir];
    let shaper = inner.shapers[dir].as_ref();
    let mut abort = conn.abort.subscribe();
    let mut last_release = Instant::now();
    let mut line = Vec::new(); // control connections: the partial line held back
    let rewrite = conn.kind == Kind::Control;
    let max_read = shaper.map_or(CHUNK, Shaper::chunk);
    let mut stamp = |n: usize| {
        let left = shaper.map_or_else(Instant::now, |s| s.book(n));
        last_release = (left + delay).max(last_release);
        last_release
    };
    // a fault after 0 bytes is due at once
    if let Some(item) = arm_fault(conn, 0) {
        let _ = tx.send(item(stamp(0)));
    }
    loop {
        if *abort.borrow() != Abort::None {
            return;
        }
        if let Some(s) = shaper {
            tokio::select! {
                _ = s.gate() => {}
                _ = abort.changed() => return,
            }
        }
        let permit = tokio::select! {
            p = budget.clone().acquire_many_owned(max_read as u32) => match p {
                Ok(p) => p,
                Err(_) => return,
            },
            _ = abort.changed() => return,
        };
        permit.forget();
        let mut buf = pool.take(max_read);
        let got = tokio::select! {
            g = r.read_buf(&mut buf) => g,
            _ = abort.changed() => return,
        };
        budget.add_permits(max_read);
        if matches!(got, Ok(0)) {
            // ACK the peer's FIN now, not after the delayed-ACK timer (up to 40 ms): a server
            // that closes with SO_LINGER (vsftpd) waits for that ACK before its 226
            let _ = r.as_ref().set_quickack(true);
        }
        if buf.len() < max_read / 8 {
            // a command or a reply: do not keep a large buffer in the delay line for it
            buf.shrink_to_fit();
        }
        if matches!(got, Ok(0) | Err(_)) {
            if !line.is_empty() {
                let bytes = std::mem::take(&mut line);
                let _ = tx.send(Item::Data {
                    release: stamp(bytes.len()),
                    bytes,
                    permits: 0,
                });
            }
            let release = stamp(0);
            let _ = tx.send(match got {
                Ok(_) => Item::Eof { release },
                Err(_) => Item::Broken { release },
            });
            return;
        }
        let mut bytes = if rewrite {
            line.extend_from_slice(&buf);
            pool.give(buf);
            rewrite_lines(conn, dir, &mut line)
        } else {
            buf
        };
        if bytes.is_empty() {
            continue;
        }
        // what is queued holds its share of the budget until it is delivered (a rewritten
        // chunk may be a little longer than CHUNK: it holds CHUNK)
        let take = |n: usize| {
            let n = n.min(CHUNK);
            match budget.try_acquire_many(n as u32) {
                Ok(p) => {
                    p.forget();
                    n
                }
                Err(_) => 0, // only when the budget was just given back: never blocks
            }
        };
        // the scripted fault, when its byte is in this chunk
        let before = conn
            .entered
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let fault_at = match conn.fault {
            Some(Fault::Cut { after } | Fault::Reset { after } | Fault::Stall { after, .. })
                if after > before && after <= before + bytes.len() as u64 =>
            {
                Some((after - before) as usize)
            }
            _ => None,
        };
        let Some(at) = fault_at else {
            let item = Item::Data {
                release: stamp(bytes.len()),
                permits: take(bytes.len()),
                bytes,
            };
            if tx.send(item).is_err() {
                return;
            }
            continue;
        };
        let rest = bytes.split_off(at);
        let release = stamp(bytes.len());
        let _ = tx.send(Item::Data {
            release,
            permits: take(bytes.len()),
            bytes,
        });
        if let Some(item) = arm_fault(conn, u64::MAX) {
            let _ = tx.send(item(release));
        }
        if !matches!(conn.fault, Some(Fault::Stall { .. })) {
            // cut or reset: nothing after the fault's byte is delivered
            return;
        }
        if !rest.is_empty() {
            let _ = tx.send(Item::Data {
                release: stamp(rest.len()),
                permits: take(rest.len()),
                bytes: rest,
            });
        }
    }
}

type MakeItem = Box<dyn FnOnce(Instant) -> Item + Send>;

/// The fault item, once per connection, when the connection's fault has `after <= entered`
/// (`entered` = `u64::MAX`: the caller knows it is due).
fn arm_fault(conn: &Conn, entered: u64) -> Option<MakeItem> {
    let fault = conn.fault?;
    let after = match fault {
        Fault::Cut { after } | Fault::Reset { after } | Fault::Stall { after, .. } => after,
        Fault::Refuse => return None,
    };
    if after > entered || conn.fault_armed.swap(true, Ordering::Relaxed) {
        return None;
    }
    Some(Box::new(move |release| Item::Fault { fault, release }))
}

/// Takes the complete lines out of `line` (rewriting those that announce data connections)
/// and returns them; keeps the incomplete last line unless it is longer than [`MAX_LINE`].
fn rewrite_lines(conn: &Arc<Conn>, dir: usize, line: &mut Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    let mut start = 0;
    while let Some(nl) = memchr::memchr(b'\n', &line[start..]) {
        let end = start + nl + 1;
        let text = &line[start..end];
        match rewrite_line(conn, dir, text) {
            Some(new) => out.extend_from_slice(&new),
            None => out.extend_from_slice(text),
        }
        start = end;
    }
    line.drain(..start);
    if line.len() > MAX_LINE {
        out.append(line);
    }
    out
}

/// The rewritten line, when it is a `227`/`229` reply (down) or a `PORT`/`EPRT` command (up).
fn rewrite_line(conn: &Arc<Conn>, dir: usize, text: &[u8]) -> Option<Vec<u8>> {
    // most lines are neither: tell at a glance
    let head = text.get(..5)?;
    let interesting = if dir == DOWN {
        head.starts_with(b"227 ")
            || head.starts_with(b"229 ")
            || (head[3] == b' '
                && conn
                    .active_pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .is_some())
    } else {
        head.eq_ignore_ascii_case(b"PORT ") || head.eq_ignore_ascii_case(b"EPRT ")
    };
    if !interesting {
        return None;
    }
    let s = std::str::from_utf8(text).ok()?.trim_end();
    let inner = &conn.inner;
    if dir == DOWN {
        // the final reply to a PORT/EPRT: a refusal gives its data connection number back
        let code = s.get(..4).filter(|c| c.as_bytes()[3] == b' ');
        if let Some(first) = code.and_then(|c| c.bytes().next()) {
            let pending = conn
                .active_pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            if let Some(number) = pending.filter(|_| matches!(first, b'4' | b'5')) {
                inner.recycle_data(number);
            }
        }
        let extended = s.starts_with("229 ");
        if !extended && !s.starts_with("227 ") {
            return None;
        }
        let port = if extended {
            parse_epsv_port(s)?
        } else {
            parse_pasv(s)?.port()
        };
        let target = SocketAddr::new(inner.upstream.ip(), port);
        let listen = data_listener(conn, inner.listen_ip, target, Side::ClientConnects)?;
        Some(if extended {
            format!(
                "229 Entering Extended Passive Mode (|||{}|)\r\n",
                listen.port()
            )
            .into_bytes()
        } else {
            format!("227 Entering Passive Mode ({}).\r\n", host_port(listen)?).into_bytes()
        })
    } else {
        let upper = s.get(..5)?.to_ascii_uppercase();
        let target = match upper.as_str() {
            "PORT " => parse_host_port(&s[5..])?,
            "EPRT " => parse_eprt(&s[5..])?,
            _ => return None,
        };
        // the client's listener, on the address its control connection comes from unless
        // it named another loopback address
        let target = if target.ip().is_loopback() || target.ip().is_unspecified() {
            target
        } else {
            SocketAddr::new(conn.active_peer_ip, target.port())
        };
        let listen = data_listener(conn, conn.upstream_local, target, Side::ServerConnects)?;
        Some(if upper == "PORT " {
            format!("PORT {}\r\n", host_port(listen)?).into_bytes()
        } else {
            let af = if listen.is_ipv4() { 1 } else { 2 };
            format!("EPRT |{af}|{}|{}|\r\n", listen.ip(), listen.port()).into_bytes()
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Passive: the client connects to the link, the link to the server.
    ClientConnects,
    /// Active: the server connects to the link, the link to the client.
    ServerConnects,
}

/// A listener for one data connection to `target` (or the refusing address when the data
/// connection is to be refused); returns the address to announce.
fn data_listener(
    conn: &Arc<Conn>,
    ip: IpAddr,
    target: SocketAddr,
    side: Side,
) -> Option<SocketAddr> {
    let inner = conn.inner.clone();
    let (n, fault) = inner.next_data();
    if side == Side::ServerConnects {
        // until the server accepts the command
        *conn
            .active_pending
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some((n, fault));
    }
    if fault == Some(Fault::Refuse) {
        inner.count_refusal();
        return Some(SocketAddr::new(ip, inner.refused_addr.port())).filter(|a| {
            // the refusing socket is on the link's own address; an active listener on
            // another address family cannot use it
            a.ip() == inner.refused_addr.ip()
        });
    }
    let listener = match std::net::TcpListener::bind((ip, 0))
        .and_then(|l| l.set_nonblocking(true).map(|_| l))
        .and_then(TcpListener::from_std)
    {
        Ok(l) => l,
        Err(e) => {
            log::warn!("link: no data listener on {ip}: {e}");
            return None;
        }
    };
    let addr = listener.local_addr().ok()?;
    tokio::spawn(async move {
        let accepted = tokio::time::timeout(DATA_ACCEPT_TIMEOUT, listener.accept()).await;
        drop(listener);
        let Ok(Ok((stream, _))) = accepted else {
            return;
        };
        inner.handshake(side).await;
        match TcpStream::connect(target).await {
            Ok(other) => {
                let (client, server) = match side {
                    Side::ClientConnects => (stream, other),
                    Side::ServerConnects => (other, stream),
                };
                pump(inner, Kind::Data, client, server, fault);
            }
            Err(e) => {
                log::warn!("link: data connection to {target}: {e}");
                reset(stream);
            }
        }
    });
    Some(addr)
}

/// `h1,h2,h3,h4,p1,p2` of an address (IPv4 only).
fn host_port(addr: SocketAddr) -> Option<String> {
    let IpAddr::V4(ip) = addr.ip() else {
        return None;
    };
    let [a, b, c, d] = ip.octets();
    Some(format!(
        "{a},{b},{c},{d},{},{}",
        addr.port() >> 8,
        addr.port() & 0xff
    ))
}

/// The address of a `227` reply: the first run of six comma-separated numbers.
fn parse_pasv(s: &str) -> Option<SocketAddr> {
    let start = s[4..].find(|c: char| c.is_ascii_digit())? + 4;
    parse_host_port(&s[start..])
}

/// `h1,h2,h3,h4,p1,p2` (followed by anything).
fn parse_host_port(s: &str) -> Option<SocketAddr> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == ',' || c == ' '))
        .unwrap_or(s.len());
    let nums: Vec<u8> = s[..end]
        .split(',')
        .map(|n| n.trim().parse().ok())
        .collect::<Option<_>>()?;
    let [a, b, c, d, p1, p2] = nums[..] else {
        return None;
    };
    Some(SocketAddr::new(
        IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
        u16::from(p1) << 8 | u16::from(p2),
    ))
}

/// The port of a `229 ... (|||port|)` reply.
fn parse_epsv_port(s: &str) -> Option<u16> {
    let open = s.find('(')?;
    let inner = &s[open + 1..s[open..].find(')')? + open];
    let d = inner.chars().next()?;
    let parts: Vec<&str> = inner.split(d).collect();
    parts.get(3)?.parse().ok()
}

/// `|af|addr|port|` of an `EPRT` command.
fn parse_eprt(s: &str) -> Option<SocketAddr> {
    let d = s.chars().next()?;
    let parts: Vec<&str> = s.split(d).collect();
    let ip: IpAddr = parts.get(2)?.parse().ok()?;
    let port: u16 = parts.get(3)?.parse().ok()?;
    Some(SocketAddr::new(ip, port))
}

/// Delivers a direction's queued items to the other side when they are due.
async fn write_side(
    conn: Arc<Conn>,
    dir: usize,
    mut w: OwnedWriteHalf,
    mut rx: mpsc::UnboundedReceiver<Item>,
    budget: Arc<Semaphore>,
    pool: Pool,
) {
    let counters = &conn.inner.counters;
    let mut abort = conn.abort.subscribe();
    let how = loop {
        let now_abort = *abort.borrow();
        if now_abort != Abort::None {
            break now_abort;
        }
        let item = tokio::select! {
            item = rx.recv() => item,
            _ = abort.changed() => continue,
        };
        let Some(item) = item else {
            // the reader stopped after a cut or reset: the fault item ends this side
            break Abort::None;
        };
        let release = item.release();
        if release > Instant::now() {
            let due = conn.inner.timer.at(release);
            tokio::select! {
                _ = due => {}
                _ = abort.changed() => continue,
            }
        }
        let stalled = *conn.stall_until.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = stalled.filter(|&u| u > Instant::now()) {
            tokio::select! {
                _ = sleep_until(until) => {}
                _ = abort.changed() => continue,
            }
        }
        match item {
            Item::Data { bytes, permits, .. } => {
                let written = tokio::select! {
                    w = w.write_all(&bytes) => w,
                    _ = abort.changed() => continue,
                };
                if written.is_err() {
                    conn.abort(Abort::Rst);
                    break Abort::Rst;
                }
                counters.bytes[dir].fetch_add(bytes.len() as u64, Ordering::Relaxed);
                budget.add_permits(permits);
                pool.give(bytes);
            }
            Item::Eof { .. } => {
                let _ = w.shutdown().await;
                // the other direction may go on (half-close); this side is done
                return;
            }
            Item::Broken { .. } => {
                conn.abort(Abort::Rst);
                break Abort::Rst;
            }
            Item::Fault { fault, .. } => match fault {
                Fault::Stall { duration, .. } => {
                    counters.stalls.fetch_add(1, Ordering::Relaxed);
                    *conn.stall_until.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some(Instant::now() + duration);
                }
                Fault::Cut { .. } => {
                    counters.cuts.fetch_add(1, Ordering::Relaxed);
                    conn.abort(Abort::Fin);
                    break Abort::Fin;
                }
                Fault::Reset { .. } => {
                    counters.resets.fetch_add(1, Ordering::Relaxed);
                    conn.abort(Abort::Rst);
                    break Abort::Rst;
                }
                Fault::Refuse => {}
            },
        }
    };
    match how {
        Abort::Rst => {
            let _ = w.as_ref().set_zero_linger();
            // no FIN: the socket closes (with RST) when the read half is gone too
            w.forget();
        }
        Abort::Fin | Abort::None => {
            let _ = w.shutdown().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_it_rewrites() {
        assert_eq!(
            parse_pasv("227 Entering Passive Mode (127,0,0,1,78,40).").unwrap(),
            "127.0.0.1:20008".parse().unwrap()
        );
        assert_eq!(
            parse_pasv("227 =127,0,0,1,0,21").unwrap(),
            "127.0.0.1:21".parse().unwrap()
        );
        assert_eq!(
            parse_epsv_port("229 Entering Extended Passive Mode (|||6446|)"),
            Some(6446)
        );
        assert_eq!(
            parse_eprt("|2|::1|5282|").unwrap(),
            "[::1]:5282".parse().unwrap()
        );
        assert_eq!(
            parse_host_port("127,0,0,1,4,1").unwrap(),
            "127.0.0.1:1025".parse().unwrap()
        );
        assert_eq!(parse_host_port("127,0,0,1,4"), None);
        assert_eq!(
            host_port("127.0.0.1:1025".parse().unwrap()).unwrap(),
            "127,0,0,1,4,1"
        );
    }

    #[test]
    fn random_faults_follow_the_seed() {
        let draw = |seed| {
            let mut rng = SplitMix64(seed);
            (0..8).map(|_| rng.next()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        let mut rng = SplitMix64(1);
        assert!((0..1000)
            .map(|_| rng.unit())
            .all(|x| (0.0..1.0).contains(&x)));
    }
}
