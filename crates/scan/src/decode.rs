//! Finding and reading the QR code in a camera frame or a photo, with rqrr.
//!
//! rqrr alone misses many webcam frames (reference notes: 24.5 % of the corpus); this module tries the
//! frame as it is, then with a local adaptive threshold, then (for small frames) upscaled 2×, and
//! returns the first payload a code yields. A detector of our own in front of rqrr's decoder is the
//! next step.

use std::path::Path;

use image::{GrayImage, Luma};

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("cannot read {path}: {reason}")]
    Unreadable { path: String, reason: String },
}

/// Loads a photo or saved frame as greyscale.
pub fn load(path: &Path) -> Result<GrayImage, ImageError> {
    image::open(path)
        .map(|i| i.to_luma8())
        .map_err(|e| ImageError::Unreadable {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
}

fn rqrr_once(gray: &GrayImage) -> Option<String> {
    let mut prepared = rqrr::PreparedImage::prepare(gray.clone());
    prepared
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, content)| content))
}

/// Local mean threshold (window ≈ width/16, 0.93 × mean) using an integral image.
pub fn adaptive_threshold(gray: &GrayImage) -> GrayImage {
    let (w, h) = gray.dimensions();
    let (wu, hu) = (w as usize, h as usize);
    let mut integral = vec![0u64; (wu + 1) * (hu + 1)];
    for y in 0..hu {
        let mut row = 0u64;
        for x in 0..wu {
            row += u64::from(gray.get_pixel(x as u32, y as u32)[0]);
            integral[(y + 1) * (wu + 1) + x + 1] = integral[y * (wu + 1) + x + 1] + row;
        }
    }
    let r = (w / 32).max(4) as usize;
    GrayImage::from_fn(w, h, |x, y| {
        let (x, y) = (x as usize, y as usize);
        let (x0, y0) = (x.saturating_sub(r), y.saturating_sub(r));
        let (x1, y1) = ((x + r + 1).min(wu), (y + r + 1).min(hu));
        let sum = integral[y1 * (wu + 1) + x1] + integral[y0 * (wu + 1) + x0]
            - integral[y0 * (wu + 1) + x1]
            - integral[y1 * (wu + 1) + x0];
        let mean = sum as f64 / ((x1 - x0) * (y1 - y0)) as f64;
        let v = f64::from(gray.get_pixel(x as u32, y as u32)[0]);
        Luma([if v < 0.93 * mean { 0 } else { 255 }])
    })
}

/// The payload of the first QR code found in the frame, if any.
pub fn decode(gray: &GrayImage) -> Option<String> {
    if let Some(p) = rqrr_once(gray) {
        return Some(p);
    }
    let thresholded = adaptive_threshold(gray);
    if let Some(p) = rqrr_once(&thresholded) {
        return Some(p);
    }
    if gray.width() < 1000 {
        let up = image::imageops::resize(
            gray,
            gray.width() * 2,
            gray.height() * 2,
            image::imageops::FilterType::Triangle,
        );
        return rqrr_once(&adaptive_threshold(&up));
    }
    None
}
