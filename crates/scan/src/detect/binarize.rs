//! Grey → black/white with a threshold that follows the light across the frame.
//!
//! A webcam frame of a card has glare on one side and a hand's shadow on the other, so one global
//! threshold fails. The frame is cut into small blocks; each block's threshold is its mean when the
//! block has contrast, and is inherited from its neighbours when it is flat (a flat block inside a
//! dark module must not turn white). A pixel is then compared with the mean threshold of the 5×5
//! blocks around its own, which smooths block edges away.

/// A black/white image: `true` = dark.
pub struct BitImage {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    dark: Vec<bool>,
}

impl BitImage {
    /// Whether pixel (x, y) is dark; it must lie inside the image.
    #[inline]
    pub fn get(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }

    /// `None` outside the image.
    #[inline]
    pub fn at(&self, x: i32, y: i32) -> Option<bool> {
        if x < 0 || y < 0 || x as usize >= self.width || y as usize >= self.height {
            None
        } else {
            Some(self.get(x as usize, y as usize))
        }
    }

    /// Row `y`, one entry per pixel, left to right.
    pub fn row(&self, y: usize) -> &[bool] {
        &self.dark[y * self.width..(y + 1) * self.width]
    }
}

/// Below this spread of grey levels a block counts as flat.
const MIN_CONTRAST: u32 = 24;

/// Block-local threshold; `block` is the block side in pixels (8 suits 480p–1080p frames).
/// `bias` shifts every threshold: positive calls more pixels dark (faint or thin print), negative
/// fewer (blur or ink spread merging modules).
pub fn block_threshold(
    grey: &[u8],
    width: usize,
    height: usize,
    block: usize,
    bias: i32,
) -> BitImage {
    assert_eq!(grey.len(), width * height);
    if width < block * 5 || height < block * 5 {
        return global_mean(grey, width, height);
    }
    let (bw, bh) = (width.div_ceil(block), height.div_ceil(block));
    let mut thresholds = vec![0u32; bw * bh];
    for by in 0..bh {
        // The last row/column of blocks is shifted inwards so that every block is whole.
        let y0 = (by * block).min(height - block);
        for bx in 0..bw {
            let x0 = (bx * block).min(width - block);
            let (mut sum, mut lo, mut hi) = (0u32, 255u32, 0u32);
            for y in y0..y0 + block {
                for &v in &grey[y * width + x0..y * width + x0 + block] {
                    let v = u32::from(v);
                    sum += v;
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
            let mut t = sum / (block * block) as u32;
            if hi - lo <= MIN_CONTRAST {
                // Flat: assume paper (threshold below its darkest pixel) unless the neighbours
                // already seen say this block is darker than their threshold, i.e. inside ink.
                t = lo / 2;
                if bx > 0 && by > 0 {
                    let up = thresholds[(by - 1) * bw + bx];
                    let left = thresholds[by * bw + bx - 1];
                    let up_left = thresholds[(by - 1) * bw + bx - 1];
                    let neighbours = (up + 2 * left + up_left) / 4;
                    if lo < neighbours {
                        t = neighbours;
                    }
                }
            }
            thresholds[by * bw + bx] = t;
        }
    }
    let mut dark = vec![false; width * height];
    for by in 0..bh {
        let y0 = (by * block).min(height - block);
        let cy = by.clamp(2, bh - 3);
        for bx in 0..bw {
            let x0 = (bx * block).min(width - block);
            let cx = bx.clamp(2, bw - 3);
            let mut sum = 0u32;
            for ny in cy - 2..=cy + 2 {
                for nx in cx - 2..=cx + 2 {
                    sum += thresholds[ny * bw + nx];
                }
            }
            let t = (sum as i32 / 25 + bias).clamp(0, 255) as u8;
            for y in y0..y0 + block {
                let row = y * width;
                for x in x0..x0 + block {
                    dark[row + x] = grey[row + x] <= t;
                }
            }
        }
    }
    BitImage {
        width,
        height,
        dark,
    }
}

/// Dark where a pixel is below `percent` % of the mean of the square of side `2·radius + 1`
/// around it (a summed-area table makes every window the same cost). Unlike the block threshold,
/// nothing here is inherited from flat neighbours, so it keeps faint ink next to a dark desk.
pub fn local_mean(
    grey: &[u8],
    width: usize,
    height: usize,
    radius: usize,
    percent: u32,
) -> BitImage {
    let stride = width + 1;
    let mut sums = vec![0u32; stride * (height + 1)];
    for y in 0..height {
        let mut row = 0u32;
        for x in 0..width {
            row += u32::from(grey[y * width + x]);
            sums[(y + 1) * stride + x + 1] = sums[y * stride + x + 1] + row;
        }
    }
    let mut dark = vec![false; width * height];
    for y in 0..height {
        let (y0, y1) = (y.saturating_sub(radius), (y + radius + 1).min(height));
        for x in 0..width {
            let (x0, x1) = (x.saturating_sub(radius), (x + radius + 1).min(width));
            let total = sums[y1 * stride + x1] + sums[y0 * stride + x0]
                - sums[y0 * stride + x1]
                - sums[y1 * stride + x0];
            let area = ((x1 - x0) * (y1 - y0)) as u32;
            // v < percent/100 · total/area, in integers.
            dark[y * width + x] = u32::from(grey[y * width + x]) * area * 100 < total * percent;
        }
    }
    BitImage {
        width,
        height,
        dark,
    }
}

fn global_mean(grey: &[u8], width: usize, height: usize) -> BitImage {
    let mean = grey.iter().map(|&v| u64::from(v)).sum::<u64>() / grey.len().max(1) as u64;
    BitImage {
        width,
        height,
        dark: grey.iter().map(|&v| u64::from(v) <= mean).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_a_light_gradient() {
        // Left half dim, right half bright; a dark square in each must come out dark, paper light.
        let (w, h) = (160, 80);
        let mut grey = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                let paper = if x < w / 2 { 90 } else { 230 };
                let ink =
                    (30..50).contains(&y) && ((20..40).contains(&x) || (110..130).contains(&x));
                grey[y * w + x] = if ink { paper / 3 } else { paper };
            }
        }
        let bits = block_threshold(&grey, w, h, 8, 0);
        assert!(bits.get(30, 40) && bits.get(120, 40));
        assert!(!bits.get(5, 5) && !bits.get(150, 70) && !bits.get(60, 40));
    }
}
