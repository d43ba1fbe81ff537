//! Parity with onnxruntime: each model on identical inputs (fixed formula inputs and the
//! tensors the reference built from the photos), and our preprocessing against the
//! reference's independent implementation.
//!
//! Tolerances (achieved figures are printed with `--nocapture`):
//! - raw outputs on identical inputs: max |tract - onnxruntime| <= 1e-3 x max(1, max |ref|)
//!   (float32 kernels accumulate in different orders; observed errors are ~1e-5 relative);
//! - embeddings on identical crops: cosine >= 0.99999;
//! - liveness probabilities on identical crops: |diff| <= 1e-3;
//! - preprocessing: detector and landmark tensors within 1e-3 (same resampling convention,
//!   f32 here vs f64 there), 8-bit crops within 1 grey level on at most 0.5 % of values.

use biopass_model::landmark::LandmarkModel;
use biopass_model::liveness::ChannelOrder;
use biopass_model::{Aligned112, Crop128, Detector};

use crate::helpers::*;

fn check(name: &str, ours: &[f32], theirs: &[f32]) -> f32 {
    let scale = theirs.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let err = max_abs_diff(ours, theirs);
    println!("parity {name}: max abs diff {err:.2e} (scale {scale:.3})");
    assert!(err <= 1e-3 * scale, "{name}: max abs diff {err} exceeds {}", 1e-3 * scale);
    err / scale
}

#[test]
fn models_match_onnxruntime_on_fixed_inputs() {
    let p = pipeline();
    let fixed = fixed_reference();
    let out = |m: &str, o: &str| floats(&fixed[m][o]["values"]);

    let (scores, boxes) = p.detector.run(fixed_input(3 * 240 * 320, -1.0, 1.0)).unwrap();
    check("detect/scores (fixed)", &scores, &out("detect", "scores"));
    check("detect/boxes (fixed)", &boxes, &out("detect", "boxes"));
    let lm = p.landmark.run(fixed_input(64 * 64, 0.0, 1.0)).unwrap();
    check("landmark (fixed)", &lm, &out("landmark", "output"));
    let live = p.liveness.run(fixed_input(3 * 128 * 128, 0.0, 255.0)).unwrap();
    check("liveness logits (fixed)", &live, &out("liveness", "output"));
    let feat = p.feature.run(fixed_input(3 * 112 * 112, -1.0, 1.0)).unwrap();
    check("feature (fixed)", &feat, &out("feature", "output"));
    let cos = cosine(&feat, &out("feature", "output"));
    println!("parity feature (fixed): cosine {cos:.7}");
    assert!(cos >= 0.99999);
}

#[test]
fn models_match_onnxruntime_on_photo_tensors() {
    let p = pipeline();
    let reference = reference();
    let (mut worst_live, mut worst_cos) = (0.0f32, 1.0f32);
    for n in PHOTOS {
        let name = format!("sample{n}");
        let r = &reference[&name];
        let (scores, boxes) = p.detector.run(tensor_f32(&format!("{name}_detect.f32"))).unwrap();
        check(&format!("{name} detect/scores"), &scores, &floats(&r["raw_scores"]));
        check(&format!("{name} detect/boxes"), &boxes, &floats(&r["raw_boxes"]));
        for (j, face) in r["faces"].as_array().unwrap().iter().enumerate() {
            let stem = format!("{name}_f{j}");
            let lm = p.landmark.run(tensor_f32(&format!("{stem}_landmark.f32"))).unwrap();
            check(&format!("{stem} landmark"), &lm, &floats(&face["landmark_raw"]));

            let crop = Crop128::from_bytes(&tensor_u8(&format!("{stem}_live.u8"))).unwrap();
            for (order, key) in [(ChannelOrder::Bgr, "liveness_bgr"), (ChannelOrder::Rgb, "liveness_rgb")] {
                let ours = p.liveness.scores(&crop, order).unwrap().probabilities;
                let err = max_abs_diff(&ours, &floats(&face[key]));
                worst_live = worst_live.max(err);
                assert!(err <= 1e-3, "{stem} {key}: {ours:?} vs {}", face[key]);
            }

            let aligned = Aligned112::from_bytes(&tensor_u8(&format!("{stem}_aligned.u8"))).unwrap();
            let e = p.feature.embed(&aligned).unwrap();
            let cos = cosine(e.as_slice(), &floats(&face["embedding"]));
            worst_cos = worst_cos.min(cos);
            assert!(cos >= 0.99999, "{stem} embedding cosine {cos}");
        }
    }
    println!("parity on photo crops: liveness max abs diff {worst_live:.2e}, embedding min cosine {worst_cos:.7}");
}

#[test]
fn preprocessing_matches_the_reference_implementation() {
    let reference = reference();
    let mut worst = [0.0f32; 2];
    let (mut off_by_one, mut total, mut max_step) = (0usize, 0usize, 0u8);
    for n in PHOTOS {
        let name = format!("sample{n}");
        let img = photo(n);
        let frame = img.frame();
        let ours = Detector::preprocess(&frame);
        let err = max_abs_diff(&ours, &tensor_f32(&format!("{name}_detect.f32")));
        worst[0] = worst[0].max(err);
        assert!(err <= 1e-3, "{name} detector input differs by {err}");
        for (j, face) in reference[&name]["faces"].as_array().unwrap().iter().enumerate() {
            // Rebuild the reference's face from its box so both sides crop the same region.
            let b = floats(&face["box"]);
            let f = biopass_model::Face { bbox: biopass_model::BBox { x1: b[0], y1: b[1], x2: b[2], y2: b[3] }, score: face["score"].as_f64().unwrap() as f32 };
            let stem = format!("{name}_f{j}");
            let err = max_abs_diff(&LandmarkModel::preprocess(&frame, &f), &tensor_f32(&format!("{stem}_landmark.f32")));
            worst[1] = worst[1].max(err);
            assert!(err <= 1e-3, "{stem} landmark input differs by {err}");

            let lm = biopass_model::Landmarks68::from_flat(&floats(&face["landmarks"])).unwrap();
            let crops = [
                (biopass_model::align(&frame, &lm).as_rgb().to_vec(), tensor_u8(&format!("{stem}_aligned.u8"))),
                (biopass_model::liveness_crop(&frame, &f).as_rgb().to_vec(), tensor_u8(&format!("{stem}_live.u8"))),
            ];
            for (ours, theirs) in crops {
                for (a, b) in ours.iter().zip(&theirs) {
                    let d = a.abs_diff(*b);
                    max_step = max_step.max(d);
                    off_by_one += usize::from(d > 0);
                }
                total += ours.len();
            }
        }
    }
    let share = off_by_one as f32 / total as f32;
    println!(
        "preprocessing parity: detector input {:.1e}, landmark input {:.1e}, crops differ on {:.4} % of values by at most {max_step}",
        worst[0],
        worst[1],
        share * 100.0
    );
    assert!(max_step <= 1 && share <= 0.005, "crops differ on {share} of values, by up to {max_step}");
}
