//! The crate's one error type.

use std::fmt;

/// Which of the four networks an error or a file belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModelKind {
    /// Face detector (`fr_detect.onnx`).
    Detect,
    /// 68-point landmark regressor (`fr_landmark.onnx`).
    Landmark,
    /// Presentation-attack (liveness) classifier (`fr_liveness.onnx`).
    Liveness,
    /// Face embedding network (`fr_feature.onnx`).
    Feature,
}

impl ModelKind {
    /// All four models, in pipeline order.
    pub const ALL: [ModelKind; 4] = [ModelKind::Detect, ModelKind::Landmark, ModelKind::Liveness, ModelKind::Feature];

    /// File name under which the model is served (`/models/<file_name>`) and cached.
    pub fn file_name(self) -> &'static str {
        match self {
            ModelKind::Detect => "fr_detect.onnx",
            ModelKind::Landmark => "fr_landmark.onnx",
            ModelKind::Liveness => "fr_liveness.onnx",
            ModelKind::Feature => "fr_feature.onnx",
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_name())
    }
}

/// Everything that can go wrong in the face pipeline.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A frame's byte length does not match `width * height * 4` (RGBA), or it is empty.
    #[error("frame of {width}x{height} needs {expected} RGBA bytes, got {actual}")]
    BadFrameSize {
        /// Declared width in pixels.
        width: u32,
        /// Declared height in pixels.
        height: u32,
        /// `width * height * 4`.
        expected: usize,
        /// Length of the buffer given.
        actual: usize,
    },
    /// A crop's byte length is neither `side * side * 3` (RGB) nor `side * side * 4` (RGBA).
    #[error("a {side}x{side} crop needs {} (RGB) or {} (RGBA) bytes, got {actual}", side * side * 3, side * side * 4)]
    BadCropSize {
        /// Side of the square crop in pixels.
        side: usize,
        /// Length of the buffer given.
        actual: usize,
    },
    /// Image bytes that are not a JPEG of the size expected.
    #[error("not a {width}x{height} JPEG image: {reason}")]
    BadImage {
        /// Width expected.
        width: u32,
        /// Height expected.
        height: u32,
        /// What the decoder said.
        reason: String,
    },
    /// An embedding does not have 512 finite components with a non-zero norm.
    #[error("an embedding needs 512 finite values with a non-zero norm")]
    BadEmbedding,
    /// The ONNX file could not be parsed, typed or optimised.
    #[error("could not load {model}: {reason}")]
    ModelLoad {
        /// The model that failed.
        model: ModelKind,
        /// tract's explanation.
        reason: String,
    },
    /// Running a loaded model failed, or it returned outputs of an unexpected shape.
    #[error("inference failed in {model}: {reason}")]
    Inference {
        /// The model that failed.
        model: ModelKind,
        /// tract's explanation.
        reason: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
