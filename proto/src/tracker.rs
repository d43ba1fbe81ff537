//! What the login page's face tracker (the `biopass-tracker` wasm in a Web Worker) reports
//! to the page for each camera frame. Guidance only: the worker re-measures everything it
//! is sent, so nothing here is trusted by the server.

use serde::{Deserialize, Serialize};

/// One camera frame as the tracker saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackReport {
    /// Frame size in pixels.
    pub width: u32,
    pub height: u32,
    /// Faces the detector found.
    pub faces: usize,
    /// The largest face, when there is one.
    pub face: Option<TrackedFace>,
    /// Mean luma (0-255) of the face box, or of the whole frame when no face was found.
    pub brightness: f32,
    /// Milliseconds the tracker spent on this frame (detector + landmarks).
    pub millis: f32,
}

/// The largest face of a frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackedFace {
    /// Box `[x1, y1, x2, y2]` in frame pixels.
    pub bbox: [f32; 4],
    /// Head pose in degrees: yaw > 0 when the person turns to their own left, pitch > 0
    /// when they look up (image not mirrored).
    pub yaw: f32,
    pub pitch: f32,
    pub roll: f32,
    /// Mean landmark displacement since the previous frame, as a fraction of the face
    /// width; `None` on the first frame with a face.
    pub motion: Option<f32>,
}
