//! The desktop app without its window. The Tauri crate (`src-tauri`) is a thin shell: each of its
//! commands calls one function here and passes the answer on, so everything the UI can do is
//! tested here without a window.
//!
//! - [`session`]: one clinic's running session: its [`settings`], the desk (`desk-core`) on its
//!   store, and — with the embedded sandbox — ABDM and the relay on loopback, with a [`cable`] the
//!   trainer (or a test) can pull to take the clinic offline.
//! - [`reception`]: what the reception screen shows and does: today's queue, find or create,
//!   tokens, the outbox, the connection.
//! - [`printing`]: token slips, the counter poster and ABHA cards as PDF files (`desk-print`).
//! - [`scanning`]: scan and pull: the live scanner on the webcam or a folder of pictures, the card
//!   it reads shown for confirmation.
//! - [`error`]: [`UiError`], a stable code and plain words for every failure.
//!
//! *Absent*: tauri and webkit (this crate builds and tests without them); any secret in the
//! settings file (the client secret and the store key live in the OS keyring).

pub mod cable;
pub mod doctor;
pub mod error;
pub mod printing;
pub mod reception;
pub mod records;
pub mod scanning;
pub mod session;
pub mod settings;
pub mod staff;

pub use error::UiError;
pub use session::Session;
pub use settings::{Language, Settings};
