//! A resumed transfer that fails must not leave its restart marker to the next one. libunftp
//! keeps `REST`'s offset until a transfer *succeeds*, so after `REST 100000` / `RETR` with a
//! reset data connection, a plain `RETR` started at byte 100000: a shifted file of about the
//! right length (the mirror's random-fault test found it). ftp-sansio now sends `REST 0`
//! before the next file transfer; each driver is checked here against real servers through
//! the link simulator, which resets the first data connection: the download that follows
//! must be the whole file, and an upload after it must land whole on the server.

use std::io::Cursor;
use std::time::Duration;

use ftp_sansio::session::Config;
use ftp_tests::link::{Fault, Link, Target};
use ftp_tests::{LocalServer, ServerKind, SystemServer, TestServer};

#[path = "mio_common/mod.rs"]
mod mio_common;
use mio_common::Loop;

const SIZE: usize = 300_000;
const OFFSET: u64 = 100_000;

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 0x1000;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// A link whose first data connection (the resumed download) is reset after 10,000 bytes.
fn link(server: &dyn TestServer) -> Link {
    Link::builder(server.addr())
        .fault(Target::Data(0), Fault::Reset { after: 10_000 })
        .start()
        .expect("link simulator starts")
}

fn blocking(server: &dyn TestServer, file: &[u8], upload: &[u8]) {
    let kind = server.kind();
    let link = link(server);
    let mut ftp =
        ftp_blocking::Ftp::connect_timeout(link.addr(), Duration::from_secs(20)).expect("connect");
    ftp.set_timeout(Some(Duration::from_secs(20)));
    ftp.login(server.user(), server.password()).expect("login");
    let failed = ftp.retrbinary("RETR marker.bin", |_| Ok(()), 8192, Some(OFFSET));
    assert!(failed.is_err(), "{kind}: the reset resume must fail");
    assert_eq!(link.stats().resets, 1, "{kind}");

    let mut got = Vec::new();
    ftp.retrbinary(
        "RETR marker.bin",
        |b| {
            got.extend_from_slice(b);
            Ok(())
        },
        8192,
        None,
    )
    .unwrap_or_else(|e| panic!("{kind}: the plain download: {e}"));
    assert!(
        got == file,
        "{kind} ftp-blocking: {} bytes, first difference at {:?}",
        got.len(),
        got.iter().zip(file).position(|(a, b)| a != b)
    );
    ftp.storbinary("STOR marker-up-blocking.bin", &mut &upload[..], 8192, None)
        .unwrap_or_else(|e| panic!("{kind}: the upload: {e}"));
    ftp.quit().ok();
    let stored = server
        .read_file("marker-up-blocking.bin")
        .expect("uploaded file");
    assert!(
        stored == upload,
        "{kind} ftp-blocking: the upload landed changed"
    );
}

fn mio(server: &dyn TestServer, file: &[u8], upload: &[u8]) {
    let kind = server.kind();
    let link = link(server);
    let mut l = Loop::new(1);
    let config = Config {
        reply_timeout: Some(Duration::from_secs(20)),
        data_timeout: Some(Duration::from_secs(20)),
        ..Config::default()
    };
    let (s, greeting) = l.ftp.connect(link.addr(), config).expect("connect");
    let login = l
        .ftp
        .login(s, server.user(), server.password())
        .expect("login");
    let resumed = l
        .ftp
        .retrieve_from(s, "marker.bin", OFFSET, std::io::sink())
        .unwrap();
    let plain = l.ftp.retrieve_to_vec(s, "marker.bin", SIZE + 1).unwrap();
    let up = l
        .ftp
        .store(s, "marker-up-mio.bin", Cursor::new(upload.to_vec()))
        .unwrap();
    let mut done = l
        .wait_all(&[greeting, login, resumed, plain, up])
        .into_iter();
    done.next().unwrap().result.expect("greeting");
    done.next().unwrap().result.expect("login");
    assert!(
        done.next().unwrap().result.is_err(),
        "{kind}: the reset resume must fail"
    );
    assert_eq!(link.stats().resets, 1, "{kind}");
    let got = done.next().unwrap();
    got.result
        .unwrap_or_else(|e| panic!("{kind}: the plain download: {e}"));
    let got = got.data.unwrap_or_default();
    assert!(
        got == file,
        "{kind} ftp-mio: {} bytes, first difference at {:?}",
        got.len(),
        got.iter().zip(file).position(|(a, b)| a != b)
    );
    done.next()
        .unwrap()
        .result
        .unwrap_or_else(|e| panic!("{kind}: the upload: {e}"));
    let stored = server
        .read_file("marker-up-mio.bin")
        .expect("uploaded file");
    assert!(
        stored == upload,
        "{kind} ftp-mio: the upload landed changed"
    );
}

fn both_drivers(server: &dyn TestServer) {
    let file = pattern(SIZE, 1);
    let upload = pattern(SIZE / 2, 2);
    server.write_file("marker.bin", &file).unwrap();
    blocking(server, &file, &upload);
    mio(server, &file, &upload);
}

#[test]
fn libunftp() {
    both_drivers(&LocalServer::start());
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn system_servers() {
    for kind in ServerKind::SYSTEM {
        both_drivers(&SystemServer::start(kind));
    }
}
