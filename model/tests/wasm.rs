//! The whole pipeline compiled to wasm32 (simd128), in headless Chromium, on sample1:
//! same faces, landmarks, liveness and embeddings as the native build and as onnxruntime.
//!
//! Built by `scripts/test-model.sh` after the native tests: the models and fixtures are
//! embedded at compile time from `BIOPASS_MODELS` and `BIOPASS_MODEL_REF`
//! (`native-sample1.json` is written by the native detection test).

use biopass_model::{align, head_pose, liveness_crop, ModelBytes, Pipeline};
use serde_json::Value;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

use crate::helpers::{cosine, parse_ppm};

wasm_bindgen_test_configure!(run_in_browser);

const DETECT: &[u8] = include_bytes!(concat!(env!("BIOPASS_MODELS"), "/fr_detect.onnx"));
const LANDMARK: &[u8] = include_bytes!(concat!(env!("BIOPASS_MODELS"), "/fr_landmark.onnx"));
const LIVENESS: &[u8] = include_bytes!(concat!(env!("BIOPASS_MODELS"), "/fr_liveness.onnx"));
const FEATURE: &[u8] = include_bytes!(concat!(env!("BIOPASS_MODELS"), "/fr_feature.onnx"));
const PHOTO: &[u8] = include_bytes!(concat!(env!("BIOPASS_MODEL_REF"), "/sample1.ppm"));
const REFERENCE: &[u8] = include_bytes!(concat!(env!("BIOPASS_MODEL_REF"), "/photos.json"));
const NATIVE: &[u8] = include_bytes!(concat!(env!("BIOPASS_MODEL_REF"), "/native-sample1.json"));

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

#[wasm_bindgen_test]
fn pipeline_in_the_browser_matches_native_and_onnxruntime() {
    let t0 = now_ms();
    let p = Pipeline::load(ModelBytes { detect: DETECT, landmark: LANDMARK, liveness: LIVENESS, feature: FEATURE }).unwrap();
    let load_ms = now_ms() - t0;
    let native: Value = serde_json::from_slice(NATIVE).unwrap();
    let reference: Value = serde_json::from_slice(REFERENCE).unwrap();
    let native = native["faces"].as_array().unwrap();
    let reference = reference["sample1"]["faces"].as_array().unwrap();

    let img = parse_ppm(PHOTO);
    let frame = img.frame();
    let t0 = now_ms();
    let faces = p.detect(&frame).unwrap();
    let detect_ms = now_ms() - t0;
    assert_eq!(faces.len(), native.len());
    assert_eq!(faces.len(), reference.len());
    let (mut min_iou, mut max_lm, mut max_live, mut min_cos, mut min_cos_ref) = (1.0f32, 0.0f32, 0.0f32, 1.0f32, 1.0f32);
    for ((face, n), r) in faces.iter().zip(native).zip(reference) {
        let b = floats(&n["box"]);
        let nb = biopass_model::BBox { x1: b[0], y1: b[1], x2: b[2], y2: b[3] };
        min_iou = min_iou.min(face.bbox.iou(&nb));

        let lm = p.landmarks(&frame, face).unwrap();
        let nl = floats(&n["landmarks"]);
        for (a, b) in lm.points.iter().flatten().zip(&nl) {
            max_lm = max_lm.max((a - b).abs());
        }
        let _pose = head_pose(&lm);

        let live = p.liveness(&liveness_crop(&frame, face)).unwrap();
        max_live = max_live.max((live - n["liveness"].as_f64().unwrap() as f32).abs());

        let e = p.embed(&align(&frame, &lm)).unwrap();
        min_cos = min_cos.min(cosine(e.as_slice(), &floats(&n["embedding"])));
        min_cos_ref = min_cos_ref.min(cosine(e.as_slice(), &floats(&r["embedding"])));
    }
    console_log!(
        "wasm32: load {load_ms:.0} ms, detect {detect_ms:.0} ms; vs native: min IoU {min_iou:.5}, \
         max landmark diff {max_lm:.4} px, max liveness diff {max_live:.2e}, min embedding cosine {min_cos:.6}; \
         vs onnxruntime: min embedding cosine {min_cos_ref:.6}"
    );
    assert!(min_iou >= 0.999, "boxes differ from native: IoU {min_iou}");
    assert!(max_lm <= 0.05, "landmarks differ from native by {max_lm} px");
    assert!(max_live <= 1e-3, "liveness differs from native by {max_live}");
    assert!(min_cos >= 0.99999, "embeddings differ from native: cosine {min_cos}");
    assert!(min_cos_ref >= 0.999, "embeddings differ from onnxruntime: cosine {min_cos_ref}");
}
