//! The streaming reply parser (RFC 959 §4.2).

use super::{Code, Limits, ReplyError, ReplyRef, ERROR_LINE_MAX};

/// A streaming, bounded parser of control-connection replies.
///
/// Feed it bytes with [`push`](ReplyParser::push) as they arrive and take complete replies
/// with [`next_reply`](ReplyParser::next_reply). The result does not depend on how the input
/// is split. Every byte is looked at once (the parser keeps its scan position), so feeding
/// one byte at a time stays linear. Replies borrow the parser's buffer, which is reused: a
/// steady stream of replies allocates nothing. The buffer never holds more than
/// [`Limits::max_reply`] bytes.
///
/// ```
/// use ftp_sansio::reply::ReplyParser;
/// let mut p = ReplyParser::new();
/// let mut replies = Vec::new();
/// for chunk in [&b"150 Opening (12"[..], b"3 bytes)\r\n22", b"6 Done\r\n"] {
///     let mut rest = chunk;
///     while !rest.is_empty() {
///         let n = p.push(rest);
///         rest = &rest[n..];
///         while let Some(r) = p.next_reply().unwrap() {
///             replies.push(r.to_owned());
///         }
///     }
/// }
/// assert_eq!(replies.len(), 2);
/// assert_eq!(replies[0].first_line(), b"150 Opening (123 bytes)");
/// assert_eq!(replies[1].code().get(), 226);
/// ```
#[derive(Debug, Clone)]
pub struct ReplyParser {
    buf: Vec<u8>,
    limits: Limits,
    /// First byte of the reply being assembled; everything before it has been handed out.
    start: usize,
    /// First byte of the line being scanned.
    line_start: usize,
    /// No LF in `line_start..scan`.
    scan: usize,
    /// Code digits of an open multi-line reply.
    open: Option<[u8; 3]>,
    /// Sticky error.
    error: Option<ReplyError>,
}

impl Default for ReplyParser {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplyParser {
    /// A parser with the default [`Limits`] (16 KiB line, 1 MiB reply).
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    /// A parser with the given limits (each at least 1).
    pub fn with_limits(l: Limits) -> Self {
        ReplyParser {
            buf: Vec::new(),
            limits: Limits {
                max_line: l.max_line.max(1),
                max_reply: l.max_reply.max(1),
            },
            start: 0,
            line_start: 0,
            scan: 0,
            open: None,
            error: None,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Copies as many bytes as fit under the limits; returns how many it took (may be less
    /// than `data.len()`).
    ///
    /// Callers loop: push, drain [`next_reply`](Self::next_reply) until `None`, push the
    /// rest. When the buffer is full and no reply completes, `next_reply` returns an error,
    /// so this always progresses. After an error the parser takes (and drops) everything.
    pub fn push(&mut self, data: &[u8]) -> usize {
        if self.error.is_some() {
            return data.len();
        }
        if self.start == self.buf.len() {
            // Everything handed out: reuse the buffer from its start (cheap, the common case).
            self.buf.clear();
            self.start = 0;
            self.line_start = 0;
            self.scan = 0;
        }
        let cap = self.limits.max_reply;
        if self.start > 0 && self.buf.len() + data.len() > self.buf.capacity().min(cap) {
            // Reclaim handed-out bytes before growing or refusing.
            self.buf.copy_within(self.start.., 0);
            self.buf.truncate(self.buf.len() - self.start);
            self.line_start -= self.start;
            self.scan -= self.start;
            self.start = 0;
        }
        let n = data.len().min(cap - self.buf.len());
        let need = self.buf.len() + n;
        if need > self.buf.capacity() {
            // Grow geometrically, never past the limit.
            let target = need.max(self.buf.capacity() * 2).max(64).min(cap);
            self.buf.reserve_exact(target - self.buf.len());
        }
        self.buf.extend_from_slice(&data[..n]);
        n
    }

    /// The next complete reply, `Ok(None)` if more bytes are needed. Errors are sticky.
    pub fn next_reply(&mut self) -> Result<Option<ReplyRef<'_>>, ReplyError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let Limits {
            max_line,
            max_reply,
        } = self.limits;
        let start = self.start;
        let mut line_start = self.line_start;
        let mut scan = self.scan;
        let mut open = self.open;
        loop {
            let buf = &self.buf[..];
            let Some(i) = memchr::memchr(b'\n', &buf[scan..]) else {
                let len = buf.len();
                self.line_start = line_start;
                self.scan = len;
                self.open = open;
                if len - line_start >= max_line || len - start >= max_reply {
                    if let Some(e) = self.limit_error(len, false) {
                        return Err(self.fail(e));
                    }
                }
                return Ok(None);
            };
            let lf = scan + i;
            let end = lf + 1;
            if end - line_start > max_line || end - start > max_reply {
                self.line_start = line_start;
                if let Some(e) = self.limit_error(end, true) {
                    return Err(self.fail(e));
                }
            }
            // The line with a CR that may belong to its line end.
            let line = &buf[line_start..lf];
            line_start = end;
            scan = end;
            let code = match open {
                Some(digits) => {
                    // Closes at its own code followed by a space or the line end.
                    let closes = line.len() >= 3
                        && line[..3] == digits
                        && (line.len() == 3
                            || line[3] == b' '
                            || (line.len() == 4 && line[3] == b'\r'));
                    if !closes {
                        // Skip inner lines in a tight loop: a line that does not start
                        // with the code cannot close the reply. Stop at a candidate, at a
                        // line too short to tell, or where a limit would be crossed (the
                        // general path above then decides).
                        let mut pos = end;
                        loop {
                            let rest = &buf[pos..];
                            if rest.len() < 3 || rest[..3] == digits {
                                break;
                            }
                            match memchr::memchr(b'\n', rest) {
                                Some(i) if i < max_line && pos + i + 1 - start <= max_reply => {
                                    pos += i + 1;
                                }
                                Some(_) => break,
                                None => {
                                    // No LF in pos..len: the scan may resume at the end.
                                    scan = buf.len();
                                    break;
                                }
                            }
                        }
                        line_start = pos;
                        scan = scan.max(pos);
                        continue;
                    }
                    open = None;
                    Code::from_digits(&digits)
                }
                None => {
                    let content = line.strip_suffix(b"\r").unwrap_or(line);
                    let digits = content.len() >= 3 && content[..3].iter().all(u8::is_ascii_digit);
                    let sep = content.get(3).copied();
                    if !digits || !matches!(sep, None | Some(b' ') | Some(b'-')) {
                        let e = ReplyError::NotAReply {
                            line: content[..content.len().min(ERROR_LINE_MAX)].to_vec(),
                        };
                        return Err(self.fail(e));
                    }
                    let Some(code) = Code::from_digits(content) else {
                        let e = ReplyError::BadCode {
                            line: content[..content.len().min(ERROR_LINE_MAX)].to_vec(),
                        };
                        return Err(self.fail(e));
                    };
                    if sep == Some(b'-') {
                        open = Some([content[0], content[1], content[2]]);
                        continue;
                    }
                    Some(code)
                }
            };
            // `from_digits` cannot fail for an open reply: its first line was checked.
            let Some(code) = code else { continue };
            self.start = end;
            self.line_start = end;
            self.scan = end;
            self.open = None;
            return Ok(Some(ReplyRef::new(code, &self.buf[start..end])));
        }
    }

    /// The limit error proven by the bytes up to `avail_end` (a line end if `complete`), if
    /// any. When both limits are exceeded, the one exceeded at the earlier stream offset wins,
    /// so the outcome does not depend on how the input was split.
    fn limit_error(&self, avail_end: usize, complete: bool) -> Option<ReplyError> {
        let line_len = avail_end - self.line_start;
        let reply_len = avail_end - self.start;
        let Limits {
            max_line,
            max_reply,
        } = self.limits;
        // An incomplete line (or reply) of exactly the limit must still grow: it is over.
        let (line_over, reply_over) = if complete {
            (line_len > max_line, reply_len > max_reply)
        } else {
            (line_len >= max_line, reply_len >= max_reply)
        };
        let line_err = ReplyError::LineTooLong { limit: max_line };
        let reply_err = ReplyError::ReplyTooLarge { limit: max_reply };
        match (line_over, reply_over) {
            (true, true) => Some(
                if self.line_start.saturating_add(max_line) <= self.start.saturating_add(max_reply)
                {
                    line_err
                } else {
                    reply_err
                },
            ),
            (true, false) => Some(line_err),
            (false, true) => Some(reply_err),
            (false, false) => None,
        }
    }

    /// Records a sticky error, drops the buffer, and returns the error.
    fn fail(&mut self, e: ReplyError) -> ReplyError {
        self.error = Some(e.clone());
        self.buf = Vec::new();
        self.start = 0;
        self.line_start = 0;
        self.scan = 0;
        self.open = None;
        e
    }

    /// Whether bytes of an unfinished reply are buffered (end of input now would cut a reply
    /// short). Meaningful after draining [`next_reply`](Self::next_reply) to `None`; `false`
    /// after an error.
    pub fn has_partial(&self) -> bool {
        self.error.is_none() && self.buf.len() > self.start
    }

    /// Bytes held that have not been handed out as replies (at most [`Limits::max_reply`]).
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The allocated size of the internal buffer (never above [`Limits::max_reply`]).
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The sticky error, if one was raised.
    pub fn error(&self) -> Option<&ReplyError> {
        self.error.as_ref()
    }

    /// Forgets all buffered bytes and any error, keeping the limits and the allocation
    /// (e.g. for a new connection).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.start = 0;
        self.line_start = 0;
        self.scan = 0;
        self.open = None;
        self.error = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(p: &mut ReplyParser) -> Result<Vec<Vec<u8>>, ReplyError> {
        let mut v = Vec::new();
        while let Some(r) = p.next_reply()? {
            v.push(r.raw().to_vec());
        }
        Ok(v)
    }

    #[test]
    fn lone_cr_is_pending_and_inner_cr_is_text() {
        let mut p = ReplyParser::new();
        p.push(b"200 a\rb\r");
        assert_eq!(drain(&mut p).unwrap().len(), 0);
        assert!(p.has_partial());
        p.push(b"\n");
        let mut p2 = p.clone();
        let r = p2.next_reply().unwrap().unwrap();
        assert_eq!(r.first_line(), b"200 a\rb");
        assert!(!p2.has_partial());
    }

    #[test]
    fn multiline_closes_only_on_same_code_and_space() {
        let mut p = ReplyParser::new();
        p.push(b"211-a\r\n211x\r\n212 b\r\n 211 c\r\n211-d\r\n");
        assert!(drain(&mut p).unwrap().is_empty());
        assert!(p.has_partial());
        p.push(b"211\r\n");
        let r = p.next_reply().unwrap().unwrap();
        assert_eq!(r.lines().count(), 6);
        assert_eq!(r.last_line(), b"211");
    }

    #[test]
    fn protocol_errors_are_sticky_and_typed() {
        let mut p = ReplyParser::new();
        p.push(b"200 ok\r\nhello there\r\n220 more\r\n");
        assert_eq!(
            drain(&mut p),
            Err(ReplyError::NotAReply {
                line: b"hello there".to_vec()
            })
        );
        assert_eq!(
            p.error(),
            Some(&ReplyError::NotAReply {
                line: b"hello there".to_vec()
            })
        );
        assert!(p.next_reply().is_err());
        assert_eq!(p.push(b"200 ok\r\n"), 8);
        assert!(!p.has_partial());
        p.reset();
        p.push(b"600 x\r\n");
        assert_eq!(
            p.next_reply().unwrap_err(),
            ReplyError::BadCode {
                line: b"600 x".to_vec()
            }
        );
        p.reset();
        for bad in [
            &b"20 x\r\n"[..],
            b"2000\r\n",
            b"200x\r\n",
            b"\r\n",
            b" 200 x\n",
            b"abc\n",
        ] {
            p.push(bad);
            assert!(
                matches!(p.next_reply(), Err(ReplyError::NotAReply { .. })),
                "{bad:?}"
            );
            p.reset();
        }
        let long = [b'x'; 300];
        p.push(&long);
        p.push(b"\n");
        match p.next_reply() {
            Err(ReplyError::NotAReply { line }) => assert_eq!(line.len(), ERROR_LINE_MAX),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bare_code_lines() {
        let mut p = ReplyParser::new();
        p.push(b"200\n230-\n230\n");
        assert_eq!(
            drain(&mut p).unwrap(),
            [b"200\n".to_vec(), b"230-\n230\n".to_vec()]
        );
    }

    #[test]
    fn line_limit() {
        let mut p = ReplyParser::with_limits(Limits {
            max_line: 10,
            max_reply: 100,
        });
        p.push(b"200 1234\r\n");
        assert_eq!(drain(&mut p).unwrap().len(), 1);
        p.push(b"200 12345\r\n");
        assert_eq!(
            p.next_reply().unwrap_err(),
            ReplyError::LineTooLong { limit: 10 }
        );
        // Detected before the line end arrives, so nothing more is buffered.
        let mut p = ReplyParser::with_limits(Limits {
            max_line: 10,
            max_reply: 100,
        });
        p.push(b"200 123456");
        assert_eq!(
            p.next_reply().unwrap_err(),
            ReplyError::LineTooLong { limit: 10 }
        );
    }

    #[test]
    fn reply_limit_and_push_backpressure() {
        let limits = Limits {
            max_line: 100,
            max_reply: 20,
        };
        let mut p = ReplyParser::with_limits(limits);
        // Two replies of 10 bytes fit exactly; the third waits for room.
        let data = b"200 12345\n201 12345\n202 12345\n";
        let n = p.push(data);
        assert_eq!(n, 20);
        assert_eq!(drain(&mut p).unwrap().len(), 2);
        assert_eq!(p.push(&data[n..]), 10);
        assert_eq!(drain(&mut p).unwrap(), [b"202 12345\n".to_vec()]);
        assert!(p.capacity() <= 20);
        // A multi-line reply that cannot complete within the limit.
        p.push(b"211-abcdefgh\n211-abcdefgh\n");
        assert_eq!(
            p.next_reply().unwrap_err(),
            ReplyError::ReplyTooLarge { limit: 20 }
        );
    }

    #[test]
    fn zero_limits_still_progress() {
        let mut p = ReplyParser::with_limits(Limits {
            max_line: 0,
            max_reply: 0,
        });
        assert_eq!(
            p.limits(),
            Limits {
                max_line: 1,
                max_reply: 1
            }
        );
        assert_eq!(p.next_reply().unwrap(), None);
        assert_eq!(p.push(b"200 ok\r\n"), 1);
        assert!(p.next_reply().is_err());
    }

    #[test]
    fn single_line_replies_reuse_the_buffer() {
        let mut p = ReplyParser::new();
        let line = b"200 Command okay, this is some text.\r\n";
        p.push(line);
        drain(&mut p).unwrap();
        let cap = p.capacity();
        for _ in 0..10_000 {
            assert_eq!(p.push(line), line.len());
            let r = p.next_reply().unwrap().unwrap();
            assert_eq!(r.code().get(), 200);
            assert_eq!(p.next_reply().unwrap(), None);
        }
        assert_eq!(p.capacity(), cap);
    }

    #[test]
    fn partial_reply_is_kept_across_compaction() {
        let mut p = ReplyParser::with_limits(Limits {
            max_line: 64,
            max_reply: 64,
        });
        for _ in 0..50 {
            // A complete reply plus the start of the next, then the rest of it.
            assert_eq!(p.push(b"200 a\r\n211-x\r\n"), 14);
            assert_eq!(p.next_reply().unwrap().unwrap().raw(), b"200 a\r\n");
            assert_eq!(p.next_reply().unwrap(), None);
            assert_eq!(p.buffered(), 7);
            assert_eq!(p.push(b" y\r\n211 z\r\n"), 11);
            assert_eq!(
                p.next_reply().unwrap().unwrap().raw(),
                b"211-x\r\n y\r\n211 z\r\n"
            );
        }
        assert!(p.capacity() <= 64);
    }

    #[test]
    fn limits_hold_inside_multiline_replies() {
        let limits = Limits {
            max_line: 12,
            max_reply: 1000,
        };
        // Short inner lines are skipped quickly; the long one must still be caught.
        let data = b"211-a\r\n x\r\n y\r\n this is too long\r\n211 End\r\n";
        for chunk in [1, 3, data.len()] {
            let mut p = ReplyParser::with_limits(limits);
            let mut err = None;
            for c in data.chunks(chunk) {
                p.push(c);
                if let Err(e) = drain(&mut p) {
                    err = Some(e);
                    break;
                }
            }
            assert_eq!(
                err,
                Some(ReplyError::LineTooLong { limit: 12 }),
                "chunk {chunk}"
            );
        }
        let limits = Limits {
            max_line: 100,
            max_reply: 20,
        };
        let data = b"211-a\r\n x\r\n y\r\n z\r\n w\r\n211 End\r\n";
        let mut p = ReplyParser::with_limits(limits);
        p.push(data);
        assert_eq!(
            p.next_reply().unwrap_err(),
            ReplyError::ReplyTooLarge { limit: 20 }
        );
        // Inner lines that start with the code but do not close it.
        let mut p = ReplyParser::new();
        p.push(b"211-a\n211x\n2111\n211-b\n211\rx\n211\r\n");
        let r = p.next_reply().unwrap().unwrap();
        assert_eq!(r.lines().count(), 6);
        assert!(!p.has_partial());
    }

    /// Byte-at-a-time feeding of a large reply stays linear: every byte is scanned once
    /// (a rescanning parser would need ~10^11 steps here and never finish).
    #[test]
    fn byte_at_a_time_is_linear() {
        let mut data = b"211-start\r\n".to_vec();
        while data.len() < 900_000 {
            data.extend_from_slice(b" 211x inner line that does not close\r\n");
        }
        data.extend_from_slice(b"211 end\r\n200 ");
        data.resize(data.len() + 16_000, b'x');
        data.extend_from_slice(b"\r\n");
        let mut p = ReplyParser::new();
        let mut got = Vec::new();
        for b in data.chunks(1) {
            assert_eq!(p.push(b), 1);
            while let Some(r) = p.next_reply().unwrap() {
                got.push(r.raw().len());
            }
        }
        assert_eq!(got.len(), 2);
        assert_eq!(got[0] + got[1], data.len());
        assert!(!p.has_partial());
    }
}
