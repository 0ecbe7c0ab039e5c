//! VMS lines: `NAME.EXT;1  9/9  2-JUN-1998 07:32:04  [GROUP,OWNER]  (RWED,RWED,RWED,RE)`.
//!
//! The name keeps its `;version`; a name ending in `.DIR` (before the version) is a
//! directory. The size column counts blocks, not bytes, so no size is reported. The time
//! has minutes or seconds (and optionally hundredths). After it only `[owner]` and
//! `(protection)` columns may follow.

use super::{month_ci, parse_small, EntryKind, Fields, ListFormat, Span};
use crate::time::Timestamp;

fn all_digits(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(u8::is_ascii_digit)
}

fn skip_spaces(line: &[u8], mut i: usize) -> usize {
    while i < line.len() && line[i] == b' ' {
        i += 1;
    }
    i
}

/// The next space-separated token starting at `i` (after at least one space unless `i` is
/// 0): its span.
fn token(line: &[u8], i: usize) -> Option<Span> {
    let s = skip_spaces(line, i);
    if (s == i && i != 0) || s >= line.len() {
        return None;
    }
    let e = memchr::memchr(b' ', &line[s..]).map_or(line.len(), |p| s + p);
    Some(Span::new(s, e))
}

pub(super) fn parse(line: &[u8]) -> Option<Fields> {
    // NAME;VERSION
    let name = token(line, 0)?;
    let n = name.get(line);
    let semi = memchr::memrchr(b';', n)?;
    if semi == 0 || !all_digits(&n[semi + 1..]) {
        return None;
    }
    let base = &n[..semi];
    let kind = if base.len() >= 4 && base[base.len() - 4..].eq_ignore_ascii_case(b".DIR") {
        EntryKind::Dir
    } else {
        EntryKind::File
    };
    // Blocks used[/allocated].
    let blocks = token(line, name.end)?;
    let b = blocks.get(line);
    match memchr::memchr(b'/', b) {
        Some(p) if all_digits(&b[..p]) && all_digits(&b[p + 1..]) => {}
        None if all_digits(b) => {}
        _ => return None,
    }
    // D-MON-YYYY
    let date = token(line, blocks.end)?;
    let d = date.get(line);
    let mut parts = d.split(|&c| c == b'-');
    let (day, mon, year) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !(1..=2).contains(&day.len()) || year.len() != 4 {
        return None;
    }
    let day = u8::try_from(parse_small(day)?).ok()?;
    let month = month_ci(mon)?;
    let year = u16::try_from(parse_small(year)?).ok()?;
    // HH:MM[:SS[.ff]]
    let time = token(line, date.end)?;
    let mtime = parse_time(time.get(line), year, month, day)?;
    // Optional [owner] and (protection) columns; nothing else.
    let mut i = skip_spaces(line, time.end);
    if i == time.end && i < line.len() {
        return None;
    }
    while i < line.len() {
        let close = match line[i] {
            b'[' => b']',
            b'(' => b')',
            _ => return None,
        };
        let end = i + memchr::memchr(close, &line[i..])? + 1;
        let next = skip_spaces(line, end);
        if next == end && next < line.len() {
            return None;
        }
        i = next;
    }
    Some(Fields {
        format: ListFormat::Vms,
        kind,
        name,
        target: None,
        perm: None,
        facts: None,
        size: None,
        mtime: Some(mtime),
    })
}

fn parse_time(t: &[u8], year: u16, month: u8, day: u8) -> Option<Timestamp> {
    let (hms, frac) = match memchr::memchr(b'.', t) {
        Some(p) => (&t[..p], Some(&t[p + 1..])),
        None => (t, None),
    };
    let mut it = hms.split(|&c| c == b':');
    let h = it.next()?;
    let m = it.next()?;
    let s = it.next();
    if it.next().is_some() || !(1..=2).contains(&h.len()) || m.len() != 2 {
        return None;
    }
    let h = u8::try_from(parse_small(h)?).ok()?;
    let m = u8::try_from(parse_small(m)?).ok()?;
    match (s, frac) {
        (None, None) => Timestamp::minute(year, month, day, h, m),
        (Some(s), frac) if s.len() == 2 => {
            let t = Timestamp::new(year, month, day, h, m, u8::try_from(parse_small(s)?).ok()?)?;
            match frac {
                None => Some(t),
                Some(f) => t.with_fraction(parse_small(f)?, u8::try_from(f.len()).ok()?),
            }
        }
        _ => None,
    }
}
