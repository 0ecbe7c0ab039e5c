//! Fuzz target: every listing parser on arbitrary bytes. Never a panic; every entry's slices
//! lie inside its line; an unparsed line is returned whole; owned copies equal their source.
//! The checks live in `ftp-core/tests/listing_checks`, which `cargo test` also runs over the
//! seed corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../ftp-core/tests/listing_checks/mod.rs"]
mod listing_checks;

fuzz_target!(|data: &[u8]| {
    listing_checks::run(data);
});
