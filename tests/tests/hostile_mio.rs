//! Broken and hostile servers against the mio driver ([`ftp_mio::Sessions`]), the same cases
//! as `hostile_blocking.rs`, played by the fault server of `ftp_tests::fault`. Each case must
//! end in the documented typed error (or the correct result) within
//! [`hostile_common::BOUND`] with 1 s driver timeouts, never report data complete when it is
//! not, and the driver must report its deadlines: the event loop of these tests waits only as
//! long as [`Sessions::poll_timeout`] says, and checks that it says something whenever an
//! operation is pending (a driver that forgot a deadline would hang the loop).
//!
//! | # | case | test |
//! |---|---|---|
//! | 1 | disconnect before the greeting | `disconnect_before_greeting` |
//! | 2 | disconnect mid-reply | `disconnect_mid_reply` |
//! | 3 | disconnect after USER | `disconnect_after_user` |
//! | 4 | disconnect mid-transfer (control and data dropped) | `disconnect_mid_transfer` |
//! | 5 | data closed early, size announced, then 226 | `data_closed_early_with_announced_size` |
//! | 6 | data closed early, no size, then 226 (server says complete) | `data_closed_early_without_size` |
//! | 7 | 426 / 451 after the data | `transfer_426_or_451_is_an_error` |
//! | 8 | all data, then disconnect before 226 | `disconnect_after_data_before_226` |
//! | 9 | disconnect during ABOR (idle and mid-transfer) | `disconnect_during_abor` |
//! | 10 | disconnect during QUIT | `disconnect_during_quit` |
//! | 11 | 421 at every step (greeting, USER, PASS, TYPE, EPSV, RETR, mid-transfer) | `reply_421_at_every_step` |
//! | 12 | 4xx and 5xx for every command | `negative_replies_for_every_command` |
//! | 13 | reply codes outside 100-599, non-replies | `reply_codes_out_of_range` |
//! | 14 | a reply line that never ends | `reply_line_never_ends` |
//! | 15 | a 10 MiB single reply line | `ten_mib_reply_line` |
//! | 16 | a multi-line reply that never closes (silent / endless) | `multiline_reply_never_closes` |
//! | 17 | replies split into single bytes with delays | `replies_byte_by_byte_with_delays` |
//! | 18 | invalid UTF-8 in replies | `invalid_utf8_in_replies` |
//! | 19 | invalid UTF-8 in listings | `invalid_utf8_in_listings` |
//! | 20 | a 10 MiB listing line (buffer limit) | `ten_mib_listing_line` |
//! | 21 | data connection refused | `data_connection_refused` |
//! | 22 | data connection accepted but never sending | `data_connection_silent` |
//! | 23 | active mode: the server never connects | `active_server_never_connects` |
//! | 24 | 227 naming another host | `pasv_other_host_uses_control_peer` |
//! | 25 | 227 / 229 with port 0 | `pasv_port_zero` |
//! | 26 | 227 / 229 with a port above 65535 | `pasv_port_above_65535` |
//! | 27 | 227 with a privileged port on another address | `pasv_privileged_port_other_host` |
//! | 28 | a server that never answers (greeting, after USER, before 226) | `server_never_answers` |
//! | 29 | connect timeout (accept queue full) | `connect_timeout` |
//! | 30 | caller names with CR, LF, NUL refused before sending | `caller_names_with_crlf_nul_refused` |
//! | 31 | download interrupted half way, resumed with REST | `resume_with_rest_is_byte_identical` |
//! | 32 | upload cut by the server (426) | `upload_cut_is_an_error` |
//! | 33 | extra replies in one segment (one command, several answers) | `extra_replies_are_not_taken_for_the_next_command` |

mod hostile_common;

use std::cell::RefCell;
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use ftp_mio::{Completion, DataEnd, Error, OpId, Options, SessionId, Sessions};
use ftp_sansio::reply::ReplyError;
use ftp_sansio::session::{
    Config, DataFailure, OpError, Operation, Outcome, ProtocolError, TimeoutKind, TransferKind,
    TransferRequest, UsageError,
};
use ftp_tests::fault::{
    disconnect, flood, hang, listing, pasv_claiming, raw, reply, trickle, upload, well_behaved,
    Action, FaultServer, Script,
};
use hostile_common::{config, pattern, resumable, retr_cut, serving, BAD_NAMES, BOUND};
use mio::{Events, Poll, Token};

/// A caller's event loop around one [`Sessions`].
struct Driver {
    poll: Poll,
    events: Events,
    ftp: Sessions,
    done: Vec<Completion>,
}

impl Driver {
    fn new() -> Driver {
        Driver::with_options(Options::default())
    }

    fn with_options(options: Options) -> Driver {
        let poll = Poll::new().unwrap();
        let ftp = Sessions::with_options(poll.registry(), Token(0), 4, options).unwrap();
        Driver {
            poll,
            events: Events::with_capacity(64),
            ftp,
            done: Vec::new(),
        }
    }

    /// Connects with [`config`]; returns the session and its greeting's op.
    fn connect(&mut self, addr: SocketAddr) -> (SessionId, OpId) {
        self.connect_with(addr, config())
    }

    fn connect_with(&mut self, addr: SocketAddr, config: Config) -> (SessionId, OpId) {
        self.ftp.connect(addr, config).unwrap()
    }

    /// Runs the loop until `op` completes (within [`BOUND`]); returns its completion.
    fn wait(&mut self, session: SessionId, op: OpId) -> Completion {
        let start = Instant::now();
        loop {
            // Completions can be ready before any event (an operation refused when its turn
            // came, inside `start`): collect them before waiting.
            while let Some(c) = self.ftp.poll_completion() {
                self.done.push(c);
            }
            if let Some(i) = self.done.iter().position(|c| c.op == op) {
                return self.done.remove(i);
            }
            let now = Instant::now();
            assert!(
                now - start < BOUND,
                "operation {op} did not complete within {BOUND:?}"
            );
            let timeout = self.ftp.poll_timeout(now);
            if self.ftp.pending(session) > 0 {
                // The driver must always tell the loop when to wake while work is pending.
                assert!(timeout.is_some(), "{op} pending without a deadline");
            }
            let timeout = timeout.unwrap_or(BOUND).min(BOUND);
            self.poll.poll(&mut self.events, Some(timeout)).unwrap();
            for event in self.events.iter() {
                self.ftp.handle_event(event);
            }
            self.ftp.handle_timeouts(Instant::now());
            while let Some(c) = self.ftp.poll_completion() {
                self.done.push(c);
            }
        }
    }

    /// `wait` and the result.
    fn result(&mut self, session: SessionId, op: OpId) -> Result<Outcome, Error> {
        self.wait(session, op).result
    }

    /// Connected and logged in.
    fn logged_in(&mut self, server: &FaultServer) -> SessionId {
        let (s, greeting) = self.connect(server.addr());
        self.result(s, greeting).expect("greeting");
        let login = self.ftp.login(s, "user", "pw").unwrap();
        self.result(s, login).expect("login");
        s
    }

    /// `RETR name` into a shared vector.
    fn get(&mut self, s: SessionId, name: &str) -> (Result<Outcome, Error>, Vec<u8>) {
        self.get_at(s, name, None, Shared::default())
    }

    fn get_at(
        &mut self,
        s: SessionId,
        name: &str,
        rest: Option<u64>,
        sink: Shared,
    ) -> (Result<Outcome, Error>, Vec<u8>) {
        let req = TransferRequest {
            kind: TransferKind::Retr(name.as_bytes().to_vec()),
            ascii: false,
            rest,
        };
        let op = self
            .ftp
            .transfer(s, req, DataEnd::sink(sink.clone()))
            .unwrap();
        let r = self.result(s, op);
        let got = sink.0.borrow().clone();
        (r, got)
    }

    /// Runs `op` to completion and returns it.
    fn run(&mut self, s: SessionId, op: Operation) -> Result<Outcome, Error> {
        let id = self.ftp.start(s, op).unwrap();
        self.result(s, id)
    }

    /// The session ended: gone from the `Sessions`, new requests refused.
    #[track_caller]
    fn assert_closed(&mut self, s: SessionId) {
        assert!(self.ftp.session(s).is_none(), "session still open");
        assert!(self.ftp.noop(s).is_err());
    }

    /// The session still works: a NOOP round trip succeeds.
    #[track_caller]
    fn assert_usable(&mut self, s: SessionId) {
        let op = self.ftp.noop(s).expect("session gone");
        match self.result(s, op) {
            Ok(Outcome::Done(r)) => assert_eq!(r.code().get(), 200),
            other => panic!("NOOP after the failure: {other:?}"),
        }
    }
}

/// A sink the test can read afterwards.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The `OpError` inside, or a panic naming what came instead.
#[track_caller]
fn op_err<T: std::fmt::Debug>(r: Result<T, Error>) -> OpError {
    match r {
        Err(Error::Op(e)) => e,
        other => panic!("expected an operation error, got {other:?}"),
    }
}

#[track_caller]
fn code_of(e: &OpError) -> u16 {
    e.reply().map(|r| r.code().get()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Disconnects
// ---------------------------------------------------------------------------------------

#[test]
fn disconnect_before_greeting() {
    let server = FaultServer::start(Script::new().greet_with(disconnect()));
    let mut d = Driver::new();
    let (s, g) = d.connect(server.addr());
    assert_eq!(op_err(d.result(s, g)), OpError::ConnectionClosed);
    d.assert_closed(s);
}

#[test]
fn disconnect_mid_reply() {
    let server = FaultServer::start(
        Script::new().greet_with([raw(b"220-Welcome\r\n220 rea"), disconnect()]),
    );
    let mut d = Driver::new();
    let (s, g) = d.connect(server.addr());
    assert_eq!(
        op_err(d.result(s, g)),
        OpError::Protocol(ProtocolError::EofMidReply)
    );

    let server = FaultServer::start(well_behaved().on("PWD", [raw(b"257 \"/ho"), disconnect()]));
    let s = d.logged_in(&server);
    assert_eq!(
        op_err(d.run(s, Operation::Pwd)),
        OpError::Protocol(ProtocolError::EofMidReply)
    );
    d.assert_closed(s);
}

#[test]
fn disconnect_after_user() {
    let server = FaultServer::start(well_behaved().on("USER", disconnect()));
    let mut d = Driver::new();
    let (s, g) = d.connect(server.addr());
    d.result(s, g).unwrap();
    let login = d.ftp.login(s, "user", "pw").unwrap();
    // queued behind the login: must fail too, not hang
    let pwd = d.ftp.pwd(s).unwrap();
    assert_eq!(op_err(d.result(s, login)), OpError::ConnectionClosed);
    assert!(d.result(s, pwd).is_err());
    d.assert_closed(s);
    assert_eq!(server.verbs(), ["USER"]);
}

#[test]
fn disconnect_mid_transfer() {
    let data = pattern(100_000);
    let mut retr = reply("150 Opening BINARY mode data connection for f.");
    retr.push(Action::DataSend(data[..40_000].to_vec()));
    retr.push(Action::Disconnect);
    let server = FaultServer::start(well_behaved().on("RETR", retr));
    let mut d = Driver::new();
    let s = d.logged_in(&server);
    let (r, got) = d.get(s, "f");
    assert_eq!(op_err(r), OpError::ConnectionClosed);
    assert!(got.len() <= 40_000);
    d.assert_closed(s);
}

#[test]
fn data_closed_early_with_announced_size() {
    let data = pattern(100_000);
    let server = FaultServer::start(well_behaved().on(
        "RETR",
        retr_cut(&data, 40_000, reply("226 Transfer complete.")),
    ));
    let mut d = Driver::new();
    let s = d.logged_in(&server);
    let (r, got) = d.get(s, "f");
    let e = op_err(r);
    assert!(
        matches!(
            e,
            OpError::Truncated {
                expected: 100_000,
                received: 40_000,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(got, &data[..40_000]);
    d.assert_usable(s);

    // into a buffer: the partial data comes with the error, never as a success
    let op = d.ftp.retrieve_to_vec(s, "f", 1 << 20).unwrap();
    let c = d.wait(s, op);
    assert!(matches!(
        c.result,
        Err(Error::Op(OpError::Truncated { .. }))
    ));
}

#[test]
fn data_closed_early_without_size() {
    let data = pattern(50_000);
    let mut retr = reply("150 Opening BINARY mode data connection for f.");
    retr.push(Action::DataSend(data[..20_000].to_vec()));
    retr.push(Action::DataClose);
    retr.extend(reply("226 Transfer complete."));
    let server = FaultServer::start(well_behaved().on("RETR", retr));
    let mut d = Driver::new();
    let s = d.logged_in(&server);
    let (r, got) = d.get(s, "f");
    match r {
        Ok(Outcome::Transferred { bytes, reply }) => {
            assert_eq!(bytes, 20_000);
            assert_eq!(reply.code().get(), 226);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(got, &data[..20_000]);
}

#[test]
fn transfer_426_or_451_is_an_error() {
    for code in [426u16, 451] {
        let data = pattern(30_000);
        let server = FaultServer::start(well_behaved().on(
            "RETR",
            retr_cut(
                &data,
                data.len(),
                reply(&format!("{code} Transfer aborted.")),
            ),
        ));
        let mut d = Driver::new();
        let s = d.logged_in(&server);
        let e = op_err(d.get(s, "f").0);
        assert!(matches!(e, OpError::Temporary(_)), "{e:?}");
        assert_eq!(code_of(&e), code);
        d.assert_usable(s);

        let mut list = reply("150 Here comes the directory listing.");
        list.push(Action::DataSend(
            b"-rw-r--r-- 1 a b 1 Jan 1 2024 f\r\n-rw-".to_vec(),
        ));
        list.push(Action::DataClose);
        list.extend(reply(&format!("{code} Transfer aborted.")));
        let server = FaultServer::start(well_behaved().on("LIST", list));
        let s = d.logged_in(&server);
        let op = d.ftp.list(s, None::<&str>).unwrap();
        let e = op_err(d.result(s, op));
        assert_eq!(code_of(&e), code);
    }
}

#[test]
fn disconnect_after_data_before_226() {
    let data = pattern(30_000);
    let server =
        FaultServer::start(well_behaved().on("RETR", retr_cut(&data, data.len(), disconnect())));
    let mut d = Driver::new();
    let s = d.logged_in(&server);
    let (r, got) = d.get(s, "f");
    assert_eq!(got, data);
    assert_eq!(op_err(r), OpError::ConnectionClosed);
    d.assert_closed(s);
}

#[test]
fn disconnect_during_abor() {
    // idle ABOR
    let server = FaultServer::start(well_behaved().on("ABOR", disconnect()));
    let mut d = Driver::new();
    let s = d.logged_in(&server);
    let op = d.ftp.abort(s).unwrap();
    assert_eq!(op_err(d.result(s, op)), OpError::ConnectionClosed);
    d.assert_closed(s);

    // ABOR in the middle of a download (the server keeps the data connection open)
    let mut retr = reply("150 Opening BINARY mode data connection for f.");
    retr.push(Action::DataSend(pattern(10_000)));
    let server = FaultServer::start(well_behaved().on("RETR", retr).on("ABOR", disconnect()));
    let s = d.logged_in(&server);
    let sink = Shared::default();
    let req = TransferRequest {
        kind: TransferKind::Retr(b"f".to_vec()),
        ascii: false,
        rest: None,
    };
    let get = d.ftp.transfer(s, req, DataEnd::sink(sink.clone())).unwrap();
    // run the loop until some data arrived, then abort
    let start = Instant::now();
    while sink.0.borrow().is_empty() {
        assert!(start.elapsed() < BOUND, "no data arrived");
        let t = d
            .ftp
            .poll_timeout(Instant::now())
            .unwrap_or(BOUND)
            .min(BOUND);
        d.poll.poll(&mut d.events, Some(t)).unwrap();
        for event in d.events.iter() {
            d.ftp.handle_event(event);
        }
        d.ftp.handle_timeouts(Instant::now());
        while let Some(c) = d.ftp.poll_completion() {
            d.done.push(c);
        }
    }
    assert_eq!(d.ftp.abort(s).unwrap(), get);
    assert_eq!(op_err(d.result(s, get)), OpError::ConnectionClosed);
    d.assert_closed(s);
    assert_eq!(server.verbs().last().map(String::as_str), Some("ABOR"));
}

#[test]
fn disconnect_during_quit() {
    let server = FaultServer::start(well_behaved().on("QUIT", disconnect()));
    let mut d = Driver::new();
    let s = d.logged_in(&server);
    let op = d.ftp.quit(s).unwrap();
    assert_eq!(op_err(d.result(s, op)), OpError::ConnectionClosed);
    d.assert_closed(s);
}

// ---------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------

#[test]
fn reply_421_at_every_step() {
    let bye = || -> Vec<Action> {
        [reply("421 Service not available, closing."), disconnect()]
            .into_iter()
            .flatten()
            .collect()
    };
    let mut d = Driver::new();
    let server = FaultServer::start(Script::new().greet_with(bye()));
    let (s, g) = d.connect(server.addr());
    let e = op_err(d.result(s, g));
    assert_eq!(code_of(&e), 421);

    let data = pattern(10_000);
    let mut mid = reply("150 Opening BINARY mode data connection (10000 bytes).");
    mid.push(Action::DataSend(data[..5000].to_vec()));
    mid.extend(bye());
    let steps: Vec<(&str, Vec<Action>)> = vec![
        ("USER", bye()),
        ("PASS", bye()),
        ("TYPE", bye()),
        ("EPSV", bye()),
        ("RETR", bye()),
        ("RETR", mid),
    ];
    for (verb, actions) in steps {
        let server = FaultServer::start(serving(&data).on(verb, actions));
        let (s, g) = d.connect(server.addr());
        d.result(s, g).unwrap();
        let login = d.ftp.login(s, "u", "p").unwrap();
        let get = d
            .ftp
            .transfer(
                s,
                TransferRequest {
                    kind: TransferKind::Retr(b"f".to_vec()),
                    ascii: false,
                    rest: None,
                },
                DataEnd::sink(io::sink()),
            )
            .unwrap();
        let login = d.result(s, login);
        let get = d.result(s, get);
        let e = match (verb, login) {
            ("USER" | "PASS", r) => op_err(r),
            (_, r) => {
                r.unwrap();
                op_err(get)
            }
        };
        assert!(matches!(e, OpError::Temporary(_)), "{verb}: {e:?}");
        assert_eq!(code_of(&e), 421, "{verb}");
        assert!(e.is_fatal());
        d.assert_closed(s);
    }
}

#[test]
fn negative_replies_for_every_command() {
    for code in [450u16, 550] {
        let no = || reply(&format!("{code} Not now."));
        let mut script = well_behaved();
        for verb in [
            "CWD", "CDUP", "PWD", "MKD", "RMD", "DELE", "RNFR", "SIZE", "MDTM", "MLST", "FEAT",
            "SYST", "STAT", "SITE", "HELP", "RETR", "STOR", "APPE", "LIST", "NLST", "MLSD",
        ] {
            script = script.on(verb, no());
        }
        let server = FaultServer::start(script);
        let mut d = Driver::new();
        let s = d.logged_in(&server);
        let p = |s: &str| s.as_bytes().to_vec();
        let ops = vec![
            Operation::Cwd(p("d")),
            Operation::Cdup,
            Operation::Pwd,
            Operation::Mkd(p("d")),
            Operation::Rmd(p("d")),
            Operation::Dele(p("f")),
            Operation::Rename {
                from: p("a"),
                to: p("b"),
            },
            Operation::Size(p("f")),
            Operation::Mdtm(p("f")),
            Operation::Mlst(Some(p("f"))),
            Operation::Feat,
            Operation::Syst,
            Operation::Stat(Some(p("f"))),
            Operation::Site(p("CHMOD 600 f")),
            Operation::Help(None),
        ];
        let expect = |e: OpError, what: &str| {
            let ok = match code {
                450 => matches!(e, OpError::Temporary(_)),
                _ => matches!(e, OpError::Permanent(_)),
            };
            assert!(ok && code_of(&e) == code && !e.is_fatal(), "{what}: {e:?}");
        };
        for op in ops {
            let what = format!("{op:?}");
            expect(op_err(d.run(s, op)), &what);
            d.assert_usable(s);
        }
        let r = d.get(s, "f").0;
        expect(op_err(r), "RETR");
        d.assert_usable(s);
        for (name, op) in [
            ("STOR", d.ftp.store(s, "f", &b"data"[..]).unwrap()),
            ("APPE", d.ftp.append(s, "f", &b"data"[..]).unwrap()),
            ("LIST", d.ftp.list(s, None::<&str>).unwrap()),
            ("NLST", d.ftp.nlst(s, None::<&str>).unwrap()),
            ("MLSD", d.ftp.mlsd(s, None::<&str>).unwrap()),
        ] {
            expect(op_err(d.result(s, op)), name);
        }
        d.assert_usable(s);

        for verb in ["USER", "PASS"] {
            let server = FaultServer::start(well_behaved().on(verb, no()));
            let (s, g) = d.connect(server.addr());
            d.result(s, g).unwrap();
            let login = d.ftp.login(s, "u", "p").unwrap();
            expect(op_err(d.result(s, login)), verb);
            d.assert_usable(s);
        }
        for verb in ["EPSV", "TYPE"] {
            let server = FaultServer::start(serving(b"x").on(verb, no()));
            let s = d.logged_in(&server);
            expect(op_err(d.get(s, "f").0), verb);
            d.assert_usable(s);
        }
    }
}

#[test]
fn reply_codes_out_of_range() {
    let mut d = Driver::new();
    for bad in [
        &b"600 Too high\r\n"[..],
        b"099 Too low\r\n",
        b"000 Zero\r\n",
        b"1000 Four digits\r\n",
        b"22 Short\r\n",
        b"abc Letters\r\n",
        b"\r\n",
        b"-220 Hyphen first\r\n",
        b"\xff\xfe\r\n",
    ] {
        let server = FaultServer::start(Script::new().greet_with(raw(bad)));
        let (s, g) = d.connect(server.addr());
        let e = op_err(d.result(s, g));
        assert!(
            matches!(e, OpError::Protocol(ProtocolError::Framing(_))),
            "{bad:?}: {e:?}"
        );
        d.assert_closed(s);

        let server = FaultServer::start(well_behaved().on("NOOP", raw(bad)));
        let s = d.logged_in(&server);
        let e = op_err(d.run(s, Operation::Noop));
        assert!(
            matches!(e, OpError::Protocol(ProtocolError::Framing(_))),
            "{bad:?}: {e:?}"
        );
        d.assert_closed(s);
    }
}

#[test]
fn reply_line_never_ends() {
    let mut d = Driver::new();
    let server = FaultServer::start(Script::new().greet_with([raw(b"220 Hello"), hang()]));
    let (s, g) = d.connect(server.addr());
    assert_eq!(op_err(d.result(s, g)), OpError::Timeout(TimeoutKind::Reply));
    d.assert_closed(s);

    let server = FaultServer::start(well_behaved().on("PWD", [raw(b"257 \"/\""), hang()]));
    let s = d.logged_in(&server);
    assert_eq!(
        op_err(d.run(s, Operation::Pwd)),
        OpError::Timeout(TimeoutKind::Reply)
    );
    d.assert_closed(s);
}

#[test]
fn ten_mib_reply_line() {
    let mut d = Driver::new();
    let server = FaultServer::start(Script::new().greet_with([
        raw(b"220 "),
        flood(b"x", 10 << 20),
        raw(b"\r\n"),
    ]));
    let (s, g) = d.connect(server.addr());
    let e = op_err(d.result(s, g));
    assert!(
        matches!(
            e,
            OpError::Protocol(ProtocolError::Framing(ReplyError::LineTooLong { .. }))
        ),
        "{e:?}"
    );

    let server = FaultServer::start(well_behaved().on(
        "SYST",
        [raw(b"215 "), flood(b"UNIX ", 10 << 20), raw(b"\r\n")],
    ));
    let s = d.logged_in(&server);
    let e = op_err(d.run(s, Operation::Syst));
    assert!(matches!(e, OpError::Protocol(ProtocolError::Framing(_))));
    d.assert_closed(s);
}

#[test]
fn multiline_reply_never_closes() {
    let mut d = Driver::new();
    let server = FaultServer::start(
        Script::new().greet_with([raw(b"220-Welcome\r\n220-to the\r\n"), hang()]),
    );
    let (s, g) = d.connect(server.addr());
    assert_eq!(op_err(d.result(s, g)), OpError::Timeout(TimeoutKind::Reply));

    let server = FaultServer::start(
        Script::new().greet_with([raw(b"220-Welcome\r\n"), flood(b" and more\r\n", 10 << 20)]),
    );
    let (s, g) = d.connect(server.addr());
    let e = op_err(d.result(s, g));
    assert!(
        matches!(
            e,
            OpError::Protocol(ProtocolError::Framing(ReplyError::ReplyTooLarge { .. }))
        ),
        "{e:?}"
    );
}

#[test]
fn replies_byte_by_byte_with_delays() {
    let t = Duration::from_millis(3);
    let server = FaultServer::start(
        well_behaved()
            .greet_with(trickle("220-Hello\n220 there", t))
            .on("USER", trickle("331 Password?", t))
            .on("PASS", trickle("230-Welcome\n230 in", t))
            .on(
                "PWD",
                trickle("257 \"/a \"\"quoted\"\" dir\" is current", t),
            )
            .on("TYPE", trickle("200 Type set", t))
            .on("RETR", ftp_tests::fault::download(b"slow but fine")),
    );
    let mut d = Driver::new();
    let (s, g) = d.connect(server.addr());
    match d.result(s, g) {
        Ok(Outcome::Greeting(r)) => assert_eq!(r.text(), "220-Hello\n220 there"),
        other => panic!("{other:?}"),
    }
    let login = d.ftp.login(s, "u", "p").unwrap();
    match d.result(s, login) {
        Ok(Outcome::LoggedIn(r)) => assert_eq!(r.text(), "230-Welcome\n230 in"),
        other => panic!("{other:?}"),
    }
    match d.run(s, Operation::Pwd) {
        Ok(Outcome::Path(p)) => assert_eq!(p, b"/a \"quoted\" dir"),
        other => panic!("{other:?}"),
    }
    let (r, got) = d.get(s, "f");
    assert!(matches!(r, Ok(Outcome::Transferred { bytes: 13, .. })));
    assert_eq!(got, b"slow but fine");
}

#[test]
fn invalid_utf8_in_replies() {
    let server = FaultServer::start(
        well_behaved()
            .greet_with(raw(b"220 Caf\xe9 \xff\xfe ready\r\n"))
            .on("PWD", raw(b"257 \"/d\xe9j\xe0 vu\" is current\r\n"))
            .on("SYST", raw(b"215 \xc3\x28 UNIX\r\n")),
    );
    let mut d = Driver::new();
    let s = d.logged_in(&server);
    let welcome = d.ftp.session(s).unwrap().welcome().unwrap().clone();
    assert_eq!(welcome.raw(), b"220 Caf\xe9 \xff\xfe ready\r\n");
    match d.run(s, Operation::Pwd) {
        Ok(Outcome::Path(p)) => assert_eq!(p, b"/d\xe9j\xe0 vu"),
        other => panic!("{other:?}"),
    }
    match d.run(s, Operation::Syst) {
        Ok(Outcome::Done(r)) => assert_eq!(r.raw(), b"215 \xc3\x28 UNIX\r\n"),
        other => panic!("{other:?}"),
    }
    d.assert_usable(s);
}

#[test]
fn invalid_utf8_in_listings() {
    let server = FaultServer::start(
        well_behaved()
            .on("NLST", listing(&[b"caf\xe9.txt", b"\xff\xfe", b"ok.txt"]))
            .on(
                "MLSD",
                listing(&[b"type=file;size=3; caf\xe9.txt", b"type=dir; \xc3\x28"]),
            ),
    );
    let mut d = Driver::new();
    let s = d.logged_in(&server);
    let op = d.ftp.nlst(s, None::<&str>).unwrap();
    let c = d.wait(s, op);
    assert!(c.result.is_ok());
    assert_eq!(c.data.unwrap(), b"caf\xe9.txt\n\xff\xfe\nok.txt\n");
    let op = d.ftp.mlsd(s, None::<&str>).unwrap();
    let c = d.wait(s, op);
    let data = c.data.unwrap();
    let names: Vec<Vec<u8>> = ftp_sansio::listing::parse_mlsd(&data)
        .filter_map(|p| p.entry().map(|e| e.name().to_vec()))
        .collect();
    assert_eq!(names, [b"caf\xe9.txt".to_vec(), b"\xc3\x28".to_vec()]);
}

#[test]
fn ten_mib_listing_line() {
    let list = || {
        let mut v = reply("150 Here comes the directory listing.");
        v.push(Action::DataSend(b"-rw-r--r-- 1 a b 1 Jan 1 2024 ".to_vec()));
        v.push(Action::DataFlood {
            pattern: b"n".to_vec(),
            len: 10 << 20,
        });
        v.push(Action::DataClose);
        v.extend(reply("226 Directory send OK."));
        v
    };
    // a buffer limit below the line: a typed error, nothing past the limit kept
    let server = FaultServer::start(well_behaved().on("LIST", list()));
    let mut d = Driver::with_options(Options {
        listing_limit: 1 << 20,
        ..Options::default()
    });
    let s = d.logged_in(&server);
    let op = d.ftp.list(s, None::<&str>).unwrap();
    let c = d.wait(s, op);
    assert!(
        matches!(c.result, Err(Error::BufferFull { limit }) if limit == 1 << 20),
        "{:?}",
        c.result
    );
    assert!(c.data.map_or(0, |d| d.len()) <= 1 << 20);
    d.assert_usable(s);

    // the default limit (64 MiB) holds it: the exact bytes sent, nothing lost or invented
    let server = FaultServer::start(well_behaved().on("LIST", list()));
    let mut d = Driver::new();
    let s = d.logged_in(&server);
    let op = d.ftp.list(s, None::<&str>).unwrap();
    let c = d.wait(s, op);
    assert!(c.result.is_ok(), "{:?}", c.result);
    let data = c.data.unwrap();
    let head = b"-rw-r--r-- 1 a b 1 Jan 1 2024 ";
    assert_eq!(data.len(), head.len() + (10 << 20));
    assert!(data.starts_with(head) && data[head.len()..].iter().all(|&b| b == b'n'));
}

// ---------------------------------------------------------------------------------------
// Data connections
// ---------------------------------------------------------------------------------------

#[test]
fn data_connection_refused() {
    for verb in ["EPSV", "PASV"] {
        let refused = if verb == "EPSV" {
            Action::EpsvRefused
        } else {
            Action::PasvRefused {
                claim_ip: Ipv4Addr::LOCALHOST,
            }
        };
        let server = FaultServer::start(serving(b"data").on(verb, refused));
        let mut d = Driver::new();
        let (s, g) = d.connect_with(
            server.addr(),
            Config {
                use_epsv: verb == "EPSV",
                ..config()
            },
        );
        d.result(s, g).unwrap();
        let login = d.ftp.login(s, "u", "p").unwrap();
        d.result(s, login).unwrap();
        let (r, got) = d.get(s, "f");
        let e = op_err(r);
        assert!(
            matches!(
                e,
                OpError::Data {
                    failure: DataFailure::Refused,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(got.is_empty());
        assert!(!server.verbs().contains(&"RETR".to_string()));
        d.assert_usable(s);
    }
}

#[test]
fn data_connection_silent() {
    let mut retr = reply("150 Opening BINARY mode data connection for f (1000 bytes).");
    retr.push(Action::DataOpen);
    let server = FaultServer::start(
        well_behaved()
            .on("RETR", retr)
            .on("ABOR", reply("426 Transfer aborted.\n226 ABOR successful.")),
    );
    let mut d = Driver::new();
    let s = d.logged_in(&server);
    let (r, got) = d.get(s, "f");
    assert_eq!(op_err(r), OpError::Timeout(TimeoutKind::Data));
    assert!(got.is_empty());
    assert_eq!(server.data_connections(), 1);
    d.assert_usable(s);
}

#[test]
fn active_server_never_connects() {
    let server = FaultServer::start(
        well_behaved()
            .on("RETR", reply("150 Opening BINARY mode data connection."))
            .on("ABOR", reply("426 Transfer aborted.\n226 ABOR successful.")),
    );
    let mut d = Driver::new();
    let (s, g) = d.connect_with(
        server.addr(),
        Config {
            passive: false,
            ..config()
        },
    );
    d.result(s, g).unwrap();
    let login = d.ftp.login(s, "u", "p").unwrap();
    d.result(s, login).unwrap();
    let (r, _) = d.get(s, "f");
    assert_eq!(op_err(r), OpError::Timeout(TimeoutKind::Data));
    assert!(server.verbs().contains(&"EPRT".to_string()));
    assert_eq!(server.data_connections(), 0);
    d.assert_usable(s);
}

// ---------------------------------------------------------------------------------------
// PASV / EPSV addresses
// ---------------------------------------------------------------------------------------

fn pasv_only() -> Config {
    Config {
        use_epsv: false,
        ..config()
    }
}

fn logged_in_with(d: &mut Driver, server: &FaultServer, config: Config) -> SessionId {
    let (s, g) = d.connect_with(server.addr(), config);
    d.result(s, g).unwrap();
    let login = d.ftp.login(s, "u", "p").unwrap();
    d.result(s, login).unwrap();
    s
}

#[test]
fn pasv_other_host_uses_control_peer() {
    let data = pattern(5000);
    let mut d = Driver::new();
    for claim in [
        Ipv4Addr::new(192, 0, 2, 1),
        Ipv4Addr::new(10, 0, 0, 1),
        Ipv4Addr::new(0, 0, 0, 0),
        Ipv4Addr::new(255, 255, 255, 255),
    ] {
        let server = FaultServer::start(serving(&data).on("PASV", pasv_claiming(claim)));
        let s = logged_in_with(&mut d, &server, pasv_only());
        let (r, got) = d.get(s, "f");
        assert!(
            matches!(r, Ok(Outcome::Transferred { .. })),
            "{claim}: {r:?}"
        );
        assert_eq!(got, data);
        assert_eq!(server.data_connections(), 1);
    }
}

#[test]
fn pasv_port_zero() {
    let mut d = Driver::new();
    for (verb, text) in [
        ("PASV", "227 Entering Passive Mode (127,0,0,1,0,0)."),
        ("EPSV", "229 Entering Extended Passive Mode (|||0|)"),
    ] {
        let server = FaultServer::start(serving(b"x").on(verb, reply(text)));
        let config = Config {
            use_epsv: verb == "EPSV",
            ..config()
        };
        let s = logged_in_with(&mut d, &server, config);
        let e = op_err(d.get(s, "f").0);
        assert!(matches!(e, OpError::Protocol(_)), "{e:?}");
        assert!(!server.verbs().contains(&"RETR".to_string()));
        d.assert_usable(s);
    }
}

#[test]
fn pasv_port_above_65535() {
    let mut d = Driver::new();
    for (verb, text) in [
        ("PASV", "227 Entering Passive Mode (127,0,0,1,256,1)."),
        ("PASV", "227 Entering Passive Mode (127,0,0,1,1,999)."),
        ("PASV", "227 Entering Passive Mode (127,0,0,1,-1,80)."),
        ("EPSV", "229 Entering Extended Passive Mode (|||65536|)"),
        (
            "EPSV",
            "229 Entering Extended Passive Mode (|||99999999999|)",
        ),
    ] {
        let server = FaultServer::start(serving(b"x").on(verb, reply(text)));
        let config = Config {
            use_epsv: verb == "EPSV",
            ..config()
        };
        let s = logged_in_with(&mut d, &server, config);
        let e = op_err(d.get(s, "f").0);
        assert!(matches!(e, OpError::Protocol(_)), "{text}: {e:?}");
        assert_eq!(server.data_connections(), 0);
        d.assert_usable(s);
    }
}

#[test]
fn pasv_privileged_port_other_host() {
    let Some(port) = hostile_common::closed_privileged_port() else {
        eprintln!("every candidate privileged port is open on 127.0.0.1; case not checked");
        return;
    };
    let text = format!(
        "227 Entering Passive Mode (192,0,2,1,{},{}).",
        port >> 8,
        port & 0xff
    );
    let server = FaultServer::start(serving(b"x").on("PASV", reply(&text)));
    let mut d = Driver::new();
    let s = logged_in_with(&mut d, &server, pasv_only());
    let e = op_err(d.get(s, "f").0);
    assert!(
        matches!(
            e,
            OpError::Data {
                failure: DataFailure::Refused,
                ..
            }
        ),
        "not refused by 127.0.0.1:{port}: {e:?}"
    );
    d.assert_usable(s);
}

// ---------------------------------------------------------------------------------------
// Timeouts
// ---------------------------------------------------------------------------------------

#[test]
fn server_never_answers() {
    let mut d = Driver::new();
    let server = FaultServer::start(Script::new().greet_with(hang()));
    let (s, g) = d.connect(server.addr());
    // the deadline is reported to the loop at once
    let wake = d.ftp.poll_timeout(Instant::now()).expect("a deadline");
    assert!(wake <= hostile_common::T);
    assert_eq!(op_err(d.result(s, g)), OpError::Timeout(TimeoutKind::Reply));
    d.assert_closed(s);

    let server = FaultServer::start(well_behaved().on("USER", hang()));
    let (s, g) = d.connect(server.addr());
    d.result(s, g).unwrap();
    let login = d.ftp.login(s, "u", "p").unwrap();
    assert_eq!(
        op_err(d.result(s, login)),
        OpError::Timeout(TimeoutKind::Reply)
    );
    d.assert_closed(s);

    let data = pattern(1000);
    let server = FaultServer::start(well_behaved().on("RETR", retr_cut(&data, 1000, hang())));
    let s = d.logged_in(&server);
    let (r, got) = d.get(s, "f");
    assert_eq!(got, data);
    assert_eq!(op_err(r), OpError::Timeout(TimeoutKind::Reply));
    d.assert_closed(s);
}

#[test]
fn connect_timeout() {
    let Some(unanswered) = hostile_common::unanswered_listener() else {
        eprintln!("the accept queue never filled (SYN cookies?); case not checked");
        return;
    };
    let addr = unanswered.addr;
    let mut d = Driver::new();
    let (s, g) = d.connect(addr);
    let e = d.result(s, g).unwrap_err();
    assert!(
        matches!(e, Error::Op(OpError::Timeout(_)))
            || matches!(&e, Error::Io(io) if io.kind() == io::ErrorKind::TimedOut),
        "{e:?}"
    );
}

// ---------------------------------------------------------------------------------------
// The caller's input
// ---------------------------------------------------------------------------------------

#[test]
fn caller_names_with_crlf_nul_refused() {
    let server = FaultServer::start(
        well_behaved()
            .on("RETR", ftp_tests::fault::download(b"x"))
            .on("STOR", upload())
            .on("LIST", listing(&[]))
            .on("NLST", listing(&[])),
    );
    let mut d = Driver::new();
    let s = d.logged_in(&server);
    let before = server.commands().len();
    for bad in BAD_NAMES {
        let b = bad.as_bytes().to_vec();
        let mut ops: Vec<(String, OpId)> = Vec::new();
        for op in [
            Operation::Cwd(b.clone()),
            Operation::Mkd(b.clone()),
            Operation::Rmd(b.clone()),
            Operation::Dele(b.clone()),
            Operation::Rename {
                from: b.clone(),
                to: b"ok".to_vec(),
            },
            Operation::Rename {
                from: b"ok".to_vec(),
                to: b.clone(),
            },
            Operation::Size(b.clone()),
            Operation::Mdtm(b.clone()),
            Operation::Mlst(Some(b.clone())),
            Operation::Site(b.clone()),
            Operation::Stat(Some(b.clone())),
            Operation::Raw {
                line: [&b"NOOP "[..], &b].concat(),
                require_2xx: false,
            },
            Operation::Login {
                user: bad.to_string(),
                password: "pw".into(),
                account: None,
            },
            Operation::Login {
                user: "u".into(),
                password: bad.to_string(),
                account: None,
            },
        ] {
            let what = format!("{op:?}");
            ops.push((what, d.ftp.start(s, op).unwrap()));
        }
        ops.push((
            "retrieve".into(),
            d.ftp.retrieve(s, bad, io::sink()).unwrap(),
        ));
        ops.push(("store".into(), d.ftp.store(s, bad, &b"x"[..]).unwrap()));
        ops.push(("list".into(), d.ftp.list(s, Some(bad)).unwrap()));
        ops.push(("nlst".into(), d.ftp.nlst(s, Some(bad)).unwrap()));
        ops.push(("mlsd".into(), d.ftp.mlsd(s, Some(bad)).unwrap()));
        for (what, op) in ops {
            match d.result(s, op) {
                Err(Error::Usage(UsageError::InvalidArgument(_))) => {}
                other => panic!("{what}: {other:?}"),
            }
        }
        assert_eq!(
            server.commands().len(),
            before,
            "sent {:?}",
            &server.commands()[before..]
        );
    }
    d.assert_usable(s);
    assert_eq!(server.commands()[before..], ["NOOP"]);
}

// ---------------------------------------------------------------------------------------
// Resume and uploads
// ---------------------------------------------------------------------------------------

#[test]
fn resume_with_rest_is_byte_identical() {
    let data = pattern(300_000);
    let server = FaultServer::start(resumable(&data, 120_000));
    let file = Shared::default();
    let mut d = Driver::new();

    let s = d.logged_in(&server);
    let (r, _) = d.get_at(s, "big.bin", None, file.clone());
    assert!(r.is_err(), "a cut download reported success: {r:?}");
    assert_eq!(file.0.borrow().len(), 120_000);

    let s = d.logged_in(&server);
    let offset = file.0.borrow().len() as u64;
    let (r, _) = d.get_at(s, "big.bin", Some(offset), file.clone());
    assert!(
        matches!(r, Ok(Outcome::Transferred { bytes: 180_000, .. })),
        "{r:?}"
    );
    assert!(*file.0.borrow() == data, "the resumed file differs");
    assert!(server.commands().contains(&"REST 120000".to_string()));
}

#[test]
fn upload_cut_is_an_error() {
    let mut stor = reply("150 Ok to send data.");
    stor.push(Action::DataOpen);
    stor.push(Action::DataClose);
    stor.extend(reply("426 Connection closed; transfer aborted."));
    let server = FaultServer::start(well_behaved().on("STOR", stor));
    let mut d = Driver::new();
    let s = d.logged_in(&server);
    let op = d
        .ftp
        .store(s, "f", io::Cursor::new(pattern(4 << 20)))
        .unwrap();
    let e = op_err(d.result(s, op));
    assert_eq!(code_of(&e), 426, "{e:?}");
    d.assert_usable(s);
}

#[test]
fn extra_replies_are_not_taken_for_the_next_command() {
    let server = FaultServer::start(
        well_behaved()
            .on("NOOP", raw(b"200 NOOP ok.\r\n250 forged\r\n"))
            .on("DELE", reply("550 Permission denied.")),
    );
    let mut d = Driver::new();
    let s = d.logged_in(&server);
    d.assert_usable(s);
    let e = op_err(d.run(s, Operation::Dele(b"f".to_vec())));
    assert!(matches!(e, OpError::Permanent(_)), "{e:?}");
    assert_eq!(code_of(&e), 550);
}

/// A download whose data keeps dripping (one byte every 0.5 s, each within the 1 s data
/// timeout) is cut off by `operation_timeout`: the deadline the driver reports wakes the loop
/// even while data is moving.
#[test]
fn operation_timeout_bounds_a_dripping_download() {
    let op_timeout = Duration::from_secs(3);
    let mut retr = reply("150 Opening BINARY mode data connection (40 bytes).");
    for _ in 0..40 {
        retr.push(Action::DataSend(b"x".to_vec()));
        retr.push(Action::Sleep(Duration::from_millis(500)));
    }
    retr.push(Action::DataClose);
    retr.extend(reply("226 Transfer complete."));
    let server = FaultServer::start(well_behaved().on("RETR", retr));
    let mut d = Driver::new();
    let (s, greeting) = d.connect_with(
        server.addr(),
        Config {
            operation_timeout: Some(op_timeout),
            ..config()
        },
    );
    d.result(s, greeting).expect("greeting");
    let login = d.ftp.login(s, "user", "pw").unwrap();
    d.result(s, login).expect("login");
    let started = Instant::now();
    let (r, got) = d.get(s, "drip.bin");
    assert!(
        matches!(r, Err(Error::Op(OpError::Timeout(TimeoutKind::Operation)))),
        "{r:?}"
    );
    assert!(started.elapsed() >= op_timeout - Duration::from_millis(100));
    assert!(started.elapsed() < BOUND, "{:?}", started.elapsed());
    assert!(got.len() < 40, "the drip was cut off: {} bytes", got.len());
    d.assert_closed(s);
}
