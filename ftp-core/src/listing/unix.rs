//! Unix `ls -l` lines: `-rw-r--r--  1 owner group  1234 Mar 10 14:05 name`.
//!
//! The columns between the permissions and the date vary between servers (no group, numeric
//! ids, groups with spaces, `major, minor` for devices), so the parser looks for the date
//! column: a month name preceded by the size column and followed by a day and a year or a
//! time. The name is everything after the single space that follows that column.

use super::{month_ci, parse_u64, EntryKind, Fields, ListFormat, Span};
use crate::time::Timestamp;

/// Whether `p` (nine bytes) are valid permission letters, position by position.
#[inline]
fn valid_perm(p: &[u8]) -> bool {
    p.len() == 9
        && p.iter().enumerate().all(|(k, &c)| match k {
            0 | 3 | 6 => c == b'r' || c == b'-',
            1 | 4 | 7 => c == b'w' || c == b'-',
            2 | 5 => matches!(c, b'x' | b's' | b'S' | b'-'),
            _ => matches!(c, b'x' | b't' | b'T' | b'-'),
        })
}

/// Permission bits from nine letters (`rwsr-x--T` -> 0o4750 | sticky ...).
pub(super) fn mode_from_letters(p: &[u8]) -> Option<u32> {
    if !valid_perm(p) {
        return None;
    }
    let mut m = 0u32;
    for (k, &c) in p.iter().enumerate() {
        let bit = 1u32 << (8 - k);
        match c {
            b'r' | b'w' | b'x' => m |= bit,
            b's' | b't' => m |= bit | special(k),
            b'S' | b'T' => m |= special(k),
            _ => {}
        }
    }
    Some(m)
}

fn special(k: usize) -> u32 {
    match k {
        2 => 0o4000,
        5 => 0o2000,
        _ => 0o1000,
    }
}

/// A token's end: the first space at or after `i`.
#[inline]
fn token_end(line: &[u8], mut i: usize) -> usize {
    while i < line.len() && line[i] != b' ' {
        i += 1;
    }
    i
}

#[inline]
fn skip_spaces(line: &[u8], mut i: usize) -> usize {
    while i < line.len() && line[i] == b' ' {
        i += 1;
    }
    i
}

#[inline]
fn all_digits(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(u8::is_ascii_digit)
}

/// `N,` (the major number of a device followed by its comma).
#[inline]
fn is_major(b: &[u8]) -> bool {
    b.len() >= 2 && b[b.len() - 1] == b',' && all_digits(&b[..b.len() - 1])
}

/// `N,M`.
#[inline]
fn is_major_minor(b: &[u8]) -> bool {
    match memchr::memchr(b',', b) {
        Some(c) => all_digits(&b[..c]) && all_digits(&b[c + 1..]),
        None => false,
    }
}

pub(super) fn parse(line: &[u8], now: &YearRule) -> Option<Fields> {
    if line.len() < 11 {
        return None;
    }
    let kind = match line[0] {
        b'-' => EntryKind::File,
        b'd' => EntryKind::Dir,
        b'l' => EntryKind::Symlink,
        b'c' | b'b' | b'p' | b's' | b'D' => EntryKind::Other,
        _ => return None,
    };
    if !valid_perm(&line[1..10]) {
        return None;
    }
    let device = matches!(line[0], b'c' | b'b');
    // An ACL / extended-attribute mark may follow the letters, even without a space.
    let mut i = match line[10] {
        b' ' => 10,
        b'+' | b'.' | b'@' => 11,
        _ => return None,
    };
    let mut prev2: Option<Span> = None;
    let mut prev: Option<Span> = None;
    loop {
        i = skip_spaces(line, i);
        if i >= line.len() {
            return None;
        }
        let start = i;
        i = token_end(line, i);
        if i - start == 3 {
            if let (Some(month), Some(p)) = (month_ci(&line[start..i]), prev) {
                match date_column(line, kind, device, prev2, p, month, i, now) {
                    Shape::NoMatch => {}
                    Shape::Invalid => return None,
                    Shape::Entry(f) => return Some(f),
                }
            }
        }
        prev2 = prev;
        prev = Some(Span::new(start, i));
    }
}

enum Shape {
    /// The tokens around the month do not have the shape of a date column: keep looking.
    NoMatch,
    /// They do, but a value is invalid (day 36, hour 30, size overflow...): unparsed.
    Invalid,
    Entry(Fields),
}

/// Checks the date column at the month ending at `i`, with the size column `size` before it.
#[allow(clippy::too_many_arguments)]
#[inline]
fn date_column(
    line: &[u8],
    kind: EntryKind,
    device: bool,
    prev2: Option<Span>,
    size: Span,
    month: u8,
    i: usize,
    now: &YearRule,
) -> Shape {
    // Size column: digits; devices may give `major,minor` or `major, minor` instead.
    let size_tok = size.get(line);
    let size_val = if all_digits(size_tok) {
        if device && prev2.is_some_and(|p| is_major(p.get(line))) {
            None
        } else {
            match parse_u64(size_tok) {
                Some(v) => Some(v),
                None => return Shape::Invalid,
            }
        }
    } else if device && is_major_minor(size_tok) {
        None
    } else {
        return Shape::NoMatch;
    };
    // Day: one or two digits.
    if i >= line.len() {
        return Shape::NoMatch;
    }
    let ds = skip_spaces(line, i);
    if ds == i {
        return Shape::NoMatch;
    }
    let de = token_end(line, ds);
    let day = &line[ds..de];
    if !(1..=2).contains(&day.len()) || !all_digits(day) {
        return Shape::NoMatch;
    }
    let ys = skip_spaces(line, de);
    if ys == de || ys >= line.len() {
        return Shape::NoMatch;
    }
    let ye = token_end(line, ys);
    let yt = &line[ys..ye];
    let day = two_digits(day);
    let mtime = if yt.len() == 4 && all_digits(yt) {
        let year = (yt[0] - b'0') as u16 * 1000
            + (yt[1] - b'0') as u16 * 100
            + (yt[2] - b'0') as u16 * 10
            + (yt[3] - b'0') as u16;
        Timestamp::date(year, month, day)
    } else if let Some(colon) = memchr::memchr(b':', yt) {
        let (h, m) = (&yt[..colon], &yt[colon + 1..]);
        if !(1..=2).contains(&h.len()) || m.len() != 2 || !all_digits(h) || !all_digits(m) {
            return Shape::NoMatch;
        }
        now.infer(month, day, two_digits(h), two_digits(m))
    } else {
        return Shape::NoMatch;
    };
    let Some(mtime) = mtime else {
        return Shape::Invalid;
    };
    // Exactly one space, then the name (which may begin with spaces).
    if ye >= line.len() {
        return Shape::Invalid;
    }
    let mut name = Span::new(ye + 1, line.len());
    let mut target = None;
    if kind == EntryKind::Symlink {
        if let Some(a) = memchr::memmem::find(name.get(line), b" -> ") {
            let t = Span::new(name.start + a + 4, line.len());
            name.end = name.start + a;
            target = (!t.is_empty()).then_some(t);
        }
    }
    if name.is_empty() {
        return Shape::Invalid;
    }
    Shape::Entry(Fields {
        format: ListFormat::Unix,
        kind,
        name,
        target,
        perm: Some(Span::new(1, 10)),
        facts: None,
        size: size_val,
        mtime: Some(mtime),
    })
}

/// One or two ASCII digits (already checked) as a number.
#[inline]
fn two_digits(b: &[u8]) -> u8 {
    b.iter().fold(0u8, |v, &c| v * 10 + (c - b'0'))
}

/// "Now" prepared for the year of `Mon DD HH:MM` dates: such a date takes `now`'s year unless
/// that puts it more than one day after `now`, then the year before.
#[derive(Clone, Copy, Debug)]
pub(super) struct YearRule {
    year: u16,
    /// `now` + 1 day as `month, day, hour, minute` packed into a `u32` (`u32::MAX` when that
    /// is already next year, so every date of this year is at most it).
    limit: u32,
}

#[inline]
fn key(month: u8, day: u8, hour: u8, minute: u8) -> u32 {
    u32::from_be_bytes([month, day, hour, minute])
}

impl YearRule {
    pub(super) fn new(now: Timestamp) -> YearRule {
        let limit = match Timestamp::from_unix_seconds(now.unix_seconds() + 86_400) {
            Some(l) if l.year() == now.year() => {
                key(l.month(), l.day(), l.hour(), l.minute_of_hour())
            }
            _ => u32::MAX,
        };
        YearRule {
            year: now.year(),
            limit,
        }
    }

    /// The timestamp of `Mon DD HH:MM`; `None` if the date exists in neither candidate year.
    #[inline]
    fn infer(&self, month: u8, day: u8, hour: u8, minute: u8) -> Option<Timestamp> {
        if key(month, day, hour, minute) <= self.limit {
            // Feb 29 of a common year can only be from an earlier year.
            Timestamp::minute(self.year, month, day, hour, minute)
                .or_else(|| Timestamp::minute(self.year.checked_sub(1)?, month, day, hour, minute))
        } else {
            Timestamp::minute(self.year.checked_sub(1)?, month, day, hour, minute)
        }
    }
}
