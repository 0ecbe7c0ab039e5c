//! `ftp-mio` against `ftp-blocking`, same server, same run.
//!
//! - `small_files`: 1000 files of 4 KiB, fetched by 8 `ftp-mio` sessions on one thread (all
//!   1000 `RETR`s queued at once, 125 per session; `FTP_BENCH_SESSIONS` to change the count)
//!   vs one logged-in `ftp-blocking` session (`retrbinary` per file). Goal: mio at least 4x
//!   faster.
//! - `large_file`: one file of 256 MiB (`FTP_BENCH_MIB` to change it, e.g. 1024 for 1 GiB)
//!   with one session each, both with 64 KiB buffers. Goal: within 10%.
//!
//! Logins happen once, outside the measurement. Bytes go to counting sinks and every
//! iteration checks the total. The server is vsftpd when the system servers are installed
//! (`tests/servers/install.sh`, as root), else the in-process libunftp server;
//! `FTP_BENCH_SERVER=libunftp|vsftpd|proftpd|pure-ftpd|pyftpdlib` forces one. Keep runs
//! short: `cargo bench -p ftp-mio` takes under a minute.

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ftp_blocking::Ftp;
use ftp_mio::{OpId, SessionId, Sessions};
use ftp_sansio::session::{Config, Outcome};
use ftp_tests::{LocalServer, ServerKind, SystemServer, TestServer};
use mio::{Events, Poll, Token};

const SMALL_FILES: usize = 1000;
const SMALL_SIZE: usize = 4096;
const SESSIONS: usize = 8;
const BUFFER: usize = 64 * 1024;

fn server() -> Box<dyn TestServer> {
    let kind = match std::env::var("FTP_BENCH_SERVER").ok().as_deref() {
        Some("libunftp") => None,
        Some(name) if !name.is_empty() => Some(
            ServerKind::SYSTEM
                .into_iter()
                .find(|k| k.name() == name)
                .unwrap_or_else(|| panic!("FTP_BENCH_SERVER={name}: unknown server")),
        ),
        _ if ftp_tests::system_servers_available() => Some(ServerKind::Vsftpd),
        _ => None,
    };
    let server: Box<dyn TestServer> = match kind {
        Some(kind) => Box::new(SystemServer::start(kind)),
        None => Box::new(LocalServer::start()),
    };
    eprintln!("benchmark server: {}", server.kind());
    server
}

/// A sink that only counts.
#[derive(Clone, Default)]
struct Count(Rc<Cell<u64>>);

impl io::Write for Count {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.set(self.0.get() + data.len() as u64);
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A poll with logged-in sessions.
struct MioClient {
    poll: Poll,
    events: Events,
    ftp: Sessions,
    sessions: Vec<SessionId>,
}

impl MioClient {
    fn new(server: &dyn TestServer, n: usize) -> MioClient {
        let poll = Poll::new().unwrap();
        let options = ftp_mio::Options {
            data_buffer: BUFFER,
            ..Default::default()
        };
        let ftp = Sessions::with_options(poll.registry(), Token(0), n, options).unwrap();
        let mut c = MioClient {
            poll,
            events: Events::with_capacity(1024),
            ftp,
            sessions: Vec::new(),
        };
        let mut ops = Vec::new();
        for _ in 0..n {
            let (s, g) = c.ftp.connect(server.addr(), Config::default()).unwrap();
            ops.push(g);
            ops.push(c.ftp.login(s, server.user(), server.password()).unwrap());
            c.sessions.push(s);
        }
        let mut left = ops.len();
        c.run(|done| {
            assert!(done.result.is_ok(), "{done:?}");
            left -= 1;
            left == 0
        });
        c
    }

    /// Runs the loop until `f` says stop.
    fn run(&mut self, mut f: impl FnMut(ftp_mio::Completion) -> bool) {
        let start = Instant::now();
        loop {
            let wait = self.ftp.poll_timeout();
            ftp_tests::poll_once(&mut self.poll, &mut self.events, wait);
            for event in self.events.iter() {
                self.ftp.handle_event(event);
            }
            self.ftp.handle_timeouts();
            while let Some(done) = self.ftp.poll_completion() {
                if f(done) {
                    return;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(300),
                "benchmark stuck"
            );
        }
    }

    /// Fetches every path (round robin over the sessions, all queued at once) into `sink`.
    fn fetch_all(&mut self, paths: &[String], sink: &Count) {
        let mut ops: Vec<OpId> = Vec::with_capacity(paths.len());
        for (i, p) in paths.iter().enumerate() {
            let s = self.sessions[i % self.sessions.len()];
            ops.push(self.ftp.retrieve(s, p, sink.clone()).unwrap());
        }
        let mut left = ops.len();
        self.run(|done| {
            assert!(
                matches!(done.result, Ok(Outcome::Transferred { .. })),
                "{:?}",
                done.result
            );
            left -= 1;
            left == 0
        });
    }
}

fn blocking_client(server: &dyn TestServer) -> Ftp {
    let mut ftp = Ftp::connect(server.addr()).expect("connect");
    ftp.login(server.user(), server.password()).expect("login");
    ftp
}

fn small_files(c: &mut Criterion) {
    let server = server();
    std::fs::create_dir(server.local_path("small")).unwrap();
    let paths: Vec<String> = (0..SMALL_FILES).map(|i| format!("small/f{i}")).collect();
    for (i, p) in paths.iter().enumerate() {
        std::fs::write(server.local_path(p), vec![i as u8; SMALL_SIZE]).unwrap();
    }
    server.hand_over(&server.local_path("small")).unwrap();
    let total = (SMALL_FILES * SMALL_SIZE) as u64;

    let mut group = c.benchmark_group("small_files_1000x4KiB");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Elements(SMALL_FILES as u64));

    let sessions: usize = std::env::var("FTP_BENCH_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SESSIONS);
    let mut mio = MioClient::new(&*server, sessions);
    group.bench_function(format!("mio_{sessions}_sessions_one_thread"), |b| {
        b.iter(|| {
            let sink = Count::default();
            mio.fetch_all(&paths, &sink);
            assert_eq!(sink.0.get(), total);
        })
    });
    drop(mio);

    let mut ftp = blocking_client(&*server);
    group.bench_function("blocking_1_session", |b| {
        b.iter(|| {
            let mut got = 0u64;
            for p in &paths {
                ftp.retrbinary(
                    &format!("RETR {p}"),
                    |block| {
                        got += block.len() as u64;
                        Ok(())
                    },
                    BUFFER,
                    None,
                )
                .unwrap();
            }
            assert_eq!(got, total);
        })
    });
    group.finish();
}

fn large_file(c: &mut Criterion) {
    let mib: usize = std::env::var("FTP_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let size = (mib << 20) as u64;
    let server = server();
    {
        // written in pieces: no second copy of the whole file in memory
        use std::io::Write;
        let path = server.local_path("large.bin");
        let mut f = io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let block: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 7 + i / 251) as u8).collect();
        for _ in 0..mib {
            f.write_all(&block).unwrap();
        }
        f.flush().unwrap();
        drop(f);
        server.hand_over(&path).unwrap();
    }

    let mut group = c.benchmark_group(format!("large_file_{mib}MiB"));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(6))
        .throughput(Throughput::Bytes(size));

    let mut mio = MioClient::new(&*server, 1);
    group.bench_function("mio_1_session", |b| {
        b.iter(|| {
            let sink = Count::default();
            mio.fetch_all(&["large.bin".to_owned()], &sink);
            assert_eq!(sink.0.get(), size);
        })
    });
    drop(mio);

    let mut ftp = blocking_client(&*server);
    group.bench_function("blocking_1_session", |b| {
        b.iter(|| {
            let mut got = 0u64;
            ftp.retrbinary(
                "RETR large.bin",
                |block| {
                    got += block.len() as u64;
                    Ok(())
                },
                BUFFER,
                None,
            )
            .unwrap();
            assert_eq!(got, size);
        })
    });
    group.finish();
}

criterion_group!(benches, small_files, large_file);
criterion_main!(benches);
