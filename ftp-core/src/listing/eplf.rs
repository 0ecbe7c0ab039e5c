//! EPLF, the Easily Parsed LIST Format: `+fact,fact,...\tname`.
//!
//! Facts used: `/` (a directory), `r` (a retrievable file), `s<bytes>`, `m<seconds since the
//! epoch>` (UTC, second precision). Other facts (`i<id>`, `up<mode>`, unknown ones) are
//! skipped. A line with neither `/` nor `r` is [`EntryKind::Other`].

use super::{parse_u64, set_once, EntryKind, Fields, ListFormat, Span};
use crate::time::Timestamp;

pub(super) fn parse(line: &[u8]) -> Option<Fields> {
    let rest = line.strip_prefix(b"+")?;
    let tab = memchr::memchr(b'\t', rest)? + 1;
    let name = Span::new(tab + 1, line.len());
    if name.is_empty() {
        return None;
    }
    let (mut dir, mut file) = (false, false);
    let mut size = None;
    let mut mtime = None;
    for fact in rest[..tab - 1].split(|&c| c == b',') {
        match fact.first() {
            None => {}
            Some(b'/') => dir = true,
            Some(b'r') => file = true,
            Some(b's') => {
                set_once(&mut size, parse_u64(&fact[1..])?)?;
            }
            Some(b'm') => {
                let secs = i64::try_from(parse_u64(&fact[1..])?).ok()?;
                set_once(&mut mtime, Timestamp::from_unix_seconds(secs)?)?;
            }
            Some(_) => {}
        }
    }
    let kind = if dir {
        EntryKind::Dir
    } else if file {
        EntryKind::File
    } else {
        EntryKind::Other
    };
    Some(Fields {
        format: ListFormat::Eplf,
        kind,
        name,
        target: None,
        perm: None,
        facts: None,
        size,
        mtime,
    })
}
