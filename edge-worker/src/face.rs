//! The server side of face authentication: load the models from the worker's own static
//! assets (once per isolate), decode the evidence crops, and measure every frame with the
//! same `biopass-model` code the browser runs. Decisions are made by `biopass_idp::face`.
//!
//! Per frame (aligned crop JPEG, context crop PNG): liveness on the 128x128 context crop; the detector on that crop must find
//! exactly one face, whose landmarks give the head pose and whose score is the frame's
//! detector score; the embedding, sharpness and brightness of the 112x112 aligned crop.

use crate::error::{AppError, AppResult};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use biopass_idp::error::ApiFailure;
use biopass_idp::face::{FrameQuality, MeasuredFrame};
use biopass_model::{crop_quality, head_pose, Aligned112, Crop128, Frame, ModelBytes, Pipeline};
use biopass_proto::error::ApiErrorCode;
use biopass_proto::login::EvidenceFrame;
use std::cell::RefCell;
use std::rc::Rc;
use worker::Env;

/// Largest image we decode per crop.
const MAX_IMAGE: usize = 96 * 1024;

/// Largest evidence body: `MAX_FRAMES` frames of two base64 crops at most `MAX_IMAGE`
/// each, plus landmarks and JSON. The generic 64 KiB API limit would refuse a single
/// lossless 128x128 context crop of a real face with its aligned crop and a second frame.
pub const MAX_EVIDENCE_BODY: usize = biopass_idp::face::MAX_FRAMES * (2 * MAX_IMAGE.div_ceil(3) * 4 + 4096) + 1024;

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
    let detect = asset(env, "fr_detect.onnx").await?;
    let landmark = asset(env, "fr_landmark.onnx").await?;
    let liveness = asset(env, "fr_liveness.onnx").await?;
    let feature = asset(env, "fr_feature.onnx").await?;
    let loaded = Pipeline::load(ModelBytes { detect: &detect, landmark: &landmark, liveness: &liveness, feature: &feature })
        .map_err(|e| AppError::internal(format!("face models: {e}")))?;
    let p = Rc::new(loaded);
    PIPELINE.with(|c| *c.borrow_mut() = Some(p.clone()));
    Ok(p)
}

fn bad(message: &str) -> AppError {
    AppError::Api(ApiFailure::invalid_field("frames", message))
}

fn base64_image(b64: &str, what: &str) -> AppResult<Vec<u8>> {
    let bytes = STANDARD.decode(b64.trim()).map_err(|_| bad(&format!("the {what} crop is not base64")))?;
    if bytes.len() > MAX_IMAGE {
        return Err(bad(&format!("the {what} crop is too large")));
    }
    Ok(bytes)
}

/// Decodes a base64 PNG of exactly `side` x `side` pixels to RGB.
fn decode_png(b64: &str, side: usize, what: &str) -> AppResult<Vec<u8>> {
    let png = base64_image(b64, what)?;
    // The size limit makes the decoder refuse a header that claims more pixels before it
    // allocates for them (a 96 KiB file can claim gigapixels).
    let options = zune_core::options::DecoderOptions::default().png_set_strip_to_8bit(true).set_max_width(side).set_max_height(side);
    let mut decoder = zune_png::PngDecoder::new_with_options(zune_core::bytestream::ZCursor::new(&png), options);
    let pixels = decoder.decode_raw().map_err(|_| bad(&format!("the {what} crop is not a PNG image")))?;
    let (w, h) = decoder.dimensions().ok_or_else(|| bad(&format!("the {what} crop is not a PNG image")))?;
    let colour = decoder.colorspace().ok_or_else(|| bad(&format!("the {what} crop is not a PNG image")))?;
    if w != side || h != side {
        return Err(bad(&format!("the {what} crop must be {side}x{side} pixels")));
    }
    let channels = colour.num_components();
    if !(channels == 3 || channels == 4) || pixels.len() != side * side * channels {
        return Err(bad(&format!("the {what} crop must be an RGB or RGBA PNG")));
    }
    Ok(pixels.chunks_exact(channels).flat_map(|p| [p[0], p[1], p[2]]).collect())
}

/// Decodes a base64 JPEG of exactly `side` x `side` pixels to RGB.
fn decode(b64: &str, side: usize, what: &str) -> AppResult<Vec<u8>> {
    let jpeg = base64_image(b64, what)?;
    let options = zune_core::options::DecoderOptions::default()
        .jpeg_set_out_colorspace(zune_core::colorspace::ColorSpace::RGB)
        .set_max_width(side)
        .set_max_height(side);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(zune_core::bytestream::ZCursor::new(&jpeg), options);
    let rgb = decoder.decode().map_err(|_| bad(&format!("the {what} crop is not a JPEG image")))?;
    let info = decoder.info().ok_or_else(|| bad(&format!("the {what} crop is not a JPEG image")))?;
    if usize::from(info.width) != side || usize::from(info.height) != side || rgb.len() != side * side * 3 {
        return Err(bad(&format!("the {what} crop must be {side}x{side} pixels")));
    }
    Ok(rgb)
}

/// Measures one frame of evidence.
///
/// # Errors
/// `invalid_input` for crops that do not decode or contain no single face; internal errors
/// for model failures.
pub fn measure(p: &Pipeline, f: &EvidenceFrame) -> AppResult<MeasuredFrame> {
    let aligned = Aligned112::from_bytes(&decode(&f.aligned_jpeg, 112, "aligned")?).map_err(|e| bad(&e.to_string()))?;
    let context = Crop128::from_bytes(&decode_png(&f.context_png, 128, "context")?).map_err(|e| bad(&e.to_string()))?;
    let model = |e: biopass_model::Error| AppError::internal(format!("face model: {e}"));
    let liveness = p.liveness(&context).map_err(model)?;
    let rgba = context.to_rgba();
    let frame = Frame::new(128, 128, &rgba).map_err(model)?;
    let faces = p.detect(&frame).map_err(model)?;
    let face = match faces.as_slice() {
        [one] => one,
        [] => return Err(AppError::Api(ApiFailure::new(ApiErrorCode::InvalidInput, "No face was found in one of the frames."))),
        _ => return Err(AppError::Api(ApiFailure::new(ApiErrorCode::InvalidInput, "More than one face was found in one of the frames."))),
    };
    let pose = head_pose(&p.landmarks(&frame, face).map_err(model)?);
    let embedding = p.embed(&aligned).map_err(model)?.as_slice().to_vec();
    let crop = crop_quality(&aligned);
    let quality = FrameQuality { detector_score: face.score, sharpness: crop.sharpness, brightness: crop.brightness };
    Ok(MeasuredFrame { step: f.step, liveness, yaw: pose.yaw, pitch: pose.pitch, embedding, quality })
}
