//! The long soak with faults (`ftp_tests::soak`): thousands of transfers up and down per
//! server and driver through the link simulator with random cuts, resets, stalls longer than
//! the client's timeouts and refusals (control connections too). Prints one markdown table row
//! per (server, driver) on stdout, the details on stderr; exits with 1 when any run found a
//! problem (a failed job, a lost byte, a step beyond its deadline bound).
//!
//! Not run by `cargo test`; the system servers need `tests/servers/install.sh` (root or sudo):
//!
//! ```text
//! cargo bench -p ftp-tests --bench soak -- [--server vsftpd|proftpd|pureftpd|pyftpdlib|libunftp|all]
//!     [--driver mio|blocking|both] [--sessions 16] [--transfers 5000] [--seed 1]
//!     [--cut 0.01] [--reset 0.002] [--stall 0.002] [--refuse 0.002] [--stall-for 8]
//!     [--max-after 1048576] [--control-max-after 16384] [--data-only]
//!     [--timeout 5] [--op-timeout 60] [--delay-ms 0] [--uploads 0.5] [--attempts 10]
//!     [--direct-uploads]
//! ```
//!
//! `--direct-uploads` uploads straight to the final name ([`UploadMode::Direct`]), which a
//! late `STOR` of an abandoned session can truncate; by default each upload from 0 takes a
//! temporary name of its own and is renamed once complete.
//!
//! Times are in seconds. `all` is the four system servers (libunftp only when asked for).

use std::time::Duration;

use ftp_tests::soak::{self, Driver, SoakConfig, SoakReport, UploadMode};
use ftp_tests::{passive_ranges, LocalServer, ServerKind, SystemServer, TestServer};

struct Options {
    servers: Vec<ServerKind>,
    drivers: Vec<Driver>,
    sessions: usize,
    transfers: usize,
    seed: u64,
    cut: f64,
    reset: f64,
    stall: f64,
    refuse: f64,
    stall_for: f64,
    max_after: u64,
    control_max_after: u64,
    control: bool,
    timeout: f64,
    op_timeout: f64,
    delay_ms: u64,
    uploads: f64,
    attempts: u32,
    direct_uploads: bool,
}

fn server_kinds(s: &str) -> Vec<ServerKind> {
    s.split(',')
        .flat_map(|name| match name.trim() {
            "all" => ServerKind::SYSTEM.to_vec(),
            "vsftpd" => vec![ServerKind::Vsftpd],
            "proftpd" => vec![ServerKind::Proftpd],
            "pureftpd" | "pure-ftpd" => vec![ServerKind::PureFtpd],
            "pyftpdlib" => vec![ServerKind::Pyftpdlib],
            "libunftp" => vec![ServerKind::Libunftp],
            other => {
                eprintln!("soak: unknown server {other:?}");
                std::process::exit(2);
            }
        })
        .collect()
}

fn options() -> Option<Options> {
    let mut o = Options {
        servers: ServerKind::SYSTEM.to_vec(),
        drivers: Driver::ALL.to_vec(),
        sessions: 16,
        transfers: 5000,
        seed: 1,
        cut: 0.01,
        reset: 0.002,
        stall: 0.002,
        refuse: 0.002,
        stall_for: 8.0,
        max_after: 1 << 20,
        control_max_after: 16 * 1024,
        control: true,
        timeout: 5.0,
        op_timeout: 60.0,
        delay_ms: 0,
        uploads: 0.5,
        attempts: 10,
        direct_uploads: false,
    };
    let mut bench = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_default();
        fn num<T: std::str::FromStr>(name: &str, v: String) -> T {
            v.parse().unwrap_or_else(|_| {
                eprintln!("soak: {name} wants a number, not {v:?}");
                std::process::exit(2);
            })
        }
        match a.as_str() {
            "--bench" => bench = true,
            "--server" => o.servers = server_kinds(&value()),
            "--driver" => {
                o.drivers = match value().as_str() {
                    "both" => Driver::ALL.to_vec(),
                    d => vec![d.parse().unwrap_or_else(|e| {
                        eprintln!("soak: {e}");
                        std::process::exit(2);
                    })],
                }
            }
            "--sessions" => o.sessions = num(&a, value()),
            "--transfers" => o.transfers = num(&a, value()),
            "--seed" => o.seed = num(&a, value()),
            "--cut" => o.cut = num(&a, value()),
            "--reset" => o.reset = num(&a, value()),
            "--stall" => o.stall = num(&a, value()),
            "--refuse" => o.refuse = num(&a, value()),
            "--stall-for" => o.stall_for = num(&a, value()),
            "--max-after" => o.max_after = num(&a, value()),
            "--control-max-after" => o.control_max_after = num(&a, value()),
            "--data-only" => o.control = false,
            "--timeout" => o.timeout = num(&a, value()),
            "--op-timeout" => o.op_timeout = num(&a, value()),
            "--delay-ms" => o.delay_ms = num(&a, value()),
            "--uploads" => o.uploads = num(&a, value()),
            "--attempts" => o.attempts = num(&a, value()),
            "--direct-uploads" => o.direct_uploads = true,
            _ => {}
        }
    }
    bench.then_some(o)
}

fn config(o: &Options, server: &dyn TestServer, driver: Driver) -> SoakConfig {
    let mut c = SoakConfig::new(server.addr(), Some(server.root().to_path_buf()), driver);
    c.sessions = o.sessions;
    c.transfers = o.transfers;
    c.seed = o.seed;
    c.upload_share = o.uploads;
    c.faults.seed = o.seed;
    c.faults.cut = o.cut;
    c.faults.reset = o.reset;
    c.faults.stall = o.stall;
    c.faults.refuse = o.refuse;
    c.faults.stall_for = Duration::from_secs_f64(o.stall_for);
    c.faults.max_after = o.max_after;
    c.faults.control_max_after = Some(o.control_max_after);
    c.faults.control = o.control;
    c.timeout = Duration::from_secs_f64(o.timeout);
    c.operation_timeout = Duration::from_secs_f64(o.op_timeout);
    c.delay = Duration::from_millis(o.delay_ms);
    c.max_attempts = o.attempts;
    if o.direct_uploads {
        c.upload_mode = UploadMode::Direct;
    }
    c
}

fn main() {
    let Some(o) = options() else {
        return; // built by `cargo test --all-targets`: nothing to run
    };
    eprintln!(
        "soak: {} sessions, {} transfers, seed {}, cut {} reset {} stall {} ({} s) refuse {}, \
         control faults {}, timeouts {} s, {} s per step",
        o.sessions,
        o.transfers,
        o.seed,
        o.cut,
        o.reset,
        o.stall,
        o.stall_for,
        o.refuse,
        o.control,
        o.timeout,
        o.op_timeout
    );
    println!("{}", SoakReport::table_header());
    let mut bad = false;
    for &kind in &o.servers {
        // thousands of data connections: their ports linger in TIME_WAIT, and a passive
        // listener whose connection the link refused waits (libunftp: 15 s) for nothing
        let server: Box<dyn TestServer> = if kind == ServerKind::Libunftp {
            match LocalServer::builder()
                .passive_ports(passive_ranges(40))
                .start()
            {
                Ok(s) => Box::new(s),
                Err(e) => {
                    eprintln!("soak: libunftp: {e}");
                    bad = true;
                    continue;
                }
            }
        } else {
            match SystemServer::builder(kind)
                .passive_ports(passive_ranges(40))
                .start()
            {
                Ok(s) => Box::new(s),
                Err(e) => {
                    eprintln!("soak: {kind}: {e}");
                    bad = true;
                    continue;
                }
            }
        };
        for &driver in &o.drivers {
            let cfg = config(&o, &*server, driver);
            match soak::run(&cfg) {
                Ok(report) => {
                    eprintln!("{kind} {}", report.summary());
                    println!("{}", report.table_row(kind.name()));
                    for p in report.problems() {
                        eprintln!("soak: {kind} {driver}: {p}");
                        bad = true;
                    }
                }
                Err(e) => {
                    eprintln!("soak: {kind} {driver}: {e}");
                    bad = true;
                }
            }
        }
    }
    if bad {
        std::process::exit(1);
    }
}
