//! FTPS test support: self-signed certificates made at test time, libunftp with explicit
//! FTPS, and an implicit-TLS front for it.
//!
//! ```no_run
//! use ftp_tests::tls::LocalFtps;
//! use ftp_tests::TestServer;
//!
//! let ftps = LocalFtps::start();                 // libunftp + AUTH TLS, cert for localhost
//! ftps.server.write_file("a.txt", b"hello").unwrap();
//! let pem = ftps.cert.cert_pem();                // trust this in the client
//! # let _ = pem;
//! ```

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::{LocalServer, TestServer};

/// A known race of libunftp 0.24 (not a client fault): after sending `234` to `AUTH TLS` it
/// sometimes still reads the client's TLS ClientHello as an FTP command and answers
/// `500 Invalid UTF8 in command` in clear text, so the client's handshake fails with rustls'
/// `InvalidContentType`. Seen on about 1 connection in 20 under parallel load, never with
/// vsftpd, ProFTPD, Pure-FTPd or pyftpdlib. Tests against [`LocalFtps`] retry a connection
/// whose handshake failed that way; this text is what they look for.
///
/// ```
/// assert_eq!(ftp_tests::tls::LIBUNFTP_AUTH_RACE, "InvalidContentType");
/// ```
pub const LIBUNFTP_AUTH_RACE: &str = "InvalidContentType";

/// A self-signed certificate and its key, written as PEM files into a temporary directory
/// that lives as long as the value.
///
/// ```
/// let cert = ftp_tests::tls::TestCert::new(&["localhost", "127.0.0.1"]);
/// assert!(cert.cert_pem().starts_with(b"-----BEGIN CERTIFICATE-----"));
/// assert!(cert.cert_path().exists() && cert.key_path().exists());
/// ```
#[derive(Debug)]
pub struct TestCert {
    cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
    cert_path: PathBuf,
    key_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestCert {
    /// A fresh self-signed certificate (ECDSA P-256) valid for `names` (DNS names or IP
    /// addresses, as subject alternative names). Panics if it cannot be made or written.
    pub fn new(names: &[&str]) -> TestCert {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let made = rcgen::generate_simple_self_signed(names).expect("rcgen: self-signed cert");
        let cert_pem = made.cert.pem().into_bytes();
        let key_pem = made.key_pair.serialize_pem().into_bytes();
        let dir = tempfile::Builder::new()
            .prefix("ftp-rs-cert-")
            .tempdir()
            .expect("temporary directory for the certificate");
        let cert_path = dir.path().join("cert.pem");
        let key_path = dir.path().join("key.pem");
        std::fs::write(&cert_path, &cert_pem).expect("write cert.pem");
        std::fs::write(&key_path, &key_pem).expect("write key.pem");
        TestCert {
            cert_pem,
            key_pem,
            cert_path,
            key_path,
            _dir: dir,
        }
    }

    /// The certificate for `localhost`, `127.0.0.1` and `::1`.
    ///
    /// ```
    /// let cert = ftp_tests::tls::TestCert::localhost();
    /// assert!(!cert.key_pem().is_empty());
    /// ```
    pub fn localhost() -> TestCert {
        TestCert::new(&["localhost", "127.0.0.1", "::1"])
    }

    /// The certificate, PEM.
    pub fn cert_pem(&self) -> &[u8] {
        &self.cert_pem
    }

    /// The private key, PEM (PKCS#8).
    pub fn key_pem(&self) -> &[u8] {
        &self.key_pem
    }

    /// Where the certificate PEM file is.
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// Where the key PEM file is.
    pub fn key_path(&self) -> &Path {
        &self.key_path
    }

    /// A rustls server configuration (ring provider, TLS 1.2 and 1.3) offering this
    /// certificate.
    ///
    /// ```
    /// let cert = ftp_tests::tls::TestCert::localhost();
    /// let config = cert.server_config();
    /// assert!(config.alpn_protocols.is_empty());
    /// ```
    pub fn server_config(&self) -> Arc<ServerConfig> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&self.cert_pem)
            .collect::<Result<_, _>>()
            .expect("our own certificate PEM parses");
        let key = PrivateKeyDer::from_pem_slice(&self.key_pem).expect("our own key PEM parses");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("certificate and key match");
        Arc::new(config)
    }
}

/// libunftp with explicit FTPS (`AUTH TLS`, never required) and a fresh self-signed
/// certificate for `localhost`, `127.0.0.1` and `::1`.
///
/// ```no_run
/// let ftps = ftp_tests::tls::LocalFtps::start();
/// assert!(ftp_tests::TestServer::cert_pem(&ftps.server).is_some());
/// ```
#[derive(Debug)]
pub struct LocalFtps {
    /// The server (dropped before the certificate files).
    pub server: LocalServer,
    /// Its certificate.
    pub cert: TestCert,
}

impl LocalFtps {
    /// Starts it; panics when it cannot.
    pub fn start() -> LocalFtps {
        let cert = TestCert::localhost();
        let server = LocalServer::builder()
            .ftps(cert.cert_path(), cert.key_path())
            .start()
            .unwrap_or_else(|e| panic!("libunftp with FTPS: {e}"));
        LocalFtps { server, cert }
    }
}

/// Implicit FTPS in front of a plain FTP server: accepts TLS on its own port (TLS from the
/// first byte, the greeting included) and relays the decrypted control connection to the
/// server. Data connections go to the server directly (so use `PROT C`, the server's passive
/// ports are reachable). Stopped when dropped.
///
/// ```no_run
/// use ftp_tests::tls::{ImplicitTlsFront, TestCert};
/// use ftp_tests::{LocalServer, TestServer};
/// let server = LocalServer::start();
/// let cert = TestCert::localhost();
/// let front = ImplicitTlsFront::start(server.addr(), &cert);
/// println!("implicit FTPS on {}", front.addr());
/// ```
#[derive(Debug)]
pub struct ImplicitTlsFront {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl ImplicitTlsFront {
    /// Listens on a free `127.0.0.1` port, relaying to `backend`, offering `cert`.
    pub fn start(backend: SocketAddr, cert: &TestCert) -> ImplicitTlsFront {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the implicit TLS front");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let config = cert.server_config();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let config = config.clone();
                        let stop = stop2.clone();
                        thread::spawn(move || {
                            if let Err(e) = relay(client, backend, config, &stop) {
                                log::debug!("implicit TLS front: {e}");
                            }
                        });
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(5));
                    }
                    Err(e) => {
                        log::warn!("implicit TLS front: accept: {e}");
                        thread::sleep(Duration::from_millis(5));
                    }
                }
            }
        });
        ImplicitTlsFront {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// Where clients connect (implicit FTPS).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for ImplicitTlsFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One relayed connection: TLS handshake, then bytes both ways until either side ends.
fn relay(
    client: TcpStream,
    backend: SocketAddr,
    config: Arc<ServerConfig>,
    stop: &AtomicBool,
) -> io::Result<()> {
    client.set_nonblocking(false)?;
    client.set_read_timeout(Some(Duration::from_secs(10)))?;
    let conn = ServerConnection::new(config).map_err(io::Error::other)?;
    let mut tls = StreamOwned::new(conn, client);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    let mut plain = TcpStream::connect(backend)?;
    tls.sock.set_nonblocking(true)?;
    plain.set_nonblocking(true)?;
    let mut buf = [0u8; 16 * 1024];
    while !stop.load(Ordering::Relaxed) {
        let mut moved = false;
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                write_all_nb(&mut plain, &buf[..n])?;
                moved = true;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        match plain.read(&mut buf) {
            Ok(0) => {
                tls.conn.send_close_notify();
                let _ = tls.conn.complete_io(&mut tls.sock);
                break;
            }
            Ok(n) => {
                write_all_nb(&mut tls, &buf[..n])?;
                moved = true;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        if !moved {
            thread::sleep(Duration::from_millis(1));
        }
    }
    let _ = plain.shutdown(Shutdown::Both);
    let _ = tls.sock.shutdown(Shutdown::Both);
    Ok(())
}

/// `write_all` on a non-blocking stream (spins politely on `WouldBlock`).
fn write_all_nb<W: Write>(w: &mut W, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match w.write(buf) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(1))
            }
            Err(e) => return Err(e),
        }
    }
    loop {
        match w.flush() {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(1))
            }
            Err(e) => return Err(e),
        }
    }
}

/// The certificate PEM of a running server (system servers make one per start).
///
/// ```no_run
/// let server = ftp_tests::SystemServer::start(ftp_tests::ServerKind::Vsftpd);
/// let pem = ftp_tests::tls::server_cert_pem(&server);
/// assert!(pem.starts_with(b"-----BEGIN"));
/// ```
pub fn server_cert_pem(server: &dyn TestServer) -> Vec<u8> {
    let path = server
        .cert_pem()
        .unwrap_or_else(|| panic!("{} offers no TLS certificate", server.kind()));
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}
