//! `Config::pipeline_passive` against every server of the suite, through `ftp-mio` (whose
//! per-session queue announces the next operation to the core): many consecutive small
//! downloads, a download of a missing file in the middle, an abort with the next
//! transfer's `EPSV` outstanding; every byte compared, the session checked to stay in step
//! (the transfers after each event succeed, then `NOOP` and `QUIT`).
//!
//! A small recording proxy sits on the control connection: it shows the early `EPSV` on the
//! wire, in the same write as the `RETR` before it.
//!
//! What the servers do (also in the docs of `Config::pipeline_passive`):
//! - vsftpd, ProFTPD, Pure-FTPd read the early `EPSV` only once the transfer has ended and
//!   answer it right after the transfer's final reply: every transfer pipelined, all pass;
//!   on `ABOR` they answer `426` (Pure-FTPd: the end of its `150`), then `229`, then
//!   `ABOR`'s `225`/`226`.
//! - pyftpdlib and libunftp act on `EPSV` during the transfer: `229` comes before the
//!   transfer's final reply. pyftpdlib closes the running transfer's data connection
//!   (sometimes still answering `226`, sometimes never answering the `RETR`) and may then
//!   leave a later `RETR` of the session unanswered for good; libunftp's transfer may survive
//!   (small files) or get no data. The session stops pipelining at that first out-of-order
//!   `229` and fails the transfer that was running (its data is not trusted); with
//!   libunftp everything after it passes.
//!
//! The server tests are `#[ignore]`d: `tests/run-all.sh` installs the system servers and runs
//! them. The last test (a scripted server, the switch on and off) runs in every `cargo test`.

mod mio_common;

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ftp_mio::{DataEnd, OpId, SessionId};
use ftp_sansio::session::{Config, OpError, Outcome, TransferKind, TransferRequest};
use ftp_tests::{passive_ranges, LocalServer, ServerKind, SystemServer, TestServer};
use mio_common::{bytes, Loop};

/// Small files per run (each downloaded twice).
const FILES: usize = 40;
/// What the abort's sink takes before it pushes back (the transfer then pauses).
const GATE: usize = 256 * 1024;

fn size_of(n: usize) -> usize {
    match n % 8 {
        0 => 0,
        1 => 1,
        2 => 70_000 + n,
        _ => 4096,
    }
}

/// Forwards control connections to `upstream`, keeping every chunk the client wrote.
struct Recorder {
    addr: SocketAddr,
    writes: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Recorder {
    fn start(upstream: SocketAddr) -> Recorder {
        let listener = TcpListener::bind(SocketAddr::new(upstream.ip(), 0)).expect("bind");
        let addr = listener.local_addr().expect("addr");
        let writes = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&writes);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { return };
                let Ok(mut server) = TcpStream::connect(upstream) else {
                    return;
                };
                let _ = server.set_nodelay(true);
                let _ = client.set_nodelay(true);
                let (mut c2, mut s2) = (
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                std::thread::spawn(move || {
                    let _ = io::copy(&mut s2, &mut c2);
                    let _ = c2.shutdown(std::net::Shutdown::Write);
                });
                let log = Arc::clone(&log);
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        match client.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                log.lock().unwrap().push(buf[..n].to_vec());
                                if server.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = server.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        Recorder { addr, writes }
    }

    /// Client writes that carry a `RETR` line immediately followed by `EPSV`.
    fn early_epsvs(&self) -> usize {
        self.writes
            .lock()
            .unwrap()
            .iter()
            .filter(|w| {
                w.windows(6).any(|x| x == b"\r\nEPSV")
                    && w.starts_with(b"RETR ")
                    && w.ends_with(b"\r\nEPSV\r\n")
            })
            .count()
    }
}

/// A sink that takes `limit` bytes, then pushes back (`WouldBlock`) for good.
struct Gate {
    got: Rc<RefCell<Vec<u8>>>,
    limit: usize,
}

impl Write for Gate {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut got = self.got.borrow_mut();
        let room = self.limit.saturating_sub(got.len());
        if room == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = room.min(buf.len());
        got.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What one server did with pipelining on.
#[derive(Debug)]
struct Report {
    /// Small downloads that failed (by file index, with the error), in order.
    failed: Vec<(usize, String)>,
    /// How the download of a missing file ended.
    missing: String,
    /// How the aborted transfer ended.
    aborted: String,
    /// The session stopped pipelining (an early EPSV was answered out of order or refused);
    /// `None`: the session had ended by then.
    stopped: Option<bool>,
    /// `NOOP` and `QUIT` at the end were answered: the session was in step to the end.
    in_step: bool,
    /// `RETR` + `EPSV` in one write, as seen on the wire.
    early_on_wire: usize,
}

fn retr_request(path: &str) -> TransferRequest {
    TransferRequest {
        kind: TransferKind::Retr(path.as_bytes().to_vec()),
        ascii: false,
        rest: None,
    }
}

/// Queues `files` downloads on `s` (all at once: the driver announces each next one).
fn queue_files(
    l: &mut Loop,
    s: SessionId,
    files: impl Iterator<Item = usize>,
) -> Vec<(OpId, usize)> {
    files
        .map(|n| {
            let op = l
                .ftp
                .retrieve_to_vec(s, format!("p/f{n:02}.bin"), 1 << 20)
                .unwrap();
            (op, n)
        })
        .collect()
}

/// Checks the downloads; returns the failed ones.
fn check(l: &mut Loop, ops: &[(OpId, usize)], originals: &[Vec<u8>]) -> Vec<(usize, String)> {
    let ids: Vec<OpId> = ops.iter().map(|o| o.0).collect();
    let mut failed = Vec::new();
    for (c, &(_, n)) in l.wait_all(&ids).into_iter().zip(ops) {
        match c.result {
            Ok(Outcome::Transferred { bytes, .. }) => {
                assert_eq!(bytes, originals[n].len() as u64, "f{n:02}: {:?}", c.result);
                assert!(
                    c.data.as_deref() == Some(&originals[n][..]),
                    "f{n:02} differs"
                );
            }
            other => failed.push((n, format!("{other:?}"))),
        }
    }
    failed
}

fn run(server: &dyn TestServer) -> Report {
    let kind = server.kind();
    let originals: Vec<Vec<u8>> = (0..FILES).map(|n| bytes(n as u64, size_of(n))).collect();
    for (n, data) in originals.iter().enumerate() {
        server.write_file(&format!("p/f{n:02}.bin"), data).unwrap();
    }
    let big = bytes(7777, 4 << 20);
    server.write_file("p/big.bin", &big).unwrap();

    let recorder = Recorder::start(server.addr());
    let mut l = Loop::new(1);
    let config = Config {
        pipeline_passive: true,
        // Loopback: replies come at once. pyftpdlib may never answer a RETR once it acted
        // on an early EPSV: do not wait a minute for that, nor for a download that libunftp
        // left without data.
        reply_timeout: Some(Duration::from_secs(5)),
        data_timeout: Some(Duration::from_secs(5)),
        ..Config::default()
    };
    let (s, greeting) = l.ftp.connect(recorder.addr, config).unwrap();
    let login = l.ftp.login(s, server.user(), server.password()).unwrap();
    for c in l.wait_all(&[greeting, login]) {
        assert!(c.result.is_ok(), "{kind}: {c:?}");
    }

    // Many small downloads, a missing file in the middle.
    let mut ops = queue_files(&mut l, s, 0..FILES / 2);
    let missing = l.ftp.retrieve_to_vec(s, "p/missing.bin", 1 << 20).unwrap();
    ops.extend(queue_files(&mut l, s, FILES / 2..FILES));
    let mut failed = check(&mut l, &ops, &originals);
    let missing = match l.wait(missing).result {
        Err(ftp_mio::Error::Op {
            error: OpError::Permanent(r),
            ..
        }) => format!("Permanent({r})"),
        other => format!("{other:?}"),
    };

    // An abort with the next transfer's EPSV outstanding: the big download pauses in its
    // sink, is aborted, and the downloads queued behind it still work.
    let got = Rc::new(RefCell::new(Vec::new()));
    let gate = Gate {
        got: Rc::clone(&got),
        limit: GATE,
    };
    let aborted = match l
        .ftp
        .transfer(s, retr_request("p/big.bin"), DataEnd::sink(gate))
    {
        Ok(big_op) => {
            let after = queue_files(&mut l, s, 0..10);
            let started = Instant::now();
            while got.borrow().len() < GATE && !l.done.contains_key(&big_op) {
                assert!(
                    started.elapsed() < mio_common::LIMIT,
                    "{kind}: the big download stalled"
                );
                l.turn(Duration::from_millis(50));
            }
            let aborted = if l.done.contains_key(&big_op) {
                format!("ended before the abort: {:?}", l.wait(big_op).result)
            } else {
                assert_eq!(l.ftp.abort(s).unwrap(), big_op);
                match l.wait(big_op).result {
                    Ok(Outcome::Aborted { reply }) => format!("Aborted({reply})"),
                    other => format!("{other:?}"),
                }
            };
            assert!(
                big.starts_with(&got.borrow()),
                "{kind}: the aborted download's prefix differs"
            );
            failed.extend(check(&mut l, &after, &originals));
            aborted
        }
        Err(e) => format!("not started: {e:?}"),
    };
    let stopped = l.ftp.session(s).map(|core| core.is_pipelining_stopped());

    let in_step = match (l.ftp.noop(s), l.ftp.quit(s)) {
        (Ok(noop), Ok(quit)) => {
            let done = l.wait_all(&[noop, quit]);
            matches!(done[0].result, Ok(Outcome::Done(ref r)) if r.code().get() == 200)
                && matches!(done[1].result, Ok(Outcome::Closed(_)))
        }
        _ => false,
    };
    l.drain();
    let report = Report {
        failed,
        missing,
        aborted,
        stopped,
        in_step,
        early_on_wire: recorder.early_epsvs(),
    };
    eprintln!("{kind} with pipeline_passive: {report:#?}");
    report
}

fn system(kind: ServerKind) -> SystemServer {
    // ~100 passive transfers within a second: ports of finished transfers linger.
    SystemServer::builder(kind)
        .passive_ports(passive_ranges(4))
        .start()
        .unwrap_or_else(|e| panic!("{kind}: {e}"))
}

/// A server that answers the early EPSV in order: every transfer after the first one's
/// command is pipelined, nothing fails, the abort ends as `Aborted`.
fn accepts(server: &dyn TestServer) {
    let kind = server.kind();
    let r = run(server);
    assert!(r.failed.is_empty(), "{kind}: {r:#?}");
    assert!(r.missing.starts_with("Permanent(550"), "{kind}: {r:#?}");
    assert!(r.aborted.starts_with("Aborted"), "{kind}: {r:#?}");
    assert_eq!(r.stopped, Some(false), "{kind} stopped pipelining: {r:#?}");
    assert!(r.in_step, "{kind}: {r:#?}");
    // Every small download but the last of each batch was announced while the one before
    // it ran (after an ambiguous answer to ABOR one waits for its 1xx).
    assert!(r.early_on_wire >= FILES, "{kind}: {r:#?}");
}

/// A server that acts on EPSV during a transfer: pipelining stops at its first
/// out-of-order 229, only the transfer that was running then fails, and no download is
/// ever reported complete with other bytes (`check` compares every byte).
fn refuses(r: &Report) {
    let first = r.failed.first().map(|f| f.0);
    assert_ne!(r.stopped, Some(false), "did not stop pipelining: {r:#?}");
    // The early EPSVs went out behind downloads 0..early_on_wire; the first failure is
    // among them, and none went out after it.
    if let Some(first) = first {
        assert!(first < r.early_on_wire, "{r:#?}");
        assert_eq!(
            r.early_on_wire,
            first + 1,
            "pipelined after it stopped: {r:#?}"
        );
    }
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn vsftpd_accepts_pipelined_epsv() {
    accepts(&system(ServerKind::Vsftpd));
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn proftpd_accepts_pipelined_epsv() {
    accepts(&system(ServerKind::Proftpd));
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn pure_ftpd_accepts_pipelined_epsv() {
    accepts(&system(ServerKind::PureFtpd));
}

/// pyftpdlib drops the running transfer on EPSV; afterwards it may never answer a later
/// RETR of the session (its data channel state is broken), and the reply timeout ends the
/// session: only the refusal and the absence of wrong data are asserted.
#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn pyftpdlib_refuses_pipelined_epsv() {
    let r = run(&system(ServerKind::Pyftpdlib));
    refuses(&r);
    assert!(!r.failed.is_empty(), "{r:#?}");
}

/// libunftp answers EPSV during the transfer; the session copes: one download fails, all
/// the rest works and the session stays in step.
#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn libunftp_refuses_pipelined_epsv_and_the_session_copes() {
    let server = LocalServer::builder()
        .passive_ports(passive_ranges(4))
        .start()
        .expect("libunftp");
    let r = run(&server);
    refuses(&r);
    assert!(r.failed.len() <= 1, "{r:#?}");
    assert!(r.missing.starts_with("Permanent(550"), "{r:#?}");
    assert!(r.aborted.starts_with("Aborted"), "{r:#?}");
    assert!(r.in_step, "{r:#?}");
}

/// The driver's side, in every `cargo test` (no system server needed): against a scripted
/// server that handles one command at a time, each queued download's `EPSV` goes out in the
/// same write as the `RETR` before it when the switch is on, and never when it is off.
#[test]
fn mio_announces_queued_downloads_to_the_core() {
    use ftp_tests::fault::{download, well_behaved, FaultServer};
    let data = bytes(99, 10_000);
    for on in [true, false] {
        let server = FaultServer::start(well_behaved().on("RETR", download(&data)));
        let recorder = Recorder::start(server.addr());
        let mut l = Loop::new(1);
        let config = Config {
            pipeline_passive: on,
            auto_feat: false,
            ..Config::default()
        };
        let (s, greeting) = l.ftp.connect(recorder.addr, config).unwrap();
        let mut ops = vec![greeting, l.ftp.login(s, "u", "p").unwrap()];
        let gets: Vec<OpId> = (0..10)
            .map(|n| l.ftp.retrieve_to_vec(s, format!("f{n}"), 1 << 20).unwrap())
            .collect();
        ops.extend(&gets);
        ops.push(l.ftp.quit(s).unwrap());
        for c in l.wait_all(&ops) {
            assert!(c.result.is_ok(), "{c:?}");
            if gets.contains(&c.op) {
                assert!(c.data.as_deref() == Some(&data[..]));
            }
        }
        l.drain();
        // The server saw one EPSV per download, each before its RETR.
        let verbs = server.verbs();
        let transfer: Vec<&str> = verbs
            .iter()
            .map(String::as_str)
            .filter(|v| matches!(*v, "EPSV" | "RETR"))
            .collect();
        assert_eq!(transfer, ["EPSV", "RETR"].repeat(10), "pipeline {on}");
        let early = recorder.early_epsvs();
        assert_eq!(early, if on { 9 } else { 0 }, "pipeline {on}");
    }
}
