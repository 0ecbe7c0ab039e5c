//! Embedding the sans-IO core in tokio: a small async FTP client ([`client`]) and a demo.
//!
//! ```text
//! cargo run -p ftp-sansio --example tokio_client -- ftp://user:pass@127.0.0.1:2121/pub/
//! cargo run -p ftp-sansio --example tokio_client -- --active ftp://[::1]:21/
//! ```
//!
//! The demo logs in (anonymous unless the URL names a user), changes into the URL's directory,
//! and downloads the URL's file (or lists the directory and downloads its first regular file)
//! into a byte counter, the slow calls bounded by `tokio::time::timeout` (a timed-out call
//! leaves the client usable: see the client's docs).
#![forbid(unsafe_code)]

#[allow(dead_code)] // the client is a whole module to copy; the demo uses part of it
mod client;

use std::time::Duration;

use client::{Client, Error};
use ftp_sansio::listing::EntryKind;
use ftp_sansio::session::Config;
use ftp_sansio::url::{FtpUrl, Scheme};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let active = args.iter().any(|a| a == "--active");
    args.retain(|a| a != "--active");
    let url = match args.first().map(|a| FtpUrl::parse(a)) {
        Some(Ok(url)) if url.scheme() == Scheme::Ftp => url,
        Some(Err(e)) => {
            eprintln!("bad URL: {e}");
            std::process::exit(2);
        }
        _ => {
            eprintln!("usage: tokio_client [--active] ftp://[user[:password]@]host[:port][/path/]");
            std::process::exit(2);
        }
    };
    if let Err(e) = demo(&url, active).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn demo(url: &FtpUrl, active: bool) -> Result<(), Box<dyn std::error::Error>> {
    let limit = Duration::from_secs(30);
    let addr = (url.host(), url.port());
    let (mut ftp, welcome) =
        tokio::time::timeout(limit, Client::connect(addr, Config::default())).await??;
    println!("{}", welcome.text());
    ftp.set_pasv(!active);
    let (user, password) = url.credentials();
    let reply = ftp.login(user, password).await?;
    println!("{}", reply.text());
    for dir in url.directory() {
        ftp.cwd(dir).await?;
    }
    println!("in {}", ftp.pwd().await?);
    // The URL's file, else the first regular file of the directory's listing.
    let file = match url.file_name() {
        Some(name) => Some(name.as_bytes().to_vec()),
        None => {
            let entries = tokio::time::timeout(limit, ftp.list(None)).await??;
            for e in &entries {
                let size = e.size().map(|s| s.to_string()).unwrap_or_default();
                println!("{size:>12} {:?} {}", e.kind(), e.name_lossy());
            }
            entries
                .iter()
                .find(|e| e.kind() == EntryKind::File)
                .map(|e| e.name().to_vec())
        }
    };
    if let Some(name) = file {
        let shown = String::from_utf8_lossy(&name).into_owned();
        let mut sink = tokio::io::sink();
        match tokio::time::timeout(limit, ftp.retrieve(&name, &mut sink, None)).await {
            Ok(r) => println!("{shown}: {} bytes", r?),
            // The next call (quit) aborts the transfer through the core first.
            Err(_) => println!("{shown}: timed out"),
        }
    }
    match ftp.quit().await {
        Ok(reply) => println!("{}", reply.text()),
        Err(Error::Closed { reason }) => println!("closed: {reason}"),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}
