//! Downloads a directory tree with N parallel FTP sessions on one thread, with a progress
//! line.
//!
//! ```text
//! cargo run -p ftp-mio --example mirror -- [ftp://user:pass@host:port/path/] [-n SESSIONS] [-o DIR]
//! ```
//!
//! Options may stand anywhere (`--` ends them). Without a URL it starts the in-process
//! libunftp test server over a generated tree (three levels, a few hundred files), mirrors it
//! and checks every byte. The URL is read by `ftp_sansio::url` (RFC 1738): anonymous without a
//! user, and every path segment is one `CWD` step of each session before it lists anything.
//! Directories are listed with `LIST` (parsed by `ftp_sansio::listing`), files fetched with
//! `RETR`; each session keeps a few operations queued so the next command goes out the moment
//! a reply arrives. Name resolution happens once, before the event loop (it may block);
//! everything after is non-blocking.
//!
//! What it writes: every remote name passes `ftp_sansio::listing::check_local_name` first
//! (no `.`, `..`, `/`, `\`, NUL or control characters), and is refused otherwise; nothing is
//! written through a local symbolic link. A file is downloaded into `NAME.ftp-part` (created
//! afresh, never through a link) and renamed to `NAME` only when its transfer succeeded with
//! the size the listing announced; a failed one leaves nothing. A failure is reported and the
//! mirror goes on with the rest.
//!
//! Exit status: 0 when every file arrived, 1 when anything failed or was refused (a refused
//! connection, a wrong password, a file, a local folder), 2 for a usage error; a summary line
//! is printed in every case.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ffi::OsStr;
use std::fs::{self, OpenOptions};
use std::io::{IsTerminal, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ftp_mio::{OpId, SessionId, Sessions};
use ftp_sansio::listing::{check_local_name, parse_list, EntryKind};
use ftp_sansio::session::{Config, Outcome};
use ftp_sansio::time::Timestamp;
use ftp_sansio::url::{FtpUrl, Scheme};
use mio::{Events, Poll, Token};

/// Where to fetch from.
struct Target {
    addr: SocketAddr,
    user: String,
    password: String,
    /// The `CWD` steps to the top folder (RFC 1738: one per URL segment).
    cwd: Vec<String>,
}

/// One piece of work. Remote paths are relative to the top folder, as bytes (names need not
/// be UTF-8).
enum Job {
    /// List a remote directory; its entries become more jobs.
    List { remote: Vec<u8>, local: PathBuf },
    /// Fetch a remote file into a local one.
    Get {
        remote: Vec<u8>,
        local: PathBuf,
        size: Option<u64>,
    },
}

const USAGE: &str = "usage: mirror [ftp://[user[:pass]@]host[:port]/path/] [-n SESSIONS] [-o DIR]";

/// The command line.
#[derive(Debug, PartialEq, Eq)]
struct Args {
    url: Option<String>,
    sessions: usize,
    out: Option<PathBuf>,
    help: bool,
}

/// Parses the command line (without the program name); options may stand anywhere.
fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut parsed = Args {
        url: None,
        sessions: 8,
        out: None,
        help: false,
    };
    let mut it = args.iter();
    let mut operands_only = false;
    while let Some(a) = it.next() {
        match a.as_str() {
            _ if operands_only => {}
            "--" => {
                operands_only = true;
                continue;
            }
            "-n" | "--sessions" => {
                let n = it.next().ok_or("-n needs a number of sessions")?;
                parsed.sessions = match n.parse::<usize>() {
                    Ok(n @ 1..=4096) => n,
                    _ => return Err(format!("-n {n:?}: expected a number from 1 to 4096")),
                };
                continue;
            }
            "-o" | "--output" => {
                let dir = it.next().ok_or("-o needs a folder")?;
                parsed.out = Some(PathBuf::from(dir));
                continue;
            }
            "-h" | "--help" => {
                parsed.help = true;
                continue;
            }
            s if s.starts_with('-') && s.len() > 1 => return Err(format!("unknown option {s}")),
            _ => {}
        }
        if parsed.url.replace(a.clone()).is_some() {
            return Err("only one URL, please".into());
        }
    }
    Ok(parsed)
}

/// Resolves a URL into a [`Target`] (the one blocking step, before the event loop).
fn target_of(url: &FtpUrl) -> Result<Target, String> {
    if url.scheme() == Scheme::Ftps {
        return Err("ftps:// is not supported by this example".into());
    }
    let addr = (url.host(), url.port())
        .to_socket_addrs()
        .map_err(|e| format!("{}: {e}", url.host()))?
        .next()
        .ok_or_else(|| format!("{}: the host has no address", url.host()))?;
    let (user, password) = url.credentials();
    Ok(Target {
        addr,
        user: user.to_owned(),
        password: password.to_owned(),
        cwd: url.segments().to_vec(),
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("mirror: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if args.help {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    // The default server lives as long as `server`.
    let (target, server) = match &args.url {
        Some(u) => {
            let url = match FtpUrl::parse(u) {
                Ok(url) => url,
                Err(e) => {
                    eprintln!("mirror: bad URL: {e}\n{USAGE}");
                    return ExitCode::from(2);
                }
            };
            match target_of(&url) {
                Ok(t) => (t, None),
                Err(e) => {
                    eprintln!("mirror: {e}\nmirror: nothing copied");
                    return ExitCode::FAILURE;
                }
            }
        }
        None => {
            let (t, server) = demo_server();
            (t, Some(server))
        }
    };
    let out = args.out.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("ftp-mio-mirror-{}", std::process::id()))
    });
    if let Err(e) = fs::create_dir_all(&out) {
        eprintln!("mirror: {}: {e}\nmirror: nothing copied", out.display());
        return ExitCode::FAILURE;
    }

    let started = Instant::now();
    let stats = mirror(&target, args.sessions, &out);
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
    for f in &stats.failures {
        eprintln!("mirror: failed: {f}");
    }
    eprintln!(
        "mirror: {} files, {} directories, {:.1} MiB in {:.2?} with {} sessions on one thread; {} refused, {} failures; into {}",
        stats.files,
        stats.dirs,
        stats.bytes as f64 / (1 << 20) as f64,
        started.elapsed(),
        args.sessions,
        stats.refused,
        stats.failures.len(),
        out.display()
    );
    let mut ok = stats.failures.is_empty() && stats.refused == 0;
    if let Some(server) = &server {
        let differing = verify(&server.root, &out);
        eprintln!("mirror: verified against the server's files: {differing} differ");
        ok &= differing == 0;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[derive(Default)]
struct Stats {
    files: u64,
    dirs: u64,
    bytes: u64,
    refused: u64,
    failures: Vec<String>,
}

/// A session on its way to being ready: the operations (greeting, login, `CWD`s) it waits for.
struct Starting {
    left: usize,
}

/// `NAME.ftp-part` next to `local`.
fn part_path(local: &Path) -> PathBuf {
    let mut name = local.file_name().unwrap_or_default().to_os_string();
    name.push(".ftp-part");
    local.with_file_name(name)
}

/// Creates `part` afresh: an old one (or a symbolic link planted under its name) is removed
/// first, and `create_new` never follows a link.
fn create_part(part: &Path) -> std::io::Result<fs::File> {
    match fs::remove_file(part) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    OpenOptions::new().write(true).create_new(true).open(part)
}

/// `dir/name` (just `name` at the top).
fn join_remote(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = dir.to_vec();
    if !p.is_empty() {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

fn shown(remote: &[u8]) -> String {
    if remote.is_empty() {
        ".".into()
    } else {
        format!("{:?}", String::from_utf8_lossy(remote))
    }
}

/// What an entry in the way of a local name is, if anything forbids writing there.
fn in_the_way(local: &Path, want_dir: bool) -> Option<&'static str> {
    match fs::symlink_metadata(local) {
        Ok(m) if m.file_type().is_symlink() => Some("a symbolic link"),
        Ok(m) if m.is_dir() && !want_dir => Some("a directory"),
        Ok(m) if !m.is_dir() && want_dir => Some("a file"),
        _ => None,
    }
}

/// A message on stderr, over the progress line when there is one.
fn note(msg: &str) {
    if std::io::stderr().is_terminal() {
        eprintln!("\r\x1b[K{msg}");
    } else {
        eprintln!("{msg}");
    }
}

/// Turns one directory listing into jobs.
fn plan(
    listing: &[u8],
    remote: &[u8],
    local: &Path,
    now: Timestamp,
    queue: &mut VecDeque<Job>,
    stats: &mut Stats,
) {
    for entry in parse_list(listing, now).filter_map(|l| l.entry()) {
        let name = entry.name();
        if matches!(entry.kind(), EntryKind::CurrentDir | EntryKind::ParentDir)
            || (entry.kind() == EntryKind::Dir && (name == b"." || name == b".."))
        {
            continue;
        }
        if let Err(why) = check_local_name(name) {
            note(&format!(
                "mirror: refusing remote name {:?} in {}: {why}",
                entry.name_lossy(),
                shown(remote)
            ));
            stats.refused += 1;
            continue;
        }
        let want_dir = match entry.kind() {
            EntryKind::Dir => true,
            EntryKind::File => false,
            _ => continue, // links, devices: not followed
        };
        let child = join_remote(remote, name);
        let target = local.join(OsStr::from_bytes(name));
        if let Some(what) = in_the_way(&target, want_dir) {
            note(&format!(
                "mirror: refusing {}: {what} is in the way",
                target.display()
            ));
            stats.refused += 1;
            continue;
        }
        if want_dir {
            match fs::create_dir(&target) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    stats.failures.push(format!("{}: {e}", target.display()));
                    continue;
                }
            }
            // directories first: they uncover more work
            queue.push_front(Job::List {
                remote: child,
                local: target,
            });
        } else {
            queue.push_back(Job::Get {
                remote: child,
                local: target,
                size: entry.size(),
            });
        }
    }
}

/// The event loop: connects and logs in every session, changes into the top folder, then
/// keeps every ready session fed from one job queue until it is empty.
fn mirror(target: &Target, n: usize, out: &Path) -> Stats {
    let mut stats = Stats::default();
    let mut poll = match Poll::new() {
        Ok(p) => p,
        Err(e) => {
            stats.failures.push(format!("mio poll: {e}"));
            return stats;
        }
    };
    let mut ftp = match Sessions::new(poll.registry(), Token(0), n) {
        Ok(s) => s,
        Err(e) => {
            stats.failures.push(format!("sessions: {e}"));
            return stats;
        }
    };
    let mut events = Events::with_capacity(256);
    let mut queue = VecDeque::from([Job::List {
        remote: Vec::new(),
        local: out.to_path_buf(),
    }]);
    let mut running: HashMap<OpId, Job> = HashMap::new();
    let mut parts: HashMap<OpId, PathBuf> = HashMap::new();
    let mut ready: Vec<SessionId> = Vec::new();
    let mut starting: HashMap<SessionId, Starting> = HashMap::new();
    let mut closing = false;
    let config = Config {
        reply_timeout: Some(Duration::from_secs(30)),
        data_timeout: Some(Duration::from_secs(30)),
        ..Config::default()
    };
    for _ in 0..n {
        let started = ftp.connect(target.addr, config.clone()).and_then(|(s, _)| {
            ftp.login(s, &target.user, &target.password)?;
            for step in &target.cwd {
                ftp.cwd(s, step)?;
            }
            Ok(s)
        });
        match started {
            Ok(s) => {
                starting.insert(
                    s,
                    Starting {
                        left: 2 + target.cwd.len(),
                    },
                );
            }
            Err(e) => stats
                .failures
                .push(format!("connect to {}: {e}", target.addr)),
        }
    }
    let now_ts = server_now();
    let mut last_line = Instant::now();
    let show_progress = std::io::stderr().is_terminal();
    let mut setup_failures: Vec<String> = Vec::new();
    // sessions that failed to start: what else they report is a consequence
    let mut failed: HashSet<SessionId> = HashSet::new();
    let mut ever_ready = false;

    loop {
        // Feed every ready session (three operations in hand each), or say goodbye when all
        // is done.
        if !closing {
            for &s in &ready {
                while ftp.pending(s) < 3 {
                    let Some(job) = queue.pop_front() else { break };
                    let op = match &job {
                        Job::List { remote, .. } => {
                            if remote.is_empty() {
                                ftp.list(s, None)
                            } else {
                                ftp.list(s, remote)
                            }
                        }
                        Job::Get { remote, local, .. } => {
                            let part = part_path(local);
                            match create_part(&part) {
                                Ok(file) => {
                                    let op = ftp.retrieve(s, remote, file);
                                    if let Ok(op) = &op {
                                        parts.insert(*op, part);
                                    } else {
                                        let _ = fs::remove_file(&part);
                                    }
                                    op
                                }
                                Err(e) => {
                                    stats.failures.push(format!("{}: {e}", part.display()));
                                    continue;
                                }
                            }
                        }
                    };
                    match op {
                        Ok(op) => {
                            running.insert(op, job);
                        }
                        Err(e) => stats.failures.push(format!("{}: {e}", describe(&job))),
                    }
                }
            }
            let idle = queue.is_empty() && running.is_empty();
            // Done when the work is (sessions still starting are not waited for), or when no
            // session is left to do it.
            let done = idle && (starting.is_empty() || ever_ready);
            if done || (ready.is_empty() && starting.is_empty()) {
                for (&s, _) in starting.iter() {
                    failed.insert(s);
                    let _ = ftp.disconnect(s);
                }
                starting.clear();
                if !idle {
                    stats.failures.push(match setup_failures.first() {
                        // every session failed before it could take work: say why once
                        Some(why) if !ever_ready => {
                            format!("no session could start ({why}); nothing copied")
                        }
                        _ => "every session ended; the rest was not copied".into(),
                    });
                }
                closing = true;
                for &s in &ready {
                    let _ = ftp.quit(s);
                }
            }
        }
        if closing && ftp.is_empty() {
            break;
        }

        let timeout = ftp.poll_timeout().map_or(Duration::from_millis(200), |d| {
            d.min(Duration::from_millis(200))
        });
        if let Err(e) = poll.poll(&mut events, Some(timeout)) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                stats.failures.push(format!("mio poll: {e}"));
                break;
            }
        }
        for event in events.iter() {
            ftp.handle_event(event);
        }
        ftp.handle_timeouts();

        while let Some(done) = ftp.poll_completion() {
            let Some(job) = running.remove(&done.op) else {
                // greeting, login, CWD, quit
                if let Some(st) = starting.get_mut(&done.session) {
                    match &done.result {
                        Ok(_) => {
                            st.left -= 1;
                            if st.left == 0 {
                                starting.remove(&done.session);
                                ready.push(done.session);
                                ever_ready = true;
                            }
                        }
                        Err(e) => {
                            starting.remove(&done.session);
                            failed.insert(done.session);
                            let _ = ftp.disconnect(done.session);
                            setup_failures.push(format!("{e}"));
                            stats
                                .failures
                                .push(format!("session {} ({}): {e}", done.session, target.addr));
                        }
                    }
                } else if let Err(e) = &done.result {
                    if !closing && !failed.contains(&done.session) {
                        stats
                            .failures
                            .push(format!("session {}: {e}", done.session));
                    }
                }
                ready.retain(|&s| ftp.session(s).is_some());
                continue;
            };
            let part = parts.remove(&done.op);
            match (job, done.result) {
                (Job::List { remote, local }, Ok(_)) => {
                    stats.dirs += 1;
                    let listing = done.data.unwrap_or_default();
                    plan(&listing, &remote, &local, now_ts, &mut queue, &mut stats);
                }
                (
                    Job::Get {
                        remote,
                        local,
                        size,
                    },
                    Ok(Outcome::Transferred { bytes, .. }),
                ) => {
                    if let Some(size) = size.filter(|&s| s != bytes) {
                        stats.failures.push(format!(
                            "RETR {}: {bytes} bytes arrived, the listing said {size}",
                            shown(&remote)
                        ));
                    } else {
                        let renamed = match &part {
                            Some(part) => fs::rename(part, &local),
                            None => Ok(()),
                        };
                        match renamed {
                            Ok(()) => {
                                stats.files += 1;
                                stats.bytes += bytes;
                            }
                            Err(e) => stats.failures.push(format!("{}: {e}", local.display())),
                        }
                    }
                }
                (job, Ok(other)) => stats
                    .failures
                    .push(format!("{}: unexpected {other:?}", describe(&job))),
                (job, Err(e)) => stats.failures.push(format!("{}: {e}", describe(&job))),
            }
            if let Some(part) = part.filter(|p| p.exists()) {
                // a failed transfer leaves nothing behind
                let _ = fs::remove_file(part);
            }
            ready.retain(|&s| ftp.session(s).is_some());
            if ready.is_empty() && starting.is_empty() && !closing {
                stats.failures.push("every session ended".into());
                for job in queue.drain(..) {
                    stats.failures.push(format!("{}: not done", describe(&job)));
                }
            }
        }

        // a session that ended before it was ready, without saying why (every completion of
        // this round has been read)
        starting.retain(|&s, _| {
            let alive = ftp.session(s).is_some();
            if !alive {
                failed.insert(s);
                stats
                    .failures
                    .push(format!("session {s}: ended before it was ready"));
            }
            alive
        });

        if show_progress && last_line.elapsed() >= Duration::from_millis(200) {
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
    // Whatever did not finish (its session gone without a word) leaves no `.ftp-part` behind.
    for (op, job) in running.drain() {
        if let Some(part) = parts.remove(&op) {
            let _ = fs::remove_file(part);
        }
        stats
            .failures
            .push(format!("{}: not finished", describe(&job)));
    }
    stats
}

fn describe(job: &Job) -> String {
    match job {
        Job::List { remote, .. } => format!("LIST {}", shown(remote)),
        Job::Get { remote, .. } => format!("RETR {}", shown(remote)),
    }
}

/// Today, for listing lines that give a time of day instead of a year.
fn server_now() -> Timestamp {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Timestamp::from_unix_seconds(secs).unwrap_or_else(|| Timestamp::date(2025, 1, 1).unwrap())
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
        cwd: vec!["tree".into()],
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
    fn urls_and_options() {
        let url = FtpUrl::parse("FTP://me:p%40ss@127.0.0.1:2121/pub/a%20b/").unwrap();
        let t = target_of(&url).unwrap();
        assert_eq!(t.addr, "127.0.0.1:2121".parse().unwrap());
        assert_eq!((t.user.as_str(), t.password.as_str()), ("me", "p@ss"));
        assert_eq!(t.cwd, ["pub", "a b"]);
        // anonymous: the empty user of the session's Login rule
        let t = target_of(&FtpUrl::parse("ftp://[::1]").unwrap()).unwrap();
        assert_eq!(t.addr, "[::1]:21".parse().unwrap());
        assert_eq!((t.user.as_str(), t.cwd.len()), ("", 0));
        assert!(target_of(&FtpUrl::parse("ftps://127.0.0.1/").unwrap()).is_err());

        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let a = parse_args(&args(&["-o", "out", "ftp://h/", "-n", "3"])).unwrap();
        assert_eq!(a.url.as_deref(), Some("ftp://h/"));
        assert_eq!((a.sessions, a.out), (3, Some(PathBuf::from("out"))));
        assert_eq!(parse_args(&args(&[])).unwrap().sessions, 8);
        for bad in [
            &["-n", "abc"][..],
            &["-n", "0"],
            &["-n"],
            &["-o"],
            &["--bogus"],
            &["ftp://a/", "ftp://b/"],
        ] {
            assert!(parse_args(&args(bad)).is_err(), "{bad:?}");
        }
        let a = parse_args(&args(&["--", "-weird-url"])).unwrap();
        assert_eq!(a.url.as_deref(), Some("-weird-url"));
    }
}
