//! Fuzz the typed reply decoders (227, 229, 257, 213 SIZE/MDTM, 211 FEAT, 150/125 sizes):
//! no input panics them, and whatever they accept is consistent with the reply text.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../ftp-core/tests/wire_checks/mod.rs"]
mod wire_checks;

fuzz_target!(|data: &[u8]| {
    wire_checks::check_decoder_input(data);
});
