//! Biopass edge's Cloudflare Worker: the OpenID provider, the login API of the universal
//! login, and the admin API, over KV and the `Vault` Durable Object. The SPA and the face
//! tracker's models are static assets served beside it; the face evidence is measured by
//! the face service (`face-service/`) over a service binding.
//!
//! # Layout
//! - [`error`]: `AppError` and the one mapping to HTTP (`biopass_service::http` lowers it).
//! - [`http`]: request parsing helpers (forms, cookies, bearer tokens).
//! - [`store`]: the per-request context and the KV stores.
//! - [`vault`]: the Durable Object for one-time and counted things.
//! - [`audit`]: the audit log in KV.
//! - [`clock`]: platform time and randomness.
//! - [`webcrypto`]: ES256 signatures through the runtime's WebCrypto.
//! - [`face`]: the face analysis: the evidence's frames measured by the face service
//!   (`face-service/`, service binding `FACE`), which alone links the face models.
//! - [`routes`]: the handlers (`oauth`, `login`, `console`, `admin` with a module per
//!   resource): they parse, call and map.
//!
//! Protocol logic lives in `biopass-idp` (keys in `biopass_idp::schema`); the orchestration
//! of one-time and counted things in `biopass-service`; wire types in `biopass-proto`.

pub mod audit;
pub mod clock;
pub mod error;
pub mod face;
pub mod http;
pub mod routes;
pub mod store;
pub mod vault;
pub mod webcrypto;

use error::{AppError, AppResult};
use http::Request;
use routes::{admin, console, login, oauth};
use store::Ctx;
use worker::wasm_bindgen::{self, prelude::wasm_bindgen, JsValue};
use worker::{web_sys, Env, Method, Response};

pub use vault::Vault;

/// The Worker's fetch handler, the export the runtime calls for each request. A GET of a
/// metadata document is answered at once from the runtime's request: no future to drive and
/// no `worker::Request` (which reads the request's `cf` properties). Everything else runs as
/// a future ([`handle`]). Every failure is a response ([`AppError::into_response`]); nothing
/// is thrown to the runtime.
#[wasm_bindgen(js_name = fetch)]
pub fn fetch(raw: web_sys::Request, env: Env, _ctx: worker::worker_sys::Context) -> JsValue {
    console_error_panic_hook::set_once();
    if raw.method() == "GET" && is_metadata(&raw.url()) {
        return oauth::discovery(&env).unwrap_or_else(|e| e.into_response().into()).into();
    }
    worker::wasm_bindgen_futures::future_to_promise(async move {
        let answer = handle(Request::from(raw), env).await.unwrap_or_else(AppError::into_response);
        Ok(web_sys::Response::from(answer).into())
    })
    .into()
}

/// Whether `url` (absolute, as the runtime serialises it) names a metadata document: OpenID
/// Connect Discovery 1.0, or the same document as RFC 8414 metadata (a query is ignored).
fn is_metadata(url: &str) -> bool {
    matches!(http::path_of(url), "/.well-known/openid-configuration" | "/.well-known/oauth-authorization-server")
}

async fn handle(req: Request, env: Env) -> AppResult<Response> {
    let path = req.path();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = req.method();
    // What needs no per-request context (storage, keys, entropy) is answered first; a GET
    // of a metadata document was answered in `fetch`.
    match (&method, segments.as_slice()) {
        // The protocol endpoints with their methods; with another method, 405.
        (Method::Get | Method::Post, ["authorize" | "userinfo"])
        | (Method::Post, ["par" | "token"] | ["cognito", "events"])
        | (Method::Get, [".well-known", "jwks.json"]) => with_context(req, env, &method, &segments).await,
        (_, ["par"] | ["token"] | ["cognito", "events"]) => error::method_not_allowed("POST"),
        (_, ["authorize"] | ["userinfo"]) => error::method_not_allowed("GET, POST"),
        (_, [".well-known", "openid-configuration" | "oauth-authorization-server" | "jwks.json"]) => error::method_not_allowed("GET"),
        _ => with_context(req, env, &method, &segments).await,
    }
}

async fn with_context(req: Request, env: Env, method: &Method, segments: &[&str]) -> AppResult<Response> {
    let mut ctx = Ctx::from_env(env)?;
    match (method, segments) {
        (Method::Get, [".well-known", "jwks.json"]) => oauth::jwks(&mut ctx).await,
        (Method::Post, ["par"]) => oauth::par(req, &mut ctx).await,
        (Method::Get | Method::Post, ["authorize"]) => oauth::authorize(req, &mut ctx).await,
        (Method::Post, ["token"]) => oauth::token(req, &mut ctx).await,
        (Method::Get | Method::Post, ["userinfo"]) => oauth::userinfo(req, &mut ctx).await,
        (Method::Post, ["cognito", "events"]) => oauth::cognito_event(req, &mut ctx).await,
        (Method::Get, ["api", "login", tx]) => login::state(req, &mut ctx, tx).await,
        (Method::Get, ["api", "logo", client_id]) => login::logo(req, &mut ctx, client_id).await,
        (Method::Post, ["api", "login", tx, "totp", "enrol"]) => login::totp_enrol(req, &mut ctx, tx).await,
        (Method::Post, ["api", "login", tx, "totp", "enrol", "confirm"]) => login::totp_confirm(req, &mut ctx, tx).await,
        (Method::Post, ["api", "login", tx, "face", "challenge"]) => login::face_challenge(req, &mut ctx, tx).await,
        (Method::Post, ["api", "login", tx, "face"]) => login::face_evidence(req, &mut ctx, tx).await,
        (Method::Post, ["api", "login", tx, "totp"]) => login::totp_verify(req, &mut ctx, tx).await,
        (Method::Post, ["api", "login", tx, "skip"]) => login::skip(req, &mut ctx, tx).await,
        (Method::Post, ["api", "login", tx, "recovery"]) => login::recovery_verify(req, &mut ctx, tx).await,
        (Method::Post, ["api", "login", tx, "recovery", "new"]) => login::recovery_new(req, &mut ctx, tx).await,
        (Method::Post, ["api", "login", tx, "passkey", "options"]) => login::passkey_options(req, &mut ctx, tx).await,
        (Method::Post, ["api", "login", tx, "passkey", "enrol"]) => login::passkey_enrol(req, &mut ctx, tx).await,
        (Method::Post, ["api", "login", tx, "passkey"]) => login::passkey_verify(req, &mut ctx, tx).await,
        (Method::Post, ["admin", "api", "session", "bootstrap"]) => console::bootstrap(req, &mut ctx).await,
        (Method::Post, ["admin", "api", "session", "bootstrap", "check"]) => console::bootstrap_check(req, &mut ctx).await,
        (Method::Post, ["admin", "api", "session", "start"]) => console::start(req, &mut ctx).await,
        (Method::Get, ["admin", "api", "session"]) => console::session(req, &mut ctx).await,
        (Method::Post, ["admin", "api", "session", "signout"]) => console::signout(req, &mut ctx).await,
        (Method::Get, ["console", "callback"]) => console::callback(req, &mut ctx).await,
        (_, ["admin", "api", rest @ ..]) => admin::route(req, &mut ctx, rest).await,
        _ => Err(AppError::api(biopass_proto::error::ApiErrorCode::NotFound, "No such endpoint.")),
    }
}
