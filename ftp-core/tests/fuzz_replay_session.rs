//! Replays the seed corpus of the `session` fuzz target (`fuzz/corpus/session`) under stable
//! `cargo test`, through the very checks the target runs (`tests/session_fuzz`).
//!
//! The seeds are written here as readable [`Program`]s, each with the outcomes it must reach,
//! so the harness is known to get deep into the session (a login, a listing, a transfer, ...)
//! and not only to reject garbage. The files in `fuzz/corpus/session` must equal them:
//! `FTP_WRITE_SEEDS=1 cargo test -p ftp-sansio --test fuzz_replay_session` rewrites them. Every
//! other file in that folder (a regression input from a fuzz finding) is replayed as well.

#[path = "session_fuzz/mod.rs"]
mod session_fuzz;

use std::path::PathBuf;

use session_fuzz::{check_session_input, Program};

/// Flag bits of byte 0 (see `session_fuzz::Header`).
const CHAOS: u8 = 1;
const ACTIVE: u8 = 2;
const NO_EPSV: u8 = 4;
const TRUST_PASV: u8 = 8;
const AUTO_FEAT: u8 = 16;
const SMALL_LIMITS: u8 = 64;
/// `HOST` + `AUTO_FEAT`: `Config::pipeline_passive` (see `session_fuzz::Header`).
const PIPELINE: u8 = 48;
const IPV6: u8 = 128;

/// Greeting and login as the plan runs them (no FEAT).
fn logged_in(flags: u8) -> Program {
    Program::new(flags)
        .line("220 (vsFTPd 3.0.3)")
        .line("331 Please specify the password.")
        .line("230 Login successful.")
}

/// The seeds: name, program, the outcomes (`Summary::completed`) it must produce.
fn seeds() -> Vec<(&'static str, Program, Vec<&'static str>)> {
    let happy = &[
        "Greeting",
        "LoggedIn",
        "Transferred(10)",
        "Transferred(1234)",
    ][..];
    vec![
        (
            "00-happy-epsv",
            logged_in(0)
                .line("200 Switching to ASCII mode.")
                .line("229 Entering Extended Passive Mode (|||50000|)")
                .data(1, 0)
                .line("150 Here comes the directory listing.")
                .data(3, 10)
                .line("226 Directory send OK.")
                .line("200 Switching to Binary mode.")
                .line("229 Entering Extended Passive Mode (|||50001|)")
                .data(1, 0)
                .line("150 Opening BINARY mode data connection for file.bin (1234 bytes).")
                .data(2, 7)
                .data(3, 255)
                .line("226 Transfer complete.")
                .start(16, 0)
                .line("200 NOOP ok.")
                .start(18, 0)
                .line("221 Goodbye."),
            [happy, &["Done", "Closed"]].concat(),
        ),
        (
            "01-happy-pasv-fallback-226-first",
            logged_in(0)
                .line("200 Switching to ASCII mode.")
                .line("500 EPSV not understood")
                .line("227 Entering Passive Mode (10,0,0,9,195,80).")
                .data(1, 0)
                .line("150 Here comes the directory listing.\n226 Directory send OK.")
                .data(3, 10)
                .line("200 Switching to Binary mode.")
                .line("227 Entering Passive Mode (10,0,0,9,195,81).")
                .data(1, 0)
                .line("150 Opening BINARY mode data connection for file.bin (1234 bytes).")
                .line("226 Transfer complete.")
                .data(3, 255),
            happy.to_vec(),
        ),
        (
            "02-happy-active-eprt",
            logged_in(ACTIVE)
                .line("200 Switching to ASCII mode.")
                .data(2, 0)
                .line("200 EPRT command successful.")
                .line("150 Here comes the directory listing.")
                .data(0, 0)
                .data(3, 10)
                .line("226 Directory send OK.")
                .line("200 Switching to Binary mode.")
                .data(2, 1)
                .line("500 EPRT not understood")
                .line("200 PORT command successful.")
                .line("150 Opening BINARY mode data connection for file.bin (1234 bytes).")
                .data(3, 255)
                .line("226 Transfer complete."),
            happy.to_vec(),
        ),
        (
            "03-truncated-download",
            logged_in(0)
                .line("200 ok\n229 (|||50000|)")
                .data(1, 0)
                .line("150 ok")
                .data(3, 10)
                .line("226 ok")
                .line("200 ok\n229 (|||50000|)")
                .data(1, 0)
                .line("150 Opening BINARY mode data connection for file.bin (1234 bytes).")
                .data(3, 10)
                .line("226 Transfer complete."),
            vec![
                "Greeting",
                "LoggedIn",
                "Transferred(10)",
                "Err(transfer truncated: 10 of 1234 bytes)",
            ],
        ),
        (
            "04-426-after-data",
            logged_in(0)
                .line("200 ok\n229 (|||50000|)")
                .data(1, 0)
                .line("150 ok")
                .data(3, 10)
                .line("426 Connection closed; transfer aborted."),
            vec![
                "Greeting",
                "LoggedIn",
                "Err(temporary failure: 426 Connection closed; transfer aborted.)",
                // RETR: then the input ends, the reply deadline runs out
                "Err(timed out waiting for a reply)",
            ],
        ),
        (
            "05-421-mid-transfer",
            logged_in(0)
                .line("200 ok\n229 (|||50000|)")
                .data(1, 0)
                .line("150 ok")
                .data(2, 3)
                .line("421 Timeout."),
            vec!["Greeting", "LoggedIn", "Err(temporary failure: 421 Timeout.)"],
        ),
        (
            "06-eof-before-greeting",
            Program::new(0).eof(),
            vec!["Err(control connection closed by the server)"],
        ),
        (
            "07-eof-mid-reply",
            Program::new(0).bytes(b"220-Welcome\r\n220 rea").eof(),
            vec!["Err(protocol error: control connection closed in the middle of a reply)"],
        ),
        (
            "08-silent-server",
            Program::new(0).wait(200),
            vec!["Err(timed out waiting for a reply)"],
        ),
        (
            "09-silent-data-connection",
            logged_in(0)
                .line("200 ok\n229 (|||50000|)")
                .data(1, 0)
                .line("150 ok")
                .deadline()
                .line("426 aborted\n226 ABOR ok"),
            vec![
                "Greeting",
                "LoggedIn",
                "Err(timed out waiting for the data connection)",
                "Err(timed out waiting for a reply)",
            ],
        ),
        (
            "10-long-line-small-limits",
            Program::new(SMALL_LIMITS).bytes(&[b'2'; 600]),
            vec!["Err(protocol error: bad reply stream: reply line longer than 48 bytes)"],
        ),
        (
            "11-bytewise-greeting-and-garbage",
            Program::new(0)
                .canned_bytewise(1)
                .canned_bytewise(3)
                .bytes(b"23\xff0 \xfe\xc3(\r\n")
                .start(20, 3),
            vec!["Greeting", "Err(protocol error: bad reply stream: not an FTP reply: \"23\u{fffd}0 \u{fffd}\u{fffd}(\")"],
        ),
        (
            "12-pasv-third-host-and-bad-ports",
            logged_in(NO_EPSV)
                .line("200 ok\n227 Entering Passive Mode (192,168,1,1,0,0).")
                .line("200 ok\n227 Entering Passive Mode (8,8,8,8,0,21).")
                .data(1, 0)
                .data(0, 0),
            vec![
                "Greeting",
                "LoggedIn",
                "Err(protocol error: cannot decode reply 227: malformed PASV reply: port 0)",
                // RETR connected to the control peer (not 8.8.8.8), then silence
                "Err(timed out waiting for a reply)",
            ],
        ),
        (
            "13-abort-during-transfer",
            logged_in(0)
                .line("200 ok\n229 (|||50000|)")
                .data(1, 0)
                .line("150 ok")
                .abort()
                .line("426 aborted\n226 ABOR ok"),
            vec![
                "Greeting",
                "LoggedIn",
                "Aborted",
                "Err(timed out waiting for a reply)",
            ],
        ),
        (
            "14-auth-tls-injection",
            logged_in(AUTO_FEAT)
                .line("211-Features:\n UTF8\n211 End")
                .line("200 UTF8 on")
                .line("550 no TYPE A")
                .line("550 no TYPE I")
                .start(28, 0)
                .bytes(b"234 AUTH TLS OK.\r\n230 injected\r\n"),
            vec![
                "Greeting",
                "LoggedIn",
                "Err(permanent failure: 550 no TYPE A)",
                "Err(permanent failure: 550 no TYPE I)",
                "Err(protocol error: clear-text bytes after 234 to AUTH TLS)",
            ],
        ),
        (
            "15-bad-arguments-refused",
            Program::new(0)
                .line("220 hi")
                .start(3, 3)
                .start(20, 4)
                .start(1, 7)
                .start(19, 9)
                .eof(),
            vec!["Greeting", "Err(control connection closed by the server)"],
        ),
        (
            "16-chaos-data-events-ipv6",
            Program::new(CHAOS | IPV6 | TRUST_PASV)
                .canned(0)
                .canned(3)
                .canned(5)
                .canned(9)
                .canned(14)
                .data(0, 0)
                .data(3, 9)
                .data(4, 1)
                .canned(17)
                .data(4, 1)
                .canned(20)
                .back(200)
                .deadline(),
            vec![
                "Greeting",
                "LoggedIn",
                "Err(unexpected reply: 227 Entering Passive Mode (10,9,8,7,0,22).)",
                "Err(timed out waiting for a reply)",
            ],
        ),
        (
            "17-stalled-writes-multiline-never-closes",
            Program::new(0)
                .line("220 hi")
                .write(3)
                .line("550-never ends\n more")
                .wait(255)
                .wait(255),
            vec!["Greeting", "Err(timed out waiting for a reply)"],
        ),
        (
            // Fuzz finding: a reply during the CCC shutdown cleared the only deadline.
            "18-ccc-stray-reply-keeps-deadline",
            logged_in(0)
                .line("550 no TYPE A")
                .line("550 no TYPE I")
                .start(28, 0)
                .line("234 AUTH TLS OK.")
                .tls()
                .start(30, 0)
                .line("200 CCC ok")
                .line("200 stray"),
            vec![
                "Greeting",
                "LoggedIn",
                "Err(permanent failure: 550 no TYPE A)",
                "Err(permanent failure: 550 no TYPE I)",
                "Done",
                "Err(timed out waiting for the TLS handshake)",
            ],
        ),
        (
            // `Config::pipeline_passive` (flags AUTO_FEAT + HOST): an ASCII `RETR f` started
            // during the listing is announced; its EPSV goes out behind `LIST`, is answered
            // after the 226, and the RETR connects at once. Then the plan's binary RETR.
            "19-pipelined-epsv",
            Program::new(PIPELINE)
                .line("220 (vsFTPd 3.0.3)")
                .line("502 HOST not implemented")
                .line("331 Please specify the password.")
                .line("230 Login successful.")
                .line("211-Features:\n EPSV\n211 End")
                .line("200 Switching to ASCII mode.")
                .line("229 Entering Extended Passive Mode (|||50000|)")
                .start(20, 80)
                .data(1, 0)
                .line("150 Here comes the directory listing.")
                .data(3, 10)
                .line("226 Directory send OK.\n229 Entering Extended Passive Mode (|||50001|)")
                .data(1, 0)
                .line("150 Opening ASCII mode data connection for f (5 bytes).")
                .data(3, 5)
                .line("226 Transfer complete.")
                .line("200 Switching to Binary mode."),
            vec![
                "Greeting",
                "LoggedIn",
                "Transferred(10)",
                "Transferred(5)",
                "Err(timed out waiting for a reply)",
            ],
        ),
    ]
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/session")
}

#[test]
fn seeds_reach_their_outcomes() {
    let mut wrong = Vec::new();
    for (name, program, want) in seeds() {
        let summary = check_session_input(&program.into_bytes());
        if summary.completed != want {
            wrong.push(format!("{name}: got {:?}", summary.completed));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn seed_files_are_current() {
    let dir = corpus_dir();
    let write = std::env::var_os("FTP_WRITE_SEEDS").is_some();
    for (name, program, _) in seeds() {
        let bytes = program.into_bytes();
        let path = dir.join(name);
        if write {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        }
        let on_disk = std::fs::read(&path).unwrap_or_default();
        assert!(
            on_disk == bytes,
            "{} is stale: run FTP_WRITE_SEEDS=1 cargo test -p ftp-sansio --test fuzz_replay_session",
            path.display()
        );
    }
}

#[test]
fn every_corpus_file_passes() {
    let mut n = 0;
    for entry in std::fs::read_dir(corpus_dir()).expect("fuzz/corpus/session") {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let r = std::panic::catch_unwind(|| check_session_input(&data));
        assert!(r.is_ok(), "{} fails the session checks", path.display());
        n += 1;
    }
    assert!(n >= seeds().len());
}

#[test]
fn happy_path_sends_the_expected_commands() {
    let (_, program, _) = seeds().remove(0);
    let summary = check_session_input(&program.into_bytes());
    let sent: Vec<String> = summary
        .sent
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    assert_eq!(
        sent,
        [
            "USER ftptest",
            "PASS secret",
            "TYPE A",
            "EPSV",
            "LIST",
            "TYPE I",
            "EPSV",
            "RETR file.bin",
            "NOOP",
            "QUIT"
        ]
    );
}

#[test]
fn third_host_in_227_is_not_contacted() {
    let (_, program, _) = seeds().remove(12);
    let summary = check_session_input(&program.into_bytes());
    for intent in summary.intents {
        if let ftp_sansio::session::DataIntent::Connect { addr, .. } = intent {
            assert_eq!(addr, "127.0.0.1:21".parse().unwrap());
        }
    }
}

/// Regression (fuzz finding): a stray reply while the driver shuts TLS down after `CCC` left
/// the session with an operation in flight and no deadline, so a driver that never reported
/// the shutdown waited forever.
#[test]
fn stray_reply_during_ccc_shutdown_keeps_the_deadline() {
    use ftp_sansio::session::{Config, Event, OpError, Operation, Session, TimeoutKind, TlsIntent};
    let t0 = std::time::Instant::now();
    let config = Config {
        auto_feat: false,
        ..Config::default()
    };
    let mut s = Session::new(config, "127.0.0.1:21".parse().unwrap(), t0);
    s.handle_input(t0, b"220 hi\r\n");
    while s.poll_event().is_some() {}
    // CCC needs TLS first.
    assert_eq!(
        s.start(t0, Operation::Ccc),
        Err(ftp_sansio::session::UsageError::TlsRequired)
    );
    s.start(t0, Operation::AuthTls).unwrap();
    s.handle_input(t0, b"234 AUTH TLS OK.\r\n");
    s.handle_tls_established(t0);
    while s.poll_event().is_some() {}
    s.consume_transmit(usize::MAX);
    s.start(t0, Operation::Ccc).unwrap();
    s.handle_input(t0, b"200 CCC ok\r\n");
    let events: Vec<Event> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(events.contains(&Event::Tls(TlsIntent::DowngradeControl)));
    let deadline = s.poll_timeout().expect("the shutdown has a deadline");
    s.handle_input(t0, b"200 stray\r\n");
    assert_eq!(
        s.poll_timeout(),
        Some(deadline),
        "the stray reply moved the deadline"
    );
    s.handle_timeout(deadline);
    assert_eq!(
        s.poll_event(),
        Some(Event::Completed(Err(OpError::Timeout(TimeoutKind::Tls))))
    );
    assert!(s.is_closed());
}

/// Pseudo-random inputs (a fixed xorshift sequence) as a smoke run of the checks on stable.
#[test]
fn pseudo_random_inputs() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for len in (0..2000).map(|i| i % 300) {
        let data: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        check_session_input(&data);
    }
}

/// Replays the file named by `SESSION_FUZZ_FILE` (a fuzz finding), for debugging with
/// `SESSION_FUZZ_TRACE=1`.
#[test]
fn replay_file_from_env() {
    if let Some(path) = std::env::var_os("SESSION_FUZZ_FILE") {
        let data = std::fs::read(path).unwrap();
        let summary = check_session_input(&data);
        eprintln!("{:?}", summary.completed);
    }
}

#[test]
fn pipelined_seed_sends_the_early_epsv_behind_the_listing() {
    let (_, program, _) = seeds()
        .into_iter()
        .find(|(name, _, _)| *name == "19-pipelined-epsv")
        .expect("the seed");
    let summary = check_session_input(&program.into_bytes());
    let sent: Vec<String> = summary
        .sent
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    assert_eq!(
        sent,
        [
            "HOST ftp.example.com",
            "USER ftptest",
            "PASS secret",
            "FEAT",
            "TYPE A",
            "EPSV",
            "LIST",
            "EPSV", // RETR f's, early
            "RETR f",
            "TYPE I",
            "EPSV",
        ]
    );
}
