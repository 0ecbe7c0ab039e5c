//! Mirroring over slow links: ftp-blocking's `ftp mirror`, ftp-mio's mirror with 1/8/32
//! sessions and lftp `mirror --parallel=1/8/32`, all against the same vsftpd and the same tree,
//! through the link simulator (`ftp_tests::link`) at several round-trip times; and the
//! simulator's own cost (a large RETR through it at 0 ms against the same RETR direct, and
//! through a 100 MB/s cap at 20 ms).
//!
//! Not run by `cargo test`; needs vsftpd (tests/servers/install.sh, root or sudo) and the
//! release builds of the two examples (built on the first run if missing), lftp if installed:
//!
//! ```text
//! cargo bench -p ftp-tests --bench links -- [--rtt 0,20,50] [--files 200] [--size 4096]
//!     [--sessions 1,8,32] [--overhead-mib 256] [--skip-overhead] [--skip-mirror]
//! cargo bench -p ftp-tests --bench links -- --pipeline [--rtt 20] [--files 100] [--size 4096]
//! ```
//!
//! `--pipeline`: one ftp-mio session downloading `--files` small files (all queued at once)
//! from vsftpd through the link, `Config::pipeline_passive` off and on (taking turns, three
//! runs each); prints the round trips per file of the downloads alone (login excluded).
//!
//! Times are wall clock of the whole client process (start, login, listing, every file,
//! QUIT); "RT/file/conn" is that time divided by the round trip and by the files each
//! connection fetched (files / parallel connections): the round trips one connection spends
//! per file, login and listing included (a few round trips over the whole run).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ftp_blocking::Ftp;
use ftp_tests::link::Link;
use ftp_tests::{passive_ranges, ServerKind, SystemServer, TestServer, PASSWORD, USER};

struct Options {
    rtts_ms: Vec<u64>,
    files: usize,
    size: usize,
    sessions: Vec<usize>,
    overhead_mib: usize,
    overhead: bool,
    mirror: bool,
}

fn parse_list<T: std::str::FromStr>(s: &str) -> Vec<T> {
    s.split(',').filter_map(|x| x.trim().parse().ok()).collect()
}

fn options() -> Option<Options> {
    let mut o = Options {
        rtts_ms: vec![0, 20, 50],
        files: 200,
        size: 4096,
        sessions: vec![1, 8, 32],
        overhead_mib: 256,
        overhead: true,
        mirror: true,
    };
    let mut bench = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bench" => bench = true,
            "--rtt" => o.rtts_ms = parse_list(&args.next().unwrap_or_default()),
            "--files" => o.files = args.next().and_then(|v| v.parse().ok()).unwrap_or(200),
            "--size" => o.size = args.next().and_then(|v| v.parse().ok()).unwrap_or(4096),
            "--sessions" => o.sessions = parse_list(&args.next().unwrap_or_default()),
            "--overhead-mib" => {
                o.overhead_mib = args.next().and_then(|v| v.parse().ok()).unwrap_or(256)
            }
            "--skip-overhead" => o.overhead = false,
            "--skip-mirror" => o.mirror = false,
            _ => {}
        }
    }
    bench.then_some(o)
}

/// The link alone (`--raw`): one TCP stream of `mib` MiB from a plain sender, direct and
/// through the link. The link takes any connection to its port for a control connection, so
/// this measures the control path, which looks at every line for `227`/`229`/`PORT`/`EPRT`;
/// bulk data takes the data path, which the RETR comparison measures.
fn raw(mib: usize) {
    use std::io::{Read, Write};
    let len = mib << 20;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let upstream = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let block = vec![0x5au8; 1 << 20];
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            for _ in 0..mib {
                if stream.write_all(&block).is_err() {
                    break;
                }
            }
        }
    });
    let fetch = |addr| {
        let started = Instant::now();
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        let mut buf = vec![0u8; 1 << 18];
        let mut got = 0;
        while got < len {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        assert_eq!(got, len);
        started.elapsed()
    };
    for _ in 0..3 {
        let direct = fetch(upstream);
        let link = Link::with_delay(upstream, Duration::ZERO);
        let via = fetch(link.addr());
        let link20 = Link::with_delay(upstream, Duration::from_millis(10));
        let via20 = fetch(link20.addr());
        println!(
            "control path, {mib} MiB: direct {:.3} s, link 0 ms {:.3} s ({:.2}x), link 20 ms RTT {:.3} s ({:.2}x)",
            direct.as_secs_f64(),
            via.as_secs_f64(),
            via.as_secs_f64() / direct.as_secs_f64(),
            via20.as_secs_f64(),
            via20.as_secs_f64() / direct.as_secs_f64()
        );
    }
}

/// `--probe`: where the time of a small download goes, step by step, through a 20 ms link
/// (`LINKS_PROBE_DELAY_MS`: another one-way delay).
fn probe() {
    use std::io::{BufRead, BufReader, Read, Write};
    let server = SystemServer::start(ServerKind::Vsftpd);
    server.write_file("small.bin", &[1u8; 4096]).expect("write");
    let one_way: u64 = std::env::var("LINKS_PROBE_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let link = Link::with_delay(server.addr(), Duration::from_millis(one_way));
    let ms = |t: Instant| format!("{:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
    let t = Instant::now();
    let c = std::net::TcpStream::connect(link.addr()).expect("connect");
    println!("control connect: {}", ms(t));
    let mut r = BufReader::new(c.try_clone().expect("clone"));
    let mut w = c;
    let mut line = String::new();
    let mut reply = |r: &mut BufReader<std::net::TcpStream>| loop {
        line.clear();
        r.read_line(&mut line).expect("reply");
        if line.len() >= 4 && line.as_bytes()[3] == b' ' {
            return line.clone();
        }
    };
    reply(&mut r);
    println!("greeting: {}", ms(t));
    for cmd in [
        format!("USER {USER}"),
        format!("PASS {PASSWORD}"),
        "TYPE I".into(),
    ] {
        w.write_all(format!("{cmd}\r\n").as_bytes()).expect("send");
        reply(&mut r);
    }
    for _ in 0..8 {
        let t = Instant::now();
        w.write_all(b"EPSV\r\n").expect("send");
        let epsv = reply(&mut r);
        println!("EPSV: {} {}", ms(t), epsv.trim());
        let port: u16 = epsv
            .split('|')
            .nth(3)
            .and_then(|p| p.parse().ok())
            .expect("port");
        let mut d = std::net::TcpStream::connect(("127.0.0.1", port)).expect("data");
        println!("  data connected: {}", ms(t));
        w.write_all(b"RETR small.bin\r\n").expect("send");
        let first = reply(&mut r);
        println!("  {}: {}", first.trim(), ms(t));
        let mut buf = Vec::new();
        d.read_to_end(&mut buf).expect("data");
        println!("  data EOF ({} bytes): {}", buf.len(), ms(t));
        let done = reply(&mut r);
        println!("  {}: {}", done.trim(), ms(t));
    }
}

/// `--pipeline`: round trips per small file of one ftp-mio session, `pipeline_passive` off
/// and on, through the link (`--rtt`, first value; default 20 ms), vsftpd.
fn pipeline() {
    let mut args = std::env::args().skip(1);
    let (mut rtt_ms, mut files, mut size) = (20u64, 100usize, 4096usize);
    while let Some(a) = args.next() {
        let mut num = || args.next().and_then(|v| v.split(',').next()?.parse().ok());
        match a.as_str() {
            "--rtt" => rtt_ms = num().unwrap_or(20),
            "--files" => files = num().map_or(100, |n: u64| n as usize),
            "--size" => size = num().map_or(4096, |n: u64| n as usize),
            _ => {}
        }
    }
    if let Err(why) = ftp_tests::system_servers_status() {
        eprintln!("links --pipeline: needs vsftpd: {why}");
        return;
    }
    let server = SystemServer::builder(ServerKind::Vsftpd)
        .passive_ports(passive_ranges(4))
        .start()
        .expect("vsftpd");
    for i in 0..files {
        server
            .write_file(&format!("p/f{i:04}.bin"), &vec![i as u8; size])
            .expect("write");
    }
    let link = Link::with_delay(server.addr(), Duration::from_millis(rtt_ms / 2));
    let noop = noop_rtt(link.addr());
    println!(
        "{files} × {size} B from vsftpd, one ftp-mio session, {rtt_ms} ms RTT (NOOP median \
         {:.2} ms)",
        noop.as_secs_f64() * 1000.0
    );
    let mut results: Vec<(bool, f64)> = Vec::new();
    for run in 0..6 {
        let on = run % 2 == 1;
        let t = mio_downloads(link.addr(), files, size, on);
        let per_file = t.as_secs_f64() / (rtt_ms as f64 / 1000.0) / files as f64;
        println!(
            "  pipeline_passive {:>5}: {:.3} s, {per_file:.2} RT/file",
            on,
            t.as_secs_f64()
        );
        results.push((on, per_file));
    }
    for on in [false, true] {
        let mut v: Vec<f64> = results.iter().filter(|r| r.0 == on).map(|r| r.1).collect();
        v.sort_by(f64::total_cmp);
        println!(
            "pipeline_passive {on}: best {:.2}, median {:.2} RT/file",
            v[0],
            v[v.len() / 2]
        );
    }
}

/// One ftp-mio session through `addr`: login, then `files` downloads queued at once; the
/// time from queueing them to the last one's completion.
fn mio_downloads(
    addr: std::net::SocketAddr,
    files: usize,
    size: usize,
    pipeline: bool,
) -> Duration {
    use ftp_sansio::session::{Config, Outcome};
    let mut poll = mio::Poll::new().expect("poll");
    let mut events = mio::Events::with_capacity(64);
    let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).expect("sessions");
    let config = Config {
        pipeline_passive: pipeline,
        ..Config::default()
    };
    let (s, _) = ftp.connect(addr, config).expect("connect");
    let login = ftp.login(s, USER, PASSWORD).expect("login");
    let mut run_until = |ftp: &mut ftp_mio::Sessions, wanted: &[ftp_mio::OpId]| {
        let mut left: Vec<ftp_mio::OpId> = wanted.to_vec();
        while !left.is_empty() {
            ftp_tests::poll_once(&mut poll, &mut events, ftp.poll_timeout());
            for e in events.iter() {
                ftp.handle_event(e);
            }
            ftp.handle_timeouts();
            while let Some(c) = ftp.poll_completion() {
                if let Some(i) = left.iter().position(|&o| o == c.op) {
                    match c.result {
                        Ok(Outcome::Transferred { bytes, .. }) => assert_eq!(bytes as usize, size),
                        Ok(_) => {}
                        Err(e) => panic!("{e}"),
                    }
                    left.swap_remove(i);
                }
            }
        }
    };
    run_until(&mut ftp, &[login]);
    let started = Instant::now();
    let gets: Vec<ftp_mio::OpId> = (0..files)
        .map(|i| {
            ftp.retrieve_to_vec(s, format!("p/f{i:04}.bin"), 1 << 20)
                .expect("retrieve")
        })
        .collect();
    run_until(&mut ftp, &gets);
    let took = started.elapsed();
    let quit = ftp.quit(s).expect("quit");
    run_until(&mut ftp, &[quit]);
    took
}

/// `--serve`: vsftpd with a tree of `LINKS_SERVE_FILES` 4 KiB files under `/tree`, behind a
/// link of `LINKS_PROBE_DELAY_MS` one way, for `LINKS_SERVE_SECONDS`; prints the link's port.
/// For watching a client by hand (strace, tcpdump on lo).
fn serve() {
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let server = SystemServer::start(ServerKind::Vsftpd);
    for i in 0..env("LINKS_SERVE_FILES", 20) {
        server
            .write_file(&format!("tree/f{i:04}.bin"), &[i as u8; 4096])
            .expect("write");
    }
    let link = Link::with_delay(
        server.addr(),
        Duration::from_millis(env("LINKS_PROBE_DELAY_MS", 10)),
    );
    println!("{}", link.addr().port());
    std::thread::sleep(Duration::from_secs(env("LINKS_SERVE_SECONDS", 60)));
}

fn main() {
    if std::env::args().any(|a| a == "--serve") {
        serve();
        return;
    }
    if std::env::args().any(|a| a == "--probe") {
        probe();
        return;
    }
    if std::env::args().any(|a| a == "--raw") {
        raw(256);
        return;
    }
    if std::env::args().any(|a| a == "--pipeline") {
        pipeline();
        return;
    }
    let Some(o) = options() else {
        eprintln!("links: a benchmark; run it with `cargo bench -p ftp-tests --bench links`");
        return;
    };
    if let Err(why) = ftp_tests::system_servers_status() {
        eprintln!("links: needs vsftpd: {why}");
        return;
    }
    // vsftpd: max_clients and max_per_ip are 300 in tests/servers/start-vsftpd.sh (the
    // defaults, 2000 and 50 in some builds, would not matter at 32 sessions either); its
    // listen backlog is 32, which 32 sessions connecting at once just fit. 8 passive blocks
    // (400 ports): 32 sessions each hold one listener while ports of finished transfers
    // linger.
    let server = match SystemServer::builder(ServerKind::Vsftpd)
        .passive_ports(passive_ranges(8))
        .start()
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("links: cannot start vsftpd: {e}");
            return;
        }
    };
    if o.overhead {
        overhead(&server, o.overhead_mib);
    }
    if o.mirror {
        mirrors(&server, &o);
    }
}

// ---- the simulator's own cost ----------------------------------------------------------------

fn retr_time(addr: std::net::SocketAddr, name: &str, expect: usize) -> Duration {
    let mut ftp = Ftp::connect(addr).expect("connect");
    ftp.login(USER, PASSWORD).expect("login");
    let started = Instant::now();
    let mut got = 0usize;
    ftp.retrbinary(
        &format!("RETR {name}"),
        |b| {
            got += b.len();
            Ok(())
        },
        256 * 1024,
        None,
    )
    .expect("RETR");
    let took = started.elapsed();
    assert_eq!(got, expect, "short download");
    let _ = ftp.quit();
    took
}

fn overhead(server: &SystemServer, mib: usize) {
    let len = mib << 20;
    let data: Vec<u8> = (0..len).map(|i| (i * 7 + i / 4096) as u8).collect();
    server.write_file("big.bin", &data).expect("write big.bin");
    server
        .write_file("bigdir/big.bin", &data)
        .expect("write bigdir/big.bin");
    drop(data);
    let cap = 100_000_000u64;
    let paths: [(&str, Duration, Option<u64>); 4] = [
        ("direct", Duration::ZERO, None),
        ("link, 0 ms, no cap", Duration::ZERO, None),
        ("link, 20 ms RTT, no cap", Duration::from_millis(10), None),
        (
            "link, 20 ms RTT, 100 MB/s cap",
            Duration::from_millis(10),
            Some(cap),
        ),
    ];
    // best of three, the paths taking turns: the machine's load varies from second to second
    let mut best = [Duration::MAX; 4];
    for _ in 0..3 {
        for (i, &(_, delay, rate)) in paths.iter().enumerate() {
            let took = if i == 0 {
                retr_time(server.addr(), "big.bin", len)
            } else {
                let mut b = Link::builder(server.addr()).delay(delay);
                if let Some(r) = rate {
                    b = b.rate(r);
                }
                let link = b.start().expect("link");
                retr_time(link.addr(), "big.bin", len)
            };
            best[i] = best[i].min(took);
        }
    }
    println!(
        "\n## The simulator's own cost: one {mib} MiB RETR (ftp-blocking), vsftpd, best of 3\n"
    );
    println!("| path | time | MB/s | vs direct |");
    println!("|---|---|---|---|");
    for (i, &(name, _, rate)) in paths.iter().enumerate() {
        let t = best[i].as_secs_f64();
        let floor = rate.map_or(String::new(), |r| {
            let floor = len as f64 / r as f64;
            format!(" (the cap's floor: {floor:.3} s; {:.3}x of it)", t / floor)
        });
        println!(
            "| {name} | {t:.3} s | {:.0} | {:.2}{floor} |",
            len as f64 / t / 1e6,
            t / best[0].as_secs_f64()
        );
    }
    capped_drivers(server, len, cap);
    let _ = std::fs::remove_file(server.local_path("big.bin"));
    let _ = std::fs::remove_file(server.local_path("bigdir/big.bin"));
}

/// The same file through the same capped link with each client as a process: ftp-blocking's
/// `ftp get`, ftp-mio's mirror (one session) and lftp's `get`. A process's time includes
/// starting, logging in (about 4 round trips with the handshake) and QUIT, so each client also
/// fetches a 1-byte file the same way, and the difference is the transfer's own time.
fn capped_drivers(server: &SystemServer, len: usize, cap: u64) {
    server.write_file("tiny.bin", b"x").expect("tiny");
    server.write_file("tinydir/tiny.bin", b"x").expect("tiny");
    let link = Link::builder(server.addr())
        .delay(Duration::from_millis(10))
        .rate(cap)
        .start()
        .expect("link");
    let port = link.addr().port();
    let url = format!("ftp://{USER}:{PASSWORD}@127.0.0.1:{port}");
    let scratch = tempfile::tempdir().expect("scratch");
    let out = scratch.path().join("out");
    let command = |client: usize, name: &str| -> Command {
        match client {
            0 => {
                let mut c = Command::new(example("ftp", "ftp-blocking"));
                c.args(["get", &format!("{url}/{name}.bin")]).arg(&out);
                c
            }
            1 => {
                let mut c = Command::new(example("mirror", "ftp-mio"));
                c.args([&format!("{url}/{name}dir"), "-n", "1", "-o"])
                    .arg(&out);
                c
            }
            _ => {
                let mut c = Command::new("lftp");
                c.args([
                    "-c",
                    &format!(
                        "set ftp:ssl-allow no; set xfer:log no; open {url}; get /{name}.bin -o {}",
                        out.display()
                    ),
                ]);
                c
            }
        }
    };
    // runs one client on one file; the time when it exited well with the whole file
    let run = |mut cmd: Command, name: &str, expect: usize| -> Option<f64> {
        let _ = std::fs::remove_dir_all(&out);
        let _ = std::fs::remove_file(&out);
        let started = Instant::now();
        let ok = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let t = started.elapsed().as_secs_f64();
        let mut got = HashMap::new();
        if out.is_dir() {
            files_under(&out, &mut got);
        } else if let Ok(bytes) = std::fs::read(&out) {
            got.insert(format!("{name}.bin"), bytes);
        }
        let whole = got
            .get(&format!("{name}.bin"))
            .is_some_and(|b| b.len() == expect);
        (ok && whole).then_some(t)
    };
    let floor = len as f64 / cap as f64;
    println!(
        "\nThe same file through the 100 MB/s, 20 ms link, each client a process (the 1-byte \
         run's time, start-up and login, subtracted):\n"
    );
    println!("| client | big file | 1-byte file | difference | MB/s | vs the cap's floor |");
    println!("|---|---|---|---|---|---|");
    for (i, client) in [
        "ftp-blocking `ftp get`",
        "ftp-mio mirror -n 1",
        "lftp `get`",
    ]
    .into_iter()
    .enumerate()
    {
        let tiny = run(command(i, "tiny"), "tiny", 1);
        let big = run(command(i, "big"), "big", len);
        let (Some(tiny), Some(big)) = (tiny, big) else {
            println!("| {client} | failed | | | | |");
            continue;
        };
        let d = big - tiny;
        println!(
            "| {client} | {big:.3} s | {tiny:.3} s | {d:.3} s | {:.1} | {:.3}x |",
            len as f64 / d / 1e6,
            d / floor
        );
    }
}

// ---- mirrors ---------------------------------------------------------------------------------

/// One client run of a mirror.
struct Run {
    client: String,
    conns: usize,
    time: Duration,
    /// Commands the server received, by verb (from vsftpd's protocol log).
    commands: Vec<(String, u64)>,
}

/// The verbs of the commands vsftpd logged after byte `from` of its protocol log.
fn logged_commands(log: &Path, from: u64) -> Vec<(String, u64)> {
    let text = std::fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(text.get(from as usize..).unwrap_or_default());
    let mut counts: HashMap<String, u64> = HashMap::new();
    for line in text.lines() {
        let Some(i) = line.find("FTP command: Client \"") else {
            continue;
        };
        let rest = &line[i..];
        let Some(j) = rest.find("\", \"") else {
            continue;
        };
        let cmd = &rest[j + 4..];
        let verb: String = cmd
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect::<String>()
            .to_ascii_uppercase();
        *counts.entry(verb).or_default() += 1;
    }
    let mut v: Vec<_> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

fn log_len(log: &Path) -> u64 {
    std::fs::metadata(log).map_or(0, |m| m.len())
}

fn example(name: &str, package: &str) -> PathBuf {
    let var = format!("LINKS_{}_BIN", name.to_ascii_uppercase());
    if let Some(p) = std::env::var_os(&var) {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let bin = target.join("release/examples").join(name);
    // always asked for: cargo does nothing when the binary is up to date, and a binary left
    // from older sources would measure the wrong code
    {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        eprintln!("links: building {} (release)", bin.display());
        let ok = Command::new(cargo)
            .args(["build", "--release", "-p", package, "--example", name])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "could not build the {name} example; set {var}");
    }
    bin
}

/// Every file under `dir`, by name (the clients differ in where they put the tree's root).
fn files_under(dir: &Path, out: &mut HashMap<String, Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else if let (Some(name), Ok(bytes)) = (p.file_name(), std::fs::read(&p)) {
            out.insert(name.to_string_lossy().into_owned(), bytes);
        }
    }
}

fn run_client(
    client: &str,
    conns: usize,
    mut cmd: Command,
    out: &Path,
    tree: &HashMap<String, Vec<u8>>,
    log: &Path,
) -> Option<Run> {
    let log_from = log_len(log);
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out).expect("output directory");
    let started = Instant::now();
    let result = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    let time = started.elapsed();
    let output = match result {
        Ok(o) => o,
        Err(e) => {
            eprintln!("links: {client}: {e}");
            return None;
        }
    };
    let mut got = HashMap::new();
    files_under(out, &mut got);
    let missing = tree.iter().filter(|(n, b)| got.get(*n) != Some(b)).count();
    if !output.status.success() || missing > 0 {
        eprintln!(
            "links: {client}: {} ({missing} files missing or different)\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .join("\n")
        );
        return None;
    }
    let _ = std::fs::remove_dir_all(out);
    // vsftpd writes its log as it goes; the last lines may lag the client's exit a little
    std::thread::sleep(Duration::from_millis(200));
    Some(Run {
        client: client.to_owned(),
        conns,
        time,
        commands: logged_commands(log, log_from),
    })
}

fn mirrors(server: &SystemServer, o: &Options) {
    let mut tree = HashMap::new();
    for i in 0..o.files {
        let name = format!("f{i:04}.bin");
        let bytes: Vec<u8> = (0..o.size).map(|j| (i * 31 + j * 7) as u8).collect();
        server
            .write_file(&format!("tree/{name}"), &bytes)
            .expect("write the tree");
        tree.insert(name, bytes);
    }
    let ftp_bin = example("ftp", "ftp-blocking");
    let mirror_bin = example("mirror", "ftp-mio");
    let lftp = Command::new("lftp")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !lftp {
        eprintln!("links: lftp is not installed: its rows are left out");
    }
    let scratch = tempfile::tempdir().expect("scratch directory");
    let log = server.state_dir().join("vsftpd.log");

    let mut tables = Vec::new();
    for &rtt_ms in &o.rtts_ms {
        let rtt = Duration::from_millis(rtt_ms);
        let link = Link::with_delay(server.addr(), rtt / 2);
        let noop = noop_rtt(link.addr());
        let port = link.addr().port();
        let url = format!("ftp://{USER}:{PASSWORD}@127.0.0.1:{port}/tree");
        let out = scratch.path().join("out");
        let mut runs = Vec::new();
        eprintln!("links: {rtt_ms} ms RTT");

        let mut cmd = Command::new(&ftp_bin);
        cmd.args(["mirror", &format!("{url}/")]).arg(&out);
        runs.extend(run_client(
            "ftp-blocking `ftp mirror`",
            1,
            cmd,
            &out,
            &tree,
            &log,
        ));
        for &n in &o.sessions {
            let mut cmd = Command::new(&mirror_bin);
            cmd.arg(&url).args(["-n", &n.to_string(), "-o"]).arg(&out);
            runs.extend(run_client(
                &format!("ftp-mio mirror -n {n}"),
                n,
                cmd,
                &out,
                &tree,
                &log,
            ));
        }
        // The same with `Config::pipeline_passive` (vsftpd takes it; off by default because
        // pyftpdlib and libunftp do not).
        for &n in &o.sessions {
            let mut cmd = Command::new(&mirror_bin);
            cmd.arg(&url)
                .args(["-n", &n.to_string(), "--pipeline", "-o"])
                .arg(&out);
            runs.extend(run_client(
                &format!("ftp-mio mirror -n {n} --pipeline"),
                n,
                cmd,
                &out,
                &tree,
                &log,
            ));
        }
        if lftp {
            for &n in &o.sessions {
                let script = format!(
                    "set ftp:ssl-allow no; set net:max-retries 2; set net:timeout 30; \
                     set cmd:fail-exit yes; set xfer:log no; \
                     open ftp://{USER}:{PASSWORD}@127.0.0.1:{port}; \
                     mirror --parallel={n} /tree {}",
                    out.display()
                );
                let mut cmd = Command::new("lftp");
                cmd.args(["-c", &script]);
                runs.extend(run_client(
                    &format!("lftp mirror --parallel={n}"),
                    n,
                    cmd,
                    &out,
                    &tree,
                    &log,
                ));
            }
        }
        let stats = link.stats();
        drop(link);
        tables.push((rtt_ms, runs, stats, noop));
        print_table(o, tables.last().expect("just pushed"));
    }
}

type Table = (u64, Vec<Run>, ftp_tests::link::LinkStats, Duration);

/// The median time of a NOOP through the link (20 of them, one session).
fn noop_rtt(addr: std::net::SocketAddr) -> Duration {
    let mut ftp = Ftp::connect(addr).expect("connect");
    ftp.login(USER, PASSWORD).expect("login");
    let mut times: Vec<Duration> = (0..20)
        .map(|_| {
            let started = Instant::now();
            ftp.noop().expect("NOOP");
            started.elapsed()
        })
        .collect();
    let _ = ftp.quit();
    times.sort();
    times[times.len() / 2]
}

fn print_table(o: &Options, (rtt_ms, runs, stats, noop): &Table) {
    println!(
        "\n## {} × {} B files from vsftpd, {rtt_ms} ms RTT (NOOP through the link: median \
         {:.2} ms; link: {} control and {} data connections, {} bytes down)\n",
        o.files,
        o.size,
        noop.as_secs_f64() * 1000.0,
        stats.control_connections,
        stats.data_connections,
        stats.bytes_down
    );
    println!("| client | time | files/s | RT/file/conn | vs 1 session | vs lftp same N |");
    println!("|---|---|---|---|---|---|");
    // a family: the client's name without its session count
    let family_of = |r: &Run| {
        if r.client.starts_with("lftp") {
            "lftp"
        } else if r.client.contains("--pipeline") {
            "ftp-mio --pipeline"
        } else if r.client.starts_with("ftp-mio") {
            "ftp-mio"
        } else {
            "ftp-blocking"
        }
    };
    let time_of = |family: &str, n: usize| {
        runs.iter()
            .find(|r| family_of(r) == family && r.conns == n)
            .map(|r| r.time.as_secs_f64())
    };
    for r in runs {
        let t = r.time.as_secs_f64();
        let rt = if *rtt_ms == 0 {
            "-".to_owned()
        } else {
            let per_conn = o.files as f64 / r.conns as f64;
            format!("{:.2}", t / (*rtt_ms as f64 / 1000.0) / per_conn)
        };
        let family = family_of(r);
        let vs_one = time_of(family, 1)
            .filter(|_| r.conns > 1)
            .map_or("-".to_owned(), |one| format!("{:.2}x", one / t));
        let vs_lftp = (family != "lftp")
            .then(|| time_of("lftp", r.conns))
            .flatten()
            .map_or("-".to_owned(), |l| format!("{:.2}x", l / t));
        println!(
            "| {} | {:.2} s | {:.0} | {rt} | {vs_one} | {vs_lftp} |",
            r.client,
            t,
            o.files as f64 / t
        );
    }
    println!("\ncommands the server received, per file:\n");
    for r in runs {
        let per_file: Vec<String> = r
            .commands
            .iter()
            .map(|(verb, n)| format!("{verb} {:.2}", *n as f64 / o.files as f64))
            .collect();
        println!("- {}: {}", r.client, per_file.join(", "));
    }
}
