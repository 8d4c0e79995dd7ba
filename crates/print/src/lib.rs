//! The desk's printouts, as PDF bytes for the system viewer or a file: the counter QR poster
//! patients scan to share their profile, the token slip handed over at the counter, an ABHA card
//! printed from a linked profile, the doctor's prescription, and a record received from another
//! hospital.
//!
//! Text is shaped before it is placed (module `text`): Hindi needs its conjuncts and matras, which
//! printpdf does not form by itself. The fonts (Noto Sans and Noto Sans Devanagari, OFL) are
//! embedded from the repository's `assets/fonts` and subset into each file.
//!
//! *Absent*: network, storage and clocks. Every document is a pure function of what it is given,
//! so the same input prints the same page.

mod documents;
mod qr;
mod text;

pub use abdm::qr::PhrHost;
pub use documents::{
    abha_card, counter_poster, prescription, record, token_slip, CounterPoster, Prescription,
    PrintSection, RecordPrint, RxLine, TokenSlip,
};

/// Why a document could not be made, in plain words.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// An embedded font did not load (a damaged build).
    #[error("the {0} font built into the app could not be read")]
    Font(&'static str),
    /// The text does not fit in a QR code.
    #[error("the QR code cannot hold this text: {0}")]
    Qr(String),
    /// The document is longer than its page.
    #[error("{0}")]
    TooLong(&'static str),
    /// What was asked for cannot be printed as given.
    #[error("{0}")]
    Invalid(#[from] abdm::qr::QrError),
}

#[cfg(test)]
mod tests;
