//! Server replies: a streaming, bounded parser and typed decoders.
//!
//! An FTP reply (RFC 959 §4.2) is one line `xyz text` or a multi-line block that opens with
//! `xyz-text` and ends only at a line that starts with the same `xyz` followed by a space
//! (or, as this crate also accepts, by the line end); the lines in between are text, whatever
//! they start with (a `211-` FEAT block may hold lines that begin with `213`).
//!
//! [`ReplyParser`] takes whatever bytes arrived, in any split down to one byte at a time, and
//! yields complete replies as [`ReplyRef`]s that borrow its buffer (no allocation per reply);
//! [`Reply`] is the owned form. The parser is tolerant where real servers are sloppy (a bare
//! LF ends a line; a CR not followed by LF is part of the line) and strict where it matters: a
//! line that does not start with three digits where a reply must start is
//! [`ReplyError::NotAReply`] (ftplib's `error_proto`), a first digit outside 1–5 is
//! [`ReplyError::BadCode`]. It is bounded by [`Limits`]: past them it raises
//! [`ReplyError::LineTooLong`] / [`ReplyError::ReplyTooLarge`] rather than buffering more.
//! Bytes are kept as sent: non-UTF-8 text (Latin-1 banners, RFC 2640 paths) survives intact.
//!
//! [`decode`] turns the replies a client depends on into typed values: 227 PASV, 229 EPSV
//! (RFC 2428), 257 paths, 213 SIZE and MDTM (RFC 3659), 211 FEAT (RFC 2389) and the byte count
//! of a 150/125 reply.
//!
//! ```
//! use ftp_sansio::reply::{ReplyClass, ReplyParser};
//! let mut parser = ReplyParser::new();
//! let input = b"220 ready\r\n211-Features:\r\n MDTM\r\n213 not the end\r\n211 End\r\n";
//! assert_eq!(parser.push(input), input.len());
//! let banner = parser.next_reply().unwrap().unwrap();
//! assert_eq!(banner.code().get(), 220);
//! assert_eq!(banner.code().class(), ReplyClass::Completion);
//! let feat = parser.next_reply().unwrap().unwrap().to_owned();
//! assert_eq!(feat.lines().count(), 4);
//! assert_eq!(feat.last_line(), b"211 End");
//! assert!(parser.next_reply().unwrap().is_none());
//! assert!(!parser.has_partial());
//! ```

use core::fmt;

pub mod decode;
mod parser;

pub use parser::ReplyParser;

/// A reply code, 100 to 599 (RFC 959 §4.2).
///
/// ```
/// use ftp_sansio::reply::{Code, ReplyClass};
/// let c = Code::new(550).unwrap();
/// assert_eq!(c.get(), 550);
/// assert_eq!(c.class(), ReplyClass::PermanentNegative);
/// assert_eq!(c.to_string(), "550");
/// assert!(Code::new(600).is_none());
/// assert!(Code::new(99).is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(u16);

impl Code {
    /// The code `n`, or `None` outside 100..=599.
    pub const fn new(n: u16) -> Option<Code> {
        if n >= 100 && n <= 599 {
            Some(Code(n))
        } else {
            None
        }
    }

    /// The numeric value.
    pub const fn get(self) -> u16 {
        self.0
    }

    /// The class given by the first digit.
    pub const fn class(self) -> ReplyClass {
        match self.0 / 100 {
            1 => ReplyClass::Preliminary,
            2 => ReplyClass::Completion,
            3 => ReplyClass::Intermediate,
            4 => ReplyClass::TransientNegative,
            _ => ReplyClass::PermanentNegative,
        }
    }

    /// Code from three ASCII digits whose first is 1–5; `None` otherwise.
    pub(crate) fn from_digits(d: &[u8]) -> Option<Code> {
        match d {
            [a @ b'1'..=b'5', b @ b'0'..=b'9', c @ b'0'..=b'9', ..] => Some(Code(
                (a - b'0') as u16 * 100 + (b - b'0') as u16 * 10 + (c - b'0') as u16,
            )),
            _ => None,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What the first digit of a reply code says (RFC 959 §4.2.1).
///
/// Drivers map these onto ftplib's errors: `TransientNegative` is `error_temp`,
/// `PermanentNegative` is `error_perm`, an unexpected positive class is `error_reply`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReplyClass {
    /// 1yz: positive preliminary; another reply follows.
    Preliminary,
    /// 2yz: positive completion.
    Completion,
    /// 3yz: positive intermediate; the server waits for another command.
    Intermediate,
    /// 4yz: transient negative completion; the command may succeed if repeated.
    TransientNegative,
    /// 5yz: permanent negative completion.
    PermanentNegative,
}

impl ReplyClass {
    /// Whether the class is positive (1, 2 or 3).
    pub const fn is_positive(self) -> bool {
        matches!(
            self,
            ReplyClass::Preliminary | ReplyClass::Completion | ReplyClass::Intermediate
        )
    }
}

/// Bounds on what [`ReplyParser`] buffers. Both count line ends.
///
/// ```
/// use ftp_sansio::reply::{Limits, ReplyParser};
/// let parser = ReplyParser::with_limits(Limits { max_line: 1024, max_reply: 64 * 1024 });
/// assert_eq!(parser.limits().max_line, 1024);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Longest line accepted, line end included (default 16 KiB). At least 1 is used.
    pub max_line: usize,
    /// Largest reply accepted, line ends included (default 1 MiB); also the most bytes the
    /// parser ever holds. At least 1 is used.
    pub max_reply: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 16 * 1024,
            max_reply: 1024 * 1024,
        }
    }
}

/// Why the byte stream is not a valid sequence of replies. Errors are sticky: once
/// [`ReplyParser::next_reply`] returned one, it returns it again.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ReplyError {
    /// A line where a reply must start does not begin with three digits followed by a space,
    /// a hyphen or the line end (ftplib's `error_proto`).
    #[error("not an FTP reply: {:?}", String::from_utf8_lossy(line))]
    NotAReply {
        /// The first (at most 128) bytes of the offending line, without its line end.
        line: Vec<u8>,
    },
    /// Three digits whose first is not 1 to 5.
    #[error("bad reply code: {:?}", String::from_utf8_lossy(line))]
    BadCode {
        /// The first (at most 128) bytes of the offending line, without its line end.
        line: Vec<u8>,
    },
    /// A line longer than [`Limits::max_line`].
    #[error("reply line longer than {limit} bytes")]
    LineTooLong {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A reply larger than [`Limits::max_reply`].
    #[error("reply larger than {limit} bytes")]
    ReplyTooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
}

/// How many bytes of an offending line an error keeps.
pub(crate) const ERROR_LINE_MAX: usize = 128;

/// A complete reply borrowed from the parser's buffer (or from a [`Reply`]).
///
/// `raw` is exactly the bytes the server sent, line ends included.
///
/// ```
/// use ftp_sansio::reply::ReplyParser;
/// let mut p = ReplyParser::new();
/// p.push(b"230-Welcome\n230 Logged in.\r\n");
/// let r = p.next_reply().unwrap().unwrap();
/// assert_eq!(r.raw(), b"230-Welcome\n230 Logged in.\r\n");
/// assert_eq!(r.first_line(), b"230-Welcome");
/// assert_eq!(r.last_line(), b"230 Logged in.");
/// assert_eq!(r.text(), "230-Welcome\n230 Logged in.");
/// assert_eq!(r.message(), b"Logged in.");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReplyRef<'a> {
    code: Code,
    raw: &'a [u8],
}

impl<'a> ReplyRef<'a> {
    pub(crate) fn new(code: Code, raw: &'a [u8]) -> Self {
        ReplyRef { code, raw }
    }

    /// The reply code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The exact bytes received, line ends included.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The lines, without their line ends (CRLF or LF).
    pub fn lines(&self) -> Lines<'a> {
        Lines { rest: self.raw }
    }

    /// Whether the reply spans more than one line.
    pub fn is_multiline(&self) -> bool {
        self.lines().nth(1).is_some()
    }

    /// The first line, without its line end.
    pub fn first_line(&self) -> &'a [u8] {
        self.lines().next().unwrap_or(&[])
    }

    /// The last line (the one that closed the reply), without its line end.
    pub fn last_line(&self) -> &'a [u8] {
        let body = strip_line_end(self.raw);
        match memchr::memrchr(b'\n', body) {
            Some(i) => &body[i + 1..],
            None => body,
        }
    }

    /// The text of the last line after the code and its separator (`"Logged in."` for
    /// `230 Logged in.`); empty if the line has nothing after the code.
    pub fn message(&self) -> &'a [u8] {
        self.last_line().get(4..).unwrap_or(&[])
    }

    /// All lines, decoded lossily as UTF-8 and joined with `'\n'` (what ftplib's `getresp`
    /// returns).
    pub fn text(&self) -> String {
        let mut s = String::with_capacity(self.raw.len());
        for (i, line) in self.lines().enumerate() {
            if i > 0 {
                s.push('\n');
            }
            s.push_str(&String::from_utf8_lossy(line));
        }
        s
    }

    /// An owned copy.
    #[allow(clippy::wrong_self_convention, clippy::should_implement_trait)]
    pub fn to_owned(&self) -> Reply {
        Reply {
            code: self.code,
            raw: self.raw.to_vec(),
        }
    }
}

impl fmt::Debug for ReplyRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplyRef")
            .field("code", &self.code.0)
            .field("raw", &String::from_utf8_lossy(self.raw))
            .finish()
    }
}

impl fmt::Display for ReplyRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// Strips one trailing LF (and a CR right before it).
fn strip_line_end(b: &[u8]) -> &[u8] {
    match b {
        [rest @ .., b'\r', b'\n'] | [rest @ .., b'\n'] => rest,
        _ => b,
    }
}

/// Iterator over the lines of a reply, without line ends; see [`ReplyRef::lines`].
#[derive(Clone, Debug)]
pub struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match memchr::memchr(b'\n', self.rest) {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, &[][..]),
        };
        self.rest = rest;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}

/// An owned reply: the same accessors as [`ReplyRef`].
///
/// ```
/// use ftp_sansio::reply::{Code, Reply};
/// let r = Reply::from_lines(Code::new(257).unwrap(), &[b"257 \"/home\" is cwd"]);
/// assert_eq!(r.raw(), b"257 \"/home\" is cwd\r\n");
/// assert_eq!(ftp_sansio::reply::decode::path(r.as_ref()).unwrap(), b"/home");
/// assert_eq!(r.to_string(), "257 \"/home\" is cwd");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Reply {
    code: Code,
    raw: Vec<u8>,
}

/// Readable: the code and the text, not the bytes (`Reply(550 "No such file.")`).
///
/// ```
/// use ftp_sansio::reply::{Code, Reply};
/// let r = Reply::from_lines(Code::new(550).unwrap(), &[b"550 No such file."]);
/// assert_eq!(format!("{r:?}"), r#"Reply(550, "550 No such file.")"#);
/// ```
impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reply({}, {:?})", self.code.get(), self.text())
    }
}

impl Reply {
    /// A reply made of `lines` (each written as given, including its code, and ended with
    /// CRLF). Meant for tests; the lines are not checked and must not hold LF.
    pub fn from_lines(code: Code, lines: &[&[u8]]) -> Reply {
        let mut raw = Vec::with_capacity(lines.iter().map(|l| l.len() + 2).sum());
        for l in lines {
            raw.extend_from_slice(l);
            raw.extend_from_slice(b"\r\n");
        }
        Reply { code, raw }
    }

    /// The borrowed view, on which the decoders work.
    pub fn as_ref(&self) -> ReplyRef<'_> {
        ReplyRef {
            code: self.code,
            raw: &self.raw,
        }
    }

    /// Overwrites `self` with a copy of `r`, reusing the allocation.
    pub fn set_from(&mut self, r: ReplyRef<'_>) {
        self.code = r.code;
        self.raw.clear();
        self.raw.extend_from_slice(r.raw);
    }

    /// The reply code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The exact bytes received, line ends included.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The lines, without their line ends.
    pub fn lines(&self) -> Lines<'_> {
        self.as_ref().lines()
    }

    /// Whether the reply spans more than one line.
    pub fn is_multiline(&self) -> bool {
        self.as_ref().is_multiline()
    }

    /// The first line, without its line end.
    pub fn first_line(&self) -> &[u8] {
        self.as_ref().first_line()
    }

    /// The last line, without its line end.
    pub fn last_line(&self) -> &[u8] {
        self.as_ref().last_line()
    }

    /// The text of the last line after the code and its separator.
    pub fn message(&self) -> &[u8] {
        self.as_ref().message()
    }

    /// All lines, lossily decoded and joined with `'\n'`.
    pub fn text(&self) -> String {
        self.as_ref().text()
    }
}

impl<'a> From<ReplyRef<'a>> for Reply {
    fn from(r: ReplyRef<'a>) -> Reply {
        r.to_owned()
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_classes() {
        for (n, c) in [
            (150, ReplyClass::Preliminary),
            (226, ReplyClass::Completion),
            (331, ReplyClass::Intermediate),
            (421, ReplyClass::TransientNegative),
            (599, ReplyClass::PermanentNegative),
        ] {
            assert_eq!(Code::new(n).unwrap().class(), c);
        }
        assert!(ReplyClass::Intermediate.is_positive());
        assert!(!ReplyClass::TransientNegative.is_positive());
        assert_eq!(Code::from_digits(b"227"), Code::new(227));
        assert_eq!(Code::from_digits(b"627"), None);
        assert_eq!(Code::from_digits(b"2a7"), None);
        assert_eq!(Code::from_digits(b"22"), None);
    }

    #[test]
    fn lines_and_accessors() {
        let r = ReplyRef::new(Code(211), b"211-Features:\r\n MDTM\n\r\n211 End\r\n");
        let lines: Vec<&[u8]> = r.lines().collect();
        assert_eq!(lines, [&b"211-Features:"[..], b" MDTM", b"", b"211 End"]);
        assert!(r.is_multiline());
        assert_eq!(r.last_line(), b"211 End");
        assert_eq!(r.message(), b"End");
        assert_eq!(r.text(), "211-Features:\n MDTM\n\n211 End");
        let one = ReplyRef::new(Code(200), b"200\r\n");
        assert!(!one.is_multiline());
        assert_eq!(one.first_line(), b"200");
        assert_eq!(one.last_line(), b"200");
        assert_eq!(one.message(), b"");
        let cr = ReplyRef::new(Code(200), b"200 a\rb\r\r\n");
        assert_eq!(cr.first_line(), b"200 a\rb\r");
        assert_eq!(cr.last_line(), b"200 a\rb\r");
    }

    #[test]
    fn owned_reply_round_trip() {
        let r = Reply::from_lines(Code(250), &[b"250-a", b"250 b"]);
        assert_eq!(r.raw(), b"250-a\r\n250 b\r\n");
        let mut other = Reply::from_lines(Code(200), &[b"200 a much longer line than the other"]);
        let cap = other.raw.capacity();
        other.set_from(r.as_ref());
        assert_eq!(other, r);
        assert_eq!(other.raw.capacity(), cap);
        assert_eq!(Reply::from(r.as_ref()), r);
        assert_eq!(format!("{r}"), "250-a\n250 b");
        assert!(format!("{:?}", r.as_ref()).contains("250"));
        let empty = Reply::from_lines(Code(200), &[]);
        assert_eq!(empty.first_line(), b"");
        assert_eq!(empty.lines().count(), 0);
    }

    #[test]
    fn lossy_text_keeps_going() {
        let r = ReplyRef::new(Code(220), b"220 f\xfcr\r\n");
        assert_eq!(r.text(), "220 f\u{fffd}r");
        assert_eq!(r.first_line(), b"220 f\xfcr");
    }
}
