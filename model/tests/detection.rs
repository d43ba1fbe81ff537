//! Detection and the whole pipeline on the six demo photos against the onnxruntime
//! reference: exactly the 22 faces, same boxes (IoU >= 0.98 each), landmarks within
//! 0.5 px on average per face, embeddings with cosine >= 0.999 and liveness within 0.01.
//! Also writes our results for sample1 (`native-sample1.json`) for the wasm32 test.

use biopass_model::{align, liveness_crop};
use serde_json::json;

use crate::helpers::*;

const MIN_IOU: f32 = 0.98;

#[test]
fn finds_the_22_faces_with_reference_boxes_and_results() {
    let p = pipeline();
    let reference = reference();
    let (mut total, mut min_iou, mut worst_lm, mut worst_cos, mut worst_live) = (0, 1.0f32, 0.0f32, 1.0f32, 0.0f32);
    for n in PHOTOS {
        let name = format!("sample{n}");
        let img = photo(n);
        let frame = img.frame();
        let faces = p.detect(&frame).unwrap();
        let theirs = reference[&name]["faces"].as_array().unwrap();
        assert_eq!(faces.len(), theirs.len(), "{name}: {} faces, reference has {}", faces.len(), theirs.len());
        total += faces.len();
        let mut native = Vec::new();
        for (face, r) in faces.iter().zip(theirs) {
            let b = floats(&r["box"]);
            let rb = biopass_model::BBox { x1: b[0], y1: b[1], x2: b[2], y2: b[3] };
            let iou = face.bbox.iou(&rb);
            min_iou = min_iou.min(iou);
            assert!(iou >= MIN_IOU, "{name}: box {:?} vs reference {rb:?} (IoU {iou})", face.bbox);
            assert!((face.score - r["score"].as_f64().unwrap() as f32).abs() < 1e-3);

            let lm = p.landmarks(&frame, face).unwrap();
            let rl = floats(&r["landmarks"]);
            let mean_err = lm.points.iter().zip(rl.chunks_exact(2)).map(|(a, b)| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()).sum::<f32>() / 68.0;
            worst_lm = worst_lm.max(mean_err);
            assert!(mean_err <= 0.5, "{name}: landmarks off by {mean_err} px on average");

            let live = p.liveness(&liveness_crop(&frame, face)).unwrap();
            let rlive = r["liveness_bgr"][0].as_f64().unwrap() as f32;
            worst_live = worst_live.max((live - rlive).abs());
            assert!((live - rlive).abs() <= 0.01, "{name}: liveness {live} vs {rlive}");

            let aligned = align(&frame, &lm);
            let e = p.embed(&aligned).unwrap();
            // What the server does with the bytes the browser sends: the same embedding.
            let from_bytes = p.feature.embed_bytes(&aligned.to_rgba()).unwrap();
            assert_eq!(e, from_bytes);
            let cos = cosine(e.as_slice(), &floats(&r["embedding"]));
            worst_cos = worst_cos.min(cos);
            assert!(cos >= 0.999, "{name}: embedding cosine to reference {cos}");
            native.push(json!({
                "box": [face.bbox.x1, face.bbox.y1, face.bbox.x2, face.bbox.y2],
                "score": face.score,
                "landmarks": lm.points.iter().flatten().collect::<Vec<_>>(),
                "liveness": live,
                "embedding": e.as_slice(),
            }));
        }
        if n == 1 {
            let path = reference_dir().join("native-sample1.json");
            std::fs::write(&path, serde_json::to_vec(&json!({ "faces": native })).unwrap()).unwrap();
        }
    }
    println!(
        "detection: {total} faces; min IoU to reference {min_iou:.4}; worst mean landmark error {worst_lm:.3} px; \
         min embedding cosine {worst_cos:.6}; max liveness diff {worst_live:.2e}"
    );
    assert_eq!(total, 22);
}

#[test]
fn frame_size_errors_are_reported_not_panicked() {
    let px = vec![0u8; 10];
    assert!(matches!(biopass_model::Frame::new(4, 4, &px), Err(biopass_model::Error::BadFrameSize { expected: 64, actual: 10, .. })));
    // A tiny valid frame runs through detection without faces or errors.
    let px = vec![128u8; 8 * 6 * 4];
    let frame = biopass_model::Frame::new(8, 6, &px).unwrap();
    assert!(pipeline().detect(&frame).unwrap().is_empty());
}

#[test]
fn loading_garbage_is_a_model_load_error() {
    let err = biopass_model::Detector::load(b"not an onnx file").unwrap_err();
    assert!(matches!(err, biopass_model::Error::ModelLoad { model: biopass_model::ModelKind::Detect, .. }));
    // The wrong model for the slot fails at load, not at the first frame.
    let landmark = model_bytes(biopass_model::ModelKind::Landmark);
    assert!(biopass_model::FeatureModel::load(&landmark).is_err());
}
