//! Every row of `tests/data/listings.tsv` (real listing lines with the fields they must parse
//! to; format in the header comment of this file's helpers) must parse exactly as expected.
//!
//! Columns: format, line, name, kind, size, mtime, target, perm, source. Escapes in `line`,
//! `name` and `target`: `\\`, `\t`, `\r`, `\n`, `\xNN`. Unix times without a year are read
//! with "now" = 2017-03-10T23:00:00.

use ftp_sansio::listing::{
    parse_list, parse_list_line, parse_mlsd, parse_mlsx_line, EntryKind, ListFormat, ParsedLine,
};
use ftp_sansio::time::Timestamp;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts the allocations of the current thread, to show the borrowing path allocates nothing.
struct CountingAlloc;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call unchanged to the system allocator; only counts.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn allocations() -> usize {
    ALLOCS.with(Cell::get)
}

const TSV: &[u8] = include_bytes!("data/listings.tsv");

fn now() -> Timestamp {
    Timestamp::new(2017, 3, 10, 23, 0, 0).unwrap()
}

fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' {
            out.push(s[i]);
            i += 1;
            continue;
        }
        match s.get(i + 1) {
            Some(b'\\') => out.push(b'\\'),
            Some(b't') => out.push(b'\t'),
            Some(b'r') => out.push(b'\r'),
            Some(b'n') => out.push(b'\n'),
            Some(b'x') => {
                let hex = std::str::from_utf8(&s[i + 2..i + 4]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 2;
            }
            other => panic!("bad escape {other:?}"),
        }
        i += 2;
    }
    out
}

struct Row {
    lineno: usize,
    format: String,
    line: Vec<u8>,
    name: Vec<u8>,
    kind: String,
    size: String,
    mtime: String,
    target: Vec<u8>,
    perm: String,
    source: String,
}

fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    let mut lines = TSV.split(|&c| c == b'\n');
    let header = lines.next().unwrap();
    assert_eq!(
        header,
        b"format\tline\tname\tkind\tsize\tmtime\ttarget\tperm\tsource"
    );
    for (k, l) in lines.enumerate() {
        if l.is_empty() {
            continue;
        }
        let cols: Vec<&[u8]> = l.split(|&c| c == b'\t').collect();
        assert_eq!(cols.len(), 9, "row {} has {} columns", k + 2, cols.len());
        let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        rows.push(Row {
            lineno: k + 2,
            format: s(cols[0]),
            line: unescape(cols[1]),
            name: unescape(cols[2]),
            kind: s(cols[3]),
            size: s(cols[4]),
            mtime: s(cols[5]),
            target: unescape(cols[6]),
            perm: s(cols[7]),
            source: s(cols[8]),
        });
    }
    rows
}

fn kind_name(k: EntryKind) -> &'static str {
    match k {
        EntryKind::File => "file",
        EntryKind::Dir => "dir",
        EntryKind::Symlink => "symlink",
        EntryKind::Other => "other",
        EntryKind::CurrentDir => "cdir",
        EntryKind::ParentDir => "pdir",
    }
}

fn format_name(f: ListFormat) -> &'static str {
    match f {
        ListFormat::Unix => "unix",
        ListFormat::Windows => "windows",
        ListFormat::Eplf => "eplf",
        ListFormat::Vms => "vms",
        ListFormat::Mlsd => "mlsd",
    }
}

fn parse(row: &Row) -> ParsedLine<'_> {
    if row.format == "mlsd" {
        parse_mlsx_line(&row.line)
    } else {
        parse_list_line(&row.line, now())
    }
}

/// Compares one row; returns a description of the first mismatch.
fn check(row: &Row) -> Result<(), String> {
    let got = parse(row);
    match (row.kind.as_str(), got) {
        ("none", ParsedLine::NotAnEntry) => Ok(()),
        ("unparsed", ParsedLine::Unparsed(raw)) if raw == &row.line[..] => Ok(()),
        ("none" | "unparsed", other) => Err(format!("want {}, got {other:?}", row.kind)),
        (kind, ParsedLine::Entry(e)) => {
            let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            let want = (
                row.format.as_str(),
                lossy(&row.name),
                kind,
                row.size.clone(),
                row.mtime.clone(),
                lossy(&row.target),
                row.perm.clone(),
            );
            let have = (
                format_name(e.format()),
                lossy(e.name()),
                kind_name(e.kind()),
                e.size().map(|s| s.to_string()).unwrap_or_default(),
                e.mtime().map(|t| t.to_string()).unwrap_or_default(),
                lossy(e.target().unwrap_or_default()),
                lossy(e.perm().unwrap_or_default()),
            );
            if want != have {
                return Err(format!("want {want:?}\n     got  {have:?}"));
            }
            // Exact bytes too (the lossy view above hides non-UTF-8 differences).
            if e.name() != &row.name[..] || e.target().unwrap_or_default() != &row.target[..] {
                return Err("name/target bytes differ".into());
            }
            if e.raw() != &row.line[..] {
                return Err("raw line differs".into());
            }
            let owned = e.to_owned();
            if owned.as_ref() != e || owned.name() != e.name() {
                return Err("owned copy differs".into());
            }
            Ok(())
        }
        (_, other) => Err(format!("want an entry, got {other:?}")),
    }
}

#[test]
fn corpus_rows_parse_to_their_expected_fields() {
    let rows = rows();
    assert!(rows.len() >= 336, "corpus shrank: {} rows", rows.len());
    let mut failures = Vec::new();
    for row in &rows {
        if let Err(e) = check(row) {
            failures.push(format!(
                "row {} ({}; {}): {:?}\n     {e}",
                row.lineno,
                row.format,
                row.source,
                String::from_utf8_lossy(&row.line)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    eprintln!("{} corpus rows passed", rows.len());
}

#[test]
fn unknown_rows_are_unparsed_by_every_parser() {
    for row in rows().iter().filter(|r| r.format == "unknown") {
        assert_eq!(
            parse_list_line(&row.line, now()),
            ParsedLine::Unparsed(&row.line),
            "row {}",
            row.lineno
        );
        assert!(
            parse_mlsx_line(&row.line).is_unparsed(),
            "row {}",
            row.lineno
        );
    }
}

#[test]
fn whole_buffers_give_the_same_results_as_single_lines() {
    let rows = rows();
    for (fmt, crlf) in [
        ("unix", true),
        ("windows", false),
        ("vms", true),
        ("mlsd", true),
    ] {
        let picked: Vec<&Row> = rows.iter().filter(|r| r.format == fmt).collect();
        let mut buf = Vec::new();
        for r in &picked {
            buf.extend_from_slice(&r.line);
            buf.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
        let parsed: Vec<ParsedLine<'_>> = if fmt == "mlsd" {
            parse_mlsd(&buf).collect()
        } else {
            parse_list(&buf, now()).collect()
        };
        assert_eq!(parsed.len(), picked.len(), "{fmt}");
        for (p, r) in parsed.iter().zip(&picked) {
            assert_eq!(*p, parse(r), "row {}", r.lineno);
        }
    }
}

#[test]
fn borrowing_parsers_allocate_nothing_and_owned_entries_once() {
    let rows = rows();
    let mut list = Vec::new();
    let mut mlsd = Vec::new();
    for r in &rows {
        let buf = if r.format == "mlsd" {
            &mut mlsd
        } else {
            &mut list
        };
        buf.extend_from_slice(&r.line);
        buf.extend_from_slice(b"\r\n");
    }
    let before = allocations();
    let mut entries = 0usize;
    let mut checksum = 0u64;
    for p in parse_list(&list, now()).chain(parse_mlsd(&mlsd)) {
        if let ParsedLine::Entry(e) = p {
            entries += 1;
            checksum = checksum
                .wrapping_add(e.name().len() as u64)
                .wrapping_add(e.size().unwrap_or(0))
                .wrapping_add(e.mtime().map_or(0, |t| u64::from(t.day())))
                .wrapping_add(e.target().map_or(0, |t| t.len() as u64))
                .wrapping_add(e.perm().map_or(0, |t| t.len() as u64))
                .wrapping_add(e.fact("UNIX.mode").map_or(0, |t| t.len() as u64))
                .wrapping_add(e.facts().count() as u64)
                .wrapping_add(u64::from(e.unix_mode().unwrap_or(0)))
                .wrapping_add(e.kind() as u64 + e.format() as u64);
        }
    }
    assert_eq!(allocations() - before, 0, "the borrowing path allocated");
    assert!(entries > 250 && checksum > 0);

    let before = allocations();
    let owned: Vec<_> = parse_list(&list, now())
        .chain(parse_mlsd(&mlsd))
        .filter_map(|p| p.entry().map(|e| e.to_owned()))
        .collect();
    let vec_growth = usize::BITS as usize; // the Vec itself, doubling
    let used = allocations() - before;
    assert!(
        used >= owned.len() && used <= owned.len() + vec_growth,
        "{used} allocations for {} owned entries",
        owned.len()
    );
}
