//! `Config::pipeline_passive`: the next transfer's `EPSV` sent behind the running transfer's
//! command (`Session::prepare_next`), and every reply still matched to its command: in
//! order, out of order (a server that acts on commands during a transfer), after failures,
//! aborts, refusals, and when the next operation is not the announced transfer.

mod session_common;
use session_common::*;

use ftp_sansio::session::{
    Config, DataEvent, DataFailure, DataIntent, Direction, OpError, Operation, Outcome,
    ProtocolError, TransferKind,
};
use std::time::Duration;

fn pipelined() -> Config {
    Config {
        pipeline_passive: true,
        ..plain()
    }
}

fn stream_down(size: Option<u64>) -> DataIntent {
    DataIntent::Stream {
        direction: Direction::Download,
        expected_size: size,
        ascii: false,
        tls: false,
    }
}

fn connect(port: u16) -> DataIntent {
    DataIntent::Connect {
        addr: addr(&format!("127.0.0.1:{port}")),
        tls: false,
    }
}

fn epsv_229(port: u16) -> String {
    format!("229 Entering Extended Passive Mode (|||{port}|)")
}

/// The transfer ended with `EarlyEpsvDuringTransfer`; the code of its final reply, if any.
fn untrusted(t: &mut Script) -> Option<u16> {
    match t.err() {
        OpError::Protocol(ProtocolError::EarlyEpsvDuringTransfer { reply }) => {
            reply.map(|r| r.code().get())
        }
        other => panic!("{other:?}"),
    }
}

fn transferred(t: &mut Script) -> (u64, u16) {
    match t.ok() {
        Outcome::Transferred { bytes, reply } => (bytes, reply.code().get()),
        other => panic!("{other:?}"),
    }
}

/// Logged in, `TYPE I` done, `RETR first` announced with `next` and started: its EPSV
/// answered with `port`, connected, and the bytes written right after the connection
/// returned (the transfer command, and the early EPSV when the session sends one).
fn first_retr(t: &mut Script, next: &Operation, port: u16) -> Vec<u8> {
    t.start(retr("first"));
    t.s.prepare_next(t.now, next);
    t.client("TYPE I");
    t.server("200 Switching to Binary mode.");
    t.client("EPSV");
    t.no_client(); // the hint sends nothing before the transfer command
    t.server(&epsv_229(port));
    t.expect_data(connect(port));
    let wire = t.data_wire(DataEvent::Connected);
    t.no_event();
    wire
}

#[test]
fn happy_path_two_files_cost_no_epsv_round_trip() {
    let mut t = Script::logged_in(pipelined());
    let wire = first_retr(&mut t, &retr("second"), 50001);
    // One write: the transfer command, then the next transfer's EPSV.
    assert_eq!(wire, b"RETR first\r\nEPSV\r\n");
    t.client("RETR first");
    t.client("EPSV");
    t.no_client();
    t.server("150 Opening BINARY mode data connection for first (4096 bytes).");
    t.expect_data(stream_down(Some(4096)));
    t.data(DataEvent::Finished { bytes: 4096 });
    t.no_event();
    // A server that answers in order: the 229 right behind the 226, in the same read.
    t.server(&format!("226 Transfer complete.\n{}", epsv_229(50002)));
    assert_eq!(transferred(&mut t), (4096, 226));
    assert!(t.s.is_idle());

    // The next transfer connects at once, without sending anything first.
    t.start(retr("second"));
    t.expect_data(connect(50002));
    t.no_client();
    t.data(DataEvent::Connected);
    t.client("RETR second"); // nothing announced after it: no early EPSV
    t.no_client();
    t.server("150 Opening BINARY mode data connection for second (10 bytes).\n226 Done.");
    t.expect_data(stream_down(Some(10)));
    t.data(DataEvent::Finished { bytes: 10 });
    assert_eq!(transferred(&mut t), (10, 226));
    assert!(!t.s.is_pipelining_stopped());
    t.still_usable();
}

#[test]
fn a_chain_of_transfers_each_announcing_the_next() {
    let mut t = Script::logged_in(pipelined());
    assert_eq!(
        first_retr(&mut t, &retr("f1"), 50000),
        b"RETR first\r\nEPSV\r\n"
    );
    t.client("RETR first");
    t.client("EPSV");
    let mut port = 50000;
    for k in 1..=5 {
        t.server("150 Here it comes.");
        t.expect_data(stream_down(None));
        t.data(DataEvent::Finished { bytes: k });
        port += 1;
        t.server(&format!("226 Transfer complete.\n{}", epsv_229(port)));
        assert_eq!(transferred(&mut t), (k, 226));

        t.start(retr(&format!("f{k}")));
        t.s.prepare_next(t.now, &retr("next"));
        t.expect_data(connect(port));
        let wire = t.data_wire(DataEvent::Connected);
        assert_eq!(
            wire,
            format!("RETR f{k}\r\nEPSV\r\n").as_bytes(),
            "file {k}"
        );
        t.client(&format!("RETR f{k}"));
        t.client("EPSV");
        t.no_client();
    }
}

#[test]
fn the_229_may_come_after_the_next_transfer_started() {
    let mut t = Script::logged_in(pipelined());
    first_retr(&mut t, &retr("second"), 50001);
    t.client("RETR first");
    t.client("EPSV");
    t.server("150 Here it comes.");
    t.expect_data(stream_down(None));
    t.data(DataEvent::Finished { bytes: 3 });
    t.server("226 Transfer complete.");
    assert_eq!(transferred(&mut t), (3, 226));
    // The EPSV's reply is still on its way: the transfer waits for it, sending nothing.
    t.start(retr("second"));
    t.no_client();
    t.no_event();
    assert!(t.s.poll_timeout().is_some(), "the reply deadline runs");
    t.server(&epsv_229(50002));
    t.expect_data(connect(50002));
    t.data(DataEvent::Connected);
    t.client("RETR second");
    t.server("150 ok\n226 ok");
    t.expect_data(stream_down(None));
    t.data(DataEvent::Finished { bytes: 1 });
    transferred(&mut t);
}

#[test]
fn announced_while_streaming_the_epsv_goes_out_at_once() {
    let mut t = Script::logged_in(pipelined());
    // Nothing announced yet: the command goes alone.
    t.start(retr("first"));
    t.client("TYPE I");
    t.server("200 ok");
    t.epsv_connect(50001);
    t.client("RETR first");
    t.no_client();
    t.server("150 Here it comes.");
    t.expect_data(stream_down(None));
    t.s.prepare_next(t.now, &retr("second"));
    assert_eq!(t.wire(), b"EPSV\r\n");
    t.client("EPSV");
    // The data moves: no reply deadline runs for the early EPSV.
    assert_eq!(t.s.poll_timeout(), Some(t.now + Duration::from_secs(60)));
    t.data(DataEvent::Finished { bytes: 5 });
    t.server("226 Transfer complete.");
    transferred(&mut t);
    t.server(&epsv_229(50002)); // while idle: kept for the next transfer
    t.no_event();
    t.start(retr("second"));
    t.expect_data(connect(50002));
}

#[test]
fn final_reply_before_the_end_of_data_then_the_229() {
    // ProFTPD: 226 can come before the data connection's end.
    let mut t = Script::logged_in(pipelined());
    first_retr(&mut t, &retr("second"), 50001);
    t.client("RETR first");
    t.client("EPSV");
    t.server(&format!(
        "150 Opening BINARY mode data connection for first (7 bytes)\n226 Transfer complete\n{}",
        epsv_229(50002)
    ));
    t.expect_data(stream_down(Some(7)));
    t.no_event();
    t.data(DataEvent::Finished { bytes: 7 });
    assert_eq!(transferred(&mut t), (7, 226));
    assert!(!t.s.is_pipelining_stopped(), "that 229 came in order");
    t.start(retr("second"));
    t.expect_data(connect(50002));
}

#[test]
fn failing_retr_550_keeps_the_early_epsv_reply_for_the_next_transfer() {
    let mut t = Script::logged_in(pipelined());
    first_retr(&mut t, &retr("second"), 50001);
    t.client("RETR first");
    t.client("EPSV");
    t.server(&format!("550 Failed to open file.\n{}", epsv_229(50002)));
    t.expect_data(DataIntent::Close);
    let e = t.err();
    assert!(
        matches!(&e, OpError::Permanent(r) if r.code().get() == 550),
        "{e:?}"
    );
    t.start(retr("second"));
    t.expect_data(connect(50002));
    t.data(DataEvent::Connected);
    t.client("RETR second");
    t.server("150 ok\n226 ok");
    t.expect_data(stream_down(None));
    t.data(DataEvent::Finished { bytes: 2 });
    assert_eq!(transferred(&mut t), (2, 226));
    t.still_usable();
}

#[test]
fn failing_retr_425_and_a_cut_data_connection_keep_replies_in_step() {
    let mut t = Script::logged_in(pipelined());
    first_retr(&mut t, &retr("second"), 50001);
    t.client("RETR first");
    t.client("EPSV");
    t.server("425 Failed to establish connection.");
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.err(), OpError::Temporary(r) if r.code().get() == 425));

    // The 229 arrives while a transfer waits for it.
    t.start(retr("second"));
    t.s.prepare_next(t.now, &retr("third"));
    t.no_client();
    t.server(&epsv_229(50002));
    t.expect_data(connect(50002));
    let wire = t.data_wire(DataEvent::Connected);
    assert_eq!(wire, b"RETR second\r\nEPSV\r\n");
    t.client("RETR second");
    t.client("EPSV");
    t.server("150 Opening BINARY mode data connection for second (100 bytes).");
    t.expect_data(stream_down(Some(100)));
    // The data connection is cut: the server's 426, then the early EPSV's 229.
    t.data(DataEvent::Failed {
        kind: DataFailure::Reset,
        bytes: 40,
    });
    t.no_event();
    t.server(&format!(
        "426 Failure writing network stream.\n{}",
        epsv_229(50003)
    ));
    match t.err() {
        OpError::Data {
            failure: DataFailure::Reset,
            reply: Some(r),
        } => assert_eq!(r.code().get(), 426),
        other => panic!("{other:?}"),
    }
    t.start(retr("third"));
    t.expect_data(connect(50003));
}

#[test]
fn abort_with_the_early_epsv_outstanding_vsftpd_and_proftpd() {
    // Both answered, on the wire: 426 (the transfer), 229 (the early EPSV), 225/226 (ABOR).
    for abor in ["225 No transfer to ABOR.", "226 Abort successful"] {
        let mut t = Script::logged_in(pipelined());
        first_retr(&mut t, &retr("second"), 50001);
        t.client("RETR first");
        t.client("EPSV");
        t.server("150 Opening BINARY mode data connection for first (67108864 bytes).");
        t.expect_data(stream_down(Some(67_108_864)));
        t.abort();
        t.client("ABOR");
        t.server("426 Failure writing network stream.");
        t.expect_data(DataIntent::Close);
        t.server(&epsv_229(50002));
        t.no_event();
        t.server(abor);
        match t.ok() {
            Outcome::Aborted { reply } => assert_eq!(reply.to_string(), abor),
            other => panic!("{other:?}"),
        }
        t.no_client(); // the 229 was recognised: no NOOP needed
                       // The port of an EPSV answered during an abort is not used.
        t.start(retr("second"));
        t.client("EPSV");
        t.no_client();
        t.server(&epsv_229(50003));
        t.expect_data(connect(50003));
    }
}

#[test]
fn abort_with_the_early_epsv_outstanding_pure_ftpd_and_pyftpdlib() {
    // Pure-FTPd: the transfer's reply is only a 150 continuation, then 229, then ABOR's 226.
    // pyftpdlib: 229 (during the transfer), then ABOR's 225.
    for (before, abor) in [
        (
            "150 0.352 seconds (measured here), 11.01 Mbytes per second",
            "226 Since you see this ABOR must've succeeded",
        ),
        ("", "225 ABOR command successful; data channel closed."),
    ] {
        let mut t = Script::logged_in(pipelined());
        first_retr(&mut t, &retr("second"), 50001);
        t.client("RETR first");
        t.client("EPSV");
        t.server("150 Accepted data connection");
        t.expect_data(stream_down(None));
        t.abort();
        t.client("ABOR");
        if !before.is_empty() {
            t.server(before);
        }
        t.server(&epsv_229(50002));
        t.server(abor);
        t.expect_data(DataIntent::Close);
        // An ambiguous lone answer: NOOP resynchronises, as without pipelining.
        t.client("NOOP");
        t.no_client();
        t.server("200 Zzz...");
        match t.ok() {
            Outcome::Aborted { reply } => assert_eq!(reply.to_string(), abor),
            other => panic!("{other:?}"),
        }
        t.still_usable();
    }
}

#[test]
fn abort_when_the_early_epsv_is_refused_during_the_transfer() {
    // A server that refuses commands during a transfer (older ProFTPD: "450 EPSV: data
    // transfer in progress"): the refusal reads like the transfer's reply; no 229 ever
    // comes, so the abort ends with NOOP and reads every reply up to its 200.
    let mut t = Script::logged_in(pipelined());
    first_retr(&mut t, &retr("second"), 50001);
    t.client("RETR first");
    t.client("EPSV");
    t.server("150 Opening BINARY mode data connection");
    t.expect_data(stream_down(None));
    t.abort();
    t.client("ABOR");
    t.server("450 EPSV: data transfer in progress");
    t.expect_data(DataIntent::Close);
    t.server("426 Transfer aborted. Data connection closed");
    t.no_event();
    t.client("NOOP");
    t.no_client();
    t.server("226 Abort successful");
    t.no_event();
    t.server("200 NOOP command successful");
    assert!(matches!(t.ok(), Outcome::Aborted { .. }));
    t.still_usable();
    // And the next transfer sets up its own data connection.
    t.start(retr("second"));
    t.client("EPSV");
}

#[test]
fn abort_after_the_final_reply_while_data_still_moves() {
    let mut t = Script::logged_in(pipelined());
    first_retr(&mut t, &retr("second"), 50001);
    t.client("RETR first");
    t.client("EPSV");
    t.server("150 Here it comes.\n226 Transfer complete.");
    t.expect_data(stream_down(None));
    t.abort(); // the server is done; ABOR goes behind the early EPSV
    t.client("ABOR");
    t.server(&epsv_229(50002)); // the early EPSV's, read in order
    t.no_event(); // not an answer to ABOR: the data connection keeps its grace
    t.server("225 No transfer to ABOR.");
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.ok(), Outcome::Aborted { .. }));
    t.still_usable();
}

#[test]
fn out_of_order_229_before_226_libunftp() {
    let mut t = Script::logged_in(pipelined());
    first_retr(&mut t, &retr("second"), 50001);
    t.client("RETR first");
    t.client("EPSV");
    t.server("150 Sending data");
    t.expect_data(stream_down(None));
    // The server acted on EPSV during the transfer: 229 before 226.
    t.server(&epsv_229(50002));
    t.no_event();
    assert!(t.s.is_pipelining_stopped());
    t.data(DataEvent::Finished { bytes: 4096 });
    // The data ended before the final reply: such a server may never send it (pyftpdlib),
    // so NOOP's 200 bounds the wait.
    t.client("NOOP");
    t.no_event();
    t.server("226 Successfully sent\n200 Successfully did nothing");
    assert_eq!(untrusted(&mut t), Some(226));
    // The next transfer asks for its own port, and sends no early EPSV any more.
    t.start(retr("second"));
    t.s.prepare_next(t.now, &retr("third"));
    t.client("EPSV");
    t.server(&epsv_229(50003));
    t.expect_data(connect(50003));
    let wire = t.data_wire(DataEvent::Connected);
    assert_eq!(wire, b"RETR second\r\n");
    t.client("RETR second");
    t.server("150 Sending data\n226 Successfully sent");
    t.expect_data(stream_down(None));
    t.data(DataEvent::Finished { bytes: 1 });
    transferred(&mut t);
    t.start(retr("third"));
    t.client("EPSV");
}

#[test]
fn out_of_order_229_even_before_the_1xx() {
    // libunftp sends 150 before it opens the file, and its 550 may come after the 229.
    let mut t = Script::logged_in(pipelined());
    first_retr(&mut t, &retr("second"), 50001);
    t.client("RETR first");
    t.client("EPSV");
    t.server(&epsv_229(50002));
    t.no_event();
    t.server("550 File not found");
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.err(), OpError::Permanent(r) if r.code().get() == 550));
    t.start(retr("second"));
    t.client("EPSV"); // the out-of-order 229's port is not used
}

#[test]
fn out_of_order_229_and_the_transfer_dropped_pyftpdlib() {
    // pyftpdlib: EPSV during the transfer closes the running data connection; the RETR gets
    // no final reply at all. NOOP's 200 tells the session everything was read.
    let mut t = Script::logged_in(pipelined());
    first_retr(&mut t, &retr("second"), 50001);
    t.client("RETR first");
    t.client("EPSV");
    t.server(&format!(
        "150 File status okay. About to open data connection.\n{}",
        epsv_229(50002)
    ));
    t.expect_data(stream_down(None));
    t.data(DataEvent::Failed {
        kind: DataFailure::Reset,
        bytes: 0,
    });
    t.client("NOOP");
    t.no_client();
    t.no_event();
    assert_eq!(
        t.s.abort(t.now),
        Err(ftp_sansio::session::UsageError::NotAbortable)
    );
    t.server("200 I successfully did nothing'.");
    match t.err() {
        OpError::Data {
            failure: DataFailure::Reset,
            reply: None,
        } => {}
        other => panic!("{other:?}"),
    }
    // The next transfer asks for its own port; a late reply of the dropped one is skipped.
    t.start(retr("second"));
    t.client("EPSV");
    t.server(&epsv_229(50003));
    t.expect_data(connect(50003));
    t.data(DataEvent::Connected);
    t.client("RETR second");
    t.server("426 Transfer aborted (late)\n150 File status okay.\n226 Transfer complete.");
    t.expect_data(stream_down(None));
    t.data(DataEvent::Finished { bytes: 9 });
    assert_eq!(transferred(&mut t), (9, 226));
}

#[test]
fn out_of_order_229_then_a_late_final_reply_before_noop_s() {
    let mut t = Script::logged_in(pipelined());
    first_retr(&mut t, &retr("second"), 50001);
    t.client("RETR first");
    t.client("EPSV");
    t.server(&format!("150 Sending data\n{}", epsv_229(50002)));
    t.expect_data(stream_down(None));
    t.data(DataEvent::Failed {
        kind: DataFailure::Reset,
        bytes: 10,
    });
    t.client("NOOP");
    t.server("426 Connection closed\n200 Successfully did nothing");
    match t.err() {
        OpError::Data {
            failure: DataFailure::Reset,
            reply: Some(r),
        } => assert_eq!(r.code().get(), 426),
        other => panic!("{other:?}"),
    }
    t.still_usable();
}

#[test]
fn next_operation_not_a_transfer_sends_no_epsv() {
    let mut t = Script::logged_in(pipelined());
    let wire = first_retr(&mut t, &Operation::Cwd(b"pub".to_vec()), 50001);
    assert_eq!(wire, b"RETR first\r\n");
    t.client("RETR first");
    t.no_client();
}

#[test]
fn next_operation_needing_a_type_change_sends_no_epsv() {
    let mut t = Script::logged_in(pipelined());
    let list = transfer(TransferKind::List(None), true, None);
    let wire = first_retr(&mut t, &list, 50001);
    assert_eq!(wire, b"RETR first\r\n");
    t.client("RETR first");
    t.server("150 ok\n226 ok");
    t.expect_data(stream_down(None));
    t.data(DataEvent::Finished { bytes: 1 });
    transferred(&mut t);
    t.start(list);
    t.client("TYPE A");
    t.server("200 Switching to ASCII mode.");
    t.client("EPSV");
}

#[test]
fn another_operation_than_announced_waits_for_the_early_reply() {
    let mut t = Script::logged_in(pipelined());
    first_retr(&mut t, &retr("second"), 50001);
    t.client("RETR first");
    t.client("EPSV");
    t.server("150 ok\n226 ok");
    t.expect_data(stream_down(None));
    t.data(DataEvent::Finished { bytes: 1 });
    transferred(&mut t);
    // The driver starts something else: nothing goes out before the EPSV's reply.
    t.start(Operation::Cwd(b"pub".to_vec()));
    t.no_client();
    assert!(!t.s.is_idle());
    t.server(&epsv_229(50002));
    t.client("CWD pub");
    t.no_event();
    t.server("250 Directory successfully changed.");
    assert!(matches!(t.ok(), Outcome::Done(_)));
    // The unused port is forgotten: the next transfer asks for its own.
    t.start(retr("second"));
    t.client("EPSV");
}

#[test]
fn another_operation_than_announced_after_the_229_came() {
    let mut t = Script::logged_in(pipelined());
    first_retr(&mut t, &retr("second"), 50001);
    t.client("RETR first");
    t.client("EPSV");
    t.server(&format!("150 ok\n226 ok\n{}", epsv_229(50002)));
    t.expect_data(stream_down(None));
    t.data(DataEvent::Finished { bytes: 1 });
    transferred(&mut t);
    // A listing (TYPE A) cannot use it: dropped, the listing runs as usual.
    t.start(transfer(TransferKind::List(None), true, None));
    t.client("TYPE A");
    t.server("200 ok");
    t.client("EPSV");
}

#[test]
fn abort_of_a_transfer_waiting_for_the_early_reply() {
    let mut t = Script::logged_in(pipelined());
    first_retr(&mut t, &retr("second"), 50001);
    t.client("RETR first");
    t.client("EPSV");
    t.server("150 ok\n226 ok");
    t.expect_data(stream_down(None));
    t.data(DataEvent::Finished { bytes: 1 });
    transferred(&mut t);
    // A listing (needs TYPE A) waits for the EPSV's reply; the user aborts it meanwhile.
    t.start(transfer(TransferKind::List(None), true, None));
    t.no_client();
    t.abort();
    t.client("ABOR");
    t.server(&epsv_229(50002));
    t.no_event();
    t.server("225 No transfer to ABOR.");
    assert!(matches!(t.ok(), Outcome::Aborted { .. }));
    t.still_usable();
}

#[test]
fn epsv_refused_earlier_no_pipelining_with_pasv() {
    let mut t = Script::logged_in(pipelined());
    t.start(retr("first"));
    t.s.prepare_next(t.now, &retr("second"));
    t.client("TYPE I");
    t.server("200 ok");
    t.client("EPSV");
    t.server("500 'EPSV': command not understood");
    t.client("PASV");
    t.server("227 Entering Passive Mode (127,0,0,1,195,80).");
    t.expect_data(connect(50000));
    let wire = t.data_wire(DataEvent::Connected);
    assert_eq!(wire, b"RETR first\r\n");
    t.client("RETR first");
    t.no_client();
}

#[test]
fn early_epsv_refused_the_next_transfer_sends_its_own() {
    for refusal in [
        "425 Can't open passive connection",
        "501 Not now",
        "500 What?",
    ] {
        let mut t = Script::logged_in(pipelined());
        first_retr(&mut t, &retr("second"), 50001);
        t.client("RETR first");
        t.client("EPSV");
        t.server(&format!("150 ok\n226 ok\n{refusal}"));
        t.expect_data(stream_down(None));
        t.data(DataEvent::Finished { bytes: 1 });
        assert_eq!(transferred(&mut t), (1, 226), "{refusal}");
        assert!(t.s.is_pipelining_stopped());
        // As if nothing had been sent early: the transfer's own EPSV, its own answer.
        t.start(retr("second"));
        t.s.prepare_next(t.now, &retr("third"));
        t.client("EPSV");
        t.server(&epsv_229(50003));
        t.expect_data(connect(50003));
        let wire = t.data_wire(DataEvent::Connected);
        assert_eq!(wire, b"RETR second\r\n", "stopped for good");
    }
}

#[test]
fn switch_off_or_active_mode_sends_no_early_epsv() {
    let mut t = Script::logged_in(plain());
    assert_eq!(
        first_retr(&mut t, &retr("second"), 50001),
        b"RETR first\r\n"
    );

    let mut t = Script::logged_in(Config {
        passive: false,
        ..pipelined()
    });
    t.start(retr("first"));
    t.s.prepare_next(t.now, &retr("second"));
    t.client("TYPE I");
    t.server("200 ok");
    t.expect_data(DataIntent::Listen { tls: false });
    t.data(DataEvent::Listening(addr("127.0.0.1:40000")));
    t.client("EPRT |1|127.0.0.1|40000|");
    t.server("200 EPRT command successful.");
    t.client("RETR first");
    t.no_client();
}

#[test]
fn a_229_kept_too_long_is_not_used() {
    let mut t = Script::logged_in(pipelined());
    first_retr(&mut t, &retr("second"), 50001);
    t.client("RETR first");
    t.client("EPSV");
    t.server(&format!("150 ok\n226 ok\n{}", epsv_229(50002)));
    t.expect_data(stream_down(None));
    t.data(DataEvent::Finished { bytes: 1 });
    transferred(&mut t);
    // The server may have closed a listener nobody connected to for that long.
    t.wait(Duration::from_secs(30));
    t.start(retr("second"));
    t.client("EPSV");
    t.server(&epsv_229(50003));
    t.expect_data(connect(50003));
}

#[test]
fn resumed_transfer_uses_the_early_epsv_and_sends_rest_after_it() {
    let mut t = Script::logged_in(pipelined());
    let resume = transfer(TransferKind::Retr(b"second".to_vec()), false, Some(100));
    assert_eq!(
        first_retr(&mut t, &resume, 50001),
        b"RETR first\r\nEPSV\r\n"
    );
    t.client("RETR first");
    t.client("EPSV");
    t.server(&format!("150 ok\n226 ok\n{}", epsv_229(50002)));
    t.expect_data(stream_down(None));
    t.data(DataEvent::Finished { bytes: 1 });
    transferred(&mut t);
    t.start(resume);
    t.expect_data(connect(50002));
    t.data(DataEvent::Connected);
    t.client("REST 100");
    t.server("350 Restart position accepted (100).");
    t.client("RETR second");
}

#[test]
fn eof_or_reply_timeout_with_the_early_epsv_owed() {
    // The server never answers the early EPSV: the transfer waiting for it times out like
    // any reply (the session closes).
    let mut t = Script::logged_in(pipelined());
    first_retr(&mut t, &retr("second"), 50001);
    t.client("RETR first");
    t.client("EPSV");
    t.server("150 ok\n226 ok");
    t.expect_data(stream_down(None));
    t.data(DataEvent::Finished { bytes: 1 });
    transferred(&mut t);
    t.start(retr("second"));
    t.wait(Duration::from_secs(61));
    assert!(matches!(t.err(), OpError::Timeout(_)));
    t.closed();
}

#[test]
fn out_of_order_229_and_the_data_closed_before_the_final_reply() {
    // pyftpdlib: the data connection ends cleanly when the server drops it on EPSV (its end
    // looks like the file's end), and no final reply comes. NOOP's 200 ends the wait: the
    // transfer fails, and the session stays in step.
    let mut t = Script::logged_in(pipelined());
    first_retr(&mut t, &retr("second"), 50001);
    t.client("RETR first");
    t.client("EPSV");
    t.server(&format!("150 File status okay.\n{}", epsv_229(50002)));
    t.expect_data(stream_down(None));
    t.data(DataEvent::Finished { bytes: 0 });
    t.client("NOOP");
    t.no_event();
    t.server("200 I successfully did nothing'.");
    assert_eq!(untrusted(&mut t), None);
    t.start(retr("second"));
    t.client("EPSV"); // the out-of-order 229's port is not used

    // libunftp: the final reply comes before NOOP's. The data is probably whole, but this
    // server acted on EPSV during the transfer (pyftpdlib says 226 after cutting the data
    // connection): not a success.
    let mut t = Script::logged_in(pipelined());
    first_retr(&mut t, &retr("second"), 50001);
    t.client("RETR first");
    t.client("EPSV");
    t.server(&format!("150 Sending data\n{}", epsv_229(50002)));
    t.expect_data(stream_down(None));
    t.data(DataEvent::Finished { bytes: 4096 });
    t.client("NOOP");
    t.server("226 Successfully sent");
    t.no_event();
    t.server("200 Successfully did nothing");
    assert_eq!(untrusted(&mut t), Some(226));
    t.start(retr("second"));
    t.client("EPSV"); // the out-of-order 229's port is not used
}

#[test]
fn an_abort_drops_a_kept_229() {
    // ABOR may close passive ports (libunftp closes its data channel): the port of a 229
    // that came before the abort is not used.
    let mut t = Script::logged_in(pipelined());
    first_retr(&mut t, &retr("second"), 50001);
    t.client("RETR first");
    t.client("EPSV");
    // In order: the 226 before the end of data, then the 229 (kept).
    t.server(&format!("150 Sending data\n226 Sent\n{}", epsv_229(50002)));
    t.expect_data(stream_down(None));
    t.abort();
    t.client("ABOR");
    t.server("225 No transfer to ABOR.");
    t.expect_data(DataIntent::Close);
    assert!(matches!(t.ok(), Outcome::Aborted { .. }));
    t.start(retr("second"));
    t.client("EPSV");
}

#[test]
fn out_of_order_229_after_the_data_ended() {
    // pyftpdlib with a tiny file: the data is complete before the 229 arrives, and the
    // RETR's final reply never comes: NOOP at the 229.
    let mut t = Script::logged_in(pipelined());
    first_retr(&mut t, &retr("second"), 50001);
    t.client("RETR first");
    t.client("EPSV");
    t.server("150 File status okay.");
    t.expect_data(stream_down(None));
    t.data(DataEvent::Finished { bytes: 1 });
    t.no_client();
    t.server(&epsv_229(50002));
    t.client("NOOP");
    t.no_event();
    t.server("200 I successfully did nothing'.");
    assert_eq!(untrusted(&mut t), None);
    t.start(retr("second"));
    t.client("EPSV"); // the out-of-order 229's port is not used
}
