//! Throughput of `ftp_blocking` against a ceiling measured in the same run.
//!
//! - `large_file`: `Ftp::retrbinary` of one large file (256 MiB by default;
//!   `FTP_BENCH_MIB=1024` for the 1 GiB of the issue) vs `raw_tcp`: the same `RETR` done by
//!   hand (`ftp_tests::RawClient`: `EPSV`, `RETR`, then `read()` on the bare data socket
//!   into a 64 KiB buffer until EOF). Same server, same bytes, same buffer size: the ratio is
//!   the driver's cost.
//! - `small_files`: 1000 files of 100 bytes, each fetched over one logged-in connection with
//!   `retrbinary`, vs the same by hand with `RawClient` (`EPSV` + `RETR` per file, the
//!   minimum), vs `curl` fetching the 1000 URLs in one process (it reuses the connection),
//!   when `curl` is installed. Throughput is reported in files/s.
//!
//! The server is vsftpd when the system servers are installed (`tests/servers/install.sh`,
//! run as root), else the in-process libunftp server; `FTP_BENCH_SERVER=libunftp|vsftpd|
//! proftpd|pure-ftpd|pyftpdlib` picks one. libunftp answers each small file ~44 ms late (it
//! writes `150` and `226` without `TCP_NODELAY`, so every file waits for a delayed ACK; the
//! raw client sees the same), so with it `small_files` uses 50 files instead of 1000 to
//! keep the run short. `cargo bench -p ftp-blocking` takes about a minute.

use std::hint::black_box;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ftp_blocking::Ftp;
use ftp_tests::{LocalServer, RawClient, ServerKind, SystemServer, TestServer};

fn server() -> Box<dyn TestServer> {
    let default = if ftp_tests::system_servers_available() {
        "vsftpd"
    } else {
        "libunftp"
    };
    let name = std::env::var("FTP_BENCH_SERVER").unwrap_or_default();
    let name = if name.is_empty() { default } else { &name };
    eprintln!("benchmark server: {name}");
    match name {
        "libunftp" => Box::new(LocalServer::start()),
        name => {
            let kind = ServerKind::SYSTEM
                .into_iter()
                .find(|k| k.name() == name)
                .unwrap_or_else(|| panic!("FTP_BENCH_SERVER={name}: unknown server"));
            Box::new(SystemServer::start(kind))
        }
    }
}

fn login(server: &dyn TestServer) -> Ftp {
    let mut ftp = Ftp::connect(server.addr()).expect("connect");
    ftp.login(server.user(), server.password()).expect("login");
    ftp
}

fn raw_login(server: &dyn TestServer) -> RawClient {
    let mut raw = RawClient::connect(server.addr()).expect("connect");
    let r = raw.login(server.user(), server.password()).expect("login");
    assert_eq!(r.code, 230);
    assert_eq!(raw.cmd("TYPE I").unwrap().code, 200);
    raw
}

/// `RETR path` by hand, the data read into `buf` and dropped; returns the byte count.
fn raw_retr(raw: &mut RawClient, path: &str, buf: &mut [u8]) -> u64 {
    let mut data = raw.epsv_connect().expect("EPSV");
    let start = raw.cmd(&format!("RETR {path}")).unwrap();
    assert!(start.code == 150 || start.code == 125, "{start:?}");
    let mut total = 0u64;
    loop {
        match data.read(buf) {
            Ok(0) => break,
            Ok(n) => {
                black_box(&buf[..n]);
                total += n as u64;
            }
            Err(e) => panic!("raw read: {e}"),
        }
    }
    drop(data);
    let end = raw.read_reply().unwrap();
    assert!(end.code == 226 || end.code == 250, "{end:?}");
    total
}

fn large_file(c: &mut Criterion) {
    let mib: u64 = std::env::var("FTP_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let size = mib * 1024 * 1024;
    let server = server();
    {
        // written in 1 MiB pieces: the bench itself must not need `size` bytes of memory
        let path = server.write_file("large.bin", b"").unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        let block: Vec<u8> = (0..1024 * 1024u32).map(|i| (i * 31 % 251) as u8).collect();
        for _ in 0..mib {
            std::io::Write::write_all(&mut f, &block).unwrap();
        }
        server.hand_over(&path).unwrap();
    }
    let mut g = c.benchmark_group("large_file");
    g.throughput(Throughput::Bytes(size));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(4));
    g.warm_up_time(Duration::from_millis(500));

    let mut raw = raw_login(&*server);
    let mut buf = vec![0u8; 64 * 1024];
    g.bench_function("raw_tcp", |b| {
        b.iter(|| assert_eq!(raw_retr(&mut raw, "large.bin", &mut buf), size))
    });
    drop(raw);

    let mut ftp = login(&*server);
    g.bench_function("retrbinary", |b| {
        b.iter(|| {
            let mut total = 0u64;
            ftp.retrbinary(
                "RETR large.bin",
                |block| {
                    total += black_box(block).len() as u64;
                    Ok(())
                },
                64 * 1024,
                None,
            )
            .unwrap();
            assert_eq!(total, size);
        })
    });
    g.finish();
}

fn small_files(c: &mut Criterion) {
    let server = server();
    let files = if server.kind() == ServerKind::Libunftp {
        50
    } else {
        1000
    };
    let content = [b'x'; 100];
    for i in 0..files {
        server.write_file(&format!("small/{i}"), &content).unwrap();
    }
    let mut g = c.benchmark_group("small_files");
    g.throughput(Throughput::Elements(files as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(3));
    g.warm_up_time(Duration::from_millis(500));

    let mut raw = raw_login(&*server);
    assert_eq!(raw.cmd("CWD small").unwrap().code, 250);
    let mut buf = vec![0u8; 64 * 1024];
    g.bench_function("raw_epsv_retr", |b| {
        b.iter(|| {
            for i in 0..files {
                assert_eq!(raw_retr(&mut raw, &i.to_string(), &mut buf), 100);
            }
        })
    });
    drop(raw);

    let mut ftp = login(&*server);
    ftp.cwd("small").unwrap();
    g.bench_function("retrbinary", |b| {
        b.iter(|| {
            for i in 0..files {
                let mut n = 0;
                ftp.retrbinary(
                    &format!("RETR {i}"),
                    |block| {
                        n += black_box(block).len();
                        Ok(())
                    },
                    8192,
                    None,
                )
                .unwrap();
                assert_eq!(n, 100);
            }
        })
    });
    drop(ftp);

    let curl_ok = Command::new("curl")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if curl_ok {
        let addr = server.addr();
        let host = match addr {
            std::net::SocketAddr::V6(a) => format!("[{}]", a.ip()),
            std::net::SocketAddr::V4(a) => a.ip().to_string(),
        };
        let (user, pass) = (server.user().to_owned(), server.password().to_owned());
        // One process, 1000 URLs: curl keeps the control connection between them.
        let mut args: Vec<String> = vec![
            "--silent".into(),
            "--show-error".into(),
            "--fail".into(),
            "--user".into(),
            format!("{user}:{pass}"),
            "--ftp-method".into(),
            "nocwd".into(),
        ];
        for i in 0..files {
            args.push(format!("ftp://{host}:{}/small/{i}", addr.port()));
            args.push("-o".into());
            args.push("/dev/null".into());
        }
        g.bench_function("curl_one_connection", |b| {
            b.iter(|| {
                let st = Command::new("curl")
                    .args(&args)
                    .stdin(Stdio::null())
                    .status()
                    .unwrap();
                assert!(st.success());
            })
        });
    } else {
        eprintln!("small_files/curl_one_connection: curl not installed, skipped");
    }
    g.finish();
}

criterion_group!(benches, large_file, small_files);
criterion_main!(benches);
