//! The login API: what the universal-login SPA calls to finish a login transaction. Each
//! handler parses the request and calls `biopass_service::login` (the steps, counting and
//! lock-out, the end of a sign-in); the face evidence's analysis runs here, on the models
//! the worker loads itself (see `crate::face`).
//!
//! Every call names the transaction in its path and must come from the browser that
//! started it (the `bp_browser` cookie).

use crate::error::{json, AppError, AppResult};
use crate::http::{cookie, json_body};
use crate::routes::oauth::BROWSER_COOKIE;
use crate::store::Ctx;
use biopass_idp::error::ApiFailure;
use biopass_idp::face::{self, FaceRejection};
use biopass_idp::schema::sha256_hex;
use biopass_idp::secretbox::Purpose;
use biopass_idp::user::{Enrolled, UserRecord};
use biopass_proto::error::ApiErrorCode;
use biopass_proto::login::{AuthenticatorKind, FaceChallengeRequest, FaceEvidence, FacePurpose, TotpAnswer};
use biopass_service::login::{self as service, Caller, Step};
use worker::{Request, Response};

/// Loads the transaction `tx_id` for the browser and address of `req`.
async fn load(req: &Request, ctx: &Ctx, tx_id: &str) -> AppResult<Step> {
    let caller = Caller { browser: cookie(req, BROWSER_COOKIE).unwrap_or_default(), ip: crate::audit::client_ip(req) };
    Ok(service::load(ctx, tx_id, caller).await?)
}

/// `GET /api/login/{tx}`.
pub async fn state(req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    json(200, &service::state(&load(&req, ctx, tx_id).await?))
}

/// `POST /api/login/{tx}/totp/enrol`: offers a new TOTP seed (not yet saved to the user).
pub async fn totp_enrol(req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    let step = load(&req, ctx, tx_id).await?;
    json(200, &service::totp_enrol(ctx, &step).await?)
}

/// `POST /api/login/{tx}/totp/enrol/confirm`: the first code proves the app has the seed.
pub async fn totp_confirm(mut req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    let answer: TotpAnswer = json_body(&mut req).await?;
    let step = load(&req, ctx, tx_id).await?;
    json(200, &service::totp_confirm(ctx, &step, &answer).await?)
}

/// `POST /api/login/{tx}/totp`: authenticates with an enrolled TOTP.
pub async fn totp_verify(mut req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    let answer: TotpAnswer = json_body(&mut req).await?;
    let step = load(&req, ctx, tx_id).await?;
    json(200, &service::totp_verify(ctx, &step, &answer).await?)
}

/// `POST /api/login/{tx}/face/challenge`: a one-use challenge for this transaction.
pub async fn face_challenge(mut req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    // The body is optional: `{"reduced_motion": true}` asks for slower colours.
    let text = req.text().await?;
    let asked: FaceChallengeRequest = if text.trim().is_empty() {
        FaceChallengeRequest::default()
    } else {
        serde_json::from_str(&text).map_err(|e| AppError::Api(ApiFailure::new(ApiErrorCode::InvalidInput, format!("the request body is not valid: {e}"))))?
    };
    let step = load(&req, ctx, tx_id).await?;
    json(200, &service::face_challenge(ctx, &step, asked.reduced_motion).await?)
}

/// `POST /api/login/{tx}/face`: the evidence for a challenge. The nonce is spent first (one
/// use, even under concurrency); the worker re-runs the models on every frame and decides.
pub async fn face_evidence(mut req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    // Frames are larger than the generic API body limit allows: a limit of their own.
    let text = req.text().await?;
    if text.len() > crate::face::MAX_EVIDENCE_BODY {
        return Err(AppError::Api(ApiFailure::invalid_field("frames", "The face evidence is too large.")));
    }
    let evidence: FaceEvidence =
        serde_json::from_str(&text).map_err(|e| AppError::Api(ApiFailure::new(ApiErrorCode::InvalidInput, format!("the request body is not valid: {e}"))))?;
    let step = load(&req, ctx, tx_id).await?;
    let issued = service::spend_face_challenge(ctx, &evidence.nonce).await?;
    if issued.transaction != sha256_hex(tx_id) {
        // Evidence made for another sign-in: a replay. Counted and recorded as an attack.
        let rejection = FaceRejection::Inconsistent("the check belongs to another sign-in".into());
        return Err(face_refused(ctx, &step, rejection).await);
    }
    if evidence.frames.is_empty() || evidence.frames.len() > face::MAX_FRAMES {
        return Err(AppError::Api(ApiFailure::invalid_field("frames", format!("Send between 1 and {} frames.", face::MAX_FRAMES))));
    }
    let elapsed_ms = ctx.now.saturating_sub(issued.issued_at).saturating_add(1).saturating_mul(1000);
    let colours = face::ColourTimes { start_ms: evidence.flashes_at_ms, shown_ms: &evidence.colours_shown_ms };
    match issued.purpose {
        FacePurpose::Enrol => {
            let mut user = service::may_enrol(&step, AuthenticatorKind::Face)?;
            if !evidence.consent {
                return Err(AppError::Api(ApiFailure::invalid_field("consent", "Face sign-in needs your consent to process your face.")));
            }
            let measured = measure_all(ctx, &evidence).await?;
            let template = match face::enrol(&issued, colours, &measured, elapsed_ms) {
                Ok(t) => t,
                Err(r) => {
                    if let Some(kind) = r.attack() {
                        service::record(ctx, &step, "face.attack", format!("enrolment refused: {kind}")).await;
                    }
                    return Err(AppError::Api(ApiFailure::new(ApiErrorCode::InvalidInput, r.message())));
                }
            };
            let sealed =
                ctx.svc.master.secret_box(Purpose::FaceTemplate).seal(&mut ctx.svc.rng, &service::sealed_to(&user.id), &face::template_bytes(&template));
            user.face = Some(Enrolled { sealed, enrolled_at: ctx.now });
            ctx.records.put_user(&user).await?;
            json(200, &service::finish(ctx, &step, &user, AuthenticatorKind::Face).await?)
        }
        FacePurpose::Authenticate => {
            let user = service::answering(&step, AuthenticatorKind::Face)?;
            let attempt = service::count_attempt(ctx, &step, AuthenticatorKind::Face, user.as_ref()).await?;
            let measured = match measure_all(ctx, &evidence).await {
                Ok(m) => m,
                Err(e) => {
                    // No usable frame (no face, a bad frame) says nothing about the match.
                    attempt.give_back(&ctx.vault).await?;
                    return Err(e);
                }
            };
            let decision = match &user {
                Some(u) => {
                    face::authenticate(&issued, colours, &measured, elapsed_ms, &face_template(ctx, u)?, face::calibration(step.tx.face_assurance).threshold)
                        .map(|_| ())
                }
                None => Err(face::authenticate_nobody(&issued, colours, &measured, elapsed_ms, &mut ctx.rng)),
            };
            match (decision, user) {
                (Ok(()), Some(mut user)) => {
                    attempt.give_back(&ctx.vault).await?;
                    if evidence.forget_face {
                        service::forget_face(ctx, &step, &mut user).await?;
                    }
                    json(200, &service::authenticated(ctx, &step, &user, AuthenticatorKind::Face, evidence.add_authenticator).await?)
                }
                (Err(r), _) if !r.counts_as_failure() => {
                    attempt.give_back(&ctx.vault).await?;
                    Err(AppError::Api(ApiFailure::new(ApiErrorCode::InvalidInput, r.message())))
                }
                (Err(r), _) => {
                    if let Some(kind) = r.attack() {
                        service::record(ctx, &step, "face.attack", format!("sign-in refused: {kind}")).await;
                    }
                    Err(service::wrong_answer(ctx, &step, attempt, "face", &r.message()).await.into())
                }
                // Unreachable (`authenticate_nobody` never accepts); answered as a stranger's face.
                (Ok(()), None) => Err(service::wrong_answer(ctx, &step, attempt, "face", &FaceRejection::NotRecognised { score: 0.0 }.message()).await.into()),
            }
        }
    }
}

/// The user's enrolled face template, opened.
fn face_template(ctx: &Ctx, user: &UserRecord) -> AppResult<Vec<f32>> {
    let enrolled = user.face.as_ref().ok_or_else(|| AppError::internal("face template missing"))?;
    ctx.master
        .secret_box(Purpose::FaceTemplate)
        .open(&service::sealed_to(&user.id), &enrolled.sealed)
        .ok()
        .and_then(|b| face::template_from_bytes(&b))
        .ok_or_else(|| AppError::internal("face template does not open"))
}

/// Runs the face models on the evidence's frames.
async fn measure_all(ctx: &Ctx, evidence: &FaceEvidence) -> AppResult<Vec<face::MeasuredFrame>> {
    let pipeline = crate::face::pipeline(&ctx.env).await?;
    crate::face::measure(&pipeline, &evidence.frames)
}

/// A refusal recorded as an attack and, where the person could be signing in with a face,
/// counted toward the limits; the error to return.
async fn face_refused(ctx: &mut Ctx, step: &Step, rejection: FaceRejection) -> AppError {
    let kind = rejection.attack().unwrap_or("refused");
    service::record(ctx, step, "face.attack", format!("refused: {kind}")).await;
    let face_user = step.user.as_ref().filter(|u| u.face.is_some() && service::can_authenticate(&step.tx, u, AuthenticatorKind::Face));
    if face_user.is_some() || !step.tx.vouched() {
        match service::count_attempt(ctx, step, AuthenticatorKind::Face, face_user).await {
            Ok(attempt) => service::wrong_answer(ctx, step, attempt, "face", &rejection.message()).await.into(),
            Err(e) => e.into(),
        }
    } else {
        AppError::api(ApiErrorCode::Forbidden, rejection.message())
    }
}
