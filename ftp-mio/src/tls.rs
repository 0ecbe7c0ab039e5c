//! FTPS (RFC 4217) for the mio driver: explicit (`AUTH TLS`), implicit (TLS from the first
//! byte) and protected data connections, with [rustls] over non-blocking sockets. The public
//! items need the `tls` cargo feature; without it a session that would need TLS fails with
//! [`Error::TlsUnsupported`](crate::Error::TlsUnsupported).
//!
//! | you want | call |
//! |---|---|
//! | explicit FTPS | [`Sessions::connect`], then [`Sessions::auth_tls`], [`Sessions::login`], [`Sessions::prot_p`] (queued in that order) |
//! | implicit FTPS (port 990) | [`Sessions::connect_implicit_tls`] |
//! | clear data again | [`Sessions::prot_c`] |
//! | clear control after login | [`Sessions::ccc`] |
//!
//! Operations run in the order they were queued, so a login queued behind `AUTH TLS` runs
//! only over TLS: if `AUTH TLS` is refused or the handshake fails (untrusted certificate,
//! wrong name), that operation fails with [`Error::Tls`](crate::Error::Tls) **and the session
//! is closed**: the queued login fails with `UsageError::Closed` and never goes out in clear
//! text.
//!
//! Certificates are verified against the webpki roots by default; add roots with
//! [`TlsConfigBuilder`] or bring a whole `rustls::ClientConfig` ([`TlsConfig::from_rustls`]).
//! Every data connection of a session uses that session's own `Arc<ClientConfig>` (one
//! session store) and the same server name as its control connection, so it resumes the
//! control connection's TLS session, which vsftpd and ProFTPD insist on. TLS 1.2 is the
//! default ([`TlsVersions`]): under TLS 1.3 ProFTPD 1.3.8 allows at most two uploads in a row
//! per login (no ticket on resumed uploads); after each upload this driver sends
//! `close_notify` and reads the data connection to its end so that vsftpd's new ticket is
//! taken.
//!
//! The configuration types are ftp-blocking's, written once for both drivers (this crate's
//! `tls` feature depends on ftp-blocking's): [`TlsConfig`] and [`TlsConfigBuilder`] are
//! `ftp_blocking::tls::shared`'s generic types with this crate's [`Error`](crate::Error) as
//! the builder's error, and [`TlsVersions`], [`TlsInfo`] and [`IMPLICIT_PORT`] are
//! re-exported. What is this driver's own is the non-blocking TLS socket below.
//!
//! [`Sessions::connect`]: crate::Sessions::connect
//! [`Sessions::auth_tls`]: crate::Sessions::auth_tls
//! [`Sessions::login`]: crate::Sessions::login
//! [`Sessions::prot_p`]: crate::Sessions::prot_p
//! [`Sessions::prot_c`]: crate::Sessions::prot_c
//! [`Sessions::ccc`]: crate::Sessions::ccc
//! [`Sessions::connect_implicit_tls`]: crate::Sessions::connect_implicit_tls
#![cfg_attr(not(feature = "tls"), allow(dead_code))]

use std::io::{self, Read, Write};
use std::net::Shutdown;

use mio::net::TcpStream;

#[cfg(feature = "tls")]
pub use with_tls::*;

/// A socket, clear or TLS; TLS is driven without blocking (the handshake runs inside
/// `read`/`write`, which return `WouldBlock` until it is done).
#[derive(Debug)]
pub(crate) struct Sock {
    pub(crate) tcp: TcpStream,
    #[cfg(feature = "tls")]
    tls: Option<Box<Layer>>,
}

/// A TLS layer and where its closing stands.
#[cfg(feature = "tls")]
#[derive(Debug)]
struct Layer {
    conn: rustls::ClientConnection,
    close_sent: bool,
    write_shut: bool,
}

impl Sock {
    /// A clear socket.
    pub(crate) fn plain(tcp: TcpStream) -> Sock {
        Sock {
            tcp,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Whether TLS runs on it.
    pub(crate) fn is_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        false
    }

    /// Ends an upload: clear, shut the write side down; TLS, `close_notify`, then read to
    /// the end so that a TLS 1.3 ticket sent meanwhile is taken. `Ok(false)`: would block,
    /// call again on the next readiness.
    pub(crate) fn finish_upload(&mut self) -> io::Result<bool> {
        #[cfg(feature = "tls")]
        if let Some(layer) = self.tls.as_mut() {
            return layer.finish_upload(&mut self.tcp);
        }
        match self.tcp.shutdown(Shutdown::Write) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// After a download's end: answer the server's `close_notify` (best effort).
    pub(crate) fn close_notify(&mut self) {
        #[cfg(feature = "tls")]
        if let Some(layer) = self.tls.as_mut() {
            layer.conn.send_close_notify();
            let _ = flush(&mut layer.conn, &mut self.tcp);
        }
    }
}

impl Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(layer) = self.tls.as_mut() {
            return tls_read(&mut layer.conn, &mut self.tcp, buf);
        }
        self.tcp.read(buf)
    }
}

impl Write for Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(layer) = self.tls.as_mut() {
            return tls_write(&mut layer.conn, &mut self.tcp, buf);
        }
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        #[cfg(feature = "tls")]
        if let Some(layer) = self.tls.as_mut() {
            return flush(&mut layer.conn, &mut self.tcp);
        }
        self.tcp.flush()
    }
}

/// Writes pending TLS records until none is left or the socket would block.
#[cfg(feature = "tls")]
fn flush(conn: &mut rustls::ClientConnection, tcp: &mut TcpStream) -> io::Result<()> {
    while conn.wants_write() {
        match conn.write_tls(tcp) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads TLS records from the socket and processes them; `Ok(false)` at EOF.
#[cfg(feature = "tls")]
fn pull(conn: &mut rustls::ClientConnection, tcp: &mut TcpStream) -> io::Result<bool> {
    let open = loop {
        match conn.read_tls(tcp) {
            Ok(0) => break false,
            Ok(_) => break true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    if let Err(e) = conn.process_new_packets() {
        // Send the alert if we can; the error is what matters.
        let _ = flush(conn, tcp);
        return Err(io::Error::new(io::ErrorKind::InvalidData, e));
    }
    Ok(open)
}

#[cfg(feature = "tls")]
fn tls_read(
    conn: &mut rustls::ClientConnection,
    tcp: &mut TcpStream,
    buf: &mut [u8],
) -> io::Result<usize> {
    let _ = flush_nb(conn, tcp)?;
    let mut eof = false;
    loop {
        match conn.reader().read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if eof {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
            }
            Err(e) => return Err(e),
        }
        if !pull(conn, tcp)? {
            eof = true;
        }
        let _ = flush_nb(conn, tcp)?;
    }
}

#[cfg(feature = "tls")]
fn tls_write(
    conn: &mut rustls::ClientConnection,
    tcp: &mut TcpStream,
    buf: &[u8],
) -> io::Result<usize> {
    if conn.is_handshaking() {
        drive_handshake(conn, tcp)?;
        if conn.is_handshaking() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
    }
    // Never buffer more than one write ahead of the socket.
    flush(conn, tcp)?;
    let n = conn.writer().write(buf)?;
    flush_nb(conn, tcp)?;
    Ok(n)
}

/// [`flush`], where `WouldBlock` is no error: `Ok(false)` if records are left.
#[cfg(feature = "tls")]
fn flush_nb(conn: &mut rustls::ClientConnection, tcp: &mut TcpStream) -> io::Result<bool> {
    match flush(conn, tcp) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(e),
    }
}

/// Moves the handshake on as far as the socket allows.
#[cfg(feature = "tls")]
fn drive_handshake(conn: &mut rustls::ClientConnection, tcp: &mut TcpStream) -> io::Result<()> {
    while conn.is_handshaking() {
        flush_nb(conn, tcp)?;
        if !conn.is_handshaking() {
            break;
        }
        match pull(conn, tcp) {
            Ok(true) => {}
            Ok(false) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    flush_nb(conn, tcp)?;
    Ok(())
}

#[cfg(feature = "tls")]
impl Layer {
    fn finish_upload(&mut self, tcp: &mut TcpStream) -> io::Result<bool> {
        if !self.close_sent {
            self.conn.send_close_notify();
            self.close_sent = true;
        }
        if !self.write_shut {
            if !flush_nb(&mut self.conn, tcp)? {
                return Ok(false);
            }
            let _ = tcp.shutdown(Shutdown::Write);
            self.write_shut = true;
        }
        // Drain to the server's close_notify or EOF; errors no longer matter.
        let mut scratch = [0u8; 4096];
        loop {
            match tls_read(&mut self.conn, tcp, &mut scratch) {
                Ok(0) => return Ok(true),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Ok(true),
            }
        }
    }
}

#[cfg(feature = "tls")]
mod with_tls {
    use std::io;

    use ftp_blocking::tls::shared;

    use super::{drive_handshake, flush_nb, Layer, Sock};
    use crate::Error;

    pub use ftp_blocking::tls::{TlsInfo, TlsVersions, IMPLICIT_PORT};
    pub use rustls;

    /// What FTPS sessions trust and offer: a `rustls::ClientConfig` template, the one of
    /// ftp-blocking ([`shared::TlsConfig`]) with this crate's [`Error`]. Cheap to clone; each
    /// session gets its own copy with its own session store.
    ///
    /// ```
    /// use ftp_mio::tls::{TlsConfig, TlsVersions};
    /// let default = TlsConfig::new(); // webpki roots, TLS 1.2
    /// let both = TlsConfig::builder().versions(TlsVersions::Any).build()?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub type TlsConfig = shared::TlsConfig<Error>;

    /// Builds a [`TlsConfig`]; made by [`TlsConfig::builder`]. Its failures are
    /// [`Error::Tls`].
    ///
    /// ```
    /// use ftp_mio::tls::{TlsConfig, TlsVersions};
    /// assert!(TlsConfig::builder().add_root_pem(b"nothing").is_err());
    /// assert!(TlsConfig::builder().without_webpki_roots().build().is_err());
    /// let tls = TlsConfig::builder().versions(TlsVersions::Tls13).build()?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub type TlsConfigBuilder = shared::TlsConfigBuilder<Error>;

    /// A bad TLS configuration or server name is an [`Error::Tls`] without a reply.
    impl From<shared::TlsConfigError> for Error {
        fn from(e: shared::TlsConfigError) -> Error {
            Error::Tls {
                source: e.into(),
                reply: None,
            }
        }
    }

    /// A session's TLS side (the shared [`shared::TlsContext`]: one session store, the server
    /// name, the counters), used by the control and data connections.
    #[derive(Clone, Debug)]
    pub(crate) struct TlsContext(shared::TlsContext);

    impl TlsContext {
        /// `host`: DNS name or IP address (brackets allowed), checked against the certificate.
        pub(crate) fn new(tls: &TlsConfig, host: &str) -> Result<TlsContext, Error> {
            Ok(TlsContext(shared::TlsContext::new(tls, host)?))
        }

        /// Starts TLS on `sock` (the ClientHello goes out as soon as the socket allows).
        pub(crate) fn start(&self, sock: &mut Sock) -> io::Result<()> {
            let mut layer = Box::new(Layer {
                conn: self.0.client()?,
                close_sent: false,
                write_shut: false,
            });
            flush_nb(&mut layer.conn, &mut sock.tcp)?;
            sock.tls = Some(layer);
            Ok(())
        }

        /// Counts a data connection whose handshake completed.
        pub(crate) fn count_data(&mut self, sock: &Sock) {
            if let Some(layer) = &sock.tls {
                self.0.count_data_handshake(&layer.conn);
            }
        }

        /// What was negotiated, given the control connection's TLS version.
        pub(crate) fn info(&self, protocol_version: Option<rustls::ProtocolVersion>) -> TlsInfo {
            self.0.info(protocol_version)
        }
    }

    impl Sock {
        /// Whether a TLS handshake is still running.
        pub(crate) fn is_handshaking(&self) -> bool {
            self.tls.as_ref().is_some_and(|l| l.conn.is_handshaking())
        }

        /// Moves a running handshake on; `Ok(true)` once it is done (or there is none).
        pub(crate) fn drive_handshake(&mut self) -> io::Result<bool> {
            match self.tls.as_mut() {
                Some(layer) => {
                    drive_handshake(&mut layer.conn, &mut self.tcp)?;
                    Ok(!layer.conn.is_handshaking())
                }
                None => Ok(true),
            }
        }

        /// The negotiated TLS version.
        pub(crate) fn protocol_version(&self) -> Option<rustls::ProtocolVersion> {
            self.tls.as_ref().and_then(|l| l.conn.protocol_version())
        }

        /// One step of the `CCC` shutdown (RFC 4217 §6): `close_notify`, then wait for the
        /// server's; `Ok(true)` when the socket is clear again.
        pub(crate) fn downgrade_step(&mut self) -> io::Result<bool> {
            let Some(layer) = self.tls.as_mut() else {
                return Ok(true);
            };
            if !layer.close_sent {
                layer.conn.send_close_notify();
                layer.close_sent = true;
            }
            if !flush_nb(&mut layer.conn, &mut self.tcp)? {
                return Ok(false);
            }
            let mut scratch = [0u8; 512];
            loop {
                match super::tls_read(&mut layer.conn, &mut self.tcp, &mut scratch) {
                    Ok(0) => break,
                    Ok(_) => {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "data on the control connection during the CCC shutdown",
                        ))
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            self.tls = None;
            Ok(true)
        }
    }

    /// Whether `e` came out of rustls.
    pub(crate) fn is_tls_io_error(e: &io::Error) -> bool {
        e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>())
    }
}

#[cfg(feature = "tls")]
mod api {
    use std::net::SocketAddr;

    use ftp_sansio::command::ProtLevel;
    use ftp_sansio::session::{Config, Operation};

    use super::{TlsConfig, TlsContext, TlsInfo};
    use crate::{Error, OpId, SessionId, Sessions};

    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    impl Sessions {
        /// Implicit FTPS: like [`connect`](Sessions::connect), but TLS runs from the first
        /// byte (the greeting included), verifying the certificate for `server_name` (a DNS
        /// name or an IP address). Queue [`login`](Sessions::login) and
        /// [`prot_p`](Sessions::prot_p) next. A failed handshake fails the greeting's
        /// operation with [`Error::Tls`] and closes the session.
        ///
        /// ```no_run
        /// use ftp_mio::{tls::TlsConfig, Sessions};
        /// # let poll = mio::Poll::new().unwrap();
        /// let mut ftp = Sessions::new(poll.registry(), mio::Token(0), 4).unwrap();
        /// let addr = "192.0.2.7:990".parse().unwrap();
        /// let (s, _greeting) = ftp.connect_implicit_tls(addr, Default::default(), "ftp.example.com", &TlsConfig::new())?;
        /// ftp.login(s, "alice", "secret")?;
        /// ftp.prot_p(s)?;
        /// # Ok::<(), ftp_mio::Error>(())
        /// ```
        pub fn connect_implicit_tls(
            &mut self,
            addr: SocketAddr,
            config: Config,
            server_name: &str,
            tls: &TlsConfig,
        ) -> Result<(SessionId, OpId), Error> {
            let ctx = TlsContext::new(tls, server_name)?;
            self.connect_with(addr, config, Some(ctx))
        }

        /// Explicit FTPS: queues `AUTH TLS`; on `234` the control connection's handshake
        /// runs, verifying the certificate for `server_name` (the name data connections use
        /// too). Queue the login after it: it then goes over TLS. A refusal or a failed
        /// handshake completes this operation with [`Error::Tls`] and **closes the session**,
        /// so what was queued behind it fails and nothing goes out in clear text.
        ///
        /// ```no_run
        /// use ftp_mio::{tls::TlsConfig, Sessions};
        /// # let poll = mio::Poll::new().unwrap();
        /// let mut ftp = Sessions::new(poll.registry(), mio::Token(0), 4).unwrap();
        /// let (s, _greeting) = ftp.connect("192.0.2.7:21".parse().unwrap(), Default::default())?;
        /// ftp.auth_tls(s, "ftp.example.com", &TlsConfig::new())?;
        /// ftp.login(s, "alice", "secret")?;
        /// ftp.prot_p(s)?;
        /// # Ok::<(), ftp_mio::Error>(())
        /// ```
        pub fn auth_tls(
            &mut self,
            session: SessionId,
            server_name: &str,
            tls: &TlsConfig,
        ) -> Result<OpId, Error> {
            let ctx = TlsContext::new(tls, server_name)?;
            self.conn_mut(session)?.tls = Some(ctx);
            self.enqueue(session, Operation::AuthTls, None)
        }

        /// `PBSZ 0` + `PROT P`: from then on data connections run TLS, resuming the control
        /// connection's session. Fails at once ([`Error::Tls`]) on a session without FTPS.
        ///
        /// ```no_run
        /// # let poll = mio::Poll::new().unwrap();
        /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
        /// # let session: ftp_mio::SessionId = todo!();
        /// ftp.prot_p(session)?;
        /// # Ok::<(), ftp_mio::Error>(())
        /// ```
        pub fn prot_p(&mut self, session: SessionId) -> Result<OpId, Error> {
            if self.conn_ref(session)?.tls.is_none() {
                return Err(Error::Tls {
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "PROT P needs FTPS: auth_tls or connect_implicit_tls first",
                    ),
                    reply: None,
                });
            }
            self.enqueue(session, Operation::Protect(ProtLevel::Private), None)
        }

        /// `PBSZ 0` + `PROT C`: data connections in clear text again.
        ///
        /// ```no_run
        /// # let poll = mio::Poll::new().unwrap();
        /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
        /// # let session: ftp_mio::SessionId = todo!();
        /// ftp.prot_c(session)?;
        /// # Ok::<(), ftp_mio::Error>(())
        /// ```
        pub fn prot_c(&mut self, session: SessionId) -> Result<OpId, Error> {
            self.enqueue(session, Operation::Protect(ProtLevel::Clear), None)
        }

        /// `CCC` (RFC 4217 §6): after `200` the control connection's TLS is shut down and
        /// commands go on in clear text; data connections keep following `PROT`.
        ///
        /// ```no_run
        /// # let poll = mio::Poll::new().unwrap();
        /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
        /// # let session: ftp_mio::SessionId = todo!();
        /// ftp.ccc(session)?;
        /// # Ok::<(), ftp_mio::Error>(())
        /// ```
        pub fn ccc(&mut self, session: SessionId) -> Result<OpId, Error> {
            self.enqueue(session, Operation::Ccc, None)
        }

        /// What TLS negotiated on a session (`None` without FTPS or for an unknown session).
        ///
        /// ```no_run
        /// # let poll = mio::Poll::new().unwrap();
        /// # let ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
        /// # let session: ftp_mio::SessionId = todo!();
        /// if let Some(info) = ftp.tls_info(session) {
        ///     println!("{:?}, {} of {} data connections resumed",
        ///         info.protocol_version, info.data_resumed, info.data_handshakes);
        /// }
        /// ```
        pub fn tls_info(&self, session: SessionId) -> Option<TlsInfo> {
            let conn = self.conn_ref(session).ok()?;
            let ctx = conn.tls.as_ref()?;
            Some(ctx.info(conn.control_tls_version()))
        }
    }
}
