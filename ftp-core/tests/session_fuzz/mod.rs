//! The checks the fuzz target `session` runs on every input; shared (by `#[path]`) with
//! `tests/fuzz_replay_session.rs`, which replays the seed corpus through them on stable.
//!
//! An input is a small program for a fake driver around one [`Session`]. The session runs the
//! greeting, a login, a `LIST` and a `RETR` (started automatically whenever it is idle), then
//! whatever operations the input starts, while the input plays the server (arbitrary bytes,
//! canned replies, byte-by-byte replies), the clock (time passing, deadlines reached, time going
//! backwards), the data connection (events that follow the session's intents, or arbitrary
//! ones) and the caller (abort, operations while busy, bad arguments).
//!
//! # Input format
//! Byte 0 is a set of flags ([`Header`]); every following action is one opcode byte (modulo
//! the number of actions) and its operand bytes (missing bytes read as 0):
//!
//! | opcode | action |
//! |---|---|
//! | 0-3 | `n` then `n` bytes: control input |
//! | 4 | `i`: canned reply `i` whole |
//! | 5 | `i`: canned reply `i` one byte per call |
//! | 6 | `t`: time passes by `t * 37` ms, then `handle_timeout` |
//! | 7 | jump to the next deadline and `handle_timeout` |
//! | 8 | `k`, `n`: a data event (kind `k`, amount `n`) |
//! | 9 | control connection EOF |
//! | 10 | abort |
//! | 11 | TLS handshake / shutdown done |
//! | 12 | `n`: stop writing; write `n` pending control bytes |
//! | 13 | `o`, `a`: start operation `o` with argument `a` (refused while busy; with [`Header::pipeline`] then announced with `prepare_next` and started once idle) |
//! | 14 | `t`: time goes back by `t` ms |
//!
//! # Checks (each panics on a violation)
//! - no panic; every operation started (the greeting, each accepted `start`, an `abort`
//!   while idle) ends in exactly one `Event::Completed`, and at the end of the input (after the
//!   deadlines run out, then EOF) none is left in flight; with deadlines configured, a session
//!   with an operation in flight always has one (it cannot hang), and running them out ends the
//!   operation within a few steps without any input;
//! - no command is queued while the previous one's reply is outstanding (RFC 959 §5.1), `ABOR`
//!   excepted, and with [`Header::pipeline`] one early `EPSV` per transfer: between two
//!   commands at least one reply arrived (counted per call, leniently when several replies
//!   and commands come out of one call);
//! - control output is a sequence of CRLF-terminated lines without NUL, bare CR or bare LF,
//!   bounded, and nothing is queued while waiting for the control TLS handshake or once closed;
//!   a rejected `start` (bad argument, busy, closed) queues nothing and changes nothing;
//!   arguments with CR, LF or NUL are always rejected;
//! - the outcome matches the operation; after a fatal error the session is closed, after a
//!   non-fatal one it is idle; traced replies stay within the reply limit;
//! - passive connections go to the control peer's IP unless `trust_pasv_address`, never to
//!   port 0;
//! - with a driver that follows the intents: no `Stream` without a data connection, no
//!   `Completed` while a data connection the session asked for is still open, and a transfer
//!   reported `Ok` only when the data finished (not failed) with the byte count the driver
//!   gave, never below the size a binary download announced.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use ftp_sansio::command::ProtLevel;
use ftp_sansio::reply::Limits;
use ftp_sansio::session::{
    Config, DataEvent, DataFailure, DataIntent, Direction, Event, OpError, Operation, Outcome,
    Session, TlsIntent, TransferKind, TransferRequest, UsageError,
};

/// Reply timeout of the checked sessions.
const REPLY_TIMEOUT: Duration = Duration::from_secs(3);
/// Abort grace of the checked sessions (when [`Header::abort_grace`]).
const ABORT_GRACE: Duration = Duration::from_millis(700);
/// Data timeout of the checked sessions.
const DATA_TIMEOUT: Duration = Duration::from_secs(5);
/// Most control bytes that may wait in `poll_transmit` (arguments are at most a few dozen
/// bytes and at most ABOR + NOOP queue behind a command).
const MAX_TX: usize = 4096;
/// Most steps a session with an operation in flight may need to end by deadlines alone.
const MAX_DEADLINE_STEPS: usize = 8;

/// Replies a server might send (the input picks them by index), CRLF added.
pub const CANNED: &[&[u8]] = &[
    b"220 (vsFTPd 3.0.3)",
    b"220-Welcome\r\n220 ready",
    b"120 Service ready in 1 minute",
    b"331 Please specify the password.",
    b"332 Need account",
    b"230 Login successful.",
    b"530 Login incorrect.",
    b"421 Timeout.",
    b"211-Features:\r\n EPSV\r\n MDTM\r\n UTF8\r\n SIZE\r\n211 End",
    b"200 OK",
    b"229 Entering Extended Passive Mode (|||50000|)",
    b"229 Entering Extended Passive Mode (|||0|)",
    b"229 Entering Extended Passive Mode (|||70000|)",
    b"227 Entering Passive Mode (127,0,0,1,195,80).",
    b"227 Entering Passive Mode (10,9,8,7,0,22).",
    b"227 Entering Passive Mode (0,0,0,0,4,1).",
    b"227 Entering Passive Mode (1,2,3,4,300,1).",
    b"150 Opening BINARY mode data connection for f (1234 bytes).",
    b"150 Here comes the directory listing.",
    b"125 Data connection already open; transfer starting.",
    b"226 Transfer complete.",
    b"250 OK",
    b"426 Connection closed; transfer aborted.",
    b"451 Local error.",
    b"425 Can't open data connection.",
    b"500 Unknown command.",
    b"502 Not implemented.",
    b"350 Restarting at 10.",
    b"257 \"/a\"\"b\" created",
    b"213 1234",
    b"213 20240101120000",
    b"250-Listing\r\n type=file;size=3; /f\r\n250 End",
    b"234 AUTH TLS OK.",
    b"225 ABOR command successful.",
    b"550 No such file.",
    b"999 out of range",
    b"099 out of range",
    b"not a reply",
    b"200 \xff\xfe\xc3( invalid UTF-8",
    b"550-never ends",
    b"200-first\r\n200-second\r\n200 third",
    b"226-Partial\r\n226 done",
    b"200 PORT command successful.",
    b"215 UNIX Type: L8",
];

/// The flags of byte 0.
#[derive(Clone, Copy, Debug)]
pub struct Header {
    /// Data events follow the intents (and the data checks apply).
    pub coherent: bool,
    /// Config: passive mode.
    pub passive: bool,
    /// Config: EPSV/EPRT first.
    pub use_epsv: bool,
    /// Config: connect to the 227 address.
    pub trust_pasv: bool,
    /// Config: FEAT after login.
    pub auto_feat: bool,
    /// Config: HOST before USER.
    pub host: bool,
    /// Config: tiny reply limits.
    pub small_limits: bool,
    /// The control peer is `[::1]:21` instead of `127.0.0.1:21`.
    pub ipv6: bool,
    /// Config: an abort keeps the data connection open for [`ABORT_GRACE`] after `ABOR`
    /// (else zero grace). Derived from the other bits (the byte is full): off with
    /// `trust_pasv`.
    pub abort_grace: bool,
    /// Config: a refused `AUTH TLS` leaves the session open. Derived: `host` and
    /// `small_limits` together.
    pub clear_after_refused_auth: bool,
    /// Config: `pipeline_passive`, and an operation started while busy is announced with
    /// `prepare_next` and started as soon as the session is idle (as ftp-mio's queue does).
    /// Derived: `auto_feat` and `host` together.
    pub pipeline: bool,
}

impl Header {
    fn from_byte(b: u8) -> Header {
        Header {
            coherent: b & 1 == 0,
            passive: b & 2 == 0,
            use_epsv: b & 4 == 0,
            trust_pasv: b & 8 != 0,
            auto_feat: b & 16 != 0,
            host: b & 32 != 0,
            small_limits: b & 64 != 0,
            ipv6: b & 128 != 0,
            abort_grace: b & 8 == 0,
            clear_after_refused_auth: b & 96 == 96,
            pipeline: b & 48 == 48,
        }
    }
}

/// What a run did, for tests that check the harness reaches deep states.
#[derive(Debug, Default)]
pub struct Summary {
    /// One entry per `Completed`: the outcome's variant name or `Err(..)` with the error.
    pub completed: Vec<String>,
    /// Every control line the client sent, without CRLF.
    pub sent: Vec<Vec<u8>>,
    /// The data intents, in order.
    pub intents: Vec<DataIntent>,
}

/// Reads operand bytes; past the end everything is 0.
struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }
    fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let start = self.pos.min(self.data.len());
        let end = self.pos.saturating_add(n).min(self.data.len());
        self.pos = self.pos.saturating_add(n);
        &self.data[start..end]
    }
}

/// What the kind of operation in flight is (to check its outcome).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OpKind {
    Greeting,
    Login,
    Feat,
    Done,
    Path,
    Size,
    Mtime,
    Entry,
    Quit,
    Transfer { download: bool, ascii: bool },
    IdleAbort,
}

/// The fake driver's view of the data connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Data {
    None,
    Connecting,
    Listening,
    /// Connected (passive) or listening with the address reported (active), before `Stream`.
    Open,
    Streaming {
        moved: u64,
    },
}

/// How the current transfer's data ended, as the driver reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DataEnd {
    Pending,
    Finished(u64),
    Failed,
}

struct Harness {
    h: Header,
    s: Session,
    base: Instant,
    now: Instant,
    peer: SocketAddr,
    max_reply: usize,
    started: usize,
    completed: usize,
    in_flight: Option<OpKind>,
    /// Plan of automatic operations still to start.
    plan: Vec<Operation>,
    /// Bytes written so far (checked as lines at the end).
    wire: Vec<u8>,
    /// Bytes of `wire` + pending output already checked for pipelining.
    queued_seen: usize,
    /// Replies traced since the last pipelining check.
    replies_since: usize,
    /// The last command (not ABOR) has no reply yet.
    outstanding: bool,
    /// [`Header::pipeline`]: the operation announced with `prepare_next`, started next.
    announced: Option<Operation>,
    /// The early `EPSV` the operation in flight may send beyond the reply credits is used.
    early_used: bool,
    /// Writes are stalled (opcode 12): pending bytes stay queued.
    stalled: bool,
    tls_pending: bool,
    /// `SESSION_FUZZ_TRACE` is set: print every action and event to stderr.
    trace: bool,
    /// The current action fed control bytes.
    control_input: bool,
    /// Bytes pending when the TLS upgrade was asked for (nothing may be added).
    tls_tx: usize,
    data: Data,
    data_end: DataEnd,
    expected_size: Option<u64>,
    summary: Summary,
}

/// Runs `data` through a session and every check; returns what happened.
pub fn check_session_input(data: &[u8]) -> Summary {
    let mut input = Input { data, pos: 0 };
    let h = Header::from_byte(input.u8());
    let mut hn = Harness::new(h);
    hn.drain();
    while !input.done() {
        hn.step(&mut input);
        hn.drain();
    }
    hn.finish();
    hn.summary
}

/// An operation built from two input bytes; `arg` selects the argument.
fn operation(o: u8, a: u8) -> Operation {
    const NAMES: &[&[u8]] = &[
        b"f",
        b"dir/a b.txt",
        "été/ü".as_bytes(),
        b"x\r\nDELE y",
        b"a\0b",
        b"",
        b"..",
        b"line\nfeed",
        b"\xff\xfe",
        b"cr\r",
    ];
    let name = NAMES[a as usize % NAMES.len()].to_vec();
    let opt = if a & 0x80 != 0 {
        None
    } else {
        Some(name.clone())
    };
    let text = String::from_utf8_lossy(&name).into_owned();
    let transfer = |kind: TransferKind| {
        Operation::Transfer(TransferRequest {
            kind,
            ascii: a & 0x40 != 0,
            rest: if a & 0x20 != 0 {
                Some(u64::from(a))
            } else {
                None
            },
        })
    };
    match o % 32 {
        0 => Operation::Login {
            user: text.clone(),
            password: "pw".into(),
            account: Some("acct".into()),
        },
        1 => Operation::Login {
            user: "u".into(),
            password: text,
            account: None,
        },
        2 => Operation::Feat,
        3 => Operation::Cwd(name),
        4 => Operation::Cdup,
        5 => Operation::Pwd,
        6 => Operation::Mkd(name),
        7 => Operation::Rmd(name),
        8 => Operation::Dele(name),
        9 => Operation::Rename {
            from: name,
            to: b"new".to_vec(),
        },
        10 => Operation::Size(name),
        11 => Operation::Mdtm(name),
        12 => Operation::Mlst(opt),
        13 => Operation::Site(name),
        14 => Operation::Stat(opt),
        15 => Operation::Syst,
        16 => Operation::Noop,
        17 => Operation::Help(opt),
        18 => Operation::Quit,
        19 => Operation::Raw {
            line: name,
            require_2xx: a & 0x40 != 0,
        },
        20 => transfer(TransferKind::Retr(name)),
        21 => transfer(TransferKind::Stor(name)),
        22 => transfer(TransferKind::Appe(name)),
        23 => transfer(TransferKind::Stou),
        24 => transfer(TransferKind::List(opt)),
        25 => transfer(TransferKind::Nlst(opt)),
        26 => transfer(TransferKind::Mlsd(opt)),
        27 => transfer(TransferKind::Raw {
            line: name,
            upload: a & 0x40 != 0,
        }),
        28 => Operation::AuthTls,
        29 => Operation::Protect(match a % 4 {
            0 => ProtLevel::Clear,
            1 => ProtLevel::Safe,
            2 => ProtLevel::Confidential,
            _ => ProtLevel::Private,
        }),
        30 => Operation::Ccc,
        _ => transfer(TransferKind::Retr(b"big.bin".to_vec())),
    }
}

fn op_kind(op: &Operation) -> OpKind {
    match op {
        Operation::Login { .. } => OpKind::Login,
        Operation::Feat => OpKind::Feat,
        Operation::Pwd | Operation::Mkd(_) => OpKind::Path,
        Operation::Size(_) => OpKind::Size,
        Operation::Mdtm(_) => OpKind::Mtime,
        Operation::Mlst(_) => OpKind::Entry,
        Operation::Quit => OpKind::Quit,
        Operation::Transfer(req) => OpKind::Transfer {
            download: req.kind.direction() == Direction::Download,
            ascii: req.ascii,
        },
        _ => OpKind::Done,
    }
}

/// Whether any argument the operation sends contains CR, LF or NUL.
fn has_forbidden_byte(op: &Operation) -> bool {
    let bad = |b: &[u8]| b.iter().any(|&c| c == b'\r' || c == b'\n' || c == 0);
    let opt = |o: &Option<Vec<u8>>| o.as_deref().is_some_and(bad);
    match op {
        Operation::Login {
            user,
            password,
            account,
        } => {
            bad(user.as_bytes())
                || bad(password.as_bytes())
                || account.as_deref().is_some_and(|a| bad(a.as_bytes()))
        }
        Operation::Cwd(p)
        | Operation::Mkd(p)
        | Operation::Rmd(p)
        | Operation::Dele(p)
        | Operation::Size(p)
        | Operation::Mdtm(p)
        | Operation::Site(p) => bad(p),
        Operation::Rename { from, to } => bad(from) || bad(to),
        Operation::Mlst(p) | Operation::Stat(p) | Operation::Help(p) => opt(p),
        Operation::Raw { line, .. } => bad(line),
        Operation::Transfer(req) => match &req.kind {
            TransferKind::Retr(p) | TransferKind::Stor(p) | TransferKind::Appe(p) => bad(p),
            TransferKind::List(p) | TransferKind::Nlst(p) | TransferKind::Mlsd(p) => opt(p),
            TransferKind::Raw { line, .. } => bad(line),
            TransferKind::Stou => false,
        },
        _ => false,
    }
}

fn describe(r: &Result<Outcome, OpError>) -> String {
    match r {
        Ok(Outcome::Greeting(_)) => "Greeting".into(),
        Ok(Outcome::LoggedIn(_)) => "LoggedIn".into(),
        Ok(Outcome::Done(_)) => "Done".into(),
        Ok(Outcome::Path(_)) => "Path".into(),
        Ok(Outcome::Size(_)) => "Size".into(),
        Ok(Outcome::Mtime(_)) => "Mtime".into(),
        Ok(Outcome::Features(_)) => "Features".into(),
        Ok(Outcome::Entry(_)) => "Entry".into(),
        Ok(Outcome::Transferred { bytes, .. }) => format!("Transferred({bytes})"),
        Ok(Outcome::Aborted { .. }) => "Aborted".into(),
        Ok(Outcome::Closed(_)) => "Closed".into(),
        Err(e) => format!("Err({e})"),
    }
}

impl Harness {
    fn new(h: Header) -> Harness {
        let limits = if h.small_limits {
            Limits {
                max_line: 48,
                max_reply: 160,
            }
        } else {
            Limits::default()
        };
        let config = Config {
            passive: h.passive,
            trust_pasv_address: h.trust_pasv,
            use_epsv: h.use_epsv,
            auto_feat: h.auto_feat,
            host: h.host.then(|| "ftp.example.com".to_owned()),
            reply_timeout: Some(REPLY_TIMEOUT),
            data_timeout: Some(DATA_TIMEOUT),
            operation_timeout: None,
            limits,
            trace_replies: true,
            allow_clear_after_refused_auth: h.clear_after_refused_auth,
            pipeline_passive: h.pipeline,
            abort_grace: if h.abort_grace {
                ABORT_GRACE
            } else {
                Duration::ZERO
            },
        };
        let peer = if h.ipv6 {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 21)
        } else {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 21)
        };
        // The only clock reading: a base for virtual time.
        let base = Instant::now();
        let s = Session::new(config, peer, base);
        let plan = vec![
            Operation::Transfer(TransferRequest {
                kind: TransferKind::Retr(b"file.bin".to_vec()),
                ascii: false,
                rest: None,
            }),
            Operation::Transfer(TransferRequest {
                kind: TransferKind::List(None),
                ascii: true,
                rest: None,
            }),
            Operation::Login {
                user: "ftptest".into(),
                password: "secret".into(),
                account: None,
            },
        ];
        Harness {
            h,
            s,
            base,
            now: base,
            peer,
            max_reply: limits.max_reply,
            started: 1,
            completed: 0,
            in_flight: Some(OpKind::Greeting),
            plan,
            wire: Vec::new(),
            queued_seen: 0,
            replies_since: 0,
            outstanding: false,
            announced: None,
            early_used: false,
            stalled: false,
            tls_pending: false,
            trace: std::env::var_os("SESSION_FUZZ_TRACE").is_some(),
            control_input: false,
            tls_tx: 0,
            data: Data::None,
            data_end: DataEnd::Pending,
            expected_size: None,
            summary: Summary::default(),
        }
    }

    /// One action of the input.
    fn step(&mut self, input: &mut Input<'_>) {
        let action = input.u8() % 15;
        if self.trace {
            let at = input.pos;
            let next = &input.data[at.min(input.data.len())..(at + 3).min(input.data.len())];
            eprintln!(
                "action {action} {next:?} (t+{:?})",
                self.now.saturating_duration_since(self.base)
            );
        }
        // Control input may close the session after an operation ended in the same call.
        self.control_input = action <= 5;
        match action {
            0..=3 => {
                let n = usize::from(input.u8());
                let bytes = input.take(n);
                self.s.handle_input(self.now, bytes);
            }
            4 => {
                let mut r = CANNED[usize::from(input.u8()) % CANNED.len()].to_vec();
                r.extend_from_slice(b"\r\n");
                self.s.handle_input(self.now, &r);
            }
            5 => {
                let mut r = CANNED[usize::from(input.u8()) % CANNED.len()].to_vec();
                r.extend_from_slice(b"\r\n");
                for b in r.chunks(1) {
                    self.s.handle_input(self.now, b);
                    self.drain();
                }
            }
            6 => {
                let dt = Duration::from_millis(u64::from(input.u8()) * 37);
                self.now = self.now.checked_add(dt).unwrap_or(self.now);
                self.s.handle_timeout(self.now);
            }
            7 => {
                if let Some(t) = self.s.poll_timeout() {
                    self.now = self.now.max(t);
                }
                self.s.handle_timeout(self.now);
            }
            8 => {
                let (k, n) = (input.u8(), input.u8());
                self.data_event(k, n);
            }
            9 => self.s.handle_eof(self.now),
            10 => {
                let was_idle = self.s.is_idle();
                let before = self.s.poll_transmit().len();
                match self.s.abort(self.now) {
                    Ok(()) => {
                        if was_idle {
                            self.started += 1;
                            self.in_flight = Some(OpKind::IdleAbort);
                        }
                    }
                    Err(e) => {
                        assert_eq!(self.s.poll_transmit().len(), before, "{e} queued bytes");
                        if self.s.is_closed() {
                            assert_eq!(e, UsageError::Closed);
                        }
                    }
                }
            }
            11 => {
                if !self.h.coherent || self.tls_pending {
                    self.tls_pending = false;
                    self.s.handle_tls_established(self.now);
                }
            }
            12 => {
                self.stalled = true;
                let n = usize::from(input.u8());
                self.write(n);
            }
            13 => {
                let (o, a) = (input.u8(), input.u8());
                self.start(operation(o, a));
            }
            _ => {
                let back = Duration::from_millis(u64::from(input.u8()));
                self.now = self.now.checked_sub(back).unwrap_or(self.now);
                self.s.handle_timeout(self.now);
            }
        }
    }

    /// A data event: following the intents (coherent) or anything.
    fn data_event(&mut self, k: u8, n: u8) {
        let n64 = u64::from(n);
        let kind = match k / 8 % 5 {
            0 => DataFailure::Refused,
            1 => DataFailure::Reset,
            2 => DataFailure::TimedOut,
            3 => DataFailure::Tls,
            _ => DataFailure::Other,
        };
        if !self.h.coherent {
            let ev = match k % 7 {
                6 => DataEvent::LocalFailure { bytes: n64 },
                0 => DataEvent::Connected,
                1 => DataEvent::Listening(SocketAddr::new(self.peer.ip(), u16::from(n) * 7)),
                2 => DataEvent::Accepted,
                3 => DataEvent::Progress(n64 * 1000),
                4 => DataEvent::Finished { bytes: n64 * 10 },
                _ => DataEvent::Failed {
                    kind,
                    bytes: n64 * 10,
                },
            };
            self.s.handle_data_event(self.now, ev);
            return;
        }
        let ev = match self.data {
            Data::None | Data::Open => None,
            Data::Connecting => {
                if k % 4 == 0 {
                    self.data = Data::None;
                    Some(DataEvent::Failed { kind, bytes: 0 })
                } else {
                    self.data = Data::Open;
                    Some(DataEvent::Connected)
                }
            }
            Data::Listening => {
                if k % 4 == 0 {
                    self.data = Data::None;
                    Some(DataEvent::Failed { kind, bytes: 0 })
                } else {
                    self.data = Data::Open;
                    let port = if k % 4 == 1 { 0 } else { 40000 + u16::from(n) };
                    Some(DataEvent::Listening(SocketAddr::new(self.peer.ip(), port)))
                }
            }
            Data::Streaming { moved } => match k % 5 {
                0 => Some(DataEvent::Accepted),
                1 | 2 => {
                    let moved = moved + n64 * 100;
                    self.data = Data::Streaming { moved };
                    Some(DataEvent::Progress(moved))
                }
                3 => {
                    let bytes = if n == 255 {
                        // exactly the announced size, when there was one
                        self.expected_size.unwrap_or(moved)
                    } else {
                        moved + n64
                    };
                    self.data = Data::None;
                    self.data_end = DataEnd::Finished(bytes);
                    Some(DataEvent::Finished { bytes })
                }
                _ if k / 5 % 2 == 1 => {
                    // The sink or source gave up: the connection stays open (moving
                    // nothing) until the session asks for `Close`.
                    self.data = Data::Open;
                    self.data_end = DataEnd::Failed;
                    Some(DataEvent::LocalFailure { bytes: moved })
                }
                _ => {
                    self.data = Data::None;
                    self.data_end = DataEnd::Failed;
                    Some(DataEvent::Failed { kind, bytes: moved })
                }
            },
        };
        if let Some(ev) = ev {
            self.s.handle_data_event(self.now, ev);
        }
    }

    /// Starts `op` (from the input or the plan), checking a refusal changes nothing.
    fn start(&mut self, op: Operation) {
        let kind = op_kind(&op);
        let forbidden = has_forbidden_byte(&op);
        let before = self.s.poll_transmit().to_vec();
        let (was_idle, was_closed) = (self.s.is_idle(), self.s.is_closed());
        let announce = (self.h.pipeline && !was_idle && !was_closed).then(|| op.clone());
        match self.s.start(self.now, op) {
            Ok(()) => {
                assert!(!forbidden, "an argument with CR/LF/NUL was accepted");
                assert!(was_idle, "start succeeded while busy or closed");
                self.started += 1;
                self.early_used = false;
                self.in_flight = Some(kind);
                if let OpKind::Transfer { .. } = kind {
                    self.data_end = DataEnd::Pending;
                    self.expected_size = None;
                }
            }
            Err(e) => {
                assert_eq!(
                    self.s.poll_transmit(),
                    &before[..],
                    "{e}: bytes were queued"
                );
                assert_eq!(self.s.is_idle(), was_idle, "{e}: state changed");
                assert_eq!(self.s.is_closed(), was_closed, "{e}: state changed");
                match e {
                    UsageError::Closed => assert!(was_closed),
                    UsageError::Busy => assert!(!was_idle && !was_closed),
                    UsageError::InvalidArgument(_) => {}
                    UsageError::NotAbortable => panic!("start returned NotAbortable"),
                    UsageError::AlreadyTls => assert!(self.s.is_control_tls()),
                    UsageError::TlsRequired => assert!(!self.s.is_control_tls()),
                    UsageError::RawTlsCommand => {}
                }
                if let (UsageError::Busy, Some(op)) = (e, announce) {
                    // Announced now, started once the session is idle.
                    self.s.prepare_next(self.now, &op);
                    self.announced = Some(op);
                }
            }
        }
    }

    /// Writes up to `n` pending control bytes.
    fn write(&mut self, n: usize) {
        let out = self.s.poll_transmit();
        let n = n.min(out.len());
        if self.trace && n > 0 {
            eprintln!("  sent {:?}", String::from_utf8_lossy(&out[..n]));
        }
        self.wire.extend_from_slice(&out[..n]);
        self.s.consume_transmit(n);
        if self.tls_pending {
            self.tls_tx = self.tls_tx.min(self.s.poll_transmit().len());
        }
    }

    /// Pulls every output of the session and checks it.
    fn drain(&mut self) {
        loop {
            let pending = self.s.poll_transmit().len();
            assert!(pending <= MAX_TX, "{pending} control bytes queued");
            if self.s.is_closed() {
                assert_eq!(pending, 0, "bytes queued on a closed session");
            }
            if self.tls_pending {
                assert!(
                    pending <= self.tls_tx,
                    "bytes queued before the TLS handshake"
                );
            }
            if !self.stalled {
                self.write(usize::MAX);
            }
            let mut any = false;
            while let Some(ev) = self.s.poll_event() {
                any = true;
                self.event(ev);
            }
            self.check_pipelining();
            if self.s.is_closed() && !self.wire.ends_with(b"\r\n") {
                // A command cut by the close (writes were stalled): the connection is gone,
                // the fragment is not part of the conversation.
                let keep = self
                    .wire
                    .windows(2)
                    .rposition(|w| w == b"\r\n")
                    .map_or(0, |i| i + 2);
                self.wire.truncate(keep);
            }
            // The operation ended: check the state, then start the next planned one.
            let counts_ok = self.completed == self.started;
            if self.s.is_idle() || self.s.is_closed() {
                assert!(counts_ok, "idle/closed with an operation not completed");
            }
            if self.s.is_idle() {
                if let Some(op) = self.announced.take() {
                    self.start(op);
                    continue;
                }
                if let Some(op) = self.plan.pop() {
                    self.start(op);
                    continue;
                }
            }
            if !any {
                break;
            }
        }
        if !self.s.is_idle() && !self.s.is_closed() {
            assert!(
                self.s.poll_timeout().is_some(),
                "operation {:?} in flight without a deadline",
                self.in_flight
            );
        }
    }

    /// New commands queued since the last check must each follow a reply (see the module
    /// docs), `ABOR` excepted.
    fn check_pipelining(&mut self) {
        let pending = self.s.poll_transmit();
        let total = self.wire.len() + pending.len();
        if total <= self.queued_seen {
            // nothing new (or the session closed and dropped its queue)
            self.queued_seen = total;
            if self.replies_since > 0 {
                self.outstanding = false;
            }
            self.replies_since = 0;
            return;
        }
        let mut all = self.wire.clone();
        all.extend_from_slice(pending);
        let new = &all[self.queued_seen.min(all.len())..];
        let commands = new
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty() && !l.starts_with(b"ABOR"))
            .count();
        let mut credits = self.replies_since + usize::from(!self.outstanding);
        if commands > credits
            && self.h.pipeline
            && !self.early_used
            && matches!(self.in_flight, Some(OpKind::Transfer { .. }))
            && new.split(|&b| b == b'\n').any(|l| l == b"EPSV\r")
        {
            // `Config::pipeline_passive`: one EPSV per transfer may go out behind its
            // command, ahead of the replies.
            self.early_used = true;
            credits += 1;
        }
        assert!(
            commands <= credits,
            "{commands} command(s) queued after {} reply(ies) (outstanding: {}): {:?}",
            self.replies_since,
            self.outstanding,
            String::from_utf8_lossy(new)
        );
        if commands > 0 {
            self.outstanding = commands == credits;
        } else if self.replies_since > 0 {
            self.outstanding = false;
        }
        self.replies_since = 0;
        self.queued_seen = total;
    }

    fn event(&mut self, ev: Event) {
        if self.trace {
            eprintln!("  event {ev:?}");
        }
        match ev {
            Event::Reply(r) => {
                assert!(r.raw().len() <= self.max_reply, "reply beyond the limit");
                self.replies_since += 1;
            }
            Event::Tls(TlsIntent::UpgradeControl) => {
                self.tls_pending = true;
                self.tls_tx = self.s.poll_transmit().len();
            }
            Event::Tls(TlsIntent::DowngradeControl) => self.tls_pending = false,
            Event::Data(intent) => self.intent(intent),
            Event::Completed(result) => self.completed(result),
        }
    }

    fn intent(&mut self, intent: DataIntent) {
        self.summary.intents.push(intent);
        match intent {
            DataIntent::Connect { addr, .. } => {
                assert_ne!(addr.port(), 0, "connect to port 0");
                if !self.h.trust_pasv {
                    assert_eq!(addr.ip(), self.peer.ip(), "connect to a third host");
                }
                if self.h.coherent {
                    assert_eq!(self.data, Data::None, "connect with a connection open");
                }
                self.data = Data::Connecting;
            }
            DataIntent::Listen { .. } => {
                if self.h.coherent {
                    assert_eq!(self.data, Data::None, "listen with a connection open");
                }
                self.data = Data::Listening;
            }
            DataIntent::Stream { expected_size, .. } => {
                if self.h.coherent {
                    assert_eq!(self.data, Data::Open, "stream without a data connection");
                }
                self.expected_size = expected_size;
                self.data = Data::Streaming { moved: 0 };
            }
            DataIntent::Close => self.data = Data::None,
        }
    }

    fn completed(&mut self, result: Result<Outcome, OpError>) {
        self.completed += 1;
        assert!(
            self.completed <= self.started,
            "more Completed than operations"
        );
        self.summary.completed.push(describe(&result));
        let kind = self
            .in_flight
            .take()
            .expect("Completed without an operation");
        self.tls_pending = false;
        if self.h.coherent {
            assert_eq!(
                self.data,
                Data::None,
                "Completed with the data connection open"
            );
        }
        match &result {
            Ok(outcome) => {
                let matches = match (kind, outcome) {
                    (OpKind::Greeting, Outcome::Greeting(r)) => r.code().get() / 100 == 2,
                    (OpKind::Login, Outcome::LoggedIn(r)) => r.code().get() / 100 == 2,
                    (OpKind::Feat, Outcome::Features(_)) => true,
                    (OpKind::Done, Outcome::Done(_)) => true,
                    (OpKind::Path, Outcome::Path(_)) => true,
                    (OpKind::Size, Outcome::Size(_)) => true,
                    (OpKind::Mtime, Outcome::Mtime(_)) => true,
                    (OpKind::Entry, Outcome::Entry(_)) => true,
                    (OpKind::Quit, Outcome::Closed(_)) => true,
                    // ABOR's reply is a 2xx; or, once the transfer's own failure reply
                    // (426, 451, ...) was read, any 4xx/5xx but a refusal of ABOR
                    // (500/501/502): Pure-FTPd answers an aborted upload `426` + `451`.
                    (OpKind::IdleAbort | OpKind::Transfer { .. }, Outcome::Aborted { reply }) => {
                        matches!(reply.code().get(), 200..=299 | 400..=499 | 503..=599)
                    }
                    (
                        OpKind::Transfer { download, ascii },
                        Outcome::Transferred { bytes, reply },
                    ) => {
                        assert_eq!(reply.code().get() / 100, 2, "transfer Ok with {reply:?}");
                        if self.h.coherent {
                            assert_eq!(
                                self.data_end,
                                DataEnd::Finished(*bytes),
                                "transfer Ok but the data did not finish with {bytes} bytes"
                            );
                            if let (true, false, Some(n)) = (download, ascii, self.expected_size) {
                                assert!(*bytes >= n, "truncated download ({bytes} < {n}) Ok");
                            }
                        }
                        true
                    }
                    _ => false,
                };
                assert!(matches, "{kind:?} ended with {outcome:?}");
                if kind == OpKind::Quit {
                    assert!(self.s.is_closed(), "not closed after QUIT");
                }
            }
            Err(e) => {
                if e.is_fatal() {
                    assert!(self.s.is_closed(), "fatal {e:?} left the session open");
                } else if kind != OpKind::Quit && kind != OpKind::Greeting && !self.control_input {
                    assert!(!self.s.is_closed(), "non-fatal {e:?} closed the session");
                }
            }
        }
    }

    /// End of the input: run out the deadlines, then EOF; check nothing is left.
    fn finish(&mut self) {
        self.control_input = false;
        self.stalled = false;
        self.drain();
        let mut steps = 0;
        while !self.s.is_idle() && !self.s.is_closed() {
            // Only the driver's silence: the deadlines alone must end the operation.
            let t = self.s.poll_timeout().expect("in flight without a deadline");
            self.now = self.now.max(t);
            self.s.handle_timeout(self.now);
            self.drain();
            steps += 1;
            assert!(
                steps <= MAX_DEADLINE_STEPS,
                "deadlines did not end {:?}",
                self.in_flight
            );
        }
        self.s.handle_eof(self.now);
        self.drain();
        assert!(self.s.is_closed(), "open after EOF");
        assert_eq!(self.completed, self.started, "operations left in flight");
        assert_eq!(self.s.poll_timeout(), None, "a deadline after close");
        let before = self.completed;
        self.start(Operation::Noop);
        assert_eq!(self.completed, before);
        // The wire: complete CRLF lines without NUL or stray CR/LF.
        assert!(
            self.wire.is_empty() || self.wire.ends_with(b"\r\n"),
            "a partial command was written"
        );
        for line in self.wire.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let line = line.strip_suffix(b"\r").expect("LF without CR");
            assert!(!line.contains(&b'\r'), "bare CR in {line:?}");
            assert!(!line.contains(&0), "NUL in {line:?}");
            self.summary.sent.push(line.to_vec());
        }
        let _ = self.base;
    }
}

/// Builds inputs in the format above, readably (for seeds and tests).
///
/// ```text
/// Program::new(0).line("220 hi").line("331 pw").line("230 ok").data(1, 0).into_bytes()
/// ```
#[derive(Clone, Debug)]
pub struct Program(Vec<u8>);

impl Program {
    /// Flags: see [`Header`] (0: coherent driver, passive, EPSV, defaults).
    pub fn new(flags: u8) -> Program {
        Program(vec![flags])
    }
    /// Control bytes, as one or more input actions.
    pub fn bytes(mut self, b: &[u8]) -> Program {
        for chunk in b.chunks(255) {
            self.0.push(0);
            self.0.push(chunk.len() as u8);
            self.0.extend_from_slice(chunk);
        }
        self
    }
    /// One reply line (or several separated by `\n`), CRLF added to each.
    pub fn line(self, text: &str) -> Program {
        let mut b = Vec::new();
        for l in text.split('\n') {
            b.extend_from_slice(l.as_bytes());
            b.extend_from_slice(b"\r\n");
        }
        self.bytes(&b)
    }
    /// Canned reply `i` whole.
    pub fn canned(mut self, i: u8) -> Program {
        self.0.extend_from_slice(&[4, i]);
        self
    }
    /// Canned reply `i` one byte per call.
    pub fn canned_bytewise(mut self, i: u8) -> Program {
        self.0.extend_from_slice(&[5, i]);
        self
    }
    /// Time passes by `t * 37` ms.
    pub fn wait(mut self, t: u8) -> Program {
        self.0.extend_from_slice(&[6, t]);
        self
    }
    /// Jump to the next deadline.
    pub fn deadline(mut self) -> Program {
        self.0.push(7);
        self
    }
    /// A data event (see `data_event`): with a coherent driver `k = 1` connects / listens,
    /// `k = 3` finishes (`n = 255`: with the announced size), `k = 4` fails, `k = 1` or `2`
    /// while streaming is progress.
    pub fn data(mut self, k: u8, n: u8) -> Program {
        self.0.extend_from_slice(&[8, k, n]);
        self
    }
    /// Control connection EOF.
    pub fn eof(mut self) -> Program {
        self.0.push(9);
        self
    }
    /// `Session::abort`.
    pub fn abort(mut self) -> Program {
        self.0.push(10);
        self
    }
    /// TLS handshake done.
    pub fn tls(mut self) -> Program {
        self.0.push(11);
        self
    }
    /// Stop writing; write `n` pending bytes.
    pub fn write(mut self, n: u8) -> Program {
        self.0.extend_from_slice(&[12, n]);
        self
    }
    /// Start operation `o` (see `operation`) with argument selector `a`.
    pub fn start(mut self, o: u8, a: u8) -> Program {
        self.0.extend_from_slice(&[13, o, a]);
        self
    }
    /// Time goes back by `t` ms.
    pub fn back(mut self, t: u8) -> Program {
        self.0.extend_from_slice(&[14, t]);
        self
    }
    /// The input bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}
