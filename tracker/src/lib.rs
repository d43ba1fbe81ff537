//! The login page's face tracker. It runs as wasm inside a Web Worker
//! (`public/face-worker.js`) so the page never freezes: per camera frame it finds the
//! faces and the largest one's landmarks and head pose, and reports what the page needs
//! to guide the person ([`TrackReport`]: how many faces, where, how bright, how still).
//! The evidence is whole camera frames, which the page grabs and encodes itself; the
//! tracker only says when a frame is worth taking.
//!
//! Only the detector and the landmark model are loaded here; liveness and the embedding
//! run on the server, which decides.
//!
//! # Layout
//! - [`Tracker`]: the models and the last face's landmarks; [`Tracker::track`].
//! - [`brightness`], [`motion`]: the pure figures behind the guidance.
//! - `glue` (wasm32 only): the wasm-bindgen class `FaceTracker` the Web Worker calls.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use biopass_model::{head_pose, BBox, Detector, Frame, LandmarkModel, Landmarks68};
use biopass_proto::tracker::{TrackReport, TrackedFace};

#[cfg(target_arch = "wasm32")]
mod glue;

/// Detector and landmark model, loaded once, and the landmarks of the last frame's face
/// (for how much it moved since).
pub struct Tracker {
    detector: Detector,
    landmark: LandmarkModel,
    last: Option<Landmarks68>,
}

/// Mean luma (BT.601, 0-255) of the pixels of `rgba` inside `area` (the whole frame when
/// `None`), sampled on a grid of at most ~4096 points.
pub fn brightness(rgba: &[u8], width: u32, height: u32, area: Option<&BBox>) -> f32 {
    let (w, h) = (width as f32, height as f32);
    let (x1, y1, x2, y2) = match area {
        Some(b) => (b.x1.max(0.0), b.y1.max(0.0), b.x2.min(w), b.y2.min(h)),
        None => (0.0, 0.0, w, h),
    };
    if x2 <= x1 || y2 <= y1 {
        return 0.0;
    }
    let step = ((x2 - x1) * (y2 - y1) / 4096.0).sqrt().max(1.0);
    let (mut sum, mut n) = (0.0f32, 0u32);
    let mut y = y1;
    while y < y2 {
        let mut x = x1;
        while x < x2 {
            let i = (y as usize * width as usize + x as usize) * 4;
            if let Some(p) = rgba.get(i..i + 3) {
                sum += 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]);
                n += 1;
            }
            x += step;
        }
        y += step;
    }
    if n == 0 {
        0.0
    } else {
        sum / n as f32
    }
}

/// Mean displacement of the 68 landmarks between two frames, as a fraction of `face_width`.
pub fn motion(before: &Landmarks68, now: &Landmarks68, face_width: f32) -> f32 {
    let total: f32 = before.points.iter().zip(&now.points).map(|(a, b)| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()).sum();
    total / 68.0 / face_width.max(1.0)
}

impl Tracker {
    /// Loads and optimises the detector and the landmark model.
    ///
    /// # Errors
    /// The model that does not load.
    pub fn load(detect: &[u8], landmark: &[u8]) -> biopass_model::Result<Self> {
        Ok(Self { detector: Detector::load(detect)?, landmark: LandmarkModel::load(landmark)?, last: None })
    }

    /// Tracks one RGBA frame. `millis` is the caller's clock, for the report's timing.
    ///
    /// # Errors
    /// A frame whose size does not match its bytes, or an inference failure.
    pub fn track(&mut self, rgba: &[u8], width: u32, height: u32, clock: &dyn Fn() -> f64) -> biopass_model::Result<TrackReport> {
        let started = clock();
        let frame = Frame::new(width, height, rgba)?;
        let faces = self.detector.detect(&frame)?;
        let largest = faces.iter().max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area())).copied();
        let Some(face) = largest else {
            let brightness = brightness(rgba, width, height, None);
            self.last = None;
            return Ok(TrackReport { width, height, faces: 0, face: None, brightness, millis: (clock() - started) as f32 });
        };
        let landmarks = self.landmark.landmarks(&frame, &face)?;
        let pose = head_pose(&landmarks);
        let moved = self.last.as_ref().map(|l| motion(l, &landmarks, face.bbox.width()));
        let tracked =
            TrackedFace { bbox: [face.bbox.x1, face.bbox.y1, face.bbox.x2, face.bbox.y2], yaw: pose.yaw, pitch: pose.pitch, roll: pose.roll, motion: moved };
        let brightness = brightness(rgba, width, height, Some(&face.bbox));
        self.last = Some(landmarks);
        Ok(TrackReport { width, height, faces: faces.len(), face: Some(tracked), brightness, millis: (clock() - started) as f32 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey(w: u32, h: u32, v: u8) -> Vec<u8> {
        (0..w * h).flat_map(|_| [v, v, v, 255]).collect()
    }

    #[test]
    fn brightness_of_a_flat_frame_is_its_level() {
        let rgba = grey(64, 48, 200);
        assert!((brightness(&rgba, 64, 48, None) - 200.0).abs() < 0.5);
        let dark = grey(640, 480, 20);
        assert!((brightness(&dark, 640, 480, None) - 20.0).abs() < 0.5);
    }

    #[test]
    fn brightness_looks_only_inside_the_box() {
        // Left half black, right half white.
        let (w, h) = (100u32, 50u32);
        let rgba: Vec<u8> = (0..w * h).flat_map(|i| if i % w < 50 { [0, 0, 0, 255] } else { [255, 255, 255, 255] }).collect();
        let right = BBox { x1: 60.0, y1: 0.0, x2: 100.0, y2: 50.0 };
        let left = BBox { x1: 0.0, y1: 0.0, x2: 40.0, y2: 50.0 };
        assert!(brightness(&rgba, w, h, Some(&right)) > 250.0);
        assert!(brightness(&rgba, w, h, Some(&left)) < 5.0);
        // A box outside the frame is clamped; an empty one is dark, not a panic.
        let outside = BBox { x1: 200.0, y1: 0.0, x2: 300.0, y2: 50.0 };
        assert_eq!(brightness(&rgba, w, h, Some(&outside)), 0.0);
    }

    #[test]
    fn motion_is_relative_to_face_width() {
        let a = Landmarks68 { points: [[10.0, 10.0]; 68] };
        let b = Landmarks68 { points: [[13.0, 14.0]; 68] };
        assert!((motion(&a, &b, 100.0) - 0.05).abs() < 1e-6);
        assert_eq!(motion(&a, &a, 100.0), 0.0);
    }
}
