//! Frames from the desk's webcam (nokhwa). A missing, busy or forbidden camera is a clear error,
//! never a panic; without the `webcam` feature this module is absent and photos still work.

use image::GrayImage;
use nokhwa::pixel_format::LumaFormat;
use nokhwa::utils::{CameraIndex, RequestedFormat, RequestedFormatType};

/// Why the webcam gives no frames, in words for the person at the desk.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CameraError {
    /// No camera at the requested index (0 is the first); holds that index.
    #[error("no camera is connected (or it is not camera {0})")]
    NoCamera(u32),
    /// Another program has the camera open.
    #[error("the camera is in use by another program; close it and try again")]
    Busy,
    /// The operating system refuses this program the camera.
    #[error(
        "this program is not allowed to use the camera (on Linux: add the user to the video group)"
    )]
    PermissionDenied,
    /// Any other failure, with the camera library's message.
    #[error("the camera failed: {0}")]
    Failed(String),
}

fn classify(index: u32, message: String) -> CameraError {
    let m = message.to_ascii_lowercase();
    if m.contains("no such file") || m.contains("not found") || m.contains("no device") {
        CameraError::NoCamera(index)
    } else if m.contains("busy") {
        CameraError::Busy
    } else if m.contains("permission denied") || m.contains("not permitted") {
        CameraError::PermissionDenied
    } else {
        CameraError::Failed(message)
    }
}

/// The desk's webcam, open and streaming; frames come out in grey.
pub struct Webcam {
    index: u32,
    camera: nokhwa::Camera,
}

impl Webcam {
    /// Opens camera `index` (0 is the first) at its highest frame rate and starts streaming.
    pub fn open(index: u32) -> Result<Self, CameraError> {
        let format =
            RequestedFormat::new::<LumaFormat>(RequestedFormatType::AbsoluteHighestFrameRate);
        let mut camera = nokhwa::Camera::new(CameraIndex::Index(index), format)
            .map_err(|e| classify(index, e.to_string()))?;
        camera
            .open_stream()
            .map_err(|e| classify(index, e.to_string()))?;
        Ok(Self { index, camera })
    }

    /// The next frame, in grey.
    pub fn frame(&mut self) -> Result<GrayImage, CameraError> {
        let buffer = self
            .camera
            .frame()
            .map_err(|e| classify(self.index, e.to_string()))?;
        let decoded = buffer
            .decode_image::<LumaFormat>()
            .map_err(|e| classify(self.index, e.to_string()))?;
        let (w, h) = (decoded.width(), decoded.height());
        GrayImage::from_raw(w, h, decoded.into_raw())
            .ok_or_else(|| CameraError::Failed("the frame has the wrong size".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_camera_is_a_clear_error() {
        if std::path::Path::new("/dev/video0").exists() {
            return; // This machine has a camera; the error path cannot be shown here.
        }
        match Webcam::open(0) {
            Err(CameraError::NoCamera(0)) => {}
            Err(other) => panic!("expected 'no camera', got: {other}"),
            Ok(_) => panic!("a camera opened on a machine without /dev/video0"),
        }
        assert_eq!(
            classify(1, "Device or resource busy".into()),
            CameraError::Busy
        );
        assert_eq!(
            classify(1, "Permission denied (os error 13)".into()),
            CameraError::PermissionDenied
        );
    }
}
