//! Broken and hostile servers against the blocking driver ([`ftp_blocking::Ftp`]), played by
//! the fault server of `ftp_tests::fault`. Every case must end in the documented typed error
//! (or the correct result) within [`hostile_common::BOUND`] with 1 s driver timeouts, without
//! a panic, with bounded memory, and never report data complete when it is not.
//!
//! | # | case | test |
//! |---|---|---|
//! | 1 | disconnect before the greeting | `disconnect_before_greeting` |
//! | 2 | disconnect mid-reply | `disconnect_mid_reply` |
//! | 3 | disconnect after USER | `disconnect_after_user` |
//! | 4 | disconnect mid-transfer (control and data dropped) | `disconnect_mid_transfer` |
//! | 5 | data closed early, size announced, then 226 | `data_closed_early_with_announced_size` |
//! | 6 | data closed early, no size, then 226 (server says complete) | `data_closed_early_without_size` |
//! | 7 | 426 / 451 after the data | `transfer_426_or_451_is_an_error` |
//! | 8 | all data, then disconnect before 226 | `disconnect_after_data_before_226` |
//! | 9 | disconnect during ABOR (idle and mid-transfer) | `disconnect_during_abor` |
//! | 10 | disconnect during QUIT | `disconnect_during_quit` |
//! | 11 | 421 at every step (greeting, USER, PASS, TYPE, EPSV, RETR, mid-transfer) | `reply_421_at_every_step` |
//! | 12 | 4xx and 5xx for every command | `negative_replies_for_every_command` |
//! | 13 | reply codes outside 100-599, non-replies | `reply_codes_out_of_range` |
//! | 14 | a reply line that never ends | `reply_line_never_ends` |
//! | 15 | a 10 MiB single reply line | `ten_mib_reply_line` |
//! | 16 | a multi-line reply that never closes (silent / endless) | `multiline_reply_never_closes` |
//! | 17 | replies split into single bytes with delays | `replies_byte_by_byte_with_delays` |
//! | 18 | invalid UTF-8 in replies | `invalid_utf8_in_replies` |
//! | 19 | invalid UTF-8 in listings | `invalid_utf8_in_listings` |
//! | 20 | a 10 MiB listing line | `ten_mib_listing_line` |
//! | 21 | data connection refused | `data_connection_refused` |
//! | 22 | data connection accepted but never sending | `data_connection_silent` |
//! | 23 | active mode: the server never connects | `active_server_never_connects` |
//! | 24 | 227 naming another host | `pasv_other_host_uses_control_peer` |
//! | 25 | 227 / 229 with port 0 | `pasv_port_zero` |
//! | 26 | 227 / 229 with a port above 65535 | `pasv_port_above_65535` |
//! | 27 | 227 with a privileged port on another address | `pasv_privileged_port_other_host` |
//! | 28 | a server that never answers (greeting, after USER) | `server_never_answers` |
//! | 29 | connect timeout (accept queue full) | `connect_timeout` |
//! | 30 | caller names with CR, LF, NUL refused before sending | `caller_names_with_crlf_nul_refused` |
//! | 31 | download interrupted half way, resumed with REST | `resume_with_rest_is_byte_identical` |
//! | 32 | upload cut by the server (426) | `upload_cut_is_an_error` |
//! | 33 | extra replies in one segment (one command, several answers) | `extra_replies_are_not_taken_for_the_next_command` |
//! | 34 | `120` replies trickled forever (greeting, USER), with `operation_timeout` | `operation_timeout_bounds_a_trickling_server` |
//!
//! The listing names (`../`, `/`, NUL, control characters) that must never make the mirror
//! write outside its target are in `hostile_mirror.rs`; bounded memory under a 10 MiB line
//! and an endless reply is measured in `hostile_memory.rs`.

mod hostile_common;

use std::net::Ipv4Addr;
use std::time::Duration;

use ftp_blocking::{Error, ErrorKind, Ftp};
use ftp_sansio::session::{DataFailure, OpError, ProtocolError, TimeoutKind};
use ftp_tests::fault::{
    disconnect, download, flood, hang, listing, pasv_claiming, raw, reply, sleep, trickle, upload,
    well_behaved, Action, FaultServer, Script,
};
use hostile_common::{bounded, config, pattern, resumable, retr_cut, serving, BAD_NAMES, T};

fn connect(server: &FaultServer) -> Result<Ftp, Error> {
    Ftp::connect_with(server.addr(), config(), Some(T))
}

fn logged_in(server: &FaultServer) -> Ftp {
    let mut ftp = connect(server).expect("connect");
    ftp.login("user", "pw").expect("login");
    ftp
}

fn get(ftp: &mut Ftp, name: &str) -> (Result<ftp_blocking::Reply, Error>, Vec<u8>) {
    let mut got = Vec::new();
    let r = ftp.retrbinary(
        &format!("RETR {name}"),
        |b| {
            got.extend_from_slice(b);
            Ok(())
        },
        8192,
        None,
    );
    (r, got)
}

#[track_caller]
fn expect_kind<T: std::fmt::Debug>(r: Result<T, Error>, kind: ErrorKind) -> Error {
    match r {
        Err(e) if e.kind() == kind => e,
        other => panic!("expected a {kind:?} error, got {other:?}"),
    }
}

/// The connection is closed: `is_connected` is false and a call fails with `Closed`.
#[track_caller]
fn assert_closed(ftp: &mut Ftp) {
    assert!(!ftp.is_connected());
    expect_kind(ftp.noop(), ErrorKind::Closed);
}

/// The connection still works: a `NOOP` round trip succeeds.
#[track_caller]
fn assert_usable(ftp: &mut Ftp) {
    assert!(ftp.is_connected());
    assert_eq!(
        ftp.noop().expect("NOOP after the failure").code().get(),
        200
    );
}

// ---------------------------------------------------------------------------------------
// Disconnects
// ---------------------------------------------------------------------------------------

#[test]
fn disconnect_before_greeting() {
    let server = FaultServer::start(Script::new().greet_with(disconnect()));
    bounded("connect", || {
        expect_kind(connect(&server), ErrorKind::Closed)
    });
}

#[test]
fn disconnect_mid_reply() {
    let server = FaultServer::start(
        Script::new().greet_with([raw(b"220-Welcome\r\n220 rea"), disconnect()]),
    );
    let e = bounded("connect", || {
        expect_kind(connect(&server), ErrorKind::Protocol)
    });
    assert!(matches!(
        e.op_error(),
        Some(OpError::Protocol(ProtocolError::EofMidReply))
    ));

    // mid-reply later in the session too
    let server = FaultServer::start(well_behaved().on("PWD", [raw(b"257 \"/ho"), disconnect()]));
    let mut ftp = logged_in(&server);
    bounded("pwd", || expect_kind(ftp.pwd(), ErrorKind::Protocol));
    assert_closed(&mut ftp);
}

#[test]
fn disconnect_after_user() {
    let server = FaultServer::start(well_behaved().on("USER", disconnect()));
    let mut ftp = connect(&server).unwrap();
    bounded("login", || {
        expect_kind(ftp.login("user", "pw"), ErrorKind::Closed)
    });
    assert_closed(&mut ftp);
    assert_eq!(server.verbs(), ["USER"]);
}

#[test]
fn disconnect_mid_transfer() {
    let data = pattern(100_000);
    // no size announced: only the missing 226 tells the transfer did not complete
    let mut retr = reply("150 Opening BINARY mode data connection for f.");
    retr.push(Action::DataSend(data[..40_000].to_vec()));
    retr.push(Action::Disconnect);
    let server = FaultServer::start(well_behaved().on("RETR", retr));
    let mut ftp = logged_in(&server);
    let (r, got) = bounded("retrbinary", || get(&mut ftp, "f"));
    expect_kind(r, ErrorKind::Closed);
    assert!(got.len() <= 40_000);
    assert_closed(&mut ftp);
}

#[test]
fn data_closed_early_with_announced_size() {
    let data = pattern(100_000);
    let server = FaultServer::start(well_behaved().on(
        "RETR",
        retr_cut(&data, 40_000, reply("226 Transfer complete.")),
    ));
    let mut ftp = logged_in(&server);
    let (r, got) = bounded("retrbinary", || get(&mut ftp, "f"));
    let e = expect_kind(r, ErrorKind::Io);
    assert!(
        matches!(
            e.op_error(),
            Some(OpError::Truncated {
                expected: 100_000,
                received: 40_000,
                ..
            })
        ),
        "{e:?}"
    );
    assert_eq!(got, &data[..40_000]);
    assert_usable(&mut ftp);

    // the same through a DataStream (transfercmd + finish)
    let mut stream = ftp.transfercmd("RETR f", None).unwrap();
    assert_eq!(stream.expected_size(), Some(100_000));
    let mut buf = Vec::new();
    let _ = std::io::Read::read_to_end(&mut stream, &mut buf);
    let e = expect_kind(stream.finish(), ErrorKind::Io);
    assert!(matches!(e.op_error(), Some(OpError::Truncated { .. })));
}

#[test]
fn data_closed_early_without_size() {
    // Without an announced size the server's 226 is the only judge: the client returns
    // exactly what arrived, with the byte count, and no more.
    let data = pattern(50_000);
    let mut retr = reply("150 Opening BINARY mode data connection for f.");
    retr.push(Action::DataSend(data[..20_000].to_vec()));
    retr.push(Action::DataClose);
    retr.extend(reply("226 Transfer complete."));
    let server = FaultServer::start(well_behaved().on("RETR", retr));
    let mut ftp = logged_in(&server);
    let (r, got) = bounded("retrbinary", || get(&mut ftp, "f"));
    assert_eq!(r.unwrap().code().get(), 226);
    assert_eq!(got, &data[..20_000]);
}

#[test]
fn transfer_426_or_451_is_an_error() {
    for (code, kind) in [(426, ErrorKind::Temporary), (451, ErrorKind::Temporary)] {
        let data = pattern(30_000);
        // all the data arrives, but the server says the transfer failed
        let server = FaultServer::start(well_behaved().on(
            "RETR",
            retr_cut(
                &data,
                data.len(),
                reply(&format!("{code} Transfer aborted.")),
            ),
        ));
        let mut ftp = logged_in(&server);
        let (r, _) = bounded("retrbinary", || get(&mut ftp, "f"));
        let e = expect_kind(r, kind);
        assert_eq!(e.code(), Some(code));
        assert_usable(&mut ftp);

        // and before the data is complete, through a listing
        let mut list = reply("150 Here comes the directory listing.");
        list.push(Action::DataSend(
            b"-rw-r--r-- 1 a b 1 Jan 1 2024 f\r\n-rw-".to_vec(),
        ));
        list.push(Action::DataClose);
        list.extend(reply(&format!("{code} Transfer aborted.")));
        let server = FaultServer::start(well_behaved().on("LIST", list));
        let mut ftp = logged_in(&server);
        let e = bounded("dir", || expect_kind(ftp.dir(None::<&str>), kind));
        assert_eq!(e.code(), Some(code));
    }
}

#[test]
fn disconnect_after_data_before_226() {
    let data = pattern(30_000);
    let server =
        FaultServer::start(well_behaved().on("RETR", retr_cut(&data, data.len(), disconnect())));
    let mut ftp = logged_in(&server);
    let (r, got) = bounded("retrbinary", || get(&mut ftp, "f"));
    // every byte arrived, but without the 226 the transfer is not reported complete
    assert_eq!(got, data);
    expect_kind(r, ErrorKind::Closed);
    assert_closed(&mut ftp);
}

#[test]
fn disconnect_during_abor() {
    // idle ABOR
    let server = FaultServer::start(well_behaved().on("ABOR", disconnect()));
    let mut ftp = logged_in(&server);
    bounded("abort", || expect_kind(ftp.abort(), ErrorKind::Closed));
    assert_closed(&mut ftp);

    // ABOR in the middle of a download
    let mut retr = reply("150 Opening BINARY mode data connection for f.");
    retr.push(Action::DataSend(pattern(10_000)));
    let server = FaultServer::start(well_behaved().on("RETR", retr).on("ABOR", disconnect()));
    let mut ftp = logged_in(&server);
    let mut stream = ftp.transfercmd("RETR f", None).unwrap();
    let mut buf = [0u8; 100];
    std::io::Read::read_exact(&mut stream, &mut buf).unwrap();
    bounded("abort", || expect_kind(stream.abort(), ErrorKind::Closed));
    assert_closed(&mut ftp);
    assert_eq!(server.verbs().last().map(String::as_str), Some("ABOR"));
}

#[test]
fn disconnect_during_quit() {
    let server = FaultServer::start(well_behaved().on("QUIT", disconnect()));
    let mut ftp = logged_in(&server);
    bounded("quit", || expect_kind(ftp.quit(), ErrorKind::Closed));
    assert_closed(&mut ftp);
}

// ---------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------

#[test]
fn reply_421_at_every_step() {
    let bye = || [reply("421 Service not available, closing."), disconnect()];
    // the greeting
    let server = FaultServer::start(Script::new().greet_with(bye()));
    let e = bounded("connect", || {
        expect_kind(connect(&server), ErrorKind::Temporary)
    });
    assert_eq!(e.code(), Some(421));

    // each command of a login + download, and in the middle of the transfer
    let data = pattern(10_000);
    let mut mid = reply("150 Opening BINARY mode data connection (10000 bytes).");
    mid.push(Action::DataSend(data[..5000].to_vec()));
    mid.extend(bye().into_iter().flatten());
    let steps: Vec<(&str, Vec<Action>)> = vec![
        ("USER", bye().into_iter().flatten().collect()),
        ("PASS", bye().into_iter().flatten().collect()),
        ("TYPE", bye().into_iter().flatten().collect()),
        ("EPSV", bye().into_iter().flatten().collect()),
        ("RETR", bye().into_iter().flatten().collect()),
        ("RETR", mid),
    ];
    for (verb, actions) in steps {
        let server = FaultServer::start(serving(&data).on(verb, actions));
        let mut ftp = connect(&server).unwrap();
        let r = bounded(verb, || {
            ftp.login("user", "pw")?;
            get(&mut ftp, "f").0
        });
        let e = expect_kind(r, ErrorKind::Temporary);
        assert_eq!(e.code(), Some(421), "{verb}");
        assert!(e.is_fatal());
        assert_closed(&mut ftp);
    }
}

#[test]
fn negative_replies_for_every_command() {
    for code in [450u16, 550] {
        let kind = if code < 500 {
            ErrorKind::Temporary
        } else {
            ErrorKind::Permanent
        };
        let no = || reply(&format!("{code} Not now."));
        let mut script = well_behaved();
        for verb in [
            "CWD", "CDUP", "PWD", "MKD", "RMD", "DELE", "RNFR", "SIZE", "MDTM", "MLST", "FEAT",
            "SYST", "STAT", "SITE", "HELP", "RETR", "STOR", "APPE", "LIST", "NLST", "MLSD",
        ] {
            script = script.on(verb, no());
        }
        let server = FaultServer::start(script);
        let mut ftp = logged_in(&server);
        type Call = fn(&mut Ftp) -> Result<(), Error>;
        let calls: Vec<(&str, Call)> = vec![
            ("cwd", |f| f.cwd("d").map(drop)),
            ("cdup", |f| f.cdup().map(drop)),
            ("pwd", |f| f.pwd().map(drop)),
            ("mkd", |f| f.mkd("d").map(drop)),
            ("rmd", |f| f.rmd("d").map(drop)),
            ("delete", |f| f.delete("f").map(drop)),
            ("rename", |f| f.rename("a", "b").map(drop)),
            ("size", |f| f.size("f").map(drop)),
            ("mdtm", |f| f.mdtm("f").map(drop)),
            ("mlst", |f| f.mlst(Some("f")).map(drop)),
            ("feat", |f| f.feat().map(drop)),
            ("syst", |f| f.syst().map(drop)),
            ("stat", |f| f.stat(Some("f")).map(drop)),
            ("site", |f| f.site("CHMOD 600 f").map(drop)),
            ("sendcmd HELP", |f| f.sendcmd("HELP").map(drop)),
            ("retrbinary", |f| {
                f.retrbinary("RETR f", |_| Ok(()), 8192, None).map(drop)
            }),
            ("storbinary", |f| {
                f.storbinary("STOR f", &mut &b"data"[..], 8192, None)
                    .map(drop)
            }),
            ("storbinary APPE", |f| {
                f.storbinary("APPE f", &mut &b"data"[..], 8192, None)
                    .map(drop)
            }),
            ("dir", |f| f.dir(None::<&str>).map(drop)),
            ("nlst", |f| f.nlst(None::<&str>).map(drop)),
            ("mlsd", |f| f.mlsd(None::<&str>).map(drop)),
        ];
        for (name, call) in calls {
            let e = bounded(name, || expect_kind(call(&mut ftp), kind));
            assert_eq!(e.code(), Some(code), "{name}");
            assert!(!e.is_fatal(), "{name}");
            assert_usable(&mut ftp);
        }
        // login refused, each stage
        for verb in ["USER", "PASS"] {
            let server = FaultServer::start(well_behaved().on(verb, no()));
            let mut ftp = connect(&server).unwrap();
            let e = bounded(verb, || expect_kind(ftp.login("u", "p"), kind));
            assert_eq!(e.code(), Some(code));
            assert_usable(&mut ftp);
        }
        // the data connection set-up refused (EPSV, then PASV, then TYPE)
        for verb in ["EPSV", "TYPE"] {
            let server = FaultServer::start(serving(b"x").on(verb, no()));
            let mut ftp = logged_in(&server);
            let e = bounded(verb, || expect_kind(get(&mut ftp, "f").0, kind));
            assert_eq!(e.code(), Some(code));
            assert_usable(&mut ftp);
        }
    }
}

#[test]
fn reply_codes_out_of_range() {
    for bad in [
        &b"600 Too high\r\n"[..],
        b"099 Too low\r\n",
        b"000 Zero\r\n",
        b"1000 Four digits\r\n",
        b"22 Short\r\n",
        b"abc Letters\r\n",
        b"\r\n",
        b"-220 Hyphen first\r\n",
        b"\xff\xfe\r\n",
    ] {
        // as the greeting
        let server = FaultServer::start(Script::new().greet_with(raw(bad)));
        let e = bounded("connect", || {
            expect_kind(connect(&server), ErrorKind::Protocol)
        });
        assert!(e.is_fatal(), "{bad:?}");

        // as the reply to a command
        let server = FaultServer::start(well_behaved().on("NOOP", raw(bad)));
        let mut ftp = logged_in(&server);
        bounded("noop", || expect_kind(ftp.noop(), ErrorKind::Protocol));
        assert_closed(&mut ftp);
    }
}

#[test]
fn reply_line_never_ends() {
    let server = FaultServer::start(Script::new().greet_with([raw(b"220 Hello"), hang()]));
    let e = bounded("connect", || {
        expect_kind(connect(&server), ErrorKind::Timeout)
    });
    assert!(e.is_fatal());

    let server = FaultServer::start(well_behaved().on("PWD", [raw(b"257 \"/\""), hang()]));
    let mut ftp = logged_in(&server);
    bounded("pwd", || expect_kind(ftp.pwd(), ErrorKind::Timeout));
    assert_closed(&mut ftp);
}

#[test]
fn ten_mib_reply_line() {
    let server = FaultServer::start(Script::new().greet_with([
        raw(b"220 "),
        flood(b"x", 10 << 20),
        raw(b"\r\n"),
    ]));
    let e = bounded("connect", || {
        expect_kind(connect(&server), ErrorKind::Protocol)
    });
    assert!(
        matches!(
            e.op_error(),
            Some(OpError::Protocol(ProtocolError::Framing(_)))
        ),
        "{e:?}"
    );

    let server = FaultServer::start(well_behaved().on(
        "SYST",
        [raw(b"215 "), flood(b"UNIX ", 10 << 20), raw(b"\r\n")],
    ));
    let mut ftp = logged_in(&server);
    bounded("syst", || expect_kind(ftp.syst(), ErrorKind::Protocol));
    assert_closed(&mut ftp);
}

#[test]
fn multiline_reply_never_closes() {
    // silent after a few lines: the reply timeout
    let server = FaultServer::start(
        Script::new().greet_with([raw(b"220-Welcome\r\n220-to the\r\n"), hang()]),
    );
    bounded("connect", || {
        expect_kind(connect(&server), ErrorKind::Timeout)
    });

    // endless continuation lines: the reply size limit
    let server = FaultServer::start(
        Script::new().greet_with([raw(b"220-Welcome\r\n"), flood(b" and more\r\n", 10 << 20)]),
    );
    let e = bounded("connect", || {
        expect_kind(connect(&server), ErrorKind::Protocol)
    });
    assert!(matches!(
        e.op_error(),
        Some(OpError::Protocol(ProtocolError::Framing(
            ftp_sansio::reply::ReplyError::ReplyTooLarge { .. }
        )))
    ));
}

#[test]
fn replies_byte_by_byte_with_delays() {
    let d = Duration::from_millis(3);
    let server = FaultServer::start(
        well_behaved()
            .greet_with(trickle("220-Hello\n220 there", d))
            .on("USER", trickle("331 Password?", d))
            .on("PASS", trickle("230-Welcome\n230 in", d))
            .on(
                "PWD",
                trickle("257 \"/a \"\"quoted\"\" dir\" is current", d),
            )
            .on("TYPE", trickle("200 Type set", d))
            .on("RETR", download(b"slow but fine")),
    );
    let mut ftp = bounded("connect", || connect(&server)).unwrap();
    assert_eq!(ftp.getwelcome().unwrap(), "220-Hello\n220 there");
    assert_eq!(ftp.login("u", "p").unwrap().text(), "230-Welcome\n230 in");
    assert_eq!(ftp.pwd().unwrap(), "/a \"quoted\" dir");
    let (r, got) = bounded("retrbinary", || get(&mut ftp, "f"));
    assert_eq!(r.unwrap().code().get(), 226);
    assert_eq!(got, b"slow but fine");
}

#[test]
fn invalid_utf8_in_replies() {
    let server = FaultServer::start(
        well_behaved()
            .greet_with(raw(b"220 Caf\xe9 \xff\xfe ready\r\n"))
            .on("PWD", raw(b"257 \"/d\xe9j\xe0 vu\" is current\r\n"))
            .on("SYST", raw(b"215 \xc3\x28 UNIX\r\n")),
    );
    let mut ftp = logged_in(&server);
    let welcome = ftp.welcome().unwrap().clone();
    assert_eq!(welcome.raw(), b"220 Caf\xe9 \xff\xfe ready\r\n");
    assert_eq!(
        ftp.getwelcome().unwrap(),
        "220 Caf\u{fffd} \u{fffd}\u{fffd} ready"
    );
    assert_eq!(ftp.pwd().unwrap(), "/d\u{fffd}j\u{fffd} vu");
    assert_eq!(ftp.syst().unwrap().raw(), b"215 \xc3\x28 UNIX\r\n");
    assert_usable(&mut ftp);
}

#[test]
fn invalid_utf8_in_listings() {
    let server = FaultServer::start(
        well_behaved()
            .on("NLST", listing(&[b"caf\xe9.txt", b"\xff\xfe", b"ok.txt"]))
            .on(
                "LIST",
                listing(&[
                    b"-rw-r--r--   1 ftp ftp  12 Jan 01  2024 caf\xe9.txt",
                    b"drwxr-xr-x   2 ftp ftp 4096 Jan 01  2024 \xff\xfe",
                ]),
            )
            .on(
                "MLSD",
                listing(&[b"type=file;size=3; caf\xe9.txt", b"type=dir; \xc3\x28"]),
            ),
    );
    let mut ftp = logged_in(&server);
    assert_eq!(
        ftp.nlst(None::<&str>).unwrap(),
        ["caf\u{fffd}.txt", "\u{fffd}\u{fffd}", "ok.txt"]
    );
    let entries = ftp.list(None::<&str>).unwrap();
    let names: Vec<&[u8]> = entries.iter().map(|e| e.name()).collect();
    assert_eq!(names, [&b"caf\xe9.txt"[..], b"\xff\xfe"]);
    assert_eq!(entries[0].size(), Some(12));
    let entries = ftp.mlsd(None::<&str>).unwrap();
    let names: Vec<&[u8]> = entries.iter().map(|e| e.name()).collect();
    assert_eq!(names, [&b"caf\xe9.txt"[..], b"\xc3\x28"]);
}

#[test]
fn ten_mib_listing_line() {
    let mut list = reply("150 Here comes the directory listing.");
    list.push(Action::DataSend(b"-rw-r--r-- 1 a b 1 Jan 1 2024 ".to_vec()));
    list.push(Action::DataFlood {
        pattern: b"n".to_vec(),
        len: 10 << 20,
    });
    list.push(Action::DataClose);
    list.extend(reply("226 Directory send OK."));
    let server = FaultServer::start(well_behaved().on("LIST", list));
    let mut ftp = logged_in(&server);
    bounded("dir", || {
        expect_kind(ftp.dir(None::<&str>), ErrorKind::Protocol)
    });
}

// ---------------------------------------------------------------------------------------
// Data connections
// ---------------------------------------------------------------------------------------

#[test]
fn data_connection_refused() {
    for verb in ["EPSV", "PASV"] {
        let refused = if verb == "EPSV" {
            Action::EpsvRefused
        } else {
            Action::PasvRefused {
                claim_ip: Ipv4Addr::LOCALHOST,
            }
        };
        let server = FaultServer::start(serving(b"data").on(verb, refused));
        let mut ftp = logged_in(&server);
        if verb == "PASV" {
            ftp.update_config(|c| c.use_epsv = false);
        }
        let (r, got) = bounded("retrbinary", || get(&mut ftp, "f"));
        let e = expect_kind(r, ErrorKind::Io);
        assert!(
            matches!(
                e.op_error(),
                Some(OpError::Data {
                    failure: DataFailure::Refused,
                    ..
                })
            ),
            "{e:?}"
        );
        assert!(got.is_empty());
        assert!(!server.verbs().contains(&"RETR".to_string()), "RETR sent");
        assert_usable(&mut ftp);
    }
}

#[test]
fn data_connection_silent() {
    let mut retr = reply("150 Opening BINARY mode data connection for f (1000 bytes).");
    retr.push(Action::DataOpen);
    let server = FaultServer::start(
        well_behaved()
            .on("RETR", retr)
            .on("ABOR", reply("426 Transfer aborted.\n226 ABOR successful.")),
    );
    let mut ftp = logged_in(&server);
    let (r, got) = bounded("retrbinary", || get(&mut ftp, "f"));
    let e = expect_kind(r, ErrorKind::Timeout);
    assert!(e.is_data_timeout(), "{e:?}");
    assert!(got.is_empty());
    assert_eq!(server.data_connections(), 1);
    assert_usable(&mut ftp);
}

#[test]
fn active_server_never_connects() {
    let server = FaultServer::start(
        well_behaved()
            .on("RETR", reply("150 Opening BINARY mode data connection."))
            .on("ABOR", reply("426 Transfer aborted.\n226 ABOR successful.")),
    );
    let mut ftp = logged_in(&server);
    ftp.set_pasv(false);
    let (r, _) = bounded("retrbinary", || get(&mut ftp, "f"));
    let e = expect_kind(r, ErrorKind::Timeout);
    assert!(e.is_data_timeout(), "{e:?}");
    assert!(server.verbs().contains(&"EPRT".to_string()));
    assert_eq!(server.data_connections(), 0);
    assert_usable(&mut ftp);
}

// ---------------------------------------------------------------------------------------
// PASV / EPSV addresses
// ---------------------------------------------------------------------------------------

#[test]
fn pasv_other_host_uses_control_peer() {
    let data = pattern(5000);
    for claim in [
        Ipv4Addr::new(192, 0, 2, 1),
        Ipv4Addr::new(10, 0, 0, 1),
        Ipv4Addr::new(0, 0, 0, 0),
        Ipv4Addr::new(255, 255, 255, 255),
    ] {
        let server = FaultServer::start(serving(&data).on("PASV", pasv_claiming(claim)));
        let mut ftp = logged_in(&server);
        ftp.update_config(|c| c.use_epsv = false);
        let (r, got) = bounded("retrbinary", || get(&mut ftp, "f"));
        assert_eq!(r.unwrap().code().get(), 226, "{claim}");
        assert_eq!(got, data);
        // the listener behind the claimed address is on 127.0.0.1: it was used
        assert_eq!(server.data_connections(), 1);
    }
}

#[test]
fn pasv_port_zero() {
    for (verb, text) in [
        ("PASV", "227 Entering Passive Mode (127,0,0,1,0,0)."),
        ("EPSV", "229 Entering Extended Passive Mode (|||0|)"),
    ] {
        let server = FaultServer::start(serving(b"x").on(verb, reply(text)));
        let mut ftp = logged_in(&server);
        ftp.update_config(|c| c.use_epsv = verb == "EPSV");
        let (r, _) = bounded("retrbinary", || get(&mut ftp, "f"));
        expect_kind(r, ErrorKind::Protocol);
        assert!(!server.verbs().contains(&"RETR".to_string()));
        assert_usable(&mut ftp);
    }
}

#[test]
fn pasv_port_above_65535() {
    for (verb, text) in [
        ("PASV", "227 Entering Passive Mode (127,0,0,1,256,1)."),
        ("PASV", "227 Entering Passive Mode (127,0,0,1,1,999)."),
        ("PASV", "227 Entering Passive Mode (127,0,0,1,-1,80)."),
        ("EPSV", "229 Entering Extended Passive Mode (|||65536|)"),
        (
            "EPSV",
            "229 Entering Extended Passive Mode (|||99999999999|)",
        ),
    ] {
        let server = FaultServer::start(serving(b"x").on(verb, reply(text)));
        let mut ftp = logged_in(&server);
        ftp.update_config(|c| c.use_epsv = verb == "EPSV");
        let (r, _) = bounded("retrbinary", || get(&mut ftp, "f"));
        expect_kind(r, ErrorKind::Protocol);
        assert_eq!(server.data_connections(), 0);
        assert_usable(&mut ftp);
    }
}

#[test]
fn pasv_privileged_port_other_host() {
    // 192.0.2.1 (TEST-NET-1) is unroutable: a client going there would time out. Ours goes to
    // the control peer, 127.0.0.1, where nothing listens on the port: refused at once.
    let Some(port) = hostile_common::closed_privileged_port() else {
        eprintln!("every candidate privileged port is open on 127.0.0.1; case not checked");
        return;
    };
    let text = format!(
        "227 Entering Passive Mode (192,0,2,1,{},{}).",
        port >> 8,
        port & 0xff
    );
    let server = FaultServer::start(serving(b"x").on("PASV", reply(&text)));
    let mut ftp = logged_in(&server);
    ftp.update_config(|c| c.use_epsv = false);
    let (r, _) = bounded("retrbinary", || get(&mut ftp, "f"));
    let e = expect_kind(r, ErrorKind::Io);
    assert!(
        matches!(
            e.op_error(),
            Some(OpError::Data {
                failure: DataFailure::Refused,
                ..
            })
        ),
        "not refused by 127.0.0.1:{port}: {e:?}"
    );
    assert_usable(&mut ftp);
}

// ---------------------------------------------------------------------------------------
// Timeouts
// ---------------------------------------------------------------------------------------

#[test]
fn server_never_answers() {
    let server = FaultServer::start(Script::new().greet_with(hang()));
    let e = bounded("connect", || {
        expect_kind(connect(&server), ErrorKind::Timeout)
    });
    assert!(matches!(
        e.op_error(),
        Some(OpError::Timeout(TimeoutKind::Reply))
    ));

    let server = FaultServer::start(well_behaved().on("USER", hang()));
    let mut ftp = connect(&server).unwrap();
    bounded("login", || {
        expect_kind(ftp.login("u", "p"), ErrorKind::Timeout)
    });
    assert_closed(&mut ftp);

    // silent in the middle of a transfer's replies (after the data, no 226)
    let data = pattern(1000);
    let server = FaultServer::start(well_behaved().on("RETR", retr_cut(&data, 1000, hang())));
    let mut ftp = logged_in(&server);
    let (r, got) = bounded("retrbinary", || get(&mut ftp, "f"));
    assert_eq!(got, data);
    expect_kind(r, ErrorKind::Timeout);
    assert_closed(&mut ftp);
}

#[test]
fn connect_timeout() {
    // A listener that never accepts, its accept queue filled: further SYNs are dropped and
    // connect() waits until the client's connect timeout.
    let Some(unanswered) = hostile_common::unanswered_listener() else {
        eprintln!("the accept queue never filled (SYN cookies?); case not checked");
        return;
    };
    let addr = unanswered.addr;
    let r = bounded("connect", || Ftp::connect_with(addr, config(), Some(T)));
    expect_kind(r, ErrorKind::Timeout);
    // Without a connect timeout of its own, the reply timeout bounds the connect (not the
    // operating system's default of minutes).
    let r = bounded("connect", || Ftp::connect_with(addr, config(), None));
    expect_kind(r, ErrorKind::Timeout);
}

// ---------------------------------------------------------------------------------------
// The caller's input
// ---------------------------------------------------------------------------------------

#[test]
fn caller_names_with_crlf_nul_refused() {
    let server = FaultServer::start(
        well_behaved()
            .on("RETR", download(b"x"))
            .on("STOR", upload())
            .on("LIST", listing(&[]))
            .on("NLST", listing(&[])),
    );
    let mut ftp = logged_in(&server);
    let before = server.commands().len();
    type Call = fn(&mut Ftp, &str) -> Result<(), Error>;
    let calls: Vec<(&str, Call)> = vec![
        ("cwd", |f, n| f.cwd(n).map(drop)),
        ("mkd", |f, n| f.mkd(n).map(drop)),
        ("rmd", |f, n| f.rmd(n).map(drop)),
        ("delete", |f, n| f.delete(n).map(drop)),
        ("rename from", |f, n| f.rename(n, "ok").map(drop)),
        ("rename to", |f, n| f.rename("ok", n).map(drop)),
        ("size", |f, n| f.size(n).map(drop)),
        ("mdtm", |f, n| f.mdtm(n).map(drop)),
        ("mlst", |f, n| f.mlst(Some(n)).map(drop)),
        ("site", |f, n| f.site(n).map(drop)),
        ("stat", |f, n| f.stat(Some(n)).map(drop)),
        ("nlst", |f, n| f.nlst(Some(n)).map(drop)),
        ("dir", |f, n| f.dir(Some(n)).map(drop)),
        ("list", |f, n| f.list(Some(n)).map(drop)),
        ("mlsd", |f, n| f.mlsd(Some(n)).map(drop)),
        ("sendcmd", |f, n| f.sendcmd(&format!("NOOP {n}")).map(drop)),
        ("voidcmd", |f, n| f.voidcmd(&format!("NOOP {n}")).map(drop)),
        ("retrbinary", |f, n| {
            f.retrbinary(&format!("RETR {n}"), |_| Ok(()), 8192, None)
                .map(drop)
        }),
        ("retrlines", |f, n| {
            f.retrlines(&format!("RETR {n}"), |_| Ok(())).map(drop)
        }),
        ("storbinary", |f, n| {
            f.storbinary(&format!("STOR {n}"), &mut &b"x"[..], 8192, None)
                .map(drop)
        }),
        ("transfercmd", |f, n| {
            f.transfercmd(&format!("RETR {n}"), None).map(drop)
        }),
        ("login user", |f, n| f.login(n, "pw").map(drop)),
        ("login password", |f, n| f.login("u", n).map(drop)),
    ];
    for (name, call) in calls {
        for bad in BAD_NAMES {
            let e = bounded(name, || {
                expect_kind(call(&mut ftp, bad), ErrorKind::InvalidInput)
            });
            assert!(!e.is_fatal());
            assert_eq!(
                server.commands().len(),
                before,
                "{name}({bad:?}) sent {:?}",
                &server.commands()[before..]
            );
        }
    }
    // nothing was sent, and the connection is as good as before
    assert_usable(&mut ftp);
    assert_eq!(server.commands()[before..], ["NOOP"]);
}

// ---------------------------------------------------------------------------------------
// Resume and uploads
// ---------------------------------------------------------------------------------------

#[test]
fn resume_with_rest_is_byte_identical() {
    let data = pattern(300_000);
    let server = FaultServer::start(resumable(&data, 120_000));
    let mut file = Vec::new();

    // first attempt: cut after 120 000 bytes, the server drops the connection
    let mut ftp = logged_in(&server);
    let r = bounded("first retrbinary", || {
        ftp.retrbinary(
            "RETR big.bin",
            |b| {
                file.extend_from_slice(b);
                Ok(())
            },
            8192,
            None,
        )
    });
    assert!(r.is_err(), "a cut download reported success");
    assert_eq!(file.len(), 120_000);

    // second attempt on a new connection, from where the file ends
    let mut ftp = logged_in(&server);
    let offset = file.len() as u64;
    let r = bounded("resumed retrbinary", || {
        ftp.retrbinary(
            "RETR big.bin",
            |b| {
                file.extend_from_slice(b);
                Ok(())
            },
            8192,
            Some(offset),
        )
    });
    assert_eq!(r.unwrap().code().get(), 226);
    assert_eq!(ftp.size("big.bin").unwrap(), data.len() as u64);
    assert!(file == data, "the resumed file differs");
    assert!(server.commands().contains(&"REST 120000".to_string()));
}

#[test]
fn upload_cut_is_an_error() {
    let mut stor = reply("150 Ok to send data.");
    stor.push(Action::DataOpen);
    stor.push(Action::DataClose);
    stor.extend(reply("426 Connection closed; transfer aborted."));
    let server = FaultServer::start(well_behaved().on("STOR", stor));
    let mut ftp = logged_in(&server);
    let data = pattern(4 << 20);
    let r = bounded("storbinary", || {
        ftp.storbinary("STOR f", &mut &data[..], 8192, None)
    });
    let e = expect_kind(r, ErrorKind::Temporary);
    assert_eq!(e.code(), Some(426));
    assert_usable(&mut ftp);
}

#[test]
fn extra_replies_are_not_taken_for_the_next_command() {
    // NOOP answered twice (the second a forged "success"), in the same segment: the
    // session must not hand the stray reply to the next command.
    let server = FaultServer::start(
        well_behaved()
            .on("NOOP", raw(b"200 NOOP ok.\r\n250 forged\r\n"))
            .on("DELE", reply("550 Permission denied.")),
    );
    let mut ftp = logged_in(&server);
    assert_eq!(ftp.noop().unwrap().code().get(), 200);
    let e = bounded("delete", || {
        expect_kind(ftp.delete("f"), ErrorKind::Permanent)
    });
    assert_eq!(e.code(), Some(550));
}

/// An endless listing cannot exhaust memory: the collecting listings stop at the caller's
/// limit with a typed error, abort the transfer, and the connection stays usable.
#[test]
fn listing_larger_than_the_limit_is_refused() {
    let line: &[u8] = b"x";
    let lines = vec![line; 2 << 20]; // 2 Mi lines of "x\r\n": 6 MiB
    let server = FaultServer::start(
        well_behaved()
            .on("NLST", listing(&lines))
            .on("MLSD", listing(&lines))
            .on("ABOR", reply("226 Abort successful.")),
    );
    let mut ftp = logged_in(&server);
    ftp.set_max_listing(1 << 20);
    let e = expect_kind(ftp.nlst(None::<&str>), ErrorKind::TooLarge);
    assert!(e.to_string().contains("1048576"), "{e}");
    assert_usable(&mut ftp);
    expect_kind(ftp.mlsd(None::<&str>), ErrorKind::TooLarge);
    assert_usable(&mut ftp);
}

/// Issue 9: every `1xx` re-arms the reply deadline, so a server trickling `120` replies
/// would keep the greeting (or any command) waiting forever; `operation_timeout` bounds
/// the whole operation, and the session closes.
#[test]
fn operation_timeout_bounds_a_trickling_server() {
    let op_timeout = Duration::from_secs(3);
    // 40 × 0.5 s of "120 wait" (20 s, past BOUND), each well within the 1 s reply timeout.
    let trickling = || -> Vec<Action> {
        (0..40)
            .flat_map(|_| [reply("120 wait"), sleep(Duration::from_millis(500))])
            .flatten()
            .collect()
    };
    let bounded_config = || ftp_sansio::session::Config {
        operation_timeout: Some(op_timeout),
        ..config()
    };

    let mut greeting = trickling();
    greeting.extend(reply("220 finally"));
    let server = FaultServer::start(well_behaved().greet_with(greeting));
    let started = std::time::Instant::now();
    let e = bounded("connect", || {
        expect_kind(
            Ftp::connect_with(server.addr(), bounded_config(), Some(T)),
            ErrorKind::Timeout,
        )
    });
    // Not a reply timeout: the 120s kept coming; the whole greeting's bound ended it.
    assert!(started.elapsed() >= op_timeout, "{:?}", started.elapsed());
    assert_eq!(
        e.op_error(),
        Some(&OpError::Timeout(TimeoutKind::Operation)),
        "{e:?}"
    );

    // The same for a command: USER answered by an endless trickle of 120s.
    let server = FaultServer::start(well_behaved().on("USER", trickling()));
    let mut ftp = Ftp::connect_with(server.addr(), bounded_config(), Some(T)).unwrap();
    let e = bounded("login", || {
        expect_kind(ftp.login("u", "p"), ErrorKind::Timeout)
    });
    assert_eq!(
        e.op_error(),
        Some(&OpError::Timeout(TimeoutKind::Operation)),
        "{e:?}"
    );
    assert_closed(&mut ftp);
}

/// A download whose data keeps dripping (one byte every 0.5 s: each within the 1 s data
/// timeout) is cut off by `operation_timeout` while the data is moving, not only between
/// replies.
#[test]
fn operation_timeout_bounds_a_dripping_download() {
    let op_timeout = Duration::from_secs(3);
    let mut retr = reply("150 Opening BINARY mode data connection (40 bytes).");
    for _ in 0..40 {
        retr.push(Action::DataSend(b"x".to_vec()));
        retr.extend(sleep(Duration::from_millis(500)));
    }
    retr.push(Action::DataClose);
    retr.extend(reply("226 Transfer complete."));
    let server = FaultServer::start(well_behaved().on("RETR", retr));
    let config = ftp_sansio::session::Config {
        operation_timeout: Some(op_timeout),
        ..config()
    };
    let mut ftp = Ftp::connect_with(server.addr(), config, Some(T)).unwrap();
    ftp.login("user", "pw").unwrap();
    let started = std::time::Instant::now();
    let (r, got) = bounded("retr", || get(&mut ftp, "drip.bin"));
    let e = expect_kind(r, ErrorKind::Timeout);
    assert_eq!(
        e.op_error(),
        Some(&OpError::Timeout(TimeoutKind::Operation)),
        "{e:?}"
    );
    assert!(started.elapsed() >= op_timeout - Duration::from_millis(100));
    assert!(got.len() < 40, "the drip was cut off: {} bytes", got.len());
    assert_closed(&mut ftp);
}
