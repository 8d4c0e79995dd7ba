//! From three finder patterns to a sampled module grid.
//!
//! The three finders fix the code's corner, orientation and approximate size. The size is counted
//! along the timing patterns, with the finder spacing in module units (measured across each finder
//! along the line between them, so perspective is allowed for) as the fallback. The bottom-right
//! alignment pattern gives the fourth point of an initial homography; then every other alignment
//! pattern of the version is looked for where the current homography predicts it, nearest first,
//! and each one found is added to the fit. That is what keeps the sampling on the module centres of
//! large (v7–v19) codes seen at a slant.

use super::binarize::BitImage;
use super::finder::{module_along, Finder};
use super::homography::Homography;

type P = (f32, f32);

fn dist(a: P, b: P) -> f32 {
    ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
}

/// Three finders in code order: top-left (the corner), top-right, bottom-left.
#[derive(Debug, Clone, Copy)]
pub struct Corners {
    /// Top-left finder, the corner between the other two.
    pub tl: Finder,
    /// Top-right finder.
    pub tr: Finder,
    /// Bottom-left finder.
    pub bl: Finder,
}

/// Plausible finder triples, best first.
pub fn triples(finders: &[Finder], limit: usize) -> Vec<Corners> {
    let pool = &finders[..finders.len().min(limit)];
    let mut scored = Vec::new();
    for i in 0..pool.len() {
        for j in i + 1..pool.len() {
            for k in j + 1..pool.len() {
                if let Some(s) = score(pool[i], pool[j], pool[k]) {
                    scored.push(s);
                }
            }
        }
    }
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    scored.into_iter().map(|(_, c)| c).collect()
}

fn score(a: Finder, b: Finder, c: Finder) -> Option<(f32, Corners)> {
    let modules = [a.module, b.module, c.module];
    let (lo, hi) = modules
        .iter()
        .fold((f32::MAX, 0f32), |(l, h), &m| (l.min(m), h.max(m)));
    if hi > lo * 1.8 {
        return None;
    }
    let (ab, bc, ac) = (
        dist((a.x, a.y), (b.x, b.y)),
        dist((b.x, b.y), (c.x, c.y)),
        dist((a.x, a.y), (c.x, c.y)),
    );
    // The corner finder is the one opposite the longest side.
    let (corner, p, q) = if bc >= ab && bc >= ac {
        (a, b, c)
    } else if ac >= ab && ac >= bc {
        (b, a, c)
    } else {
        (c, a, b)
    };
    let (v1, v2) = (
        (p.x - corner.x, p.y - corner.y),
        (q.x - corner.x, q.y - corner.y),
    );
    let (l1, l2) = (
        (v1.0 * v1.0 + v1.1 * v1.1).sqrt(),
        (v2.0 * v2.0 + v2.1 * v2.1).sqrt(),
    );
    let module = (a.module + b.module + c.module) / 3.0;
    // At least a version-1 code (centres 14 modules apart), at most version 40.
    if l1.min(l2) < 10.0 * module || l1.max(l2) > 190.0 * module {
        return None;
    }
    let legs = l1.max(l2) / l1.min(l2);
    let cos = (v1.0 * v2.0 + v1.1 * v2.1) / (l1 * l2);
    if legs > 1.8 || cos.abs() > 0.6 {
        return None;
    }
    let cross = v1.0 * v2.1 - v1.1 * v2.0;
    let (tr, bl) = if cross > 0.0 { (p, q) } else { (q, p) };
    let s = (hi / lo - 1.0) + (legs - 1.0) + cos.abs()
        - 0.05 * ((a.hits + b.hits + c.hits) as f32).ln();
    Some((s, Corners { tl: corner, tr, bl }))
}

/// Code sizes (modules per side) worth trying for these corners, most likely first: from counting
/// the timing patterns' modules, and from the finder spacing in module units.
pub fn sizes(bits: &BitImage, c: &Corners) -> Vec<usize> {
    let (tl, tr, bl) = ((c.tl.x, c.tl.y), (c.tr.x, c.tr.y), (c.bl.x, c.bl.y));
    let across =
        (module_along(bits, tl, tr, c.tl.module) + module_along(bits, tr, tl, c.tr.module)) / 2.0;
    let down =
        (module_along(bits, tl, bl, c.tl.module) + module_along(bits, bl, tl, c.bl.module)) / 2.0;
    let estimate = (dist(tl, tr) / across + dist(tl, bl) / down) / 2.0 + 7.0;
    let snap = |e: f32| (((e - 17.0) / 4.0).round() * 4.0 + 17.0).clamp(21.0, 177.0) as usize;
    let mut out: Vec<usize> = Vec::with_capacity(4);
    let mut push = |size: usize| {
        if (21..=177).contains(&size) && !out.contains(&size) {
            out.push(size);
        }
    };
    // Row 6 runs from the top-left finder's centre to the top-right's through the timing pattern;
    // column 6 likewise to the bottom-left. Both should count the same size.
    let row = timing_runs(bits, tl, tr, bl, down).map(|runs| runs + 13);
    let col = timing_runs(bits, tl, bl, tr, across).map(|runs| runs + 13);
    for counted in [row, col].into_iter().flatten() {
        // A blurred module can merge or split one run; the size is still the nearest 4k + 1.
        if (counted as f32 - estimate).abs() < 8.0 {
            push(snap(counted as f32));
        }
    }
    let nearest = snap(estimate);
    push(nearest);
    push(if estimate > nearest as f32 {
        nearest + 4
    } else {
        nearest.saturating_sub(4)
    });
    out
}

/// Counts the runs along the timing line that starts 3 modules from `from`'s centre (towards
/// `side`, across the finder's last row) and ends at the same place of the finder at `to`.
fn timing_runs(bits: &BitImage, from: P, to: P, side: P, side_module: f32) -> Option<usize> {
    let (sx, sy) = (side.0 - from.0, side.1 - from.1);
    let side_len = sx.hypot(sy);
    let (ox, oy) = (
        sx / side_len * 3.0 * side_module,
        sy / side_len * 3.0 * side_module,
    );
    let (a, b) = ((from.0 + ox, from.1 + oy), (to.0 + ox, to.1 + oy));
    let len = dist(a, b);
    let steps = (len * 2.0) as usize;
    let mut runs: Vec<(bool, f32)> = Vec::new();
    for i in 0..=steps {
        let t = i as f32 / steps as f32;
        let v = bits.at(
            (a.0 + t * (b.0 - a.0)).floor() as i32,
            (a.1 + t * (b.1 - a.1)).floor() as i32,
        )?;
        match runs.last_mut() {
            Some((dark, n)) if *dark == v => *n += 0.5,
            _ => runs.push((v, 0.5)),
        }
    }
    // Specks shorter than a third of a module are noise: fold them into the run before.
    let min_run = side_module / 3.0;
    let mut merged: Vec<(bool, f32)> = Vec::new();
    for (dark, n) in runs {
        match merged.last_mut() {
            Some((d, m)) if *d == dark => *m += n,
            Some((_, m)) if n < min_run => *m += n,
            _ => merged.push((dark, n)),
        }
    }
    (merged.first()?.0 && merged.last()?.0).then_some(merged.len())
}

/// Centres of the alignment patterns of a code `size` modules wide (ISO/IEC 18004 table E.1, by
/// its generating rule).
pub fn alignment_centres(size: usize) -> Vec<usize> {
    let version = (size - 17) / 4;
    if version < 2 {
        return Vec::new();
    }
    let count = version / 7 + 2;
    let step = if version == 32 {
        26
    } else {
        (version * 4 + count * 2 + 1) / (count * 2 - 2) * 2
    };
    let mut out = vec![6];
    let mut pos = size - 7;
    let mut rest = Vec::new();
    for _ in 0..count - 1 {
        rest.push(pos);
        pos -= step;
    }
    rest.reverse();
    out.extend(rest);
    out
}

/// Looks for an alignment pattern (dark module, light ring, dark ring) within `radius` of `near`;
/// `axes` are the local steps of one module along the code's rows and columns. Returns the
/// candidate that best matches the whole 5×5 pattern, the closest to `near` among equals.
pub fn find_alignment(bits: &BitImage, near: P, axes: (P, P), radius: f32) -> Option<P> {
    let module = ((axes.0 .0.hypot(axes.0 .1)) + axes.1 .0.hypot(axes.1 .1)) / 2.0;
    let x0 = (near.0 - radius).max(0.0) as usize;
    let x1 = ((near.0 + radius) as usize).min(bits.width.saturating_sub(1));
    let y0 = (near.1 - radius).max(0.0) as usize;
    let y1 = ((near.1 + radius) as usize).min(bits.height.saturating_sub(1));
    if x1 <= x0 + 2 || y1 <= y0 + 2 {
        return None;
    }
    let fits = |run: u32| about_one_module(run, module);
    let mut best: Option<(f32, P)> = None;
    let mut runs: Vec<(usize, u32, bool)> = Vec::new();
    for y in y0..=y1 {
        runs.clear();
        let row = &bits.row(y)[x0..=x1];
        let mut start = 0;
        for x in 1..=row.len() {
            if x == row.len() || row[x] != row[start] {
                runs.push((x0 + start, (x - start) as u32, row[start]));
                start = x;
            }
        }
        // light, dark, light — each flanked so the runs are complete.
        for w in runs.windows(5) {
            let [_, l1, d, l2, _] = w else { continue };
            // Runs alternate, so a dark middle run has light neighbours.
            if !d.2 {
                continue;
            }
            if !(fits(l1.1) && fits(d.1) && fits(l2.1)) {
                continue;
            }
            let cx = d.0 as f32 + d.1 as f32 / 2.0;
            let Some((vrun, vmid)) = vertical_dot(bits, cx as i32, y as i32, module) else {
                continue;
            };
            if !fits(vrun) {
                continue;
            }
            let centre = (cx, y as f32 + vmid + 0.5);
            let misses = pattern_misses(bits, centre, axes);
            if misses > 3 {
                continue;
            }
            let rank = misses as f32 * radius * 4.0 + dist(centre, near);
            if best.is_none_or(|(b, _)| rank < b) {
                best = Some((rank, centre));
            }
        }
    }
    best.map(|(_, c)| c)
}

/// How many of the 25 modules around `centre` differ from an alignment pattern.
fn pattern_misses(bits: &BitImage, centre: P, (ex, ey): (P, P)) -> usize {
    let mut misses = 0;
    for j in -2i32..=2 {
        for i in -2i32..=2 {
            let want_dark = i.abs() == 2 || j.abs() == 2 || (i == 0 && j == 0);
            let x = centre.0 + i as f32 * ex.0 + j as f32 * ey.0;
            let y = centre.1 + i as f32 * ex.1 + j as f32 * ey.1;
            if bits.at(x.floor() as i32, y.floor() as i32) != Some(want_dark) {
                misses += 1;
            }
        }
    }
    misses
}

/// Whether a run of pixels is one module long, give or take blur.
fn about_one_module(run: u32, module: f32) -> bool {
    (run as f32 - module).abs() < module * 0.6 + 0.5
}

/// Vertical check of an alignment pattern's centre dot: its height and the middle's offset, with a
/// light run of about a module above and below.
fn vertical_dot(bits: &BitImage, x: i32, y: i32, module: f32) -> Option<(u32, f32)> {
    let max = (module * 2.0).ceil() as u32 + 1;
    let walk = |dir: i32| -> Option<(u32, u32)> {
        let (mut dark, mut light) = (0u32, 0u32);
        let mut t = 0;
        while bits.at(x, y + dir * t) == Some(true) {
            dark += 1;
            t += 1;
            if dark > max {
                return None;
            }
        }
        while bits.at(x, y + dir * t) == Some(false) {
            light += 1;
            t += 1;
            if light > max {
                return None;
            }
        }
        bits.at(x, y + dir * t)?;
        Some((dark, light))
    };
    let (up_dark, up_light) = walk(-1)?;
    let (down_dark, down_light) = walk(1)?;
    if !about_one_module(up_light, module) || !about_one_module(down_light, module) {
        return None;
    }
    Some((
        up_dark + down_dark - 1,
        (down_dark as f32 - up_dark as f32) / 2.0,
    ))
}

/// The grid → image map for these corners at this size, refined on every alignment pattern found.
///
/// Alignment patterns are looked for in order of distance from the top-left finder, each where
/// the map fitted so far predicts it, and each one found is added to the fit: near the finders the
/// prediction is good, and every pattern found improves it further out.
pub fn locate(bits: &BitImage, c: &Corners, size: usize) -> Option<Homography> {
    let (tl, tr, bl) = ((c.tl.x, c.tl.y), (c.tr.x, c.tr.y), (c.bl.x, c.bl.y));
    let n = size as f64;
    let module = (c.tl.module + c.tr.module + c.bl.module) / 3.0;
    let mut found = vec![
        (3.5, 3.5, tl.0 as f64, tl.1 as f64),
        (n - 3.5, 3.5, tr.0 as f64, tr.1 as f64),
        (3.5, n - 3.5, bl.0 as f64, bl.1 as f64),
    ];
    let k = (size - 7) as f32;
    let axes = (
        ((tr.0 - tl.0) / k, (tr.1 - tl.1) / k),
        ((bl.0 - tl.0) / k, (bl.1 - tl.1) / k),
    );
    let affine = |u: f32, v: f32| -> P {
        let (a, b) = (u - 3.5, v - 3.5);
        (
            tl.0 + a * axes.0 .0 + b * axes.1 .0,
            tl.1 + a * axes.0 .1 + b * axes.1 .1,
        )
    };
    // Until a fourth point is found, a parallelogram stands in for the perspective.
    let stand_in = {
        let p = affine(size as f32 - 3.5, size as f32 - 3.5);
        (n - 3.5, n - 3.5, p.0 as f64, p.1 as f64)
    };
    let fit = |found: &[(f64, f64, f64, f64)]| {
        if found.len() >= 4 {
            Homography::fit(found)
        } else {
            let mut with = found.to_vec();
            with.push(stand_in);
            Homography::fit(&with)
        }
    };
    let centres = alignment_centres(size);
    let Some(&last) = centres.last() else {
        return fit(&found);
    };
    // The bottom-right pattern first, in a widening search: it fixes the perspective.
    let corner = last as f32 + 0.5;
    if let Some(p) = [4.0, 8.0, 14.0]
        .into_iter()
        .find_map(|r| find_alignment(bits, affine(corner, corner), axes, r * module))
    {
        found.push((corner as f64, corner as f64, p.0 as f64, p.1 as f64));
    }
    let mut h = fit(&found)?;
    let mut rest: Vec<(usize, usize)> = centres
        .iter()
        .flat_map(|&r| centres.iter().map(move |&col| (r, col)))
        .filter(|&(r, col)| {
            let on_finder = (r == 6 && (col == 6 || col == last)) || (col == 6 && r == last);
            !(on_finder || (r == last && col == last))
        })
        .collect();
    rest.sort_by_key(|&(r, col)| r + col);
    for (r, col) in rest {
        let (u, v) = (col as f64 + 0.5, r as f64 + 0.5);
        let (px, py) = h.map(u, v);
        let local = axes_at(&h, u, v);
        let step = (local.0 .0.hypot(local.0 .1) + local.1 .0.hypot(local.1 .1)) / 2.0;
        if let Some(p) = find_alignment(bits, (px as f32, py as f32), local, step * 2.0) {
            found.push((u, v, p.0 as f64, p.1 as f64));
            h = fit(&found)?;
        }
    }
    Some(h)
}

/// One module's step along the code's rows and columns at grid point (u, v), in pixels.
fn axes_at(h: &Homography, u: f64, v: f64) -> (P, P) {
    let a = h.map(u, v);
    let b = h.map(u + 1.0, v);
    let c = h.map(u, v + 1.0);
    (
        ((b.0 - a.0) as f32, (b.1 - a.1) as f32),
        ((c.0 - a.0) as f32, (c.1 - a.1) as f32),
    )
}

/// A sampled code: one bit per module.
pub struct Sampled {
    /// Modules per side (17 + 4 × version).
    pub size: usize,
    /// One entry per module, row by row; `true` = dark.
    pub dark: Vec<bool>,
}

impl rqrr::BitGrid for Sampled {
    fn size(&self) -> usize {
        self.size
    }
    fn bit(&self, y: usize, x: usize) -> bool {
        self.dark[y * self.size + x]
    }
}

/// Reads every module centre; `None` when much of the code lies outside the frame.
pub fn sample(bits: &BitImage, h: &Homography, size: usize) -> Option<Sampled> {
    let mut dark = Vec::with_capacity(size * size);
    let mut outside = 0;
    for r in 0..size {
        for c in 0..size {
            let (x, y) = h.map(c as f64 + 0.5, r as f64 + 0.5);
            match bits.at(x.floor() as i32, y.floor() as i32) {
                Some(v) => dark.push(v),
                None => {
                    outside += 1;
                    dark.push(false);
                }
            }
        }
    }
    (outside * 8 < size * size).then_some(Sampled { size, dark })
}

/// Reads every module centre from the grey frame (bilinear) and calls it dark when it is darker
/// than the mean of the 7×7 modules around it. Where glare or a shadow crosses the code, this
/// follows the code's own contrast rather than the frame's. Modules outside the frame read light.
pub fn sample_grey(
    grey: &[u8],
    width: usize,
    height: usize,
    h: &Homography,
    size: usize,
) -> Sampled {
    let level = |x: f64, y: f64| -> f32 {
        // Pixel centres sit at +0.5.
        let (x, y) = (x - 0.5, y - 0.5);
        if x < 0.0 || y < 0.0 || x >= (width - 1) as f64 || y >= (height - 1) as f64 {
            return 255.0;
        }
        let (x0, y0) = (x as usize, y as usize);
        let (fx, fy) = ((x - x0 as f64) as f32, (y - y0 as f64) as f32);
        let at = |xx: usize, yy: usize| f32::from(grey[yy * width + xx]);
        let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
        let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
        top * (1.0 - fy) + bottom * fy
    };
    let mut levels = Vec::with_capacity(size * size);
    for r in 0..size {
        for c in 0..size {
            let (x, y) = h.map(c as f64 + 0.5, r as f64 + 0.5);
            levels.push(level(x, y));
        }
    }
    // Summed-area table over the module grid for the 7×7 means.
    let n = size + 1;
    let mut sums = vec![0f32; n * n];
    for r in 0..size {
        let mut row = 0.0;
        for c in 0..size {
            row += levels[r * size + c];
            sums[(r + 1) * n + c + 1] = sums[r * n + c + 1] + row;
        }
    }
    let mut dark = Vec::with_capacity(size * size);
    for r in 0..size {
        let (r0, r1) = (r.saturating_sub(3), (r + 4).min(size));
        for c in 0..size {
            let (c0, c1) = (c.saturating_sub(3), (c + 4).min(size));
            let total =
                sums[r1 * n + c1] - sums[r0 * n + c1] - sums[r1 * n + c0] + sums[r0 * n + c0];
            let mean = total / ((r1 - r0) * (c1 - c0)) as f32;
            dark.push(levels[r * size + c] < mean);
        }
    }
    Sampled { size, dark }
}

/// How well the two timing patterns alternate (1.0 = perfectly).
pub fn timing_score(grid: &Sampled) -> f32 {
    let n = grid.size;
    timing(n, |r, c| grid.dark[r * n + c])
}

/// [`timing_score`] read straight from the frame: a cheap test before sampling a whole code.
pub fn timing_through(bits: &BitImage, h: &Homography, size: usize) -> f32 {
    timing(size, |r, c| {
        let (x, y) = h.map(c as f64 + 0.5, r as f64 + 0.5);
        bits.at(x.floor() as i32, y.floor() as i32).unwrap_or(false)
    })
}

fn timing(n: usize, dark: impl Fn(usize, usize) -> bool) -> f32 {
    let mut good = 0;
    for i in 8..n - 8 {
        good += usize::from(dark(6, i) == (i % 2 == 0));
        good += usize::from(dark(i, 6) == (i % 2 == 0));
    }
    good as f32 / (2 * (n - 16)) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_centres_match_the_standard_table() {
        assert_eq!(alignment_centres(21), Vec::<usize>::new());
        assert_eq!(alignment_centres(25), vec![6, 18]);
        assert_eq!(alignment_centres(45), vec![6, 22, 38]);
        assert_eq!(alignment_centres(73), vec![6, 26, 46, 66]);
        assert_eq!(alignment_centres(77), vec![6, 26, 48, 70]);
        assert_eq!(alignment_centres(145), vec![6, 34, 60, 86, 112, 138]);
        assert_eq!(alignment_centres(177), vec![6, 30, 58, 86, 114, 142, 170]);
    }
}
