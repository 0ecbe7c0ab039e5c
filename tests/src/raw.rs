//! A deliberately small FTP control-connection client over `std::net`, independent of the crates
//! under test, for checking the test servers themselves and for tests that need exact bytes.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Longest reply line [`RawClient`] accepts; a longer one is an `InvalidData` error.
const MAX_LINE: usize = 64 * 1024;
/// Most lines in one reply [`RawClient`] accepts.
const MAX_LINES: usize = 10_000;

/// One complete server reply: its code and its lines without line ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawReply {
    /// The three-digit reply code.
    pub code: u16,
    /// Every line of the reply, the code prefix included, CRLF removed.
    pub lines: Vec<String>,
}

impl RawReply {
    /// The lines joined with `'\n'`.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
    /// True for 1xx, 2xx and 3xx codes.
    pub fn is_positive(&self) -> bool {
        (100..400).contains(&self.code)
    }
}

/// A blocking FTP control connection with a 10 s read/write timeout, speaking raw command lines.
///
/// ```no_run
/// use ftp_tests::{LocalServer, RawClient, TestServer};
/// let server = LocalServer::start();
/// let mut c = RawClient::connect(server.addr()).unwrap();
/// assert_eq!(c.welcome().code, 220);
/// assert_eq!(c.login("anonymous", "guest@").unwrap().code, 230);
/// assert_eq!(c.cmd("PWD").unwrap().code, 257);
/// c.quit().unwrap();
/// ```
#[derive(Debug)]
pub struct RawClient {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    welcome: RawReply,
    peer: SocketAddr,
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

impl RawClient {
    /// Connects and reads the greeting (see [`welcome`](RawClient::welcome)).
    pub fn connect(addr: SocketAddr) -> io::Result<RawClient> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_write_timeout(Some(Duration::from_secs(10)))?;
        let writer = stream.try_clone()?;
        let mut client = RawClient {
            reader: BufReader::new(stream),
            writer,
            welcome: RawReply {
                code: 0,
                lines: Vec::new(),
            },
            peer: addr,
        };
        client.welcome = client.read_reply()?;
        Ok(client)
    }

    /// The greeting the server sent on connect.
    pub fn welcome(&self) -> &RawReply {
        &self.welcome
    }

    /// Sends `line` (CRLF is appended) and reads the reply. Lines with CR or LF are refused.
    pub fn cmd(&mut self, line: &str) -> io::Result<RawReply> {
        self.send(line)?;
        self.read_reply()
    }

    /// Sends one command line without reading anything.
    pub fn send(&mut self, line: &str) -> io::Result<()> {
        if line.contains(['\r', '\n']) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a command line may not contain CR or LF",
            ));
        }
        self.writer.write_all(format!("{line}\r\n").as_bytes())
    }

    /// `USER`, then `PASS` when the server asks for it (331). Returns the last reply.
    pub fn login(&mut self, user: &str, password: &str) -> io::Result<RawReply> {
        let reply = self.cmd(&format!("USER {user}"))?;
        if reply.code == 331 {
            self.cmd(&format!("PASS {password}"))
        } else {
            Ok(reply)
        }
    }

    /// Reads one complete reply (RFC 959 section 4.2: `ddd-` opens a multi-line reply that ends
    /// with a line starting `ddd `, same code).
    pub fn read_reply(&mut self) -> io::Result<RawReply> {
        let first = self.read_line()?;
        let code = parse_code(&first).ok_or_else(|| bad(format!("not a reply line: {first:?}")))?;
        let mut lines = vec![first];
        if lines[0].as_bytes().get(3) == Some(&b'-') {
            let end = format!("{code} ");
            loop {
                if lines.len() >= MAX_LINES {
                    return Err(bad(format!("reply longer than {MAX_LINES} lines")));
                }
                let line = self.read_line()?;
                let done = line.starts_with(&end) || line == end.trim_end();
                lines.push(line);
                if done {
                    break;
                }
            }
        }
        Ok(RawReply { code, lines })
    }

    fn read_line(&mut self) -> io::Result<String> {
        let mut buf = Vec::new();
        let n = (&mut self.reader)
            .take(MAX_LINE as u64 + 2)
            .read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed the control connection",
            ));
        }
        if buf.last() != Some(&b'\n') {
            return Err(bad(format!(
                "reply line longer than {MAX_LINE} bytes or cut off"
            )));
        }
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    /// Sends `EPSV` and opens the data connection to the announced port on the server's
    /// address.
    pub fn epsv_connect(&mut self) -> io::Result<TcpStream> {
        let reply = self.cmd("EPSV")?;
        if reply.code != 229 {
            return Err(bad(format!("EPSV refused: {}", reply.text())));
        }
        let port = parse_epsv_port(&reply.lines[0])
            .ok_or_else(|| bad(format!("malformed 229 reply: {}", reply.text())))?;
        let data = TcpStream::connect_timeout(
            &SocketAddr::new(self.peer.ip(), port),
            Duration::from_secs(10),
        )?;
        data.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(data)
    }

    /// Downloads `path` in binary mode over EPSV: `TYPE I`, `RETR`, the data, then the final
    /// reply, which must be 226 or 250.
    pub fn retr(&mut self, path: &str) -> io::Result<Vec<u8>> {
        let reply = self.cmd("TYPE I")?;
        if reply.code != 200 {
            return Err(bad(format!("TYPE I refused: {}", reply.text())));
        }
        let mut data = self.epsv_connect()?;
        let start = self.cmd(&format!("RETR {path}"))?;
        if start.code != 125 && start.code != 150 {
            return Err(bad(format!("RETR refused: {}", start.text())));
        }
        let mut bytes = Vec::new();
        data.read_to_end(&mut bytes)?;
        drop(data);
        let end = self.read_reply()?;
        if end.code != 226 && end.code != 250 {
            return Err(bad(format!("RETR failed: {}", end.text())));
        }
        Ok(bytes)
    }

    /// Uploads `bytes` to `path` in binary mode over EPSV; returns the final reply (226/250
    /// on success). A refusal before the transfer is returned as that reply.
    pub fn stor(&mut self, path: &str, bytes: &[u8]) -> io::Result<RawReply> {
        let reply = self.cmd("TYPE I")?;
        if reply.code != 200 {
            return Err(bad(format!("TYPE I refused: {}", reply.text())));
        }
        let mut data = self.epsv_connect()?;
        let start = self.cmd(&format!("STOR {path}"))?;
        if start.code != 125 && start.code != 150 {
            return Ok(start);
        }
        data.write_all(bytes)?;
        drop(data);
        self.read_reply()
    }

    /// Sends `QUIT` and returns the reply (221 expected).
    pub fn quit(mut self) -> io::Result<RawReply> {
        self.cmd("QUIT")
    }
}

fn parse_code(line: &str) -> Option<u16> {
    let b = line.as_bytes();
    if b.len() < 3 || !b[..3].iter().all(u8::is_ascii_digit) {
        return None;
    }
    if b.len() > 3 && b[3] != b' ' && b[3] != b'-' {
        return None;
    }
    if b.len() == 3 {
        // a bare code is a complete single-line reply; treat it as "ddd "
        return line.parse().ok();
    }
    line[..3].parse().ok()
}

/// `229 Entering Extended Passive Mode (|||6446|)` -> 6446.
fn parse_epsv_port(line: &str) -> Option<u16> {
    let open = line.find('(')?;
    let close = open + line[open..].find(')')?;
    let inner = &line[open + 1..close];
    let delim = inner.chars().next()?;
    let parts: Vec<&str> = inner.split(delim).collect();
    if parts.len() != 5 {
        return None;
    }
    parts[3].parse().ok().filter(|&p| p != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epsv_port_parsing() {
        assert_eq!(
            parse_epsv_port("229 Entering Extended Passive Mode (|||6446|)"),
            Some(6446)
        );
        assert_eq!(parse_epsv_port("229 EPSV ok (!!!1024!)"), Some(1024));
        assert_eq!(parse_epsv_port("229 no parens"), None);
        assert_eq!(parse_epsv_port("229 (|||0|)"), None);
        assert_eq!(parse_epsv_port("229 (|||99999|)"), None);
        assert_eq!(parse_epsv_port("229 (||6446|)"), None);
    }

    #[test]
    fn code_parsing() {
        assert_eq!(parse_code("220 hi"), Some(220));
        assert_eq!(parse_code("220-hi"), Some(220));
        assert_eq!(parse_code("220"), Some(220));
        assert_eq!(parse_code("22 hi"), None);
        assert_eq!(parse_code("220xhi"), None);
        assert_eq!(parse_code("abc hi"), None);
    }
}
