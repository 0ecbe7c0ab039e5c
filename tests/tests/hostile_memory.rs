//! Bounded memory under hostile servers, measured: the peak resident memory of this test
//! process (`VmHWM` in `/proc/self/status`) may grow by far less than what the servers send.
//! One test in its own binary, the cases run one after the other, so nothing else moves the
//! peak. (Skipped where `/proc` does not tell the peak.)
//!
//! | case | sent | check |
//! |---|---|---|
//! | a 64 MiB single reply line (greeting) | 64 MiB | `ErrorKind::Protocol`, peak + < 8 MiB |
//! | an endless multi-line reply | 64 MiB | `ErrorKind::Protocol`, peak + < 8 MiB |
//! | a 64 MiB listing line (`retrlines`) | 64 MiB | `ErrorKind::Protocol`, peak + < 8 MiB |
//! | a 64 MiB download streamed to a sink | 64 MiB | correct, peak + < 8 MiB |
//! | mio: a 64 MiB single reply line | 64 MiB | `OpError::Protocol`, peak + < 8 MiB |
//! | mio: an endless multi-line reply | 64 MiB | `OpError::Protocol`, peak + < 8 MiB |
//! | mio: a 64 MiB download streamed to a sink | 64 MiB | correct, peak + < 8 MiB |
//!
//! (The peak covers all seven cases together.)

mod hostile_common;

use std::time::Instant;

use ftp_blocking::{ErrorKind, Ftp};
use ftp_mio::{Completion, Sessions};
use ftp_sansio::session::{OpError, Outcome};
use ftp_tests::fault::{flood, raw, reply, well_behaved, Action, FaultServer, Script};
use hostile_common::{bounded, config, peak_rss, T};
use mio::{Events, Poll, Token};

const SENT: usize = 64 << 20;
const ALLOWED: u64 = 8 << 20;

fn blocking_cases() {
    // a single reply line that never ends before 64 MiB
    let server = FaultServer::start(Script::new().greet_with([
        raw(b"220 "),
        flood(b"x", SENT),
        raw(b"\r\n"),
    ]));
    let r = bounded("connect", || {
        Ftp::connect_with(server.addr(), config(), Some(T))
    });
    assert_eq!(r.unwrap_err().kind(), ErrorKind::Protocol);

    // a multi-line reply that never closes
    let server = FaultServer::start(
        Script::new().greet_with([raw(b"220-Hello\r\n"), flood(b" more\r\n", SENT)]),
    );
    let r = bounded("connect", || {
        Ftp::connect_with(server.addr(), config(), Some(T))
    });
    assert_eq!(r.unwrap_err().kind(), ErrorKind::Protocol);

    // one listing line of 64 MiB
    let mut list = reply("150 Here comes the directory listing.");
    list.push(Action::DataFlood {
        pattern: b"n".to_vec(),
        len: SENT,
    });
    list.push(Action::DataClose);
    list.extend(reply("226 Directory send OK."));
    let server = FaultServer::start(well_behaved().on("LIST", list));
    let mut ftp = Ftp::connect_with(server.addr(), config(), Some(T)).unwrap();
    ftp.login("u", "p").unwrap();
    let r = bounded("retrlines", || ftp.retrlines("LIST", |_| Ok(())));
    assert_eq!(r.unwrap_err().kind(), ErrorKind::Protocol);

    // a big download goes to the sink block by block, never whole into memory
    let mut retr = reply("150 Opening BINARY mode data connection (67108864 bytes).");
    retr.push(Action::DataFlood {
        pattern: b"0123456789abcdef".to_vec(),
        len: SENT,
    });
    retr.push(Action::DataClose);
    retr.extend(reply("226 Transfer complete."));
    let server = FaultServer::start(well_behaved().on("RETR", retr));
    let mut ftp = Ftp::connect_with(server.addr(), config(), Some(T)).unwrap();
    ftp.login("u", "p").unwrap();
    let mut n = 0usize;
    let r = bounded("retrbinary", || {
        ftp.retrbinary(
            "RETR big",
            |b| {
                n += b.len();
                Ok(())
            },
            8192,
            None,
        )
    });
    assert_eq!(r.unwrap().code().get(), 226);
    assert_eq!(n, SENT);
}

/// Runs the mio loop until one completion arrives (within the bound).
fn mio_one(ftp: &mut Sessions, poll: &mut Poll) -> Completion {
    let mut events = Events::with_capacity(16);
    let start = Instant::now();
    loop {
        if let Some(c) = ftp.poll_completion() {
            return c;
        }
        assert!(start.elapsed() < hostile_common::BOUND, "no completion");
        let t = ftp.poll_timeout().unwrap_or(hostile_common::BOUND);
        ftp_tests::poll_once(poll, &mut events, Some(t));
        for e in events.iter() {
            ftp.handle_event(e);
        }
        ftp.handle_timeouts();
    }
}

fn mio_cases() {
    let mut poll = Poll::new().unwrap();
    let mut ftp = Sessions::new(poll.registry(), Token(0), 2).unwrap();
    for greeting in [
        [raw(b"220 "), flood(b"x", SENT)],
        [raw(b"220-Hello\r\n"), flood(b" more\r\n", SENT)],
    ] {
        let server = FaultServer::start(Script::new().greet_with(greeting));
        ftp.connect(server.addr(), config()).unwrap();
        let c = mio_one(&mut ftp, &mut poll);
        assert!(
            matches!(
                c.result,
                Err(ftp_mio::Error::Op {
                    error: OpError::Protocol(_),
                    ..
                })
            ),
            "{:?}",
            c.result
        );
    }
    let mut retr = reply("150 Opening BINARY mode data connection (67108864 bytes).");
    retr.push(Action::DataFlood {
        pattern: b"0123456789abcdef".to_vec(),
        len: SENT,
    });
    retr.push(Action::DataClose);
    retr.extend(reply("226 Transfer complete."));
    let server = FaultServer::start(well_behaved().on("RETR", retr));
    let (s, _) = ftp.connect(server.addr(), config()).unwrap();
    assert!(mio_one(&mut ftp, &mut poll).result.is_ok());
    ftp.login(s, "u", "p").unwrap();
    assert!(mio_one(&mut ftp, &mut poll).result.is_ok());
    ftp.retrieve(s, "big", std::io::sink()).unwrap();
    match mio_one(&mut ftp, &mut poll).result {
        Ok(Outcome::Transferred { bytes, .. }) => assert_eq!(bytes, SENT as u64),
        other => panic!("{other:?}"),
    }
}

fn all_cases() {
    blocking_cases();
    mio_cases();
}

#[test]
fn memory_stays_bounded() {
    let Some(before) = peak_rss() else {
        eprintln!("no VmHWM in /proc/self/status: memory not measured");
        all_cases();
        return;
    };
    all_cases();
    let after = peak_rss().unwrap();
    let grew = after.saturating_sub(before);
    eprintln!(
        "peak memory: {} KiB before, grew by {} KiB",
        before >> 10,
        grew >> 10
    );
    assert!(
        grew < ALLOWED,
        "peak memory grew by {} KiB while servers sent 7 x {} MiB",
        grew >> 10,
        SENT >> 20
    );
}
