//! The login API: what the universal-login SPA calls to finish a login transaction. Each
//! handler parses the request and calls `biopass_service::login` (the steps, counting and
//! lock-out, the face decision, the end of a sign-in); the service's `FaceAnalysis` is the
//! face service, reached over a service binding (see `crate::face`).
//!
//! Every call names the transaction in its path and must come from the browser that
//! started it (the `bp_browser` cookie).

use crate::error::{json, AppError, AppResult};
use crate::face::FaceService;
use crate::http::Request;
use crate::http::{cookie, json_body};
use crate::routes::oauth::BROWSER_COOKIE;
use crate::store::Ctx;
use biopass_i18n::Lang;
use biopass_idp::error::ApiFailure;
use biopass_proto::error::ApiErrorCode;
use biopass_proto::login::{FaceChallengeRequest, FaceEvidence, PasskeyAssertion, PasskeyRegistration, RecoveryAnswer, TotpAnswer};
use biopass_service::login::{self as service, Caller, Step};
use worker::Response;

/// The browser, address and language (`Accept-Language`) of `req`.
fn caller(req: &Request) -> Caller {
    let lang = req.headers().get("accept-language").ok().flatten().map(|h| Lang::from_accept_language(&h)).unwrap_or_default();
    Caller { browser: cookie(req, BROWSER_COOKIE).unwrap_or_default(), ip: crate::audit::client_ip(req), lang }
}

/// Loads the transaction `tx_id` for the caller of `req`.
async fn load(req: &Request, ctx: &Ctx, tx_id: &str) -> AppResult<Step> {
    Ok(service::load(ctx, tx_id, caller(req)).await?)
}

/// `GET /api/login/{tx}`.
pub async fn state(req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    json(200, &service::state(&load(&req, ctx, tx_id).await?))
}

/// `GET /api/logo/{client_id}`: the application's logo, for the login page. Served with the
/// type its bytes were checked to have (`biopass_idp::logo`), nothing to run in it, and for a
/// year when the URL names the current version (a new logo is a new URL).
pub async fn logo(req: Request, ctx: &mut Ctx, client_id: &str) -> AppResult<Response> {
    let logo = ctx.records.logo(client_id).await?.ok_or_else(|| AppError::api(ApiErrorCode::NotFound, "This application has no logo."))?;
    let current = req.url()?.query_pairs().any(|(k, v)| k == "v" && v == logo.reference().version);
    let headers = crate::error::base_headers(logo.kind().content_type());
    headers.set("Cache-Control", if current { "public, max-age=31536000, immutable" } else { "public, max-age=60" })?;
    headers.delete("Pragma")?;
    headers.set("Content-Security-Policy", "default-src 'none'; sandbox")?;
    headers.set("Cross-Origin-Resource-Policy", "same-origin")?;
    Ok(Response::builder().with_status(200).with_headers(headers).fixed(logo.bytes().to_vec()))
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

/// `POST /api/login/{tx}/skip`: finishes a sign-in without the authenticator the person
/// had asked to add.
pub async fn skip(req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    let step = load(&req, ctx, tx_id).await?;
    json(200, &service::skip_addition(ctx, &step).await?)
}

/// `POST /api/login/{tx}/totp`: authenticates with an enrolled TOTP.
pub async fn totp_verify(mut req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    let answer: TotpAnswer = json_body(&mut req).await?;
    json(200, &service::load_and_verify_totp(ctx, tx_id, caller(&req), &answer).await?)
}

/// `POST /api/login/{tx}/recovery`: signs in with a recovery code.
pub async fn recovery_verify(mut req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    let answer: RecoveryAnswer = json_body(&mut req).await?;
    let step = load(&req, ctx, tx_id).await?;
    json(200, &service::recovery_verify(ctx, &step, &answer).await?)
}

/// `POST /api/login/{tx}/recovery/new`: new recovery codes after proving an authenticator.
pub async fn recovery_new(req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    let step = load(&req, ctx, tx_id).await?;
    json(200, &service::recovery_new(ctx, &step).await?)
}

/// `POST /api/login/{tx}/passkey/options`: a one-use WebAuthn challenge and its options.
pub async fn passkey_options(req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    let step = load(&req, ctx, tx_id).await?;
    json(200, &service::passkey_options(ctx, &step).await?)
}

/// `POST /api/login/{tx}/passkey/enrol`: a registration ceremony's new credential.
pub async fn passkey_enrol(mut req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    let registration: PasskeyRegistration = json_body(&mut req).await?;
    let step = load(&req, ctx, tx_id).await?;
    json(200, &service::passkey_enrol(ctx, &step, &registration).await?)
}

/// `POST /api/login/{tx}/passkey`: an authentication ceremony's assertion.
pub async fn passkey_verify(mut req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    let assertion: PasskeyAssertion = json_body(&mut req).await?;
    let step = load(&req, ctx, tx_id).await?;
    json(200, &service::passkey_verify(ctx, &step, &assertion).await?)
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

/// `POST /api/login/{tx}/face`: the evidence for a challenge, decided by
/// `biopass_service::login::face_evidence` on the face service's measures of the frames.
pub async fn face_evidence(mut req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    // Frames are larger than the generic API body limit allows: a limit of their own.
    let text = req.text().await?;
    if text.len() > biopass_idp::face::MAX_EVIDENCE_BODY {
        return Err(AppError::Api(ApiFailure::invalid_field("frames", "The face evidence is too large.")));
    }
    let evidence: FaceEvidence =
        serde_json::from_str(&text).map_err(|e| AppError::Api(ApiFailure::new(ApiErrorCode::InvalidInput, format!("the request body is not valid: {e}"))))?;
    let step = load(&req, ctx, tx_id).await?;
    json(200, &service::face_evidence(&mut ctx.svc, &step, &evidence, &FaceService(&ctx.env)).await?)
}
