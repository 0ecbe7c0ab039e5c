//! Typed decoders for the replies a client depends on.
//!
//! Each decoder checks the reply code first ([`DecodeError::UnexpectedCode`]) and refuses
//! malformed text with a typed error; none panics on any input.
//!
//! | decoder | reply | form |
//! |---|---|---|
//! | [`pasv`] | 227 | `(h1,h2,h3,h4,p1,p2)`, without parentheses, or `=h1,…` (RFC 959 §4.1.2, RFC 1123 §4.1.2.6) |
//! | [`epsv`] | 229 | `(<d><d><d>port<d>)` with any delimiter (RFC 2428 §3) |
//! | [`path`] | 257 | `"name"` with doubled quotes (RFC 959 Appendix II) |
//! | [`size`] | 213 | decimal bytes (RFC 3659 §4) |
//! | [`mdtm`] | 213 | `YYYYMMDDHHMMSS[.fff]` (RFC 3659 §2.3, §3) |
//! | [`feat`] | 211 | one feature a line (RFC 2389 §3) |
//! | [`transfer_size`] | 150, 125 | the last `(N bytes)` |
//!
//! ```
//! use ftp_sansio::reply::{decode, ReplyParser};
//! let mut p = ReplyParser::new();
//! p.push(b"227 Entering Passive Mode (192,168,1,2,195,85).\r\n");
//! let r = p.next_reply().unwrap().unwrap();
//! let addr = decode::pasv(r).unwrap();
//! assert_eq!(addr.socket_addr().to_string(), "192.168.1.2:50005");
//! assert!(decode::epsv(r).is_err());
//! ```

use super::ReplyRef;
use crate::time::Timestamp;
use core::net::{Ipv4Addr, SocketAddrV4};

/// The address of a 227 reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PassiveAddr {
    /// The IPv4 address the server wrote.
    pub ip: Ipv4Addr,
    /// The port (1..=65535).
    pub port: u16,
}

impl PassiveAddr {
    /// As a socket address.
    pub fn socket_addr(&self) -> SocketAddrV4 {
        SocketAddrV4::new(self.ip, self.port)
    }
}

/// One FEAT line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Feature {
    /// The feature label, upper-cased.
    pub name: String,
    /// The parameters as sent (may be empty).
    pub params: String,
}

/// The features of a 211 FEAT reply, in the order sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Features {
    list: Vec<Feature>,
}

impl Features {
    /// Whether the feature `name` is present (case ignored).
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
    /// The parameters of `name` (case ignored), if present.
    pub fn params(&self, name: &str) -> Option<&str> {
        self.get(name).map(|f| f.params.as_str())
    }
    /// The feature `name` (case ignored), if present.
    pub fn get(&self, name: &str) -> Option<&Feature> {
        self.list.iter().find(|f| f.name.eq_ignore_ascii_case(name))
    }
    /// The features in order.
    pub fn iter(&self) -> core::slice::Iter<'_, Feature> {
        self.list.iter()
    }
    /// Number of features.
    pub fn len(&self) -> usize {
        self.list.len()
    }
    /// Whether there are no features.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// Why a decoder refused a reply.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The reply has a code the decoder does not handle.
    #[error("unexpected reply code {got} (expected {expected})")]
    UnexpectedCode {
        /// The code received.
        got: u16,
        /// The code(s) expected, e.g. `"227"` or `"150 or 125"`.
        expected: &'static str,
    },
    /// The decoder needs a single-line reply.
    #[error("expected a single-line {code} reply")]
    MultiLine {
        /// The code received.
        code: u16,
    },
    /// The reply text does not have the expected form.
    #[error("malformed {kind} reply: {reason}")]
    Malformed {
        /// Which reply (`"PASV"`, `"EPSV"`, `"PWD"`, `"SIZE"`, `"MDTM"`, `"FEAT"`, `"transfer"`).
        kind: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

/// The text of a single-line reply after its code and separator, after checking the code.
fn single_text<'a>(
    r: &ReplyRef<'a>,
    expected: &'static str,
    ok: impl Fn(u16) -> bool,
) -> Result<&'a [u8], DecodeError> {
    let code = r.code().get();
    if !ok(code) {
        return Err(DecodeError::UnexpectedCode {
            got: code,
            expected,
        });
    }
    if r.is_multiline() {
        return Err(DecodeError::MultiLine { code });
    }
    Ok(r.first_line().get(4..).unwrap_or(&[]))
}

/// Reads a run of ASCII digits at the start of `b`: (value saturated at `u64::MAX` + 1 as
/// `None`, digits consumed). `None` value means it does not fit a `u64`.
fn digits(b: &[u8]) -> (Option<u64>, usize) {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut v: Option<u64> = Some(0);
    for &c in &b[..n] {
        v = v
            .and_then(|v| v.checked_mul(10))
            .and_then(|v| v.checked_add(u64::from(c - b'0')));
    }
    (v, n)
}

/// Reads exactly six comma-separated numbers at the start of `b`; returns them and the bytes
/// consumed. Numbers must be 0..=255.
fn six_numbers(b: &[u8]) -> Result<([u8; 6], usize), DecodeError> {
    const M: fn(&'static str) -> DecodeError = |reason| DecodeError::Malformed {
        kind: "PASV",
        reason,
    };
    let mut out = [0u8; 6];
    let mut i = 0;
    for (k, slot) in out.iter_mut().enumerate() {
        if k > 0 {
            if b.get(i) != Some(&b',') {
                return Err(M("expected six comma-separated numbers"));
            }
            i += 1;
        }
        let (v, n) = digits(&b[i..]);
        if n == 0 {
            return Err(M("expected six comma-separated numbers"));
        }
        *slot = v
            .and_then(|v| u8::try_from(v).ok())
            .ok_or(M("number above 255"))?;
        i += n;
    }
    Ok((out, i))
}

/// Decodes a 227 reply: `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)` (RFC 959 §4.1.2).
///
/// With parentheses their content must be exactly six numbers; without them (as RFC 1123
/// §4.1.2.6 asks clients to accept, e.g. the `=h1,h2,…` form) six numbers are read from the
/// first digit on. Each number is 0–255 (zero padding allowed); port 0 and a seventh
/// number are refused.
///
/// ```
/// use ftp_sansio::reply::{decode, Code, Reply};
/// let r = Reply::from_lines(Code::new(227).unwrap(), &[b"227 Entering Passive Mode (127,0,0,1,195,80)."]);
/// let a = decode::pasv(r.as_ref()).unwrap();
/// assert_eq!((a.ip.to_string().as_str(), a.port), ("127.0.0.1", 50000));
/// ```
pub fn pasv(r: ReplyRef<'_>) -> Result<PassiveAddr, DecodeError> {
    const M: fn(&'static str) -> DecodeError = |reason| DecodeError::Malformed {
        kind: "PASV",
        reason,
    };
    let t = single_text(&r, "227", |c| c == 227)?;
    let n = if let Some(lp) = memchr::memchr(b'(', t) {
        let inner = &t[lp + 1..];
        let rp = memchr::memchr(b')', inner).ok_or(M("unclosed parenthesis"))?;
        let inner = &inner[..rp];
        let (n, used) = six_numbers(inner)?;
        if used != inner.len() {
            return Err(M("extra text inside the parentheses"));
        }
        n
    } else {
        let first = t
            .iter()
            .position(u8::is_ascii_digit)
            .ok_or(M("no address"))?;
        let (n, used) = six_numbers(&t[first..])?;
        if t.get(first + used) == Some(&b',') {
            return Err(M("more than six numbers"));
        }
        n
    };
    let port = u16::from_be_bytes([n[4], n[5]]);
    if port == 0 {
        return Err(M("port 0"));
    }
    Ok(PassiveAddr {
        ip: Ipv4Addr::new(n[0], n[1], n[2], n[3]),
        port,
    })
}

/// Decodes a 229 reply: `229 Entering Extended Passive Mode (|||port|)` (RFC 2428 §3).
///
/// The delimiter may be any printable ASCII byte but a digit, used four times; the first two
/// fields must be empty; the port is digits only, 1–65535.
///
/// ```
/// use ftp_sansio::reply::{decode, Code, Reply};
/// let r = Reply::from_lines(Code::new(229).unwrap(), &[b"229 Extended Passive mode OK (!!!30014!)"]);
/// assert_eq!(decode::epsv(r.as_ref()), Ok(30014));
/// ```
pub fn epsv(r: ReplyRef<'_>) -> Result<u16, DecodeError> {
    const M: fn(&'static str) -> DecodeError = |reason| DecodeError::Malformed {
        kind: "EPSV",
        reason,
    };
    let t = single_text(&r, "229", |c| c == 229)?;
    let lp = memchr::memchr(b'(', t).ok_or(M("no parenthesis"))?;
    let inner = &t[lp + 1..];
    let rp = memchr::memchr(b')', inner).ok_or(M("unclosed parenthesis"))?;
    let inner = &inner[..rp];
    let [d, d1, d2, port @ .., d3] = inner else {
        return Err(M("too short"));
    };
    if !(33..=126).contains(d) || d.is_ascii_digit() {
        return Err(M("bad delimiter"));
    }
    if d1 != d || d2 != d || d3 != d {
        return Err(M("expected (<d><d><d>port<d>) with empty address fields"));
    }
    let (v, n) = digits(port);
    if n == 0 || n != port.len() {
        return Err(M("port is not a decimal number"));
    }
    match v {
        Some(p @ 1..=65535) => Ok(p as u16),
        _ => Err(M("port out of range")),
    }
}

/// Decodes a 257 reply (PWD, MKD): `257 "name" commentary` (RFC 959 Appendix II), with
/// doubled quotes inside the name undone. The name must come first and its closing quote be
/// followed by a space or the line end; CR inside is refused. The bytes are returned as sent
/// (UTF-8 per RFC 2640, or whatever the server uses).
///
/// ```
/// use ftp_sansio::reply::{decode, Code, Reply};
/// let r = Reply::from_lines(Code::new(257).unwrap(), &[br#"257 "/a ""quoted"" dir" created"#]);
/// assert_eq!(decode::path(r.as_ref()).unwrap(), br#"/a "quoted" dir"#);
/// ```
pub fn path(r: ReplyRef<'_>) -> Result<Vec<u8>, DecodeError> {
    const M: fn(&'static str) -> DecodeError = |reason| DecodeError::Malformed {
        kind: "PWD",
        reason,
    };
    let t = single_text(&r, "257", |c| c == 257)?;
    let Some((b'"', mut rest)) = t.split_first() else {
        return Err(M("the reply does not start with a quoted name"));
    };
    let mut out = Vec::with_capacity(rest.len());
    loop {
        let q = memchr::memchr(b'"', rest).ok_or(M("unterminated quote"))?;
        if memchr::memchr2(b'\r', b'\n', &rest[..q]).is_some() {
            return Err(M("CR or LF in the name"));
        }
        out.extend_from_slice(&rest[..q]);
        match rest.get(q + 1) {
            Some(b'"') => {
                out.push(b'"');
                rest = &rest[q + 2..];
            }
            None | Some(b' ') => return Ok(out),
            Some(_) => return Err(M("closing quote not followed by a space or the line end")),
        }
    }
}

/// Trims spaces on both sides.
fn trim_spaces(mut b: &[u8]) -> &[u8] {
    while let [b' ', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' '] = b {
        b = rest;
    }
    b
}

/// Decodes a 213 SIZE reply: the size in bytes (RFC 3659 §4), digits only (surrounding spaces
/// trimmed), at most `u64::MAX`.
///
/// ```
/// use ftp_sansio::reply::{decode, Code, Reply};
/// let r = Reply::from_lines(Code::new(213).unwrap(), &[b"213 1048576"]);
/// assert_eq!(decode::size(r.as_ref()), Ok(1048576));
/// ```
pub fn size(r: ReplyRef<'_>) -> Result<u64, DecodeError> {
    const M: fn(&'static str) -> DecodeError = |reason| DecodeError::Malformed {
        kind: "SIZE",
        reason,
    };
    let t = trim_spaces(single_text(&r, "213", |c| c == 213)?);
    let (v, n) = digits(t);
    if n == 0 || n != t.len() {
        return Err(M("not a decimal number"));
    }
    v.ok_or(M("size does not fit 64 bits"))
}

/// Decodes a 213 MDTM reply: `YYYYMMDDHHMMSS[.fff]` (RFC 3659 §2.3, §3), a UTC time kept
/// as written with its precision. Year 1000–9999, a real calendar date, second 00–60; a
/// fraction of 1 to 9 digits (longer ones are refused rather than cut).
///
/// ```
/// use ftp_sansio::reply::{decode, Code, Reply};
/// let r = Reply::from_lines(Code::new(213).unwrap(), &[b"213 19980615100045.014"]);
/// assert_eq!(decode::mdtm(r.as_ref()).unwrap().to_string(), "1998-06-15T10:00:45.014");
/// ```
pub fn mdtm(r: ReplyRef<'_>) -> Result<Timestamp, DecodeError> {
    const M: fn(&'static str) -> DecodeError = |reason| DecodeError::Malformed {
        kind: "MDTM",
        reason,
    };
    let t = trim_spaces(single_text(&r, "213", |c| c == 213)?);
    if t.len() < 14 || !t[..14].iter().all(u8::is_ascii_digit) {
        return Err(M("expected YYYYMMDDHHMMSS"));
    }
    let num = |a: usize, b: usize| {
        t[a..b]
            .iter()
            .fold(0u16, |v, c| v * 10 + u16::from(c - b'0'))
    };
    let year = num(0, 4);
    if year < 1000 {
        return Err(M("year before 1000"));
    }
    let ts = Timestamp::new(
        year,
        num(4, 6) as u8,
        num(6, 8) as u8,
        num(8, 10) as u8,
        num(10, 12) as u8,
        num(12, 14) as u8,
    )
    .ok_or(M("date or time out of range"))?;
    match &t[14..] {
        [] => Ok(ts),
        [b'.', frac @ ..] => {
            if frac.is_empty() || !frac.iter().all(u8::is_ascii_digit) {
                return Err(M("bad fraction"));
            }
            if frac.len() > 9 {
                return Err(M("fraction longer than 9 digits"));
            }
            let v = frac.iter().fold(0u32, |v, c| v * 10 + u32::from(c - b'0'));
            ts.with_fraction(v, frac.len() as u8)
                .ok_or(M("bad fraction"))
        }
        _ => Err(M("extra text after the time")),
    }
}

/// Decodes a 211 FEAT reply (RFC 2389 §3.2): every line between the first and the last is
/// one feature, ` LABEL [params]`; labels are upper-cased, params kept as sent, blank lines
/// skipped. A single-line 211 means no features. Non-UTF-8 feature lines are refused.
///
/// ```
/// use ftp_sansio::reply::{decode, Code, Reply};
/// let r = Reply::from_lines(
///     Code::new(211).unwrap(),
///     &[b"211-Features:", b" MLST type*;size*;modify*;", b" utf8", b"211 End"],
/// );
/// let f = decode::feat(r.as_ref()).unwrap();
/// assert!(f.contains("UTF8"));
/// assert_eq!(f.params("mlst"), Some("type*;size*;modify*;"));
/// assert_eq!(f.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["MLST", "UTF8"]);
/// ```
pub fn feat(r: ReplyRef<'_>) -> Result<Features, DecodeError> {
    const M: fn(&'static str) -> DecodeError = |reason| DecodeError::Malformed {
        kind: "FEAT",
        reason,
    };
    let code = r.code().get();
    if code != 211 {
        return Err(DecodeError::UnexpectedCode {
            got: code,
            expected: "211",
        });
    }
    let mut list = Vec::new();
    let mut lines = r.lines();
    lines.next();
    let mut prev: Option<&[u8]> = None;
    // Every line but the first and the last.
    for line in lines {
        if let Some(line) = prev.replace(line) {
            if line.iter().all(|&c| c == b' ' || c == b'\t') {
                continue;
            }
            let s = line.strip_prefix(b" ").unwrap_or(line);
            let s = core::str::from_utf8(s).map_err(|_| M("feature line is not UTF-8"))?;
            let (name, params) = s.split_once(' ').unwrap_or((s, ""));
            if name.is_empty() {
                return Err(M("empty feature name"));
            }
            list.push(Feature {
                name: name.to_uppercase(),
                params: params.to_owned(),
            });
        }
    }
    Ok(Features { list })
}

/// Decodes the expected transfer size of a 150 or 125 reply: the last `(N bytes)` (or
/// `(1 byte)`, case ignored) in it, `None` when it states no size. The last one, because a
/// file name written before it may hold the same pattern. All lines are searched, so a
/// multi-line 150 is accepted too.
///
/// ```
/// use ftp_sansio::reply::{decode, Code, Reply};
/// let r = Reply::from_lines(
///     Code::new(150).unwrap(),
///     &[b"150 Opening BINARY mode data connection for a (5 bytes) (11 bytes)."],
/// );
/// assert_eq!(decode::transfer_size(r.as_ref()), Ok(Some(11)));
/// let r = Reply::from_lines(Code::new(125).unwrap(), &[b"125 Data connection already open; Transfer starting."]);
/// assert_eq!(decode::transfer_size(r.as_ref()), Ok(None));
/// ```
pub fn transfer_size(r: ReplyRef<'_>) -> Result<Option<u64>, DecodeError> {
    let code = r.code().get();
    if code != 150 && code != 125 {
        return Err(DecodeError::UnexpectedCode {
            got: code,
            expected: "150 or 125",
        });
    }
    // Search the text after the code of every line, from the end.
    let text = r.raw();
    for lp in memchr::memrchr_iter(b'(', text) {
        let after = &text[lp + 1..];
        let (v, n) = digits(after);
        if n == 0 {
            continue;
        }
        let rest = &after[n..];
        let unit = if rest.len() >= 6 && rest[..6].eq_ignore_ascii_case(b" bytes") {
            6
        } else if rest.len() >= 5 && rest[..5].eq_ignore_ascii_case(b" byte") {
            5
        } else {
            continue;
        };
        if rest.get(unit) != Some(&b')') {
            continue;
        }
        return v.map(Some).ok_or(DecodeError::Malformed {
            kind: "transfer",
            reason: "size does not fit 64 bits",
        });
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::{Code, Reply};

    fn one(line: &str) -> Reply {
        let code = Code::new(line[..3].parse().unwrap()).unwrap();
        Reply::from_lines(code, &[line.as_bytes()])
    }

    fn multi(lines: &[&str]) -> Reply {
        let code = Code::new(lines[0][..3].parse().unwrap()).unwrap();
        let v: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
        Reply::from_lines(code, &v)
    }

    fn malformed<T: core::fmt::Debug>(r: Result<T, DecodeError>) -> bool {
        matches!(r, Err(DecodeError::Malformed { .. }))
    }

    #[test]
    fn pasv_real_servers() {
        let cases = [
            // vsftpd
            (
                "227 Entering Passive Mode (127,0,0,1,195,80).",
                [127, 0, 0, 1],
                50000,
            ),
            // ProFTPD
            (
                "227 Entering Passive Mode (127,0,0,1,156,64).",
                [127, 0, 0, 1],
                40000,
            ),
            // Pure-FTPd
            (
                "227 Entering Passive Mode (127,0,0,1,117,48)",
                [127, 0, 0, 1],
                30000,
            ),
            // IIS
            (
                "227 Entering Passive Mode (10,0,0,5,19,137).",
                [10, 0, 0, 5],
                5001,
            ),
            // pyftpdlib
            (
                "227 Entering passive mode (127,0,0,1,143,221).",
                [127, 0, 0, 1],
                36829,
            ),
            // no parentheses (RFC 1123 §4.1.2.6) and the `=` form
            (
                "227 Entering Passive Mode 192,168,1,2,195,85",
                [192, 168, 1, 2],
                50005,
            ),
            (
                "227 Entering Passive Mode =192,168,1,2,195,85",
                [192, 168, 1, 2],
                50005,
            ),
            ("227 (010,000,000,001,004,001)", [10, 0, 0, 1], 1025),
        ];
        for (line, ip, port) in cases {
            let a = pasv(one(line).as_ref()).unwrap();
            assert_eq!(a.ip, Ipv4Addr::from(ip), "{line}");
            assert_eq!(a.port, port, "{line}");
            assert_eq!(a.socket_addr().port(), port);
        }
    }

    #[test]
    fn pasv_refusals() {
        for line in [
            "227 Entering Passive Mode (127,0,0,1,0,0).",
            "227 Entering Passive Mode (256,0,0,1,4,1).",
            "227 Entering Passive Mode (127,0,0,1,4,256).",
            "227 Entering Passive Mode (127,0,0,1,4).",
            "227 Entering Passive Mode (127,0,0,1,4,1,7).",
            "227 Entering Passive Mode (127, 0, 0, 1, 4, 1).",
            "227 Entering Passive Mode (-1,0,0,1,4,1).",
            "227 Entering Passive Mode (127,0,0,1,4,1",
            "227 Entering Passive Mode 127,0,0,1,4,1,7",
            "227 Entering Passive Mode",
            "227 Entering Passive Mode (99999999999999999999999,0,0,1,4,1)",
        ] {
            assert!(malformed(pasv(one(line).as_ref())), "{line}");
        }
        assert_eq!(
            pasv(one("500 PASV not understood").as_ref()),
            Err(DecodeError::UnexpectedCode {
                got: 500,
                expected: "227"
            })
        );
        assert_eq!(
            pasv(multi(&["227-a", "227 (1,2,3,4,5,6)"]).as_ref()),
            Err(DecodeError::MultiLine { code: 227 })
        );
    }

    #[test]
    fn epsv_real_servers() {
        for (line, port) in [
            ("229 Entering Extended Passive Mode (|||50005|)", 50005), // vsftpd
            ("229 Entering Extended Passive Mode (|||40000|)", 40000), // ProFTPD
            ("229 Extended Passive mode OK (|||30014|)", 30014),       // Pure-FTPd
            ("229 Entering Extended Passive Mode (|||5001|)", 5001),   // IIS
            ("229 Entering extended passive mode (|||46343|).", 46343), // pyftpdlib
            ("229 ok (!!!1!)", 1),
            ("229 ok (~~~65535~)", 65535),
        ] {
            assert_eq!(epsv(one(line).as_ref()), Ok(port), "{line}");
        }
        for line in [
            "229 Entering Extended Passive Mode (|||0|)",
            "229 Entering Extended Passive Mode (|||65536|)",
            "229 Entering Extended Passive Mode (|1|127.0.0.1|5000|)",
            "229 Entering Extended Passive Mode (|||+5000|)",
            "229 Entering Extended Passive Mode (||| 5000|)",
            "229 Entering Extended Passive Mode (1115000|)",
            "229 Entering Extended Passive Mode (|||5000!)",
            "229 Entering Extended Passive Mode (||||)",
            "229 Entering Extended Passive Mode (|||5000|",
            "229 Entering Extended Passive Mode |||5000|",
            "229 (   5000 )",
            "229 (|||99999999999999999999999|)",
        ] {
            assert!(malformed(epsv(one(line).as_ref())), "{line}");
        }
        assert!(matches!(
            epsv(one("227 (1,2,3,4,5,6)").as_ref()),
            Err(DecodeError::UnexpectedCode { got: 227, .. })
        ));
    }

    #[test]
    fn path_real_servers() {
        for (line, p) in [
            (r#"257 "/home/ftp" is the current directory"#, "/home/ftp"), // vsftpd
            (r#"257 "/" is the current directory"#, "/"),                 // ProFTPD
            (r#"257 "/" is your current location"#, "/"),                 // Pure-FTPd
            (r#"257 "/pub" is current directory."#, "/pub"),              // IIS
            (r#"257 "/" is the current directory."#, "/"),                // pyftpdlib
            (
                r#"257 "/new dir" - Directory successfully created"#,
                "/new dir",
            ), // ProFTPD MKD
            (r#"257 "/a ""quoted"" dir" created"#, r#"/a "quoted" dir"#),
            (r#"257 """""#, r#"""#),
            (r#"257 "/été""#, "/été"),
        ] {
            assert_eq!(path(one(line).as_ref()).unwrap(), p.as_bytes(), "{line}");
        }
        for line in [
            "257 /home is cwd",
            r#"257 "/unterminated"#,
            r#"257 "/a"b" created"#,
            "257 \"/a\rb\" x",
            r#"257 MKD command successful "/x""#,
        ] {
            assert!(malformed(path(one(line).as_ref())), "{line}");
        }
        assert!(matches!(
            path(one(r#"250 "/x" ok"#).as_ref()),
            Err(DecodeError::UnexpectedCode { got: 250, .. })
        ));
        // Non-UTF-8 names survive as bytes.
        let r = Reply::from_lines(Code::new(257).unwrap(), &[b"257 \"/f\xfcr\" ok"]);
        assert_eq!(path(r.as_ref()).unwrap(), b"/f\xfcr");
    }

    #[test]
    fn size_replies() {
        assert_eq!(size(one("213 1234").as_ref()), Ok(1234)); // vsftpd, ProFTPD, IIS
        assert_eq!(size(one("213 0").as_ref()), Ok(0));
        assert_eq!(size(one("213  42 ").as_ref()), Ok(42));
        assert_eq!(size(one("213 18446744073709551615").as_ref()), Ok(u64::MAX));
        for line in [
            "213 18446744073709551616",
            "213 12a",
            "213 -1",
            "213 ",
            "213 1 2",
        ] {
            assert!(malformed(size(one(line).as_ref())), "{line}");
        }
        assert!(matches!(
            size(one("550 Could not get file size.").as_ref()),
            Err(DecodeError::UnexpectedCode { got: 550, .. })
        ));
    }

    #[test]
    fn mdtm_replies() {
        let ok = |l: &str| mdtm(one(l).as_ref()).unwrap().to_string();
        assert_eq!(ok("213 20170310140509"), "2017-03-10T14:05:09"); // vsftpd, ProFTPD, IIS
        assert_eq!(ok("213 19980615100045.014"), "1998-06-15T10:00:45.014");
        assert_eq!(ok("213 20161231235960"), "2016-12-31T23:59:60");
        assert_eq!(
            ok("213 20170310140509.123456789"),
            "2017-03-10T14:05:09.123456789"
        );
        for line in [
            "213 20171310140509",
            "213 20170230140509",
            "213 09990310140509",
            "213 20170310140509.",
            "213 20170310140509.01a",
            "213 20170310140509.1234567890",
            "213 2017031014050",
            "213 20170310140509 GMT",
            "213 2017-03-10 14:05:09",
        ] {
            assert!(malformed(mdtm(one(line).as_ref())), "{line}");
        }
        assert!(mdtm(one("550 No such file").as_ref()).is_err());
    }

    #[test]
    fn feat_real_servers() {
        // vsftpd 3.0.3
        let f = feat(
            multi(&[
                "211-Features:",
                " EPRT",
                " EPSV",
                " MDTM",
                " PASV",
                " REST STREAM",
                " SIZE",
                " TVFS",
                " UTF8",
                "211 End",
            ])
            .as_ref(),
        )
        .unwrap();
        assert_eq!(f.len(), 8);
        assert_eq!(f.params("rest"), Some("STREAM"));
        assert!(f.contains("utf8") && !f.contains("MLST"));
        // Pure-FTPd style with lower-case label and blank line
        let f = feat(
            multi(&[
                "211-Extensions supported:",
                " mlst size*;type*;modify*;",
                "",
                " UTF8",
                "211 End.",
            ])
            .as_ref(),
        )
        .unwrap();
        let names: Vec<_> = f
            .iter()
            .map(|x| (x.name.as_str(), x.params.as_str()))
            .collect();
        assert_eq!(names, [("MLST", "size*;type*;modify*;"), ("UTF8", "")]);
        // single-line: no features
        assert!(feat(one("211 no-features").as_ref()).unwrap().is_empty());
        assert!(feat(one("500 FEAT not understood").as_ref()).is_err());
        let bad = Reply::from_lines(Code::new(211).unwrap(), &[b"211-x", b" F\xfcR", b"211 End"]);
        assert!(malformed(feat(bad.as_ref())));
        assert!(malformed(feat(
            multi(&["211-x", "  ", "  X", "211 End"]).as_ref()
        )));
    }

    #[test]
    fn transfer_size_real_servers() {
        for (line, v) in [
            (
                "150 Opening BINARY mode data connection for file.bin (1234 bytes).",
                Some(1234),
            ), // vsftpd
            (
                "150 Opening BINARY mode data connection for file.bin (1234 bytes)",
                Some(1234),
            ), // ProFTPD
            ("150 Accepted data connection", None), // Pure-FTPd
            ("125 Data connection already open; Transfer starting.", None), // IIS
            ("150 File status okay. About to open data connection.", None), // pyftpdlib
            ("150 x (1 byte)", Some(1)),
            ("150 x (11 BYTES)", Some(11)),
            ("150 a (5 bytes) (11 bytes).", Some(11)),
            ("150 a (11 bytes) (x)", Some(11)),
            ("150 a (bytes) ( 5 bytes) (5 bytes", None),
        ] {
            assert_eq!(transfer_size(one(line).as_ref()), Ok(v), "{line}");
        }
        assert!(malformed(transfer_size(
            one("150 x (18446744073709551616 bytes)").as_ref()
        )));
        assert!(matches!(
            transfer_size(one("226 Transfer complete (5 bytes)").as_ref()),
            Err(DecodeError::UnexpectedCode { got: 226, .. })
        ));
        // Pure-FTPd sends a multi-line 150 for downloads.
        assert_eq!(
            transfer_size(
                multi(&["150-Accepted data connection", "150 (7 bytes) to download"]).as_ref()
            ),
            Ok(Some(7))
        );
    }
}
