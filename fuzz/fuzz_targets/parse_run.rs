//! Arbitrary bytes as a scenario file: parse → validate → compile → run with small limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = procsim_fuzz::harness::run_bytes(data);
});
