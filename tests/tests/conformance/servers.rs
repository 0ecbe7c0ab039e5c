//! Real servers: libunftp in-process (plain `cargo test`) and vsftpd, ProFTPD, Pure-FTPd and
//! pyftpdlib (`#[ignore]`d, run by `tests/run-all.sh`). Each scenario runs for every driver
//! on every server (`scenario::driver::server`). Formerly ftp-blocking's alone
//! (`blocking_suite.rs`).

use ftp_sansio::session::Config;
use ftp_tests::tls::{server_cert_pem, LocalFtps, TestCert, LIBUNFTP_AUTH_RACE};
use ftp_tests::{ServerKind, TestServer};

use crate::driver::{Class, Client, Cmd, Download, Driver, Failure, Setup, TlsVersion, Verdict};
use crate::hostile_common::pattern;

/// A running server of some kind, kept alive for a scenario.
pub struct Running {
    server: Box<dyn TestServer>,
    /// The certificate files of an in-process FTPS server (dropped after the server).
    _cert: Option<TestCert>,
}

impl Running {
    /// The server.
    pub fn server(&self) -> &dyn TestServer {
        &*self.server
    }
}

/// A server of `kind` with default options ([`ftp_tests::start`]).
pub fn plain(kind: ServerKind) -> Running {
    Running {
        server: ftp_tests::start(kind),
        _cert: None,
    }
}

/// A server of `kind` offering explicit FTPS: libunftp with a certificate made for the test
/// ([`LocalFtps`]); the system servers always offer it.
pub fn ftps(kind: ServerKind) -> Running {
    match kind {
        ServerKind::Libunftp => {
            let LocalFtps { server, cert } = LocalFtps::start();
            Running {
                server: Box::new(server),
                _cert: Some(cert),
            }
        }
        _ => plain(kind),
    }
}

/// Default timeouts of the core (generous on a loaded machine), no separate connect timeout.
fn setup() -> Setup {
    Setup::new(Config::default())
}

/// Logged in as the read-write user.
fn user_session<D: Driver>(server: &dyn TestServer, setup: &Setup) -> Client<D> {
    let mut c = Client::<D>::open(server.addr(), setup);
    let reply = c.login(server.user(), server.password()).ok();
    assert_eq!(reply.code(), 230, "{}", server.kind());
    c
}

/// `PWD`, which must be `/`: the control connection is in step.
#[track_caller]
fn in_step<D: Driver>(c: &mut Client<D>, kind: ServerKind) {
    assert_eq!(
        c.cmd(Cmd::Pwd).ok().path.as_deref(),
        Some("/"),
        "{kind}: out of step"
    );
}

/// An abort of a running download and an `ABOR` with nothing running leave the session in
/// step on every server (issue 13, item 9).
pub fn abort_keeps_the_session_in_step<D: Driver>(server: &dyn TestServer) {
    let kind = server.kind();
    // large enough that the server is still sending when the client aborts
    let data = pattern(16 << 20);
    server.write_file("huge.bin", &data).unwrap();
    let mut c = user_session::<D>(server, &setup());
    let ok = c.abort_download("huge.bin", 100_000).ok();
    assert!(matches!(ok.code(), 225 | 226), "{kind}: {ok:?}");
    in_step(&mut c, kind);
    assert_eq!(
        c.cmd(Cmd::Size("huge.bin")).ok().number,
        Some(data.len() as u64)
    );
    // ABOR with no transfer: answered or refused, never out of step
    match c.abort_idle() {
        Verdict::Ok(s) => assert_eq!(s.code() / 100, 2, "{kind}: {s:?}"),
        Verdict::Err(f) => assert!(
            matches!(f.class, Class::Permanent | Class::Temporary) && !f.fatal,
            "{kind}: {f:?}"
        ),
    }
    in_step(&mut c, kind);
}

pub fn directories_rename_delete_size<D: Driver>(server: &dyn TestServer) {
    let kind = server.kind();
    let mut c = user_session::<D>(server, &setup());
    let made = c.cmd(Cmd::Mkd("newdir")).ok().path.unwrap_or_default();
    assert!(made.ends_with("newdir"), "{kind}: {made}");
    assert!(server.local_path("newdir").is_dir());
    c.cmd(Cmd::Cwd("newdir")).ok();
    assert_eq!(
        c.cmd(Cmd::Pwd).ok().path.as_deref(),
        Some("/newdir"),
        "{kind}"
    );
    c.cmd(Cmd::Cwd("..")).ok();
    in_step(&mut c, kind);
    c.cmd(Cmd::Cwd("newdir")).ok();
    c.cmd(Cmd::Cdup).ok();
    in_step(&mut c, kind);
    c.cmd(Cmd::Cwd("no-such-dir")).err(Class::Permanent);
    c.cmd(Cmd::Rmd("newdir")).ok();
    assert!(!server.local_path("newdir").exists());
    c.cmd(Cmd::Rmd("newdir")).err(Class::Permanent);

    let data = pattern(12_345);
    server.write_file("file.bin", &data).unwrap();
    assert_eq!(
        c.cmd(Cmd::Size("file.bin")).ok().number,
        Some(12_345),
        "{kind}"
    );
    c.cmd(Cmd::Size("missing.bin")).err(Class::Permanent);
    let mtime = c.cmd(Cmd::Mdtm("file.bin")).ok().number.expect("a time");
    let local = std::fs::metadata(server.local_path("file.bin"))
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        mtime.abs_diff(local) <= 1,
        "{kind}: MDTM {mtime} vs local {local}"
    );

    let ok = c.cmd(Cmd::Rename("file.bin", "renamed.bin")).ok();
    assert_eq!(ok.code(), 250, "{kind}");
    assert_eq!(server.read_file("renamed.bin").unwrap(), data);
    assert!(!server.local_path("file.bin").exists());
    c.cmd(Cmd::Rename("file.bin", "again.bin"))
        .err(Class::Permanent);
    assert_eq!(c.cmd(Cmd::Dele("renamed.bin")).ok().code(), 250, "{kind}");
    assert!(!server.local_path("renamed.bin").exists());
    c.cmd(Cmd::Dele("renamed.bin")).err(Class::Permanent);
    c.quit().ok();
}

pub fn active_mode_transfers<D: Driver>(server: &dyn TestServer) {
    let kind = server.kind();
    let data = pattern(150_000);
    server.write_file("act.bin", &data).unwrap();
    let active = Setup::new(Config {
        passive: false,
        ..Config::default()
    });
    let mut c = user_session::<D>(server, &active);
    let (v, got) = c.get("act.bin");
    v.ok();
    assert!(got == data, "{kind}: active RETR");
    c.put("act-up.bin", &data).ok();
    assert!(server.read_file("act-up.bin").unwrap() == data, "{kind}");
    let (v, names) = c.listing(crate::driver::ListKind::Nlst, None);
    v.ok();
    assert!(
        names.iter().any(|n| n == b"act-up.bin"),
        "{kind}: {names:?}"
    );
    assert_eq!(
        c.cmd(Cmd::Size("act-up.bin")).ok().number,
        Some(data.len() as u64)
    );
}

/// Issue 13, item 5, on real servers: the caller's sink fails in the middle of a large
/// download; the transfer ends with the sink's error, and the session is in step at once.
/// Pending: ftp-mio drops the data connection without `ABOR` and waits for the server, and
/// Pure-FTPd then says nothing (the operation runs into the liveness bound).
pub fn failing_sink_keeps_the_session_in_step<D: Driver>(server: &dyn TestServer) {
    let kind = server.kind();
    let data = pattern(16 << 20);
    server.write_file("huge.bin", &data).unwrap();
    let mut c = user_session::<D>(server, &setup());
    let (v, got) = c.download(Download {
        path: "huge.bin",
        sink_fails_after: Some(50_000),
        ..Download::default()
    });
    let f = v.err(Class::Io);
    assert!(!f.fatal, "{kind}: {f:?}");
    assert!(
        got.len() >= 50_000 && got[..] == data[..got.len()],
        "{kind}"
    );
    in_step(&mut c, kind);
}

/// Explicit FTPS on every server: `AUTH TLS`, login, `PROT P`, a listing, downloads, uploads
/// read back, every data connection a TLS one resuming the control connection's session
/// where the server insists on it (vsftpd, ProFTPD; libunftp does it too).
pub fn explicit_ftps_protected_transfers<D: Driver>(server: &dyn TestServer) {
    let kind = server.kind();
    server.write_file("hello.txt", b"hello, ftps\n").unwrap();
    let big = pattern(300_000);
    server.write_file("sub/big.bin", &big).unwrap();
    let mut c =
        tls_session::<D>(server, &setup()).unwrap_or_else(|f| panic!("{kind}: AUTH TLS: {f:?}"));
    assert_eq!(c.login(server.user(), server.password()).ok().code(), 230);
    assert_eq!(c.d.prot_p().ok().code() / 100, 2, "{kind}");
    let (v, names) = c.listing(crate::driver::ListKind::Nlst, None);
    v.ok();
    assert!(
        names.iter().any(|n| n.ends_with(b"hello.txt")),
        "{kind}: {names:?}"
    );
    assert_eq!(c.get("hello.txt").1, b"hello, ftps\n", "{kind}");
    assert!(c.get("sub/big.bin").1 == big, "{kind}: sub/big.bin");
    for i in 0..3 {
        let data = pattern(50_000 + i * 1000);
        let name = format!("up{i}.bin");
        c.put(&name, &data).ok();
        assert!(
            server.read_file(&name).unwrap() == data,
            "{kind}: {name} on disk"
        );
        assert!(c.get(&name).1 == data, "{kind}: {name} read back");
    }
    let (handshakes, resumed) = c.d.tls_data_handshakes().expect("TLS info");
    assert_eq!(handshakes, 9, "{kind}");
    if matches!(
        kind,
        ServerKind::Vsftpd | ServerKind::Proftpd | ServerKind::Libunftp
    ) {
        assert_eq!(resumed, handshakes, "{kind}");
    }
    assert_eq!(c.quit().ok().code(), 221, "{kind}");
}

/// AUTH TLS with the test certificate (retried while libunftp loses its race,
/// `LIBUNFTP_AUTH_RACE`): the session, or the failure.
fn tls_session<D: Driver>(server: &dyn TestServer, setup: &Setup) -> Result<Client<D>, Failure> {
    let pem = server_cert_pem(server);
    for _ in 0..6 {
        let mut c = Client::<D>::open(server.addr(), setup);
        match c.auth_tls("localhost", &pem) {
            Verdict::Ok(_) => return Ok(c),
            Verdict::Err(f) if f.message.contains(LIBUNFTP_AUTH_RACE) => continue,
            Verdict::Err(f) => return Err(f),
        }
    }
    panic!("{}: AUTH TLS kept losing libunftp's race", server.kind());
}

/// TLS 1.3 on protected data connections: six uploads in a row, nothing in between to bring
/// new tickets. What each server does is pinned: vsftpd and pyftpdlib resume every data
/// connection; Pure-FTPd accepts full handshakes; ProFTPD 1.3.8 sends no ticket on resumed
/// upload connections, so the third upload is a full handshake it refuses with `425` (why
/// TLS 1.2 is the drivers' default; the session goes on); libunftp has no TLS 1.3.
pub fn tls13_consecutive_uploads<D: Driver>(server: &dyn TestServer) {
    let kind = server.kind();
    let tls13 = Setup {
        tls_versions: TlsVersion::Tls13,
        ..setup()
    };
    let mut c = match (kind, tls_session::<D>(server, &tls13)) {
        (ServerKind::Libunftp, Err(f)) => {
            assert!(
                f.class == Class::Tls && f.message.contains("ProtocolVersion"),
                "{f:?}"
            );
            return;
        }
        (_, Ok(c)) if kind != ServerKind::Libunftp => c,
        (_, other) => panic!("{kind}: AUTH TLS with TLS 1.3 only: {:?}", other.err()),
    };
    c.login(server.user(), server.password()).ok();
    c.d.prot_p().ok();
    let uploads = if kind == ServerKind::Proftpd { 2 } else { 6 };
    for i in 0..uploads {
        let data = pattern(20_000 + i);
        let name = format!("c{i}.bin");
        c.put(&name, &data).ok();
        assert!(server.read_file(&name).unwrap() == data, "{kind}: {name}");
    }
    let (handshakes, resumed) = c.d.tls_data_handshakes().expect("TLS info");
    assert_eq!(handshakes, uploads as u64, "{kind}");
    match kind {
        ServerKind::Vsftpd | ServerKind::Pyftpdlib => assert_eq!(resumed, handshakes, "{kind}"),
        ServerKind::Proftpd => {
            let f = c.put("c2.bin", b"third").err_code(Class::Temporary, 425);
            assert!(!f.fatal, "{f:?}");
            c.assert_usable();
        }
        _ => {}
    }
}
