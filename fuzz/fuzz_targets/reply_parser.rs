//! Fuzz the streaming reply parser: any input, split any way and under various limits, gives
//! the same result, never panics and never buffers past its limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../ftp-core/tests/wire_checks/mod.rs"]
mod wire_checks;

fuzz_target!(|data: &[u8]| {
    wire_checks::check_parser_input(data);
});
