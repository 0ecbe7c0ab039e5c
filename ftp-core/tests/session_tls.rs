//! Explicit FTPS (RFC 4217): AUTH TLS (§4), PBSZ/PROT (§8-9), CCC (§6), HOST before AUTH
//! (RFC 7151 §3). The session never goes on in clear text when TLS was asked for, and never
//! accepts clear-text bytes between 234 and the handshake.

mod session_common;
use session_common::*;

use ftp_sansio::command::ProtLevel;
use ftp_sansio::session::{
    Config, OpError, Operation, Outcome, ProtocolError, TimeoutKind, TlsIntent, UsageError,
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
    let mut t = Script::greeted(plain());
    t.start(Operation::AuthTls);
    t.client("AUTH TLS");
    t.server("500 This security scheme is not implemented");
    assert!(matches!(t.err(), OpError::Permanent(_)));
    assert!(!t.s.is_control_tls());
    t.no_client();
    // Also a positive but wrong code (e.g. an ADAT-style 334).
    t.start(Operation::AuthTls);
    t.client("AUTH TLS");
    t.server("334 ADAT=xyz");
    assert!(matches!(t.err(), OpError::Reply(_)));
    assert!(!t.s.is_control_tls());
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

    t.start(Operation::Ccc);
    t.client("CCC");
    t.server("534 CCC not allowed");
    assert!(matches!(t.err(), OpError::Permanent(_)));
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
