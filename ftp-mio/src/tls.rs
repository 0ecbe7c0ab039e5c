//! FTPS (RFC 4217) for the mio driver: explicit (`AUTH TLS`), implicit (TLS from the first
//! byte) and protected data connections, over non-blocking sockets. The public items need the
//! `tls` cargo feature; without it a session that would need TLS fails with
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
//! The configuration (`TlsConfig`, `TlsConfigBuilder`, `TlsVersions`, `TlsInfo`,
//! `IMPLICIT_PORT`, re-exported here) and every TLS decision are ftp-sansio's, written once
//! for every driver: see `ftp_sansio::tls`. Certificates are verified against the webpki
//! roots by default; add roots with `TlsConfigBuilder::add_root_pem` or bring a whole
//! `rustls::ClientConfig` (`TlsConfig::from_rustls`). Every data connection of a session
//! resumes its control connection's TLS session (vsftpd and ProFTPD insist); TLS 1.2 is the
//! default. A bad configuration converts into [`Error::Tls`](crate::Error::Tls). What is this
//! driver's own is moving bytes between non-blocking sockets and the core's `TlsLayer`.
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
use ftp_sansio::tls::TlsLayer;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use with_tls::*;

/// A socket, clear or TLS; TLS is driven without blocking (the handshake runs inside
/// `read`/`write`, which return `WouldBlock` until it is done).
#[derive(Debug)]
pub(crate) struct Sock {
    pub(crate) tcp: TcpStream,
    #[cfg(feature = "tls")]
    tls: Option<Box<TlsLayer>>,
    /// After an upload's `close_notify` went out: the write side is shut down.
    #[cfg(feature = "tls")]
    write_shut: bool,
    /// After `CCC`: clear text that came right behind the server's `close_notify`, read
    /// before the socket.
    #[cfg(feature = "tls")]
    clear: Vec<u8>,
}

impl Sock {
    /// A clear socket.
    pub(crate) fn plain(tcp: TcpStream) -> Sock {
        Sock {
            tcp,
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(feature = "tls")]
            write_shut: false,
            #[cfg(feature = "tls")]
            clear: Vec::new(),
        }
    }

    /// Whether TLS runs on it.
    pub(crate) fn is_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        false
    }

    /// Ends an upload: clear, shut the write side down; TLS, `close_notify`, then the core's
    /// bounded drain. `Ok(false)`: would block, call again on the next readiness.
    pub(crate) fn finish_upload(&mut self) -> io::Result<bool> {
        #[cfg(feature = "tls")]
        if let Some(layer) = self.tls.as_mut() {
            layer.send_close_notify();
            if !self.write_shut {
                if !send(layer, &mut self.tcp)? {
                    return Ok(false);
                }
                let _ = self.tcp.shutdown(Shutdown::Write);
                self.write_shut = true;
            }
            // Errors no longer matter: the data went out.
            while !layer.drain().is_done() {
                match receive(layer, &mut self.tcp) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                    Err(_) => break,
                }
            }
            return Ok(true);
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
            layer.send_close_notify();
            let _ = send(layer, &mut self.tcp);
        }
    }
}

impl Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(feature = "tls")]
        {
            if let Some(layer) = self.tls.as_mut() {
                return read_plaintext(layer, &mut self.tcp, buf);
            }
            if !self.clear.is_empty() {
                let n = buf.len().min(self.clear.len());
                buf[..n].copy_from_slice(&self.clear[..n]);
                self.clear.drain(..n);
                return Ok(n);
            }
        }
        self.tcp.read(buf)
    }
}

impl Write for Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(layer) = self.tls.as_mut() {
            return write_plaintext(layer, &mut self.tcp, buf);
        }
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        #[cfg(feature = "tls")]
        if let Some(layer) = self.tls.as_mut() {
            return match send(layer, &mut self.tcp)? {
                true => Ok(()),
                false => Err(io::ErrorKind::WouldBlock.into()),
            };
        }
        self.tcp.flush()
    }
}

/// Writes the layer's ciphertext until none is left (`Ok(true)`) or the socket would block
/// (`Ok(false)`).
#[cfg(feature = "tls")]
fn send(layer: &mut TlsLayer, tcp: &mut TcpStream) -> io::Result<bool> {
    while layer.wants_write() {
        match tcp.write(layer.pending_output()) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => layer.consume_output(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Feeds the layer what one socket read brings (the end of the stream included);
/// `WouldBlock` when nothing is there. A TLS failure's alert is sent if the socket takes it.
#[cfg(feature = "tls")]
fn receive(layer: &mut TlsLayer, tcp: &mut TcpStream) -> io::Result<()> {
    let mut buf = [0u8; 16 * 1024];
    let fed = loop {
        match tcp.read(&mut buf) {
            Ok(0) => break layer.receive_eof(),
            Ok(n) => break layer.receive(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    fed.map_err(|e| failed(layer, tcp, e))
}

/// A TLS failure as an I/O error, after trying to send the alert.
#[cfg(feature = "tls")]
fn failed(layer: &mut TlsLayer, tcp: &mut TcpStream, e: ftp_sansio::tls::TlsError) -> io::Error {
    let _ = send(layer, tcp);
    e.into()
}

#[cfg(feature = "tls")]
fn read_plaintext(layer: &mut TlsLayer, tcp: &mut TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    use ftp_sansio::tls::Received;
    loop {
        send(layer, tcp)?;
        match layer.read(buf).map_err(|e| failed(layer, tcp, e))? {
            Received::Data(n) => return Ok(n),
            Received::PeerClosed => return Ok(0),
            Received::NeedCiphertext => receive(layer, tcp)?,
        }
    }
}

#[cfg(feature = "tls")]
fn write_plaintext(layer: &mut TlsLayer, tcp: &mut TcpStream, buf: &[u8]) -> io::Result<usize> {
    if layer.is_handshaking() {
        drive_handshake(layer, tcp)?;
        if layer.is_handshaking() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
    }
    // Never encrypt more than one write ahead of the socket.
    if !send(layer, tcp)? {
        return Err(io::ErrorKind::WouldBlock.into());
    }
    let n = layer.write(buf).map_err(|e| failed(layer, tcp, e))?;
    send(layer, tcp)?;
    Ok(n)
}

/// Moves the handshake on as far as the socket allows.
#[cfg(feature = "tls")]
fn drive_handshake(layer: &mut TlsLayer, tcp: &mut TcpStream) -> io::Result<()> {
    while layer.is_handshaking() {
        send(layer, tcp)?;
        match receive(layer, tcp) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    send(layer, tcp)?;
    Ok(())
}

#[cfg(feature = "tls")]
mod with_tls {
    use std::io;

    use ftp_sansio::tls::{self as core, Downgrade, TlsError};

    use super::{drive_handshake, failed, receive, send, Sock};
    use crate::Error;

    pub use ftp_sansio::tls::{
        rustls, TlsConfig, TlsConfigBuilder, TlsConfigError, TlsInfo, TlsVersions, IMPLICIT_PORT,
    };

    /// A bad TLS configuration or server name is an [`Error::Tls`] without a reply.
    ///
    /// ```
    /// use ftp_mio::{tls::TlsConfig, Error};
    /// let err = Error::from(TlsConfig::builder().add_root_pem(b"nothing").unwrap_err());
    /// assert!(matches!(err, Error::Tls { reply: None, .. }));
    /// ```
    impl From<TlsConfigError> for Error {
        fn from(e: TlsConfigError) -> Error {
            Error::Tls {
                source: e.into(),
                reply: None,
            }
        }
    }

    /// A session's TLS side (the core's [`core::TlsContext`]: one session store, the server
    /// name, the counters), used by the control and data connections.
    #[derive(Clone, Debug)]
    pub(crate) struct TlsContext(core::TlsContext);

    impl TlsContext {
        /// `host`: DNS name or IP address (brackets allowed), checked against the certificate.
        pub(crate) fn new(tls: &TlsConfig, host: &str) -> Result<TlsContext, Error> {
            Ok(TlsContext(core::TlsContext::new(tls, host)?))
        }

        /// Starts TLS on `sock` (the ClientHello goes out as soon as the socket allows).
        pub(crate) fn start(&self, sock: &mut Sock) -> io::Result<()> {
            let mut layer = Box::new(self.0.start()?);
            send(&mut layer, &mut sock.tcp)?;
            sock.tls = Some(layer);
            sock.write_shut = false;
            Ok(())
        }

        /// Counts a data connection whose handshake completed.
        pub(crate) fn count_data(&mut self, sock: &Sock) {
            if let Some(layer) = &sock.tls {
                self.0.count_data_handshake(layer);
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
            self.tls.as_ref().is_some_and(|l| l.is_handshaking())
        }

        /// Moves a running handshake on; `Ok(true)` once it is done (or there is none).
        pub(crate) fn drive_handshake(&mut self) -> io::Result<bool> {
            match self.tls.as_mut() {
                Some(layer) => {
                    drive_handshake(layer, &mut self.tcp)?;
                    Ok(!layer.is_handshaking())
                }
                None => Ok(true),
            }
        }

        /// The negotiated TLS version.
        pub(crate) fn protocol_version(&self) -> Option<rustls::ProtocolVersion> {
            self.tls
                .as_ref()
                .and_then(|l| l.connection().protocol_version())
        }

        /// One step of the `CCC` shutdown (RFC 4217 §6): `close_notify`, then wait for the
        /// server's; `Ok(true)` when the socket is clear again (the clear text that came
        /// right behind the server's `close_notify` is read first).
        pub(crate) fn downgrade_step(&mut self) -> io::Result<bool> {
            let Some(layer) = self.tls.as_mut() else {
                return Ok(true);
            };
            loop {
                match layer
                    .downgrade()
                    .map_err(|e| failed(layer, &mut self.tcp, e))?
                {
                    Downgrade::NeedCiphertext => {
                        send(layer, &mut self.tcp)?;
                        match receive(layer, &mut self.tcp) {
                            Ok(()) => {}
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                            Err(e) => return Err(e),
                        }
                    }
                    Downgrade::Done { cleartext } => {
                        // Kept at once: a later call hands back nothing more.
                        self.clear.extend_from_slice(&cleartext);
                        if !send(layer, &mut self.tcp)? {
                            return Ok(false);
                        }
                        self.tls = None;
                        return Ok(true);
                    }
                }
            }
        }
    }

    /// Whether `e` is a TLS failure (rather than a socket one).
    pub(crate) fn is_tls_io_error(e: &io::Error) -> bool {
        TlsError::of_io(e).is_some_and(TlsError::is_tls_failure)
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
            // The session refuses it when its turn comes before TLS runs (nothing is sent).
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
