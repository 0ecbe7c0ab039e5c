//! Whole conversations in the reply styles of real servers, start to QUIT. The texts are
//! those observed with vsftpd 3.0.3, ProFTPD 1.3.8, Pure-FTPd 1.0.50, pyftpdlib 2.2.0 and
//! libunftp 0.24 on loopback (see the project's server notes), and IIS's reply table
//! (IIS FTP service `reply.txt`; IIS 7+ texts).

mod session_common;
use session_common::*;

use ftp_sansio::session::{
    Config, DataEvent, DataIntent, Direction, OpError, Operation, Outcome, TransferKind,
};

fn login(user: &str, pw: &str) -> Operation {
    Operation::Login {
        user: user.into(),
        password: pw.into(),
        account: None,
    }
}

fn listing(t: &mut Script) {
    match t.event() {
        ftp_sansio::session::Event::Data(DataIntent::Stream {
            direction: Direction::Download,
            ascii: true,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn iis() {
    let mut t = Script::new(Config::default());
    t.server("220 Microsoft FTP Service");
    t.ok();
    t.start(login("ftptest", "secret"));
    t.client("USER ftptest");
    t.server("331 Password required for ftptest.");
    t.client("PASS secret");
    t.server("230 User ftptest logged in.");
    t.client("FEAT");
    t.server(
        "211-Extended features supported:\n LANG EN*\n UTF8\n AUTH TLS;TLS-C;SSL;TLS-P;\n PBSZ\n \
         PROT C;P;\n CCC\n HOST\n SIZE\n MDTM\n REST STREAM\n211 END",
    );
    t.client("OPTS UTF8 ON");
    t.server("200 OPTS UTF8 command successful - UTF8 encoding now ON.");
    assert!(matches!(t.ok(), Outcome::LoggedIn(_)));
    assert!(t.s.features().unwrap().contains("AUTH"));

    t.start(Operation::Syst);
    t.client("SYST");
    t.server("215 Windows_NT");
    t.ok();
    t.start(Operation::Pwd);
    t.client("PWD");
    t.server("257 \"/\" is current directory.");
    assert_eq!(t.ok(), Outcome::Path(b"/".to_vec()));

    t.start(transfer(TransferKind::List(None), true, None));
    t.client("TYPE A");
    t.server("200 Type set to A.");
    t.epsv_connect(50123);
    t.client("LIST");
    t.server("125 Data connection already open; Transfer starting.");
    listing(&mut t);
    t.data(DataEvent::Finished { bytes: 120 });
    t.server("226 Transfer complete.");
    assert!(matches!(t.ok(), Outcome::Transferred { bytes: 120, .. }));

    t.start(Operation::Cwd(b"nope".to_vec()));
    t.client("CWD nope");
    t.server("550 nope: The system cannot find the file specified. ");
    assert!(matches!(t.err(), OpError::Permanent(_)));

    t.start(Operation::Quit);
    t.client("QUIT");
    t.server("221 Goodbye.");
    assert!(matches!(t.ok(), Outcome::Closed(_)));
    t.closed();
}

#[test]
fn libunftp() {
    let mut t = Script::new(Config::default());
    t.server("220 Welcome to unFTP");
    t.ok();
    t.start(login("", ""));
    t.client("USER anonymous");
    t.server("331 Password Required");
    t.client("PASS anonymous@");
    t.server("230 User logged in, proceed");
    t.client("FEAT");
    t.server("211-Extensions supported:\n EPSV\n MDTM\n MLSD\n MLST\n REST STREAM\n SITE MD5\n SIZE\n UTF8\n211 END");
    t.client("OPTS UTF8 ON");
    t.server("200 Always in UTF-8 mode.");
    t.ok();
    t.start(Operation::Size(b"README".to_vec()));
    t.client("TYPE I");
    t.server("200 Always in binary mode");
    t.client("SIZE README");
    t.server("213 20");
    assert_eq!(t.ok(), Outcome::Size(20));
    t.start(Operation::Stat(None));
    t.client("STAT");
    t.server("211-Status:\n Logged in as: anonymous\n TYPE: Binary\n211 offset for REST: 0");
    t.ok();
    t.start(transfer(
        TransferKind::Retr(b"README".to_vec()),
        false,
        Some(10),
    ));
    t.epsv_connect(50050);
    t.client("REST 10");
    t.server("350 Restarting at 10. Now send STORE or RETRIEVE.");
    t.client("RETR README");
    t.server("150 Sending data");
    t.event();
    t.data(DataEvent::Finished { bytes: 10 });
    t.server("226 Successfully sent");
    assert!(matches!(t.ok(), Outcome::Transferred { bytes: 10, .. }));
    // Active mode is off by default in libunftp.
    t.s.config_mut().passive = false;
    t.start(transfer(TransferKind::Nlst(None), true, None));
    t.client("TYPE A");
    t.server("200 Always in binary mode");
    t.expect_data(DataIntent::Listen { tls: false });
    t.data(DataEvent::Listening(addr("127.0.0.1:40000")));
    t.client("EPRT |1|127.0.0.1|40000|");
    t.server("502 Active mode not enabled.");
    t.client("PORT 127,0,0,1,156,64");
    t.server("502 Active mode not enabled.");
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.err(), OpError::Permanent(_)));
    t.still_usable();
}

#[test]
fn vsftpd_anonymous_read_only() {
    let mut t = Script::greeted(plain());
    t.start(login("ftp", ""));
    t.client("USER ftp");
    t.server("331 Please specify the password.");
    t.client("PASS ");
    t.server("230 Login successful.");
    t.ok();
    t.start(transfer(TransferKind::Stor(b"x".to_vec()), false, None));
    t.client("TYPE I");
    t.server("200 Switching to Binary mode.");
    t.epsv_connect(50000);
    t.client("STOR x");
    t.server("550 Permission denied.");
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.err(), OpError::Permanent(_)));
    // Empty listing of a missing path: 150 + 226, no error at all.
    t.start(transfer(
        TransferKind::Nlst(Some(b"missing".to_vec())),
        true,
        None,
    ));
    t.client("TYPE A");
    t.server("200 Switching to ASCII mode.");
    t.epsv_connect(50001);
    t.client("NLST missing");
    t.server("150 Here comes the directory listing.");
    listing(&mut t);
    t.data(DataEvent::Finished { bytes: 0 });
    t.server("226 Directory send OK.");
    assert!(matches!(t.ok(), Outcome::Transferred { bytes: 0, .. }));
    // vsftpd has no MLSD.
    t.start(transfer(TransferKind::Mlsd(None), true, None));
    t.epsv_connect(50002);
    t.client("MLSD");
    t.server("500 Unknown command.");
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.err(), OpError::Permanent(_)));
}

#[test]
fn proftpd_user_session() {
    let mut t = Script::new(plain());
    t.server("220 ProFTPD Server (ProFTPD loopback test) [127.0.0.1]");
    t.ok();
    t.start(login("ftptest", "ftptest"));
    t.client("USER ftptest");
    t.server("331 Password required for ftptest");
    t.client("PASS ftptest");
    t.server("230 User ftptest logged in");
    t.ok();
    t.start(transfer(
        TransferKind::Retr(b"hello.txt".to_vec()),
        false,
        None,
    ));
    t.client("TYPE I");
    t.server("200 Type set to I");
    t.epsv_connect(50010);
    t.client("RETR hello.txt");
    t.server("150 Opening BINARY mode data connection for hello.txt (11 bytes)");
    t.expect_data(DataIntent::Stream {
        direction: Direction::Download,
        expected_size: Some(11),
        ascii: false,
        tls: false,
    });
    t.data(DataEvent::Finished { bytes: 11 });
    t.server("226 Transfer complete");
    t.ok();
    // ProFTPD's default for APPE without AllowStoreRestart.
    t.start(transfer(TransferKind::Appe(b"q.bin".to_vec()), false, None));
    t.epsv_connect(50011);
    t.client("APPE q.bin");
    t.server("451 q.bin: Append/Restart not permitted, try again");
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.err(), OpError::Temporary(_)));
    t.start(Operation::Quit);
    t.client("QUIT");
    t.server("221 Goodbye.");
    t.ok();
}

#[test]
fn pure_ftpd_session() {
    let mut t = Script::new(plain());
    t.server(
        "220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------\n\
         220-You are user number 1 of 200 allowed.\n\
         220-Local time is now 20:57. Server port: 2121.\n\
         220-IPv6 connections are also welcome on this server.\n\
         220 You will be disconnected after 15 minutes of inactivity.",
    );
    t.ok();
    t.start(login("ftptest", "ftptest"));
    t.client("USER ftptest");
    t.server("331 User ftptest OK. Password required");
    t.client("PASS ftptest");
    t.server("230 OK. Current directory is /");
    t.ok();
    t.start(transfer(
        TransferKind::Retr(b"t.txt".to_vec()),
        true,
        Some(2),
    ));
    t.client("TYPE A");
    t.server("200 TYPE is now ASCII");
    t.epsv_connect(50020);
    t.client("REST 2");
    t.server("350 Restarting at 2");
    t.client("RETR t.txt");
    t.server("503 ASCII resume is unsafe, please delete the file first");
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.err(), OpError::Permanent(_)));
    t.start(transfer(TransferKind::Retr(b"t.txt".to_vec()), true, None));
    t.epsv_connect(50021);
    // The refused RETR did not use the marker of REST 2: it is reset first.
    t.client("REST 0");
    t.server("350 Restarting at 0");
    t.client("RETR t.txt");
    t.server("150 Accepted data connection");
    t.event();
    t.server("226-File successfully transferred\n226-Warning: client is in ASCII mode - Assuming data is plain text\n226 0.000 seconds (measured here), 221.41 Kbytes per second");
    t.data(DataEvent::Finished { bytes: 11 });
    t.ok();
}

#[test]
fn pyftpdlib_session() {
    let mut t = Script::new(plain());
    t.server("220 pyftpdlib 2.2.0 ready.");
    t.ok();
    t.start(login("anonymous", ""));
    t.client("USER anonymous");
    t.server("331 Username ok, send password.");
    t.client("PASS anonymous@");
    t.server("230 Login successful.");
    t.ok();
    t.start(transfer(TransferKind::Mlsd(None), true, None));
    t.client("TYPE A");
    t.server("200 Type set to: ASCII.");
    t.epsv_connect(50030);
    t.client("MLSD");
    t.server("125 Data connection already open. Transfer starting.");
    listing(&mut t);
    t.data(DataEvent::Finished { bytes: 200 });
    t.server("226 Transfer complete.");
    t.ok();
    t.start(Operation::Size(b"hello.txt".to_vec()));
    t.client("TYPE I");
    t.server("200 Type set to: Binary.");
    t.client("SIZE hello.txt");
    t.server("213 11");
    assert_eq!(t.ok(), Outcome::Size(11));
}
