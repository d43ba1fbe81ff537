//! The server side of face authentication: load the models from the worker's own static
//! assets (once per isolate), decode the evidence's whole camera frames, and measure them
//! with the same `biopass-model` code the browser runs (`biopass_model::scene::
//! measure_capture`: detection, landmarks, alignment, liveness, embedding, region colours).
//! Decisions are made by `biopass_idp::face`.

use crate::error::{AppError, AppResult};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use biopass_idp::error::ApiFailure;
use biopass_idp::face::{Colours, FrameQuality, MeasuredFace, MeasuredFrame};
use biopass_model::scene::{measure_capture, CaptureFrame, FrameMeasures, Phase};
use biopass_model::{Frame, ModelBytes, ModelKind, Pipeline};
use biopass_proto::login::{CapturePhase, EvidenceFrame};
use std::cell::RefCell;
use std::rc::Rc;
use worker::Env;

/// Largest JPEG we decode per frame (a 320x240 frame at quality 0.85 is 10-20 KB).
const MAX_IMAGE: usize = 64 * 1024;

/// Largest evidence body: `MAX_FRAMES` base64 frames at most `MAX_IMAGE` each, plus JSON.
pub const MAX_EVIDENCE_BODY: usize = biopass_idp::face::MAX_FRAMES * (MAX_IMAGE.div_ceil(3) * 4 + 256) + 1024;

thread_local! {
    static PIPELINE: RefCell<Option<Rc<Pipeline>>> = const { RefCell::new(None) };
}

async fn asset(env: &Env, name: &str) -> AppResult<Vec<u8>> {
    let assets = env.assets("ASSETS")?;
    let mut resp = assets.fetch(format!("https://assets.local/models/{name}"), None).await?;
    if resp.status_code() != 200 {
        return Err(AppError::internal(format!("model asset {name} answered {}", resp.status_code())));
    }
    Ok(resp.bytes().await?)
}

/// The pipeline, loaded and optimised on first use and kept for the isolate's life.
pub async fn pipeline(env: &Env) -> AppResult<Rc<Pipeline>> {
    if let Some(p) = PIPELINE.with(|c| c.borrow().clone()) {
        return Ok(p);
    }
    let detect = asset(env, ModelKind::Detect.file_name()).await?;
    let landmark = asset(env, ModelKind::Landmark.file_name()).await?;
    let liveness = asset(env, ModelKind::Liveness.file_name()).await?;
    let feature = asset(env, ModelKind::Feature.file_name()).await?;
    let loaded = Pipeline::load(ModelBytes { detect: &detect, landmark: &landmark, liveness: &liveness, feature: &feature })
        .map_err(|e| AppError::internal(format!("face models: {e}")))?;
    let p = Rc::new(loaded);
    PIPELINE.with(|c| *c.borrow_mut() = Some(p.clone()));
    Ok(p)
}

fn bad(message: &str) -> AppError {
    AppError::Api(ApiFailure::invalid_field("frames", message))
}

/// Decodes a base64 JPEG of exactly `width` x `height` pixels to RGBA.
fn decode(b64: &str, width: u32, height: u32) -> AppResult<Vec<u8>> {
    let jpeg = STANDARD.decode(b64.trim()).map_err(|_| bad("a frame is not base64"))?;
    if jpeg.len() > MAX_IMAGE {
        return Err(bad("a frame is too large"));
    }
    biopass_model::jpeg::decode_rgba(&jpeg, width, height).map_err(|_| bad(&format!("every frame must be a {width}x{height} JPEG image")))
}

fn phase(p: CapturePhase) -> Phase {
    match p {
        CapturePhase::Far => Phase::Far,
        CapturePhase::Near => Phase::Near,
        CapturePhase::Light => Phase::Light,
    }
}

/// What the decision needs of the model's measures of one frame.
fn to_measured(f: &EvidenceFrame, m: FrameMeasures, width: u32, height: u32) -> MeasuredFrame {
    let (w, h) = (width as f32, height as f32);
    let face = m.face.map(|found| {
        found.map(|fm| {
            let [cx, cy] = fm.face.bbox.centre();
            MeasuredFace {
                cx: cx / w,
                cy: cy / h,
                width: fm.face.bbox.width() / w,
                faces: fm.faces,
                yaw: fm.pose.yaw,
                pitch: fm.pose.pitch,
                depth_ratio: fm.depth_ratio,
                score: fm.face.score,
            }
        })
    });
    let score = face.flatten().map_or(0.0, |f| f.score);
    MeasuredFrame {
        phase: f.phase,
        t_ms: f.t_ms,
        face,
        liveness: m.liveness,
        embedding: m.embedding.map(|e| e.as_slice().to_vec()),
        quality: m.quality.map(|q| FrameQuality { detector_score: score, sharpness: q.sharpness, brightness: q.brightness }),
        colours: m.colour.map(|c| Colours { face: c.face, background: c.background, background_share: c.background_share }),
        continuity: m.continuity,
    }
}

/// Decodes and measures every frame of the evidence.
///
/// # Errors
/// `invalid_input` for frames that do not decode or have the wrong size; internal errors for
/// model failures.
pub fn measure(p: &Pipeline, frames: &[EvidenceFrame]) -> AppResult<Vec<MeasuredFrame>> {
    let (w, h) = (biopass_idp::face::FRAME_WIDTH, biopass_idp::face::FRAME_HEIGHT);
    let pixels: Vec<Vec<u8>> = frames.iter().map(|f| decode(&f.jpeg, w, h)).collect::<AppResult<_>>()?;
    let model = |e: biopass_model::Error| AppError::internal(format!("face model: {e}"));
    let capture: Vec<CaptureFrame<'_>> = frames
        .iter()
        .zip(&pixels)
        .map(|(f, rgba)| Ok(CaptureFrame { phase: phase(f.phase), frame: Frame::new(w, h, rgba).map_err(model)? }))
        .collect::<AppResult<_>>()?;
    let measures = measure_capture(p, &capture).map_err(model)?;
    Ok(frames.iter().zip(measures).map(|(f, m)| to_measured(f, m, w, h)).collect())
}
