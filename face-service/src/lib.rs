//! Biopass edge's face service, a Worker of its own: measures the frames of a face evidence
//! for the provider. It is the only Worker that links the face models' runtime (tract) and
//! loads the models, so the provider's bundle, cold start and memory stay those of the
//! protocol code, and this Worker can have a CPU limit of its own.
//!
//! # Layout
//! - [`fetch`] (the entry point): `POST /measure` with a CBOR
//!   [`MeasureRequest`](biopass_idp::face_service::MeasureRequest), answered with a CBOR
//!   [`MeasureAnswer`]; anything else is 404. It has no public route: the provider reaches it
//!   through its `FACE` service binding.
//! - [`pipeline`]: the models from this Worker's static assets, loaded and optimised once per
//!   isolate.
//! - [`measure`]: decoding the whole camera frames and measuring them with the same
//!   `biopass-model` code the browser's tracker runs (`biopass_model::scene::measure_capture`).
//!
//! Decisions are not made here: `biopass_idp::face` makes them in the provider.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use biopass_idp::face::{Colours, FrameQuality, MeasuredFace, MeasuredFrame, FRAME_HEIGHT, FRAME_WIDTH, MAX_EVIDENCE_BODY, MAX_FRAMES, MAX_FRAME_JPEG};
use biopass_idp::face_service::{decode, encode, MeasureAnswer, MeasureRequest, CONTENT_TYPE, MEASURE_PATH};
use biopass_model::scene::{measure_capture, CaptureFrame, FrameMeasures, Phase};
use biopass_model::{Frame, ModelBytes, ModelKind, Pipeline};
use biopass_proto::login::{CapturePhase, EvidenceFrame};
use std::cell::RefCell;
use std::rc::Rc;
use worker::{event, Context, Env, Headers, Method, Request, Response};

/// Why a request was not measured.
#[derive(Debug)]
enum FaceError {
    /// The request is not one this Worker answers (404).
    NotFound,
    /// A frame cannot be read: the person is told (200 with [`MeasureAnswer::Unreadable`]).
    Unreadable(String),
    /// A failure of this Worker's own (500 without a body; the log says why).
    Internal(String),
}

impl From<worker::Error> for FaceError {
    fn from(e: worker::Error) -> Self {
        Self::Internal(e.to_string())
    }
}

type FaceResult<T> = Result<T, FaceError>;

thread_local! {
    static PIPELINE: RefCell<Option<Rc<Pipeline>>> = const { RefCell::new(None) };
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    console_error_panic_hook::set_once();
    let answer = match handle(req, &env).await {
        Ok(measured) => MeasureAnswer::Measured(measured),
        Err(FaceError::Unreadable(message)) => MeasureAnswer::Unreadable(message),
        Err(FaceError::NotFound) => return Ok(Response::empty()?.with_status(404)),
        Err(FaceError::Internal(why)) => {
            worker::console_error!("face measure failed: {why}");
            return Ok(Response::empty()?.with_status(500));
        }
    };
    match encode(&answer) {
        Ok(body) => {
            let headers = Headers::new();
            headers.set("content-type", CONTENT_TYPE)?;
            Ok(Response::from_bytes(body)?.with_headers(headers))
        }
        Err(e) => {
            worker::console_error!("face measure failed: {e}");
            Ok(Response::empty()?.with_status(500))
        }
    }
}

async fn handle(mut req: Request, env: &Env) -> FaceResult<Vec<MeasuredFrame>> {
    if req.method() != Method::Post || req.path() != MEASURE_PATH {
        return Err(FaceError::NotFound);
    }
    let body = req.bytes().await?;
    if body.len() > MAX_EVIDENCE_BODY {
        return Err(FaceError::Unreadable("The face evidence is too large.".into()));
    }
    let request: MeasureRequest<'static> = decode(&body).map_err(|e| FaceError::Internal(e.to_string()))?;
    if request.frames.is_empty() || request.frames.len() > MAX_FRAMES {
        return Err(FaceError::Unreadable(format!("Send between 1 and {MAX_FRAMES} frames.")));
    }
    // Frames are decoded before the models load: a bad evidence costs no model load.
    let pixels = decode_frames(&request.frames)?;
    let pipeline = pipeline(env).await?;
    measure(&pipeline, &request.frames, &pixels)
}

async fn asset(env: &Env, name: &str) -> FaceResult<Vec<u8>> {
    let assets = env.assets("ASSETS")?;
    let mut resp = assets.fetch(format!("https://assets.local/models/{name}"), None).await?;
    if resp.status_code() != 200 {
        return Err(FaceError::Internal(format!("model asset {name} answered {}", resp.status_code())));
    }
    Ok(resp.bytes().await?)
}

/// The pipeline, loaded and optimised on first use and kept for the isolate's life.
async fn pipeline(env: &Env) -> FaceResult<Rc<Pipeline>> {
    if let Some(p) = PIPELINE.with(|c| c.borrow().clone()) {
        return Ok(p);
    }
    let detect = asset(env, ModelKind::Detect.file_name()).await?;
    let landmark = asset(env, ModelKind::Landmark.file_name()).await?;
    let liveness = asset(env, ModelKind::Liveness.file_name()).await?;
    let feature = asset(env, ModelKind::Feature.file_name()).await?;
    let loaded = Pipeline::load(ModelBytes { detect: &detect, landmark: &landmark, liveness: &liveness, feature: &feature })
        .map_err(|e| FaceError::Internal(format!("face models: {e}")))?;
    let p = Rc::new(loaded);
    PIPELINE.with(|c| *c.borrow_mut() = Some(p.clone()));
    Ok(p)
}

/// Decodes each base64 JPEG of exactly [`FRAME_WIDTH`] x [`FRAME_HEIGHT`] pixels to RGBA.
fn decode_frames(frames: &[EvidenceFrame]) -> FaceResult<Vec<Vec<u8>>> {
    frames
        .iter()
        .map(|f| {
            let jpeg = STANDARD.decode(f.jpeg.trim()).map_err(|_| FaceError::Unreadable("A frame is not base64.".into()))?;
            if jpeg.len() > MAX_FRAME_JPEG {
                return Err(FaceError::Unreadable("A frame is too large.".into()));
            }
            biopass_model::jpeg::decode_rgba(&jpeg, FRAME_WIDTH, FRAME_HEIGHT)
                .map_err(|_| FaceError::Unreadable(format!("Every frame must be a {FRAME_WIDTH}x{FRAME_HEIGHT} JPEG image.")))
        })
        .collect()
}

fn phase(p: CapturePhase) -> Phase {
    match p {
        CapturePhase::Far => Phase::Far,
        CapturePhase::Near => Phase::Near,
        CapturePhase::Light => Phase::Light,
    }
}

/// What the decision needs of the model's measures of one frame.
fn to_measured(f: &EvidenceFrame, m: FrameMeasures) -> MeasuredFrame {
    let (w, h) = (FRAME_WIDTH as f32, FRAME_HEIGHT as f32);
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

/// Measures every decoded frame of the evidence.
fn measure(p: &Pipeline, frames: &[EvidenceFrame], pixels: &[Vec<u8>]) -> FaceResult<Vec<MeasuredFrame>> {
    let model = |e: biopass_model::Error| FaceError::Internal(format!("face model: {e}"));
    let capture: Vec<CaptureFrame<'_>> = frames
        .iter()
        .zip(pixels)
        .map(|(f, rgba)| Ok(CaptureFrame { phase: phase(f.phase), frame: Frame::new(FRAME_WIDTH, FRAME_HEIGHT, rgba).map_err(model)? }))
        .collect::<FaceResult<_>>()?;
    let measures = measure_capture(p, &capture).map_err(model)?;
    Ok(frames.iter().zip(measures).map(|(f, m)| to_measured(f, m)).collect())
}
