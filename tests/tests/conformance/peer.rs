//! Scripted peers: conversations a real server will not show on demand, checked from both
//! ends (the verdict, and what the fault server received). Formerly ftp-blocking's alone
//! (`blocking_peer.rs`: every `ABOR` answer, active-mode fallbacks, port theft) or written
//! twice (port theft, also in `mio_local.rs`).

use std::net::IpAddr;

use ftp_tests::fault::{reply, well_behaved, Action, FaultServer};

use crate::driver::{Class, Client, Cmd, Driver};
use crate::hostile::{setup, setup_with};
use crate::hostile_common::pattern;

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
    let f = c.put("up", b"secret upload").err(Class::Timeout);
    assert!(!f.fatal, "{f:?}");
    assert_eq!(
        f.timeout(),
        Some(ftp_sansio::session::TimeoutKind::Data),
        "{f:?}"
    );
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
