//! FTPS with the mio driver (`ftp_mio::Sessions`, feature `tls`): explicit and implicit TLS,
//! protected data connections resuming the control session, several sessions on one loop.
//! Certificate checks and refusals every driver shares are in the conformance suite
//! (`conformance/tls.rs`, `conformance/servers.rs`). libunftp under plain `cargo test`; vsftpd, ProFTPD,
//! Pure-FTPd and pyftpdlib through `tests/run-all.sh`.

mod mio_common;

use ftp_mio::tls::{TlsConfig, TlsVersions};
use ftp_mio::{Error, OpId, SessionId};
use ftp_sansio::session::Outcome;
use ftp_tests::tls::{server_cert_pem, ImplicitTlsFront, LocalFtps, TestCert, LIBUNFTP_AUTH_RACE};
use ftp_tests::{LocalServer, ServerKind, SystemServer, TestServer, PASSWORD, USER};
use mio_common::Loop;

fn trusting(pem: &[u8], versions: TlsVersions) -> TlsConfig {
    TlsConfig::builder()
        .without_webpki_roots()
        .add_root_pem(pem)
        .unwrap()
        .versions(versions)
        .build()
        .unwrap()
}

fn payload(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2_246_822_519)
                .rotate_left(seed as u32 % 29) as u8
        })
        .chain([b'\r', b'\n', seed])
        .collect()
}

/// Connects, `AUTH TLS`, login, `PROT P`; all queued at once. Retries when libunftp lost its
/// `AUTH TLS` race (see `ftp_tests::tls::LIBUNFTP_AUTH_RACE`).
fn open(l: &mut Loop, server: &dyn TestServer, tls: &TlsConfig) -> SessionId {
    for _ in 0..6 {
        let (s, greeting) = l.ftp.connect(server.addr(), Default::default()).unwrap();
        let auth = l.ftp.auth_tls(s, "localhost", tls).unwrap();
        let login = l.ftp.login(s, USER, PASSWORD).unwrap();
        let prot = l.ftp.prot_p(s).unwrap();
        let done = l.wait_all(&[greeting, auth, login, prot]);
        if let Err(e) = &done[1].result {
            if e.to_string().contains(LIBUNFTP_AUTH_RACE) {
                continue;
            }
        }
        for d in &done {
            assert!(d.result.is_ok(), "{:?}", d.result);
        }
        return s;
    }
    panic!("AUTH TLS kept failing");
}

fn ok_data(l: &mut Loop, op: OpId) -> Vec<u8> {
    let mut done = l.wait_all(&[op]);
    let d = done.pop().unwrap();
    assert!(d.result.is_ok(), "{:?}", d.result);
    d.data.unwrap_or_default()
}

/// Listing, downloads and `uploads` uploads (each read back and compared), on `sessions`
/// sessions at once.
fn protected_sessions(server: &dyn TestServer, tls: &TlsConfig, sessions: usize, uploads: usize) {
    let big = payload(9, 400_000);
    server.write_file("big.bin", &big).unwrap();
    let mut l = Loop::new(sessions);
    let ids: Vec<SessionId> = (0..sessions).map(|_| open(&mut l, server, tls)).collect();
    let mut ops = Vec::new();
    for (n, &s) in ids.iter().enumerate() {
        ops.push((l.ftp.nlst(s, None).unwrap(), None));
        ops.push((
            l.ftp.retrieve_to_vec(s, "big.bin", 1 << 20).unwrap(),
            Some(big.clone()),
        ));
        for i in 0..uploads {
            let name = format!("s{n}-u{i}.bin");
            let data = payload((n * 16 + i) as u8, 30_000 + i * 777);
            ops.push((
                l.ftp
                    .store(s, &name, std::io::Cursor::new(data.clone()))
                    .unwrap(),
                None,
            ));
            ops.push((
                l.ftp.retrieve_to_vec(s, &name, 1 << 20).unwrap(),
                Some(data),
            ));
        }
    }
    for (op, expect) in ops {
        let data = ok_data(&mut l, op);
        if let Some(expect) = expect {
            assert_eq!(data, expect);
        }
    }
    for (n, &s) in ids.iter().enumerate() {
        for i in 0..uploads {
            let data = payload((n * 16 + i) as u8, 30_000 + i * 777);
            assert_eq!(server.read_file(&format!("s{n}-u{i}.bin")).unwrap(), data);
        }
        let info = l.ftp.tls_info(s).unwrap();
        assert_eq!(info.data_handshakes, 2 + 2 * uploads as u64, "{info:?}");
        if matches!(
            server.kind(),
            ServerKind::Vsftpd | ServerKind::Proftpd | ServerKind::Libunftp
        ) {
            assert_eq!(info.data_resumed, info.data_handshakes, "{info:?}");
        }
        let quit = l.ftp.quit(s).unwrap();
        assert!(matches!(
            l.wait_all(&[quit])[0].result,
            Ok(Outcome::Closed(_))
        ));
    }
}

#[test]
fn libunftp_explicit_ftps_on_three_sessions_at_once() {
    let ftps = LocalFtps::start();
    let tls = trusting(ftps.cert.cert_pem(), TlsVersions::default());
    protected_sessions(&ftps.server, &tls, 3, 3);
}

#[test]
fn prot_p_without_tls_is_refused() {
    let server = LocalServer::start();
    let mut l = Loop::new(1);
    let (s, greeting) = l.ftp.connect(server.addr(), Default::default()).unwrap();
    l.wait_all(&[greeting]);
    // The session refuses it when its turn comes (issue 13: the rule is the core's); nothing
    // is sent and the session goes on.
    let prot = l.ftp.prot_p(s).unwrap();
    let noop = l.ftp.noop(s).unwrap();
    let done = l.wait_all(&[prot, noop]);
    assert!(matches!(
        done[0].result,
        Err(Error::Usage(ftp_sansio::session::UsageError::TlsRequired))
    ));
    assert!(done[1].result.is_ok());
    assert!(l.ftp.tls_info(s).is_none());
}

#[test]
fn implicit_ftps_through_the_mio_driver() {
    let server = LocalServer::start();
    server.write_file("hello.txt", b"implicit mio\n").unwrap();
    let cert = TestCert::localhost();
    let front = ImplicitTlsFront::start(server.addr(), &cert);
    let tls = trusting(cert.cert_pem(), TlsVersions::Any);
    let mut l = Loop::new(2);
    let (s, greeting) = l
        .ftp
        .connect_implicit_tls(front.addr(), Default::default(), "localhost", &tls)
        .unwrap();
    let login = l.ftp.login(s, USER, PASSWORD).unwrap();
    // The front relays the control connection only: data stays clear.
    let get = l.ftp.retrieve_to_vec(s, "hello.txt", 1024).unwrap();
    let done = l.wait_all(&[greeting, login]);
    assert!(
        done.iter().all(|d| d.result.is_ok()),
        "{:?}",
        done[0].result
    );
    assert_eq!(ok_data(&mut l, get), b"implicit mio\n");
    assert!(l.ftp.session(s).unwrap().is_control_tls());
    assert!(l.ftp.tls_info(s).unwrap().protocol_version.is_some());

    // Untrusted: the greeting's operation fails with a TLS error.
    let (_s, greeting) = l
        .ftp
        .connect_implicit_tls(
            front.addr(),
            Default::default(),
            "localhost",
            &TlsConfig::new(),
        )
        .unwrap();
    let done = l.wait_all(&[greeting]);
    assert!(
        matches!(done[0].result, Err(Error::Tls { .. })),
        "{:?}",
        done[0].result
    );
}

fn system(kind: ServerKind, versions: TlsVersions, sessions: usize, uploads: usize) {
    let server = SystemServer::start(kind);
    let tls = trusting(&server_cert_pem(&server), versions);
    protected_sessions(&server, &tls, sessions, uploads);
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn vsftpd_explicit_ftps() {
    system(ServerKind::Vsftpd, TlsVersions::Tls12, 3, 4);
    system(ServerKind::Vsftpd, TlsVersions::Tls13, 2, 4);
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn proftpd_explicit_ftps() {
    system(ServerKind::Proftpd, TlsVersions::Tls12, 3, 4);
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn pyftpdlib_explicit_ftps() {
    system(ServerKind::Pyftpdlib, TlsVersions::Tls12, 2, 3);
    system(ServerKind::Pyftpdlib, TlsVersions::Any, 2, 3);
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn pure_ftpd_explicit_ftps() {
    system(ServerKind::PureFtpd, TlsVersions::Tls12, 2, 3);
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn proftpd_ccc() {
    let server = SystemServer::start(ServerKind::Proftpd);
    server.write_file("c.txt", b"after ccc\n").unwrap();
    let tls = trusting(&server_cert_pem(&server), TlsVersions::Tls12);
    let mut l = Loop::new(1);
    let s = open(&mut l, &server, &tls);
    let ccc = l.ftp.ccc(s).unwrap();
    let pwd = l.ftp.pwd(s).unwrap();
    let get = l.ftp.retrieve_to_vec(s, "c.txt", 1024).unwrap();
    let done = l.wait_all(&[ccc, pwd]);
    assert!(
        done.iter().all(|d| d.result.is_ok()),
        "{:?}",
        done[0].result
    );
    assert!(!l.ftp.session(s).unwrap().is_control_tls());
    assert_eq!(ok_data(&mut l, get), b"after ccc\n");
}

/// A server that answers the end of an upload with data that never stops: the drain after
/// the client's close_notify is bounded (ftp_sansio::tls::DRAIN_LIMIT), so the upload
/// completes and the client hangs up on the server instead of reading forever.
#[test]
fn the_drain_after_an_upload_is_bounded() {
    let cert = TestCert::localhost();
    let peer = ftp_tests::tls::EndlessTlsPeer::start(&cert);
    let tls = trusting(cert.cert_pem(), TlsVersions::Tls12);
    let started = std::time::Instant::now();
    let mut l = Loop::new(1);
    let (s, greeting) = l
        .ftp
        .connect_implicit_tls(peer.addr(), Default::default(), "localhost", &tls)
        .unwrap();
    let login = l.ftp.login(s, "alice", "secret").unwrap();
    let prot = l.ftp.prot_p(s).unwrap();
    let data = payload(3, 100_000);
    let store = l
        .ftp
        .store(s, "up.bin", std::io::Cursor::new(data.clone()))
        .unwrap();
    let quit = l.ftp.quit(s).unwrap();
    for d in l.wait_all(&[greeting, login, prot, store, quit]) {
        assert!(d.result.is_ok(), "{:?}", d.result);
    }
    let report = peer.finish();
    assert_eq!(report.uploaded, data);
    assert!(report.close_notify && report.client_hung_up, "{report:?}");
    assert!(
        report.streamed_after >= ftp_sansio::tls::DRAIN_LIMIT as u64,
        "{report:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
}
