//! Listing parser speed: a generated 100,000-entry Unix `LIST` reply and a 100,000-entry
//! `MLSD` reply, parsed by ftp-sansio (borrowing entries: no allocation per entry; and owned
//! entries: one allocation each) and, on the same lines in the same run, by suppaftp's `list`
//! parser (`ListParser::parse_posix` / `ListParser::parse_mlsd`). Throughput is in lines/s.
//!
//! Two groups: `listing` is timed by the wall clock as usual; `listing-cpu` times the same
//! work by the CPU time of the benchmark thread (Linux `/proc/thread-self/schedstat`, wall
//! clock elsewhere), which is the "lines per second per core" figure and stays meaningful on
//! a machine whose cores are shared with other work.
//!
//! Run: `cargo bench -p ftp-sansio --bench listing -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ftp_sansio::listing::{list_lines, parse_list, parse_mlsd, ListEntry, ParsedLine};
use ftp_sansio::time::Timestamp;

const ENTRIES: usize = 100_000;
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A small deterministic generator (xorshift64*), so every run parses the same listing.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn name(rng: &mut Rng, i: usize) -> String {
    const WORDS: [&str; 8] = [
        "report", "data", "backup", "photo", "release", "notes", "archive", "build",
    ];
    const EXTS: [&str; 6] = ["txt", "tar.gz", "jpg", "csv", "bin", "iso"];
    let w = WORDS[rng.below(8) as usize];
    match rng.below(10) {
        0 => format!("{w} {i} final copy.{}", EXTS[rng.below(6) as usize]),
        _ => format!("{w}-{i}.{}", EXTS[rng.below(6) as usize]),
    }
}

/// Lines in the style of vsftpd / ProFTPD `LIST` output, one in ten a directory, one in
/// twenty a symlink, half with a time instead of a year.
fn unix_listing() -> Vec<u8> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = String::with_capacity(ENTRIES * 80);
    out += "total 400000\r\n";
    for i in 0..ENTRIES - 1 {
        let (kind, perm) = match rng.below(20) {
            0 => ('l', "rwxrwxrwx"),
            1 | 2 => ('d', "rwxr-xr-x"),
            _ => ('-', "rw-r--r--"),
        };
        let size = rng.below(10_000_000_000) >> rng.below(30);
        let month = MONTHS[rng.below(12) as usize];
        let day = 1 + rng.below(28);
        let when = if rng.below(2) == 0 {
            format!(" {}", 1995 + rng.below(22))
        } else {
            format!("{:02}:{:02}", rng.below(24), rng.below(60))
        };
        let n = name(&mut rng, i);
        out +=
            &format!("{kind}{perm}    1 ftp      ftp      {size:>10} {month} {day:>2} {when} {n}");
        if kind == 'l' {
            out += &format!(" -> ../target/{n}");
        }
        out += "\r\n";
    }
    out.into_bytes()
}

/// Lines in the style of ProFTPD `MLSD` output.
fn mlsd_listing() -> Vec<u8> {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut out = String::with_capacity(ENTRIES * 150);
    for i in 0..ENTRIES {
        let dir = rng.below(10) == 0;
        let size = if dir {
            String::new()
        } else {
            format!("size={};", rng.below(10_000_000_000) >> rng.below(30))
        };
        let modify = format!(
            "{}{:02}{:02}{:02}{:02}{:02}",
            1995 + rng.below(22),
            1 + rng.below(12),
            1 + rng.below(28),
            rng.below(24),
            rng.below(60),
            rng.below(60)
        );
        let (ty, perm, mode) = if dir {
            ("dir", "flcdmpe", "0755")
        } else {
            ("file", "adfrw", "0644")
        };
        out += &format!(
            "modify={modify};perm={perm};{size}type={ty};unique=FE00U{i:X};UNIX.group=994;UNIX.mode={mode};UNIX.owner=995; {}\r\n",
            name(&mut rng, i)
        );
    }
    out.into_bytes()
}

fn now() -> Timestamp {
    Timestamp::new(2017, 3, 10, 23, 0, 0).unwrap()
}

/// Folds every field into a number so nothing is optimised away.
fn sum_unix(buf: &[u8]) -> u64 {
    let mut acc = 0u64;
    for p in parse_list(buf, now()) {
        if let ParsedLine::Entry(e) = p {
            acc = acc
                .wrapping_add(e.size().unwrap_or(0))
                .wrapping_add(e.name().len() as u64)
                .wrapping_add(e.mtime().map_or(0, |t| t.day() as u64));
        }
    }
    acc
}

fn sum_mlsd(buf: &[u8]) -> u64 {
    let mut acc = 0u64;
    for p in parse_mlsd(buf) {
        if let ParsedLine::Entry(e) = p {
            acc = acc
                .wrapping_add(e.size().unwrap_or(0))
                .wrapping_add(e.name().len() as u64)
                .wrapping_add(e.mtime().map_or(0, |t| t.day() as u64));
        }
    }
    acc
}

/// Nanoseconds this thread has run on a CPU, where the OS tells.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Runs `f` `iters` times; the thread's CPU time if known, else the wall time.
fn cpu_timed<R>(iters: u64, mut f: impl FnMut() -> R) -> Duration {
    let wall = Instant::now();
    let start = thread_cpu_ns();
    for _ in 0..iters {
        black_box(f());
    }
    match (start, thread_cpu_ns()) {
        (Some(a), Some(b)) if b >= a => Duration::from_nanos(b - a),
        _ => wall.elapsed(),
    }
}

fn suppaftp_unix(lines: &[&str]) -> usize {
    let mut acc = 0usize;
    for l in lines {
        if let Ok(f) = suppaftp::list::ListParser::parse_posix(l) {
            acc = acc.wrapping_add(f.size()).wrapping_add(f.name().len());
        }
    }
    acc
}

fn suppaftp_mlsd(lines: &[&str]) -> usize {
    let mut acc = 0usize;
    for l in lines {
        if let Ok(f) = suppaftp::list::ListParser::parse_mlsd(l) {
            acc = acc.wrapping_add(f.size()).wrapping_add(f.name().len());
        }
    }
    acc
}

fn bench(c: &mut Criterion) {
    let unix = unix_listing();
    let mlsd = mlsd_listing();
    let unix_lines: Vec<&str> = list_lines(&unix)
        .map(|l| std::str::from_utf8(l).unwrap())
        .collect();
    let mlsd_lines: Vec<&str> = list_lines(&mlsd)
        .map(|l| std::str::from_utf8(l).unwrap())
        .collect();
    assert_eq!(unix_lines.len(), ENTRIES);
    assert_eq!(mlsd_lines.len(), ENTRIES);

    // Both parsers must understand the generated lines (else the comparison is meaningless).
    let ours = parse_list(&unix, now())
        .filter(|p| p.entry().is_some())
        .count();
    assert_eq!(ours, ENTRIES - 1, "ftp-sansio: Unix entries");
    let ours = parse_mlsd(&mlsd).filter(|p| p.entry().is_some()).count();
    assert_eq!(ours, ENTRIES, "ftp-sansio: MLSD entries");
    let theirs = unix_lines
        .iter()
        .filter(|l| suppaftp::list::ListParser::parse_posix(l).is_ok())
        .count();
    let theirs_mlsd = mlsd_lines
        .iter()
        .filter(|l| suppaftp::list::ListParser::parse_mlsd(l).is_ok())
        .count();
    eprintln!(
        "suppaftp parsed {theirs}/{} Unix lines and {theirs_mlsd}/{} MLSD lines",
        ENTRIES - 1,
        ENTRIES
    );

    let mut g = c.benchmark_group("listing");
    g.throughput(Throughput::Elements(ENTRIES as u64));
    g.sample_size(20);

    g.bench_function("unix/ftp-sansio borrowed", |b| {
        b.iter(|| sum_unix(black_box(&unix)))
    });
    g.bench_function("unix/ftp-sansio owned", |b| {
        b.iter(|| {
            let v: Vec<ListEntry> = parse_list(black_box(&unix), now())
                .filter_map(|p| p.entry().map(|e| e.to_owned()))
                .collect();
            v.len()
        })
    });
    g.bench_function("unix/suppaftp", |b| {
        b.iter(|| suppaftp_unix(black_box(&unix_lines)))
    });
    g.bench_function("mlsd/ftp-sansio borrowed", |b| {
        b.iter(|| sum_mlsd(black_box(&mlsd)))
    });
    g.bench_function("mlsd/suppaftp", |b| {
        b.iter(|| suppaftp_mlsd(black_box(&mlsd_lines)))
    });
    g.finish();

    let mut g = c.benchmark_group("listing-cpu");
    g.throughput(Throughput::Elements(ENTRIES as u64));
    g.sample_size(20);
    g.bench_function("unix/ftp-sansio borrowed", |b| {
        b.iter_custom(|n| cpu_timed(n, || sum_unix(black_box(&unix))))
    });
    g.bench_function("unix/suppaftp", |b| {
        b.iter_custom(|n| cpu_timed(n, || suppaftp_unix(black_box(&unix_lines))))
    });
    g.bench_function("mlsd/ftp-sansio borrowed", |b| {
        b.iter_custom(|n| cpu_timed(n, || sum_mlsd(black_box(&mlsd))))
    });
    g.bench_function("mlsd/suppaftp", |b| {
        b.iter_custom(|n| cpu_timed(n, || suppaftp_mlsd(black_box(&mlsd_lines))))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
