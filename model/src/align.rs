//! Face alignment: a 5-point similarity transform onto the reference points of the
//! embedding network's 112x112 input.

use crate::frame::{Aligned112, Frame};
use crate::imageops::{self, Affine};
use crate::landmark::Landmarks68;

/// Side of the aligned crop.
pub const SIDE: usize = 112;

/// Where the five points (eye on the image's left, other eye, nose tip, left and right
/// mouth corner) go in the 112x112 crop, in OpenCV pixel-index coordinates (the ArcFace
/// convention). Add 0.5 for this crate's continuous coordinates.
pub const REFERENCE_POINTS: [[f32; 2]; 5] = [[38.294_6, 51.696_3], [73.531_8, 51.501_4], [56.025_2, 71.736_6], [41.549_3, 92.365_5], [70.729_9, 92.204_1]];

/// The frame-to-crop similarity for `landmarks`, or `None` if the five points coincide.
pub fn alignment_transform(landmarks: &Landmarks68) -> Option<Affine> {
    let dst = REFERENCE_POINTS.map(|[x, y]| [x + 0.5, y + 0.5]);
    Affine::similarity_fit(&landmarks.five_points(), &dst)
}

/// Warps the face onto the 112x112 reference frame (bilinear, borders replicated).
///
/// Degenerate landmarks (all five points equal) fall back to a plain resize of the frame,
/// which the embedding will not match to anyone.
pub fn align(frame: &Frame<'_>, landmarks: &Landmarks68) -> Aligned112 {
    let map = alignment_transform(landmarks)
        .and_then(|m| m.invert())
        .unwrap_or_else(|| Affine::rect_to_grid(0.0, 0.0, frame.width() as f32, frame.height() as f32, SIDE, SIDE));
    Aligned112::from_rgb_unchecked(imageops::to_u8(&imageops::warp_rgb(frame, &map, SIDE, SIDE)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Landmarks whose five alignment points are exactly `five`.
    fn landmarks_with(five: [[f32; 2]; 5]) -> Landmarks68 {
        let mut points = [[0.0f32; 2]; 68];
        for i in [37, 38, 40, 41] {
            points[i] = five[0];
        }
        for i in [43, 44, 46, 47] {
            points[i] = five[1];
        }
        points[30] = five[2];
        points[48] = five[3];
        points[60] = five[3];
        points[54] = five[4];
        points[64] = five[4];
        Landmarks68 { points }
    }

    #[test]
    fn points_at_twice_the_reference_scale_map_back_onto_it() {
        let five = REFERENCE_POINTS.map(|[x, y]| [2.0 * (x + 0.5) + 30.0, 2.0 * (y + 0.5) + 10.0]);
        let m = alignment_transform(&landmarks_with(five)).unwrap();
        for (p, r) in five.iter().zip(REFERENCE_POINTS) {
            let q = m.apply(*p);
            assert!((q[0] - r[0] - 0.5).abs() < 1e-3 && (q[1] - r[1] - 0.5).abs() < 1e-3);
        }
    }

    #[test]
    fn align_samples_the_face_region() {
        // A 300x300 frame, dark except a bright square where the face will be.
        let (w, h) = (300u32, 300u32);
        let mut px = vec![0u8; (w * h * 4) as usize];
        for y in 100..220u32 {
            for x in 100..220u32 {
                let i = ((y * w + x) * 4) as usize;
                px[i..i + 3].copy_from_slice(&[200, 150, 100]);
            }
        }
        let frame = Frame::new(w, h, &px).unwrap();
        // Reference points scaled 1x and shifted so the crop covers (104..216, 104..216).
        let five = REFERENCE_POINTS.map(|[x, y]| [x + 104.5, y + 104.5]);
        let crop = align(&frame, &landmarks_with(five));
        assert_eq!(crop.as_rgb().len(), 112 * 112 * 3);
        assert!(crop.as_rgb().chunks_exact(3).all(|p| p == [200, 150, 100]));
    }

    #[test]
    fn degenerate_landmarks_do_not_panic() {
        let px = vec![7u8; 4 * 10 * 10];
        let frame = Frame::new(10, 10, &px).unwrap();
        let crop = align(&frame, &Landmarks68 { points: [[1.0, 1.0]; 68] });
        assert!(crop.as_rgb().iter().all(|v| *v == 7));
    }
}
