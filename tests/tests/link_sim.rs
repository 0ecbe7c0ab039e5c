//! The link simulator (`ftp_tests::link`) between ftp-blocking and the in-process libunftp
//! server: transfers through it are byte-identical in both modes, its delay is never shorter
//! than asked, its cap never faster, and its faults reach the client as errors.
//!
//! Timing assertions are lower bounds (the link must never be faster than configured); upper
//! bounds only catch a link that adds a gross amount of its own, and are generous enough for a
//! loaded CI machine.

use std::io::Cursor;
use std::time::{Duration, Instant};

use ftp_blocking::{ErrorKind, Ftp};
use ftp_tests::link::{Fault, Link, LinkBuilder, Target};
use ftp_tests::{LocalServer, TestServer, PASSWORD, USER};

/// Deterministic, incompressible-looking test data.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    let mut x = u32::from(seed) | 0x1000;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn start(builder: impl FnOnce(LinkBuilder) -> LinkBuilder, server: &LocalServer) -> Link {
    builder(Link::builder(server.addr()))
        .start()
        .expect("link simulator starts")
}

fn login(link: &Link, passive: bool) -> Ftp {
    let mut ftp = Ftp::connect_timeout(link.addr(), Duration::from_secs(20)).expect("connect");
    ftp.set_timeout(Some(Duration::from_secs(20)));
    ftp.set_pasv(passive);
    ftp.login(USER, PASSWORD).expect("login");
    ftp
}

fn download(ftp: &mut Ftp, name: &str) -> (Vec<u8>, ftp_blocking::Result<()>) {
    let mut got = Vec::new();
    let result = ftp
        .retrbinary(
            &format!("RETR {name}"),
            |b| {
                got.extend_from_slice(b);
                Ok(())
            },
            64 * 1024,
            None,
        )
        .map(|_| ());
    (got, result)
}

fn transfers_are_byte_identical(passive: bool) {
    let server = LocalServer::start();
    let down = pattern(3 << 20, 1);
    server.write_file("down.bin", &down).unwrap();
    let link = start(|b| b.delay(Duration::from_millis(5)), &server);
    let mut ftp = login(&link, passive);

    let (got, result) = download(&mut ftp, "down.bin");
    result.expect("download");
    assert!(got == down, "download differs ({} bytes)", got.len());

    let up = pattern(2 << 20, 2);
    ftp.storbinary("STOR up.bin", &mut Cursor::new(&up), 64 * 1024, None)
        .expect("upload");
    assert!(server.read_file("up.bin").unwrap() == up, "upload differs");

    // a listing and an empty file also go through
    let names = ftp.nlst(None).expect("NLST");
    assert!(names.iter().any(|n| n.ends_with("down.bin")), "{names:?}");
    server.write_file("empty", b"").unwrap();
    let (got, result) = download(&mut ftp, "empty");
    result.expect("empty download");
    assert!(got.is_empty());
    ftp.quit().expect("QUIT");

    let stats = link.stats();
    assert_eq!(stats.control_connections, 1);
    assert_eq!(stats.data_connections, 4);
    assert!(stats.bytes_down >= down.len() as u64, "{stats:?}");
    assert!(stats.bytes_up >= up.len() as u64, "{stats:?}");
    assert_eq!(stats.faults(), 0);
}

#[test]
fn passive_transfers_are_byte_identical() {
    transfers_are_byte_identical(true);
}

#[test]
fn active_transfers_are_byte_identical() {
    transfers_are_byte_identical(false);
}

#[test]
fn passive_with_pasv_not_epsv_is_rewritten_too() {
    let server = LocalServer::start();
    let data = pattern(100_000, 3);
    server.write_file("f", &data).unwrap();
    let link = start(|b| b, &server);
    let mut ftp = login(&link, true);
    ftp.update_config(|c| c.use_epsv = false);
    let (got, result) = download(&mut ftp, "f");
    result.expect("download with PASV");
    assert!(got == data);
    ftp.set_pasv(false);
    ftp.update_config(|c| c.use_epsv = false); // PORT, not EPRT
    let (got, result) = download(&mut ftp, "f");
    result.expect("download with PORT");
    assert!(got == data);
    assert_eq!(link.stats().data_connections, 2);
}

#[test]
fn a_noop_takes_a_round_trip() {
    let server = LocalServer::start();
    let delay = Duration::from_millis(25);
    let link = start(|b| b.delay(delay), &server);
    // the greeting: the handshake crosses the link (1.5 round trips) before the server has
    // the connection, then the 220 comes back (0.5)
    let started = Instant::now();
    let mut ftp = Ftp::connect_timeout(link.addr(), Duration::from_secs(20)).expect("connect");
    let greeted = started.elapsed();
    assert!(
        greeted >= 4 * delay,
        "greeted after {greeted:?} over a {delay:?} link"
    );
    ftp.set_timeout(Some(Duration::from_secs(20)));
    ftp.login(USER, PASSWORD).expect("login");
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let started = Instant::now();
        ftp.noop().expect("NOOP");
        let rtt = started.elapsed();
        // never faster than the two one-way delays
        assert!(
            rtt >= 2 * delay,
            "NOOP answered in {rtt:?} over a {delay:?} link"
        );
        best = best.min(rtt);
    }
    // and the link adds little of its own (generous: a loaded machine)
    assert!(best < 2 * delay + Duration::from_millis(500), "{best:?}");

    // asymmetric delays add up the same way
    let link = start(
        |b| {
            b.delay_up(Duration::from_millis(40))
                .delay_down(Duration::from_millis(5))
        },
        &server,
    );
    let mut ftp = login(&link, true);
    let started = Instant::now();
    ftp.noop().expect("NOOP");
    assert!(started.elapsed() >= Duration::from_millis(45));
}

#[test]
fn a_passive_download_takes_its_round_trips() {
    // EPSV (1 round trip), the data connection's handshake (1.5), the file back (0.5)
    let server = LocalServer::start();
    server.write_file("small", &pattern(4096, 10)).unwrap();
    let delay = Duration::from_millis(20);
    let link = start(|b| b.delay(delay), &server);
    let mut ftp = login(&link, true);
    ftp.update_config(|c| c.use_epsv = true);
    let (_, result) = download(&mut ftp, "small"); // TYPE I is sent once, here
    result.expect("download");
    let started = Instant::now();
    let (got, result) = download(&mut ftp, "small");
    result.expect("download");
    let took = started.elapsed();
    assert_eq!(got.len(), 4096);
    assert!(
        took >= 6 * delay,
        "a passive download in {took:?} over a {delay:?} link"
    );
}

#[test]
fn a_cut_is_an_error_and_leaves_a_prefix() {
    let server = LocalServer::start();
    // large next to every buffer on the way (kernel and link), so the server is still sending
    // when the cut comes and notices it
    let data = pattern(48 << 20, 4);
    server.write_file("big.bin", &data).unwrap();
    let cut_at = 1 << 20;
    let link = start(
        |b| {
            b.buffer(256 * 1024)
                .fault(Target::Data(0), Fault::Cut { after: cut_at })
        },
        &server,
    );
    let mut ftp = login(&link, true);
    let (got, result) = download(&mut ftp, "big.bin");
    let err = result.expect_err("a cut download must fail");
    assert!(
        got.len() as u64 <= cut_at,
        "{} bytes after a cut at {cut_at}",
        got.len()
    );
    assert!(got[..] == data[..got.len()], "not a prefix");
    eprintln!("cut: {} bytes, then {err}", got.len());
    // the session survives (the control connection was not cut)
    ftp.noop().expect("NOOP after the cut");
    let stats = link.stats();
    assert_eq!(stats.cuts, 1, "{stats:?}");

    // the next transfer is whole
    server.write_file("small", b"whole").unwrap();
    let (got, result) = download(&mut ftp, "small");
    result.expect("download after the cut");
    assert_eq!(got, b"whole");
}

#[test]
fn a_reset_is_an_error_and_leaves_a_prefix() {
    let server = LocalServer::start();
    let data = pattern(4 << 20, 5);
    server.write_file("f.bin", &data).unwrap();
    let link = start(
        |b| {
            b.delay(Duration::from_millis(2))
                .fault(Target::Data(0), Fault::Reset { after: 100_000 })
        },
        &server,
    );
    let mut ftp = login(&link, true);
    let (got, result) = download(&mut ftp, "f.bin");
    let err = result.expect_err("a reset download must fail");
    assert!(got.len() <= 100_000 && got[..] == data[..got.len()]);
    eprintln!("reset: {} bytes, then {err}", got.len());
    assert_eq!(link.stats().resets, 1);

    // a reset control connection ends the session
    let link = start(
        |b| b.fault(Target::Control(0), Fault::Reset { after: 200 }),
        &server,
    );
    let mut ftp = Ftp::connect_timeout(link.addr(), Duration::from_secs(20)).expect("connect");
    ftp.set_timeout(Some(Duration::from_secs(20)));
    let mut session = || -> ftp_blocking::Result<()> {
        ftp.login(USER, PASSWORD)?;
        for _ in 0..50 {
            ftp.noop()?;
        }
        Ok(())
    };
    let err = session().expect_err("the control connection was reset");
    assert!(err.is_fatal(), "{err}");
}

#[test]
fn an_upload_reset_is_an_error() {
    let server = LocalServer::start();
    let data = pattern(8 << 20, 6);
    let link = start(
        |b| b.fault(Target::Data(0), Fault::Reset { after: 500_000 }),
        &server,
    );
    let mut ftp = login(&link, true);
    let err = ftp
        .storbinary("STOR up.bin", &mut Cursor::new(&data), 64 * 1024, None)
        .expect_err("a reset upload must fail");
    eprintln!("upload reset: {err}");
    // whatever the server kept is a prefix
    if let Ok(kept) = server.read_file("up.bin") {
        assert!(kept.len() <= 500_000 && kept[..] == data[..kept.len()]);
    }
}

#[test]
fn a_stall_longer_than_the_data_timeout_is_a_timeout() {
    let server = LocalServer::start();
    let data = pattern(1 << 20, 7);
    server.write_file("f.bin", &data).unwrap();
    let link = start(
        |b| {
            b.fault(
                Target::Data(0),
                Fault::Stall {
                    after: 64 * 1024,
                    duration: Duration::from_secs(30),
                },
            )
        },
        &server,
    );
    let mut ftp = login(&link, true);
    ftp.update_config(|c| c.data_timeout = Some(Duration::from_millis(500)));
    let started = Instant::now();
    let (got, result) = download(&mut ftp, "f.bin");
    let err = result.expect_err("a stalled download must time out");
    assert!(err.is_data_timeout(), "{err}");
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "the stall was waited out"
    );
    assert!(got.len() <= 64 * 1024 && got[..] == data[..got.len()]);
    assert_eq!(link.stats().stalls, 1);

    // a stall shorter than the timeout only costs time
    let link = start(
        |b| {
            b.fault(
                Target::Data(0),
                Fault::Stall {
                    after: 1000,
                    duration: Duration::from_millis(300),
                },
            )
        },
        &server,
    );
    let mut ftp = login(&link, true);
    ftp.update_config(|c| c.data_timeout = Some(Duration::from_secs(20)));
    let started = Instant::now();
    let (got, result) = download(&mut ftp, "f.bin");
    result.expect("a short stall is survived");
    assert!(got == data);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[test]
fn refused_connections_are_errors() {
    let server = LocalServer::start();
    server.write_file("f", b"data").unwrap();
    // passive: the client's connect is refused
    let link = start(|b| b.fault(Target::Data(0), Fault::Refuse), &server);
    let mut ftp = login(&link, true);
    let (got, result) = download(&mut ftp, "f");
    let err = result.expect_err("refused passive connection");
    assert!(got.is_empty());
    eprintln!("passive refused: {err}");
    let (got, result) = download(&mut ftp, "f");
    result.expect("the next one is let through");
    assert_eq!(got, b"data");

    // active: the server's connect is refused, it says so
    let link = start(|b| b.fault(Target::Data(0), Fault::Refuse), &server);
    let mut ftp = login(&link, false);
    let (got, result) = download(&mut ftp, "f");
    let err = result.expect_err("refused active connection");
    assert!(got.is_empty());
    eprintln!("active refused: {err}");
    ftp.noop().expect("the session goes on");

    // control: reset before the greeting
    let link = start(|b| b.fault(Target::Control(0), Fault::Refuse), &server);
    let err = Ftp::connect_timeout(link.addr(), Duration::from_secs(20))
        .expect_err("a refused control connection");
    assert!(
        matches!(err.kind(), ErrorKind::Io | ErrorKind::Closed),
        "{err}"
    );
    // the next control connection gets through
    let mut ftp = login(&link, true);
    ftp.noop().expect("NOOP");
    assert_eq!(link.stats().refusals, 1);
}

#[test]
fn a_capped_transfer_is_never_faster_than_the_cap() {
    let server = LocalServer::start();
    let data = pattern(2 << 20, 8);
    server.write_file("f.bin", &data).unwrap();
    let rate = 4_000_000u64; // bytes per second
    let link = start(|b| b.rate(rate), &server);
    let mut ftp = login(&link, true);

    let started = Instant::now();
    let (got, result) = download(&mut ftp, "f.bin");
    result.expect("download");
    let took = started.elapsed();
    assert!(got == data);
    let floor = Duration::from_secs_f64(data.len() as f64 / rate as f64);
    assert!(
        took >= floor,
        "{} bytes in {took:?} at {rate} B/s",
        data.len()
    );

    let started = Instant::now();
    ftp.storbinary("STOR up.bin", &mut Cursor::new(&data), 64 * 1024, None)
        .expect("upload");
    let took = started.elapsed();
    assert!(took >= floor, "upload of {} bytes in {took:?}", data.len());
    assert!(server.read_file("up.bin").unwrap() == data);
}

#[test]
fn random_faults_are_reproducible_and_counted() {
    let server = LocalServer::start();
    let data = pattern(200_000, 9);
    server.write_file("f", &data).unwrap();
    let run = |seed| {
        let random = ftp_tests::link::RandomFaults {
            reset: 0.3,
            refuse: 0.2,
            max_after: 150_000,
            ..ftp_tests::link::RandomFaults::new(seed)
        };
        let link = start(|b| b.random_faults(random), &server);
        let mut ftp = login(&link, true);
        let outcomes: Vec<bool> = (0..12)
            .map(|_| {
                let (got, result) = download(&mut ftp, "f");
                assert!(got[..] == data[..got.len()], "not a prefix");
                result.is_ok() && got == data
            })
            .collect();
        let stats = link.stats();
        assert_eq!(
            outcomes.iter().filter(|ok| !**ok).count() as u64,
            stats.faults(),
            "every fault fails one transfer: {outcomes:?} {stats:?}"
        );
        outcomes
    };
    let first = run(11);
    assert!(
        first.iter().any(|ok| !ok) && first.iter().any(|ok| *ok),
        "{first:?}"
    );
    assert_eq!(run(11), first);
}
