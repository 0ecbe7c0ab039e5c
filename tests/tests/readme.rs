//! The code of the READMEs, compiled and run.
//!
//! Every ```` ```rust ```` block of `README.md`, `ftp-core/README.md`, `ftp-blocking/README.md`
//! and `ftp-mio/README.md` must be, character for character, one of the bodies marked below
//! with `// README-BEGIN name` and `// README-END` (indentation removed), and every marked body
//! must appear in some README. Each body is a set of items (`use` lines and a function) that a
//! test next to it calls against the in-process server, so a README snippet that stops
//! compiling or stops working fails `cargo test`; `readme_blocks_are_the_tested_ones` fails
//! when a README and this file drift apart, and prints the block to paste.

use std::path::{Path, PathBuf};

use ftp_tests::{LocalServer, TestServer};

/// The tokio example's client, as a user who copies `client.rs` into a crate has it.
#[path = "../../ftp-core/examples/tokio_client/client.rs"]
#[allow(dead_code)]
mod client;

mod tokio_snippet {
    use super::*;

    // README-BEGIN tokio
    use crate::client::Client; // ftp-core/examples/tokio_client/client.rs, copied into your crate
    use ftp_sansio::session::Config;
    use ftp_sansio::tls::TlsConfig;

    /// Explicit FTPS, a typed MLSD listing, a download into any `AsyncWrite` and an upload
    /// from any `AsyncRead`, on tokio.
    async fn sync_readme(
        addr: &str,
        host: &str,
        (user, password): (&str, &str),
        tls: &TlsConfig,
    ) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        let (mut ftp, _welcome) = Client::connect(addr, Config::default()).await?;
        ftp.auth_tls(tls, host).await?; // AUTH TLS before the password goes out
        ftp.login(user, password).await?;
        ftp.prot_p().await?; // protected data connections, resuming the control session
        for entry in ftp.mlsd(None).await? {
            println!("{} {:?}", entry.name_lossy(), entry.size());
        }
        let mut readme = Vec::new(); // or a tokio::fs::File
        ftp.retrieve("README", &mut readme, None).await?; // Some(offset) resumes (REST)
        ftp.store("copy-of-README", &mut &readme[..]).await?;
        ftp.quit().await?;
        Ok(readme)
    }
    // README-END

    #[test]
    fn tokio_snippet_runs_over_ftps() {
        use ftp_tests::tls::{LocalFtps, LIBUNFTP_AUTH_RACE};
        let ftps = LocalFtps::start();
        ftps.server.write_file("README", b"read me\n").unwrap();
        let tls = TlsConfig::builder()
            .add_root_pem(ftps.cert.cert_pem())
            .unwrap()
            .build()
            .unwrap();
        let addr = format!("localhost:{}", ftps.server.addr().port());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut tries = 0;
        let readme = loop {
            let login = (ftp_tests::USER, ftp_tests::PASSWORD);
            match rt.block_on(sync_readme(&addr, "localhost", login, &tls)) {
                Err(e) if tries < 5 && e.to_string().contains(LIBUNFTP_AUTH_RACE) => tries += 1,
                other => break other.unwrap(),
            }
        };
        assert_eq!(readme, b"read me\n");
        assert_eq!(
            std::fs::read(ftps.server.local_path("copy-of-README")).unwrap(),
            b"read me\n"
        );
    }
}

mod blocking {
    use super::*;

    // README-BEGIN blocking
    use ftp_blocking::Ftp;
    use std::io::Write;

    /// The sample session of ftplib's documentation, plus typed MLSD facts.
    fn fetch_readme(addr: &str) -> Result<Vec<u8>, ftp_blocking::Error> {
        let mut ftp = Ftp::connect(addr)?; // "host:port", e.g. "ftp.example.com:21"
        ftp.login("", "")?; // anonymous / anonymous@
        ftp.cwd("pub")?;
        ftp.retrlines("LIST", |line| {
            // one call per line, CRLF stripped
            println!("{}", String::from_utf8_lossy(line));
            Ok(())
        })?;
        let mut readme = Vec::new(); // or a std::fs::File: any io::Write
        ftp.retrbinary("RETR README", |block| readme.write_all(block), 8192, None)?;
        for entry in ftp.mlsd(None)? {
            let name = entry.name_lossy();
            println!("{name} {:?} {:?}", entry.kind(), entry.size()); // typed facts
        }
        ftp.quit()?;
        Ok(readme)
    }
    // README-END

    #[test]
    fn blocking_snippet_downloads_the_file() {
        let server = LocalServer::start();
        server.write_file("pub/README", b"read me\n").unwrap();
        server.write_file("pub/other.txt", b"x").unwrap();
        let readme = fetch_readme(&server.addr().to_string()).unwrap();
        assert_eq!(readme, b"read me\n");
    }

    #[test]
    fn blocking_snippet_reports_a_missing_file() {
        let server = LocalServer::start();
        server.write_file("pub/other.txt", b"x").unwrap();
        let err = fetch_readme(&server.addr().to_string()).unwrap_err();
        assert_eq!(err.kind(), ftp_blocking::ErrorKind::Permanent, "{err}");
    }
}

mod ftps {
    use super::*;
    use ftp_tests::tls::{LocalFtps, LIBUNFTP_AUTH_RACE};

    // README-BEGIN ftps
    use ftp_blocking::{tls::TlsConfig, Ftp};

    /// Explicit FTPS to a server whose certificate is signed by your own CA (or self-signed).
    fn names_over_tls(host: &str, port: u16, ca_pem: &[u8]) -> ftp_blocking::Result<Vec<String>> {
        let tls = TlsConfig::builder() // webpki roots, plus yours:
            .add_root_pem(ca_pem)?
            .build()?;
        let mut ftp = Ftp::connect_tls(host, port, &tls)?; // AUTH TLS before anything else
        ftp.login("anonymous", "")?; // user and password go over TLS
        ftp.prot_p()?; // PBSZ 0 + PROT P: data connections in TLS too
        let names = ftp.nlst(None)?;
        ftp.quit()?;
        Ok(names)
    }
    // README-END

    #[test]
    fn ftps_snippet_lists_over_tls() {
        let ftps = LocalFtps::start();
        ftps.server.write_file("a.txt", b"alpha").unwrap();
        let port = ftps.server.addr().port();
        // libunftp sometimes reads the ClientHello as a command (see LIBUNFTP_AUTH_RACE): retry
        // that, and only that.
        let mut tries = 0;
        let names = loop {
            match names_over_tls("localhost", port, ftps.cert.cert_pem()) {
                Err(e) if tries < 5 && e.to_string().contains(LIBUNFTP_AUTH_RACE) => tries += 1,
                other => break other.unwrap(),
            }
        };
        assert_eq!(names, ["a.txt"]);
    }

    #[test]
    fn ftps_snippet_refuses_an_untrusted_certificate() {
        let ftps = LocalFtps::start();
        let other = ftp_tests::tls::TestCert::localhost();
        let port = ftps.server.addr().port();
        let err = names_over_tls("localhost", port, other.cert_pem()).unwrap_err();
        assert_eq!(err.kind(), ftp_blocking::ErrorKind::Tls, "{err}");
    }
}

mod many {
    use super::*;

    // README-BEGIN mio
    use ftp_mio::{core::Config, Sessions};
    use mio::{Events, Poll, Token};
    use std::net::SocketAddr;

    /// The names in the server's root directory, with ftp-mio in your own poll loop.
    fn list_names(addr: SocketAddr) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        let mut poll = Poll::new()?;
        let mut ftp = Sessions::new(poll.registry(), Token(0), 16)?; // tokens 0..16 are ftp's
        let (s, _greeting) = ftp.connect(addr, Config::default())?;
        ftp.login(s, "anonymous", "")?; // operations are queued, and run in order
        let listing = ftp.nlst(s, None)?;
        ftp.quit(s)?; // the session ends after QUIT: without it the loop below never would
        let mut names = Vec::new();
        let mut events = Events::with_capacity(128);
        while !ftp.is_empty() {
            if let Err(e) = poll.poll(&mut events, ftp.poll_timeout()) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return Err(e.into()); // a signal (EINTR) only ends the wait early
                }
            }
            for event in events.iter() {
                ftp.handle_event(event); // events of your own tokens are yours to handle
            }
            ftp.handle_timeouts();
            while let Some(done) = ftp.poll_completion() {
                done.result?; // exactly one completion per operation
                if done.op == listing {
                    names = done.data.unwrap_or_default();
                }
            }
        }
        Ok(names)
    }
    // README-END

    #[test]
    fn mio_snippet_lists_and_ends() {
        let server = LocalServer::start();
        server.write_file("a.txt", b"alpha").unwrap();
        server.write_file("b.txt", b"bravo").unwrap();
        let names = list_names(server.addr()).unwrap();
        let mut names: Vec<&[u8]> = names
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        names.sort();
        assert_eq!(names, [&b"a.txt"[..], b"b.txt"]);
    }

    #[test]
    fn mio_snippet_reports_a_refused_connection() {
        let server = LocalServer::start();
        let addr = server.addr();
        drop(server); // nothing listens there any more
        assert!(list_names(addr).is_err());
    }
}

mod sansio {
    use super::*;

    // README-BEGIN sansio
    use ftp_sansio::session::{Config, Event, OpError, Operation, Outcome, Session};
    use std::io::{self, Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::time::{Duration, Instant};

    /// A small blocking driver for operations without a data connection: writes what the
    /// session asks for, feeds it what arrives, until the operation in flight completes.
    fn run(s: &mut Session, tcp: &mut TcpStream) -> io::Result<Result<Outcome, OpError>> {
        let mut buf = [0; 4096];
        loop {
            let out = s.poll_transmit(); // control bytes to send
            let n = out.len();
            tcp.write_all(out)?;
            s.consume_transmit(n);
            while let Some(event) = s.poll_event() {
                // Event::Data and Event::Tls ask for data connections and TLS: see the docs
                // of ftp_sansio::session for a driver that carries them out.
                if let Event::Completed(result) = event {
                    return Ok(result); // exactly one per operation
                }
            }
            let now = Instant::now();
            let wait = s.poll_timeout().map(|t| t.saturating_duration_since(now));
            if wait == Some(Duration::ZERO) {
                s.handle_timeout(now);
                continue;
            }
            tcp.set_read_timeout(wait)?;
            match tcp.read(&mut buf) {
                Ok(0) => s.handle_eof(Instant::now()),
                Ok(n) => s.handle_input(Instant::now(), &buf[..n]),
                Err(e) => match e.kind() {
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                        s.handle_timeout(Instant::now())
                    }
                    _ => return Err(e),
                },
            }
        }
    }

    /// Logs in anonymously and returns the working directory (`PWD`).
    fn pwd(addr: SocketAddr) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        let mut tcp = TcpStream::connect(addr)?;
        let mut s = Session::new(Config::default(), addr, Instant::now()); // greeting awaited
        run(&mut s, &mut tcp)??;
        let login = Operation::Login {
            user: "anonymous".into(),
            password: String::new(),
            account: None,
        };
        s.start(Instant::now(), login)?;
        run(&mut s, &mut tcp)??;
        s.start(Instant::now(), Operation::Pwd)?;
        let Outcome::Path(dir) = run(&mut s, &mut tcp)?? else {
            return Err("PWD gave no path".into());
        };
        s.start(Instant::now(), Operation::Quit)?;
        run(&mut s, &mut tcp)??;
        Ok(dir)
    }
    // README-END

    #[test]
    fn sansio_snippet_logs_in_and_asks_pwd() {
        let server = LocalServer::start();
        assert_eq!(pwd(server.addr()).unwrap(), b"/");
    }
}

/// The files whose ```` ```rust ```` blocks must be tested bodies.
const READMES: [&str; 4] = [
    "README.md",
    "ftp-core/README.md",
    "ftp-blocking/README.md",
    "ftp-mio/README.md",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Removes the indentation all non-empty lines share.
fn dedent(lines: &[&str]) -> String {
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out = String::new();
    for line in lines {
        out.push_str(line.get(indent..).unwrap_or(""));
        out.push('\n');
    }
    out
}

/// The marked bodies of this file: (name, body).
fn marked_bodies() -> Vec<(String, String)> {
    let source = std::fs::read_to_string(workspace_root().join("tests/tests/readme.rs")).unwrap();
    let mut bodies = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in source.lines() {
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix("// README-BEGIN ") {
            assert!(
                current.is_none(),
                "README-BEGIN {name} inside another marked body"
            );
            current = Some((name.to_string(), Vec::new()));
        } else if trimmed == "// README-END" {
            let (name, lines) = current.take().expect("README-END without README-BEGIN");
            bodies.push((name, dedent(&lines)));
        } else if let Some((_, lines)) = current.as_mut() {
            lines.push(line);
        }
    }
    assert!(current.is_none(), "README-BEGIN without README-END");
    bodies
}

/// The ```` ```rust ```` blocks of a Markdown file (any info string that starts with `rust`),
/// with the line number of their fence.
fn rust_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        match current.as_mut() {
            None if line.starts_with("```rust") => current = Some((i + 1, String::new())),
            None => {}
            Some(_) if line.starts_with("```") => blocks.push(current.take().unwrap()),
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    assert!(current.is_none(), "unclosed code block");
    blocks
}

#[test]
fn readme_blocks_are_the_tested_ones() {
    let bodies = marked_bodies();
    let names: Vec<&str> = bodies.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["tokio", "blocking", "ftps", "mio", "sansio"]);
    let mut used = vec![false; bodies.len()];
    let mut problems = Vec::new();
    for readme in READMES {
        let text = std::fs::read_to_string(workspace_root().join(readme)).unwrap();
        for (line, block) in rust_blocks(&text) {
            match bodies.iter().position(|(_, body)| *body == block) {
                Some(i) => used[i] = true,
                None => problems.push(format!(
                    "{readme}:{line}: this rust block is none of the tested bodies of \
                     tests/tests/readme.rs; move it there (between README-BEGIN/README-END, with \
                     a test) or remove it:\n{block}"
                )),
            }
        }
    }
    for ((name, body), used) in bodies.iter().zip(used) {
        if !used {
            problems.push(format!(
                "the body `{name}` is in no README; it should be:\n{body}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn the_block_scanner_sees_every_rust_block() {
    let md = "text\n```rust\nfn a() {}\n```\n```sh\nls\n```\n```rust,ignore\nb\n\n```\n";
    assert_eq!(
        rust_blocks(md),
        [(2, "fn a() {}\n".to_string()), (8, "b\n\n".to_string())]
    );
    assert_eq!(dedent(&["    a", "", "      b"]), "a\n\n  b\n");
}
