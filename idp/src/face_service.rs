//! The wire between the provider and the face service. The provider never runs the face
//! models: it sends the evidence's frames over a service binding (`FACE`) to the face service,
//! which decodes and measures them (detection, landmarks, alignment, liveness, embedding,
//! the light measures) and answers the measures of each frame; [`crate::face`] decides.
//!
//! Both directions are CBOR (RFC 8949, via `ciborium`): JSON has no NaN or infinity, and a
//! measure that came out NaN must reach the decision as NaN (it fails every check), not as
//! an error or a zero.

use crate::face::MeasuredFrame;
use biopass_proto::login::EvidenceFrame;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The face service's one endpoint (`POST`).
pub const MEASURE_PATH: &str = "/measure";
/// The content type of both bodies.
pub const CONTENT_TYPE: &str = "application/cbor";

/// What the provider sends: the evidence's whole frames, as the browser sent them (borrowed
/// when sent, owned when received).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureRequest<'a> {
    pub frames: Cow<'a, [EvidenceFrame]>,
}

/// What the face service answers (status 200). A failure of its own (models that do not load)
/// is a 500 without a body; its log says why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MeasureAnswer {
    /// The measures of each frame, in the request's order.
    Measured(Vec<MeasuredFrame>),
    /// A frame could not be read (not base64, too large, not a 320x240 JPEG): what to tell
    /// the person. Not counted as an attempt.
    Unreadable(String),
}

/// A body that is not the CBOR of the expected type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(pub String);

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "face service wire: {}", self.0)
    }
}

/// # Errors
/// When `value` cannot be serialised (never for the types of this module).
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).map_err(|e| WireError(e.to_string()))?;
    Ok(out)
}

/// # Errors
/// When `bytes` are not the CBOR of a `T`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    ciborium::from_reader(bytes).map_err(|e| WireError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::{Colours, FrameQuality, MeasuredFace};
    use biopass_proto::login::CapturePhase;

    fn frame(liveness: f32) -> MeasuredFrame {
        MeasuredFrame {
            phase: CapturePhase::Near,
            t_ms: 1234,
            face: Some(Some(MeasuredFace { cx: 0.5, cy: 0.45, width: 0.3, faces: 1, yaw: -3.5, pitch: 2.0, depth_ratio: 0.31, score: 0.99 })),
            liveness: Some(liveness),
            embedding: Some(vec![0.1, -0.2, 0.3]),
            quality: Some(FrameQuality { detector_score: 0.99, sharpness: 120.0, brightness: 0.5 }),
            colours: Some(Colours { face: [0.2, 0.3, 0.4], background: [0.1, 0.1, 0.1], background_share: 0.4 }),
            continuity: None,
        }
    }

    #[test]
    fn measures_cross_the_wire_unchanged() {
        // Found, no face found, and not measured stay apart; so do measures that are there
        // and ones that are not.
        let bare = MeasuredFrame { face: None, liveness: None, embedding: None, quality: None, colours: None, continuity: None, ..frame(0.0) };
        let answer = MeasureAnswer::Measured(vec![
            frame(0.8),
            MeasuredFrame { face: Some(None), continuity: Some(0.93), ..frame(0.1) },
            MeasuredFrame { face: None, ..frame(0.2) },
            bare,
        ]);
        assert_eq!(decode::<MeasureAnswer>(&encode(&answer).unwrap()).unwrap(), answer);
        let unreadable = MeasureAnswer::Unreadable("Every frame must be a 320x240 JPEG image.".into());
        assert_eq!(decode::<MeasureAnswer>(&encode(&unreadable).unwrap()).unwrap(), unreadable);
    }

    #[test]
    fn nan_stays_nan() {
        let MeasureAnswer::Measured(back) = decode(&encode(&MeasureAnswer::Measured(vec![frame(f32::NAN)])).unwrap()).unwrap() else { panic!("not measured") };
        assert!(back[0].liveness.unwrap().is_nan());
        let mut inf = frame(0.5);
        inf.quality = Some(FrameQuality { detector_score: f32::INFINITY, sharpness: f32::NEG_INFINITY, brightness: 0.5 });
        let MeasureAnswer::Measured(back) = decode(&encode(&MeasureAnswer::Measured(vec![inf])).unwrap()).unwrap() else { panic!("not measured") };
        assert_eq!(back[0].quality.unwrap().detector_score, f32::INFINITY);
    }

    #[test]
    fn a_body_of_something_else_is_an_error() {
        assert!(decode::<MeasureAnswer>(b"{\"Measured\":[]}").is_err());
        assert!(decode::<MeasureRequest<'static>>(&encode(&MeasureAnswer::Unreadable("x".into())).unwrap()).is_err());
        assert!(decode::<MeasureAnswer>(&[]).is_err());
    }
}
