//! Downloads a directory tree with N parallel FTP sessions on one thread, with a progress
//! line.
//!
//! ```text
//! cargo run -p ftp-mio --example mirror -- [ftp://user:pass@host:port/path/] [-n SESSIONS] [-o DIR] [--timeout SECS] [--pipeline]
//! ```
//!
//! Options may stand anywhere (`--` ends them). Without a URL it starts the in-process
//! libunftp test server over a generated tree (three levels, a few hundred files), mirrors it
//! and checks every byte. The URL is read by `ftp_sansio::url` (RFC 1738): anonymous without a
//! user, and every path segment is one `CWD` step of each session before it lists anything.
//! Directories are listed with `LIST` (parsed by `ftp_sansio::listing`), files fetched with
//! `RETR`; each session keeps one operation queued behind the one in flight, so the next
//! command goes out the moment a reply arrives while the last files still spread over every
//! session. Name resolution happens once, before the event loop (it may block); everything
//! after is non-blocking. `--timeout` (default 30 s) bounds the wait for each reply and for a
//! data connection that makes no progress. `--pipeline` turns on
//! `Config::pipeline_passive`: each session sends the next file's `EPSV` right behind the
//! running `RETR`, one round trip less per file (vsftpd, ProFTPD and Pure-FTPd take it;
//! pyftpdlib and libunftp do not: see that switch's documentation), so it is off by default.
//!
//! Bad links: what to do after a failure is decided by `ftp_sansio::retry` (the same policy as
//! every client of this workspace). A transfer that fails transiently (a data connection cut,
//! reset or stalled, a `425`/`426`/`450`/`451`, a download shorter than the listing said) is
//! tried again, up to 4 more times with an exponential backoff, resuming with `REST` from what
//! its `NAME.ftp-part` already holds (from byte 0 when the server refuses `REST`). A session
//! whose control connection is lost (cut, reset, reply timeout, `421`) is connected again
//! with backoff (connect, login, the URL's `CWD` steps), and the work it held goes back to the
//! queue; so is a session whose connect or greeting failed (refused, timed out). At most 32
//! sessions connect at once (a crowd would overflow the server's listen backlog), and once
//! sessions are at work another one connects only while more work waits than the others
//! keep in hand (a login is not free: the server forks and authenticates for each). A
//! permanent failure (`530`, `550`, a local file that cannot be written, ...) is reported at
//! once.
//!
//! What it writes: every remote name passes `ftp_sansio::listing::check_local_name` first
//! (no `.`, `..`, `/`, `\`, NUL or control characters), and is refused otherwise; nothing is
//! written through a local symbolic link. A file is downloaded into `NAME.ftp-part` (created
//! afresh, never through a link; a retry appends to it, after checking it is still a plain
//! file) and renamed to `NAME` only when its transfer succeeded with the size the listing
//! announced; a file that failed for good leaves nothing. A failure is reported and the
//! mirror goes on with the rest.
//!
//! Exit status: 0 when every file arrived, 1 when anything failed or was refused (a refused
//! connection, a wrong password, a file, a local folder), 2 for a usage error; a summary line
//! (with the retries, resumes and reconnects) is printed in every case.

use std::collections::{HashMap, VecDeque};
use std::ffi::OsStr;
use std::fs::{self, OpenOptions};
use std::io::{IsTerminal, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ftp_mio::{Error, OpId, SessionId, Sessions};
use ftp_sansio::listing::{check_local_name, parse_list, EntryKind};
use ftp_sansio::retry::{Backoff, Recovery, Resume, Retries};
use ftp_sansio::session::{Config, OpError, Outcome, UsageError};
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

/// What one piece of work is. Remote paths are relative to the top folder, as bytes (names
/// need not be UTF-8).
enum Work {
    /// List a remote directory; its entries become more jobs.
    List { remote: Vec<u8>, local: PathBuf },
    /// Fetch a remote file into a local one.
    Get {
        remote: Vec<u8>,
        local: PathBuf,
        size: Option<u64>,
    },
}

/// One piece of work and its retries.
struct Job {
    work: Work,
    resume: Resume,
}

impl Job {
    fn new(work: Work) -> Job {
        Job {
            work,
            resume: Resume::new(Backoff::default()),
        }
    }
}

/// How many sessions may wait for their connect and greeting at once: vsftpd listens with a
/// backlog of 32, and connections beyond the backlog wait for SYN retransmissions (seconds)
/// and then for a greeting that may come after the reply timeout.
const MAX_CONNECTING: usize = 32;

const USAGE: &str =
    "usage: mirror [ftp://[user[:pass]@]host[:port]/path/] [-n SESSIONS] [-o DIR] [--timeout SECS] [--pipeline]";

/// The command line.
#[derive(Debug, PartialEq, Eq)]
struct Args {
    url: Option<String>,
    sessions: usize,
    out: Option<PathBuf>,
    /// Reply and data timeout.
    timeout: Duration,
    /// `Config::pipeline_passive`.
    pipeline: bool,
    help: bool,
}

/// Parses the command line (without the program name); options may stand anywhere.
fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut parsed = Args {
        url: None,
        sessions: 8,
        out: None,
        timeout: Duration::from_secs(30),
        pipeline: false,
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
            "--timeout" => {
                let t = it.next().ok_or("--timeout needs a number of seconds")?;
                parsed.timeout = match t.parse::<f64>() {
                    Ok(t) if (0.01..=3600.0).contains(&t) => Duration::from_secs_f64(t),
                    _ => {
                        return Err(format!(
                            "--timeout {t:?}: expected seconds from 0.01 to 3600"
                        ))
                    }
                };
                continue;
            }
            "--pipeline" => {
                parsed.pipeline = true;
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
    let stats = mirror(&target, args.sessions, &out, args.timeout, args.pipeline);
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
    for f in &stats.failures {
        eprintln!("mirror: failed: {f}");
    }
    eprintln!(
        "mirror: {} files, {} directories, {:.1} MiB in {:.2?} with {} sessions on one thread; {} refused, {} failures; {} retries ({} resumed), {} reconnects; into {}",
        stats.files,
        stats.dirs,
        stats.bytes as f64 / (1 << 20) as f64,
        started.elapsed(),
        args.sessions,
        stats.refused,
        stats.failures.len(),
        stats.retries,
        stats.resumed,
        stats.reconnects,
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
    /// Operations tried again after a transient failure.
    retries: u64,
    /// Downloads that went on with `REST` from a `.ftp-part`.
    resumed: u64,
    /// Connects after a session's first (a lost session, a refused connect, a timed-out
    /// greeting).
    reconnects: u64,
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

/// Opens the `part` of an earlier attempt to go on at `offset` (what `resume` decides from
/// what it holds): a plain file only (a symbolic link planted meanwhile is refused), cut
/// back to `offset` when that is less than it holds, opened for appending. Returns the file
/// and the offset. A part that vanished is created afresh (offset 0).
fn reopen_part(part: &Path, resume: &Resume) -> std::io::Result<(fs::File, u64)> {
    let held = match fs::symlink_metadata(part) {
        Ok(m) if m.is_file() => m.len(),
        Ok(_) => {
            return Err(std::io::Error::other(
                "not a plain file (a symbolic link?): refusing to resume into it",
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return create_part(part).map(|f| (f, 0))
        }
        Err(e) => return Err(e),
    };
    let offset = resume.offset(held);
    let file = OpenOptions::new().append(true).open(part)?;
    if offset < held {
        file.set_len(offset)?;
    }
    Ok((file, offset))
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
            queue.push_front(Job::new(Work::List {
                remote: child,
                local: target,
            }));
        } else {
            queue.push_back(Job::new(Work::Get {
                remote: child,
                local: target,
                size: entry.size(),
            }));
        }
    }
}

/// Where one of the N sessions stands. A session that is lost is connected again in the
/// same place (with a new [`SessionId`]).
enum Phase {
    /// Not connected: connects once `not_before` has passed and fewer than
    /// [`MAX_CONNECTING`] others are connecting.
    Idle { not_before: Instant },
    /// Connected; the greeting, login and `CWD`s (`left` of them) are in flight.
    Starting {
        session: SessionId,
        greeting: OpId,
        greeted: bool,
        left: usize,
    },
    /// Logged in and in the top folder: takes work.
    Ready(SessionId),
    /// Given up (a permanent failure, no retries left, or the mirror is over).
    Dead,
}

/// One of the N sessions, across its reconnects.
struct Slot {
    phase: Phase,
    /// Its reconnects since it last did useful work.
    retries: Retries,
    /// The first failure of its current connection that ended it (or failed its setup).
    lost: Option<(Recovery, String)>,
    /// How many times it connected.
    connects: u64,
}

impl Slot {
    fn session(&self) -> Option<SessionId> {
        match self.phase {
            Phase::Starting { session, .. } | Phase::Ready(session) => Some(session),
            _ => None,
        }
    }
}

/// A job on the wire: where its part file is and where the transfer started.
struct Running {
    job: Job,
    slot: usize,
    part: Option<PathBuf>,
    offset: u64,
}

/// A small xorshift generator for the backoff's jitter (the core takes random numbers as
/// arguments; it has no generator of its own).
struct Jitter(u64);

impl Jitter {
    fn new() -> Jitter {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Jitter((t ^ u64::from(std::process::id()).rotate_left(32)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// Everything the event loop keeps.
struct Mirror<'a> {
    target: &'a Target,
    config: Config,
    ftp: Sessions,
    stats: Stats,
    slots: Vec<Slot>,
    /// The slot of each open session.
    by_session: HashMap<SessionId, usize>,
    queue: VecDeque<Job>,
    /// Jobs waiting for their backoff to pass.
    delayed: Vec<(Instant, Job)>,
    running: HashMap<OpId, Running>,
    jitter: Jitter,
    closing: bool,
    ever_ready: bool,
    now_ts: Timestamp,
}

/// The event loop: connects and logs in every session (at most [`MAX_CONNECTING`] at once),
/// changes into the top folder, then keeps every ready session fed from one job queue until
/// it is empty; failures go through `ftp_sansio::retry`.
fn mirror(target: &Target, n: usize, out: &Path, timeout: Duration, pipeline: bool) -> Stats {
    let mut stats = Stats::default();
    let mut poll = match Poll::new() {
        Ok(p) => p,
        Err(e) => {
            stats.failures.push(format!("mio poll: {e}"));
            return stats;
        }
    };
    let ftp = match Sessions::new(poll.registry(), Token(0), n) {
        Ok(s) => s,
        Err(e) => {
            stats.failures.push(format!("sessions: {e}"));
            return stats;
        }
    };
    let started = Instant::now();
    let mut m = Mirror {
        target,
        config: Config {
            reply_timeout: Some(timeout),
            data_timeout: Some(timeout),
            pipeline_passive: pipeline,
            ..Config::default()
        },
        ftp,
        stats,
        slots: (0..n)
            .map(|_| Slot {
                phase: Phase::Idle {
                    not_before: started,
                },
                retries: Retries::new(Backoff::default()),
                lost: None,
                connects: 0,
            })
            .collect(),
        by_session: HashMap::new(),
        queue: VecDeque::from([Job::new(Work::List {
            remote: Vec::new(),
            local: out.to_path_buf(),
        })]),
        delayed: Vec::new(),
        running: HashMap::new(),
        jitter: Jitter::new(),
        closing: false,
        ever_ready: false,
        now_ts: server_now(),
    };
    let mut events = Events::with_capacity(256);
    let mut last_line = Instant::now();
    let show_progress = std::io::stderr().is_terminal();

    loop {
        let now = Instant::now();
        if !m.closing {
            m.wake_delayed(now);
            m.connect_idle(now);
            m.feed();
            m.check_done();
        }
        if m.closing && m.ftp.is_empty() {
            break;
        }

        let mut timeout = m
            .ftp
            .poll_timeout()
            .map_or(Duration::from_millis(200), |d| {
                d.min(Duration::from_millis(200))
            });
        let now = Instant::now();
        if let Some(due) = m.next_wakeup(now) {
            timeout = timeout.min(due.saturating_duration_since(now));
        }
        if let Err(e) = poll.poll(&mut events, Some(timeout)) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                m.stats.failures.push(format!("mio poll: {e}"));
                break;
            }
        }
        for event in events.iter() {
            m.ftp.handle_event(event);
        }
        m.ftp.handle_timeouts();
        while let Some(done) = m.ftp.poll_completion() {
            m.completed(done);
        }
        m.reap_lost();

        if show_progress && last_line.elapsed() >= Duration::from_millis(200) {
            last_line = Instant::now();
            let in_flight: u64 = m
                .slots
                .iter()
                .filter_map(|s| match s.phase {
                    Phase::Ready(id) => m.ftp.progress(id),
                    _ => None,
                })
                .sum();
            eprint!(
                "\r{:>6} files  {:>5} dirs  {:>9.1} MiB  {:>5} queued  {} sessions ",
                m.stats.files,
                m.stats.dirs,
                (m.stats.bytes + in_flight) as f64 / (1 << 20) as f64,
                m.queue.len() + m.delayed.len() + m.running.len(),
                m.ftp.len()
            );
            let _ = std::io::stderr().flush();
        }
    }
    // Whatever did not finish (its session gone without a word) leaves no `.ftp-part` behind.
    for (_, r) in m.running.drain() {
        if let Some(part) = r.part {
            let _ = fs::remove_file(part);
        }
        m.stats
            .failures
            .push(format!("{}: not finished", describe(&r.job)));
    }
    m.stats
}

impl Mirror<'_> {
    /// Moves the jobs whose backoff has passed to the front of the queue.
    fn wake_delayed(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.delayed.len() {
            if self.delayed[i].0 <= now {
                let (_, job) = self.delayed.swap_remove(i);
                self.queue.push_front(job);
            } else {
                i += 1;
            }
        }
    }

    /// The earliest time a delayed job or an idle session's backoff ends. (An idle session
    /// whose backoff has ended waits for a session event instead: a greeting, or more work.)
    fn next_wakeup(&self, now: Instant) -> Option<Instant> {
        let jobs = self.delayed.iter().map(|(t, _)| *t);
        let slots = self.slots.iter().filter_map(|s| match s.phase {
            Phase::Idle { not_before } if not_before > now => Some(not_before),
            _ => None,
        });
        jobs.chain(slots).min()
    }

    /// Connects idle sessions whose backoff has passed, while fewer than [`MAX_CONNECTING`]
    /// wait for their greeting.
    fn connect_idle(&mut self, now: Instant) {
        let mut connecting = 0;
        let mut busy = 0; // sessions connected or connecting
        for s in &self.slots {
            match s.phase {
                Phase::Starting { greeted, .. } => {
                    busy += 1;
                    connecting += usize::from(!greeted);
                }
                Phase::Ready(_) => busy += 1,
                _ => {}
            }
        }
        let work = self.queue.len() + self.delayed.len();
        for i in 0..self.slots.len() {
            // Once sessions work, another one is only worth its login while more work waits
            // than the others keep in hand (two each).
            if connecting >= MAX_CONNECTING || (self.ever_ready && work <= 2 * busy) {
                return;
            }
            let Phase::Idle { not_before } = self.slots[i].phase else {
                continue;
            };
            if not_before > now {
                continue;
            }
            let t = self.target;
            let ftp = &mut self.ftp;
            let started = ftp.connect(t.addr, self.config.clone()).and_then(|(s, g)| {
                let setup = (|| {
                    ftp.login(s, &t.user, &t.password)?;
                    for step in &t.cwd {
                        ftp.cwd(s, step)?;
                    }
                    Ok(())
                })();
                if let Err(e) = setup {
                    let _ = ftp.disconnect(s);
                    return Err(e);
                }
                Ok((s, g))
            });
            let slot = &mut self.slots[i];
            if slot.connects > 0 {
                self.stats.reconnects += 1;
            }
            slot.connects += 1;
            match started {
                Ok((session, greeting)) => {
                    slot.phase = Phase::Starting {
                        session,
                        greeting,
                        greeted: false,
                        left: 2 + t.cwd.len(),
                    };
                    slot.lost = None;
                    self.by_session.insert(session, i);
                    connecting += 1;
                    busy += 1;
                }
                Err(e) => {
                    slot.lost = Some((e.recovery(), format!("session {i} ({}): {e}", t.addr)));
                    self.session_ended(i, now);
                }
            }
        }
    }

    /// Keeps every ready session one operation ahead.
    fn feed(&mut self) {
        for i in 0..self.slots.len() {
            let Phase::Ready(s) = self.slots[i].phase else {
                continue;
            };
            // One operation in flight and one queued behind it: the next command goes out the
            // moment a reply arrives, and the last files do not wait behind a busy session.
            while self.ftp.pending(s) < 2 {
                let Some(job) = self.queue.pop_front() else {
                    return;
                };
                self.dispatch(i, s, job);
            }
        }
    }

    /// Requests `job` on session `s` of slot `slot`.
    fn dispatch(&mut self, slot: usize, s: SessionId, job: Job) {
        let (op, part, offset) = match &job.work {
            Work::List { remote, .. } => {
                let op = if remote.is_empty() {
                    self.ftp.list(s, None)
                } else {
                    self.ftp.list(s, remote)
                };
                (op, None, 0)
            }
            Work::Get { remote, local, .. } => {
                let part = part_path(local);
                let opened = if job.resume.attempts_failed() == 0 {
                    create_part(&part).map(|f| (f, 0))
                } else {
                    reopen_part(&part, &job.resume)
                };
                let (file, offset) = match opened {
                    Ok(f) => f,
                    Err(e) => {
                        self.stats.failures.push(format!("{}: {e}", part.display()));
                        let _ = fs::remove_file(&part);
                        return;
                    }
                };
                if offset > 0 {
                    self.stats.resumed += 1;
                    note(&format!(
                        "mirror: RETR {}: resuming at byte {offset}",
                        shown(remote)
                    ));
                }
                (
                    self.ftp.retrieve_from(s, remote, offset, file),
                    Some(part),
                    offset,
                )
            }
        };
        match op {
            Ok(op) => {
                self.running.insert(
                    op,
                    Running {
                        job,
                        slot,
                        part,
                        offset,
                    },
                );
            }
            Err(e) => {
                if let Some(part) = part {
                    let _ = fs::remove_file(part);
                }
                self.stats.failures.push(format!("{}: {e}", describe(&job)));
            }
        }
    }

    /// Starts the goodbyes when the work is done, or when no session is left to do it.
    fn check_done(&mut self) {
        let idle = self.queue.is_empty() && self.delayed.is_empty() && self.running.is_empty();
        let alive = self.slots.iter().any(|s| !matches!(s.phase, Phase::Dead));
        if !idle && alive {
            return;
        }
        if !idle {
            let why = self
                .slots
                .iter()
                .find_map(|s| s.lost.as_ref().map(|l| l.1.clone()));
            self.stats.failures.push(match why {
                // every session failed before it could take work: say why once
                Some(why) if !self.ever_ready => {
                    format!("no session could start ({why}); nothing copied")
                }
                _ => "every session ended; the rest was not copied".into(),
            });
            let left: Vec<Job> = if self.ever_ready {
                self.queue
                    .drain(..)
                    .chain(self.delayed.drain(..).map(|(_, j)| j))
                    .collect()
            } else {
                Vec::new()
            };
            for job in left {
                self.stats
                    .failures
                    .push(format!("{}: not done", describe(&job)));
            }
        }
        self.closing = true;
        for slot in &mut self.slots {
            match slot.phase {
                Phase::Ready(s) => {
                    let _ = self.ftp.quit(s);
                }
                Phase::Starting { session, .. } => {
                    let _ = self.ftp.disconnect(session);
                }
                _ => {}
            }
            slot.phase = Phase::Dead;
        }
    }

    /// One operation ended.
    fn completed(&mut self, done: ftp_mio::Completion) {
        let Some(run) = self.running.remove(&done.op) else {
            self.setup_completed(done);
            return;
        };
        if let Err(e) = &done.result {
            self.note_loss(run.slot, done.session, e);
        }
        let now = Instant::now();
        let Running {
            mut job,
            slot,
            part,
            offset,
        } = run;
        let failure: Error = match (&job.work, done.result) {
            (Work::List { remote, local }, Ok(_)) => {
                self.stats.dirs += 1;
                let listing = done.data.unwrap_or_default();
                let (remote, local) = (remote.clone(), local.clone());
                plan(
                    &listing,
                    &remote,
                    &local,
                    self.now_ts,
                    &mut self.queue,
                    &mut self.stats,
                );
                self.slots[slot].retries.reset();
                return;
            }
            (
                Work::Get {
                    remote,
                    local,
                    size,
                },
                Ok(Outcome::Transferred { bytes, reply }),
            ) => {
                let total = offset.saturating_add(bytes);
                match size {
                    // Short of what the listing said: a truncation, retried as the core says.
                    Some(size) if total < *size => OpError::Truncated {
                        expected: *size,
                        received: total,
                        reply: Some(reply),
                    }
                    .into(),
                    Some(size) if total > *size => {
                        self.stats.failures.push(format!(
                            "RETR {}: {total} bytes arrived, the listing said {size}",
                            shown(remote)
                        ));
                        if let Some(part) = part {
                            let _ = fs::remove_file(part);
                        }
                        return;
                    }
                    _ => {
                        let renamed = match &part {
                            Some(part) => fs::rename(part, local),
                            None => Ok(()),
                        };
                        match renamed {
                            Ok(()) => {
                                self.stats.files += 1;
                                self.stats.bytes += total;
                                self.slots[slot].retries.reset();
                            }
                            Err(e) => {
                                self.stats
                                    .failures
                                    .push(format!("{}: {e}", local.display()));
                                if let Some(part) = part {
                                    let _ = fs::remove_file(part);
                                }
                            }
                        }
                        return;
                    }
                }
            }
            (_, Ok(other)) => {
                self.stats
                    .failures
                    .push(format!("{}: unexpected {other:?}", describe(&job)));
                if let Some(part) = part {
                    let _ = fs::remove_file(part);
                }
                return;
            }
            (_, Err(e)) => e,
        };
        // Never sent (queued behind a session that was lost): back to the queue, no attempt
        // used up.
        if matches!(
            failure,
            Error::Usage(UsageError::Closed) | Error::NoSuchSession
        ) {
            self.queue.push_front(job);
            return;
        }
        let rest_refused = offset > 0 && failure.is_rest_refusal();
        let random = self.jitter.next();
        let next = job
            .resume
            .on_failure(failure.recovery(), rest_refused, now, random);
        match next.delay() {
            Some(delay) => {
                self.stats.retries += 1;
                note(&format!(
                    "mirror: {}: {failure}; trying again in {delay:.2?}",
                    describe(&job)
                ));
                self.delayed.push((now + delay, job));
            }
            None => {
                let tries = job.resume.attempts_failed() + 1;
                let after = if tries > 1 {
                    format!(" (after {tries} attempts)")
                } else {
                    String::new()
                };
                self.stats
                    .failures
                    .push(format!("{}: {failure}{after}", describe(&job)));
                if let Some(part) = part {
                    let _ = fs::remove_file(part);
                }
            }
        }
    }

    /// Remembers the first failure that ended a session's connection (what decides whether
    /// it is connected again).
    fn note_loss(&mut self, slot: usize, session: SessionId, e: &Error) {
        let s = &mut self.slots[slot];
        if s.session() == Some(session)
            && s.lost.is_none()
            && e.is_fatal()
            && !matches!(e, Error::Usage(UsageError::Closed) | Error::NoSuchSession)
        {
            s.lost = Some((e.recovery(), format!("session {slot}: {e}")));
        }
    }

    /// A greeting, login, `CWD` or `QUIT` ended.
    fn setup_completed(&mut self, done: ftp_mio::Completion) {
        let Some(&i) = self.by_session.get(&done.session) else {
            return;
        };
        let slot = &mut self.slots[i];
        let Phase::Starting {
            session,
            greeting,
            greeted,
            left,
        } = &mut slot.phase
        else {
            return; // QUIT, or a session already given up
        };
        if *session != done.session {
            return;
        }
        match &done.result {
            Ok(_) => {
                if done.op == *greeting {
                    *greeted = true;
                }
                *left -= 1;
                if *left == 0 {
                    slot.phase = Phase::Ready(done.session);
                    self.ever_ready = true;
                }
            }
            Err(e) => {
                if done.op == *greeting {
                    *greeted = true;
                }
                if slot.lost.is_none()
                    && !matches!(
                        e,
                        Error::Usage(UsageError::Closed)
                            | Error::NoSuchSession
                            | Error::Cancelled { .. }
                    )
                {
                    let what = format!("session {i} ({}): {e}", self.target.addr);
                    slot.lost = Some((e.recovery(), what));
                }
                // a login refused leaves the session open: end it (what happens next is
                // decided when it is gone)
                let _ = self.ftp.disconnect(done.session);
            }
        }
    }

    /// Sessions that ended: connected again after a backoff when the failure that ended them
    /// is transient, else given up.
    fn reap_lost(&mut self) {
        let now = Instant::now();
        for i in 0..self.slots.len() {
            let Some(s) = self.slots[i].session() else {
                continue;
            };
            if self.ftp.session(s).is_none() {
                self.by_session.remove(&s);
                self.session_ended(i, now);
            }
        }
    }

    /// Slot `i` has no session any more: decide whether it connects again.
    fn session_ended(&mut self, i: usize, now: Instant) {
        let random = self.jitter.next();
        let slot = &mut self.slots[i];
        let (recovery, why) = slot
            .lost
            .clone()
            .unwrap_or((Recovery::Reconnect, format!("session {i}: ended")));
        let delay = match recovery {
            Recovery::GiveUp => None,
            Recovery::Retry | Recovery::Reconnect => slot.retries.next_delay(now, random),
        };
        match delay {
            Some(delay) => {
                note(&format!("mirror: {why}; connecting again in {delay:.2?}"));
                slot.phase = Phase::Idle {
                    not_before: now + delay,
                };
            }
            None => {
                let why = if recovery == Recovery::GiveUp {
                    why
                } else {
                    format!("{why} (after {} connects)", slot.connects)
                };
                slot.phase = Phase::Dead;
                slot.lost = Some((recovery, why.clone()));
                self.stats.failures.push(why);
            }
        }
    }
}

fn describe(job: &Job) -> String {
    match &job.work {
        Work::List { remote, .. } => format!("LIST {}", shown(remote)),
        Work::Get { remote, .. } => format!("RETR {}", shown(remote)),
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
        let stats = mirror(&target, 4, &out, Duration::from_secs(30), false);
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
        assert_eq!(
            parse_args(&args(&[])).unwrap().timeout,
            Duration::from_secs(30)
        );
        let a = parse_args(&args(&["--timeout", "1.5"])).unwrap();
        assert_eq!(a.timeout, Duration::from_millis(1500));
        assert!(!a.pipeline);
        assert!(
            parse_args(&args(&["ftp://h/", "--pipeline"]))
                .unwrap()
                .pipeline
        );
        for bad in [
            &["-n", "abc"][..],
            &["-n", "0"],
            &["-n"],
            &["-o"],
            &["--timeout"],
            &["--timeout", "0"],
            &["--timeout", "abc"],
            &["--timeout", "1e9"],
            &["--bogus"],
            &["ftp://a/", "ftp://b/"],
        ] {
            assert!(parse_args(&args(bad)).is_err(), "{bad:?}");
        }
        let a = parse_args(&args(&["--", "-weird-url"])).unwrap();
        assert_eq!(a.url.as_deref(), Some("-weird-url"));
    }
}
