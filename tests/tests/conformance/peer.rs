//! Scripted peers: conversations a real server will not show on demand, checked from both
//! ends (the verdict, and what the fault server received). Formerly ftp-blocking's alone
//! (`blocking_peer.rs`: every `ABOR` answer, active-mode fallbacks, port theft) or written
//! twice (port theft, also in `mio_local.rs`).

use std::net::IpAddr;
use std::time::Duration;

use ftp_tests::fault::{disconnect, reply, sleep, well_behaved, Action, FaultServer, Script};

use crate::driver::{Class, Client, Cmd, Download, Driver, ListKind, Upload, Verdict};
use crate::hostile::{setup, setup_with};
use crate::hostile_common::{pattern, BOUND};

/// The last `n` verbs the server received.
fn last_verbs(server: &FaultServer, n: usize) -> Vec<String> {
    let v = server.verbs();
    v[v.len().saturating_sub(n)..].to_vec()
}

// ---------------------------------------------------------------------------------------
// ABOR: every answer combination servers use
// ---------------------------------------------------------------------------------------

/// A download the client aborts after the first 1000 bytes; `after_abor` is the server's
/// side once `ABOR` arrived (the data connection closed first), `noop` the answer to a
/// resynchronising `NOOP` if one is expected. Afterwards `PWD` gets `PWD`'s reply: the
/// session is in step.
fn abort_with<D: Driver>(after_abor: &str, noop: Option<&str>) {
    let mut retr = reply("150 Opening BINARY mode data connection for big.");
    retr.push(Action::DataSend(vec![0u8; 1000]));
    let mut abor = vec![Action::DataClose];
    abor.extend(reply(after_abor));
    let mut script = well_behaved().on("RETR", retr).on("ABOR", abor);
    if let Some(noop) = noop {
        script = script.once("NOOP", reply(noop));
    }
    let server = FaultServer::start(script);
    let mut c = Client::<D>::logged_in(server.addr(), &setup());
    let ok = c.abort_download("big", 1000).ok();
    assert!(matches!(ok.code(), 225 | 226), "{ok:?}");
    assert_eq!(c.cmd(Cmd::Pwd).ok().path.as_deref(), Some("/"));
    let mut expected = vec!["RETR", "ABOR"];
    if noop.is_some() {
        expected.push("NOOP");
    }
    expected.push("PWD");
    assert_eq!(last_verbs(&server, expected.len()), expected);
}

pub fn abort_426_then_226<D: Driver>() {
    abort_with::<D>("426 Transfer aborted.\n226 Abort successful.", None);
}

/// The transfer's own 226/426 was not seen: `NOOP` makes sure a late one is not read as
/// `PWD`'s reply.
pub fn abort_225_before_the_transfers_reply_is_resynchronised_with_noop<D: Driver>() {
    abort_with::<D>("225 ABOR command successful.", Some("200 NOOP ok."));
}

pub fn abort_225_then_the_transfers_late_426<D: Driver>() {
    abort_with::<D>(
        "225 ABOR command successful.",
        Some("426 Connection closed; transfer aborted.\n200 NOOP ok."),
    );
}

pub fn abort_226_alone_is_resynchronised_with_noop<D: Driver>() {
    abort_with::<D>("226 Abort successful.", Some("200 NOOP ok."));
}

pub fn abort_226_of_the_transfer_then_226_of_abor<D: Driver>() {
    abort_with::<D>("226 Transfer complete.", Some("226 ABOR ok.\n200 NOOP ok."));
}

pub fn idle_abort<D: Driver>() {
    let server = FaultServer::start(well_behaved().on("ABOR", reply("225 No transfer to abort.")));
    let mut c = Client::<D>::open(server.addr(), &setup());
    assert_eq!(c.abort_idle().ok().code(), 225);
    c.assert_usable();
}

// ---------------------------------------------------------------------------------------
// Active mode
// ---------------------------------------------------------------------------------------

pub fn active_mode_eprt_falls_back_to_port<D: Driver>() {
    let server = FaultServer::start(
        well_behaved()
            .on("EPRT", reply("500 EPRT not understood."))
            .on("RETR", ftp_tests::fault::download(b"active!")),
    );
    let mut c = Client::<D>::logged_in(server.addr(), &setup_with(|c| c.passive = false));
    let (v, got) = c.get("a");
    assert_eq!(v.ok().code(), 226);
    assert_eq!(got, b"active!");
    let commands = server.commands();
    let eprt = commands
        .iter()
        .position(|c| c.starts_with("EPRT |1|127.0.0.1|"));
    let port = commands
        .iter()
        .position(|c| c.starts_with("PORT 127,0,0,1,"));
    assert!(
        matches!((eprt, port), (Some(e), Some(p)) if e < p),
        "{commands:?}"
    );
    // remembered for the session: the next transfer goes to PORT directly
    c.get("a").0.ok();
    assert_eq!(server.verbs().iter().filter(|v| *v == "EPRT").count(), 1);
}

/// The server refuses to connect with `425`: a temporary failure, the session goes on.
pub fn active_mode_425_is_a_temporary_failure<D: Driver>() {
    let server =
        FaultServer::start(well_behaved().on("RETR", reply("425 Can't open data connection.")));
    let mut c = Client::<D>::logged_in(server.addr(), &setup_with(|c| c.passive = false));
    let f = c.get("a").0.err_code(Class::Temporary, 425);
    assert!(!f.fatal);
    assert!(server.verbs().contains(&"EPRT".to_string()));
    c.assert_usable();
}

fn thief() -> IpAddr {
    IpAddr::from([127, 0, 0, 2])
}

/// Port theft (RFC 2577 §8): a third party connects to the client's listener before the
/// server does. The client closes it unread and unwritten, keeps accepting, and takes only
/// the server's data.
pub fn active_mode_drops_a_data_connection_from_another_host<D: Driver>() {
    let mut retr = vec![Action::ForeignConnect { from: thief() }];
    retr.extend(reply("150 Connecting."));
    retr.push(Action::ForeignClosed);
    retr.push(Action::DataSend(b"active!".to_vec()));
    retr.push(Action::DataClose);
    retr.extend(reply("226 ok"));
    let server = FaultServer::start(well_behaved().on("RETR", retr));
    let mut c = Client::<D>::logged_in(server.addr(), &setup_with(|c| c.passive = false));
    let (v, got) = c.get("a");
    assert_eq!(
        server.foreign_closed(),
        [true],
        "the thief's connection was kept"
    );
    assert_eq!(v.ok().code(), 226);
    assert_eq!(got, b"active!");
}

/// Only the thief connects, to an upload: the client never sends the upload there, and the
/// transfer ends with the data timeout, the session still usable.
pub fn active_mode_only_a_foreign_connection_is_a_data_timeout<D: Driver>() {
    let mut stor = vec![Action::ForeignConnect { from: thief() }];
    stor.extend(reply("150 Ok to send data."));
    stor.push(Action::ForeignClosed);
    let server = FaultServer::start(well_behaved().on("STOR", stor).on(
        "ABOR",
        reply("426 Transfer aborted.\n226 Abort successful."),
    ));
    let mut c = Client::<D>::logged_in(server.addr(), &setup_with(|c| c.passive = false));
    c.put("up", b"secret upload").data_timeout();
    assert_eq!(
        server.foreign_closed(),
        [true],
        "the upload went to the thief"
    );
    assert_eq!(server.data_connections(), 0);
    c.assert_usable();
}

/// `EPSV` refused with `500`: `PASV` for this transfer and the rest of the session.
pub fn epsv_refused_falls_back_to_pasv_for_the_session<D: Driver>() {
    let server = FaultServer::start(
        well_behaved()
            .on("EPSV", reply("500 EPSV not understood."))
            .on("RETR", ftp_tests::fault::download(&pattern(3000))),
    );
    let mut c = Client::<D>::logged_in(server.addr(), &setup());
    for _ in 0..2 {
        let (v, got) = c.get("f");
        assert_eq!(v.ok().code(), 226);
        assert_eq!(got, pattern(3000));
    }
    let verbs: Vec<String> = server
        .verbs()
        .into_iter()
        .filter(|v| matches!(v.as_str(), "EPSV" | "PASV" | "RETR"))
        .collect();
    assert_eq!(verbs, ["EPSV", "PASV", "RETR", "PASV", "RETR"]);
}

/// A server that greets with `120` first, then `220`: one greeting, in step afterwards.
pub fn greeting_after_120_is_one_greeting<D: Driver>() {
    let server =
        FaultServer::start(well_behaved().greet_with(reply("120 Ready in a moment.\n220 Ready.")));
    let (mut c, v) = Client::<D>::connect(server.addr(), &setup());
    assert_eq!(v.ok().code(), 220);
    c.login("u", "p").ok();
    c.assert_usable();
}

// ---------------------------------------------------------------------------------------
// Greeting, login, replies
// ---------------------------------------------------------------------------------------

pub fn multi_line_welcome<D: Driver>() {
    let server = FaultServer::start(
        well_behaved().greet("220-Welcome to the\n220-scripted peer\n220 ready."),
    );
    let (mut c, v) = Client::<D>::connect(server.addr(), &setup());
    let greeting = v.ok().reply.expect("the greeting");
    assert_eq!(
        greeting.text(),
        "220-Welcome to the\n220-scripted peer\n220 ready."
    );
    assert_eq!(c.d.welcome().map(|w| w.text()), Some(greeting.text()));
    assert_eq!(
        c.quit().ok().reply.map(|r| r.text()).as_deref(),
        Some("221 Goodbye.")
    );
    assert_eq!(server.verbs(), ["QUIT"]);
    c.assert_closed();
}

/// A `421` greeting (the server stays connected): a temporary failure that ends the session.
pub fn refused_greeting_is_an_error<D: Driver>() {
    let server = FaultServer::start(Script::new().greet("421 Too many users, try later."));
    let (mut c, v) = Client::<D>::connect(server.addr(), &setup());
    let f = v.err_code(Class::Temporary, 421);
    assert!(f.fatal);
    c.assert_closed();
}

pub fn wrong_password_is_permanent_and_session_goes_on<D: Driver>() {
    let server = FaultServer::start(well_behaved().once("PASS", reply("530 Login incorrect.")));
    let mut c = Client::<D>::open(server.addr(), &setup());
    let f = c.login("bob", "nope").err_code(Class::Permanent, 530);
    assert!(!f.fatal);
    c.login("bob", "right").ok();
    assert_eq!(
        server.commands(),
        ["USER bob", "PASS nope", "USER bob", "PASS right"]
    );
}

/// A raw command's final reply decides: `4xx` and `5xx` are errors of their class, a `3xx` is
/// a success (ftplib's `sendcmd`), a `1xx` is skipped, a multi-line reply comes whole.
pub fn raw_command_reply_classes<D: Driver>() {
    let server = FaultServer::start(
        well_behaved()
            .on_arg("SITE", b"TEMP", reply("450 Try again later."))
            .on_arg("SITE", b"PERM", reply("550 Never."))
            .on_arg("SITE", b"INTER", reply("350 Go on."))
            .on_arg(
                "SITE",
                b"PRELIM",
                reply("150 Working...\n200 Done at last."),
            )
            .on_arg("SITE", b"MULTI", reply("200-first\n200-second\n200 last")),
    );
    let mut c = Client::<D>::open(server.addr(), &setup());
    assert!(
        !c.cmd(Cmd::Raw("SITE TEMP"))
            .err_code(Class::Temporary, 450)
            .fatal
    );
    assert!(
        !c.cmd(Cmd::Raw("SITE PERM"))
            .err_code(Class::Permanent, 550)
            .fatal
    );
    assert_eq!(c.cmd(Cmd::Raw("SITE INTER")).ok().code(), 350);
    let text = |v: Verdict| v.ok().reply.expect("a reply").text();
    assert_eq!(text(c.cmd(Cmd::Raw("SITE PRELIM"))), "200 Done at last.");
    assert_eq!(
        text(c.cmd(Cmd::Raw("SITE MULTI"))),
        "200-first\n200-second\n200 last"
    );
    c.assert_usable();
}

/// A reply whose payload cannot be decoded (`257` without quotes, `213` without a number) is
/// a protocol error of that command only: the reply stream is in step.
pub fn undecodable_payload_is_a_protocol_error_but_not_fatal<D: Driver>() {
    let server = FaultServer::start(
        well_behaved()
            .on("PWD", reply("257 no quotes here"))
            .on("SIZE", reply("213 twelve")),
    );
    let mut c = Client::<D>::open(server.addr(), &setup());
    assert!(!c.cmd(Cmd::Pwd).err(Class::Protocol).fatal);
    c.assert_usable();
    assert!(!c.cmd(Cmd::Size("x")).err(Class::Protocol).fatal);
    c.assert_usable();
    // SIZE goes out in binary mode (servers refuse it in ASCII mode)
    let commands = server.commands();
    let size = commands
        .iter()
        .position(|c| c == "SIZE x")
        .expect("SIZE sent");
    assert_eq!(commands[size - 1], "TYPE I", "{commands:?}");
}

/// A `421` to a command: the session ends, and says so.
pub fn reply_421_to_a_command_closes_the_session<D: Driver>() {
    let server = FaultServer::start(well_behaved().on(
        "NOOP",
        [
            reply("421 Timeout, closing control connection."),
            disconnect(),
        ],
    ));
    let mut c = Client::<D>::open(server.addr(), &setup());
    let f = c.noop().err_code(Class::Temporary, 421);
    assert!(f.fatal);
    c.assert_closed();
}

/// A `421` (and the close) that arrives while the session is idle is noticed before the next
/// command is sent: that command fails as closed, not with the `421` as its reply.
pub fn idle_connection_closed_by_the_server_is_noticed_before_sending<D: Driver>() {
    let server = FaultServer::start(well_behaved().on(
        "NOOP",
        [
            reply("200 OK"),
            sleep(Duration::from_millis(100)),
            reply("421 Idle too long."),
            disconnect(),
        ],
    ));
    let mut c = Client::<D>::open(server.addr(), &setup());
    c.noop().ok();
    // the 421 and the close are on their way before the client's next request
    let start = std::time::Instant::now();
    while server.finished_connections() == 0 {
        assert!(start.elapsed() < BOUND, "the server never closed");
        std::thread::sleep(Duration::from_millis(10));
    }
    c.cmd(Cmd::Pwd).err(Class::Closed);
    assert_eq!(server.verbs(), ["NOOP"]);
}

pub fn connect_refused_is_io<D: Driver>() {
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let (mut c, v) = Client::<D>::connect(addr, &setup());
    let f = v.err(Class::Io);
    assert_eq!(f.io, Some(std::io::ErrorKind::ConnectionRefused), "{f:?}");
    c.assert_closed();
}

// ---------------------------------------------------------------------------------------
// Transfers
// ---------------------------------------------------------------------------------------

/// 100 of 1000 bytes, then nothing: the data timeout, `ABOR`, and the session in step.
pub fn stalled_download_times_out_and_aborts<D: Driver>() {
    let mut retr = reply("150 Opening data connection (1000 bytes).");
    retr.push(Action::DataSend(vec![7u8; 100]));
    let mut abor = vec![Action::DataClose];
    abor.extend(reply("426 Transfer aborted.\n226 Abort successful."));
    let server = FaultServer::start(
        well_behaved()
            .on("RETR", retr)
            .on("ABOR", abor)
            .on("NOOP", reply("200 Still here.")),
    );
    let mut c = Client::<D>::logged_in(server.addr(), &setup());
    let (v, got) = c.get("slow.bin");
    v.data_timeout();
    assert_eq!(got, [7u8; 100]);
    assert!(server.verbs().contains(&"ABOR".to_string()));
    let noop = c.noop().ok().reply.expect("NOOP's reply");
    assert_eq!(noop.text(), "200 Still here.");
}

/// `TYPE` goes out only when the representation changes; a binary download is `EPSV` +
/// `RETR` and nothing else.
pub fn type_is_sent_once_per_session_and_transfers_are_epsv_plus_retr<D: Driver>() {
    const FILES: usize = 20;
    let server = FaultServer::start(
        well_behaved()
            .on("RETR", ftp_tests::fault::download(b"file"))
            .on("NLST", ftp_tests::fault::listing(&[b"a", b"b"]))
            .on(
                "LIST",
                ftp_tests::fault::listing(&[b"-rw-r--r-- 1 a b 1 Jan 1 2024 x"]),
            ),
    );
    let mut c = Client::<D>::logged_in(server.addr(), &setup());
    let mut expected = vec!["TYPE I".to_string()];
    for i in 0..FILES {
        let name = format!("f{i}");
        let (v, got) = c.get(&name);
        v.ok();
        assert_eq!(got, b"file");
        expected.extend(["EPSV".to_string(), format!("RETR {name}")]);
    }
    let (v, names) = c.listing(ListKind::Nlst, None);
    v.ok();
    assert_eq!(names, [b"a".to_vec(), b"b".to_vec()]);
    let (v, names) = c.listing(ListKind::List, None);
    v.ok();
    assert_eq!(names, [b"x".to_vec()]);
    c.get("last").0.ok();
    expected.extend(
        [
            "TYPE A",
            "EPSV",
            "NLST",
            "EPSV",
            "LIST",
            "TYPE I",
            "EPSV",
            "RETR last",
        ]
        .map(String::from),
    );
    assert_eq!(server.commands()[2..], expected[..]);
}

pub fn rest_is_sent_before_retr_and_stor<D: Driver>() {
    let mut retr = reply("150 ok");
    retr.push(Action::DataSendFile {
        data: std::sync::Arc::new(b"0123456789".to_vec()),
        end: usize::MAX,
    });
    retr.push(Action::DataClose);
    retr.extend(reply("226 ok"));
    let server = FaultServer::start(
        well_behaved()
            .on("RETR", retr)
            .on("STOR", ftp_tests::fault::upload()),
    );
    let mut c = Client::<D>::logged_in(server.addr(), &setup());
    let (v, got) = c.download(Download {
        path: "f",
        rest: Some(5),
        ..Download::default()
    });
    assert_eq!(v.ok().code(), 226);
    assert_eq!(got, b"56789");
    let v = c.upload(Upload {
        path: "g",
        data: b"defgh",
        rest: Some(3),
        ..Upload::default()
    });
    assert_eq!(v.ok().code(), 226);
    assert_eq!(server.uploads(), [b"defgh".to_vec()]);
    let commands = server.commands();
    for (rest, cmd) in [("REST 5", "RETR f"), ("REST 3", "STOR g")] {
        let at = commands.iter().position(|c| c == cmd).expect(cmd);
        assert_eq!(commands[at - 1], rest, "{commands:?}");
    }
}

/// Failures before any data moves and after some did, a `2xx` before the `150` (tolerated, as
/// ftplib does), and an empty listing.
pub fn transfer_errors_after_150_and_before<D: Driver>() {
    let mut broken = reply("150 ok");
    broken.push(Action::DataSend(b"part".to_vec()));
    broken.push(Action::DataClose);
    broken.extend(reply("426 Connection closed; transfer aborted."));
    let mut odd = reply("200 Fine.\n150 ok");
    odd.push(Action::DataSend(b"odd".to_vec()));
    odd.push(Action::DataClose);
    odd.extend(reply("226 ok"));
    let server = FaultServer::start(
        well_behaved()
            .on_arg("RETR", b"missing", reply("550 No such file."))
            .on_arg("RETR", b"broken", broken)
            .on_arg("RETR", b"odd", odd)
            .on("NLST", ftp_tests::fault::listing(&[])),
    );
    let mut c = Client::<D>::logged_in(server.addr(), &setup());
    let (v, got) = c.get("missing");
    assert!(!v.err_code(Class::Permanent, 550).fatal);
    assert!(got.is_empty());
    let (v, got) = c.get("broken");
    assert!(!v.err_code(Class::Temporary, 426).fatal);
    assert_eq!(got, b"part");
    let (v, got) = c.get("odd");
    assert_eq!(v.ok().code(), 226);
    assert_eq!(got, b"odd");
    let (v, names) = c.listing(ListKind::Nlst, Some("empty"));
    v.ok();
    assert!(names.is_empty());
}
