//! Tests of the test harness itself: every server it starts greets, logs users in with the
//! agreed rights, moves bytes in both directions, and goes away when dropped. Checked with the
//! harness's own RawClient, so a failure here is about the servers, not about the client crates.
//!
//! The system-server tests are `#[ignore]`d; `tests/run-all.sh` runs them.

use std::io::Read;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

use ftp_tests::{
    server_tests, LocalServer, RawClient, ServerKind, SystemServer, TestServer, ANONYMOUS,
    IGNORE_REASON, PASSWORD, USER,
};

/// A few KiB of every byte value, so that any newline or encoding conversion would show.
fn payload() -> Vec<u8> {
    (0..20_000u32).map(|i| (i * 7 % 256) as u8).collect()
}

fn connect(server: &dyn TestServer) -> RawClient {
    RawClient::connect(server.addr()).unwrap_or_else(|e| {
        panic!(
            "{}: cannot connect to {}: {e}",
            server.kind(),
            server.addr()
        )
    })
}

// ---- the same checks against every server ---------------------------------------------------

fn greets_and_logs_in_anonymously(server: &dyn TestServer) {
    let mut c = connect(server);
    assert_eq!(
        c.welcome().code,
        220,
        "{}: {:?}",
        server.kind(),
        c.welcome()
    );
    let user = c.cmd(&format!("USER {ANONYMOUS}")).unwrap();
    // vsftpd and Pure-FTPd let anonymous in at once (230); the others ask for a password
    let at_once = matches!(server.kind(), ServerKind::Vsftpd | ServerKind::PureFtpd);
    if at_once {
        assert_eq!(user.code, 230, "{}: {user:?}", server.kind());
    } else {
        assert_eq!(user.code, 331, "{}: {user:?}", server.kind());
        let pass = c.cmd("PASS guest@example.invalid").unwrap();
        assert_eq!(pass.code, 230, "{}: {pass:?}", server.kind());
    }
    let pwd = c.cmd("PWD").unwrap();
    assert_eq!(pwd.code, 257, "{}: {pwd:?}", server.kind());
    assert!(
        pwd.lines[0].starts_with("257 \"/\""),
        "{}: anonymous must start at the root: {pwd:?}",
        server.kind()
    );
    assert_eq!(c.quit().unwrap().code, 221);
}

fn user_reads_and_writes_the_root(server: &dyn TestServer) {
    let data = payload();
    server.write_file("given.bin", &data).unwrap();
    let mut c = connect(server);
    let login = c.login(USER, PASSWORD).unwrap();
    assert_eq!(login.code, 230, "{}: {login:?}", server.kind());
    let pwd = c.cmd("PWD").unwrap();
    assert!(
        pwd.lines[0].starts_with("257 \"/\""),
        "{}: {pwd:?}",
        server.kind()
    );

    assert_eq!(
        c.retr("given.bin").unwrap(),
        data,
        "{}: RETR",
        server.kind()
    );

    let mut upload = data.clone();
    upload.reverse();
    let stored = c.stor("sub-upload.bin", &upload).unwrap();
    assert!(
        stored.code == 226 || stored.code == 250,
        "{}: STOR: {stored:?}",
        server.kind()
    );
    assert_eq!(server.read_file("sub-upload.bin").unwrap(), upload);

    // the user may replace and delete what the test process put there
    let replaced = c.stor("given.bin", b"replaced").unwrap();
    assert!(replaced.is_positive(), "{}: {replaced:?}", server.kind());
    assert_eq!(server.read_file("given.bin").unwrap(), b"replaced");
    server.create_dir("made/by/test").unwrap();
    server.write_file("made/by/test/f.txt", b"x").unwrap();
    let dele = c.cmd("DELE made/by/test/f.txt").unwrap();
    assert_eq!(dele.code, 250, "{}: {dele:?}", server.kind());
    assert!(!server.local_path("made/by/test/f.txt").exists());
    let rmd = c.cmd("RMD made/by/test").unwrap();
    assert_eq!(rmd.code, 250, "{}: {rmd:?}", server.kind());
    assert_eq!(c.quit().unwrap().code, 221);
}

fn wrong_password_is_refused(server: &dyn TestServer) {
    let mut c = connect(server);
    let reply = c.login(USER, "not-the-password").unwrap();
    assert_eq!(reply.code, 530, "{}: {reply:?}", server.kind());
}

fn anonymous_cannot_write(server: &dyn TestServer) {
    server.write_file("keep.txt", b"keep").unwrap();
    let mut c = connect(server);
    assert_eq!(c.login(ANONYMOUS, "x").unwrap().code, 230);
    let stor = c.stor("anon.bin", b"should not land").unwrap();
    assert!(
        (500..600).contains(&stor.code),
        "{}: anonymous STOR must get 5xx: {stor:?}",
        server.kind()
    );
    assert!(!server.local_path("anon.bin").exists(), "{}", server.kind());
    let dele = c.cmd("DELE keep.txt").unwrap();
    assert!(
        (500..600).contains(&dele.code),
        "{}: {dele:?}",
        server.kind()
    );
    let mkd = c.cmd("MKD newdir").unwrap();
    assert!((500..600).contains(&mkd.code), "{}: {mkd:?}", server.kind());
    assert_eq!(server.read_file("keep.txt").unwrap(), b"keep");
    assert!(!server.local_path("newdir").exists());
}

/// Active mode: the server connects back to a listener of ours (EPRT, then PORT; libunftp has
/// no EPRT).
fn active_mode_connects_back(server: &dyn TestServer) {
    server
        .write_file("active.txt", b"came through an active connection")
        .unwrap();
    let mut c = connect(server);
    assert_eq!(c.login(USER, PASSWORD).unwrap().code, 230);
    assert_eq!(c.cmd("TYPE I").unwrap().code, 200);
    for verb in ["EPRT", "PORT"] {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let line = if verb == "EPRT" {
            format!("EPRT |1|127.0.0.1|{port}|")
        } else {
            format!("PORT 127,0,0,1,{},{}", port >> 8, port & 0xff)
        };
        let reply = c.cmd(&line).unwrap();
        if verb == "EPRT" && server.kind() == ServerKind::Libunftp {
            // libunftp 0.24 implements PORT but not EPRT
            assert!((500..=502).contains(&reply.code), "{line}: {reply:?}");
            continue;
        }
        assert_eq!(reply.code, 200, "{}: {line}: {reply:?}", server.kind());
        c.send("RETR active.txt").unwrap();
        listener.set_nonblocking(false).unwrap();
        let (mut data, _) = accept_within(&listener, Duration::from_secs(10));
        let start = c.read_reply().unwrap();
        assert!(
            start.code == 150 || start.code == 125,
            "{}: {start:?}",
            server.kind()
        );
        let mut got = Vec::new();
        data.read_to_end(&mut got).unwrap();
        assert_eq!(
            got,
            b"came through an active connection",
            "{}",
            server.kind()
        );
        // ProFTPD sends its 226 only once the client has closed its end too (lingering close)
        drop(data);
        let end = c.read_reply().unwrap();
        assert!(
            end.code == 226 || end.code == 250,
            "{}: {end:?}",
            server.kind()
        );
    }
}

fn accept_within(listener: &TcpListener, limit: Duration) -> (TcpStream, SocketAddr) {
    listener.set_nonblocking(true).unwrap();
    let until = std::time::Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((s, a)) => {
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                return (s, a);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(
                    std::time::Instant::now() < until,
                    "the server did not connect back"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// Over IPv6: EPSV for a download, EPRT for an upload (only the extended commands work on ::1).
fn ipv6_transfers(server: &dyn TestServer) {
    assert!(server.addr().is_ipv6());
    server.write_file("v6.bin", &payload()).unwrap();
    let mut c = connect(server);
    assert_eq!(c.welcome().code, 220, "{}", server.kind());
    assert_eq!(
        c.login(USER, PASSWORD).unwrap().code,
        230,
        "{}",
        server.kind()
    );
    assert_eq!(c.retr("v6.bin").unwrap(), payload(), "{}", server.kind());
    if server.kind() == ServerKind::Libunftp {
        return; // libunftp 0.24 has no EPRT
    }
    let listener = TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let eprt = c.cmd(&format!("EPRT |2|::1|{port}|")).unwrap();
    assert_eq!(eprt.code, 200, "{}: {eprt:?}", server.kind());
    c.send("STOR up6.bin").unwrap();
    let (mut data, _) = accept_within(&listener, Duration::from_secs(10));
    let start = c.read_reply().unwrap();
    assert!(
        start.code == 150 || start.code == 125,
        "{}: {start:?}",
        server.kind()
    );
    std::io::Write::write_all(&mut data, b"uploaded over ::1").unwrap();
    drop(data);
    let end = c.read_reply().unwrap();
    assert!(
        end.code == 226 || end.code == 250,
        "{}: {end:?}",
        server.kind()
    );
    assert_eq!(server.read_file("up6.bin").unwrap(), b"uploaded over ::1");
}

server_tests!(ipv6: ipv6_transfers);

server_tests!(
    greets_and_logs_in_anonymously,
    user_reads_and_writes_the_root,
    wrong_password_is_refused,
    anonymous_cannot_write,
    active_mode_connects_back,
);

// ---- in-process server specifics -------------------------------------------------------------

#[test]
fn local_servers_do_not_share_ports() {
    let a = LocalServer::start();
    let b = LocalServer::start();
    assert_ne!(a.addr(), b.addr());
    assert_eq!(a.addr().ip(), Ipv4Addr::LOCALHOST);
    let (pa, pb) = (a.passive_ports(), b.passive_ports());
    assert!(
        pa.end() < pb.start() || pb.end() < pa.start(),
        "{pa:?} {pb:?}"
    );
    assert_ne!(a.root(), b.root());

    // EPSV answers a port of the server's own range
    let mut c = connect(&a);
    c.login(ANONYMOUS, "x").unwrap();
    let epsv = c.cmd("EPSV").unwrap();
    assert_eq!(epsv.code, 229, "{epsv:?}");
    let port: u16 = epsv.lines[0]
        .split('|')
        .nth(3)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{epsv:?}"));
    assert!(pa.contains(&port), "{port} not in {pa:?}");
}

#[test]
fn dropping_a_local_server_stops_it_and_removes_its_root() {
    let server = LocalServer::start();
    let addr = server.addr();
    let root = server.root().to_path_buf();
    server.write_file("f", b"x").unwrap();
    let mut c = connect(&server);
    c.login(ANONYMOUS, "x").unwrap();
    drop(server);
    assert!(!root.exists(), "{} still exists", root.display());
    // the open session is cut, and nobody listens any more
    let after = c.cmd("NOOP");
    assert!(after.is_err(), "session survived the server: {after:?}");
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err());
}

#[test]
fn local_server_on_ipv6() {
    if !ftp_tests::ipv6_available() {
        eprintln!("no IPv6 loopback on this machine: nothing to check");
        return;
    }
    let server = LocalServer::builder().ipv6().start().unwrap();
    assert_eq!(server.addr().ip(), Ipv6Addr::LOCALHOST);
    server.write_file("v6.txt", b"over ::1").unwrap();
    let mut c = connect(&server);
    assert_eq!(c.welcome().code, 220);
    assert_eq!(c.login(USER, PASSWORD).unwrap().code, 230);
    assert_eq!(c.retr("v6.txt").unwrap(), b"over ::1");
}

#[test]
fn local_server_files_land_where_the_test_looks() {
    let server = LocalServer::start();
    let path = server.write_file("a/b/c.txt", b"deep").unwrap();
    assert_eq!(path, server.root().join("a/b/c.txt"));
    let mut c = connect(&server);
    c.login(USER, PASSWORD).unwrap();
    assert_eq!(c.retr("/a/b/c.txt").unwrap(), b"deep");
    assert_eq!(c.cmd("SIZE a/b/c.txt").unwrap().code, 213);
}

#[test]
#[should_panic(expected = "relative path")]
fn local_path_refuses_to_leave_the_root() {
    let server = LocalServer::start();
    let _ = server.local_path("../outside");
}

/// The TLS hook: with a certificate, `AUTH TLS` is accepted (openssl makes the certificate;
/// tests/servers/install.sh installs it).
#[test]
fn local_server_offers_tls_when_given_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("no openssl command here: cannot make a certificate to check the TLS hook");
        return;
    }
    let server = LocalServer::builder().ftps(&cert, &key).start().unwrap();
    assert_eq!(server.cert_pem(), Some(cert.as_path()));
    let mut c = connect(&server);
    let auth = c.cmd("AUTH TLS").unwrap();
    assert_eq!(auth.code, 234, "{auth:?}");

    let plain = LocalServer::start();
    assert_eq!(plain.cert_pem(), None);
    let mut c = connect(&plain);
    let auth = c.cmd("AUTH TLS").unwrap();
    assert!((500..600).contains(&auth.code), "{auth:?}");
}

// ---- system server specifics (ignored: tests/run-all.sh runs them) ---------------------------

fn pid_alive(pid: u32) -> bool {
    // a zombie (exited, not yet reaped by its adoptive parent) counts as gone
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            let state = s.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        })
        .unwrap_or(false)
}

fn check_system_server(kind: ServerKind, ipv6: bool) {
    if ipv6 && !ftp_tests::ipv6_available() {
        eprintln!("no IPv6 loopback on this machine: {kind} on ::1 not checked");
        return;
    }
    let mut builder = SystemServer::builder(kind);
    if ipv6 {
        builder = builder.ipv6();
    }
    let server = builder.start().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(server.kind(), kind);
    assert_eq!(server.addr().is_ipv6(), ipv6);
    assert!(pid_alive(server.pid()));
    let cert = server.cert_pem().expect("system servers offer TLS");
    let pem = std::fs::read_to_string(cert).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert!(server
        .state_dir()
        .starts_with(server.root().parent().unwrap()));

    server.write_file("hello.txt", b"hello, ftp\n").unwrap();
    let mut c = connect(&server);
    assert_eq!(c.welcome().code, 220, "{kind}: {:?}", c.welcome());
    assert_eq!(c.login(USER, PASSWORD).unwrap().code, 230, "{kind}");
    assert_eq!(c.retr("hello.txt").unwrap(), b"hello, ftp\n", "{kind}");
    let stor = c.stor("up.bin", &payload()).unwrap();
    assert!(stor.code == 226 || stor.code == 250, "{kind}: {stor:?}");
    assert_eq!(server.read_file("up.bin").unwrap(), payload(), "{kind}");
    assert_eq!(c.quit().unwrap().code, 221, "{kind}");

    // explicit FTPS is offered
    let mut c = connect(&server);
    let auth = c.cmd("AUTH TLS").unwrap();
    assert_eq!(auth.code, 234, "{kind}: {auth:?}");
    drop(c);

    let pid = server.pid();
    let dir = server.root().parent().unwrap().to_path_buf();
    let addr = server.addr();
    drop(server);
    assert!(!pid_alive(pid), "{kind}: PID {pid} survived the drop");
    assert!(!dir.exists(), "{kind}: {} survived the drop", dir.display());
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err());
}

macro_rules! system_server_checks {
    ($($name:ident: $kind:expr, $ipv6:expr;)+) => {
        $(
            #[test]
            #[ignore = "needs system FTP servers: run tests/run-all.sh"]
            fn $name() {
                check_system_server($kind, $ipv6);
            }
        )+
    };
}

system_server_checks! {
    vsftpd_starts_serves_and_stops: ServerKind::Vsftpd, false;
    proftpd_starts_serves_and_stops: ServerKind::Proftpd, false;
    pure_ftpd_starts_serves_and_stops: ServerKind::PureFtpd, false;
    pyftpdlib_starts_serves_and_stops: ServerKind::Pyftpdlib, false;
    vsftpd_on_ipv6: ServerKind::Vsftpd, true;
    proftpd_on_ipv6: ServerKind::Proftpd, true;
    pure_ftpd_on_ipv6: ServerKind::PureFtpd, true;
    pyftpdlib_on_ipv6: ServerKind::Pyftpdlib, true;
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn system_servers_are_installed_and_startable() {
    if let Err(why) = ftp_tests::system_servers_status() {
        panic!("{why}");
    }
    assert!(ftp_tests::system_servers_available());
    let err = SystemServer::builder(ServerKind::Libunftp)
        .start()
        .unwrap_err();
    assert!(err.contains("LocalServer"), "{err}");
}

/// vsftpd refuses a TLS data connection that does not resume the control session, unless
/// started with `tls_no_reuse`: checked here only as far as the option reaching its config.
#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn tls_no_reuse_reaches_the_config() {
    for (no_reuse, want) in [
        (false, "require_ssl_reuse=YES"),
        (true, "require_ssl_reuse=NO"),
    ] {
        let mut b = SystemServer::builder(ServerKind::Vsftpd);
        if no_reuse {
            b = b.tls_no_reuse();
        }
        let server = b.start().unwrap();
        let conf = std::fs::read_to_string(server.state_dir().join("vsftpd.conf")).unwrap();
        assert!(conf.lines().any(|l| l == want), "{want} not in {conf}");
        let pasv = server.passive_ports();
        assert!(conf.contains(&format!("pasv_min_port={}", pasv.start())));
        assert!(conf.contains(&format!("pasv_max_port={}", pasv.end())));
    }
}

// ---- conventions of the test files ------------------------------------------------------------

/// Every `#[ignore]` in this crate's tests gives a reason, and a test ignored for needing the
/// system servers uses exactly ftp_tests::IGNORE_REASON, so `tests/run-all.sh` is always named.
#[test]
fn ignore_attributes_give_the_agreed_reason() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if !line.starts_with("#[ignore") {
                continue;
            }
            checked += 1;
            assert!(
                line.starts_with("#[ignore = \""),
                "{}:{}: #[ignore] without a reason: {line}",
                path.display(),
                n + 1
            );
            if line.contains("server") {
                assert_eq!(
                    line,
                    format!("#[ignore = \"{IGNORE_REASON}\"]"),
                    "{}:{}",
                    path.display(),
                    n + 1
                );
            }
        }
    }
    assert!(
        checked >= 3,
        "only {checked} #[ignore] lines found in {}",
        dir.display()
    );
    // and the macro in src/lib.rs spells it the same way
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let needle = format!("#[ignore = \"{IGNORE_REASON}\"]");
    let in_macro = lib.lines().filter(|l| l.trim() == needle).count();
    assert_eq!(
        in_macro, 8,
        "server_tests! has 4 system-server tests per arm"
    );
}

#[test]
fn raw_client_refuses_line_breaks_in_commands() {
    let server = LocalServer::start();
    let mut c = connect(&server);
    let err = c.cmd("NOOP\r\nDELE x").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    // and the connection is still usable
    assert_eq!(c.cmd("NOOP").unwrap().code, 200);
}
