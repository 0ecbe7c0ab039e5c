//! `ftp`: a small command-line FTP client on `ftp_blocking`.
//!
//! ```text
//! ftp [OPTIONS] ls     URL/dir/
//! ftp [OPTIONS] get    URL/path/file [LOCAL]
//! ftp [OPTIONS] put    LOCAL URL/path/[file]
//! ftp [OPTIONS] mirror URL/dir/ LOCAL_DIR
//!
//! OPTIONS (anywhere on the line; `--` ends them):
//!   -v, -vv         trace commands (-v) or the whole control connection (-vv, passwords masked)
//!   --active        active mode (PORT/EPRT) instead of passive
//!   -c, --continue  get: resume LOCAL.part from where it stopped
//! ```
//!
//! URLs are `ftp://[user[:password]@]host[:port]/path` or `ftps://...` (implicit FTPS, port
//! 990), read by `ftp_sansio::url` as RFC 1738 says: without a user the login is anonymous,
//! every directory segment of the path is one `CWD` step, `;type=` and `#fragment` never
//! reach the server.
//!
//! - `ls` changes into the directory (so a missing directory is a `550` to `CWD` and an
//!   error: vsftpd answers `LIST` of a missing directory with `226` and nothing), then prints
//!   the `LIST` lines.
//! - `get` downloads a file (to its base name, to `LOCAL`, or into the folder `LOCAL`) into
//!   `NAME.part` in the same folder and renames it to `NAME` when the whole file has
//!   arrived: `NAME` is never a partial or wrong file. A missing remote file leaves nothing behind; an interrupted
//!   download leaves `NAME.part`, which `--continue` resumes with `REST`. `--continue` on
//!   a file that is already complete does nothing.
//! - `put` uploads a local file (`STOR`).
//! - `mirror` is the seed's `ftpmirror`: it copies a remote tree into a local folder,
//!   skipping files whose size and modification time already match (the time of each file
//!   it writes is set to the remote one), and refuses remote names that could escape the
//!   target (`.`, `..`, `/`, `\`, NUL, control characters) or that would write through a
//!   local symbolic link. Files are written to a temporary name and renamed when complete.
//!   A file or folder that fails is reported and the mirror goes on; a summary line ends
//!   every run. What to do after a failure is decided by `ftp_sansio::retry`: a transient one
//!   (a data connection cut or reset, a `426`, a download shorter than announced) is tried
//!   again up to 4 more times with an exponential backoff, a download resuming with `REST`
//!   from what its temporary file holds (from byte 0 if the server refuses `REST`); a lost
//!   control connection (cut, reset, reply timeout, `421`) is opened again (connect, login,
//!   the URL's `CWD` steps, retried with backoff) and the file or listing goes on there. A
//!   refused or timed-out first connect is retried the same way.
//!
//! Exit status: 0 when everything was done, 1 when anything failed (after a summary line
//! on stderr), 2 for a usage error. A progress bar is drawn on stderr when stderr is a
//! terminal.

use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, IsTerminal, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, UNIX_EPOCH};

use ftp_blocking::ftp_sansio::listing::{check_local_name, UnsafeName};
use ftp_blocking::ftp_sansio::retry::{Backoff, Next, Recovery, Resume, Retries};
use ftp_blocking::ftp_sansio::session::OpError;
use ftp_blocking::ftp_sansio::url::{FtpUrl, Scheme, TypeCode, UrlError};
use ftp_blocking::{EntryKind, Ftp, Timestamp};

mod common;
use common::init_logger;

/// Why a command failed.
#[derive(Debug)]
enum CliError {
    /// Wrong command line (exit status 2).
    Usage(String),
    /// An FTP operation failed; `what` names it and its argument.
    Ftp {
        what: String,
        err: ftp_blocking::Error,
    },
    /// A local file operation failed on `path`.
    Io {
        path: PathBuf,
        err: io::Error,
    },
    /// A download ended (the server said it was complete) with another size than the
    /// listing or `SIZE` gave.
    Short {
        what: String,
        expected: u64,
        received: u64,
    },
    /// A download stopped part way: `part` holds what arrived.
    Interrupted {
        part: PathBuf,
        have: u64,
        cause: Box<CliError>,
    },
    Other(String),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(m) => write!(f, "{m}\n{USAGE}"),
            CliError::Ftp { what, err } => write!(f, "{what}: {err}"),
            CliError::Io { path, err } => write!(f, "{}: {err}", path.display()),
            CliError::Short {
                what,
                expected,
                received,
            } => write!(f, "{what}: {received} of {expected} bytes arrived"),
            CliError::Interrupted { part, have, cause } => write!(
                f,
                "{cause}\n{have} bytes kept in {}: run the same command with --continue to resume",
                part.display()
            ),
            CliError::Other(m) => f.write_str(m),
        }
    }
}

impl From<UrlError> for CliError {
    fn from(e: UrlError) -> Self {
        CliError::Usage(format!("bad URL: {e}"))
    }
}

/// Names the FTP operation an error belongs to.
trait Context<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, CliError>;
}

impl<T> Context<T> for ftp_blocking::Result<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, CliError> {
        self.map_err(|err| CliError::Ftp { what: what(), err })
    }
}

/// Names the local path an I/O error is about.
fn at(path: &Path) -> impl FnOnce(io::Error) -> CliError + '_ {
    move |err| CliError::Io {
        path: path.to_path_buf(),
        err,
    }
}

const USAGE: &str = "usage:
  ftp [-v|-vv] [--active] ls                URL/dir/
  ftp [-v|-vv] [--active] [--continue] get  URL/path/file [LOCAL]
  ftp [-v|-vv] [--active] put               LOCAL URL/path/[file]
  ftp [-v|-vv] [--active] mirror            URL/dir/ LOCAL_DIR
URL: ftp://[user[:password]@]host[:port]/path or ftps://... (implicit FTPS); options go anywhere";

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

#[derive(Debug)]
struct Options {
    verbose: u8,
    active: bool,
    resume: bool,
    help: bool,
    /// The command and its operands, options removed.
    args: Vec<String>,
}

/// Splits options from operands; options may stand anywhere, `--` ends them.
fn parse_options(args: &[String]) -> Result<Options, CliError> {
    let mut o = Options {
        verbose: 0,
        active: false,
        resume: false,
        help: false,
        args: Vec::new(),
    };
    let mut operands_only = false;
    for a in args {
        if operands_only {
            o.args.push(a.clone());
            continue;
        }
        match a.as_str() {
            "--" => operands_only = true,
            "-v" | "--verbose" => o.verbose = o.verbose.max(1),
            "-vv" => o.verbose = 2,
            "--active" => o.active = true,
            "-c" | "--continue" => o.resume = true,
            "-h" | "--help" => o.help = true,
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(CliError::Usage(format!("unknown option {s}")))
            }
            _ => o.args.push(a.clone()),
        }
    }
    Ok(o)
}

/// `host:port` as a person writes it (IPv6 in brackets).
fn host_port(url: &FtpUrl) -> String {
    if url.host().contains(':') {
        format!("[{}]:{}", url.host(), url.port())
    } else {
        format!("{}:{}", url.host(), url.port())
    }
}

/// Implicit FTPS: TLS from the first byte, certificates checked against the webpki roots.
#[cfg(feature = "tls")]
fn connect_ftps(ftp: &mut Ftp, url: &FtpUrl, peer: &str) -> Result<(), CliError> {
    let tls = ftp_blocking::tls::TlsConfig::new();
    ftp.connect_host_implicit_tls(url.host(), Some(url.port()), &tls)
        .ctx(|| format!("connect (implicit FTPS) to {peer}"))?;
    Ok(())
}

#[cfg(not(feature = "tls"))]
fn connect_ftps(_: &mut Ftp, _: &FtpUrl, _: &str) -> Result<(), CliError> {
    Err(CliError::Usage(
        "ftps:// needs ftp-blocking's `tls` feature".into(),
    ))
}

/// Connects, logs in (anonymously without a user in the URL) and changes into `dirs`, one
/// `CWD` per URL segment (RFC 1738 §3.2.2).
fn open(url: &FtpUrl, dirs: &[String], o: &Options) -> Result<Ftp, CliError> {
    let mut ftp = Ftp::new();
    ftp.set_debuglevel(o.verbose);
    ftp.set_timeout(Some(Duration::from_secs(30)));
    ftp.set_pasv(!o.active);
    let peer = host_port(url);
    match url.scheme() {
        Scheme::Ftp => {
            ftp.connect_host(url.host(), Some(url.port()))
                .ctx(|| format!("connect to {peer}"))?;
        }
        Scheme::Ftps => connect_ftps(&mut ftp, url, &peer)?,
    }
    let (user, password) = url.credentials();
    ftp.login(user, password).ctx(|| {
        let who = if user.is_empty() { "anonymous" } else { user };
        format!("login to {peer} as {who}")
    })?;
    #[cfg(feature = "tls")]
    if url.scheme() == Scheme::Ftps {
        ftp.prot_p().ctx(|| "PROT P".into())?;
    }
    for step in dirs {
        ftp.cwd(step).ctx(|| format!("CWD {step}"))?;
    }
    Ok(ftp)
}

/// Refuses `;type=a`: this client transfers files in binary (`TYPE I`) only.
fn binary_only(url: &FtpUrl) -> Result<(), CliError> {
    if url.typecode() == Some(TypeCode::Ascii) {
        return Err(CliError::Usage(
            "ASCII transfers (;type=a) are not supported: the file is copied as is".into(),
        ));
    }
    Ok(())
}

// ---- ls, get, put ---------------------------------------------------------------------------

fn cmd_ls(o: &Options) -> Result<(), CliError> {
    let [url] = &o.args[..] else {
        return Err(CliError::Usage("ls takes one URL".into()));
    };
    let url = FtpUrl::parse(url)?;
    // Every segment is a directory to enter: a missing one fails at its CWD (vsftpd, asked to
    // LIST a missing directory, answers 226 with no lines, which would look like an empty one).
    let mut ftp = open(&url, url.segments(), o)?;
    let lines = ftp.dir(None).ctx(|| format!("LIST {}", url.path()))?;
    let mut out = io::stdout().lock();
    for line in lines {
        writeln!(out, "{line}").map_err(at(Path::new("<stdout>")))?;
    }
    ftp.quit().ok();
    Ok(())
}

/// How a download ended.
#[derive(Debug, PartialEq, Eq)]
enum Got {
    /// The bytes transferred now (not counting a resumed `.part`).
    Received(u64),
    /// `--continue` on a file that was already complete: its size.
    AlreadyComplete(u64),
}

/// `NAME.part` next to `local`.
fn part_path(local: &Path, suffix: &str) -> PathBuf {
    let mut name = local.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    local.with_file_name(name)
}

/// Downloads `remote` into `part`, then renames it to `local`: `local` only ever holds a
/// complete file. With `resume`, continues what `part` holds (`REST`); a complete `local`
/// without a `part` is left as it is. The `.part` file is created only once the server has
/// opened the download, so a missing remote file leaves nothing; an interrupted download
/// keeps `part` ([`CliError::Interrupted`]). `known_size`: the size a listing already gave
/// (the mirror's): then no `SIZE` round trip is spent.
fn download(
    ftp: &mut Ftp,
    remote: &str,
    local: &Path,
    part: &Path,
    resume: bool,
    known_size: Option<u64>,
) -> Result<Got, CliError> {
    let size = match known_size {
        Some(s) => Some(s),
        None => ftp.size(remote).ok(),
    };
    let mut have = 0;
    if resume {
        match fs::metadata(part) {
            Ok(m) => have = m.len(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::metadata(local) {
                Ok(m) if size == Some(m.len()) => return Ok(Got::AlreadyComplete(m.len())),
                Ok(m) => {
                    return Err(CliError::Other(format!(
                        "{}: exists ({} bytes) and is not the remote file ({}); there is no {} \
                         to resume: run without --continue to replace it",
                        local.display(),
                        m.len(),
                        size.map_or("size unknown".into(), |s| format!("{s} bytes")),
                        part.display()
                    )))
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(at(local)(e)),
            },
            Err(e) => return Err(at(part)(e)),
        }
        if let Some(size) = size {
            if have > size {
                return Err(CliError::Other(format!(
                    "{}: {have} bytes, longer than the remote file ({size} bytes): remove it \
                     to download again",
                    part.display()
                )));
            }
            if have == size {
                fs::rename(part, local).map_err(at(local))?;
                return Ok(Got::AlreadyComplete(size));
            }
        }
    }
    // The server opens the download first: a missing file fails here and nothing is created.
    let rest = (have > 0).then_some(have);
    let mut reader = ftp
        .retr_reader(remote, rest)
        .ctx(|| format!("RETR {remote}"))?;
    let opened = if have > 0 {
        open_part_for_append(part)
    } else {
        create_part(part)
    };
    let mut file = match opened {
        Ok(f) => f,
        Err(e) => {
            reader.abort().ok();
            return Err(at(part)(e));
        }
    };
    let mut progress = Progress::new(
        &String::from_utf8_lossy(base_name(remote.as_bytes())),
        size,
        have,
    );
    let mut buf = vec![0u8; 64 * 1024];
    let mut moved = 0u64;
    // `Err((error, abort))`: the copy failed; `abort`: send ABOR (the local side failed).
    let copied: Result<(), (CliError, bool)> = loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(err) => {
                let what = format!("RETR {remote}");
                break Err((
                    CliError::Ftp {
                        what,
                        err: err.into(),
                    },
                    false,
                ));
            }
        };
        if let Err(e) = file.write_all(&buf[..n]) {
            break Err((at(part)(e), true));
        }
        moved += n as u64;
        progress.add(n);
    };
    let failed = match copied {
        Err((e, abort)) => {
            if abort {
                reader.abort().ok();
            } else {
                drop(reader);
            }
            Some(e)
        }
        Ok(()) => match reader.finish() {
            Err(err) => Some(CliError::Ftp {
                what: format!("RETR {remote}"),
                err,
            }),
            Ok(_) => match size {
                Some(size) if have + moved != size => Some(CliError::Short {
                    what: format!("RETR {remote}"),
                    expected: size,
                    received: have + moved,
                }),
                _ => None,
            },
        },
    };
    progress.finish();
    if let Some(cause) = failed {
        if have + moved == 0 {
            // nothing arrived: no `.part` worth keeping
            let _ = fs::remove_file(part);
            return Err(cause);
        }
        let _ = file.sync_all();
        return Err(CliError::Interrupted {
            part: part.to_path_buf(),
            have: have + moved,
            cause: Box::new(cause),
        });
    }
    file.sync_all().map_err(at(part))?;
    drop(file);
    fs::rename(part, local).map_err(at(local))?;
    Ok(Got::Received(moved))
}

/// Creates `part` afresh: an old one, or a symbolic link planted under its name, is removed
/// first, and `create_new` never follows a link.
fn create_part(part: &Path) -> io::Result<File> {
    match fs::remove_file(part) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    OpenOptions::new().write(true).create_new(true).open(part)
}

/// Opens the `.part` of an earlier run to append to it; refuses anything but a plain file.
fn open_part_for_append(part: &Path) -> io::Result<File> {
    let meta = fs::symlink_metadata(part)?;
    if !meta.is_file() {
        return Err(io::Error::other(
            "not a plain file (a symbolic link?): refusing to resume into it",
        ));
    }
    OpenOptions::new().append(true).open(part)
}

/// The last `/`-separated part of a remote path.
fn base_name(path: &[u8]) -> &[u8] {
    let trimmed = path.strip_suffix(b"/").unwrap_or(path);
    trimmed.rsplit(|&b| b == b'/').next().unwrap_or(trimmed)
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
    binary_only(&url)?;
    let Some(name) = url.file_name() else {
        return Err(CliError::Usage(
            "get needs the URL of a file (not ending in /)".into(),
        ));
    };
    // LOCAL names the file, or a folder to put it in under its remote name
    let local = match local {
        Some(l) if !l.is_dir() => l,
        folder => {
            check_name(name.as_bytes())
                .map_err(|why| CliError::Other(format!("refusing remote name {name:?}: {why}")))?;
            folder.unwrap_or_default().join(name)
        }
    };
    let part = part_path(&local, ".part");
    let mut ftp = open(&url, url.directory(), o)?;
    match download(&mut ftp, name, &local, &part, o.resume, None)? {
        Got::AlreadyComplete(n) => eprintln!("{}: already complete ({n} bytes)", local.display()),
        Got::Received(n) => eprintln!("{}: {n} bytes received", local.display()),
    }
    ftp.quit().ok();
    Ok(())
}

fn cmd_put(o: &Options) -> Result<(), CliError> {
    let [local, url] = &o.args[..] else {
        return Err(CliError::Usage("put takes a local file and a URL".into()));
    };
    let url = FtpUrl::parse(url)?;
    binary_only(&url)?;
    let local = Path::new(local);
    let remote = match url.file_name() {
        Some(name) => name.to_owned(),
        None => local
            .file_name()
            .and_then(OsStr::to_str)
            .ok_or_else(|| CliError::Usage(format!("{}: no file name", local.display())))?
            .to_owned(),
    };
    let mut file = File::open(local).map_err(at(local))?;
    let total = file.metadata().map_err(at(local))?.len();
    let mut ftp = open(&url, url.directory(), o)?;
    let mut writer = ftp.stor_writer(&remote).ctx(|| format!("STOR {remote}"))?;
    let mut progress = Progress::new(&remote, Some(total), 0);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                writer.abort().ok();
                return Err(at(local)(e));
            }
        };
        if let Err(err) = writer.write_all(&buf[..n]) {
            drop(writer);
            return Err(CliError::Ftp {
                what: format!("STOR {remote}"),
                err: err.into(),
            });
        }
        progress.add(n);
    }
    writer.finish().ctx(|| format!("STOR {remote}"))?;
    progress.finish();
    eprintln!("{remote}: {total} bytes sent");
    ftp.quit().ok();
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
    failed: usize,
    dirs: usize,
    bytes: u64,
    /// Downloads resumed (`REST`) from what an interrupted attempt left.
    resumed: usize,
    /// Operations tried again after a transient failure (`ftp_sansio::retry` decides).
    retries: usize,
    /// Connections opened again after the control connection was lost.
    reconnects: usize,
}

impl MirrorStats {
    /// Reports a failure that does not stop the mirror.
    fn fail(&mut self, e: &CliError) {
        eprintln!("mirror: failed: {e}");
        self.failed += 1;
    }
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
    let shown = if dir.is_empty() { "." } else { dir };
    let mlsd = ftp.features().is_some_and(|f| f.contains("MLST"));
    let entries = if mlsd {
        ftp.mlsd(arg).ctx(|| format!("MLSD {shown}"))?
    } else {
        ftp.list(arg).ctx(|| format!("LIST {shown}"))?
    };
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

/// Whether an FTP error leaves the session unusable, so that the mirror must stop.
fn fatal(ftp: &Ftp, e: &CliError) -> bool {
    matches!(
        e,
        CliError::Ftp { .. } | CliError::Interrupted { .. } | CliError::Short { .. }
    ) && !ftp.is_connected()
}

/// What `ftp_sansio::retry` says about a failed download or listing: the recovery, and
/// whether the server refused `REST`. `connected`: whether the session is still up.
fn recovery_of(e: &CliError, connected: bool) -> (Recovery, bool) {
    let (recovery, rest_refused) = match e {
        CliError::Ftp { err, .. } => (err.recovery(), err.is_rest_refusal()),
        CliError::Interrupted { cause, .. } => recovery_of(cause, connected),
        // Shorter than announced: the core's truncation; longer: the file changed (give up).
        CliError::Short {
            expected, received, ..
        } if received < expected => (
            OpError::Truncated {
                expected: *expected,
                received: *received,
                reply: None,
            }
            .recovery(),
            false,
        ),
        // local files, usage, a longer file
        _ => (Recovery::GiveUp, false),
    };
    if connected {
        (recovery, rest_refused)
    } else {
        (recovery.after_close(), rest_refused)
    }
}

/// The mirror's session, opened again (with the core's backoff) when it is lost.
struct Remote<'a> {
    ftp: &'a mut Ftp,
    /// Connects, logs in and changes into the top folder; `None`: no reconnecting.
    reopen: Option<Box<dyn FnMut() -> Result<Ftp, CliError> + 'a>>,
    /// Reconnects since the session last did useful work.
    retries: Retries,
    /// A xorshift state for the backoff's jitter (the core takes the random number as an
    /// argument).
    jitter: u64,
}

impl<'a> Remote<'a> {
    /// A session that is not opened again when lost.
    fn new(ftp: &'a mut Ftp) -> Remote<'a> {
        let seed = std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Remote {
            ftp,
            reopen: None,
            retries: Retries::new(Backoff::default()),
            jitter: seed | 1,
        }
    }

    /// Opens the session (again): connect, log in, change into the top folder; a connect or
    /// greeting that fails transiently is tried again after the core's backoff.
    fn open(&mut self, stats: &mut MirrorStats) -> Result<(), CliError> {
        let Some(reopen) = self.reopen.as_mut() else {
            return Err(CliError::Other("the connection is lost".into()));
        };
        loop {
            let e = match reopen() {
                Ok(ftp) => {
                    *self.ftp = ftp;
                    return Ok(());
                }
                Err(e) => e,
            };
            let recovery = match &e {
                CliError::Ftp { err, .. } => err.recovery(),
                _ => Recovery::GiveUp,
            };
            let random = next_random(&mut self.jitter);
            let next = match recovery {
                Recovery::GiveUp => None,
                _ => self.retries.next_delay(Instant::now(), random),
            };
            let Some(delay) = next else { return Err(e) };
            eprintln!("mirror: {e}; connecting again in {delay:.2?}");
            std::thread::sleep(delay);
            stats.reconnects += 1;
        }
    }

    /// Connects again after `delay`, the control connection having been lost (`cause`,
    /// returned when there is no way to reconnect).
    fn reconnect(
        &mut self,
        delay: Duration,
        cause: CliError,
        stats: &mut MirrorStats,
    ) -> Result<(), CliError> {
        if self.reopen.is_none() {
            return Err(cause);
        }
        eprintln!("mirror: {cause}; connecting again in {delay:.2?}");
        std::thread::sleep(delay);
        stats.reconnects += 1;
        self.open(stats)
    }
}

/// The next number of a xorshift generator (the backoff's jitter).
fn next_random(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    x
}

/// What an interrupted download was cut by (the error itself for any other).
fn cause_of(e: &CliError) -> &CliError {
    match e {
        CliError::Interrupted { cause, .. } => cause,
        other => other,
    }
}

/// Runs `attempt` until it succeeds or `ftp_sansio::retry` says to give up: a transient
/// failure is tried again after the backoff, on the same session or, when it was lost, on a
/// new one. `attempt` gets the session, the download's [`Resume`] (where to start) and sets
/// its `bool` when it sent `REST`.
fn with_retries<T>(
    remote: &mut Remote,
    stats: &mut MirrorStats,
    mut attempt: impl FnMut(&mut Ftp, &Resume, &mut bool) -> Result<T, CliError>,
) -> Result<T, CliError> {
    let mut resume = Resume::new(Backoff::default());
    loop {
        let mut sent_rest = false;
        let err = match attempt(remote.ftp, &resume, &mut sent_rest) {
            Ok(v) => {
                remote.retries.reset();
                return Ok(v);
            }
            Err(e) => e,
        };
        let (recovery, rest_refused) = recovery_of(&err, remote.ftp.is_connected());
        let random = next_random(&mut remote.jitter);
        match resume.on_failure(recovery, sent_rest && rest_refused, Instant::now(), random) {
            Next::Retry { delay } => {
                stats.retries += 1;
                eprintln!("mirror: {}; trying again in {delay:.2?}", cause_of(&err));
                std::thread::sleep(delay);
            }
            Next::Reconnect { delay } => {
                stats.retries += 1;
                let cause = match err {
                    CliError::Interrupted { cause, .. } => *cause,
                    other => other,
                };
                remote.reconnect(delay, cause, stats)?;
            }
            Next::GiveUp => return Err(err),
        }
    }
}

/// Copies the remote directory `remote` into `local` (created if needed), recursively. A file
/// or folder that fails is counted in `stats` and reported, and the mirror goes on; only a
/// lost connection (or a failure at the top folder) ends it with an error.
fn mirror(
    conn: &mut Remote,
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
        Err(_) => fs::create_dir_all(local).map_err(at(local))?,
    }
    stats.dirs += 1;
    let entries = with_retries(conn, stats, |ftp, _, _| remote_entries(ftp, remote))?;
    for e in entries {
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
        let result = match e.kind {
            EntryKind::Dir => mirror(conn, &remote_path, &target, stats),
            EntryKind::File => mirror_file(conn, &e, &remote_path, &target, stats),
            _ => {
                eprintln!("mirror: skipping {remote_path}: not a file or directory");
                Ok(())
            }
        };
        if let Err(err) = result {
            if fatal(conn.ftp, &err) {
                return Err(err);
            }
            stats.fail(&err);
        }
    }
    Ok(())
}

fn mirror_file(
    conn: &mut Remote,
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
    // run would take as complete. (Not `NAME.part`, which a remote file may be called.)
    let part = part_path(target, ".ftp-part");
    let mut first = true;
    let mut resumed = 0;
    let got = with_retries(conn, stats, |ftp, resume, sent_rest| {
        // The first attempt starts afresh; a later one goes on from what the part file holds
        // (from byte 0 once the server refused REST).
        let held = match fs::symlink_metadata(&part) {
            Ok(m) if m.is_file() && !first => m.len(),
            _ => 0,
        };
        first = false;
        let offset = resume.offset(held);
        *sent_rest = offset > 0;
        if offset > 0 {
            resumed += 1;
            eprintln!("mirror: {remote_path}: resuming at byte {offset}");
        }
        download(ftp, remote_path, target, &part, offset > 0, e.size)
    });
    stats.resumed += resumed;
    let moved = match got {
        Ok(Got::Received(n) | Got::AlreadyComplete(n)) => n,
        Err(err) => {
            let _ = fs::remove_file(&part);
            return Err(match err {
                CliError::Interrupted { cause, .. } => *cause,
                other => other,
            });
        }
    };
    if let Some(secs) = e.mtime {
        let t = if secs >= 0 {
            UNIX_EPOCH + Duration::from_secs(secs as u64)
        } else {
            UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
        };
        File::options()
            .write(true)
            .open(target)
            .and_then(|f| f.set_modified(t))
            .map_err(at(target))?;
    }
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
    let mut stats = MirrorStats::default();
    let mut ftp = Ftp::new();
    let mut conn = Remote::new(&mut ftp);
    conn.reopen = Some(Box::new(|| open(&url, url.segments(), o)));
    conn.open(&mut stats)?;
    let result = mirror(&mut conn, "", Path::new(local), &mut stats);
    drop(conn);
    eprintln!(
        "mirror: {} downloaded ({}), {} up to date, {} refused, {} failed, {} directories, {} resumed, {} retries, {} reconnects",
        stats.downloaded,
        human(stats.bytes as f64),
        stats.skipped,
        stats.refused,
        stats.failed,
        stats.dirs,
        stats.resumed,
        stats.retries,
        stats.reconnects
    );
    result?;
    ftp.quit().ok();
    if stats.failed + stats.refused > 0 {
        return Err(CliError::Other(format!(
            "mirror incomplete: {} failed, {} refused",
            stats.failed, stats.refused
        )));
    }
    Ok(())
}

fn main() -> ExitCode {
    init_logger();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let o = match parse_options(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("ftp: {e}");
            return ExitCode::from(2);
        }
    };
    if o.help {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let Some(cmd) = o.args.first().cloned() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let o = Options {
        args: o.args[1..].to_vec(),
        ..o
    };
    let result = match cmd.as_str() {
        "ls" => cmd_ls(&o),
        "get" => cmd_get(&o),
        "put" => cmd_put(&o),
        "mirror" => cmd_mirror(&o),
        "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(CliError::Usage(format!("unknown command {other:?}"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ CliError::Usage(_)) => {
            eprintln!("ftp: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("ftp: {cmd} failed: {e}");
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
        mirror(&mut Remote::new(&mut ftp), "tree", &local, &mut stats).unwrap();
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
        mirror(&mut Remote::new(&mut ftp), "tree", &local, &mut again).unwrap();
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
        mirror(&mut Remote::new(&mut ftp), "tree", &local, &mut third).unwrap();
        assert_eq!((third.downloaded, third.skipped), (2, 2), "{third:?}");
        assert_eq!(fs::read(local.join("a.txt")).unwrap(), b"alpha, longer\n");
        assert_eq!(fs::read(&c).unwrap(), b"gamma\n");
    }

    /// Issue 15: where MLSD gives sizes and exact times, the mirror spends no round trip per
    /// file on `SIZE` or `MDTM`: per file only the data connection and `RETR`.
    #[test]
    fn mirror_asks_nothing_the_listing_answered() {
        use ftp_tests::fault::{download, listing, reply, well_behaved, FaultServer};
        let data = payload(5000, 3);
        let server = FaultServer::start(
            well_behaved()
                .on(
                    "FEAT",
                    reply("211-Features:\n EPSV\n MLST type*;size*;modify*;\n211 End"),
                )
                .on(
                    "MLSD",
                    listing(&[
                        b"type=file;size=5000;modify=20240102030405; one.bin",
                        b"type=file;size=5000;modify=20240102030406; two.bin",
                    ]),
                )
                .on("RETR", download(&data)),
        );
        let mut ftp = Ftp::connect(server.addr()).unwrap();
        ftp.login("u", "p").unwrap();
        let target = tempfile::tempdir().unwrap();
        let mut stats = MirrorStats::default();
        mirror(
            &mut Remote::new(&mut ftp),
            "tree",
            target.path(),
            &mut stats,
        )
        .unwrap();
        assert_eq!(stats.downloaded, 2, "{stats:?}");
        assert_eq!(fs::read(target.path().join("two.bin")).unwrap(), data);
        let sent = server.commands();
        assert!(
            !sent
                .iter()
                .any(|c| c.starts_with("SIZE") || c.starts_with("MDTM")),
            "{sent:?}"
        );
        assert_eq!(sent.iter().filter(|c| c.starts_with("RETR")).count(), 2);
    }

    /// Issue 15: a download cut part way is resumed with `REST` from what arrived, and the
    /// file ends byte-identical. The cut is made by the link simulator.
    #[test]
    fn mirror_resumes_a_cut_download() {
        use ftp_tests::link::{Fault, Link, Target};
        let server = LocalServer::start();
        let big = payload(3 << 20, 11);
        server.write_file("tree/big.bin", &big).unwrap();
        // The listing is data connection 0, the first download 1: cut it after 1 MiB.
        let link = Link::builder(server.addr())
            .fault(Target::Data(1), Fault::Cut { after: 1 << 20 })
            .start()
            .unwrap();
        let mut ftp = Ftp::connect(link.addr()).unwrap();
        ftp.login(server.user(), server.password()).unwrap();
        let target = tempfile::tempdir().unwrap();
        let mut stats = MirrorStats::default();
        mirror(
            &mut Remote::new(&mut ftp),
            "tree",
            target.path(),
            &mut stats,
        )
        .unwrap();
        assert_eq!((stats.downloaded, stats.failed), (1, 0), "{stats:?}");
        assert_eq!(stats.resumed, 1, "{stats:?}");
        assert_eq!(fs::read(target.path().join("big.bin")).unwrap(), big);
        assert!(!target.path().join("big.bin.ftp-part").exists());
        assert_eq!(link.stats().cuts, 1);
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
        mirror(&mut Remote::new(&mut ftp), "evil", &local, &mut stats).unwrap();
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
        let err = mirror(
            &mut Remote::new(&mut ftp),
            "lf",
            &target.path().join("lf"),
            &mut stats,
        )
        .unwrap_err();
        assert!(
            matches!(&err, CliError::Ftp { err, .. } if err.kind() == ftp_blocking::ErrorKind::Protocol),
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
    fn get_continue_resumes_the_part_file() {
        let server = LocalServer::start();
        let data = payload(500_000, 13);
        server.write_file("dl.bin", &data).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("dl.bin");
        let part = part_path(&local, ".part");
        // a partial earlier download
        fs::write(&part, &data[..123_456]).unwrap();
        let mut ftp = login(&server);
        let got = download(&mut ftp, "dl.bin", &local, &part, true, None).unwrap();
        assert_eq!(got, Got::Received((data.len() - 123_456) as u64));
        assert_eq!(fs::read(&local).unwrap(), data);
        assert!(!part.exists());
        // complete: nothing to do
        let got = download(&mut ftp, "dl.bin", &local, &part, true, None).unwrap();
        assert_eq!(got, Got::AlreadyComplete(data.len() as u64));
        // a .part longer than the remote file: refused, untouched
        fs::write(&part, payload(600_000, 3)).unwrap();
        assert!(download(&mut ftp, "dl.bin", &local, &part, true, None).is_err());
        assert_eq!(fs::metadata(&part).unwrap().len(), 600_000);
        fs::remove_file(&part).unwrap();
        // a different file under the final name is not taken for a partial one
        fs::write(&local, b"other").unwrap();
        assert!(download(&mut ftp, "dl.bin", &local, &part, true, None).is_err());
        assert_eq!(fs::read(&local).unwrap(), b"other");
        // without --continue the file is replaced
        let got = download(&mut ftp, "dl.bin", &local, &part, false, None).unwrap();
        assert_eq!(got, Got::Received(data.len() as u64));
        assert_eq!(fs::read(&local).unwrap(), data);
        // a symbolic link planted under the .part name is replaced, never written through
        let outside = dir.path().join("outside.txt");
        fs::write(&outside, b"untouched").unwrap();
        std::os::unix::fs::symlink(&outside, &part).unwrap();
        let got = download(&mut ftp, "dl.bin", &local, &part, false, None).unwrap();
        assert_eq!(got, Got::Received(data.len() as u64));
        assert_eq!(fs::read(&outside).unwrap(), b"untouched");
        std::os::unix::fs::symlink(&outside, &part).unwrap();
        assert!(download(&mut ftp, "dl.bin", &local, &part, true, None).is_err());
        assert_eq!(fs::read(&outside).unwrap(), b"untouched");
        fs::remove_file(&part).unwrap();
        // a missing remote file leaves nothing
        let missing = dir.path().join("missing.bin");
        let missing_part = part_path(&missing, ".part");
        let err = download(
            &mut ftp,
            "missing.bin",
            &missing,
            &missing_part,
            false,
            None,
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("RETR missing.bin: "), "{err}");
        assert!(!missing.exists() && !missing_part.exists());
        assert_eq!(ftp.pwd().unwrap(), "/");
    }

    #[test]
    fn options_and_names() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let o = parse_options(&args(&["-vv", "get", "--continue", "x"])).unwrap();
        assert_eq!((o.verbose, o.resume, o.active), (2, true, false));
        assert_eq!(o.args, ["get", "x"]);
        let o = parse_options(&args(&["ls", "--", "-v"])).unwrap();
        assert_eq!((o.verbose, &o.args[..]), (0, &args(&["ls", "-v"])[..]));
        assert!(parse_options(&args(&["--bogus"])).is_err());
        assert_eq!(base_name(b"a/b/c.txt"), b"c.txt");
        assert_eq!(base_name(b"dir/"), b"dir");
        assert_eq!(
            part_path(Path::new("d/f.bin"), ".part"),
            Path::new("d/f.bin.part")
        );
        assert_eq!(human(1536.0), "1.5 KiB");
    }
}
