//! Properties of `ftp_sansio::url`: no input makes the parser panic or let a CR, LF or NUL
//! through, and `Display` parses back to the same URL without ever showing the password.

use ftp_sansio::url::{FtpUrl, Scheme};
use proptest::prelude::*;

mod proptest_cases;
use proptest_cases::cases;

/// Any text built from the characters that matter to the parser, plus anything at all.
fn url_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("ftp://".to_owned()),
        Just("FTPS://".to_owned()),
        Just("%".to_owned()),
        Just("%0A".to_owned()),
        Just("%0d".to_owned()),
        Just("%00".to_owned()),
        Just("%2F".to_owned()),
        Just(";type=".to_owned()),
        "[/@:\\[\\]#?;%a-fA-F0-9.]{1,3}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..16).prop_map(|v| v.concat())
}

/// A URL as its parts (user, password, host, port, segments, trailing slash).
type Parts = (
    Option<String>,
    Option<String>,
    String,
    Option<u16>,
    Vec<String>,
    bool,
);

fn parts() -> impl Strategy<Value = Parts> {
    let text = "[^\r\n\0]{0,6}";
    let host = prop_oneof![
        "[a-z0-9][a-z0-9.-]{0,10}",
        Just("[::1]".to_owned()),
        Just("127.0.0.1".to_owned()),
    ];
    (
        prop::option::of(text),
        prop::option::of(text),
        host,
        prop::option::of(1u16..),
        prop::collection::vec("[^\r\n\0]{1,6}", 0..5),
        any::<bool>(),
    )
}

fn encode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(2000)))]

    #[test]
    fn never_panics_and_never_lets_a_line_break_through(input in url_like()) {
        if let Ok(url) = FtpUrl::parse(&input) {
            let (user, password) = url.credentials();
            for part in [user, password, url.host()].into_iter().chain(url.segments().iter().map(String::as_str)) {
                prop_assert!(!part.contains(['\r', '\n', '\0']), "{input:?} -> {url:?}");
            }
            prop_assert!(url.port() != 0);
            prop_assert!(!url.segments().iter().any(String::is_empty));
            // what Display prints is a URL that parses to the same thing, password aside
            let shown = url.to_string();
            prop_assert!(!shown.contains(['\r', '\n', '\0']));
            let again = FtpUrl::parse(&shown).unwrap();
            prop_assert_eq!(again.segments(), url.segments());
            prop_assert_eq!(again.host(), url.host());
            prop_assert_eq!(again.port(), url.port());
            prop_assert_eq!(again.user(), url.user());
            prop_assert_eq!(again.typecode(), url.typecode());
            prop_assert_eq!(again.is_dir(), url.is_dir());
        }
    }

    #[test]
    fn encoded_parts_come_back_decoded((user, password, host, port, segs, slash) in parts()) {
        let mut s = "ftp://".to_owned();
        if let Some(u) = &user {
            s += &encode(u);
            if let Some(p) = &password {
                s += ":";
                s += &encode(p);
            }
            s += "@";
        }
        s += &host;
        if let Some(p) = port {
            s += &format!(":{p}");
        }
        for seg in &segs {
            s += "/";
            s += &encode(seg);
        }
        if slash {
            s += "/";
        }
        let url = FtpUrl::parse(&s).unwrap();
        prop_assert_eq!(url.scheme(), Scheme::Ftp);
        prop_assert_eq!(url.user(), user.as_deref());
        prop_assert_eq!(url.password(), if user.is_some() { password.as_deref() } else { None });
        prop_assert_eq!(url.port(), port.unwrap_or(21));
        prop_assert_eq!(url.segments(), &segs[..]);
        prop_assert_eq!(url.is_dir(), segs.is_empty() || slash);
        prop_assert_eq!(url.path(), segs.join("/"));
        if url.password().is_some() {
            let debug = format!("{:?}", url);
            prop_assert!(debug.contains("password: Some(\"***\")"), "{}", debug);
            let shown = FtpUrl::parse(&url.to_string()).unwrap();
            prop_assert_eq!(shown.password(), None);
        }
    }
}
