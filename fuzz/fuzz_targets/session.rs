//! Fuzz the whole client session, not just the parser: arbitrary server bytes, timeouts, data
//! events and EOF around a session running a greeting, a login, a listing and a transfer (and
//! whatever else the input starts). See `ftp-core/tests/session_fuzz/mod.rs` for the input
//! format and the checks: no panic, exactly one `Completed` per operation, well-formed and
//! bounded control output, no hang, no success a transfer did not earn.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../ftp-core/tests/session_fuzz/mod.rs"]
mod session_fuzz;

fuzz_target!(|data: &[u8]| {
    session_fuzz::check_session_input(data);
});
