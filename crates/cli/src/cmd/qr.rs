//! `deskctl qr decode` and `deskctl qr scan`.

use std::io::Write;
use std::path::PathBuf;

use crate::{Failure, Outcome};

/// QR codes.
#[derive(clap::Subcommand)]
pub enum QrCommand {
    /// Finds and reads the QR code in each image: one line per file (with --json:
    /// {"file","payload","abha","ms"}; payload is null when no code was found).
    Decode {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// The images.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Watches the webcam (or reads a folder of saved frames) and prints each card read, once,
    /// until Ctrl-C (or the last picture).
    Scan {
        /// The camera to use (0 is the first).
        #[arg(long, default_value_t = 0, conflicts_with = "pictures")]
        camera: u32,
        /// Read saved frames from this file or folder instead of a camera.
        #[arg(long)]
        pictures: Option<PathBuf>,
    },
}

impl QrCommand {
    pub fn run(self) -> Outcome {
        match self {
            QrCommand::Decode { json, files } => {
                decode(json, files);
                Ok(())
            }
            QrCommand::Scan { camera, pictures } => scan(camera, pictures),
        }
    }
}

/// Runs the live scanner and prints what it reads; the same scanner the desk window shows.
fn scan(camera: u32, pictures: Option<PathBuf>) -> Outcome {
    use desk_scan::preview::{ScanEvent, Scanner};
    use desk_scan::source::{FrameSource, Pictures, SourceError};
    if pictures.is_none() && !cfg!(feature = "webcam") {
        return Err(Failure(
            "this deskctl was built without webcam support (cargo feature `webcam`); use --pictures".into(),
        ));
    }
    let open = move || -> Result<Box<dyn FrameSource>, SourceError> {
        match pictures {
            Some(path) => Ok(Box::new(Pictures::open(&path)?)),
            None => open_camera(camera),
        }
    };
    let scanner = Scanner::start(open);
    let mut frames = 0u64;
    for event in scanner.events().iter() {
        match event {
            ScanEvent::Preview(_) => frames += 1,
            ScanEvent::Found {
                number,
                payload,
                scanned,
                ..
            } => match scanned {
                Ok(s) => println!(
                    "frame {number}: {}",
                    serde_json::to_string(&s).expect("scans serialize")
                ),
                Err(e) => println!("frame {number}: {e} ({payload})"),
            },
            ScanEvent::Error(e) => eprintln!("{e}"),
            ScanEvent::Ended => break,
        }
    }
    eprintln!("{frames} frames");
    Ok(())
}

#[cfg(feature = "webcam")]
fn open_camera(
    index: u32,
) -> Result<Box<dyn desk_scan::source::FrameSource>, desk_scan::source::SourceError> {
    Ok(Box::new(desk_scan::webcam::Webcam::open(index)?))
}

#[cfg(not(feature = "webcam"))]
fn open_camera(
    _: u32,
) -> Result<Box<dyn desk_scan::source::FrameSource>, desk_scan::source::SourceError> {
    unreachable!("checked before the scanner starts")
}

fn decode(json: bool, files: Vec<PathBuf>) {
    let mut stdout = std::io::stdout();
    for file in files {
        // The time is the decoding alone, without reading the file.
        let mut ms = 0.0;
        let decoded = desk_scan::decode::load(&file).map(|grey| {
            let started = std::time::Instant::now();
            let found = desk_scan::decode::decode(&grey);
            ms = started.elapsed().as_secs_f64() * 1e3;
            found
        });
        let (payload, abha) = match decoded {
            Err(e) => (None, serde_json::json!({"error": e.to_string()})),
            Ok(None) => (
                None,
                serde_json::json!({"error": "no QR code found in the image"}),
            ),
            Ok(Some(p)) => {
                let parsed = match abdm::qr::parse(&p) {
                    Ok(s) => serde_json::to_value(s).expect("scans serialize"),
                    Err(e) => serde_json::json!({"error": e.to_string()}),
                };
                (Some(p), parsed)
            }
        };
        let line = if json {
            serde_json::json!({"file": file.display().to_string(), "payload": payload, "abha": abha, "ms": (ms * 100.0).round() / 100.0}).to_string()
        } else {
            match (&payload, abha.get("error")) {
                (_, Some(e)) => format!("{}: {}", file.display(), e.as_str().unwrap_or_default()),
                (Some(p), None) => format!("{}: {p}", file.display()),
                (None, None) => format!("{}: no QR code found", file.display()),
            }
        };
        // A closed pipe (`| head`) is not an error worth a panic.
        let _ = writeln!(stdout, "{line}");
    }
}
