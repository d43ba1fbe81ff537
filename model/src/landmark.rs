//! 68-point landmarks: `fr_landmark.onnx` on a 64x64 grey crop (`luma / 256`) of the face
//! box, returning 136 values normalised to the crop (`x0, y0, x1, y1, ...`).
//!
//! The crop is the detector's box moved down by [`CROP_SHIFT`] of its height. The detector
//! boxes sit higher on the face than the crops this regressor expects: with the box as is,
//! points drift up (eyes on the brows) and the aligned crop of a face differs between two
//! frames of it; the shift was chosen on the demo photos by the stability of embeddings
//! under small transformations (see the crate's verification test).

use crate::detect::Face;
use crate::error::{ModelKind, Result};
use crate::frame::Frame;
use crate::imageops::{self, Affine};
use crate::runtime::Net;

/// Side of the landmark model's square input.
pub const INPUT_SIDE: usize = 64;
/// Downward shift of the landmark crop, as a fraction of the face box height.
pub const CROP_SHIFT: f32 = 0.1;

/// The 68 iBUG/300-W landmarks of one face in frame pixels (continuous coordinates).
///
/// Indices follow the usual chart: jaw 0-16, brows 17-26, nose 27-35, the eye on the
/// image's left 36-41, the other eye 42-47, mouth 48-67.
#[derive(Clone, Debug, PartialEq)]
pub struct Landmarks68 {
    /// The points, `[x, y]` each.
    pub points: [[f32; 2]; 68],
}

impl Landmarks68 {
    /// The five alignment points: centres of the eye on the image's left and of the other
    /// eye (mean of their upper and lower lid points), the nose tip, and the two mouth
    /// corners (mean of outer and inner corner).
    pub fn five_points(&self) -> [[f32; 2]; 5] {
        let p = &self.points;
        let mean = |idx: &[usize]| {
            let n = idx.len() as f32;
            let (x, y) = idx.iter().fold((0.0, 0.0), |(x, y), &i| (x + p[i][0], y + p[i][1]));
            [x / n, y / n]
        };
        [mean(&[37, 38, 40, 41]), mean(&[43, 44, 46, 47]), p[30], mean(&[48, 60]), mean(&[54, 64])]
    }

    /// Builds landmarks from 136 interleaved coordinates; `None` for another length.
    pub fn from_flat(xy: &[f32]) -> Option<Self> {
        if xy.len() != 136 {
            return None;
        }
        let mut points = [[0.0f32; 2]; 68];
        for (p, c) in points.iter_mut().zip(xy.chunks_exact(2)) {
            *p = [c[0], c[1]];
        }
        Some(Self { points })
    }
}

/// The landmark regressor, loaded and optimised once.
#[derive(Clone, Debug)]
pub struct LandmarkModel {
    net: Net,
}

/// The crop rectangle `(x, y, w, h)` fed to the landmark model for `face`.
pub fn crop_rect(face: &Face) -> (f32, f32, f32, f32) {
    let b = &face.bbox;
    let (w, h) = (b.width(), b.height());
    (b.x1, b.y1 + CROP_SHIFT * h, w, h)
}

impl LandmarkModel {
    /// Loads `fr_landmark.onnx` from its bytes.
    ///
    /// # Errors
    /// [`crate::Error::ModelLoad`] when the bytes are not that model.
    pub fn load(onnx: &[u8]) -> Result<Self> {
        Ok(Self { net: Net::load(ModelKind::Landmark, onnx, &[1, 1, INPUT_SIDE, INPUT_SIDE])? })
    }

    /// The model input for `face`: its crop resized to 64x64, BT.601 luma, divided by 256.
    pub fn preprocess(frame: &Frame<'_>, face: &Face) -> Vec<f32> {
        let (x, y, w, h) = crop_rect(face);
        let map = Affine::rect_to_grid(x, y, w, h, INPUT_SIDE, INPUT_SIDE);
        let rgb = imageops::warp_rgb(frame, &map, INPUT_SIDE, INPUT_SIDE);
        imageops::luma(&rgb).into_iter().map(|v| v / 256.0).collect()
    }

    /// Runs the network on a preprocessed input: 136 values normalised to the crop.
    ///
    /// # Errors
    /// [`crate::Error::Inference`] when tract fails or the output has an unexpected shape.
    pub fn run(&self, input: Vec<f32>) -> Result<Vec<f32>> {
        Ok(self.net.run_expect(input, &[136])?.pop().unwrap_or_default())
    }

    /// The 68 landmarks of `face` in frame pixels.
    ///
    /// # Errors
    /// [`crate::Error::Inference`] when the network fails.
    pub fn landmarks(&self, frame: &Frame<'_>, face: &Face) -> Result<Landmarks68> {
        let out = self.run(Self::preprocess(frame, face))?;
        Ok(postprocess(&out, face))
    }
}

/// Maps normalised crop coordinates back to frame pixels.
pub fn postprocess(normalised: &[f32], face: &Face) -> Landmarks68 {
    let (x, y, w, h) = crop_rect(face);
    let mut points = [[0.0f32; 2]; 68];
    for (p, c) in points.iter_mut().zip(normalised.chunks_exact(2)) {
        *p = [x + c[0] * w, y + c[1] * h];
    }
    Landmarks68 { points }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::BBox;

    #[test]
    fn postprocess_maps_the_unit_square_onto_the_shifted_box() {
        let face = Face { bbox: BBox { x1: 10.0, y1: 20.0, x2: 110.0, y2: 220.0 }, score: 1.0 };
        let mut norm = vec![0.0f32; 136];
        norm[2] = 1.0;
        norm[3] = 1.0;
        norm[4] = 0.5;
        norm[5] = 0.25;
        let lm = postprocess(&norm, &face);
        assert_eq!(lm.points[0], [10.0, 40.0]);
        assert_eq!(lm.points[1], [110.0, 240.0]);
        assert_eq!(lm.points[2], [60.0, 90.0]);
    }

    #[test]
    fn five_points_average_the_right_landmarks() {
        let mut xy = vec![0.0f32; 136];
        for i in 0..68 {
            xy[2 * i] = i as f32;
            xy[2 * i + 1] = 100.0 + i as f32;
        }
        let lm = Landmarks68::from_flat(&xy).unwrap();
        let five = lm.five_points();
        assert_eq!(five[0], [39.0, 139.0]);
        assert_eq!(five[1], [45.0, 145.0]);
        assert_eq!(five[2], [30.0, 130.0]);
        assert_eq!(five[3], [54.0, 154.0]);
        assert_eq!(five[4], [59.0, 159.0]);
        assert!(Landmarks68::from_flat(&xy[..10]).is_none());
    }
}
