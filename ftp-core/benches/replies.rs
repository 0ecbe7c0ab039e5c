//! Reply parsing throughput (bytes/s) on a realistic mix of control-connection traffic
//! (single-line replies of a transfer session plus FEAT, HELP and STAT multi-line blocks from
//! vsftpd / ProFTPD / Pure-FTPd), next to the ceiling: a bare `memchr` line split of the same
//! bytes. The ratio `parse / memchr_lines` is the number to watch (goal: at least 0.5).
//!
//! Run: `cargo bench -p ftp-sansio --bench replies -- --warm-up-time 1 --measurement-time 3`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ftp_sansio::reply::ReplyParser;

/// One session's worth of replies, as real servers send them.
const SESSION: &[&str] = &[
    "220 (vsFTPd 3.0.3)\r\n",
    "331 Please specify the password.\r\n",
    "230 Login successful.\r\n",
    "211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n211 End\r\n",
    "200 Always in UTF8 mode.\r\n",
    "257 \"/home/ftp\" is the current directory\r\n",
    "200 Switching to Binary mode.\r\n",
    "229 Entering Extended Passive Mode (|||50005|)\r\n",
    "150 Here comes the directory listing.\r\n",
    "226 Directory send OK.\r\n",
    "213 1048576\r\n",
    "213 20170310140509\r\n",
    "227 Entering Passive Mode (127,0,0,1,195,80).\r\n",
    "150 Opening BINARY mode data connection for big.iso (1048576 bytes).\r\n",
    "226 Transfer complete.\r\n",
    "250 Directory successfully changed.\r\n",
    "214-The following commands are recognized (* =>'s unimplemented):\r\n \
     CWD     XCWD    CDUP    XCUP    SMNT*   QUIT    PORT    PASV    \r\n \
     EPRT    EPSV    ALLO*   RNFR    RNTO    DELE    MDTM    RMD     \r\n \
     XRMD    MKD     XMKD    PWD     XPWD    SIZE    SYST    HELP    \r\n \
     NOOP    FEAT    OPTS    HOST    CLNT    AUTH    CCC     CONF*   \r\n \
     ENC*    MIC*    PBSZ    PROT    TYPE    STRU    MODE    RETR    \r\n \
     STOR    STOU    APPE    REST    ABOR    RANG    USER    PASS    \r\n \
     ACCT*   REIN*   LIST    NLST    STAT    SITE    MLSD    MLST    \r\n\
     214 Direct comments to root@localhost\r\n",
    "211-FTP server status:\r\n     Connected to 127.0.0.1\r\n     Logged in as ftp\r\n     \
     TYPE: BINARY\r\n     No session bandwidth limit\r\n     Session timeout in seconds is 300\r\n     \
     Control connection is plain text\r\n     Data connections will be plain text\r\n     \
     At session startup, client count was 1\r\n     vsFTPd 3.0.3 - secure, fast, stable\r\n\
     211 End of status\r\n",
    "200 NOOP ok.\r\n",
    "226-File successfully transferred\r\n226 0.000 seconds (measured here), 143.49 Kbytes per second\r\n",
    "350 Restart position accepted (1024).\r\n",
    "550 Failed to open file.\r\n",
    "221 Goodbye.\r\n",
];

fn mix() -> Vec<u8> {
    let one: Vec<u8> = SESSION.iter().flat_map(|s| s.bytes()).collect();
    let mut out = Vec::new();
    while out.len() < 256 * 1024 {
        out.extend_from_slice(&one);
    }
    out
}

/// Parses `data` fed in `chunk`-byte reads; returns (replies, lines) so nothing is optimised
/// away.
fn parse(p: &mut ReplyParser, data: &[u8], chunk: usize) -> (usize, usize) {
    p.reset();
    let (mut replies, mut lines) = (0, 0);
    for mut c in data.chunks(chunk) {
        while !c.is_empty() {
            let n = p.push(c);
            c = &c[n..];
            while let Some(r) = p.next_reply().expect("valid input") {
                replies += 1;
                lines += black_box(r.raw()).len() & 1;
                lines += r.code().get() as usize & 1;
            }
        }
    }
    (replies, lines)
}

/// The ceiling: find every line end and hand out each line, nothing else.
fn memchr_lines(data: &[u8]) -> (usize, usize) {
    let (mut count, mut acc) = (0, 0);
    let mut start = 0;
    for i in memchr::memchr_iter(b'\n', data) {
        let line = black_box(&data[start..i]);
        acc += line.len() & 1;
        count += 1;
        start = i + 1;
    }
    (count, acc)
}

fn bench(c: &mut Criterion) {
    let data = mix();
    let mut g = c.benchmark_group("replies");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("memchr_lines", |b| {
        b.iter(|| memchr_lines(black_box(&data)))
    });
    let mut p = ReplyParser::new();
    // Sanity: every reply of the mix is found.
    let per_session = SESSION.len();
    let (n, _) = parse(&mut p, &data, 4096);
    assert_eq!(n % per_session, 0);
    g.bench_function("parse_4k_reads", |b| {
        b.iter(|| parse(&mut p, black_box(&data), 4096))
    });
    g.bench_function("parse_64k_reads", |b| {
        b.iter(|| parse(&mut p, black_box(&data), 65536))
    });
    g.bench_function("parse_16b_reads", |b| {
        b.iter(|| parse(&mut p, black_box(&data), 16))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
