//! `MLSD` lines and `MLST` fact lines (RFC 3659 §7): `fact=value;...; name`.

use super::{find1, find2, parse_small, parse_u64, set_once, EntryKind, Fields, ListFormat, Span};
use crate::time::Timestamp;

/// The facts decoded so far.
#[derive(Default)]
struct Decoded {
    kind: Option<EntryKind>,
    target: Option<Span>,
    size: Option<u64>,
    mtime: Option<Timestamp>,
    perm: Option<Span>,
}

impl Decoded {
    /// One `name=value;` fact: `line[start..eq]` is the name, `line[eq + 1..end]` the value.
    #[inline]
    fn fact(&mut self, line: &[u8], start: usize, eq: usize, end: usize) -> Option<()> {
        let fname = &line[start..eq];
        let value = Span::new(eq + 1, end);
        let v = value.get(line);
        match fname.len() {
            4 if fname.eq_ignore_ascii_case(b"type") => {
                let (k, t) = fact_type(v, value);
                set_once(&mut self.kind, k)?;
                self.target = t;
            }
            4 if fname.eq_ignore_ascii_case(b"size") => set_once(&mut self.size, parse_u64(v)?)?,
            4 if fname.eq_ignore_ascii_case(b"perm") => set_once(&mut self.perm, value)?,
            6 if fname.eq_ignore_ascii_case(b"modify") => {
                set_once(&mut self.mtime, parse_modify(v)?)?
            }
            _ => {}
        }
        Some(())
    }
}

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
    let mut d = Decoded::default();
    let facts = &line[..sp];
    let mut pos = base;
    while pos < sp {
        // `name=value;` with a name (`facts` ends with `;`, so every value ends).
        let eq = find2(facts, pos, b'=', b';')?;
        if eq == pos || facts[eq] != b'=' {
            return None;
        }
        let end = find1(facts, eq + 1, b';')?;
        d.fact(line, pos, eq, end)?;
        pos = end + 1;
    }
    Some(Fields {
        format: ListFormat::Mlsd,
        kind: d.kind.unwrap_or(EntryKind::Other),
        name,
        target: d.target,
        perm: d.perm,
        facts: Some(Span::new(base, sp)),
        size: d.size,
        mtime: d.mtime,
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

/// Eight ASCII digits as four two-digit numbers; `None` if any byte is no digit.
#[inline]
fn digit_pairs(b: &[u8]) -> Option<[u8; 4]> {
    const F0: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    let w = u64::from_le_bytes(<[u8; 8]>::try_from(b).ok()?);
    // Every byte 0x30..=0x39: high nibble 3, and adding 6 does not carry into it.
    if w & F0 != ZEROS || (w.wrapping_add(0x0606_0606_0606_0606) & F0) != ZEROS {
        return None;
    }
    let d = w - ZEROS;
    // Byte 2k holds the tens digit, byte 2k + 1 the units (little-endian load).
    let pairs = (d & 0x00FF_00FF_00FF_00FF) * 10 + ((d >> 8) & 0x00FF_00FF_00FF_00FF);
    let p = pairs.to_le_bytes();
    Some([p[0], p[2], p[4], p[6]])
}

/// `YYYYMMDDHHMMSS[.fraction]` (RFC 3659 §2.3), the fraction 1 to 9 digits.
pub(super) fn parse_modify(v: &[u8]) -> Option<Timestamp> {
    if v.len() < 14 {
        return None;
    }
    let (main, frac) = v.split_at(14);
    // Eight digits at a time: `YYYYMMDD` and `DDHHMMSS` (overlapping), each as four pairs.
    let ymd = digit_pairs(&main[..8])?;
    let dhms = digit_pairs(&main[6..])?;
    let t = Timestamp::new(
        u16::from(ymd[0]) * 100 + u16::from(ymd[1]),
        ymd[2],
        ymd[3],
        dhms[1],
        dhms[2],
        dhms[3],
    )?;
    match frac {
        [] => Some(t),
        [b'.', digits @ ..] => t.with_fraction(parse_small(digits)?, digits.len() as u8),
        _ => None,
    }
}
