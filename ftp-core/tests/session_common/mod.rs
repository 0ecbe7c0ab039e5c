//! A scripted driver for transcript tests: the test plays the server and the driver, and
//! reads like the conversation on the wire.
//!
//! ```text
//! t.server("331 Please specify the password.");   // server bytes in (CRLF added per line)
//! t.client("PASS anonymous@");                    // the next command the client sent
//! t.expect_data(DataIntent::Connect { .. });      // the next event is this intent
//! t.data(DataEvent::Connected);                   // the driver reports what happened
//! let outcome = t.ok();                           // the next event is Completed(Ok(..))
//! ```
//!
//! Every call checks the invariants a driver relies on: control output is a sequence of
//! well-formed CRLF-terminated command lines.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ftp_sansio::reply::Reply;
use ftp_sansio::session::{
    Config, DataEvent, DataIntent, Event, OpError, Operation, Outcome, Session, TlsIntent,
    TransferKind, TransferRequest,
};

pub struct Script {
    pub s: Session,
    pub now: Instant,
    /// Command lines sent by the client and not yet checked (without CRLF).
    sent: VecDeque<Vec<u8>>,
    /// Events not yet checked (traced replies removed).
    events: VecDeque<Event>,
    /// Replies reported with `trace_replies`.
    pub traced: Vec<Reply>,
}

/// The configuration most transcripts use: no automatic FEAT, so a login is only
/// USER/PASS.
pub fn plain() -> Config {
    Config {
        auto_feat: false,
        ..Config::default()
    }
}

pub fn retr(path: &str) -> Operation {
    Operation::Transfer(TransferRequest {
        kind: TransferKind::Retr(path.as_bytes().to_vec()),
        ascii: false,
        rest: None,
    })
}

pub fn transfer(kind: TransferKind, ascii: bool, rest: Option<u64>) -> Operation {
    Operation::Transfer(TransferRequest { kind, ascii, rest })
}

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

impl Script {
    /// A session to 127.0.0.1:21 waiting for its greeting.
    pub fn new(config: Config) -> Script {
        Script::with_peer(config, addr("127.0.0.1:21"))
    }

    pub fn with_peer(config: Config, peer: SocketAddr) -> Script {
        // The only clock reading of these tests: a base for virtual time.
        let now = Instant::now();
        let s = Session::new(config, peer, now);
        let mut t = Script {
            s,
            now,
            sent: VecDeque::new(),
            events: VecDeque::new(),
            traced: Vec::new(),
        };
        t.collect();
        t
    }

    /// Greeted by vsftpd.
    pub fn greeted(config: Config) -> Script {
        let mut t = Script::new(config);
        t.server("220 (vsFTPd 3.0.3)");
        assert!(matches!(t.ok(), Outcome::Greeting(_)));
        t
    }

    /// Greeted and logged in as `ftptest` (no FEAT unless the config asks for it).
    /// `AUTH TLS` accepted and the handshake reported done (the control connection runs
    /// TLS from here on).
    pub fn upgrade(&mut self) {
        self.start(Operation::AuthTls);
        self.client("AUTH TLS");
        self.server("234 AUTH TLS successful");
        self.expect_tls(TlsIntent::UpgradeControl);
        self.tls_done();
        self.ok();
        assert!(self.s.is_control_tls());
    }

    pub fn logged_in(config: Config) -> Script {
        let auto_feat = config.auto_feat;
        let mut t = Script::greeted(config);
        t.start(Operation::Login {
            user: "ftptest".into(),
            password: "ftptest".into(),
            account: None,
        });
        t.client("USER ftptest");
        t.server("331 Please specify the password.");
        t.client("PASS ftptest");
        t.server("230 Login successful.");
        if auto_feat {
            t.client("FEAT");
            t.server("211-Features:\n EPSV\n MDTM\n PASV\n SIZE\n211 End");
        }
        assert!(matches!(t.ok(), Outcome::LoggedIn(_)));
        t
    }

    /// Pulls output and events out of the session, checking the invariants.
    fn collect(&mut self) {
        let out = self.s.poll_transmit().to_vec();
        while let Some(ev) = self.s.poll_event() {
            match ev {
                Event::Reply(r) => self.traced.push(r),
                other => self.events.push_back(other),
            }
        }
        if !out.is_empty() {
            assert!(
                out.ends_with(b"\r\n"),
                "output not CRLF-terminated: {out:?}"
            );
            for line in out[..out.len() - 2].split(|&b| b == b'\n') {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                assert!(!line.is_empty(), "empty command line in {out:?}");
                assert!(
                    !line.contains(&b'\r') && !line.contains(&0),
                    "bad command line {line:?}"
                );
                assert!(
                    line[0].is_ascii_alphabetic(),
                    "command does not start with a verb: {line:?}"
                );
                self.sent.push_back(line.to_vec());
            }
            self.s.consume_transmit(out.len());
        }
        assert!(self.s.poll_transmit().is_empty());
    }

    // ----- the server and the driver act -----

    /// Server sends `text`: lines separated by `\n`, each sent with CRLF.
    pub fn server(&mut self, text: &str) {
        let mut bytes = Vec::new();
        for line in text.split('\n') {
            bytes.extend_from_slice(line.as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        self.server_bytes(&bytes);
    }

    /// Server sends exactly these bytes.
    pub fn server_bytes(&mut self, bytes: &[u8]) {
        self.s.handle_input(self.now, bytes);
        self.collect();
    }

    /// Server sends `text` one byte per call (chunking must not matter).
    pub fn server_bytewise(&mut self, text: &str) {
        let mut bytes = Vec::new();
        for line in text.split('\n') {
            bytes.extend_from_slice(line.as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        for b in bytes {
            self.s.handle_input(self.now, &[b]);
        }
        self.collect();
    }

    pub fn eof(&mut self) {
        self.s.handle_eof(self.now);
        self.collect();
    }

    pub fn start(&mut self, op: Operation) {
        self.s.start(self.now, op).expect("start");
        self.collect();
    }

    /// The driver closes the control connection itself.
    pub fn local_close(&mut self, reason: ftp_sansio::session::LocalClose) {
        self.s.handle_close(self.now, reason);
        self.collect();
    }

    pub fn abort(&mut self) {
        self.s.abort(self.now).expect("abort");
        self.collect();
    }

    pub fn data(&mut self, ev: DataEvent) {
        self.s.handle_data_event(self.now, ev);
        self.collect();
    }

    /// A data event, returning the control bytes the session queued in reaction (what the
    /// driver writes in one go); they are then checked as usual with [`client`](Self::client).
    pub fn data_wire(&mut self, ev: DataEvent) -> Vec<u8> {
        assert!(self.s.poll_transmit().is_empty());
        self.s.handle_data_event(self.now, ev);
        let wire = self.s.poll_transmit().to_vec();
        self.collect();
        wire
    }

    /// Control bytes the session queued since the last call (a hint may send some).
    pub fn wire(&mut self) -> Vec<u8> {
        let wire = self.s.poll_transmit().to_vec();
        self.collect();
        wire
    }

    pub fn tls_done(&mut self) {
        self.s.handle_tls_established(self.now);
        self.collect();
    }

    /// Time passes; the driver calls `handle_timeout` if a deadline is due.
    pub fn wait(&mut self, d: Duration) {
        self.now += d;
        if let Some(deadline) = self.s.poll_timeout() {
            if self.now >= deadline {
                self.s.handle_timeout(self.now);
            }
        }
        self.collect();
    }

    // ----- what the client did -----

    /// The next command line the client sent.
    #[track_caller]
    pub fn client(&mut self, line: &str) {
        match self.sent.pop_front() {
            Some(l) => assert_eq!(
                String::from_utf8_lossy(&l),
                line,
                "client sent something else"
            ),
            None => panic!("client sent nothing, expected {line:?}"),
        }
    }

    /// The next command line the client sent, whatever it is.
    #[track_caller]
    pub fn client_line(&mut self) -> String {
        let l = self.sent.pop_front().expect("client sent nothing");
        String::from_utf8_lossy(&l).into_owned()
    }

    /// The client sent nothing (more).
    #[track_caller]
    pub fn no_client(&mut self) {
        if let Some(l) = self.sent.pop_front() {
            panic!("client sent {:?}", String::from_utf8_lossy(&l));
        }
    }

    #[track_caller]
    pub fn event(&mut self) -> Event {
        self.events.pop_front().expect("no event")
    }

    #[track_caller]
    pub fn no_event(&mut self) {
        if let Some(e) = self.events.pop_front() {
            panic!("unexpected event {e:?}");
        }
    }

    /// The next event is this data intent.
    #[track_caller]
    pub fn expect_data(&mut self, intent: DataIntent) {
        match self.event() {
            Event::Data(i) => assert_eq!(i, intent),
            other => panic!("expected {intent:?}, got {other:?}"),
        }
    }

    #[track_caller]
    pub fn expect_tls(&mut self, intent: TlsIntent) {
        match self.event() {
            Event::Tls(i) => assert_eq!(i, intent),
            other => panic!("expected {intent:?}, got {other:?}"),
        }
    }

    /// The next event completes the operation successfully.
    #[track_caller]
    pub fn ok(&mut self) -> Outcome {
        match self.event() {
            Event::Completed(Ok(o)) => {
                self.no_event();
                o
            }
            other => panic!("expected success, got {other:?}"),
        }
    }

    /// The next event completes the operation with an error.
    #[track_caller]
    pub fn err(&mut self) -> OpError {
        match self.event() {
            Event::Completed(Err(e)) => {
                self.no_event();
                e
            }
            other => panic!("expected an error, got {other:?}"),
        }
    }

    /// The session is idle and usable: a NOOP round trip works.
    #[track_caller]
    pub fn still_usable(&mut self) {
        assert!(self.s.is_idle(), "session not idle");
        self.start(Operation::Noop);
        self.client("NOOP");
        self.no_client();
        self.server("200 NOOP ok.");
        assert!(matches!(self.ok(), Outcome::Done(_)));
    }

    /// The session is closed: nothing more can start.
    #[track_caller]
    pub fn closed(&mut self) {
        assert!(self.s.is_closed());
        assert_eq!(
            self.s.start(self.now, Operation::Noop),
            Err(ftp_sansio::session::UsageError::Closed)
        );
        assert_eq!(self.s.poll_timeout(), None);
        assert!(self.s.poll_transmit().is_empty());
    }

    /// Passive set-up up to the data connection: EPSV → 229 → Connect → Connected.
    #[track_caller]
    pub fn epsv_connect(&mut self, port: u16) {
        self.client("EPSV");
        self.server(&format!("229 Entering Extended Passive Mode (|||{port}|)"));
        let tls = self.s.is_data_tls();
        self.expect_data(DataIntent::Connect {
            addr: SocketAddr::new(self.s.control_peer().ip(), port),
            tls,
        });
        self.data(DataEvent::Connected);
    }
}

/// The reply code of an error, if it carries one.
pub fn code(e: &OpError) -> Option<u16> {
    e.reply().map(|r| r.code().get())
}
