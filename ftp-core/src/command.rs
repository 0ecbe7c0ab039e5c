//! Typed FTP commands, encoded into a caller's buffer.
//!
//! Every command a client sends has a variant of [`Command`]: RFC 959 (the base protocol),
//! RFC 2389 (`FEAT`, `OPTS`), RFC 2428 (`EPRT`, `EPSV`), RFC 3659 (`SIZE`, `MDTM`, `MLST`,
//! `MLSD`, `REST`), RFC 4217 (`AUTH`, `PBSZ`, `PROT`, `CCC`), RFC 7151 (`HOST`), plus
//! [`Command::Raw`] for anything else (what `ftplib`'s `sendcmd` takes).
//!
//! [`Command::encode`] appends exactly one CRLF-terminated line to a `Vec<u8>` the caller
//! owns, so a driver that reuses its buffer allocates nothing per command.
//!
//! **Command injection is impossible**: an argument holding CR, LF or NUL is refused with
//! [`CommandError::ForbiddenByte`] before a single byte is written, so a file name such as
//! `a\r\nDELE b` can never smuggle a second command onto the wire. The Telnet IAC byte
//! (0xFF) is doubled as RFC 2640 §3.1 asks; every other byte, in particular UTF-8 file
//! names (RFC 2640), goes out unchanged.
//!
//! ```
//! use ftp_sansio::command::{Command, CommandError};
//! let mut out = Vec::with_capacity(64);
//! Command::Retr("notes/été.txt".into()).encode(&mut out).unwrap();
//! assert_eq!(out, "RETR notes/été.txt\r\n".as_bytes());
//!
//! out.clear();
//! let err = Command::Dele("a\r\nRMD /".into()).encode(&mut out).unwrap_err();
//! assert_eq!(err, CommandError::ForbiddenByte { byte: b'\r', offset: 1 });
//! assert!(out.is_empty());
//! ```

use core::net::{SocketAddr, SocketAddrV4};

/// The argument of a command: borrowed bytes (a path, a user name, a whole raw line).
///
/// Any bytes may be wrapped; [`Command::encode`] refuses CR, LF and NUL when it writes.
///
/// ```
/// use ftp_sansio::command::Arg;
/// let name = String::from("dir/file.txt");
/// assert_eq!(Arg::from(&name).as_bytes(), b"dir/file.txt");
/// assert_eq!(Arg::from(&b"\xff"[..]).as_bytes(), b"\xff");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Arg<'a>(&'a [u8]);

impl<'a> Arg<'a> {
    /// Wraps raw bytes.
    pub const fn new(bytes: &'a [u8]) -> Self {
        Arg(bytes)
    }

    /// The argument's bytes, as given (before IAC doubling).
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// Whether the argument has no bytes.
    pub const fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first forbidden byte (CR, LF or NUL) and its offset, if any.
    fn check(&self) -> Result<(), CommandError> {
        match memchr::memchr3(b'\r', b'\n', 0, self.0) {
            Some(offset) => Err(CommandError::ForbiddenByte {
                byte: self.0[offset],
                offset,
            }),
            None => Ok(()),
        }
    }

    /// Bytes written on the wire: the length plus one per IAC to double.
    fn wire_len(&self) -> usize {
        self.0.len() + memchr::memchr_iter(0xFF, self.0).count()
    }

    /// Appends the argument with IAC (0xFF) doubled.
    fn write(&self, out: &mut Vec<u8>) {
        let mut rest = self.0;
        while let Some(i) = memchr::memchr(0xFF, rest) {
            out.extend_from_slice(&rest[..=i]);
            out.push(0xFF);
            rest = &rest[i + 1..];
        }
        out.extend_from_slice(rest);
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg(s.as_bytes())
    }
}

impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(b: &'a [u8]) -> Self {
        Arg(b)
    }
}

impl<'a, const N: usize> From<&'a [u8; N]> for Arg<'a> {
    fn from(b: &'a [u8; N]) -> Self {
        Arg(b)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Self {
        Arg(s.as_bytes())
    }
}

impl<'a> From<&'a Vec<u8>> for Arg<'a> {
    fn from(b: &'a Vec<u8>) -> Self {
        Arg(b)
    }
}

/// Representation type of `TYPE` (RFC 959 §3.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransferType {
    /// `TYPE A`: ASCII text, lines end in CRLF on the wire.
    Ascii,
    /// `TYPE I`: image (binary), bytes unchanged.
    Binary,
}

/// File structure of `STRU` (RFC 959 §3.1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Structure {
    /// `STRU F`: no internal structure (the default).
    File,
    /// `STRU R`: record structure.
    Record,
    /// `STRU P`: page structure.
    Page,
}

/// Transmission mode of `MODE` (RFC 959 §3.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransferMode {
    /// `MODE S`: stream (the default).
    Stream,
    /// `MODE B`: block.
    Block,
    /// `MODE C`: compressed.
    Compressed,
}

/// Data channel protection level of `PROT` (RFC 4217 §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProtLevel {
    /// `PROT C`: clear, no protection.
    Clear,
    /// `PROT S`: safe (integrity only).
    Safe,
    /// `PROT E`: confidential.
    Confidential,
    /// `PROT P`: private (TLS on the data connection).
    Private,
}

/// A command a client sends on the control connection.
///
/// ```
/// use ftp_sansio::command::{Command, TransferType};
/// use core::net::{Ipv4Addr, SocketAddrV4};
/// let mut out = Vec::new();
/// for cmd in [
///     Command::Type(TransferType::Binary),
///     Command::Port(SocketAddrV4::new(Ipv4Addr::new(192, 168, 1, 2), 50005)),
///     Command::List(None),
/// ] {
///     cmd.encode(&mut out).unwrap();
/// }
/// assert_eq!(out, b"TYPE I\r\nPORT 192,168,1,2,195,85\r\nLIST\r\n");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command<'a> {
    /// `USER name` (RFC 959).
    User(Arg<'a>),
    /// `PASS password` (RFC 959); an empty password is allowed. Sensitive.
    Pass(Arg<'a>),
    /// `ACCT account` (RFC 959). Sensitive.
    Acct(Arg<'a>),
    /// `CWD path` (RFC 959).
    Cwd(Arg<'a>),
    /// `CDUP` (RFC 959).
    Cdup,
    /// `SMNT path` (RFC 959).
    Smnt(Arg<'a>),
    /// `REIN` (RFC 959).
    Rein,
    /// `QUIT` (RFC 959).
    Quit,
    /// `PORT h1,h2,h3,h4,p1,p2` (RFC 959 §4.1.2).
    Port(SocketAddrV4),
    /// `PASV` (RFC 959).
    Pasv,
    /// `TYPE A` / `TYPE I` (RFC 959).
    Type(TransferType),
    /// `STRU F|R|P` (RFC 959).
    Stru(Structure),
    /// `MODE S|B|C` (RFC 959).
    Mode(TransferMode),
    /// `RETR path` (RFC 959).
    Retr(Arg<'a>),
    /// `STOR path` (RFC 959).
    Stor(Arg<'a>),
    /// `STOU` (RFC 959).
    Stou,
    /// `APPE path` (RFC 959).
    Appe(Arg<'a>),
    /// `ALLO n` (RFC 959).
    Allo(u64),
    /// `REST offset` (RFC 959, RFC 3659 §5 for stream mode).
    Rest(u64),
    /// `RNFR path` (RFC 959).
    Rnfr(Arg<'a>),
    /// `RNTO path` (RFC 959).
    Rnto(Arg<'a>),
    /// `ABOR` (RFC 959).
    Abor,
    /// `DELE path` (RFC 959).
    Dele(Arg<'a>),
    /// `RMD path` (RFC 959).
    Rmd(Arg<'a>),
    /// `MKD path` (RFC 959).
    Mkd(Arg<'a>),
    /// `PWD` (RFC 959).
    Pwd,
    /// `LIST [path]` (RFC 959). `Some` with an empty argument is written as `LIST`.
    List(Option<Arg<'a>>),
    /// `NLST [path]` (RFC 959). `Some` with an empty argument is written as `NLST`.
    Nlst(Option<Arg<'a>>),
    /// `SITE command` (RFC 959).
    Site(Arg<'a>),
    /// `SYST` (RFC 959).
    Syst,
    /// `STAT [path]` (RFC 959). `Some` with an empty argument is written as `STAT`.
    Stat(Option<Arg<'a>>),
    /// `HELP [topic]` (RFC 959). `Some` with an empty argument is written as `HELP`.
    Help(Option<Arg<'a>>),
    /// `NOOP` (RFC 959).
    Noop,
    /// `FEAT` (RFC 2389).
    Feat,
    /// `OPTS command-options`, e.g. `UTF8 ON` (RFC 2389).
    Opts(Arg<'a>),
    /// `EPRT |1|ip|port|` or `EPRT |2|ip|port|` (RFC 2428 §2).
    Eprt(SocketAddr),
    /// `EPSV` (RFC 2428 §3).
    Epsv,
    /// `EPSV ALL` (RFC 2428 §4).
    EpsvAll,
    /// `SIZE path` (RFC 3659 §4).
    Size(Arg<'a>),
    /// `MDTM path` (RFC 3659 §3).
    Mdtm(Arg<'a>),
    /// `MLST [path]` (RFC 3659 §7). `Some` with an empty argument is written as `MLST`.
    Mlst(Option<Arg<'a>>),
    /// `MLSD [path]` (RFC 3659 §7). `Some` with an empty argument is written as `MLSD`.
    Mlsd(Option<Arg<'a>>),
    /// `AUTH mechanism`, e.g. `TLS` (RFC 4217 §4).
    Auth(Arg<'a>),
    /// `PBSZ n` (RFC 4217 §8).
    Pbsz(u64),
    /// `PROT C|S|E|P` (RFC 4217 §9).
    Prot(ProtLevel),
    /// `CCC` (RFC 4217 §6).
    Ccc,
    /// `HOST name` (RFC 7151).
    Host(Arg<'a>),
    /// A whole command line without its CRLF, written as given (IAC doubled); what `sendcmd`
    /// takes. It must not be empty.
    Raw(Arg<'a>),
}

/// Why a command could not be encoded. Nothing was written to the output.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// An argument holds CR, LF or NUL, which would end or corrupt the command line
    /// (command injection). `offset` is the byte's position inside the argument.
    #[error("argument byte {byte:#04x} at offset {offset} is not allowed (CR, LF and NUL would break the command line)")]
    ForbiddenByte {
        /// The forbidden byte (`b'\r'`, `b'\n'` or `0`).
        byte: u8,
        /// Its offset inside the argument.
        offset: usize,
    },
    /// A command that needs an argument got an empty one (`verb` is `""` for [`Command::Raw`]).
    #[error("{} needs a non-empty argument", if verb.is_empty() { "a raw command" } else { verb })]
    EmptyArgument {
        /// The command's verb.
        verb: &'static str,
    },
}

/// Writes `n` in decimal without allocating.
fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Writes an IPv6 address in RFC 5952 text form without allocating.
fn write_display(out: &mut Vec<u8>, v: &dyn core::fmt::Display) {
    struct VecWriter<'v>(&'v mut Vec<u8>);
    impl core::fmt::Write for VecWriter<'_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            self.0.extend_from_slice(s.as_bytes());
            Ok(())
        }
    }
    // Writing into a Vec cannot fail.
    let _ = core::fmt::write(&mut VecWriter(out), format_args!("{v}"));
}

impl<'a> Command<'a> {
    /// The command's verb as written on the wire (`"RETR"`, `"REST"`, ...); `""` for
    /// [`Command::Raw`]. [`Command::EpsvAll`] reports `"EPSV"`.
    pub fn verb(&self) -> &'static str {
        use Command::*;
        match self {
            User(_) => "USER",
            Pass(_) => "PASS",
            Acct(_) => "ACCT",
            Cwd(_) => "CWD",
            Cdup => "CDUP",
            Smnt(_) => "SMNT",
            Rein => "REIN",
            Quit => "QUIT",
            Port(_) => "PORT",
            Pasv => "PASV",
            Type(_) => "TYPE",
            Stru(_) => "STRU",
            Mode(_) => "MODE",
            Retr(_) => "RETR",
            Stor(_) => "STOR",
            Stou => "STOU",
            Appe(_) => "APPE",
            Allo(_) => "ALLO",
            Rest(_) => "REST",
            Rnfr(_) => "RNFR",
            Rnto(_) => "RNTO",
            Abor => "ABOR",
            Dele(_) => "DELE",
            Rmd(_) => "RMD",
            Mkd(_) => "MKD",
            Pwd => "PWD",
            List(_) => "LIST",
            Nlst(_) => "NLST",
            Site(_) => "SITE",
            Syst => "SYST",
            Stat(_) => "STAT",
            Help(_) => "HELP",
            Noop => "NOOP",
            Feat => "FEAT",
            Opts(_) => "OPTS",
            Eprt(_) => "EPRT",
            Epsv | EpsvAll => "EPSV",
            Size(_) => "SIZE",
            Mdtm(_) => "MDTM",
            Mlst(_) => "MLST",
            Mlsd(_) => "MLSD",
            Auth(_) => "AUTH",
            Pbsz(_) => "PBSZ",
            Prot(_) => "PROT",
            Ccc => "CCC",
            Host(_) => "HOST",
            Raw(_) => "",
        }
    }

    /// Whether the command carries a secret (`PASS`, `ACCT`, or a raw line starting with
    /// either verb, case ignored): drivers mask it when logging.
    ///
    /// ```
    /// use ftp_sansio::command::Command;
    /// assert!(Command::Pass("hunter2".into()).is_sensitive());
    /// assert!(Command::Raw("pass hunter2".into()).is_sensitive());
    /// assert!(!Command::User("anonymous".into()).is_sensitive());
    /// ```
    pub fn is_sensitive(&self) -> bool {
        match self {
            Command::Pass(_) | Command::Acct(_) => true,
            Command::Raw(a) => {
                let b = a.as_bytes();
                let verb = b.split(|&c| c == b' ').next().unwrap_or(b);
                verb.eq_ignore_ascii_case(b"PASS") || verb.eq_ignore_ascii_case(b"ACCT")
            }
            _ => false,
        }
    }

    /// The argument written after the verb, if the command takes a byte argument.
    /// `Err` if the command requires a non-empty argument and got an empty one.
    fn arg(&self) -> Result<Option<Arg<'a>>, CommandError> {
        use Command::*;
        let required = |a: &Arg<'a>| {
            if a.is_empty() {
                Err(CommandError::EmptyArgument { verb: self.verb() })
            } else {
                Ok(Some(*a))
            }
        };
        match self {
            // An empty password is legitimate (`PASS ` with nothing after it).
            Pass(a) => Ok(Some(*a)),
            User(a) | Acct(a) | Cwd(a) | Smnt(a) | Retr(a) | Stor(a) | Appe(a) | Rnfr(a)
            | Rnto(a) | Dele(a) | Rmd(a) | Mkd(a) | Site(a) | Opts(a) | Size(a) | Mdtm(a)
            | Auth(a) | Host(a) | Raw(a) => required(a),
            List(a) | Nlst(a) | Stat(a) | Help(a) | Mlst(a) | Mlsd(a) => {
                Ok(a.filter(|a| !a.is_empty()))
            }
            _ => Ok(None),
        }
    }

    /// Appends exactly one CRLF-terminated line to `out`, or returns an error having written
    /// nothing.
    ///
    /// Arguments holding CR, LF or NUL are refused ([`CommandError::ForbiddenByte`]); a
    /// required argument that is empty is refused ([`CommandError::EmptyArgument`]). IAC
    /// (0xFF) is doubled (RFC 2640 §3.1); UTF-8 and any other byte pass unchanged. Once
    /// `out` has enough capacity nothing is allocated.
    ///
    /// ```
    /// use ftp_sansio::command::Command;
    /// use core::net::SocketAddr;
    /// let mut out = Vec::new();
    /// let addr: SocketAddr = "[::1]:50005".parse().unwrap();
    /// Command::Eprt(addr).encode(&mut out).unwrap();
    /// Command::Raw("SITE CHMOD 644 a".into()).encode(&mut out).unwrap();
    /// Command::Cwd((&b"caf\xff"[..]).into()).encode(&mut out).unwrap();
    /// assert_eq!(out, b"EPRT |2|::1|50005|\r\nSITE CHMOD 644 a\r\nCWD caf\xff\xff\r\n");
    /// ```
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), CommandError> {
        use Command::*;
        let arg = self.arg()?;
        if let Some(a) = &arg {
            a.check()?;
        }
        // Nothing can fail from here on: write.
        let verb = self.verb();
        out.reserve(verb.len() + 1 + arg.map_or(0, |a| a.wire_len()) + 2);
        out.extend_from_slice(verb.as_bytes());
        match self {
            Raw(a) => a.write(out),
            Port(addr) => {
                out.push(b' ');
                for o in addr.ip().octets() {
                    write_u64(out, o.into());
                    out.push(b',');
                }
                write_u64(out, (addr.port() >> 8).into());
                out.push(b',');
                write_u64(out, (addr.port() & 0xFF).into());
            }
            Eprt(addr) => {
                out.extend_from_slice(match addr {
                    SocketAddr::V4(_) => b" |1|",
                    SocketAddr::V6(_) => b" |2|",
                });
                match addr {
                    SocketAddr::V4(a) => write_display(out, a.ip()),
                    SocketAddr::V6(a) => write_display(out, a.ip()),
                }
                out.push(b'|');
                write_u64(out, addr.port().into());
                out.push(b'|');
            }
            Type(t) => out.extend_from_slice(match t {
                TransferType::Ascii => b" A",
                TransferType::Binary => b" I",
            }),
            Stru(s) => out.extend_from_slice(match s {
                Structure::File => b" F",
                Structure::Record => b" R",
                Structure::Page => b" P",
            }),
            Mode(m) => out.extend_from_slice(match m {
                TransferMode::Stream => b" S",
                TransferMode::Block => b" B",
                TransferMode::Compressed => b" C",
            }),
            Prot(p) => out.extend_from_slice(match p {
                ProtLevel::Clear => b" C",
                ProtLevel::Safe => b" S",
                ProtLevel::Confidential => b" E",
                ProtLevel::Private => b" P",
            }),
            Allo(n) | Rest(n) | Pbsz(n) => {
                out.push(b' ');
                write_u64(out, *n);
            }
            EpsvAll => out.extend_from_slice(b" ALL"),
            _ => {
                if let Some(a) = arg {
                    out.push(b' ');
                    a.write(out);
                }
            }
        }
        out.extend_from_slice(b"\r\n");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr, SocketAddrV6};

    fn enc(c: Command<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        c.encode(&mut out).unwrap();
        out
    }

    #[test]
    fn simple_verbs() {
        assert_eq!(enc(Command::Cdup), b"CDUP\r\n");
        assert_eq!(enc(Command::Pasv), b"PASV\r\n");
        assert_eq!(enc(Command::Epsv), b"EPSV\r\n");
        assert_eq!(enc(Command::EpsvAll), b"EPSV ALL\r\n");
        assert_eq!(enc(Command::Feat), b"FEAT\r\n");
        assert_eq!(enc(Command::Ccc), b"CCC\r\n");
        assert_eq!(enc(Command::Quit), b"QUIT\r\n");
        assert_eq!(enc(Command::Stou), b"STOU\r\n");
    }

    #[test]
    fn arguments_and_numbers() {
        assert_eq!(
            enc(Command::User("anonymous".into())),
            b"USER anonymous\r\n"
        );
        assert_eq!(enc(Command::Pass("".into())), b"PASS \r\n");
        assert_eq!(enc(Command::Rest(0)), b"REST 0\r\n");
        assert_eq!(
            enc(Command::Rest(u64::MAX)),
            b"REST 18446744073709551615\r\n"
        );
        assert_eq!(enc(Command::Pbsz(0)), b"PBSZ 0\r\n");
        assert_eq!(enc(Command::Allo(1024)), b"ALLO 1024\r\n");
        assert_eq!(enc(Command::Opts("UTF8 ON".into())), b"OPTS UTF8 ON\r\n");
        assert_eq!(enc(Command::Auth("TLS".into())), b"AUTH TLS\r\n");
        assert_eq!(enc(Command::Prot(ProtLevel::Private)), b"PROT P\r\n");
        assert_eq!(enc(Command::Type(TransferType::Ascii)), b"TYPE A\r\n");
        assert_eq!(enc(Command::Stru(Structure::Record)), b"STRU R\r\n");
        assert_eq!(enc(Command::Mode(TransferMode::Block)), b"MODE B\r\n");
        assert_eq!(
            enc(Command::Host("ftp.example.com".into())),
            b"HOST ftp.example.com\r\n"
        );
    }

    #[test]
    fn optional_arguments() {
        assert_eq!(enc(Command::List(None)), b"LIST\r\n");
        assert_eq!(enc(Command::List(Some("".into()))), b"LIST\r\n");
        assert_eq!(enc(Command::Nlst(Some("-a".into()))), b"NLST -a\r\n");
        assert_eq!(enc(Command::Mlsd(Some("/pub".into()))), b"MLSD /pub\r\n");
        assert_eq!(enc(Command::Mlst(None)), b"MLST\r\n");
        assert_eq!(enc(Command::Stat(None)), b"STAT\r\n");
        assert_eq!(enc(Command::Help(Some("SITE".into()))), b"HELP SITE\r\n");
    }

    #[test]
    fn port_and_eprt() {
        let v4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 255), 0x1234);
        assert_eq!(enc(Command::Port(v4)), b"PORT 10,0,0,255,18,52\r\n");
        assert_eq!(
            enc(Command::Eprt(v4.into())),
            b"EPRT |1|10.0.0.255|4660|\r\n"
        );
        let v6 = SocketAddrV6::new(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), 21, 0, 0);
        assert_eq!(
            enc(Command::Eprt(v6.into())),
            b"EPRT |2|2001:db8::1|21|\r\n"
        );
    }

    #[test]
    fn utf8_unchanged_and_iac_doubled() {
        assert_eq!(
            enc(Command::Stor("données/日本.txt".into())),
            "STOR données/日本.txt\r\n".as_bytes()
        );
        assert_eq!(
            enc(Command::Retr((&b"\xffa\xff"[..]).into())),
            b"RETR \xff\xffa\xff\xff\r\n"
        );
        assert_eq!(
            enc(Command::Raw((&b"NOOP\xff"[..]).into())),
            b"NOOP\xff\xff\r\n"
        );
    }

    #[test]
    fn injection_refused_with_nothing_written() {
        let mut out = b"kept".to_vec();
        for (arg, byte, offset) in [
            (&b"a\r\nDELE b"[..], b'\r', 1),
            (b"a\nDELE b", b'\n', 1),
            (b"\0", 0, 0),
            (b"x\rfoo", b'\r', 1),
        ] {
            for cmd in [
                Command::Dele(arg.into()),
                Command::Raw(arg.into()),
                Command::Pass(arg.into()),
                Command::List(Some(arg.into())),
            ] {
                assert_eq!(
                    cmd.encode(&mut out),
                    Err(CommandError::ForbiddenByte { byte, offset })
                );
                assert_eq!(out, b"kept");
            }
        }
    }

    #[test]
    fn empty_required_argument_refused() {
        let mut out = Vec::new();
        assert_eq!(
            Command::Retr("".into()).encode(&mut out),
            Err(CommandError::EmptyArgument { verb: "RETR" })
        );
        assert_eq!(
            Command::Raw("".into()).encode(&mut out),
            Err(CommandError::EmptyArgument { verb: "" })
        );
        assert!(out.is_empty());
        assert!(CommandError::EmptyArgument { verb: "" }
            .to_string()
            .contains("raw command"));
    }

    #[test]
    fn verbs_and_sensitivity() {
        assert_eq!(Command::Raw("X".into()).verb(), "");
        assert_eq!(Command::Rest(1).verb(), "REST");
        assert!(Command::Acct("x".into()).is_sensitive());
        assert!(Command::Raw("PASS x".into()).is_sensitive());
        assert!(Command::Raw("ACCT".into()).is_sensitive());
        assert!(!Command::Raw("PASV".into()).is_sensitive());
    }

    #[test]
    fn no_allocation_once_capacity_is_there() {
        let mut out = Vec::with_capacity(256);
        let ptr = out.as_ptr();
        for _ in 0..10 {
            out.clear();
            Command::Retr("some/long/path/name.bin".into())
                .encode(&mut out)
                .unwrap();
            Command::Eprt("[2001:db8::1]:65535".parse().unwrap())
                .encode(&mut out)
                .unwrap();
        }
        assert_eq!(out.as_ptr(), ptr);
        assert_eq!(out.capacity(), 256);
    }
}
