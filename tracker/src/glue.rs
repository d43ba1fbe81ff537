//! The wasm-bindgen surface the Web Worker calls. Reports cross as JSON text (the page
//! parses them into `biopass_proto::tracker::TrackReport`).

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
}

#[wasm_bindgen]
impl FaceTracker {
    /// Loads the detector and landmark model from their ONNX bytes.
    #[wasm_bindgen(constructor)]
    pub fn new(detect: &[u8], landmark: &[u8]) -> Result<FaceTracker, JsError> {
        Ok(FaceTracker { inner: Tracker::load(detect, landmark).map_err(js)? })
    }

    /// Tracks one RGBA frame; returns the report as JSON.
    pub fn track(&mut self, rgba: &[u8], width: u32, height: u32) -> Result<String, JsError> {
        let report = self.inner.track(rgba, width, height, &now).map_err(js)?;
        serde_json::to_string(&report).map_err(js)
    }
}
