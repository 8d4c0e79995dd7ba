//! Arbitrary text as a scanned code: the parser returns a value or a precise error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = abdm::qr::parse(text);
    }
});
