//! Issue 16: errors say what failed (operation, argument, server), never a password, with a
//! readable `Debug` and a `source()` chain that does not repeat the message.

use std::error::Error as _;

use ftp_blocking::{ErrorKind, Ftp};
use ftp_tests::{LocalServer, TestServer, PASSWORD, USER};

fn logged_in(server: &LocalServer) -> Ftp {
    let mut ftp = Ftp::connect(server.addr()).unwrap();
    ftp.login(USER, PASSWORD).unwrap();
    ftp
}

/// Every message in `e`'s source chain, outermost first.
fn chain(e: &ftp_blocking::Error) -> Vec<String> {
    let mut v = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        v.push(s.to_string());
        cur = s.source();
    }
    v
}

#[test]
fn a_refused_command_names_the_command_its_path_and_the_server() {
    let server = LocalServer::start();
    let mut ftp = logged_in(&server);
    let mut sink = Vec::new();
    let e = ftp
        .retrbinary(
            "RETR no/such-file.txt",
            |b| {
                sink.extend_from_slice(b);
                Ok(())
            },
            8192,
            None,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Permanent);
    let text = e.to_string();
    let want = format!(
        "RETR no/such-file.txt on {}: permanent failure: 5",
        server.addr()
    );
    assert!(text.starts_with(&want), "{text}");
    assert_eq!(
        e.context(),
        Some(&*format!("RETR no/such-file.txt on {}", server.addr()))
    );
    // The chain does not print the same sentence twice.
    let c = chain(&e);
    for (i, a) in c.iter().enumerate() {
        for b in &c[i + 1..] {
            assert!(!a.contains(b.as_str()), "repeated in the chain: {c:?}");
        }
    }
    // Debug (what `fn main() -> Result` prints) is text, not bytes.
    let debug = format!("{e:?}");
    assert!(debug.contains("RETR no/such-file.txt"), "{debug}");
    assert!(!debug.contains("raw: ["), "{debug}");
    assert!(!debug.contains("[53, 53, 48"), "{debug}");
}

#[test]
fn a_failed_login_never_shows_the_password() {
    let server = LocalServer::start();
    let mut ftp = Ftp::connect(server.addr()).unwrap();
    let e = ftp.login(USER, "not-the-password-xyz").unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(
        text.contains(&format!("USER {USER} / PASS ********")),
        "{text}"
    );
    assert!(!text.contains("not-the-password-xyz"), "{text}");
}

#[test]
fn a_refused_connection_names_the_address() {
    // A port nothing listens on: bind one, note it, close it.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let e = Ftp::connect(addr).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    let text = e.to_string();
    assert!(text.starts_with(&format!("connect to {addr}: ")), "{text}");
    assert!(e.io_error().is_some());
    let c = chain(&e);
    assert_eq!(
        c.len(),
        1,
        "the OS error is in the message, not repeated: {c:?}"
    );
}
