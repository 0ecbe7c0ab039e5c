//! Names in server listings must never make the mirror example (`ftp-blocking/examples/ftp.rs`,
//! `ftp mirror URL DIR`, the seed's `ftpmirror`) write outside its target folder. The example's
//! name check is private to it, so the test runs the example binary against the fault server,
//! inside a sandbox folder, and then inspects what was written where.
//!
//! | case | test |
//! |---|---|
//! | `LIST` names `../x`, `..`, `.`, `/abs`, `a/b`, `..\x`, NUL, ESC, DEL, CR, a symlink, in the top folder and a sub-folder | `mirror_list_names_stay_inside` |
//! | `MLSD` names `../x`, `/abs`, `sub/../../x`, `..`, NUL, control characters | `mirror_mlsd_names_stay_inside` |
//!
//! The binary is built by the test itself (`cargo build -p ftp-blocking --example ftp`, in the
//! workspace's target folder: `cargo test` no longer holds its lock while tests run), so it is
//! never a stale one.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ftp_tests::fault::{download, listing, reply, well_behaved, FaultServer};

/// The example binary, built once per test process.
fn ftp_example() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .current_dir(&root)
            .args(["build", "-q", "-p", "ftp-blocking", "--example", "ftp"]);
        // Without what `cargo test` sets for this process (CARGO_* of the package, the
        // library path): with it the inner build rebuilds shared dependencies, and the next
        // `cargo test` rebuilds them back.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            let cargo_set =
                key.starts_with("CARGO_") && !matches!(&*key, "CARGO_HOME" | "CARGO_TARGET_DIR");
            if cargo_set || matches!(&*key, "OUT_DIR" | "LD_LIBRARY_PATH") {
                build.env_remove(&*key);
            }
        }
        let status = build.status().expect("run cargo");
        assert!(status.success(), "building the ftp example failed");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        target.join("debug").join("examples").join("ftp")
    })
}

/// Every path under `dir`, relative, without following symbolic links.
fn tree(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
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

/// Runs `ftp mirror ftp://server/top/ <sandbox>/l1/l2/l3/target` and returns the sandbox,
/// the tree found in the whole sandbox afterwards (deep enough that the `../` of the
/// hostile names would land inside it) and the example's stderr.
fn run_mirror(server: &FaultServer) -> (tempfile::TempDir, BTreeSet<String>, String) {
    let bin = ftp_example();
    let sandbox = tempfile::tempdir().unwrap();
    let inner = sandbox.path().join("l1/l2/l3");
    std::fs::create_dir_all(&inner).unwrap();
    let target = inner.join("target");
    let url = format!("ftp://{}/top/", server.addr());
    let start = Instant::now();
    let out = Command::new(bin)
        .args(["mirror", &url])
        .arg(&target)
        .output()
        .expect("run the ftp example");
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "mirror took too long"
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let found = tree(sandbox.path());
    (sandbox, found, stderr)
}

/// The tree of a run in which only `inside` (paths below `target`) was written.
fn only(inside: &[&str]) -> BTreeSet<String> {
    let mut s: BTreeSet<String> = ["l1", "l1/l2", "l1/l2/l3", "l1/l2/l3/target"]
        .iter()
        .map(|p| p.to_string())
        .collect();
    s.extend(inside.iter().map(|p| format!("l1/l2/l3/target/{p}")));
    s
}

/// Names that try to leave the folder, as `LIST` lines (file entries unless noted).
fn hostile_list(abs: &str) -> Vec<Vec<u8>> {
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
    vec![
        f(b"ok.txt"),
        f(b"../escape-up.txt"),
        f(b"../../escape-up2.txt"),
        f(abs.as_bytes()),
        f(b"a/b.txt"),
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
    ]
}

#[test]
fn mirror_list_names_stay_inside() {
    let abs = format!("/tmp/hostile-mirror-abs-{}.txt", std::process::id());
    let top: Vec<Vec<u8>> = hostile_list(&abs);
    let sub: Vec<Vec<u8>> = vec![
        b"-rw-r--r--   1 ftp ftp        6 Jan 01  2024 good.txt".to_vec(),
        b"-rw-r--r--   1 ftp ftp        6 Jan 01  2024 ../../../escape-sub.txt".to_vec(),
    ];
    let script = well_behaved()
        .on("LIST", listing(&as_slices(&top)))
        // the example enters `top` with CWD (RFC 1738) and lists `sub` from there
        .on_arg("LIST", b"sub", listing(&as_slices(&sub)))
        .on_arg("LIST", b"top/sub", listing(&as_slices(&sub)))
        .on_arg("LIST", b"/top/sub", listing(&as_slices(&sub)))
        .on("RETR", download(b"PWNED!"))
        .on("MDTM", reply("550 no"));
    let server = FaultServer::start(script);
    let (_sandbox, found, stderr) = run_mirror(&server);

    // only the target and what belongs in it
    let expected = only(&["ok.txt", "sub", "sub/good.txt"]);
    assert_eq!(
        found,
        expected,
        "stderr: {stderr}\ncommands: {:?}",
        server.commands()
    );
    assert!(!Path::new(&abs).exists(), "{abs} was written");
    // the hostile names were refused, not fetched
    let retrs: Vec<String> = server
        .commands()
        .into_iter()
        .filter(|c| c.starts_with("RETR"))
        .collect();
    assert_eq!(retrs.len(), 2, "{retrs:?}");
    assert!(stderr.contains("refusing"), "{stderr}");
}

#[test]
fn mirror_mlsd_names_stay_inside() {
    let abs = format!("/tmp/hostile-mirror-mlsd-{}.txt", std::process::id());
    let abs_line = format!("type=file;size=6; {abs}");
    let lines: Vec<&[u8]> = vec![
        b"type=cdir; .",
        b"type=pdir; ..",
        b"type=file;size=6; ok.txt",
        b"type=file;size=6; ../escape-up.txt",
        abs_line.as_bytes(),
        b"type=file;size=6; sub/../../escape.txt",
        b"type=dir; ..",
        b"type=dir; ../escape-dir",
        b"type=file;size=6; nul\0name",
        b"type=file;size=6; bell\x07name",
        b"type=file;size=6; ..",
    ];
    let script = well_behaved()
        .on(
            "FEAT",
            reply("211-Features:\n EPSV\n MLST type*;size*;modify*;\n SIZE\n211 End"),
        )
        .on("MLSD", listing(&lines))
        .on("RETR", download(b"PWNED!"))
        .on("MDTM", reply("550 no"));
    let server = FaultServer::start(script);
    let (_sandbox, found, stderr) = run_mirror(&server);
    let expected = only(&["ok.txt"]);
    assert_eq!(
        found,
        expected,
        "stderr: {stderr}\ncommands: {:?}",
        server.commands()
    );
    assert!(!Path::new(&abs).exists(), "{abs} was written");
    assert!(server.verbs().contains(&"MLSD".to_string()));
}

fn as_slices(v: &[Vec<u8>]) -> Vec<&[u8]> {
    v.iter().map(|l| &l[..]).collect()
}
