//! ABOR (RFC 959 §4.1.3) with every reply combination servers send: 426 + 226, the
//! transfer's 226 first then ABOR's 226, 225, and a lone 226 (suppaftp #141 hung on it).
//! Each ends with the control connection in step (a NOOP round trip works).

mod session_common;
use session_common::*;

use ftp_sansio::session::{
    DataEvent, DataFailure, DataIntent, OpError, Operation, Outcome, TransferKind, UsageError,
};

/// A download in progress: 150 received, data moving.
fn downloading() -> Script {
    let mut t = Script::logged_in(plain());
    t.start(retr("big.iso"));
    t.client("TYPE I");
    t.server("200 Switching to Binary mode.");
    t.epsv_connect(50000);
    t.client("RETR big.iso");
    t.server("150 Opening BINARY mode data connection for big.iso (4700000000 bytes).");
    assert!(matches!(
        t.event(),
        ftp_sansio::session::Event::Data(DataIntent::Stream { .. })
    ));
    t.data(DataEvent::Progress(1 << 20));
    t
}

fn aborted(t: &mut Script) -> u16 {
    match t.ok() {
        Outcome::Aborted { reply } => reply.code().get(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rfc_959_426_then_226() {
    let mut t = downloading();
    t.abort();
    t.client("ABOR");
    t.server("426 Failure writing network stream.");
    t.expect_data(DataIntent::Close);
    t.no_event();
    t.no_client();
    t.server("226 Abort successful");
    assert_eq!(aborted(&mut t), 226);
    t.still_usable();
}

#[test]
fn both_replies_in_one_chunk_and_byte_by_byte() {
    let mut t = downloading();
    t.abort();
    t.client("ABOR");
    t.server_bytewise("426 Connection closed; transfer aborted.\n226 Closing data connection.");
    t.expect_data(DataIntent::Close);
    assert_eq!(aborted(&mut t), 226);
    t.still_usable();
}

#[test]
fn vsftpd_225_when_no_transfer_runs() {
    let mut t = downloading();
    t.abort();
    t.client("ABOR");
    t.server("225 No transfer to ABOR.");
    t.expect_data(DataIntent::Close);
    // The transfer's own reply was not seen: NOOP makes sure it is not left for later.
    t.client("NOOP");
    t.no_event();
    t.server("200 NOOP ok.");
    assert_eq!(aborted(&mut t), 225);
    t.still_usable();
}

#[test]
fn abort_before_the_150_225_then_the_transfers_late_425() {
    // Found by the session proptest: an active-mode RETR aborted before its 150. The
    // server answers ABOR with 225 first and RETR's own 425 afterwards; that 425 must be
    // absorbed by the abort, not read as the next command's reply.
    let mut t = Script::logged_in(ftp_sansio::session::Config {
        passive: false,
        ..plain()
    });
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.expect_data(DataIntent::Listen { tls: false });
    t.data(DataEvent::Listening("127.0.0.1:40000".parse().unwrap()));
    t.client("EPRT |1|127.0.0.1|40000|");
    t.server("200 EPRT command successful.");
    t.client("RETR f");
    t.abort();
    t.client("ABOR");
    t.server("225 No transfer to ABOR.");
    t.expect_data(DataIntent::Close);
    t.client("NOOP");
    t.no_event();
    t.server("425 Failed to establish connection.");
    t.no_event();
    t.server("200 NOOP ok.");
    assert_eq!(aborted(&mut t), 225);
    t.still_usable();
}

#[test]
fn abort_before_the_150_pyftpdlib_drops_the_transfers_reply() {
    // pyftpdlib answers ABOR with 225 while it waits for the passive connection and never
    // answers the aborted RETR: NOOP's 200 comes next and ends the abort.
    let mut t = Script::logged_in(plain());
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("RETR f");
    t.abort();
    t.client("ABOR");
    t.server("225 ABOR command successful; data channel closed.");
    t.expect_data(DataIntent::Close);
    t.client("NOOP");
    t.server("200 I successfully done nothin'.");
    assert_eq!(aborted(&mut t), 225);
    t.still_usable();
}

#[test]
fn lone_226_is_resolved_with_noop() {
    let mut t = downloading();
    t.abort();
    t.client("ABOR");
    t.server("226 Abort successful");
    t.expect_data(DataIntent::Close);
    // Is that the transfer's 226 (ABOR's follows) or ABOR's only reply? NOOP tells.
    t.client("NOOP");
    t.no_event();
    t.server("200 NOOP ok.");
    assert_eq!(aborted(&mut t), 226);
    t.still_usable();
}

#[test]
fn libunftp_226_then_the_transfers_late_426() {
    // libunftp answers ABOR with `226 Closed data channel`, and the aborted transfer's
    // `426 Connection closed` follows after it: absorbed, never taken as NOOP's reply.
    let mut t = downloading();
    t.abort();
    t.client("ABOR");
    t.server("226 Closed data channel");
    t.expect_data(DataIntent::Close);
    t.client("NOOP");
    t.server("426 Connection closed");
    t.no_event();
    t.server("200 Successfully did nothing");
    match t.ok() {
        Outcome::Aborted { reply } => assert_eq!(reply.message(), b"Closed data channel"),
        other => panic!("{other:?}"),
    }
    t.still_usable();
}

#[test]
fn transfers_226_first_then_abors_226() {
    let mut t = downloading();
    t.abort();
    t.client("ABOR");
    t.server("226 Transfer complete.");
    t.expect_data(DataIntent::Close);
    t.client("NOOP");
    t.server("226 ABOR command successful");
    t.no_event();
    t.server("200 NOOP ok.");
    match t.ok() {
        Outcome::Aborted { reply } => assert_eq!(reply.message(), b"ABOR command successful"),
        other => panic!("{other:?}"),
    }
    t.still_usable();
}

#[test]
fn transfers_226_first_then_abor_not_implemented() {
    // RFC 959 lists 500/501/502 among ABOR's replies. After the transfer's 226, a server
    // without ABOR answers 502 before NOOP's 200: that 502 is absorbed, not taken for
    // NOOP's reply (which would leave NOOP's 200 to be read as the next command's reply).
    let mut t = downloading();
    t.abort();
    t.client("ABOR");
    t.server("226 Transfer complete.");
    t.expect_data(DataIntent::Close);
    t.client("NOOP");
    t.server("502 ABOR not implemented.");
    t.no_event();
    assert!(!t.s.is_idle());
    t.server("200 NOOP ok.");
    assert!(matches!(t.err(), OpError::Permanent(ref r) if r.code().get() == 502));
    t.start(Operation::Pwd);
    t.client("PWD");
    t.server("257 \"/pub\" is the current directory");
    assert_eq!(t.ok(), Outcome::Path(b"/pub".to_vec()));
}

#[test]
fn transfers_226_first_then_abors_225() {
    let mut t = downloading();
    t.abort();
    t.client("ABOR");
    t.server("226 Transfer complete.\n225 No transfer to ABOR.\n200 NOOP ok.");
    t.expect_data(DataIntent::Close);
    t.client("NOOP");
    assert_eq!(aborted(&mut t), 225);
    t.still_usable();
}

#[test]
fn abort_after_the_final_reply_reads_one_reply() {
    let mut t = downloading();
    t.server("226 Transfer complete."); // data still draining
    t.no_event();
    t.abort();
    t.client("ABOR");
    t.server("226 No transfer to abort");
    t.expect_data(DataIntent::Close); // unambiguous: the transfer's 226 was read
    assert_eq!(aborted(&mut t), 226);
    t.no_client();
    t.still_usable();
}

#[test]
fn abort_before_the_150() {
    let mut t = Script::logged_in(plain());
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("RETR f");
    t.abort();
    t.client("ABOR");
    // The late 150 is skipped; the transfer's error then ABOR's reply follow.
    t.server("150 Opening BINARY mode data connection.\n426 Transfer aborted.\n226 ABOR ok");
    t.expect_data(DataIntent::Close);
    assert_eq!(aborted(&mut t), 226);
    t.still_usable();
}

#[test]
fn abort_while_a_setup_reply_is_owed_waits_for_it() {
    let mut t = Script::logged_in(plain());
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.client("EPSV");
    t.abort();
    t.no_client(); // nothing is sent before the EPSV reply
    t.server("229 Entering Extended Passive Mode (|||50000|)");
    t.no_event(); // no connection is made
    t.client("ABOR");
    t.server("225 No transfer to ABOR.");
    assert_eq!(aborted(&mut t), 225);
    t.still_usable();
}

#[test]
fn abort_while_type_is_owed_forgets_the_type() {
    // The server may switch to binary in the reply the abort swallows: the next ASCII
    // listing must send TYPE A again, not run in binary.
    let mut t = Script::logged_in(plain());
    t.start(transfer(TransferKind::Nlst(None), true, None));
    t.client("TYPE A");
    t.server("200 Switching to ASCII mode.");
    t.epsv_connect(50000);
    t.client("NLST");
    t.server("150 Here comes the directory listing.\n226 Directory send OK.");
    t.event();
    t.data(DataEvent::Finished { bytes: 0 });
    t.ok();
    t.start(retr("f"));
    t.client("TYPE I");
    t.abort();
    t.server("200 Switching to Binary mode.");
    t.client("ABOR");
    t.server("225 No transfer to ABOR.");
    assert_eq!(aborted(&mut t), 225);
    t.start(transfer(TransferKind::Nlst(None), true, None));
    t.client("TYPE A");
}

#[test]
fn abort_while_rest_is_owed_clears_the_restart_marker() {
    // vsftpd and pyftpdlib keep a REST offset until a transfer command uses it, and ABOR
    // does not reset it: without `REST 0` the next plain download would start at 4096.
    let mut t = Script::logged_in(plain());
    t.start(transfer(
        TransferKind::Retr(b"f".to_vec()),
        false,
        Some(4096),
    ));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("REST 4096");
    t.abort();
    t.expect_data(DataIntent::Close);
    t.no_client();
    t.server("350 Restart position accepted (4096).");
    t.client("REST 0");
    t.no_client();
    t.server("350 Restart position accepted (0).");
    t.client("ABOR");
    t.server("225 No transfer to ABOR.");
    assert_eq!(aborted(&mut t), 225);
    t.still_usable();

    // A refused REST left no marker: ABOR directly.
    t.start(transfer(TransferKind::Retr(b"f".to_vec()), false, Some(1)));
    t.epsv_connect(50000);
    t.client("REST 1");
    t.abort();
    t.expect_data(DataIntent::Close);
    t.server("502 REST not implemented.");
    t.client("ABOR");
    t.server("225 No transfer to ABOR.");
    assert_eq!(aborted(&mut t), 225);
    t.still_usable();
}

#[test]
fn abort_while_connecting() {
    let mut t = Script::logged_in(plain());
    t.start(retr("f"));
    t.client("TYPE I");
    t.server("200 ok");
    t.client("EPSV");
    t.server("229 Entering Extended Passive Mode (|||50000|)");
    t.event(); // Connect
    t.abort();
    t.client("ABOR");
    t.data(DataEvent::Connected); // too late: ignored
    t.no_client();
    t.server("226 Abort successful");
    t.expect_data(DataIntent::Close);
    assert_eq!(aborted(&mut t), 226);
    t.still_usable();
}

#[test]
fn upload_abort() {
    let mut t = Script::logged_in(plain());
    t.start(transfer(
        ftp_sansio::session::TransferKind::Stor(b"u".to_vec()),
        false,
        None,
    ));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("STOR u");
    t.server("150 Ok to send data.");
    t.event();
    t.abort();
    t.client("ABOR");
    t.server("426 Failure reading network stream.\n226 ABOR successful.");
    t.expect_data(DataIntent::Close);
    assert_eq!(aborted(&mut t), 226);
    t.data(DataEvent::Failed {
        kind: ftp_sansio::session::DataFailure::Reset,
        bytes: 9,
    });
    t.no_event();
    t.still_usable();
}

#[test]
fn abor_refused() {
    let mut t = downloading();
    t.abort();
    t.client("ABOR");
    t.server("426 aborted\n500 Unknown command.");
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.err(), OpError::Permanent(_)));
    t.still_usable();
}

#[test]
fn abort_when_idle_sends_abor() {
    let mut t = Script::logged_in(plain());
    t.abort();
    t.client("ABOR");
    t.server("225 No transfer to ABOR.");
    assert_eq!(aborted(&mut t), 225);
    t.still_usable();
}

#[test]
fn abort_is_refused_during_other_operations_and_twice() {
    let mut t = Script::logged_in(plain());
    t.start(Operation::Pwd);
    assert_eq!(t.s.abort(t.now), Err(UsageError::NotAbortable));
    t.client("PWD");
    t.server("257 \"/\"");
    t.ok();
    let mut t = downloading();
    t.abort();
    assert_eq!(t.s.abort(t.now), Err(UsageError::NotAbortable));
    t.client("ABOR");
    t.no_event(); // the data connection stays open during the grace
    t.no_client();
}

#[test]
fn eof_during_abort() {
    let mut t = downloading();
    t.abort();
    t.client("ABOR");
    t.server("426 aborted");
    t.expect_data(DataIntent::Close);
    t.eof();
    assert_eq!(t.err(), OpError::ConnectionClosed);
    t.closed();
}

#[test]
fn pure_ftpd_426_then_451_is_an_abort_not_an_error() {
    // Pure-FTPd answers ABOR of an upload with `426 Transfer aborted` then `451 Transfer
    // aborted`: the 451 answers ABOR, the transfer did stop. ftplib's abort returns the reply;
    // so does the session (only an error about ABOR itself, 500/501/502, is an error).
    let mut t = Script::logged_in(plain());
    t.start(transfer(TransferKind::Stor(b"u".to_vec()), false, None));
    t.client("TYPE I");
    t.server("200 TYPE is now 8-bit binary");
    t.epsv_connect(50000);
    t.client("STOR u");
    t.server("150 Accepted data connection");
    t.event();
    t.abort();
    t.client("ABOR");
    t.server("426 Transfer aborted");
    t.expect_data(DataIntent::Close);
    t.no_event();
    t.server("451 Transfer aborted");
    assert_eq!(aborted(&mut t), 451);
    t.no_client();
    t.still_usable();

    // ABOR unknown or refused after the transfer's 426: an error, still in step.
    for refusal in [
        "500 Unknown command.",
        "501 Syntax error.",
        "502 ABOR not implemented.",
    ] {
        let mut t = downloading();
        t.abort();
        t.client("ABOR");
        t.server(&format!(
            "426 Connection closed; transfer aborted.\n{refusal}"
        ));
        t.expect_data(DataIntent::Close);
        let e = t.err();
        assert!(matches!(e, OpError::Permanent(_)), "{refusal}: {e:?}");
        t.still_usable();
    }

    // A 3xx is no answer to ABOR (found by the session fuzz target, which also checks that
    // an abort never ends as Aborted with a 3xx or a refusal): an error, still in step.
    let mut t = downloading();
    t.abort();
    t.client("ABOR");
    t.server("426 Connection closed; transfer aborted.\n350 Restart position accepted.");
    t.expect_data(DataIntent::Close);
    let e = t.err();
    assert!(
        matches!(&e, OpError::Reply(r) if r.code().get() == 350),
        "{e:?}"
    );
    t.still_usable();
}

/// libunftp's abort: `226 Closed data channel` at once, NOOP's 200, the session idle; the
/// aborted transfer's `426` may still be on its way.
fn libunftp_aborted() -> Script {
    let mut t = downloading();
    t.abort();
    t.client("ABOR");
    t.server("226 Closed data channel");
    t.expect_data(DataIntent::Close);
    t.client("NOOP");
    t.server("200 Successfully did nothing");
    assert_eq!(aborted(&mut t), 226);
    t
}

#[test]
fn libunftp_426_after_the_abort_ended_is_skipped_once() {
    // libunftp's data task sends the aborted transfer's `426 Connection closed` whenever it
    // notices, which can be after NOOP's 200: it then arrives as the "reply" to the next
    // command. A 426 cannot answer PWD: it is skipped and PWD's own reply is read.
    let mut t = libunftp_aborted();
    t.start(Operation::Pwd);
    t.client("PWD");
    t.server("426 Connection closed");
    t.no_event();
    assert!(!t.s.is_idle());
    t.server("257 \"/\" is the current directory");
    assert_eq!(t.ok(), Outcome::Path(b"/".to_vec()));
    // Only one per abort: a second 426 is the reply it claims to be.
    t.start(Operation::Noop);
    t.client("NOOP");
    t.server("426 Connection closed");
    assert!(matches!(t.err(), OpError::Temporary(ref r) if r.code().get() == 426));
    t.still_usable();
}

#[test]
fn a_late_426_during_the_next_transfers_setup_is_skipped() {
    for setup_reply in ["426 Connection closed", "451 Local error"] {
        let mut t = libunftp_aborted();
        t.start(retr("next.bin"));
        t.client("EPSV"); // binary already
        t.server(setup_reply);
        t.no_event();
        t.server("229 Entering Extended Passive Mode (|||50001|)");
        t.expect_data(DataIntent::Connect {
            addr: addr("127.0.0.1:50001"),
            tls: false,
        });
        t.data(DataEvent::Connected);
        t.client("RETR next.bin");
        t.server("150 Sending");
        t.event();
        t.data(DataEvent::Finished { bytes: 3 });
        t.server("226 Done");
        assert!(matches!(t.ok(), Outcome::Transferred { bytes: 3, .. }));
        t.still_usable();
    }
}

#[test]
fn a_late_426_while_idle_uses_up_the_allowance() {
    let mut t = libunftp_aborted();
    t.server("426 Connection closed"); // nobody asked: dropped
    t.no_event();
    t.start(Operation::Pwd);
    t.client("PWD");
    t.server("426 Connection closed");
    assert!(matches!(t.err(), OpError::Temporary(_)));
}

#[test]
fn stray_replies_are_never_taken_from_commands_that_can_send_them() {
    // 451 is a real answer to DELE/RNTO/... (a server's local error): not skipped.
    let mut t = libunftp_aborted();
    t.start(Operation::Dele(b"f".to_vec()));
    t.client("DELE f");
    t.server("451 Local error");
    assert!(matches!(t.err(), OpError::Temporary(ref r) if r.code().get() == 451));
    // A 426 after the next transfer's 150 is that transfer's failure.
    let mut t = libunftp_aborted();
    t.start(retr("next.bin"));
    t.epsv_connect(50001);
    t.client("RETR next.bin");
    t.server("150 Sending");
    t.event();
    t.server("426 Connection closed");
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.err(), OpError::Temporary(ref r) if r.code().get() == 426));
    // So is a 451 before its 150 (a refusal, e.g. Pure-FTPd's `451 Append/Restart not
    // permitted`).
    let mut t = libunftp_aborted();
    t.start(transfer(TransferKind::Appe(b"u".to_vec()), false, None));
    t.epsv_connect(50001);
    t.client("APPE u");
    t.server("451 Append/Restart not permitted, try again");
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.err(), OpError::Temporary(ref r) if r.code().get() == 451));
    // An abort that read the transfer's 426 owes nothing more: a later 426 is an error.
    let mut t = downloading();
    t.abort();
    t.client("ABOR");
    t.server("426 Connection closed; transfer aborted.\n226 ABOR successful");
    t.expect_data(DataIntent::Close);
    assert_eq!(aborted(&mut t), 226);
    t.start(Operation::Pwd);
    t.client("PWD");
    t.server("426 Connection closed");
    assert!(matches!(t.err(), OpError::Temporary(_)));
}

#[test]
fn libunftp_upload_226_after_the_abort_ended_is_skipped() {
    // An aborted upload on libunftp: `226 Closed data channel` for ABOR, NOOP's 200, and
    // the data task's `226 File successfully written` later, as the "reply" to SIZE.
    let mut t = Script::logged_in(plain());
    t.start(transfer(TransferKind::Stor(b"u".to_vec()), false, None));
    t.client("TYPE I");
    t.server("200 Always in binary mode");
    t.epsv_connect(50000);
    t.client("STOR u");
    t.server("150 Sending data");
    t.event();
    t.abort();
    t.client("ABOR");
    t.server("226 Closed data channel");
    t.expect_data(DataIntent::Close);
    t.client("NOOP");
    t.server("200 Successfully did nothing");
    assert_eq!(aborted(&mut t), 226);
    t.start(Operation::Size(b"u".to_vec()));
    t.client("SIZE u");
    t.server("226 File successfully written");
    t.no_event();
    t.server("213 300000");
    assert_eq!(t.ok(), Outcome::Size(300_000));
    t.still_usable();
}

#[test]
fn a_late_426_before_the_next_transfers_150_is_skipped() {
    // Before its 1xx a transfer command that cannot connect gets 425, not 426: a 426 there,
    // after an abort that owes one, is the aborted transfer's (libunftp under load).
    let mut t = libunftp_aborted();
    t.start(transfer(TransferKind::Stor(b"u".to_vec()), false, None));
    t.epsv_connect(50001);
    t.client("STOR u");
    t.server("426 Connection closed");
    t.no_event();
    t.server("150 Ready to receive");
    assert!(matches!(
        t.event(),
        ftp_sansio::session::Event::Data(DataIntent::Stream { .. })
    ));
    t.data(DataEvent::Finished { bytes: 5 });
    t.server("226 File successfully written");
    assert!(matches!(t.ok(), Outcome::Transferred { bytes: 5, .. }));
    t.still_usable();
}

// ---------------------------------------------------------------------------------------
// Issue 13, rule 9: the abort's order is the core's decision. `ABOR` goes first; the data
// connection is closed on the server's first answer or after `Config::abort_grace`.
// ---------------------------------------------------------------------------------------

/// A download in progress with `config`.
fn downloading_with(config: ftp_sansio::session::Config) -> Script {
    let mut t = Script::logged_in(config);
    t.start(retr("big.iso"));
    t.client("TYPE I");
    t.server("200 Switching to Binary mode.");
    t.epsv_connect(50000);
    t.client("RETR big.iso");
    t.server("150 Opening BINARY mode data connection for big.iso (4700000000 bytes).");
    t.event();
    t
}

#[test]
fn abor_goes_out_before_the_data_connection_closes() {
    // A server that watches the control connection (ProFTPD, Pure-FTPd, pyftpdlib) answers
    // at once; until then its data connection stays up.
    let mut t = downloading();
    t.abort();
    t.client("ABOR");
    t.no_event();
    t.server("426 Transfer aborted. Data connection closed.");
    t.expect_data(DataIntent::Close);
    t.no_event();
    t.server("226 Abort successful");
    assert_eq!(aborted(&mut t), 226);
    t.still_usable();
}

#[test]
fn the_grace_closes_the_data_connection_for_a_server_that_waits_on_it() {
    // vsftpd without async ABOR reads the control connection only once its data write
    // fails: nothing comes until the grace closes the data connection.
    let mut t = downloading();
    t.abort();
    t.client("ABOR");
    let grace = t.s.config().abort_grace;
    assert_eq!(t.s.poll_timeout(), Some(t.now + grace));
    t.wait(grace - std::time::Duration::from_millis(1));
    t.no_event();
    t.wait(std::time::Duration::from_millis(1));
    t.expect_data(DataIntent::Close);
    t.no_event();
    // The grace used the data deadline; the reply deadline guards the answer now.
    assert!(t.s.poll_timeout().is_some());
    t.server("426 Failure writing network stream.\n226 ABOR successful.");
    assert_eq!(aborted(&mut t), 226);
    t.still_usable();
}

#[test]
fn zero_grace_closes_right_after_abor() {
    let mut t = downloading_with(ftp_sansio::session::Config {
        abort_grace: std::time::Duration::ZERO,
        ..plain()
    });
    t.abort();
    // Both at once, ABOR queued first.
    t.client("ABOR");
    t.expect_data(DataIntent::Close);
    t.server("426 aborted\n226 ok");
    assert_eq!(aborted(&mut t), 226);
    t.still_usable();
}

#[test]
fn a_data_connection_that_carries_nothing_yet_closes_at_once() {
    // Aborted while REST is answered: the transfer command never went out.
    let mut t = Script::logged_in(plain());
    t.start(transfer(TransferKind::Retr(b"f".to_vec()), false, Some(10)));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("REST 10");
    t.abort();
    t.expect_data(DataIntent::Close);
    t.no_client();
    t.server("350 Restart position accepted (10).");
    t.client("REST 0");
    t.server("350 Restart position accepted (0).");
    t.client("ABOR");
    t.server("225 No transfer to ABOR.");
    assert_eq!(aborted(&mut t), 225);
    t.still_usable();
}

// ---------------------------------------------------------------------------------------
// Issue 13, rule 5: a failing sink or source (or a local limit) aborts the transfer, the
// same way in every driver.
// ---------------------------------------------------------------------------------------

#[test]
fn a_failing_sink_aborts_the_download() {
    let mut t = downloading();
    t.data(DataEvent::LocalFailure { bytes: 4096 });
    // The server would go on sending: ABOR, then the data connection closes on its answer.
    t.client("ABOR");
    t.no_event();
    t.server("426 Connection closed; transfer aborted.");
    t.expect_data(DataIntent::Close);
    t.server("226 Closing data connection.");
    assert_eq!(
        t.err(),
        OpError::Data {
            failure: DataFailure::Local,
            reply: None
        }
    );
    t.still_usable();
}

#[test]
fn a_failing_source_aborts_the_upload() {
    let mut t = Script::logged_in(plain());
    t.start(transfer(
        TransferKind::Stor(b"up.bin".to_vec()),
        false,
        None,
    ));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50000);
    t.client("STOR up.bin");
    t.server("150 Ok to send data.");
    t.event();
    t.data(DataEvent::Progress(100));
    t.data(DataEvent::LocalFailure { bytes: 100 });
    t.client("ABOR");
    t.server("426 Failure reading network stream.\n226 ABOR successful.");
    t.expect_data(DataIntent::Close);
    assert!(matches!(
        t.err(),
        OpError::Data {
            failure: DataFailure::Local,
            ..
        }
    ));
    t.still_usable();
}

#[test]
fn a_failing_sink_after_the_final_reply_needs_no_abort() {
    let mut t = downloading();
    // The server finished (226 before the end of data reached the sink).
    t.server("226 Transfer complete.");
    t.data(DataEvent::LocalFailure { bytes: 10 });
    t.expect_data(DataIntent::Close);
    match t.err() {
        OpError::Data {
            failure: DataFailure::Local,
            reply: Some(r),
        } => assert_eq!(r.code().get(), 226),
        other => panic!("{other:?}"),
    }
    t.no_client();
    t.still_usable();
}
