//! [`Driver`] for the tokio client of ftp-core's examples (`tokio_client`, issue 14): one
//! [`Client`] on a current-thread runtime the adapter holds, each call blocked on. The abort
//! of a running download goes through the client's cancellation: the download's future is
//! dropped once its sink holds enough bytes, and `abort` settles it through the core.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ftp_sansio::listing::{parse_list, parse_mlsd, parse_nlst_line};
use ftp_sansio::reply::Reply;
use ftp_sansio::session::{Operation, Outcome, TransferKind, TransferRequest};
use ftp_sansio::time::Timestamp;
use ftp_sansio::tls::{TlsConfig, TlsVersions};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::runtime::Runtime;
use tokio::sync::Notify;

use crate::driver::{
    login_operation, Class, Cmd, Download, Driver, Failure, ListKind, Setup, Success, TlsVersion,
    Upload, Verdict,
};
use crate::tokio_client::{Client, Error};

/// The tokio client and the runtime that drives it.
pub struct Tokio {
    rt: Runtime,
    client: Option<Client>,
    tls_versions: TlsVersion,
}

/// A sink that fails once it holds `fails_after` bytes, or tells `stalled` once it holds
/// `stall_after` and takes nothing more (pending).
struct Sink {
    buf: Vec<u8>,
    fails_after: Option<usize>,
    stall_after: Option<(usize, Arc<Notify>)>,
}

impl AsyncWrite for Sink {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        b: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.fails_after.is_some_and(|n| self.buf.len() >= n) {
            return Poll::Ready(Err(io::Error::other("the sink failed")));
        }
        if let Some((n, stalled)) = &self.stall_after {
            if self.buf.len() >= *n {
                stalled.notify_one();
                return Poll::Pending;
            }
        }
        self.buf.extend_from_slice(b);
        if let Some((n, stalled)) = &self.stall_after {
            if self.buf.len() >= *n {
                stalled.notify_one();
            }
        }
        Poll::Ready(Ok(b.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A source of `data` that fails after `fails_after` bytes, if set.
struct Source<'a> {
    data: &'a [u8],
    pos: usize,
    fails_after: Option<usize>,
}

impl AsyncRead for Source<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.fails_after.is_some_and(|n| self.pos >= n) {
            return Poll::Ready(Err(io::Error::other("the source failed")));
        }
        let n = buf.remaining().min(self.data.len() - self.pos);
        let pos = self.pos;
        buf.put_slice(&self.data[pos..pos + n]);
        self.pos += n;
        Poll::Ready(Ok(()))
    }
}

/// The neutral verdict of a client error; `open` says whether the client is still usable.
fn failure(e: Error, open: bool) -> Verdict {
    let (class, io, fatal) = match &e {
        Error::Op { error, .. } => return Verdict::op(error.clone()),
        Error::Io { source, .. } if source.kind() == io::ErrorKind::TimedOut => {
            (Class::Timeout, Some(source.kind()), true)
        }
        Error::Io { source, .. } => (Class::Io, Some(source.kind()), true),
        Error::Local { source, .. } => (Class::Io, Some(source.kind()), !open),
        Error::ListingTooLarge { .. } => (Class::TooLarge, None, !open),
        Error::Unparsed { .. } => (Class::Protocol, None, !open),
        Error::Usage(_) => (Class::Usage, None, !open),
        Error::Closed { .. } => (Class::Closed, None, true),
        Error::Tls { .. } | Error::TlsConfig(_) => (Class::Tls, None, true),
        other => panic!("tokio: an error the adapter does not expect: {other:?}"),
    };
    Verdict::Err(Failure {
        class,
        code: None,
        fatal,
        op: None,
        io,
        message: e.to_string(),
    })
}

fn verdict(r: Result<Outcome, Error>, open: bool) -> Verdict {
    match r {
        Ok(
            Outcome::Greeting(r)
            | Outcome::LoggedIn(r)
            | Outcome::Done(r)
            | Outcome::Closed(r)
            | Outcome::Aborted { reply: r }
            | Outcome::Transferred { reply: r, .. },
        ) => Verdict::reply(r),
        Ok(Outcome::Path(p)) => Verdict::Ok(Success {
            path: Some(String::from_utf8_lossy(&p).into_owned()),
            ..Success::default()
        }),
        Ok(Outcome::Size(n)) => Verdict::Ok(Success {
            number: Some(n),
            ..Success::default()
        }),
        Ok(Outcome::Mtime(t)) => Verdict::Ok(Success {
            number: u64::try_from(t.unix_seconds()).ok(),
            ..Success::default()
        }),
        Ok(_) => Verdict::Ok(Success::default()),
        Err(e) => failure(e, open),
    }
}

fn never_connected() -> Verdict {
    Verdict::failure(Class::Closed, true, "never connected")
}

fn p_bytes(p: &str) -> Vec<u8> {
    p.as_bytes().to_vec()
}

impl Tokio {
    fn is_open_now(&self) -> bool {
        self.client.as_ref().is_some_and(|c| !c.is_closed())
    }

    /// Runs one operation of the client on the runtime: its verdict.
    fn op(&mut self, operation: Operation) -> Verdict {
        let Some(c) = self.client.as_mut() else {
            return never_connected();
        };
        let r = self.rt.block_on(c.operation(operation));
        verdict(r, self.is_open_now())
    }
}

impl Driver for Tokio {
    const NAME: &'static str = "tokio";

    fn connect(addr: SocketAddr, setup: &Setup) -> (Self, Verdict) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let mut me = Tokio {
            rt,
            client: None,
            tls_versions: setup.tls_versions,
        };
        let v = match me.rt.block_on(Client::connect(addr, setup.config.clone())) {
            Ok((mut client, greeting)) => {
                if let Some(limit) = setup.listing_limit {
                    client.set_max_listing(limit);
                }
                me.client = Some(client);
                Verdict::reply(greeting)
            }
            Err(e) => failure(e, false),
        };
        (me, v)
    }

    fn welcome(&self) -> Option<Reply> {
        self.client.as_ref()?.welcome().cloned()
    }

    fn login(&mut self, user: &str, password: &str) -> Verdict {
        self.op(login_operation(user, password))
    }

    fn command(&mut self, cmd: Cmd<'_>) -> Verdict {
        self.op(cmd.operation())
    }

    fn download(&mut self, request: Download<'_>) -> (Verdict, Vec<u8>) {
        let Some(c) = self.client.as_mut() else {
            return (never_connected(), Vec::new());
        };
        let mut sink = Sink {
            buf: Vec::new(),
            fails_after: request.sink_fails_after,
            stall_after: None,
        };
        let req = TransferRequest {
            kind: TransferKind::Retr(p_bytes(request.path)),
            ascii: false,
            rest: request.rest,
        };
        let r = self.rt.block_on(c.transfer_into(req, &mut sink));
        (verdict(r, self.is_open_now()), sink.buf)
    }

    fn upload(&mut self, request: Upload<'_>) -> Verdict {
        let Some(c) = self.client.as_mut() else {
            return never_connected();
        };
        let path = p_bytes(request.path);
        let req = TransferRequest {
            kind: if request.append {
                TransferKind::Appe(path)
            } else {
                TransferKind::Stor(path)
            },
            ascii: false,
            rest: request.rest,
        };
        let mut source = Source {
            data: request.data,
            pos: 0,
            fails_after: request.source_fails_after,
        };
        let r = self.rt.block_on(c.transfer_from(req, &mut source));
        verdict(r, self.is_open_now())
    }

    fn listing(&mut self, kind: ListKind, path: Option<&str>) -> (Verdict, Vec<Vec<u8>>) {
        let Some(c) = self.client.as_mut() else {
            return (never_connected(), Vec::new());
        };
        let path = path.map(p_bytes);
        let kind_of = match kind {
            ListKind::Nlst => TransferKind::Nlst(path),
            ListKind::List => TransferKind::List(path),
            ListKind::Mlsd => TransferKind::Mlsd(path),
        };
        let data = match self.rt.block_on(c.listing_bytes(kind_of)) {
            Ok(data) => data,
            Err(e) => {
                let open = self.is_open_now();
                return (failure(e, open), Vec::new());
            }
        };
        let now = Timestamp::new(2026, 1, 1, 0, 0, 0).expect("a valid date");
        let names = match kind {
            ListKind::Nlst => data
                .split(|&b| b == b'\n')
                .filter_map(parse_nlst_line)
                .map(<[u8]>::to_vec)
                .collect(),
            ListKind::List => parse_list(&data, now)
                .filter_map(|l| l.entry().map(|e| e.name().to_vec()))
                .collect(),
            ListKind::Mlsd => parse_mlsd(&data)
                .filter_map(|l| l.entry().map(|e| e.name().to_vec()))
                .collect(),
        };
        (Verdict::Ok(Success::default()), names)
    }

    fn abort_download(&mut self, path: &str, after: usize) -> Verdict {
        let Some(c) = self.client.as_mut() else {
            return never_connected();
        };
        let stalled = Arc::new(Notify::new());
        let mut sink = Sink {
            buf: Vec::new(),
            fails_after: None,
            stall_after: Some((after, Arc::clone(&stalled))),
        };
        let req = TransferRequest {
            kind: TransferKind::Retr(p_bytes(path)),
            ascii: false,
            rest: None,
        };
        // The download runs until the sink holds `after` bytes and stalls; its future is
        // then dropped (cancelled), and `abort` aborts the transfer through the core.
        let ended = self.rt.block_on(async {
            tokio::select! {
                biased;
                () = stalled.notified() => None,
                r = c.transfer_into(req, &mut sink) => Some(r),
            }
        });
        let open = self.is_open_now();
        if let Some(r) = ended {
            return match verdict(r, open) {
                Verdict::Ok(s) => panic!("tokio: the download ended before the abort: {s:?}"),
                failed => failed,
            };
        }
        self.abort_idle()
    }

    fn abort_idle(&mut self) -> Verdict {
        let Some(c) = self.client.as_mut() else {
            return never_connected();
        };
        let r = self.rt.block_on(c.abort());
        let open = self.is_open_now();
        match r {
            Ok(reply) => Verdict::reply(reply),
            Err(e) => failure(e, open),
        }
    }

    fn quit(&mut self) -> Verdict {
        self.op(Operation::Quit)
    }

    fn is_open(&self) -> bool {
        self.is_open_now()
    }

    fn auth_tls(&mut self, server_name: &str, trust: Option<&[u8]>) -> Verdict {
        let Some(c) = self.client.as_mut() else {
            return never_connected();
        };
        let tls = match trust {
            Some(pem) => TlsConfig::builder()
                .without_webpki_roots()
                .add_root_pem(pem)
                .map(|b| b.versions(versions(self.tls_versions)))
                .and_then(|b| b.build())
                .expect("a client TLS configuration"),
            None => TlsConfig::new(),
        };
        let r = self.rt.block_on(c.auth_tls(&tls, server_name));
        let open = self.is_open_now();
        match r {
            Ok(reply) => Verdict::reply(reply),
            // Whatever ended it, a failed `auth_tls` is a TLS failure for the suite (as the
            // other drivers report it); the reply code and the session's state are kept.
            Err(e) => {
                let code = match &e {
                    Error::Op { error, .. } => error.reply().map(|r| r.code().get()),
                    _ => None,
                };
                let op = match &e {
                    Error::Op { error, .. } => Some(error.clone()),
                    _ => None,
                };
                Verdict::Err(Failure {
                    class: Class::Tls,
                    code,
                    fatal: !open,
                    op,
                    io: None,
                    message: e.to_string(),
                })
            }
        }
    }

    fn prot_p(&mut self) -> Verdict {
        let Some(c) = self.client.as_mut() else {
            return never_connected();
        };
        let r = self.rt.block_on(c.prot_p());
        let open = self.is_open_now();
        match r {
            Ok(reply) => Verdict::reply(reply),
            Err(e) => failure(e, open),
        }
    }

    fn tls_data_handshakes(&self) -> Option<(u64, u64)> {
        self.client
            .as_ref()?
            .tls_info()
            .map(|i| (i.data_handshakes, i.data_resumed))
    }

    fn close(&mut self) {
        if let Some(c) = self.client.as_mut() {
            self.rt.block_on(c.close());
        }
    }
}

/// The TLS versions for a neutral choice.
fn versions(v: TlsVersion) -> TlsVersions {
    match v {
        TlsVersion::Tls12 => TlsVersions::Tls12,
        TlsVersion::Tls13 => TlsVersions::Tls13,
    }
}
