//! Our QR detector in front of rqrr's decoder.
//!
//! rqrr's own detector misses most webcam frames of ABHA cards (it finds the finder patterns of
//! large codes but fails to group them; see the reference notes). This one works like a camera
//! scanner must: a threshold that follows the light ([`binarize`]), finder patterns found by their
//! 1:1:3:1:1 runs in any direction ([`finder`]), the code's size counted on its timing patterns,
//! and a perspective map refined on every alignment pattern ([`grid`]). The
//! sampled modules go to rqrr's decoder (`rqrr::Grid`), which does format, masking and error
//! correction, so a wrong guess here fails there instead of producing a misread.

pub mod binarize;
pub mod finder;
pub mod grid;
pub mod homography;

/// A code found and read in a frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    /// The decoded payload.
    pub text: String,
    /// The symbol's outer corners in the frame: top-left, top-right, bottom-right, bottom-left.
    pub corners: [(f32, f32); 4],
    /// QR version (1–40).
    pub version: usize,
}

/// How a pass turns grey into black and white.
#[derive(Debug, Clone, Copy)]
enum Threshold {
    /// [`binarize::block_threshold`] with this block size and bias.
    Blocks { size: usize, bias: i32 },
    /// [`binarize::local_mean`] over a window of frame width / `width_over`, at `percent` %.
    Mean { width_over: usize, percent: u32 },
}

/// Passes tried in turn until one reads a code. Chosen greedily on the reference corpus, each for
/// the frames the ones before it miss: a dark-leaning block threshold (faint or thin print), the
/// neutral one, a local mean (faint ink beside a dark desk, where flat blocks inherit a wrong
/// threshold), and coarser blocks (heavy blur).
const PASSES: [Threshold; 4] = [
    Threshold::Blocks { size: 8, bias: 12 },
    Threshold::Blocks { size: 8, bias: 0 },
    Threshold::Mean {
        width_over: 24,
        percent: 95,
    },
    Threshold::Blocks { size: 16, bias: 0 },
];

/// Finder triples decoded per pass at most; enough for a cluttered desk, bounded for the frame
/// budget.
const MAX_DECODES_PER_PASS: usize = 8;

/// Finds and reads a QR code in an 8-bit grey frame (row-major, `width × height`).
pub fn detect(grey: &[u8], width: usize, height: usize) -> Option<Detected> {
    if width < 21 || height < 21 || grey.len() != width * height {
        return None;
    }
    PASSES.iter().find_map(|pass| {
        let bits = match *pass {
            Threshold::Blocks { size, bias } => {
                binarize::block_threshold(grey, width, height, size, bias)
            }
            Threshold::Mean {
                width_over,
                percent,
            } => binarize::local_mean(grey, width, height, width / width_over, percent),
        };
        read(grey, &bits)
    })
}

/// Tries the finder triples in a thresholded frame until one decodes.
fn read(grey: &[u8], bits: &binarize::BitImage) -> Option<Detected> {
    let finders = finder::find(bits);
    if finders.len() < 3 {
        return None;
    }
    let mut decodes = 0;
    for corners in grid::triples(&finders, 10) {
        for size in grid::sizes(bits, &corners) {
            let Some(h) = grid::locate(bits, &corners, size) else {
                continue;
            };
            // A wrong size or a lookalike triple shows at once in the timing patterns.
            if grid::timing_through(bits, &h, size) < 0.6 {
                continue;
            }
            decodes += 1;
            let Some(sampled) = grid::sample(bits, &h, size) else {
                continue;
            };
            // The grey sampling is only made when the thresholded one does not read.
            let from_grey = || grid::sample_grey(grey, bits.width, bits.height, &h, size);
            let text = read_grid(sampled).or_else(|| read_grid(from_grey()));
            if let Some(text) = text {
                let n = size as f64;
                let corner = |u: f64, v: f64| {
                    let (x, y) = h.map(u, v);
                    (x as f32, y as f32)
                };
                return Some(Detected {
                    text,
                    corners: [
                        corner(0.0, 0.0),
                        corner(n, 0.0),
                        corner(n, n),
                        corner(0.0, n),
                    ],
                    version: (size - 17) / 4,
                });
            }
            if decodes >= MAX_DECODES_PER_PASS {
                return None;
            }
        }
    }
    None
}

/// rqrr's decoding of a sampled grid whose timing patterns look right.
fn read_grid(sampled: grid::Sampled) -> Option<String> {
    if grid::timing_score(&sampled) < 0.7 {
        return None;
    }
    rqrr::Grid::new(sampled).decode().ok().map(|(_, text)| text)
}
