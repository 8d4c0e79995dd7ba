//! Where frames come from: the webcam at the desk, or saved photos (a file or a folder of them),
//! behind one interface so that the scanner, its tests and `deskctl qr decode` share one path.

use std::path::{Path, PathBuf};

use image::GrayImage;

use crate::decode::{self, ImageError};

/// Why a frame source could not open or deliver a frame.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The webcam failed.
    #[cfg(feature = "webcam")]
    #[error(transparent)]
    Camera(#[from] crate::webcam::CameraError),
    /// A saved picture could not be read.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// The folder holds no PNG, JPEG, PGM or PPM files; holds the folder's path.
    #[error("there are no pictures (PNG, JPEG, PGM) in {0}")]
    NoPictures(String),
}

/// A stream of grey frames. Not `Send`: a camera belongs to the thread that opened it.
pub trait FrameSource {
    /// The next frame; `Ok(None)` when the source has ended (the last saved photo was read).
    fn next_frame(&mut self) -> Result<Option<GrayImage>, SourceError>;

    /// A live source produces frames whether or not anyone keeps up, so a slow decoder should skip
    /// to the newest; a file source waits, and every frame gets decoded.
    fn is_live(&self) -> bool;
}

/// Saved photos, in name order.
pub struct Pictures {
    paths: Vec<PathBuf>,
    next: usize,
}

impl Pictures {
    /// One picture, or every picture in a folder.
    pub fn open(path: &Path) -> Result<Self, SourceError> {
        let paths = if path.is_dir() {
            let mut paths: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| ImageError::Unreadable {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| is_picture(p))
                .collect();
            paths.sort();
            paths
        } else {
            vec![path.to_path_buf()]
        };
        if paths.is_empty() {
            return Err(SourceError::NoPictures(path.display().to_string()));
        }
        Ok(Self { paths, next: 0 })
    }
}

fn is_picture(path: &Path) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(ext.as_str(), "png" | "jpg" | "jpeg" | "pgm" | "ppm")
}

impl FrameSource for Pictures {
    fn next_frame(&mut self) -> Result<Option<GrayImage>, SourceError> {
        let Some(path) = self.paths.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        Ok(Some(decode::load(path)?))
    }

    fn is_live(&self) -> bool {
        false
    }
}

#[cfg(feature = "webcam")]
impl FrameSource for crate::webcam::Webcam {
    fn next_frame(&mut self) -> Result<Option<GrayImage>, SourceError> {
        Ok(Some(self.frame()?))
    }

    fn is_live(&self) -> bool {
        true
    }
}
