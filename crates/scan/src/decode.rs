//! Reading the QR code in a photo or a saved frame: loading it as a webcam would see it, then our
//! detector ([`crate::detect`]) with rqrr's decoder.

use std::path::Path;

use image::GrayImage;

use crate::detect::{self, Detected};

/// Why a picture could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The file (or folder) could not be read or decoded as an image.
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        /// The path as given, for the message.
        path: String,
        /// The underlying error, in words.
        reason: String,
    },
}

/// Loads a photo or saved frame as grey. Colour is reduced to BT.601 luma, the Y plane a webcam
/// delivers, so a saved frame reads exactly as it did live.
pub fn load(path: &Path) -> Result<GrayImage, ImageError> {
    let image = image::open(path).map_err(|e| ImageError::Unreadable {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    Ok(match image {
        image::DynamicImage::ImageLuma8(grey) => grey,
        other => luma601(&other.to_rgb8()),
    })
}

/// BT.601 luma of an RGB image (integer weights 77/150/29 of 256, rounded).
pub fn luma601(rgb: &image::RgbImage) -> GrayImage {
    let (w, h) = rgb.dimensions();
    let data = rgb
        .pixels()
        .map(|p| {
            let [r, g, b] = p.0.map(u32::from);
            ((77 * r + 150 * g + 29 * b + 128) >> 8) as u8
        })
        .collect();
    GrayImage::from_raw(w, h, data).expect("one byte per pixel")
}

/// The code in the frame, with where it is.
pub fn find(grey: &GrayImage) -> Option<Detected> {
    detect::detect(grey.as_raw(), grey.width() as usize, grey.height() as usize)
}

/// The payload of the QR code in the frame, if one is found and reads without error.
pub fn decode(grey: &GrayImage) -> Option<String> {
    find(grey).map(|d| d.text)
}
