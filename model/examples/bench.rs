//! Native benchmark of the face pipeline (tract), printed as JSON for
//! `scripts/bench-model.sh`, which sets it beside onnxruntime on the same tensors.
//!
//! `cargo run --release -p biopass-model --example bench -- MODELS_DIR REFERENCE_DIR [RUNS]`
//!
//! - `load_ms`: parse + optimise + plan each model from its bytes (median of 3);
//! - `infer_ms`: each network alone on the reference tensors of sample1 (face 0);
//! - `frame_ms` (detect + landmarks + pose) and `verify_ms` (liveness crop + liveness +
//!   align + embed) end to end on a 640x480 frame cut from sample1, and their
//!   `*_prepost_ms`, the image work without the networks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Instant;

use biopass_model::imageops::{self, Affine};
use biopass_model::landmark::{self, LandmarkModel};
use biopass_model::{align, detect, head_pose, liveness_crop, Aligned112, Crop128, Detector, FeatureModel, Frame, LivenessModel, ModelKind};

fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f(); // warm-up
    }
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn f32s(path: PathBuf) -> Vec<f32> {
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/test-model.sh first)", path.display()))
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// sample1 (1920x1280) cut to its central 4:3 part and resized to 640x480.
fn webcam_frame(reference: &std::path::Path) -> Vec<u8> {
    let ppm = std::fs::read(reference.join("sample1.ppm")).unwrap();
    // header "P6\n1920 1280\n255\n"
    let header_end = ppm.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(2).unwrap().0 + 1;
    let rgba: Vec<u8> = ppm[header_end..].chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect();
    let src = Frame::new(1920, 1280, &rgba).unwrap();
    let map = Affine::rect_to_grid((1920.0 - 1706.67) / 2.0, 0.0, 1706.67, 1280.0, 640, 480);
    imageops::to_u8(&imageops::warp_rgb(&src, &map, 640, 480)).chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let models = PathBuf::from(args.get(1).expect("MODELS_DIR"));
    let reference = PathBuf::from(args.get(2).expect("REFERENCE_DIR"));
    let runs: usize = args.get(3).map(|r| r.parse().unwrap()).unwrap_or(30);
    let bytes = |k: ModelKind| std::fs::read(models.join(k.file_name())).unwrap();

    let (db, lb, vb, fb) = (bytes(ModelKind::Detect), bytes(ModelKind::Landmark), bytes(ModelKind::Liveness), bytes(ModelKind::Feature));
    let load = |f: &dyn Fn()| median_ms(3, f);
    let load_ms = [
        ("detect", load(&|| drop(Detector::load(&db).unwrap()))),
        ("landmark", load(&|| drop(LandmarkModel::load(&lb).unwrap()))),
        ("liveness", load(&|| drop(LivenessModel::load(&vb).unwrap()))),
        ("feature", load(&|| drop(FeatureModel::load(&fb).unwrap()))),
    ];
    let detector = Detector::load(&db).unwrap();
    let landmarks = LandmarkModel::load(&lb).unwrap();
    let liveness = LivenessModel::load(&vb).unwrap();
    let feature = FeatureModel::load(&fb).unwrap();

    let t = reference.join("tensors");
    let det_in = f32s(t.join("sample1_detect.f32"));
    let lm_in = f32s(t.join("sample1_f0_landmark.f32"));
    let live_crop = Crop128::from_bytes(&std::fs::read(t.join("sample1_f0_live.u8")).unwrap()).unwrap();
    let aligned = Aligned112::from_bytes(&std::fs::read(t.join("sample1_f0_aligned.u8")).unwrap()).unwrap();
    let live_in = LivenessModel::preprocess(&live_crop, biopass_model::liveness::ChannelOrder::Bgr);
    let feat_in = FeatureModel::preprocess(&aligned);
    let infer_ms = [
        ("detect", median_ms(runs, || drop(detector.run(det_in.clone()).unwrap()))),
        ("landmark", median_ms(runs, || drop(landmarks.run(lm_in.clone()).unwrap()))),
        ("liveness", median_ms(runs, || drop(liveness.run(live_in.clone()).unwrap()))),
        ("feature", median_ms(runs, || drop(feature.run(feat_in.clone()).unwrap()))),
    ];

    let rgba = webcam_frame(&reference);
    let frame = Frame::new(640, 480, &rgba).unwrap();
    let (scores, boxes) = detector.run(Detector::preprocess(&frame)).unwrap();
    let faces = detect::postprocess(&scores, &boxes, 640.0, 480.0);
    let face = *faces.first().expect("a face in the 640x480 frame");
    let lm_raw = landmarks.run(LandmarkModel::preprocess(&frame, &face)).unwrap();
    let lm = landmark::postprocess(&lm_raw, &face);

    let frame_ms = median_ms(runs, || {
        let faces = detector.detect(&frame).unwrap();
        let lm = landmarks.landmarks(&frame, &faces[0]).unwrap();
        std::hint::black_box(head_pose(&lm));
    });
    let frame_prepost_ms = median_ms(runs, || {
        std::hint::black_box(Detector::preprocess(&frame));
        let faces = detect::postprocess(&scores, &boxes, 640.0, 480.0);
        std::hint::black_box(LandmarkModel::preprocess(&frame, &faces[0]));
        std::hint::black_box(head_pose(&landmark::postprocess(&lm_raw, &faces[0])));
    });
    let verify_ms = median_ms(runs, || {
        let live = liveness.liveness(&liveness_crop(&frame, &face)).unwrap();
        let e = feature.embed(&align(&frame, &lm)).unwrap();
        std::hint::black_box((live, e));
    });
    let verify_prepost_ms = median_ms(runs, || {
        let c = liveness_crop(&frame, &face);
        std::hint::black_box(LivenessModel::preprocess(&c, biopass_model::liveness::ChannelOrder::Bgr));
        std::hint::black_box(FeatureModel::preprocess(&align(&frame, &lm)));
    });

    let obj = |v: &[(&str, f64)]| v.iter().map(|(k, t)| format!("\"{k}\": {t:.3}")).collect::<Vec<_>>().join(", ");
    println!(
        "{{\"runtime\": \"tract-native\", \"runs\": {runs}, \"load_ms\": {{{}}}, \"infer_ms\": {{{}}}, \
         \"frame_ms\": {frame_ms:.3}, \"frame_prepost_ms\": {frame_prepost_ms:.3}, \
         \"verify_ms\": {verify_ms:.3}, \"verify_prepost_ms\": {verify_prepost_ms:.3}}}",
        obj(&load_ms),
        obj(&infer_ms)
    );
}
