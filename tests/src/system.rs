//! [`SystemServer`]: vsftpd, ProFTPD, Pure-FTPd and pyftpdlib, started through the scripts in
//! `tests/servers/`.

use std::ffi::OsString;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use crate::ports::{free_port, passive_range, V4};
use crate::{ServerKind, TestServer, IGNORE_REASON};

/// How many times a start is tried (each on a new free port) before giving up: another
/// process may take the port between our probe and the server's bind.
const START_ATTEMPTS: u32 = 3;

/// The directory of the start/stop scripts: `tests/servers/` of this repository.
fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("servers")
}

/// Where `install.sh` puts the servers: the same default as the scripts compute, made explicit
/// so that it survives `sudo` (which may change `HOME`).
fn servers_home() -> OsString {
    if let Some(home) = std::env::var_os("FTP_SERVERS_HOME") {
        return home;
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/root/.cache"));
    cache.join("ftp-rs-test-servers").into_os_string()
}

/// How this process can run the scripts that need root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Privilege {
    Root,
    Sudo,
    None,
}

fn privilege() -> Privilege {
    static P: OnceLock<Privilege> = OnceLock::new();
    *P.get_or_init(|| {
        // /proc/self belongs to the effective user of this process
        if std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0) {
            Privilege::Root
        } else if Command::new("sudo")
            .args(["-n", "true"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            Privilege::Sudo
        } else {
            Privilege::None
        }
    })
}

fn how_to_run() -> String {
    format!(
        "run `tests/run-all.sh` (it installs the servers with tests/servers/install.sh, as root \
         or through sudo, then runs every test including the ignored ones); these tests are \
         #[ignore = \"{IGNORE_REASON}\"] for that reason"
    )
}

/// Whether the system servers can be started here: `Ok(())`, or the reason they cannot and
/// how to fix it. The answer is computed once per process.
///
/// ```no_run
/// if let Err(why) = ftp_tests::system_servers_status() {
///     eprintln!("skipping: {why}");
/// }
/// ```
pub fn system_servers_status() -> Result<(), String> {
    static STATUS: OnceLock<Result<(), String>> = OnceLock::new();
    STATUS
        .get_or_init(|| {
            let dir = scripts_dir();
            let install = dir.join("install.sh");
            if !install.is_file() {
                return Err(format!(
                    "the server scripts are missing ({} not found)",
                    install.display()
                ));
            }
            let check = Command::new("bash")
                .arg(&install)
                .arg("--check")
                .env("FTP_SERVERS_HOME", servers_home())
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("could not run {}: {e}", install.display()))?;
            if !check.status.success() {
                return Err(format!(
                    "the FTP servers are not installed ({}); {}",
                    String::from_utf8_lossy(&check.stderr).trim(),
                    how_to_run()
                ));
            }
            if privilege() == Privilege::None {
                return Err(format!(
                    "vsftpd, ProFTPD and Pure-FTPd must be started as root and this process is \
                     neither root nor allowed password-less sudo; {}",
                    how_to_run()
                ));
            }
            Ok(())
        })
        .clone()
}

/// True when [`system_servers_status`] is `Ok`.
///
/// ```no_run
/// assert!(ftp_tests::system_servers_available(), "run tests/run-all.sh");
/// ```
pub fn system_servers_available() -> bool {
    system_servers_status().is_ok()
}

/// Options of a [`SystemServer`]; made by [`SystemServer::builder`].
#[derive(Clone, Debug)]
pub struct SystemServerBuilder {
    kind: ServerKind,
    ipv6: bool,
    tls_no_reuse: bool,
    passive: Option<RangeInclusive<u16>>,
}

impl SystemServerBuilder {
    /// Listen on `[::1]` instead of `127.0.0.1` (one address per server).
    pub fn ipv6(mut self) -> Self {
        self.ipv6 = true;
        self
    }

    /// vsftpd and ProFTPD: accept TLS data connections that do not resume the control
    /// connection's session (`FTP_TLS_NO_REUSE=1`). Other servers never require it.
    pub fn tls_no_reuse(mut self) -> Self {
        self.tls_no_reuse = true;
        self
    }

    /// Use this passive port range instead of a fresh [`passive_range`].
    pub fn passive_ports(mut self, range: RangeInclusive<u16>) -> Self {
        self.passive = Some(range);
        self
    }

    /// Starts the server over a fresh temporary directory; it has greeted with 220 when this
    /// returns. Errors say what went wrong, with the script's output.
    pub fn start(self) -> Result<SystemServer, String> {
        if !self.kind.is_system() {
            return Err(format!(
                "{} is not started by a script: use LocalServer",
                self.kind
            ));
        }
        system_servers_status()?;
        let sudo = self.kind.needs_root() && privilege() == Privilege::Sudo;
        let dir = tempfile::Builder::new()
            .prefix(&format!("ftp-rs-{}-", self.kind.name()))
            .tempdir()
            .map_err(|e| format!("no temporary directory: {e}"))?;
        // The servers run their sessions as `ftp`/`ftptest`: they must get through.
        let world_searchable = std::fs::Permissions::from_mode(0o755);
        std::fs::set_permissions(dir.path(), world_searchable.clone())
            .map_err(|e| format!("chmod {}: {e}", dir.path().display()))?;
        if let Some(run) = std::env::var_os("FTP_RS_TEST_RUN") {
            // lets tests/run-all.sh stop this server if the test process dies before Drop
            let _ = std::fs::write(dir.path().join("run-id"), run.as_encoded_bytes());
        }
        let root = dir.path().join("root");
        std::fs::create_dir(&root).map_err(|e| format!("mkdir {}: {e}", root.display()))?;
        std::fs::set_permissions(&root, world_searchable)
            .map_err(|e| format!("chmod {}: {e}", root.display()))?;
        let ip = if self.ipv6 {
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        } else {
            V4
        };
        let passive = self.passive.clone().unwrap_or_else(passive_range);
        let script = scripts_dir().join(format!("start-{}.sh", self.kind.name()));

        let mut failures = Vec::new();
        for attempt in 1..=START_ATTEMPTS {
            let port = free_port(ip).map_err(|e| format!("no free port on {ip}: {e}"))?;
            let state = dir.path().join(format!("state-{attempt}"));
            let mut cmd = if sudo {
                let mut c = Command::new("sudo");
                c.args(["-n", "env"]);
                c
            } else {
                Command::new("env")
            };
            cmd.arg(format!("FTP_HOST={ip}"))
                .arg(format!("FTP_PASV_MIN={}", passive.start()))
                .arg(format!("FTP_PASV_MAX={}", passive.end()))
                .arg(format!("FTP_TLS_NO_REUSE={}", u8::from(self.tls_no_reuse)))
                .arg({
                    let mut s = OsString::from("FTP_STATE_DIR=");
                    s.push(&state);
                    s
                })
                .arg({
                    let mut s = OsString::from("FTP_SERVERS_HOME=");
                    s.push(servers_home());
                    s
                })
                .arg("bash")
                .arg(&script)
                .arg(port.to_string())
                .arg(&root)
                .stdin(Stdio::null());
            let out: Output = cmd
                .output()
                .map_err(|e| format!("could not run {}: {e}", script.display()))?;
            let stdout = String::from_utf8_lossy(&out.stdout);
            if out.status.success() {
                let pid: u32 = stdout.trim().parse().map_err(|_| {
                    format!("{} printed {stdout:?} instead of a PID", script.display())
                })?;
                return Ok(SystemServer {
                    kind: self.kind,
                    addr: SocketAddr::new(ip, port),
                    root,
                    cert: state.join("cert.pem"),
                    state,
                    pid,
                    passive,
                    sudo,
                    dir: Some(dir),
                });
            }
            failures.push(format!(
                "attempt {attempt} on port {port}: {}{}",
                stdout,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let kept = dir.keep();
        Err(format!(
            "{} did not start {START_ATTEMPTS} times (files kept in {}):\n{}",
            self.kind,
            kept.display(),
            failures.join("\n")
        ))
    }
}

/// A system FTP server (vsftpd, ProFTPD, Pure-FTPd or pyftpdlib) on a free loopback port over
/// a fresh temporary directory, stopped (`tests/servers/stop.sh`) when dropped.
///
/// The servers come from `tests/servers/install.sh`; vsftpd, ProFTPD and Pure-FTPd are started
/// as root (directly, or through password-less `sudo`). Conventions: see the crate docs and
/// `tests/servers/common.sh`. The root directory belongs to the system user `ftptest` while
/// the server runs (pyftpdlib: to the caller); put files there with
/// [`TestServer::write_file`], which hands them over.
///
/// When the test panics, the directory (with the server's config and logs under
/// `state-*/`) is kept and its path printed, for a post-mortem.
///
/// ```no_run
/// use ftp_tests::{RawClient, ServerKind, SystemServer, TestServer};
/// let server = SystemServer::start(ServerKind::Vsftpd);
/// let mut c = RawClient::connect(server.addr()).unwrap();
/// assert_eq!(c.login(server.user(), server.password()).unwrap().code, 230);
/// ```
#[derive(Debug)]
pub struct SystemServer {
    kind: ServerKind,
    addr: SocketAddr,
    root: PathBuf,
    state: PathBuf,
    cert: PathBuf,
    pid: u32,
    passive: RangeInclusive<u16>,
    sudo: bool,
    dir: Option<tempfile::TempDir>,
}

impl SystemServer {
    /// Options for a server that differs from the default one (IPv4, session reuse required).
    pub fn builder(kind: ServerKind) -> SystemServerBuilder {
        SystemServerBuilder {
            kind,
            ipv6: false,
            tls_no_reuse: false,
            passive: None,
        }
    }

    /// Starts a `kind` server with the default options; panics with the reason (and how to
    /// get the servers: `tests/run-all.sh`) when it cannot.
    pub fn start(kind: ServerKind) -> SystemServer {
        match SystemServer::builder(kind).start() {
            Ok(server) => server,
            Err(e) => panic!("cannot start {kind}: {e}"),
        }
    }

    /// The server's state directory: its config, `cert.pem`/`key.pem` and logs (vsftpd logs
    /// the whole protocol in `vsftpd.log`, ProFTPD every command in `commands.log`).
    pub fn state_dir(&self) -> &Path {
        &self.state
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The passive port range the server was given.
    pub fn passive_ports(&self) -> RangeInclusive<u16> {
        self.passive.clone()
    }

    fn root_cmd(&self, program: &str) -> Command {
        if self.sudo {
            let mut c = Command::new("sudo");
            c.arg("-n").arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    fn run(&self, mut cmd: Command) -> io::Result<()> {
        let out = cmd.stdin(Stdio::null()).output()?;
        if out.status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "{cmd:?} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    }
}

impl TestServer for SystemServer {
    fn kind(&self) -> ServerKind {
        self.kind
    }
    fn addr(&self) -> SocketAddr {
        self.addr
    }
    fn root(&self) -> &Path {
        &self.root
    }
    fn cert_pem(&self) -> Option<&Path> {
        Some(self.cert.as_path()).filter(|p| p.is_file())
    }
    fn hand_over(&self, path: &Path) -> io::Result<()> {
        if !self.kind.needs_root() {
            return Ok(()); // pyftpdlib runs as us
        }
        let mut chown = self.root_cmd("chown");
        chown.args(["-R", "ftptest:ftptest"]).arg(path);
        self.run(chown)?;
        let mut chmod = self.root_cmd("chmod");
        chmod.args(["-R", "u+rwX,go+rX,go-w"]).arg(path);
        self.run(chmod)
    }
    fn write_file(&self, rel: &str, contents: &[u8]) -> io::Result<PathBuf> {
        let path = self.local_path(rel);
        let first = self
            .root
            .join(Path::new(rel).components().next().expect("non-empty"));
        if self.sudo {
            // The root belongs to ftptest and we are not root: write a copy, install it as root.
            let tmp = tempfile::NamedTempFile::new()?;
            std::fs::write(tmp.path(), contents)?;
            let mut install = self.root_cmd("install");
            install.args(["-D", "-m", "644"]).arg(tmp.path()).arg(&path);
            self.run(install)?;
        } else {
            let parent = path.parent().expect("a path under the root has a parent");
            std::fs::create_dir_all(parent)?;
            std::fs::write(&path, contents)?;
        }
        self.hand_over(&first)?;
        Ok(path)
    }
    fn create_dir(&self, rel: &str) -> io::Result<PathBuf> {
        let path = self.local_path(rel);
        let first = self
            .root
            .join(Path::new(rel).components().next().expect("non-empty"));
        if self.sudo {
            let mut mkdir = self.root_cmd("mkdir");
            mkdir.arg("-p").arg(&path);
            self.run(mkdir)?;
        } else {
            std::fs::create_dir_all(&path)?;
        }
        self.hand_over(&first)?;
        Ok(path)
    }
}

impl Drop for SystemServer {
    fn drop(&mut self) {
        let mut stop = self.root_cmd("bash");
        stop.arg(scripts_dir().join("stop.sh"))
            .arg(self.pid.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if let Err(e) = self.run(stop) {
            eprintln!("ftp-tests: stopping {} (PID {}): {e}", self.kind, self.pid);
        }
        let Some(dir) = self.dir.take() else { return };
        if std::thread::panicking() {
            let kept = dir.keep();
            eprintln!(
                "ftp-tests: {} test failed; its root, config and logs are kept in {}",
                self.kind,
                kept.display()
            );
            return;
        }
        if self.sudo {
            // files in there belong to ftptest
            let mut rm = self.root_cmd("rm");
            rm.arg("-rf").arg(dir.path());
            let _ = self.run(rm);
        }
        drop(dir);
    }
}
