//! Embedding the sans-IO core in tokio: a small async FTP client ([`client`]) and a demo.
//!
//! ```text
//! cargo run -p ftp-sansio --features tls --example tokio_client -- ftp://user:pass@127.0.0.1:2121/pub/
//! cargo run -p ftp-sansio --features tls --example tokio_client -- --active ftp://[::1]:21/
//! cargo run -p ftp-sansio --features tls --example tokio_client -- --tls --ca cert.pem ftp://localhost/
//! cargo run -p ftp-sansio --features tls --example tokio_client -- ftps://ftp.example.com/pub/
//! ```
//!
//! The demo logs in (anonymous unless the URL names a user), changes into the URL's directory,
//! and downloads the URL's file (or lists the directory and downloads its first regular file)
//! into a byte counter, the slow calls bounded by `tokio::time::timeout` (a timed-out call
//! leaves the client usable: see the client's docs). `--tls`: explicit FTPS, `ftps://`:
//! implicit FTPS, both with protected data; `--ca FILE` trusts that PEM certificate too.
#![forbid(unsafe_code)]

#[allow(dead_code)] // the client is a whole module to copy; the demo uses part of it
mod client;

use std::time::Duration;

use client::{Client, Error};
use ftp_sansio::listing::EntryKind;
use ftp_sansio::session::Config;
use ftp_sansio::tls::TlsConfig;
use ftp_sansio::url::FtpUrl;

/// What the command line asks for.
struct Args {
    url: FtpUrl,
    active: bool,
    explicit_tls: bool,
    tls: TlsConfig,
}

fn parse_args() -> Result<Args, String> {
    let mut url = None;
    let (mut active, mut explicit_tls) = (false, false);
    let mut tls = TlsConfig::builder();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--active" => active = true,
            "--tls" => explicit_tls = true,
            "--ca" => {
                let path = args.next().ok_or("--ca needs a file")?;
                let pem = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
                tls = tls.add_root_pem(&pem).map_err(|e| format!("{path}: {e}"))?;
            }
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg:?}")),
            _ if url.is_none() => url = Some(FtpUrl::parse(&arg).map_err(|e| e.to_string())?),
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    Ok(Args {
        url: url.ok_or("no URL")?,
        active,
        explicit_tls,
        tls: tls.build().map_err(|e| e.to_string())?,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("usage: tokio_client [--active] [--tls] [--ca FILE] ftp[s]://[user[:password]@]host[:port][/path]");
            std::process::exit(2);
        }
    };
    if let Err(e) = demo(&args).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn demo(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let limit = Duration::from_secs(30);
    let url = &args.url;
    let addr = (url.host(), url.port());
    let implicit = url.scheme().is_implicit_tls();
    let connect = async {
        if implicit {
            Client::connect_implicit_tls(addr, url.host(), &args.tls, Config::default()).await
        } else {
            Client::connect(addr, Config::default()).await
        }
    };
    let (mut ftp, welcome) = tokio::time::timeout(limit, connect).await??;
    println!("{}", welcome.text());
    if args.explicit_tls && !implicit {
        println!("{}", ftp.auth_tls(&args.tls, url.host()).await?.text());
    }
    ftp.set_pasv(!args.active);
    let (user, password) = url.credentials();
    let reply = ftp.login(user, password).await?;
    println!("{}", reply.text());
    if implicit || args.explicit_tls {
        ftp.prot_p().await?;
    }
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
