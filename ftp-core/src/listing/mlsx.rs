//! `MLSD` lines and `MLST` fact lines (RFC 3659 §7): `fact=value;...; name`.

use super::{
    find1, find2, load8, parse_small, parse_u64, set_once, zero_bytes, EntryKind, Fields,
    ListFormat, Span, LO,
};
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
            4 => match lower4(fname) {
                TYPE => {
                    let (k, t) = fact_type(v, value);
                    set_once(&mut self.kind, k)?;
                    self.target = t;
                }
                SIZE => set_once(&mut self.size, parse_u64(v)?)?,
                PERM => set_once(&mut self.perm, value)?,
                _ => {}
            },
            6 if lower4(&fname[..4]) == MODI && fname[4..].eq_ignore_ascii_case(b"fy") => {
                set_once(&mut self.mtime, parse_modify(v)?)?
            }
            _ => {}
        }
        Some(())
    }
}

/// Four bytes as a word with ASCII letters lowered (`| 0x20` per byte). Compared with a
/// lowercase word made of letters only, it is an exact case-insensitive comparison.
#[inline(always)]
fn lower4(b: &[u8]) -> u32 {
    match b {
        [a, b, c, d, ..] => u32::from_le_bytes([*a, *b, *c, *d]) | 0x2020_2020,
        _ => 0,
    }
}

const TYPE: u32 = u32::from_le_bytes(*b"type");
const SIZE: u32 = u32::from_le_bytes(*b"size");
const PERM: u32 = u32::from_le_bytes(*b"perm");
const MODI: u32 = u32::from_le_bytes(*b"modi");
const FILE: u32 = u32::from_le_bytes(*b"file");
const CDIR: u32 = u32::from_le_bytes(*b"cdir");
const PDIR: u32 = u32::from_le_bytes(*b"pdir");

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
        // `name=value;` with a non-empty name; the value may hold `=`. `facts` ends with `;`,
        // so every value ends.
        let (eq, end) = match short_fact(facts, pos) {
            Some(found) => found,
            None => {
                let eq = find2(facts, pos, b'=', b';')?;
                if facts[eq] != b'=' {
                    return None;
                }
                (eq, find1(facts, eq + 1, b';')?)
            }
        };
        if eq == pos {
            return None;
        }
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

/// A fact that ends within the sixteen bytes at `pos` (most do), found without a loop:
/// `Some((first '=', the ';'))`; `None` to take the general path, which also reports a fact
/// without `=`.
#[inline(always)]
fn short_fact(facts: &[u8], pos: usize) -> Option<(usize, usize)> {
    const EQ: u64 = LO * b'=' as u64;
    const SEMI: u64 = LO * b';' as u64;
    if pos + 16 > facts.len() {
        return None;
    }
    let (w0, w1) = (load8(facts, pos), load8(facts, pos + 8));
    // Only the lowest match of each mask is exact, which is all that is used.
    let semi = u128::from(zero_bytes(w0 ^ SEMI)) | u128::from(zero_bytes(w1 ^ SEMI)) << 64;
    let eq = u128::from(zero_bytes(w0 ^ EQ)) | u128::from(zero_bytes(w1 ^ EQ)) << 64;
    let (e, s) = (eq.trailing_zeros() / 8, semi.trailing_zeros() / 8);
    (s < 16 && e < s).then(|| (pos + e as usize, pos + s as usize))
}

/// The kind named by a `type` fact value, and a symlink's target.
fn fact_type(v: &[u8], value: Span) -> (EntryKind, Option<Span>) {
    const SLINK: &[u8] = b"os.unix=slink";
    let kind = match v.len() {
        4 if lower4(v) == FILE => EntryKind::File,
        3 if v.eq_ignore_ascii_case(b"dir") => EntryKind::Dir,
        4 if lower4(v) == CDIR => EntryKind::CurrentDir,
        4 if lower4(v) == PDIR => EntryKind::ParentDir,
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
