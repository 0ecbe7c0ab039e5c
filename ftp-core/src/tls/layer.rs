//! The sans-IO TLS layer: a [`rustls::ClientConnection`] fed and drained through byte
//! slices, plus the FTPS teardown rules (bounded drain after an upload, the `CCC` shutdown).

use std::fmt;
use std::io::{self, Read as _, Write as _};
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};

use super::TlsError;

/// How much the peer may still send after our `close_notify` at the end of an upload before
/// [`TlsLayer::drain`] gives up waiting for its `close_notify` (1 MiB, counted in ciphertext
/// bytes received after ours was queued).
///
/// ```
/// assert_eq!(ftp_sansio::tls::DRAIN_LIMIT, 1 << 20);
/// ```
pub const DRAIN_LIMIT: usize = 1 << 20;

/// Ciphertext waiting to be sent above which [`TlsLayer::write`] accepts nothing more
/// (64 KiB): the driver sends [`TlsLayer::pending_output`] first.
///
/// ```
/// assert_eq!(ftp_sansio::tls::OUTPUT_LIMIT, 64 * 1024);
/// ```
pub const OUTPUT_LIMIT: usize = 64 * 1024;

/// Decrypted bytes the layer holds before it stops decrypting further records (rustls'
/// own limit on received plaintext).
const PLAINTEXT_LIMIT: usize = 16 * 1024;

/// A TLS record header: content type, version, length.
const HEADER: usize = 5;

/// What [`TlsLayer::read`] found.
///
/// ```
/// use ftp_sansio::tls::Received;
/// assert_ne!(Received::Data(0), Received::PeerClosed);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// This many plaintext bytes were copied into the buffer (0 only for an empty buffer).
    Data(usize),
    /// Nothing to read until more ciphertext arrives ([`TlsLayer::receive`]).
    NeedCiphertext,
    /// The peer's `close_notify` arrived and every byte before it was read: the end.
    PeerClosed,
}

/// How the drain after an upload stands ([`TlsLayer::drain`]).
///
/// ```
/// use ftp_sansio::tls::Drain;
/// assert!(Drain::LimitReached.is_done() && !Drain::NeedCiphertext.is_done());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Drain {
    /// Feed more ciphertext (or the end of the stream) and call again.
    NeedCiphertext,
    /// The peer answered with its `close_notify`: a clean end.
    PeerClosed,
    /// The stream ended (or failed) without the peer's `close_notify`.
    Ended,
    /// [`DRAIN_LIMIT`] bytes came after our `close_notify` without the peer's: stop reading.
    LimitReached,
}

impl Drain {
    /// Whether the drain is over (anything but [`Drain::NeedCiphertext`]): close the socket.
    ///
    /// ```
    /// assert!(ftp_sansio::tls::Drain::PeerClosed.is_done());
    /// ```
    pub fn is_done(self) -> bool {
        self != Drain::NeedCiphertext
    }
}

/// How the `CCC` shutdown stands ([`TlsLayer::downgrade`]).
///
/// ```
/// use ftp_sansio::tls::Downgrade;
/// let done = Downgrade::Done { cleartext: b"200 ok\r\n".to_vec() };
/// assert_ne!(done, Downgrade::NeedCiphertext);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Downgrade {
    /// Feed more ciphertext and call again.
    NeedCiphertext,
    /// The peer's `close_notify` arrived: send what [`TlsLayer::pending_output`] still holds
    /// (our `close_notify`), then the connection is clear. `cleartext`: the bytes that
    /// followed the peer's `close_notify` in what was fed, the first clear-text bytes of the
    /// connection (give them to the FTP session before anything read later).
    Done {
        /// Bytes received after the peer's `close_notify`.
        cleartext: Vec<u8>,
    },
}

/// One TLS client connection (control or data) without I/O: the driver moves bytes between
/// its socket and this layer, the layer decides everything else. Made by
/// [`TlsContext::start`](super::TlsContext::start).
///
/// - received ciphertext goes in with [`receive`](Self::receive) (the end of the stream with
///   [`receive_eof`](Self::receive_eof)); decrypted bytes come out of [`read`](Self::read);
/// - plaintext goes in with [`write`](Self::write); ciphertext to send comes out of
///   [`pending_output`](Self::pending_output), and [`consume_output`](Self::consume_output)
///   says how much the socket took;
/// - [`is_handshaking`](Self::is_handshaking), [`wants_write`](Self::wants_write),
///   [`connection`](Self::connection) tell where it stands;
/// - teardown: [`send_close_notify`](Self::send_close_notify) (after a download),
///   [`drain`](Self::drain) (after an upload, bounded by [`DRAIN_LIMIT`]),
///   [`downgrade`](Self::downgrade) (`CCC`).
///
/// Records are handed to rustls one at a time, so nothing after the peer's `close_notify`
/// is ever taken for TLS: after `CCC` those bytes are the clear-text control connection.
///
/// ```
/// use ftp_sansio::tls::{Received, TlsConfig, TlsContext};
/// let ctx = TlsContext::new(&TlsConfig::new(), "ftp.example.com")?;
/// let mut tls = ctx.start()?;
/// let hello = tls.pending_output().to_vec(); // a driver writes this to its socket...
/// tls.consume_output(hello.len());           // ...and says how much went out
/// assert!(!tls.wants_write() && tls.is_handshaking());
/// // ...and feeds what the socket receives:
/// //     tls.receive(&socket_bytes)?;
/// let mut buf = [0u8; 512];
/// assert_eq!(tls.read(&mut buf)?, Received::NeedCiphertext);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TlsLayer {
    conn: ClientConnection,
    /// Received bytes not yet handed to rustls; after the peer's `close_notify`, what
    /// followed it.
    incoming: Vec<u8>,
    in_pos: usize,
    /// Bytes of the record being handed over that rustls has not got yet (0: at a boundary).
    record_left: usize,
    /// Ciphertext to send, from `out_pos` on.
    outgoing: Vec<u8>,
    out_pos: usize,
    /// Decrypted bytes waiting in rustls.
    plaintext: usize,
    peer_closed: bool,
    eof: bool,
    close_sent: bool,
    /// Ciphertext bytes received since our `close_notify` was queued.
    after_close: usize,
    error: Option<TlsError>,
}

impl fmt::Debug for TlsLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsLayer")
            .field("handshaking", &self.conn.is_handshaking())
            .field("incoming", &(self.incoming.len() - self.in_pos))
            .field("outgoing", &(self.outgoing.len() - self.out_pos))
            .field("peer_closed", &self.peer_closed)
            .field("eof", &self.eof)
            .field("close_sent", &self.close_sent)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl TlsLayer {
    pub(super) fn new(
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<TlsLayer, TlsError> {
        let conn = ClientConnection::new(config, name)?;
        let mut layer = TlsLayer {
            conn,
            incoming: Vec::new(),
            in_pos: 0,
            record_left: 0,
            outgoing: Vec::new(),
            out_pos: 0,
            plaintext: 0,
            peer_closed: false,
            eof: false,
            close_sent: false,
            after_close: 0,
            error: None,
        };
        layer.collect_output();
        Ok(layer)
    }

    /// The rustls connection, to look at what was negotiated (protocol version, cipher
    /// suite, whether the session was resumed, the peer's certificates).
    ///
    /// ```
    /// use ftp_sansio::tls::{TlsConfig, TlsContext};
    /// let tls = TlsContext::new(&TlsConfig::new(), "localhost")?.start()?;
    /// assert_eq!(tls.connection().protocol_version(), None); // not negotiated yet
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connection(&self) -> &ClientConnection {
        &self.conn
    }

    /// Whether the handshake still runs (plaintext written meanwhile waits in the layer).
    ///
    /// ```
    /// use ftp_sansio::tls::{TlsConfig, TlsContext};
    /// assert!(TlsContext::new(&TlsConfig::new(), "localhost")?.start()?.is_handshaking());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// Whether ciphertext waits to be sent ([`pending_output`](Self::pending_output) is not
    /// empty).
    ///
    /// ```
    /// use ftp_sansio::tls::{TlsConfig, TlsContext};
    /// assert!(TlsContext::new(&TlsConfig::new(), "localhost")?.start()?.wants_write());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn wants_write(&self) -> bool {
        self.out_pos < self.outgoing.len()
    }

    /// Ciphertext to send, oldest first. Write (a prefix of) it to the socket and report how
    /// much went out with [`consume_output`](Self::consume_output).
    ///
    /// ```
    /// use ftp_sansio::tls::{TlsConfig, TlsContext};
    /// let tls = TlsContext::new(&TlsConfig::new(), "localhost")?.start()?;
    /// assert_eq!(tls.pending_output()[0], 22); // a handshake record: the ClientHello
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pending_output(&self) -> &[u8] {
        self.outgoing.get(self.out_pos..).unwrap_or_default()
    }

    /// Marks the first `n` bytes of [`pending_output`](Self::pending_output) as sent (more
    /// than there are counts as all).
    ///
    /// ```
    /// use ftp_sansio::tls::{TlsConfig, TlsContext};
    /// let mut tls = TlsContext::new(&TlsConfig::new(), "localhost")?.start()?;
    /// let len = tls.pending_output().len();
    /// tls.consume_output(1);
    /// assert_eq!(tls.pending_output().len(), len - 1);
    /// tls.consume_output(usize::MAX);
    /// assert!(!tls.wants_write());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn consume_output(&mut self, n: usize) {
        self.out_pos = self.out_pos.saturating_add(n).min(self.outgoing.len());
        if self.out_pos == self.outgoing.len() {
            self.outgoing.clear();
            self.out_pos = 0;
        }
    }

    /// Takes ciphertext received from the peer and decrypts what it can (handshake messages
    /// are answered in [`pending_output`](Self::pending_output)). A TLS failure (a bad
    /// certificate, a corrupt record, clear text where TLS was expected) is returned now and
    /// by every later call; the alert for the peer waits in `pending_output` (sending it is
    /// a courtesy). Bytes after the peer's `close_notify` are kept, not decrypted.
    ///
    /// ```
    /// use ftp_sansio::tls::{TlsConfig, TlsContext};
    /// let mut tls = TlsContext::new(&TlsConfig::new(), "localhost")?.start()?;
    /// let err = tls.receive(b"500 AUTH TLS not understood\r\n").unwrap_err();
    /// assert!(err.is_tls_failure());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn receive(&mut self, ciphertext: &[u8]) -> Result<(), TlsError> {
        self.check()?;
        if self.close_sent {
            self.after_close = self.after_close.saturating_add(ciphertext.len());
        }
        if self.in_pos > 0 && (self.in_pos == self.incoming.len() || self.in_pos >= 1 << 16) {
            self.incoming.drain(..self.in_pos);
            self.in_pos = 0;
        }
        self.incoming.extend_from_slice(ciphertext);
        self.process()?;
        Ok(())
    }

    /// The peer closed the connection (the socket read 0 bytes). During the handshake that
    /// is an error ([`TlsError::UnexpectedEof`]); otherwise [`read`](Self::read) reports the
    /// end once every byte before it was read.
    ///
    /// ```
    /// use ftp_sansio::tls::{TlsConfig, TlsContext, TlsError};
    /// let mut tls = TlsContext::new(&TlsConfig::new(), "localhost")?.start()?;
    /// assert!(matches!(tls.receive_eof(), Err(TlsError::UnexpectedEof)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn receive_eof(&mut self) -> Result<(), TlsError> {
        self.eof = true;
        self.check()?;
        if self.conn.is_handshaking() {
            return Err(TlsError::UnexpectedEof);
        }
        Ok(())
    }

    /// Copies decrypted bytes into `buf`. [`Received::PeerClosed`] once the peer's
    /// `close_notify` and everything before it were read; after
    /// [`receive_eof`](Self::receive_eof) without it, [`TlsError::UnexpectedEof`] (the data
    /// may have been cut short).
    ///
    /// ```
    /// use ftp_sansio::tls::{Received, TlsConfig, TlsContext};
    /// let mut tls = TlsContext::new(&TlsConfig::new(), "localhost")?.start()?;
    /// assert_eq!(tls.read(&mut [0u8; 64])?, Received::NeedCiphertext);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read(&mut self, buf: &mut [u8]) -> Result<Received, TlsError> {
        self.check()?;
        if buf.is_empty() {
            return Ok(Received::Data(0));
        }
        loop {
            match self.conn.reader().read(buf) {
                Ok(0) => return Ok(Received::PeerClosed),
                Ok(n) => {
                    self.plaintext = self.plaintext.saturating_sub(n);
                    return Ok(Received::Data(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(self.fail(TlsError::from_rustls_io(e))),
            }
            self.plaintext = 0;
            if !self.process()? {
                return if self.eof {
                    Err(TlsError::UnexpectedEof)
                } else {
                    Ok(Received::NeedCiphertext)
                };
            }
        }
    }

    /// Encrypts (a prefix of) `plaintext`; returns how many bytes were taken. Takes nothing
    /// (`Ok(0)`) while [`OUTPUT_LIMIT`] bytes wait in
    /// [`pending_output`](Self::pending_output): send them first. During the handshake the
    /// bytes wait in the layer until it completes. After
    /// [`send_close_notify`](Self::send_close_notify): [`TlsError::WriteAfterClose`].
    ///
    /// ```
    /// use ftp_sansio::tls::{TlsConfig, TlsContext};
    /// let mut tls = TlsContext::new(&TlsConfig::new(), "localhost")?.start()?;
    /// assert_eq!(tls.write(b"USER alice\r\n")?, 12); // sent once the handshake is done
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write(&mut self, plaintext: &[u8]) -> Result<usize, TlsError> {
        self.check()?;
        if self.close_sent {
            return Err(TlsError::WriteAfterClose);
        }
        let room = OUTPUT_LIMIT.saturating_sub(self.pending_output().len());
        let take = &plaintext[..plaintext.len().min(room)];
        let n = match self.conn.writer().write(take) {
            Ok(n) => n,
            Err(e) => return Err(self.fail(TlsError::from_rustls_io(e))),
        };
        self.collect_output();
        Ok(n)
    }

    /// Queues our `close_notify` (once; later calls do nothing): no more plaintext goes
    /// out. After a download this is all; after an upload go on with
    /// [`drain`](Self::drain).
    ///
    /// ```
    /// use ftp_sansio::tls::{TlsConfig, TlsContext};
    /// let mut tls = TlsContext::new(&TlsConfig::new(), "localhost")?.start()?;
    /// tls.send_close_notify();
    /// assert!(tls.write(b"more").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_close_notify(&mut self) {
        if self.close_sent {
            return;
        }
        self.close_sent = true;
        self.after_close = 0;
        self.conn.send_close_notify();
        self.collect_output();
    }

    /// The end of an upload: our `close_notify` (queued if it was not), then whatever the
    /// peer still sends is read and dropped (a TLS 1.3 session ticket among it is kept for
    /// the next data connection: vsftpd sends one then) until the peer's `close_notify`,
    /// the end of the stream, a failure, or [`DRAIN_LIMIT`] bytes: the drain is bounded,
    /// however long a peer keeps sending. Call after each [`receive`](Self::receive) /
    /// [`receive_eof`](Self::receive_eof) until [`Drain::is_done`]; errors do not matter any
    /// more (the data went out) and end the drain.
    ///
    /// ```
    /// use ftp_sansio::tls::{Drain, TlsConfig, TlsContext};
    /// let mut tls = TlsContext::new(&TlsConfig::new(), "localhost")?.start()?;
    /// assert_eq!(tls.drain(), Drain::NeedCiphertext);
    /// let _ = tls.receive_eof();
    /// assert_eq!(tls.drain(), Drain::Ended);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn drain(&mut self) -> Drain {
        self.send_close_notify();
        let mut scratch = [0u8; 4096];
        loop {
            match self.read(&mut scratch) {
                Ok(Received::Data(_)) => {}
                Ok(Received::PeerClosed) => return Drain::PeerClosed,
                Ok(Received::NeedCiphertext) => break,
                Err(_) => return Drain::Ended,
            }
        }
        if self.after_close >= DRAIN_LIMIT {
            Drain::LimitReached
        } else {
            Drain::NeedCiphertext
        }
    }

    /// The `CCC` shutdown of the control connection (RFC 4217 §6): our `close_notify`
    /// (queued if it was not), then wait for the peer's. Call after each
    /// [`receive`](Self::receive) until [`Downgrade::Done`], which hands back the clear
    /// text that followed the peer's `close_notify`. Plaintext before it
    /// ([`TlsError::DataDuringShutdown`]), a failure, or the end of the stream
    /// ([`TlsError::UnexpectedEof`]) are errors: the control connection is lost.
    ///
    /// ```
    /// use ftp_sansio::tls::{Downgrade, TlsConfig, TlsContext};
    /// let mut tls = TlsContext::new(&TlsConfig::new(), "localhost")?.start()?;
    /// assert_eq!(tls.downgrade()?, Downgrade::NeedCiphertext);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn downgrade(&mut self) -> Result<Downgrade, TlsError> {
        self.send_close_notify();
        let mut probe = [0u8; 256];
        match self.read(&mut probe)? {
            Received::Data(_) => Err(self.fail(TlsError::DataDuringShutdown)),
            Received::NeedCiphertext => Ok(Downgrade::NeedCiphertext),
            Received::PeerClosed => {
                let cleartext = self.incoming.split_off(self.in_pos);
                self.incoming.clear();
                self.in_pos = 0;
                Ok(Downgrade::Done { cleartext })
            }
        }
    }

    /// The stored failure, if one happened.
    fn check(&self) -> Result<(), TlsError> {
        match &self.error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Records a failure (every later call returns it) and queues rustls' alert.
    fn fail(&mut self, e: TlsError) -> TlsError {
        self.collect_output();
        self.error = Some(e.clone());
        e
    }

    /// Moves what rustls has to send into `outgoing`.
    fn collect_output(&mut self) {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut self.outgoing) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }

    /// Hands received bytes to rustls, never beyond the record being handed over, and
    /// processes each piece: stops at the peer's `close_notify` (what follows stays in
    /// `incoming`), when enough plaintext waits, or when the bytes run out. `Ok(true)` if
    /// anything was handed over.
    fn process(&mut self) -> Result<bool, TlsError> {
        let mut progressed = false;
        while !self.peer_closed && self.plaintext <= PLAINTEXT_LIMIT {
            let avail = &self.incoming[self.in_pos..];
            if self.record_left == 0 {
                let Some(header) = avail.get(..HEADER) else {
                    break;
                };
                if self.close_sent {
                    // rustls (0.23, debug builds) asserts when a record it cannot take
                    // makes it send a fatal alert after our close_notify: refuse a record
                    // that is not one here, without rustls. (A well-formed record that
                    // fails to decrypt still reaches it: rustls issue #959.)
                    if let Err(e) = plausible_header(header) {
                        return Err(self.fail(TlsError::Rustls(rustls::Error::InvalidMessage(e))));
                    }
                }
                self.record_left = HEADER + usize::from(u16::from_be_bytes([header[3], header[4]]));
            }
            let take = avail.len().min(self.record_left);
            if take == 0 {
                break;
            }
            let mut piece = &avail[..take];
            let mut fed = 0;
            while !piece.is_empty() {
                match self.conn.read_tls(&mut piece) {
                    Ok(0) => break,
                    Ok(n) => fed += n,
                    // Backpressure (rustls' buffers are full): try again after a read.
                    Err(e) if e.kind() == io::ErrorKind::Other => break,
                    Err(e) => return Err(self.fail(TlsError::from_rustls_io(e))),
                }
            }
            if fed == 0 {
                break;
            }
            progressed = true;
            self.in_pos += fed;
            self.record_left -= fed;
            match self.conn.process_new_packets() {
                Ok(state) => {
                    self.plaintext = state.plaintext_bytes_to_read();
                    self.peer_closed = state.peer_has_closed();
                }
                Err(e) => return Err(self.fail(TlsError::Rustls(e))),
            }
            self.collect_output();
        }
        Ok(progressed)
    }
}

/// The largest record payload rustls takes (16 KiB of data plus the expansion TLS 1.2
/// allows).
const MAX_RECORD: usize = 16 * 1024 + 2048;

/// Whether a record header can be a TLS record's: content type, version, length.
fn plausible_header(header: &[u8]) -> Result<(), rustls::InvalidMessage> {
    match header {
        [20..=23, 3, 0..=4, hi, lo] => {
            if usize::from(u16::from_be_bytes([*hi, *lo])) > MAX_RECORD {
                Err(rustls::InvalidMessage::MessageTooLarge)
            } else {
                Ok(())
            }
        }
        [20..=23, ..] => Err(rustls::InvalidMessage::UnknownProtocolVersion),
        _ => Err(rustls::InvalidMessage::InvalidContentType),
    }
}
