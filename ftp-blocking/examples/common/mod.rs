//! Pieces shared by the examples: a stderr logger for `set_debuglevel` output. (`ftp://` URLs
//! are parsed by `ftp_sansio::url`.)
#![allow(dead_code)]

/// Prints `ftp_blocking`'s debug records to stderr, as ftplib prints its debug output.
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.target().starts_with("ftp_blocking")
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!("{}", record.args());
        }
    }
    fn flush(&self) {}
}

static LOGGER: StderrLogger = StderrLogger;

/// Installs the stderr logger (once).
pub fn init_logger() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}
