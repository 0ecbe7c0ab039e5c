//! [`DataStream`]: a data connection handed to the caller, with `Read`/`Write`.

use std::fmt;
use std::io::{self, Read, Write};

use ftp_sansio::reply::Reply;
use ftp_sansio::session::Direction;

use crate::conn::StreamInfo;
use crate::error::{Error, Result};
use crate::Ftp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Data may move.
    Open,
    /// Download: the end of the data was seen (and reported).
    Eof,
    /// The data side failed (reported); only the final reply is left to read.
    Failed,
    /// The transfer ended (finished, aborted, or it never needed data).
    Done,
}

/// An open data connection of a transfer: [`Read`] for downloads
/// ([`Ftp::retr_reader`], [`Ftp::transfercmd`] with `RETR`/`LIST`/...), [`Write`] for
/// uploads ([`Ftp::stor_writer`], [`Ftp::appe_writer`], [`Ftp::transfercmd`] with
/// `STOR`/`APPE`/`STOU`). It borrows the [`Ftp`]: no other command can run meanwhile.
///
/// End it with [`finish`](DataStream::finish) (the transfer's final reply, errors
/// included) or [`abort`](DataStream::abort). Dropping it ends it too: a download read to
/// its end completes normally, anything else is aborted with `ABOR` (errors are then
/// ignored; use `finish` to see them).
///
/// ```no_run
/// use std::io::Read;
/// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
/// ftp.login("", "")?;
/// let mut head = [0u8; 16];
/// let mut r = ftp.retr_reader("big.iso", None)?;
/// r.read_exact(&mut head)?;
/// r.abort()?;                     // no need for the rest
/// ftp.noop()?;                    // the connection is in step again
/// # Ok::<(), ftp_blocking::Error>(())
/// ```
pub struct DataStream<'a> {
    ftp: &'a mut Ftp,
    direction: Direction,
    expected_size: Option<u64>,
    state: State,
    /// The final reply when the transfer ended before the stream was handed out.
    done_reply: Option<Reply>,
}

impl fmt::Debug for DataStream<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataStream")
            .field("direction", &self.direction)
            .field("expected_size", &self.expected_size)
            .field("state", &self.state)
            .finish()
    }
}

fn not_connected() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the FTP connection is closed")
}

impl<'a> DataStream<'a> {
    pub(crate) fn new(ftp: &'a mut Ftp, info: StreamInfo) -> DataStream<'a> {
        DataStream {
            ftp,
            direction: info.direction,
            expected_size: info.expected_size,
            state: State::Open,
            done_reply: None,
        }
    }

    /// A transfer that ended before data moved (nothing to read or write).
    pub(crate) fn finished(ftp: &'a mut Ftp, reply: Reply) -> DataStream<'a> {
        DataStream {
            ftp,
            direction: Direction::Download,
            expected_size: None,
            state: State::Done,
            done_reply: Some(reply),
        }
    }

    /// Which way the data flows.
    ///
    /// ```no_run
    /// use ftp_blocking::Direction;
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("ftptest", "ftptest")?;
    /// let w = ftp.transfercmd("STOR x.bin", None)?;
    /// assert_eq!(w.direction(), Direction::Upload);
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The size the server announced for a download (`150 ... (N bytes)`), if it did.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// let r = ftp.retr_reader("README", None)?;
    /// println!("{:?}", r.expected_size());
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn expected_size(&self) -> Option<u64> {
        self.expected_size
    }

    /// Bytes moved on the data connection so far.
    ///
    /// ```no_run
    /// use std::io::Read;
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// let mut r = ftp.retr_reader("README", None)?;
    /// let mut buf = Vec::new();
    /// r.read_to_end(&mut buf)?;
    /// assert_eq!(r.transferred(), buf.len() as u64);
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn transferred(&self) -> u64 {
        match (&self.ftp.conn, self.state) {
            (_, State::Done) => 0,
            (Some(c), _) => c.data_bytes(),
            (None, _) => 0,
        }
    }

    /// Ends the transfer normally and returns its final reply (226). A download not read
    /// to its end is read to its end first (the rest is discarded; use
    /// [`abort`](DataStream::abort) to stop early); an upload is ended (its write side shut
    /// down) so the server knows the file is complete. Errors of the transfer (a failed or
    /// truncated data connection, a `4xx`/`5xx` final reply) are returned here.
    ///
    /// ```no_run
    /// use std::io::Write;
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("ftptest", "ftptest")?;
    /// let mut w = ftp.stor_writer("a.txt")?;
    /// w.write_all(b"data")?;
    /// assert_eq!(w.finish()?.code().get(), 226);
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn finish(mut self) -> Result<Reply> {
        self.finish_inner()
    }

    fn finish_inner(&mut self) -> Result<Reply> {
        match self.state {
            State::Done => {
                return self
                    .done_reply
                    .take()
                    .ok_or_else(|| Error::protocol("the transfer already ended".into()))
            }
            State::Open => match self.direction {
                Direction::Download => {
                    let mut scratch = vec![0u8; 64 * 1024];
                    loop {
                        match self.read(&mut scratch) {
                            Ok(0) => break,
                            Ok(_) => {}
                            Err(_) => break, // reported; the session's verdict follows
                        }
                    }
                }
                Direction::Upload => {
                    if let Some(c) = self.ftp.conn.as_mut() {
                        let _ = c.data_finish_upload();
                    }
                }
            },
            State::Eof | State::Failed => {}
        }
        self.state = State::Done;
        self.ftp.end_transfer()
    }

    /// Aborts the transfer (`ABOR`, RFC 959 §4.1.3): closes the data connection and reads
    /// the server's answers (`426` + `226`, `225`, `226`, ...) so the control connection is
    /// in step again. Returns the reply to `ABOR`. A transfer that already ended is not
    /// aborted: its final reply is returned instead.
    ///
    /// ```no_run
    /// let mut ftp = ftp_blocking::Ftp::connect("127.0.0.1:21")?;
    /// ftp.login("", "")?;
    /// let r = ftp.retr_reader("big.iso", None)?;
    /// let reply = r.abort()?;
    /// # Ok::<(), ftp_blocking::Error>(())
    /// ```
    pub fn abort(mut self) -> Result<Reply> {
        if self.state == State::Done {
            return self.finish_inner();
        }
        self.state = State::Done;
        let conn = match self.ftp.conn.as_mut() {
            Some(c) => c,
            None => return Err(Error::closed()),
        };
        let r = match conn.abort() {
            Ok(r) => r,
            Err(e) => {
                self.ftp.reap();
                return Err(e);
            }
        };
        match self.ftp.finish(r)? {
            ftp_sansio::session::Outcome::Aborted { reply }
            | ftp_sansio::session::Outcome::Transferred { reply, .. } => Ok(reply),
            other => Err(Error::protocol(format!("unexpected outcome {other:?}"))),
        }
    }
}

impl Read for DataStream<'_> {
    /// Reads downloaded bytes; `Ok(0)` at the end of the data. Errors for uploads.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.direction != Direction::Download {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "this data connection is an upload",
            ));
        }
        match self.state {
            State::Open => {}
            State::Eof | State::Done => return Ok(0),
            State::Failed => return Err(io::Error::other("the data connection failed")),
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let conn = self.ftp.conn.as_mut().ok_or_else(not_connected)?;
        match conn.data_read(buf) {
            Ok(0) => {
                self.state = State::Eof;
                Ok(0)
            }
            Ok(n) => Ok(n),
            Err(e) => {
                self.state = State::Failed;
                Err(e)
            }
        }
    }
}

impl Write for DataStream<'_> {
    /// Uploads `buf` (all of it). Errors for downloads.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.direction != Direction::Upload {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "this data connection is a download",
            ));
        }
        match self.state {
            State::Open => {}
            State::Failed => return Err(io::Error::other("the data connection failed")),
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    "the transfer has ended",
                ))
            }
        }
        let conn = self.ftp.conn.as_mut().ok_or_else(not_connected)?;
        match conn.data_write(buf) {
            Ok(()) => Ok(buf.len()),
            Err(e) => {
                self.state = State::Failed;
                Err(e)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for DataStream<'_> {
    fn drop(&mut self) {
        match self.state {
            State::Done => {}
            State::Eof | State::Failed => {
                self.state = State::Done;
                let _ = self.ftp.end_transfer();
            }
            State::Open => {
                self.state = State::Done;
                if let Some(c) = self.ftp.conn.as_mut() {
                    c.data_abandon();
                }
                self.ftp.reap();
            }
        }
    }
}
