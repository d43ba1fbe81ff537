//! Browser benchmark glue: the face pipeline as a wasm-bindgen module, driven by
//! `tests/model/bench.mjs` beside onnxruntime-web on the same tensors. JavaScript does
//! the timing (`performance.now()`), so both runtimes are measured the same way.
//!
//! Build: `cargo build --release --target wasm32-unknown-unknown -p biopass-model
//! --example wasm_bench` with `-C target-feature=+simd128`, then `wasm-bindgen --target web`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! (Empty when built natively.)

#[cfg(target_arch = "wasm32")]
mod glue {
    use biopass_model::liveness::ChannelOrder;
    use biopass_model::{
        align, detect, head_pose, landmark, liveness_crop, Aligned112, Crop128, Detector, Face, FeatureModel, Frame, LandmarkModel, Landmarks68, LivenessModel,
    };
    use wasm_bindgen::prelude::*;

    fn js(e: biopass_model::Error) -> JsError {
        JsError::new(&e.to_string())
    }

    /// A loaded model, or the error that says which one is missing.
    fn loaded<'a, T>(model: &'a Option<T>, what: &str) -> Result<&'a T, JsError> {
        model.as_ref().ok_or_else(|| JsError::new(&format!("{what} not loaded")))
    }

    /// Models, loaded one by one (so JavaScript can time each load), and a current frame.
    #[wasm_bindgen]
    #[derive(Default)]
    pub struct Bench {
        detector: Option<Detector>,
        landmark: Option<LandmarkModel>,
        liveness: Option<LivenessModel>,
        feature: Option<FeatureModel>,
        frame: Vec<u8>,
        width: u32,
        height: u32,
        face: Option<Face>,
        raw: Option<(Vec<f32>, Vec<f32>, Vec<f32>)>,
        landmarks: Option<Landmarks68>,
    }

    #[wasm_bindgen]
    impl Bench {
        #[wasm_bindgen(constructor)]
        pub fn new() -> Bench {
            Bench::default()
        }

        /// Parses, optimises and plans one model (`detect`, `landmark`, `liveness`, `feature`).
        pub fn load(&mut self, kind: &str, onnx: &[u8]) -> Result<(), JsError> {
            match kind {
                "detect" => self.detector = Some(Detector::load(onnx).map_err(js)?),
                "landmark" => self.landmark = Some(LandmarkModel::load(onnx).map_err(js)?),
                "liveness" => self.liveness = Some(LivenessModel::load(onnx).map_err(js)?),
                "feature" => self.feature = Some(FeatureModel::load(onnx).map_err(js)?),
                _ => return Err(JsError::new("unknown model")),
            }
            Ok(())
        }

        /// One network alone on a ready tensor; returns its (first) output.
        pub fn run(&self, kind: &str, input: &[f32]) -> Result<Vec<f32>, JsError> {
            let missing = || JsError::new("model not loaded");
            let input = input.to_vec();
            match kind {
                "detect" => Ok(self.detector.as_ref().ok_or_else(missing)?.run(input).map_err(js)?.0),
                "landmark" => self.landmark.as_ref().ok_or_else(missing)?.run(input).map_err(js),
                "liveness" => self.liveness.as_ref().ok_or_else(missing)?.run(input).map_err(js),
                "feature" => self.feature.as_ref().ok_or_else(missing)?.run(input).map_err(js),
                _ => Err(JsError::new("unknown model")),
            }
        }

        /// Sets the RGBA frame used by the pipeline benchmarks; returns the number of faces.
        pub fn set_frame(&mut self, rgba: &[u8], width: u32, height: u32) -> Result<usize, JsError> {
            self.frame = rgba.to_vec();
            self.width = width;
            self.height = height;
            let frame = Frame::new(width, height, &self.frame).map_err(js)?;
            let det = loaded(&self.detector, "detector")?;
            let lmm = loaded(&self.landmark, "landmarks")?;
            let (scores, boxes) = det.run(Detector::preprocess(&frame)).map_err(js)?;
            let faces = detect::postprocess(&scores, &boxes, width as f32, height as f32);
            let face = *faces.first().ok_or_else(|| JsError::new("no face"))?;
            let lm_raw = lmm.run(LandmarkModel::preprocess(&frame, &face)).map_err(js)?;
            self.landmarks = Some(landmark::postprocess(&lm_raw, &face));
            self.face = Some(face);
            self.raw = Some((scores, boxes, lm_raw));
            Ok(faces.len())
        }

        fn frame(&self) -> Result<Frame<'_>, JsError> {
            Frame::new(self.width, self.height, &self.frame).map_err(js)
        }

        /// The current frame with its tracked face and landmarks.
        fn tracked(&self) -> Result<(Frame<'_>, &Face, &Landmarks68), JsError> {
            let none = || JsError::new("no frame");
            let face = self.face.as_ref().ok_or_else(none)?;
            let lm = self.landmarks.as_ref().ok_or_else(none)?;
            Ok((self.frame()?, face, lm))
        }

        /// Tracking frame end to end: detect + landmarks + head pose; returns the yaw.
        pub fn tracking_frame(&self) -> Result<f32, JsError> {
            let frame = self.frame()?;
            let det = loaded(&self.detector, "detector")?;
            let lmm = loaded(&self.landmark, "landmarks")?;
            let faces = det.detect(&frame).map_err(js)?;
            let face = faces.first().ok_or_else(|| JsError::new("no face"))?;
            Ok(head_pose(&lmm.landmarks(&frame, face).map_err(js)?).yaw)
        }

        /// The image work of a tracking frame without the networks.
        pub fn tracking_prepost(&self) -> Result<f32, JsError> {
            let frame = self.frame()?;
            let (scores, boxes, lm_raw) = self.raw.as_ref().ok_or_else(|| JsError::new("no frame"))?;
            let input = Detector::preprocess(&frame);
            let faces = detect::postprocess(scores, boxes, self.width as f32, self.height as f32);
            let face = faces.first().ok_or_else(|| JsError::new("no face"))?;
            let lm_in = LandmarkModel::preprocess(&frame, face);
            let pose = head_pose(&landmark::postprocess(lm_raw, face));
            std::hint::black_box((input, lm_in));
            Ok(pose.yaw)
        }

        /// Verification end to end: liveness crop + liveness + align + embed; returns the
        /// liveness score.
        pub fn verification(&self) -> Result<f32, JsError> {
            let (frame, face, lm) = self.tracked()?;
            let live = loaded(&self.liveness, "liveness")?;
            let feat = loaded(&self.feature, "feature")?;
            let score = live.liveness(&liveness_crop(&frame, face)).map_err(js)?;
            let e = feat.embed(&align(&frame, lm)).map_err(js)?;
            std::hint::black_box(e);
            Ok(score)
        }

        /// The image work of a verification without the networks.
        pub fn verification_prepost(&self) -> Result<f32, JsError> {
            let (frame, face, lm) = self.tracked()?;
            let c = liveness_crop(&frame, face);
            let a = LivenessModel::preprocess(&c, ChannelOrder::Bgr);
            let b = FeatureModel::preprocess(&align(&frame, lm));
            std::hint::black_box((a, b));
            Ok(0.0)
        }

        /// Liveness input tensor (BGR planes) of a crop given as RGB bytes.
        pub fn liveness_input(crop_rgb: &[u8]) -> Result<Vec<f32>, JsError> {
            Ok(LivenessModel::preprocess(&Crop128::from_bytes(crop_rgb).map_err(js)?, ChannelOrder::Bgr))
        }

        /// Embedding input tensor of an aligned crop given as RGB bytes.
        pub fn feature_input(aligned_rgb: &[u8]) -> Result<Vec<f32>, JsError> {
            Ok(FeatureModel::preprocess(&Aligned112::from_bytes(aligned_rgb).map_err(js)?))
        }
    }
}
