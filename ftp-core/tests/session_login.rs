//! Login (RFC 959 §4.1.1 USER/PASS/ACCT), HOST (RFC 7151), FEAT/OPTS UTF8 (RFC 2389, 2640).

mod session_common;
use session_common::*;

use ftp_sansio::command::CommandError;
use ftp_sansio::session::{Config, OpError, Operation, Outcome, UsageError};

fn login(user: &str, password: &str, account: Option<&str>) -> Operation {
    Operation::Login {
        user: user.into(),
        password: password.into(),
        account: account.map(Into::into),
    }
}

#[test]
fn anonymous_with_empty_user_and_password() {
    let mut t = Script::greeted(plain());
    t.start(login("", "", None));
    t.client("USER anonymous");
    t.no_client();
    t.server("331 Please specify the password.");
    t.client("PASS anonymous@");
    t.server("230 Login successful.");
    match t.ok() {
        Outcome::LoggedIn(r) => assert_eq!(r.code().get(), 230),
        other => panic!("{other:?}"),
    }
    t.still_usable();
}

#[test]
fn explicit_anonymous_keeps_a_given_password() {
    let mut t = Script::greeted(plain());
    t.start(login("anonymous", "me@example.org", None));
    t.client("USER anonymous");
    t.server("331 Anonymous login ok, send your complete email address as your password");
    t.client("PASS me@example.org");
    t.server("230 Anonymous access granted, restrictions apply");
    assert!(matches!(t.ok(), Outcome::LoggedIn(_)));
}

#[test]
fn user_accepted_without_password() {
    let mut t = Script::greeted(plain());
    t.start(login("ftp", "x", None));
    t.client("USER ftp");
    t.server("230 Already logged in.");
    assert!(matches!(t.ok(), Outcome::LoggedIn(_)));
    t.no_client();
}

#[test]
fn wrong_password_in_each_servers_words() {
    for text in [
        "530 Login incorrect.",            // vsftpd, ProFTPD
        "530 Login authentication failed", // Pure-FTPd
        "530 Authentication failed.",      // pyftpdlib
    ] {
        let mut t = Script::greeted(plain());
        t.start(login("ftptest", "wrong", None));
        t.client("USER ftptest");
        t.server("331 Password required for ftptest");
        t.client("PASS wrong");
        t.server(text);
        let e = t.err();
        assert!(matches!(e, OpError::Permanent(_)), "{e:?}");
        assert!(!e.is_fatal());
        t.still_usable();
    }
}

#[test]
fn account_asked_after_password() {
    let mut t = Script::greeted(plain());
    t.start(login("ftptest", "pw", Some("acct1")));
    t.client("USER ftptest");
    t.server("331 Password required");
    t.client("PASS pw");
    t.server("332 Need account for login.");
    t.client("ACCT acct1");
    t.server("230 User logged in, proceed.");
    assert!(matches!(t.ok(), Outcome::LoggedIn(_)));
}

#[test]
fn secrets_stay_out_of_the_sessions_debug_output() {
    let mut t = Script::greeted(plain());
    t.start(login("ftptest", "hunter2-secret", Some("acct-secret")));
    t.client("USER ftptest");
    let dump = format!("{:?}", t.s);
    assert!(dump.contains("ftptest"), "{dump}");
    assert!(!dump.contains("hunter2-secret"), "{dump}");
    assert!(!dump.contains("acct-secret"), "{dump}");
    // `PASS` queued and not yet written: its bytes are not shown either.
    let mut s = t.s;
    s.handle_input(t.now, b"331 Password required\r\n");
    assert!(s.poll_transmit().starts_with(b"PASS hunter2-secret"));
    let dump = format!("{s:?}");
    let secret_bytes = format!("{:?}", &b"hunter2"[..]);
    let secret_bytes = &secret_bytes[1..secret_bytes.len() - 1];
    assert!(!dump.contains(secret_bytes), "{dump}");
    assert!(dump.contains("pending_transmit"), "{dump}");
}

#[test]
fn account_asked_after_user() {
    let mut t = Script::greeted(plain());
    t.start(login("ftptest", "pw", Some("acct1")));
    t.client("USER ftptest");
    t.server("332 Need account for login.");
    t.client("ACCT acct1");
    t.server("202 Command not implemented, superfluous at this site.");
    assert!(matches!(t.ok(), Outcome::LoggedIn(_)));
}

#[test]
fn account_asked_but_none_given() {
    let mut t = Script::greeted(plain());
    t.start(login("ftptest", "pw", None));
    t.client("USER ftptest");
    t.server("331 Password required");
    t.client("PASS pw");
    t.server("332 Need account for login.");
    assert!(matches!(t.err(), OpError::Reply(ref r) if r.code().get() == 332));
    t.no_client();
}

#[test]
fn transient_failure_during_login() {
    let mut t = Script::greeted(plain());
    t.start(login("ftptest", "pw", None));
    t.client("USER ftptest");
    t.server("331 Password required");
    t.client("PASS pw");
    t.server("450 Try again later");
    assert!(matches!(t.err(), OpError::Temporary(_)));
    t.still_usable();
}

#[test]
fn server_closing_during_login() {
    let mut t = Script::greeted(plain());
    t.start(login("ftptest", "pw", None));
    t.client("USER ftptest");
    t.server("421 Service not available, closing control connection.");
    let e = t.err();
    assert!(matches!(e, OpError::Temporary(ref r) if r.code().get() == 421));
    assert!(e.is_fatal());
    t.closed();
}

#[test]
fn injection_in_credentials_is_refused_before_sending() {
    let mut t = Script::greeted(plain());
    let r = t.s.start(t.now, login("bob\r\nDELE x", "pw", None));
    assert!(matches!(
        r,
        Err(UsageError::InvalidArgument(CommandError::ForbiddenByte {
            byte: b'\r',
            ..
        }))
    ));
    let r = t.s.start(t.now, login("bob", "pw\n", None));
    assert!(matches!(r, Err(UsageError::InvalidArgument(_))));
    t.no_client();
    t.still_usable();
}

#[test]
fn auto_feat_with_utf8_sends_opts() {
    let mut t = Script::greeted(Config::default());
    t.start(login("anonymous", "", None));
    t.client("USER anonymous");
    t.server("331 Anonymous login ok");
    t.client("PASS anonymous@");
    t.server("230 Anonymous access granted, restrictions apply");
    t.client("FEAT");
    t.no_event();
    // ProFTPD's FEAT
    t.server(
        "211-Features:\n LANG en-US*\n MDTM\n MFF modify;UNIX.group;UNIX.mode;\n \
         MFMT\n MLST modify*;perm*;size*;type*;unique*;\n UTF8\n EPRT\n EPSV\n HOST\n \
         REST STREAM\n SIZE\n CCC\n211 End",
    );
    t.client("OPTS UTF8 ON");
    t.server("200 UTF8 set to on");
    match t.ok() {
        Outcome::LoggedIn(r) => assert_eq!(r.code().get(), 230),
        other => panic!("{other:?}"),
    }
    let f = t.s.features().unwrap();
    assert!(f.contains("mlst") && f.contains("UTF8") && f.contains("HOST"));
    assert!(f.params("REST").unwrap().contains("STREAM"));
}

#[test]
fn pure_ftpd_refuses_opts_utf8_which_is_ignored() {
    let mut t = Script::greeted(Config::default());
    t.start(login("ftptest", "ftptest", None));
    t.client("USER ftptest");
    t.server("331 User ftptest OK. Password required");
    t.client("PASS ftptest");
    t.server("230 OK. Current directory is /");
    t.client("FEAT");
    t.server(
        "211-Extensions supported:\n EPRT\n IDLE\n MDTM\n SIZE\n MFMT\n REST STREAM\n \
         MLST type*;size*;sizd*;modify*;UNIX.mode*;UNIX.uid*;UNIX.gid*;unique*;\n MLSD\n \
         PRET\n AUTH TLS\n PBSZ\n PROT\n UTF8\n ESTA\n PASV\n EPSV\n ESTP\n211 End.",
    );
    t.client("OPTS UTF8 ON");
    t.server("504 Unknown command");
    assert!(matches!(t.ok(), Outcome::LoggedIn(_)));
    assert!(t.s.features().unwrap().contains("PRET"));
    t.still_usable();
}

#[test]
fn auto_feat_without_utf8_and_feat_refused() {
    // vsftpd: no UTF8 line, so no OPTS.
    let mut t = Script::greeted(Config::default());
    t.start(login("ftptest", "ftptest", None));
    t.client("USER ftptest");
    t.server("331 Please specify the password.");
    t.client("PASS ftptest");
    t.server("230 Login successful.");
    t.client("FEAT");
    t.server("211-Features:\n EPRT\n EPSV\n MDTM\n PASV\n REST STREAM\n SIZE\n TVFS\n211 End");
    assert!(matches!(t.ok(), Outcome::LoggedIn(_)));
    t.no_client();
    assert!(t.s.features().unwrap().contains("TVFS"));

    // A server without FEAT: login still succeeds, no features known.
    let mut t = Script::greeted(Config::default());
    t.start(login("ftptest", "ftptest", None));
    t.client("USER ftptest");
    t.server("230 Login successful.");
    t.client("FEAT");
    t.server("500 'FEAT': command not understood");
    assert!(matches!(t.ok(), Outcome::LoggedIn(_)));
    assert!(t.s.features().is_none());
}

#[test]
fn host_before_user_when_configured() {
    let mut t = Script::greeted(Config {
        host: Some("ftp.example.com".into()),
        ..plain()
    });
    t.start(login("ftptest", "ftptest", None));
    t.client("HOST ftp.example.com");
    t.no_client();
    t.server("220 HOST command successful");
    t.client("USER ftptest");
    t.server("331 Password required for ftptest");
    t.client("PASS ftptest");
    t.server("230 User ftptest logged in");
    assert!(matches!(t.ok(), Outcome::LoggedIn(_)));
    // HOST is sent once per connection.
    t.start(login("other", "pw", None));
    t.client("USER other");
}

#[test]
fn host_unknown_to_the_server_is_tolerated() {
    let mut t = Script::greeted(Config {
        host: Some("ftp.example.com".into()),
        ..plain()
    });
    t.start(login("ftptest", "ftptest", None));
    t.client("HOST ftp.example.com");
    t.server("500 Unknown command.");
    t.client("USER ftptest");
    t.server("230 Login successful.");
    assert!(matches!(t.ok(), Outcome::LoggedIn(_)));
}

#[test]
fn host_refused_ends_the_login() {
    let mut t = Script::greeted(Config {
        host: Some("nosuch.example.com".into()),
        ..plain()
    });
    t.start(login("ftptest", "ftptest", None));
    t.client("HOST nosuch.example.com");
    t.server("504 Unknown virtual host");
    assert!(matches!(t.err(), OpError::Permanent(_)));
    t.no_client();
}

#[test]
fn trace_replies_reports_every_reply() {
    let mut t = Script::new(Config {
        trace_replies: true,
        ..plain()
    });
    t.server("220 hi");
    t.ok();
    t.start(login("", "", None));
    t.server("331 pw?");
    t.server("230 ok");
    t.ok();
    let codes: Vec<u16> = t.traced.iter().map(|r| r.code().get()).collect();
    assert_eq!(codes, [220, 331, 230]);
}

#[test]
fn one_operation_at_a_time() {
    let mut t = Script::greeted(plain());
    t.start(login("ftptest", "pw", None));
    assert_eq!(t.s.start(t.now, Operation::Pwd), Err(UsageError::Busy));
    assert_eq!(t.s.abort(t.now), Err(UsageError::NotAbortable));
    t.client("USER ftptest");
    t.no_client();
}
