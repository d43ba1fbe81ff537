//! The wasm-bindgen surface the Web Worker calls. Reports cross as JSON text (the page
//! parses them into `biopass_proto::tracker::TrackReport`); crops cross as RGBA bytes for
//! an `ImageData`, which the Web Worker encodes (JPEG for the aligned crop, PNG for the
//! liveness crop, whose score JPEG artefacts would move).

use crate::Tracker;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn now() -> f64;
}

fn js(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// The tracker, as the Web Worker sees it.
#[wasm_bindgen]
pub struct FaceTracker {
    inner: Tracker,
    crops: Option<crate::Crops>,
}

#[wasm_bindgen]
impl FaceTracker {
    /// Loads the detector and landmark model from their ONNX bytes.
    #[wasm_bindgen(constructor)]
    pub fn new(detect: &[u8], landmark: &[u8]) -> Result<FaceTracker, JsError> {
        Ok(FaceTracker { inner: Tracker::load(detect, landmark).map_err(js)?, crops: None })
    }

    /// Tracks one RGBA frame; returns the report as JSON.
    pub fn track(&mut self, rgba: Vec<u8>, width: u32, height: u32) -> Result<String, JsError> {
        let report = self.inner.track(rgba, width, height, &now).map_err(js)?;
        serde_json::to_string(&report).map_err(js)
    }

    /// Cuts the crops of the last tracked frame; false when it had no face.
    pub fn cut(&mut self) -> bool {
        self.crops = self.inner.crops();
        self.crops.is_some()
    }

    /// The aligned 112x112 crop of the last [`FaceTracker::cut`], RGBA.
    pub fn aligned_rgba(&self) -> Vec<u8> {
        self.crops.as_ref().map(|c| c.aligned.to_rgba()).unwrap_or_default()
    }

    /// The 128x128 liveness crop of the last [`FaceTracker::cut`], RGBA.
    pub fn context_rgba(&self) -> Vec<u8> {
        self.crops.as_ref().map(|c| c.context.to_rgba()).unwrap_or_default()
    }

    /// The 68 landmarks of the last [`FaceTracker::cut`], flat `x, y` pairs.
    pub fn landmarks(&self) -> Vec<f32> {
        self.crops.as_ref().map(|c| c.landmarks.points.iter().flatten().copied().collect()).unwrap_or_default()
    }
}
