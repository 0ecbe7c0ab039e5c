//! FTPS refusals against libunftp in-process: a certificate not trusted, a name it is not
//! valid for, a server without TLS. Each ends the session with a TLS error, and nothing goes
//! on in clear text. Formerly in `ftps_blocking.rs` and `ftps_mio.rs`, one copy each.

use ftp_tests::tls::{LocalFtps, TestCert, LIBUNFTP_AUTH_RACE};
use ftp_tests::{LocalServer, TestServer, PASSWORD, USER};

use crate::driver::{Class, Client, Driver, Failure, Setup, Verdict};

/// `AUTH TLS` on a fresh session to `server`, trusting `trust`, again while libunftp loses
/// its race (`LIBUNFTP_AUTH_RACE`: the ClientHello read as a command; never a client fault).
/// The failure, which must be a TLS error, and the session.
fn refused_auth<D: Driver>(
    server: &dyn TestServer,
    name: &str,
    trust: Option<&[u8]>,
) -> (Client<D>, Failure) {
    for _ in 0..6 {
        let mut c = Client::<D>::open(server.addr(), &Setup::new(Default::default()));
        match c.d.auth_tls(name, trust) {
            Verdict::Err(f) if f.message.contains(LIBUNFTP_AUTH_RACE) => continue,
            v => {
                let f = v.err(Class::Tls);
                return (c, f);
            }
        }
    }
    panic!("AUTH TLS kept losing libunftp's race");
}

/// After a failed `AUTH TLS`: the session is closed, the login fails as closed.
#[track_caller]
fn nothing_in_clear_text<D: Driver>(c: &mut Client<D>) {
    assert!(!c.d.is_open(), "{}: the session is still open", D::NAME);
    c.login(USER, PASSWORD).err(Class::Closed);
}

pub fn untrusted_certificate_is_refused<D: Driver>() {
    let ftps = LocalFtps::start();
    // the driver's default roots: a self-signed certificate is not trusted
    let (mut c, f) = refused_auth::<D>(&ftps.server, "localhost", None);
    assert!(
        f.message.contains("certificate") && f.message.contains("UnknownIssuer"),
        "{f:?}"
    );
    nothing_in_clear_text(&mut c);
    // another self-signed certificate trusted: still not this server's
    let other = TestCert::localhost();
    let (mut c, _) = refused_auth::<D>(&ftps.server, "localhost", Some(other.cert_pem()));
    nothing_in_clear_text(&mut c);
}

pub fn wrong_server_name_is_refused<D: Driver>() {
    let ftps = LocalFtps::start();
    let (mut c, f) = refused_auth::<D>(&ftps.server, "ftp.example.com", Some(ftps.cert.cert_pem()));
    assert!(f.message.contains("not valid for name"), "{f:?}");
    nothing_in_clear_text(&mut c);
}

/// libunftp without a certificate answers `AUTH TLS` with `502`.
pub fn auth_tls_refused_by_a_server_without_tls<D: Driver>() {
    let server = LocalServer::start();
    let (mut c, f) = refused_auth::<D>(&server, "127.0.0.1", None);
    assert_eq!(f.code.map(|c| c / 100), Some(5), "{f:?}");
    nothing_in_clear_text(&mut c);
}

/// Issue 13, item 1: a failed or refused `AUTH TLS` ends the session, and the error says so
/// (fatal). Pending: ftp-blocking closes the session but reports these errors as not fatal.
pub fn failed_auth_tls_is_fatal<D: Driver>() {
    let ftps = LocalFtps::start();
    let (_, f) = refused_auth::<D>(&ftps.server, "localhost", None);
    assert!(f.fatal, "untrusted: {f:?}");
    let (_, f) = refused_auth::<D>(&ftps.server, "ftp.example.com", Some(ftps.cert.cert_pem()));
    assert!(f.fatal, "wrong name: {f:?}");
    let server = LocalServer::start();
    let (_, f) = refused_auth::<D>(&server, "127.0.0.1", None);
    assert!(f.fatal, "refused: {f:?}");
}
