//! Embedding the sans-IO core in tokio: a small async FTP client ([`client`]) and a demo.
//!
//! ```text
//! cargo run -p ftp-sansio --example tokio_client -- ftp://user:pass@127.0.0.1:2121/pub/
//! cargo run -p ftp-sansio --example tokio_client -- --active [::1]:21
//! ```
//!
//! The demo logs in (anonymous unless the URL names a user), changes into the URL's path,
//! lists the directory and downloads the first regular file into a byte counter, each call
//! bounded by `tokio::time::timeout` (a timed-out call leaves the client usable: see the
//! client's docs).
#![forbid(unsafe_code)]

#[allow(dead_code)] // the client is a whole module to copy; the demo uses part of it
mod client;

use std::time::Duration;

use client::{Client, Error};
use ftp_sansio::session::Config;

/// `ftp://[user[:password]@]host[:port][/path]` or `host:port`.
struct Target {
    user: String,
    password: String,
    addr: String,
    path: String,
}

fn parse_target(arg: &str) -> Target {
    let rest = arg.strip_prefix("ftp://").unwrap_or(arg);
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hostport) = authority.rsplit_once('@').unwrap_or(("", authority));
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let has_port = match hostport.rsplit_once(':') {
        Some((host, port)) => !port.is_empty() && (!host.contains(':') || host.ends_with(']')),
        None => false,
    };
    let addr = if has_port {
        hostport.to_owned()
    } else if hostport.contains(':') && !hostport.starts_with('[') {
        format!("[{hostport}]:21")
    } else {
        format!("{hostport}:21")
    };
    Target {
        user: user.to_owned(),
        password: password.to_owned(),
        addr,
        path: path.to_owned(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let active = args.iter().any(|a| a == "--active");
    args.retain(|a| a != "--active");
    let Some(arg) = args.first() else {
        eprintln!("usage: tokio_client [--active] ftp://[user[:password]@]host[:port][/path]");
        std::process::exit(2);
    };
    if let Err(e) = demo(parse_target(arg), active).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn demo(target: Target, active: bool) -> Result<(), Box<dyn std::error::Error>> {
    let limit = Duration::from_secs(30);
    let (mut ftp, welcome) =
        tokio::time::timeout(limit, Client::connect(&*target.addr, Config::default())).await??;
    println!("{}", welcome.text());
    ftp.set_pasv(!active);
    let reply = ftp.login(&target.user, &target.password).await?;
    println!("{}", reply.text());
    if !target.path.is_empty() {
        ftp.cwd(&target.path).await?;
    }
    println!("in {}", ftp.pwd().await?);
    let entries = tokio::time::timeout(limit, ftp.list(None)).await??;
    for e in &entries {
        println!(
            "{:>12} {:?} {}",
            e.size().map(|s| s.to_string()).unwrap_or_default(),
            e.kind(),
            e.name_lossy()
        );
    }
    if let Some(file) = entries
        .iter()
        .find(|e| e.kind() == ftp_sansio::listing::EntryKind::File)
    {
        let mut sink = tokio::io::sink();
        match tokio::time::timeout(limit, ftp.retrieve(file.name(), &mut sink, None)).await {
            Ok(r) => println!("{}: {} bytes", file.name_lossy(), r?),
            // The next call aborts the transfer through the core.
            Err(_) => println!("{}: timed out", file.name_lossy()),
        }
    }
    match ftp.quit().await {
        Ok(reply) => println!("{}", reply.text()),
        Err(Error::Closed { reason }) => println!("closed: {reason}"),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}
