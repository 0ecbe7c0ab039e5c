//! Fuzz target: every listing parser on arbitrary bytes. Never a panic; every entry's slices
//! lie inside its line; an unparsed line is returned whole; owned copies equal their source.
//!
//! The first byte picks "now" for Unix year inference, the rest is a listing buffer.
#![no_main]

use ftp_core::listing::{
    list_lines, parse_list, parse_list_line, parse_mlsd, parse_mlsx_line, parse_nlst_line,
    ListEntryRef, ParsedLine,
};
use ftp_core::time::Timestamp;
use libfuzzer_sys::fuzz_target;

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
        let text = t.to_string();
        assert!(text.len() >= 10);
    }
    let _ = e.unix_mode();
    let _ = e.name_lossy();
    let _ = format!("{e:?}");
    let owned = e.to_owned();
    assert_eq!(owned.as_ref(), *e);
}

fn check_line(p: ParsedLine<'_>, line: &[u8]) {
    match p {
        ParsedLine::Entry(e) => check_entry(&e, line),
        ParsedLine::Unparsed(raw) => assert_eq!(raw, line),
        ParsedLine::NotAnEntry => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, buf)) = data.split_first() else {
        return;
    };
    let secs = i64::from(pick) * 86_400 * 97 + 86_399 - i64::from(pick) * 61;
    let now = Timestamp::from_unix_seconds(secs).unwrap();
    for (line, (a, b)) in list_lines(buf).zip(parse_list(buf, now).zip(parse_mlsd(buf))) {
        check_line(a, line);
        check_line(b, line);
        if !line.ends_with(b"\r") {
            assert_eq!(a, parse_list_line(line, now));
            assert_eq!(b, parse_mlsx_line(line));
        }
        if let Some(n) = parse_nlst_line(line) {
            assert!(inside(n, line));
        }
    }
    // The whole buffer as one line (line ends inside it are bytes of the name).
    let whole = strip_eol(buf);
    check_line(parse_list_line(buf, now), whole);
    check_line(parse_mlsx_line(buf), whole);
});
