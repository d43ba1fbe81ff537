//! Face pipeline of Biopass edge on [tract](https://github.com/sonos/tract): detect faces,
//! find 68 landmarks, estimate head pose, align, check liveness, embed, and match.
//!
//! The same code runs in the browser (wasm32 in a Web Worker: tracking and guidance),
//! in the edge worker (wasm32: the server decodes the whole evidence frames the browser
//! sends, runs the whole pipeline on them itself and measures the capture with [`scene`],
//! and decides), and natively (tests and benches).
//!
//! # Usage
//! ```no_run
//! # fn main() -> biopass_model::Result<()> {
//! use biopass_model::{Frame, ModelBytes, Pipeline};
//! # let (detect, landmark, liveness, feature) = (&[][..], &[][..], &[][..], &[][..]);
//! # let (width, height, rgba) = (1u32, 1u32, vec![0u8; 4]);
//! # let threshold = 0.413; // biopass_idp::face::calibration(level).threshold
//! // Load once (each model is parsed, optimised and planned here), reuse for every frame.
//! let pipeline = Pipeline::load(ModelBytes { detect, landmark, liveness, feature })?;
//! let frame = Frame::new(width, height, &rgba)?; // RGBA, e.g. from a canvas
//! for face in pipeline.detect(&frame)? {
//!     let landmarks = pipeline.landmarks(&frame, &face)?;
//!     let pose = biopass_model::head_pose(&landmarks); // guidance: yaw/pitch/roll
//!     let aligned = biopass_model::align(&frame, &landmarks);
//!     let context = biopass_model::liveness_crop(&frame, &face);
//!     let live = pipeline.liveness(&context)?;
//!     let probe = pipeline.embed(&aligned)?;
//!     # let enrolled = probe.clone();
//!     // The match is scored where it is decided: `biopass_idp::face::cosine`.
//!     let same_person = biopass_idp::face::cosine(probe.as_slice(), enrolled.as_slice()) >= threshold;
//!     # let _ = (pose, live, same_person);
//! }
//! # Ok(()) }
//! ```
//! The server loads all four models ([`Pipeline::load`]) from its static assets, at
//! `/models/<ModelKind::file_name()>`, as the browser does.
//!
//! # Layout
//! - [`error`]: [`Error`] (bad frame or crop size, model load, inference), [`ModelKind`].
//! - [`frame`]: [`Frame`] (borrowed RGBA) and the serialisable crops [`Aligned112`],
//!   [`Crop128`].
//! - [`imageops`]: pure image operations (affine maps, bilinear crop/resize/warp, the
//!   5-point similarity fit, channel planes).
//! - [`jpeg`]: [`jpeg::decode_rgba`], the browser's evidence frames to RGBA (size-bounded).
//! - `runtime` (private): ONNX bytes to an optimised tract plan; one `f32` run.
//! - `fused` (private): load-time rewrite of PReLU into one fused pass (3x faster nets).
//! - [`detect`]: [`Detector`], [`Face`], [`BBox`], NMS.
//! - [`landmark`]: [`LandmarkModel`], [`Landmarks68`].
//! - [`pose`]: [`head_pose`], [`Pose`] and its sign convention.
//! - [`align`](mod@align): [`align()`] to the 112x112 reference points.
//! - [`liveness`]: [`LivenessModel`], [`liveness_crop`], class semantics and channel
//!   order (and how they were determined).
//! - [`embed`]: [`FeatureModel`], [`Embedding`] (unit vectors; scored by
//!   `biopass_idp::face::cosine`, the worker's match).
//! - [`quality`]: [`crop_quality`] (sharpness and brightness of an aligned crop).
//! - [`scene`]: whole-frame measures of a capture for the light-and-distance liveness check
//!   ([`scene::measure_capture`], [`scene::depth_ratio`], [`scene::region_colours`]).
//!
//! Tests: units beside the code; `tests/main.rs` checks parity with onnxruntime, detection,
//! verification, liveness and pose on real photos (run `scripts/test-model.sh`), and the
//! same pipeline in headless Chromium (wasm32).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod align;
pub mod detect;
pub mod embed;
pub mod error;
pub mod frame;
mod fused;
pub mod imageops;
pub mod jpeg;
pub mod landmark;
pub mod liveness;
pub mod pose;
pub mod quality;
mod runtime;
pub mod scene;

pub use align::align;
pub use detect::{BBox, Detector, Face};
pub use embed::{Embedding, FeatureModel};
pub use error::{Error, ModelKind, Result};
pub use frame::{Aligned112, Crop128, Frame, SquareCrop};
pub use landmark::{LandmarkModel, Landmarks68};
pub use liveness::{liveness_crop, LivenessModel};
pub use pose::{head_pose, Pose};
pub use quality::{crop_quality, CropQuality};

/// The four ONNX files, as bytes (fetched from `/models/...` in the browser).
#[derive(Clone, Copy, Debug)]
pub struct ModelBytes<'a> {
    /// `fr_detect.onnx`
    pub detect: &'a [u8],
    /// `fr_landmark.onnx`
    pub landmark: &'a [u8],
    /// `fr_liveness.onnx`
    pub liveness: &'a [u8],
    /// `fr_feature.onnx`
    pub feature: &'a [u8],
}

/// All four models, loaded and optimised once, for the browser and the tests.
#[derive(Clone, Debug)]
pub struct Pipeline {
    /// Face detector.
    pub detector: Detector,
    /// Landmark regressor.
    pub landmark: LandmarkModel,
    /// Liveness classifier.
    pub liveness: LivenessModel,
    /// Embedding network.
    pub feature: FeatureModel,
}

impl Pipeline {
    /// Loads and optimises the four models.
    ///
    /// # Errors
    /// [`Error::ModelLoad`] naming the first model that fails.
    pub fn load(bytes: ModelBytes<'_>) -> Result<Self> {
        Ok(Self {
            detector: Detector::load(bytes.detect)?,
            landmark: LandmarkModel::load(bytes.landmark)?,
            liveness: LivenessModel::load(bytes.liveness)?,
            feature: FeatureModel::load(bytes.feature)?,
        })
    }

    /// Faces in `frame`, best first. See [`Detector::detect`].
    ///
    /// # Errors
    /// [`Error::Inference`] when the network fails.
    pub fn detect(&self, frame: &Frame<'_>) -> Result<Vec<Face>> {
        self.detector.detect(frame)
    }

    /// The 68 landmarks of `face`. See [`LandmarkModel::landmarks`].
    ///
    /// # Errors
    /// [`Error::Inference`] when the network fails.
    pub fn landmarks(&self, frame: &Frame<'_>, face: &Face) -> Result<Landmarks68> {
        self.landmark.landmarks(frame, face)
    }

    /// The landmark model itself (for measures that run it on several crops of a face).
    pub fn landmark_model(&self) -> &LandmarkModel {
        &self.landmark
    }

    /// Probability that the face in `crop` is live. See [`LivenessModel::liveness`].
    ///
    /// # Errors
    /// [`Error::Inference`] when the network fails.
    pub fn liveness(&self, crop: &Crop128) -> Result<f32> {
        self.liveness.liveness(crop)
    }

    /// Unit embedding of an aligned face. See [`FeatureModel::embed`].
    ///
    /// # Errors
    /// [`Error::Inference`] when the network fails.
    pub fn embed(&self, aligned: &Aligned112) -> Result<Embedding> {
        self.feature.embed(aligned)
    }
}
