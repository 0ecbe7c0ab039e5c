//! FTPS with the blocking driver (`ftp_blocking::Ftp`, feature `tls`): explicit (`AUTH TLS`)
//! and implicit TLS, protected data connections that resume the control session, streams,
//! `CCC`, TLS 1.3 tickets. Certificate checks and refusals every driver shares are in the
//! conformance suite (`conformance/tls.rs`, `conformance/servers.rs`). The libunftp tests run under plain `cargo test`; the system-server tests
//! (vsftpd with `require_ssl_reuse=YES`, ProFTPD mod_tls, Pure-FTPd, pyftpdlib) are ignored
//! there and run by `tests/run-all.sh`.

use std::io::{Read, Write};

use ftp_blocking::tls::{TlsConfig, TlsVersions};
use ftp_blocking::{ErrorKind, Ftp};
use ftp_tests::tls::{server_cert_pem, ImplicitTlsFront, LocalFtps, TestCert, LIBUNFTP_AUTH_RACE};
use ftp_tests::{LocalServer, ServerKind, SystemServer, TestServer, PASSWORD, USER};

/// A client configuration that trusts only `pem`.
fn trusting(pem: &[u8], versions: TlsVersions) -> TlsConfig {
    TlsConfig::builder()
        .without_webpki_roots()
        .add_root_pem(pem)
        .unwrap()
        .versions(versions)
        .build()
        .unwrap()
}

/// `Ftp::connect_tls`, again when libunftp lost the race described in
/// `ftp_tests::tls::LIBUNFTP_AUTH_RACE` (its ClientHello read as a command; never a client
/// fault, and never seen with the system servers). Any other result is returned at once.
fn connect_tls(host: &str, port: u16, tls: &TlsConfig) -> ftp_blocking::Result<Ftp> {
    let mut tries = 0;
    loop {
        match Ftp::connect_tls(host, port, tls) {
            Err(e) if tries < 5 && e.to_string().contains(LIBUNFTP_AUTH_RACE) => tries += 1,
            other => return other,
        }
    }
}

/// Bytes that show truncation, reordering and line-end conversion.
fn payload(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2_654_435_761)
                .rotate_left(seed as u32 % 31) as u8
        })
        .chain([b'\r', b'\n', b'\n', seed])
        .collect()
}

fn retr(ftp: &mut Ftp, path: &str) -> Vec<u8> {
    let mut out = Vec::new();
    ftp.retrbinary(
        &format!("RETR {path}"),
        |b| {
            out.extend_from_slice(b);
            Ok(())
        },
        8192,
        None,
    )
    .unwrap_or_else(|e| panic!("RETR {path}: {e}"));
    out
}

fn stor(ftp: &mut Ftp, path: &str, data: &[u8]) {
    let mut src = data;
    let reply = ftp
        .storbinary(&format!("STOR {path}"), &mut src, 8192, None)
        .unwrap_or_else(|e| panic!("STOR {path}: {e}"));
    assert_eq!(reply.code().get() / 100, 2, "{reply}");
}

/// Login over TLS, PROT P, then listings, downloads and `uploads` uploads (each read back
/// and compared, over the data channel and on disk). Returns the client for more checks.
fn protected_session(server: &dyn TestServer, host: &str, tls: &TlsConfig, uploads: usize) -> Ftp {
    server.write_file("hello.txt", b"hello, ftps\n").unwrap();
    let big = payload(7, 300_000);
    server.write_file("sub/big.bin", &big).unwrap();

    let mut ftp = connect_tls(host, server.addr().port(), tls)
        .unwrap_or_else(|e| panic!("connect_tls to {}: {e}", server.kind()));
    assert!(ftp.is_tls());
    assert_eq!(ftp.login(USER, PASSWORD).unwrap().code().get(), 230);
    let reply = ftp.prot_p().unwrap();
    assert_eq!(reply.code().get() / 100, 2, "{reply}");
    assert!(ftp.is_data_protected());

    let names = ftp.nlst(None).unwrap();
    assert!(names.iter().any(|n| n.ends_with("hello.txt")), "{names:?}");
    let lines = ftp.dir(Some("sub")).unwrap();
    assert!(lines.iter().any(|l| l.contains("big.bin")), "{lines:?}");
    assert_eq!(retr(&mut ftp, "hello.txt"), b"hello, ftps\n");
    assert_eq!(retr(&mut ftp, "sub/big.bin"), big);

    for i in 0..uploads {
        let data = payload(i as u8, 50_000 + i * 1000);
        let name = format!("up{i}.bin");
        stor(&mut ftp, &name, &data);
        assert_eq!(server.read_file(&name).unwrap(), data, "{name} on disk");
        assert_eq!(retr(&mut ftp, &name), data, "{name} read back");
    }
    // A streamed download and upload through DataStream too.
    let mut r = ftp.retr_reader("hello.txt", None).unwrap();
    let mut got = Vec::new();
    r.read_to_end(&mut got).unwrap();
    assert_eq!(r.finish().unwrap().code().get(), 226);
    assert_eq!(got, b"hello, ftps\n");
    let mut w = ftp.stor_writer("streamed.txt").unwrap();
    w.write_all(b"streamed over TLS\n").unwrap();
    assert_eq!(w.finish().unwrap().code().get() / 100, 2);
    assert_eq!(
        server.read_file("streamed.txt").unwrap(),
        b"streamed over TLS\n"
    );

    let info = ftp.tls_info().unwrap();
    let expected = 4 + 2 * uploads as u64 + 2;
    assert_eq!(info.data_handshakes, expected, "{info:?}");
    ftp
}

// ---------------------------------------------------------------------------------------
// libunftp, in-process: plain `cargo test`
// ---------------------------------------------------------------------------------------

#[test]
fn libunftp_explicit_ftps_login_list_retrieve_store() {
    let ftps = LocalFtps::start();
    let tls = trusting(ftps.cert.cert_pem(), TlsVersions::default());
    let mut ftp = protected_session(&ftps.server, "localhost", &tls, 4);
    let info = ftp.tls_info().unwrap();
    assert_eq!(
        info.protocol_version,
        Some(ftp_blocking::tls::rustls::ProtocolVersion::TLSv1_2)
    );
    // rustls on the server side keeps sessions: every data connection resumed.
    assert_eq!(info.data_resumed, info.data_handshakes, "{info:?}");
    assert_eq!(ftp.quit().unwrap().code().get(), 221);
}

#[test]
fn libunftp_explicit_ftps_any_version_by_ip_address() {
    // libunftp 0.24 negotiates TLS 1.2 even when 1.3 is offered; the name is an IP address.
    let ftps = LocalFtps::start();
    let tls = trusting(ftps.cert.cert_pem(), TlsVersions::Any);
    let mut ftp = protected_session(&ftps.server, "127.0.0.1", &tls, 3);
    assert!(ftp.tls_info().unwrap().protocol_version.is_some());
    ftp.quit().unwrap();
}

#[test]
fn libunftp_protected_data_in_active_mode() {
    let ftps = LocalFtps::start();
    ftps.server
        .write_file("a.bin", &payload(3, 70_000))
        .unwrap();
    let tls = trusting(ftps.cert.cert_pem(), TlsVersions::default());
    let mut ftp = connect_tls("localhost", ftps.server.addr().port(), &tls).unwrap();
    ftp.login(USER, PASSWORD).unwrap();
    ftp.prot_p().unwrap();
    ftp.set_pasv(false);
    assert_eq!(retr(&mut ftp, "a.bin"), payload(3, 70_000));
    stor(&mut ftp, "b.bin", &payload(4, 10_000));
    assert_eq!(ftps.server.read_file("b.bin").unwrap(), payload(4, 10_000));
}

#[test]
fn libunftp_prot_c_after_prot_p_goes_back_to_clear_data() {
    let ftps = LocalFtps::start();
    ftps.server.write_file("x.txt", b"x\n").unwrap();
    let tls = trusting(ftps.cert.cert_pem(), TlsVersions::default());
    let mut ftp = connect_tls("localhost", ftps.server.addr().port(), &tls).unwrap();
    ftp.login(USER, PASSWORD).unwrap();
    ftp.prot_p().unwrap();
    assert_eq!(retr(&mut ftp, "x.txt"), b"x\n");
    ftp.prot_c().unwrap();
    assert!(!ftp.is_data_protected() && ftp.is_tls());
    assert_eq!(retr(&mut ftp, "x.txt"), b"x\n");
    assert_eq!(ftp.tls_info().unwrap().data_handshakes, 1);
}

#[test]
fn prot_p_without_tls_is_refused_before_sending() {
    let server = LocalServer::start();
    let mut ftp = Ftp::connect(server.addr()).unwrap();
    ftp.login(USER, PASSWORD).unwrap();
    let err = ftp.prot_p().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(ftp.is_connected() && !ftp.is_data_protected());
    ftp.noop().unwrap();
}

#[test]
fn auth_tls_twice_is_refused() {
    let ftps = LocalFtps::start();
    let tls = trusting(ftps.cert.cert_pem(), TlsVersions::default());
    let mut ftp = connect_tls("localhost", ftps.server.addr().port(), &tls).unwrap();
    let err = ftp.auth_tls("localhost", &tls).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(ftp.login(USER, PASSWORD).unwrap().code().get(), 230);
}

#[test]
fn bad_server_name_is_invalid_input() {
    let tls = TlsConfig::new();
    let mut ftp = Ftp::new();
    let err = ftp.auth_tls("not a host name!", &tls).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn tls_config_builder_rejects_garbage_and_empty_trust() {
    // The builder's error is the core's; it converts into this driver's TLS error.
    let err = TlsConfig::builder()
        .add_root_pem(b"no pem here")
        .unwrap_err();
    assert_eq!(ftp_blocking::Error::from(err).kind(), ErrorKind::Tls);
    let err = TlsConfig::builder()
        .without_webpki_roots()
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(ftp_blocking::Error::from(err).kind(), ErrorKind::Tls);
    assert!(TlsConfig::builder().add_root_der(vec![1, 2, 3]).is_err());
}

#[test]
fn implicit_ftps_greeting_and_commands_over_tls() {
    let server = LocalServer::start();
    let cert = TestCert::localhost();
    let front = ImplicitTlsFront::start(server.addr(), &cert);
    server.write_file("hello.txt", b"implicit\n").unwrap();
    let tls = trusting(cert.cert_pem(), TlsVersions::Any);
    let mut ftp = Ftp::connect_implicit_tls("localhost", front.addr().port(), &tls).unwrap();
    assert!(ftp.is_tls());
    assert!(ftp.getwelcome().unwrap().starts_with("220"));
    assert!(ftp.tls_info().unwrap().protocol_version.is_some());
    ftp.login(USER, PASSWORD).unwrap();
    assert_eq!(ftp.pwd().unwrap(), "/");
    // The front relays the control connection only: data stays clear (PROT C).
    assert_eq!(retr(&mut ftp, "hello.txt"), b"implicit\n");
    stor(&mut ftp, "up.txt", b"up\n");
    assert_eq!(server.read_file("up.txt").unwrap(), b"up\n");
    assert_eq!(ftp.quit().unwrap().code().get(), 221);
}

#[test]
fn implicit_ftps_with_an_untrusted_certificate_fails_before_the_greeting() {
    let server = LocalServer::start();
    let cert = TestCert::localhost();
    let front = ImplicitTlsFront::start(server.addr(), &cert);
    let err =
        Ftp::connect_implicit_tls("localhost", front.addr().port(), &TlsConfig::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
}

// ---------------------------------------------------------------------------------------
// System servers: tests/run-all.sh
// ---------------------------------------------------------------------------------------

fn system_session(kind: ServerKind, versions: TlsVersions, uploads: usize) {
    let server = SystemServer::start(kind);
    let tls = trusting(&server_cert_pem(&server), versions);
    let mut ftp = protected_session(&server, "localhost", &tls, uploads);
    let info = ftp.tls_info().unwrap();
    if matches!(kind, ServerKind::Vsftpd | ServerKind::Proftpd) {
        // They refuse data connections that do not resume; all of them went through.
        assert_eq!(info.data_resumed, info.data_handshakes, "{info:?}");
    }
    assert_eq!(ftp.quit().unwrap().code().get(), 221);
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn vsftpd_explicit_ftps_tls12() {
    system_session(ServerKind::Vsftpd, TlsVersions::Tls12, 6);
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn vsftpd_explicit_ftps_tls13_many_uploads() {
    // The close_notify + read-to-end after each upload takes vsftpd's new ticket.
    system_session(ServerKind::Vsftpd, TlsVersions::Any, 6);
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn proftpd_explicit_ftps_tls12() {
    system_session(ServerKind::Proftpd, TlsVersions::Tls12, 6);
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn pyftpdlib_explicit_ftps() {
    system_session(ServerKind::Pyftpdlib, TlsVersions::default(), 4);
    system_session(ServerKind::Pyftpdlib, TlsVersions::Any, 4);
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn pure_ftpd_explicit_ftps() {
    system_session(ServerKind::PureFtpd, TlsVersions::default(), 4);
    system_session(ServerKind::PureFtpd, TlsVersions::Any, 4);
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn system_servers_refuse_wrong_host_name_and_untrusted_certificate() {
    for kind in [
        ServerKind::Vsftpd,
        ServerKind::Proftpd,
        ServerKind::Pyftpdlib,
    ] {
        let server = SystemServer::start(kind);
        let port = server.addr().port();
        let err = connect_tls("localhost", port, &TlsConfig::new()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Tls, "{kind}: {err}");
        let tls = trusting(&server_cert_pem(&server), TlsVersions::default());
        let mut ftp = Ftp::connect_host_new(port);
        let err = ftp.auth_tls("ftp.example.com", &tls).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Tls, "{kind}: {err}");
        assert!(
            err.to_string().contains("not valid for name"),
            "{kind}: {err}"
        );
        assert!(!ftp.is_connected());
    }
}

#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn proftpd_ccc_goes_on_in_clear_text() {
    let server = SystemServer::start(ServerKind::Proftpd);
    server.write_file("c.txt", b"after ccc\n").unwrap();
    let tls = trusting(&server_cert_pem(&server), TlsVersions::default());
    let mut ftp = connect_tls("localhost", server.addr().port(), &tls).unwrap();
    ftp.login(USER, PASSWORD).unwrap();
    ftp.prot_p().unwrap();
    let reply = ftp.ccc().unwrap();
    assert_eq!(reply.code().get(), 200, "{reply}");
    assert!(!ftp.is_tls() && ftp.is_data_protected());
    assert_eq!(ftp.pwd().unwrap(), "/");
    assert_eq!(retr(&mut ftp, "c.txt"), b"after ccc\n");
    assert_eq!(ftp.quit().unwrap().code().get(), 221);
}

/// A clear connection to 127.0.0.1:`port`.
trait ConnectHostNew {
    fn connect_host_new(port: u16) -> Ftp;
}

impl ConnectHostNew for Ftp {
    fn connect_host_new(port: u16) -> Ftp {
        let mut ftp = Ftp::new();
        ftp.connect_host("127.0.0.1", Some(port)).unwrap();
        ftp
    }
}

/// Uploads one small file; the STOR's result.
fn try_stor(ftp: &mut Ftp, name: &str, data: &[u8]) -> ftp_blocking::Result<ftp_blocking::Reply> {
    let mut src = data;
    ftp.storbinary(&format!("STOR {name}"), &mut src, 8192, None)
}

/// Why TLS 1.2 is the default (see `ftp_blocking::tls`): with TLS 1.3 ProFTPD 1.3.8 refuses
/// the third upload of a login (the conformance scenario `tls13_consecutive_uploads`); with
/// TLS 1.2 there is no such limit.
#[test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
fn proftpd_tls12_has_no_upload_limit() {
    let server = SystemServer::start(ServerKind::Proftpd);
    let tls = trusting(&server_cert_pem(&server), TlsVersions::Tls12);
    let mut ftp = connect_tls("localhost", server.addr().port(), &tls).unwrap();
    ftp.login(USER, PASSWORD).unwrap();
    ftp.prot_p().unwrap();
    for i in 0..6 {
        try_stor(&mut ftp, &format!("u{i}.bin"), b"twelve").unwrap();
    }
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
    let mut ftp = Ftp::connect_implicit_tls("localhost", peer.addr().port(), &tls).unwrap();
    ftp.login("alice", "secret").unwrap();
    ftp.prot_p().unwrap();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let reply = ftp
        .storbinary("STOR up.bin", &mut &data[..], 8192, None)
        .unwrap();
    assert_eq!(reply.code().get(), 226, "{reply}");
    ftp.quit().unwrap();
    let report = peer.finish();
    assert_eq!(report.uploaded, data);
    assert!(report.close_notify && report.client_hung_up, "{report:?}");
    assert!(
        report.streamed_after >= ftp_sansio::tls::DRAIN_LIMIT as u64,
        "{report:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
}
