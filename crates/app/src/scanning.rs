//! Scan and pull at the desk: the live scanner (`desk-scan`) on the clinic's camera — a webcam,
//! or a folder of pictures (the file frame source, for a desk without a camera and for tests) —
//! reporting preview frames and the ABHA card it reads; the receptionist confirms the profile
//! before anything is saved.

use std::path::PathBuf;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use abdm::qr::{AbhaQr, Scanned};
use base64::Engine;
use desk_core::view::QueueRow;
use desk_scan::preview::{ScanEvent, Scanner};
use desk_scan::source::{FrameSource, Pictures};
use serde::Serialize;

use crate::{Session, UiError};

/// What the scanner tells the UI.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ScanUpdate {
    /// A frame to show (`data:image/jpeg;base64,…`).
    Preview {
        /// The frame as a data URL.
        image: String,
    },
    /// An ABHA card was read: show it for confirmation.
    Found {
        /// What the card says.
        profile: Box<AbhaQr>,
    },
    /// A code was read that is not an ABHA card, or the camera failed.
    Problem {
        /// Which problem, for the UI's words in its language: `address-only`, `counter-code`,
        /// `number-only`, `unreadable` or `camera`.
        code: &'static str,
        /// Why, in English (the camera's own words for `camera`).
        message: String,
    },
    /// The scanner stopped (the pictures ran out, or it was stopped).
    Ended,
}

/// The running scanner and the card it read, waiting for confirmation. Each start is a new
/// generation: a scanner that is being stopped can no longer change what is on screen.
#[derive(Default)]
pub(crate) struct ScanState {
    generation: u64,
    stop: Option<Arc<std::sync::atomic::AtomicBool>>,
    found: Option<AbhaQr>,
}

/// A camera as the settings name it: a webcam's number, or a picture file or folder.
fn open_camera(camera: &str) -> Result<Box<dyn FrameSource>, desk_scan::source::SourceError> {
    let camera = camera.trim();
    if let Ok(index) = camera.parse::<u32>() {
        return Ok(Box::new(desk_scan::webcam::Webcam::open(index)?));
    }
    Ok(Box::new(Pictures::open(&PathBuf::from(camera))?))
}

/// Preview frames sent to the UI per second, at most: enough to aim a card, little to encode.
const PREVIEW_FPS: u32 = 8;

impl Session {
    /// Starts the scanner on the clinic's camera; `report` receives its updates (on a thread of
    /// its own) until it ends or [`Session::stop_scan`]. A scanner already running is stopped.
    pub fn start_scan(&self, report: impl Fn(ScanUpdate) + Send + 'static) {
        self.stop_scan();
        let camera = self.settings().camera;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let state = self.scan.clone();
        let generation = {
            let mut s = state.lock().expect("scan lock");
            s.generation += 1;
            s.stop = Some(stop.clone());
            s.found = None;
            s.generation
        };
        let scan = Scan {
            generation,
            stop,
            state,
        };
        std::thread::Builder::new()
            .name("scan-forward".into())
            .spawn(move || scan.forward(Scanner::start(move || open_camera(&camera)), report))
            .expect("spawn the scan thread");
    }

    /// Stops the scanner, if one runs.
    pub fn stop_scan(&self) {
        let mut s = self.scan.lock().expect("scan lock");
        s.generation += 1;
        if let Some(stop) = s.stop.take() {
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// The receptionist confirmed the card on screen, named by its ABHA number: the patient is
    /// saved (or updated) from it at once, verified with ABDM by the outbox, and given today's
    /// token. A card other than the one on screen is refused.
    pub fn confirm_scan(&self, abha_number: &str) -> Result<QueueRow, UiError> {
        let profile = {
            let mut s = self.scan.lock().expect("scan lock");
            match s.found.take() {
                Some(p) if p.abha_number.as_deref() == Some(abha_number) => p,
                Some(p) => {
                    s.found = Some(p);
                    return Err(UiError::new(
                        "invalid-input",
                        "another card was read meanwhile: scan the patient's card again",
                    ));
                }
                None => {
                    return Err(UiError::new(
                        "not-found",
                        "no ABHA card has been read: scan the card again",
                    ))
                }
            }
        };
        self.stop_scan();
        let patient = self.desk().scan_and_pull(&profile)?;
        Ok(self.desk().give_token(patient.id)?)
    }
}

/// One scanner's forwarding thread.
struct Scan {
    generation: u64,
    stop: Arc<std::sync::atomic::AtomicBool>,
    state: Arc<Mutex<ScanState>>,
}

impl Scan {
    /// Reports `update` unless a newer scan (or a stop) has taken over; false then.
    fn report(&self, update: ScanUpdate, report: &impl Fn(ScanUpdate)) -> bool {
        let mut state = self.state.lock().expect("scan lock");
        if state.generation != self.generation {
            return false;
        }
        if let ScanUpdate::Found { profile } = &update {
            state.found = Some((**profile).clone());
        }
        drop(state);
        report(update);
        true
    }

    fn forward(self, scanner: Scanner, report: impl Fn(ScanUpdate)) {
        let mut last_preview = Instant::now() - Duration::from_secs(1);
        while !self.stop.load(std::sync::atomic::Ordering::SeqCst) {
            let event = match scanner.events().recv_timeout(Duration::from_millis(200)) {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let update = match event {
                ScanEvent::Preview(frame) => {
                    if last_preview.elapsed() < Duration::from_secs(1) / PREVIEW_FPS {
                        continue;
                    }
                    last_preview = Instant::now();
                    let jpeg = base64::engine::general_purpose::STANDARD.encode(frame.jpeg(60));
                    ScanUpdate::Preview {
                        image: format!("data:image/jpeg;base64,{jpeg}"),
                    }
                }
                ScanEvent::Found { scanned, .. } => found(scanned),
                ScanEvent::Error(message) => ScanUpdate::Problem {
                    code: "camera",
                    message,
                },
                ScanEvent::Ended => break,
            };
            let card = matches!(update, ScanUpdate::Found { .. });
            // The first card ends the scan: the next patient's card cannot replace it.
            if !self.report(update, &report) || card {
                break;
            }
        }
        scanner.stop();
        self.report(ScanUpdate::Ended, &report);
    }
}

/// What a decoded code means at the desk.
fn found(scanned: Result<Scanned, abdm::qr::QrError>) -> ScanUpdate {
    let problem = |code, message: &str| ScanUpdate::Problem {
        code,
        message: message.into(),
    };
    match scanned {
        Ok(Scanned::Abha(profile)) if profile.abha_number.is_some() => {
            ScanUpdate::Found { profile }
        }
        Ok(Scanned::Abha(_)) => problem(
            "address-only",
            "this card shows an ABHA address but no ABHA number: link the ABHA with an OTP instead",
        ),
        Ok(Scanned::Counter { .. }) => problem(
            "counter-code",
            "this is a clinic's counter code, not an ABHA card",
        ),
        Ok(Scanned::AbhaNumber { .. } | Scanned::AbhaAddress { .. }) => problem(
            "number-only",
            "this code holds only an ABHA number or address: type it in the walk-in form",
        ),
        Err(e) => ScanUpdate::Problem {
            code: "unreadable",
            message: e.to_string(),
        },
    }
}
