//! Issue 16's ergonomic calls of ftp-blocking, each against a scripted peer: `entries`
//! (MLSD where the server offers it, else LIST, decided by the session) and listing calls
//! that take a bare `None`.

use ftp_blocking::Ftp;
use ftp_tests::fault::{listing, reply, well_behaved, FaultServer, Script};

const MLSD_LINE: &[u8] = b"type=file;size=5;modify=20240102030405; hello.txt";
const LIST_LINE: &[u8] = b"-rw-r--r--    1 0        0               5 Jan 02  2024 hello.txt";

fn server(feat: &str) -> FaultServer {
    let script: Script = well_behaved()
        .on("FEAT", reply(feat))
        .on("MLSD", listing(&[MLSD_LINE]))
        .on("LIST", listing(&[LIST_LINE]));
    FaultServer::start(script)
}

fn verbs(server: &FaultServer) -> Vec<String> {
    server
        .commands()
        .iter()
        .map(|c| c.split(' ').next().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn entries_use_mlsd_where_feat_offers_mlst() {
    let server = server("211-Features:\n EPSV\n MLST type*;size*;modify*;\n211 End");
    let mut ftp = Ftp::connect(server.addr()).unwrap();
    ftp.login("u", "p").unwrap();
    let entries = ftp.entries(None).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].name(), b"hello.txt");
    assert_eq!(entries[0].size(), Some(5));
    let v = verbs(&server);
    assert!(
        v.contains(&"MLSD".to_owned()) && !v.contains(&"LIST".to_owned()),
        "{v:?}"
    );
}

#[test]
fn entries_fall_back_to_list_without_mlst() {
    let server = server("211-Features:\n EPSV\n SIZE\n211 End");
    let mut ftp = Ftp::connect(server.addr()).unwrap();
    ftp.login("u", "p").unwrap();
    let entries = ftp.entries("some/dir").unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].name(), b"hello.txt");
    assert_eq!(entries[0].size(), Some(5));
    let sent = server.commands();
    assert!(sent.iter().any(|c| c == "LIST some/dir"), "{sent:?}");
    assert!(!sent.iter().any(|c| c.starts_with("MLSD")), "{sent:?}");
}

#[test]
fn listing_calls_take_a_bare_none() {
    let server = server("211-Features:\n EPSV\n211 End");
    let mut ftp = Ftp::connect(server.addr()).unwrap();
    ftp.login("u", "p").unwrap();
    // `None` without `None::<&str>`, a `&str`, and raw bytes for a name that is not UTF-8.
    assert_eq!(ftp.list(None).unwrap().len(), 1);
    assert_eq!(ftp.list("dir").unwrap().len(), 1);
    assert_eq!(ftp.list(&b"d\xe9j\xe0"[..]).unwrap().len(), 1);
    assert_eq!(ftp.mlsd(None).unwrap().len(), 1);
    let raw = server.raw_commands();
    assert!(raw.iter().any(|c| c == b"LIST d\xe9j\xe0"), "{raw:?}");
}

/// A one-connection TCP forwarder, standing in for a proxy: connections to its address
/// reach `to`.
fn forwarder(to: std::net::SocketAddr) -> std::net::SocketAddr {
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (client, _) = listener.accept().unwrap();
        let server = TcpStream::connect(to).unwrap();
        let pipe = |mut a: TcpStream, mut b: TcpStream| {
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut a, &mut b);
                let _ = b.shutdown(std::net::Shutdown::Write);
            })
        };
        pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
        pipe(server, client);
    });
    addr
}

#[test]
fn a_control_stream_of_your_own_and_a_data_connector() {
    use ftp_tests::{LocalServer, TestServer, PASSWORD, USER};
    use std::sync::{Arc, Mutex};

    let server = LocalServer::start();
    server.write_file("hello.txt", b"hello").unwrap();
    // The control connection goes through the "proxy"; the session is told the server.
    let proxy = forwarder(server.addr());
    let stream = std::net::TcpStream::connect(proxy).unwrap();
    let mut ftp = Ftp::connect_stream(stream, server.addr(), Default::default()).unwrap();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    ftp.set_data_connector(move |addr, timeout| {
        log.lock().unwrap().push(addr);
        std::net::TcpStream::connect_timeout(&addr, timeout)
    })
    .unwrap();
    ftp.login(USER, PASSWORD).unwrap();
    let mut got = Vec::new();
    ftp.retrbinary(
        "RETR hello.txt",
        |b| {
            got.extend_from_slice(b);
            Ok(())
        },
        8192,
        None,
    )
    .unwrap();
    assert_eq!(got, b"hello");
    assert_eq!(ftp.nlst(None).unwrap(), ["hello.txt"]);
    let asked = asked.lock().unwrap();
    assert_eq!(
        asked.len(),
        2,
        "one data connection per transfer: {asked:?}"
    );
    // Data goes to the server's IP, never to the proxy's address.
    assert!(asked
        .iter()
        .all(|a| a.ip() == server.addr().ip() && *a != proxy));
    ftp.quit().unwrap();
}
