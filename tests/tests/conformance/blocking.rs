//! [`Driver`] for ftp-blocking: one [`Ftp`], each neutral operation one ftplib-shaped call.

use std::io::{self, Read};
use std::net::SocketAddr;

use ftp_blocking::tls::{TlsConfig, TlsVersions};
use ftp_blocking::{Error, ErrorKind, Ftp};
use ftp_sansio::reply::Reply;
use ftp_sansio::session::OpError;

use crate::driver::{
    Class, Cmd, Download, Driver, Failure, ListKind, Success, TlsVersion, Upload, Verdict,
};

/// ftp-blocking's session.
pub struct Blocking {
    ftp: Ftp,
    tls_versions: TlsVersion,
}

/// The neutral verdict of an ftp-blocking error: its [`ErrorKind`], refined to
/// [`Class::Truncated`] where the core says so.
fn failure(e: Error) -> Verdict {
    let class = match e.kind() {
        ErrorKind::Reply => Class::Reply,
        ErrorKind::Temporary => Class::Temporary,
        ErrorKind::Permanent => Class::Permanent,
        ErrorKind::Protocol => Class::Protocol,
        ErrorKind::Io if matches!(e.op_error(), Some(OpError::Truncated { .. })) => {
            Class::Truncated
        }
        ErrorKind::Io => Class::Io,
        ErrorKind::Timeout => Class::Timeout,
        ErrorKind::Closed => Class::Closed,
        ErrorKind::InvalidInput => Class::Usage,
        ErrorKind::Tls => Class::Tls,
        ErrorKind::TooLarge => Class::TooLarge,
        other => panic!("an ErrorKind the suite does not know: {other:?} ({e})"),
    };
    Verdict::Err(Failure {
        class,
        code: e.code(),
        fatal: e.is_fatal(),
        op: e.op_error().cloned(),
        io: e.io_error().map(|io| io.kind()),
        message: e.to_string(),
    })
}

fn reply(r: Result<Reply, Error>) -> Verdict {
    r.map_or_else(failure, Verdict::reply)
}

fn done<T>(r: Result<T, Error>) -> Verdict {
    r.map_or_else(failure, |_| Verdict::Ok(Success::default()))
}

fn path(r: Result<String, Error>) -> Verdict {
    r.map_or_else(failure, |p| {
        Verdict::Ok(Success {
            path: Some(p),
            ..Success::default()
        })
    })
}

/// A reader of `data` that fails after `fails_after` bytes, if set.
struct Source<'a> {
    data: &'a [u8],
    given: usize,
    fails_after: Option<usize>,
}

impl Read for Source<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.fails_after.is_some_and(|n| self.given >= n) {
            return Err(io::Error::other("the source failed"));
        }
        let n = buf.len().min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.given += n;
        Ok(n)
    }
}

impl Driver for Blocking {
    const NAME: &'static str = "blocking";

    fn connect(addr: SocketAddr, setup: &crate::driver::Setup) -> (Self, Verdict) {
        match Ftp::connect_with(addr, setup.config.clone(), setup.connect_timeout) {
            Ok(mut ftp) => {
                if let Some(limit) = setup.listing_limit {
                    ftp.set_max_listing(limit);
                }
                let greeting = ftp.welcome().cloned().expect("a greeting after connect");
                let tls_versions = setup.tls_versions;
                (Blocking { ftp, tls_versions }, Verdict::reply(greeting))
            }
            Err(e) => {
                let tls_versions = setup.tls_versions;
                (
                    Blocking {
                        ftp: Ftp::new(),
                        tls_versions,
                    },
                    failure(e),
                )
            }
        }
    }

    fn welcome(&self) -> Option<Reply> {
        self.ftp.welcome().cloned()
    }

    fn login(&mut self, user: &str, password: &str) -> Verdict {
        reply(self.ftp.login(user, password))
    }

    fn command(&mut self, cmd: Cmd<'_>) -> Verdict {
        let f = &mut self.ftp;
        match cmd {
            Cmd::Cwd(p) => reply(f.cwd(p)),
            Cmd::Cdup => reply(f.cdup()),
            Cmd::Pwd => path(f.pwd()),
            Cmd::Mkd(p) => path(f.mkd(p)),
            Cmd::Rmd(p) => reply(f.rmd(p)),
            Cmd::Dele(p) => reply(f.delete(p)),
            Cmd::Rename(from, to) => reply(f.rename(from, to)),
            Cmd::Size(p) => f.size(p).map_or_else(failure, |n| {
                Verdict::Ok(Success {
                    number: Some(n),
                    ..Success::default()
                })
            }),
            Cmd::Mdtm(p) => f.mdtm(p).map_or_else(failure, |t| {
                Verdict::Ok(Success {
                    number: u64::try_from(t.unix_seconds()).ok(),
                    ..Success::default()
                })
            }),
            Cmd::Mlst(p) => done(f.mlst(Some(p))),
            Cmd::Feat => done(f.feat()),
            Cmd::Syst => reply(f.syst()),
            Cmd::Stat(p) => reply(f.stat(Some(p))),
            Cmd::Site(a) => reply(f.site(a)),
            Cmd::Help => reply(f.sendcmd("HELP")),
            Cmd::Noop => reply(f.noop()),
            Cmd::Raw(line) => reply(f.sendcmd(line)),
        }
    }

    fn download(&mut self, request: Download<'_>) -> (Verdict, Vec<u8>) {
        let mut got = Vec::new();
        let r = self.ftp.retrbinary(
            &format!("RETR {}", request.path),
            |b| {
                if request.sink_fails_after.is_some_and(|n| got.len() >= n) {
                    return Err(io::Error::other("the sink failed"));
                }
                got.extend_from_slice(b);
                Ok(())
            },
            8192,
            request.rest,
        );
        (reply(r), got)
    }

    fn upload(&mut self, request: Upload<'_>) -> Verdict {
        let verb = if request.append { "APPE" } else { "STOR" };
        let mut source = Source {
            data: request.data,
            given: 0,
            fails_after: request.source_fails_after,
        };
        reply(self.ftp.storbinary(
            &format!("{verb} {}", request.path),
            &mut source,
            8192,
            request.rest,
        ))
    }

    fn listing(&mut self, kind: ListKind, path: Option<&str>) -> (Verdict, Vec<Vec<u8>>) {
        let r = match kind {
            ListKind::Nlst => self
                .ftp
                .nlst(path)
                .map(|v| v.into_iter().map(String::into_bytes).collect()),
            ListKind::List => self
                .ftp
                .list(path)
                .map(|v| v.iter().map(|e| e.name().to_vec()).collect()),
            ListKind::Mlsd => self
                .ftp
                .mlsd(path)
                .map(|v| v.iter().map(|e| e.name().to_vec()).collect()),
        };
        match r {
            Ok(names) => (Verdict::Ok(Success::default()), names),
            Err(e) => (failure(e), Vec::new()),
        }
    }

    fn abort_download(&mut self, path: &str, after: usize) -> Verdict {
        let mut stream = match self.ftp.transfercmd(&format!("RETR {path}"), None) {
            Ok(s) => s,
            Err(e) => return failure(e),
        };
        let mut buf = vec![0u8; after];
        if let Err(e) = stream.read_exact(&mut buf) {
            return Verdict::failure(Class::Io, false, format!("before the abort: {e}"));
        }
        reply(stream.abort())
    }

    fn abort_idle(&mut self) -> Verdict {
        reply(self.ftp.abort())
    }

    fn quit(&mut self) -> Verdict {
        reply(self.ftp.quit())
    }

    fn is_open(&self) -> bool {
        self.ftp.is_connected()
    }

    fn auth_tls(&mut self, server_name: &str, trust: Option<&[u8]>) -> Verdict {
        let tls = match trust {
            Some(pem) => TlsConfig::builder()
                .without_webpki_roots()
                .add_root_pem(pem)
                .map(|b| b.versions(versions(self.tls_versions)))
                .and_then(|b| b.build())
                .expect("a client TLS configuration"),
            None => TlsConfig::new(),
        };
        reply(self.ftp.auth_tls(server_name, &tls))
    }

    fn prot_p(&mut self) -> Verdict {
        reply(self.ftp.prot_p())
    }

    fn tls_data_handshakes(&self) -> Option<(u64, u64)> {
        self.ftp
            .tls_info()
            .map(|i| (i.data_handshakes, i.data_resumed))
    }

    fn close(&mut self) {
        self.ftp.close();
    }
}

/// The driver's name for a neutral TLS version choice.
fn versions(v: TlsVersion) -> TlsVersions {
    match v {
        TlsVersion::Tls12 => TlsVersions::Tls12,
        TlsVersion::Tls13 => TlsVersions::Tls13,
    }
}
