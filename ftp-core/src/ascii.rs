//! Streaming line-end conversion for ASCII-mode transfers (RFC 959 §3.1.1.1: in `TYPE A`
//! every line ends in CRLF on the wire).
//!
//! Data arrives in chunks that may split a CRLF pair anywhere, so each converter keeps the
//! one byte of state it needs between calls: any chunking of the input gives the same output
//! (tested with proptest). Nothing here allocates beyond the caller's output vector.
//!
//! - [`CrlfToLf`]: downloads, CRLF → LF (a lone CR or LF is kept as it is).
//! - [`LfToCrlf`]: uploads (`storlines`), LF → CRLF (an existing CRLF is not doubled).
//! - [`LineSplitter`]: downloads by line (`retrlines`): complete lines without their line
//!   end, with a bound on line length so a server cannot make the client buffer without end.
//!
//! ```
//! use ftp_sansio::ascii::{CrlfToLf, LfToCrlf};
//! let mut down = CrlfToLf::new();
//! let mut text = Vec::new();
//! down.push(b"one\r", &mut text);      // CR held back: is an LF next?
//! down.push(b"\ntwo\r\n", &mut text);
//! down.finish(&mut text);
//! assert_eq!(text, b"one\ntwo\n");
//!
//! let mut up = LfToCrlf::new();
//! let mut wire = Vec::new();
//! up.push(b"a\nb\r\nc", &mut wire);
//! assert_eq!(wire, b"a\r\nb\r\nc");
//! ```

/// CRLF → LF, across chunk boundaries. A CR not followed by LF is passed through.
///
/// ```
/// use ftp_sansio::ascii::CrlfToLf;
/// let mut c = CrlfToLf::new();
/// let mut out = Vec::new();
/// c.push(b"a\r", &mut out);
/// assert_eq!(out, b"a");            // the CR waits for the next chunk
/// c.push(b"b", &mut out);
/// c.finish(&mut out);
/// assert_eq!(out, b"a\rb");         // a lone CR is data
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CrlfToLf {
    /// The previous chunk ended in a CR that was not written yet.
    pending_cr: bool,
}

impl CrlfToLf {
    /// A converter at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the converted form of `input` to `out`. A CR at the end of `input` is held
    /// back until the next call (or [`finish`](Self::finish)) shows what follows it.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        if input.is_empty() {
            return;
        }
        out.reserve(input.len() + 1);
        let mut rest = input;
        if self.pending_cr {
            self.pending_cr = false;
            if rest[0] != b'\n' {
                out.push(b'\r');
            }
        }
        while let Some(i) = memchr::memchr(b'\r', rest) {
            out.extend_from_slice(&rest[..i]);
            match rest.get(i + 1) {
                Some(b'\n') => {
                    out.push(b'\n');
                    rest = &rest[i + 2..];
                }
                Some(_) => {
                    out.push(b'\r');
                    rest = &rest[i + 1..];
                }
                None => {
                    self.pending_cr = true;
                    return;
                }
            }
        }
        out.extend_from_slice(rest);
    }

    /// End of the stream: writes a CR that was held back.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.pending_cr) {
            out.push(b'\r');
        }
    }
}

/// LF → CRLF, across chunk boundaries; an LF already preceded by CR is left alone, so
/// converting text that already has CRLF line ends does not double them.
///
/// ```
/// use ftp_sansio::ascii::LfToCrlf;
/// let mut c = LfToCrlf::new();
/// let mut out = Vec::new();
/// c.push(b"x\r", &mut out);
/// c.push(b"\ny\n", &mut out);
/// assert_eq!(out, b"x\r\ny\r\n");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LfToCrlf {
    /// The last byte written was a CR.
    last_cr: bool,
}

impl LfToCrlf {
    /// A converter at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the converted form of `input` to `out` (nothing is held back).
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        if input.is_empty() {
            return;
        }
        out.reserve(input.len() + input.len() / 32 + 2);
        let mut rest = input;
        let mut prev_cr = self.last_cr;
        while let Some(i) = memchr::memchr(b'\n', rest) {
            out.extend_from_slice(&rest[..i]);
            let cr_before = if i == 0 {
                prev_cr
            } else {
                rest[i - 1] == b'\r'
            };
            if !cr_before {
                out.push(b'\r');
            }
            out.push(b'\n');
            prev_cr = false;
            rest = &rest[i + 1..];
        }
        out.extend_from_slice(rest);
        self.last_cr = match rest.last() {
            Some(&b) => b == b'\r',
            None => prev_cr,
        };
    }
}

/// The line is longer than the splitter's limit.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
#[error("line longer than {limit} bytes")]
pub struct LineTooLong {
    /// The limit that was exceeded.
    pub limit: usize,
}

/// Splits a download into lines (ftplib's `retrlines`): each line is returned without its
/// CRLF or LF, whatever chunks the data came in. At most `max_line` bytes are buffered.
///
/// ```
/// use ftp_sansio::ascii::LineSplitter;
/// let mut s = LineSplitter::new(1024);
/// let mut lines = Vec::new();
/// for chunk in [&b"drwxr-xr-x 2 ftp ftp 4096 Nov 25 sub\r"[..], b"\n-rw-r--r-- 1 ftp", b" ftp 11 Nov 25 hello.txt\r\n"] {
///     s.push(chunk);
///     while let Some(line) = s.next_line().unwrap() {
///         lines.push(String::from_utf8_lossy(line).into_owned());
///     }
/// }
/// assert_eq!(s.finish().unwrap(), None); // no unterminated last line
/// assert_eq!(lines, ["drwxr-xr-x 2 ftp ftp 4096 Nov 25 sub", "-rw-r--r-- 1 ftp ftp 11 Nov 25 hello.txt"]);
/// ```
#[derive(Clone, Debug)]
pub struct LineSplitter {
    buf: Vec<u8>,
    /// Start of the data not yet returned.
    start: usize,
    /// Where the search for the next LF resumes.
    scan: usize,
    max_line: usize,
    /// A line was handed out and must be dropped from the buffer on the next call.
    consumed: usize,
}

impl LineSplitter {
    /// A splitter refusing lines longer than `max_line` bytes (line end excluded; at least 1).
    pub fn new(max_line: usize) -> Self {
        LineSplitter {
            buf: Vec::new(),
            start: 0,
            scan: 0,
            max_line: max_line.max(1),
            consumed: 0,
        }
    }

    fn compact(&mut self) {
        self.start += std::mem::take(&mut self.consumed);
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
            self.scan = 0;
        } else if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.copy_within(self.start.., 0);
            self.buf.truncate(self.buf.len() - self.start);
            self.scan -= self.start;
            self.start = 0;
        }
    }

    /// Adds downloaded bytes. Call [`next_line`](Self::next_line) until `None` before
    /// pushing more, so the buffer stays bounded.
    pub fn push(&mut self, data: &[u8]) {
        self.compact();
        self.buf.extend_from_slice(data);
    }

    /// The next complete line without its line end (`\r\n` or `\n`), `Ok(None)` when more
    /// bytes are needed, or an error when the unfinished line exceeds the limit.
    pub fn next_line(&mut self) -> Result<Option<&[u8]>, LineTooLong> {
        self.compact();
        match memchr::memchr(b'\n', &self.buf[self.scan..]) {
            Some(i) => {
                let lf = self.scan + i;
                let mut end = lf;
                if end > self.start && self.buf[end - 1] == b'\r' {
                    end -= 1;
                }
                if end - self.start > self.max_line {
                    return Err(LineTooLong {
                        limit: self.max_line,
                    });
                }
                let line_start = self.start;
                self.consumed = lf + 1 - self.start;
                self.scan = lf + 1;
                Ok(Some(&self.buf[line_start..end]))
            }
            None => {
                self.scan = self.buf.len();
                // One byte of slack: a CR that may belong to the line end.
                if self.buf.len() - self.start > self.max_line.saturating_add(1) {
                    Err(LineTooLong {
                        limit: self.max_line,
                    })
                } else {
                    Ok(None)
                }
            }
        }
    }

    /// End of the download: the last line if it had no line end (a trailing CR is removed,
    /// as ftplib does).
    pub fn finish(&mut self) -> Result<Option<Vec<u8>>, LineTooLong> {
        self.compact();
        let mut rest = &self.buf[self.start..];
        if rest.is_empty() {
            return Ok(None);
        }
        if let Some(r) = rest.strip_suffix(b"\r") {
            rest = r;
        }
        if rest.len() > self.max_line {
            return Err(LineTooLong {
                limit: self.max_line,
            });
        }
        let line = rest.to_vec();
        self.buf.clear();
        self.start = 0;
        self.scan = 0;
        Ok(Some(line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn down(chunks: &[&[u8]]) -> Vec<u8> {
        let mut c = CrlfToLf::new();
        let mut out = Vec::new();
        for ch in chunks {
            c.push(ch, &mut out);
        }
        c.finish(&mut out);
        out
    }

    fn up(chunks: &[&[u8]]) -> Vec<u8> {
        let mut c = LfToCrlf::new();
        let mut out = Vec::new();
        for ch in chunks {
            c.push(ch, &mut out);
        }
        out
    }

    #[test]
    fn crlf_to_lf_cases() {
        assert_eq!(down(&[b"a\r\nb\r\n"]), b"a\nb\n");
        assert_eq!(down(&[b"a\r", b"\nb"]), b"a\nb");
        assert_eq!(down(&[b"a\r", b"", b"\nb"]), b"a\nb");
        assert_eq!(down(&[b"a\r", b"\r", b"\n"]), b"a\r\n");
        assert_eq!(down(&[b"\r\r\n\r"]), b"\r\n\r");
        assert_eq!(down(&[b"a\nb"]), b"a\nb");
        assert_eq!(down(&[b"\r"]), b"\r");
        assert_eq!(down(&[]), b"");
    }

    #[test]
    fn lf_to_crlf_cases() {
        assert_eq!(up(&[b"a\nb\n"]), b"a\r\nb\r\n");
        assert_eq!(up(&[b"a\r\nb"]), b"a\r\nb");
        assert_eq!(up(&[b"a\r", b"\nb"]), b"a\r\nb");
        assert_eq!(up(&[b"a", b"\n"]), b"a\r\n");
        assert_eq!(up(&[b"\n\n"]), b"\r\n\r\n");
        assert_eq!(up(&[b"\r", b"", b"\n"]), b"\r\n");
        assert_eq!(up(&[b"\r\r", b"x\n"]), b"\r\rx\r\n");
    }

    #[test]
    fn splitter_limits() {
        let mut s = LineSplitter::new(4);
        s.push(b"abcd\r\nabcde\n");
        assert_eq!(s.next_line().unwrap(), Some(&b"abcd"[..]));
        assert_eq!(s.next_line(), Err(LineTooLong { limit: 4 }));
        let mut s = LineSplitter::new(4);
        s.push(b"abcd\r");
        assert_eq!(s.next_line().unwrap(), None); // CR may be the line end
        s.push(b"x");
        assert!(s.next_line().is_err());
        let mut s = LineSplitter::new(4);
        s.push(b"ab\r");
        assert_eq!(s.next_line().unwrap(), None);
        assert_eq!(s.finish().unwrap(), Some(b"ab".to_vec()));
        assert_eq!(s.finish().unwrap(), None);
    }

    #[test]
    fn splitter_without_a_practical_limit() {
        // `usize::MAX` as "no limit" must not overflow (a panic in debug builds, every
        // partial line refused in release ones).
        let mut s = LineSplitter::new(usize::MAX);
        s.push(b"abc");
        assert_eq!(s.next_line().unwrap(), None);
        s.push(b"\r\n");
        assert_eq!(s.next_line().unwrap(), Some(&b"abc"[..]));
    }

    #[test]
    fn splitter_empty_lines() {
        let mut s = LineSplitter::new(10);
        s.push(b"\n\r\nx\n");
        let mut got = Vec::new();
        while let Some(l) = s.next_line().unwrap() {
            got.push(l.to_vec());
        }
        assert_eq!(got, [b"".to_vec(), b"".to_vec(), b"x".to_vec()]);
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        /// Bytes rich in CR and LF, and cut points into them.
        fn text_and_cuts() -> impl Strategy<Value = (Vec<u8>, Vec<usize>)> {
            let byte = prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'a'), any::<u8>()];
            (
                proptest::collection::vec(byte, 0..200),
                proptest::collection::vec(any::<usize>(), 0..8),
            )
        }

        fn chunks(data: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
            let mut points: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
            points.sort_unstable();
            let mut out = Vec::new();
            let mut last = 0;
            for p in points {
                out.push(data[last..p].to_vec());
                last = p;
            }
            out.push(data[last..].to_vec());
            out
        }

        /// The obvious whole-buffer definitions.
        fn crlf_to_lf_ref(d: &[u8]) -> Vec<u8> {
            let mut out = Vec::new();
            let mut i = 0;
            while i < d.len() {
                if d[i] == b'\r' && d.get(i + 1) == Some(&b'\n') {
                    out.push(b'\n');
                    i += 2;
                } else {
                    out.push(d[i]);
                    i += 1;
                }
            }
            out
        }

        fn lf_to_crlf_ref(d: &[u8]) -> Vec<u8> {
            let mut out = Vec::new();
            for (i, &b) in d.iter().enumerate() {
                if b == b'\n' && (i == 0 || d[i - 1] != b'\r') {
                    out.push(b'\r');
                }
                out.push(b);
            }
            out
        }

        proptest! {
            #[test]
            fn crlf_to_lf_any_chunking((data, cuts) in text_and_cuts()) {
                let mut c = CrlfToLf::new();
                let mut out = Vec::new();
                for ch in chunks(&data, &cuts) {
                    c.push(&ch, &mut out);
                }
                c.finish(&mut out);
                prop_assert_eq!(out, crlf_to_lf_ref(&data));
            }

            #[test]
            fn lf_to_crlf_any_chunking((data, cuts) in text_and_cuts()) {
                let mut c = LfToCrlf::new();
                let mut out = Vec::new();
                for ch in chunks(&data, &cuts) {
                    c.push(&ch, &mut out);
                }
                prop_assert_eq!(&out, &lf_to_crlf_ref(&data));
                // Every LF on the wire now has its CR; converting back restores the text
                // when it had no CRLF of its own.
                if !data.windows(2).any(|w| w == b"\r\n") {
                    prop_assert_eq!(crlf_to_lf_ref(&out), data);
                }
            }

            #[test]
            fn splitter_any_chunking((data, cuts) in text_and_cuts()) {
                let mut s = LineSplitter::new(1000);
                let mut got = Vec::new();
                for ch in chunks(&data, &cuts) {
                    s.push(&ch);
                    while let Some(l) = s.next_line().unwrap() {
                        got.push(l.to_vec());
                    }
                }
                if let Some(l) = s.finish().unwrap() {
                    got.push(l);
                }
                // Reference: split on LF, strip one CR before it.
                let mut want: Vec<Vec<u8>> = Vec::new();
                let mut parts: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
                let last = parts.pop().unwrap_or(&[]);
                for p in parts {
                    want.push(p.strip_suffix(b"\r").unwrap_or(p).to_vec());
                }
                if !last.is_empty() {
                    want.push(last.strip_suffix(b"\r").unwrap_or(last).to_vec());
                }
                prop_assert_eq!(got, want);
            }
        }
    }
}
