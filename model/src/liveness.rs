//! Liveness (presentation-attack detection): `fr_liveness.onnx`, a 3-class classifier on a
//! 128x128 crop of the face with context, raw `0..=255` values, **BGR** planes.
//!
//! # Semantics (how they were determined)
//! The vendor's code reports `softmax(output)[0]` as its "liveness result" but feeds the
//! planes in the order its canvas gives (R, G, B) while its other models show it ported a
//! BGR (OpenCV) pipeline without converting. We measured on the 22 faces of the demo
//! photos (camera captures of real people) with both orders (see the integration tests):
//! - with BGR planes class 0 wins on more of the real faces, and with a higher mean
//!   probability, than with RGB planes: BGR is the order the network was trained on;
//! - a screen-replay artefact (a moire pattern multiplied into the crop) moves the real
//!   faces to class 1, and a flat, texture-free crop is class 1 too.
//!
//! So class 0 is "live", classes 1 and 2 are attack types, and [`LivenessModel::liveness`]
//! returns `softmax[0]`. The network is not a guarantee on its own (uniform noise, for
//! instance, scores as live); the product pairs it with the head-movement challenge.

use crate::detect::Face;
use crate::error::{ModelKind, Result};
use crate::frame::{Crop128, Frame};
use crate::imageops::{self, Affine};
use crate::runtime::Net;

/// Side of the liveness crop.
pub const SIDE: usize = 128;
/// The crop spans the face box scaled by this factor around its centre.
pub const CONTEXT_SCALE: f32 = 2.7;

/// The crop rectangle `(x, y, w, h)` for `face` in a `width x height` frame: the box scaled
/// by [`CONTEXT_SCALE`] about its centre (less if the frame is too small), then shifted to
/// lie inside the frame.
pub fn crop_rect(face: &Face, width: f32, height: f32) -> (f32, f32, f32, f32) {
    let b = &face.bbox;
    let (bw, bh) = (b.width().max(1.0), b.height().max(1.0));
    let scale = CONTEXT_SCALE.min(width / bw).min(height / bh);
    let (w, h) = (bw * scale, bh * scale);
    let [cx, cy] = b.centre();
    let x = (cx - w / 2.0).clamp(0.0, (width - w).max(0.0));
    let y = (cy - h / 2.0).clamp(0.0, (height - h).max(0.0));
    (x, y, w, h)
}

/// The 128x128 RGB liveness crop of `face` (bilinear resize, aspect not kept).
pub fn liveness_crop(frame: &Frame<'_>, face: &Face) -> Crop128 {
    let (x, y, w, h) = crop_rect(face, frame.width() as f32, frame.height() as f32);
    let map = Affine::rect_to_grid(x, y, w, h, SIDE, SIDE);
    Crop128::from_rgb_unchecked(imageops::to_u8(&imageops::warp_rgb(frame, &map, SIDE, SIDE)))
}

/// Class probabilities of the liveness network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LivenessScores {
    /// Softmax of the three logits; `[0]` is "live".
    pub probabilities: [f32; 3],
}

impl LivenessScores {
    /// Probability that the face is live (class 0).
    pub fn live(&self) -> f32 {
        self.probabilities[0]
    }
}

/// Channel order of the network input; [`ChannelOrder::Bgr`] is the one it was trained on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelOrder {
    /// Planes R, G, B.
    Rgb,
    /// Planes B, G, R.
    Bgr,
}

/// The liveness classifier, loaded and optimised once.
#[derive(Clone, Debug)]
pub struct LivenessModel {
    net: Net,
}

impl LivenessModel {
    /// Loads `fr_liveness.onnx` from its bytes.
    ///
    /// # Errors
    /// [`crate::Error::ModelLoad`] when the bytes are not that model.
    pub fn load(onnx: &[u8]) -> Result<Self> {
        Ok(Self { net: Net::load(ModelKind::Liveness, onnx, &[1, 3, SIDE, SIDE])? })
    }

    /// The network input for `crop`: planar, raw `0..=255`, in `order`.
    pub fn preprocess(crop: &Crop128, order: ChannelOrder) -> Vec<f32> {
        let hwc: Vec<f32> = crop.as_rgb().iter().map(|v| *v as f32).collect();
        let order = match order {
            ChannelOrder::Rgb => [0, 1, 2],
            ChannelOrder::Bgr => [2, 1, 0],
        };
        imageops::to_planar(&hwc, order, |v| v)
    }

    /// Runs the network on a preprocessed input, returning the three logits.
    ///
    /// # Errors
    /// [`crate::Error::Inference`] when tract fails or the output has an unexpected shape.
    pub fn run(&self, input: Vec<f32>) -> Result<Vec<f32>> {
        Ok(self.net.run_expect(input, &[3])?.pop().unwrap_or_default())
    }

    /// Class probabilities for `crop` with the planes in `order` (tests compare orders;
    /// the product uses [`LivenessModel::liveness`]).
    ///
    /// # Errors
    /// [`crate::Error::Inference`] when the network fails.
    pub fn scores(&self, crop: &Crop128, order: ChannelOrder) -> Result<LivenessScores> {
        let logits = self.run(Self::preprocess(crop, order))?;
        Ok(LivenessScores { probabilities: softmax3(&logits) })
    }

    /// Probability that the face in `crop` is live (BGR planes, `softmax[0]`).
    ///
    /// # Errors
    /// [`crate::Error::Inference`] when the network fails.
    pub fn liveness(&self, crop: &Crop128) -> Result<f32> {
        Ok(self.scores(crop, ChannelOrder::Bgr)?.live())
    }

    /// [`LivenessModel::liveness`] on a crop received as 128x128 RGB or RGBA bytes.
    ///
    /// # Errors
    /// [`crate::Error::BadCropSize`] for any other length; [`crate::Error::Inference`]
    /// when the network fails.
    pub fn liveness_bytes(&self, crop: &[u8]) -> Result<f32> {
        self.liveness(&Crop128::from_bytes(crop)?)
    }
}

/// Numerically stable softmax of three logits (zeros for other lengths).
fn softmax3(logits: &[f32]) -> [f32; 3] {
    let [a, b, c] = match logits {
        [a, b, c] => [*a, *b, *c],
        _ => return [0.0; 3],
    };
    let m = a.max(b).max(c);
    let e = [(a - m).exp(), (b - m).exp(), (c - m).exp()];
    let s = e[0] + e[1] + e[2];
    [e[0] / s, e[1] / s, e[2] / s]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::BBox;

    fn face(x1: f32, y1: f32, x2: f32, y2: f32) -> Face {
        Face { bbox: BBox { x1, y1, x2, y2 }, score: 1.0 }
    }

    #[test]
    fn crop_scales_the_box_around_its_centre() {
        let (x, y, w, h) = crop_rect(&face(400.0, 300.0, 500.0, 420.0), 1920.0, 1080.0);
        assert!((w - 270.0).abs() < 1e-3 && (h - 324.0).abs() < 1e-3);
        assert!((x + w / 2.0 - 450.0).abs() < 1e-3 && (y + h / 2.0 - 360.0).abs() < 1e-3);
    }

    #[test]
    fn crop_is_shifted_inside_the_frame_and_shrunk_if_needed() {
        let (x, y, w, h) = crop_rect(&face(0.0, 10.0, 100.0, 110.0), 640.0, 480.0);
        assert_eq!((x, y), (0.0, 0.0));
        assert!((w - 270.0).abs() < 1e-3 && (h - 270.0).abs() < 1e-3);
        let (x, y, w, h) = crop_rect(&face(500.0, 380.0, 620.0, 470.0), 640.0, 480.0);
        assert!((x + w - 640.0).abs() < 1e-3 && (y + h - 480.0).abs() < 1e-3);
        // a box bigger than a third of the frame: the crop becomes the whole frame height
        let (_, y, _, h) = crop_rect(&face(200.0, 100.0, 400.0, 400.0), 640.0, 480.0);
        assert!((h - 480.0).abs() < 1e-3 && y == 0.0);
    }

    #[test]
    fn preprocess_orders_planes() {
        let mut rgb = vec![0u8; SIDE * SIDE * 3];
        rgb[0] = 10;
        rgb[1] = 20;
        rgb[2] = 30;
        let crop = Crop128::from_bytes(&rgb).unwrap();
        let n = SIDE * SIDE;
        let bgr = LivenessModel::preprocess(&crop, ChannelOrder::Bgr);
        assert_eq!((bgr[0], bgr[n], bgr[2 * n]), (30.0, 20.0, 10.0));
        let rgb = LivenessModel::preprocess(&crop, ChannelOrder::Rgb);
        assert_eq!((rgb[0], rgb[n], rgb[2 * n]), (10.0, 20.0, 30.0));
    }

    #[test]
    fn softmax_is_normalised_and_stable() {
        let p = softmax3(&[1000.0, 0.0, -1000.0]);
        assert!((p[0] - 1.0).abs() < 1e-6 && p[2] == 0.0);
        let p = softmax3(&[0.0, 0.0, 0.0]);
        assert!(p.iter().all(|v| (v - 1.0 / 3.0).abs() < 1e-6));
        assert_eq!(softmax3(&[1.0]), [0.0; 3]);
    }
}
