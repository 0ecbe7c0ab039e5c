//! The greeting (RFC 959 §5.4 "Connection Establishment": 120, 220, 421) as real servers
//! send it.

mod session_common;
use session_common::*;

use ftp_sansio::reply::ReplyError;
use ftp_sansio::session::{
    Config, OpError, Operation, Outcome, ProtocolError, TimeoutKind, UsageError,
};
use std::time::Duration;

#[test]
fn vsftpd_single_line_greeting_is_kept_as_welcome() {
    let mut t = Script::new(plain());
    assert!(!t.s.is_idle(), "the greeting is the operation in flight");
    t.no_client();
    t.server("220 (vsFTPd 3.0.3)");
    match t.ok() {
        Outcome::Greeting(r) => assert_eq!(r.code().get(), 220),
        other => panic!("{other:?}"),
    }
    assert_eq!(t.s.welcome().unwrap().text(), "220 (vsFTPd 3.0.3)");
    t.still_usable();
}

#[test]
fn pure_ftpd_multi_line_greeting_byte_by_byte() {
    let mut t = Script::new(plain());
    t.server_bytewise(
        "220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------\n\
         220-You are user number 1 of 200 allowed.\n\
         220-Local time is now 20:57. Server port: 2121.\n\
         220-This is a private system - No anonymous login\n\
         220 You will be disconnected after 15 minutes of inactivity.",
    );
    t.ok();
    let welcome = t.s.welcome().unwrap();
    assert_eq!(welcome.lines().count(), 5);
    assert_eq!(
        welcome.last_line(),
        b"220 You will be disconnected after 15 minutes of inactivity."
    );
}

#[test]
fn service_ready_later_120_then_220() {
    let mut t = Script::new(plain());
    t.server("120 Service ready in 1 minutes.");
    t.no_event();
    assert!(!t.s.is_idle());
    t.server("220 ProFTPD Server (ProFTPD loopback test) [127.0.0.1]");
    assert!(matches!(t.ok(), Outcome::Greeting(_)));
    assert_eq!(t.s.welcome().unwrap().code().get(), 220);
}

#[test]
fn greeting_421_closes() {
    let mut t = Script::new(plain());
    t.server("421 Too many connections (8) from this IP");
    let e = t.err();
    assert!(matches!(e, OpError::Temporary(ref r) if r.code().get() == 421));
    assert!(e.is_fatal());
    t.closed();
}

#[test]
fn greeting_5xx_closes() {
    let mut t = Script::new(plain());
    t.server("530 Access denied from your address.");
    assert!(matches!(t.err(), OpError::Permanent(_)));
    t.closed();
}

#[test]
fn eof_before_greeting() {
    let mut t = Script::new(plain());
    t.eof();
    assert_eq!(t.err(), OpError::ConnectionClosed);
    t.closed();
}

#[test]
fn eof_in_the_middle_of_the_greeting() {
    let mut t = Script::new(plain());
    t.server_bytes(b"220-Welcome\r\n220-still going");
    t.no_event();
    t.eof();
    assert_eq!(t.err(), OpError::Protocol(ProtocolError::EofMidReply));
    t.closed();
}

#[test]
fn not_an_ftp_server() {
    let mut t = Script::new(plain());
    t.server("SSH-2.0-OpenSSH_9.2p1 Debian-2");
    match t.err() {
        OpError::Protocol(ProtocolError::Framing(ReplyError::NotAReply { .. })) => {}
        other => panic!("{other:?}"),
    }
    t.closed();
    // Input after the close is ignored.
    t.server("220 late");
    t.no_event();
}

#[test]
fn greeting_that_never_comes_times_out() {
    let mut t = Script::new(Config {
        reply_timeout: Some(Duration::from_secs(10)),
        ..plain()
    });
    assert_eq!(t.s.poll_timeout(), Some(t.now + Duration::from_secs(10)));
    t.wait(Duration::from_secs(9));
    t.no_event();
    t.wait(Duration::from_secs(1));
    assert_eq!(t.err(), OpError::Timeout(TimeoutKind::Reply));
    t.closed();
}

#[test]
fn greeting_larger_than_the_limit_is_refused() {
    let mut t = Script::new(Config {
        limits: ftp_sansio::reply::Limits {
            max_line: 100,
            max_reply: 1000,
        },
        ..plain()
    });
    for _ in 0..40 {
        t.server_bytes(b"220-spam spam spam spam spam spam spam\r\n");
    }
    assert!(matches!(
        t.err(),
        OpError::Protocol(ProtocolError::Framing(ReplyError::ReplyTooLarge { .. }))
    ));
    t.closed();
}

#[test]
fn start_while_greeting_is_busy() {
    let mut t = Script::new(plain());
    assert_eq!(t.s.start(t.now, Operation::Noop), Err(UsageError::Busy));
    t.no_client();
    t.server("220 ready");
    t.ok();
    t.still_usable();
}

#[test]
fn session_can_move_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<ftp_sansio::session::Session>();
    send_sync::<ftp_sansio::session::Event>();
    send_sync::<OpError>();
}
