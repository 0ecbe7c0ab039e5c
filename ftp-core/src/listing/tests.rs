use super::*;

fn now() -> Timestamp {
    Timestamp::new(2017, 3, 10, 23, 0, 0).unwrap()
}

fn list(line: &[u8]) -> ListEntryRef<'_> {
    match parse_list_line(line, now()) {
        ParsedLine::Entry(e) => e,
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(line)),
    }
}

fn mlsx(line: &[u8]) -> ListEntryRef<'_> {
    match parse_mlsx_line(line) {
        ParsedLine::Entry(e) => e,
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(line)),
    }
}

fn unparsed(line: &[u8]) {
    assert_eq!(
        parse_list_line(line, now()),
        ParsedLine::Unparsed(line),
        "{:?}",
        String::from_utf8_lossy(line)
    );
}

#[test]
fn unix_strict_validation() {
    for l in [
        &b"drwxr-xr-x 2 root root 4096 Feb 29  2017 x"[..], // no Feb 29 in 2017
        b"drwxr-xr-x 2 root root 4096 Feb 30 12:00 x",
        b"drwxr-xr-x 2 root root 4096 Feb 3 24:00 x",
        b"drwxr-xr-x 2 root root 4096 Feb 3 12:60 x",
        b"drwxr-xr-x 2 root root 4096 Feb 3 12:5 x",
        b"drwxr-xr-x 2 root root 4096 Feb 3 2017", // no name
        b"drwxr-xr-x 2 root root 4096 Feb 3 2017 ",
        b"drwxr-xr-x 2 root root 99999999999999999999 Feb 3 2017 x", // size overflows u64
        b"-rw-r--r-- 2 root root 1,2 Feb 3 2017 x",                  // major,minor only for devices
        b"drwxr-xr-x2 root root 4096 Feb 3 2017 x",
        b"drwxr-xr-q 2 root root 4096 Feb 3 2017 x",
        b"d",
        b"lrwxrwxrwx 1 a b 7 Jan 25 00:17  -> usr/bin",
    ] {
        unparsed(l);
    }
}

#[test]
fn unix_year_inference() {
    // Feb 29 in a time-form line when "now" is in a non-leap year: last year (a leap year).
    let e = list(b"-rw-r--r-- 1 a b 1 Feb 29 10:00 leap");
    assert_eq!(e.mtime().unwrap().to_string(), "2016-02-29T10:00");
    let e = list(b"-rw-r--r-- 1 a b 1 Mar 11 23:01 x");
    assert_eq!(e.mtime().unwrap().to_string(), "2016-03-11T23:01");
    let e = list(b"-rw-r--r-- 1 a b 1 Mar 11 23:00 x");
    assert_eq!(e.mtime().unwrap().to_string(), "2017-03-11T23:00");
    // Month names in any case.
    let e = list(b"-rw-r--r-- 1 a b 1 DEC 24  1999 x");
    assert_eq!(e.mtime().unwrap().to_string(), "1999-12-24");
}

#[test]
fn unix_columns_and_kinds() {
    let e = list(b"brw-rw----   1 root disk   8,   0 Jan  5  2016 sda");
    assert_eq!(
        (e.kind(), e.size(), e.name()),
        (EntryKind::Other, None, &b"sda"[..])
    );
    let e = list(b"srwxrwxrwx 1 a b 0 Jan  5  2016 sock");
    assert_eq!((e.kind(), e.size()), (EntryKind::Other, Some(0)));
    // A group called like a month does not confuse the date column.
    let e = list(b"-rw-r--r-- 1 500 May 4096 Mar  2  2015 x y");
    assert_eq!((e.size(), e.name()), (Some(4096), &b"x y"[..]));
    // The first arrow splits a symlink; a file keeps its arrow.
    let e = list(b"lrwxrwxrwx 1 a b 7 Jan 25 00:17 a -> b -> c");
    assert_eq!((e.name(), e.target()), (&b"a"[..], Some(&b"b -> c"[..])));
    let e = list(b"lrwxrwxrwx 1 a b 7 Jan 25 00:17 a -> ");
    assert_eq!((e.name(), e.target()), (&b"a"[..], None));
    assert_eq!(e.unix_mode(), Some(0o777));
    let e = list(b"-rwsr-S--T 1 a b 7 Jan 25 00:17 m");
    assert_eq!(e.unix_mode(), Some(0o4000 | 0o2000 | 0o1000 | 0o740));
    // Line ends are ignored; the name keeps everything else.
    let e = list(b"-rw-r--r-- 1 a b 7 Jan 25 00:17 \xff\xfe name \r\n");
    assert_eq!(e.name(), b"\xff\xfe name ");
    assert_eq!(e.name_lossy(), "\u{fffd}\u{fffd} name ");
}

#[test]
fn windows_variants() {
    let e = list(b"04-08-14  12:09AM  <DIR>  midnight");
    assert_eq!(e.mtime().unwrap().to_string(), "2014-04-08T00:09");
    let e = list(b"04-08-14  12:09PM  7 noon");
    assert_eq!(e.mtime().unwrap().to_string(), "2014-04-08T12:09");
    assert_eq!(e.size(), Some(7));
    let e = list(b"04-08-69  01:00pm  7 y69");
    assert_eq!(e.mtime().unwrap().to_string(), "2069-04-08T13:00");
    let e = list(b"04-08-70  01:00  7 y70");
    assert_eq!(e.mtime().unwrap().to_string(), "1970-04-08T01:00");
    let e = list(b"04-08-2014  01:00  <SYMLINKD>  link [C:\\target dir]");
    assert_eq!(e.kind(), EntryKind::Symlink);
    assert_eq!(
        (e.name(), e.target()),
        (&b"link"[..], Some(&b"C:\\target dir"[..]))
    );
    for l in [
        &b"13-08-14  03:09PM  1 x"[..],
        b"04-31-14  03:09PM  1 x",
        b"04-08-14  13:09PM  1 x",
        b"04-08-14  00:09AM  1 x",
        b"04-08-14  03:09PM  12,34 x",
        b"04-08-14  03:09PM  ,123 x",
        b"04-08-14  03:09PM  1234,567 x",
        b"04-08-14  03:09PM  <FOO> x",
        b"04-08-14  03:09PM  1",
        b"04-08-14  03:09PM  1 ",
        b"04-08-145  03:09PM  1 x",
        b"04-08-14  03:09PM",
    ] {
        unparsed(l);
    }
}

#[test]
fn eplf_and_vms() {
    let e = list(b"+/,m0,i1.2,\tdir name");
    assert_eq!((e.kind(), e.name()), (EntryKind::Dir, &b"dir name"[..]));
    assert_eq!(e.mtime().unwrap().to_string(), "1970-01-01T00:00:00");
    let e = list(b"+up644,s0\tother");
    assert_eq!(
        (e.kind(), e.size(), e.mtime()),
        (EntryKind::Other, Some(0), None)
    );
    for l in [
        &b"+r,s12x,\tx"[..],
        b"+r,mfoo,\tx",
        b"+r,s1\t",
        b"+r,s1 x",
        b"+r,s1,s2,\tx",
    ] {
        unparsed(l);
    }
    let e = list(b"LOGIN.COM;2  3  12-DEC-2001 10:20:30.25 [USER] (RWED,RWED,RE,)");
    assert_eq!(e.mtime().unwrap().to_string(), "2001-12-12T10:20:30.25");
    assert_eq!((e.format(), e.size()), (ListFormat::Vms, None));
    let e = list(b"SUB.dir;1  3  12-DEC-2001 10:20");
    assert_eq!(e.kind(), EntryKind::Dir);
    for l in [
        &b"A.TXT;1  3  12-DEC-2001 10:20 junk"[..],
        b"A.TXT;1  3  32-DEC-2001 10:20",
        b"A.TXT;1  3  12-DEC-01 10:20",
        b"A.TXT;x  3  12-DEC-2001 10:20",
        b"A.TXT;1  3  12-DEC-2001 10:20 [OPEN",
        b"A.TXT;1",
    ] {
        unparsed(l);
    }
    for l in [
        &b"Directory DISK$USER:[TEMP]"[..],
        b"Total of 3 files, 12 blocks.",
        b"Grand total of 2 directories, 5 files, 74 blocks.",
        b"USER1:[TEMP]",
        b"total 0",
        b"",
        b"   ",
        b"\r\n",
    ] {
        assert_eq!(parse_list_line(l, now()), ParsedLine::NotAnEntry, "{l:?}");
    }
    unparsed(b"total foo");
}

#[test]
fn mlsx_facts() {
    let e = mlsx(b" Type=file;Size=5;Modify=20170310140509.123456789;Perm=adfr;UNIX.owner=0; x");
    assert_eq!(
        e.mtime().unwrap().to_string(),
        "2017-03-10T14:05:09.123456789"
    );
    assert_eq!(e.fact("unix.OWNER"), Some(&b"0"[..]));
    assert_eq!(e.fact("nope"), None);
    let facts: Vec<_> = e.facts().collect();
    assert_eq!(facts.len(), 5);
    assert_eq!(facts[0], (&b"Type"[..], &b"file"[..]));
    let e = mlsx(b"type=file;UNIX.uid=995;unix.GID=994;unique=fe00gc2007; pure");
    assert_eq!(
        (e.unix_owner(), e.unix_group()),
        (Some(&b"995"[..]), Some(&b"994"[..]))
    );
    assert_eq!(e.unique(), Some(&b"fe00gc2007"[..]));
    let e = mlsx(b"type=file;UNIX.owner=0;UNIX.group=5;UNIX.uid=9; pro");
    assert_eq!(
        (e.unix_owner(), e.unix_group()),
        (Some(&b"0"[..]), Some(&b"5"[..]))
    );
    let e = mlsx(b"modify=99991231235960; leap second");
    assert_eq!(e.mtime().unwrap().to_string(), "9999-12-31T23:59:60");
    let e = mlsx(b"type=OS.unix=chr-13/29; device");
    assert_eq!(e.kind(), EntryKind::Other);
    let e = mlsx(b"type=OS.UNIX=SLINK:Target;unique=1; l");
    assert_eq!(
        (e.kind(), e.target()),
        (EntryKind::Symlink, Some(&b"Target"[..]))
    );
    let e = mlsx(b"unique=1; untyped");
    assert_eq!(
        (e.kind(), e.size(), e.perm()),
        (EntryKind::Other, None, None)
    );
    let e = mlsx(b"type=dir;perm=; a");
    assert_eq!(e.perm(), Some(&b""[..]));
    for l in [
        &b"type=file;size=1;size=2; dup"[..],
        b"type=file;type=dir; dup",
        b"=x; noname",
        b"type=file;modify=20170230000000; bad date",
        b"type=file;modify=20170310140509.; bad fraction",
        b"type=file;modify=20170310140509.1234567890; too long fraction",
        b"type=file;modify=20170310140509Z; trailing",
        b"type=file;modify=2017031014050:; colon is no digit",
        b"type=file;modify=201703101405/9; slash is no digit",
        b"type=file;modify=2017031014050; short",
        b"type=file;size=; empty size",
        b"type=file;size=-1; negative size",
        b"type=file; ",
        b" name only",
        b"type=file;",
    ] {
        assert!(
            parse_mlsx_line(l).is_unparsed(),
            "{:?}",
            String::from_utf8_lossy(l)
        );
    }
    assert_eq!(parse_mlsx_line(b"\r\n"), ParsedLine::NotAnEntry);
}

#[test]
fn lines_and_iterators() {
    let lines: Vec<&[u8]> = list_lines(b"").collect();
    assert!(lines.is_empty());
    let lines: Vec<&[u8]> = list_lines(b"\n").collect();
    assert_eq!(lines, [&b""[..]]);
    let lines: Vec<&[u8]> = list_lines(b"a\rb\r\n").collect();
    assert_eq!(lines, [&b"a\rb"[..]]);
    let buf = b"total 1\n-rw-r--r-- 1 a b 1 Jan  1  2000 f\nbogus\n";
    let got: Vec<_> = parse_list(buf, now()).collect();
    assert_eq!(got[0], ParsedLine::NotAnEntry);
    assert_eq!(got[1].entry().unwrap().name(), b"f");
    assert_eq!(got[2], ParsedLine::Unparsed(b"bogus"));
    assert_eq!(parse_nlst_line(b"x\n"), Some(&b"x"[..]));
}

#[test]
fn owned_entries_keep_every_field() {
    let line = b"modify=20150813224845;perm=fle;type=cdir;UNIX.mode=0755; .";
    let e = mlsx(line);
    let o = e.to_owned();
    assert_eq!(o.as_ref(), e);
    assert_eq!(
        (o.kind(), o.perm(), o.unix_mode()),
        (EntryKind::CurrentDir, Some(&b"fle"[..]), Some(0o755))
    );
    assert_eq!(o.raw(), line);
    assert!(o.is_dir());
    assert!(format!("{o:?}").contains("CurrentDir"));
}
