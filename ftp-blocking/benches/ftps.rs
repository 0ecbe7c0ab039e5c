//! FTPS cost: `Ftp::retrbinary` of one large file over a protected data connection (`PROT P`,
//! TLS 1.2, the default, and TLS 1.3) vs the same transfer in clear text (`PROT C` on the
//! same TLS control connection), same server and bytes, in one run. The ratio is what TLS
//! costs on loopback (client and server both encrypt on the same two cores).
//!
//! 128 MiB by default (`FTP_BENCH_MIB=1024` for 1 GiB); the server is the in-process
//! libunftp with FTPS (it negotiates TLS 1.2 whatever is offered), or a system server with
//! `FTP_BENCH_SERVER=vsftpd|proftpd|pure-ftpd|pyftpdlib` (`tests/servers/install.sh`).
//! Run: `cargo bench -p ftp-blocking --features tls --bench ftps`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ftp_blocking::tls::{TlsConfig, TlsVersions};
use ftp_blocking::Ftp;
use ftp_tests::tls::LocalFtps;
use ftp_tests::{ServerKind, SystemServer, TestServer};

/// The server (kept alive by the first field), a connect-and-login function, the file size.
fn server() -> (Box<dyn std::any::Any>, Box<dyn Fn() -> Ftp>, u64) {
    let mib: u64 = std::env::var("FTP_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128);
    let size = mib << 20;
    let data: Vec<u8> = (0..size).map(|i| (i * 7 + i / 4093) as u8).collect();
    let (keep, port, pem): (Box<dyn std::any::Any>, u16, Vec<u8>) =
        match std::env::var("FTP_BENCH_SERVER").ok().as_deref() {
            None | Some("") | Some("libunftp") => {
                let ftps = LocalFtps::start();
                ftps.server.write_file("big.bin", &data).unwrap();
                let pem = ftps.cert.cert_pem().to_vec();
                let port = ftps.server.addr().port();
                (Box::new(ftps), port, pem)
            }
            Some(name) => {
                let kind = ServerKind::SYSTEM
                    .into_iter()
                    .find(|k| k.name() == name)
                    .unwrap_or_else(|| panic!("FTP_BENCH_SERVER={name}: unknown server"));
                let server = SystemServer::start(kind);
                server.write_file("big.bin", &data).unwrap();
                let pem = std::fs::read(server.cert_pem().unwrap()).unwrap();
                let port = server.addr().port();
                (Box::new(server), port, pem)
            }
        };
    let connect = move || {
        let tls = TlsConfig::builder()
            .without_webpki_roots()
            .add_root_pem(&pem)
            .unwrap()
            .versions(TlsVersions::Any)
            .build()
            .unwrap();
        // The libunftp AUTH TLS race (ftp_tests::tls::LIBUNFTP_AUTH_RACE): try again.
        let mut tries = 0;
        let mut ftp = loop {
            match Ftp::connect_tls("localhost", port, &tls) {
                Ok(ftp) => break ftp,
                Err(e) if tries < 5 => {
                    tries += 1;
                    eprintln!("retrying connect_tls: {e}");
                }
                Err(e) => panic!("connect_tls: {e}"),
            }
        };
        ftp.login(ftp_tests::USER, ftp_tests::PASSWORD).unwrap();
        ftp
    };
    (keep, Box::new(connect), size)
}

fn retr(ftp: &mut Ftp, size: u64) {
    let mut got = 0u64;
    ftp.retrbinary(
        "RETR big.bin",
        |b| {
            got += b.len() as u64;
            Ok(())
        },
        64 * 1024,
        None,
    )
    .unwrap();
    assert_eq!(got, size);
}

fn large_file(c: &mut Criterion) {
    let (_keep, connect, size) = server();
    let mut group = c.benchmark_group("ftps_large_file");
    group.throughput(Throughput::Bytes(size));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(8));

    let mut clear = connect();
    clear.prot_c().unwrap();
    group.bench_function("clear_data", |b| b.iter(|| retr(&mut clear, size)));

    let mut tls = connect();
    tls.prot_p().unwrap();
    let version = tls.tls_info().unwrap().protocol_version;
    group.bench_function(format!("tls_data_{version:?}"), |b| {
        b.iter(|| retr(&mut tls, size))
    });
    group.finish();
}

criterion_group!(benches, large_file);
criterion_main!(benches);
