//! The short soak with faults (`ftp_tests::soak`): against each server, both drivers, 16
//! sessions, a few hundred transfers up and down through the link simulator with random
//! cuts, resets, stalls longer than the client's timeouts and refusals, control connections
//! included. Every file must end byte-identical (no failure, no byte lost), no step may
//! outlive its deadline bound, and faults must have been injected and survived (the seed is
//! fixed, the rates high enough that a run without any is out of the question).
//!
//! libunftp runs under plain `cargo test`; the system servers are `#[ignore]`d and run by
//! `tests/run-all.sh`. The long version is the `soak` bench (`tests/benches/soak.rs`).

use std::time::Duration;

use ftp_tests::link::RandomFaults;
use ftp_tests::soak::{self, Driver, SoakConfig};
use ftp_tests::{LocalServer, ServerKind, SystemServer, TestServer};

/// Jobs per driver and server.
const TRANSFERS: usize = 300;

fn config(server: &dyn TestServer, driver: Driver, seed: u64) -> SoakConfig {
    let mut c = SoakConfig::new(server.addr(), Some(server.root().to_path_buf()), driver);
    c.sessions = 16;
    c.transfers = TRANSFERS;
    c.seed = seed;
    c.sizes = vec![
        (0, 1),
        (7, 2),
        (4096, 3),
        (65_536, 3),
        (1_000_003, 2),
        (2_500_009, 1),
    ];
    c.faults = RandomFaults {
        cut: 0.05,
        reset: 0.03,
        stall: 0.02,
        refuse: 0.02,
        max_after: 512 * 1024,
        control_max_after: Some(4096),
        stall_for: Duration::from_secs(3),
        control: true,
        ..RandomFaults::new(seed)
    };
    c.timeout = Duration::from_secs(2);
    c.operation_timeout = Duration::from_secs(20);
    c
}

fn soak_both_drivers(server: &dyn TestServer) {
    for (i, driver) in Driver::ALL.into_iter().enumerate() {
        let cfg = config(server, driver, 7 + i as u64);
        let report = soak::run(&cfg).unwrap_or_else(|e| panic!("{}: {driver}: {e}", server.kind()));
        eprintln!("{} {}", server.kind(), report.summary());
        let problems = report.problems();
        assert!(
            problems.is_empty(),
            "{} {driver}: {problems:#?}\n{}",
            server.kind(),
            report.summary()
        );
        assert_eq!(report.transfers_ok, TRANSFERS);
        assert!(
            report.link.faults() > 0 && report.survived > 0,
            "{} {driver}: no fault injected or survived: {}",
            server.kind(),
            report.summary()
        );
        // generous: the whole test process, parallel tests included
        assert!(
            report.memory.peak_kib < 2 << 20,
            "{} {driver}: {} KiB resident",
            server.kind(),
            report.memory.peak_kib
        );
    }
}

fn system(kind: ServerKind) {
    // a few hundred data connections in a minute: their ports linger in TIME_WAIT
    let server = SystemServer::builder(kind)
        .passive_ports(ftp_tests::passive_ranges(8))
        .start()
        .unwrap_or_else(|e| panic!("{kind}: {e}"));
    soak_both_drivers(&server);
}

#[test]
fn libunftp() {
    // as for the system servers: 50 passive ports are not enough (libunftp holds a listener
    // whose connection the link refused for 15 s)
    let server = LocalServer::builder()
        .passive_ports(ftp_tests::passive_ranges(8))
        .start()
        .expect("libunftp");
    soak_both_drivers(&server);
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn vsftpd() {
    system(ServerKind::Vsftpd);
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn proftpd() {
    system(ServerKind::Proftpd);
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn pure_ftpd() {
    system(ServerKind::PureFtpd);
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn pyftpdlib() {
    system(ServerKind::Pyftpdlib);
}

/// What the soak found (pyftpdlib, ftp-mio, a control connection stalled longer than the reply
/// timeout): a `STOR` that an abandoned session delivers late truncates the file the retry
/// completed since. The client gave up on the session (reply timeout), reconnected, found
/// nothing there (`SIZE`: 550), uploaded the whole file and checked its size; then the stall
/// ended, the server read the old `STOR`, opened the file for writing (truncating it) and got
/// an empty data connection. Here the late session is driven by hand, the retry by
/// ftp-blocking.
fn a_late_stor_truncates_a_finished_upload(server: &dyn TestServer) {
    use ftp_tests::RawClient;
    let data: Vec<u8> = (0..4096u32).map(|i| (i * 7 + 1) as u8).collect();
    // the session given up: logged in, its data connection open, its STOR still in the network
    let mut late = RawClient::connect(server.addr()).unwrap();
    assert_eq!(
        late.login(server.user(), server.password()).unwrap().code,
        230
    );
    assert_eq!(late.cmd("TYPE I").unwrap().code, 200);
    let data_conn = late.epsv_connect().unwrap();
    // the retry, on a new session: the whole file, its size checked
    let mut ftp = ftp_blocking::Ftp::connect(server.addr()).unwrap();
    ftp.login(server.user(), server.password()).unwrap();
    ftp.storbinary("STOR late.bin", &mut &data[..], 1024, None)
        .unwrap();
    assert_eq!(ftp.size("late.bin").unwrap(), 4096);
    // the stall ends: the old STOR arrives, the old data connection closes
    late.send("STOR late.bin").unwrap();
    let first = late.read_reply().unwrap();
    drop(data_conn);
    let last = late.read_reply().unwrap();
    eprintln!(
        "{}: late STOR: {} / {}",
        server.kind(),
        first.text(),
        last.text()
    );
    let now = server.read_file("late.bin").unwrap();
    eprintln!("{}: {} bytes left of 4096", server.kind(), now.len());
    assert!(now.len() < data.len(), "{}: not truncated", server.kind());
    assert_eq!(ftp.size("late.bin").unwrap(), now.len() as u64);
}

ftp_tests::server_tests!(a_late_stor_truncates_a_finished_upload);
