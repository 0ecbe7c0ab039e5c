//! The tokio embedding example (`ftp-core/examples/tokio_client`) as a driver: every
//! operation against the in-process libunftp server and the four system servers, passive and
//! active, IPv4 and IPv6, FTPS (explicit, implicit, protected data resuming the control
//! session, `ccc`); hostile peers (disconnect mid-transfer, 421, 426, stalls → the core's
//! timeouts); and a drop-cancellation test per operation kind (command, download, upload,
//! listing, before the data connection, TLS handshake), each proving the client stays in
//! step or closes with a clear error. The shared scenarios run for it in
//! `tests/tests/conformance` (adapter `tokio.rs`).

#[allow(dead_code)] // a whole module to copy; not every item is used here
#[path = "../../ftp-core/examples/tokio_client/client.rs"]
mod tokio_client;

mod hostile_common;

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use ftp_sansio::listing::EntryKind;
use ftp_sansio::session::{Config, DataFailure, OpError, TimeoutKind};
use ftp_sansio::tls::{TlsConfig, TlsVersions};
use ftp_tests::fault::{disconnect, reply, sleep, well_behaved, Action, FaultServer, Script};
use ftp_tests::tls::{server_cert_pem, ImplicitTlsFront, LocalFtps, TestCert, LIBUNFTP_AUTH_RACE};
use ftp_tests::{LocalServer, ServerKind, TestServer, PASSWORD, USER};
use hostile_common::{pattern, retr_cut, BOUND};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio_client::{Client, Error};

/// Generous timeouts for the libunftp tests (a loaded machine must not fail them).
fn local_config() -> Config {
    Config {
        reply_timeout: Some(Duration::from_secs(20)),
        data_timeout: Some(Duration::from_secs(20)),
        ..Config::default()
    }
}

async fn logged_in(addr: std::net::SocketAddr, config: Config) -> Client {
    let (mut ftp, welcome) = Client::connect(addr, config).await.unwrap();
    assert_eq!(welcome.code().get(), 220);
    ftp.login(USER, PASSWORD).await.unwrap();
    ftp
}

/// Runs `f` within [`BOUND`] (a liveness bound, not a speed target).
async fn bounded<F: std::future::Future>(f: F) -> F::Output {
    match tokio::time::timeout(BOUND, f).await {
        Ok(r) => r,
        Err(_) => panic!("not done within {BOUND:?}"),
    }
}

/// Polls `call` until `at` is notified, then drops it: the cancellation under test. The call
/// must not complete before.
async fn cancel_at<F>(call: F, at: &Notify)
where
    F: std::future::Future,
    F::Output: std::fmt::Debug,
{
    bounded(async {
        tokio::select! {
            biased;
            () = at.notified() => {}
            r = call => panic!("the call completed before it was cancelled: {r:?}"),
        }
    })
    .await;
}

fn op_err<T: std::fmt::Debug>(r: Result<T, Error>) -> OpError {
    match r {
        Err(Error::Op { error, .. }) => error,
        other => panic!("expected a core error, got {other:?}"),
    }
}

/// A sink that takes `limit` bytes, then never takes more (the transfer is surely in flight
/// when the test cancels it); `stalled` tells the test it got there.
struct StallingSink {
    got: Vec<u8>,
    limit: usize,
    stalled: Arc<Notify>,
}

impl AsyncWrite for StallingSink {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let room = self.limit - self.got.len();
        if room == 0 {
            self.stalled.notify_one();
            return Poll::Pending;
        }
        let n = room.min(buf.len());
        self.got.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A source that yields `data` and then never ends (pending forever); `stalled` tells the
/// test it got there.
struct StallingSource {
    data: Vec<u8>,
    pos: usize,
    stalled: Arc<Notify>,
}

impl AsyncRead for StallingSource {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.pos == self.data.len() {
            self.stalled.notify_one();
            return Poll::Pending;
        }
        let n = buf.remaining().min(self.data.len() - self.pos);
        let pos = self.pos;
        buf.put_slice(&self.data[pos..pos + n]);
        self.pos += n;
        Poll::Ready(Ok(()))
    }
}

/// A sink that fails after `limit` bytes.
struct FailingSink {
    taken: usize,
    limit: usize,
}

impl AsyncWrite for FailingSink {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.taken >= self.limit {
            return Poll::Ready(Err(io::Error::other("disk full")));
        }
        self.taken += buf.len();
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Every operation of the client, checked against the server's disk.
async fn every_operation(server: &dyn TestServer, passive: bool) {
    let mut ftp = logged_in(server.addr(), local_config()).await;
    ftp.set_pasv(passive);
    let data = pattern(700_000);

    let made = ftp.mkd("dir").await.unwrap();
    assert!(made.ends_with("dir"), "{made}");
    ftp.cwd("dir").await.unwrap();
    assert!(ftp.pwd().await.unwrap().ends_with("/dir"));

    let sent = ftp.store("up.bin", &mut &data[..]).await.unwrap();
    assert_eq!(sent, data.len() as u64);
    assert_eq!(server.read_file("dir/up.bin").unwrap(), data);
    assert_eq!(ftp.size("up.bin").await.unwrap(), data.len() as u64);
    let mtime = ftp.mdtm("up.bin").await.unwrap();
    assert!(mtime.year() >= 2024, "{mtime}");

    let mut got = Vec::new();
    let n = ftp.retrieve("up.bin", &mut got, None).await.unwrap();
    assert_eq!((n, &got), (data.len() as u64, &data));
    let mut tail = Vec::new();
    ftp.retrieve("up.bin", &mut tail, Some(123_456))
        .await
        .unwrap();
    assert_eq!(tail, &data[123_456..]);

    let mut names = ftp.nlst(None).await.unwrap();
    names.retain(|n| n != "." && n != ".."); // Pure-FTPd lists them
    assert_eq!(names, ["up.bin"]);
    let list = ftp.list(None).await.unwrap();
    let files: Vec<_> = list.iter().filter(|e| !e.is_dir()).collect();
    assert_eq!(files.len(), 1, "{list:?}");
    assert_eq!(files[0].name(), b"up.bin");
    assert_eq!(files[0].size(), Some(data.len() as u64));
    if server.kind() == ServerKind::Vsftpd {
        // vsftpd has no machine-readable listing: its refusal is a typed error
        let e = op_err(ftp.mlsd(None).await);
        assert_eq!(e.reply().map(|r| r.code().get()), Some(500), "{e:?}");
    } else {
        let mlsd = ftp.mlsd(None).await.unwrap();
        let file = mlsd.iter().find(|e| e.kind() == EntryKind::File).unwrap();
        assert_eq!(file.name(), b"up.bin");
        assert_eq!(file.size(), Some(data.len() as u64));
    }

    // the listing the core picks (MLSD where FEAT offers MLST, else LIST), parsed
    let picked = ftp.entries(None).await.unwrap();
    let file = picked.iter().find(|e| e.name() == b"up.bin");
    assert_eq!(
        file.and_then(|e| e.size()),
        Some(data.len() as u64),
        "{picked:?}"
    );

    ftp.rename("up.bin", "moved.bin").await.unwrap();
    assert_eq!(server.read_file("dir/moved.bin").unwrap(), data);
    ftp.delete("moved.bin").await.unwrap();
    assert!(!server.local_path("dir/moved.bin").exists());
    ftp.cwd("..").await.unwrap();
    ftp.rmd("dir").await.unwrap();
    assert!(!server.local_path("dir").exists());

    // a negative reply is a typed error and leaves the session usable
    let e = op_err(ftp.size("missing").await);
    assert_eq!(e.reply().map(|r| r.code().get()), Some(550));
    ftp.pwd().await.unwrap();

    assert_eq!(ftp.quit().await.unwrap().code().get(), 221);
    assert!(ftp.is_closed());
    assert!(matches!(ftp.pwd().await, Err(Error::Closed { .. })));
}

#[tokio::test]
async fn every_operation_passive() {
    let server = LocalServer::start();
    bounded(every_operation(&server, true)).await;
}

#[tokio::test]
async fn every_operation_active() {
    let server = LocalServer::start();
    bounded(every_operation(&server, false)).await;
}

/// IPv6: passive (EPSV to the control peer) and active (EPRT with the client's IPv6
/// address). libunftp 0.24 has no EPRT, so active mode there ends with its 500.
async fn ipv6(server: &dyn TestServer) {
    assert!(server.addr().is_ipv6());
    let data = pattern(100_000);
    server.write_file("six", &data).unwrap();
    let mut ftp = logged_in(server.addr(), local_config()).await;
    assert!(ftp.local_addr().unwrap().is_ipv6());
    for passive in [true, false] {
        ftp.set_pasv(passive);
        let mut got = Vec::new();
        let r = ftp.retrieve("six", &mut got, None).await;
        if !passive && server.kind() == ServerKind::Libunftp {
            let e = op_err(r);
            assert_eq!(e.reply().map(|r| r.code().get()), Some(500), "{e:?}");
            continue;
        }
        assert_eq!(r.unwrap(), data.len() as u64);
        assert!(got == data, "passive={passive}");
        let name = format!("six-up-{passive}");
        ftp.store(&name, &mut &data[..]).await.unwrap();
        assert!(server.read_file(&name).unwrap() == data);
    }
    ftp.quit().await.unwrap();
}

#[tokio::test]
async fn ipv6_libunftp() {
    if !ftp_tests::ipv6_available() {
        eprintln!("skipped: no IPv6 loopback");
        return;
    }
    let server = LocalServer::builder().ipv6().start().unwrap();
    bounded(ipv6(&server)).await;
}

/// The system servers (vsftpd, ProFTPD, Pure-FTPd, pyftpdlib): every operation, passive and
/// active, IPv6, and cancelled transfers aborted by the next call.
mod system {
    use super::*;
    use ftp_tests::SystemServer;

    async fn all(kind: ServerKind) {
        for passive in [true, false] {
            let server = SystemServer::start(kind);
            bounded(every_operation(&server, passive)).await;
        }
        let server = SystemServer::builder(kind)
            .ipv6()
            .start()
            .unwrap_or_else(|e| panic!("{kind} on ::1: {e}"));
        bounded(ipv6(&server)).await;
        let server = SystemServer::start(kind);
        bounded(cancelled_transfers(&server)).await;
        let server = SystemServer::start(kind);
        let tls = trusting(&server_cert_pem(&server), TlsVersions::Tls12);
        bounded(protected_transfers(&server, &tls, 3)).await;
    }

    #[tokio::test]
    #[ignore = "needs system FTP servers: run tests/run-all.sh"]
    async fn vsftpd() {
        all(ServerKind::Vsftpd).await;
    }
    #[tokio::test]
    #[ignore = "needs system FTP servers: run tests/run-all.sh"]
    async fn proftpd() {
        all(ServerKind::Proftpd).await;
    }
    #[tokio::test]
    #[ignore = "needs system FTP servers: run tests/run-all.sh"]
    async fn pure_ftpd() {
        all(ServerKind::PureFtpd).await;
    }
    #[tokio::test]
    #[ignore = "needs system FTP servers: run tests/run-all.sh"]
    async fn pyftpdlib() {
        all(ServerKind::Pyftpdlib).await;
    }
}

// ---------------------------------------------------------------------------------------
// Drop-cancellation: one test per operation kind
// ---------------------------------------------------------------------------------------

/// A command cancelled before its reply: the next call reads that reply first, so its own
/// reply is its own (the stream stays in step).
#[tokio::test]
async fn cancelled_command_is_settled_by_the_next_call() {
    let server = FaultServer::start(
        well_behaved()
            .on(
                "MKD",
                [
                    sleep(Duration::from_secs(2)),
                    reply("257 \"/slow\" created"),
                ],
            )
            .on("SIZE", reply("213 4242")),
    );
    let mut ftp = bounded(logged_in(server.addr(), local_config())).await;
    let cancelled = tokio::time::timeout(Duration::from_millis(50), ftp.mkd("slow")).await;
    assert!(cancelled.is_err(), "the reply came early: {cancelled:?}");
    // The next command gets its own reply (213), not the late 257.
    assert_eq!(bounded(ftp.size("f")).await.unwrap(), 4242);
    assert_eq!(bounded(ftp.pwd()).await.unwrap(), "/");
    let verbs = server.verbs();
    assert_eq!(verbs[verbs.len() - 4..], ["MKD", "TYPE", "SIZE", "PWD"]);
}

/// A download cancelled mid-stream: the next call aborts it through the core, the client is
/// usable and a new download is complete and exact; then the same for an upload.
async fn cancelled_transfers(server: &dyn TestServer) {
    let data = pattern(8 << 20);
    server.write_file("big", &data).unwrap();
    let mut ftp = logged_in(server.addr(), local_config()).await;
    let stalled = Arc::new(Notify::new());
    let mut sink = StallingSink {
        got: Vec::new(),
        limit: 100_000,
        stalled: Arc::clone(&stalled),
    };
    cancel_at(ftp.retrieve("big", &mut sink, None), &stalled).await;
    assert_eq!(sink.got, &data[..100_000]);

    // the next call aborts first, then runs
    assert_eq!(ftp.size("big").await.unwrap(), data.len() as u64);
    let mut got = Vec::new();
    ftp.retrieve("big", &mut got, None).await.unwrap();
    assert!(got == data, "{}: second download differs", server.kind());

    let mut source = StallingSource {
        data: pattern(200_000),
        pos: 0,
        stalled: Arc::clone(&stalled),
    };
    cancel_at(ftp.store("part", &mut source), &stalled).await;
    let whole = pattern(300_000);
    assert_eq!(ftp.store("whole", &mut &whole[..]).await.unwrap(), 300_000);
    assert!(server.read_file("whole").unwrap() == whole);
    ftp.quit().await.unwrap();
}

#[tokio::test]
async fn cancelled_download_is_aborted_by_the_next_call() {
    let server = LocalServer::start();
    bounded(cancelled_transfers(&server)).await;
}

/// The same, with an explicit `abort` after the cancellation: it returns the answer to the
/// abort.
#[tokio::test]
async fn cancelled_download_then_abort() {
    let server = LocalServer::start();
    server.write_file("big", &pattern(8 << 20)).unwrap();
    let mut ftp = bounded(logged_in(server.addr(), local_config())).await;
    let stalled = Arc::new(Notify::new());
    let mut sink = StallingSink {
        got: Vec::new(),
        limit: 10_000,
        stalled: Arc::clone(&stalled),
    };
    cancel_at(ftp.retrieve("big", &mut sink, None), &stalled).await;
    let reply = bounded(ftp.abort()).await.unwrap();
    assert!(reply.code().get() / 100 == 2, "{reply}");
    assert_eq!(bounded(ftp.nlst(None)).await.unwrap(), ["big"]);
}

/// An upload cancelled mid-stream: the next call aborts it; the client is usable and a
/// new upload lands whole.
#[tokio::test]
async fn cancelled_upload_is_aborted_by_the_next_call() {
    let server = LocalServer::start();
    let mut ftp = bounded(logged_in(server.addr(), local_config())).await;
    let stalled = Arc::new(Notify::new());
    let mut source = StallingSource {
        data: pattern(200_000),
        pos: 0,
        stalled: Arc::clone(&stalled),
    };
    cancel_at(ftp.store("part", &mut source), &stalled).await;
    assert_eq!(source.pos, 200_000);

    let whole = pattern(300_000);
    assert_eq!(
        bounded(ftp.store("whole", &mut &whole[..])).await.unwrap(),
        300_000
    );
    assert_eq!(server.read_file("whole").unwrap(), whole);
    let names = bounded(ftp.nlst(None)).await.unwrap();
    assert!(names.contains(&"whole".to_owned()), "{names:?}");
}

/// A transfer cancelled while its data connection is still being set up (the reply to the
/// passive request is late): the next call aborts it and stays in step.
#[tokio::test]
async fn cancelled_transfer_before_data_is_aborted() {
    let data = pattern(5_000);
    let mut epsv = sleep(Duration::from_secs(2));
    epsv.push(Action::Epsv);
    let server = FaultServer::start(
        hostile_common::serving(&data)
            .once("EPSV", epsv)
            .on("ABOR", reply("225 No transfer to abort."))
            .on("SIZE", reply("213 5000")),
    );
    let mut ftp = bounded(logged_in(server.addr(), local_config())).await;
    let mut got = Vec::new();
    let r =
        tokio::time::timeout(Duration::from_millis(50), ftp.retrieve("f", &mut got, None)).await;
    assert!(r.is_err(), "{r:?}");
    assert_eq!(bounded(ftp.size("f")).await.unwrap(), 5000);
    let mut got = Vec::new();
    bounded(ftp.retrieve("f", &mut got, None)).await.unwrap();
    assert_eq!(got, data);
}

// ---------------------------------------------------------------------------------------
// Local failures and hostile peers
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn failing_sink_aborts_and_stays_usable() {
    let server = LocalServer::start();
    server.write_file("big", &pattern(4 << 20)).unwrap();
    let mut ftp = bounded(logged_in(server.addr(), local_config())).await;
    let mut sink = FailingSink {
        taken: 0,
        limit: 50_000,
    };
    match bounded(ftp.retrieve("big", &mut sink, None)).await {
        Err(Error::Local { operation, source }) => {
            assert_eq!(source.to_string(), "disk full");
            assert!(operation.starts_with("RETR big ("), "{operation}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(bounded(ftp.size("big")).await.unwrap(), 4 << 20);
}

#[tokio::test]
async fn listing_limit_aborts_and_stays_usable() {
    let server = LocalServer::start();
    for i in 0..50 {
        server.write_file(&format!("file-{i:03}"), b"x").unwrap();
    }
    let mut ftp = bounded(logged_in(server.addr(), local_config())).await;
    ftp.set_max_listing(100);
    assert!(matches!(
        bounded(ftp.list(None)).await,
        Err(Error::ListingTooLarge { limit: 100 })
    ));
    ftp.set_max_listing(1 << 20);
    assert_eq!(bounded(ftp.nlst(None)).await.unwrap().len(), 50);
}

#[tokio::test]
async fn disconnect_mid_transfer_closes_with_the_reason() {
    let data = pattern(100_000);
    let mut retr = reply("150 Opening BINARY mode data connection for f.");
    retr.push(Action::DataSend(data[..40_000].to_vec()));
    retr.push(Action::Disconnect);
    let server = FaultServer::start(well_behaved().on("RETR", retr));
    let mut ftp = bounded(logged_in(server.addr(), hostile_common::config())).await;
    let mut got = Vec::new();
    let e = op_err(bounded(ftp.retrieve("f", &mut got, None)).await);
    assert_eq!(e, OpError::ConnectionClosed);
    assert!(got.len() <= 40_000 && got[..] == data[..got.len()]);
    assert!(ftp.is_closed());
    match bounded(ftp.pwd()).await {
        Err(Error::Closed { reason }) => {
            assert!(reason.contains("closed by the server"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn transfer_426_is_an_error_and_the_session_stays_usable() {
    let data = pattern(30_000);
    let server = FaultServer::start(well_behaved().on(
        "RETR",
        retr_cut(
            &data,
            data.len(),
            reply("426 Connection closed; transfer aborted."),
        ),
    ));
    let mut ftp = bounded(logged_in(server.addr(), hostile_common::config())).await;
    let mut got = Vec::new();
    let err = bounded(ftp.retrieve("f", &mut got, None))
        .await
        .unwrap_err();
    // the message says what failed, where, and the server's words
    let text = err.to_string();
    let want = format!(
        "RETR f ({}): temporary failure: 426 Connection closed",
        server.addr()
    );
    assert!(text.starts_with(&want), "{text}");
    let e = op_err::<()>(Err(err));
    assert!(
        matches!(&e, OpError::Temporary(r) if r.code().get() == 426),
        "{e:?}"
    );
    assert_eq!(bounded(ftp.pwd()).await.unwrap(), "/");
}

#[tokio::test]
async fn stalled_data_connection_times_out_and_stays_usable() {
    let mut retr = reply("150 Opening BINARY mode data connection for f (1000 bytes).");
    retr.push(Action::DataOpen);
    let server = FaultServer::start(
        well_behaved()
            .on("RETR", retr)
            .on("ABOR", reply("426 Transfer aborted.\n226 ABOR successful.")),
    );
    let mut ftp = bounded(logged_in(server.addr(), hostile_common::config())).await;
    let mut got = Vec::new();
    let e = op_err(bounded(ftp.retrieve("f", &mut got, None)).await);
    assert_eq!(e, OpError::Timeout(TimeoutKind::Data));
    assert!(got.is_empty());
    assert_eq!(bounded(ftp.pwd()).await.unwrap(), "/");
}

#[tokio::test]
async fn silent_server_times_out_and_closes() {
    let server = FaultServer::start(well_behaved().on("PWD", ftp_tests::fault::hang()));
    let mut ftp = bounded(logged_in(server.addr(), hostile_common::config())).await;
    let e = op_err(bounded(ftp.pwd()).await);
    assert_eq!(e, OpError::Timeout(TimeoutKind::Reply));
    assert!(ftp.is_closed());
    assert!(matches!(
        bounded(ftp.cwd("x")).await,
        Err(Error::Closed { .. })
    ));
}

#[tokio::test]
async fn bad_argument_is_refused_before_sending() {
    let server = FaultServer::start(well_behaved());
    let mut ftp = bounded(logged_in(server.addr(), hostile_common::config())).await;
    assert!(matches!(
        bounded(ftp.cwd("a\r\nDELE x")).await,
        Err(Error::Usage(_))
    ));
    assert_eq!(bounded(ftp.pwd()).await.unwrap(), "/");
    assert!(!server.verbs().iter().any(|v| v == "DELE"));
}

/// A command cancelled whose reply never comes: the next call waits for it under the core's
/// reply timeout, which closes the session; the call says so.
#[tokio::test]
async fn cancelled_command_without_reply_closes_with_the_reason() {
    let server = FaultServer::start(well_behaved().on("PWD", ftp_tests::fault::hang()));
    let mut ftp = bounded(logged_in(server.addr(), hostile_common::config())).await;
    let cancelled = tokio::time::timeout(Duration::from_millis(50), ftp.pwd()).await;
    assert!(cancelled.is_err(), "{cancelled:?}");
    match bounded(ftp.cwd("x")).await {
        Err(Error::Closed { reason }) => {
            assert!(reason.contains("timed out waiting for a reply"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(ftp.is_closed());
    assert!(!server.verbs().iter().any(|v| v == "CWD"));
}

/// A listing cancelled mid-stream (a transfer into the client's own buffer): aborted by the
/// next call, which then runs in step.
#[tokio::test]
async fn cancelled_listing_is_aborted_by_the_next_call() {
    let mut list = reply("150 Here comes the directory listing.");
    list.push(Action::DataSend(
        b"-rw-r--r-- 1 a b 1 Jan 1 2024 f\r\n".to_vec(),
    ));
    list.push(Action::Sleep(Duration::from_secs(2)));
    list.push(Action::DataClose);
    list.extend(reply("226 Directory send OK."));
    let server = FaultServer::start(
        well_behaved()
            .once("LIST", list)
            // this server reads ABOR only once the listing is complete
            .on("ABOR", reply("225 No transfer to abort."))
            .on("SIZE", reply("213 7")),
    );
    let mut ftp = bounded(logged_in(server.addr(), local_config())).await;
    let cancelled = tokio::time::timeout(Duration::from_millis(300), ftp.list(None)).await;
    assert!(cancelled.is_err(), "{cancelled:?}");
    assert_eq!(bounded(ftp.size("f")).await.unwrap(), 7);
    assert!(server.verbs().iter().any(|v| v == "ABOR"));
    assert_eq!(bounded(ftp.pwd()).await.unwrap(), "/");
}

#[tokio::test]
async fn disconnect_before_greeting() {
    let server = FaultServer::start(Script::new().greet_with(disconnect()));
    let r = bounded(Client::connect(server.addr(), hostile_common::config())).await;
    assert_eq!(op_err(r), OpError::ConnectionClosed);
}

#[tokio::test]
async fn reply_421_closes_the_session() {
    let server =
        FaultServer::start(well_behaved().on("PWD", [reply("421 Service closing."), disconnect()]));
    let mut ftp = bounded(logged_in(server.addr(), hostile_common::config())).await;
    let e = op_err(bounded(ftp.pwd()).await);
    assert!(
        matches!(&e, OpError::Temporary(r) if r.code().get() == 421),
        "{e:?}"
    );
    assert!(ftp.is_closed());
    match bounded(ftp.pwd()).await {
        Err(Error::Closed { reason }) => assert!(reason.contains("421"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn data_connection_refused_is_an_error_and_the_session_stays_usable() {
    let server =
        FaultServer::start(hostile_common::serving(b"data").on("EPSV", Action::EpsvRefused));
    let mut ftp = bounded(logged_in(server.addr(), hostile_common::config())).await;
    let mut got = Vec::new();
    let e = op_err(bounded(ftp.retrieve("f", &mut got, None)).await);
    assert!(
        matches!(
            e,
            OpError::Data {
                failure: DataFailure::Refused,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(!server.verbs().iter().any(|v| v == "RETR"));
    assert_eq!(bounded(ftp.pwd()).await.unwrap(), "/");
}

#[tokio::test]
async fn active_server_never_connects_times_out_and_stays_usable() {
    let server = FaultServer::start(
        well_behaved()
            .on("RETR", reply("150 Opening BINARY mode data connection."))
            .on("ABOR", reply("426 Transfer aborted.\n226 ABOR successful.")),
    );
    let mut ftp = bounded(logged_in(server.addr(), hostile_common::config())).await;
    ftp.set_pasv(false);
    let mut got = Vec::new();
    let e = op_err(bounded(ftp.retrieve("f", &mut got, None)).await);
    assert_eq!(e, OpError::Timeout(TimeoutKind::Data));
    assert!(server.verbs().iter().any(|v| v == "EPRT"));
    assert_eq!(server.data_connections(), 0);
    assert_eq!(bounded(ftp.pwd()).await.unwrap(), "/");
}

// ---------------------------------------------------------------------------------------
// FTPS through ftp_sansio::tls
// ---------------------------------------------------------------------------------------

fn trusting(pem: &[u8], versions: TlsVersions) -> TlsConfig {
    TlsConfig::builder()
        .without_webpki_roots()
        .add_root_pem(pem)
        .unwrap()
        .versions(versions)
        .build()
        .unwrap()
}

/// Connect, explicit TLS, login, protected data. Retries when libunftp lost its `AUTH TLS`
/// race (`ftp_tests::tls::LIBUNFTP_AUTH_RACE`, a known server bug).
async fn protected(server: &dyn TestServer, tls: &TlsConfig) -> Client {
    for _ in 0..6 {
        let (mut ftp, _) = Client::connect(server.addr(), local_config())
            .await
            .unwrap();
        match ftp.auth_tls(tls, "localhost").await {
            Ok(reply) => assert_eq!(reply.code().get(), 234),
            Err(e) if e.to_string().contains(LIBUNFTP_AUTH_RACE) => continue,
            Err(e) => panic!("{e}"),
        }
        ftp.login(USER, PASSWORD).await.unwrap();
        ftp.prot_p().await.unwrap();
        return ftp;
    }
    panic!("AUTH TLS kept failing");
}

/// Uploads, downloads and a listing over protected data connections, each resuming the
/// control connection's TLS session where the server insists on it.
async fn protected_transfers(server: &dyn TestServer, tls: &TlsConfig, uploads: usize) {
    let big = pattern(400_000);
    server.write_file("big.bin", &big).unwrap();
    let mut ftp = protected(server, tls).await;
    let mut got = Vec::new();
    ftp.retrieve("big.bin", &mut got, None).await.unwrap();
    assert!(got == big, "{}: protected download differs", server.kind());
    for i in 0..uploads {
        let name = format!("up{i}.bin");
        let data = pattern(30_000 + i * 777);
        ftp.store(&name, &mut &data[..]).await.unwrap();
        let mut back = Vec::new();
        ftp.retrieve(&name, &mut back, None).await.unwrap();
        assert!(back == data && server.read_file(&name).unwrap() == data);
    }
    let names = ftp.nlst(None).await.unwrap();
    assert!(names.iter().any(|n| n.ends_with("big.bin")), "{names:?}");
    let info = ftp.tls_info().unwrap();
    assert!(info.protocol_version.is_some(), "{info:?}");
    assert_eq!(info.data_handshakes, 2 + 2 * uploads as u64, "{info:?}");
    if matches!(
        server.kind(),
        ServerKind::Vsftpd | ServerKind::Proftpd | ServerKind::Libunftp
    ) {
        assert_eq!(info.data_resumed, info.data_handshakes, "{info:?}");
    }
    ftp.quit().await.unwrap();
}

#[tokio::test]
async fn explicit_ftps_libunftp() {
    let ftps = LocalFtps::start();
    let tls = trusting(ftps.cert.cert_pem(), TlsVersions::Tls12);
    bounded(protected_transfers(&ftps.server, &tls, 3)).await;
}

#[tokio::test]
async fn implicit_ftps() {
    let server = LocalServer::start();
    server.write_file("hello.txt", b"implicit tokio\n").unwrap();
    let cert = TestCert::localhost();
    let front = ImplicitTlsFront::start(server.addr(), &cert);
    let tls = trusting(cert.cert_pem(), TlsVersions::Any);
    let (mut ftp, welcome) = bounded(Client::connect_implicit_tls(
        front.addr(),
        "localhost",
        &tls,
        local_config(),
    ))
    .await
    .unwrap();
    assert_eq!(welcome.code().get(), 220);
    bounded(ftp.login(USER, PASSWORD)).await.unwrap();
    // The front relays the control connection only: data stays clear.
    let mut got = Vec::new();
    bounded(ftp.retrieve("hello.txt", &mut got, None))
        .await
        .unwrap();
    assert_eq!(got, b"implicit tokio\n");
    assert!(ftp.tls_info().unwrap().protocol_version.is_some());

    // Untrusted (the default roots): the greeting fails with a TLS error naming the cause.
    let r = bounded(Client::connect_implicit_tls(
        front.addr(),
        "localhost",
        &TlsConfig::new(),
        local_config(),
    ))
    .await;
    match r {
        Err(Error::Tls { source, .. }) => assert!(source.is_certificate(), "{source}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn untrusted_certificate_closes_the_session_before_login() {
    let ftps = LocalFtps::start();
    let other = TestCert::localhost();
    let tls = trusting(other.cert_pem(), TlsVersions::Tls12);
    for _ in 0..6 {
        let (mut ftp, _) = bounded(Client::connect(ftps.server.addr(), local_config()))
            .await
            .unwrap();
        match bounded(ftp.auth_tls(&tls, "localhost")).await {
            Err(e) if e.to_string().contains(LIBUNFTP_AUTH_RACE) => continue,
            Err(Error::Tls { source, context }) => {
                assert!(source.is_certificate(), "{source}");
                assert!(context.starts_with("AUTH TLS"), "{context}");
            }
            other => panic!("{other:?}"),
        }
        assert!(ftp.is_closed());
        assert!(matches!(
            bounded(ftp.login(USER, PASSWORD)).await,
            Err(Error::Closed { .. })
        ));
        return;
    }
    panic!("AUTH TLS kept failing");
}

#[tokio::test]
async fn refused_auth_tls_closes_the_session() {
    let server = FaultServer::start(well_behaved().on("AUTH", reply("502 No TLS here.")));
    let (mut ftp, _) = bounded(Client::connect(server.addr(), hostile_common::config()))
        .await
        .unwrap();
    let tls = TlsConfig::new();
    let e = op_err(bounded(ftp.auth_tls(&tls, "localhost")).await);
    assert_eq!(e.reply().map(|r| r.code().get()), Some(502));
    assert!(ftp.is_closed());
    assert!(matches!(
        bounded(ftp.login(USER, PASSWORD)).await,
        Err(Error::Closed { .. })
    ));
    assert!(!server.verbs().iter().any(|v| v == "USER"));
}

/// Drop-cancellation during the TLS handshake: the server agrees (234) and then never
/// answers the ClientHello. The next call closes the session with a clear error (an
/// unfinished handshake cannot be resumed), and nothing more is sent.
#[tokio::test]
async fn cancelled_tls_handshake_closes_with_a_clear_error() {
    let server = FaultServer::start(
        well_behaved().on("AUTH", [reply("234 Proceed."), ftp_tests::fault::hang()]),
    );
    let mut ftp = bounded(logged_in(server.addr(), local_config())).await;
    let tls = TlsConfig::new();
    let cancelled =
        tokio::time::timeout(Duration::from_millis(500), ftp.auth_tls(&tls, "localhost")).await;
    assert!(cancelled.is_err(), "{cancelled:?}");
    match bounded(ftp.pwd()).await {
        Err(Error::Closed { reason }) => {
            assert!(reason.contains("TLS handshake"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(ftp.is_closed());
    let verbs = server.verbs();
    assert_eq!(verbs.last().map(String::as_str), Some("AUTH"), "{verbs:?}");
}

/// A server that streams forever after an upload's close_notify: the layer's drain is
/// bounded, the upload completes.
#[tokio::test]
async fn the_drain_after_a_protected_upload_is_bounded() {
    let cert = TestCert::localhost();
    let peer = ftp_tests::tls::EndlessTlsPeer::start(&cert);
    let tls = trusting(cert.cert_pem(), TlsVersions::Tls12);
    let data = pattern(100_000);
    bounded(async {
        let (mut ftp, _) =
            Client::connect_implicit_tls(peer.addr(), "localhost", &tls, local_config())
                .await
                .unwrap();
        ftp.login("alice", "secret").await.unwrap();
        ftp.prot_p().await.unwrap();
        assert_eq!(ftp.store("up.bin", &mut &data[..]).await.unwrap(), 100_000);
        ftp.quit().await.unwrap();
    })
    .await;
    let report = tokio::task::spawn_blocking(move || peer.finish())
        .await
        .unwrap();
    assert_eq!(report.uploaded, data);
    assert!(report.close_notify && report.client_hung_up, "{report:?}");
}

/// `ccc` on ProFTPD: the control connection goes back to clear text (the bytes after the
/// server's close_notify go to the session), and the session goes on.
#[tokio::test]
#[ignore = "needs system FTP servers: run tests/run-all.sh"]
async fn proftpd_ccc() {
    let server = ftp_tests::SystemServer::start(ServerKind::Proftpd);
    server.write_file("c.txt", b"after ccc\n").unwrap();
    let tls = trusting(&server_cert_pem(&server), TlsVersions::Tls12);
    bounded(async {
        let mut ftp = protected(&server, &tls).await;
        assert_eq!(ftp.ccc().await.unwrap().code().get(), 200);
        assert_eq!(ftp.pwd().await.unwrap(), "/");
        let mut got = Vec::new();
        ftp.retrieve("c.txt", &mut got, None).await.unwrap();
        assert_eq!(got, b"after ccc\n");
        assert_eq!(ftp.tls_info().unwrap().protocol_version, None);
        ftp.quit().await.unwrap();
    })
    .await;
}
