//! Every row of `tests/data/replies.jsonl` (real and hostile server replies with their expected
//! parse, format in `tests/data/README.md`) must pass: the replies, the pending state and the
//! error, fed in one piece, one byte at a time and split at every position; and the typed
//! decoder named by the row.

use ftp_sansio::reply::{decode, Limits, ReplyError, ReplyParser};

#[path = "wire_checks/mod.rs"]
mod wire_checks;

// ---------------------------------------------------------------------------------------------
// A tiny JSON reader (the rows are plain objects of strings, numbers, booleans, null, arrays).
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    /// Numbers are kept as written (sizes go up to 2^64 - 1).
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            other => panic!("expected a string, got {other:?}"),
        }
    }
    fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(a) => a,
            other => panic!("expected an array, got {other:?}"),
        }
    }
    fn u64(&self) -> u64 {
        match self {
            Json::Num(n) => n.parse().unwrap_or_else(|_| panic!("not a u64: {n}")),
            other => panic!("expected a number, got {other:?}"),
        }
    }
}

struct JsonReader<'a> {
    s: &'a [u8],
    i: usize,
}

impl JsonReader<'_> {
    fn parse(text: &str) -> Json {
        let mut r = JsonReader {
            s: text.as_bytes(),
            i: 0,
        };
        let v = r.value();
        r.ws();
        assert_eq!(r.i, r.s.len(), "trailing bytes after JSON value");
        v
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && b" \t\r\n".contains(&self.s[self.i]) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) {
        self.ws();
        assert_eq!(
            self.s.get(self.i),
            Some(&c),
            "expected {:?} at {}",
            c as char,
            self.i
        );
        self.i += 1;
    }

    fn lit(&mut self, word: &str, v: Json) -> Json {
        assert!(self.s[self.i..].starts_with(word.as_bytes()));
        self.i += word.len();
        v
    }

    fn value(&mut self) -> Json {
        self.ws();
        match self.s[self.i] {
            b'n' => self.lit("null", Json::Null),
            b't' => self.lit("true", Json::Bool(true)),
            b'f' => self.lit("false", Json::Bool(false)),
            b'"' => Json::Str(self.string()),
            b'[' => {
                self.i += 1;
                let mut out = Vec::new();
                self.ws();
                if self.s[self.i] == b']' {
                    self.i += 1;
                    return Json::Arr(out);
                }
                loop {
                    out.push(self.value());
                    self.ws();
                    self.i += 1;
                    match self.s[self.i - 1] {
                        b',' => continue,
                        b']' => return Json::Arr(out),
                        c => panic!("unexpected {:?} in array", c as char),
                    }
                }
            }
            b'{' => {
                self.i += 1;
                let mut out = Vec::new();
                self.ws();
                if self.s[self.i] == b'}' {
                    self.i += 1;
                    return Json::Obj(out);
                }
                loop {
                    self.ws();
                    let k = self.string();
                    self.eat(b':');
                    out.push((k, self.value()));
                    self.ws();
                    self.i += 1;
                    match self.s[self.i - 1] {
                        b',' => continue,
                        b'}' => return Json::Obj(out),
                        c => panic!("unexpected {:?} in object", c as char),
                    }
                }
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len() && b"-+.eE0123456789".contains(&self.s[self.i]) {
                    self.i += 1;
                }
                assert!(self.i > start, "unexpected byte at {start}");
                Json::Num(String::from_utf8(self.s[start..self.i].to_vec()).unwrap())
            }
        }
    }

    fn hex4(&mut self) -> u32 {
        let h = std::str::from_utf8(&self.s[self.i..self.i + 4]).unwrap();
        self.i += 4;
        u32::from_str_radix(h, 16).unwrap()
    }

    fn string(&mut self) -> String {
        self.eat(b'"');
        let mut out = String::new();
        loop {
            // Copy a run of plain bytes (UTF-8 passes through unchanged).
            let start = self.i;
            while self.s[self.i] != b'"' && self.s[self.i] != b'\\' {
                self.i += 1;
            }
            out.push_str(std::str::from_utf8(&self.s[start..self.i]).unwrap());
            let c = self.s[self.i];
            self.i += 1;
            if c == b'"' {
                return out;
            }
            let e = self.s[self.i];
            self.i += 1;
            match e {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => {
                    let mut cp = self.hex4();
                    if (0xD800..0xDC00).contains(&cp) {
                        assert_eq!(&self.s[self.i..self.i + 2], b"\\u", "lone surrogate");
                        self.i += 2;
                        let lo = self.hex4();
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    }
                    out.push(char::from_u32(cp).expect("valid code point"));
                }
                c => panic!("bad escape \\{}", c as char),
            }
        }
    }
}

#[test]
fn json_reader_handles_escapes() {
    let v = JsonReader::parse(
        r#"{"a": "x\r\n\"\\\u00e9\ud83d\ude00", "b": [1, true, null, 18446744073709551615]}"#,
    );
    assert_eq!(v.get("a").unwrap().str(), "x\r\n\"\\é😀");
    assert_eq!(v.get("b").unwrap().arr()[3].u64(), u64::MAX);
    assert_eq!(v.get("b").unwrap().arr()[2], Json::Null);
}

fn unhex(h: &str) -> Vec<u8> {
    assert!(h.len() % 2 == 0, "odd hex length");
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Running the parser
// ---------------------------------------------------------------------------------------------

/// What the parser made of an input: (code, raw, lines) per reply, pending, error.
#[derive(Debug, PartialEq)]
struct Outcome {
    replies: Vec<(u16, Vec<u8>, Vec<Vec<u8>>)>,
    pending: bool,
    error: Option<ReplyError>,
}

fn run(chunks: &[&[u8]], limits: Limits) -> Outcome {
    let mut p = ReplyParser::with_limits(limits);
    let mut replies = Vec::new();
    let mut error = None;
    'outer: for chunk in chunks {
        let mut rest = *chunk;
        loop {
            let n = p.push(rest);
            rest = &rest[n..];
            loop {
                match p.next_reply() {
                    Ok(Some(r)) => replies.push((
                        r.code().get(),
                        r.raw().to_vec(),
                        r.lines().map(<[u8]>::to_vec).collect(),
                    )),
                    Ok(None) => break,
                    Err(e) => {
                        error = Some(e);
                        break 'outer;
                    }
                }
            }
            if rest.is_empty() {
                break;
            }
            assert!(n > 0 || p.buffered() == 0, "no progress");
        }
    }
    if error.is_none() {
        // Draining again must not change anything.
        assert!(p.next_reply().unwrap().is_none());
    }
    Outcome {
        replies,
        pending: p.has_partial(),
        error,
    }
}

fn error_kind(e: &Option<ReplyError>) -> Option<&'static str> {
    e.as_ref().map(|e| match e {
        ReplyError::NotAReply { .. } => "not_a_reply",
        ReplyError::BadCode { .. } => "bad_code",
        ReplyError::LineTooLong { .. } => "line_too_long",
        ReplyError::ReplyTooLarge { .. } => "reply_too_large",
    })
}

// ---------------------------------------------------------------------------------------------
// Decoders
// ---------------------------------------------------------------------------------------------

/// Applies the decoder `kind` to the last reply; `Ok(json)` in the corpus's `expect` shape.
fn apply_decoder(kind: &str, r: ftp_sansio::reply::ReplyRef<'_>) -> Result<Json, String> {
    let err = |e: decode::DecodeError| e.to_string();
    let num = |n: u64| Json::Num(n.to_string());
    Ok(match kind {
        "pasv" => {
            let a = decode::pasv(r).map_err(err)?;
            Json::Obj(vec![
                ("host".into(), Json::Str(a.ip.to_string())),
                ("port".into(), num(a.port.into())),
            ])
        }
        "epsv" => Json::Obj(vec![(
            "port".into(),
            num(decode::epsv(r).map_err(err)?.into()),
        )]),
        "path" => {
            let p = decode::path(r).map_err(err)?;
            Json::Str(String::from_utf8(p).map_err(|_| "path not UTF-8".to_string())?)
        }
        "size" => num(decode::size(r).map_err(err)?),
        "mdtm" => Json::Str(decode::mdtm(r).map_err(err)?.to_string()),
        "feat" => Json::Arr(
            decode::feat(r)
                .map_err(err)?
                .iter()
                .map(|f| {
                    Json::Obj(vec![
                        ("name".into(), Json::Str(f.name.clone())),
                        ("params".into(), Json::Str(f.params.clone())),
                    ])
                })
                .collect(),
        ),
        "transfer_size" => match decode::transfer_size(r).map_err(err)? {
            Some(n) => num(n),
            None => Json::Null,
        },
        other => panic!("unknown decoder kind {other}"),
    })
}

// ---------------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------------

const CORPUS: &str = include_str!("data/replies.jsonl");

#[test]
fn every_corpus_row_passes() {
    let mut rows = 0;
    let mut decoded = 0;
    let mut failures = Vec::new();
    for (lineno, text) in CORPUS.lines().enumerate() {
        let lineno = lineno + 1;
        if text.trim().is_empty() {
            continue;
        }
        rows += 1;
        let row = JsonReader::parse(text);
        let source = row.get("source").expect("every row names its source").str();
        assert!(!source.is_empty(), "line {lineno}: empty source");
        let (data, hexmode) = match (row.get("input"), row.get("input_hex")) {
            (Some(s), None) => (s.str().as_bytes().to_vec(), false),
            (None, Some(h)) => (unhex(h.str()), true),
            _ => panic!("line {lineno}: exactly one of input / input_hex"),
        };
        let expected: Vec<(u16, Vec<Vec<u8>>)> = row
            .get("replies")
            .unwrap()
            .arr()
            .iter()
            .map(|r| {
                let lines = r.get("lines").unwrap().arr().iter().map(|l| {
                    if hexmode {
                        unhex(l.str())
                    } else {
                        l.str().as_bytes().to_vec()
                    }
                });
                (r.get("code").unwrap().u64() as u16, lines.collect())
            })
            .collect();
        let pending = row.get("pending") == Some(&Json::Bool(true));
        let error = match row.get("error") {
            Some(Json::Str(s)) => Some(s.as_str()),
            _ => None,
        };

        // The fuzz targets' checks hold on every row too.
        wire_checks::check_parser_input(&data);
        wire_checks::check_decoder_input(&data);

        let limits = Limits::default();
        let whole = run(&[&data], limits);
        let bytes: Vec<&[u8]> = data.chunks(1).collect();
        let one_by_one = run(&bytes, limits);
        let mut problems = Vec::new();
        if whole != one_by_one {
            problems.push(format!(
                "byte-at-a-time differs: {one_by_one:?} vs {whole:?}"
            ));
        }
        for cut in 1..data.len() {
            let (a, b) = data.split_at(cut);
            if run(&[a, b], limits) != whole {
                problems.push(format!("split at {cut} differs"));
                break;
            }
        }
        let got: Vec<(u16, Vec<Vec<u8>>)> = whole
            .replies
            .iter()
            .map(|(c, _, l)| (*c, l.clone()))
            .collect();
        if got != expected {
            problems.push(format!("replies {got:?}, expected {expected:?}"));
        }
        // The raw bytes of the replies are exactly a prefix of the input.
        let raw: Vec<u8> = whole.replies.iter().flat_map(|r| r.1.clone()).collect();
        if !data.starts_with(&raw) {
            problems.push("raw bytes are not a prefix of the input".into());
        }
        if whole.pending != pending {
            problems.push(format!("pending {}, expected {pending}", whole.pending));
        }
        if error_kind(&whole.error) != error {
            problems.push(format!("error {:?}, expected {error:?}", whole.error));
        }

        if let Some(d) = row.get("decode") {
            decoded += 1;
            let kind = d.get("as").unwrap().str();
            // Re-parse to borrow the last reply.
            let mut p = ReplyParser::new();
            p.push(&data);
            let mut last = None;
            while let Ok(Some(r)) = p.next_reply() {
                last = Some(r.to_owned());
            }
            let last = last.expect("decode without a reply");
            let got = apply_decoder(kind, last.as_ref());
            match (d.get("expect"), d.get("error")) {
                (Some(expect), None) => match got {
                    Ok(v) if &v == expect => {}
                    other => problems.push(format!("{kind}: got {other:?}, expected {expect:?}")),
                },
                (None, Some(Json::Bool(true))) => {
                    if let Ok(v) = got {
                        problems.push(format!("{kind}: accepted {v:?}, row refuses"));
                    }
                }
                _ => panic!("line {lineno}: malformed decode"),
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "line {lineno} ({text}):\n    {}",
                problems.join("\n    ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {rows} rows fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(rows >= 200, "corpus has only {rows} rows");
    assert!(decoded >= 100, "only {decoded} rows decode");
}

/// Small limits must give the same outcome however the input is split, too.
#[test]
fn corpus_under_tight_limits_is_chunking_independent() {
    for text in CORPUS.lines().filter(|t| !t.trim().is_empty()) {
        let row = JsonReader::parse(text);
        let data = match (row.get("input"), row.get("input_hex")) {
            (Some(s), _) => s.str().as_bytes().to_vec(),
            (_, Some(h)) => unhex(h.str()),
            _ => unreachable!(),
        };
        for (max_line, max_reply) in [(8, 64), (40, 40), (16, 1000), (200, 30), (1, 1)] {
            let limits = Limits {
                max_line,
                max_reply,
            };
            let whole = run(&[&data], limits);
            let bytes: Vec<&[u8]> = data.chunks(1).collect();
            assert_eq!(run(&bytes, limits), whole, "{text} under {limits:?}");
            let threes: Vec<&[u8]> = data.chunks(3).collect();
            assert_eq!(run(&threes, limits), whole, "{text} under {limits:?}");
            for r in &whole.replies {
                assert!(r.1.len() <= max_reply);
            }
        }
    }
}
