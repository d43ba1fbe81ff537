//! Image quality of an aligned face crop, measured where the face is (the central 80x80
//! pixels of the 112x112 crop: eyes, nose and mouth, without the background corners).
//!
//! - Sharpness: the variance of the 4-neighbour Laplacian of luma (BT.601, `0..=255`).
//!   Blur (motion, focus) removes the fine detail the Laplacian responds to, so a blurred
//!   crop scores low; a flat image scores 0.
//! - Brightness: the mean luma of the same region.
//!
//! The floors that enrolment applies to these numbers live with the decisions, in
//! `biopass_idp::face`.

use crate::frame::Aligned112;
use crate::imageops;

/// First row and column of the measured region; it ends as far from the other edge.
pub const MARGIN: usize = 16;

/// What [`crop_quality`] measures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CropQuality {
    /// Variance of the Laplacian of luma over the face region.
    pub sharpness: f32,
    /// Mean luma over the face region, `0..=255`.
    pub brightness: f32,
}

/// Sharpness and brightness of the face region of `aligned`.
pub fn crop_quality(aligned: &Aligned112) -> CropQuality {
    let side = Aligned112::SIDE;
    let rgb: Vec<f32> = aligned.as_rgb().iter().map(|v| f32::from(*v)).collect();
    let y = imageops::luma(&rgb);
    let at = |r: usize, c: usize| y[r * side + c];
    let (lo, hi) = (MARGIN, side - MARGIN);
    let (mut n, mut sum, mut lap_sum, mut lap_sq) = (0f64, 0f64, 0f64, 0f64);
    for r in lo..hi {
        for c in lo..hi {
            let centre = at(r, c);
            let lap = 4.0 * centre - at(r - 1, c) - at(r + 1, c) - at(r, c - 1) - at(r, c + 1);
            n += 1.0;
            sum += f64::from(centre);
            lap_sum += f64::from(lap);
            lap_sq += f64::from(lap) * f64::from(lap);
        }
    }
    let mean_lap = lap_sum / n;
    CropQuality { sharpness: (lap_sq / n - mean_lap * mean_lap).max(0.0) as f32, brightness: (sum / n) as f32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIDE: usize = Aligned112::SIDE;

    fn crop(f: impl Fn(usize, usize) -> u8) -> Aligned112 {
        let rgb: Vec<u8> = (0..SIDE * SIDE)
            .flat_map(|i| {
                let v = f(i / SIDE, i % SIDE);
                [v, v, v]
            })
            .collect();
        Aligned112::from_bytes(&rgb).unwrap()
    }

    /// A 3x3 box blur, `passes` times.
    fn blurred(f: impl Fn(usize, usize) -> u8, passes: usize) -> Aligned112 {
        let mut img: Vec<f32> = (0..SIDE * SIDE).map(|i| f32::from(f(i / SIDE, i % SIDE))).collect();
        for _ in 0..passes {
            let src = img.clone();
            for r in 1..SIDE - 1 {
                for c in 1..SIDE - 1 {
                    let mut s = 0.0;
                    for dr in 0..3 {
                        for dc in 0..3 {
                            s += src[(r + dr - 1) * SIDE + c + dc - 1];
                        }
                    }
                    img[r * SIDE + c] = s / 9.0;
                }
            }
        }
        crop(|r, c| img[r * SIDE + c].round() as u8)
    }

    fn checker(r: usize, c: usize) -> u8 {
        if (r / 2 + c / 2).is_multiple_of(2) {
            200
        } else {
            60
        }
    }

    #[test]
    fn a_flat_crop_has_no_sharpness_and_its_own_brightness() {
        let q = crop_quality(&crop(|_, _| 90));
        assert_eq!(q.sharpness, 0.0);
        assert!((q.brightness - 90.0).abs() < 1e-3);
    }

    #[test]
    fn blur_lowers_sharpness_and_keeps_brightness() {
        let sharp = crop_quality(&crop(checker));
        let soft = crop_quality(&blurred(checker, 1));
        let softer = crop_quality(&blurred(checker, 3));
        assert!(sharp.sharpness > 2.0 * soft.sharpness, "{sharp:?} {soft:?}");
        assert!(soft.sharpness > 2.0 * softer.sharpness, "{soft:?} {softer:?}");
        assert!((sharp.brightness - 130.0).abs() < 1.0, "{sharp:?}");
        assert!((softer.brightness - sharp.brightness).abs() < 2.0);
    }

    #[test]
    fn only_the_face_region_counts() {
        // Detail and light outside the region (and the one-pixel ring the Laplacian reads
        // around it) change nothing.
        let ring = MARGIN - 1..SIDE - MARGIN + 1;
        let framed = crop(|r, c| if ring.contains(&r) && ring.contains(&c) { 50 } else { checker(r, c) });
        let q = crop_quality(&framed);
        assert_eq!(q.sharpness, 0.0);
        assert!((q.brightness - 50.0).abs() < 1e-3);
    }
}
