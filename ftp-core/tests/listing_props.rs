//! Property tests: entries rendered the way servers render them (Unix `ls -l`, Windows/IIS,
//! EPLF, VMS, MLSD/MLST) parse back to the same fields; arbitrary bytes never panic, and
//! whatever parses points into the line it came from.

mod proptest_cases;
use proptest_cases::cases;

use ftp_sansio::listing::{
    list_lines, parse_list, parse_list_line, parse_mlsd, parse_mlsx_line, EntryKind, ListEntryRef,
    ListFormat, ParsedLine,
};
use ftp_sansio::time::{Precision, Timestamp};
use proptest::prelude::*;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn now() -> Timestamp {
    Timestamp::new(2017, 3, 10, 23, 0, 0).unwrap()
}

fn entry<'a>(p: ParsedLine<'a>, line: &[u8]) -> ListEntryRef<'a> {
    match p {
        ParsedLine::Entry(e) => e,
        other => panic!("{:?} -> {other:?}", String::from_utf8_lossy(line)),
    }
}

/// Name bytes: anything but a line end at the very end, never empty.
fn any_name() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 1..40).prop_filter("no trailing line end", |n| {
        !matches!(n.last(), Some(b'\r' | b'\n'))
    })
}

/// A valid calendar date-time to the minute, years 1000..=9999.
fn any_minute() -> impl Strategy<Value = Timestamp> {
    (1000u16..=9999, 1u8..=12, 1u8..=31, 0u8..=23, 0u8..=59)
        .prop_filter_map("valid date", |(y, mo, d, h, mi)| {
            Timestamp::minute(y, mo, d, h, mi)
        })
}

fn perm_letters() -> impl Strategy<Value = String> {
    let rwx = |x: &'static [char]| prop::sample::select(x.to_vec());
    (
        rwx(&['r', '-']),
        rwx(&['w', '-']),
        rwx(&['x', 's', 'S', '-']),
        rwx(&['r', '-']),
        rwx(&['w', '-']),
        rwx(&['x', 's', 'S', '-']),
        rwx(&['r', '-']),
        rwx(&['w', '-']),
        rwx(&['x', 't', 'T', '-']),
    )
        .prop_map(|(a, b, c, d, e, f, g, h, i)| [a, b, c, d, e, f, g, h, i].iter().collect())
}

/// Owner/group column text: words that are no month names, or numeric ids.
fn id_word() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z][a-z_]{3,9}", "[0-9]{1,5}"]
}

#[derive(Debug, Clone)]
enum UnixDate {
    Year(Timestamp),
    /// Within the six months before "now" (or up to a day after): written with a time.
    Recent(Timestamp),
}

fn unix_date() -> impl Strategy<Value = UnixDate> {
    let n = now().unix_seconds();
    prop_oneof![
        (1000u16..=9999, 1u8..=12, 1u8..=31).prop_filter_map("valid", |(y, m, d)| {
            Timestamp::date(y, m, d).map(UnixDate::Year)
        }),
        (0i64..(180 * 1440 + 1440)).prop_map(move |mins| {
            let t = Timestamp::from_unix_seconds(n + 86_400 - mins * 60).unwrap();
            UnixDate::Recent(
                Timestamp::minute(t.year(), t.month(), t.day(), t.hour(), t.minute_of_hour())
                    .unwrap(),
            )
        }),
    ]
}

#[derive(Debug, Clone)]
struct UnixCase {
    type_letter: char,
    perm: String,
    acl: &'static str,
    links: u32,
    owner: String,
    group: Option<String>,
    size: u64,
    date: UnixDate,
    zero_pad_day: bool,
    name: Vec<u8>,
    target: Option<Vec<u8>>,
}

fn unix_case() -> impl Strategy<Value = UnixCase> {
    (
        prop::sample::select(vec!['-', 'd', 'l', 'p', 's']),
        perm_letters(),
        prop::sample::select(vec!["", "+", ".", "@"]),
        0u32..5000,
        id_word(),
        prop::option::of(id_word()),
        any::<u64>(),
        unix_date(),
        any::<bool>(),
        any_name(),
        prop::option::of(any_name()),
    )
        .prop_map(
            |(
                type_letter,
                perm,
                acl,
                links,
                owner,
                group,
                size,
                date,
                zero_pad_day,
                name,
                target,
            )| {
                UnixCase {
                    type_letter,
                    perm,
                    acl,
                    links,
                    owner,
                    group,
                    size,
                    date,
                    zero_pad_day,
                    name,
                    target: if type_letter == 'l' { target } else { None },
                }
            },
        )
        .prop_filter("a symlink's name holds no arrow", |c| {
            let mut probe = c.name.clone();
            probe.extend_from_slice(b" -> ");
            c.type_letter != 'l' || find(&probe, b" -> ") == Some(c.name.len())
        })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn render_unix(c: &UnixCase) -> Vec<u8> {
    let mut s = format!(
        "{}{}{} {:>4} {:<8} ",
        c.type_letter, c.perm, c.acl, c.links, c.owner
    );
    if let Some(g) = &c.group {
        s += &format!("{g:<8} ");
    }
    let t = match &c.date {
        UnixDate::Year(t) | UnixDate::Recent(t) => *t,
    };
    let day = if c.zero_pad_day {
        format!("{:02}", t.day())
    } else {
        format!("{:>2}", t.day())
    };
    let yt = match c.date {
        UnixDate::Year(t) => format!(" {:04}", t.year()),
        UnixDate::Recent(t) => format!("{:02}:{:02}", t.hour(), t.minute_of_hour()),
    };
    s += &format!(
        "{:>8} {} {day} {yt} ",
        c.size,
        MONTHS[t.month() as usize - 1]
    );
    let mut line = s.into_bytes();
    line.extend_from_slice(&c.name);
    if let Some(t) = &c.target {
        line.extend_from_slice(b" -> ");
        line.extend_from_slice(t);
    }
    line
}

#[derive(Debug, Clone)]
struct WinCase {
    t: Timestamp,
    four_digit_year: bool,
    ampm: Option<bool>, // Some(space before AM/PM)
    dir: bool,
    size: u64,
    commas: bool,
    name: Vec<u8>,
}

fn win_case() -> impl Strategy<Value = WinCase> {
    (
        any_minute(),
        any::<bool>(),
        prop::option::of(any::<bool>()),
        any::<bool>(),
        any::<u64>(),
        any::<bool>(),
        any_name().prop_filter("no leading space", |n| n[0] != b' '),
    )
        .prop_map(
            |(t, four_digit_year, ampm, dir, size, commas, name)| WinCase {
                t,
                four_digit_year,
                ampm,
                dir,
                size,
                commas,
                name,
            },
        )
        .prop_filter("two-digit years cover 1970..=2069", |c| {
            c.four_digit_year || (1970..=2069).contains(&c.t.year())
        })
}

fn with_commas(v: u64) -> String {
    let d = v.to_string();
    let mut out = String::new();
    for (i, ch) in d.chars().enumerate() {
        if i > 0 && (d.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn render_win(c: &WinCase) -> Vec<u8> {
    let t = c.t;
    let year = if c.four_digit_year {
        format!("{:04}", t.year())
    } else {
        format!("{:02}", t.year() % 100)
    };
    let time = match c.ampm {
        None => format!("{:02}:{:02}", t.hour(), t.minute_of_hour()),
        Some(space) => {
            let h12 = match t.hour() % 12 {
                0 => 12,
                h => h,
            };
            let m = if t.hour() < 12 { "AM" } else { "PM" };
            let sp = if space { " " } else { "" };
            format!("{h12:02}:{:02}{sp}{m}", t.minute_of_hour())
        }
    };
    let size = if c.dir {
        format!("{:<14}", "<DIR>")
    } else if c.commas {
        format!("{:>14}", with_commas(c.size))
    } else {
        format!("{:>14}", c.size)
    };
    let mut line = format!(
        "{:02}-{:02}-{year}  {time}       {size} ",
        t.month(),
        t.day()
    )
    .into_bytes();
    line.extend_from_slice(&c.name);
    line
}

#[derive(Debug, Clone)]
struct MlsdCase {
    kind: EntryKind,
    target: Option<Vec<u8>>,
    size: Option<u64>,
    modify: Option<(Timestamp, Option<(u32, u8)>)>,
    perm: Option<String>,
    mode: Option<u32>,
    order: Vec<usize>,
    upper: Vec<bool>,
    mlst_space: bool,
    name: Vec<u8>,
}

fn mlsd_case() -> impl Strategy<Value = MlsdCase> {
    (
        prop::sample::select(vec![
            EntryKind::File,
            EntryKind::Dir,
            EntryKind::CurrentDir,
            EntryKind::ParentDir,
            EntryKind::Symlink,
            EntryKind::Other,
        ]),
        prop::option::of("[!-:<-~]{1,20}"), // symlink target: printable, no ';' or space
        prop::option::of(any::<u64>()),
        prop::option::of((
            (
                1000u16..=9999,
                1u8..=12,
                1u8..=31,
                0u8..=23,
                0u8..=59,
                0u8..=60,
            ),
            prop::option::of((0u32..1_000_000_000, 1u8..=9)),
        )),
        prop::option::of("[acdeflmprw]{0,8}"),
        prop::option::of(0u32..0o7777),
        Just((0..6).collect::<Vec<usize>>()).prop_shuffle(),
        prop::collection::vec(any::<bool>(), 6),
        any::<bool>(),
        any_name(),
    )
        .prop_filter_map(
            "valid date and fraction",
            |(kind, target, size, modify, perm, mode, order, upper, mlst_space, name)| {
                let modify = match modify {
                    None => None,
                    Some(((y, mo, d, h, mi, s), frac)) => {
                        let t = Timestamp::new(y, mo, d, h, mi, s)?;
                        let frac = frac.map(|(v, digits)| (v % 10u32.pow(digits as u32), digits));
                        Some((t, frac))
                    }
                };
                Some(MlsdCase {
                    kind,
                    target: if kind == EntryKind::Symlink {
                        target.map(String::into_bytes)
                    } else {
                        None
                    },
                    size,
                    modify,
                    perm,
                    mode,
                    order,
                    upper,
                    mlst_space,
                    name,
                })
            },
        )
}

fn cased(name: &str, upper: bool) -> String {
    if upper {
        name.to_ascii_uppercase()
    } else {
        name.to_string()
    }
}

fn render_mlsd(c: &MlsdCase) -> Vec<u8> {
    let type_value = match (c.kind, &c.target) {
        (EntryKind::File, _) => "file".to_string(),
        (EntryKind::Dir, _) => "dir".into(),
        (EntryKind::CurrentDir, _) => "cdir".into(),
        (EntryKind::ParentDir, _) => "pdir".into(),
        (EntryKind::Symlink, Some(t)) => {
            format!("OS.unix=slink:{}", String::from_utf8_lossy(t))
        }
        (EntryKind::Symlink, None) => "OS.unix=symlink".into(),
        (EntryKind::Other, _) => "OS.unix=chr-13/29".into(),
    };
    let mut facts: Vec<Option<String>> = vec![
        Some(format!("{}={type_value}", cased("type", c.upper[0]))),
        c.size.map(|s| format!("{}={s}", cased("size", c.upper[1]))),
        c.modify.map(|(t, frac)| {
            let mut v = format!(
                "{}={:04}{:02}{:02}{:02}{:02}{:02}",
                cased("modify", c.upper[2]),
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute_of_hour(),
                t.second()
            );
            if let Some((f, digits)) = frac {
                v += &format!(".{f:0width$}", width = digits as usize);
            }
            v
        }),
        c.perm
            .as_ref()
            .map(|p| format!("{}={p}", cased("perm", c.upper[3]))),
        c.mode
            .map(|m| format!("{}={m:04o}", cased("UNIX.mode", c.upper[4]))),
        Some(format!("{}=a1b2", cased("unique", c.upper[5]))),
    ];
    let mut line = String::new();
    if c.mlst_space {
        line.push(' ');
    }
    for &i in &c.order {
        if let Some(f) = facts[i].take() {
            line += &f;
            line.push(';');
        }
    }
    line.push(' ');
    let mut line = line.into_bytes();
    line.extend_from_slice(&c.name);
    line
}

/// Every slice an entry returns must lie inside the line it was parsed from.
fn assert_points_into(e: &ListEntryRef<'_>, line: &[u8]) {
    let range = line.as_ptr_range();
    for part in [Some(e.name()), e.target(), e.perm(), Some(e.raw())]
        .into_iter()
        .flatten()
    {
        let r = part.as_ptr_range();
        assert!(range.start <= r.start && r.end <= range.end);
    }
    assert!(!e.name().is_empty());
    for (n, v) in e.facts() {
        assert!(!n.is_empty());
        let r = v.as_ptr_range();
        assert!(range.start <= r.start && r.end <= range.end);
    }
    if let Some(t) = e.mtime() {
        // Round-trips through its own text: a real calendar value.
        assert!(t.to_string().len() >= 10);
    }
    let owned = e.to_owned();
    assert_eq!(owned.as_ref(), *e);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(512)))]

    #[test]
    fn unix_lines_round_trip(c in unix_case()) {
        let line = render_unix(&c);
        let e = entry(parse_list_line(&line, now()), &line);
        let kind = match c.type_letter {
            '-' => EntryKind::File,
            'd' => EntryKind::Dir,
            'l' => EntryKind::Symlink,
            _ => EntryKind::Other,
        };
        prop_assert_eq!(e.format(), ListFormat::Unix);
        prop_assert_eq!(e.kind(), kind);
        prop_assert_eq!(e.name(), &c.name[..]);
        prop_assert_eq!(e.target(), c.target.as_deref());
        prop_assert_eq!(e.size(), Some(c.size));
        prop_assert_eq!(e.perm(), Some(c.perm.as_bytes()));
        let want = match c.date { UnixDate::Year(t) | UnixDate::Recent(t) => t };
        prop_assert_eq!(e.mtime(), Some(want));
        assert_points_into(&e, &line);
    }

    #[test]
    fn windows_lines_round_trip(c in win_case()) {
        let line = render_win(&c);
        let e = entry(parse_list_line(&line, now()), &line);
        prop_assert_eq!(e.format(), ListFormat::Windows);
        prop_assert_eq!(e.kind(), if c.dir { EntryKind::Dir } else { EntryKind::File });
        prop_assert_eq!(e.name(), &c.name[..]);
        prop_assert_eq!(e.size(), if c.dir { None } else { Some(c.size) });
        prop_assert_eq!(e.mtime(), Some(c.t));
        prop_assert_eq!(e.perm(), None);
        assert_points_into(&e, &line);
    }

    #[test]
    fn eplf_lines_round_trip(
        dir in any::<bool>(),
        size in prop::option::of(any::<u64>()),
        secs in prop::option::of(0i64..253_402_300_800),
        name in any_name(),
    ) {
        let mut line = String::from("+i8388621.48594,");
        line += if dir { "/," } else { "r," };
        if let Some(s) = size { line += &format!("s{s},"); }
        if let Some(m) = secs { line += &format!("m{m},"); }
        line.push('\t');
        let mut line = line.into_bytes();
        line.extend_from_slice(&name);
        let e = entry(parse_list_line(&line, now()), &line);
        prop_assert_eq!(e.format(), ListFormat::Eplf);
        prop_assert_eq!(e.kind(), if dir { EntryKind::Dir } else { EntryKind::File });
        prop_assert_eq!(e.name(), &name[..]);
        prop_assert_eq!(e.size(), size);
        prop_assert_eq!(e.mtime(), secs.map(|s| Timestamp::from_unix_seconds(s).unwrap()));
        if let Some(t) = e.mtime() {
            prop_assert_eq!(t.precision(), Precision::Second);
        }
        assert_points_into(&e, &line);
    }

    #[test]
    fn vms_lines_round_trip(
        base in "[A-Z0-9_$-]{1,20}",
        ext in "[A-Z0-9]{0,3}",
        dir in any::<bool>(),
        version in 1u32..32768,
        blocks in (0u32..100_000, prop::option::of(0u32..100_000)),
        t in (1000u16..=9999, 1u8..=12, 1u8..=31, 0u8..=23, 0u8..=59, prop::option::of(0u8..=59)),
        owner in prop::option::of("[A-Z,]{1,20}"),
    ) {
        let (y, mo, d, h, mi, s) = t;
        let want = match s {
            Some(s) => Timestamp::new(y, mo, d, h, mi, s),
            None => Timestamp::minute(y, mo, d, h, mi),
        };
        prop_assume!(want.is_some());
        let name = format!("{base}.{};{version}", if dir { "DIR" } else { &ext });
        let blocks = match blocks.1 { Some(b) => format!("{}/{b}", blocks.0), None => blocks.0.to_string() };
        let time = match s { Some(s) => format!("{h:02}:{mi:02}:{s:02}"), None => format!("{h:02}:{mi:02}") };
        let owner = owner.map(|o| format!("  [{o}]")).unwrap_or_default();
        let line = format!(
            "{name:<18} {blocks:>9}  {d}-{}-{y} {time}{owner}  (RWED,RWED,RE,)",
            MONTHS[mo as usize - 1].to_ascii_uppercase()
        );
        let e = entry(parse_list_line(line.as_bytes(), now()), line.as_bytes());
        prop_assert_eq!(e.format(), ListFormat::Vms);
        prop_assert_eq!(e.kind(), if dir { EntryKind::Dir } else { EntryKind::File });
        prop_assert_eq!(e.name(), name.as_bytes());
        prop_assert_eq!(e.size(), None);
        prop_assert_eq!(e.mtime(), want);
    }

    #[test]
    fn mlsd_lines_round_trip(c in mlsd_case()) {
        let line = render_mlsd(&c);
        let e = entry(parse_mlsx_line(&line), &line);
        prop_assert_eq!(e.format(), ListFormat::Mlsd);
        prop_assert_eq!(e.kind(), c.kind);
        prop_assert_eq!(e.name(), &c.name[..]);
        prop_assert_eq!(e.target(), c.target.as_deref());
        prop_assert_eq!(e.size(), c.size);
        let want = c.modify.map(|(t, frac)| match frac {
            Some((v, d)) => t.with_fraction(v, d).unwrap(),
            None => t,
        });
        prop_assert_eq!(e.mtime(), want);
        prop_assert_eq!(e.perm(), c.perm.as_deref().map(str::as_bytes));
        prop_assert_eq!(e.unix_mode(), c.mode);
        prop_assert_eq!(e.fact("UNIQUE"), Some(&b"a1b2"[..]));
        assert_points_into(&e, &line);
    }

    #[test]
    fn arbitrary_bytes_never_panic(buf in prop::collection::vec(any::<u8>(), 0..300)) {
        for p in parse_list(&buf, now()).chain(parse_mlsd(&buf)) {
            if let ParsedLine::Entry(e) = p {
                assert_points_into(&e, &buf);
            }
        }
        let n = list_lines(&buf).count();
        prop_assert!(n <= buf.len() + 1);
    }

    #[test]
    fn mutated_valid_lines_never_panic(
        c in unix_case(),
        m in mlsd_case(),
        w in win_case(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        for mut line in [render_unix(&c), render_mlsd(&m), render_win(&w)] {
            for (at, byte) in &edits {
                let i = at.index(line.len());
                line[i] = *byte;
            }
            for p in [parse_list_line(&line, now()), parse_mlsx_line(&line)] {
                match p {
                    ParsedLine::Entry(e) => assert_points_into(&e, &line),
                    ParsedLine::Unparsed(raw) => prop_assert!(line.starts_with(raw)),
                    ParsedLine::NotAnEntry => {}
                }
            }
        }
    }
}

/// A name `check_local_name` accepts is exactly one normal path component on this system:
/// joined to a folder it can never point outside it.
#[cfg(unix)]
mod local_names {
    use ftp_sansio::listing::check_local_name;
    use proptest::prelude::*;
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Component, Path};

    fn names() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..12),
            proptest::collection::vec(prop::sample::select(b"./\\\0\x1b a".to_vec()), 0..8),
        ]
    }

    proptest! {
        #[test]
        fn accepted_names_stay_inside_the_folder(name in names()) {
            let path = Path::new("target").join(OsStr::from_bytes(&name));
            let components: Vec<Component> = Path::new(OsStr::from_bytes(&name)).components().collect();
            if check_local_name(&name).is_ok() {
                prop_assert_eq!(components.len(), 1);
                let is_normal = matches!(components[0], Component::Normal(c) if c.as_bytes() == name.as_slice());
                prop_assert!(is_normal);
                prop_assert_eq!(path.parent(), Some(Path::new("target")));
            } else {
                let escapes = components.len() != 1
                    || !matches!(components[0], Component::Normal(c) if c.as_bytes() == name.as_slice())
                    || name.iter().any(|&b| b < 0x20 || b == 0x7f || b == b'\\');
                prop_assert!(escapes, "refused a plain name: {:?}", name);
            }
        }
    }
}
