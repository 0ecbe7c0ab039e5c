//! Downloads a directory tree with N parallel FTP sessions on one thread, with a progress
//! line.
//!
//! ```text
//! cargo run -p ftp-mio --example mirror -- [ftp://user:pass@host:port/path] [-n SESSIONS] [-o DIR]
//! ```
//!
//! Without a URL it starts the in-process libunftp test server over a generated tree (three
//! levels, a few hundred files), mirrors it and checks every byte. Directories are listed with
//! `LIST` (parsed by `ftp_sansio::listing`), files fetched with `RETR` straight into local files;
//! each session keeps two operations queued so the next command goes out the moment a reply
//! arrives. Name resolution happens once, before the event loop (it may block); everything
//! after is non-blocking.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ftp_mio::{OpId, SessionId, Sessions};
use ftp_sansio::listing::{parse_list, EntryKind};
use ftp_sansio::session::{Config, Outcome};
use ftp_sansio::time::Timestamp;
use mio::{Events, Poll, Token};

/// Where to fetch from.
struct Target {
    addr: SocketAddr,
    user: String,
    password: String,
    path: String,
}

/// One piece of work.
enum Job {
    /// List a remote directory; its entries become more jobs.
    List { remote: String, local: PathBuf },
    /// Fetch a remote file into a local one.
    Get { remote: String, local: PathBuf },
}

fn main() {
    let mut url = None;
    let mut sessions = 8usize;
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-n" => sessions = args.next().and_then(|n| n.parse().ok()).unwrap_or(8).max(1),
            "-o" => out = args.next().map(PathBuf::from),
            "-h" | "--help" => {
                eprintln!("usage: mirror [ftp://user:pass@host:port/path] [-n SESSIONS] [-o DIR]");
                return;
            }
            _ => url = Some(a),
        }
    }

    // The default server lives as long as `_server`.
    let (target, _server) = match url {
        Some(u) => match parse_url(&u) {
            Ok(t) => (t, None),
            Err(e) => {
                eprintln!("bad URL {u:?}: {e}");
                std::process::exit(2);
            }
        },
        None => {
            let (t, server) = demo_server();
            (t, Some(server))
        }
    };
    let out = out.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("ftp-mio-mirror-{}", std::process::id()))
    });
    std::fs::create_dir_all(&out).expect("output directory");

    let started = Instant::now();
    let stats = mirror(&target, sessions, &out);
    eprintln!();
    println!(
        "{} files, {} directories, {:.1} MiB in {:.2?} with {} sessions on one thread; {} failures; into {}",
        stats.files,
        stats.dirs,
        stats.bytes as f64 / (1 << 20) as f64,
        started.elapsed(),
        sessions,
        stats.failures.len(),
        out.display()
    );
    for f in &stats.failures {
        println!("  failed: {f}");
    }
    if let Some(server) = &_server {
        let differing = verify(&server.root, &out);
        println!("verified against the server's files: {differing} differ");
        if differing > 0 || !stats.failures.is_empty() {
            std::process::exit(1);
        }
    }
}

#[derive(Default)]
struct Stats {
    files: u64,
    dirs: u64,
    bytes: u64,
    failures: Vec<String>,
}

/// The event loop: keeps every session fed from one job queue until it is empty.
fn mirror(target: &Target, n: usize, out: &Path) -> Stats {
    let mut poll = Poll::new().expect("poll");
    let mut ftp = Sessions::new(poll.registry(), Token(0), n).expect("sessions");
    let mut events = Events::with_capacity(256);
    let mut queue = VecDeque::from([Job::List {
        remote: target.path.clone(),
        local: out.to_path_buf(),
    }]);
    let mut running: HashMap<OpId, Job> = HashMap::new();
    let mut stats = Stats::default();
    let mut ready: Vec<SessionId> = Vec::new();
    let mut closing = false;
    let config = Config {
        reply_timeout: Some(Duration::from_secs(30)),
        data_timeout: Some(Duration::from_secs(30)),
        ..Config::default()
    };
    for _ in 0..n {
        let (s, _greeting) = ftp.connect(target.addr, config.clone()).expect("connect");
        ftp.login(s, &target.user, &target.password).expect("login");
        ready.push(s);
    }
    let now_ts = server_now();
    let mut last_line = Instant::now();

    loop {
        // Feed every session (three operations in hand each), or say goodbye when all is done.
        if !closing {
            for &s in &ready {
                while ftp.pending(s) < 3 {
                    let Some(job) = queue.pop_front() else { break };
                    let op = match &job {
                        Job::List { remote, .. } => ftp.list(s, Some(remote)),
                        Job::Get { remote, local } => match std::fs::File::create(local) {
                            Ok(file) => ftp.retrieve(s, remote, file),
                            Err(e) => {
                                stats.failures.push(format!("{}: {e}", local.display()));
                                continue;
                            }
                        },
                    };
                    match op {
                        Ok(op) => {
                            running.insert(op, job);
                        }
                        Err(e) => {
                            stats.failures.push(format!("{}: {e}", describe(&job)));
                        }
                    }
                }
            }
            if queue.is_empty() && running.is_empty() {
                closing = true;
                for &s in &ready {
                    let _ = ftp.quit(s);
                }
            }
        }
        if closing && ftp.is_empty() {
            break;
        }

        poll.poll(
            &mut events,
            ftp.poll_timeout(Instant::now())
                .map(|d| d.min(Duration::from_millis(200))),
        )
        .expect("poll");
        for event in events.iter() {
            ftp.handle_event(event);
        }
        ftp.handle_timeouts(Instant::now());

        while let Some(done) = ftp.poll_completion() {
            let Some(job) = running.remove(&done.op) else {
                // greeting, login, quit
                if let Err(e) = &done.result {
                    if !closing {
                        stats
                            .failures
                            .push(format!("session {}: {e}", done.session));
                    }
                    ready.retain(|&s| s != done.session || ftp.session(s).is_some());
                }
                continue;
            };
            match (job, done.result) {
                (Job::List { remote, local }, Ok(_)) => {
                    stats.dirs += 1;
                    let listing = done.data.unwrap_or_default();
                    for entry in parse_list(&listing, now_ts).filter_map(|l| l.entry()) {
                        let name = entry.name_lossy();
                        if name == "." || name == ".." || name.contains('/') {
                            continue;
                        }
                        let remote = format!("{}/{}", remote.trim_end_matches('/'), name);
                        let local = local.join(&*name);
                        match entry.kind() {
                            // directories first: they uncover more work
                            EntryKind::Dir if std::fs::create_dir_all(&local).is_ok() => {
                                queue.push_front(Job::List { remote, local })
                            }
                            EntryKind::Dir => stats
                                .failures
                                .push(format!("cannot create {}", local.display())),
                            EntryKind::File => queue.push_back(Job::Get { remote, local }),
                            _ => {}
                        }
                    }
                }
                (Job::Get { .. }, Ok(Outcome::Transferred { bytes, .. })) => {
                    stats.files += 1;
                    stats.bytes += bytes;
                }
                (job, Ok(other)) => stats
                    .failures
                    .push(format!("{}: unexpected {other:?}", describe(&job))),
                (job, Err(e)) => stats.failures.push(format!("{}: {e}", describe(&job))),
            }
            ready.retain(|&s| ftp.session(s).is_some());
            if ready.is_empty() && !closing {
                stats.failures.push("every session ended".into());
                return stats;
            }
        }

        if last_line.elapsed() >= Duration::from_millis(200) {
            last_line = Instant::now();
            let in_flight: u64 = ready.iter().filter_map(|&s| ftp.progress(s)).sum();
            eprint!(
                "\r{:>6} files  {:>5} dirs  {:>9.1} MiB  {:>5} queued  {} sessions ",
                stats.files,
                stats.dirs,
                (stats.bytes + in_flight) as f64 / (1 << 20) as f64,
                queue.len() + running.len(),
                ftp.len()
            );
            let _ = std::io::stderr().flush();
        }
    }
    stats
}

fn describe(job: &Job) -> String {
    match job {
        Job::List { remote, .. } => format!("LIST {remote}"),
        Job::Get { remote, .. } => format!("RETR {remote}"),
    }
}

/// Today, for listing lines that give a time of day instead of a year.
fn server_now() -> Timestamp {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Timestamp::from_unix_seconds(secs).unwrap_or_else(|| Timestamp::date(2025, 1, 1).unwrap())
}

/// `ftp://[user[:password]@]host[:port][/path]`.
fn parse_url(url: &str) -> Result<Target, String> {
    let rest = url
        .strip_prefix("ftp://")
        .ok_or("the URL must start with ftp://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let (user, password) = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((a, b)) => (decode(a)?, decode(b)?),
            None => (decode(u)?, String::new()),
        },
        None => ("anonymous".to_owned(), String::new()),
    };
    let with_port = if hostport.ends_with(']') || !hostport.contains(':') {
        format!("{hostport}:21")
    } else {
        hostport.to_owned()
    };
    let addr = with_port
        .to_socket_addrs()
        .map_err(|e| format!("{with_port}: {e}"))?
        .next()
        .ok_or("the host has no address")?;
    Ok(Target {
        addr,
        user,
        password,
        path: decode(path)?,
    })
}

/// Undoes `%XX` escapes.
fn decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or("truncated %-escape")?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| "bad %-escape")?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "not UTF-8".to_owned())
}

/// The default: the in-process libunftp server over a generated tree.
struct DemoServer {
    _server: ftp_tests::LocalServer,
    root: PathBuf,
}

fn demo_server() -> (Target, DemoServer) {
    use ftp_tests::TestServer;
    let server = ftp_tests::LocalServer::start();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for a in 0..4 {
        for b in 0..5 {
            for f in 0..20 {
                let size = match next() % 20 {
                    0 => 1 << 20,
                    1..=4 => (next() % 200_000) as usize,
                    _ => (next() % 8_000) as usize,
                };
                let data: Vec<u8> = (0..size).map(|_| next() as u8).collect();
                server
                    .write_file(&format!("tree/d{a}/e{b}/file{f}.bin"), &data)
                    .expect("demo tree");
            }
        }
        server
            .write_file(&format!("tree/d{a}/README"), b"top-level file\n")
            .expect("demo tree");
    }
    let target = Target {
        addr: server.addr(),
        user: ftp_tests::USER.into(),
        password: ftp_tests::PASSWORD.into(),
        path: "/tree".into(),
    };
    let root = server.local_path("tree");
    eprintln!(
        "no URL given: mirroring the in-process libunftp server at ftp://{}/tree",
        server.addr()
    );
    (
        target,
        DemoServer {
            _server: server,
            root,
        },
    )
}

/// How many files under `remote_root` differ from (or are missing in) `local_root`.
fn verify(remote_root: &Path, local_root: &Path) -> usize {
    let mut differing = 0;
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let Ok(dir) = std::fs::read_dir(remote_root.join(&rel)) else {
            return differing + 1;
        };
        for entry in dir.flatten() {
            let rel = rel.join(entry.file_name());
            if entry.path().is_dir() {
                stack.push(rel);
            } else if std::fs::read(entry.path()).ok() != std::fs::read(local_root.join(&rel)).ok()
            {
                differing += 1;
            }
        }
    }
    differing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_the_demo_tree_byte_for_byte() {
        let (target, server) = demo_server();
        let out = std::env::temp_dir().join(format!("ftp-mio-mirror-test-{}", std::process::id()));
        std::fs::create_dir_all(&out).unwrap();
        let stats = mirror(&target, 4, &out);
        let differing = verify(&server.root, &out);
        std::fs::remove_dir_all(&out).unwrap();
        assert!(stats.failures.is_empty(), "{:?}", stats.failures);
        assert_eq!(differing, 0);
        assert_eq!(stats.files, 4 * (5 * 20 + 1));
        assert_eq!(stats.dirs, 1 + 4 + 4 * 5);
    }

    #[test]
    fn urls() {
        let t = parse_url("ftp://me:p%40ss@127.0.0.1:2121/pub/a%20b").unwrap();
        assert_eq!(t.addr, "127.0.0.1:2121".parse().unwrap());
        assert_eq!((t.user.as_str(), t.password.as_str()), ("me", "p@ss"));
        assert_eq!(t.path, "/pub/a b");
        let t = parse_url("ftp://[::1]").unwrap();
        assert_eq!(t.addr, "[::1]:21".parse().unwrap());
        assert_eq!((t.user.as_str(), t.path.as_str()), ("anonymous", "/"));
        assert!(parse_url("http://127.0.0.1/").is_err());
        assert!(parse_url("ftp://127.0.0.1/%zz").is_err());
    }
}
