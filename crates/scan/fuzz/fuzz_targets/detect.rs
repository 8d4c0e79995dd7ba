//! Arbitrary bytes as a camera frame (the first byte sets the width): the detector finds a code or
//! nothing, never panics, whatever the frame's size or content.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&w, grey)) = data.split_first() else { return };
    let width = usize::from(w).max(1);
    let height = grey.len() / width;
    let _ = desk_scan::detect::detect(&grey[..width * height], width, height);
});
