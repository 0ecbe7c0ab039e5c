//! [`Driver`] for ftp-mio: a [`Sessions`] with one session on a poll of its own, and the
//! caller's loop around it. The loop waits only as long as [`Sessions::poll_timeout`] says and
//! checks that it says something whenever an operation is pending: a driver that forgot a
//! deadline fails here instead of hanging.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use ftp_mio::tls::{TlsConfig, TlsVersions};
use ftp_mio::{Completion, DataEnd, Error, OpId, Options, SessionId, Sessions};
use ftp_sansio::listing::{parse_list, parse_mlsd, parse_nlst_line};
use ftp_sansio::reply::Reply;
use ftp_sansio::session::{Operation, Outcome, TransferKind, TransferRequest, UsageError};
use ftp_sansio::time::Timestamp;
use mio::{Events, Poll, Token};

use crate::driver::{
    login_operation, Class, Cmd, Download, Driver, Failure, ListKind, Setup, Success, TlsVersion,
    Upload, Verdict,
};
use crate::hostile_common::BOUND;

/// ftp-mio's session and the loop that drives it.
pub struct Mio {
    poll: Poll,
    events: Events,
    ftp: Sessions,
    session: Option<SessionId>,
    done: Vec<Completion>,
    listing_limit: usize,
    tls_versions: TlsVersion,
}

/// A sink the adapter reads after the driver took it; fails once it holds `fails_after`.
#[derive(Clone, Default)]
struct Shared {
    buf: Rc<RefCell<Vec<u8>>>,
    fails_after: Option<usize>,
}

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let mut buf = self.buf.borrow_mut();
        if self.fails_after.is_some_and(|n| buf.len() >= n) {
            return Err(io::Error::other("the sink failed"));
        }
        buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A source of `data` that fails after `fails_after` bytes, if set.
struct Source {
    data: io::Cursor<Vec<u8>>,
    fails_after: Option<usize>,
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self
            .fails_after
            .is_some_and(|n| self.data.position() >= n as u64)
        {
            return Err(io::Error::other("the source failed"));
        }
        self.data.read(buf)
    }
}

/// The neutral verdict of an ftp-mio error.
fn failure(e: Error) -> Verdict {
    let io = match &e {
        Error::Io(io) | Error::Local(io) => Some(io.kind()),
        _ => None,
    };
    let (class, fatal) = match &e {
        Error::Op { error: op, .. } => return Verdict::op(op.clone()),
        Error::Io(io) if io.kind() == io::ErrorKind::TimedOut => (Class::Timeout, true),
        Error::Io(_) => (Class::Io, true),
        Error::Local(_) => (Class::Io, false),
        Error::BufferFull { .. } => (Class::TooLarge, false),
        Error::TlsUnsupported | Error::Tls { .. } => (Class::Tls, true),
        Error::Usage(UsageError::Closed) | Error::NoSuchSession => (Class::Closed, true),
        Error::Usage(_) => (Class::Usage, false),
        #[allow(unreachable_patterns)]
        other => panic!("an error the adapter does not expect: {other:?}"),
    };
    Verdict::Err(Failure {
        class,
        code: e.reply().map(|r| r.code().get()),
        fatal,
        op: None,
        io,
        message: e.to_string(),
    })
}

fn verdict(r: Result<Outcome, Error>) -> Verdict {
    match r {
        Ok(
            Outcome::Greeting(r)
            | Outcome::LoggedIn(r)
            | Outcome::Done(r)
            | Outcome::Closed(r)
            | Outcome::Aborted { reply: r }
            | Outcome::Transferred { reply: r, .. },
        ) => Verdict::reply(r),
        Ok(Outcome::Path(p)) => Verdict::Ok(Success {
            path: Some(String::from_utf8_lossy(&p).into_owned()),
            ..Success::default()
        }),
        Ok(Outcome::Size(n)) => Verdict::Ok(Success {
            number: Some(n),
            ..Success::default()
        }),
        Ok(Outcome::Mtime(t)) => Verdict::Ok(Success {
            number: u64::try_from(t.unix_seconds()).ok(),
            ..Success::default()
        }),
        Ok(_) => Verdict::Ok(Success::default()),
        Err(e) => failure(e),
    }
}

impl Mio {
    fn id(&self) -> SessionId {
        self.session.expect("connect made a session")
    }

    /// One turn of the caller's loop: poll as long as the driver says, hand over events and
    /// timeouts, collect completions.
    fn turn(&mut self, start: Instant, what: &str) {
        let now = Instant::now();
        assert!(
            now - start < BOUND,
            "mio: {what} did not complete within {BOUND:?}"
        );
        let timeout = self.ftp.poll_timeout();
        if let Some(s) = self.session {
            if self.ftp.pending(s) > 0 {
                assert!(timeout.is_some(), "mio: {what} pending without a deadline");
            }
        }
        let timeout = timeout.unwrap_or(BOUND).min(BOUND);
        ftp_tests::poll_once(&mut self.poll, &mut self.events, Some(timeout));
        for event in self.events.iter() {
            assert!(self.ftp.handle_event(event), "foreign token");
        }
        self.ftp.handle_timeouts();
        while let Some(c) = self.ftp.poll_completion() {
            self.done.push(c);
        }
    }

    /// What a caller's loop does between requests: hands over the events that are already
    /// there (a server's `421` and close while the session was idle), without waiting.
    fn idle(&mut self) {
        ftp_tests::poll_once(&mut self.poll, &mut self.events, Some(Duration::ZERO));
        for event in self.events.iter() {
            assert!(self.ftp.handle_event(event), "foreign token");
        }
        self.ftp.handle_timeouts();
        while let Some(c) = self.ftp.poll_completion() {
            self.done.push(c);
        }
    }

    /// Runs the loop until `op` completes (within [`BOUND`]).
    fn wait(&mut self, op: OpId) -> Completion {
        let start = Instant::now();
        loop {
            // A request refused when its turn came completes inside the call: collect first.
            while let Some(c) = self.ftp.poll_completion() {
                self.done.push(c);
            }
            if let Some(i) = self.done.iter().position(|c| c.op == op) {
                return self.done.remove(i);
            }
            self.turn(start, &format!("operation {op}"));
        }
    }

    /// Starts with `start` and waits: the verdict of the completion, or of the refusal.
    fn run(
        &mut self,
        start: impl FnOnce(&mut Sessions, SessionId) -> Result<OpId, Error>,
    ) -> Verdict {
        let Some(s) = self.session else {
            return Verdict::failure(Class::Closed, true, "never connected");
        };
        self.idle();
        match start(&mut self.ftp, s) {
            Ok(op) => verdict(self.wait(op).result),
            Err(e) => self.refused(e),
        }
    }

    /// The verdict of a request refused when it was made: fatal only if the session is gone
    /// (ftp-mio's `Error::is_fatal` describes what such an error does to a running session).
    fn refused(&self, e: Error) -> Verdict {
        match failure(e) {
            Verdict::Err(mut f) => {
                f.fatal = !self.is_open();
                Verdict::Err(f)
            }
            ok => ok,
        }
    }

    fn op(&mut self, operation: Operation) -> Verdict {
        self.run(|ftp, s| ftp.start(s, operation))
    }
}

impl Driver for Mio {
    const NAME: &'static str = "mio";

    fn connect(addr: SocketAddr, setup: &Setup) -> (Self, Verdict) {
        let poll = Poll::new().unwrap();
        let ftp = Sessions::new(poll.registry(), Token(0), 1).unwrap();
        let mut me = Mio {
            poll,
            events: Events::with_capacity(64),
            ftp,
            session: None,
            done: Vec::new(),
            listing_limit: setup
                .listing_limit
                .unwrap_or(Options::default().listing_limit),
            tls_versions: setup.tls_versions,
        };
        let (s, greeting) = match me.ftp.connect(addr, setup.config.clone()) {
            Ok(x) => x,
            Err(e) => return (me, failure(e)),
        };
        me.session = Some(s);
        // the greeting's deadline is reported to the loop at once
        let wake = me.ftp.poll_timeout();
        assert!(wake.is_some(), "mio: no deadline while connecting");
        if let (Some(wake), Some(reply)) = (wake, setup.config.reply_timeout) {
            assert!(wake <= reply, "mio: woken after {wake:?}, beyond {reply:?}");
        }
        let v = verdict(me.wait(greeting).result);
        (me, v)
    }

    fn welcome(&self) -> Option<Reply> {
        self.ftp.session(self.session?)?.welcome().cloned()
    }

    fn login(&mut self, user: &str, password: &str) -> Verdict {
        self.op(login_operation(user, password))
    }

    fn command(&mut self, cmd: Cmd<'_>) -> Verdict {
        self.op(cmd.operation())
    }

    fn download(&mut self, request: Download<'_>) -> (Verdict, Vec<u8>) {
        let sink = Shared {
            buf: Rc::default(),
            fails_after: request.sink_fails_after,
        };
        let req = TransferRequest {
            kind: TransferKind::Retr(p_bytes(request.path)),
            ascii: false,
            rest: request.rest,
        };
        let end = DataEnd::sink(sink.clone());
        let v = self.run(|ftp, s| ftp.transfer(s, req, end));
        let got = sink.buf.borrow().clone();
        (v, got)
    }

    fn upload(&mut self, request: Upload<'_>) -> Verdict {
        let path = p_bytes(request.path);
        let req = TransferRequest {
            kind: if request.append {
                TransferKind::Appe(path)
            } else {
                TransferKind::Stor(path)
            },
            ascii: false,
            rest: request.rest,
        };
        let end = DataEnd::source(Source {
            data: io::Cursor::new(request.data.to_vec()),
            fails_after: request.source_fails_after,
        });
        self.run(|ftp, s| ftp.transfer(s, req, end))
    }

    fn listing(&mut self, kind: ListKind, path: Option<&str>) -> (Verdict, Vec<Vec<u8>>) {
        let path = path.map(p_bytes);
        let req = TransferRequest {
            kind: match kind {
                ListKind::Nlst => TransferKind::Nlst(path),
                ListKind::List => TransferKind::List(path),
                ListKind::Mlsd => TransferKind::Mlsd(path),
            },
            ascii: true,
            rest: None,
        };
        let Some(s) = self.session else {
            return (
                Verdict::failure(Class::Closed, true, "never connected"),
                vec![],
            );
        };
        self.idle();
        let c = match self
            .ftp
            .transfer(s, req, DataEnd::buffer(self.listing_limit))
        {
            Ok(op) => self.wait(op),
            Err(e) => return (self.refused(e), Vec::new()),
        };
        let v = verdict(c.result);
        if !v.is_ok() {
            return (v, Vec::new());
        }
        let data = c.data.unwrap_or_default();
        let now = Timestamp::new(2026, 1, 1, 0, 0, 0).expect("a valid date");
        let names = match kind {
            ListKind::Nlst => data
                .split(|&b| b == b'\n')
                .filter_map(parse_nlst_line)
                .map(<[u8]>::to_vec)
                .collect(),
            ListKind::List => parse_list(&data, now)
                .filter_map(|l| l.entry().map(|e| e.name().to_vec()))
                .collect(),
            ListKind::Mlsd => parse_mlsd(&data)
                .filter_map(|l| l.entry().map(|e| e.name().to_vec()))
                .collect(),
        };
        (v, names)
    }

    fn abort_download(&mut self, path: &str, after: usize) -> Verdict {
        let sink = Shared::default();
        let req = TransferRequest {
            kind: TransferKind::Retr(p_bytes(path)),
            ascii: false,
            rest: None,
        };
        let s = self.id();
        self.idle();
        let get = match self.ftp.transfer(s, req, DataEnd::sink(sink.clone())) {
            Ok(op) => op,
            Err(e) => return self.refused(e),
        };
        let start = Instant::now();
        while sink.buf.borrow().len() < after {
            if let Some(i) = self.done.iter().position(|c| c.op == get) {
                let c = self.done.remove(i);
                return match verdict(c.result) {
                    Verdict::Ok(s) => panic!("mio: the download ended before the abort: {s:?}"),
                    failed => failed,
                };
            }
            self.turn(start, "the download before the abort");
        }
        match self.ftp.abort(s) {
            Ok(op) => {
                assert_eq!(op, get, "mio: abort names another operation");
                verdict(self.wait(get).result)
            }
            Err(e) => self.refused(e),
        }
    }

    fn abort_idle(&mut self) -> Verdict {
        self.run(|ftp, s| ftp.abort(s))
    }

    fn quit(&mut self) -> Verdict {
        self.run(|ftp, s| ftp.quit(s))
    }

    fn is_open(&self) -> bool {
        self.session.is_some_and(|s| self.ftp.session(s).is_some())
    }

    fn auth_tls(&mut self, server_name: &str, trust: Option<&[u8]>) -> Verdict {
        let tls = match trust {
            Some(pem) => TlsConfig::builder()
                .without_webpki_roots()
                .add_root_pem(pem)
                .map(|b| b.versions(versions(self.tls_versions)))
                .and_then(|b| b.build())
                .expect("a client TLS configuration"),
            None => TlsConfig::new(),
        };
        self.run(|ftp, s| ftp.auth_tls(s, server_name, &tls))
    }

    fn prot_p(&mut self) -> Verdict {
        self.run(|ftp, s| ftp.prot_p(s))
    }

    fn tls_data_handshakes(&self) -> Option<(u64, u64)> {
        self.ftp
            .tls_info(self.session?)
            .map(|i| (i.data_handshakes, i.data_resumed))
    }

    fn close(&mut self) {
        if let Some(s) = self.session {
            let _ = self.ftp.disconnect(s);
        }
    }
}

fn p_bytes(p: &str) -> Vec<u8> {
    p.as_bytes().to_vec()
}

/// The driver's name for a neutral TLS version choice.
fn versions(v: TlsVersion) -> TlsVersions {
    match v {
        TlsVersion::Tls12 => TlsVersions::Tls12,
        TlsVersion::Tls13 => TlsVersions::Tls13,
    }
}
