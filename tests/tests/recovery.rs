//! Both drivers answer the same failure with the same [`Recovery`] (`ftp_sansio::retry`
//! decides; `ftp_blocking::Error::recovery` and `ftp_mio::Error::recovery` only map their own
//! errors onto it). Each case is a scripted server (or a closed port) and the recovery both
//! drivers must report.
//!
//! | failure | recovery |
//! |---|---|
//! | connect refused | `Reconnect` |
//! | greeting `421` | `Reconnect` |
//! | `PASS` answered `530` | `GiveUp` |
//! | `RETR` answered `550` | `GiveUp` |
//! | `RETR` answered `450` | `Retry` |
//! | `RETR` answered `421` | `Reconnect` |
//! | control connection closed instead of an answer to `RETR` | `Reconnect` |
//! | no answer to `RETR` within the reply timeout | `Reconnect` |
//! | download shorter than its `150` announced | `Retry` |
//! | data, then `426` | `Retry` |
//! | `REST 5` answered `502` | `GiveUp`, and a refusal of `REST` |

#[path = "hostile_common/mod.rs"]
mod hostile_common;
#[path = "mio_common/mod.rs"]
mod mio_common;

use std::time::Duration;

use ftp_sansio::retry::Recovery;
use ftp_sansio::session::Config;
use ftp_tests::fault::{disconnect, hang, reply, well_behaved, Action, FaultServer, Script};
use mio_common::Loop;

/// The reply timeout of the cases (only the `hang` case waits for it).
const TIMEOUT: Duration = Duration::from_secs(2);

/// What one driver reported: the recovery and whether it is a refusal of `REST`.
type Verdict = (Recovery, bool);

/// `RETR f` (from `rest` when given) with ftp-blocking; the failure's verdict.
fn blocking(server: &FaultServer, rest: Option<u64>) -> Verdict {
    let mut ftp = match ftp_blocking::Ftp::connect(server.addr()) {
        Ok(f) => f,
        Err(e) => return (e.recovery(), e.is_rest_refusal()),
    };
    ftp.set_timeout(Some(TIMEOUT));
    if let Err(e) = ftp.login("user", "pass") {
        return (e.recovery(), e.is_rest_refusal());
    }
    match ftp.retrbinary("RETR f", |_| Ok(()), 8192, rest) {
        Ok(r) => panic!("RETR succeeded: {r}"),
        Err(e) => (e.recovery(), e.is_rest_refusal()),
    }
}

/// The same with ftp-mio.
fn mio(server: &FaultServer, rest: Option<u64>) -> Verdict {
    let mut l = Loop::new(1);
    let config = Config {
        reply_timeout: Some(TIMEOUT),
        data_timeout: Some(TIMEOUT),
        ..Config::default()
    };
    let (s, greeting) = match l.ftp.connect(server.addr(), config) {
        Ok(c) => c,
        Err(e) => return (e.recovery(), e.is_rest_refusal()),
    };
    let login = l.ftp.login(s, "user", "pass").unwrap();
    let get = l
        .ftp
        .retrieve_from(s, "f", rest.unwrap_or(0), std::io::sink())
        .unwrap();
    // the first failure in the session's order is the one that counts
    for done in l.wait_all(&[greeting, login, get]) {
        if let Err(e) = done.result {
            return (e.recovery(), e.is_rest_refusal());
        }
    }
    panic!("nothing failed");
}

/// Both drivers against a fresh server running `script` each.
fn case(name: &str, script: impl Fn() -> Script, rest: Option<u64>, want: Verdict) {
    let got = blocking(&FaultServer::start(script()), rest);
    assert_eq!(got, want, "{name}: ftp-blocking");
    let got = mio(&FaultServer::start(script()), rest);
    assert_eq!(got, want, "{name}: ftp-mio");
}

/// `150` announcing 10 bytes, `data`, the data connection closed, then `final_reply`.
fn transfer(data: &[u8], final_reply: &str) -> Vec<Action> {
    let mut v = reply("150 Opening BINARY mode data connection for f (10 bytes).");
    v.push(Action::DataSend(data.to_vec()));
    v.push(Action::DataClose);
    v.extend(reply(final_reply));
    v
}

#[test]
fn replies_to_retr() {
    use Recovery::*;
    case(
        "550",
        || well_behaved().on("RETR", reply("550 No such file.")),
        None,
        (GiveUp, false),
    );
    case(
        "450",
        || well_behaved().on("RETR", reply("450 File busy.")),
        None,
        (Retry, false),
    );
    case(
        "421",
        || well_behaved().on("RETR", reply("421 Timeout.")),
        None,
        (Reconnect, false),
    );
    case(
        "REST refused",
        || well_behaved().on("REST", reply("502 REST not implemented.")),
        Some(5),
        (GiveUp, true),
    );
}

#[test]
fn lost_control_connection() {
    use Recovery::*;
    case(
        "closed",
        || well_behaved().on("RETR", disconnect()),
        None,
        (Reconnect, false),
    );
    case(
        "no reply",
        || well_behaved().on("RETR", hang()),
        None,
        (Reconnect, false),
    );
}

#[test]
fn broken_downloads() {
    use Recovery::*;
    case(
        "truncated",
        || well_behaved().on("RETR", transfer(b"0123", "226 Done.")),
        None,
        (Retry, false),
    );
    case(
        "426",
        || {
            well_behaved().on(
                "RETR",
                transfer(b"0123", "426 Connection closed; transfer aborted."),
            )
        },
        None,
        (Retry, false),
    );
}

#[test]
fn connect_and_login() {
    use Recovery::*;
    case(
        "greeting 421",
        || well_behaved().greet("421 Too many users, try later."),
        None,
        (Reconnect, false),
    );
    case(
        "530",
        || well_behaved().on("PASS", reply("530 Login incorrect.")),
        None,
        (GiveUp, false),
    );
    if let Some(port) = hostile_common::closed_privileged_port() {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let e = ftp_blocking::Ftp::connect(addr).unwrap_err();
        assert_eq!(e.recovery(), Reconnect, "{e}");
        assert!(e.is_fatal(), "{e}");
        let mut l = Loop::new(1);
        let err = match l.ftp.connect(addr, Config::default()) {
            Err(e) => e,
            Ok((_, greeting)) => l.wait(greeting).result.unwrap_err(),
        };
        assert_eq!(err.recovery(), Reconnect, "{err}");
    }
}
