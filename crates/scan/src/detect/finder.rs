//! Finder patterns: the three 7×7 squares in a QR code's corners.
//!
//! Any straight line through a finder's centre crosses dark, light, dark (3 modules), light, dark in
//! the ratio 1:1:3:1:1, whatever the rotation, so rows are scanned for that ratio and each hit is
//! confirmed along the column, the row again and a diagonal through the proposed centre. Hits on
//! neighbouring rows are merged into one candidate, counted, and averaged.

use super::binarize::BitImage;

/// A finder-pattern candidate in a thresholded frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finder {
    /// Centre x, in pixels.
    pub x: f32,
    /// Centre y, in pixels.
    pub y: f32,
    /// Estimated module size in pixels.
    pub module: f32,
    /// How many scan lines confirmed it.
    pub hits: u32,
}

/// Whether five run lengths are in the ratio 1:1:3:1:1, each within `tolerance` of a module.
fn is_finder_ratio(runs: &[u32; 5], tolerance: f32) -> bool {
    let total: u32 = runs.iter().sum();
    // Cheap integer test first: the centre run holds about 3/7 of the total.
    if total < 7 || runs[2] * 7 < total * 2 || runs[2] * 7 > total * 4 {
        return false;
    }
    let module = total as f32 / 7.0;
    let slack = module * tolerance;
    let near = |run: u32, modules: f32| (run as f32 - module * modules).abs() < slack * modules;
    near(runs[0], 1.0)
        && near(runs[1], 1.0)
        && near(runs[2], 3.0)
        && near(runs[3], 1.0)
        && near(runs[4], 1.0)
}

/// Walks from (x, y) in direction (dx, dy) and back, measuring the five runs of a finder centred
/// near the start. Returns the runs and the offset (in steps) of the centre run's middle.
fn runs_through(
    bits: &BitImage,
    x: i32,
    y: i32,
    dx: i32,
    dy: i32,
    max_run: u32,
) -> Option<([u32; 5], f32)> {
    if bits.at(x, y) != Some(true) {
        return None;
    }
    let back = walk(bits, x, y, -dx, -dy, max_run)?;
    let fwd = walk(bits, x, y, dx, dy, max_run)?;
    // The start pixel was counted in both directions.
    let centre = back[0] + fwd[0] - 1;
    let runs = [back[2], back[1], centre, fwd[1], fwd[2]];
    let middle = (fwd[0] as f32 - back[0] as f32) / 2.0;
    Some((runs, middle))
}

/// From (x, y) in direction (dx, dy): the lengths of the rest of the dark centre run, the light
/// ring and the dark ring; `None` when a run is missing or far too long.
fn walk(bits: &BitImage, x: i32, y: i32, dx: i32, dy: i32, max_run: u32) -> Option<[u32; 3]> {
    let mut runs = [0u32; 3];
    let mut step = 0i32;
    for (i, want_dark) in [true, false, true].into_iter().enumerate() {
        // The centre run is 3 modules of the 7, the rings one each.
        let limit = if i == 0 { max_run * 3 } else { max_run };
        while bits.at(x + dx * step, y + dy * step) == Some(want_dark) {
            runs[i] += 1;
            step += 1;
            if runs[i] > limit {
                return None;
            }
        }
        if runs[i] == 0 {
            return None;
        }
    }
    Some(runs)
}

/// Confirms a row hit and returns the refined centre and module size.
fn confirm(bits: &BitImage, cx: f32, y: usize, row_total: u32) -> Option<(f32, f32, f32)> {
    let max_run = row_total;
    let (vruns, vmid) = runs_through(bits, cx as i32, y as i32, 0, 1, max_run)?;
    let vtotal: u32 = vruns.iter().sum();
    // The column must be of a similar size to the row (allowing for tilt), and in ratio.
    if !is_finder_ratio(&vruns, 0.5) || vtotal * 2 < row_total || vtotal > row_total * 2 {
        return None;
    }
    let cy = y as f32 + vmid;
    let (hruns, hmid) = runs_through(bits, cx as i32, cy as i32, 1, 0, max_run)?;
    if !is_finder_ratio(&hruns, 0.5) {
        return None;
    }
    let cx = cx.floor() + hmid;
    let htotal: u32 = hruns.iter().sum();
    // A diagonal through the centre rules out most lookalikes (text, stripes, 1-D barcodes).
    let (druns, _) = runs_through(bits, cx as i32, cy as i32, 1, 1, max_run)?;
    if !is_finder_ratio(&druns, 0.75) {
        return None;
    }
    Some((cx + 0.5, cy + 0.5, (htotal + vtotal) as f32 / 14.0))
}

/// Finds finder-pattern candidates, most-confirmed first.
pub fn find(bits: &BitImage) -> Vec<Finder> {
    let mut found: Vec<Finder> = Vec::new();
    let mut runs: Vec<(usize, u32)> = Vec::with_capacity(bits.width / 2);
    // Every other row: a finder is at least 7 modules of 2 px tall, so it is still crossed 7 times.
    for y in (0..bits.height).step_by(2) {
        let row = bits.row(y);
        runs.clear();
        let mut start = 0;
        for x in 1..=row.len() {
            if x == row.len() || row[x] != row[start] {
                runs.push((start, (x - start) as u32));
                start = x;
            }
        }
        // Windows of five runs starting on a dark run.
        let first_dark = usize::from(!row[0]);
        let mut i = first_dark;
        while i + 5 <= runs.len() {
            let window = [
                runs[i].1,
                runs[i + 1].1,
                runs[i + 2].1,
                runs[i + 3].1,
                runs[i + 4].1,
            ];
            if is_finder_ratio(&window, 0.5) {
                let total: u32 = window.iter().sum();
                let cx = runs[i + 2].0 as f32 + runs[i + 2].1 as f32 / 2.0;
                if let Some((fx, fy, module)) = confirm(bits, cx, y, total) {
                    merge(&mut found, fx, fy, module);
                }
            }
            i += 2;
        }
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.hits));
    found
}

fn merge(found: &mut Vec<Finder>, x: f32, y: f32, module: f32) {
    for f in found.iter_mut() {
        let near = (f.x - x).abs() <= f.module.max(module) * 1.5
            && (f.y - y).abs() <= f.module.max(module) * 1.5;
        if near && (f.module - module).abs() <= f.module.max(module) * 0.5 {
            let n = f.hits as f32;
            f.x = (f.x * n + x) / (n + 1.0);
            f.y = (f.y * n + y) / (n + 1.0);
            f.module = (f.module * n + module) / (n + 1.0);
            f.hits += 1;
            return;
        }
    }
    found.push(Finder {
        x,
        y,
        module,
        hits: 1,
    });
}

/// The module size along the line from `from` towards `to`, measured across the finder at `from`
/// (its outer edges are 3.5 modules either side of the centre).
pub fn module_along(bits: &BitImage, from: (f32, f32), to: (f32, f32), fallback: f32) -> f32 {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let len = (dx * dx + dy * dy).sqrt();
    if len < 1.0 {
        return fallback;
    }
    let (ux, uy) = (dx / len, dy / len);
    let half = |sign: f32| -> Option<f32> {
        // dark (centre), light, dark, then the light outside: the distance to that last edge.
        let expect = [true, false, true];
        let mut stage = 0;
        let mut t = 0.0f32;
        let limit = fallback * 8.0;
        while t < limit {
            let px = (from.0 + sign * ux * t).floor() as i32;
            let py = (from.1 + sign * uy * t).floor() as i32;
            let v = bits.at(px, py)?;
            if v != expect[stage] {
                stage += 1;
                if stage == 3 {
                    return Some(t);
                }
            }
            t += 0.5;
        }
        None
    };
    // Both halves give 7 modules; one alone (the other runs off the frame) gives 3.5.
    let measured = match (half(1.0), half(-1.0)) {
        (Some(a), Some(b)) => (a + b) / 7.0,
        (Some(a), None) | (None, Some(a)) => a / 3.5,
        (None, None) => return fallback,
    };
    if measured > fallback * 0.5 && measured < fallback * 2.0 {
        measured
    } else {
        fallback
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_accepts_a_finder_and_rejects_stripes() {
        assert!(is_finder_ratio(&[4, 4, 12, 4, 4], 0.5));
        assert!(is_finder_ratio(&[3, 5, 11, 4, 5], 0.5));
        assert!(!is_finder_ratio(&[4, 4, 4, 4, 4], 0.5));
        assert!(!is_finder_ratio(&[1, 1, 3, 1, 0], 0.5));
    }
}
