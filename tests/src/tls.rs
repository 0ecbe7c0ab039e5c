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

/// What [`EndlessTlsPeer`] saw of one protected upload (`Debug` shows the upload's length,
/// not its bytes).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EndlessReport {
    /// The bytes uploaded, up to the client's `close_notify`.
    pub uploaded: Vec<u8>,
    /// Whether the client ended the upload with `close_notify`.
    pub close_notify: bool,
    /// Bytes the peer streamed after the client's `close_notify` before its writes failed.
    pub streamed_after: u64,
    /// Whether the client closed the data connection while the peer still sent (it did not
    /// read forever); `false` when the peer gave up after its time limit.
    pub client_hung_up: bool,
}

impl std::fmt::Debug for EndlessReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndlessReport")
            .field("uploaded", &self.uploaded.len())
            .field("close_notify", &self.close_notify)
            .field("streamed_after", &self.streamed_after)
            .field("client_hung_up", &self.client_hung_up)
            .finish()
    }
}

/// A scripted implicit-FTPS server that answers an upload's end with data that never
/// stops: after the client's `close_notify` on a protected data connection it keeps
/// streaming application data (no `close_notify`) until the client closes the connection
/// or 20 seconds pass, then answers `226`. Shows that a client's drain after an upload is
/// bounded. One control connection; commands it does not know get `502`.
///
/// ```no_run
/// use ftp_tests::tls::{EndlessTlsPeer, TestCert};
/// let cert = TestCert::localhost();
/// let peer = EndlessTlsPeer::start(&cert);
/// // ... implicit FTPS to peer.addr(), login, PROT P, STOR ...
/// let report = peer.finish();
/// assert!(report.client_hung_up);
/// ```
#[derive(Debug)]
pub struct EndlessTlsPeer {
    addr: SocketAddr,
    thread: Option<thread::JoinHandle<io::Result<EndlessReport>>>,
}

impl EndlessTlsPeer {
    /// Listens on a free `127.0.0.1` port, offering `cert`.
    pub fn start(cert: &TestCert) -> EndlessTlsPeer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the scripted FTPS peer");
        let addr = listener.local_addr().expect("local address");
        let config = cert.server_config();
        let thread = thread::spawn(move || endless_session(listener, config));
        EndlessTlsPeer {
            addr,
            thread: Some(thread),
        }
    }

    /// Where clients connect (implicit FTPS).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits for the control session to end (`QUIT` or the client closing) and reports.
    /// Panics if the peer failed.
    pub fn finish(mut self) -> EndlessReport {
        let t = self.thread.take().expect("not finished twice");
        t.join()
            .expect("the scripted FTPS peer panicked")
            .unwrap_or_else(|e| panic!("the scripted FTPS peer failed: {e}"))
    }
}

/// A TLS server stream over a blocking socket.
type ServerTls = StreamOwned<ServerConnection, TcpStream>;

fn accept_tls(listener: &TcpListener, config: &Arc<ServerConfig>) -> io::Result<ServerTls> {
    let (sock, _) = listener.accept()?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))?;
    sock.set_write_timeout(Some(Duration::from_secs(10)))?;
    let conn = ServerConnection::new(config.clone()).map_err(io::Error::other)?;
    let mut tls = StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}

fn reply(control: &mut ServerTls, line: &str) -> io::Result<()> {
    control.write_all(line.as_bytes())?;
    control.write_all(b"\r\n")?;
    control.flush()
}

fn endless_session(listener: TcpListener, config: Arc<ServerConfig>) -> io::Result<EndlessReport> {
    let mut control = accept_tls(&listener, &config)?;
    reply(&mut control, "220 endless FTPS peer")?;
    let mut report = EndlessReport::default();
    let mut data_listener: Option<TcpListener> = None;
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        line.clear();
        while !line.ends_with(b"\r\n") {
            match control.read(&mut byte) {
                Ok(0) => return Ok(report),
                Ok(_) => line.push(byte[0]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        let verb = text.split(' ').next().unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "USER" => reply(&mut control, "331 password please")?,
            "PASS" => reply(&mut control, "230 logged in")?,
            "PBSZ" => reply(&mut control, "200 PBSZ=0")?,
            "PROT" | "TYPE" => reply(&mut control, "200 ok")?,
            "EPSV" => {
                let l = TcpListener::bind("127.0.0.1:0")?;
                let port = l.local_addr()?.port();
                data_listener = Some(l);
                reply(
                    &mut control,
                    &format!("229 Entering Extended Passive Mode (|||{port}|)"),
                )?;
            }
            "STOR" => {
                let Some(l) = data_listener.take() else {
                    reply(&mut control, "425 no EPSV first")?;
                    continue;
                };
                reply(&mut control, "150 send it")?;
                let mut data = accept_tls(&l, &config)?;
                endless_upload(&mut data, &mut report);
                drop(data);
                reply(&mut control, "226 stored")?;
            }
            "QUIT" => {
                reply(&mut control, "221 bye")?;
                return Ok(report);
            }
            _ => reply(&mut control, "502 not here")?,
        }
    }
}

/// Reads the upload to the client's `close_notify`, then streams until the client hangs up.
fn endless_upload(data: &mut ServerTls, report: &mut EndlessReport) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match data.read(&mut buf) {
            Ok(0) => {
                report.close_notify = true;
                break;
            }
            Ok(n) => report.uploaded.extend_from_slice(&buf[..n]),
            Err(_) => return,
        }
    }
    let chunk = [b'x'; 16 * 1024];
    let until = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < until {
        match data.write_all(&chunk).and_then(|()| data.flush()) {
            Ok(()) => report.streamed_after += chunk.len() as u64,
            Err(_) => {
                report.client_hung_up = true;
                return;
            }
        }
    }
}
