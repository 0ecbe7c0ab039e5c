//! The checks the fuzz targets `reply_parser` and `reply_decoders` run on every input; shared
//! (by `#[path]`) with `tests/fuzz_replay_replies.rs`, which replays the seed corpus through
//! them on stable. Every check panics on a violation.

#![allow(dead_code)]

use ftp_sansio::reply::{decode, Code, Limits, Reply, ReplyError, ReplyParser, ReplyRef};

/// What a parse produced: (code, raw) per reply, pending, error.
type Parsed = (Vec<(u16, Vec<u8>)>, bool, Option<ReplyError>);

/// Feeds `data` in chunks of the sizes `sizes` yields (cycled), with the push/drain loop,
/// checking the memory bound after every step and running every decoder on every reply.
fn feed(data: &[u8], limits: Limits, mut sizes: impl FnMut() -> usize) -> Parsed {
    let mut p = ReplyParser::with_limits(limits);
    let max_reply = p.limits().max_reply;
    let max_line = p.limits().max_line;
    let mut out = Vec::new();
    let mut rest = data;
    loop {
        let take = sizes().clamp(1, rest.len().max(1)).min(rest.len());
        let mut chunk = &rest[..take];
        rest = &rest[take..];
        loop {
            let n = p.push(chunk);
            chunk = &chunk[n..];
            assert!(p.buffered() <= max_reply, "buffered past the limit");
            assert!(p.capacity() <= max_reply, "allocated past the limit");
            loop {
                match p.next_reply() {
                    Ok(Some(r)) => {
                        check_reply(r, max_line, max_reply);
                        decode_all(r);
                        out.push((r.code().get(), r.raw().to_vec()));
                    }
                    Ok(None) => break,
                    Err(e) => {
                        assert_eq!(p.next_reply().as_ref().err(), Some(&e), "not sticky");
                        return (out, false, Some(e));
                    }
                }
            }
            if chunk.is_empty() {
                break;
            }
            assert!(n > 0, "push made no progress after draining");
        }
        if rest.is_empty() {
            return (out, p.has_partial(), None);
        }
    }
}

/// Structural checks of one reply.
fn check_reply(r: ReplyRef<'_>, max_line: usize, max_reply: usize) {
    let raw = r.raw();
    assert!(raw.len() <= max_reply);
    assert_eq!(raw.last(), Some(&b'\n'), "a reply ends with its line end");
    for l in raw.split_inclusive(|&b| b == b'\n') {
        assert!(l.len() <= max_line);
    }
    let first = r.first_line();
    let last = r.last_line();
    assert_eq!(&first[..3], r.code().to_string().as_bytes());
    assert!(matches!(first.get(3), None | Some(b' ') | Some(b'-')));
    assert_eq!(&last[..3], &first[..3]);
    assert_eq!(r.is_multiline(), first.get(3) == Some(&b'-'));
    if r.is_multiline() {
        assert!(matches!(last.get(3), None | Some(b' ')));
    }
    let lines: Vec<&[u8]> = r.lines().collect();
    assert_eq!(lines.first(), Some(&first));
    assert_eq!(lines.last(), Some(&last));
    assert_eq!(lines.len(), memchr_count(raw));
    let owned = r.to_owned();
    assert_eq!(owned.as_ref(), r);
    assert_eq!(owned.text(), r.text());
    assert_eq!(r.text().matches('\n').count(), lines.len() - 1);
}

fn memchr_count(b: &[u8]) -> usize {
    b.iter().filter(|&&c| c == b'\n').count()
}

/// A tiny deterministic generator for chunk sizes.
fn xorshift(mut s: u64) -> impl FnMut() -> usize {
    s |= 1;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s % 17) as usize + 1
    }
}

/// `reply_parser`: any input, whole, in pseudo-random chunks and byte at a time, under limits
/// picked from the input, gives the same replies / pending / error; memory stays bounded; the
/// replies are exactly a prefix of the input.
pub fn check_parser_input(data: &[u8]) {
    let sel = data.first().copied().unwrap_or(0) ^ data.last().copied().unwrap_or(0);
    let limits = match sel % 5 {
        0 | 1 => Limits::default(),
        2 => Limits {
            max_line: 16,
            max_reply: 64,
        },
        3 => Limits {
            max_line: 64,
            max_reply: 48,
        },
        _ => Limits {
            max_line: 1 + sel as usize,
            max_reply: 1 + 2 * sel as usize,
        },
    };
    let whole = feed(data, limits, || usize::MAX);
    let chunked = feed(
        data,
        limits,
        xorshift(data.len() as u64 * 31 + u64::from(sel)),
    );
    assert_eq!(chunked, whole, "chunking changed the result");
    if data.len() <= 4096 {
        assert_eq!(
            feed(data, limits, || 1),
            whole,
            "byte-at-a-time changed the result"
        );
    }
    let raw: Vec<u8> = whole.0.iter().flat_map(|r| r.1.iter().copied()).collect();
    assert!(
        data.starts_with(&raw),
        "replies are not a prefix of the input"
    );
    if let Some(e) = &whole.2 {
        if let ReplyError::NotAReply { line } | ReplyError::BadCode { line } = e {
            assert!(line.len() <= 128);
        }
    } else {
        assert_eq!(
            whole.1,
            raw.len() < data.len(),
            "pending iff bytes are left"
        );
    }
}

/// Runs every decoder on `r` and checks what each accepts.
fn decode_all(r: ReplyRef<'_>) {
    let code = r.code().get();
    let single = !r.is_multiline();
    let text = r.first_line().get(4..).unwrap_or(&[]);
    if let Ok(a) = decode::pasv(r) {
        assert!(code == 227 && single && a.port != 0);
        let [h1, h2, h3, h4] = a.ip.octets();
        let again = format!(
            "227 ({h1},{h2},{h3},{h4},{},{})",
            a.port >> 8,
            a.port & 0xFF
        );
        assert_eq!(
            decode::pasv(reply(227, &[again.as_bytes()]).as_ref()),
            Ok(a)
        );
    }
    if let Ok(p) = decode::epsv(r) {
        assert!(code == 229 && single && p != 0);
        let again = format!("229 ok (|||{p}|)");
        assert_eq!(
            decode::epsv(reply(229, &[again.as_bytes()]).as_ref()),
            Ok(p)
        );
    }
    if let Ok(p) = decode::path(r) {
        assert!(code == 257 && single);
        assert!(!p.contains(&b'\r') && !p.contains(&b'\n'));
        let mut again = b"257 \"".to_vec();
        for &b in &p {
            again.push(b);
            if b == b'"' {
                again.push(b'"');
            }
        }
        again.extend_from_slice(b"\" is the directory");
        assert_eq!(decode::path(reply(257, &[&again]).as_ref()), Ok(p));
    }
    if let Ok(n) = decode::size(r) {
        assert!(code == 213 && single);
        let digits: &[u8] = trim(text);
        let stripped = {
            let z = digits.iter().take_while(|&&c| c == b'0').count();
            if z == digits.len() {
                &digits[z - 1..]
            } else {
                &digits[z..]
            }
        };
        assert_eq!(stripped, n.to_string().as_bytes());
    }
    if let Ok(t) = decode::mdtm(r) {
        assert!(code == 213 && single);
        // The timestamp written back in MDTM form is the reply text.
        let s = t.to_string();
        let compact: String = s
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        assert_eq!(compact.as_bytes(), trim(text));
    }
    if let Ok(f) = decode::feat(r) {
        assert_eq!(code, 211);
        assert!(f.len() <= r.lines().count().saturating_sub(2));
        for feature in f.iter() {
            assert!(!feature.name.is_empty());
            assert!(!feature.name.contains(' '));
            assert_eq!(feature.name, feature.name.to_uppercase());
            assert!(f.contains(&feature.name.to_lowercase()) || !feature.name.is_ascii());
        }
    }
    match decode::transfer_size(r) {
        Ok(Some(n)) => {
            assert!(code == 150 || code == 125);
            // Some "(digits byte" in the reply has exactly that value.
            let lower = r.raw().to_ascii_lowercase();
            let found = lower.split(|&b| b == b'(').skip(1).any(|s| {
                let d = s.iter().take_while(|c| c.is_ascii_digit()).count();
                d > 0
                    && s[d..].starts_with(b" byte")
                    && std::str::from_utf8(&s[..d]).unwrap().parse::<u64>() == Ok(n)
            });
            assert!(found, "size {n} not in the reply");
        }
        Ok(None) => assert!(code == 150 || code == 125),
        Err(_) => {}
    }
}

fn trim(mut b: &[u8]) -> &[u8] {
    while let [b' ', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' '] = b {
        b = rest;
    }
    b
}

fn reply(code: u16, lines: &[&[u8]]) -> Reply {
    Reply::from_lines(Code::new(code).unwrap(), lines)
}

/// The codes whose decoders are exercised directly.
const CODES: [u16; 7] = [227, 229, 257, 213, 211, 150, 125];

/// `reply_decoders`: parse `data` as a reply stream and decode every reply; and wrap the
/// input's text (a leading `ddd ` / `ddd-` stripped, split at LF) into a reply of each code the
/// decoders handle, single- and multi-line, and decode that. Nothing may panic, and whatever a
/// decoder accepts must be consistent (see `decode_all`).
pub fn check_decoder_input(data: &[u8]) {
    let mut p = ReplyParser::new();
    let mut rest = data;
    'stream: while !rest.is_empty() {
        let n = p.push(rest);
        rest = &rest[n..];
        loop {
            match p.next_reply() {
                Ok(Some(r)) => decode_all(r),
                Ok(None) => break,
                Err(_) => break 'stream,
            }
        }
    }

    let text = match data {
        [a, b, c, s, rest @ ..]
            if [a, b, c].iter().all(|d| d.is_ascii_digit()) && matches!(s, b' ' | b'-') =>
        {
            rest
        }
        _ => data,
    };
    let parts: Vec<&[u8]> = text
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .collect();
    for code in CODES {
        let digits = code.to_string();
        // Single line: the first part.
        let mut line = digits.clone().into_bytes();
        line.push(b' ');
        line.extend_from_slice(parts[0]);
        decode_all(reply(code, &[&line]).as_ref());
        // Multi-line: every part inside an opening and a closing line.
        if parts.len() > 1 {
            let open = format!("{digits}-Start");
            let close = format!("{digits} End");
            let mut lines: Vec<&[u8]> = vec![open.as_bytes()];
            lines.extend(parts.iter().copied());
            lines.push(close.as_bytes());
            decode_all(reply(code, &lines).as_ref());
        }
    }
}
