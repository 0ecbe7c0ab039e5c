//! `ftp_blocking::Ftp` against scripted peers: server behaviours a real server will not show on
//! demand (error classes, malformed and late replies, timeouts, IPv6 EPRT), each a small
//! conversation checked from both ends. They mirror what CPython's `test_ftplib` checks with
//! its dummy server. Cases every driver shares (every ABOR answer, active-mode fallbacks, port
//! theft) are in the conformance table (`conformance/peer.rs`).

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv6Addr, TcpStream};
use std::time::{Duration, Instant};

use ftp_blocking::{Config, ErrorKind, Ftp};

mod blocking_common;
use blocking_common::{accept, capture_log, init_logger, read_all, Ctl, Peer};

fn config() -> Config {
    Config {
        auto_feat: false,
        reply_timeout: Some(Duration::from_secs(5)),
        data_timeout: Some(Duration::from_secs(5)),
        ..Config::default()
    }
}

fn client(peer: &Peer) -> Ftp {
    init_logger();
    let mut ftp = Ftp::connect_with(peer.addr, config(), Some(Duration::from_secs(5))).unwrap();
    ftp.set_debuglevel(2);
    ftp
}

/// `retrbinary` of `cmd` into a vector (the transfer must succeed).
fn retr(ftp: &mut Ftp, cmd: &str, rest: Option<u64>) -> Vec<u8> {
    let mut got = Vec::new();
    ftp.retrbinary(
        cmd,
        |b| {
            got.extend_from_slice(b);
            Ok(())
        },
        8192,
        rest,
    )
    .unwrap();
    got
}

/// The peer's side of a login and one passive transfer: `TYPE` (`I` or `A`), `EPSV`, `cmd`,
/// the data connection accepted, `preliminary` (the 150) sent. The data connection.
fn logged_in_transfer(c: &mut Ctl, type_: char, cmd: &str, preliminary: &str) -> TcpStream {
    c.login();
    c.answer(&format!("TYPE {type_}"), "200 Type set.");
    let l = c.epsv();
    c.expect(cmd);
    let s = accept(&l);
    c.reply(preliminary);
    s
}

fn logged_in(peer: &Peer) -> Ftp {
    let mut ftp = client(peer);
    ftp.login("", "").unwrap();
    ftp
}

// ---- greeting and login -------------------------------------------------------------------

#[test]
fn login_with_account_and_masked_password() {
    let peer = Peer::start(|c| {
        c.answer("USER alice", "331 Password required.");
        c.answer("PASS s3cr3t", "332 Need account.");
        c.answer("ACCT billing", "230 Logged in.");
        c.answer("QUIT", "221 Bye.");
    });
    let mut ftp = client(&peer);
    let (reply, log) = capture_log(|| ftp.login_acct("alice", "s3cr3t", Some("billing")));
    assert_eq!(reply.unwrap().code().get(), 230);
    let all = log.join("\n");
    assert!(all.contains("*put* USER alice"), "{all}");
    assert!(all.contains("*put* PASS ********"), "{all}");
    assert!(all.contains("*put* ACCT ********"), "{all}");
    assert!(!all.contains("s3cr3t") && !all.contains("billing"), "{all}");
    assert!(all.contains("*get* 332 Need account."), "{all}");
    // level 1: one line per request and per reply
    ftp.set_debuglevel(1);
    let (_, log) = capture_log(|| ftp.quit().unwrap());
    assert_eq!(log, ["*cmd* QUIT", "*resp* 221 Bye."]);
    peer.join();
}

#[test]
fn debuglevel_zero_logs_nothing() {
    let peer = Peer::start(|c| {
        c.login();
        c.answer("PWD", "257 \"/\" is cwd");
    });
    let mut ftp = client(&peer);
    ftp.set_debuglevel(0);
    let (_, log) = capture_log(|| {
        ftp.login("", "").unwrap();
        assert_eq!(ftp.pwd().unwrap(), "/");
    });
    assert!(log.is_empty(), "{log:?}");
    peer.join();
}

// ---- sendcmd / voidcmd error classes (ftplib's error_reply, error_temp, error_perm, error_proto)

/// `sendcmd`'s reply classes are the conformance scenario `raw_command_reply_classes`; this is
/// what `voidcmd` adds: only a `2xx` is a success.
#[test]
fn voidcmd_error_classes() {
    let peer = Peer::start(|c| {
        c.answer("SITE PERM", "550 Never.");
        c.answer("SITE INTER", "350 Go on.");
        c.answer("SITE PRELIM", "150 Working...");
        c.reply("200 Done at last.");
        c.answer("NOOP", "200 OK");
    });
    let mut ftp = client(&peer);
    let e = ftp.voidcmd("SITE PERM").unwrap_err();
    assert_eq!((e.kind(), e.code()), (ErrorKind::Permanent, Some(550)));
    let e = ftp.voidcmd("SITE INTER").unwrap_err();
    assert_eq!((e.kind(), e.code()), (ErrorKind::Reply, Some(350)));
    // a 1xx is skipped: the final reply is what counts
    assert_eq!(
        ftp.voidcmd("SITE PRELIM").unwrap().to_string(),
        "200 Done at last."
    );
    ftp.voidcmd("NOOP").unwrap();
    peer.join();
}

// ---- timeouts -------------------------------------------------------------------------------

#[test]
fn greeting_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let t = Instant::now();
    let e = Ftp::connect_timeout(addr, Duration::from_millis(300)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(t.elapsed() < Duration::from_secs(3));
    drop(listener);
}

/// A refused connect is the conformance scenario `connect_refused_is_io`; through ftplib's
/// `connect(host, port)` it leaves the client closed.
#[test]
fn connect_host_refused_leaves_the_client_closed() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut ftp = Ftp::new();
    let e = ftp.connect_host("127.0.0.1", Some(port)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert_eq!(
        e.io_error().map(|e| e.kind()),
        Some(std::io::ErrorKind::ConnectionRefused)
    );
    assert_eq!(ftp.noop().unwrap_err().kind(), ErrorKind::Closed);
}

// ---- transfers -------------------------------------------------------------------------------

#[test]
fn storlines_converts_line_ends_on_the_wire() {
    let peer = Peer::start(|c| {
        let s = logged_in_transfer(c, 'A', "STOR t.txt", "150 ok");
        assert_eq!(read_all(s), b"one\r\ntwo\r\nthree\r\nlast");
        c.reply("226 ok");
    });
    let mut ftp = logged_in(&peer);
    ftp.storlines("STOR t.txt", &b"one\ntwo\r\nthree\nlast"[..])
        .unwrap();
    peer.join();
}

#[test]
fn ntransfercmd_reports_the_announced_size() {
    let peer = Peer::start(|c| {
        let mut s = logged_in_transfer(
            c,
            'I',
            "RETR f",
            "150 Opening BINARY mode data connection for f (5 bytes).",
        );
        s.write_all(b"12345").unwrap();
        drop(s);
        c.reply("226 Transfer complete.");
    });
    let mut ftp = logged_in(&peer);
    let (mut data, size) = ftp.ntransfercmd("RETR f", None).unwrap();
    assert_eq!(size, Some(5));
    let mut v = Vec::new();
    data.read_to_end(&mut v).unwrap();
    assert_eq!(v, b"12345");
    assert_eq!(data.finish().unwrap().code().get(), 226);
    peer.join();
}

#[test]
fn overlong_line_is_a_protocol_error_with_bounded_memory() {
    let peer = Peer::start(|c| {
        let mut s = logged_in_transfer(c, 'A', "LIST", "150 ok");
        // 1 MiB without a line end; the client stops reading long before
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..16 {
            if s.write_all(&chunk).is_err() {
                break;
            }
        }
        drop(s);
        // whatever the client says next (ABOR), answer it
        if let Some(line) = c.line() {
            assert_eq!(line, "ABOR");
            c.reply("426 aborted");
            c.reply("226 ABOR ok");
        }
        c.answer("NOOP", "200 OK");
    });
    let mut ftp = logged_in(&peer);
    let e = ftp.dir(None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    ftp.noop().unwrap();
    peer.join();
}

// ---- ABOR after a failing callback ----------------------------------------------------------
//
// Every answer to ABOR is in the conformance table (`conformance/peer.rs`); this case is there
// too (`failing_sink_sends_abor`), pending until ftp-mio sends ABOR as well (issue 13, item 5).

#[test]
fn callback_error_aborts_the_transfer() {
    let peer = Peer::start(|c| {
        let mut s = logged_in_transfer(c, 'I', "RETR f", "150 ok");
        let _ = s.write_all(&[5u8; 4096]);
        c.expect("ABOR");
        drop(s);
        c.reply("426 aborted");
        c.reply("226 ABOR ok");
        c.answer("NOOP", "200 OK");
    });
    let mut ftp = logged_in(&peer);
    let e = ftp
        .retrbinary(
            "RETR f",
            |_| Err(std::io::Error::other("no space left")),
            8192,
            None,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    assert!(e.to_string().contains("no space left"), "{e}");
    ftp.noop().unwrap();
    peer.join();
}

// ---- IPv6 ------------------------------------------------------------------------------------

#[test]
fn ipv6_epsv_and_eprt() {
    let peer = Peer::start_on(IpAddr::V6(Ipv6Addr::LOCALHOST), "220 six\r\n", |c| {
        c.login();
        c.answer("TYPE I", "200 Binary.");
        // passive: EPSV, the client connects to the control peer's address
        let l = c.epsv();
        assert!(l.local_addr().unwrap().is_ipv6());
        c.expect("RETR p");
        let mut s = accept(&l);
        c.reply("150 ok");
        s.write_all(b"passive six").unwrap();
        drop(s);
        c.reply("226 ok");
        // active: EPRT with the client's IPv6 address
        let eprt = c.line().unwrap();
        let port: u16 = eprt
            .strip_prefix("EPRT |2|::1|")
            .and_then(|r| r.strip_suffix('|'))
            .unwrap_or_else(|| panic!("{eprt}"))
            .parse()
            .unwrap();
        c.reply("200 EPRT ok");
        c.expect("RETR a");
        let mut s = TcpStream::connect((Ipv6Addr::LOCALHOST, port)).unwrap();
        c.reply("150 ok");
        s.write_all(b"active six").unwrap();
        drop(s);
        c.reply("226 ok");
    });
    let mut ftp = logged_in(&peer);
    assert!(ftp.local_addr().unwrap().is_ipv6());
    assert_eq!(retr(&mut ftp, "RETR p", None), b"passive six");
    ftp.set_pasv(false);
    assert_eq!(retr(&mut ftp, "RETR a", None), b"active six");
    peer.join();
}

#[test]
fn connect_host_with_default_port_and_ipv6_literal() {
    let peer = Peer::start_on(IpAddr::V6(Ipv6Addr::LOCALHOST), "220 six\r\n", |c| {
        c.answer("QUIT", "221 bye")
    });
    let mut ftp = Ftp::new();
    let welcome = ftp.connect_host("[::1]", Some(peer.addr.port())).unwrap();
    assert_eq!(welcome.to_string(), "220 six");
    assert_eq!(ftp.peer_addr().unwrap(), peer.addr);
    ftp.quit().unwrap();
    peer.join();
    assert_eq!(ftp_blocking::DEFAULT_PORT, 21);
}

// ---- ftp-blocking's own halves of conformance scenarios -----------------------------------
//
// The shared cases run for every driver in `conformance/`; these check the same scripts
// through entry points only ftp-blocking has.

/// The conformance scenario `data_closed_early_with_announced_size`, through
/// `transfercmd` + `DataStream::finish`: the stream knows the announced size, and finishing a
/// short stream is a truncation, never a success.
#[test]
fn truncated_download_through_a_data_stream() {
    use ftp_sansio::session::OpError;
    use ftp_tests::fault::{reply, well_behaved, Action, FaultServer};
    let data = vec![7u8; 100_000];
    let mut retr = reply("150 Opening BINARY mode data connection for f (100000 bytes).");
    retr.push(Action::DataSend(data[..40_000].to_vec()));
    retr.push(Action::DataClose);
    retr.extend(reply("226 Transfer complete."));
    let server = FaultServer::start(well_behaved().on("RETR", retr));
    let mut ftp = Ftp::connect_with(server.addr(), config(), Some(Duration::from_secs(5))).unwrap();
    ftp.login("u", "p").unwrap();
    let mut stream = ftp.transfercmd("RETR f", None).unwrap();
    assert_eq!(stream.expected_size(), Some(100_000));
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf);
    assert_eq!(buf.len(), 40_000);
    let e = stream.finish().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
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
    assert_eq!(ftp.noop().unwrap().code().get(), 200);
}

/// The conformance scenario `caller_names_with_crlf_nul_refused` covers the calls every
/// driver has; these are ftp-blocking's other entry points taking a name or command.
#[test]
fn blocking_only_entry_points_refuse_crlf_and_nul_before_sending() {
    use ftp_tests::fault::{well_behaved, FaultServer};
    let server = FaultServer::start(well_behaved());
    let mut ftp = Ftp::connect_with(server.addr(), config(), Some(Duration::from_secs(5))).unwrap();
    ftp.login("u", "p").unwrap();
    let before = server.commands().len();
    type Call = fn(&mut Ftp, &str) -> Result<(), ftp_blocking::Error>;
    let calls: Vec<(&str, Call)> = vec![
        ("voidcmd", |f, n| f.voidcmd(&format!("NOOP {n}")).map(drop)),
        ("dir", |f, n| f.dir(Some(n)).map(drop)),
        ("retrlines", |f, n| {
            f.retrlines(&format!("RETR {n}"), |_| Ok(())).map(drop)
        }),
        ("transfercmd", |f, n| {
            f.transfercmd(&format!("RETR {n}"), None).map(drop)
        }),
        ("retr_reader", |f, n| f.retr_reader(n, None).map(drop)),
        ("stor_writer", |f, n| f.stor_writer(n).map(drop)),
        ("appe_writer", |f, n| f.appe_writer(n).map(drop)),
        ("login_acct", |f, n| {
            f.login_acct("u", "p", Some(n)).map(drop)
        }),
    ];
    for (name, call) in calls {
        for bad in ["a\r\nDELE important", "a\nb", "a\rb", "nul\0byte"] {
            let e = call(&mut ftp, bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{name}({bad:?}): {e:?}");
            assert!(!e.is_fatal(), "{name}");
        }
    }
    assert_eq!(
        server.commands().len(),
        before,
        "sent {:?}",
        &server.commands()[before..]
    );
    assert_eq!(ftp.noop().unwrap().code().get(), 200);
}
