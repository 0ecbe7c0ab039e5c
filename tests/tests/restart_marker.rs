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
use mio_common::{bytes, Loop};

const SIZE: usize = 300_000;
const OFFSET: u64 = 100_000;

/// `got` is `want`, or the failure says where they part.
fn assert_same(what: &str, got: &[u8], want: &[u8]) {
    assert!(
        got == want,
        "{what}: {} bytes of {}, first difference at {:?}",
        got.len(),
        want.len(),
        got.iter().zip(want).position(|(a, b)| a != b)
    );
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
    assert_same(&format!("{kind} ftp-blocking: the download"), &got, file);
    ftp.storbinary("STOR marker-up-blocking.bin", &mut &upload[..], 8192, None)
        .unwrap_or_else(|e| panic!("{kind}: the upload: {e}"));
    ftp.quit().ok();
    let stored = server
        .read_file("marker-up-blocking.bin")
        .expect("uploaded file");
    assert_same(&format!("{kind} ftp-blocking: the upload"), &stored, upload);
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
    assert_same(&format!("{kind} ftp-mio: the download"), &got, file);
    done.next()
        .unwrap()
        .result
        .unwrap_or_else(|e| panic!("{kind}: the upload: {e}"));
    let stored = server
        .read_file("marker-up-mio.bin")
        .expect("uploaded file");
    assert_same(&format!("{kind} ftp-mio: the upload"), &stored, upload);
}

fn both_drivers(server: &dyn TestServer) {
    let file = bytes(1, SIZE);
    let upload = bytes(2, SIZE / 2);
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
