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
const TRANSFERS: usize = 160;

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
        cut: 0.04,
        reset: 0.02,
        stall: 0.01,
        refuse: 0.01,
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
    soak_both_drivers(&LocalServer::start());
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
