//! Does a driver's memory stay flat over many transfers? One session of each driver runs
//! `--transfers` operations on one control connection against vsftpd (a 64 KiB download and a
//! 64 KiB upload taking turns), alone in the process: no link simulator, no soak bookkeeping,
//! no other threads. It prints the process's resident memory (`VmRSS`) every tenth of the run
//! and exits with 1 when the last tenth is more than `--slack-kib` above the first (after the
//! first transfers, which fill the allocator's pools).
//!
//! The soak (`benches/soak.rs`) reports the memory of a whole process that also runs the link
//! simulator's threads and the soak's own records; this bench isolates the drivers.
//!
//! Not run by `cargo test`; needs vsftpd (`tests/servers/install.sh`, root or sudo):
//!
//! ```text
//! cargo bench -p ftp-tests --bench flat_memory -- [--driver mio|blocking|both]
//!     [--transfers 40000] [--slack-kib 256]
//! ```

use std::io::Read;

use ftp_tests::{ServerKind, SystemServer, TestServer};

/// The size of the file moved each way.
const BODY: usize = 64 * 1024;

/// Resident memory at every tenth of the run.
struct Trace {
    every: u64,
    samples: Vec<u64>,
}

impl Trace {
    fn new(transfers: u64) -> Trace {
        Trace {
            every: (transfers / 10).max(1),
            samples: Vec::new(),
        }
    }

    fn done(&mut self, n: u64) {
        if n.is_multiple_of(self.every) {
            self.samples.push(ftp_tests::soak::memory_now().0);
        }
    }
}

fn blocking(server: &SystemServer, transfers: u64) -> Result<Vec<u64>, String> {
    let body = vec![0x5a_u8; BODY];
    let mut ftp = ftp_blocking::Ftp::connect(server.addr()).map_err(|e| e.to_string())?;
    ftp.login(server.user(), server.password())
        .map_err(|e| e.to_string())?;
    ftp.storbinary("STOR flat-down", &mut &body[..], 8192, None)
        .map_err(|e| format!("STOR flat-down: {e}"))?;
    let mut trace = Trace::new(transfers);
    let mut got = Vec::with_capacity(BODY);
    for n in 1..=transfers {
        if n % 2 == 1 {
            got.clear();
            let mut r = ftp
                .retr_reader("flat-down", None)
                .map_err(|e| format!("RETR (transfer {n}): {e}"))?;
            r.read_to_end(&mut got)
                .map_err(|e| format!("RETR (transfer {n}): {e}"))?;
            r.finish()
                .map_err(|e| format!("RETR (transfer {n}): {e}"))?;
            if got != body {
                return Err(format!(
                    "RETR (transfer {n}): {} bytes, not the file",
                    got.len()
                ));
            }
        } else {
            ftp.storbinary("STOR flat-up", &mut &body[..], 8192, None)
                .map_err(|e| format!("STOR (transfer {n}): {e}"))?;
        }
        trace.done(n);
    }
    ftp.quit().ok();
    Ok(trace.samples)
}

fn mio(server: &SystemServer, transfers: u64) -> Result<Vec<u64>, String> {
    use ftp_mio::{core::Config, Sessions};
    use mio::{Events, Poll, Token};

    let body = vec![0x5a_u8; BODY];
    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    let mut ftp = Sessions::new(poll.registry(), Token(0), 16).map_err(|e| e.to_string())?;
    let (s, _greeting) = ftp
        .connect(server.addr(), Config::default())
        .map_err(|e| e.to_string())?;
    let e = |e: ftp_mio::Error| e.to_string();
    ftp.login(s, server.user(), server.password()).map_err(e)?;
    ftp.store(s, "flat-down", std::io::Cursor::new(body.clone()))
        .map_err(e)?;
    let setup = 2; // login and the first STOR complete before the counted transfers
    let mut trace = Trace::new(transfers);
    let mut events = Events::with_capacity(128);
    let (mut queued, mut completed) = (0u64, 0u64);
    while completed < transfers + setup {
        // two operations queued at a time, like a mirror keeping its session busy
        while queued < transfers && queued + setup < completed + 2 {
            queued += 1;
            if queued % 2 == 1 {
                ftp.retrieve_to_vec(s, "flat-down", BODY + 1).map_err(e)?;
            } else {
                ftp.store(s, "flat-up", std::io::Cursor::new(body.clone()))
                    .map_err(e)?;
            }
        }
        if let Err(err) = poll.poll(&mut events, ftp.poll_timeout()) {
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(err.to_string());
            }
        }
        for event in events.iter() {
            ftp.handle_event(event);
        }
        ftp.handle_timeouts();
        while let Some(done) = ftp.poll_completion() {
            completed += 1;
            done.result
                .map_err(|err| format!("operation {completed}: {err}"))?;
            if let Some(data) = done.data {
                if data != body {
                    return Err(format!("RETR: {} bytes, not the file", data.len()));
                }
            }
            if completed > setup {
                trace.done(completed - setup);
            }
        }
        if ftp.is_empty() {
            return Err("the session ended early".into());
        }
    }
    ftp.quit(s).map_err(e)?;
    Ok(trace.samples)
}

fn main() {
    let mut drivers = vec!["blocking", "mio"];
    let mut transfers = 40_000u64;
    let mut slack_kib = 256u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next().unwrap_or_else(|| {
                eprintln!("flat_memory: {name} wants a value");
                std::process::exit(2)
            })
        };
        match a.as_str() {
            "--driver" => {
                drivers = match value("--driver").as_str() {
                    "mio" => vec!["mio"],
                    "blocking" => vec!["blocking"],
                    "both" => vec!["blocking", "mio"],
                    other => {
                        eprintln!("flat_memory: unknown driver {other:?}");
                        std::process::exit(2)
                    }
                }
            }
            "--transfers" => transfers = value("--transfers").parse().unwrap_or(transfers),
            "--slack-kib" => slack_kib = value("--slack-kib").parse().unwrap_or(slack_kib),
            "--bench" => {} // cargo bench passes it
            other => {
                eprintln!("flat_memory: unknown argument {other:?}");
                std::process::exit(2)
            }
        }
    }
    let server = SystemServer::start(ServerKind::Vsftpd);
    let mut failed = false;
    println!("| driver | transfers | RSS at each tenth (KiB) | last - first tenth |");
    println!("|---|---|---|---|");
    for driver in drivers {
        let run = match driver {
            "mio" => mio(&server, transfers),
            _ => blocking(&server, transfers),
        };
        match run {
            Ok(samples) => {
                let growth = match (samples.first(), samples.last()) {
                    (Some(&a), Some(&b)) => b as i64 - a as i64,
                    _ => 0,
                };
                let list: Vec<String> = samples.iter().map(u64::to_string).collect();
                println!(
                    "| ftp-{driver} | {transfers} | {} | {growth:+} KiB |",
                    list.join(" ")
                );
                if growth > slack_kib as i64 {
                    eprintln!("flat_memory: ftp-{driver} grew {growth} KiB (slack {slack_kib})");
                    failed = true;
                }
            }
            Err(err) => {
                eprintln!("flat_memory: ftp-{driver}: {err}");
                failed = true;
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}
