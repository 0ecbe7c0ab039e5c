//! `ftp_blocking::Ftp` against real servers: every ftplib method, bytes compared on disk.
//!
//! Each check is one function over `&dyn TestServer`; [`server_tests!`] turns it into a test
//! against the in-process libunftp server (runs under plain `cargo test`) and one per system
//! server (vsftpd, ProFTPD, Pure-FTPd, pyftpdlib; `#[ignore]`d, run by `tests/run-all.sh`).
//! Where servers legitimately differ (see `tests/servers/README` quirks) the expectation is
//! spelled out per server, never skipped silently.

use std::io::{Read, Write};
use std::time::Duration;

use ftp_blocking::{Direction, EntryKind, ErrorKind, Ftp};
use ftp_tests::{server_tests, LocalServer, ServerKind, SystemServer, TestServer, ANONYMOUS};

mod blocking_common;
use blocking_common as common;

/// Bytes of every value in a pattern that no newline conversion leaves intact.
fn payload(len: usize) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect()
}

fn connect(server: &dyn TestServer) -> Ftp {
    common::init_logger();
    let mut ftp = Ftp::connect_timeout(server.addr(), Duration::from_secs(20))
        .unwrap_or_else(|e| panic!("{}: connect: {e}", server.kind()));
    ftp.set_debuglevel(2);
    ftp
}

fn login_user(server: &dyn TestServer) -> Ftp {
    let mut ftp = connect(server);
    let reply = ftp
        .login(server.user(), server.password())
        .unwrap_or_else(|e| panic!("{}: login: {e}", server.kind()));
    assert_eq!(reply.code().get(), 230, "{}", server.kind());
    ftp
}

fn is_transfer_ok(code: u16) -> bool {
    code == 226 || code == 250
}

// ---- connecting, logging in, closing ------------------------------------------------------

fn welcome_and_anonymous_login(server: &dyn TestServer) {
    let mut ftp = connect(server);
    let welcome = ftp.getwelcome().expect("a welcome");
    assert!(welcome.starts_with("220"), "{}: {welcome}", server.kind());
    assert_eq!(ftp.welcome().unwrap().code().get(), 220);
    // ftplib's login() without a user: anonymous, password anonymous@
    let reply = ftp.login("", "").unwrap();
    assert_eq!(reply.code().get(), 230, "{}", server.kind());
    assert_eq!(ftp.pwd().unwrap(), "/", "{}", server.kind());
    // anonymous may read but not write
    let err = ftp.mkd("nope").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent, "{}: {err}", server.kind());
    assert!(!server.local_path("nope").exists());
    let quit = ftp.quit().unwrap();
    assert_eq!(quit.code().get(), 221, "{}", server.kind());
}

fn login_errors_and_named_anonymous(server: &dyn TestServer) {
    let mut ftp = connect(server);
    let err = ftp.login(server.user(), "wrong password").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent, "{}: {err}", server.kind());
    assert_eq!(err.code(), Some(530), "{}", server.kind());
    drop(ftp);
    let mut ftp = connect(server);
    assert_eq!(
        ftp.login(ANONYMOUS, "guest@example.invalid")
            .unwrap()
            .code()
            .get(),
        230
    );
    drop(ftp);
    let mut ftp = login_user(server);
    assert_eq!(ftp.pwd().unwrap(), "/");
}

fn quit_then_everything_is_closed(server: &dyn TestServer) {
    let mut ftp = login_user(server);
    assert!(ftp.is_connected());
    assert_eq!(ftp.quit().unwrap().code().get(), 221);
    assert!(!ftp.is_connected());
    for err in [
        ftp.quit().unwrap_err(),
        ftp.pwd().unwrap_err(),
        ftp.nlst(None).unwrap_err(),
        ftp.sendcmd("NOOP").unwrap_err(),
        ftp.abort().unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
    }
    // the welcome survives, as in ftplib
    assert!(ftp.getwelcome().unwrap().starts_with("220"));
    let mut ftp = login_user(server);
    ftp.close();
    ftp.close(); // harmless twice
    assert_eq!(ftp.noop().unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(ftp.quit().unwrap_err().kind(), ErrorKind::Closed);
}

// ---- commands ---------------------------------------------------------------------------------

fn sendcmd_voidcmd_and_error_classes(server: &dyn TestServer) {
    let mut ftp = login_user(server);
    let reply = ftp.sendcmd("NOOP").unwrap();
    assert_eq!(reply.code().get(), 200, "{}", server.kind());
    ftp.voidcmd("NOOP").unwrap();
    // an unknown command: 500 or 502, a permanent error
    let err = ftp.sendcmd("XYZZY").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent, "{}: {err}", server.kind());
    assert!(
        matches!(err.code(), Some(500..=502)),
        "{}: {err}",
        server.kind()
    );
    // a 3xx is fine for sendcmd but an error_reply for voidcmd
    server.write_file("rn.txt", b"x").unwrap();
    let rnfr = ftp.sendcmd("RNFR rn.txt").unwrap();
    assert_eq!(rnfr.code().get(), 350, "{}", server.kind());
    ftp.sendcmd("RNTO rn2.txt").unwrap();
    let err = ftp.voidcmd("RNFR rn2.txt").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Reply, "{}: {err}", server.kind());
    assert_eq!(err.code(), Some(350));
    ftp.voidcmd("RNTO rn.txt").unwrap();
    assert!(server.local_path("rn.txt").exists());
    // CR/LF would inject a second command: refused before anything is sent
    let err = ftp.sendcmd("NOOP\r\nDELE rn.txt").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = ftp.delete("rn.txt\r\nQUIT").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(server.local_path("rn.txt").exists());
    // still in step
    assert_eq!(ftp.noop().unwrap().code().get(), 200);
}

fn feat_syst_stat(server: &dyn TestServer) {
    let mut ftp = login_user(server);
    // FEAT ran after login
    let auto = ftp.features().cloned().expect("features after login");
    assert!(auto.contains("SIZE"), "{}: {auto:?}", server.kind());
    let f = ftp.feat().unwrap();
    assert_eq!(f, auto);
    assert_eq!(
        f.contains("MLST"),
        server.kind() != ServerKind::Vsftpd,
        "{}: {f:?}",
        server.kind()
    );
    if server.kind() != ServerKind::Libunftp {
        assert_eq!(ftp.syst().unwrap().code().get(), 215);
    }
    let stat = ftp.stat(None::<&str>).unwrap();
    assert!(
        stat.code().get() == 211 || stat.code().get() == 212,
        "{stat}"
    );
}

// ---- transfers --------------------------------------------------------------------------------

fn retrbinary_with_blocksize_and_rest(server: &dyn TestServer) {
    let data = payload(300_001);
    server.write_file("big.bin", &data).unwrap();
    let mut ftp = connect(server);
    ftp.login("", "").unwrap();
    let mut got = Vec::new();
    let mut largest = 0;
    let reply = ftp
        .retrbinary(
            "RETR big.bin",
            |b| {
                largest = largest.max(b.len());
                got.extend_from_slice(b);
                Ok(())
            },
            1000,
            None,
        )
        .unwrap();
    assert!(is_transfer_ok(reply.code().get()), "{reply}");
    assert!(largest <= 1000 && largest > 0, "{largest}");
    assert_eq!(got.len(), data.len(), "{}", server.kind());
    assert!(got == data, "{}: bytes differ", server.kind());
    // REST
    let mut tail = Vec::new();
    ftp.retrbinary(
        "RETR big.bin",
        |b| {
            tail.extend_from_slice(b);
            Ok(())
        },
        8192,
        Some(299_000),
    )
    .unwrap();
    assert!(tail == data[299_000..], "{}: REST", server.kind());
    // a missing file
    let err = ftp
        .retrbinary("RETR missing.bin", |_| Ok(()), 8192, None)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent, "{}: {err}", server.kind());
    // the connection is still usable
    let mut again = Vec::new();
    ftp.retrbinary(
        "RETR big.bin",
        |b| {
            again.extend_from_slice(b);
            Ok(())
        },
        65536,
        None,
    )
    .unwrap();
    assert!(again == data);
}

fn retrlines_strips_line_ends(server: &dyn TestServer) {
    server
        .write_file("lines.txt", b"first line\r\nsecond\r\n\r\nlast without end")
        .unwrap();
    server.write_file("lf.txt", b"unix\nlines\n").unwrap();
    let mut ftp = connect(server);
    ftp.login("", "").unwrap();
    let mut lines = Vec::new();
    let reply = ftp
        .retrlines("RETR lines.txt", |l| {
            lines.push(String::from_utf8_lossy(l).into_owned());
            Ok(())
        })
        .unwrap();
    assert!(is_transfer_ok(reply.code().get()), "{reply}");
    // Pure-FTPd sends a file in ASCII mode as Unix text, turning every LF into CRLF, so the
    // CRs already in the file become part of the line (ftplib sees the same).
    let expected: &[&str] = match server.kind() {
        ServerKind::PureFtpd => &["first line\r", "second\r", "\r", "last without end"],
        _ => &["first line", "second", "", "last without end"],
    };
    assert_eq!(lines, expected, "{}", server.kind());
    let mut lines = Vec::new();
    ftp.retrlines("RETR lf.txt", |l| {
        lines.push(String::from_utf8_lossy(l).into_owned());
        Ok(())
    })
    .unwrap();
    assert_eq!(lines, ["unix", "lines"], "{}", server.kind());
    // LIST through retrlines, as in ftplib's sample session
    let mut list = Vec::new();
    ftp.retrlines("LIST", |l| {
        list.push(String::from_utf8_lossy(l).into_owned());
        Ok(())
    })
    .unwrap();
    assert!(
        list.iter().any(|l| l.ends_with(" lines.txt")),
        "{}: {list:?}",
        server.kind()
    );
    // SIZE after TYPE A: the session switches back to binary itself
    assert_eq!(ftp.size("lf.txt").unwrap(), 11, "{}", server.kind());
}

fn storbinary_appe_and_rest(server: &dyn TestServer) {
    let data = payload(200_003);
    let mut ftp = login_user(server);
    let reply = ftp
        .storbinary("STOR up.bin", &mut &data[..], 4096, None)
        .unwrap();
    assert!(is_transfer_ok(reply.code().get()), "{reply}");
    assert!(
        server.read_file("up.bin").unwrap() == data,
        "{}: STOR bytes",
        server.kind()
    );
    // APPE
    ftp.storbinary("APPE up.bin", &mut &b"appended"[..], 8192, None)
        .unwrap();
    let mut expect = data.clone();
    expect.extend_from_slice(b"appended");
    assert!(
        server.read_file("up.bin").unwrap() == expect,
        "{}: APPE",
        server.kind()
    );
    // REST + STOR: resume an upload at an offset
    let half = data.len() / 2;
    ftp.storbinary("STOR resumed.bin", &mut &data[..half], 8192, None)
        .unwrap();
    ftp.storbinary(
        "STOR resumed.bin",
        &mut &data[half..],
        8192,
        Some(half as u64),
    )
    .unwrap();
    assert!(
        server.read_file("resumed.bin").unwrap() == data,
        "{}: REST + STOR",
        server.kind()
    );
    // an empty file
    ftp.storbinary("STOR empty.bin", &mut &b""[..], 8192, None)
        .unwrap();
    assert_eq!(server.read_file("empty.bin").unwrap(), b"");
    // a reader that fails: the transfer is aborted, the error returned, the session in step
    struct Failing(usize);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.0);
            buf[..n].fill(b'x');
            self.0 -= n;
            Ok(n)
        }
    }
    let err = ftp
        .storbinary("STOR failing.bin", &mut Failing(10_000), 4096, None)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    assert!(err.to_string().contains("disk on fire"), "{err}");
    assert_eq!(ftp.noop().unwrap().code().get(), 200, "{}", server.kind());
    // anonymous may not
    let mut anon = connect(server);
    anon.login("", "").unwrap();
    let err = anon
        .storbinary("STOR anon.bin", &mut &b"no"[..], 8192, None)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent, "{}: {err}", server.kind());
    assert!(!server.local_path("anon.bin").exists());
}

fn storlines_sends_crlf(server: &dyn TestServer) {
    let mut ftp = login_user(server);
    let text = "alpha\nbeta\r\ngamma\n";
    let reply = ftp
        .storlines("STOR text.txt", std::io::Cursor::new(text))
        .unwrap();
    assert!(is_transfer_ok(reply.code().get()), "{reply}");
    let stored = server.read_file("text.txt").unwrap();
    // On the wire every line ends in CRLF. Servers that honour TYPE A on upload store the
    // local convention (LF); vsftpd (ascii_upload_enable=NO) and libunftp (binary only)
    // store the wire bytes.
    let expected: &[u8] = match server.kind() {
        ServerKind::Vsftpd | ServerKind::Libunftp => b"alpha\r\nbeta\r\ngamma\r\n",
        _ => b"alpha\nbeta\ngamma\n",
    };
    assert_eq!(
        String::from_utf8_lossy(&stored),
        String::from_utf8_lossy(expected),
        "{}",
        server.kind()
    );
    // and back through retrlines
    let mut lines = Vec::new();
    ftp.retrlines("RETR text.txt", |l| {
        lines.push(String::from_utf8_lossy(l).into_owned());
        Ok(())
    })
    .unwrap();
    assert_eq!(lines, ["alpha", "beta", "gamma"], "{}", server.kind());
}

fn listings_nlst_dir_list_mlsd_mlst(server: &dyn TestServer) {
    server.write_file("a.txt", b"aaa").unwrap();
    server.write_file("b.bin", &payload(1234)).unwrap();
    server.write_file("sub/inner.txt", b"inner").unwrap();
    let mut ftp = connect(server);
    ftp.login("", "").unwrap();

    let mut names = ftp.nlst(None).unwrap();
    names.retain(|n| n != "." && n != "..");
    names.sort();
    assert_eq!(names, ["a.txt", "b.bin", "sub"], "{}", server.kind());
    let inner = ftp.nlst(Some("sub")).unwrap();
    assert!(
        inner.iter().any(|n| n.ends_with("inner.txt")),
        "{}: {inner:?}",
        server.kind()
    );

    let lines = ftp.dir(None).unwrap();
    for name in ["a.txt", "b.bin", "sub"] {
        assert!(
            lines.iter().any(|l| l.ends_with(&format!(" {name}"))),
            "{}: {name} in {lines:?}",
            server.kind()
        );
    }
    let entries = ftp.list(None).unwrap();
    let b = entries.iter().find(|e| e.name() == b"b.bin").unwrap();
    assert_eq!(b.size(), Some(1234));
    assert_eq!(b.kind(), EntryKind::File);
    let sub = entries.iter().find(|e| e.name() == b"sub").unwrap();
    assert_eq!(sub.kind(), EntryKind::Dir, "{}", server.kind());

    if server.kind() == ServerKind::Vsftpd {
        // vsftpd has no MLSD/MLST
        let err = ftp.mlsd(None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Permanent, "{err}");
        let err = ftp.mlst(Some("a.txt")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Permanent, "{err}");
    } else {
        let entries = ftp.mlsd(None).unwrap();
        let files: Vec<_> = entries.iter().filter(|e| !e.kind().is_dir()).collect();
        assert_eq!(files.len(), 2, "{}: {entries:?}", server.kind());
        let b = entries.iter().find(|e| e.name() == b"b.bin").unwrap();
        assert_eq!(b.size(), Some(1234), "{}", server.kind());
        assert!(b.mtime().is_some());
        let sub = entries.iter().find(|e| e.name() == b"sub").unwrap();
        assert_eq!(sub.kind(), EntryKind::Dir);
        let e = ftp.mlst(Some("b.bin")).unwrap();
        assert_eq!(e.size(), Some(1234), "{}: {e:?}", server.kind());
        assert!(
            e.name().ends_with(b"b.bin"),
            "{}: {:?}",
            server.kind(),
            e.name_lossy()
        );
    }
    // a missing directory: servers answer with an error or an empty listing
    match ftp.nlst(Some("no-such-dir")) {
        Ok(names) => assert!(names.is_empty(), "{}: {names:?}", server.kind()),
        Err(e) => assert!(
            matches!(e.kind(), ErrorKind::Permanent | ErrorKind::Temporary),
            "{}: {e}",
            server.kind()
        ),
    }
    // still in step
    assert_eq!(ftp.pwd().unwrap(), "/");
}

fn transfercmd_and_streams(server: &dyn TestServer) {
    let data = payload(100_000);
    server.write_file("t.bin", &data).unwrap();
    let mut ftp = login_user(server);
    // ntransfercmd: the stream and the announced size
    let (mut stream, size) = ftp.ntransfercmd("RETR t.bin", None).unwrap();
    assert_eq!(stream.direction(), Direction::Download);
    let announced = match server.kind() {
        ServerKind::Vsftpd | ServerKind::Proftpd => Some(100_000),
        _ => None,
    };
    assert_eq!(size, announced, "{}", server.kind());
    let mut got = Vec::new();
    stream.read_to_end(&mut got).unwrap();
    assert!(is_transfer_ok(stream.finish().unwrap().code().get()));
    assert!(got == data);
    // transfercmd for an upload
    let mut up = ftp.transfercmd("STOR t2.bin", None).unwrap();
    assert_eq!(up.direction(), Direction::Upload);
    up.write_all(&data[..5000]).unwrap();
    up.finish().unwrap();
    assert!(server.read_file("t2.bin").unwrap() == data[..5000]);
    // the streaming handles
    let mut w = ftp.stor_writer("w.bin").unwrap();
    for chunk in data.chunks(7777) {
        w.write_all(chunk).unwrap();
    }
    assert!(is_transfer_ok(w.finish().unwrap().code().get()));
    assert!(server.read_file("w.bin").unwrap() == data);
    let mut a = ftp.appe_writer("w.bin").unwrap();
    a.write_all(b"+tail").unwrap();
    a.finish().unwrap();
    assert!(server.read_file("w.bin").unwrap().ends_with(b"+tail"));
    let mut r = ftp.retr_reader("t.bin", Some(99_990)).unwrap();
    let mut tail = Vec::new();
    r.read_to_end(&mut tail).unwrap();
    r.finish().unwrap();
    assert!(tail == data[99_990..], "{}", server.kind());
    // a reader dropped after its end completes the transfer normally
    {
        let mut r = ftp.retr_reader("t.bin", None).unwrap();
        let mut all = Vec::new();
        r.read_to_end(&mut all).unwrap();
        assert_eq!(all.len(), data.len());
    }
    // finish() on an unread download reads it to its end
    let r = ftp.retr_reader("t.bin", None).unwrap();
    r.finish().unwrap();
    assert_eq!(ftp.pwd().unwrap(), "/");
    // a missing file: refused at once, or (libunftp) after a 150 when the data should flow
    let err = match ftp.retr_reader("missing", None) {
        Err(e) => e,
        Ok(r) => {
            assert_eq!(
                server.kind(),
                ServerKind::Libunftp,
                "a stream for a missing file"
            );
            r.finish().unwrap_err()
        }
    };
    assert_eq!(err.kind(), ErrorKind::Permanent, "{}: {err}", server.kind());
    assert_eq!(ftp.noop().unwrap().code().get(), 200);
}

/// An abort of a running download on every server is the conformance scenario
/// `abort_keeps_the_session_in_step`; these are the ways only ftp-blocking has to stop a
/// transfer: a failing callback (for ftp-mio still pending, issue 13 item 5), a dropped
/// reader, an upload stream aborted halfway.
fn aborts_through_callbacks_and_streams(server: &dyn TestServer) {
    let data = payload(16 * 1024 * 1024);
    server.write_file("huge.bin", &data).unwrap();
    let mut ftp = login_user(server);
    let mut small = Vec::new();
    ftp.retrbinary(
        "RETR huge.bin",
        |b| {
            small.extend_from_slice(b);
            if small.len() > 50_000 {
                Err(std::io::Error::other("enough"))
            } else {
                Ok(())
            }
        },
        8192,
        None,
    )
    .unwrap_err();
    assert_eq!(ftp.pwd().unwrap(), "/", "{}", server.kind());
    // dropping an unfinished reader aborts too
    {
        let mut r = ftp.retr_reader("huge.bin", None).unwrap();
        let mut buf = [0u8; 10];
        r.read_exact(&mut buf).unwrap();
    }
    assert_eq!(ftp.pwd().unwrap(), "/", "{}", server.kind());
    // an upload aborted halfway: whatever the server kept, the session stays in step
    let mut w = ftp.stor_writer("partial.bin").unwrap();
    w.write_all(&data[..300_000]).unwrap();
    let reply = w.abort().unwrap();
    if server.kind() == ServerKind::PureFtpd {
        // Pure-FTPd answers an aborted upload with `426 Transfer aborted` then `451 Transfer
        // aborted`: both replies are read (the session is in step) and the abort returns the
        // reply that followed the 426, as ftplib's abort does.
        assert!(matches!(reply.code().get(), 226 | 451), "{reply}");
    } else {
        assert!(reply.code().get() / 100 == 2, "{}: {reply}", server.kind());
    }
    assert_eq!(ftp.pwd().unwrap(), "/", "{}", server.kind());
    match ftp.size("partial.bin") {
        Ok(n) => assert!(n <= 300_000, "{}: {n}", server.kind()),
        // libunftp stores uploads from an asynchronous task: right after the abort the file
        // may not exist yet (SIZE answered in step, with 550).
        Err(e) => {
            assert_eq!(server.kind(), ServerKind::Libunftp, "{e}");
            assert_eq!(e.code(), Some(550), "{e}");
        }
    }
}

fn many_small_files_one_connection(server: &dyn TestServer) {
    for i in 0..30 {
        server
            .write_file(&format!("s/{i}.txt"), format!("file {i}\n").as_bytes())
            .unwrap();
    }
    let mut ftp = connect(server);
    ftp.login("", "").unwrap();
    ftp.cwd("s").unwrap();
    for i in 0..30 {
        let mut got = Vec::new();
        ftp.retrbinary(
            &format!("RETR {i}.txt"),
            |b| {
                got.extend_from_slice(b);
                Ok(())
            },
            8192,
            None,
        )
        .unwrap();
        assert_eq!(got, format!("file {i}\n").as_bytes());
    }
    ftp.quit().unwrap();
}

/// What the 1000-files benchmark relies on (checked here, not timed): after the first
/// transfer, each file costs exactly two commands, `EPSV` and `RETR`; `TYPE I` is not resent.
fn per_file_commands_are_epsv_and_retr(server: &dyn TestServer) {
    for i in 0..20 {
        server
            .write_file(&format!("rt/{i}"), format!("{i}").as_bytes())
            .unwrap();
    }
    let mut ftp = connect(server);
    ftp.login("", "").unwrap();
    ftp.cwd("rt").unwrap();
    ftp.retrbinary("RETR 0", |_| Ok(()), 8192, None).unwrap();
    let ((), log) = common::capture_log(|| {
        for i in 1..20 {
            ftp.retrbinary(&format!("RETR {i}"), |_| Ok(()), 8192, None)
                .unwrap();
        }
    });
    let sent: Vec<&str> = log
        .iter()
        .filter_map(|l| l.strip_prefix("*put* "))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(sent.len(), 2 * 19, "{}: {sent:?}", server.kind());
    assert!(
        sent.chunks(2).all(|c| c == ["EPSV", "RETR"]),
        "{}: {sent:?}",
        server.kind()
    );
}

server_tests!(
    per_file_commands_are_epsv_and_retr,
    welcome_and_anonymous_login,
    login_errors_and_named_anonymous,
    quit_then_everything_is_closed,
    sendcmd_voidcmd_and_error_classes,
    feat_syst_stat,
    retrbinary_with_blocksize_and_rest,
    retrlines_strips_line_ends,
    storbinary_appe_and_rest,
    storlines_sends_crlf,
    listings_nlst_dir_list_mlsd_mlst,
    transfercmd_and_streams,
    aborts_through_callbacks_and_streams,
    many_small_files_one_connection,
);

// ---- IPv6: EPSV and EPRT ------------------------------------------------------------------

fn ipv6_epsv_and_eprt(server: &dyn TestServer) {
    assert!(server.addr().is_ipv6());
    let data = payload(70_000);
    server.write_file("six.bin", &data).unwrap();
    let mut ftp = login_user(server);
    assert!(ftp.local_addr().unwrap().is_ipv6());
    for passive in [true, false] {
        ftp.set_pasv(passive);
        if !passive && server.kind() == ServerKind::Libunftp {
            // libunftp 0.24 has PORT but no EPRT, and PORT cannot name an IPv6 address
            let err = ftp
                .retrbinary("RETR six.bin", |_| Ok(()), 8192, None)
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Permanent, "{err}");
            assert_eq!(err.code(), Some(500), "{err}");
            continue;
        }
        let mut got = Vec::new();
        ftp.retrbinary(
            "RETR six.bin",
            |b| {
                got.extend_from_slice(b);
                Ok(())
            },
            8192,
            None,
        )
        .unwrap_or_else(|e| panic!("{} passive={passive}: {e}", server.kind()));
        assert!(got == data, "{} passive={passive}", server.kind());
        let name = format!("six-up-{passive}.bin");
        ftp.storbinary(&format!("STOR {name}"), &mut &data[..], 8192, None)
            .unwrap();
        assert!(server.read_file(&name).unwrap() == data);
        let names = ftp.nlst(None).unwrap();
        assert!(names.contains(&name), "{names:?}");
    }
    ftp.quit().unwrap();
}

mod ipv6 {
    use super::*;

    #[test]
    fn libunftp() {
        let server = LocalServer::builder()
            .ipv6()
            .start()
            .expect("libunftp on ::1");
        ipv6_epsv_and_eprt(&server);
    }

    fn system(kind: ServerKind) {
        let server = SystemServer::builder(kind)
            .ipv6()
            .start()
            .unwrap_or_else(|e| panic!("{kind} on ::1: {e}"));
        ipv6_epsv_and_eprt(&server);
    }

    #[test]
    #[ignore = "needs system FTP servers: run tests/run-all.sh"]
    fn vsftpd() {
        system(ServerKind::Vsftpd);
    }
    #[test]
    #[ignore = "needs system FTP servers: run tests/run-all.sh"]
    fn proftpd() {
        system(ServerKind::Proftpd);
    }
    #[test]
    #[ignore = "needs system FTP servers: run tests/run-all.sh"]
    fn pure_ftpd() {
        system(ServerKind::PureFtpd);
    }
    #[test]
    #[ignore = "needs system FTP servers: run tests/run-all.sh"]
    fn pyftpdlib() {
        system(ServerKind::Pyftpdlib);
    }
}
