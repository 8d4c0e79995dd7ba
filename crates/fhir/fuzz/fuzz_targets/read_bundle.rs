//! Arbitrary JSON as a FHIR bundle: the reader returns a document or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(doc) = abdm_fhir::read(&value) {
            for a in &doc.attachments {
                let _ = a.bytes();
            }
            let _ = serde_json::to_string(&doc);
        }
    }
});
