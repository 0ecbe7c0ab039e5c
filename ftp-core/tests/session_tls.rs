//! Explicit FTPS (RFC 4217): AUTH TLS (§4), PBSZ/PROT (§8-9), CCC (§6), HOST before AUTH
//! (RFC 7151 §3). The session never goes on in clear text when TLS was asked for, and never
//! accepts clear-text bytes between 234 and the handshake.

mod session_common;
use session_common::*;

use ftp_sansio::command::ProtLevel;
use ftp_sansio::session::{
    Config, LocalClose, OpError, Operation, Outcome, ProtocolError, TimeoutKind, TlsIntent,
    UsageError,
};
use std::time::Duration;

#[test]
fn auth_tls_upgrade_in_each_servers_words() {
    for reply in [
        "234 Proceed with negotiation.", // vsftpd
        "234 AUTH TLS successful",       // ProFTPD
        "234 AUTH TLS OK.",              // Pure-FTPd
    ] {
        let mut t = Script::greeted(plain());
        t.start(Operation::AuthTls);
        t.client("AUTH TLS");
        t.server(reply);
        t.expect_tls(TlsIntent::UpgradeControl);
        t.no_event();
        t.no_client();
        assert!(!t.s.is_idle());
        assert!(!t.s.is_control_tls());
        t.tls_done();
        match t.ok() {
            Outcome::Done(r) => assert_eq!(r.code().get(), 234),
            other => panic!("{other:?}"),
        }
        assert!(t.s.is_control_tls());
        assert!(!t.s.is_data_tls(), "data stays clear until PROT P");
        t.still_usable();
    }
}

#[test]
fn auth_refused_is_an_error_not_a_clear_text_continue() {
    // Issue 13, rule 1: a refused AUTH TLS fails closed, whichever loop drives the session.
    let mut t = Script::greeted(plain());
    t.start(Operation::AuthTls);
    t.client("AUTH TLS");
    t.server("500 This security scheme is not implemented");
    assert!(matches!(t.err(), OpError::Permanent(_)));
    assert!(!t.s.is_control_tls());
    t.closed();
    // The login a caller queued behind it is refused and nothing goes out.
    let login = Operation::Login {
        user: "alice".into(),
        password: "secret".into(),
        account: None,
    };
    assert_eq!(t.s.start(t.now, login), Err(UsageError::Closed));
    t.no_client();
    // A positive but wrong code (e.g. an ADAT-style 334) is a refusal too.
    let mut t = Script::greeted(plain());
    t.start(Operation::AuthTls);
    t.client("AUTH TLS");
    t.server("334 ADAT=xyz");
    assert!(matches!(t.err(), OpError::Reply(_)));
    t.closed();
}

#[test]
fn host_refused_before_auth_fails_closed() {
    let config = Config {
        host: Some("ftp.example.com".into()),
        ..plain()
    };
    let mut t = Script::greeted(config);
    t.start(Operation::AuthTls);
    t.client("HOST ftp.example.com");
    t.server("504 Unknown host");
    assert!(matches!(t.err(), OpError::Permanent(_)));
    t.closed();
}

#[test]
fn clear_text_after_refused_auth_only_when_asked_for() {
    // curl's "try TLS, else clear": an explicit opt-in.
    let config = Config {
        allow_clear_after_refused_auth: true,
        ..plain()
    };
    let mut t = Script::greeted(config);
    t.start(Operation::AuthTls);
    t.client("AUTH TLS");
    t.server("500 This security scheme is not implemented");
    assert!(matches!(t.err(), OpError::Permanent(_)));
    assert!(!t.s.is_control_tls());
    t.still_usable();
    t.start(Operation::AuthTls);
    t.client("AUTH TLS");
    t.server("334 ADAT=xyz");
    assert!(matches!(t.err(), OpError::Reply(_)));
    t.still_usable();
}

#[test]
fn auth_tls_twice_is_refused_without_a_byte() {
    // Rule 2: AUTH TLS on a control connection that already runs TLS.
    let mut t = Script::greeted(plain());
    t.upgrade();
    assert_eq!(
        t.s.start(t.now, Operation::AuthTls),
        Err(UsageError::AlreadyTls)
    );
    t.no_client();
    t.no_event();
    t.still_usable();
    // Implicit FTPS runs TLS from the start.
    let mut s =
        ftp_sansio::session::Session::new_implicit_tls(plain(), addr("127.0.0.1:990"), t.now);
    assert_eq!(s.start(t.now, Operation::AuthTls), Err(UsageError::Busy));
    s.handle_input(t.now, b"220 hi\r\n");
    while s.poll_event().is_some() {}
    assert_eq!(
        s.start(t.now, Operation::AuthTls),
        Err(UsageError::AlreadyTls)
    );
    assert!(s.poll_transmit().is_empty());
}

#[test]
fn protected_data_and_ccc_need_tls_first() {
    // Rule 3: typed or raw, PROT P/S/E and CCC are refused before AUTH TLS; nothing changes.
    let mut t = Script::logged_in(plain());
    for level in [ProtLevel::Private, ProtLevel::Safe, ProtLevel::Confidential] {
        assert_eq!(
            t.s.start(t.now, Operation::Protect(level)),
            Err(UsageError::TlsRequired)
        );
    }
    assert_eq!(
        t.s.start(t.now, Operation::Ccc),
        Err(UsageError::TlsRequired)
    );
    for line in ["PROT P", "prot  s", "PROT E"] {
        let raw = Operation::Raw {
            line: line.as_bytes().to_vec(),
            require_2xx: true,
        };
        assert_eq!(
            t.s.start(t.now, raw),
            Err(UsageError::TlsRequired),
            "{line}"
        );
    }
    t.no_client();
    assert!(!t.s.is_data_tls());
    // PROT C is harmless in clear text.
    t.start(Operation::Protect(ProtLevel::Clear));
    t.client("PBSZ 0");
    t.server("200 PBSZ=0");
    t.client("PROT C");
    t.server("200 PROT C ok");
    t.ok();
    t.still_usable();
}

#[test]
fn auth_and_ccc_are_never_raw() {
    let mut t = Script::logged_in(plain());
    for line in ["AUTH TLS", "auth ssl", "CCC"] {
        let raw = Operation::Raw {
            line: line.as_bytes().to_vec(),
            require_2xx: true,
        };
        assert_eq!(
            t.s.start(t.now, raw),
            Err(UsageError::RawTlsCommand),
            "{line}"
        );
    }
    t.no_client();
    t.still_usable();
}

#[test]
fn a_failed_handshake_closes_with_a_local_reason() {
    // Rule 4: the driver reports its own close; the error does not blame the server.
    let mut t = Script::greeted(plain());
    t.start(Operation::AuthTls);
    t.client("AUTH TLS");
    t.server("234 AUTH TLS successful");
    t.expect_tls(TlsIntent::UpgradeControl);
    t.local_close(LocalClose::Tls);
    assert_eq!(t.err(), OpError::LocalClose(LocalClose::Tls));
    t.closed();
}

#[test]
fn clear_text_after_234_in_the_same_read_is_refused() {
    // A man in the middle appends a reply after the 234 (STARTTLS injection): the upgrade
    // is not even asked for.
    let mut t = Script::greeted(plain());
    t.start(Operation::AuthTls);
    t.client("AUTH TLS");
    t.server("234 AUTH TLS OK.\n230 injected");
    assert_eq!(t.err(), OpError::Protocol(ProtocolError::DataAfterAuth));
    t.closed();

    // Partial bytes count too.
    let mut t = Script::greeted(plain());
    t.start(Operation::AuthTls);
    t.client("AUTH TLS");
    t.server_bytes(b"234 AUTH TLS OK.\r\n2");
    assert_eq!(t.err(), OpError::Protocol(ProtocolError::DataAfterAuth));
    t.closed();

    // Or in a later read before the handshake is reported.
    let mut t = Script::greeted(plain());
    t.start(Operation::AuthTls);
    t.client("AUTH TLS");
    t.server("234 AUTH TLS OK.");
    t.expect_tls(TlsIntent::UpgradeControl);
    t.server("230 injected");
    assert_eq!(t.err(), OpError::Protocol(ProtocolError::DataAfterAuth));
    t.closed();
}

#[test]
fn handshake_timeout() {
    let mut t = Script::greeted(Config {
        reply_timeout: Some(Duration::from_secs(10)),
        ..plain()
    });
    t.start(Operation::AuthTls);
    t.client("AUTH TLS");
    t.server("234 Proceed with negotiation.");
    t.expect_tls(TlsIntent::UpgradeControl);
    t.wait(Duration::from_secs(10));
    assert_eq!(t.err(), OpError::Timeout(TimeoutKind::Tls));
    t.closed();
}

#[test]
fn host_goes_before_auth() {
    let mut t = Script::greeted(Config {
        host: Some("ftp.example.com".into()),
        ..plain()
    });
    t.start(Operation::AuthTls);
    t.client("HOST ftp.example.com");
    t.server("220 HOST command successful");
    t.client("AUTH TLS");
    t.server("234 AUTH TLS successful");
    t.expect_tls(TlsIntent::UpgradeControl);
    t.tls_done();
    t.ok();
    // Not again before USER.
    t.start(Operation::Login {
        user: "ftptest".into(),
        password: "ftptest".into(),
        account: None,
    });
    t.client("USER ftptest");
}

#[test]
fn protect_private_then_clear() {
    let mut t = Script::greeted(plain());
    t.start(Operation::AuthTls);
    t.client("AUTH TLS");
    t.server("234 AUTH TLS OK.");
    t.expect_tls(TlsIntent::UpgradeControl);
    t.tls_done();
    t.ok();
    t.start(Operation::Protect(ProtLevel::Private));
    t.client("PBSZ 0");
    t.server("200 PBSZ=0");
    t.client("PROT P");
    t.server("200 Data protection level set to \"private\"");
    assert!(matches!(t.ok(), Outcome::Done(_)));
    assert!(t.s.is_data_tls());
    t.start(Operation::Protect(ProtLevel::Clear));
    t.client("PBSZ 0");
    t.server("200 PBSZ=0");
    t.client("PROT C");
    t.server("200 Protection set to Clear");
    t.ok();
    assert!(!t.s.is_data_tls());
}

#[test]
fn protect_refused_keeps_the_level() {
    let mut t = Script::logged_in(plain());
    t.upgrade();
    t.start(Operation::Protect(ProtLevel::Private));
    t.client("PBSZ 0");
    t.server("503 PBSZ not allowed on insecure control connection");
    assert!(matches!(t.err(), OpError::Permanent(_)));
    t.no_client();
    assert!(!t.s.is_data_tls());
    t.start(Operation::Protect(ProtLevel::Private));
    t.client("PBSZ 0");
    t.server("200 PBSZ=0");
    t.client("PROT P");
    t.server("536 Requested PROT level not supported by mechanism.");
    assert!(matches!(t.err(), OpError::Permanent(_)));
    assert!(!t.s.is_data_tls());
}

#[test]
fn ccc_downgrade() {
    let mut t = Script::greeted(plain());
    t.start(Operation::AuthTls);
    t.client("AUTH TLS");
    t.server("234 AUTH TLS successful");
    t.expect_tls(TlsIntent::UpgradeControl);
    t.tls_done();
    t.ok();
    t.start(Operation::Ccc);
    t.client("CCC");
    t.server("200 Clearing control channel protection");
    t.expect_tls(TlsIntent::DowngradeControl);
    t.no_event();
    t.tls_done();
    assert!(matches!(t.ok(), Outcome::Done(_)));
    assert!(!t.s.is_control_tls());
    t.still_usable();
    // Clear text again: another CCC needs TLS first.
    assert_eq!(
        t.s.start(t.now, Operation::Ccc),
        Err(UsageError::TlsRequired)
    );

    t.upgrade();
    t.start(Operation::Ccc);
    t.client("CCC");
    t.server("534 CCC not allowed");
    assert!(matches!(t.err(), OpError::Permanent(_)));
    assert!(t.s.is_control_tls());
}

#[test]
fn tls_established_out_of_place_is_ignored() {
    let mut t = Script::logged_in(plain());
    t.tls_done();
    t.no_event();
    assert!(!t.s.is_control_tls());
    t.start(Operation::Noop);
    t.tls_done();
    t.no_event();
    t.client("NOOP");
    t.server("200 ok");
    t.ok();
    t.abort(); // idle ABOR
    t.client("ABOR");
    assert_eq!(t.s.start(t.now, Operation::Noop), Err(UsageError::Busy));
}

#[test]
fn raw_prot_is_followed() {
    let mut t = Script::logged_in(plain());
    t.upgrade();
    t.start(Operation::Raw {
        line: b"PROT P".to_vec(),
        require_2xx: true,
    });
    t.client("PROT P");
    t.server("200 Protection level set to P");
    t.ok();
    assert!(t.s.is_data_tls());
    t.start(Operation::Raw {
        line: b"prot c".to_vec(),
        require_2xx: false,
    });
    t.client("prot c");
    t.server("536 nope");
    t.err();
    assert!(t.s.is_data_tls(), "a refused PROT changes nothing");
    t.start(Operation::Raw {
        line: b"PROT C".to_vec(),
        require_2xx: false,
    });
    t.client("PROT C");
    t.server("200 ok");
    t.ok();
    assert!(!t.s.is_data_tls());
}
