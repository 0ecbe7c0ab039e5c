//! The sample session of Python's ftplib documentation, in Rust, with the protocol visible.
//!
//! ```text
//! cargo run -p ftp-blocking --example demo                       # a local server, started here
//! cargo run -p ftp-blocking --example demo -- ftp://user:pass@127.0.0.1:2121/pub/
//! ```
//!
//! Without an argument the demo starts an FTP server (libunftp, in this process) on
//! 127.0.0.1 over a temporary folder holding a few sample files, then plays: connect,
//! anonymous login, `LIST`, `RETR README`, `QUIT`. The control connection is traced on
//! stderr (`set_debuglevel(2)`: `*put*` lines sent, `*get*` lines received, passwords
//! masked); the listing and the file go to stdout.
//!
//! With `ftp://[user[:password]@]host[:port][/path]` it talks to that server instead (the URL
//! is read by `ftp_sansio::url`, RFC 1738): it changes into every directory segment of the
//! path with `CWD`, lists it, and fetches the last segment, or `README` when the URL ends
//! with `/`. So `/dir/` lists `dir` and fetches `dir/README`; `/dir/file` fetches `dir/file`.

use std::io::Write;
use std::process::ExitCode;

use ftp_blocking::Ftp;
use ftp_tests::{LocalServer, TestServer};

mod common;
use common::init_logger;
use ftp_blocking::ftp_sansio::url::FtpUrl;

const README: &str = "\
This is the README of the ftp-rs demo server.

It was fetched with RETR README by ftp_blocking::Ftp::retrbinary, the Rust
counterpart of Python's ftplib.FTP.retrbinary.
";

/// Starts the in-process server with the sample files.
fn local_server() -> std::io::Result<LocalServer> {
    let server = LocalServer::builder().start()?;
    server.write_file("README", README.as_bytes())?;
    server.write_file("INDEX", b"README\npub/hello.txt\npub/numbers.bin\n")?;
    server.write_file("pub/hello.txt", b"hello, world\n")?;
    let numbers: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    server.write_file("pub/numbers.bin", &numbers)?;
    Ok(server)
}

fn run(url: &FtpUrl) -> ftp_blocking::Result<()> {
    // >>> ftp = FTP('ftp.cwi.nl')
    let mut ftp = Ftp::new();
    ftp.set_debuglevel(2);
    ftp.connect_host(url.host(), Some(url.port()))?;
    // >>> ftp.login()                  (a URL without a user: "" and "", i.e. anonymous)
    let (user, password) = url.credentials();
    ftp.login(user, password)?;

    // RFC 1738: every directory segment of the URL is one CWD step; the last segment, when
    // the URL does not end in `/`, is the file to fetch (README otherwise).
    for step in url.directory() {
        ftp.cwd(step)?;
    }
    let file = url.file_name().unwrap_or("README");
    // >>> ftp.retrlines('LIST')
    let mut out = std::io::stdout().lock();
    ftp.retrlines("LIST", |line| {
        out.write_all(line)?;
        out.write_all(b"\n")
    })?;
    // >>> ftp.retrbinary('RETR README', open('README', 'wb').write)
    let mut contents = Vec::new();
    let reply = ftp.retrbinary(
        &format!("RETR {file}"),
        |block| {
            contents.extend_from_slice(block);
            Ok(())
        },
        8192,
        None,
    )?;
    writeln!(out, "--- {file} ({} bytes) ---", contents.len())?;
    out.write_all(&contents)?;
    writeln!(out, "--- {reply} ---")?;
    // >>> ftp.quit()
    ftp.quit()?;
    Ok(())
}

fn main() -> ExitCode {
    init_logger();
    let arg = std::env::args().nth(1);
    let (url, _server) = match arg.as_deref() {
        Some("-h" | "--help") => {
            eprintln!("usage: demo [ftp://[user[:password]@]host[:port][/dir/][file]]   (file: README by default)");
            return ExitCode::SUCCESS;
        }
        Some(url) => match FtpUrl::parse(url) {
            Ok(u) => (u, None),
            Err(e) => {
                eprintln!("demo: {e}");
                return ExitCode::from(2);
            }
        },
        None => match local_server() {
            Ok(server) => {
                let addr = server.addr();
                eprintln!(
                    "demo: started an FTP server (libunftp) on {addr} over {}",
                    server.root().display()
                );
                let url = match FtpUrl::parse(&format!("ftp://{addr}/")) {
                    Ok(url) => url,
                    Err(e) => {
                        eprintln!("demo: {e}");
                        return ExitCode::FAILURE;
                    }
                };
                (url, Some(server))
            }
            Err(e) => {
                eprintln!("demo: cannot start the local FTP server: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    match run(&url) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo: {e}");
            ExitCode::FAILURE
        }
    }
}
