//! The TLS layer against an in-memory rustls server: no sockets, every byte moved by hand.

use std::io::{Read, Write};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{HandshakeKind, ServerConfig, ServerConnection};

use super::*;
use crate::session::DataFailure;

/// A self-signed certificate for `localhost` and a server configuration using it.
struct Peer {
    cert_pem: String,
    config: Arc<ServerConfig>,
}

impl Peer {
    fn new(versions: &[&'static rustls::SupportedProtocolVersion]) -> Peer {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let cert_pem = made.cert.pem();
        let key_pem = made.key_pair.serialize_pem();
        let certs = vec![CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap()];
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        Peer {
            cert_pem,
            config: Arc::new(config),
        }
    }

    fn tls12() -> Peer {
        Peer::new(&[&rustls::version::TLS12])
    }

    /// A client context trusting this peer only, for `name`.
    fn context(&self, versions: TlsVersions, name: &str) -> TlsContext {
        let tls = TlsConfig::builder()
            .without_webpki_roots()
            .add_root_pem(self.cert_pem.as_bytes())
            .unwrap()
            .versions(versions)
            .build()
            .unwrap();
        TlsContext::new(&tls, name).unwrap()
    }

    fn server(&self) -> ServerConnection {
        ServerConnection::new(self.config.clone()).unwrap()
    }
}

/// Everything the client has to send, handed to the server; returns the plaintext the
/// server read.
fn to_server(client: &mut TlsLayer, server: &mut ServerConnection) -> Vec<u8> {
    let out = client.pending_output().to_vec();
    client.consume_output(out.len());
    let mut rd = &out[..];
    let mut plain = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    while !rd.is_empty() {
        server.read_tls(&mut rd).unwrap();
        server.process_new_packets().unwrap();
        while let Ok(n @ 1..) = server.reader().read(&mut buf) {
            plain.extend_from_slice(&buf[..n]);
        }
    }
    plain
}

/// Everything the server has to send, as bytes.
fn server_output(server: &mut ServerConnection) -> Vec<u8> {
    let mut v = Vec::new();
    while server.wants_write() {
        server.write_tls(&mut v).unwrap();
    }
    v
}

/// Runs the handshake to its end; the client's failure is returned.
fn handshake(client: &mut TlsLayer, server: &mut ServerConnection) -> Result<(), TlsError> {
    for _ in 0..10 {
        to_server(client, server);
        let out = server_output(server);
        client.receive(&out)?;
        if !client.is_handshaking() && !server.is_handshaking() && !client.wants_write() {
            return Ok(());
        }
    }
    panic!("the handshake did not finish");
}

/// Reads every plaintext byte the client has now.
fn read_all(client: &mut TlsLayer) -> (Vec<u8>, Received) {
    let mut got = Vec::new();
    let mut buf = [0u8; 3000];
    loop {
        match client.read(&mut buf).unwrap() {
            Received::Data(n) => got.extend_from_slice(&buf[..n]),
            other => return (got, other),
        }
    }
}

fn connected(peer: &Peer) -> (TlsContext, TlsLayer, ServerConnection) {
    let ctx = peer.context(TlsVersions::Tls12, "localhost");
    let mut client = ctx.start().unwrap();
    let mut server = peer.server();
    handshake(&mut client, &mut server).unwrap();
    (ctx, client, server)
}

#[test]
fn every_version_choice_builds() {
    for v in [TlsVersions::Tls12, TlsVersions::Tls13, TlsVersions::Any] {
        assert!(TlsConfig::builder().versions(v).build().is_ok());
    }
}

#[test]
fn handshake_then_data_both_ways() {
    let peer = Peer::tls12();
    let (_ctx, mut client, mut server) = connected(&peer);
    assert_eq!(
        client.connection().protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    assert_eq!(
        client.connection().handshake_kind(),
        Some(HandshakeKind::Full)
    );

    // Client to server: more than fits one record and more than OUTPUT_LIMIT.
    let upload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut sent = 0;
    let mut received = Vec::new();
    while sent < upload.len() {
        let n = client.write(&upload[sent..]).unwrap();
        assert!(n > 0 && client.pending_output().len() <= OUTPUT_LIMIT + 2 * 16_700);
        sent += n;
        received.extend(to_server(&mut client, &mut server));
    }
    assert_eq!(received, upload);

    // Server to client: all ciphertext in one piece; the layer decrypts it bit by bit.
    let download: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let mut ciphertext = Vec::new();
    for piece in download.chunks(32 * 1024) {
        server.writer().write_all(piece).unwrap();
        ciphertext.extend(server_output(&mut server));
    }
    client.receive(&ciphertext).unwrap();
    let (got, end) = read_all(&mut client);
    assert_eq!(got, download);
    assert_eq!(end, Received::NeedCiphertext);
}

#[test]
fn writes_wait_for_the_handshake_and_bytes_arrive_in_any_pieces() {
    let peer = Peer::tls12();
    let ctx = peer.context(TlsVersions::Tls12, "localhost");
    let mut client = ctx.start().unwrap();
    let mut server = peer.server();
    assert_eq!(client.write(b"USER alice\r\n").unwrap(), 12);
    // Server bytes fed one at a time: records are reassembled.
    let mut plain = Vec::new();
    for _ in 0..10 {
        plain.extend(to_server(&mut client, &mut server));
        for b in server_output(&mut server) {
            client.receive(&[b]).unwrap();
        }
        if !client.is_handshaking() && !server.is_handshaking() && !client.wants_write() {
            break;
        }
    }
    assert!(!client.is_handshaking());
    assert_eq!(plain, b"USER alice\r\n");
}

#[test]
fn a_download_ends_with_the_peers_close_notify() {
    let peer = Peer::tls12();
    let (_ctx, mut client, mut server) = connected(&peer);
    server.writer().write_all(b"file contents").unwrap();
    server.send_close_notify();
    let mut bytes = server_output(&mut server);
    bytes.extend_from_slice(b"junk after the end");
    client.receive(&bytes).unwrap();
    let (got, end) = read_all(&mut client);
    assert_eq!(got, b"file contents");
    assert_eq!(end, Received::PeerClosed);
    client.send_close_notify();
    to_server(&mut client, &mut server);
    assert_eq!(server.reader().read(&mut [0u8; 8]).unwrap(), 0);
}

#[test]
fn a_stream_cut_short_is_unexpected_eof() {
    let peer = Peer::tls12();
    let (_ctx, mut client, mut server) = connected(&peer);
    server.writer().write_all(b"half a fi").unwrap();
    let bytes = server_output(&mut server);
    // Half a record, then EOF.
    client.receive(&bytes[..bytes.len() - 3]).unwrap();
    client.receive_eof().unwrap();
    let err = client.read(&mut [0u8; 64]).unwrap_err();
    assert!(matches!(err, TlsError::UnexpectedEof));
    assert_eq!(err.data_failure(), DataFailure::Reset);
    assert_eq!(
        std::io::Error::from(err).kind(),
        std::io::ErrorKind::UnexpectedEof
    );
}

#[test]
fn a_data_connection_resumes_the_control_session() {
    for (versions, server_versions) in [
        (TlsVersions::Tls12, &[&rustls::version::TLS12][..]),
        (TlsVersions::Tls13, &[&rustls::version::TLS13][..]),
    ] {
        let peer = Peer::new(server_versions);
        let mut ctx = peer.context(versions, "localhost");
        let mut control = ctx.start().unwrap();
        let mut control_server = peer.server();
        handshake(&mut control, &mut control_server).unwrap();
        assert_eq!(
            control.connection().handshake_kind(),
            Some(HandshakeKind::Full)
        );
        // TLS 1.3 tickets come after the handshake, as data records.
        let _ = read_all(&mut control);

        let mut data = ctx.start().unwrap();
        let mut data_server = peer.server();
        handshake(&mut data, &mut data_server).unwrap();
        assert_eq!(
            data.connection().handshake_kind(),
            Some(HandshakeKind::Resumed),
            "{versions:?}"
        );
        ctx.count_data_handshake(&data);
        let info = ctx.info(control.connection().protocol_version());
        assert_eq!((info.data_handshakes, info.data_resumed), (1, 1));

        // Another context (another control connection) shares nothing.
        let other = peer.context(versions, "localhost");
        let mut fresh = other.start().unwrap();
        handshake(&mut fresh, &mut peer.server()).unwrap();
        assert_eq!(
            fresh.connection().handshake_kind(),
            Some(HandshakeKind::Full)
        );
    }
}

#[test]
fn after_an_upload_the_drain_ends_at_the_peers_close_notify() {
    let peer = Peer::tls12();
    let (_ctx, mut client, mut server) = connected(&peer);
    assert_eq!(client.drain(), Drain::NeedCiphertext);
    to_server(&mut client, &mut server); // our close_notify
    assert_eq!(server.reader().read(&mut [0u8; 8]).unwrap(), 0);
    server.writer().write_all(b"late bytes").unwrap();
    server.send_close_notify();
    client.receive(&server_output(&mut server)).unwrap();
    assert_eq!(client.drain(), Drain::PeerClosed);
    assert!(client.write(b"x").is_err());
}

#[test]
fn the_drain_after_an_upload_is_bounded_when_the_peer_never_stops() {
    let peer = Peer::tls12();
    let (_ctx, mut client, mut server) = connected(&peer);
    client.send_close_notify();
    let chunk = vec![7u8; 16 * 1024];
    let mut fed = 0usize;
    let end = loop {
        match client.drain() {
            Drain::NeedCiphertext => {}
            done => break done,
        }
        assert!(fed < 4 * DRAIN_LIMIT, "the drain does not stop");
        server.writer().write_all(&chunk).unwrap();
        let bytes = server_output(&mut server);
        fed += bytes.len();
        client.receive(&bytes).unwrap();
    };
    assert_eq!(end, Drain::LimitReached);
    assert!(
        fed >= DRAIN_LIMIT && fed < DRAIN_LIMIT + 2 * chunk.len(),
        "{fed}"
    );
}

#[test]
fn the_drain_ends_at_eof_too() {
    let peer = Peer::tls12();
    let (_ctx, mut client, _server) = connected(&peer);
    assert_eq!(client.drain(), Drain::NeedCiphertext);
    client.receive_eof().unwrap();
    assert_eq!(client.drain(), Drain::Ended);
}

#[test]
fn ccc_hands_back_the_cleartext_that_follows_the_close_notify() {
    let peer = Peer::tls12();
    let (_ctx, mut client, mut server) = connected(&peer);
    // The server's 200, its close_notify and at once clear text, all in one read.
    server.writer().write_all(b"200 CCC ok\r\n").unwrap();
    server.send_close_notify();
    let mut bytes = server_output(&mut server);
    bytes.extend_from_slice(b"220 clear text\r\n");
    client.receive(&bytes).unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(client.read(&mut buf).unwrap(), Received::Data(12));
    assert_eq!(&buf[..12], b"200 CCC ok\r\n");
    assert_eq!(
        client.downgrade().unwrap(),
        Downgrade::Done {
            cleartext: b"220 clear text\r\n".to_vec()
        }
    );
    // Our close_notify still has to go out.
    assert!(client.wants_write());
    to_server(&mut client, &mut server);
    assert_eq!(server.reader().read(&mut buf).unwrap(), 0);
}

#[test]
fn ccc_waits_for_the_peer_and_splits_a_record_from_the_clear_text() {
    let peer = Peer::tls12();
    let (_ctx, mut client, mut server) = connected(&peer);
    assert_eq!(client.downgrade().unwrap(), Downgrade::NeedCiphertext);
    to_server(&mut client, &mut server);
    server.send_close_notify();
    let mut bytes = server_output(&mut server);
    bytes.extend_from_slice(b"2");
    // The close_notify record split across two reads, the clear text in the second.
    let (a, b) = bytes.split_at(3);
    client.receive(a).unwrap();
    assert_eq!(client.downgrade().unwrap(), Downgrade::NeedCiphertext);
    client.receive(b).unwrap();
    assert_eq!(
        client.downgrade().unwrap(),
        Downgrade::Done {
            cleartext: b"2".to_vec()
        }
    );
}

#[test]
fn ccc_refuses_data_before_the_close_notify() {
    let peer = Peer::tls12();
    let (_ctx, mut client, mut server) = connected(&peer);
    server.writer().write_all(b"500 what?\r\n").unwrap();
    client.receive(&server_output(&mut server)).unwrap();
    let err = client.downgrade().unwrap_err();
    assert!(matches!(err, TlsError::DataDuringShutdown));
    assert!(err.is_tls_failure());
    // The failure sticks.
    assert!(client.read(&mut [0u8; 8]).is_err());
}

#[test]
fn ccc_without_the_peers_close_notify_is_an_error() {
    let peer = Peer::tls12();
    let (_ctx, mut client, _server) = connected(&peer);
    assert_eq!(client.downgrade().unwrap(), Downgrade::NeedCiphertext);
    client.receive_eof().unwrap();
    assert!(matches!(client.downgrade(), Err(TlsError::UnexpectedEof)));
}

#[test]
fn an_untrusted_certificate_is_a_tls_error() {
    let peer = Peer::tls12();
    // Webpki roots only: the self-signed certificate is not trusted.
    let ctx = TlsContext::new(&TlsConfig::new(), "localhost").unwrap();
    let mut client = ctx.start().unwrap();
    let err = handshake(&mut client, &mut peer.server()).unwrap_err();
    assert!(err.is_certificate() && err.is_tls_failure(), "{err:?}");
    assert_eq!(err.data_failure(), DataFailure::Tls);
    // The alert for the server waits to be sent; the error sticks.
    assert!(client.wants_write());
    assert!(client.receive(b"").is_err());
    let io = std::io::Error::from(err);
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
    assert!(TlsError::of_io(&io).is_some_and(TlsError::is_certificate));
}

#[test]
fn a_certificate_for_another_name_is_a_tls_error() {
    let peer = Peer::tls12();
    let ctx = peer.context(TlsVersions::Tls12, "ftp.example.com");
    let mut client = ctx.start().unwrap();
    let err = handshake(&mut client, &mut peer.server()).unwrap_err();
    assert!(matches!(
        err,
        TlsError::Rustls(rustls::Error::InvalidCertificate(
            rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. }
        ))
    ));
}

#[test]
fn clear_text_instead_of_tls_is_a_tls_error_at_once() {
    let peer = Peer::tls12();
    let ctx = peer.context(TlsVersions::Tls12, "localhost");
    let mut client = ctx.start().unwrap();
    // What a confused server answers to a ClientHello: fails on the record header.
    let err = client.receive(b"500 Invalid command\r\n").unwrap_err();
    assert!(err.is_tls_failure() && !err.is_certificate());
    assert!(err.to_string().contains("InvalidContentType"), "{err}");
}

#[test]
fn eof_during_the_handshake_is_an_error() {
    let peer = Peer::tls12();
    let ctx = peer.context(TlsVersions::Tls12, "localhost");
    let mut client = ctx.start().unwrap();
    to_server(&mut client, &mut peer.server());
    assert!(matches!(client.receive_eof(), Err(TlsError::UnexpectedEof)));
}

#[test]
fn output_is_bounded_until_sent() {
    let peer = Peer::tls12();
    let (_ctx, mut client, _server) = connected(&peer);
    let big = vec![1u8; 4 * OUTPUT_LIMIT];
    let mut taken = 0;
    loop {
        let n = client.write(&big).unwrap();
        if n == 0 {
            break;
        }
        taken += n;
        assert!(taken <= 2 * OUTPUT_LIMIT);
    }
    assert!(client.pending_output().len() >= OUTPUT_LIMIT);
    client.consume_output(usize::MAX);
    assert!(client.write(&big).unwrap() > 0);
}

/// One peer for the property tests (a certificate takes a while to make).
fn shared_peer() -> &'static Peer {
    static PEER: std::sync::OnceLock<Peer> = std::sync::OnceLock::new();
    PEER.get_or_init(Peer::tls12)
}

/// `PROPTEST_CASES` when set (long runs), else a quick default.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// Every call the layer offers, in an order the bytes choose.
fn poke(client: &mut TlsLayer, chunks: &[Vec<u8>], ops: &[u8]) {
    let mut buf = [0u8; 700];
    for (chunk, op) in chunks.iter().zip(ops.iter().cycle()) {
        let before = client.receive(chunk);
        let failed = before.is_err();
        match op % 6 {
            0 => drop(client.read(&mut buf)),
            1 => drop(client.write(chunk)),
            2 => drop(client.drain()),
            3 => drop(client.downgrade()),
            4 => drop(client.receive_eof()),
            _ => client.consume_output(usize::from(*op)),
        }
        // A TLS failure sticks: every later call reports it.
        if failed {
            assert!(client.receive(b"").is_err() && client.read(&mut buf).is_err());
        }
        assert!(client.pending_output().len() <= OUTPUT_LIMIT + 64 * 1024);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(cases()))]

    /// Whatever a peer sends, before or after the handshake, the layer answers with values
    /// or typed errors, never a panic.
    #[test]
    fn any_bytes_in_any_order_never_panic(
        chunks in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..300), 0..12),
        ops in proptest::collection::vec(proptest::num::u8::ANY, 1..12),
        after_handshake in proptest::bool::ANY,
    ) {
        let peer = shared_peer();
        let ctx = peer.context(TlsVersions::Tls12, "localhost");
        let mut client = ctx.start().unwrap();
        if after_handshake {
            handshake(&mut client, &mut peer.server()).unwrap();
        }
        poke(&mut client, &chunks, &ops);
    }

    /// Real records cut at arbitrary points, with junk behind the close_notify, give the
    /// same plaintext and the junk back after CCC.
    #[test]
    fn records_cut_anywhere_read_the_same(
        cuts in proptest::collection::vec(1usize..400, 1..20),
        tail in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
    ) {
        let peer = shared_peer();
        let ctx = peer.context(TlsVersions::Tls12, "localhost");
        let mut client = ctx.start().unwrap();
        let mut server = peer.server();
        handshake(&mut client, &mut server).unwrap();
        let text: Vec<u8> = (0..5000u32).map(|i| (i % 97) as u8).collect();
        server.writer().write_all(&text).unwrap();
        server.send_close_notify();
        let mut bytes = server_output(&mut server);
        bytes.extend_from_slice(&tail);
        let mut got = Vec::new();
        let mut rest = &bytes[..];
        let mut buf = [0u8; 1000];
        for cut in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (piece, more) = rest.split_at((*cut).min(rest.len()));
            rest = more;
            client.receive(piece).unwrap();
            while let Received::Data(n) = client.read(&mut buf).unwrap() {
                got.extend_from_slice(&buf[..n]);
            }
        }
        proptest::prop_assert_eq!(&got, &text);
        proptest::prop_assert_eq!(client.downgrade().unwrap(), Downgrade::Done { cleartext: tail });
    }
}

#[test]
fn junk_after_our_close_notify_ends_the_drain_without_rustls() {
    let peer = Peer::tls12();
    let (_ctx, mut client, _server) = connected(&peer);
    assert_eq!(client.drain(), Drain::NeedCiphertext);
    let err = client.receive(b"226 Transfer complete\r\n").unwrap_err();
    assert!(err.is_tls_failure());
    assert_eq!(client.drain(), Drain::Ended);
    let (_ctx, mut client, _server) = connected(&peer);
    assert_eq!(client.downgrade().unwrap(), Downgrade::NeedCiphertext);
    // An application-data header with an impossible length.
    assert!(matches!(
        client.receive(&[23, 3, 3, 0xff, 0xff]),
        Err(TlsError::Rustls(rustls::Error::InvalidMessage(
            rustls::InvalidMessage::MessageTooLarge
        )))
    ));
}
