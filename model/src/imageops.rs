//! Pure image operations: affine maps, bilinear resampling (crop, resize, warp) and the
//! 5-point similarity fit. No model code here; everything is unit-tested below.
//!
//! Coordinates are continuous (see [`Frame`]): pixel `(i, j)` has its centre at
//! `(i + 0.5, j + 0.5)`. Sampling is bilinear with replicated borders, so a crop that
//! reaches outside the frame repeats the edge pixels instead of inventing black.

use crate::frame::Frame;

/// A 2x3 affine map `p' = A p + t`, stored row-major as `[[a, b, tx], [c, d, ty]]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine(pub [[f32; 3]; 2]);

impl Affine {
    /// The identity map.
    pub const IDENTITY: Affine = Affine([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]);

    /// Applies the map to a point.
    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        let m = &self.0;
        [m[0][0] * p[0] + m[0][1] * p[1] + m[0][2], m[1][0] * p[0] + m[1][1] * p[1] + m[1][2]]
    }

    /// The inverse map, or `None` when the linear part is singular.
    pub fn invert(&self) -> Option<Affine> {
        let [[a, b, tx], [c, d, ty]] = self.0;
        let det = a * d - b * c;
        if !det.is_finite() || det.abs() < 1e-12 {
            return None;
        }
        let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det);
        Some(Affine([[ia, ib, -(ia * tx + ib * ty)], [ic, id, -(ic * tx + id * ty)]]))
    }

    /// `self` after `first`: the map `p -> self(first(p))`.
    pub fn after(&self, first: &Affine) -> Affine {
        let [[a, b, tx], [c, d, ty]] = self.0;
        let [[e, f, ux], [g, h, uy]] = first.0;
        Affine([[a * e + b * g, a * f + b * h, a * ux + b * uy + tx], [c * e + d * g, c * f + d * h, c * ux + d * uy + ty]])
    }

    /// Maps an `out_w x out_h` output grid onto the rectangle `(x, y, w, h)` of the source:
    /// the destination-to-source map of a crop-and-resize.
    pub fn rect_to_grid(x: f32, y: f32, w: f32, h: f32, out_w: usize, out_h: usize) -> Affine {
        let sx = w / out_w as f32;
        let sy = h / out_h as f32;
        Affine([[sx, 0.0, x], [0.0, sy, y]])
    }

    /// Least-squares similarity (rotation, uniform scale, translation; no reflection)
    /// taking `src[i]` to `dst[i]` (Umeyama's method in closed form for 2-D).
    ///
    /// Returns `None` when the source points coincide or the slices differ in length.
    pub fn similarity_fit(src: &[[f32; 2]], dst: &[[f32; 2]]) -> Option<Affine> {
        if src.len() != dst.len() || src.is_empty() {
            return None;
        }
        let n = src.len() as f64;
        let mean = |pts: &[[f32; 2]]| {
            let (sx, sy) = pts.iter().fold((0.0, 0.0), |(x, y), p| (x + p[0] as f64, y + p[1] as f64));
            (sx / n, sy / n)
        };
        let (msx, msy) = mean(src);
        let (mdx, mdy) = mean(dst);
        let (mut norm, mut dot, mut cross) = (0.0f64, 0.0f64, 0.0f64);
        for (s, d) in src.iter().zip(dst) {
            let (sx, sy) = (s[0] as f64 - msx, s[1] as f64 - msy);
            let (dx, dy) = (d[0] as f64 - mdx, d[1] as f64 - mdy);
            norm += sx * sx + sy * sy;
            dot += sx * dx + sy * dy;
            cross += sx * dy - sy * dx;
        }
        if norm < 1e-12 {
            return None;
        }
        // p' = [a -b; b a] p + t
        let a = dot / norm;
        let b = cross / norm;
        let tx = mdx - (a * msx - b * msy);
        let ty = mdy - (b * msx + a * msy);
        Some(Affine([[a as f32, -b as f32, tx as f32], [b as f32, a as f32, ty as f32]]))
    }
}

/// Bilinear sample of RGB at continuous point `(x, y)`, borders replicated.
#[inline]
fn sample_rgb_at(frame: &Frame<'_>, x: f32, y: f32) -> [f32; 3] {
    let w = frame.width() as i64;
    let h = frame.height() as i64;
    let px = frame.rgba();
    // continuous -> index coordinates
    let xi = x - 0.5;
    let yi = y - 0.5;
    let x0f = xi.floor();
    let y0f = yi.floor();
    let fx = xi - x0f;
    let fy = yi - y0f;
    let x0 = x0f as i64;
    let y0 = y0f as i64;
    let cx0 = x0.clamp(0, w - 1) as usize;
    let cx1 = (x0 + 1).clamp(0, w - 1) as usize;
    let cy0 = y0.clamp(0, h - 1) as usize;
    let cy1 = (y0 + 1).clamp(0, h - 1) as usize;
    let stride = w as usize * 4;
    let (r0, r1) = (cy0 * stride, cy1 * stride);
    let mut out = [0.0f32; 3];
    for (c, o) in out.iter_mut().enumerate() {
        let p00 = px[r0 + cx0 * 4 + c] as f32;
        let p01 = px[r0 + cx1 * 4 + c] as f32;
        let p10 = px[r1 + cx0 * 4 + c] as f32;
        let p11 = px[r1 + cx1 * 4 + c] as f32;
        let top = p00 + (p01 - p00) * fx;
        let bottom = p10 + (p11 - p10) * fx;
        *o = top + (bottom - top) * fy;
    }
    out
}

/// Resamples `frame` onto an `out_w x out_h` grid: output pixel centre `p` takes the
/// bilinear value at `dst_to_src(p)`. Returns interleaved RGB as `f32` in `0..=255`.
///
/// Crop-and-resize is `dst_to_src = Affine::rect_to_grid(..)`; an alignment warp is the
/// inverse of the frame-to-crop similarity.
pub fn warp_rgb(frame: &Frame<'_>, dst_to_src: &Affine, out_w: usize, out_h: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(out_w * out_h * 3);
    let [[a, b, tx], [c, d, ty]] = dst_to_src.0;
    for v in 0..out_h {
        let yc = v as f32 + 0.5;
        for u in 0..out_w {
            let xc = u as f32 + 0.5;
            let x = a * xc + b * yc + tx;
            let y = c * xc + d * yc + ty;
            out.extend_from_slice(&sample_rgb_at(frame, x, y));
        }
    }
    out
}

/// Rounds `0..=255` floats to bytes (half away from zero, clamped).
pub fn to_u8(values: &[f32]) -> Vec<u8> {
    values.iter().map(|v| v.round().clamp(0.0, 255.0) as u8).collect()
}

/// BT.601 luma of interleaved RGB: `0.299 R + 0.587 G + 0.114 B`.
pub fn luma(rgb: &[f32]) -> Vec<f32> {
    rgb.chunks_exact(3).map(|p| 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]).collect()
}

/// Interleaved `HWC` to planar `CHW`, applying `f` to each value; `order` picks the source
/// channel for each output plane (`[0, 1, 2]` keeps RGB, `[2, 1, 0]` gives BGR).
pub fn to_planar(hwc: &[f32], order: [usize; 3], f: impl Fn(f32) -> f32) -> Vec<f32> {
    let n = hwc.len() / 3;
    let mut out = vec![0.0f32; n * 3];
    for (plane, &src) in order.iter().enumerate() {
        let dst = &mut out[plane * n..(plane + 1) * n];
        for (i, o) in dst.iter_mut().enumerate() {
            *o = f(hwc[i * 3 + src]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: [f32; 2], b: [f32; 2], tol: f32) -> bool {
        (a[0] - b[0]).abs() < tol && (a[1] - b[1]).abs() < tol
    }

    /// A frame whose R channel is `x`, G is `y` and B is `x + y` (pixel indices).
    fn ramp(w: u32, h: u32) -> Vec<u8> {
        let mut px = Vec::new();
        for y in 0..h {
            for x in 0..w {
                px.extend_from_slice(&[x as u8, y as u8, (x + y) as u8, 255]);
            }
        }
        px
    }

    #[test]
    fn invert_and_compose_round_trip() {
        let m = Affine([[1.2, -0.3, 5.0], [0.4, 0.9, -2.0]]);
        let inv = m.invert().unwrap();
        let id = inv.after(&m);
        for p in [[0.0, 0.0], [10.0, -3.0], [7.5, 100.0]] {
            assert!(close(id.apply(p), p, 1e-4));
            assert!(close(inv.apply(m.apply(p)), p, 1e-4));
        }
        assert!(Affine([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0]]).invert().is_none());
    }

    #[test]
    fn similarity_fit_recovers_a_known_transform() {
        let (s, th) = (1.7f32, 0.3f32);
        let truth = Affine([[s * th.cos(), -s * th.sin(), 12.0], [s * th.sin(), s * th.cos(), -4.0]]);
        let src = [[10.0, 20.0], [50.0, 22.0], [30.0, 40.0], [15.0, 60.0], [45.0, 61.0]];
        let dst: Vec<[f32; 2]> = src.iter().map(|p| truth.apply(*p)).collect();
        let fit = Affine::similarity_fit(&src, &dst).unwrap();
        for (a, b) in fit.0.iter().flatten().zip(truth.0.iter().flatten()) {
            assert!((a - b).abs() < 1e-3, "{fit:?} vs {truth:?}");
        }
        assert!(Affine::similarity_fit(&[[1.0, 1.0]; 3], &dst[..3]).is_none());
        assert!(Affine::similarity_fit(&src, &dst[..2]).is_none());
    }

    #[test]
    fn similarity_fit_is_least_squares_under_noise() {
        // Symmetric noise on a square: the best similarity is still the identity.
        let src = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        let dst = [[-1.0, 0.0], [11.0, 0.0], [11.0, 10.0], [-1.0, 10.0]];
        let fit = Affine::similarity_fit(&src, &dst).unwrap();
        assert!((fit.0[0][1]).abs() < 1e-6 && (fit.0[1][0]).abs() < 1e-6);
        assert!(close(fit.apply([5.0, 5.0]), [5.0, 5.0], 1e-4));
    }

    #[test]
    fn identity_warp_reproduces_the_frame() {
        let px = ramp(7, 5);
        let f = Frame::new(7, 5, &px).unwrap();
        let out = to_u8(&warp_rgb(&f, &Affine::IDENTITY, 7, 5));
        let rgb: Vec<u8> = px.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
        assert_eq!(out, rgb);
    }

    #[test]
    fn downscale_by_two_averages_two_by_two_blocks() {
        // Half-pixel centres make a 2x bilinear downscale an exact 2x2 box average.
        let px = ramp(8, 6);
        let f = Frame::new(8, 6, &px).unwrap();
        let out = warp_rgb(&f, &Affine::rect_to_grid(0.0, 0.0, 8.0, 6.0, 4, 3), 4, 3);
        for v in 0..3 {
            for u in 0..4 {
                let r = out[(v * 4 + u) * 3];
                let g = out[(v * 4 + u) * 3 + 1];
                assert!((r - (2 * u) as f32 - 0.5).abs() < 1e-4);
                assert!((g - (2 * v) as f32 - 0.5).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn crop_outside_the_frame_replicates_edges() {
        let px = ramp(4, 4);
        let f = Frame::new(4, 4, &px).unwrap();
        let out = warp_rgb(&f, &Affine::rect_to_grid(-10.0, -10.0, 2.0, 2.0, 2, 2), 2, 2);
        assert!(out.iter().all(|v| *v == 0.0));
        let out = warp_rgb(&f, &Affine::rect_to_grid(10.0, 0.0, 1.0, 1.0, 1, 1), 1, 1);
        assert_eq!(out[0], 3.0);
    }

    #[test]
    fn crop_picks_the_right_region_and_upscales_linearly() {
        let px = ramp(10, 10);
        let f = Frame::new(10, 10, &px).unwrap();
        // Pixels 2..4 stretched to 4 outputs: centres at 2.25, 2.75, 3.25, 3.75 -> index 1.75..
        let out = warp_rgb(&f, &Affine::rect_to_grid(2.0, 5.0, 2.0, 1.0, 4, 1), 4, 1);
        let reds: Vec<f32> = out.chunks_exact(3).map(|p| p[0]).collect();
        assert_eq!(reds, vec![1.75, 2.25, 2.75, 3.25]);
        assert!(out.chunks_exact(3).all(|p| p[1] == 5.0));
    }

    #[test]
    fn rotation_warp_moves_pixels_where_expected() {
        // A single bright pixel, rotated 90 degrees about the frame centre.
        let mut px = vec![0u8; 9 * 9 * 4];
        let idx = (2 * 9 + 6) * 4; // x = 6, y = 2 -> centre (6.5, 2.5)
        px[idx] = 255;
        let f = Frame::new(9, 9, &px).unwrap();
        // frame -> out: rotate +90 degrees about (4.5, 4.5): (x, y) -> (4.5 - (y - 4.5), 4.5 + (x - 4.5))
        let fwd = Affine([[0.0, -1.0, 9.0], [1.0, 0.0, 0.0]]);
        assert!(close(fwd.apply([6.5, 2.5]), [6.5, 6.5], 1e-6));
        let out = warp_rgb(&f, &fwd.invert().unwrap(), 9, 9);
        assert_eq!(out[(6 * 9 + 6) * 3], 255.0);
        assert_eq!(out.iter().filter(|v| **v > 0.0).count(), 1);
    }

    #[test]
    fn planar_conversion_orders_channels() {
        let hwc = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(to_planar(&hwc, [0, 1, 2], |v| v), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert_eq!(to_planar(&hwc, [2, 1, 0], |v| v * 2.0), vec![6.0, 12.0, 4.0, 10.0, 2.0, 8.0]);
        assert_eq!(luma(&[100.0, 100.0, 100.0]), vec![100.0]);
        assert_eq!(to_u8(&[-3.0, 0.5, 254.5, 300.0]), vec![0, 1, 255, 255]);
    }
}
