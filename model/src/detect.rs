//! Face detection: `fr_detect.onnx`, an SSD-style detector on a 320x240 RGB input
//! normalised as `(x - 127) / 128`. Its `boxes` output is already decoded (normalised
//! `x1, y1, x2, y2`); we keep `scores[:, 1] > 0.65` and suppress overlaps above IoU 0.4.

use crate::error::{ModelKind, Result};
use crate::frame::Frame;
use crate::imageops::{self, Affine};
use crate::runtime::Net;

/// Detector input width.
pub const INPUT_WIDTH: usize = 320;
/// Detector input height.
pub const INPUT_HEIGHT: usize = 240;
/// Number of anchors (rows of `scores` and `boxes`).
const ANCHORS: usize = 4420;
/// Minimum face-class probability for a box to be kept.
pub const SCORE_THRESHOLD: f32 = 0.65;
/// Boxes overlapping a better one by more than this IoU are dropped.
pub const NMS_IOU: f32 = 0.4;
/// At most this many candidates enter non-maximum suppression.
const TOP_K: usize = 750;

/// An axis-aligned box in frame pixels (continuous coordinates), `x1 < x2`, `y1 < y2`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BBox {
    /// Left edge.
    pub x1: f32,
    /// Top edge.
    pub y1: f32,
    /// Right edge.
    pub x2: f32,
    /// Bottom edge.
    pub y2: f32,
}

impl BBox {
    /// Width in pixels.
    pub fn width(&self) -> f32 {
        self.x2 - self.x1
    }

    /// Height in pixels.
    pub fn height(&self) -> f32 {
        self.y2 - self.y1
    }

    /// Centre point.
    pub fn centre(&self) -> [f32; 2] {
        [(self.x1 + self.x2) / 2.0, (self.y1 + self.y2) / 2.0]
    }

    /// The same box moved by `dx`, `dy` pixels.
    pub fn shifted(&self, dx: f32, dy: f32) -> BBox {
        BBox { x1: self.x1 + dx, y1: self.y1 + dy, x2: self.x2 + dx, y2: self.y2 + dy }
    }

    /// Area (zero for degenerate boxes).
    pub fn area(&self) -> f32 {
        self.width().max(0.0) * self.height().max(0.0)
    }

    /// Intersection over union with `other` (0 when either box is empty).
    pub fn iou(&self, other: &BBox) -> f32 {
        let w = (self.x2.min(other.x2) - self.x1.max(other.x1)).max(0.0);
        let h = (self.y2.min(other.y2) - self.y1.max(other.y1)).max(0.0);
        let inter = w * h;
        let union = self.area() + other.area() - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }
}

/// A detected face: its box in frame pixels and the detector's face probability.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Face {
    /// Face box in frame pixels. It may reach slightly outside the frame.
    pub bbox: BBox,
    /// Face-class probability in `0..=1`.
    pub score: f32,
}

/// The face detector, loaded and optimised once.
#[derive(Clone, Debug)]
pub struct Detector {
    net: Net,
}

impl Detector {
    /// Loads `fr_detect.onnx` from its bytes.
    ///
    /// # Errors
    /// [`crate::Error::ModelLoad`] when the bytes are not that model.
    pub fn load(onnx: &[u8]) -> Result<Self> {
        Ok(Self { net: Net::load(ModelKind::Detect, onnx, &[1, 3, INPUT_HEIGHT, INPUT_WIDTH])? })
    }

    /// The detector's input tensor for `frame`: the whole frame resized (bilinear, aspect
    /// not kept) to 320x240, planar RGB, `(x - 127) / 128`.
    pub fn preprocess(frame: &Frame<'_>) -> Vec<f32> {
        let map = Affine::rect_to_grid(0.0, 0.0, frame.width() as f32, frame.height() as f32, INPUT_WIDTH, INPUT_HEIGHT);
        let rgb = imageops::warp_rgb(frame, &map, INPUT_WIDTH, INPUT_HEIGHT);
        imageops::to_planar(&rgb, [0, 1, 2], |v| (v - 127.0) / 128.0)
    }

    /// Runs the network on a preprocessed input, returning `(scores, boxes)` as flat vectors
    /// of `4420 x 2` and `4420 x 4`.
    ///
    /// # Errors
    /// [`crate::Error::Inference`] when tract fails or the outputs have unexpected shapes.
    pub fn run(&self, input: Vec<f32>) -> Result<(Vec<f32>, Vec<f32>)> {
        let mut out = self.net.run_expect(input, &[ANCHORS * 2, ANCHORS * 4])?;
        let boxes = out.pop().unwrap_or_default();
        let scores = out.pop().unwrap_or_default();
        Ok((scores, boxes))
    }

    /// Faces in `frame`, best first.
    ///
    /// # Errors
    /// [`crate::Error::Inference`] when the network fails.
    pub fn detect(&self, frame: &Frame<'_>) -> Result<Vec<Face>> {
        let (scores, boxes) = self.run(Self::preprocess(frame))?;
        Ok(postprocess(&scores, &boxes, frame.width() as f32, frame.height() as f32))
    }
}

/// Thresholds, scales to frame pixels and suppresses overlaps.
pub fn postprocess(scores: &[f32], boxes: &[f32], width: f32, height: f32) -> Vec<Face> {
    let mut candidates: Vec<Face> = scores
        .chunks_exact(2)
        .zip(boxes.chunks_exact(4))
        .filter(|(s, _)| s[1] > SCORE_THRESHOLD)
        .map(|(s, b)| Face { bbox: BBox { x1: b[0] * width, y1: b[1] * height, x2: b[2] * width, y2: b[3] * height }, score: s[1] })
        .collect();
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    candidates.truncate(TOP_K);
    let mut kept: Vec<Face> = Vec::new();
    for c in candidates {
        if kept.iter().all(|k| k.bbox.iou(&c.bbox) <= NMS_IOU) {
            kept.push(c);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x1: f32, y1: f32, x2: f32, y2: f32) -> BBox {
        BBox { x1, y1, x2, y2 }
    }

    #[test]
    fn iou_of_known_boxes() {
        assert_eq!(b(0.0, 0.0, 2.0, 2.0).iou(&b(0.0, 0.0, 2.0, 2.0)), 1.0);
        assert_eq!(b(0.0, 0.0, 2.0, 2.0).iou(&b(2.0, 2.0, 4.0, 4.0)), 0.0);
        assert!((b(0.0, 0.0, 2.0, 2.0).iou(&b(1.0, 0.0, 3.0, 2.0)) - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(b(0.0, 0.0, 0.0, 0.0).iou(&b(0.0, 0.0, 0.0, 0.0)), 0.0);
    }

    #[test]
    fn postprocess_thresholds_scales_and_suppresses() {
        // anchor 0: face 0.9 at (0.1..0.3); anchor 1: 0.8 overlapping anchor 0 heavily;
        // anchor 2: 0.7 elsewhere; anchor 3: 0.6, below threshold.
        let scores = [0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6];
        let boxes = [
            0.1, 0.1, 0.3, 0.3, //
            0.11, 0.1, 0.31, 0.3, //
            0.6, 0.6, 0.8, 0.9, //
            0.0, 0.0, 1.0, 1.0,
        ];
        let faces = postprocess(&scores, &boxes, 100.0, 200.0);
        assert_eq!(faces.len(), 2);
        assert_eq!(faces[0].score, 0.9);
        assert!((faces[0].bbox.x1 - 10.0).abs() < 1e-4 && (faces[0].bbox.y2 - 60.0).abs() < 1e-4);
        assert_eq!(faces[1].score, 0.7);
    }

    #[test]
    fn postprocess_keeps_touching_boxes_at_the_iou_limit() {
        // Two boxes with IoU exactly 1/3 (< 0.4) both survive; order is by score.
        let scores = [0.0, 0.7, 0.0, 0.95];
        let boxes = [0.0, 0.0, 0.2, 0.2, 0.1, 0.0, 0.3, 0.2];
        let faces = postprocess(&scores, &boxes, 10.0, 10.0);
        assert_eq!(faces.iter().map(|f| f.score).collect::<Vec<_>>(), vec![0.95, 0.7]);
    }
}
