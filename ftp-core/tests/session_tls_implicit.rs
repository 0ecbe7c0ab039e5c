//! Implicit FTPS (`Session::new_implicit_tls`): the control connection is TLS before the
//! greeting; nothing else changes.

use std::time::Instant;

use ftp_sansio::command::ProtLevel;
use ftp_sansio::session::{
    Config, DataIntent, Event, Operation, Outcome, Session, TransferKind, TransferRequest,
};

fn drain(s: &mut Session) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn sent(s: &mut Session) -> String {
    let out = String::from_utf8(s.poll_transmit().to_vec()).unwrap();
    s.consume_transmit(out.len());
    out
}

#[test]
fn implicit_session_is_tls_from_the_start_and_protects_data_after_prot_p() {
    let now = Instant::now();
    let config = Config {
        auto_feat: false,
        ..Config::default()
    };
    let mut s = Session::new_implicit_tls(config, "127.0.0.1:990".parse().unwrap(), now);
    assert!(s.is_control_tls());
    assert!(!s.is_data_tls());
    // No AUTH is sent: the greeting is simply read.
    assert_eq!(sent(&mut s), "");
    s.handle_input(now, b"220 implicit ready\r\n");
    assert!(matches!(
        drain(&mut s).as_slice(),
        [Event::Completed(Ok(Outcome::Greeting(_)))]
    ));

    s.start(now, Operation::Protect(ProtLevel::Private))
        .unwrap();
    assert_eq!(sent(&mut s), "PBSZ 0\r\n");
    s.handle_input(now, b"200 PBSZ=0\r\n");
    assert_eq!(sent(&mut s), "PROT P\r\n");
    s.handle_input(now, b"200 Protection level set to P\r\n");
    drain(&mut s);
    assert!(s.is_data_tls() && s.is_control_tls());

    let list = TransferRequest {
        kind: TransferKind::List(None),
        ascii: true,
        rest: None,
    };
    s.start(now, Operation::Transfer(list)).unwrap();
    assert_eq!(sent(&mut s), "TYPE A\r\n");
    s.handle_input(now, b"200 ok\r\n");
    assert_eq!(sent(&mut s), "EPSV\r\n");
    s.handle_input(now, b"229 Entering Extended Passive Mode (|||50000|)\r\n");
    let events = drain(&mut s);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Data(DataIntent::Connect { tls: true, .. }))),
        "{events:?}"
    );
}

#[test]
fn plain_session_is_not_tls() {
    let s = Session::new(
        Config::default(),
        "127.0.0.1:21".parse().unwrap(),
        Instant::now(),
    );
    assert!(!s.is_control_tls());
}
