//! `Config::operation_timeout`: a hard bound on one whole operation, however much progress
//! it makes. Without it a server trickling `120` replies (each re-arms the reply deadline)
//! or one data byte per data timeout keeps an operation alive forever.

mod session_common;
use session_common::*;

use ftp_sansio::session::{
    Config, DataEvent, DataIntent, Direction, OpError, Operation, Outcome, TimeoutKind,
};
use std::time::Duration;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn stream_down() -> DataIntent {
    DataIntent::Stream {
        direction: Direction::Download,
        expected_size: None,
        ascii: false,
        tls: false,
    }
}

#[test]
fn trickling_120_before_the_greeting_is_cut_off() {
    let mut t = Script::new(Config {
        reply_timeout: Some(secs(10)),
        operation_timeout: Some(secs(30)),
        ..plain()
    });
    let start = t.now;
    assert_eq!(t.s.poll_timeout(), Some(start + secs(10)));
    for _ in 0..3 {
        t.wait(secs(9));
        t.server("120 Service ready in a while.");
        t.no_event();
    }
    // The reply deadline (27 + 10 s) is later than the whole greeting's (30 s).
    assert_eq!(t.s.poll_timeout(), Some(start + secs(30)));
    t.wait(secs(2));
    t.no_event();
    t.wait(secs(1));
    assert_eq!(t.err(), OpError::Timeout(TimeoutKind::Operation));
    assert!(OpError::Timeout(TimeoutKind::Operation).is_fatal());
    t.closed();
    t.server("220 too late");
    t.no_event();
}

#[test]
fn without_operation_timeout_trickling_120_is_waited_out() {
    let mut t = Script::new(Config {
        reply_timeout: Some(secs(10)),
        ..plain()
    });
    assert_eq!(t.s.config().operation_timeout, None);
    for _ in 0..100 {
        t.wait(secs(9));
        t.server("120 Service ready in a while.");
        t.no_event();
    }
    t.server("220 finally");
    assert!(matches!(t.ok(), Outcome::Greeting(_)));
    assert_eq!(t.s.poll_timeout(), None);
}

/// Logged in, then `RETR f` streaming: 150 received, data connection open.
fn slow_download(config: Config) -> Script {
    let mut t = Script::logged_in(config);
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("RETR f");
    t.server("150 Opening BINARY mode data connection for f.");
    t.expect_data(stream_down());
    t
}

#[test]
fn slowly_progressing_download_is_cut_off() {
    let mut t = slow_download(Config {
        data_timeout: Some(secs(1)),
        operation_timeout: Some(secs(5)),
        ..plain()
    });
    let started = t.now;
    let step = Duration::from_millis(900);
    for _ in 0..5 {
        t.wait(step);
        t.data(DataEvent::Progress(1));
        t.no_event();
    }
    // 4.5 s in: the data deadline (5.4 s) is later than the transfer's (5 s).
    assert_eq!(t.s.poll_timeout(), Some(started + secs(5)));
    t.wait(Duration::from_millis(499));
    t.no_event();
    t.wait(Duration::from_millis(1));
    // The data connection is closed before the operation completes; no ABOR: the session
    // closes like after a reply timeout.
    t.expect_data(DataIntent::Close);
    assert_eq!(t.err(), OpError::Timeout(TimeoutKind::Operation));
    t.no_client();
    t.closed();
}

#[test]
fn without_operation_timeout_a_slow_download_goes_on() {
    let mut t = slow_download(Config {
        data_timeout: Some(secs(1)),
        ..plain()
    });
    for _ in 0..200 {
        t.wait(Duration::from_millis(900));
        t.data(DataEvent::Progress(1));
        t.no_event();
    }
    t.data(DataEvent::Finished { bytes: 200 });
    t.server("226 Transfer complete.");
    match t.ok() {
        Outcome::Transferred { bytes, .. } => assert_eq!(bytes, 200),
        other => panic!("{other:?}"),
    }
    t.still_usable();
}

#[test]
fn each_operation_gets_its_own_deadline() {
    let mut t = Script::new(Config {
        reply_timeout: Some(secs(60)),
        operation_timeout: Some(secs(5)),
        ..plain()
    });
    t.wait(secs(4));
    t.server("220 ready");
    assert!(matches!(t.ok(), Outcome::Greeting(_)));
    // Idle: no deadline at all.
    assert_eq!(t.s.poll_timeout(), None);
    t.wait(secs(100));
    t.no_event();
    t.start(Operation::Noop);
    let started = t.now;
    t.client("NOOP");
    assert_eq!(t.s.poll_timeout(), Some(started + secs(5)));
    t.wait(secs(4));
    t.server("200 ok");
    assert!(matches!(t.ok(), Outcome::Done(_)));
    // The next one starts afresh: 4 s + 4 s is past the first deadline but fine.
    t.start(Operation::Pwd);
    t.client("PWD");
    t.wait(secs(4));
    t.server("257 \"/\"");
    assert!(matches!(t.ok(), Outcome::Path(_)));
    assert_eq!(t.s.poll_timeout(), None);
}

#[test]
fn an_abort_does_not_restart_the_transfers_deadline() {
    let mut t = slow_download(Config {
        operation_timeout: Some(secs(5)),
        ..plain()
    });
    let started = t.now;
    t.wait(secs(3));
    t.abort();
    t.client("ABOR");
    // The server never answers ABOR: the data connection is closed after the grace (1 s)...
    assert_eq!(t.s.poll_timeout(), Some(t.now + secs(1)));
    t.wait(secs(1));
    t.expect_data(DataIntent::Close);
    // ...and the transfer's deadline still ends it.
    assert_eq!(t.s.poll_timeout(), Some(started + secs(5)));
    t.wait(secs(1));
    assert_eq!(t.err(), OpError::Timeout(TimeoutKind::Operation));
    t.closed();
}

#[test]
fn a_deadline_beyond_the_clock_never_fires() {
    let mut t = Script::new(Config {
        reply_timeout: None,
        operation_timeout: Some(Duration::MAX),
        ..plain()
    });
    // `now + Duration::MAX` overflows: no deadline rather than a panic.
    assert_eq!(t.s.poll_timeout(), None);
    t.wait(secs(1_000_000));
    t.no_event();
    t.server("220 ready");
    assert!(matches!(t.ok(), Outcome::Greeting(_)));
}
