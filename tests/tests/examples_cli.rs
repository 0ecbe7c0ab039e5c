//! The command-line examples as a user runs them: the built binaries of `ftp-blocking`'s `ftp`
//! and `ftp-mio`'s `mirror`, against the in-process libunftp server or the scripted fault
//! server, with their exit status, their messages and every file they leave behind checked.
//!
//! | case | exit | test |
//! |---|---|---|
//! | `ftp get` of a missing remote file: nothing left locally | 1 | `get_missing_file_leaves_nothing` |
//! | `ftp get` interrupted: `NAME.part` kept, message names `--continue` | 1 | `get_interrupted_then_continued` |
//! | `ftp get --continue` resumes the `.part` (REST) | 0 | `get_interrupted_then_continued` |
//! | `ftp get --continue` of a complete file: only "already complete" | 0 | `get_continue_on_complete_file` |
//! | `ftp get` with `FTP://`, `;type=i`, `#frag`, `%20`: right file, `CWD` per segment | 0 | `get_reads_the_url_as_rfc_1738_says` |
//! | `ftp ls` of a missing directory (vsftpd-like `226` and nothing for `LIST`) | 1 | `ls_missing_directory_fails` |
//! | `ftp -v ls URL` (options before the command) | 0 | `options_anywhere_and_usage_errors` |
//! | `ftp ls --bogus`, `ftp ls` of an `http://` URL, of an URL with `%0A` | 2 | `options_anywhere_and_usage_errors` |
//! | `ftp put` of a missing local file: the message names the path | 1 | `local_errors_name_the_path` |
//! | `ftp get` into a missing folder: the message names the path | 1 | `local_errors_name_the_path` |
//! | `ftp mirror` into a read-only folder: every entry tried, summary | 1 | `mirror_into_read_only_folder_goes_on` |
//! | `mirror` (mio): connection refused | 1 | `mio_mirror_refused_and_wrong_password` |
//! | `mirror` (mio): wrong password | 1 | `mio_mirror_refused_and_wrong_password` |
//! | `mirror` (mio): `-n abc`, `-n 0` | 2 | `mio_mirror_usage_errors` |
//! | `mirror` (mio): a tree, options after the URL, a second URL segment | 0 | `mio_mirror_copies_and_leaves_no_part_files` |
//! | `mirror` (mio): a file whose transfer fails is not created (`550` at once; a truncation after 5 attempts resuming with `REST`; longer than listed at once) | 1 | `mio_mirror_failed_file_is_not_created` |
//! | `mirror` (mio): a data connection cut part way: resumed with `REST`, byte-identical | 0 | `mio_mirror_resumes_a_cut_data_connection` |
//! | `mirror` (mio): the control connection cut, then reset: connected again twice, every file | 0 | `mio_mirror_reconnects_after_losing_the_control_connection` |
//! | `mirror` (mio): data and control stalls longer than `--timeout`: retried, reconnected | 0 | `mio_mirror_recovers_from_stalls` |
//! | `mirror` (mio): seeded random cuts, resets and refusals on 100 files: each file whole or reported | 0/1 | `mio_mirror_survives_random_faults` |
//! | `mirror` (mio): 256 sessions against vsftpd (ignored by default, `tests/run-all.sh`) | 0 | `mio_mirror_crowd_on_vsftpd` |
//! | `ftp mirror`: the control connection cut mid-mirror: connected again, every file | 0 | `ftp_mirror_reconnects_after_losing_the_control_connection` |
//! | `mirror` (mio): hostile `LIST` names (`../x`, `a\b`, NUL, control characters) | 1 | `mio_mirror_hostile_names_stay_inside` |
//! | on libunftp and (ignored by default, `tests/run-all.sh`) vsftpd, ProFTPD, Pure-FTPd, pyftpdlib: `ls` of a missing directory 1, of a present one 0; `get` of a missing file 1 and nothing left, of a present one 0; both mirrors 0 with the whole tree | 0/1 | `system::*` |
//!
//! The binaries are built by the test itself (`cargo build -p … --example …`, as
//! `hostile_mirror.rs` does), so they are never stale ones.

mod hostile_common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ftp_tests::fault::{download, listing, reply, well_behaved, Action, FaultServer};
use ftp_tests::link::{Fault, Link, RandomFaults, Target};
use ftp_tests::{LocalServer, TestServer};

/// Builds `--example name` of `package` once per test process and returns its path.
fn built(package: &str, name: &str, cell: &'static OnceLock<PathBuf>) -> &'static Path {
    cell.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .current_dir(&root)
            .args(["build", "-q", "-p", package, "--example", name]);
        // What `cargo test` sets for this process (the package's CARGO_* variables, the
        // library path) would make the inner build see a changed environment and rebuild
        // shared dependencies, which the next `cargo test` then rebuilds back.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            let cargo_set =
                key.starts_with("CARGO_") && !matches!(&*key, "CARGO_HOME" | "CARGO_TARGET_DIR");
            if cargo_set || matches!(&*key, "OUT_DIR" | "LD_LIBRARY_PATH") {
                build.env_remove(&*key);
            }
        }
        let status = build.status().expect("run cargo");
        assert!(status.success(), "building the {name} example failed");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        target.join("debug").join("examples").join(name)
    })
}

fn ftp_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    built("ftp-blocking", "ftp", &BIN)
}

fn mirror_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    built("ftp-mio", "mirror", &BIN)
}

/// What a run of an example gave.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `cmd` in `dir`, bounded in time.
fn run_in(mut cmd: Command, dir: &Path) -> Run {
    let start = Instant::now();
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.current_dir(dir).output().expect("run the example");
    assert!(
        start.elapsed() < Duration::from_secs(90),
        "the example took too long"
    );
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

fn ftp(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(ftp_bin());
    cmd.args(args);
    run_in(cmd, dir)
}

fn mirror(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(mirror_bin());
    cmd.args(args);
    run_in(cmd, dir)
}

/// `ftp://user:password@addr/` of the local server.
fn base_url(server: &LocalServer) -> String {
    format!(
        "ftp://{}:{}@{}/",
        server.user(),
        server.password(),
        server.addr()
    )
}

/// The names in `dir` (not recursive), sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every path under `dir`, relative, without following symbolic links.
fn tree(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            out.insert(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            if e.file_type().unwrap().is_dir() {
                todo.push(p);
            }
        }
    }
    out
}

#[test]
fn get_missing_file_leaves_nothing() {
    let server = LocalServer::start();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}missing.bin", base_url(&server));
    let r = ftp(dir.path(), &["get", &url]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("ftp: get failed: RETR missing.bin: "),
        "{r:?}"
    );
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
}

#[test]
fn get_interrupted_then_continued() {
    let data = hostile_common::pattern(300_000);
    let server = FaultServer::start(hostile_common::resumable(&data, 100_000));
    let dir = tempfile::tempdir().unwrap();
    let url = format!("ftp://{}/pub/big.bin", server.addr());
    let r = ftp(dir.path(), &["get", &url]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("ftp: get failed: "), "{r:?}");
    assert!(
        r.stderr
            .contains("100000 bytes kept in big.bin.part: run the same command with --continue"),
        "{r:?}"
    );
    assert_eq!(names(dir.path()), ["big.bin.part"]);
    assert_eq!(
        fs::read(dir.path().join("big.bin.part")).unwrap(),
        &data[..100_000]
    );

    // options after the operands too
    let r = ftp(dir.path(), &["get", &url, "--continue"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("big.bin: 200000 bytes received"), "{r:?}");
    assert_eq!(names(dir.path()), ["big.bin"]);
    assert_eq!(fs::read(dir.path().join("big.bin")).unwrap(), data);
    let commands = server.commands();
    assert!(
        commands.contains(&"REST 100000".to_string()),
        "{commands:?}"
    );
    assert!(commands.contains(&"CWD pub".to_string()), "{commands:?}");
}

#[test]
fn get_continue_on_complete_file() {
    let server = LocalServer::start();
    server.write_file("done.txt", b"all of it\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}done.txt", base_url(&server));
    let r = ftp(dir.path(), &["get", &url]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = ftp(dir.path(), &["--continue", "get", &url]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stderr, "done.txt: already complete (10 bytes)\n", "{r:?}");
    assert_eq!(names(dir.path()), ["done.txt"]);
}

#[test]
fn get_reads_the_url_as_rfc_1738_says() {
    let server = LocalServer::start();
    server
        .write_file("pub/my dir/f.bin", b"binary\0data")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "FTP://{}:{}@{}/pub/my%20dir/f.bin;type=i#section",
        server.user(),
        server.password(),
        server.addr()
    );
    let r = ftp(dir.path(), &["get", &url]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(fs::read(dir.path().join("f.bin")).unwrap(), b"binary\0data");
    assert_eq!(names(dir.path()), ["f.bin"]);
    // an ASCII typecode is refused rather than ignored
    let url = format!("{}pub/my%20dir/f.bin;type=a", base_url(&server));
    let r = ftp(dir.path(), &["get", &url]);
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn ls_missing_directory_fails() {
    // vsftpd's answer to LIST of a missing directory: 226 and no lines; its CWD says 550
    let script = well_behaved().on("LIST", listing(&[])).on_arg(
        "CWD",
        b"missing",
        reply("550 Failed to change directory."),
    );
    let server = FaultServer::start(script);
    let dir = tempfile::tempdir().unwrap();
    let r = ftp(
        dir.path(),
        &["ls", &format!("ftp://{}/missing/", server.addr())],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("CWD missing: "), "{r:?}");
    assert!(r.stdout.is_empty(), "{r:?}");
    assert!(!server.verbs().contains(&"LIST".to_string()));

    // and on the local server, which has the directory
    let server = LocalServer::start();
    server.write_file("there/x.txt", b"x").unwrap();
    let r = ftp(dir.path(), &["ls", &format!("{}there/", base_url(&server))]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("x.txt"), "{r:?}");
    let r = ftp(
        dir.path(),
        &["ls", &format!("{}nowhere/", base_url(&server))],
    );
    assert_eq!(r.code, 1, "{r:?}");
}

#[test]
fn options_anywhere_and_usage_errors() {
    let server = LocalServer::start();
    server.write_file("a.txt", b"a").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = ftp(dir.path(), &["-v", "ls", &base_url(&server)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("a.txt"), "{r:?}");
    assert!(r.stderr.contains("LIST"), "-v traces the commands: {r:?}");
    for args in [
        &["ls", "--bogus", "ftp://127.0.0.1/"][..],
        &["ls", "http://127.0.0.1/"],
        &["ls", "ftp://127.0.0.1/a%0ADELE%20x/"],
        &["get"],
        &["frobnicate"],
        &[],
    ] {
        let r = ftp(dir.path(), args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains("usage:"), "{args:?}: {r:?}");
    }
    // ftps:// is implicit FTPS: against a plain server the TLS handshake fails (exit 1, the
    // connection named), it never falls back to clear text
    let r = ftp(dir.path(), &["ls", &format!("ftps://{}/", server.addr())]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr
            .contains(&format!("connect (implicit FTPS) to {}", server.addr())),
        "{r:?}"
    );
    // a password never appears in a message
    let url = format!("ftp://{}:wrong-S3CRET@{}/", server.user(), server.addr());
    let r = ftp(dir.path(), &["-vv", "ls", &url]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("login to"), "{r:?}");
    assert!(!r.stderr.contains("S3CRET"), "{r:?}");
}

#[test]
fn local_errors_name_the_path() {
    let server = LocalServer::start();
    server.write_file("f.txt", b"f").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-file.txt");
    let r = ftp(
        dir.path(),
        &["put", missing.to_str().unwrap(), &base_url(&server)],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("no-such-file.txt: "), "{r:?}");

    let into = dir.path().join("no-such-dir/f.txt");
    let url = format!("{}f.txt", base_url(&server));
    let r = ftp(dir.path(), &["get", &url, into.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("no-such-dir/f.txt.part: "), "{r:?}");
    assert!(names(dir.path()).is_empty());
}

#[test]
fn mirror_into_read_only_folder_goes_on() {
    let server = LocalServer::start();
    server.write_file("tree/a.txt", b"a").unwrap();
    server.write_file("tree/b.txt", b"b").unwrap();
    server.write_file("tree/sub/c.txt", b"c").unwrap();
    let sandbox = tempfile::tempdir().unwrap();
    let target = sandbox.path().join("ro");
    fs::create_dir(&target).unwrap();
    let url = format!("{}tree/", base_url(&server));
    let mut cmd;
    // root writes anywhere: run the example as nobody, for whom the root-owned folder is
    // read-only; otherwise take the write permission away
    if unsafe_is_root() {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(sandbox.path(), fs::Permissions::from_mode(0o755)).unwrap();
        cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(ftp_bin());
    } else {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&target, fs::Permissions::from_mode(0o555)).unwrap();
        cmd = Command::new(ftp_bin());
    }
    cmd.args(["mirror", &url]).arg(&target);
    let r = run_in(cmd, sandbox.path());
    assert_eq!(r.code, 1, "{r:?}");
    // every entry was tried and reported, with its path
    for name in ["a.txt", "b.txt", "sub"] {
        assert!(
            r.stderr
                .contains(&format!("mirror: failed: {}", target.join(name).display())),
            "{name}: {r:?}"
        );
    }
    assert!(
        r.stderr
            .contains("mirror: 0 downloaded (0 B), 0 up to date, 0 refused, 3 failed"),
        "{r:?}"
    );
    assert!(names(&target).is_empty());
}

/// Whether this process runs as root (read from /proc, no libc call).
fn unsafe_is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

#[test]
fn mio_mirror_refused_and_wrong_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    if let Some(port) = hostile_common::closed_privileged_port() {
        let url = format!("ftp://127.0.0.1:{port}/");
        let r = mirror(dir.path(), &[&url, "-n", "3", "-o", out.to_str().unwrap()]);
        assert_eq!(r.code, 1, "{r:?}");
        assert!(r.stderr.contains("Connection refused"), "{r:?}");
        assert!(r.stderr.contains("no session could start"), "{r:?}");
        assert!(r.stderr.contains("0 files, 0 directories"), "{r:?}");
    }

    let server = LocalServer::start();
    server.write_file("tree/a.txt", b"a").unwrap();
    let url = format!(
        "ftp://{}:wrong-S3CRET@{}/tree/",
        server.user(),
        server.addr()
    );
    let r = mirror(dir.path(), &["-n", "2", "-o", out.to_str().unwrap(), &url]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("no session could start"), "{r:?}");
    assert!(!r.stderr.contains("S3CRET"), "{r:?}");
    assert!(names(&out).is_empty(), "{:?}", names(&out));
}

#[test]
fn mio_mirror_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["-n", "abc", "ftp://127.0.0.1/"][..],
        &["-n", "0", "ftp://127.0.0.1/"],
        &["ftp://127.0.0.1/", "-n"],
        &["--bogus"],
        &["http://127.0.0.1/"],
        &["ftp://127.0.0.1/", "ftp://127.0.0.2/"],
    ] {
        let r = mirror(dir.path(), args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains("usage:"), "{args:?}: {r:?}");
    }
}

#[test]
fn mio_mirror_copies_and_leaves_no_part_files() {
    let server = LocalServer::start();
    let big: Vec<u8> = hostile_common::pattern(400_000);
    server.write_file("top/tree/a.txt", b"alpha").unwrap();
    server.write_file("top/tree/big.bin", &big).unwrap();
    server.write_file("top/tree/sub/b.txt", b"beta").unwrap();
    server.create_dir("top/tree/empty").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let url = format!("{}top/tree/", base_url(&server));
    let r = mirror(dir.path(), &[&url, "-o", out.to_str().unwrap(), "-n", "2"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("mirror: 3 files, 3 directories"), "{r:?}");
    let want: BTreeSet<String> = ["a.txt", "big.bin", "sub", "sub/b.txt", "empty"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(tree(&out), want);
    assert_eq!(fs::read(out.join("big.bin")).unwrap(), big);
    assert_eq!(fs::read(out.join("sub/b.txt")).unwrap(), b"beta");
}

#[test]
fn mio_mirror_failed_file_is_not_created() {
    let lines: Vec<&[u8]> = vec![
        b"-rw-r--r--   1 ftp ftp        6 Jan 01  2024 good.txt",
        b"-rw-r--r--   1 ftp ftp        6 Jan 01  2024 denied.txt",
        b"-rw-r--r--   1 ftp ftp        6 Jan 01  2024 short.txt",
        b"-rw-r--r--   1 ftp ftp        6 Jan 01  2024 long.txt",
    ];
    // 226 after 3 of the 6 bytes the listing announced, every time (REST 3 is honoured and
    // sends nothing more): a truncation, retried, then given up
    let mut short = reply("150 Opening BINARY mode data connection.");
    short.push(Action::DataSendFile {
        data: std::sync::Arc::new(b"short!".to_vec()),
        end: 3,
    });
    short.push(Action::DataClose);
    short.extend(reply("226 Transfer complete."));
    let script = well_behaved()
        .on("LIST", listing(&lines))
        .on("RETR", download(b"GOOD!\n"))
        .on_arg("RETR", b"denied.txt", reply("550 Failed to open file."))
        .on_arg("RETR", b"short.txt", short)
        // more than the listing said: not a truncation, given up at once
        .on_arg("RETR", b"long.txt", download(b"longer!!"));
    let server = FaultServer::start(script);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let url = format!("ftp://{}/", server.addr());
    let r = mirror(dir.path(), &[&url, "-n", "1", "-o", out.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("RETR \"denied.txt\": "), "{r:?}");
    assert!(
        r.stderr.contains(
            "failed: RETR \"short.txt\": transfer truncated: 3 of 6 bytes (after 5 attempts)"
        ),
        "{r:?}"
    );
    assert!(
        r.stderr
            .contains("RETR \"long.txt\": 8 bytes arrived, the listing said 6"),
        "{r:?}"
    );
    assert!(
        r.stderr.contains("3 failures; 4 retries (4 resumed)"),
        "{r:?}"
    );
    assert_eq!(names(&out), ["good.txt"]);
    assert_eq!(fs::read(out.join("good.txt")).unwrap(), b"GOOD!\n");
    // the permanent failure was not retried; the truncated file resumed at byte 3
    let sent = server.commands();
    let count = |c: &str| sent.iter().filter(|s| *s == c).count();
    assert_eq!(count("RETR denied.txt"), 1, "{sent:?}");
    assert_eq!(count("RETR long.txt"), 1, "{sent:?}");
    assert_eq!(count("RETR short.txt"), 5, "{sent:?}");
    assert_eq!(count("REST 3"), 4, "{sent:?}");
}

/// The mio mirror's counterpart of `hostile_mirror.rs`: names in a listing never make it
/// write outside its target folder, and every refused name is reported.
#[test]
fn mio_mirror_hostile_names_stay_inside() {
    let abs = format!("/tmp/hostile-mio-mirror-abs-{}.txt", std::process::id());
    let f = |name: &[u8]| {
        let mut l = b"-rw-r--r--   1 ftp ftp        6 Jan 01  2024 ".to_vec();
        l.extend_from_slice(name);
        l
    };
    let d = |name: &[u8]| {
        let mut l = b"drwxr-xr-x   2 ftp ftp     4096 Jan 01  2024 ".to_vec();
        l.extend_from_slice(name);
        l
    };
    let top: Vec<Vec<u8>> = vec![
        f(b"ok.txt"),
        f(b"../x"),
        f(b"../../escape-up2.txt"),
        f(abs.as_bytes()),
        f(b"a/b.txt"),
        f(b"a\\b"),
        f(b"..\\escape-back.txt"),
        f(b"nul\0name.txt"),
        f(b"esc\x1b[2Jname.txt"),
        f(b"del\x7fname.txt"),
        f(b"tab\tname.txt"),
        f(b"cr\rname.txt"),
        f(b".."),
        f(b"."),
        d(b".."),
        d(b"."),
        d(b"../escape-dir"),
        d(b"/tmp"),
        b"lrwxrwxrwx   1 ftp ftp        4 Jan 01  2024 link -> /etc".to_vec(),
        d(b"sub"),
    ];
    let sub: Vec<Vec<u8>> = vec![f(b"good.txt"), f(b"../../../escape-sub.txt")];
    let top_refs: Vec<&[u8]> = top.iter().map(|l| &l[..]).collect();
    let sub_refs: Vec<&[u8]> = sub.iter().map(|l| &l[..]).collect();
    let script = well_behaved()
        .on("LIST", listing(&top_refs))
        .on_arg("LIST", b"sub", listing(&sub_refs))
        .on("RETR", download(b"PWNED!"));
    let server = FaultServer::start(script);

    let sandbox = tempfile::tempdir().unwrap();
    let inner = sandbox.path().join("l1/l2/l3");
    fs::create_dir_all(&inner).unwrap();
    let target = inner.join("target");
    let url = format!("ftp://{}/top/", server.addr());
    let r = mirror(
        sandbox.path(),
        &[&url, "-n", "2", "-o", target.to_str().unwrap()],
    );
    let mut want: BTreeSet<String> = ["l1", "l1/l2", "l1/l2/l3", "l1/l2/l3/target"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for p in ["ok.txt", "sub", "sub/good.txt"] {
        want.insert(format!("l1/l2/l3/target/{p}"));
    }
    assert_eq!(
        tree(sandbox.path()),
        want,
        "{r:?}\ncommands: {:?}",
        server.commands()
    );
    assert!(!Path::new(&abs).exists(), "{abs} was written");
    assert_eq!(
        fs::read(target.join("ok.txt")).unwrap(),
        b"PWNED!",
        "the one good file"
    );
    // only the two good files were fetched
    let retrs: Vec<String> = server
        .commands()
        .into_iter()
        .filter(|c| c.starts_with("RETR"))
        .collect();
    assert_eq!(retrs.len(), 2, "{retrs:?}");
    // each bad name reported; the run counts as incomplete
    assert_eq!(r.code, 1, "{r:?}");
    for shown in [
        "\"../x\"",
        "\"a\\\\b\"",
        "\"nul\\0name.txt\"",
        "\"esc\\u{1b}[2Jname.txt\"",
        "\"../escape-dir\"",
        "\"../../../escape-sub.txt\"",
    ] {
        assert!(
            r.stderr.contains(&format!("refusing remote name {shown}")),
            "{shown}: {r:?}"
        );
    }
    assert!(r.stderr.contains(" refused, 0 failures"), "{r:?}");
}

/// The CLI cases that depend on the server, on every server: a missing directory is an error
/// for `ls` (vsftpd answers `LIST` of one with `226` and no lines), a missing file leaves
/// nothing, a tree mirrored by both mirrors arrives whole.
fn on_server(kind: ftp_tests::ServerKind) {
    let server = ftp_tests::start(kind);
    server.write_file("cli/a.txt", b"alpha\n").unwrap();
    server.write_file("cli/sub/b.txt", b"beta\n").unwrap();
    let base = format!(
        "ftp://{}:{}@{}/",
        server.user(),
        server.password(),
        server.addr()
    );
    let dir = tempfile::tempdir().unwrap();
    let r = ftp(dir.path(), &["ls", &format!("{base}cli/missing/")]);
    assert_eq!(r.code, 1, "{kind}: {r:?}");
    let r = ftp(dir.path(), &["ls", &format!("{base}cli/")]);
    assert_eq!(r.code, 0, "{kind}: {r:?}");
    assert!(r.stdout.contains("a.txt"), "{kind}: {r:?}");
    let r = ftp(dir.path(), &["get", &format!("{base}cli/missing.txt")]);
    assert_eq!(r.code, 1, "{kind}: {r:?}");
    assert!(names(dir.path()).is_empty(), "{kind}");
    let r = ftp(dir.path(), &["get", &format!("{base}cli/a.txt")]);
    assert_eq!(r.code, 0, "{kind}: {r:?}");
    assert_eq!(fs::read(dir.path().join("a.txt")).unwrap(), b"alpha\n");
    // into a folder, under the remote name
    let into = dir.path().join("into");
    fs::create_dir(&into).unwrap();
    let r = ftp(
        dir.path(),
        &[
            "get",
            &format!("{base}cli/sub/b.txt"),
            into.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{kind}: {r:?}");
    assert_eq!(names(&into), ["b.txt"], "{kind}");

    let want: BTreeSet<String> = ["a.txt", "sub", "sub/b.txt"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let copy = dir.path().join("blocking-copy");
    let r = ftp(
        dir.path(),
        &["mirror", &format!("{base}cli/"), copy.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{kind}: {r:?}");
    assert_eq!(tree(&copy), want, "{kind}");
    let copy = dir.path().join("mio-copy");
    let r = mirror(
        dir.path(),
        &[
            &format!("{base}cli/"),
            "-n",
            "2",
            "-o",
            copy.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{kind}: {r:?}");
    assert_eq!(tree(&copy), want, "{kind}");
}

mod system {
    use ftp_tests::ServerKind;

    #[test]
    fn libunftp() {
        super::on_server(ServerKind::Libunftp);
    }
    #[test]
    #[ignore = "needs system FTP servers: run tests/run-all.sh"]
    fn vsftpd() {
        super::on_server(ServerKind::Vsftpd);
    }
    #[test]
    #[ignore = "needs system FTP servers: run tests/run-all.sh"]
    fn proftpd() {
        super::on_server(ServerKind::Proftpd);
    }
    #[test]
    #[ignore = "needs system FTP servers: run tests/run-all.sh"]
    fn pureftpd() {
        super::on_server(ServerKind::PureFtpd);
    }
    #[test]
    #[ignore = "needs system FTP servers: run tests/run-all.sh"]
    fn pyftpdlib() {
        super::on_server(ServerKind::Pyftpdlib);
    }
}

// ---- bad links: retries, resumes, reconnects (through the link simulator) -----------------

/// The number before `label` in the mirror's summary line (`4 retries`, `2 reconnects`).
fn summary_count(r: &Run, label: &str) -> u64 {
    let line = r
        .stderr
        .lines()
        .rev()
        .find(|l| l.contains(label))
        .unwrap_or_else(|| panic!("no {label:?} in the summary: {r:?}"));
    let before = &line[..line.find(label).unwrap()];
    let digits: String = before
        .trim_end_matches(' ')
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.chars().rev().collect::<String>().parse().unwrap()
}

/// `ftp://user:password@link/dir/` of the local server, through `link`.
fn url_through(server: &LocalServer, link: &Link, dir: &str) -> String {
    format!(
        "ftp://{}:{}@{}/{dir}/",
        server.user(),
        server.password(),
        link.addr()
    )
}

/// `n` files `f00.bin`.. of `size` bytes (each different) under `dir` on the server.
fn files_on(server: &LocalServer, dir: &str, n: usize, size: usize) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let name = format!("f{i:02}.bin");
            let data: Vec<u8> = hostile_common::pattern(size + i * 97)
                .into_iter()
                .map(|b| b ^ i as u8)
                .collect();
            server.write_file(&format!("{dir}/{name}"), &data).unwrap();
            (name, data)
        })
        .collect()
}

/// Every file arrived byte-identical and no `.ftp-part` is left.
fn assert_copied(out: &Path, files: &[(String, Vec<u8>)], r: &Run) {
    for (name, data) in files {
        let got = fs::read(out.join(name)).unwrap_or_default();
        assert!(
            &got == data,
            "{name}: {} bytes, want {}: {r:?}",
            got.len(),
            data.len()
        );
    }
    let left: Vec<_> = tree(out)
        .into_iter()
        .filter(|p| p.ends_with(".ftp-part"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A data connection cut part way through a file: the file is fetched again from where the
/// cut left it (`REST`), arrives byte-identical, and the summary counts the resume.
#[test]
fn mio_mirror_resumes_a_cut_data_connection() {
    let server = LocalServer::start();
    let big = hostile_common::pattern(3 << 20);
    server.write_file("tree/big.bin", &big).unwrap();
    // data connection 0 is the listing, 1 the download
    let link = Link::builder(server.addr())
        .fault(Target::Data(1), Fault::Cut { after: 1 << 20 })
        .start()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let url = url_through(&server, &link, "tree");
    let r = mirror(dir.path(), &[&url, "-n", "1", "-o", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_copied(&out, &[("big.bin".into(), big)], &r);
    assert_eq!(link.stats().cuts, 1);
    assert!(
        r.stderr.contains("1 retries (1 resumed), 0 reconnects"),
        "{r:?}"
    );
    assert!(
        r.stderr
            .contains("RETR \"big.bin\": resuming at byte 1048576"),
        "{r:?}"
    );
}

/// The control connection of the only session is cut, then the next one is reset, in the
/// middle of the mirror: the session is connected again each time, the work it held goes on,
/// and every file arrives.
#[test]
fn mio_mirror_reconnects_after_losing_the_control_connection() {
    let server = LocalServer::start();
    let files = files_on(&server, "tree", 30, 20_000);
    let link = Link::builder(server.addr())
        .fault(Target::Control(0), Fault::Cut { after: 1500 })
        .fault(Target::Control(1), Fault::Reset { after: 1500 })
        .start()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let url = url_through(&server, &link, "tree");
    let r = mirror(dir.path(), &[&url, "-n", "1", "-o", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_copied(&out, &files, &r);
    let stats = link.stats();
    assert_eq!((stats.cuts, stats.resets), (1, 1), "{stats:?}");
    assert_eq!(stats.control_connections, 3, "{stats:?}");
    assert_eq!(summary_count(&r, " reconnects"), 2, "{r:?}");
    assert!(r.stderr.contains("30 files, 1 directories"), "{r:?}");
}

/// Stalls longer than the timeouts (`--timeout 2`, stalls of 6 s): a stalled data
/// connection is a data timeout, retried on the same session from where it stopped; a
/// stalled control connection is a reply timeout, and the session is connected again.
#[test]
fn mio_mirror_recovers_from_stalls() {
    let server = LocalServer::start();
    let big = hostile_common::pattern(2 << 20);
    server.write_file("tree/big.bin", &big).unwrap();
    let dir = tempfile::tempdir().unwrap();

    let stall = Fault::Stall {
        after: 256 << 10,
        duration: Duration::from_secs(6),
    };
    let link = Link::builder(server.addr())
        .fault(Target::Data(1), stall)
        .start()
        .unwrap();
    let out = dir.path().join("data-stall");
    let url = url_through(&server, &link, "tree");
    let args = [
        &url[..],
        "-n",
        "1",
        "--timeout",
        "2",
        "-o",
        out.to_str().unwrap(),
    ];
    let r = mirror(dir.path(), &args);
    assert_eq!(r.code, 0, "{r:?}");
    assert_copied(&out, &[("big.bin".into(), big.clone())], &r);
    assert_eq!(link.stats().stalls, 1);
    assert!(
        r.stderr
            .contains("timed out waiting for the data connection"),
        "{r:?}"
    );
    assert!(summary_count(&r, " resumed)") >= 1, "{r:?}");

    let stall = Fault::Stall {
        after: 300,
        duration: Duration::from_secs(6),
    };
    let link = Link::builder(server.addr())
        .fault(Target::Control(0), stall)
        .start()
        .unwrap();
    let out = dir.path().join("control-stall");
    let url = url_through(&server, &link, "tree");
    let args = [
        &url[..],
        "-n",
        "1",
        "--timeout",
        "2",
        "-o",
        out.to_str().unwrap(),
    ];
    let r = mirror(dir.path(), &args);
    assert_eq!(r.code, 0, "{r:?}");
    assert_copied(&out, &[("big.bin".into(), big)], &r);
    assert_eq!(link.stats().stalls, 1);
    assert!(r.stderr.contains("timed out waiting for a reply"), "{r:?}");
    assert!(summary_count(&r, " reconnects") >= 1, "{r:?}");
}

/// Seeded random faults on the data connections (cuts, resets, refusals): every file
/// arrives byte-identical, or is reported as failed with its reason and leaves nothing; the
/// exit status says which.
#[test]
fn mio_mirror_survives_random_faults() {
    let server = LocalServer::start();
    let files = files_on(&server, "tree", 100, 40_000);
    let random = RandomFaults {
        cut: 0.05,
        reset: 0.05,
        refuse: 0.02,
        max_after: 32 << 10,
        ..RandomFaults::new(0x5eed)
    };
    // The listing (data connection 0) is spared: a listing cut short is indistinguishable
    // from a short listing when the server already sent its 226.
    let link = Link::builder(server.addr())
        .random_faults(random)
        .fault(Target::Data(0), Fault::Cut { after: u64::MAX })
        .start()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let url = url_through(&server, &link, "tree");
    let r = mirror(dir.path(), &[&url, "-n", "4", "-o", out.to_str().unwrap()]);
    eprintln!(
        "{:?}\n{}",
        link.stats(),
        r.stderr.lines().last().unwrap_or("")
    );
    let mut failed = 0;
    for (name, data) in &files {
        match fs::read(out.join(name)) {
            Ok(got) => assert!(
                &got == data,
                "{name}: {} bytes, {} expected, first difference at byte {:?}: {r:?}",
                got.len(),
                data.len(),
                got.iter().zip(data.iter()).position(|(a, b)| a != b)
            ),
            Err(_) => {
                failed += 1;
                assert!(
                    r.stderr
                        .contains(&format!("failed: RETR \"tree/{name}\": "))
                        || r.stderr.contains(&format!("failed: RETR \"{name}\": ")),
                    "{name} missing without a reason: {r:?}"
                );
            }
        }
    }
    assert!(
        !tree(&out).iter().any(|p| p.ends_with(".ftp-part")),
        "{r:?}"
    );
    assert_eq!(r.code, i32::from(failed > 0), "{failed} failed: {r:?}");
    let stats = link.stats();
    assert!(stats.faults() > 0, "{stats:?}");
    // every fault hit a file while it was moving: each cost a retry
    assert!(summary_count(&r, " retries") >= 1, "{stats:?} {r:?}");
}

/// `ftp mirror` (ftp-blocking): its control connection is cut in the middle of the mirror; it
/// connects again, goes on where it was, and every file arrives.
#[test]
fn ftp_mirror_reconnects_after_losing_the_control_connection() {
    let server = LocalServer::start();
    let files = files_on(&server, "tree", 30, 20_000);
    let link = Link::builder(server.addr())
        .fault(Target::Control(0), Fault::Cut { after: 2500 })
        .start()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let url = url_through(&server, &link, "tree");
    let r = ftp(dir.path(), &["mirror", &url, out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_copied(&out, &files, &r);
    assert_eq!(link.stats().cuts, 1);
    assert_eq!(link.stats().control_connections, 2);
    assert!(r.stderr.contains("connecting again"), "{r:?}");
    assert_eq!(summary_count(&r, " reconnects"), 1, "{r:?}");
    assert!(r.stderr.contains("30 downloaded"), "{r:?}");
}

/// A crowd: 256 sessions of the mio mirror against vsftpd (listen backlog 32) over a small
/// tree: every session gets in (at most 32 connect at once), every file arrives.
#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn mio_mirror_crowd_on_vsftpd() {
    use ftp_tests::{ServerKind, SystemServer};
    // 256 sessions each hold a passive listener while finished ones linger: 400 ports
    let server = SystemServer::builder(ServerKind::Vsftpd)
        .passive_ports(ftp_tests::passive_ranges(8))
        .start()
        .unwrap();
    let top = server.local_path("crowd");
    let mut files = Vec::new();
    for d in 0..8 {
        fs::create_dir_all(top.join(format!("d{d}"))).unwrap();
        for f in 0..40 {
            let rel = format!("d{d}/f{f}.bin");
            let data = hostile_common::pattern(1000 + 37 * (d * 40 + f));
            fs::write(top.join(&rel), &data).unwrap();
            files.push((rel, data));
        }
    }
    server.hand_over(&top).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let url = format!(
        "ftp://{}:{}@{}/crowd/",
        server.user(),
        server.password(),
        server.addr()
    );
    let started = Instant::now();
    let r = mirror(
        dir.path(),
        &[&url, "-n", "256", "-o", out.to_str().unwrap()],
    );
    eprintln!(
        "crowd of 256 on vsftpd: {:.2?}, {} greeting time-outs reported\n{}",
        started.elapsed(),
        r.stderr.matches("timed out waiting for a reply").count(),
        r.stderr.lines().last().unwrap_or("")
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("320 files, 9 directories"), "{r:?}");
    assert_copied(&out, &files, &r);
}
