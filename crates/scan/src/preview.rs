//! The live scanner behind the reception desk's "scan ABHA card" view: frames from a
//! [`FrameSource`] are shown downscaled as a preview while the newest full frame is decoded on a
//! second thread, so the picture never waits for the decoder.
//!
//! Everything arrives as [`ScanEvent`]s on one channel: preview frames, a found code (with its
//! corners in preview coordinates, for an outline), errors in plain words, and the end.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;

use image::GrayImage;

use crate::source::{FrameSource, SourceError};
use crate::{parse, QrError, Scanned};

/// A frame scaled down for display.
#[derive(Debug, Clone)]
pub struct PreviewFrame {
    /// Counts every frame the source delivered, from 0.
    pub number: u64,
    /// The frame scaled to at most [`PREVIEW_WIDTH`] wide, aspect ratio kept.
    pub image: GrayImage,
}

impl PreviewFrame {
    /// The frame as a JPEG, ready for an `<img>` in the desk window.
    pub fn jpeg(&self, quality: u8) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
            .encode_image(&self.image)
            .expect("a grey image encodes as JPEG");
        out
    }
}

/// What a running [`Scanner`] reports on its one channel.
#[derive(Debug)]
pub enum ScanEvent {
    /// A frame to show.
    Preview(PreviewFrame),
    /// A code was read. Each distinct payload is reported once per scanner.
    Found {
        /// The frame it was read in.
        number: u64,
        /// The code's text exactly as decoded.
        payload: String,
        /// What it says, or why it is not a code the desk can use.
        scanned: Result<Scanned, QrError>,
        /// The symbol's corners in preview coordinates (top-left, top-right, bottom-right,
        /// bottom-left).
        outline: [(f32, f32); 4],
    },
    /// The source failed; for a camera the scanner stops, for a bad picture it goes on.
    Error(String),
    /// The source ended or the scanner was stopped.
    Ended,
}

/// Preview frames are at most this wide.
pub const PREVIEW_WIDTH: u32 = 640;

/// A running scanner; dropping it stops it.
pub struct Scanner {
    events: Receiver<ScanEvent>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Scanner {
    /// Starts scanning the source `open` returns; it is opened on the capture thread because a
    /// camera belongs to the thread that opened it. Failing to open is an [`ScanEvent::Error`].
    pub fn start<F>(open: F) -> Scanner
    where
        F: FnOnce() -> Result<Box<dyn FrameSource>, SourceError> + Send + 'static,
    {
        let (events_tx, events) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        // One frame in hand for the decoder: a live source drops frames while it is busy.
        let (frames_tx, frames_rx) = mpsc::sync_channel::<(u64, Arc<GrayImage>)>(1);
        let capture = {
            let (events_tx, stop) = (events_tx.clone(), stop.clone());
            std::thread::Builder::new()
                .name("scan-capture".into())
                .spawn(move || match open() {
                    Ok(mut source) => capture(source.as_mut(), frames_tx, events_tx, stop),
                    Err(e) => {
                        let _ = events_tx.send(ScanEvent::Error(e.to_string()));
                    }
                })
                .expect("spawn the capture thread")
        };
        let decoder = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("scan-decode".into())
                .spawn(move || decode_frames(frames_rx, events_tx, stop))
                .expect("spawn the decode thread")
        };
        Scanner {
            events,
            stop,
            threads: vec![capture, decoder],
        }
    }

    /// The channel the scanner's events arrive on.
    pub fn events(&self) -> &Receiver<ScanEvent> {
        &self.events
    }

    /// Stops both threads and waits for them.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Scanner {
    fn drop(&mut self) {
        self.halt();
    }
}

fn capture(
    source: &mut dyn FrameSource,
    frames: SyncSender<(u64, Arc<GrayImage>)>,
    events: mpsc::Sender<ScanEvent>,
    stop: Arc<AtomicBool>,
) {
    let live = source.is_live();
    let mut number = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let frame = match source.next_frame() {
            Ok(Some(frame)) => Arc::new(frame),
            Ok(None) => break,
            Err(e) => {
                let _ = events.send(ScanEvent::Error(e.to_string()));
                if live {
                    break;
                }
                continue;
            }
        };
        let preview = PreviewFrame {
            number,
            image: downscale(&frame),
        };
        if events.send(ScanEvent::Preview(preview)).is_err() {
            break;
        }
        let sent = if live {
            match frames.try_send((number, frame)) {
                Err(TrySendError::Disconnected(_)) => false,
                _ => true, // decoded, or skipped because the decoder is busy
            }
        } else {
            frames.send((number, frame)).is_ok()
        };
        if !sent {
            break;
        }
        number += 1;
    }
    // Dropping `frames` lets the decoder finish what it holds and report the end.
}

fn decode_frames(
    frames: Receiver<(u64, Arc<GrayImage>)>,
    events: mpsc::Sender<ScanEvent>,
    stop: Arc<AtomicBool>,
) {
    let mut reported: Vec<String> = Vec::new();
    while let Ok((number, frame)) = frames.recv() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Some(found) = crate::decode::find(&frame) else {
            continue;
        };
        if reported.contains(&found.text) {
            continue;
        }
        let scale = preview_scale(&frame);
        let outline = found.corners.map(|(x, y)| (x * scale, y * scale));
        reported.push(found.text.clone());
        let event = ScanEvent::Found {
            number,
            scanned: parse(&found.text),
            payload: found.text,
            outline,
        };
        if events.send(event).is_err() {
            return;
        }
    }
    let _ = events.send(ScanEvent::Ended);
}

fn preview_scale(frame: &GrayImage) -> f32 {
    if frame.width() <= PREVIEW_WIDTH {
        1.0
    } else {
        PREVIEW_WIDTH as f32 / frame.width() as f32
    }
}

/// Area-averaged downscale to at most [`PREVIEW_WIDTH`] wide.
fn downscale(frame: &GrayImage) -> GrayImage {
    if frame.width() <= PREVIEW_WIDTH {
        return frame.clone();
    }
    let scale = preview_scale(frame);
    let height = ((frame.height() as f32 * scale).round() as u32).max(1);
    image::imageops::resize(
        frame,
        PREVIEW_WIDTH,
        height,
        image::imageops::FilterType::Triangle,
    )
}
