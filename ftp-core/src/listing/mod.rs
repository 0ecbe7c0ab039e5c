//! Directory listings: `LIST` in the formats real servers send, `MLSD`/`MLST` facts and `NLST`.
//!
//! Every parser here is pure: it takes one line (or a whole listing buffer) and returns a
//! [`ParsedLine`] that borrows from the input, allocating nothing. A line is one of:
//!
//! - [`ParsedLine::Entry`]: a [`ListEntryRef`] with the name (as bytes, so names that are not
//!   UTF-8 survive), the [`EntryKind`], the size, the modification time with the precision the
//!   server gave ([`Timestamp`]), a symlink target, the permissions and the raw line;
//! - [`ParsedLine::NotAnEntry`]: a line that carries no entry (`total 12`, a VMS header or
//!   trailer, a blank line);
//! - [`ParsedLine::Unparsed`]: a line no parser understands, carrying the raw line. Parsers
//!   validate strictly (month names, day of month, hour, minute, digits), so a line that only
//!   looks like a known format is reported here instead of becoming a wrong entry.
//!
//! `LIST` formats are detected per line ([`parse_list_line`]): Unix `ls -l` (with or without
//! the group column, numeric ids, ACL marks, devices with `major, minor`, symlinks
//! `name -> target`, the year-or-time column, names with leading, inner and trailing spaces),
//! Windows/IIS/DOS (`MM-DD-YY  HH:MMAM  <DIR> name`), EPLF and VMS. `MLSD` lines and the fact
//! line of an `MLST` reply go to [`parse_mlsx_line`] (RFC 3659 facts, names case-insensitive).
//!
//! ```
//! use ftp_sansio::listing::{parse_list, EntryKind, ParsedLine};
//! use ftp_sansio::time::Timestamp;
//!
//! let now = Timestamp::new(2017, 3, 10, 23, 0, 0).unwrap();
//! let listing = b"total 8\r\n\
//! drwxr-xr-x   2 ftp ftp  4096 Aug 20  2016 subdir\r\n\
//! lrwxrwxrwx   1 ftp ftp     9 Jan  1 12:30 link -> hello.txt\r\n";
//! let entries: Vec<_> = parse_list(listing, now).filter_map(|l| l.entry()).collect();
//! assert_eq!(entries.len(), 2);
//! assert_eq!(entries[0].name(), b"subdir");
//! assert_eq!(entries[0].kind(), EntryKind::Dir);
//! assert_eq!(entries[0].mtime().unwrap().to_string(), "2016-08-20");
//! assert_eq!(entries[1].target(), Some(&b"hello.txt"[..]));
//! assert_eq!(entries[1].mtime().unwrap().to_string(), "2017-01-01T12:30");
//! ```

use core::fmt;
use std::borrow::Cow;

use crate::time::Timestamp;

mod eplf;
mod mlsx;
mod unix;
mod vms;
mod windows;

/// What a listing entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link; [`ListEntryRef::target`] holds the target when the line gives it.
    Symlink,
    /// Anything else: a device, a pipe, a socket, an `OS.unix=...` type other than a link, or
    /// an entry whose type the server did not state.
    Other,
    /// The listed directory itself (`MLSD` `type=cdir`).
    CurrentDir,
    /// The parent of the listed directory (`MLSD` `type=pdir`).
    ParentDir,
}

impl EntryKind {
    /// Whether this is a directory of any flavour ([`Dir`](EntryKind::Dir),
    /// [`CurrentDir`](EntryKind::CurrentDir) or [`ParentDir`](EntryKind::ParentDir)).
    pub fn is_dir(self) -> bool {
        matches!(
            self,
            EntryKind::Dir | EntryKind::CurrentDir | EntryKind::ParentDir
        )
    }
}

/// The listing format a line was parsed as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListFormat {
    /// Unix `ls -l` style.
    Unix,
    /// Windows / IIS / DOS style (`MM-DD-YY  HH:MMAM  <DIR>  name`).
    Windows,
    /// Easily Parsed LIST Format (`+facts,\tname`).
    Eplf,
    /// VMS (`NAME.EXT;1  size  DD-MON-YYYY HH:MM:SS  [owner]  (perms)`).
    Vms,
    /// An `MLSD` line or the fact line of an `MLST` reply (RFC 3659).
    Mlsd,
}

/// A byte range inside the raw line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Span {
    start: usize,
    end: usize,
}

impl Span {
    #[inline]
    fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
    #[inline]
    fn get(self, raw: &[u8]) -> &[u8] {
        &raw[self.start..self.end]
    }
    #[inline]
    fn is_empty(self) -> bool {
        self.start >= self.end
    }
}

/// What a parser found in a line; spans index the raw line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Fields {
    format: ListFormat,
    kind: EntryKind,
    name: Span,
    target: Option<Span>,
    perm: Option<Span>,
    /// MLSD: the facts before the name, each ending with `;`.
    facts: Option<Span>,
    size: Option<u64>,
    mtime: Option<Timestamp>,
}

/// One listing entry, borrowed from the line it was parsed from. Allocates nothing.
///
/// ```
/// use ftp_sansio::listing::{parse_mlsx_line, EntryKind, ListFormat, ParsedLine};
///
/// let line = b"Type=file;Size=1830;Modify=19940916055648.25;Perm=r;UNIX.mode=0644; hatch.c";
/// let ParsedLine::Entry(e) = parse_mlsx_line(line) else { panic!() };
/// assert_eq!(e.format(), ListFormat::Mlsd);
/// assert_eq!(e.name(), b"hatch.c");
/// assert_eq!(e.kind(), EntryKind::File);
/// assert_eq!(e.size(), Some(1830));
/// assert_eq!(e.mtime().unwrap().to_string(), "1994-09-16T05:56:48.25");
/// assert_eq!(e.perm(), Some(&b"r"[..]));
/// assert_eq!(e.fact("unix.MODE"), Some(&b"0644"[..]));
/// assert_eq!(e.unix_owner(), None);
/// assert_eq!(e.unix_mode(), Some(0o644));
/// let owned = e.to_owned();
/// assert_eq!(owned.name_lossy(), "hatch.c");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListEntryRef<'a> {
    raw: &'a [u8],
    f: Fields,
}

impl<'a> ListEntryRef<'a> {
    /// The entry's name exactly as sent (bytes: not necessarily UTF-8). For `MLST` this is
    /// the path the server wrote (often absolute); VMS names keep their `;version`.
    #[inline]
    pub fn name(&self) -> &'a [u8] {
        self.f.name.get(self.raw)
    }

    /// The name for display: UTF-8 as is, other bytes replaced by U+FFFD.
    pub fn name_lossy(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.name())
    }

    /// What the entry is.
    #[inline]
    pub fn kind(&self) -> EntryKind {
        self.f.kind
    }

    /// Whether the entry is a directory of any flavour (see [`EntryKind::is_dir`]).
    #[inline]
    pub fn is_dir(&self) -> bool {
        self.f.kind.is_dir()
    }

    /// The format the line was parsed as.
    #[inline]
    pub fn format(&self) -> ListFormat {
        self.f.format
    }

    /// Size in bytes, when the line gives one (never for devices, VMS block counts or
    /// Windows directories; `MLSD` only from the `size` fact).
    #[inline]
    pub fn size(&self) -> Option<u64> {
        self.f.size
    }

    /// Modification time with the precision the line gave. `LIST` times are the server's
    /// local time; `MLSD` `modify` is UTC by RFC 3659; EPLF is UTC to the second.
    #[inline]
    pub fn mtime(&self) -> Option<Timestamp> {
        self.f.mtime
    }

    /// A symlink's target, when the line names one (`name -> target`,
    /// `type=OS.unix=slink:target`, Windows `<SYMLINKD> name [target]`).
    #[inline]
    pub fn target(&self) -> Option<&'a [u8]> {
        self.f.target.map(|s| s.get(self.raw))
    }

    /// Permissions as written: Unix, the nine letters after the type letter (`rwxr-sr-t`,
    /// without an ACL mark); `MLSD`, the value of the `perm` fact (`adfr`). `None` where
    /// the format gives none.
    #[inline]
    pub fn perm(&self) -> Option<&'a [u8]> {
        self.f.perm.map(|s| s.get(self.raw))
    }

    /// The whole line as parsed (without its line end).
    #[inline]
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The value of an `MLSD`/`MLST` fact, the fact name compared case-insensitively
    /// (`"unix.mode"` finds `UNIX.mode=0644`). `None` for other formats or a missing fact;
    /// the first occurrence wins.
    pub fn fact(&self, name: &str) -> Option<&'a [u8]> {
        let name = name.as_bytes();
        self.facts()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// All `MLSD`/`MLST` facts in the order sent, as `(name, value)` pairs (empty for other
    /// formats).
    pub fn facts(&self) -> Facts<'a> {
        Facts {
            rest: self.f.facts.map_or(&[][..], |s| s.get(self.raw)),
        }
    }

    /// The `unique` fact of an `MLSD` entry: an identifier of the file on the server (equal
    /// for two names of one file).
    pub fn unique(&self) -> Option<&'a [u8]> {
        self.fact("unique")
    }

    /// The owner an `MLSD` entry names: `UNIX.owner` (ProFTPD, pyftpdlib) or `UNIX.uid`
    /// (Pure-FTPd).
    pub fn unix_owner(&self) -> Option<&'a [u8]> {
        self.fact("unix.owner").or_else(|| self.fact("unix.uid"))
    }

    /// The group an `MLSD` entry names: `UNIX.group` or `UNIX.gid`.
    pub fn unix_group(&self) -> Option<&'a [u8]> {
        self.fact("unix.group").or_else(|| self.fact("unix.gid"))
    }

    /// The Unix permission bits (including setuid, setgid and sticky) when the line gives
    /// them: from the nine letters of a Unix `LIST` line, or the octal `UNIX.mode` fact of an
    /// `MLSD` line.
    pub fn unix_mode(&self) -> Option<u32> {
        match self.f.format {
            ListFormat::Unix => self.perm().and_then(unix::mode_from_letters),
            ListFormat::Mlsd => {
                let v = self.fact("unix.mode")?;
                if v.is_empty() || v.len() > 7 || !v.iter().all(|c| (b'0'..=b'7').contains(c)) {
                    return None;
                }
                Some(v.iter().fold(0u32, |m, c| m * 8 + u32::from(c - b'0')))
            }
            _ => None,
        }
    }

    /// An owned copy (one allocation: the raw line, which the name and other fields index).
    #[allow(clippy::wrong_self_convention)]
    pub fn to_owned(&self) -> ListEntry {
        ListEntry {
            raw: self.raw.to_vec(),
            f: self.f,
        }
    }
}

impl fmt::Debug for ListEntryRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lossy = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
        f.debug_struct("ListEntry")
            .field("format", &self.format())
            .field("kind", &self.kind())
            .field("name", &self.name_lossy())
            .field("size", &self.size())
            .field("mtime", &self.mtime().map(|t| t.to_string()))
            .field("target", &lossy(self.target()))
            .field("perm", &lossy(self.perm()))
            .finish()
    }
}

/// An owned listing entry: the same accessors as [`ListEntryRef`].
///
/// ```
/// use ftp_sansio::listing::{parse_list_line, EntryKind, ListEntry};
/// use ftp_sansio::time::Timestamp;
///
/// let now = Timestamp::new(2017, 3, 10, 23, 0, 0).unwrap();
/// let owned: ListEntry = parse_list_line(b"12-05-96  05:03PM       <DIR>          absoft2", now)
///     .entry()
///     .unwrap()
///     .to_owned();
/// assert_eq!(owned.kind(), EntryKind::Dir);
/// assert_eq!(owned.mtime().unwrap().to_string(), "1996-12-05T17:03");
/// assert_eq!(owned.as_ref().name(), b"absoft2");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ListEntry {
    raw: Vec<u8>,
    f: Fields,
}

impl ListEntry {
    /// The borrowing view, with every accessor.
    #[inline]
    pub fn as_ref(&self) -> ListEntryRef<'_> {
        ListEntryRef {
            raw: &self.raw,
            f: self.f,
        }
    }
    /// See [`ListEntryRef::name`].
    pub fn name(&self) -> &[u8] {
        self.as_ref().name()
    }
    /// See [`ListEntryRef::name_lossy`].
    pub fn name_lossy(&self) -> Cow<'_, str> {
        self.as_ref().name_lossy()
    }
    /// See [`ListEntryRef::kind`].
    pub fn kind(&self) -> EntryKind {
        self.f.kind
    }
    /// See [`ListEntryRef::is_dir`].
    pub fn is_dir(&self) -> bool {
        self.f.kind.is_dir()
    }
    /// See [`ListEntryRef::format`].
    pub fn format(&self) -> ListFormat {
        self.f.format
    }
    /// See [`ListEntryRef::size`].
    pub fn size(&self) -> Option<u64> {
        self.f.size
    }
    /// See [`ListEntryRef::mtime`].
    pub fn mtime(&self) -> Option<Timestamp> {
        self.f.mtime
    }
    /// See [`ListEntryRef::target`].
    pub fn target(&self) -> Option<&[u8]> {
        self.as_ref().target()
    }
    /// See [`ListEntryRef::perm`].
    pub fn perm(&self) -> Option<&[u8]> {
        self.as_ref().perm()
    }
    /// See [`ListEntryRef::raw`].
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }
    /// See [`ListEntryRef::fact`].
    pub fn fact(&self, name: &str) -> Option<&[u8]> {
        self.as_ref().fact(name)
    }
    /// See [`ListEntryRef::facts`].
    pub fn facts(&self) -> Facts<'_> {
        self.as_ref().facts()
    }
    /// See [`ListEntryRef::unix_mode`].
    pub fn unix_mode(&self) -> Option<u32> {
        self.as_ref().unix_mode()
    }
    /// See [`ListEntryRef::unique`].
    pub fn unique(&self) -> Option<&[u8]> {
        self.as_ref().unique()
    }
    /// See [`ListEntryRef::unix_owner`].
    pub fn unix_owner(&self) -> Option<&[u8]> {
        self.as_ref().unix_owner()
    }
    /// See [`ListEntryRef::unix_group`].
    pub fn unix_group(&self) -> Option<&[u8]> {
        self.as_ref().unix_group()
    }
}

impl fmt::Debug for ListEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_ref().fmt(f)
    }
}

impl<'a> From<ListEntryRef<'a>> for ListEntry {
    fn from(e: ListEntryRef<'a>) -> ListEntry {
        e.to_owned()
    }
}

/// Iterator over the `(name, value)` facts of an `MLSD` entry; see [`ListEntryRef::facts`].
#[derive(Clone, Debug)]
pub struct Facts<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Facts<'a> {
    type Item = (&'a [u8], &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let end = memchr::memchr(b';', self.rest).unwrap_or(self.rest.len());
        let fact = &self.rest[..end];
        self.rest = self.rest.get(end + 1..).unwrap_or(&[]);
        // The parser validated every fact as `name=value`.
        let eq = memchr::memchr(b'=', fact).unwrap_or(fact.len());
        Some((&fact[..eq], fact.get(eq + 1..).unwrap_or(&[])))
    }
}

/// The result of parsing one listing line.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ParsedLine<'a> {
    /// A directory entry.
    Entry(ListEntryRef<'a>),
    /// A line that carries no entry and is no error: `total 12`, a VMS `Directory ...`
    /// header or `Total of ...` trailer, a blank line.
    NotAnEntry,
    /// A line no parser understands (or that fails validation): the raw line, without its
    /// line end.
    Unparsed(&'a [u8]),
}

impl<'a> ParsedLine<'a> {
    /// The entry, if this line is one.
    pub fn entry(self) -> Option<ListEntryRef<'a>> {
        match self {
            ParsedLine::Entry(e) => Some(e),
            _ => None,
        }
    }
    /// Whether this line is [`ParsedLine::Unparsed`].
    pub fn is_unparsed(&self) -> bool {
        matches!(self, ParsedLine::Unparsed(_))
    }
}

/// Strips one trailing line end (`\n`, `\r\n` or `\r`).
#[inline]
fn strip_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[inline]
fn entry(line: &[u8], f: Option<Fields>) -> Option<ParsedLine<'_>> {
    f.map(|f| ParsedLine::Entry(ListEntryRef { raw: line, f }))
}

/// Parses one `LIST` line, detecting its format (Unix, Windows/IIS/DOS, EPLF, VMS).
///
/// `now` is the current time of the server, used only for Unix lines that give a time of
/// day instead of a year (`Mar 10 14:05`): they take the year of `now`, or the year before
/// when that would put the date more than one day after `now`. A trailing `\r\n` or `\n` is
/// ignored.
///
/// ```
/// use ftp_sansio::listing::{parse_list_line, EntryKind, ListFormat, ParsedLine};
/// use ftp_sansio::time::Timestamp;
///
/// let now = Timestamp::new(2017, 3, 10, 23, 0, 0).unwrap();
/// let e = parse_list_line(b"-rw-r--r--   1 ftp  ftp  12 Mar 12  3:33 a  b ", now).entry().unwrap();
/// assert_eq!(e.format(), ListFormat::Unix);
/// assert_eq!(e.name(), b"a  b ");
/// assert_eq!(e.perm(), Some(&b"rw-r--r--"[..]));
/// assert_eq!(e.mtime().unwrap().to_string(), "2016-03-12T03:33"); // a future date: last year
/// assert_eq!(parse_list_line(b"total 12", now), ParsedLine::NotAnEntry);
/// // "Jam" is no month: never a wrong entry.
/// let bad = b"drwxr-xr-x   2 root  root  4096 Jam  4 00:03 x";
/// assert_eq!(parse_list_line(bad, now), ParsedLine::Unparsed(&bad[..]));
/// ```
pub fn parse_list_line(line: &[u8], now: Timestamp) -> ParsedLine<'_> {
    parse_list_stripped(strip_eol(line), &unix::YearRule::new(now))
}

/// [`parse_list_line`] on a line whose line end is already gone.
#[inline]
fn parse_list_stripped<'a>(line: &'a [u8], now: &unix::YearRule) -> ParsedLine<'a> {
    let Some(&first) = line.first() else {
        return ParsedLine::NotAnEntry;
    };
    let f = match first {
        b'+' => eplf::parse(line),
        b'0'..=b'9' => windows::parse(line).or_else(|| vms::parse(line)),
        _ => unix::parse(line, now).or_else(|| vms::parse(line)),
    };
    if let Some(p) = entry(line, f) {
        return p;
    }
    if is_not_an_entry(line) {
        ParsedLine::NotAnEntry
    } else {
        ParsedLine::Unparsed(line)
    }
}

/// Lines of a `LIST` reply that are no entry: blank lines, `total N`, VMS headers and
/// trailers.
fn is_not_an_entry(line: &[u8]) -> bool {
    if line.iter().all(|&c| c == b' ' || c == b'\t') {
        return true;
    }
    let starts_ci = |p: &[u8]| line.len() >= p.len() && line[..p.len()].eq_ignore_ascii_case(p);
    for p in [&b"total "[..], b"grand total "] {
        if starts_ci(p) {
            let rest = &line[p.len()..];
            return rest.first().is_some_and(u8::is_ascii_digit) || rest.starts_with(b"of ");
        }
    }
    if line.starts_with(b"Directory ") {
        return true;
    }
    // A VMS device and directory on its own: `DISK$ANONFTP:[ANONYMOUS]`.
    let t = trim_end_spaces(line);
    !t.contains(&b' ') && t.ends_with(b"]") && memchr::memmem::find(t, b":[").is_some()
}

/// Parses one `MLSD` line, or the fact line of an `MLST` reply (its leading space is
/// tolerated), per RFC 3659: `fact=value;fact=value; name`.
///
/// Fact names are compared case-insensitively; `type`, `size`, `modify` and `perm` are
/// decoded, every fact stays available through [`ListEntryRef::fact`]. The name is
/// everything after the space that ends the facts, so it may contain spaces and `;`.
/// A fact without `=`, a last fact without its `;`, a bad `size` or `modify`, a repeated
/// `type`/`size`/`modify`/`perm`, or a missing name make the line [`ParsedLine::Unparsed`].
///
/// ```
/// use ftp_sansio::listing::{parse_mlsx_line, EntryKind};
///
/// let e = parse_mlsx_line(b" type=OS.unix=slink:/foo;modify=20160202020200; semi;colon  name")
///     .entry()
///     .unwrap();
/// assert_eq!(e.name(), b"semi;colon  name");
/// assert_eq!(e.kind(), EntryKind::Symlink);
/// assert_eq!(e.target(), Some(&b"/foo"[..]));
/// assert!(parse_mlsx_line(b"Type=dir missing-semicolon").is_unparsed());
/// ```
pub fn parse_mlsx_line(line: &[u8]) -> ParsedLine<'_> {
    parse_mlsx_stripped(strip_eol(line))
}

/// [`parse_mlsx_line`] on a line whose line end is already gone.
#[inline]
fn parse_mlsx_stripped(line: &[u8]) -> ParsedLine<'_> {
    if line.is_empty() {
        return ParsedLine::NotAnEntry;
    }
    match entry(line, mlsx::parse(line)) {
        Some(p) => p,
        None if line.iter().all(|&c| c == b' ' || c == b'\t') => ParsedLine::NotAnEntry,
        None => ParsedLine::Unparsed(line),
    }
}

/// One `NLST` line: the name without its line end, or `None` for an empty line.
///
/// ```
/// assert_eq!(ftp_sansio::listing::parse_nlst_line(b" a name \r\n"), Some(&b" a name "[..]));
/// assert_eq!(ftp_sansio::listing::parse_nlst_line(b"\r\n"), None);
/// ```
pub fn parse_nlst_line(line: &[u8]) -> Option<&[u8]> {
    let line = strip_eol(line);
    (!line.is_empty()).then_some(line)
}

/// Why a name from a server's listing must not become a local file name.
///
/// Names in listings come from the server: a hostile one can send `..`, `../../etc/passwd`,
/// `a/b`, `C:\x` or names with NUL and control characters, to make a mirroring client write
/// outside its target folder or print terminal escapes. [`check_local_name`] refuses them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnsafeName {
    /// The name is empty.
    #[error("empty name")]
    Empty,
    /// `.` or `..`: the folder itself or its parent.
    #[error("'.' or '..' would leave the target folder")]
    DotOrDotDot,
    /// A `/` or `\` would make the name a path into another folder.
    #[error("a path separator ('/' or '\\') would leave the target folder")]
    Separator,
    /// A NUL byte (it ends the name for the operating system).
    #[error("a NUL byte in the name")]
    Nul,
    /// A control character (0x01-0x1F, 0x7F): line ends, escapes.
    #[error("a control character in the name")]
    Control,
}

/// Checks that a name from a listing is one plain path component, safe to create inside a
/// local folder: not empty, not `.` or `..`, without `/`, `\`, NUL or control characters.
/// Anything else (spaces, leading dots as in `.profile`, non-UTF-8 bytes) is allowed.
/// Use it before turning any listed name into a local path, as the mirror example does.
///
/// ```
/// use ftp_sansio::listing::{check_local_name, UnsafeName};
/// assert_eq!(check_local_name(b"report 2017.pdf"), Ok(()));
/// assert_eq!(check_local_name(b".profile"), Ok(()));
/// assert_eq!(check_local_name(b".."), Err(UnsafeName::DotOrDotDot));
/// assert_eq!(check_local_name(b"../../etc/passwd"), Err(UnsafeName::Separator));
/// assert_eq!(check_local_name(b"C:\\boot.ini"), Err(UnsafeName::Separator));
/// assert_eq!(check_local_name(b"a\0b"), Err(UnsafeName::Nul));
/// assert_eq!(check_local_name(b"a\x1b[2Jb"), Err(UnsafeName::Control));
/// ```
pub fn check_local_name(name: &[u8]) -> Result<(), UnsafeName> {
    match name {
        [] => Err(UnsafeName::Empty),
        b"." | b".." => Err(UnsafeName::DotOrDotDot),
        _ if name.iter().any(|&b| b == b'/' || b == b'\\') => Err(UnsafeName::Separator),
        _ if name.contains(&0) => Err(UnsafeName::Nul),
        _ if name.iter().any(|&b| b < 0x20 || b == 0x7f) => Err(UnsafeName::Control),
        _ => Ok(()),
    }
}

/// Splits a listing buffer into lines: on `\n`, with one `\r` before it removed. A final
/// line without a line end is yielded too; nothing is yielded after a final line end.
///
/// ```
/// let lines: Vec<&[u8]> = ftp_sansio::listing::list_lines(b"a\r\nb\n\nc").collect();
/// assert_eq!(lines, [&b"a"[..], b"b", b"", b"c"]);
/// ```
pub fn list_lines(buf: &[u8]) -> Lines<'_> {
    Lines { rest: buf }
}

/// Iterator over the lines of a listing buffer; see [`list_lines`].
#[derive(Clone, Debug)]
pub struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let line = match memchr::memchr(b'\n', self.rest) {
            Some(i) => {
                let l = &self.rest[..i];
                self.rest = &self.rest[i + 1..];
                l
            }
            None => core::mem::take(&mut self.rest),
        };
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}

/// Parses a whole `LIST` buffer line by line; see [`parse_list_line`].
pub fn parse_list(buf: &[u8], now: Timestamp) -> ParseList<'_> {
    ParseList {
        lines: list_lines(buf),
        now: unix::YearRule::new(now),
    }
}

/// Iterator of [`ParsedLine`]s over a `LIST` buffer; see [`parse_list`].
#[derive(Clone, Debug)]
pub struct ParseList<'a> {
    lines: Lines<'a>,
    now: unix::YearRule,
}

impl<'a> Iterator for ParseList<'a> {
    type Item = ParsedLine<'a>;
    #[inline]
    fn next(&mut self) -> Option<ParsedLine<'a>> {
        self.lines.next().map(|l| parse_list_stripped(l, &self.now))
    }
}

/// Parses a whole `MLSD` buffer line by line; see [`parse_mlsx_line`].
///
/// ```
/// use ftp_sansio::listing::{parse_mlsd, EntryKind};
///
/// let buf = b"type=cdir;modify=20160820000000; .\r\ntype=file;size=11; hello.txt\r\n";
/// let kinds: Vec<_> = parse_mlsd(buf).filter_map(|l| l.entry()).map(|e| e.kind()).collect();
/// assert_eq!(kinds, [EntryKind::CurrentDir, EntryKind::File]);
/// ```
pub fn parse_mlsd(buf: &[u8]) -> ParseMlsd<'_> {
    ParseMlsd {
        lines: list_lines(buf),
    }
}

/// Iterator of [`ParsedLine`]s over an `MLSD` buffer; see [`parse_mlsd`].
#[derive(Clone, Debug)]
pub struct ParseMlsd<'a> {
    lines: Lines<'a>,
}

impl<'a> Iterator for ParseMlsd<'a> {
    type Item = ParsedLine<'a>;
    #[inline]
    fn next(&mut self) -> Option<ParsedLine<'a>> {
        self.lines.next().map(parse_mlsx_stripped)
    }
}

// ---- small byte helpers shared by the format parsers ----

fn trim_end_spaces(b: &[u8]) -> &[u8] {
    let mut end = b.len();
    while end > 0 && b[end - 1] == b' ' {
        end -= 1;
    }
    &b[..end]
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit set in the bytes of `t` that are zero; the lowest set bit is always exact
/// (only bytes above a zero byte can be false positives).
#[inline(always)]
fn zero_bytes(t: u64) -> u64 {
    t.wrapping_sub(LO) & !t & HI
}

/// Eight bytes of `h` from `at` as a little-endian word (the caller checked the length).
#[inline(always)]
fn load8(h: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&h[at..at + 8]);
    u64::from_le_bytes(b)
}

/// The first position at or after `from` holding `a` or `b`, eight bytes at a time (short
/// haystacks such as MLSD facts, where a memchr call costs more than it saves). The first
/// sixteen bytes are probed without a loop: most facts are shorter, so the branch predicts.
#[inline]
fn find2(h: &[u8], mut from: usize, a: u8, b: u8) -> Option<usize> {
    let (pa, pb) = (LO * u64::from(a), LO * u64::from(b));
    let mask = |w: u64| zero_bytes(w ^ pa) | zero_bytes(w ^ pb);
    if from + 16 <= h.len() {
        let m = u128::from(mask(load8(h, from))) | u128::from(mask(load8(h, from + 8))) << 64;
        if m != 0 {
            return Some(from + (m.trailing_zeros() / 8) as usize);
        }
        from += 16;
    }
    while from + 8 <= h.len() {
        let m = mask(load8(h, from));
        if m != 0 {
            return Some(from + (m.trailing_zeros() / 8) as usize);
        }
        from += 8;
    }
    while from < h.len() {
        if h[from] == a || h[from] == b {
            return Some(from);
        }
        from += 1;
    }
    None
}

/// The first position at or after `from` holding `a`; see [`find2`].
#[inline]
fn find1(h: &[u8], from: usize, a: u8) -> Option<usize> {
    find2(h, from, a, a)
}

/// Stores `v` in an empty slot; `None` if the slot was already filled (a repeated field).
#[inline]
fn set_once<T>(slot: &mut Option<T>, v: T) -> Option<()> {
    match slot {
        Some(_) => None,
        None => {
            *slot = Some(v);
            Some(())
        }
    }
}

/// A non-empty run of ASCII digits as `u64`; `None` on anything else or overflow.
#[inline]
fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// 1 to 9 ASCII digits as `u32`.
#[inline]
fn parse_small(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    let mut v: u32 = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u32::from(d);
    }
    Some(v)
}

/// An English three-letter month name, any case, as 1..=12.
#[inline]
fn month_ci(b: &[u8]) -> Option<u8> {
    let [a, b, c] = *b else { return None };
    let key = [a | 0x20, b | 0x20, c | 0x20];
    Some(match &key {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
