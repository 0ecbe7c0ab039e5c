//! The examples of ftp-mio's docs (the crate docs' loop, the `Sessions` example), run against
//! the in-process server with their results checked. The doc examples themselves are `no_run`
//! against a placeholder address, since users of ftp-mio do not have this crate's server;
//! keep the two in step when either changes.

use ftp_mio::core::{Config, Outcome};
use ftp_mio::Sessions;
use ftp_tests::{LocalServer, TestServer};
use mio::{Events, Poll, Token};

/// `ftp_mio`'s crate docs, "The loop".
#[test]
fn crate_docs_loop() {
    let server = LocalServer::start();
    server
        .write_file("pub/hello.txt", b"hello, world\n")
        .unwrap();

    let mut poll = Poll::new().unwrap();
    let mut ftp = Sessions::new(poll.registry(), Token(0), 16).unwrap();
    let (s, _greeting) = ftp.connect(server.addr(), Config::default()).unwrap();
    ftp.login(s, "anonymous", "").unwrap();
    ftp.cwd(s, "pub").unwrap();
    let listing = ftp.nlst(s, None).unwrap();
    let up = ftp
        .store(s, "copy.txt", &b"not allowed for anonymous"[..])
        .unwrap();
    ftp.quit(s).unwrap();

    let mut events = Events::with_capacity(128);
    let mut completions = 0;
    while !ftp.is_empty() {
        ftp_tests::poll_once(&mut poll, &mut events, ftp.poll_timeout());
        for event in events.iter() {
            ftp.handle_event(event);
        }
        ftp.handle_timeouts();
        while let Some(done) = ftp.poll_completion() {
            completions += 1;
            if done.op == listing {
                assert_eq!(done.data.unwrap(), b"hello.txt\n");
            } else if done.op == up {
                // the server refused (anonymous is read-only): a typed error, the session goes on
                let err = done.result.unwrap_err();
                assert_eq!(err.reply().unwrap().code().get(), 550);
            } else {
                assert!(done.result.is_ok());
            }
        }
    }
    // greeting, login, cwd, nlst, store, quit
    assert_eq!(completions, 6);
    assert!(!server.root().join("pub/copy.txt").exists());
}

/// The example of `ftp_mio::Sessions`: two sessions, one download each.
#[test]
fn sessions_docs_two_downloads() {
    let server = LocalServer::start();
    server.write_file("a.txt", b"alpha").unwrap();
    server.write_file("b.txt", b"bravo!").unwrap();

    let mut poll = Poll::new().unwrap();
    let mut ftp = Sessions::new(poll.registry(), Token(100), 8).unwrap();
    let mut waiting = Vec::new();
    for name in ["a.txt", "b.txt"] {
        let (s, _greeting) = ftp.connect(server.addr(), Config::default()).unwrap();
        ftp.login(s, "anonymous", "").unwrap();
        waiting.push(ftp.retrieve_to_vec(s, name, 1 << 20).unwrap());
        ftp.quit(s).unwrap();
    }

    let mut events = Events::with_capacity(64);
    let mut files = Vec::new();
    while !ftp.is_empty() {
        ftp_tests::poll_once(&mut poll, &mut events, ftp.poll_timeout());
        for event in events.iter() {
            ftp.handle_event(event);
        }
        ftp.handle_timeouts();
        while let Some(done) = ftp.poll_completion() {
            let outcome = done.result.expect("no operation fails here");
            if waiting.contains(&done.op) {
                assert!(matches!(outcome, Outcome::Transferred { .. }));
                files.push(done.data.unwrap());
            }
        }
    }
    files.sort();
    assert_eq!(files, [b"alpha".to_vec(), b"bravo!".to_vec()]);
}
