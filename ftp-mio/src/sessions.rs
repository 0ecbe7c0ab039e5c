//! [`Sessions`]: the public face of the driver.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::ops::Range;
use std::time::{Duration, Instant};

use ftp_sansio::session::{
    Config, ListPath, Operation, Outcome, Session, TransferKind, TransferRequest, UsageError,
};
use mio::event::Event;
use mio::{Registry, Token};

use crate::conn::{Conn, Queued, Shared};
use crate::{DataEnd, Error};

/// Identifies one session of a [`Sessions`]. Ids are never reused: an id whose session ended
/// gets [`Error::NoSuchSession`].
///
/// ```
/// # fn demo(id: ftp_mio::SessionId) {
/// println!("session {id}"); // e.g. "session 3.1" (slot 3, first use)
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId {
    slot: u32,
    generation: u32,
}

impl SessionId {
    /// The slot: sessions in slot `n` use the tokens `first + 3n .. first + 3n + 3`.
    ///
    /// ```
    /// # fn demo(id: ftp_mio::SessionId) {
    /// assert!(id.slot() < 1024);
    /// # }
    /// ```
    pub fn slot(self) -> usize {
        self.slot as usize
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.slot, self.generation)
    }
}

/// Identifies one operation; its [`Completion`] carries the same id. Unique within a
/// [`Sessions`].
///
/// ```
/// # fn demo(op: ftp_mio::OpId) {
/// println!("operation {op}");
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId(u64);

impl OpId {
    /// The number behind the id (increasing in the order operations were requested).
    ///
    /// ```
    /// # fn demo(a: ftp_mio::OpId, b: ftp_mio::OpId) {
    /// let first = a.get().min(b.get());
    /// # }
    /// ```
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The end of one operation, from [`Sessions::poll_completion`].
///
/// ```
/// use ftp_sansio::session::Outcome;
/// fn show(c: ftp_mio::Completion) {
///     match c.result {
///         Ok(Outcome::Transferred { bytes, .. }) => {
///             let listing = c.data.unwrap_or_default(); // for buffered downloads
///             println!("{} {}: {bytes} bytes, {} kept", c.session, c.op, listing.len());
///         }
///         Ok(other) => println!("{} {}: {other:?}", c.session, c.op),
///         Err(e) => println!("{} {} failed: {e}", c.session, c.op),
///     }
/// }
/// # let _ = show;
/// ```
#[derive(Debug)]
pub struct Completion {
    /// The session it ran on.
    pub session: SessionId,
    /// The id returned when it was requested.
    pub op: OpId,
    /// What the operation produced (the outcome types of `ftp-sansio`), or why it failed.
    pub result: Result<Outcome, Error>,
    /// For downloads into [`DataEnd::buffer`] (listings, [`Sessions::retrieve_to_vec`]):
    /// the bytes received, ASCII line ends already converted to `\n` for listings. Also
    /// given on failure (what arrived before it). `None` for other operations.
    pub data: Option<Vec<u8>>,
}

/// Tuning of a [`Sessions`].
///
/// ```
/// let options = ftp_mio::Options { data_buffer: 256 * 1024, ..Default::default() };
/// assert_eq!(options.fairness_budget, 1 << 20);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Bytes read from (or written to) a data socket in one call, and the most a session
    /// holds for a sink that pushes back (twice that for ASCII conversion). Default 64 KiB.
    pub data_buffer: usize,
    /// Bytes one session may move per readiness event before the others get their turn;
    /// the rest is moved from [`Sessions::handle_timeouts`] (and [`Sessions::poll_timeout`]
    /// returns zero meanwhile). Default 1 MiB.
    pub fairness_budget: usize,
    /// Limit of the buffered listings of [`Sessions::list`], [`Sessions::nlst`] and
    /// [`Sessions::mlsd`]. Default 64 MiB.
    pub listing_limit: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            data_buffer: 64 * 1024,
            fairness_budget: 1 << 20,
            listing_limit: 64 << 20,
        }
    }
}

/// Control reads per call (replies are small; this only bounds one `read`).
const CONTROL_READ: usize = 16 * 1024;

struct Slot {
    generation: u32,
    conn: Option<Box<Conn>>,
}

/// Many FTP sessions driven by the caller's [`mio::Poll`].
///
/// The caller owns the poll and its event loop. `Sessions` registers its sockets (one
/// control connection, at most one data connection and one listener per session) with tokens
/// from the range given to [`Sessions::new`], reacts to the events the caller hands it
/// ([`handle_event`](Sessions::handle_event)), and reports when it next needs attention
/// ([`poll_timeout`](Sessions::poll_timeout), [`handle_timeouts`](Sessions::handle_timeouts)).
/// Nothing blocks: connects are non-blocking, every socket is non-blocking, no thread is
/// spawned. Name resolution is the caller's (pass a [`SocketAddr`]).
///
/// Operations are requested with typed calls ([`login`](Sessions::login),
/// [`list`](Sessions::list), [`retrieve`](Sessions::retrieve), [`store`](Sessions::store),
/// ...), each returning an [`OpId`] at once. Each session runs its operations one after the
/// other in the order requested (FTP is sequential); sessions run side by side. A session
/// tells its core which queued operation comes next
/// ([`Session::prepare_next`](ftp_sansio::session::Session::prepare_next)): with
/// [`Config::pipeline_passive`] a queued download's `EPSV` then goes out behind the running
/// transfer's command, saving a round trip per file on servers that take it. Every
/// operation ends with exactly one [`Completion`], fetched with
/// [`poll_completion`](Sessions::poll_completion). A session whose control connection ends
/// (`QUIT`, a fatal error) completes its remaining operations with
/// [`UsageError::Closed`] and frees its slot.
///
/// ```no_run
/// use ftp_mio::core::{Config, Outcome};
/// use ftp_mio::Sessions;
/// use mio::{Events, Poll, Token};
/// use std::net::SocketAddr;
/// use std::time::Instant;
///
/// let server: SocketAddr = "192.0.2.7:21".parse()?;
/// let mut poll = Poll::new()?;
/// // tokens 100.. belong to the sessions; the caller keeps the others for itself
/// let mut ftp = Sessions::new(poll.registry(), Token(100), 8)?;
/// let mut waiting = Vec::new();
/// for name in ["a.txt", "b.txt"] {
///     // one session per file: the two downloads run side by side
///     let (s, _greeting) = ftp.connect(server, Config::default())?;
///     ftp.login(s, "anonymous", "")?;
///     waiting.push(ftp.retrieve_to_vec(s, name, 1 << 20)?);
///     ftp.quit(s)?;
/// }
///
/// let mut events = Events::with_capacity(64);
/// let mut files = Vec::new();
/// while !ftp.is_empty() {
///     poll.poll(&mut events, ftp.poll_timeout())?;
///     for event in events.iter() {
///         ftp.handle_event(event);
///     }
///     ftp.handle_timeouts();
///     while let Some(done) = ftp.poll_completion() {
///         let outcome = done.result?;
///         if waiting.contains(&done.op) {
///             assert!(matches!(outcome, Outcome::Transferred { .. }));
///             files.push(done.data.unwrap_or_default());
///         }
///     }
/// }
/// println!("{} files", files.len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Sessions {
    sh: Shared,
    first_token: usize,
    slots: Vec<Slot>,
    live: usize,
    next_op: u64,
}

impl fmt::Debug for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sessions")
            .field("tokens", &self.token_range())
            .field("live", &self.live)
            .field("completions", &self.sh.completions.len())
            .finish()
    }
}

impl Sessions {
    /// Room for `max_sessions` sessions on the poll `registry` belongs to (the registry is
    /// cloned and kept). They use the tokens `first_token .. first_token + 3 * max_sessions`
    /// ([`token_range`](Sessions::token_range)); the caller must not use those itself.
    ///
    /// ```
    /// let poll = mio::Poll::new().unwrap();
    /// let ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(10), 4).unwrap();
    /// assert_eq!(ftp.token_range(), 10..22);
    /// ```
    pub fn new(
        registry: &Registry,
        first_token: Token,
        max_sessions: usize,
    ) -> io::Result<Sessions> {
        Sessions::with_options(registry, first_token, max_sessions, Options::default())
    }

    /// [`Sessions::new`] with other [`Options`].
    ///
    /// ```
    /// let poll = mio::Poll::new().unwrap();
    /// let options = ftp_mio::Options { data_buffer: 1 << 18, ..Default::default() };
    /// let ftp = ftp_mio::Sessions::with_options(poll.registry(), mio::Token(0), 2, options);
    /// assert!(ftp.is_ok());
    /// ```
    pub fn with_options(
        registry: &Registry,
        first_token: Token,
        max_sessions: usize,
        options: Options,
    ) -> io::Result<Sessions> {
        let end = max_sessions
            .checked_mul(3)
            .and_then(|n| n.checked_add(first_token.0));
        if end.is_none() || max_sessions > u32::MAX as usize {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the token range overflows usize",
            ));
        }
        Ok(Sessions {
            sh: Shared {
                registry: registry.try_clone()?,
                options,
                completions: VecDeque::new(),
                ready: Vec::new(),
                scratch: vec![0; CONTROL_READ].into_boxed_slice(),
            },
            first_token: first_token.0,
            slots: (0..max_sessions)
                .map(|_| Slot {
                    generation: 0,
                    conn: None,
                })
                .collect(),
            live: 0,
            next_op: 0,
        })
    }

    /// The tokens this value may register sockets with.
    ///
    /// ```
    /// let poll = mio::Poll::new().unwrap();
    /// let ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// assert!(ftp.token_range().contains(&2));
    /// ```
    pub fn token_range(&self) -> Range<usize> {
        self.first_token..self.first_token + 3 * self.slots.len()
    }

    /// Whether `token` is one of this value's (see [`token_range`](Sessions::token_range)).
    ///
    /// ```
    /// let poll = mio::Poll::new().unwrap();
    /// let ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(5), 1).unwrap();
    /// assert!(ftp.owns(mio::Token(5)) && !ftp.owns(mio::Token(8)));
    /// ```
    pub fn owns(&self, token: Token) -> bool {
        self.token_range().contains(&token.0)
    }

    /// How many sessions are open.
    ///
    /// ```
    /// let poll = mio::Poll::new().unwrap();
    /// let ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// assert_eq!(ftp.len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no session is open and no completion waits to be polled: a loop running
    /// until this is true has seen everything end.
    ///
    /// ```
    /// let poll = mio::Poll::new().unwrap();
    /// let ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// assert!(ftp.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.live == 0 && self.sh.completions.is_empty()
    }

    /// Opens a session to `addr`: a non-blocking connect, then the greeting. Returns the
    /// session and the operation id of the greeting, whose completion carries
    /// [`Outcome::Greeting`] (or why the connect failed: [`Error::Io`], or a timeout after
    /// [`Config::reply_timeout`]). Operations may be requested at once; they wait for it.
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 4).unwrap();
    /// let config = ftp_sansio::session::Config { passive: false, ..Default::default() };
    /// let (session, greeting) = ftp.connect("127.0.0.1:2121".parse().unwrap(), config)?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn connect(
        &mut self,
        addr: SocketAddr,
        config: Config,
    ) -> Result<(SessionId, OpId), Error> {
        self.connect_with(addr, config, None)
    }

    /// [`connect`](Sessions::connect); with `implicit_tls`, TLS from the first byte.
    pub(crate) fn connect_with(
        &mut self,
        addr: SocketAddr,
        config: Config,
        implicit_tls: Option<crate::conn::TlsCtx>,
    ) -> Result<(SessionId, OpId), Error> {
        let Some(slot) = self.slots.iter().position(|s| s.conn.is_none()) else {
            return Err(Error::NoFreeSlot(self.slots.len()));
        };
        let generation = self.slots[slot].generation.wrapping_add(1);
        let id = SessionId {
            slot: slot as u32,
            generation,
        };
        let op = self.op_id();
        let base = self.first_token + 3 * slot;
        let tokens = [Token(base), Token(base + 1), Token(base + 2)];
        let conn = Conn::open(
            &mut self.sh,
            id,
            tokens,
            addr,
            config,
            op,
            Instant::now(),
            implicit_tls,
        )
        .map_err(Error::Io)?;
        self.slots[slot] = Slot {
            generation,
            conn: Some(Box::new(conn)),
        };
        self.live += 1;
        Ok((id, op))
    }

    /// Hands over a readiness event from the caller's poll. Returns `false` (doing nothing)
    /// for tokens that are not this value's. Events for sockets that are gone are ignored.
    ///
    /// ```no_run
    /// # let mut poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(100), 4).unwrap();
    /// # let mut events = mio::Events::with_capacity(64);
    /// for event in events.iter() {
    ///     if !ftp.handle_event(event) {
    ///         // one of the caller's own sockets
    ///     }
    /// }
    /// ```
    pub fn handle_event(&mut self, event: &Event) -> bool {
        let token = event.token().0;
        if !self.owns(event.token()) {
            return false;
        }
        let rel = token - self.first_token;
        let (slot, which) = (rel / 3, rel % 3);
        let now = Instant::now();
        if let Some(conn) = self.slots[slot].conn.as_mut() {
            conn.on_ready(&mut self.sh, which, now);
        }
        self.reap(slot);
        true
    }

    /// The earliest deadline of any session (reply, data connect/accept, data idle); `None`
    /// when nothing waits on time. Call [`handle_timeouts`](Sessions::handle_timeouts) once
    /// it passes. See also [`poll_timeout`](Sessions::poll_timeout), which also accounts for
    /// deferred work.
    ///
    /// ```
    /// let poll = mio::Poll::new().unwrap();
    /// let ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// assert_eq!(ftp.next_deadline(), None);
    /// ```
    pub fn next_deadline(&self) -> Option<Instant> {
        self.slots
            .iter()
            .filter_map(|s| s.conn.as_ref()?.core.poll_timeout())
            .min()
    }

    /// The timeout for the caller's next [`mio::Poll::poll`]: zero when some session has
    /// work deferred for fairness or a completion is waiting in
    /// [`poll_completion`](Sessions::poll_completion) (one may have been queued by a request
    /// call itself, e.g. an argument refused at once), else the time until
    /// [`next_deadline`](Sessions::next_deadline) (`None`: no deadline). A caller with
    /// deadlines of its own takes the minimum.
    ///
    /// Like every entry point of this driver it reads the clock itself ([`Instant::now`]):
    /// none takes the time as an argument. (The sans-IO core underneath takes it as an
    /// argument everywhere; this driver is where the clock is read.)
    ///
    /// ```
    /// let poll = mio::Poll::new().unwrap();
    /// let ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// assert_eq!(ftp.poll_timeout(), None);
    /// ```
    pub fn poll_timeout(&self) -> Option<Duration> {
        if !self.sh.ready.is_empty() || !self.sh.completions.is_empty() {
            return Some(Duration::ZERO);
        }
        self.next_deadline()
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Acts on every deadline that has passed (an operation may fail with a timeout) and
    /// continues data transfers deferred for fairness. Call it after each poll (it is cheap
    /// when nothing is due). Reads the clock itself, as every entry point does.
    ///
    /// ```
    /// let poll = mio::Poll::new().unwrap();
    /// let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// ftp.handle_timeouts();
    /// assert!(ftp.poll_completion().is_none());
    /// ```
    pub fn handle_timeouts(&mut self) {
        let now = Instant::now();
        for slot in std::mem::take(&mut self.sh.ready) {
            if let Some(conn) = self.slots[slot].conn.as_mut() {
                conn.continue_pump(&mut self.sh, now);
            }
            self.reap(slot);
        }
        for slot in 0..self.slots.len() {
            let Some(conn) = self.slots[slot].conn.as_mut() else {
                continue;
            };
            if conn.core.poll_timeout().is_some_and(|d| d <= now) {
                conn.on_timeout(&mut self.sh, now);
                self.reap(slot);
            }
        }
    }

    /// The next finished operation, oldest first.
    ///
    /// ```
    /// let poll = mio::Poll::new().unwrap();
    /// let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// assert!(ftp.poll_completion().is_none());
    /// ```
    pub fn poll_completion(&mut self) -> Option<Completion> {
        self.sh.completions.pop_front()
    }

    /// Continues a transfer whose sink or source returned `WouldBlock` (see [`DataEnd`]).
    /// Harmless when it is not paused.
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// // the consumer drained the sink's shared buffer: let the download go on
    /// ftp.resume(session)?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn resume(&mut self, session: SessionId) -> Result<(), Error> {
        let slot = self.slot_of(session)?;
        if let Some(conn) = self.slots[slot].conn.as_mut() {
            conn.resume(&mut self.sh, Instant::now());
        }
        self.reap(slot);
        Ok(())
    }

    /// Aborts the transfer in flight (`ABOR`, RFC 959 §4.1.3; the data connection is
    /// dropped at once): the transfer's operation then completes with
    /// [`Outcome::Aborted`], and its id is returned. When the session is idle, `ABOR` runs
    /// as an operation of its own, whose new id is returned. Other operations in flight are
    /// not abortable ([`UsageError::NotAbortable`]).
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// let get = ftp.retrieve(session, "huge.iso", std::io::sink())?;
    /// // ... later, from the event loop:
    /// assert_eq!(ftp.abort(session)?, get);
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn abort(&mut self, session: SessionId) -> Result<OpId, Error> {
        let slot = self.slot_of(session)?;
        let new_op = OpId(self.next_op);
        let conn = self.slots[slot].conn.as_mut().ok_or(Error::NoSuchSession)?;
        let op = conn.abort(&mut self.sh, Instant::now(), new_op)?;
        if op == new_op {
            self.next_op += 1;
        }
        self.reap(slot);
        Ok(op)
    }

    /// Drops the session at once (no `QUIT`): its sockets are closed and every operation it
    /// still had completes with [`UsageError::Closed`].
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.disconnect(session)?;
    /// assert!(ftp.session(session).is_none());
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn disconnect(&mut self, session: SessionId) -> Result<(), Error> {
        let slot = self.slot_of(session)?;
        if let Some(mut conn) = self.slots[slot].conn.take() {
            conn.shut(&mut self.sh, || Error::Usage(UsageError::Closed));
            self.live -= 1;
        }
        self.sh.ready.retain(|&s| s != slot);
        Ok(())
    }

    /// The protocol state of an open session (welcome message, features, idle or not);
    /// `None` once it ended.
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// if let Some(welcome) = ftp.session(session).and_then(|s| s.welcome()) {
    ///     println!("{welcome}");
    /// }
    /// ```
    pub fn session(&self, session: SessionId) -> Option<&Session> {
        let slot = self.slot_of(session).ok()?;
        self.slots[slot].conn.as_ref().map(|c| &c.core)
    }

    /// The operation a session runs now, if any (queued ones wait behind it).
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// let busy = ftp.current_op(session).is_some();
    /// ```
    pub fn current_op(&self, session: SessionId) -> Option<OpId> {
        let slot = self.slot_of(session).ok()?;
        self.slots[slot].conn.as_ref()?.current_op()
    }

    /// Bytes moved on the wire so far by the transfer the session runs now (`None` when it
    /// runs no transfer): for progress lines.
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// if let Some(bytes) = ftp.progress(session) {
    ///     eprint!("\r{bytes} bytes");
    /// }
    /// ```
    pub fn progress(&self, session: SessionId) -> Option<u64> {
        let slot = self.slot_of(session).ok()?;
        self.slots[slot].conn.as_ref()?.progress()
    }

    /// How many operations a session still has (running and queued); 0 for ended sessions.
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// if ftp.pending(session) < 2 { /* give it more work */ }
    /// ```
    pub fn pending(&self, session: SessionId) -> usize {
        let Ok(slot) = self.slot_of(session) else {
            return 0;
        };
        self.slots[slot]
            .conn
            .as_ref()
            .map_or(0, |c| c.queue.len() + usize::from(c.current_op().is_some()))
    }

    /// The local address of a session's control connection.
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// println!("from {}", ftp.local_addr(session)?);
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn local_addr(&self, session: SessionId) -> Result<SocketAddr, Error> {
        let slot = self.slot_of(session)?;
        let conn = self.slots[slot].conn.as_ref().ok_or(Error::NoSuchSession)?;
        conn.local_addr().map_err(Error::Io)
    }

    // ---------------------------------------------------------------------------------
    // Operations
    // ---------------------------------------------------------------------------------

    /// Requests any operation but a transfer (use [`transfer`](Sessions::transfer) for
    /// those): the typed calls below are shorthands for it. Arguments with CR, LF or NUL are
    /// refused when the operation's turn comes ([`Error::Usage`] in its completion).
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// use ftp_sansio::session::Operation;
    /// let op = ftp.start(session, Operation::Site(b"CHMOD 644 a.txt".to_vec()))?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn start(&mut self, session: SessionId, operation: Operation) -> Result<OpId, Error> {
        if matches!(operation, Operation::Transfer(_)) {
            return Err(Error::WrongDataEnd);
        }
        self.enqueue(session, operation, None)
    }

    /// Requests a transfer with its local end: a sink or buffer for downloads, a source for
    /// uploads ([`Error::WrongDataEnd`] otherwise). The completion carries
    /// [`Outcome::Transferred`] (bytes on the wire and the final reply).
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// use ftp_sansio::session::{TransferKind, TransferRequest};
    /// use ftp_mio::DataEnd;
    /// // resume a download at byte 1000, appending to a local file
    /// let file = std::fs::OpenOptions::new().append(true).open("big.bin").unwrap();
    /// let req = TransferRequest { kind: TransferKind::Retr(b"big.bin".to_vec()), ascii: false, rest: Some(1000) };
    /// let op = ftp.transfer(session, req, DataEnd::sink(file))?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn transfer(
        &mut self,
        session: SessionId,
        request: TransferRequest,
        end: DataEnd,
    ) -> Result<OpId, Error> {
        let download = request.kind.direction() == ftp_sansio::session::Direction::Download;
        if download != end.is_download() {
            return Err(Error::WrongDataEnd);
        }
        self.enqueue(session, Operation::Transfer(request), Some(end))
    }

    /// `USER`/`PASS` (an empty user means anonymous): [`Outcome::LoggedIn`].
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.login(session, "ftptest", "secret")?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn login(&mut self, session: SessionId, user: &str, password: &str) -> Result<OpId, Error> {
        self.start(
            session,
            Operation::Login {
                user: user.to_owned(),
                password: password.to_owned(),
                account: None,
            },
        )
    }

    /// `CWD path` (`..` becomes `CDUP`): [`Outcome::Done`].
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.cwd(session, "pub/releases")?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn cwd(&mut self, session: SessionId, path: impl AsRef<[u8]>) -> Result<OpId, Error> {
        self.start(session, Operation::Cwd(path.as_ref().to_vec()))
    }

    /// `PWD`: [`Outcome::Path`].
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.pwd(session)?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn pwd(&mut self, session: SessionId) -> Result<OpId, Error> {
        self.start(session, Operation::Pwd)
    }

    /// `MKD path`: [`Outcome::Path`] (the directory created).
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.mkd(session, "incoming/new")?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn mkd(&mut self, session: SessionId, path: impl AsRef<[u8]>) -> Result<OpId, Error> {
        self.start(session, Operation::Mkd(path.as_ref().to_vec()))
    }

    /// `RMD path`: [`Outcome::Done`].
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.rmd(session, "incoming/old")?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn rmd(&mut self, session: SessionId, path: impl AsRef<[u8]>) -> Result<OpId, Error> {
        self.start(session, Operation::Rmd(path.as_ref().to_vec()))
    }

    /// `DELE path`: [`Outcome::Done`].
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.delete(session, "tmp.txt")?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn delete(&mut self, session: SessionId, path: impl AsRef<[u8]>) -> Result<OpId, Error> {
        self.start(session, Operation::Dele(path.as_ref().to_vec()))
    }

    /// `RNFR from` + `RNTO to`: [`Outcome::Done`].
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.rename(session, "upload.part", "upload.bin")?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn rename(
        &mut self,
        session: SessionId,
        from: impl AsRef<[u8]>,
        to: impl AsRef<[u8]>,
    ) -> Result<OpId, Error> {
        let op = Operation::Rename {
            from: from.as_ref().to_vec(),
            to: to.as_ref().to_vec(),
        };
        self.start(session, op)
    }

    /// `SIZE path` (RFC 3659, binary type): [`Outcome::Size`].
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.size(session, "big.bin")?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn size(&mut self, session: SessionId, path: impl AsRef<[u8]>) -> Result<OpId, Error> {
        self.start(session, Operation::Size(path.as_ref().to_vec()))
    }

    /// `MDTM path` (RFC 3659): [`Outcome::Mtime`].
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.mdtm(session, "big.bin")?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn mdtm(&mut self, session: SessionId, path: impl AsRef<[u8]>) -> Result<OpId, Error> {
        self.start(session, Operation::Mdtm(path.as_ref().to_vec()))
    }

    /// `MLST [path]` (RFC 3659 §7): [`Outcome::Entry`], the fact line.
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.mlst(session, Some("big.bin"))?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn mlst(
        &mut self,
        session: SessionId,
        path: Option<impl AsRef<[u8]>>,
    ) -> Result<OpId, Error> {
        self.start(session, Operation::Mlst(path.map(|p| p.as_ref().to_vec())))
    }

    /// `FEAT` (RFC 2389): [`Outcome::Features`].
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.feat(session)?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn feat(&mut self, session: SessionId) -> Result<OpId, Error> {
        self.start(session, Operation::Feat)
    }

    /// `NOOP`: [`Outcome::Done`].
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.noop(session)?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn noop(&mut self, session: SessionId) -> Result<OpId, Error> {
        self.start(session, Operation::Noop)
    }

    /// A raw command line (ftplib's `sendcmd`): [`Outcome::Done`] with any positive final
    /// reply.
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.sendcmd(session, "SYST")?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn sendcmd(&mut self, session: SessionId, line: impl AsRef<[u8]>) -> Result<OpId, Error> {
        let op = Operation::Raw {
            line: line.as_ref().to_vec(),
            require_2xx: false,
        };
        self.start(session, op)
    }

    /// `QUIT`: [`Outcome::Closed`]; the session ends afterwards and its slot is freed.
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.quit(session)?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn quit(&mut self, session: SessionId) -> Result<OpId, Error> {
        self.start(session, Operation::Quit)
    }

    /// `LIST [path]` in ASCII mode into a buffer (at most [`Options::listing_limit`]
    /// bytes), returned with `\n` line ends in [`Completion::data`]; parse it with
    /// [`ftp_sansio::listing::parse_list`].
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.list(session, None)?;
    /// ftp.list(session, Some("pub"))?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn list(&mut self, session: SessionId, path: impl ListPath) -> Result<OpId, Error> {
        let kind = TransferKind::List(path.into_path());
        self.listing(session, kind)
    }

    /// `NLST [path]` into a buffer, as [`list`](Sessions::list) (one name per line; see
    /// [`ftp_sansio::listing::parse_nlst_line`]).
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.nlst(session, None)?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn nlst(&mut self, session: SessionId, path: impl ListPath) -> Result<OpId, Error> {
        let kind = TransferKind::Nlst(path.into_path());
        self.listing(session, kind)
    }

    /// `MLSD [path]` (RFC 3659 §7) into a buffer, as [`list`](Sessions::list) (parse with
    /// [`ftp_sansio::listing::parse_mlsx_line`]).
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.mlsd(session, Some("pub"))?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn mlsd(&mut self, session: SessionId, path: impl ListPath) -> Result<OpId, Error> {
        let kind = TransferKind::Mlsd(path.into_path());
        self.listing(session, kind)
    }

    /// `LIST [path]` in ASCII mode streamed into `sink` (`\n` line ends), for listings too
    /// big to buffer.
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// let out = std::fs::File::create("listing.txt").unwrap();
    /// ftp.list_into(session, Some("/"), out)?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn list_into(
        &mut self,
        session: SessionId,
        path: impl ListPath,
        sink: impl io::Write + 'static,
    ) -> Result<OpId, Error> {
        let request = TransferRequest {
            kind: TransferKind::List(path.into_path()),
            ascii: true,
            rest: None,
        };
        self.transfer(session, request, DataEnd::sink(sink))
    }

    fn listing(&mut self, session: SessionId, kind: TransferKind) -> Result<OpId, Error> {
        let request = TransferRequest {
            kind,
            ascii: true,
            rest: None,
        };
        let limit = self.sh.options.listing_limit;
        self.transfer(session, request, DataEnd::buffer(limit))
    }

    /// `RETR path` in binary mode into `sink` (ftplib's `retrbinary`); see [`DataEnd`] for
    /// backpressure. [`Outcome::Transferred`] when done.
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// let file = std::fs::File::create("big.bin").unwrap();
    /// ftp.retrieve(session, "big.bin", file)?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn retrieve(
        &mut self,
        session: SessionId,
        path: impl AsRef<[u8]>,
        sink: impl io::Write + 'static,
    ) -> Result<OpId, Error> {
        let request = TransferRequest {
            kind: TransferKind::Retr(path.as_ref().to_vec()),
            ascii: false,
            rest: None,
        };
        self.transfer(session, request, DataEnd::sink(sink))
    }

    /// Resumes a download: `REST offset` + `RETR path` in binary mode, the bytes from
    /// `offset` on going to `sink` (open your local file for appending at `offset`). The
    /// server's refusal of `REST` (a server without restart support) fails the operation
    /// with its reply; nothing is sent twice.
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// let have = std::fs::metadata("big.bin.part").map(|m| m.len()).unwrap_or(0);
    /// let file = std::fs::OpenOptions::new().append(true).create(true).open("big.bin.part").unwrap();
    /// ftp.retrieve_from(session, "big.bin", have, file)?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn retrieve_from(
        &mut self,
        session: SessionId,
        path: impl AsRef<[u8]>,
        offset: u64,
        sink: impl io::Write + 'static,
    ) -> Result<OpId, Error> {
        let request = TransferRequest {
            kind: TransferKind::Retr(path.as_ref().to_vec()),
            ascii: false,
            rest: (offset > 0).then_some(offset),
        };
        self.transfer(session, request, DataEnd::sink(sink))
    }

    /// `RETR path` in binary mode into a buffer of at most `limit` bytes (more fails with
    /// [`Error::BufferFull`]), returned in [`Completion::data`].
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.retrieve_to_vec(session, "README", 1 << 20)?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn retrieve_to_vec(
        &mut self,
        session: SessionId,
        path: impl AsRef<[u8]>,
        limit: usize,
    ) -> Result<OpId, Error> {
        let request = TransferRequest {
            kind: TransferKind::Retr(path.as_ref().to_vec()),
            ascii: false,
            rest: None,
        };
        self.transfer(session, request, DataEnd::buffer(limit))
    }

    /// `STOR path` in binary mode from `source` (ftplib's `storbinary`); see [`DataEnd`] for
    /// backpressure. [`Outcome::Transferred`] when done.
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.store(session, "hello.txt", std::io::Cursor::new(b"hello\n".to_vec()))?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn store(
        &mut self,
        session: SessionId,
        path: impl AsRef<[u8]>,
        source: impl io::Read + 'static,
    ) -> Result<OpId, Error> {
        let request = TransferRequest {
            kind: TransferKind::Stor(path.as_ref().to_vec()),
            ascii: false,
            rest: None,
        };
        self.transfer(session, request, DataEnd::source(source))
    }

    /// `APPE path` in binary mode from `source`: [`Outcome::Transferred`].
    ///
    /// ```no_run
    /// # let poll = mio::Poll::new().unwrap();
    /// # let mut ftp = ftp_mio::Sessions::new(poll.registry(), mio::Token(0), 1).unwrap();
    /// # let session: ftp_mio::SessionId = todo!();
    /// ftp.append(session, "log.txt", &b"one more line\n"[..])?;
    /// # Ok::<(), ftp_mio::Error>(())
    /// ```
    pub fn append(
        &mut self,
        session: SessionId,
        path: impl AsRef<[u8]>,
        source: impl io::Read + 'static,
    ) -> Result<OpId, Error> {
        let request = TransferRequest {
            kind: TransferKind::Appe(path.as_ref().to_vec()),
            ascii: false,
            rest: None,
        };
        self.transfer(session, request, DataEnd::source(source))
    }

    // ---------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------

    fn op_id(&mut self) -> OpId {
        let id = OpId(self.next_op);
        self.next_op += 1;
        id
    }

    fn slot_of(&self, session: SessionId) -> Result<usize, Error> {
        let slot = session.slot as usize;
        match self.slots.get(slot) {
            Some(s) if s.generation == session.generation && s.conn.is_some() => Ok(slot),
            _ => Err(Error::NoSuchSession),
        }
    }

    /// The session's connection (FTPS set-up in `tls.rs`).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) fn conn_mut(&mut self, session: SessionId) -> Result<&mut Conn, Error> {
        let slot = self.slot_of(session)?;
        self.slots[slot]
            .conn
            .as_deref_mut()
            .ok_or(Error::NoSuchSession)
    }

    /// The session's connection (FTPS state in `tls.rs`).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) fn conn_ref(&self, session: SessionId) -> Result<&Conn, Error> {
        let slot = self.slot_of(session)?;
        self.slots[slot].conn.as_deref().ok_or(Error::NoSuchSession)
    }

    pub(crate) fn enqueue(
        &mut self,
        session: SessionId,
        operation: Operation,
        end: Option<DataEnd>,
    ) -> Result<OpId, Error> {
        let slot = self.slot_of(session)?;
        let op = self.op_id();
        let conn = self.slots[slot].conn.as_mut().ok_or(Error::NoSuchSession)?;
        conn.queue.push_back(Queued { op, operation, end });
        conn.drive(&mut self.sh, Instant::now());
        self.reap(slot);
        Ok(op)
    }

    /// Frees the slot of a session that ended.
    fn reap(&mut self, slot: usize) {
        let finished = self.slots[slot]
            .conn
            .as_ref()
            .is_some_and(|c| c.is_finished());
        if finished {
            if let Some(mut conn) = self.slots[slot].conn.take() {
                conn.release(&mut self.sh);
                self.live -= 1;
                self.sh.ready.retain(|&s| s != slot);
            }
        }
    }
}

impl Drop for Sessions {
    fn drop(&mut self) {
        for slot in &mut self.slots {
            if let Some(mut conn) = slot.conn.take() {
                conn.release(&mut self.sh);
            }
        }
    }
}
