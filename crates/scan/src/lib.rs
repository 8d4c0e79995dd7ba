//! Scanning at the reception desk: finding and reading the QR code a patient holds up to the
//! webcam, and understanding what it says.
//!
//! - [`detect`]: our QR detector (adaptive threshold, finder patterns, perspective refined on the
//!   alignment patterns) feeding rqrr's decoder; [`decode`] applies it to photos and frames.
//! - [`source`]: frames from the webcam ([`webcam`], nokhwa, feature `webcam`) or saved pictures.
//! - [`preview`]: the live scanner: a downscaled preview stream with the decoder running beside it.
//! - What a code says is read by `abdm::qr` (re-exported here as [`parse`]): one QR type for the
//!   whole desk.

pub mod decode;
pub mod detect;
pub mod preview;
pub mod source;
#[cfg(feature = "webcam")]
pub mod webcam;

pub use abdm::qr::{parse, AbhaQr, DateOfBirth, QrError, Scanned};

#[cfg(test)]
mod tests;
