//! Well-formed scenarios built with `arbitrary`, run through the same harness as raw bytes.
//!
//! With `PROCSIM_FUZZ_PRINT=1` in the environment it also prints each scenario it builds, which
//! is how a crash artifact becomes a JSON fixture in `tests/fuzz/` (see fuzz/README.md).
#![no_main]

use libfuzzer_sys::fuzz_target;
use procsim_fuzz::structured::FuzzScenario;

fuzz_target!(|data: &[u8]| {
    if let Some(text) = FuzzScenario::text_from(data) {
        if std::env::var_os("PROCSIM_FUZZ_PRINT").is_some() {
            println!("{text}");
        }
        let _ = procsim_fuzz::harness::run_bytes(text.as_bytes());
    }
});
