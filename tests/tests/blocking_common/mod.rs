//! Helpers shared by the `blocking_*` test files.
#![allow(dead_code)]

use std::sync::Once;

/// A logger that prints every record with `eprintln!`, so that libtest captures it per test
/// and shows it only for failing tests (the protocol trace of `set_debuglevel(2)`).
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        if record.target().starts_with("ftp_blocking") {
            eprintln!("{}", record.args());
        }
    }
    fn flush(&self) {}
}

static LOGGER: StderrLogger = StderrLogger;

/// Installs [`StderrLogger`] once per test binary.
pub fn init_logger() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if log::set_logger(&LOGGER).is_ok() {
            log::set_max_level(log::LevelFilter::Info);
        }
    });
}
