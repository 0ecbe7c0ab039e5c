//! `MLSD` lines and `MLST` fact lines (RFC 3659 §7): `fact=value;...; name`.

use super::{parse_small, parse_u64, set_once, EntryKind, Fields, ListFormat, Span};
use crate::time::Timestamp;

pub(super) fn parse(line: &[u8]) -> Option<Fields> {
    // MLST puts one space before the facts.
    let base = usize::from(line.first() == Some(&b' '));
    // The facts end at the first space, which must follow the last fact's `;`.
    let sp = base + memchr::memchr(b' ', &line[base..])?;
    if sp == base || line[sp - 1] != b';' {
        return None;
    }
    let name = Span::new(sp + 1, line.len());
    if name.is_empty() {
        return None;
    }
    let mut kind = None;
    let mut target = None;
    let mut size = None;
    let mut mtime = None;
    let mut perm = None;
    let mut pos = base;
    while pos < sp {
        let end = pos + memchr::memchr(b';', &line[pos..sp])?;
        let eq = pos + memchr::memchr(b'=', &line[pos..end])?;
        if eq == pos {
            return None;
        }
        let fname = &line[pos..eq];
        let value = Span::new(eq + 1, end);
        let v = value.get(line);
        match fname.len() {
            4 if fname.eq_ignore_ascii_case(b"type") => {
                let (k, t) = fact_type(v, value);
                set_once(&mut kind, k)?;
                target = t;
            }
            4 if fname.eq_ignore_ascii_case(b"size") => {
                set_once(&mut size, parse_u64(v)?)?;
            }
            4 if fname.eq_ignore_ascii_case(b"perm") => {
                set_once(&mut perm, value)?;
            }
            6 if fname.eq_ignore_ascii_case(b"modify") => {
                set_once(&mut mtime, parse_modify(v)?)?;
            }
            _ => {}
        }
        pos = end + 1;
    }
    Some(Fields {
        format: ListFormat::Mlsd,
        kind: kind.unwrap_or(EntryKind::Other),
        name,
        target,
        perm,
        facts: Some(Span::new(base, sp)),
        size,
        mtime,
    })
}

/// The kind named by a `type` fact value, and a symlink's target.
fn fact_type(v: &[u8], value: Span) -> (EntryKind, Option<Span>) {
    const SLINK: &[u8] = b"os.unix=slink";
    let kind = match v.len() {
        4 if v.eq_ignore_ascii_case(b"file") => EntryKind::File,
        3 if v.eq_ignore_ascii_case(b"dir") => EntryKind::Dir,
        4 if v.eq_ignore_ascii_case(b"cdir") => EntryKind::CurrentDir,
        4 if v.eq_ignore_ascii_case(b"pdir") => EntryKind::ParentDir,
        _ if v.eq_ignore_ascii_case(b"os.unix=symlink") => EntryKind::Symlink,
        n if n >= SLINK.len() && v[..SLINK.len()].eq_ignore_ascii_case(SLINK) => {
            match v.get(SLINK.len()) {
                None => EntryKind::Symlink,
                Some(b':') => {
                    let t = Span::new(value.start + SLINK.len() + 1, value.end);
                    return (EntryKind::Symlink, (!t.is_empty()).then_some(t));
                }
                Some(_) => EntryKind::Other,
            }
        }
        _ => EntryKind::Other,
    };
    (kind, None)
}

/// `YYYYMMDDHHMMSS[.fraction]` (RFC 3659 §2.3), the fraction 1 to 9 digits.
pub(super) fn parse_modify(v: &[u8]) -> Option<Timestamp> {
    if v.len() < 14 {
        return None;
    }
    let (main, frac) = v.split_at(14);
    let n = |r: core::ops::Range<usize>| parse_small(&main[r]);
    let t = Timestamp::new(
        u16::try_from(n(0..4)?).ok()?,
        n(4..6)? as u8,
        n(6..8)? as u8,
        n(8..10)? as u8,
        n(10..12)? as u8,
        n(12..14)? as u8,
    )?;
    match frac {
        [] => Some(t),
        [b'.', digits @ ..] => t.with_fraction(parse_small(digits)?, digits.len() as u8),
        _ => None,
    }
}
