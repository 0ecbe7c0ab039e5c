//! Data connections: where the bytes of a transfer come from or go to ([`DataEnd`]), and the
//! non-blocking pumps that move them between the socket and that end with bounded buffers.

use std::fmt;
use std::io::{self, Read, Write};

use ftp_sansio::ascii::{CrlfToLf, LfToCrlf};
use ftp_sansio::session::{DataFailure, Direction};

use crate::tls::Sock;
use crate::Error;

/// The local end of a transfer: a sink for downloads, a source for uploads, or a buffer the
/// driver fills and hands back in [`Completion::data`](crate::Completion::data).
///
/// Sinks are any [`std::io::Write`] and sources any [`std::io::Read`]. Both may push back:
///
/// - a sink's `write` may take fewer bytes than offered (the rest is offered again), or
///   return an error of kind [`io::ErrorKind::WouldBlock`]: the driver then stops reading
///   the data socket (so the server's sending slows down through TCP flow control) until
///   [`Sessions::resume`](crate::Sessions::resume) is called. At the end of the data the
///   sink is `flush`ed (which may also return `WouldBlock`).
/// - a source's `read` may return `WouldBlock`: the driver stops writing until `resume`.
///   `Ok(0)` is the end of the upload.
///
/// Any other error stops the transfer with [`Error::Local`]. At most one buffer of
/// [`Options::data_buffer`](crate::Options::data_buffer) bytes (twice that in ASCII mode) is
/// held per session, however slow either side is. A pause counts as a data connection
/// without progress: one longer than
/// [`Config::data_timeout`](ftp_sansio::session::Config::data_timeout) fails the transfer with
/// [`OpError::Timeout`](ftp_sansio::session::OpError::Timeout).
///
/// ```
/// use ftp_mio::DataEnd;
/// let file_sink = DataEnd::sink(std::io::sink());
/// let upload = DataEnd::source(std::io::Cursor::new(b"hello".to_vec()));
/// let listing = DataEnd::buffer(1 << 20); // at most 1 MiB, else Error::BufferFull
/// assert!(file_sink.is_download() && listing.is_download() && !upload.is_download());
/// ```
pub struct DataEnd {
    pub(crate) kind: EndKind,
}

pub(crate) enum EndKind {
    Sink(Box<dyn Write>),
    Buffer { data: Vec<u8>, limit: usize },
    Source(Box<dyn Read>),
}

impl fmt::Debug for DataEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            EndKind::Sink(_) => f.write_str("DataEnd::Sink"),
            EndKind::Buffer { data, limit } => f
                .debug_struct("DataEnd::Buffer")
                .field("len", &data.len())
                .field("limit", limit)
                .finish(),
            EndKind::Source(_) => f.write_str("DataEnd::Source"),
        }
    }
}

impl DataEnd {
    /// Downloaded bytes go to `sink` (see the type docs for backpressure).
    ///
    /// ```
    /// let end = ftp_mio::DataEnd::sink(Vec::new());
    /// assert!(end.is_download());
    /// ```
    pub fn sink(sink: impl Write + 'static) -> DataEnd {
        DataEnd {
            kind: EndKind::Sink(Box::new(sink)),
        }
    }

    /// Downloaded bytes are collected (at most `limit`; more fails the transfer with
    /// [`Error::BufferFull`]) and returned in [`Completion::data`](crate::Completion::data).
    ///
    /// ```
    /// let end = ftp_mio::DataEnd::buffer(4096);
    /// assert!(end.is_download());
    /// ```
    pub fn buffer(limit: usize) -> DataEnd {
        DataEnd {
            kind: EndKind::Buffer {
                data: Vec::new(),
                limit,
            },
        }
    }

    /// Uploaded bytes come from `source` (see the type docs for backpressure).
    ///
    /// ```
    /// let end = ftp_mio::DataEnd::source(&b"contents"[..]);
    /// assert!(!end.is_download());
    /// ```
    pub fn source(source: impl Read + 'static) -> DataEnd {
        DataEnd {
            kind: EndKind::Source(Box::new(source)),
        }
    }

    /// Whether this end receives data (sink or buffer) rather than sending it.
    ///
    /// ```
    /// assert!(!ftp_mio::DataEnd::source(std::io::empty()).is_download());
    /// ```
    pub fn is_download(&self) -> bool {
        !matches!(self.kind, EndKind::Source(_))
    }

    /// The collected bytes of a buffer end.
    pub(crate) fn into_buffer(self) -> Option<Vec<u8>> {
        match self.kind {
            EndKind::Buffer { data, .. } => Some(data),
            _ => None,
        }
    }

    /// Offers downloaded bytes.
    fn offer(&mut self, data: &[u8]) -> Offer {
        loop {
            let r = match &mut self.kind {
                EndKind::Sink(w) => w.write(data),
                EndKind::Buffer { data: buf, limit } => {
                    if buf.len().saturating_add(data.len()) > *limit {
                        return Offer::Fail(Error::BufferFull { limit: *limit });
                    }
                    buf.extend_from_slice(data);
                    Ok(data.len())
                }
                EndKind::Source(_) => return Offer::Fail(wrong_direction()),
            };
            return match r {
                Ok(0) if !data.is_empty() => {
                    Offer::Fail(Error::Local(io::ErrorKind::WriteZero.into()))
                }
                Ok(n) => Offer::Took(n.min(data.len())),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Offer::Later,
                Err(e) => Offer::Fail(Error::Local(e)),
            };
        }
    }

    /// Flushes a sink at the end of a download.
    fn flush(&mut self) -> Offer {
        loop {
            let r = match &mut self.kind {
                EndKind::Sink(w) => w.flush(),
                _ => Ok(()),
            };
            return match r {
                Ok(()) => Offer::Took(0),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Offer::Later,
                Err(e) => Offer::Fail(Error::Local(e)),
            };
        }
    }

    /// Reads bytes to upload.
    fn fill(&mut self, buf: &mut [u8]) -> Offer {
        loop {
            let r = match &mut self.kind {
                EndKind::Source(r) => r.read(buf),
                _ => return Offer::Fail(wrong_direction()),
            };
            return match r {
                Ok(n) => Offer::Took(n.min(buf.len())),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Offer::Later,
                Err(e) => Offer::Fail(Error::Local(e)),
            };
        }
    }
}

fn wrong_direction() -> Error {
    Error::Local(io::Error::new(
        io::ErrorKind::InvalidInput,
        "the transfer's direction does not match its data end",
    ))
}

/// What a sink or source did with an offer.
enum Offer {
    Took(usize),
    Later,
    Fail(Error),
}

/// Why a pump stopped.
#[derive(Debug)]
pub(crate) enum Pumped {
    /// The socket would block: wait for its next readiness event.
    Blocked,
    /// The sink or source would block: wait for [`Sessions::resume`](crate::Sessions::resume).
    Paused,
    /// The fairness budget is spent: continue later without waiting for an event.
    Budget,
    /// All data moved (download: EOF seen and the sink flushed; upload: source exhausted,
    /// everything written and the write side shut down).
    Finished,
    /// The socket failed (`None`) or the local end failed (`Some`).
    Failed(DataFailure, Option<Error>),
}

/// How to classify a data socket error for the core.
pub(crate) fn failure_kind(e: &io::Error) -> DataFailure {
    DataFailure::from_io(e)
}

/// The state of one transfer's byte stream, with the session's reusable buffers.
#[derive(Default)]
pub(crate) struct Pump {
    direction: Option<Direction>,
    ascii: bool,
    /// Bytes as read from the socket or the source.
    raw: Vec<u8>,
    /// ASCII-converted bytes.
    conv: Vec<u8>,
    /// Pending bytes: `raw[start..end]` or `conv[start..end]`.
    start: usize,
    end: usize,
    in_conv: bool,
    down: CrlfToLf,
    up: LfToCrlf,
    /// Bytes on the wire so far.
    pub(crate) bytes: u64,
    /// `bytes` as last reported to the core.
    pub(crate) reported: u64,
    /// Download: the socket hit EOF; upload: the source did.
    eof: bool,
    /// Download in ASCII: the converter's held-back byte was released.
    tail_done: bool,
}

impl Pump {
    /// Resets for a new transfer, keeping the buffers' allocations.
    /// Stops moving data (an abort or a local failure): the connection stays open until
    /// the session asks for [`DataIntent::Close`](ftp_sansio::session::DataIntent::Close).
    pub(crate) fn halt(&mut self) {
        self.direction = None;
    }

    pub(crate) fn begin(&mut self, direction: Direction, ascii: bool, buffer: usize) {
        self.direction = Some(direction);
        self.ascii = ascii;
        let size = buffer.max(512);
        if self.raw.len() != size {
            self.raw = vec![0; size];
        }
        self.conv.clear();
        self.start = 0;
        self.end = 0;
        self.in_conv = false;
        self.down = CrlfToLf::new();
        self.up = LfToCrlf::new();
        self.bytes = 0;
        self.reported = 0;
        self.eof = false;
        self.tail_done = false;
    }

    fn pending(&self) -> &[u8] {
        if self.in_conv {
            &self.conv[self.start..self.end]
        } else {
            &self.raw[self.start..self.end]
        }
    }

    /// Moves data in the pump's direction until something would block, the transfer ends,
    /// or `budget` bytes were moved on the socket.
    pub(crate) fn run(&mut self, stream: &mut Sock, end: &mut DataEnd, budget: usize) -> Pumped {
        match self.direction {
            Some(Direction::Download) => self.download(stream, end, budget),
            Some(Direction::Upload) => self.upload(stream, end, budget),
            None => Pumped::Blocked,
        }
    }

    fn download(&mut self, stream: &mut Sock, end: &mut DataEnd, budget: usize) -> Pumped {
        let mut moved = 0usize;
        loop {
            while self.start < self.end {
                match end.offer(self.pending()) {
                    Offer::Took(n) => self.start += n,
                    Offer::Later => return Pumped::Paused,
                    Offer::Fail(e) => return Pumped::Failed(DataFailure::Local, Some(e)),
                }
            }
            if self.eof {
                if self.ascii && !self.tail_done {
                    self.tail_done = true;
                    self.conv.clear();
                    self.down.finish(&mut self.conv);
                    self.in_conv = true;
                    self.start = 0;
                    self.end = self.conv.len();
                    continue;
                }
                return match end.flush() {
                    Offer::Took(_) => Pumped::Finished,
                    Offer::Later => Pumped::Paused,
                    Offer::Fail(e) => Pumped::Failed(DataFailure::Local, Some(e)),
                };
            }
            if moved >= budget {
                return Pumped::Budget;
            }
            match stream.read(&mut self.raw) {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    self.bytes += n as u64;
                    moved += n;
                    self.start = 0;
                    if self.ascii {
                        self.conv.clear();
                        self.down.push(&self.raw[..n], &mut self.conv);
                        self.in_conv = true;
                        self.end = self.conv.len();
                    } else {
                        self.in_conv = false;
                        self.end = n;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Pumped::Blocked,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Pumped::Failed(failure_kind(&e), None),
            }
        }
    }

    fn upload(&mut self, stream: &mut Sock, end: &mut DataEnd, budget: usize) -> Pumped {
        let mut moved = 0usize;
        loop {
            while self.start < self.end {
                match stream.write(self.pending()) {
                    Ok(0) => return Pumped::Failed(DataFailure::Reset, None),
                    Ok(n) => {
                        self.start += n;
                        self.bytes += n as u64;
                        moved += n;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Pumped::Blocked,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Pumped::Failed(failure_kind(&e), None),
                }
            }
            if self.eof {
                // Clear: shut the write side down. TLS: close_notify, then read to the end.
                return match stream.finish_upload() {
                    Ok(true) => Pumped::Finished,
                    Ok(false) => Pumped::Blocked,
                    Err(e) => Pumped::Failed(failure_kind(&e), None),
                };
            }
            if moved >= budget {
                return Pumped::Budget;
            }
            match end.fill(&mut self.raw) {
                Offer::Took(0) => self.eof = true,
                Offer::Took(n) => {
                    self.start = 0;
                    if self.ascii {
                        self.conv.clear();
                        self.up.push(&self.raw[..n], &mut self.conv);
                        self.in_conv = true;
                        self.end = self.conv.len();
                    } else {
                        self.in_conv = false;
                        self.end = n;
                    }
                }
                Offer::Later => return Pumped::Paused,
                Offer::Fail(e) => return Pumped::Failed(DataFailure::Local, Some(e)),
            }
        }
    }
}
