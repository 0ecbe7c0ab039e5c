//! Property tests of the wire layer:
//! (a) any valid reply sequence, encoded and fed in arbitrary chunks, parses back identically;
//! (b) arbitrary bytes never panic the parser, never grow its memory past the limits, and give
//!     the same outcome however they are split;
//! (c) any command with arbitrary arguments either encodes to exactly one CRLF-terminated line
//!     or is refused with nothing written.

mod proptest_cases;
use proptest_cases::cases;

use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use ftp_sansio::command::{Arg, Command, CommandError, ProtLevel, TransferType};
use ftp_sansio::reply::{Limits, ReplyError, ReplyParser};
use proptest::prelude::*;

/// A reply to encode: code, lines (each without line end), line end per line (true = CRLF).
#[derive(Debug, Clone)]
struct GenReply {
    code: u16,
    lines: Vec<Vec<u8>>,
    crlf: Vec<bool>,
}

impl GenReply {
    fn encode(&self, out: &mut Vec<u8>) {
        for (l, crlf) in self.lines.iter().zip(&self.crlf) {
            out.extend_from_slice(l);
            out.extend_from_slice(if *crlf { b"\r\n" } else { b"\n" });
        }
    }
}

/// Text bytes of a line: anything but LF (CR included, it is part of the line).
fn text() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            4 => any::<u8>().prop_filter("no LF", |b| *b != b'\n'),
            1 => Just(b'\r'),
            1 => prop::sample::select(b"0123456789 -".to_vec()),
        ],
        0..40,
    )
}

fn reply() -> impl Strategy<Value = GenReply> {
    (
        100u16..=599,
        text(),
        prop::option::of(prop::collection::vec(text(), 0..6)),
        text(),
        any::<bool>(),
        prop::collection::vec(any::<bool>(), 8),
    )
        .prop_map(|(code, first, inner, last, bare, crlf_bits)| {
            let digits = code.to_string().into_bytes();
            let mut lines = Vec::new();
            match inner {
                None => {
                    // Single line: "xyz text" or a bare "xyz".
                    let mut l = digits.clone();
                    if !bare || !first.is_empty() {
                        l.push(b' ');
                        l.extend_from_slice(&first);
                    }
                    lines.push(l);
                }
                Some(inner) => {
                    let mut l = digits.clone();
                    l.push(b'-');
                    l.extend_from_slice(&first);
                    lines.push(l);
                    for mut t in inner {
                        // An inner line must not close the reply early.
                        if t.starts_with(&digits) && matches!(t.get(3), None | Some(b' ')) {
                            t.insert(0, b' ');
                        }
                        lines.push(t);
                    }
                    let mut l = digits.clone();
                    if !bare || !last.is_empty() {
                        l.push(b' ');
                        l.extend_from_slice(&last);
                    }
                    lines.push(l);
                }
            }
            // A line sent with a bare LF must not end in CR (that CR would join the line end).
            let crlf = lines
                .iter()
                .enumerate()
                .map(|(i, l)| crlf_bits[i % 8] || l.last() == Some(&b'\r'))
                .collect();
            GenReply { code, lines, crlf }
        })
}

/// Splits `data` at the given (sorted, deduplicated) cut points.
fn split<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::new();
    let mut prev = 0;
    for c in cuts {
        out.push(&data[prev..c]);
        prev = c;
    }
    out.push(&data[prev..]);
    out
}

type Parsed = (Vec<(u16, Vec<u8>, Vec<Vec<u8>>)>, bool, Option<ReplyError>);

/// Feeds the chunks with the push/drain loop, checking the memory bound after every step.
fn feed(chunks: &[&[u8]], limits: Limits) -> Parsed {
    let mut p = ReplyParser::with_limits(limits);
    let mut out = Vec::new();
    for chunk in chunks {
        let mut rest = *chunk;
        loop {
            let n = p.push(rest);
            rest = &rest[n..];
            assert!(p.buffered() <= limits.max_reply.max(1));
            assert!(p.capacity() <= limits.max_reply.max(1));
            loop {
                match p.next_reply() {
                    Ok(Some(r)) => {
                        assert!(r.raw().len() <= limits.max_reply.max(1));
                        for l in r.raw().split_inclusive(|&b| b == b'\n') {
                            assert!(l.len() <= limits.max_line.max(1));
                        }
                        out.push((
                            r.code().get(),
                            r.raw().to_vec(),
                            r.lines().map(<[u8]>::to_vec).collect(),
                        ));
                    }
                    Ok(None) => break,
                    Err(e) => {
                        // Sticky, and the parser keeps taking (and dropping) input.
                        assert_eq!(p.next_reply().unwrap_err(), e);
                        assert_eq!(p.push(b"200 ok\r\n"), 8);
                        assert!(!p.has_partial());
                        return (out, false, Some(e));
                    }
                }
            }
            if rest.is_empty() {
                break;
            }
        }
    }
    (out, p.has_partial(), None)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(512)))]

    /// (a) Valid replies come back identically, however they are split.
    #[test]
    fn valid_replies_round_trip(
        replies in prop::collection::vec(reply(), 1..5),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut data = Vec::new();
        for r in &replies {
            r.encode(&mut data);
        }
        let (got, pending, err) = feed(&split(&data, &cuts), Limits::default());
        prop_assert_eq!(err, None);
        prop_assert!(!pending);
        prop_assert_eq!(got.len(), replies.len());
        let mut raw_all = Vec::new();
        for (g, r) in got.iter().zip(&replies) {
            prop_assert_eq!(g.0, r.code);
            prop_assert_eq!(&g.2, &r.lines);
            raw_all.extend_from_slice(&g.1);
        }
        prop_assert_eq!(raw_all, data);
    }

    /// (a') Cutting the input short leaves exactly the complete replies and a pending one.
    #[test]
    fn truncated_input_is_pending(
        replies in prop::collection::vec(reply(), 1..4),
        cut in any::<usize>(),
    ) {
        let mut data = Vec::new();
        let mut ends = Vec::new();
        for r in &replies {
            r.encode(&mut data);
            ends.push(data.len());
        }
        let cut = cut % data.len();
        let (got, pending, err) = feed(&[&data[..cut]], Limits::default());
        prop_assert_eq!(err, None);
        prop_assert_eq!(got.len(), ends.iter().filter(|&&e| e <= cut).count());
        prop_assert_eq!(pending, !ends.contains(&cut) && cut > 0);
    }

    /// (b) Arbitrary bytes: no panic, bounded memory, same outcome for any split.
    #[test]
    fn arbitrary_bytes_are_safe(
        data in prop::collection::vec(
            prop_oneof![
                3 => any::<u8>(),
                3 => prop::sample::select(b"0123456789 -\r\n".to_vec()),
            ],
            0..400,
        ),
        cuts in prop::collection::vec(any::<usize>(), 0..20),
        max_line in 1usize..80,
        max_reply in 1usize..300,
    ) {
        let limits = Limits { max_line, max_reply };
        let whole = feed(&[&data], limits);
        let chunked = feed(&split(&data, &cuts), limits);
        prop_assert_eq!(&chunked, &whole);
        let bytes: Vec<&[u8]> = data.chunks(1).collect();
        prop_assert_eq!(&feed(&bytes, limits), &whole);
        // Replies handed out are exactly a prefix of the input.
        let raw: Vec<u8> = whole.0.iter().flat_map(|r| r.1.clone()).collect();
        prop_assert!(data.starts_with(&raw));
    }
}

// ---------------------------------------------------------------------------------------------
// (c) commands
// ---------------------------------------------------------------------------------------------

fn arg_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            6 => any::<u8>(),
            1 => prop::sample::select(vec![b'\r', b'\n', 0, 0xFF, b' ']),
        ],
        0..24,
    )
}

/// Builds command number `which` (mod 24) around the argument, number and addresses.
fn make<'a>(which: u8, a: Arg<'a>, n: u64, v4: SocketAddrV4, sa: SocketAddr) -> Command<'a> {
    match which % 24 {
        0 => Command::User(a),
        1 => Command::Pass(a),
        2 => Command::Cwd(a),
        3 => Command::Retr(a),
        4 => Command::Stor(a),
        5 => Command::Dele(a),
        6 => Command::List(Some(a)),
        7 => Command::Nlst(Some(a)),
        8 => Command::Site(a),
        9 => Command::Raw(a),
        10 => Command::Opts(a),
        11 => Command::Mlsd(Some(a)),
        12 => Command::Size(a),
        13 => Command::Rnfr(a),
        14 => Command::Help(Some(a)),
        15 => Command::Host(a),
        16 => Command::Rest(n),
        17 => Command::Allo(n),
        18 => Command::Port(v4),
        19 => Command::Eprt(sa),
        20 => Command::Type(TransferType::Binary),
        21 => Command::Prot(ProtLevel::Private),
        22 => Command::Pbsz(n),
        _ => Command::Acct(a),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(1024)))]

    #[test]
    fn commands_encode_to_one_line_or_nothing(
        which in any::<u8>(),
        arg in arg_bytes(),
        n in any::<u64>(),
        ip4 in any::<u32>(),
        ip6 in any::<u128>(),
        port in any::<u16>(),
        v6 in any::<bool>(),
        prefix in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let v4 = SocketAddrV4::new(Ipv4Addr::from(ip4), port);
        let sa = if v6 {
            SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(ip6), port, 0, 0))
        } else {
            SocketAddr::V4(v4)
        };
        let cmd = make(which, Arg::from(&arg), n, v4, sa);
        let mut out = prefix.clone();
        match cmd.encode(&mut out) {
            Ok(()) => {
                prop_assert!(out.starts_with(&prefix));
                let line = &out[prefix.len()..];
                prop_assert!(line.ends_with(b"\r\n"));
                let body = &line[..line.len() - 2];
                prop_assert!(!body.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)));
                prop_assert!(body.starts_with(cmd.verb().as_bytes()));
                // Undoing IAC doubling gives back the argument exactly.
                let mut undoubled = Vec::new();
                let mut i = 0;
                while i < body.len() {
                    undoubled.push(body[i]);
                    if body[i] == 0xFF {
                        prop_assert_eq!(body.get(i + 1), Some(&0xFF));
                        i += 1;
                    }
                    i += 1;
                }
                let takes_arg = !matches!(which % 24, 16..=22);
                if takes_arg && !arg.is_empty() {
                    prop_assert!(undoubled.ends_with(&arg));
                }
                if matches!(cmd, Command::Raw(_)) {
                    prop_assert_eq!(undoubled, arg.clone());
                }
            }
            Err(e) => {
                prop_assert_eq!(&out, &prefix);
                match e {
                    CommandError::ForbiddenByte { byte, offset } => {
                        prop_assert_eq!(arg[offset], byte);
                        prop_assert!(matches!(byte, b'\r' | b'\n' | 0));
                        prop_assert!(!arg[..offset].iter().any(|b| matches!(b, b'\r' | b'\n' | 0)));
                    }
                    CommandError::EmptyArgument { verb } => {
                        prop_assert!(arg.is_empty());
                        prop_assert_eq!(verb, cmd.verb());
                    }
                }
            }
        }
        // Refused exactly when an argument holds CR, LF or NUL or a required one is empty.
        let forbidden = arg.iter().any(|b| matches!(b, b'\r' | b'\n' | 0));
        let refused = cmd.encode(&mut Vec::new()).is_err();
        let required = matches!(which % 24, 0 | 2..=5 | 8..=10 | 12 | 13 | 15 | 23);
        let optional = matches!(which % 24, 1 | 6 | 7 | 11 | 14);
        if required {
            prop_assert_eq!(refused, forbidden || arg.is_empty());
        } else if optional {
            prop_assert_eq!(refused, forbidden);
        } else {
            prop_assert!(!refused);
        }
    }
}
