//! The tokio embedding example (`ftp-core/examples/tokio_client`) against the two drivers of
//! the workspace, same server, same run (not in CI: `cargo bench -p ftp-tests --bench tokio_vs`).
//!
//! - `large_file`: one file of 1 GiB (`FTP_BENCH_MIB` to change it) over one session each:
//!   tokio (current-thread runtime, 128 KiB data buffer) vs `ftp-blocking` (`retrbinary`,
//!   64 KiB blocks). Goal: tokio within 10 %.
//! - `small_files`: 1000 files of 4 KiB fetched by 8 concurrent sessions
//!   (`FTP_BENCH_SESSIONS`): 8 tokio clients on one current-thread runtime (125 files each)
//!   vs 8 `ftp-mio` sessions on one poll (all 1000 queued at once, round robin). Goal: tokio
//!   within 10 %.
//!
//! Logins happen once, outside the measurement; bytes go to counting sinks and every
//! iteration checks the total. The server is vsftpd when the system servers are installed,
//! else the in-process libunftp server (`FTP_BENCH_SERVER` forces one by name).

#[allow(dead_code)] // a whole module to copy; the bench uses part of it
#[path = "../../ftp-core/examples/tokio_client/client.rs"]
mod tokio_client;

use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll as TaskPoll};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ftp_blocking::Ftp;
use ftp_mio::{OpId, SessionId, Sessions};
use ftp_sansio::session::{Config, Outcome};
use ftp_tests::{LocalServer, ServerKind, SystemServer, TestServer};
use mio::{Events, Poll, Token};
use tokio::runtime::Runtime;
use tokio_client::Client;

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

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// An async sink that only counts.
#[derive(Default)]
struct AsyncCount(u64);

impl tokio::io::AsyncWrite for AsyncCount {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        data: &[u8],
    ) -> TaskPoll<io::Result<usize>> {
        self.0 += data.len() as u64;
        TaskPoll::Ready(Ok(data.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> TaskPoll<io::Result<()>> {
        TaskPoll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> TaskPoll<io::Result<()>> {
        TaskPoll::Ready(Ok(()))
    }
}

async fn tokio_clients(server: &dyn TestServer, n: usize) -> Vec<Client> {
    let mut clients = Vec::new();
    for _ in 0..n {
        let (mut c, _) = Client::connect(server.addr(), Config::default())
            .await
            .unwrap();
        c.login(server.user(), server.password()).await.unwrap();
        clients.push(c);
    }
    clients
}

/// Every client fetches its share of `paths` (client `i` takes every `n`-th path from `i`),
/// all concurrently on the current runtime; returns the clients and the bytes received.
async fn tokio_fetch_all(clients: Vec<Client>, paths: &Arc<Vec<String>>) -> (Vec<Client>, u64) {
    let n = clients.len();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, mut c) in clients.into_iter().enumerate() {
        let paths = Arc::clone(paths);
        tasks.spawn(async move {
            let mut sink = AsyncCount::default();
            for p in paths.iter().skip(i).step_by(n) {
                c.retrieve(p, &mut sink, None).await.unwrap();
            }
            (c, sink.0)
        });
    }
    let mut clients = Vec::new();
    let mut total = 0;
    while let Some(r) = tasks.join_next().await {
        let (c, got) = r.unwrap();
        clients.push(c);
        total += got;
    }
    (clients, total)
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

/// A poll with logged-in sessions (as in ftp-mio's own benchmark).
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

fn small_files(c: &mut Criterion) {
    let server = server();
    std::fs::create_dir(server.local_path("small")).unwrap();
    let paths: Vec<String> = (0..SMALL_FILES).map(|i| format!("small/f{i}")).collect();
    for (i, p) in paths.iter().enumerate() {
        std::fs::write(server.local_path(p), vec![i as u8; SMALL_SIZE]).unwrap();
    }
    server.hand_over(&server.local_path("small")).unwrap();
    let total = (SMALL_FILES * SMALL_SIZE) as u64;
    let sessions: usize = std::env::var("FTP_BENCH_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SESSIONS);

    let mut group = c.benchmark_group("small_files_1000x4KiB");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Elements(SMALL_FILES as u64));

    let rt = runtime();
    let shared = Arc::new(paths.clone());
    let mut clients = Some(rt.block_on(tokio_clients(&*server, sessions)));
    group.bench_function(format!("tokio_{sessions}_sessions_current_thread"), |b| {
        b.iter(|| {
            let (back, got) = rt.block_on(tokio_fetch_all(clients.take().unwrap(), &shared));
            assert_eq!(got, total);
            clients = Some(back);
        })
    });
    drop(clients);

    let mut mio = MioClient::new(&*server, sessions);
    group.bench_function(format!("mio_{sessions}_sessions_one_thread"), |b| {
        b.iter(|| {
            let sink = Count::default();
            mio.fetch_all(&paths, &sink);
            assert_eq!(sink.0.get(), total);
        })
    });
    group.finish();
}

fn large_file(c: &mut Criterion) {
    let mib: usize = std::env::var("FTP_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
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
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Bytes(size));

    let rt = runtime();
    let mut client = rt.block_on(tokio_clients(&*server, 1)).pop().unwrap();
    group.bench_function("tokio_1_session", |b| {
        b.iter(|| {
            let mut sink = AsyncCount::default();
            rt.block_on(client.retrieve("large.bin", &mut sink, None))
                .unwrap();
            assert_eq!(sink.0, size);
        })
    });
    drop(client);

    let mut ftp = Ftp::connect(server.addr()).expect("connect");
    ftp.login(server.user(), server.password()).expect("login");
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
