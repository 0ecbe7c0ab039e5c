//! Pieces shared by the examples: a stderr logger for `set_debuglevel` output and `ftp://`
//! URL parsing.
#![allow(dead_code)]

use std::fmt;

/// Prints `ftp_blocking`'s debug records to stderr, as ftplib prints its debug output.
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.target().starts_with("ftp_blocking")
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!("{}", record.args());
        }
    }
    fn flush(&self) {}
}

static LOGGER: StderrLogger = StderrLogger;

/// Installs the stderr logger (once).
pub fn init_logger() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}

/// `ftp://[user[:password]@]host[:port][/path]` (RFC 1738 §3.2), percent-escapes decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FtpUrl {
    /// User name; empty for anonymous.
    pub user: String,
    /// Password; empty when not given.
    pub password: String,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port (21 when not given).
    pub port: u16,
    /// The path after the host, without the leading `/` (empty: the login directory).
    pub path: String,
}

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError(String);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad ftp:// URL: {}", self.0)
    }
}

impl std::error::Error for UrlError {}

fn unescape(s: &str) -> Result<String, UrlError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| UrlError(format!("bad %-escape in {s:?}")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| UrlError(format!("{s:?} is not UTF-8")))
}

impl FtpUrl {
    /// Parses an `ftp://` URL.
    pub fn parse(url: &str) -> Result<FtpUrl, UrlError> {
        let rest = url
            .strip_prefix("ftp://")
            .ok_or_else(|| UrlError(format!("{url:?} does not start with ftp://")))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            Some(ui) => match ui.find(':') {
                Some(i) => (unescape(&ui[..i])?, unescape(&ui[i + 1..])?),
                None => (unescape(ui)?, String::new()),
            },
            None => (String::new(), String::new()),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let end = v6
                .find(']')
                .ok_or_else(|| UrlError("unclosed [ in host".into()))?;
            let port = v6[end + 1..].strip_prefix(':');
            (&v6[..end], port)
        } else {
            match hostport.rfind(':') {
                Some(i) => (&hostport[..i], Some(&hostport[i + 1..])),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(UrlError("no host".into()));
        }
        let port = match port {
            Some(p) => p.parse().map_err(|_| UrlError(format!("bad port {p:?}")))?,
            None => ftp_blocking::DEFAULT_PORT,
        };
        Ok(FtpUrl {
            user,
            password,
            host: host.to_owned(),
            port,
            path: unescape(path)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let u = FtpUrl::parse("ftp://al%40ice:p%3Ass@[::1]:2121/pub/x%20y").unwrap();
        assert_eq!(
            u,
            FtpUrl {
                user: "al@ice".into(),
                password: "p:ss".into(),
                host: "::1".into(),
                port: 2121,
                path: "pub/x y".into()
            }
        );
        let u = FtpUrl::parse("ftp://example.org").unwrap();
        assert_eq!((u.user.as_str(), u.port, u.path.as_str()), ("", 21, ""));
        assert!(FtpUrl::parse("http://x").is_err());
        assert!(FtpUrl::parse("ftp://h:99999/").is_err());
        assert!(FtpUrl::parse("ftp://h/%zz").is_err());
    }
}
