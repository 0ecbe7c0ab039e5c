//! Windows / IIS / DOS lines: `MM-DD-YY  HH:MM[AM|PM]  <DIR>|size  name`.
//!
//! Years of two digits: `70`–`99` are 19xx, `00`–`69` 20xx; four digits are taken as given.
//! Times are 24-hour, or 12-hour with `AM`/`PM` (directly after the minutes or after a space).
//! Sizes may have thousands separators (`1,234,567`). `<SYMLINKD>`, `<SYMLINK>` and
//! `<JUNCTION>` entries are symlinks; their `[target]` suffix, when present, is the target.

use super::{parse_small, EntryKind, Fields, ListFormat, Span};
use crate::time::Timestamp;

struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cur<'_> {
    /// `min..=max` digits as a number, and how many there were.
    fn digits(&mut self, min: usize, max: usize) -> Option<(u32, usize)> {
        let s = self.i;
        while self.i < self.b.len() && self.i - s < max && self.b[self.i].is_ascii_digit() {
            self.i += 1;
        }
        let n = self.i - s;
        if n < min || self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        Some((parse_small(&self.b[s..self.i])?, n))
    }
    fn byte(&mut self, c: u8) -> Option<()> {
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }
    /// One or more spaces.
    fn spaces(&mut self) -> Option<()> {
        let s = self.i;
        while self.b.get(self.i) == Some(&b' ') {
            self.i += 1;
        }
        (self.i > s).then_some(())
    }
    /// `AM` or `PM` (any case) followed by a space: `Some(is_pm)`.
    fn meridiem(&mut self) -> Option<bool> {
        let t = self.b.get(self.i..self.i + 3)?;
        if t[2] != b' ' || !t[1].eq_ignore_ascii_case(&b'm') {
            return None;
        }
        let pm = match t[0] | 0x20 {
            b'a' => false,
            b'p' => true,
            _ => return None,
        };
        self.i += 2;
        Some(pm)
    }
}

pub(super) fn parse(line: &[u8]) -> Option<Fields> {
    let mut c = Cur { b: line, i: 0 };
    let (month, _) = c.digits(1, 2)?;
    c.byte(b'-')?;
    let (day, _) = c.digits(1, 2)?;
    c.byte(b'-')?;
    let year = match c.digits(2, 4)? {
        (y, 2) if y >= 70 => 1900 + y,
        (y, 2) => 2000 + y,
        (y, 4) => y,
        _ => return None,
    };
    c.spaces()?;
    let (hour, _) = c.digits(1, 2)?;
    c.byte(b':')?;
    let (minute, _) = c.digits(2, 2)?;
    let mut meridiem = c.meridiem();
    c.spaces()?;
    if meridiem.is_none() {
        if let Some(pm) = c.meridiem() {
            meridiem = Some(pm);
            c.spaces()?;
        }
    }
    let hour = match meridiem {
        None => hour,
        Some(_) if !(1..=12).contains(&hour) => return None,
        Some(false) => hour % 12,
        Some(true) => hour % 12 + 12,
    };
    let mtime = Timestamp::minute(
        u16::try_from(year).ok()?,
        month as u8,
        day as u8,
        u8::try_from(hour).ok()?,
        minute as u8,
    )?;
    // <DIR>, a link marker, or the size.
    let (kind, size) = if line.get(c.i) == Some(&b'<') {
        let end = c.i + memchr::memchr(b'>', &line[c.i..])? + 1;
        let kind = match &line[c.i..end] {
            b"<DIR>" => EntryKind::Dir,
            b"<SYMLINKD>" | b"<SYMLINK>" | b"<JUNCTION>" => EntryKind::Symlink,
            _ => return None,
        };
        c.i = end;
        (kind, None)
    } else {
        (EntryKind::File, Some(size_with_commas(&mut c)?))
    };
    c.spaces()?;
    let mut name = Span::new(c.i, line.len());
    if name.is_empty() {
        return None;
    }
    let mut target = None;
    if kind == EntryKind::Symlink && line.ends_with(b"]") {
        if let Some(open) = memchr::memmem::rfind(name.get(line), b" [") {
            let t = Span::new(name.start + open + 2, line.len() - 1);
            name.end = name.start + open;
            target = (!t.is_empty()).then_some(t);
        }
    }
    if name.is_empty() {
        return None;
    }
    Some(Fields {
        format: ListFormat::Windows,
        kind,
        name,
        target,
        perm: None,
        facts: None,
        size,
        mtime: Some(mtime),
    })
}

/// `1234` or `1,234,567` (groups of three after the first), ending at a space.
fn size_with_commas(c: &mut Cur<'_>) -> Option<u64> {
    let b = c.b;
    let s = c.i;
    let mut v: u64 = 0;
    let mut group = 0usize;
    let mut commas = false;
    while c.i < b.len() && b[c.i] != b' ' {
        match b[c.i] {
            d @ b'0'..=b'9' => {
                v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
                group += 1;
            }
            b',' => {
                // The first group has 1 to 3 digits, the others exactly 3.
                if group == 0 || group > 3 || (commas && group != 3) {
                    return None;
                }
                commas = true;
                group = 0;
            }
            _ => return None,
        }
        c.i += 1;
    }
    if c.i == s || group == 0 || (commas && group != 3) {
        return None;
    }
    Some(v)
}
