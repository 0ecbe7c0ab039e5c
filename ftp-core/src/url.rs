//! `ftp://` and `ftps://` URLs, parsed once, as RFC 1738 §3.1 and §3.2 describe them.
//!
//! ```text
//! ftp://[user[:password]@]host[:port][/cwd1/cwd2/.../name][;type=a|i|d]
//! ftps://...                       (the same, implicit FTPS, default port 990)
//! ```
//!
//! - The scheme is case-insensitive (`FTP://` is `ftp://`). `ftps` means *implicit* FTPS: TLS
//!   from the first byte, on port 990 unless a port is given, as curl reads it. Explicit FTPS
//!   (`AUTH TLS` on port 21) has no scheme of its own; use `ftp://` and ask for TLS.
//! - The user and the password are percent-decoded. Without a user the URL is anonymous:
//!   [`FtpUrl::credentials`] then gives `("", "")`, which is exactly what the session's `Login`
//!   operation (and `ftp_blocking::Ftp::login`) reads as "`USER anonymous`, `PASS anonymous@`".
//!   One rule, kept in one place.
//! - The host is a name, an IPv4 address or an `[IPv6]` literal ([`FtpUrl::host`] gives it
//!   without the brackets, ready for `(host, port)` socket addresses).
//! - The path is relative to the login directory. Each `/`-separated segment is percent-decoded
//!   on its own: per RFC 1738 every segment but the last is one `CWD` step
//!   ([`FtpUrl::directory`]) and the last one names the file ([`FtpUrl::file_name`]). A `%2F`
//!   inside a segment is a slash *within* that `CWD` argument: `ftp://host/%2Fetc/motd` changes
//!   to `/etc` and fetches `motd`, and [`FtpUrl::path`] joins the segments into `/etc/motd`.
//!   Empty segments (`a//b`) are skipped. A path that ends with `/`, or no path at all, names a
//!   directory.
//! - A `;type=a`, `;type=i` or `;type=d` after the last segment is the RFC 1738 typecode: it is
//!   removed from the name and given by [`FtpUrl::typecode`]. `;type=d` marks a directory.
//! - `?query` and `#fragment` are not part of any FTP path: they are dropped and never reach
//!   the server.
//! - Nothing that could break a command line survives: a CR, LF or NUL anywhere (written as is
//!   or percent-encoded) is refused with [`UrlError::ForbiddenByte`]. The host is restricted to
//!   the characters of a DNS name or an IP literal.
//! - Neither [`Display`](fmt::Display) nor [`Debug`](fmt::Debug) ever shows the password.
//!
//! ```
//! use ftp_sansio::url::{FtpUrl, Scheme, TypeCode};
//!
//! let url: FtpUrl = "FTP://al%40ice:s%3Acret@[::1]:2121/pub/My%20Files/notes.txt;type=a#top"
//!     .parse()?;
//! assert_eq!(url.scheme(), Scheme::Ftp);
//! assert_eq!(url.credentials(), ("al@ice", "s:cret"));
//! assert_eq!((url.host(), url.port()), ("::1", 2121));
//! assert_eq!(url.directory(), ["pub", "My Files"]);
//! assert_eq!(url.file_name(), Some("notes.txt"));
//! assert_eq!(url.path(), "pub/My Files/notes.txt");
//! assert_eq!(url.typecode(), Some(TypeCode::Ascii));
//! // the password is never shown
//! assert_eq!(url.to_string(), "ftp://al%40ice@[::1]:2121/pub/My%20Files/notes.txt;type=a");
//!
//! let anon = FtpUrl::parse("ftps://ftp.example.org/")?;
//! assert_eq!(anon.port(), 990);
//! assert_eq!(anon.credentials(), ("", "")); // anonymous, as Login reads it
//! assert!(anon.is_dir());
//! # Ok::<(), ftp_sansio::url::UrlError>(())
//! ```

use core::fmt;
use core::net::Ipv6Addr;
use core::str::FromStr;

/// The scheme of an [`FtpUrl`].
///
/// ```
/// use ftp_sansio::url::Scheme;
/// assert_eq!(Scheme::Ftp.default_port(), 21);
/// assert_eq!(Scheme::Ftps.default_port(), 990);
/// assert!(Scheme::Ftps.is_implicit_tls());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `ftp://`: plain FTP (RFC 959), port 21 by default.
    Ftp,
    /// `ftps://`: implicit FTPS, TLS from the first byte (RFC 4217 §2 history, as curl and most
    /// clients read the scheme), port 990 by default.
    Ftps,
}

impl Scheme {
    /// The port used when the URL gives none: 21 for `ftp`, 990 for `ftps`.
    ///
    /// ```
    /// assert_eq!(ftp_sansio::url::Scheme::Ftp.default_port(), 21);
    /// ```
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Ftp => 21,
            Scheme::Ftps => 990,
        }
    }

    /// Whether the connection starts with a TLS handshake (`ftps`).
    ///
    /// ```
    /// assert!(!ftp_sansio::url::Scheme::Ftp.is_implicit_tls());
    /// ```
    pub fn is_implicit_tls(self) -> bool {
        self == Scheme::Ftps
    }

    /// The scheme's name in lower case, without `://`.
    ///
    /// ```
    /// assert_eq!(ftp_sansio::url::Scheme::Ftps.as_str(), "ftps");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Ftp => "ftp",
            Scheme::Ftps => "ftps",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The RFC 1738 `;type=` code of an [`FtpUrl`].
///
/// ```
/// use ftp_sansio::url::{FtpUrl, TypeCode};
/// let url = FtpUrl::parse("ftp://h/f.bin;type=i").unwrap();
/// assert_eq!(url.typecode(), Some(TypeCode::Image));
/// assert_eq!(TypeCode::Image.as_char(), 'i');
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TypeCode {
    /// `;type=a`: transfer in ASCII mode (`TYPE A`).
    Ascii,
    /// `;type=i`: transfer in binary mode (`TYPE I`).
    Image,
    /// `;type=d`: the last segment is a directory, to be listed.
    Directory,
}

impl TypeCode {
    /// The code's letter as it is written in a URL (lower case).
    ///
    /// ```
    /// assert_eq!(ftp_sansio::url::TypeCode::Directory.as_char(), 'd');
    /// ```
    pub fn as_char(self) -> char {
        match self {
            TypeCode::Ascii => 'a',
            TypeCode::Image => 'i',
            TypeCode::Directory => 'd',
        }
    }
}

/// Which part of a URL an error is about.
///
/// ```
/// use ftp_sansio::url::{FtpUrl, Part, UrlError};
/// assert_eq!(
///     FtpUrl::parse("ftp://u:p%zz@h/"),
///     Err(UrlError::BadEscape(Part::Password))
/// );
/// assert_eq!(Part::Password.to_string(), "password");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// The user name.
    User,
    /// The password.
    Password,
    /// The host.
    Host,
    /// The path (a segment of it).
    Path,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::User => "user name",
            Part::Password => "password",
            Part::Host => "host",
            Part::Path => "path",
        })
    }
}

/// Why a string is not an `ftp://` or `ftps://` URL. No variant carries the password.
///
/// ```
/// use ftp_sansio::url::{FtpUrl, Part, UrlError};
/// assert_eq!(FtpUrl::parse("example.org/pub"), Err(UrlError::MissingScheme));
/// assert_eq!(
///     FtpUrl::parse("ftp://h/a%0D%0ADELE%20x"),
///     Err(UrlError::ForbiddenByte { part: Part::Path, byte: b'\r' })
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The string has no `scheme://`.
    #[error("not a URL: it does not start with ftp:// or ftps://")]
    MissingScheme,
    /// The scheme is neither `ftp` nor `ftps` (the scheme as written, control characters
    /// escaped).
    #[error("unsupported scheme {0:?}: only ftp:// and ftps:// are understood")]
    UnsupportedScheme(String),
    /// Nothing between `://` (or `@`) and the path.
    #[error("the URL has no host")]
    MissingHost,
    /// The host is not a DNS name, an IPv4 address or a bracketed IPv6 address.
    #[error("invalid host {0:?}")]
    InvalidHost(String),
    /// The port is not a number from 1 to 65535.
    #[error("invalid port {0:?}: expected a number from 1 to 65535")]
    InvalidPort(String),
    /// A `%` not followed by two hexadecimal digits.
    #[error("bad %-escape in the {0}")]
    BadEscape(Part),
    /// The decoded bytes of a part are not UTF-8.
    #[error("the {0} is not UTF-8 once %-escapes are decoded")]
    NotUtf8(Part),
    /// A CR, LF or NUL (written as is or percent-encoded), which would break the FTP command
    /// line it ends up in; or, in the host, any control character.
    #[error("the {part} contains the forbidden byte 0x{byte:02X}")]
    ForbiddenByte {
        /// Where the byte was found.
        part: Part,
        /// The byte.
        byte: u8,
    },
    /// A `;type=` other than `a`, `i` or `d`.
    #[error("unknown ;type={0:?}: expected a, i or d")]
    BadTypecode(String),
}

/// A parsed `ftp://` or `ftps://` URL; see the [module documentation](self) for the rules.
///
/// ```
/// use ftp_sansio::url::FtpUrl;
/// let url = FtpUrl::parse("ftp://ftp.example.org/pub/linux/README")?;
/// assert_eq!(url.host(), "ftp.example.org");
/// assert_eq!(url.directory(), ["pub", "linux"]);
/// assert_eq!(url.file_name(), Some("README"));
/// # Ok::<(), ftp_sansio::url::UrlError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FtpUrl {
    scheme: Scheme,
    user: Option<String>,
    password: Option<String>,
    host: String,
    port: u16,
    /// Decoded, non-empty segments.
    segments: Vec<String>,
    /// The path ended with `/` after at least one segment.
    trailing_slash: bool,
    typecode: Option<TypeCode>,
}

/// Decodes `%XX` escapes of `s` (the part `part` of a URL) and checks the result.
fn decode(s: &str, part: Part) -> Result<String, UrlError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let byte = if b[i] == b'%' {
            let hex = |k: usize| b.get(i + k).and_then(|&c| (c as char).to_digit(16));
            match (hex(1), hex(2)) {
                (Some(h), Some(l)) => {
                    i += 3;
                    (h * 16 + l) as u8
                }
                _ => return Err(UrlError::BadEscape(part)),
            }
        } else {
            i += 1;
            b[i - 1]
        };
        if matches!(byte, b'\r' | b'\n' | 0) {
            return Err(UrlError::ForbiddenByte { part, byte });
        }
        out.push(byte);
    }
    String::from_utf8(out).map_err(|_| UrlError::NotUtf8(part))
}

/// Whether `b` may appear in a host name as written (DNS names, IPv4 addresses).
fn host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// `host[:port]` → (host without brackets, port text if any).
fn split_host_port(hostport: &str) -> Result<(&str, Option<&str>), UrlError> {
    if let Some(rest) = hostport.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return Err(UrlError::InvalidHost(hostport.to_owned()));
        };
        if v6.parse::<Ipv6Addr>().is_err() {
            return Err(UrlError::InvalidHost(hostport.to_owned()));
        }
        match after {
            "" => Ok((v6, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((v6, Some(port))),
                None => Err(UrlError::InvalidHost(hostport.to_owned())),
            },
        }
    } else {
        let (host, port) = match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        };
        if host.is_empty() {
            return Err(UrlError::MissingHost);
        }
        if let Some(&byte) = host.as_bytes().iter().find(|b| b.is_ascii_control()) {
            return Err(UrlError::ForbiddenByte {
                part: Part::Host,
                byte,
            });
        }
        if !host.bytes().all(host_byte) {
            return Err(UrlError::InvalidHost(host.to_owned()));
        }
        Ok((host, port))
    }
}

/// Splits `;type=X` off the raw last segment.
fn split_typecode(last: &str) -> Result<(&str, Option<TypeCode>), UrlError> {
    const KEY: &[u8] = b";type=";
    let bytes = last.as_bytes();
    let at = bytes
        .windows(KEY.len())
        .rposition(|w| w.eq_ignore_ascii_case(KEY));
    let Some(at) = at else {
        return Ok((last, None));
    };
    let code = &last[at + KEY.len()..];
    let typecode = match code {
        "a" | "A" => TypeCode::Ascii,
        "i" | "I" => TypeCode::Image,
        "d" | "D" => TypeCode::Directory,
        other => return Err(UrlError::BadTypecode(other.to_owned())),
    };
    Ok((&last[..at], Some(typecode)))
}

impl FtpUrl {
    /// Parses an `ftp://` or `ftps://` URL. Never panics; every refusal is a [`UrlError`].
    ///
    /// ```
    /// use ftp_sansio::url::{FtpUrl, UrlError};
    /// let url = FtpUrl::parse("ftp://anonymous@192.0.2.7:2121/incoming/")?;
    /// assert_eq!(url.credentials(), ("anonymous", ""));
    /// assert_eq!(url.port(), 2121);
    /// assert!(url.is_dir());
    /// assert!(matches!(FtpUrl::parse("http://x/"), Err(UrlError::UnsupportedScheme(_))));
    /// # Ok::<(), UrlError>(())
    /// ```
    pub fn parse(input: &str) -> Result<FtpUrl, UrlError> {
        let (scheme, rest) = input.split_once("://").ok_or(UrlError::MissingScheme)?;
        let scheme = if scheme.eq_ignore_ascii_case("ftp") {
            Scheme::Ftp
        } else if scheme.eq_ignore_ascii_case("ftps") {
            Scheme::Ftps
        } else {
            let shown: String = scheme.chars().take(32).collect();
            return Err(UrlError::UnsupportedScheme(shown));
        };
        // The fragment, then the query: neither is part of the FTP path.
        let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
        let rest = rest.split_once('?').map_or(rest, |(r, _)| r);
        let (authority, path) = match rest.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (rest, None),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(ui) => match ui.split_once(':') {
                Some((u, p)) => (
                    Some(decode(u, Part::User)?),
                    Some(decode(p, Part::Password)?),
                ),
                None => (Some(decode(ui, Part::User)?), None),
            },
        };
        if hostport.is_empty() {
            return Err(UrlError::MissingHost);
        }
        let (host, port) = split_host_port(hostport)?;
        let port = match port {
            None | Some("") => scheme.default_port(),
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => {
                    let shown: String = p.chars().take(16).collect();
                    return Err(UrlError::InvalidPort(shown));
                }
            },
        };

        let mut segments = Vec::new();
        let mut trailing_slash = false;
        let mut typecode = None;
        if let Some(path) = path {
            let (body, last) = match path.rsplit_once('/') {
                Some((body, last)) => (Some(body), last),
                None => (None, path),
            };
            let (last, code) = split_typecode(last)?;
            typecode = code;
            for raw in body.into_iter().flat_map(|b| b.split('/')) {
                let seg = decode(raw, Part::Path)?;
                if !seg.is_empty() {
                    segments.push(seg);
                }
            }
            let last = decode(last, Part::Path)?;
            if last.is_empty() {
                trailing_slash = !segments.is_empty();
            } else {
                segments.push(last);
            }
        }
        Ok(FtpUrl {
            scheme,
            user,
            password,
            host: host.to_owned(),
            port,
            segments,
            trailing_slash,
            typecode,
        })
    }

    /// The scheme.
    ///
    /// ```
    /// use ftp_sansio::url::{FtpUrl, Scheme};
    /// assert_eq!(FtpUrl::parse("FtPs://h").unwrap().scheme(), Scheme::Ftps);
    /// ```
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The decoded user name, `None` when the URL has none (anonymous).
    ///
    /// ```
    /// use ftp_sansio::url::FtpUrl;
    /// assert_eq!(FtpUrl::parse("ftp://bob@h").unwrap().user(), Some("bob"));
    /// assert_eq!(FtpUrl::parse("ftp://h").unwrap().user(), None);
    /// ```
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The decoded password, `None` when the URL has none.
    ///
    /// ```
    /// use ftp_sansio::url::FtpUrl;
    /// assert_eq!(FtpUrl::parse("ftp://bob:pw@h").unwrap().password(), Some("pw"));
    /// assert_eq!(FtpUrl::parse("ftp://bob@h").unwrap().password(), None);
    /// ```
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// `(user, password)` for a login, with absent parts empty. `("", "")` is what the session's
    /// `Login` operation reads as anonymous (`USER anonymous`, `PASS anonymous@`), so a URL
    /// without a user logs in anonymously through every driver by the same rule.
    ///
    /// ```
    /// use ftp_sansio::url::FtpUrl;
    /// assert_eq!(FtpUrl::parse("ftp://h/").unwrap().credentials(), ("", ""));
    /// assert_eq!(FtpUrl::parse("ftp://a:b@h/").unwrap().credentials(), ("a", "b"));
    /// ```
    pub fn credentials(&self) -> (&str, &str) {
        (
            self.user.as_deref().unwrap_or(""),
            self.password.as_deref().unwrap_or(""),
        )
    }

    /// The host: a DNS name, an IPv4 address, or an IPv6 address without its brackets.
    ///
    /// ```
    /// use ftp_sansio::url::FtpUrl;
    /// assert_eq!(FtpUrl::parse("ftp://[2001:db8::1]:21/").unwrap().host(), "2001:db8::1");
    /// ```
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port: the one given, else the scheme's default (21 for `ftp`, 990 for `ftps`).
    ///
    /// ```
    /// use ftp_sansio::url::FtpUrl;
    /// assert_eq!(FtpUrl::parse("ftp://h:2121").unwrap().port(), 2121);
    /// assert_eq!(FtpUrl::parse("ftp://h").unwrap().port(), 21);
    /// ```
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every decoded, non-empty path segment, in order.
    ///
    /// ```
    /// use ftp_sansio::url::FtpUrl;
    /// let url = FtpUrl::parse("ftp://h/a//b%2Fc/d").unwrap();
    /// assert_eq!(url.segments(), ["a", "b/c", "d"]);
    /// ```
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// Whether the URL names a directory: no path, a path ending in `/`, or `;type=d`.
    ///
    /// ```
    /// use ftp_sansio::url::FtpUrl;
    /// assert!(FtpUrl::parse("ftp://h/pub/").unwrap().is_dir());
    /// assert!(FtpUrl::parse("ftp://h/pub;type=d").unwrap().is_dir());
    /// assert!(!FtpUrl::parse("ftp://h/pub").unwrap().is_dir());
    /// ```
    pub fn is_dir(&self) -> bool {
        self.segments.is_empty()
            || self.trailing_slash
            || self.typecode == Some(TypeCode::Directory)
    }

    /// The `CWD` steps of RFC 1738 §3.2.2: every segment for a directory URL, every segment but
    /// the last one otherwise.
    ///
    /// ```
    /// use ftp_sansio::url::FtpUrl;
    /// assert_eq!(FtpUrl::parse("ftp://h/a/b/f").unwrap().directory(), ["a", "b"]);
    /// assert_eq!(FtpUrl::parse("ftp://h/a/b/").unwrap().directory(), ["a", "b"]);
    /// ```
    pub fn directory(&self) -> &[String] {
        match self.file_name() {
            Some(_) => &self.segments[..self.segments.len() - 1],
            None => &self.segments,
        }
    }

    /// The last segment when the URL names a file (not [a directory](FtpUrl::is_dir)).
    ///
    /// ```
    /// use ftp_sansio::url::FtpUrl;
    /// assert_eq!(FtpUrl::parse("ftp://h/a/f.txt;type=i").unwrap().file_name(), Some("f.txt"));
    /// assert_eq!(FtpUrl::parse("ftp://h/a/").unwrap().file_name(), None);
    /// ```
    pub fn file_name(&self) -> Option<&str> {
        if self.is_dir() {
            None
        } else {
            self.segments.last().map(String::as_str)
        }
    }

    /// The whole path, relative to the login directory: the segments joined with `/`, no
    /// trailing slash (`""` for the login directory). A first segment that began with `%2F`
    /// makes it absolute.
    ///
    /// ```
    /// use ftp_sansio::url::FtpUrl;
    /// assert_eq!(FtpUrl::parse("ftp://h/pub/x%20y/").unwrap().path(), "pub/x y");
    /// assert_eq!(FtpUrl::parse("ftp://h/%2Fetc/motd").unwrap().path(), "/etc/motd");
    /// assert_eq!(FtpUrl::parse("ftp://h").unwrap().path(), "");
    /// ```
    pub fn path(&self) -> String {
        self.segments.join("/")
    }

    /// The directory part of [`path`](FtpUrl::path): the [`directory`](FtpUrl::directory)
    /// steps joined with `/` (`""` for the login directory).
    ///
    /// ```
    /// use ftp_sansio::url::FtpUrl;
    /// assert_eq!(FtpUrl::parse("ftp://h/a/b/f").unwrap().dir_path(), "a/b");
    /// ```
    pub fn dir_path(&self) -> String {
        self.directory().join("/")
    }

    /// The RFC 1738 `;type=` code, if the URL had one.
    ///
    /// ```
    /// use ftp_sansio::url::FtpUrl;
    /// assert_eq!(FtpUrl::parse("ftp://h/f").unwrap().typecode(), None);
    /// ```
    pub fn typecode(&self) -> Option<TypeCode> {
        self.typecode
    }
}

impl FromStr for FtpUrl {
    type Err = UrlError;

    /// Same as [`FtpUrl::parse`].
    fn from_str(s: &str) -> Result<FtpUrl, UrlError> {
        FtpUrl::parse(s)
    }
}

/// Percent-encodes `s` for a URL: everything but unreserved characters and the sub-delimiters
/// that are harmless in an FTP URL.
fn encode(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,=".contains(&b) {
            write!(f, "{}", b as char)?;
        } else {
            write!(f, "%{b:02X}")?;
        }
    }
    Ok(())
}

/// The URL without its password, percent-encoded where needed; the default port is left out.
/// Parsing the output gives the same URL (minus the password).
///
/// ```
/// use ftp_sansio::url::FtpUrl;
/// let url = FtpUrl::parse("ftp://me:secret@h:21/a b/%2Fc;type=I?q#f").unwrap();
/// assert_eq!(url.to_string(), "ftp://me@h/a%20b/%2Fc;type=i");
/// ```
impl fmt::Display for FtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        if let Some(user) = &self.user {
            encode(f, user)?;
            f.write_str("@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            f.write_str(&self.host)?;
        }
        if self.port != self.scheme.default_port() {
            write!(f, ":{}", self.port)?;
        }
        f.write_str("/")?;
        for (i, seg) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            encode(f, seg)?;
        }
        if self.trailing_slash {
            f.write_str("/")?;
        }
        if let Some(code) = self.typecode {
            write!(f, ";type={}", code.as_char())?;
        }
        Ok(())
    }
}

/// Like a derived `Debug`, with the password shown as `"***"` when there is one.
///
/// ```
/// let url = ftp_sansio::url::FtpUrl::parse("ftp://me:hunter2@h/").unwrap();
/// assert!(!format!("{url:?}").contains("hunter2"));
/// ```
impl fmt::Debug for FtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FtpUrl")
            .field("scheme", &self.scheme)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("host", &self.host)
            .field("port", &self.port)
            .field("segments", &self.segments)
            .field("trailing_slash", &self.trailing_slash)
            .field("typecode", &self.typecode)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, scheme, credentials, host, port, directory, file name, typecode)
    type Row = (
        &'static str,
        Scheme,
        (&'static str, &'static str),
        &'static str,
        u16,
        &'static [&'static str],
        Option<&'static str>,
        Option<TypeCode>,
    );

    #[rustfmt::skip]
    #[test]
    fn table_of_valid_urls() {
        use Scheme::*;
        use TypeCode::*;
        let rows: &[Row] = &[
            ("ftp://h", Ftp, ("", ""), "h", 21, &[], None, None),
            ("ftp://h/", Ftp, ("", ""), "h", 21, &[], None, None),
            ("FTP://H.example:2121/", Ftp, ("", ""), "H.example", 2121, &[], None, None),
            ("ftps://h/", Ftps, ("", ""), "h", 990, &[], None, None),
            ("ftps://h:21/", Ftps, ("", ""), "h", 21, &[], None, None),
            ("ftp://h:/x", Ftp, ("", ""), "h", 21, &[], Some("x"), None),
            ("ftp://u@h/x", Ftp, ("u", ""), "h", 21, &[], Some("x"), None),
            ("ftp://u:@h/x", Ftp, ("u", ""), "h", 21, &[], Some("x"), None),
            ("ftp://@h/x", Ftp, ("", ""), "h", 21, &[], Some("x"), None),
            ("ftp://a%40b:p%3Aw%40@h/", Ftp, ("a@b", "p:w@"), "h", 21, &[], None, None),
            ("ftp://a:p@w@h/", Ftp, ("a", "p@w"), "h", 21, &[], None, None),
            ("ftp://[::1]/", Ftp, ("", ""), "::1", 21, &[], None, None),
            ("ftp://[::1]:99/f", Ftp, ("", ""), "::1", 99, &[], Some("f"), None),
            ("ftp://u:p@[fe80::1]", Ftp, ("u", "p"), "fe80::1", 21, &[], None, None),
            ("ftp://10.0.0.1/a/b/c", Ftp, ("", ""), "10.0.0.1", 21, &["a", "b"], Some("c"), None),
            ("ftp://h/a/b/", Ftp, ("", ""), "h", 21, &["a", "b"], None, None),
            ("ftp://h//a///b", Ftp, ("", ""), "h", 21, &["a"], Some("b"), None),
            ("ftp://h/%2Fetc/motd", Ftp, ("", ""), "h", 21, &["/etc"], Some("motd"), None),
            ("ftp://h/a%2Fb", Ftp, ("", ""), "h", 21, &[], Some("a/b"), None),
            ("ftp://h/x%20y/z%25", Ftp, ("", ""), "h", 21, &["x y"], Some("z%"), None),
            ("ftp://h/f;type=i", Ftp, ("", ""), "h", 21, &[], Some("f"), Some(Image)),
            ("ftp://h/f;TYPE=A", Ftp, ("", ""), "h", 21, &[], Some("f"), Some(Ascii)),
            ("ftp://h/d;type=d", Ftp, ("", ""), "h", 21, &["d"], None, Some(Directory)),
            ("ftp://h/d/;type=d", Ftp, ("", ""), "h", 21, &["d"], None, Some(Directory)),
            ("ftp://h/a;b", Ftp, ("", ""), "h", 21, &[], Some("a;b"), None),
            ("ftp://h/a%3Btype=i", Ftp, ("", ""), "h", 21, &[], Some("a;type=i"), None),
            ("ftp://h/a;type=i/b", Ftp, ("", ""), "h", 21, &["a;type=i"], Some("b"), None),
            ("ftp://h/f#frag", Ftp, ("", ""), "h", 21, &[], Some("f"), None),
            ("ftp://h/f?q=1/2#x", Ftp, ("", ""), "h", 21, &[], Some("f"), None),
            ("ftp://h/f;type=i#x", Ftp, ("", ""), "h", 21, &[], Some("f"), Some(Image)),
            ("ftp://h#x/y", Ftp, ("", ""), "h", 21, &[], None, None),
            ("ftp://h/tab%09name", Ftp, ("", ""), "h", 21, &[], Some("tab\tname"), None),
            ("ftp://h/caf%C3%A9", Ftp, ("", ""), "h", 21, &[], Some("café"), None),
            ("ftp://h/../x", Ftp, ("", ""), "h", 21, &[".."], Some("x"), None),
        ];
        for &(input, scheme, creds, host, port, dir, file, code) in rows {
            let u = FtpUrl::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(u.scheme(), scheme, "{input}");
            assert_eq!(u.credentials(), creds, "{input}");
            assert_eq!(u.host(), host, "{input}");
            assert_eq!(u.port(), port, "{input}");
            assert_eq!(u.directory(), dir, "{input}");
            assert_eq!(u.file_name(), file, "{input}");
            assert_eq!(u.typecode(), code, "{input}");
            assert_eq!(u.is_dir(), file.is_none(), "{input}");
            // Display parses back to the same URL (no password in these to lose)
            if u.password().is_none() {
                assert_eq!(FtpUrl::parse(&u.to_string()).unwrap(), u, "{input}");
            }
        }
    }

    #[rustfmt::skip]
    #[test]
    fn table_of_refused_urls() {
        use Part::*;
        let rows: &[(&str, UrlError)] = &[
            ("", UrlError::MissingScheme),
            ("h/x", UrlError::MissingScheme),
            ("ftp:/h/x", UrlError::MissingScheme),
            ("http://h/", UrlError::UnsupportedScheme("http".into())),
            ("sftp://h/", UrlError::UnsupportedScheme("sftp".into())),
            ("ftp://", UrlError::MissingHost),
            ("ftp:///x", UrlError::MissingHost),
            ("ftp://u:p@/x", UrlError::MissingHost),
            ("ftp://:21/x", UrlError::MissingHost),
            ("ftp://h:0/", UrlError::InvalidPort("0".into())),
            ("ftp://h:65536/", UrlError::InvalidPort("65536".into())),
            ("ftp://h:+21/", UrlError::InvalidPort("+21".into())),
            ("ftp://h:2x/", UrlError::InvalidPort("2x".into())),
            ("ftp://h:21:22/", UrlError::InvalidPort("21:22".into())),
            ("ftp://[::1/", UrlError::InvalidHost("[::1".into())),
            ("ftp://[nope]/", UrlError::InvalidHost("[nope]".into())),
            ("ftp://[::1]x/", UrlError::InvalidHost("[::1]x".into())),
            ("ftp://[fe80::1%25eth0]/", UrlError::InvalidHost("[fe80::1%25eth0]".into())),
            ("ftp://ho st/", UrlError::InvalidHost("ho st".into())),
            ("ftp://h%41/", UrlError::InvalidHost("h%41".into())),
            ("ftp://h\r\n/", UrlError::ForbiddenByte { part: Host, byte: b'\r' }),
            ("ftp://h\x1b/", UrlError::ForbiddenByte { part: Host, byte: 0x1b }),
            ("ftp://h/%zz", UrlError::BadEscape(Path)),
            ("ftp://h/%4", UrlError::BadEscape(Path)),
            ("ftp://h/a%", UrlError::BadEscape(Path)),
            ("ftp://u%g0@h/", UrlError::BadEscape(User)),
            ("ftp://u:%@h/", UrlError::BadEscape(Password)),
            ("ftp://h/%FF", UrlError::NotUtf8(Path)),
            ("ftp://%C3@h/", UrlError::NotUtf8(User)),
            ("ftp://h/a%0Ab", UrlError::ForbiddenByte { part: Path, byte: b'\n' }),
            ("ftp://h/a%0d", UrlError::ForbiddenByte { part: Path, byte: b'\r' }),
            ("ftp://h/a%00b", UrlError::ForbiddenByte { part: Path, byte: 0 }),
            ("ftp://h/a\nb", UrlError::ForbiddenByte { part: Path, byte: b'\n' }),
            ("ftp://h/d%0A/f", UrlError::ForbiddenByte { part: Path, byte: b'\n' }),
            ("ftp://u%0D@h/", UrlError::ForbiddenByte { part: User, byte: b'\r' }),
            ("ftp://u:p%0A@h/", UrlError::ForbiddenByte { part: Password, byte: b'\n' }),
            ("ftp://h/f;type=x", UrlError::BadTypecode("x".into())),
            ("ftp://h/f;type=", UrlError::BadTypecode("".into())),
            ("ftp://h/f;type=ii", UrlError::BadTypecode("ii".into())),
        ];
        for (input, want) in rows {
            assert_eq!(FtpUrl::parse(input).as_ref(), Err(want), "{input:?}");
        }
    }

    #[test]
    fn password_never_shown() {
        let u = FtpUrl::parse("ftp://me:Sup3rS3cret@h/p").unwrap();
        assert_eq!(u.password(), Some("Sup3rS3cret"));
        assert!(!u.to_string().contains("Sup3rS3cret"));
        assert!(!format!("{u:?}").contains("Sup3rS3cret"));
        assert!(format!("{u:?}").contains("***"));
        // an error about the password does not carry it
        let e = FtpUrl::parse("ftp://me:Sup3rS3cret%0A@h/").unwrap_err();
        assert!(!format!("{e} {e:?}").contains("Sup3rS3cret"));
    }

    #[test]
    fn paths() {
        let u = FtpUrl::parse("ftp://h/pub/a%20b/file.txt;type=a").unwrap();
        assert_eq!(u.path(), "pub/a b/file.txt");
        assert_eq!(u.dir_path(), "pub/a b");
        assert_eq!(u.segments(), ["pub", "a b", "file.txt"]);
        let d = FtpUrl::parse("ftp://h/pub/").unwrap();
        assert_eq!((d.path(), d.dir_path()), ("pub".into(), "pub".into()));
        assert_eq!(d.to_string(), "ftp://h/pub/");
        let v6 = FtpUrl::parse("ftps://[::1]:2121").unwrap();
        assert_eq!(v6.to_string(), "ftps://[::1]:2121/");
        let ctl = FtpUrl::parse("ftp://h/esc%1B[0m").unwrap();
        assert_eq!(ctl.file_name(), Some("esc\x1b[0m"));
        // Display never emits the control character itself
        assert_eq!(ctl.to_string(), "ftp://h/esc%1B%5B0m");
    }
}
