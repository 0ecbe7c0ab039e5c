//! `ftp-mio` against the in-process libunftp server (and scripted peers): several sessions on
//! one poll, listings, downloads and uploads compared byte for byte, typed errors, active
//! mode, backpressure, a session whose server disconnects mid-transfer failing alone.

mod hostile_common;
mod mio_common;

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::rc::Rc;
use std::time::Duration;

use ftp_mio::{Error, Options, SessionId};
use ftp_sansio::session::{Config, OpError, Outcome, TimeoutKind, UsageError};
use ftp_tests::fault::{disconnect, hang, reply, Action, FaultServer};
use ftp_tests::{LocalServer, TestServer, PASSWORD, USER};
use mio_common::{bytes, Loop};

fn config() -> Config {
    Config {
        reply_timeout: Some(Duration::from_secs(20)),
        data_timeout: Some(Duration::from_secs(20)),
        ..Config::default()
    }
}

fn open(l: &mut Loop, server: &dyn TestServer, user: &str, password: &str) -> SessionId {
    let (s, greeting) = l.ftp.connect(server.addr(), config()).unwrap();
    let login = l.ftp.login(s, user, password).unwrap();
    let [g, lg] = <[_; 2]>::try_from(l.wait_all(&[greeting, login])).unwrap();
    assert!(matches!(g.result, Ok(Outcome::Greeting(_))), "{g:?}");
    assert!(matches!(lg.result, Ok(Outcome::LoggedIn(_))), "{lg:?}");
    s
}

fn transferred(c: &ftp_mio::Completion) -> u64 {
    match &c.result {
        Ok(Outcome::Transferred { bytes, .. }) => *bytes,
        other => panic!("expected a transfer, got {other:?}"),
    }
}

/// A sink whose bytes the test can see after the driver took it.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn four_sessions_store_list_retrieve_compare_bytes() {
    let server = LocalServer::start();
    let mut l = Loop::new(8);
    let files: Vec<(String, Vec<u8>)> = (0..4)
        .map(|i| (format!("up{i}.bin"), bytes(i, 300_000 + i as usize * 7919)))
        .collect();
    let sessions: Vec<SessionId> = (0..4)
        .map(|_| open(&mut l, &server, USER, PASSWORD))
        .collect();

    // every session uploads its file at the same time
    let ups: Vec<_> = sessions
        .iter()
        .zip(&files)
        .map(|(&s, (name, data))| l.ftp.store(s, name, io::Cursor::new(data.clone())).unwrap())
        .collect();
    for (c, (name, data)) in l.wait_all(&ups).iter().zip(&files) {
        assert_eq!(transferred(c), data.len() as u64);
        assert_eq!(
            &server.read_file(name).unwrap(),
            data,
            "{name} on the server"
        );
    }

    // every session lists, then downloads all four files (a different order each)
    let mut ops = Vec::new();
    for (i, &s) in sessions.iter().enumerate() {
        ops.push(l.ftp.nlst(s, None).unwrap());
        for k in 0..4 {
            let (name, _) = &files[(i + k) % 4];
            ops.push(l.ftp.retrieve_to_vec(s, name, 1 << 20).unwrap());
        }
    }
    let done = l.wait_all(&ops);
    for (i, chunk) in done.chunks(5).enumerate() {
        let mut names: Vec<&[u8]> = chunk[0]
            .data
            .as_ref()
            .unwrap()
            .split(|&b| b == b'\n')
            .collect();
        assert_eq!(names.pop(), Some(&b""[..]), "listing ends with a line end");
        names.sort();
        assert_eq!(names, [&b"up0.bin"[..], b"up1.bin", b"up2.bin", b"up3.bin"]);
        for k in 0..4 {
            let (_, data) = &files[(i + k) % 4];
            let c = &chunk[1 + k];
            assert_eq!(transferred(c), data.len() as u64);
            assert_eq!(c.data.as_ref().unwrap(), data);
        }
    }

    let quits: Vec<_> = sessions.iter().map(|&s| l.ftp.quit(s).unwrap()).collect();
    for c in l.wait_all(&quits) {
        assert!(matches!(c.result, Ok(Outcome::Closed(_))), "{c:?}");
    }
    l.drain();
    assert_eq!(l.ftp.len(), 0);
    // the slots were freed: the old ids are gone
    assert!(matches!(l.ftp.noop(sessions[0]), Err(Error::NoSuchSession)));
}

#[test]
fn operations_queued_before_the_greeting_run_in_order() {
    let server = LocalServer::start();
    server.write_file("dir/a.txt", b"A").unwrap();
    let mut l = Loop::new(1);
    let (s, greeting) = l.ftp.connect(server.addr(), config()).unwrap();
    let ops = [
        greeting,
        l.ftp.login(s, USER, PASSWORD).unwrap(),
        l.ftp.mkd(s, "made").unwrap(),
        l.ftp.cwd(s, "dir").unwrap(),
        l.ftp.pwd(s).unwrap(),
        l.ftp.size(s, "a.txt").unwrap(),
        l.ftp.rename(s, "a.txt", "b.txt").unwrap(),
        l.ftp.mdtm(s, "b.txt").unwrap(),
        l.ftp.delete(s, "b.txt").unwrap(),
        l.ftp.cwd(s, "..").unwrap(),
        l.ftp.rmd(s, "made").unwrap(),
        l.ftp.quit(s).unwrap(),
    ];
    assert_eq!(l.ftp.pending(s), ops.len());
    let done = l.wait_all(&ops);
    for c in &done {
        assert!(c.result.is_ok(), "{:?}", c);
        assert_eq!(c.session, s);
    }
    assert!(matches!(&done[4].result, Ok(Outcome::Path(p)) if p == b"/dir"));
    assert!(matches!(done[5].result, Ok(Outcome::Size(1))));
    assert!(!server.local_path("dir/a.txt").exists());
    assert!(!server.local_path("dir/b.txt").exists());
    assert!(!server.local_path("made").exists());
    l.drain();
}

#[test]
fn negative_replies_are_typed_errors_and_the_session_goes_on() {
    let server = LocalServer::start();
    server.write_file("there.txt", b"here").unwrap();
    let mut l = Loop::new(2);

    // wrong password: 530, a permanent error, not fatal
    let (bad, g) = l.ftp.connect(server.addr(), config()).unwrap();
    let login = l.ftp.login(bad, USER, "wrong").unwrap();
    let [_, c] = <[_; 2]>::try_from(l.wait_all(&[g, login])).unwrap();
    match c.result {
        Err(Error::Op {
            error: OpError::Permanent(r),
            ..
        }) => assert_eq!(r.code().get(), 530),
        other => panic!("{other:?}"),
    }

    let s = open(&mut l, &server, "anonymous", "");
    let missing = l.ftp.retrieve_to_vec(s, "missing.txt", 1024).unwrap();
    let store = l.ftp.store(s, "new.txt", &b"x"[..]).unwrap(); // anonymous may not write
    let cwd = l.ftp.cwd(s, "no/such/dir").unwrap();
    let bad_arg = l.ftp.delete(s, "a\r\nDELE there.txt").unwrap();
    let small = l.ftp.retrieve_to_vec(s, "there.txt", 2).unwrap();
    let ok = l.ftp.retrieve_to_vec(s, "there.txt", 1024).unwrap();
    let done = l.wait_all(&[missing, store, cwd, bad_arg, small, ok]);
    assert_eq!(
        done[0]
            .result
            .as_ref()
            .unwrap_err()
            .reply()
            .unwrap()
            .code()
            .get(),
        550
    );
    assert!(!done[0].result.as_ref().unwrap_err().is_fatal());
    assert_eq!(done[0].data.as_deref(), Some(&b""[..]));
    assert!(matches!(
        &done[1].result,
        Err(Error::Op { error: OpError::Permanent(r), .. }) if r.code().get() == 550
    ));
    assert!(done[2].result.as_ref().unwrap_err().reply().is_some());
    assert!(
        matches!(
            done[3].result,
            Err(Error::Usage(UsageError::InvalidArgument(_)))
        ),
        "{:?}",
        done[3]
    );
    assert!(
        server.local_path("there.txt").exists(),
        "nothing was injected"
    );
    assert!(
        matches!(done[4].result, Err(Error::BufferFull { limit: 2 })),
        "{:?}",
        done[4]
    );
    assert_eq!(done[5].data.as_deref(), Some(&b"here"[..]));
    assert!(!server.local_path("new.txt").exists());

    // a transfer needs the right kind of data end
    assert!(matches!(
        l.ftp.transfer(
            s,
            ftp_sansio::session::TransferRequest {
                kind: ftp_sansio::session::TransferKind::Stou,
                ascii: false,
                rest: None
            },
            ftp_mio::DataEnd::buffer(10)
        ),
        Err(Error::WrongDataEnd)
    ));
}

#[test]
fn connect_refused_is_an_io_error_of_that_session() {
    // a port that was just free: nothing listens there
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut l = Loop::new(1);
    let (s, greeting) = l.ftp.connect(addr, config()).unwrap();
    let login = l.ftp.login(s, "anonymous", "").unwrap();
    let done = l.wait_all(&[greeting, login]);
    match &done[0].result {
        Err(Error::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        done[1].result,
        Err(Error::Usage(UsageError::Closed))
    ));
    l.drain();
    assert!(l.ftp.session(s).is_none());
}

#[test]
fn active_mode_retrieve_and_store() {
    let server = LocalServer::start();
    let data = bytes(7, 200_000);
    server.write_file("get.bin", &data).unwrap();
    let mut l = Loop::new(2);
    let (s, g) = l
        .ftp
        .connect(
            server.addr(),
            Config {
                passive: false,
                ..config()
            },
        )
        .unwrap();
    let ops = [
        g,
        l.ftp.login(s, USER, PASSWORD).unwrap(),
        l.ftp.retrieve_to_vec(s, "get.bin", 1 << 20).unwrap(),
        l.ftp
            .store(s, "put.bin", io::Cursor::new(data.clone()))
            .unwrap(),
        l.ftp.list(s, None).unwrap(),
    ];
    let done = l.wait_all(&ops);
    assert_eq!(done[2].data.as_ref().unwrap(), &data);
    assert_eq!(transferred(&done[3]), data.len() as u64);
    assert_eq!(server.read_file("put.bin").unwrap(), data);
    let listing = done[4].data.as_ref().unwrap();
    assert!(!listing.contains(&b'\r'), "ASCII listing converted to \\n");
    let names: Vec<_> = ftp_sansio::listing::parse_list(
        listing,
        ftp_sansio::time::Timestamp::date(2030, 1, 1).unwrap(),
    )
    .filter_map(|l| l.entry().map(|e| e.name().to_vec()))
    .collect();
    assert!(names.contains(&b"get.bin".to_vec()) && names.contains(&b"put.bin".to_vec()));
}

/// A sink that takes at most `chunk` bytes per write and refuses (`WouldBlock`) until the
/// test opens it again.
#[derive(Clone)]
struct Gate {
    got: Rc<RefCell<Vec<u8>>>,
    open: Rc<RefCell<bool>>,
    chunk: Rc<RefCell<usize>>,
}

impl Gate {
    fn chunk_set(&self, n: usize) {
        *self.chunk.borrow_mut() = n;
    }
}

impl Write for Gate {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if !*self.open.borrow() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        *self.open.borrow_mut() = false;
        let n = data.len().min(*self.chunk.borrow());
        self.got.borrow_mut().extend_from_slice(&data[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_refusing_sink_stops_socket_reads() {
    let server = LocalServer::start();
    let data = bytes(3, 4 << 20);
    server.write_file("big.bin", &data).unwrap();
    let options = Options {
        data_buffer: 32 * 1024,
        ..Options::default()
    };
    let mut l = Loop::with_options(1, options);
    let s = open(&mut l, &server, USER, PASSWORD);
    let gate = Gate {
        got: Rc::default(),
        open: Rc::new(RefCell::new(true)),
        chunk: Rc::new(RefCell::new(1000)),
    };
    let get = l.ftp.retrieve(s, "big.bin", gate.clone()).unwrap();

    // The sink takes 1000 bytes then refuses. However long we wait, the driver reads at most
    // one buffer beyond what the sink took: the rest stays in the kernel and the server.
    l.run_for(Duration::from_millis(700));
    let moved = l.ftp.progress(s).unwrap();
    let taken = gate.got.borrow().len() as u64;
    assert_eq!(taken, 1000);
    assert!(
        moved <= taken + 32 * 1024,
        "read {moved} bytes for a sink that took {taken}"
    );
    assert!(!l.done.contains_key(&get));

    // Now let it take everything, one resume per chunk.
    gate.chunk_set(16 * 1024);
    let mut rounds = 0u32;
    while !l.done.contains_key(&get) {
        *gate.open.borrow_mut() = true;
        l.ftp.resume(s).unwrap();
        l.turn(Duration::from_millis(1));
        rounds += 1;
        assert!(rounds < 100_000, "no progress");
        let held = l.ftp.progress(s).unwrap_or(data.len() as u64) - gate.got.borrow().len() as u64;
        assert!(held <= 32 * 1024, "holding {held} bytes");
    }
    let c = l.wait(get);
    assert_eq!(transferred(&c), data.len() as u64);
    assert!(*gate.got.borrow() == data, "bytes differ");
}

/// A source that gives at most `chunk` bytes per read and every other read says
/// `WouldBlock`.
struct Stutter {
    data: io::Cursor<Vec<u8>>,
    blocked: bool,
    chunk: usize,
    pauses: Rc<RefCell<u32>>,
}

impl Read for Stutter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.blocked = !self.blocked;
        if self.blocked {
            *self.pauses.borrow_mut() += 1;
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(self.chunk);
        self.data.read(&mut buf[..n])
    }
}

#[test]
fn a_pausing_source_uploads_intact_after_resumes() {
    let server = LocalServer::start();
    let data = bytes(11, 100_000);
    let mut l = Loop::new(1);
    let s = open(&mut l, &server, USER, PASSWORD);
    let pauses = Rc::new(RefCell::new(0));
    let source = Stutter {
        data: io::Cursor::new(data.clone()),
        blocked: false,
        chunk: 4096,
        pauses: pauses.clone(),
    };
    let up = l.ftp.store(s, "slow.bin", source).unwrap();
    while !l.done.contains_key(&up) {
        l.ftp.resume(s).unwrap();
        l.turn(Duration::from_millis(2));
    }
    let c = l.wait(up);
    assert_eq!(transferred(&c), data.len() as u64);
    assert!(*pauses.borrow() > 20);
    assert_eq!(server.read_file("slow.bin").unwrap(), data);
}

#[test]
fn a_session_whose_server_disconnects_mid_transfer_fails_alone() {
    let server = LocalServer::start();
    let big = bytes(5, 2 << 20);
    server.write_file("big.bin", &big).unwrap();

    // The scripted peer announces 1 MiB, sends 100 KiB, then drops control and data.
    let mut script = ftp_tests::fault::well_behaved();
    let mut retr = reply("150 Opening BINARY mode data connection for x (1048576 bytes).");
    retr.push(Action::DataSend(bytes(9, 100_000)));
    retr.push(Action::Sleep(Duration::from_millis(100)));
    retr.extend(disconnect());
    script = script.on("RETR", retr);
    let peer = FaultServer::start(script);

    let mut l = Loop::new(8);
    let good: Vec<SessionId> = (0..3)
        .map(|_| open(&mut l, &server, USER, PASSWORD))
        .collect();
    let (bad, g) = l.ftp.connect(peer.addr(), config()).unwrap();
    let bad_login = l.ftp.login(bad, "u", "p").unwrap();
    let bad_sink = Shared::default();
    let bad_get = l.ftp.retrieve(bad, "x", bad_sink.clone()).unwrap();
    let bad_next = l.ftp.noop(bad).unwrap();
    let gets: Vec<_> = good
        .iter()
        .map(|&s| l.ftp.retrieve_to_vec(s, "big.bin", 4 << 20).unwrap())
        .collect();

    let done = l.wait_all(&[g, bad_login, bad_get, bad_next]);
    assert!(done[0].result.is_ok() && done[1].result.is_ok());
    let err = done[2].result.as_ref().unwrap_err();
    assert!(err.is_fatal(), "{err:?}");
    assert!(
        matches!(
            err,
            Error::Op {
                error: OpError::ConnectionClosed,
                ..
            } | Error::Op {
                error: OpError::Truncated { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(bad_sink.0.borrow().len() <= 100_000);
    assert!(matches!(
        done[3].result,
        Err(Error::Usage(UsageError::Closed))
    ));
    assert!(l.ftp.session(bad).is_none(), "the failed session ended");

    for c in l.wait_all(&gets) {
        assert_eq!(c.data.as_ref().unwrap(), &big);
    }
    for &s in &good {
        assert!(l.ftp.session(s).unwrap().is_idle());
    }
}

#[test]
fn abort_a_running_download() {
    let server = LocalServer::start();
    server.write_file("big.bin", &bytes(1, 32 << 20)).unwrap();
    let mut l = Loop::new(1);
    let s = open(&mut l, &server, USER, PASSWORD);
    let sink = Shared::default();
    let get = l.ftp.retrieve(s, "big.bin", sink.clone()).unwrap();
    while sink.0.borrow().len() < 100_000 {
        l.turn(Duration::from_millis(10));
        assert!(!l.done.contains_key(&get), "finished before the abort");
    }
    assert_eq!(l.ftp.abort(s).unwrap(), get);
    let c = l.wait(get);
    assert!(
        matches!(
            c.result,
            Ok(Outcome::Aborted { .. }) | Err(Error::Op { error: _, .. })
        ),
        "{c:?}"
    );
    // libunftp answers ABOR with `226 Closed data channel` and sends the aborted transfer's
    // `426 Connection closed` whenever its sender task notices, which under load can be after
    // NOOP's 200: the session skips it when it comes as the reply to the next command (no
    // wait here), and the next transfer works.
    let after = l.ftp.retrieve_to_vec(s, "big.bin", 64 << 20).unwrap();
    let c = l.wait(after);
    assert!(c.result.is_ok(), "{:?}", c.result);
    assert_eq!(c.data.unwrap().len(), 32 << 20);
}

#[test]
fn disconnect_by_the_caller_completes_everything() {
    let server = LocalServer::start();
    let mut l = Loop::new(2);
    let s = open(&mut l, &server, USER, PASSWORD);
    let a = l.ftp.noop(s).unwrap();
    let b = l.ftp.pwd(s).unwrap();
    l.ftp.disconnect(s).unwrap();
    let done = l.wait_all(&[a, b]);
    assert!(done
        .iter()
        .all(|c| matches!(c.result, Err(Error::Usage(UsageError::Closed)))));
    assert!(l.ftp.is_empty());
    // the slot is usable again, with a new id
    let s2 = open(&mut l, &server, USER, PASSWORD);
    assert_ne!(s, s2);
    assert_eq!(s.slot(), s2.slot());
}

#[test]
fn sessions_full_is_an_error() {
    let server = LocalServer::start();
    let mut l = Loop::new(1);
    let _s = open(&mut l, &server, USER, PASSWORD);
    assert!(matches!(
        l.ftp.connect(server.addr(), config()),
        Err(Error::NoFreeSlot(1))
    ));
}

#[test]
fn a_silent_server_times_out_by_the_reported_deadline() {
    // Greets, then never answers: the reply deadline must be what wakes the loop.
    let peer = FaultServer::start(ftp_tests::fault::well_behaved().on("USER", hang()));
    let mut l = Loop::new(1);
    let config = Config {
        reply_timeout: Some(Duration::from_millis(300)),
        ..config()
    };
    let (s, g) = l.ftp.connect(peer.addr(), config).unwrap();
    let login = l.ftp.login(s, "u", "p").unwrap();
    assert!(l.wait(g).result.is_ok());
    let started = std::time::Instant::now();
    let deadline = l
        .ftp
        .next_deadline()
        .expect("a reply deadline while USER waits");
    assert!(deadline > started && deadline <= started + Duration::from_millis(400));
    // Poll with the timeout the driver reports. The server sends nothing, but the socket
    // may still report readiness (the write of USER completing): such wake-ups are handled
    // and must not end the login; the reported timeout must, once the deadline passed,
    // within a few polls (no busy loop, no wait beyond it).
    let mut polls = 0;
    let c = loop {
        let wait = l
            .ftp
            .poll_timeout()
            .expect("a deadline until the login ends");
        ftp_tests::poll_once(&mut l.poll, &mut l.events, Some(wait));
        polls += 1;
        for event in l.events.iter() {
            assert!(l.ftp.handle_event(event));
        }
        l.ftp.handle_timeouts();
        if let Some(c) = l.ftp.poll_completion() {
            break c;
        }
        assert!(polls < 10, "{polls} polls and the login has not timed out");
    };
    assert!(
        std::time::Instant::now() >= deadline,
        "the login ended before its deadline"
    );
    assert!(polls <= 4, "{polls} polls for one timeout");
    assert_eq!(c.op, login);
    assert!(
        matches!(
            c.result,
            Err(Error::Op {
                error: OpError::Timeout(TimeoutKind::Reply),
                ..
            })
        ),
        "{:?}",
        c.result
    );
    assert!(started.elapsed() >= Duration::from_millis(290));
    assert!(
        l.ftp.session(s).is_none(),
        "a reply timeout ends the session"
    );
    assert_eq!(l.ftp.next_deadline(), None);
}

#[test]
fn sessions_to_two_servers_side_by_side() {
    let a = LocalServer::start();
    let b = LocalServer::start();
    let da = bytes(21, 500_000);
    let db = bytes(22, 700_000);
    a.write_file("x.bin", &da).unwrap();
    b.write_file("x.bin", &db).unwrap();
    let mut l = Loop::new(4);
    let sa = open(&mut l, &a, USER, PASSWORD);
    let sb = open(&mut l, &b, "anonymous", "");
    let ops = [
        l.ftp.retrieve_to_vec(sa, "x.bin", 1 << 20).unwrap(),
        l.ftp.retrieve_to_vec(sb, "x.bin", 1 << 20).unwrap(),
        l.ftp
            .store(sa, "from_b.bin", io::Cursor::new(db.clone()))
            .unwrap(),
    ];
    let done = l.wait_all(&ops);
    assert_eq!(done[0].data.as_ref().unwrap(), &da);
    assert_eq!(done[1].data.as_ref().unwrap(), &db);
    assert_eq!(a.read_file("from_b.bin").unwrap(), db);
    assert!(done.iter().all(|c| c.result.is_ok()));
}

#[test]
fn ascii_transfers_convert_line_ends() {
    use ftp_mio::DataEnd;
    use ftp_sansio::session::{TransferKind, TransferRequest};
    // libunftp stores and sends bytes as they are (TYPE A is accepted and ignored), so the
    // file on disk shows exactly what went over the wire.
    let server = LocalServer::start();
    server
        .write_file("crlf.txt", b"one\r\ntwo\r\n\r\nthree")
        .unwrap();
    let mut l = Loop::new(1);
    let s = open(&mut l, &server, USER, PASSWORD);
    let get = TransferRequest {
        kind: TransferKind::Retr(b"crlf.txt".to_vec()),
        ascii: true,
        rest: None,
    };
    let put = TransferRequest {
        kind: TransferKind::Stor(b"lf.txt".to_vec()),
        ascii: true,
        rest: None,
    };
    let ops = [
        l.ftp.transfer(s, get, DataEnd::buffer(1024)).unwrap(),
        l.ftp
            .transfer(s, put, DataEnd::source(&b"a\nb\r\nc\n"[..]))
            .unwrap(),
    ];
    let done = l.wait_all(&ops);
    assert_eq!(done[0].data.as_deref(), Some(&b"one\ntwo\n\nthree"[..]));
    // bytes on the wire, before conversion
    assert_eq!(transferred(&done[0]), 17);
    assert_eq!(server.read_file("lf.txt").unwrap(), b"a\r\nb\r\nc\r\n");
    assert_eq!(transferred(&done[1]), 9);
}

#[test]
fn a_failing_sink_fails_the_transfer_alone() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let server = LocalServer::start();
    server.write_file("f.bin", &bytes(1, 3 << 20)).unwrap();
    let mut l = Loop::new(1);
    let s = open(&mut l, &server, USER, PASSWORD);
    let bad = l.ftp.retrieve(s, "f.bin", Broken).unwrap();
    let next = l.ftp.size(s, "f.bin").unwrap();
    let done = l.wait_all(&[bad, next]);
    match &done[0].result {
        Err(Error::Local(e)) => assert_eq!(e.kind(), io::ErrorKind::StorageFull),
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(done[1].result, Ok(Outcome::Size(n)) if n == 3 << 20),
        "{:?}",
        done[1]
    );
}

/// A source that counts what the driver took from it.
struct Counting {
    left: u64,
    taken: Rc<RefCell<u64>>,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        buf[..n].fill(b'u');
        self.left -= n as u64;
        *self.taken.borrow_mut() += n as u64;
        Ok(n)
    }
}

#[test]
fn a_server_that_stops_reading_stops_the_source() {
    // The server accepts the upload's data connection and never reads it: once the kernel
    // buffers are full, the driver takes at most one buffer more from the source.
    let mut script = ftp_tests::fault::well_behaved();
    let mut stor = reply("150 Ok to send data.");
    stor.push(Action::DataOpen);
    stor.extend(hang());
    script = script.on("STOR", stor);
    let peer = FaultServer::start(script);
    let options = Options {
        data_buffer: 16 * 1024,
        ..Options::default()
    };
    let mut l = Loop::with_options(1, options);
    let (s, g) = l.ftp.connect(peer.addr(), config()).unwrap();
    let login = l.ftp.login(s, "u", "p").unwrap();
    l.wait_all(&[g, login]);
    let taken = Rc::new(RefCell::new(0u64));
    let source = Counting {
        left: 1 << 30,
        taken: taken.clone(),
    };
    let up = l.ftp.store(s, "x", source).unwrap();
    l.run_for(Duration::from_millis(800));
    let on_wire = l.ftp.progress(s).unwrap();
    let from_source = *taken.borrow();
    assert!(on_wire > 0 && on_wire < 1 << 30, "{on_wire}");
    assert!(
        from_source <= on_wire + 16 * 1024,
        "took {from_source} bytes from the source for {on_wire} written"
    );
    assert!(!l.done.contains_key(&up));
}

#[test]
fn the_fairness_budget_defers_work_without_losing_bytes() {
    let server = LocalServer::start();
    let data = bytes(77, 6 << 20);
    server.write_file("big.bin", &data).unwrap();
    let options = Options {
        fairness_budget: 64 * 1024,
        ..Options::default()
    };
    let mut l = Loop::with_options(2, options);
    let a = open(&mut l, &server, USER, PASSWORD);
    let b = open(&mut l, &server, USER, PASSWORD);
    let get_a = l.ftp.retrieve_to_vec(a, "big.bin", 8 << 20).unwrap();
    let get_b = l.ftp.retrieve_to_vec(b, "big.bin", 8 << 20).unwrap();
    let mut deferred = 0;
    let start = std::time::Instant::now();
    while !(l.done.contains_key(&get_a) && l.done.contains_key(&get_b)) {
        if l.ftp.poll_timeout() == Some(Duration::ZERO) {
            deferred += 1;
        }
        l.turn(Duration::from_millis(100));
        assert!(start.elapsed() < Duration::from_secs(60));
    }
    assert!(
        deferred > 0,
        "a 64 KiB budget never deferred work on 12 MiB"
    );
    for op in [get_a, get_b] {
        let c = l.done.remove(&op).unwrap();
        assert!(c.data.unwrap() == data);
    }
}

/// A request refused at once (here: CR/LF in the path) queues its completion inside the call;
/// `poll_timeout` must then be zero, or a caller's loop would sleep with work waiting (an
/// idle session has no deadline, so the old answer was `None`: wait forever).
#[test]
fn a_completion_queued_by_the_request_itself_makes_the_poll_timeout_zero() {
    let server = LocalServer::start();
    let mut l = Loop::new(1);
    let s = open(&mut l, &server, "anonymous", "");
    assert_eq!(l.ftp.next_deadline(), None, "idle: nothing to wait for");
    let bad = l.ftp.cwd(s, "a\r\nDELE b").unwrap();
    assert_eq!(l.ftp.poll_timeout(), Some(Duration::ZERO));
    let done = l.ftp.poll_completion().expect("the refusal is waiting");
    assert_eq!(done.op, bad);
    assert!(matches!(
        done.result,
        Err(Error::Usage(UsageError::InvalidArgument(_)))
    ));
    assert_eq!(l.ftp.poll_timeout(), None);
}

#[test]
fn a_failed_login_cancels_what_was_queued_behind_it() {
    // Issue 16: a wrong password used to give one 530 per queued operation.
    let server = LocalServer::start();
    server.write_file("there.txt", b"here").unwrap();
    let mut l = Loop::new(1);
    let (s, g) = l.ftp.connect(server.addr(), config()).unwrap();
    let login = l.ftp.login(s, USER, "wrong").unwrap();
    let queued: Vec<_> = (0..5)
        .map(|_| l.ftp.retrieve_to_vec(s, "there.txt", 1024).unwrap())
        .collect();
    let mut all = vec![g, login];
    all.extend(&queued);
    let done = l.wait_all(&all);
    match &done[1].result {
        Err(Error::Op {
            error: OpError::Permanent(r),
            ..
        }) => assert_eq!(r.code().get(), 530),
        other => panic!("{other:?}"),
    }
    for c in &done[2..] {
        match &c.result {
            Err(e @ Error::Cancelled { login: l }) => {
                assert_eq!(*l, login);
                assert!(!e.is_fatal());
            }
            other => panic!("{other:?}"),
        }
    }
    // The session is still there: a correct login and a download work.
    let login = l.ftp.login(s, USER, PASSWORD).unwrap();
    let get = l.ftp.retrieve_to_vec(s, "there.txt", 1024).unwrap();
    let done = l.wait_all(&[login, get]);
    assert!(done[0].result.is_ok(), "{:?}", done[0].result);
    assert_eq!(done[1].data.as_deref(), Some(&b"here"[..]));
    let quit = l.ftp.quit(s).unwrap();
    l.wait(quit);
    l.drain();
}

#[test]
fn retrieve_from_resumes_at_an_offset() {
    let server = LocalServer::start();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    server.write_file("big.bin", &data).unwrap();
    let mut l = Loop::new(1);
    let s = open(&mut l, &server, USER, PASSWORD);
    let got = Rc::new(RefCell::new(Vec::new()));
    let sink = SharedVec(got.clone());
    let op = l.ftp.retrieve_from(s, "big.bin", 60_000, sink).unwrap();
    let c = l.wait(op);
    match c.result {
        Ok(Outcome::Transferred { bytes, .. }) => assert_eq!(bytes, 40_000),
        other => panic!("{other:?}"),
    }
    assert_eq!(&got.borrow()[..], &data[60_000..]);
    let quit = l.ftp.quit(s).unwrap();
    l.wait(quit);
    l.drain();
}

/// A sink the test can read afterwards.
struct SharedVec(Rc<RefCell<Vec<u8>>>);

impl std::io::Write for SharedVec {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// ---- ftp-mio's own halves of conformance scenarios ----------------------------------------
//
// The shared cases run for every driver in `conformance/`; these check the same scripts
// through what only ftp-mio has: queued operations, driver-owned buffers, raw paths.

/// Connected to `server` with short timeouts and logged in.
fn scripted(l: &mut Loop, server: &FaultServer) -> SessionId {
    let config = Config {
        reply_timeout: Some(Duration::from_secs(1)),
        data_timeout: Some(Duration::from_secs(1)),
        auto_feat: false,
        ..Config::default()
    };
    let (s, g) = l.ftp.connect(server.addr(), config).unwrap();
    let login = l.ftp.login(s, "u", "p").unwrap();
    for c in l.wait_all(&[g, login]) {
        assert!(c.result.is_ok(), "{c:?}");
    }
    s
}

/// The conformance scenario `data_closed_early_with_announced_size`, into a driver-owned
/// buffer: the partial data never comes as a success.
#[test]
fn a_truncated_download_into_a_buffer_is_an_error() {
    let data = bytes(3, 100_000);
    let mut retr = reply("150 Opening BINARY mode data connection for f (100000 bytes).");
    retr.push(Action::DataSend(data[..40_000].to_vec()));
    retr.push(Action::DataClose);
    retr.extend(reply("226 Transfer complete."));
    let server = FaultServer::start(ftp_tests::fault::well_behaved().on("RETR", retr));
    let mut l = Loop::new(1);
    let s = scripted(&mut l, &server);
    let op = l.ftp.retrieve_to_vec(s, "f", 1 << 20).unwrap();
    let c = l.wait(op);
    assert!(
        matches!(
            c.result,
            Err(Error::Op {
                error: OpError::Truncated {
                    expected: 100_000,
                    received: 40_000,
                    ..
                },
                ..
            })
        ),
        "{:?}",
        c.result
    );
    assert!(l.ftp.session(s).unwrap().is_idle());
}

/// The conformance scenario `disconnect_after_user`, with an operation queued behind the
/// login: it fails too (the session closed before its turn) instead of waiting forever.
#[test]
fn an_operation_queued_behind_a_dropped_login_fails() {
    let server = FaultServer::start(ftp_tests::fault::well_behaved().on("USER", disconnect()));
    let mut l = Loop::new(1);
    let (s, g) = l.ftp.connect(server.addr(), config()).unwrap();
    let login = l.ftp.login(s, "u", "p").unwrap();
    let pwd = l.ftp.pwd(s).unwrap();
    let done = l.wait_all(&[g, login, pwd]);
    assert!(done[0].result.is_ok());
    assert!(matches!(
        done[1].result,
        Err(Error::Op {
            error: OpError::ConnectionClosed,
            ..
        })
    ));
    assert!(
        matches!(done[2].result, Err(Error::Usage(UsageError::Closed))),
        "{:?}",
        done[2].result
    );
    assert!(l.ftp.session(s).is_none());
    assert_eq!(server.verbs(), ["USER"]);
}

/// The conformance scenario `invalid_utf8_in_replies` compares paths as (lossy) text, the
/// common ground of the drivers' APIs; ftp-mio hands out the path's bytes unchanged.
#[test]
fn a_path_with_invalid_utf8_keeps_its_bytes() {
    let server = FaultServer::start(ftp_tests::fault::well_behaved().on(
        "PWD",
        ftp_tests::fault::raw(b"257 \"/d\xe9j\xe0 vu\" is current\r\n"),
    ));
    let mut l = Loop::new(1);
    let s = scripted(&mut l, &server);
    let op = l.ftp.pwd(s).unwrap();
    match l.wait(op).result {
        Ok(Outcome::Path(p)) => assert_eq!(p, b"/d\xe9j\xe0 vu"),
        other => panic!("{other:?}"),
    }
}

/// The conformance scenario `ten_mib_listing_line` runs with a 1 MiB listing limit. ftp-mio
/// bounds only the whole listing: below the line its error names the limit and keeps no more
/// than the limit; its default limit (64 MiB) holds the line, byte for byte.
#[test]
fn the_listing_limit_and_a_ten_mib_line() {
    let list = hostile_common::ten_mib_listing_line;
    let server = FaultServer::start(ftp_tests::fault::well_behaved().on("LIST", list()));
    let options = Options {
        listing_limit: 1 << 20,
        ..Options::default()
    };
    let mut l = Loop::with_options(1, options);
    let s = scripted(&mut l, &server);
    let op = l.ftp.list(s, None).unwrap();
    let c = l.wait(op);
    assert!(
        matches!(c.result, Err(Error::BufferFull { limit }) if limit == 1 << 20),
        "{:?}",
        c.result
    );
    assert!(c.data.map_or(0, |d| d.len()) <= 1 << 20);

    let server = FaultServer::start(ftp_tests::fault::well_behaved().on("LIST", list()));
    let mut l = Loop::new(1);
    let s = scripted(&mut l, &server);
    let op = l.ftp.list(s, None).unwrap();
    let c = l.wait(op);
    assert!(c.result.is_ok(), "{:?}", c.result);
    let data = c.data.unwrap();
    let head = hostile_common::TEN_MIB_HEAD;
    assert_eq!(data.len(), head.len() + (10 << 20));
    assert!(data.starts_with(head) && data[head.len()..].iter().all(|&b| b == b'n'));
}

#[test]
fn errors_name_the_operation_and_the_server() {
    // Issue 16: `permanent failure: 550 ...` alone said neither what nor where.
    let server = LocalServer::start();
    let mut l = Loop::new(1);
    let s = open(&mut l, &server, USER, PASSWORD);
    let get = l.ftp.retrieve_to_vec(s, "no/such-file.txt", 1024).unwrap();
    let login = l.ftp.login(s, USER, "not-the-password-xyz").unwrap();
    let done = l.wait_all(&[get, login]);
    let text = done[0].result.as_ref().unwrap_err().to_string();
    let want = format!(
        "RETR no/such-file.txt on {}: permanent failure: 5",
        server.addr()
    );
    assert!(text.starts_with(&want), "{text}");
    let text = done[1].result.as_ref().unwrap_err().to_string();
    assert!(
        text.starts_with(&format!("USER {USER} / PASS ******** on ")),
        "{text}"
    );
    assert!(!text.contains("not-the-password-xyz"), "{text}");
    let quit = l.ftp.quit(s).unwrap();
    l.wait(quit);
    l.drain();
}
