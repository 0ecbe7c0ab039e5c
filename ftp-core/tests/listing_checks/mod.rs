//! The checks of the `listing_parser` fuzz target, shared by the target
//! (`fuzz/fuzz_targets/listing_parser.rs`, which includes this file by path) and by
//! `fuzz_replay_listing.rs`, which replays the seed corpus under stable `cargo test`: no
//! panic, every slice of an entry inside its line, an unparsed line returned whole, owned
//! copies equal to their source, line-by-line parsing equal to whole-buffer parsing.
#![allow(dead_code)]

use ftp_sansio::listing::{
    list_lines, parse_list, parse_list_line, parse_mlsd, parse_mlsx_line, parse_nlst_line,
    ListEntryRef, ParsedLine,
};
use ftp_sansio::time::Timestamp;

fn strip_eol(b: &[u8]) -> &[u8] {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    b.strip_suffix(b"\r").unwrap_or(b)
}

fn inside(part: &[u8], line: &[u8]) -> bool {
    let (outer, inner) = (line.as_ptr_range(), part.as_ptr_range());
    outer.start <= inner.start && inner.end <= outer.end
}

fn check_entry(e: &ListEntryRef<'_>, line: &[u8]) {
    assert!(!e.name().is_empty());
    for part in [Some(e.name()), e.target(), e.perm()].into_iter().flatten() {
        assert!(inside(part, line));
    }
    assert_eq!(e.raw(), line);
    for (name, value) in e.facts() {
        assert!(!name.is_empty() && inside(name, line) && inside(value, line));
    }
    if let Some(t) = e.mtime() {
        assert!(t.to_string().len() >= 10);
    }
    let _ = e.unix_mode();
    let _ = format!("{e:?}");
    assert_eq!(e.to_owned().as_ref(), *e);
}

fn check_line(p: ParsedLine<'_>, line: &[u8]) -> bool {
    match p {
        ParsedLine::Entry(e) => {
            check_entry(&e, line);
            true
        }
        ParsedLine::Unparsed(raw) => {
            assert_eq!(raw, line);
            false
        }
        ParsedLine::NotAnEntry => false,
    }
}

/// The checks for one fuzz input: the first byte picks "now" for Unix year inference, the
/// rest is a listing buffer. Returns how many entries were found.
pub fn run(data: &[u8]) -> usize {
    let Some((&pick, buf)) = data.split_first() else {
        return 0;
    };
    let secs = i64::from(pick) * 86_400 * 97 + 86_399 - i64::from(pick) * 61;
    let now = Timestamp::from_unix_seconds(secs).unwrap();
    let mut entries = 0;
    for (line, (a, b)) in list_lines(buf).zip(parse_list(buf, now).zip(parse_mlsd(buf))) {
        entries += usize::from(check_line(a, line)) + usize::from(check_line(b, line));
        if !line.ends_with(b"\r") {
            assert_eq!(a, parse_list_line(line, now));
            assert_eq!(b, parse_mlsx_line(line));
        }
        if let Some(n) = parse_nlst_line(line) {
            assert!(inside(n, line));
        }
    }
    let whole = strip_eol(buf);
    check_line(parse_list_line(buf, now), whole);
    check_line(parse_mlsx_line(buf), whole);
    entries
}
