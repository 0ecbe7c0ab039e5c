//! Transfers: TYPE, passive (EPSV → PASV fallback, RFC 2428 §3) and active (EPRT → PORT,
//! RFC 2428 §2), REST (RFC 3659 §5), and the 1xx → data → final-reply sequence in every
//! order real servers produce.

mod session_common;
use session_common::*;

use ftp_sansio::session::{
    Config, DataEvent, DataFailure, DataIntent, Direction, OpError, Operation, Outcome,
    ProtocolError, TimeoutKind, TransferKind,
};
use std::time::Duration;

fn stream_down(size: Option<u64>) -> DataIntent {
    DataIntent::Stream {
        direction: Direction::Download,
        expected_size: size,
        ascii: false,
        tls: false,
    }
}

fn transferred(t: &mut Script) -> (u64, u16) {
    match t.ok() {
        Outcome::Transferred { bytes, reply } => (bytes, reply.code().get()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn vsftpd_retr_226_after_eof() {
    let mut t = Script::logged_in(plain());
    t.start(retr("hello.txt"));
    t.client("TYPE I");
    t.no_client();
    t.server("200 Switching to Binary mode.");
    t.client("EPSV");
    t.server("229 Entering Extended Passive Mode (|||50001|)");
    t.expect_data(DataIntent::Connect {
        addr: addr("127.0.0.1:50001"),
        tls: false,
    });
    t.no_client(); // the command waits for the connection
    t.data(DataEvent::Connected);
    t.client("RETR hello.txt");
    t.server("150 Opening BINARY mode data connection for hello.txt (11 bytes).");
    t.expect_data(stream_down(Some(11)));
    t.data(DataEvent::Progress(5));
    t.data(DataEvent::Finished { bytes: 11 });
    t.no_event();
    t.server("226 Transfer complete.");
    assert_eq!(transferred(&mut t), (11, 226));
    t.still_usable();
}

#[test]
fn proftpd_226_before_eof() {
    let mut t = Script::logged_in(plain());
    t.start(retr("hello.txt"));
    t.client("TYPE I");
    t.server("200 Type set to I");
    t.epsv_connect(50002);
    t.client("RETR hello.txt");
    t.server("150 Opening BINARY mode data connection for hello.txt (11 bytes)");
    t.expect_data(stream_down(Some(11)));
    t.server("226 Transfer complete");
    t.no_event(); // data still moving
    t.data(DataEvent::Finished { bytes: 11 });
    assert_eq!(transferred(&mut t), (11, 226));
}

#[test]
fn type_is_sent_only_when_it_changes() {
    let mut t = Script::logged_in(plain());
    t.start(retr("a"));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("RETR a");
    t.server("150 go\n226 done");
    t.expect_data(stream_down(None));
    t.data(DataEvent::Finished { bytes: 1 });
    transferred(&mut t);

    t.start(retr("b"));
    t.client("EPSV"); // no TYPE I again
    t.server("229 Entering Extended Passive Mode (|||50000|)");
    t.event();
    t.data(DataEvent::Connected);
    t.client("RETR b");
    t.server("150 go\n226 done");
    t.event();
    t.data(DataEvent::Finished { bytes: 1 });
    transferred(&mut t);

    // ASCII listing switches to TYPE A (ftplib's retrlines), then back.
    t.start(transfer(TransferKind::List(None), true, None));
    t.client("TYPE A");
    t.server("200 Switching to ASCII mode.");
    t.client("EPSV");
}

#[test]
fn epsv_refused_falls_back_to_pasv_and_remembers() {
    let mut t = Script::logged_in(plain());
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.client("EPSV");
    t.server("500 'EPSV': command not understood");
    t.client("PASV");
    // The 227 address is ignored: control peer IP + port.
    t.server("227 Entering Passive Mode (10,9,8,7,195,80).");
    t.expect_data(DataIntent::Connect {
        addr: addr("127.0.0.1:50000"),
        tls: false,
    });
    t.data(DataEvent::Connected);
    t.client("RETR f");
    t.server("550 Failed to open file.");
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.err(), OpError::Permanent(_)));
    // never EPSV again on this session
    t.start(retr("f"));
    t.client("PASV");
    t.server("227 Entering Passive Mode (127,0,0,1,195,81)");
    t.expect_data(DataIntent::Connect {
        addr: addr("127.0.0.1:50001"),
        tls: false,
    });
}

#[test]
fn epsv_other_errors_are_not_a_fallback() {
    let mut t = Script::logged_in(plain());
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.client("EPSV");
    t.server("425 Can't open passive connection");
    assert!(matches!(t.err(), OpError::Temporary(_)));
    t.no_client();
}

#[test]
fn pasv_address_trusted_when_configured() {
    let mut t = Script::logged_in(Config {
        trust_pasv_address: true,
        use_epsv: false,
        ..plain()
    });
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.client("PASV");
    t.server("227 Entering Passive Mode (10,9,8,7,195,80).");
    t.expect_data(DataIntent::Connect {
        addr: addr("10.9.8.7:50000"),
        tls: false,
    });
    // vsftpd over IPv6 says 0.0.0.0: the control peer is meant.
    let mut t = Script::with_peer(
        Config {
            trust_pasv_address: true,
            use_epsv: false,
            ..plain()
        },
        addr("[::1]:21"),
    );
    t.server("220 hi");
    t.ok();
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.client("PASV");
    t.server("227 Entering Passive Mode (0,0,0,0,197,17).");
    t.expect_data(DataIntent::Connect {
        addr: addr("[::1]:50449"),
        tls: false,
    });
}

#[test]
fn epsv_over_ipv6_uses_the_control_peer() {
    let mut t = Script::with_peer(plain(), addr("[::1]:2121"));
    t.server("220 hi");
    t.ok();
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.client("EPSV");
    t.server("229 Extended Passive mode OK (|||50123|)");
    t.expect_data(DataIntent::Connect {
        addr: addr("[::1]:50123"),
        tls: false,
    });
}

#[test]
fn bad_passive_replies_are_typed_errors_not_panics() {
    for (cmd_reply, expect_port0) in [
        ("227 Entering Passive Mode (127,0,0,1,0,0).", true),
        ("227 Entering Passive Mode (1,195,137).", false), // ProFTPD over IPv6
        ("227 Entering passive mode (::1,196,226).", false), // pyftpdlib over IPv6
        ("227 Entering Passive Mode (300,0,0,1,4,1).", false),
    ] {
        let mut t = Script::logged_in(Config {
            use_epsv: false,
            ..plain()
        });
        t.start(retr("f"));
        t.client("TYPE I");
        t.server("200 ok");
        t.client("PASV");
        t.server(cmd_reply);
        let e = t.err();
        match e {
            OpError::Protocol(ProtocolError::BadDataAddress(a)) => {
                assert!(expect_port0, "{cmd_reply}");
                assert_eq!(a.port(), 0)
            }
            OpError::Protocol(ProtocolError::Decode { code: 227, .. }) => {}
            other => panic!("{cmd_reply}: {other:?}"),
        }
        t.still_usable();
    }
    for reply in [
        "229 Entering Extended Passive Mode (|||0|)",
        "229 Entering Extended Passive Mode (|||99999|)",
        "229 Entering Extended Passive Mode",
    ] {
        let mut t = Script::logged_in(plain());
        t.start(retr("f"));
        t.client("TYPE I");
        t.server("200 ok");
        t.client("EPSV");
        t.server(reply);
        assert!(matches!(t.err(), OpError::Protocol(_)), "{reply}");
        t.still_usable();
    }
}

#[test]
fn rest_resumes_and_checks_truncation_conservatively() {
    let mut t = Script::logged_in(plain());
    t.start(transfer(
        TransferKind::Retr(b"q.bin".to_vec()),
        false,
        Some(2),
    ));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("REST 2");
    t.server("350 Restart position accepted (2).");
    t.client("RETR q.bin");
    // vsftpd announces the whole size after REST: not passed on as expected size.
    t.server("150 Opening BINARY mode data connection for q.bin (6 bytes).");
    t.expect_data(stream_down(None));
    t.data(DataEvent::Finished { bytes: 4 });
    t.server("226 Transfer complete.");
    assert_eq!(transferred(&mut t), (4, 226));

    // ProFTPD announces the rest; fewer bytes than either reading is truncation.
    t.start(transfer(
        TransferKind::Retr(b"q.bin".to_vec()),
        false,
        Some(2),
    ));
    t.epsv_connect(50000);
    t.client("REST 2");
    t.server("350 Restarting at 2. Send STORE or RETRIEVE to initiate transfer");
    t.client("RETR q.bin");
    t.server("150 Opening BINARY mode data connection for q.bin (10 bytes)");
    t.event();
    t.data(DataEvent::Finished { bytes: 3 });
    t.server("226 Transfer complete");
    assert!(matches!(
        t.err(),
        OpError::Truncated {
            expected: 8,
            received: 3,
            ..
        }
    ));
}

/// A download resumed with `REST 4096` whose data connection is reset: 426, the transfer
/// failed, and the server may still hold the marker.
fn failed_resume(t: &mut Script) {
    t.start(transfer(
        TransferKind::Retr(b"a.bin".to_vec()),
        false,
        Some(4096),
    ));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("REST 4096");
    t.server("350 Restarting at 4096.");
    t.client("RETR a.bin");
    t.server("150 Opening data connection.");
    t.event();
    t.data(DataEvent::Failed {
        kind: DataFailure::Reset,
        bytes: 100,
    });
    t.server("426 Datachannel unexpectedly closed");
    assert!(matches!(t.err(), OpError::Data { .. }));
}

#[test]
fn a_restart_marker_left_by_a_failed_transfer_is_reset_before_the_next_one() {
    // libunftp keeps the offset of `REST` when the transfer fails (it resets it only after
    // a success): the next download without REST started at 4096, a shifted file of the
    // right length (found by the mirror's fault test).
    let mut t = Script::logged_in(plain());
    failed_resume(&mut t);
    t.start(retr("b.bin"));
    t.epsv_connect(50001);
    t.client("REST 0");
    t.no_client(); // RETR waits for REST's answer
    t.server("350 Restarting at 0.");
    t.client("RETR b.bin");
    t.server("150 Opening data connection (9 bytes).");
    t.expect_data(stream_down(Some(9)));
    t.data(DataEvent::Finished { bytes: 9 });
    t.server("226 ok");
    assert_eq!(transferred(&mut t), (9, 226));
    // That transfer used the marker: the next one needs no REST.
    t.start(retr("c.bin"));
    t.epsv_connect(50002);
    t.client("RETR c.bin");
}

#[test]
fn an_upload_after_a_failed_resume_resets_the_marker_too() {
    // A STOR that starts at a stale offset writes the file from there: worse than a
    // download.
    let mut t = Script::logged_in(plain());
    failed_resume(&mut t);
    t.start(transfer(
        TransferKind::Stor(b"up.bin".to_vec()),
        false,
        None,
    ));
    t.epsv_connect(50001);
    t.client("REST 0");
    t.server("350 Restarting at 0.");
    t.client("STOR up.bin");
}

#[test]
fn a_listing_leaves_the_marker_to_the_next_file_transfer() {
    // Listings do not use a restart marker: no REST 0 before them, and it is still owed
    // before the next file transfer.
    let mut t = Script::logged_in(plain());
    failed_resume(&mut t);
    t.start(transfer(TransferKind::Nlst(None), true, None));
    t.client("TYPE A");
    t.server("200 ok");
    t.epsv_connect(50001);
    t.client("NLST");
    t.server("150 Here comes the listing.\n226 Directory send OK.");
    t.event();
    t.data(DataEvent::Finished { bytes: 0 });
    t.ok();
    t.start(retr("b.bin"));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50002);
    t.client("REST 0");
}

#[test]
fn a_refused_rest_0_does_not_stop_the_transfer_nor_repeat() {
    let mut t = Script::logged_in(plain());
    failed_resume(&mut t);
    t.start(retr("b.bin"));
    t.epsv_connect(50001);
    t.client("REST 0");
    t.server("501 Bad offset");
    t.client("RETR b.bin");
    t.server("150 Opening data connection.");
    t.event();
    t.data(DataEvent::Failed {
        kind: DataFailure::Reset,
        bytes: 0,
    });
    t.server("426 closed");
    assert!(matches!(t.err(), OpError::Data { .. }));
    // Asked once: the next transfer goes straight to RETR.
    t.start(retr("c.bin"));
    t.epsv_connect(50002);
    t.client("RETR c.bin");
}

#[test]
fn a_421_to_rest_0_ends_the_transfer() {
    let mut t = Script::logged_in(plain());
    failed_resume(&mut t);
    t.start(retr("b.bin"));
    t.epsv_connect(50001);
    t.client("REST 0");
    t.server("421 Service not available, closing control connection.");
    t.expect_data(DataIntent::Close);
    assert_eq!(code(&t.err()), Some(421));
    t.no_client(); // no RETR
}

#[test]
fn a_successful_resume_leaves_no_marker() {
    let mut t = Script::logged_in(plain());
    t.start(transfer(
        TransferKind::Retr(b"a.bin".to_vec()),
        false,
        Some(2),
    ));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("REST 2");
    t.server("350 Restarting at 2.");
    t.client("RETR a.bin");
    t.server("150 Opening data connection.");
    t.event();
    t.data(DataEvent::Finished { bytes: 4 });
    t.server("226 ok");
    assert_eq!(transferred(&mut t), (4, 226));
    t.start(retr("b.bin"));
    t.epsv_connect(50001);
    t.client("RETR b.bin");
}

#[test]
fn rest_refused() {
    let mut t = Script::logged_in(plain());
    t.start(transfer(
        TransferKind::Retr(b"t.txt".to_vec()),
        true,
        Some(5),
    ));
    t.client("TYPE A");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("REST 5");
    t.server("501 REST not allowed in ASCII mode");
    // The data connection opened for nothing is dropped before the completion.
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.err(), OpError::Permanent(_)));
    t.no_client();
}

#[test]
fn truncated_binary_download_is_an_error() {
    let mut t = Script::logged_in(plain());
    t.start(retr("big.bin"));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("RETR big.bin");
    t.server("150 Opening BINARY mode data connection for big.bin (1000 bytes).");
    t.expect_data(stream_down(Some(1000)));
    t.data(DataEvent::Finished { bytes: 600 });
    t.server("226 Transfer complete.");
    match t.err() {
        OpError::Truncated {
            expected,
            received,
            reply,
        } => {
            assert_eq!((expected, received), (1000, 600));
            assert_eq!(reply.unwrap().code().get(), 226);
        }
        other => panic!("{other:?}"),
    }
    t.still_usable();
}

#[test]
fn ascii_download_size_is_not_checked() {
    let mut t = Script::logged_in(plain());
    t.start(transfer(TransferKind::Retr(b"t.txt".to_vec()), true, None));
    t.client("TYPE A");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("RETR t.txt");
    t.server("150 Opening ASCII mode data connection for t.txt (100 bytes)");
    t.expect_data(DataIntent::Stream {
        direction: Direction::Download,
        expected_size: Some(100),
        ascii: true,
        tls: false,
    });
    t.data(DataEvent::Finished { bytes: 96 });
    t.server("226 Transfer complete");
    assert_eq!(transferred(&mut t), (96, 226));
}

#[test]
fn aborted_by_server_426_after_data_is_never_success() {
    let mut t = Script::logged_in(plain());
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("RETR f");
    t.server("150 Opening BINARY mode data connection for f");
    t.expect_data(stream_down(None));
    t.data(DataEvent::Finished { bytes: 10 });
    t.server("426 Failure writing network stream.");
    let e = t.err();
    assert!(matches!(e, OpError::Temporary(ref r) if r.code().get() == 426));
    t.still_usable();
}

#[test]
fn error_reply_while_data_still_moving_closes_it() {
    let mut t = Script::logged_in(plain());
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("RETR f");
    t.server("150 go");
    t.expect_data(stream_down(None));
    t.server("451 Local error in processing");
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.err(), OpError::Temporary(_)));
    // The driver's late report is ignored.
    t.data(DataEvent::Finished { bytes: 3 });
    t.no_event();
    t.still_usable();
}

#[test]
fn proftpd_list_missing_path_450_after_150() {
    let mut t = Script::logged_in(plain());
    t.start(transfer(
        TransferKind::List(Some(b"nope".to_vec())),
        true,
        None,
    ));
    t.client("TYPE A");
    t.server("200 Type set to A");
    t.epsv_connect(50000);
    t.client("LIST nope");
    t.server("150 Opening ASCII mode data connection for file list");
    t.expect_data(DataIntent::Stream {
        direction: Direction::Download,
        expected_size: None,
        ascii: true,
        tls: false,
    });
    t.server("450 nope: No such file or directory");
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.err(), OpError::Temporary(_)));
    t.still_usable();
}

#[test]
fn errors_before_any_data_close_the_connection() {
    for (kind, reply) in [
        (
            TransferKind::Nlst(Some(b"nope".to_vec())),
            "450 No files found",
        ), // ProFTPD NLST
        (
            TransferKind::Nlst(Some(b"nope".to_vec())),
            "550 Can't check for file existence",
        ), // Pure-FTPd
        (
            TransferKind::List(Some(b"nope".to_vec())),
            "550 No such file or directory.",
        ), // pyftpdlib
        (
            TransferKind::Mlsd(Some(b"nope".to_vec())),
            "501 No such directory.",
        ), // pyftpdlib MLSD
        (
            TransferKind::Retr(b"f".to_vec()),
            "425 Can't open data connection.",
        ),
    ] {
        let mut t = Script::logged_in(plain());
        t.start(transfer(kind, true, None));
        t.client("TYPE A");
        t.server("200 ok");
        t.epsv_connect(50000);
        let line = t.client_line();
        assert!(["NLST nope", "LIST nope", "MLSD nope", "RETR f"].contains(&line.as_str()));
        t.server(reply);
        t.expect_data(DataIntent::Close);
        let e = t.err();
        assert_eq!(code(&e), Some(reply[..3].parse().unwrap()));
        t.still_usable();
    }
}

#[test]
fn pyftpdlib_125_and_empty_vsftpd_listing() {
    let mut t = Script::logged_in(plain());
    t.start(transfer(TransferKind::Nlst(None), true, None));
    t.client("TYPE A");
    t.server("200 Type set to: ASCII.");
    t.epsv_connect(50000);
    t.client("NLST");
    t.server("125 Data connection already open. Transfer starting.");
    t.event();
    t.data(DataEvent::Finished { bytes: 0 });
    t.server("226 Transfer complete.");
    assert_eq!(transferred(&mut t), (0, 226));
}

#[test]
fn pure_ftpd_multi_line_226() {
    let mut t = Script::logged_in(plain());
    t.start(transfer(TransferKind::Mlsd(None), true, None));
    t.client("TYPE A");
    t.server("200 TYPE is now ASCII");
    t.epsv_connect(50000);
    t.client("MLSD");
    t.server("150 Accepted data connection");
    t.event();
    t.data(DataEvent::Finished { bytes: 300 });
    t.server_bytewise("226-Options: -l \n226 2 matches total");
    match t.ok() {
        Outcome::Transferred { bytes: 300, reply } => assert_eq!(reply.lines().count(), 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_200_before_the_150_is_skipped_once() {
    let mut t = Script::logged_in(plain());
    t.start(transfer(TransferKind::List(None), true, None));
    t.client("TYPE A");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("LIST");
    t.server("200 PORT command successful");
    t.no_event();
    t.server("150 Here comes the directory listing.");
    t.event();
    t.data(DataEvent::Finished { bytes: 20 });
    t.server("226 Directory send OK.");
    transferred(&mut t);
    // Two 2xx without a 1xx: unexpected.
    t.start(transfer(TransferKind::List(None), true, None));
    t.epsv_connect(50000);
    t.client("LIST");
    t.server("200 one\n226 two");
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.err(), OpError::Reply(_)));
}

#[test]
fn uploads_stor_appe_stou() {
    let mut t = Script::logged_in(plain());
    for (kind, line) in [
        (TransferKind::Stor(b"up.bin".to_vec()), "STOR up.bin"),
        (TransferKind::Appe(b"up.bin".to_vec()), "APPE up.bin"),
        (TransferKind::Stou, "STOU"),
        (
            TransferKind::Raw {
                line: b"STOR raw.bin".to_vec(),
                upload: true,
            },
            "STOR raw.bin",
        ),
    ] {
        t.start(transfer(kind, false, None));
        if line == "STOR up.bin" {
            t.client("TYPE I");
            t.server("200 ok");
        }
        t.epsv_connect(50000);
        t.client(line);
        t.server("150 Ok to send data.");
        t.expect_data(DataIntent::Stream {
            direction: Direction::Upload,
            expected_size: None,
            ascii: false,
            tls: false,
        });
        t.data(DataEvent::Progress(512));
        t.data(DataEvent::Finished { bytes: 1024 });
        t.server("226 Transfer complete.");
        assert_eq!(transferred(&mut t), (1024, 226));
    }
}

#[test]
fn raw_transfer_lines_take_their_direction_from_the_verb() {
    // ftplib's transfercmd: the socket goes whichever way the command says.
    let mut t = Script::logged_in(plain());
    for (line, direction) in [
        ("stou", Direction::Upload),
        ("Appe log.txt", Direction::Upload),
        ("STOR a b.bin", Direction::Upload),
        ("RETR STOR", Direction::Download),
        ("STORE x", Direction::Download),
        ("LIST -la", Direction::Download),
    ] {
        let kind = TransferKind::from_raw_line(line.as_bytes().to_vec());
        t.start(transfer(kind, false, None));
        if line == "stou" {
            t.client("TYPE I");
            t.server("200 ok");
        }
        t.epsv_connect(50000);
        t.client(line);
        t.server("150 Here it comes.");
        t.expect_data(DataIntent::Stream {
            direction,
            expected_size: None,
            ascii: false,
            tls: false,
        });
        t.data(DataEvent::Finished { bytes: 7 });
        t.server("226 Transfer complete.");
        assert_eq!(transferred(&mut t), (7, 226), "{line}");
    }
}

#[test]
fn upload_failing_on_the_data_side_reads_the_final_reply() {
    let mut t = Script::logged_in(plain());
    t.start(transfer(TransferKind::Stor(b"u".to_vec()), false, None));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("STOR u");
    t.server("150 Ok to send data.");
    t.event();
    t.data(DataEvent::Failed {
        kind: DataFailure::Reset,
        bytes: 100,
    });
    t.no_event();
    // The server saw EOF and thinks the upload complete: still an error.
    t.server("226 Transfer complete.");
    match t.err() {
        OpError::Data { failure, reply } => {
            assert_eq!(failure, DataFailure::Reset);
            assert_eq!(reply.unwrap().code().get(), 226);
        }
        other => panic!("{other:?}"),
    }
    t.still_usable();
}

#[test]
fn data_failure_after_the_final_reply() {
    let mut t = Script::logged_in(plain());
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("RETR f");
    t.server("150 go\n226 done");
    t.event();
    t.data(DataEvent::Failed {
        kind: DataFailure::Tls,
        bytes: 0,
    });
    assert!(matches!(
        t.err(),
        OpError::Data {
            failure: DataFailure::Tls,
            reply: Some(_)
        }
    ));
    t.still_usable();
}

#[test]
fn passive_connect_refused() {
    let mut t = Script::logged_in(plain());
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.client("EPSV");
    t.server("229 Entering Extended Passive Mode (|||50000|)");
    t.event();
    t.data(DataEvent::Failed {
        kind: DataFailure::Refused,
        bytes: 0,
    });
    assert_eq!(
        t.err(),
        OpError::Data {
            failure: DataFailure::Refused,
            reply: None
        }
    );
    t.no_client();
    t.still_usable();
}

/// A reply nobody asked for while the data connection is being set up ends the transfer
/// with the error of its class (ftplib: error_temp / error_perm), not as an unexpected
/// positive reply.
#[test]
fn unsolicited_negative_reply_during_set_up_keeps_its_class() {
    for (line, temporary) in [
        ("425 Passive listener timed out", true),
        ("550 Permission denied", false),
    ] {
        let mut t = Script::logged_in(plain());
        t.start(retr("f"));
        t.client("TYPE I");
        t.server("200 ok");
        t.client("EPSV");
        t.server("229 Entering Extended Passive Mode (|||50000|)");
        t.event();
        t.server(line);
        t.expect_data(DataIntent::Close);
        match t.err() {
            OpError::Temporary(r) if temporary => assert_eq!(r.code().get(), 425),
            OpError::Permanent(r) if !temporary => assert_eq!(r.code().get(), 550),
            other => panic!("{line}: {other:?}"),
        }
        t.no_client();
        t.still_usable();
    }
    // Active mode, waiting for the listener: the same.
    let mut t = Script::logged_in(active());
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.expect_data(DataIntent::Listen { tls: false });
    t.server("500 Unexpected");
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.err(), OpError::Permanent(_)));
    t.still_usable();
}

#[test]
fn passive_connect_timeout() {
    let mut t = Script::logged_in(Config {
        data_timeout: Some(Duration::from_secs(5)),
        ..plain()
    });
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.client("EPSV");
    t.server("229 Entering Extended Passive Mode (|||50000|)");
    t.event();
    assert_eq!(t.s.poll_timeout(), Some(t.now + Duration::from_secs(5)));
    t.wait(Duration::from_secs(5));
    t.expect_data(DataIntent::Close);
    assert_eq!(t.err(), OpError::Timeout(TimeoutKind::Data));
    t.no_client();
    t.still_usable();
}

#[test]
fn data_idle_timeout_aborts_to_resynchronise() {
    let mut t = Script::logged_in(Config {
        data_timeout: Some(Duration::from_secs(5)),
        ..plain()
    });
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("RETR f");
    t.server("150 go");
    t.event();
    // Progress refreshes the deadline; no reply deadline runs while data moves.
    t.wait(Duration::from_secs(4));
    t.data(DataEvent::Progress(10));
    t.wait(Duration::from_secs(4));
    t.no_event();
    t.wait(Duration::from_secs(1));
    // ABOR first; the data connection is closed on the server's answer.
    t.client("ABOR");
    t.no_event();
    t.server("426 Connection closed; transfer aborted.\n226 Closing data connection.");
    t.expect_data(DataIntent::Close);
    assert_eq!(t.err(), OpError::Timeout(TimeoutKind::Data));
    t.still_usable();
}

#[test]
fn preliminary_reply_that_never_comes_is_a_reply_timeout() {
    let mut t = Script::logged_in(Config {
        reply_timeout: Some(Duration::from_secs(30)),
        ..plain()
    });
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("RETR f");
    t.wait(Duration::from_secs(30));
    t.expect_data(DataIntent::Close);
    let e = t.err();
    assert_eq!(e, OpError::Timeout(TimeoutKind::Reply));
    assert!(e.is_fatal());
    t.closed();
}

#[test]
fn final_reply_that_never_comes_after_data() {
    let mut t = Script::logged_in(Config {
        reply_timeout: Some(Duration::from_secs(30)),
        data_timeout: None,
        ..plain()
    });
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("RETR f");
    t.server("150 go");
    t.event();
    t.wait(Duration::from_secs(100)); // data moving: no reply deadline
    t.no_event();
    t.data(DataEvent::Finished { bytes: 5 });
    t.wait(Duration::from_secs(30));
    assert_eq!(t.err(), OpError::Timeout(TimeoutKind::Reply));
    t.closed();
}

#[test]
fn control_eof_during_transfer() {
    let mut t = Script::logged_in(plain());
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("RETR f");
    t.server("150 go");
    t.event();
    t.eof();
    t.expect_data(DataIntent::Close);
    assert_eq!(t.err(), OpError::ConnectionClosed);
    t.closed();
}

#[test]
fn vsftpd_522_then_closes() {
    let mut t = Script::logged_in(plain());
    t.start(transfer(TransferKind::List(None), true, None));
    t.client("TYPE A");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("LIST");
    t.server("150 Here comes the directory listing.");
    t.event();
    t.data(DataEvent::Failed {
        kind: DataFailure::Tls,
        bytes: 0,
    });
    t.server("522 SSL connection failed: session reuse required");
    assert!(
        matches!(t.err(), OpError::Data { failure: DataFailure::Tls, reply: Some(ref r) } if r.code().get() == 522)
    );
    t.eof();
    t.no_event();
    t.closed();
}

#[test]
fn service_closing_421_mid_transfer() {
    let mut t = Script::logged_in(plain());
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("RETR f");
    t.server("150 go");
    t.event();
    t.server("421 Timeout.");
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.err(), OpError::Temporary(ref r) if r.code().get() == 421));
    t.closed();
}

// ----- active mode -----

fn active() -> Config {
    Config {
        passive: false,
        ..plain()
    }
}

#[test]
fn active_eprt_then_accept() {
    let mut t = Script::logged_in(active());
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.expect_data(DataIntent::Listen { tls: false });
    t.no_client();
    t.data(DataEvent::Listening(addr("127.0.0.1:40000")));
    t.client("EPRT |1|127.0.0.1|40000|");
    t.server("200 EPRT command successful. Consider using EPSV.");
    t.client("RETR f");
    t.server("150 Opening BINARY mode data connection for f (3 bytes).");
    t.expect_data(stream_down(Some(3)));
    t.data(DataEvent::Accepted);
    t.data(DataEvent::Finished { bytes: 3 });
    t.server("226 Transfer complete.");
    assert_eq!(transferred(&mut t), (3, 226));
}

#[test]
fn active_eprt_refused_falls_back_to_port_and_remembers() {
    let mut t = Script::logged_in(active());
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.expect_data(DataIntent::Listen { tls: false });
    t.data(DataEvent::Listening(addr("192.168.1.2:50005")));
    t.client("EPRT |1|192.168.1.2|50005|");
    t.server("502 Command not implemented.");
    t.client("PORT 192,168,1,2,195,85");
    t.server("200 PORT command successful");
    t.client("RETR f");
    t.server("150 Connecting to port 50005"); // Pure-FTPd
    t.event();
    t.data(DataEvent::Finished { bytes: 0 });
    t.server("226-File successfully transferred\n226 0.000 seconds");
    transferred(&mut t);
    t.start(retr("f"));
    t.expect_data(DataIntent::Listen { tls: false });
    t.data(DataEvent::Listening(addr("192.168.1.2:50006")));
    t.client("PORT 192,168,1,2,195,86");
}

#[test]
fn active_ipv6_uses_eprt_and_cannot_fall_back() {
    let mut t = Script::with_peer(active(), addr("[::1]:21"));
    t.server("220 hi");
    t.ok();
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.event();
    t.data(DataEvent::Listening(addr("[::1]:40000")));
    t.client("EPRT |2|::1|40000|");
    t.server("500 Illegal EPRT command.");
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.err(), OpError::Permanent(_)));
    t.no_client();
}

#[test]
fn active_without_extended_commands_uses_port() {
    let mut t = Script::logged_in(Config {
        use_epsv: false,
        ..active()
    });
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.event();
    t.data(DataEvent::Listening(addr("127.0.0.1:40000")));
    t.client("PORT 127,0,0,1,156,64");
    t.server("502 Active mode not enabled."); // libunftp default
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.err(), OpError::Permanent(_)));
}

#[test]
fn active_listen_failure_and_accept_timeout() {
    let mut t = Script::logged_in(Config {
        data_timeout: Some(Duration::from_secs(5)),
        ..active()
    });
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.event();
    t.data(DataEvent::Failed {
        kind: DataFailure::Other,
        bytes: 0,
    });
    assert!(matches!(
        t.err(),
        OpError::Data {
            failure: DataFailure::Other,
            reply: None
        }
    ));
    t.no_client();

    t.start(retr("f"));
    t.event();
    t.data(DataEvent::Listening(addr("127.0.0.1:40000")));
    t.client("EPRT |1|127.0.0.1|40000|");
    t.server("200 ok");
    t.client("RETR f");
    t.server("150 go");
    t.event();
    // the server never connects
    t.wait(Duration::from_secs(5));
    t.client("ABOR");
    t.server("425 Can't open data connection.\n226 ABOR ok");
    t.expect_data(DataIntent::Close);
    assert_eq!(t.err(), OpError::Timeout(TimeoutKind::Data));
    t.still_usable();
}

#[test]
fn data_events_out_of_place_are_ignored() {
    let mut t = Script::logged_in(plain());
    t.data(DataEvent::Connected);
    t.data(DataEvent::Finished { bytes: 5 });
    t.no_event();
    t.no_client();
    t.start(retr("f"));
    t.client("TYPE I");
    t.data(DataEvent::Connected); // nothing asked yet
    t.data(DataEvent::Listening(addr("127.0.0.1:1")));
    t.no_client();
    t.no_event();
    t.server("200 ok");
    t.epsv_connect(50000);
    t.data(DataEvent::Connected); // duplicate
    t.client("RETR f");
    t.no_client();
}

#[test]
fn tls_flag_follows_prot() {
    let mut t = Script::logged_in(plain());
    t.upgrade();
    t.start(Operation::Protect(ftp_sansio::command::ProtLevel::Private));
    t.client("PBSZ 0");
    t.server("200 PBSZ=0");
    t.client("PROT P");
    t.server("200 Protection level set to P");
    t.ok();
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.client("EPSV");
    t.server("229 Entering Extended Passive Mode (|||50000|)");
    t.expect_data(DataIntent::Connect {
        addr: addr("127.0.0.1:50000"),
        tls: true,
    });
    t.data(DataEvent::Connected);
    t.client("RETR f");
    t.server("150 go");
    t.expect_data(DataIntent::Stream {
        direction: Direction::Download,
        expected_size: None,
        ascii: false,
        tls: true,
    });
}

#[test]
fn active_data_peer_must_be_the_control_peer() {
    // Port theft (RFC 2577 §8): only the control peer's IP may connect to our listener.
    let t = Script::new(active());
    let s = &t.s;
    assert!(s.is_acceptable_data_peer(addr("127.0.0.1:20")));
    assert!(s.is_acceptable_data_peer(addr("127.0.0.1:54321")));
    assert!(s.is_acceptable_data_peer(addr("[::ffff:127.0.0.1]:20")));
    assert!(!s.is_acceptable_data_peer(addr("127.0.0.2:20")));
    assert!(!s.is_acceptable_data_peer(addr("[::1]:20")));
    assert!(!s.is_acceptable_data_peer(addr("[::ffff:127.0.0.2]:20")));

    let t = Script::with_peer(active(), addr("[::ffff:192.0.2.7]:21"));
    assert!(t.s.is_acceptable_data_peer(addr("192.0.2.7:20")));
    assert!(!t.s.is_acceptable_data_peer(addr("192.0.2.8:20")));

    let t = Script::with_peer(active(), addr("[2001:db8::7]:21"));
    assert!(t.s.is_acceptable_data_peer(addr("[2001:db8::7]:20")));
    assert!(!t.s.is_acceptable_data_peer(addr("[2001:db8::8]:20")));
    assert!(!t.s.is_acceptable_data_peer(addr("127.0.0.1:20")));
}

#[test]
fn one_io_error_mapping_for_every_driver() {
    // Issue 13, rule 6: the drivers' two copies disagreed on WouldBlock and InvalidData.
    use ftp_sansio::session::DataFailure as F;
    use std::io::ErrorKind as K;
    for (kind, want) in [
        (K::ConnectionRefused, F::Refused),
        (K::ConnectionReset, F::Reset),
        (K::ConnectionAborted, F::Reset),
        (K::BrokenPipe, F::Reset),
        (K::UnexpectedEof, F::Reset),
        (K::TimedOut, F::TimedOut),
        (K::WouldBlock, F::TimedOut),
        (K::InvalidData, F::Tls),
        (K::PermissionDenied, F::Other),
        (K::AddrInUse, F::Other),
    ] {
        assert_eq!(F::from_io_kind(kind), want, "{kind:?}");
    }
}
