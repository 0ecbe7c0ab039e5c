//! Properties of the session under any server behaviour (proptest):
//!
//! - no input sequence (valid reply codes with fitting or nonsense texts, random splits,
//!   disconnects, timeouts, data events, TLS confirmations, starts and aborts at random
//!   points) makes it panic;
//! - every operation ends with exactly one `Completed`, and afterwards the session is idle or
//!   closed;
//! - while an operation is in flight a deadline is always armed (with timeouts configured),
//!   so no operation can hang: driving the clock alone ends it; with
//!   `Config::operation_timeout` that deadline is never later than the operation's start
//!   plus the bound;
//! - the client only ever emits well-formed CRLF-terminated command lines;
//! - the result does not depend on how the server's bytes are split into reads.

mod proptest_cases;
use proptest_cases::cases;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ftp_sansio::command::ProtLevel;
use ftp_sansio::session::{
    Config, DataEvent, DataFailure, DataIntent, Event, Operation, Session, TransferKind,
    TransferRequest, UsageError,
};

/// The verbs of transfer commands (an early EPSV may follow one).
const TRANSFER_VERBS: [&str; 6] = ["RETR", "STOR", "STOU", "LIST", "NLST", "MLSD"];
use proptest::prelude::*;

/// One thing that happens to the session.
#[derive(Clone, Debug)]
enum Step {
    /// The server sends a reply, split into reads at these points. The code is one that
    /// fits the last command (`pick` among them) unless `any` (then any code of `CODES`),
    /// so that deep states are reached often.
    Reply {
        pick: u8,
        any: bool,
        text: u8,
        multi: bool,
        cuts: Vec<usize>,
    },
    /// A data event that fits the last data intent (`pick` among them).
    DataFit(u8),
    /// Raw garbage from the server.
    Garbage(Vec<u8>),
    Data(DataEvent),
    TlsDone,
    /// Time passes (seconds); the driver calls handle_timeout when due.
    Time(u64),
    /// A driver calls handle_timeout early (must be harmless).
    EarlyTimeout,
    Eof,
    Start(u8),
    Abort,
}

const CODES: &[u16] = &[
    110, 120, 125, 150, 200, 202, 211, 212, 213, 214, 215, 220, 221, 225, 226, 227, 229, 230, 234,
    250, 257, 331, 332, 350, 421, 425, 426, 450, 451, 452, 500, 501, 502, 503, 504, 522, 530, 534,
    550, 551, 552, 553,
];

/// Reply texts: some that decoders accept for the code, some nonsense.
fn reply_bytes(code: u16, text: u8, multi: bool) -> Vec<u8> {
    let body = match (code, text % 4) {
        (227, 0) => "Entering Passive Mode (127,0,0,1,195,80).".to_string(),
        (227, 1) => "Entering Passive Mode (127,0,0,1,0,0).".to_string(),
        (229, 0 | 1) => "Entering Extended Passive Mode (|||50000|)".to_string(),
        (213, 0) => "11".to_string(),
        (213, 1) => "20251125205701".to_string(),
        (257, 0 | 1) => "\"/some \"\"dir\"\"\" created".to_string(),
        (150, 0) => "Opening BINARY mode data connection for f (11 bytes).".to_string(),
        (211, 0) => {
            return format!("{code}-Features:\r\n UTF8\r\n EPSV\r\n MLST type*;\r\n{code} End\r\n")
                .into_bytes()
        }
        (250, 0) => {
            return format!("{code}-Start\r\n type=file;size=1; f\r\n{code} End\r\n").into_bytes()
        }
        (_, 2) => String::new(),
        _ => format!("text {text} \u{e9}"),
    };
    if multi {
        format!("{code}-first\r\n{code}-{body}\r\n 123 indented\r\n{code} {body}\r\n").into_bytes()
    } else if body.is_empty() {
        format!("{code}\r\n").into_bytes()
    } else {
        format!("{code} {body}\r\n").into_bytes()
    }
}

/// Codes a server could plausibly answer to `verb` (the last command sent).
fn fitting(verb: &str) -> &'static [u16] {
    match verb {
        "" => &[220, 220, 120, 421],
        "USER" => &[331, 230, 332, 530],
        "PASS" => &[230, 332, 530],
        "ACCT" => &[230, 202, 530],
        "FEAT" => &[211, 500],
        "OPTS" => &[200, 504],
        "HOST" => &[220, 502, 504],
        "TYPE" => &[200, 504],
        "EPSV" => &[229, 500, 502],
        "PASV" => &[227, 425],
        "EPRT" | "PORT" => &[200, 500, 502],
        "REST" => &[350, 501],
        "RETR" | "STOR" | "STOU" | "LIST" | "NLST" | "MLSD" => {
            &[150, 125, 226, 226, 550, 450, 425, 426, 451]
        }
        "ABOR" => &[426, 226, 225],
        "NOOP" => &[200, 226],
        "AUTH" => &[234, 500],
        "PBSZ" => &[200, 503],
        "PROT" => &[200, 536],
        "CCC" => &[200, 534],
        "RNFR" => &[350, 550],
        "RNTO" => &[250, 553],
        "CWD" | "CDUP" => &[250, 500, 550],
        "PWD" | "MKD" => &[257, 550],
        "SIZE" | "MDTM" => &[213, 550],
        "MLST" => &[250, 500],
        "QUIT" => &[221],
        _ => &[200, 211, 213, 500],
    }
}

fn operation(i: u8) -> Operation {
    let p = |s: &str| s.as_bytes().to_vec();
    let t = |kind, ascii, rest| Operation::Transfer(TransferRequest { kind, ascii, rest });
    // Transfers get more indices: they have the deepest state machine.
    match i % 32 {
        24..=26 => t(TransferKind::Retr(p("f")), false, Some(3)),
        27 | 28 => t(TransferKind::Retr(p("f")), false, None),
        29 => t(TransferKind::Stor(p("f")), true, Some(1)),
        30 => t(TransferKind::List(None), true, None),
        0 => Operation::Login {
            user: String::new(),
            password: String::new(),
            account: Some("acct".into()),
        },
        1 => Operation::Feat,
        2 => Operation::Cwd(p("..")),
        3 => Operation::Pwd,
        4 => Operation::Mkd(p("d")),
        5 => Operation::Rename {
            from: p("a"),
            to: p("b"),
        },
        6 => Operation::Size(p("f")),
        7 => Operation::Mdtm(p("f")),
        8 => Operation::Mlst(None),
        9 => Operation::Quit,
        10 => Operation::Raw {
            line: p("SITE X"),
            require_2xx: i % 2 == 0,
        },
        11 => t(TransferKind::Retr(p("f")), false, None),
        12 => t(TransferKind::Retr(p("f")), false, Some(3)),
        13 => t(TransferKind::Stor(p("f")), false, None),
        14 => t(TransferKind::List(None), true, None),
        15 => t(TransferKind::Mlsd(Some(p("d"))), true, None),
        16 => Operation::AuthTls,
        17 => Operation::Protect(ProtLevel::Private),
        18 => Operation::Ccc,
        19 => Operation::Noop,
        20 => t(TransferKind::Stou, false, Some(0)),
        21 => Operation::Stat(Some(p("f"))),
        22 => Operation::Dele(p("x\r\nDELE y")), // refused by start
        _ => t(
            TransferKind::Raw {
                line: p("NLST"),
                upload: false,
            },
            true,
            None,
        ),
    }
}

fn step() -> impl Strategy<Value = Step> {
    let data = prop_oneof![
        Just(DataEvent::Connected),
        Just(DataEvent::Listening("127.0.0.1:40000".parse().unwrap())),
        Just(DataEvent::Listening("[::1]:40001".parse().unwrap())),
        Just(DataEvent::Accepted),
        (0u64..100).prop_map(DataEvent::Progress),
        (0u64..20).prop_map(|bytes| DataEvent::Finished { bytes }),
        (0u64..20, 0usize..5).prop_map(|(bytes, k)| DataEvent::Failed {
            kind: [
                DataFailure::Refused,
                DataFailure::Reset,
                DataFailure::TimedOut,
                DataFailure::Tls,
                DataFailure::Other
            ][k],
            bytes
        }),
    ];
    prop_oneof![
        12 => (any::<u8>(), prop::bool::weighted(0.2), any::<u8>(), prop::bool::weighted(0.15),
               prop::collection::vec(any::<usize>(), 0..3))
            .prop_map(|(pick, any, text, multi, cuts)| Step::Reply { pick, any, text, multi, cuts }),
        5 => any::<u8>().prop_map(Step::DataFit),
        1 => prop::collection::vec(any::<u8>(), 0..12).prop_map(Step::Garbage),
        2 => data.prop_map(Step::Data),
        1 => Just(Step::TlsDone),
        2 => (0u64..90).prop_map(Step::Time),
        1 => Just(Step::EarlyTimeout),
        1 => Just(Step::Eof),
        4 => any::<u8>().prop_map(Step::Start),
        1 => Just(Step::Abort),
    ]
}

fn config() -> impl Strategy<Value = Config> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        // Sometimes a bound on whole operations (often shorter than the other timeouts).
        prop_oneof![
            3 => Just(None),
            1 => (1u64..90).prop_map(|s| Some(Duration::from_secs(s))),
        ],
        any::<bool>(),
    )
        .prop_map(
            |(passive, use_epsv, auto_feat, host, trust, op, pipeline)| Config {
                pipeline_passive: pipeline,
                passive,
                use_epsv,
                auto_feat,
                trust_pasv_address: trust,
                host: host.then(|| "ftp.example.com".to_string()),
                reply_timeout: Some(Duration::from_secs(30)),
                data_timeout: Some(Duration::from_secs(20)),
                operation_timeout: op,
                trace_replies: true,
                ..Config::default()
            },
        )
}

/// A driver that checks the invariants after every call and keeps a log of all output.
struct Harness {
    s: Session,
    now: Instant,
    in_flight: bool,
    completions: usize,
    starts: usize,
    /// When the operation in flight started (the clock given to `start`/`abort`/`new`).
    op_started: Instant,
    log: Vec<String>,
    /// Verb of the last command sent ("" before any).
    last_verb: String,
    last_intent: Option<DataIntent>,
    /// Commands sent whose final reply has not come yet (as far as the harness can tell).
    owed: u32,
    /// Their verbs, oldest first: with `pipeline_passive` the fitting reply is the oldest
    /// one's (an early EPSV is answered after the transfer command before it).
    pending: VecDeque<String>,
    /// With `pipeline_passive`: an operation `start` refused as busy, announced with
    /// `prepare_next`; the next `Start` step while idle starts it.
    announced: Option<Operation>,
    /// The last command sent is a `NOOP` that follows `ABOR`: the server answers in order,
    /// so its `200` is the last reply owed for everything sent before it.
    resync: bool,
}

impl Harness {
    fn new(config: Config, peer: SocketAddr, base: Instant) -> Harness {
        Harness {
            s: Session::new(config, peer, base),
            now: base,
            in_flight: true, // the greeting
            completions: 0,
            starts: 1,
            op_started: base,
            log: Vec::new(),
            last_verb: String::new(),
            last_intent: None,
            owed: 0,
            pending: VecDeque::new(),
            announced: None,
            resync: false,
        }
    }

    fn drain(&mut self) -> Result<(), TestCaseError> {
        let out = self.s.poll_transmit().to_vec();
        if !out.is_empty() {
            prop_assert!(out.ends_with(b"\r\n"), "not CRLF-terminated: {:?}", out);
            for line in out[..out.len() - 2].split(|&b| b == b'\n') {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                prop_assert!(!line.is_empty(), "empty line in {:?}", out);
                prop_assert!(
                    !line.contains(&b'\r') && !line.contains(&0),
                    "bad line {:?}",
                    line
                );
                prop_assert!(line[0].is_ascii_uppercase(), "not a verb: {:?}", line);
                let text = String::from_utf8_lossy(line).into_owned();
                let verb = text.split(' ').next().unwrap_or("").to_string();
                // No pipelining: a command goes out only when every earlier one has its
                // final reply, except ABOR and the NOOP that resynchronises after it; and
                // with `pipeline_passive` the early EPSV behind a transfer command, and the
                // NOOP that resynchronises after a transfer whose early EPSV was answered
                // out of order.
                let pipelining = self.s.config().pipeline_passive;
                let early = pipelining
                    && verb == "EPSV"
                    && TRANSFER_VERBS.contains(&self.last_verb.as_str());
                let exempt = verb == "ABOR"
                    || (verb == "NOOP" && self.last_verb == "ABOR")
                    || early
                    || (pipelining && verb == "NOOP" && self.last_verb == "EPSV");
                prop_assert!(
                    exempt || self.owed == 0,
                    "{} sent while {} repl(ies) owed; log: {:#?}",
                    text,
                    self.owed,
                    self.log
                );
                self.owed += 1;
                self.pending.push_back(verb.clone());
                self.resync = verb == "NOOP" && matches!(self.last_verb.as_str(), "ABOR" | "EPSV");
                self.last_verb = verb;
                self.log.push(format!("C: {text}"));
            }
            // Partial writes are fine: consume in two steps.
            let half = out.len() / 2;
            self.s.consume_transmit(half);
            prop_assert_eq!(self.s.poll_transmit(), &out[half..]);
            self.s.consume_transmit(out.len() - half);
        }
        prop_assert!(self.s.poll_transmit().is_empty());
        while let Some(ev) = self.s.poll_event() {
            if let Event::Completed(_) = &ev {
                prop_assert!(
                    self.in_flight,
                    "Completed with no operation in flight: {:?}",
                    ev
                );
                self.in_flight = false;
                self.completions += 1;
                prop_assert!(
                    self.s.is_idle() || self.s.is_closed(),
                    "after Completed the session must be idle or closed"
                );
            }
            if let Event::Data(i) = &ev {
                self.last_intent = Some(*i);
            }
            self.log.push(format!("E: {ev:?}"));
        }
        // Liveness: an operation in flight always has a deadline armed.
        if self.in_flight {
            prop_assert!(!self.s.is_idle());
            prop_assert!(
                self.s.poll_timeout().is_some(),
                "operation in flight with no deadline"
            );
            // With an operation timeout, nothing lets an operation outlive it.
            let bound = self
                .s
                .config()
                .operation_timeout
                .and_then(|d| self.op_started.checked_add(d));
            if let Some(bound) = bound {
                prop_assert!(
                    self.s.poll_timeout().is_some_and(|d| d <= bound),
                    "deadline {:?} beyond the operation's bound {:?}",
                    self.s.poll_timeout(),
                    bound
                );
            }
        } else {
            prop_assert!(self.s.is_idle() || self.s.is_closed());
        }
        if self.s.is_closed() {
            prop_assert!(!self.in_flight);
            prop_assert_eq!(self.s.poll_timeout(), None);
        }
        Ok(())
    }

    fn apply(&mut self, step: &Step, split: bool) -> Result<(), TestCaseError> {
        match step {
            Step::Reply {
                pick,
                any,
                text,
                multi,
                cuts,
            } => {
                let verb = match self.pending.front() {
                    Some(oldest) if self.s.config().pipeline_passive => oldest.clone(),
                    _ => self.last_verb.clone(),
                };
                let codes = if *any { CODES } else { fitting(&verb) };
                let code = codes[*pick as usize % codes.len()];
                let bytes = reply_bytes(code, *text, *multi);
                if code == 200 && self.resync {
                    self.owed = 0;
                    self.pending.clear();
                } else if code >= 200 {
                    self.owed = self.owed.saturating_sub(1);
                    self.pending.pop_front();
                }
                if split {
                    let mut points: Vec<usize> =
                        cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
                    points.sort_unstable();
                    let mut last = 0;
                    for p in points {
                        self.s.handle_input(self.now, &bytes[last..p]);
                        last = p;
                    }
                    self.s.handle_input(self.now, &bytes[last..]);
                } else {
                    self.s.handle_input(self.now, &bytes);
                }
            }
            Step::Garbage(g) => self.s.handle_input(self.now, g),
            Step::Data(ev) => self.s.handle_data_event(self.now, *ev),
            Step::DataFit(pick) => {
                let choices: Vec<DataEvent> = match self.last_intent {
                    Some(DataIntent::Connect { .. }) => vec![
                        DataEvent::Connected,
                        DataEvent::Connected,
                        DataEvent::Failed {
                            kind: DataFailure::Refused,
                            bytes: 0,
                        },
                    ],
                    Some(DataIntent::Listen { .. }) => vec![
                        DataEvent::Listening("127.0.0.1:40000".parse().unwrap()),
                        DataEvent::Listening("[::1]:40000".parse().unwrap()),
                        DataEvent::Failed {
                            kind: DataFailure::Other,
                            bytes: 0,
                        },
                    ],
                    Some(DataIntent::Stream { expected_size, .. }) => vec![
                        DataEvent::Accepted,
                        DataEvent::Progress(4),
                        DataEvent::Finished {
                            bytes: expected_size.unwrap_or(7),
                        },
                        DataEvent::Finished { bytes: 3 },
                        DataEvent::Failed {
                            kind: DataFailure::Reset,
                            bytes: 2,
                        },
                    ],
                    _ => vec![DataEvent::Progress(1)],
                };
                let ev = choices[*pick as usize % choices.len()];
                self.s.handle_data_event(self.now, ev);
            }
            Step::TlsDone => self.s.handle_tls_established(self.now),
            Step::Time(secs) => {
                self.now += Duration::from_secs(*secs);
                if self.s.poll_timeout().is_some_and(|d| self.now >= d) {
                    self.s.handle_timeout(self.now);
                }
            }
            Step::EarlyTimeout => {
                let before = self.s.poll_timeout();
                // A clock that went backwards must be harmless too.
                self.s.handle_timeout(self.now - Duration::from_secs(5));
                prop_assert_eq!(self.s.poll_timeout(), before);
            }
            Step::Eof => self.s.handle_eof(self.now),
            Step::Start(i) => {
                let idle = self.s.is_idle();
                let op = match self.announced.take() {
                    Some(op) if idle => op,
                    _ => operation(*i),
                };
                let announce = (self.s.config().pipeline_passive && !idle).then(|| op.clone());
                let res = self.s.start(self.now, op);
                if let (Err(UsageError::Busy), Some(op)) = (&res, announce) {
                    prop_assert!(self.s.poll_transmit().is_empty());
                    self.log.push(format!("S: {res:?}"));
                    // Busy: announced instead, as a driver with a queue does.
                    self.s.prepare_next(self.now, &op);
                    self.log.push(format!("N: {op:?}"));
                    self.announced = Some(op);
                    return self.drain();
                }
                if res.is_ok() {
                    prop_assert!(!self.in_flight);
                    self.in_flight = true;
                    self.starts += 1;
                    self.op_started = self.now;
                } else {
                    // Nothing changed: no bytes, no events.
                    prop_assert!(self.s.poll_transmit().is_empty());
                }
                self.log.push(format!("S: {res:?}"));
            }
            Step::Abort => {
                let idle = self.s.is_idle();
                let res = self.s.abort(self.now);
                if res.is_ok() && idle {
                    self.in_flight = true;
                    self.starts += 1;
                    self.op_started = self.now;
                }
                self.log.push(format!("A: {res:?}"));
            }
        }
        self.drain()
    }

    /// Ends whatever is in flight with the clock alone (no server help) or with EOF.
    fn finish(&mut self, by_eof: bool) -> Result<(), TestCaseError> {
        if by_eof {
            self.s.handle_eof(self.now);
            self.drain()?;
        } else {
            for _ in 0..4 {
                match self.s.poll_timeout() {
                    Some(d) => {
                        self.now = self.now.max(d);
                        self.s.handle_timeout(self.now);
                        self.drain()?;
                    }
                    None => break,
                }
            }
        }
        prop_assert!(!self.in_flight, "operation never completed");
        prop_assert_eq!(self.completions, self.starts, "one Completed per operation");
        Ok(())
    }
}

fn base() -> Instant {
    // A base with room below it, so "clock went backwards" inputs stay representable.
    Instant::now() + Duration::from_secs(3600)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(1024)))]

    #[test]
    fn any_server_behaviour_ends_every_operation(
        config in config(),
        ipv6 in any::<bool>(),
        steps in prop::collection::vec(step(), 0..60),
        by_eof in any::<bool>(),
        greet in prop::bool::weighted(0.8),
    ) {
        let peer: SocketAddr = if ipv6 { "[::1]:21" } else { "127.0.0.1:21" }.parse().unwrap();
        let mut h = Harness::new(config, peer, base());
        h.drain()?;
        if greet {
            h.apply(&Step::Reply { pick: 0, any: false, text: 3, multi: false, cuts: vec![] }, true)?;
        }
        for s in &steps {
            h.apply(s, true)?;
        }
        h.finish(by_eof)?;
    }

    #[test]
    fn chunking_does_not_change_anything(
        config in config(),
        steps in prop::collection::vec(step(), 0..60),
    ) {
        let peer: SocketAddr = "127.0.0.1:21".parse().unwrap();
        let b = base();
        let mut whole = Harness::new(config.clone(), peer, b);
        let mut split = Harness::new(config, peer, b);
        whole.drain()?;
        split.drain()?;
        for s in &steps {
            whole.apply(s, false)?;
            split.apply(s, true)?;
        }
        prop_assert_eq!(&whole.log, &split.log);
    }
}

/// A happy path through the generator's vocabulary, so the properties above are known to
/// reach deep states (login, passive transfer, completion) and not only early errors.
#[test]
fn generator_vocabulary_reaches_a_full_transfer() {
    let mut h = Harness::new(
        Config {
            auto_feat: false,
            ..Config::default()
        },
        "127.0.0.1:21".parse().unwrap(),
        base(),
    );
    // Fitting codes by index: see `fitting`.
    let r = |pick, text| Step::Reply {
        pick,
        any: false,
        text,
        multi: false,
        cuts: vec![],
    };
    for s in [
        r(0, 3), // 220
        Step::Start(0),
        r(0, 3), // 331
        r(0, 3), // 230
        Step::Start(11),
        r(0, 3),          // TYPE: 200
        r(0, 0),          // EPSV: 229
        Step::DataFit(0), // Connected
        r(0, 0),          // RETR: 150 (11 bytes)
        Step::DataFit(2), // Finished { 11 }
        r(2, 3),          // 226
    ] {
        h.apply(&s, true).unwrap();
    }
    assert_eq!(h.completions, 3);
    assert!(
        h.log.iter().any(|l| l.contains("Transferred { bytes: 11")),
        "{:#?}",
        h.log
    );
    assert!(h.log.contains(&"C: RETR f".to_string()));
}

/// The same with `pipeline_passive`: an operation started while a transfer runs is announced
/// (the harness plays a driver with a queue), its EPSV goes out behind the transfer command
/// and the replies are picked for the oldest command, so the properties reach the early
/// EPSV's states.
#[test]
fn generator_vocabulary_reaches_an_early_epsv() {
    let mut h = Harness::new(
        Config {
            auto_feat: false,
            pipeline_passive: true,
            ..Config::default()
        },
        "127.0.0.1:21".parse().unwrap(),
        base(),
    );
    let r = |pick, text| Step::Reply {
        pick,
        any: false,
        text,
        multi: false,
        cuts: vec![],
    };
    for s in [
        r(0, 3), // 220
        Step::Start(0),
        r(0, 3), // 331
        r(0, 3), // 230
        Step::Start(11),
        r(0, 3),          // TYPE: 200
        r(0, 0),          // EPSV: 229
        Step::Start(27),  // busy: RETR f announced
        Step::DataFit(0), // Connected: RETR f + EPSV
        r(0, 0),          // RETR: 150 (11 bytes)
        Step::DataFit(2), // Finished { 11 }
        r(2, 3),          // RETR: 226
        r(0, 0),          // the early EPSV: 229
        Step::Start(0),   // idle: the announced RETR starts, connecting at once
        Step::DataFit(0), // Connected
        r(0, 0),          // RETR: 150
        Step::DataFit(2), // Finished
        r(2, 3),          // 226
    ] {
        h.apply(&s, true).unwrap();
    }
    assert_eq!(h.completions, 4, "{:#?}", h.log);
    let sent: Vec<&String> = h.log.iter().filter(|l| l.starts_with("C: ")).collect();
    assert_eq!(
        sent,
        [
            "C: USER anonymous",
            "C: PASS anonymous@",
            "C: TYPE I",
            "C: EPSV",
            "C: RETR f",
            "C: EPSV",
            "C: RETR f"
        ],
        "{:#?}",
        h.log
    );
}
