//! The perspective map from a code's module grid to frame pixels.
//!
//! A card is a plane, so one homography maps module coordinates to pixels exactly; the work is in
//! estimating it well. It is fitted by least squares to every point we have located (finder centres,
//! alignment patterns), in normalised coordinates for numerical stability.

/// A perspective map from grid points (u, v), in modules from the code's corner, to frame pixels.
#[derive(Debug, Clone, Copy)]
pub struct Homography {
    m: [f64; 9],
}

impl Homography {
    /// Image point for grid point (u, v).
    #[inline]
    pub fn map(&self, u: f64, v: f64) -> (f64, f64) {
        let m = &self.m;
        let w = m[6] * u + m[7] * v + m[8];
        (
            (m[0] * u + m[1] * v + m[2]) / w,
            (m[3] * u + m[4] * v + m[5]) / w,
        )
    }

    /// Fits grid → image from ≥ 4 correspondences `(u, v, x, y)`; `None` when degenerate.
    pub fn fit(points: &[(f64, f64, f64, f64)]) -> Option<Homography> {
        if points.len() < 4 {
            return None;
        }
        let (src_n, _) = normaliser(points.iter().map(|p| (p.0, p.1)));
        let (dst_n, dst_inv) = normaliser(points.iter().map(|p| (p.2, p.3)));
        // Normal equations AᵀA h = Aᵀb for the 8 unknowns (h8 = 1).
        let mut ata = [[0f64; 8]; 8];
        let mut atb = [0f64; 8];
        for &(u, v, x, y) in points {
            let (u, v) = apply(&src_n, u, v);
            let (x, y) = apply(&dst_n, x, y);
            let rows = [
                ([u, v, 1.0, 0.0, 0.0, 0.0, -u * x, -v * x], x),
                ([0.0, 0.0, 0.0, u, v, 1.0, -u * y, -v * y], y),
            ];
            for (a, b) in rows {
                for i in 0..8 {
                    atb[i] += a[i] * b;
                    for j in 0..8 {
                        ata[i][j] += a[i] * a[j];
                    }
                }
            }
        }
        let h = solve8(ata, atb)?;
        let hn = [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0];
        let m = mul(&dst_inv, &mul(&hn, &src_n));
        if m.iter().any(|v| !v.is_finite()) || m[8].abs() < 1e-12 {
            return None;
        }
        Some(Homography { m })
    }
}

/// Similarity transform moving the points' centroid to 0 and their mean distance to √2, and its
/// inverse.
fn normaliser(points: impl Iterator<Item = (f64, f64)> + Clone) -> ([f64; 9], [f64; 9]) {
    let n = points.clone().count() as f64;
    let (sx, sy) = points
        .clone()
        .fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
    let (cx, cy) = (sx / n, sy / n);
    let spread = points
        .map(|p| ((p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sqrt())
        .sum::<f64>()
        / n;
    let s = if spread > 1e-9 {
        std::f64::consts::SQRT_2 / spread
    } else {
        1.0
    };
    (
        [s, 0.0, -s * cx, 0.0, s, -s * cy, 0.0, 0.0, 1.0],
        [1.0 / s, 0.0, cx, 0.0, 1.0 / s, cy, 0.0, 0.0, 1.0],
    )
}

fn apply(t: &[f64; 9], x: f64, y: f64) -> (f64, f64) {
    (t[0] * x + t[1] * y + t[2], t[3] * x + t[4] * y + t[5])
}

fn mul(a: &[f64; 9], b: &[f64; 9]) -> [f64; 9] {
    let mut r = [0f64; 9];
    for i in 0..3 {
        for j in 0..3 {
            r[i * 3 + j] = (0..3).map(|k| a[i * 3 + k] * b[k * 3 + j]).sum();
        }
    }
    r
}

/// Gaussian elimination with partial pivoting.
fn solve8(mut a: [[f64; 8]; 8], mut b: [f64; 8]) -> Option<[f64; 8]> {
    for col in 0..8 {
        let pivot = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = a[col];
        for row in col + 1..8 {
            let f = a[row][col] / pivot_row[col];
            for (cell, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *cell -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0f64; 8];
    for row in (0..8).rev() {
        let s: f64 = (row + 1..8).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_perspective_map() {
        let truth = Homography {
            m: [3.0, 0.4, 100.0, -0.3, 2.6, 50.0, 0.001, 0.0005, 1.0],
        };
        let grid = [
            (3.5, 3.5),
            (40.5, 3.5),
            (3.5, 40.5),
            (37.5, 37.5),
            (20.5, 22.5),
        ];
        let pts: Vec<_> = grid
            .iter()
            .map(|&(u, v)| {
                let (x, y) = truth.map(u, v);
                (u, v, x, y)
            })
            .collect();
        let fit = Homography::fit(&pts).unwrap();
        for (u, v) in [(0.0, 0.0), (44.0, 44.0), (10.0, 30.0)] {
            let (a, b) = (truth.map(u, v), fit.map(u, v));
            assert!(
                (a.0 - b.0).abs() < 1e-6 && (a.1 - b.1).abs() < 1e-6,
                "{a:?} vs {b:?}"
            );
        }
    }

    #[test]
    fn degenerate_points_give_none() {
        let pts = [(0.0, 0.0, 1.0, 1.0); 4];
        assert!(Homography::fit(&pts).is_none());
    }
}
