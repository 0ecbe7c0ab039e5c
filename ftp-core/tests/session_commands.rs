//! One-command operations (RFC 959 §4.1, RFC 3659 SIZE/MDTM/MLST) and the raw path
//! (ftplib's sendcmd / voidcmd), with the reply texts of real servers.

mod session_common;
use session_common::*;

use ftp_sansio::session::{OpError, Operation, Outcome, ProtocolError, UsageError};

fn done(t: &mut Script) -> u16 {
    match t.ok() {
        Outcome::Done(r) => r.code().get(),
        other => panic!("{other:?}"),
    }
}

fn path(t: &mut Script) -> Vec<u8> {
    match t.ok() {
        Outcome::Path(p) => p,
        other => panic!("{other:?}"),
    }
}

#[test]
fn cwd_in_several_servers_words() {
    let mut t = Script::logged_in(plain());
    for reply in [
        "250 Directory successfully changed.",    // vsftpd
        "250 CWD command successful",             // ProFTPD
        "250 OK. Current directory is /sub",      // Pure-FTPd
        "250 \"/sub\" is the current directory.", // pyftpdlib
    ] {
        t.start(Operation::Cwd(b"sub".to_vec()));
        t.client("CWD sub");
        t.server(reply);
        assert_eq!(done(&mut t), 250);
    }
    t.start(Operation::Cwd(b"nope".to_vec()));
    t.client("CWD nope");
    t.server("550 Failed to change directory.");
    assert!(matches!(t.err(), OpError::Permanent(_)));
    t.still_usable();
}

#[test]
fn cwd_dotdot_is_cdup_with_fallback() {
    let mut t = Script::logged_in(plain());
    t.start(Operation::Cwd(b"..".to_vec()));
    t.client("CDUP");
    t.server("250 Directory successfully changed.");
    assert_eq!(done(&mut t), 250);

    t.start(Operation::Cwd(b"..".to_vec()));
    t.client("CDUP");
    t.server("500 Unknown command.");
    t.client("CWD ..");
    t.server("250 OK");
    assert_eq!(done(&mut t), 250);

    // Other errors of CDUP are reported, no fallback.
    t.start(Operation::Cwd(b"..".to_vec()));
    t.client("CDUP");
    t.server("550 Permission denied.");
    assert!(matches!(t.err(), OpError::Permanent(_)));
    t.no_client();
}

#[test]
fn cwd_empty_is_dot_and_cdup() {
    let mut t = Script::logged_in(plain());
    t.start(Operation::Cwd(Vec::new()));
    t.client("CWD .");
    t.server("250 ok");
    done(&mut t);
    t.start(Operation::Cdup);
    t.client("CDUP");
    t.server("200 CDUP command successful");
    assert_eq!(done(&mut t), 200);
}

#[test]
fn pwd_parses_257() {
    let mut t = Script::logged_in(plain());
    t.start(Operation::Pwd);
    t.client("PWD");
    t.server("257 \"/\" is the current directory");
    assert_eq!(path(&mut t), b"/");
    t.start(Operation::Pwd);
    t.client("PWD");
    t.server("257 \"/with \"\"quotes\"\"\" is current directory.");
    assert_eq!(path(&mut t), b"/with \"quotes\"");
}

#[test]
fn pwd_unparsable_or_wrong_code() {
    let mut t = Script::logged_in(plain());
    t.start(Operation::Pwd);
    t.client("PWD");
    t.server("257 no quotes here");
    let e = t.err();
    assert!(
        matches!(
            e,
            OpError::Protocol(ProtocolError::Decode { code: 257, .. })
        ),
        "{e:?}"
    );
    assert!(!e.is_fatal());
    t.start(Operation::Pwd);
    t.client("PWD");
    t.server("250 /home");
    assert!(matches!(t.err(), OpError::Reply(_)));
    t.still_usable();
}

#[test]
fn mkd_absolute_relative_and_unparsable() {
    let mut t = Script::logged_in(plain());
    t.start(Operation::Mkd(b"newdir".to_vec()));
    t.client("MKD newdir");
    t.server("257 \"/newdir\" created");
    assert_eq!(path(&mut t), b"/newdir");
    // Pure-FTPd: relative name, text after the quotes.
    t.start(Operation::Mkd(b"newdir".to_vec()));
    t.client("MKD newdir");
    t.server("257 \"newdir\" : The directory was successfully created");
    assert_eq!(path(&mut t), b"newdir");
    // bftpd-style 250/200, or 257 without a path: the path asked for.
    for reply in ["250 Directory created", "200 OK", "257 created"] {
        t.start(Operation::Mkd(b"d2".to_vec()));
        t.client("MKD d2");
        t.server(reply);
        assert_eq!(path(&mut t), b"d2");
    }
    t.start(Operation::Mkd(b"x".to_vec()));
    t.client("MKD x");
    t.server("550 Create directory operation failed.");
    assert!(matches!(t.err(), OpError::Permanent(_)));
}

#[test]
fn rmd_dele() {
    let mut t = Script::logged_in(plain());
    t.start(Operation::Rmd(b"d".to_vec()));
    t.client("RMD d");
    t.server("250 Remove directory operation successful.");
    done(&mut t);
    t.start(Operation::Dele(b"f".to_vec()));
    t.client("DELE f");
    t.server("250 Delete operation successful.");
    done(&mut t);
    t.start(Operation::Dele(b"f".to_vec()));
    t.client("DELE f");
    t.server("550 Delete operation failed.");
    assert!(matches!(t.err(), OpError::Permanent(_)));
    // An empty name cannot be sent.
    assert!(matches!(
        t.s.start(t.now, Operation::Dele(Vec::new())),
        Err(UsageError::InvalidArgument(_))
    ));
}

#[test]
fn rename_sequence() {
    let mut t = Script::logged_in(plain());
    t.start(Operation::Rename {
        from: b"a".to_vec(),
        to: b"b".to_vec(),
    });
    t.client("RNFR a");
    t.no_client();
    t.server("350 Ready for RNTO.");
    t.client("RNTO b");
    t.server("250 Rename successful.");
    assert_eq!(done(&mut t), 250);

    t.start(Operation::Rename {
        from: b"missing".to_vec(),
        to: b"b".to_vec(),
    });
    t.client("RNFR missing");
    t.server("550 RNFR command failed.");
    assert!(matches!(t.err(), OpError::Permanent(_)));
    t.no_client();

    // A 2xx to RNFR is not the expected 350: ftplib's error_reply.
    t.start(Operation::Rename {
        from: b"a".to_vec(),
        to: b"b".to_vec(),
    });
    t.client("RNFR a");
    t.server("200 huh");
    assert!(matches!(t.err(), OpError::Reply(_)));
    t.no_client();

    // Both names are checked before anything is sent.
    assert!(matches!(
        t.s.start(
            t.now,
            Operation::Rename {
                from: b"a".to_vec(),
                to: b"b\nDELE c".to_vec()
            }
        ),
        Err(UsageError::InvalidArgument(_))
    ));
    t.no_client();
}

#[test]
fn size_switches_to_binary_first_and_only_once() {
    let mut t = Script::logged_in(plain());
    t.start(Operation::Size(b"hello.txt".to_vec()));
    t.client("TYPE I");
    t.server("200 Switching to Binary mode.");
    t.client("SIZE hello.txt");
    t.server("213 11");
    assert_eq!(t.ok(), Outcome::Size(11));
    t.start(Operation::Size(b"big.iso".to_vec()));
    t.client("SIZE big.iso");
    t.server("213 4700000000");
    assert_eq!(t.ok(), Outcome::Size(4_700_000_000));
    t.start(Operation::Size(b"nope".to_vec()));
    t.client("SIZE nope");
    t.server("550 Could not get file size.");
    assert!(matches!(t.err(), OpError::Permanent(_)));
    t.start(Operation::Size(b"x".to_vec()));
    t.client("SIZE x");
    t.server("213 -5");
    assert!(matches!(
        t.err(),
        OpError::Protocol(ProtocolError::Decode { code: 213, .. })
    ));
    t.still_usable();
}

#[test]
fn size_when_type_refused() {
    let mut t = Script::logged_in(plain());
    t.start(Operation::Size(b"f".to_vec()));
    t.client("TYPE I");
    t.server("504 Command not implemented for that parameter.");
    assert!(matches!(t.err(), OpError::Permanent(_)));
    t.no_client();
    // Still unknown: tried again next time.
    t.start(Operation::Size(b"f".to_vec()));
    t.client("TYPE I");
}

#[test]
fn mdtm() {
    let mut t = Script::logged_in(plain());
    t.start(Operation::Mdtm(b"hello.txt".to_vec()));
    t.client("MDTM hello.txt");
    t.server("213 20251125205701");
    match t.ok() {
        Outcome::Mtime(ts) => assert_eq!(ts.to_string(), "2025-11-25T20:57:01"),
        other => panic!("{other:?}"),
    }
    t.start(Operation::Mdtm(b"hello.txt".to_vec()));
    t.client("MDTM hello.txt");
    t.server("213 20251325205701");
    assert!(matches!(
        t.err(),
        OpError::Protocol(ProtocolError::Decode { .. })
    ));
}

#[test]
fn mlst_proftpd_and_pure_ftpd() {
    let mut t = Script::logged_in(plain());
    t.start(Operation::Mlst(Some(b"hello.txt".to_vec())));
    t.client("MLST hello.txt");
    t.server(
        "250-Start of list for hello.txt\n modify=20251125205701;perm=adfrw;size=11;type=file; /hello.txt\n250 End of list",
    );
    assert_eq!(
        t.ok(),
        Outcome::Entry(b"modify=20251125205701;perm=adfrw;size=11;type=file; /hello.txt".to_vec())
    );
    t.start(Operation::Mlst(None));
    t.client("MLST");
    t.server("250-Begin\n type=cdir;sizd=4096;modify=20251125205701; .\n250 End.");
    assert_eq!(
        t.ok(),
        Outcome::Entry(b"type=cdir;sizd=4096;modify=20251125205701; .".to_vec())
    );
    t.start(Operation::Mlst(None));
    t.client("MLST");
    t.server("250 nothing");
    assert_eq!(t.err(), OpError::Protocol(ProtocolError::MissingEntry));
    // vsftpd has no MLST.
    t.start(Operation::Mlst(None));
    t.client("MLST");
    t.server("500 Unknown command.");
    assert!(matches!(t.err(), OpError::Permanent(_)));
}

#[test]
fn site_stat_syst_help_noop() {
    let mut t = Script::logged_in(plain());
    t.start(Operation::Site(b"CHMOD 644 f".to_vec()));
    t.client("SITE CHMOD 644 f");
    t.server("200 SITE CHMOD command successful");
    assert_eq!(done(&mut t), 200);

    t.start(Operation::Stat(None));
    t.client("STAT");
    t.server("211-FTP server status:\n     Connected to 127.0.0.1\n     Logged in as ftptest\n211 End of status");
    match t.ok() {
        Outcome::Done(r) => assert_eq!(r.lines().count(), 4),
        other => panic!("{other:?}"),
    }
    t.start(Operation::Stat(Some(b"hello.txt".to_vec())));
    t.client("STAT hello.txt");
    t.server(
        "213-Status follows:\n-rw-r--r-- 1 ftp ftp 11 Nov 25 20:57 hello.txt\n213 End of status",
    );
    assert_eq!(done(&mut t), 213);

    t.start(Operation::Syst);
    t.client("SYST");
    t.server("215 UNIX Type: L8");
    assert_eq!(done(&mut t), 215);

    t.start(Operation::Help(Some(b"SITE".to_vec())));
    t.client("HELP SITE");
    t.server("214-The following SITE commands are recognized:\n CHMOD IDLE HELP\n214 Direct comments to root.");
    assert_eq!(done(&mut t), 214);
    t.start(Operation::Help(None));
    t.client("HELP");
    t.server("502 Command not implemented.");
    assert!(matches!(t.err(), OpError::Permanent(_)));

    t.start(Operation::Noop);
    t.client("NOOP");
    t.server("200 I successfully did nothing'."); // pyftpdlib (sic)
    assert_eq!(done(&mut t), 200);
}

#[test]
fn preliminary_reply_to_a_simple_command_is_skipped() {
    let mut t = Script::logged_in(plain());
    t.start(Operation::Site(b"EXEC slow".to_vec()));
    t.client("SITE EXEC slow");
    t.server("100 working");
    t.no_event();
    t.server("200 done");
    assert_eq!(done(&mut t), 200);
}

#[test]
fn quit_closes_the_session() {
    let mut t = Script::logged_in(plain());
    t.start(Operation::Quit);
    t.client("QUIT");
    // Pure-FTPd's two-line goodbye
    t.server("221-Goodbye. You uploaded 1 and downloaded 1 kbytes.\n221 Logout.");
    match t.ok() {
        Outcome::Closed(r) => assert_eq!(r.code().get(), 221),
        other => panic!("{other:?}"),
    }
    t.closed();
    assert_eq!(t.s.abort(t.now), Err(UsageError::Closed));
}

#[test]
fn quit_answered_by_eof() {
    let mut t = Script::logged_in(plain());
    t.start(Operation::Quit);
    t.client("QUIT");
    t.eof();
    assert_eq!(t.err(), OpError::ConnectionClosed);
    t.closed();
}

#[test]
fn raw_sendcmd_and_voidcmd() {
    let mut t = Script::logged_in(plain());
    // sendcmd: any positive final reply.
    t.start(Operation::Raw {
        line: b"USER other".to_vec(),
        require_2xx: false,
    });
    t.client("USER other");
    t.server("331 Please specify the password.");
    assert_eq!(done(&mut t), 331);
    // voidcmd: a 3xx is an unexpected reply.
    t.start(Operation::Raw {
        line: b"USER other".to_vec(),
        require_2xx: true,
    });
    t.client("USER other");
    t.server("331 Please specify the password.");
    assert!(matches!(t.err(), OpError::Reply(_)));
    t.start(Operation::Raw {
        line: b"SITE UMASK 022".to_vec(),
        require_2xx: true,
    });
    t.client("SITE UMASK 022");
    t.server("200 UMASK set to 022 (was 077)");
    assert_eq!(done(&mut t), 200);
    t.start(Operation::Raw {
        line: b"XYZZY".to_vec(),
        require_2xx: false,
    });
    t.client("XYZZY");
    t.server("500 Unknown command.");
    assert!(matches!(t.err(), OpError::Permanent(_)));
    // A raw line cannot smuggle a second command.
    assert!(matches!(
        t.s.start(
            t.now,
            Operation::Raw {
                line: b"NOOP\r\nDELE x".to_vec(),
                require_2xx: false
            }
        ),
        Err(UsageError::InvalidArgument(_))
    ));
    t.no_client();
}

#[test]
fn raw_type_makes_the_type_unknown() {
    let mut t = Script::logged_in(plain());
    t.start(Operation::Size(b"f".to_vec()));
    t.client("TYPE I");
    t.server("200 Switching to Binary mode.");
    t.client("SIZE f");
    t.server("213 1");
    t.ok();
    t.start(Operation::Raw {
        line: b"type a".to_vec(),
        require_2xx: true,
    });
    t.client("type a");
    t.server("200 Switching to ASCII mode.");
    t.ok();
    t.start(Operation::Size(b"f".to_vec()));
    t.client("TYPE I");
}

#[test]
fn unsolicited_reply_when_idle_is_ignored_but_421_closes() {
    let mut t = Script::logged_in(plain());
    t.server("200 stray");
    t.no_event();
    t.still_usable();
    t.server("421 Timeout.");
    t.no_event(); // no operation was in flight
    t.closed();
}
