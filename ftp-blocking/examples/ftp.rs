//! `ftp`: a small command-line FTP client on `ftp_blocking`.
//!
//! ```text
//! ftp ls     [-v|-vv] [--active] ftp://host[:port]/dir/
//! ftp get    [-v|-vv] [--active] [--continue] ftp://host/path/file [LOCAL]
//! ftp put    [-v|-vv] [--active] LOCAL ftp://host/path/file
//! ftp mirror [-v|-vv] [--active] ftp://host/dir/ LOCAL_DIR
//! ```
//!
//! URLs are `ftp://[user[:password]@]host[:port]/path` (anonymous without a user).
//!
//! - `ls` prints the `LIST` lines of a directory.
//! - `get` downloads a file (to its base name, or `LOCAL`); `--continue` resumes a partial
//!   local file with `REST`.
//! - `put` uploads a local file (`STOR`).
//! - `mirror` is the seed's `ftpmirror`: it copies a remote tree into a local folder,
//!   skipping files whose size and modification time already match (the time of each file
//!   it writes is set to the remote one), and refuses remote names that could escape the
//!   target (`.`, `..`, `/`, `\`, NUL, control characters) or that would write through a
//!   local symbolic link. Files are written to a temporary name and renamed when complete.
//!
//! A progress bar is drawn on stderr when stderr is a terminal. `-v` traces one line per
//! command, `-vv` the whole control connection (passwords masked).

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, IsTerminal, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, UNIX_EPOCH};

use ftp_blocking::ftp_sansio::listing::{check_local_name, UnsafeName};
use ftp_blocking::{EntryKind, Ftp, Timestamp};

mod common;
use common::{init_logger, FtpUrl};

/// Why a command failed.
#[derive(Debug)]
enum CliError {
    Usage(String),
    Ftp(ftp_blocking::Error),
    Io(io::Error),
    Other(String),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Usage(m) => write!(f, "{m}\n{USAGE}"),
            CliError::Ftp(e) => write!(f, "{e}"),
            CliError::Io(e) => write!(f, "{e}"),
            CliError::Other(m) => f.write_str(m),
        }
    }
}

impl From<ftp_blocking::Error> for CliError {
    fn from(e: ftp_blocking::Error) -> Self {
        CliError::Ftp(e)
    }
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        CliError::Io(e)
    }
}

impl From<common::UrlError> for CliError {
    fn from(e: common::UrlError) -> Self {
        CliError::Usage(e.to_string())
    }
}

const USAGE: &str = "usage:
  ftp ls     [-v|-vv] [--active] ftp://[user[:pass]@]host[:port]/dir/
  ftp get    [-v|-vv] [--active] [--continue] ftp://host/path/file [LOCAL]
  ftp put    [-v|-vv] [--active] LOCAL ftp://host/path/file
  ftp mirror [-v|-vv] [--active] ftp://host/dir/ LOCAL_DIR";

// ---- progress bar ---------------------------------------------------------------------------

/// A one-line progress bar on stderr, drawn only when stderr is a terminal.
struct Progress {
    label: String,
    total: Option<u64>,
    done: u64,
    start: Instant,
    last: Option<Instant>,
    enabled: bool,
}

fn human(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

impl Progress {
    fn new(label: &str, total: Option<u64>, already: u64) -> Progress {
        Progress {
            label: label.to_owned(),
            total,
            done: already,
            start: Instant::now(),
            last: None,
            enabled: io::stderr().is_terminal(),
        }
    }

    fn add(&mut self, n: usize) {
        self.done += n as u64;
        if self.enabled
            && self
                .last
                .map_or(true, |t| t.elapsed() >= Duration::from_millis(100))
        {
            self.draw();
        }
    }

    fn draw(&mut self) {
        self.last = Some(Instant::now());
        let secs = self.start.elapsed().as_secs_f64().max(1e-3);
        let rate = human(self.done as f64 / secs);
        let line = match self.total {
            Some(t) if t > 0 => {
                let frac = (self.done as f64 / t as f64).min(1.0);
                let width = 30;
                let filled = (frac * width as f64) as usize;
                format!(
                    "{} [{}{}] {:3.0}% {}/{} {rate}/s",
                    self.label,
                    "#".repeat(filled),
                    " ".repeat(width - filled),
                    frac * 100.0,
                    human(self.done as f64),
                    human(t as f64)
                )
            }
            _ => format!("{} {} {rate}/s", self.label, human(self.done as f64)),
        };
        eprint!("\r{line}\x1b[K");
    }

    fn finish(mut self) {
        if self.enabled {
            self.draw();
            eprintln!();
        }
    }
}

// ---- connecting -----------------------------------------------------------------------------

struct Options {
    verbose: u8,
    active: bool,
    resume: bool,
    args: Vec<String>,
}

fn parse_options(args: &[String]) -> Result<Options, CliError> {
    let mut o = Options {
        verbose: 0,
        active: false,
        resume: false,
        args: Vec::new(),
    };
    for a in args {
        match a.as_str() {
            "-v" => o.verbose = o.verbose.max(1),
            "-vv" => o.verbose = 2,
            "--active" => o.active = true,
            "-c" | "--continue" => o.resume = true,
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(CliError::Usage(format!("unknown option {s}")))
            }
            _ => o.args.push(a.clone()),
        }
    }
    Ok(o)
}

fn open(url: &FtpUrl, o: &Options) -> Result<Ftp, CliError> {
    let mut ftp = Ftp::new();
    ftp.set_debuglevel(o.verbose);
    ftp.set_timeout(Some(Duration::from_secs(30)));
    ftp.set_pasv(!o.active);
    ftp.connect_host(&url.host, Some(url.port))?;
    ftp.login(&url.user, &url.password)?;
    Ok(ftp)
}

/// The last `/`-separated part of a remote path.
fn base_name(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
}

// ---- ls, get, put ---------------------------------------------------------------------------

fn cmd_ls(o: &Options) -> Result<(), CliError> {
    let [url] = &o.args[..] else {
        return Err(CliError::Usage("ls takes one URL".into()));
    };
    let url = FtpUrl::parse(url)?;
    let mut ftp = open(&url, o)?;
    let path = url.path.trim_end_matches('/');
    let mut out = io::stdout().lock();
    let dir = if path.is_empty() { None } else { Some(path) };
    for line in ftp.dir(dir)? {
        writeln!(out, "{line}")?;
    }
    ftp.quit()?;
    Ok(())
}

/// Downloads `remote` into `local`; with `resume`, continues a partial `local` file.
/// Returns the bytes transferred.
fn get(ftp: &mut Ftp, remote: &str, local: &Path, resume: bool) -> Result<u64, CliError> {
    let have = if resume {
        match fs::metadata(local) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
            Err(e) => return Err(e.into()),
        }
    } else {
        0
    };
    let size = ftp.size(remote).ok();
    if let Some(size) = size {
        if have == size && resume {
            eprintln!("{}: already complete ({size} bytes)", local.display());
            return Ok(0);
        }
        if have > size {
            return Err(CliError::Other(format!(
                "{}: local file ({have} bytes) is longer than the remote one ({size} bytes)",
                local.display()
            )));
        }
    }
    let mut file = if have > 0 {
        OpenOptions::new().append(true).open(local)?
    } else {
        File::create(local)?
    };
    let rest = (have > 0).then_some(have);
    let mut reader = ftp.retr_reader(remote, rest)?;
    let mut progress = Progress::new(base_name(remote), size, have);
    let mut buf = vec![0u8; 64 * 1024];
    let mut moved = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                drop(reader);
                return Err(e.into());
            }
        };
        if let Err(e) = file.write_all(&buf[..n]) {
            reader.abort().ok();
            return Err(e.into());
        }
        moved += n as u64;
        progress.add(n);
    }
    reader.finish()?;
    progress.finish();
    file.sync_all()?;
    Ok(moved)
}

fn cmd_get(o: &Options) -> Result<(), CliError> {
    let (url, local) = match &o.args[..] {
        [url] => (url, None),
        [url, local] => (url, Some(PathBuf::from(local))),
        _ => {
            return Err(CliError::Usage(
                "get takes a URL and maybe a local name".into(),
            ))
        }
    };
    let url = FtpUrl::parse(url)?;
    if url.path.is_empty() || url.path.ends_with('/') {
        return Err(CliError::Usage("get needs the URL of a file".into()));
    }
    let local = match local {
        Some(l) => l,
        None => {
            let name = base_name(&url.path);
            check_name(name.as_bytes())
                .map_err(|why| CliError::Other(format!("refusing remote name {name:?}: {why}")))?;
            PathBuf::from(name)
        }
    };
    let mut ftp = open(&url, o)?;
    let n = get(&mut ftp, &url.path, &local, o.resume)?;
    eprintln!("{}: {n} bytes received", local.display());
    ftp.quit()?;
    Ok(())
}

fn cmd_put(o: &Options) -> Result<(), CliError> {
    let [local, url] = &o.args[..] else {
        return Err(CliError::Usage("put takes a local file and a URL".into()));
    };
    let url = FtpUrl::parse(url)?;
    let mut remote = url.path.clone();
    if remote.is_empty() || remote.ends_with('/') {
        let name = Path::new(local)
            .file_name()
            .and_then(OsStr::to_str)
            .ok_or_else(|| CliError::Usage(format!("{local}: no file name")))?;
        remote.push_str(name);
    }
    let mut file = File::open(local)?;
    let total = file.metadata()?.len();
    let mut ftp = open(&url, o)?;
    let mut writer = ftp.stor_writer(&remote)?;
    let mut progress = Progress::new(base_name(&remote), Some(total), 0);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                writer.abort().ok();
                return Err(e.into());
            }
        };
        if let Err(e) = writer.write_all(&buf[..n]) {
            drop(writer);
            return Err(e.into());
        }
        progress.add(n);
    }
    writer.finish()?;
    progress.finish();
    eprintln!("{remote}: {total} bytes sent");
    ftp.quit()?;
    Ok(())
}

// ---- mirror ---------------------------------------------------------------------------------

/// Why a remote name may not become a local one (`Ok` when it is one plain path component):
/// the check lives in ftp-sansio, [`check_local_name`], so every client shares it.
fn check_name(name: &[u8]) -> Result<(), UnsafeName> {
    check_local_name(name)
}

/// What mirror needs to know about a remote entry.
#[derive(Debug, Clone)]
struct RemoteEntry {
    name: Vec<u8>,
    kind: EntryKind,
    size: Option<u64>,
    /// Seconds since 1970 (UTC), when known to the second.
    mtime: Option<i64>,
}

/// Counts of what a mirror run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct MirrorStats {
    downloaded: usize,
    skipped: usize,
    refused: usize,
    dirs: usize,
    bytes: u64,
}

fn exact_seconds(t: &Timestamp) -> Option<i64> {
    use ftp_blocking::ftp_sansio::time::Precision;
    match t.precision() {
        Precision::Second | Precision::Fraction(_) => Some(t.unix_seconds()),
        _ => None,
    }
}

fn remote_entries(ftp: &mut Ftp, dir: &str) -> Result<Vec<RemoteEntry>, CliError> {
    let arg = if dir.is_empty() { None } else { Some(dir) };
    let mlsd = ftp.features().is_some_and(|f| f.contains("MLST"));
    let entries = if mlsd { ftp.mlsd(arg)? } else { ftp.list(arg)? };
    let mut out = Vec::new();
    for e in entries {
        let mut entry = RemoteEntry {
            name: e.name().to_vec(),
            kind: e.kind(),
            size: e.size(),
            mtime: e.mtime().as_ref().and_then(exact_seconds),
        };
        if entry.kind == EntryKind::File && entry.mtime.is_none() {
            // LIST gives minutes or days at best: ask for the exact time.
            if check_name(&entry.name).is_ok() {
                let path = join_remote(dir, &entry.name);
                entry.mtime = ftp.mdtm(&path).ok().as_ref().and_then(exact_seconds);
            }
        }
        out.push(entry);
    }
    Ok(out)
}

fn join_remote(dir: &str, name: &[u8]) -> Vec<u8> {
    let mut p = dir.as_bytes().to_vec();
    if !p.is_empty() && !p.ends_with(b"/") {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

fn local_mtime(m: &fs::Metadata) -> Option<i64> {
    let t = m.modified().ok()?;
    Some(match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    })
}

/// Copies the remote directory `remote` into `local` (created if needed), recursively.
fn mirror(
    ftp: &mut Ftp,
    remote: &str,
    local: &Path,
    stats: &mut MirrorStats,
) -> Result<(), CliError> {
    match fs::symlink_metadata(local) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(CliError::Other(format!(
                "{}: is a symbolic link, refusing to write through it",
                local.display()
            )))
        }
        Ok(m) if !m.is_dir() => {
            return Err(CliError::Other(format!(
                "{}: exists and is not a directory",
                local.display()
            )))
        }
        Ok(_) => {}
        Err(_) => fs::create_dir_all(local)?,
    }
    stats.dirs += 1;
    for e in remote_entries(ftp, remote)? {
        if matches!(e.kind, EntryKind::CurrentDir | EntryKind::ParentDir)
            || (e.kind.is_dir() && (e.name == b"." || e.name == b".."))
        {
            continue;
        }
        let shown = String::from_utf8_lossy(&e.name).into_owned();
        if let Err(why) = check_name(&e.name) {
            eprintln!("mirror: refusing remote name {shown:?} in {remote:?}: {why}");
            stats.refused += 1;
            continue;
        }
        let target = local.join(OsStr::from_bytes(&e.name));
        let remote_path = String::from_utf8_lossy(&join_remote(remote, &e.name)).into_owned();
        match e.kind {
            EntryKind::Dir => mirror(ftp, &remote_path, &target, stats)?,
            EntryKind::File => mirror_file(ftp, &e, &remote_path, &target, stats)?,
            _ => eprintln!("mirror: skipping {remote_path}: not a file or directory"),
        }
    }
    Ok(())
}

fn mirror_file(
    ftp: &mut Ftp,
    e: &RemoteEntry,
    remote_path: &str,
    target: &Path,
    stats: &mut MirrorStats,
) -> Result<(), CliError> {
    match fs::symlink_metadata(target) {
        Ok(m) if m.file_type().is_symlink() => {
            eprintln!(
                "mirror: refusing {}: a symbolic link is in the way",
                target.display()
            );
            stats.refused += 1;
            return Ok(());
        }
        Ok(m) if m.is_file() => {
            let same_size = e.size == Some(m.len());
            let same_time = e.mtime.is_some() && e.mtime == local_mtime(&m);
            if same_size && same_time {
                stats.skipped += 1;
                return Ok(());
            }
        }
        Ok(m) if m.is_dir() => {
            eprintln!(
                "mirror: refusing {}: a local directory is in the way",
                target.display()
            );
            stats.refused += 1;
            return Ok(());
        }
        _ => {}
    }
    // Into a temporary name first: an interrupted run never leaves a half file that a later
    // run would take as complete.
    let mut part_name = target.file_name().unwrap_or_default().to_os_string();
    part_name.push(".ftp-part");
    let part = target.with_file_name(part_name);
    let moved = match get(ftp, remote_path, &part, false) {
        Ok(n) => n,
        Err(err) => {
            let _ = fs::remove_file(&part);
            return Err(err);
        }
    };
    if let Some(secs) = e.mtime {
        let t = if secs >= 0 {
            UNIX_EPOCH + Duration::from_secs(secs as u64)
        } else {
            UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
        };
        File::options().write(true).open(&part)?.set_modified(t)?;
    }
    fs::rename(&part, target)?;
    stats.downloaded += 1;
    stats.bytes += moved;
    Ok(())
}

fn cmd_mirror(o: &Options) -> Result<(), CliError> {
    let [url, local] = &o.args[..] else {
        return Err(CliError::Usage(
            "mirror takes a URL and a local directory".into(),
        ));
    };
    let url = FtpUrl::parse(url)?;
    let mut ftp = open(&url, o)?;
    let mut stats = MirrorStats::default();
    mirror(
        &mut ftp,
        url.path.trim_end_matches('/'),
        Path::new(local),
        &mut stats,
    )?;
    eprintln!(
        "mirror: {} downloaded ({}), {} up to date, {} refused, {} directories",
        stats.downloaded,
        human(stats.bytes as f64),
        stats.skipped,
        stats.refused,
        stats.dirs
    );
    ftp.quit()?;
    Ok(())
}

fn main() -> ExitCode {
    init_logger();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = parse_options(rest).and_then(|o| match cmd.as_str() {
        "ls" => cmd_ls(&o),
        "get" => cmd_get(&o),
        "put" => cmd_put(&o),
        "mirror" => cmd_mirror(&o),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(CliError::Usage(format!("unknown command {other:?}"))),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ CliError::Usage(_)) => {
            eprintln!("ftp: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("ftp: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ftp_tests::{LocalServer, TestServer};

    fn login(server: &LocalServer) -> Ftp {
        let mut ftp = Ftp::connect(server.addr()).unwrap();
        ftp.login(server.user(), server.password()).unwrap();
        ftp
    }

    fn payload(n: usize, seed: u8) -> Vec<u8> {
        (0..n).map(|i| (i as u8).wrapping_mul(seed)).collect()
    }

    #[test]
    fn names_that_escape_are_refused() {
        for bad in [
            &b""[..],
            b".",
            b"..",
            b"a/b",
            b"/etc",
            b"..\\x",
            b"a\0b",
            b"a\nb",
            b"tab\there",
            b"\x1b[2J",
            b"del\x7f",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        for good in [&b"a.txt"[..], b"...", b"..a", b"with space", "é".as_bytes()] {
            assert!(check_name(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn mirror_copies_a_tree_then_skips_what_matches() {
        let server = LocalServer::start();
        let big = payload(300_000, 7);
        server.write_file("tree/a.txt", b"alpha\n").unwrap();
        server.write_file("tree/big.bin", &big).unwrap();
        server.write_file("tree/sub/b.txt", b"beta\n").unwrap();
        server
            .write_file("tree/sub/deeper/c.txt", b"gamma\n")
            .unwrap();
        server.create_dir("tree/empty").unwrap();
        let target = tempfile::tempdir().unwrap();
        let local = target.path().join("copy");

        let mut ftp = login(&server);
        let mut stats = MirrorStats::default();
        mirror(&mut ftp, "tree", &local, &mut stats).unwrap();
        assert_eq!(stats.downloaded, 4, "{stats:?}");
        assert_eq!((stats.skipped, stats.refused, stats.dirs), (0, 0, 4));
        assert_eq!(fs::read(local.join("a.txt")).unwrap(), b"alpha\n");
        assert_eq!(fs::read(local.join("big.bin")).unwrap(), big);
        assert_eq!(fs::read(local.join("sub/b.txt")).unwrap(), b"beta\n");
        assert_eq!(
            fs::read(local.join("sub/deeper/c.txt")).unwrap(),
            b"gamma\n"
        );
        assert!(local.join("empty").is_dir());
        // the local times are the remote ones
        let remote_t = ftp.mdtm("tree/big.bin").unwrap().unix_seconds();
        let local_t = local_mtime(&fs::metadata(local.join("big.bin")).unwrap()).unwrap();
        assert_eq!(remote_t, local_t);
        // no temporary files are left
        assert!(!local.join("big.bin.ftp-part").exists());

        // a second run downloads nothing
        let mut again = MirrorStats::default();
        mirror(&mut ftp, "tree", &local, &mut again).unwrap();
        assert_eq!((again.downloaded, again.skipped), (0, 4), "{again:?}");

        // a changed remote file (other size) and a changed local one (other time) are fetched
        server.write_file("tree/a.txt", b"alpha, longer\n").unwrap();
        let c = local.join("sub/deeper/c.txt");
        File::options()
            .write(true)
            .open(&c)
            .unwrap()
            .set_modified(UNIX_EPOCH + Duration::from_secs(1_000_000))
            .unwrap();
        let mut third = MirrorStats::default();
        mirror(&mut ftp, "tree", &local, &mut third).unwrap();
        assert_eq!((third.downloaded, third.skipped), (2, 2), "{third:?}");
        assert_eq!(fs::read(local.join("a.txt")).unwrap(), b"alpha, longer\n");
        assert_eq!(fs::read(&c).unwrap(), b"gamma\n");
    }

    #[test]
    fn mirror_refuses_escaping_names_and_symlinks() {
        let server = LocalServer::start();
        // names that are legal on the server's disk but must not become local paths
        server.write_file("evil/ok.txt", b"fine").unwrap();
        server.write_file("evil/carriage\rreturn", b"x").unwrap();
        server.write_file("evil/esc\x1b[0m", b"x").unwrap();
        server.write_file("evil/victim.txt", b"remote").unwrap();
        let target = tempfile::tempdir().unwrap();
        let local = target.path().join("copy");
        fs::create_dir(&local).unwrap();
        // a symlink in the target must not be written through
        let outside = target.path().join("outside.txt");
        fs::write(&outside, b"untouched").unwrap();
        std::os::unix::fs::symlink(&outside, local.join("victim.txt")).unwrap();

        let mut ftp = login(&server);
        let mut stats = MirrorStats::default();
        mirror(&mut ftp, "evil", &local, &mut stats).unwrap();
        assert_eq!(stats.downloaded, 1, "{stats:?}");
        assert_eq!(stats.refused, 3, "{stats:?}");
        assert_eq!(fs::read(local.join("ok.txt")).unwrap(), b"fine");
        assert_eq!(fs::read(&outside).unwrap(), b"untouched");
        let names: Vec<_> = fs::read_dir(&local)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}"); // ok.txt and the symlink
                                                 // the session is still in step
        assert_eq!(ftp.pwd().unwrap(), "/");

        // a name with a line feed splits the listing line in two: the listing is refused as
        // a whole (never a half-parsed entry), and nothing is written
        server.write_file("lf/line\nbreak", b"x").unwrap();
        let mut stats = MirrorStats::default();
        let err = mirror(&mut ftp, "lf", &target.path().join("lf"), &mut stats).unwrap_err();
        assert!(
            matches!(&err, CliError::Ftp(e) if e.kind() == ftp_blocking::ErrorKind::Protocol),
            "{err}"
        );
        assert_eq!(fs::read_dir(target.path().join("lf")).unwrap().count(), 0);
        assert_eq!(ftp.pwd().unwrap(), "/");
    }

    #[test]
    fn check_refuses_what_a_hostile_listing_could_name() {
        // A LIST line may name anything: the parser hands the name over as bytes and
        // check_name is the gate.
        let now = Timestamp::new(2024, 1, 1, 0, 0, 0).unwrap();
        for line in [
            &b"-rw-r--r-- 1 u g 5 Jan 01 2020 ../../etc/passwd"[..],
            b"-rw-r--r-- 1 u g 5 Jan 01 2020 ..",
            b"-rw-r--r-- 1 u g 5 Jan 01 2020 /abs",
        ] {
            let e = ftp_blocking::ftp_sansio::listing::parse_list_line(line, now)
                .entry()
                .unwrap();
            assert!(check_name(e.name()).is_err(), "{:?}", e.name_lossy());
        }
    }

    #[test]
    fn get_continue_resumes_with_rest() {
        let server = LocalServer::start();
        let data = payload(500_000, 13);
        server.write_file("dl.bin", &data).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("dl.bin");
        // a partial earlier download
        fs::write(&local, &data[..123_456]).unwrap();
        let mut ftp = login(&server);
        let n = get(&mut ftp, "dl.bin", &local, true).unwrap();
        assert_eq!(n, (data.len() - 123_456) as u64);
        assert_eq!(fs::read(&local).unwrap(), data);
        // complete: nothing to do
        assert_eq!(get(&mut ftp, "dl.bin", &local, true).unwrap(), 0);
        // longer than the remote file: refused, file untouched
        fs::write(&local, payload(600_000, 3)).unwrap();
        assert!(get(&mut ftp, "dl.bin", &local, true).is_err());
        assert_eq!(fs::metadata(&local).unwrap().len(), 600_000);
        // without --continue the file is replaced
        assert_eq!(
            get(&mut ftp, "dl.bin", &local, false).unwrap(),
            data.len() as u64
        );
        assert_eq!(fs::read(&local).unwrap(), data);
        assert_eq!(ftp.pwd().unwrap(), "/");
    }

    #[test]
    fn options_and_names() {
        let o = parse_options(&["-vv".into(), "--continue".into(), "x".into()]).unwrap();
        assert_eq!((o.verbose, o.resume, o.active), (2, true, false));
        assert_eq!(o.args, ["x"]);
        assert!(parse_options(&["--bogus".into()]).is_err());
        assert_eq!(base_name("a/b/c.txt"), "c.txt");
        assert_eq!(base_name("dir/"), "dir");
        assert_eq!(human(1536.0), "1.5 KiB");
    }
}
