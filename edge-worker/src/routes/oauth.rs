//! The OpenID provider's endpoints: discovery, JWKS, PAR (RFC 9126), authorize, token and
//! userinfo.

use crate::error::{json, redirect, AppError, AppResult, Challenge};
use crate::http::Request;
use crate::http::{bearer, cookie, form_params, one, query_params};
use crate::store::Ctx;
use crate::webcrypto::WebCrypto;
use biopass_idp::application::ApplicationRecord;
use biopass_idp::authorize::{self, AuthorizeError, CognitoContext, Params};
use biopass_idp::claims::REQUEST_URI_LIFETIME;
use biopass_idp::client_auth::{authenticate, Audiences, CredentialParams, Presented};
use biopass_idp::deployment::{self, AppClientReport};
use biopass_idp::discovery::{metadata, paths};
use biopass_idp::error::{OAuthError, OAuthErrorCode};
use biopass_idp::grant::Redemption;
use biopass_proto::admin::PoolRefusal;
use biopass_proto::oauth::ParResponse;
use biopass_service::authorize::{client_view, Authorized};
use biopass_service::oauth::{self as service, PushedRequest};
use biopass_service::tokens;
use serde::Deserialize;
use std::cell::RefCell;
use worker::{Env, Method, Response};

/// The browser-binding cookie.
pub const BROWSER_COOKIE: &str = "bp_browser";

/// The discovery document's response as an isolate made it: the body and the init each
/// request's response is made from, in one call into the runtime.
struct Prepared {
    body: worker::js_sys::Uint8Array,
    init: worker::web_sys::ResponseInit,
}

thread_local! {
    static DISCOVERY: RefCell<Option<Prepared>> = const { RefCell::new(None) };
}

/// The discovery document. It needs no storage, key or entropy, so it is answered before
/// any per-request context is made, from a response prepared by the isolate's first request:
/// the issuer it names is a variable of the deployment, the same for the isolate's life.
///
/// # Errors
/// Internal when the issuer is not configured or the runtime refuses the response.
pub fn discovery(env: &Env) -> AppResult<worker::web_sys::Response> {
    DISCOVERY.with(|cache| {
        let mut cache = cache.borrow_mut();
        let prepared = match cache.take() {
            Some(p) => p,
            None => {
                let issuer = crate::store::issuer(env)?;
                let text = serde_json::to_string(&metadata(&issuer)).map_err(|e| AppError::internal(format!("serialise: {e}")))?;
                let init = worker::web_sys::ResponseInit::new();
                init.set_status(200);
                init.set_headers(&crate::error::metadata_headers().0);
                Prepared { body: worker::js_sys::Uint8Array::from(text.as_bytes()), init }
            }
        };
        // Each response gets its own copy of the body and headers (Fetch's Response
        // constructor); repeated responses were checked to carry the whole document.
        let response = worker::web_sys::Response::new_with_opt_buffer_source_and_init(Some(&prepared.body), &prepared.init);
        *cache = Some(prepared);
        response.map_err(|e| AppError::internal(format!("discovery response: {e:?}")))
    })
}

pub async fn jwks(ctx: &mut Ctx) -> AppResult<Response> {
    let keys = ctx.keyset().await?;
    json(200, &keys.jwks())
}

fn oauth_err(error: OAuthError, presented: Option<&Presented>) -> AppError {
    let challenge = if presented.is_some_and(Presented::used_authorization_header) { Challenge::Basic } else { Challenge::None };
    AppError::OAuth { error, challenge }
}

/// Authenticates the client of a token or PAR request; records assertion `jti`s.
async fn authenticate_client(req: &Request, params: &Params, ctx: &mut Ctx, endpoint: &str) -> AppResult<ApplicationRecord> {
    let authorization = req.headers().get("authorization")?;
    let creds = CredentialParams {
        client_id: one(params, "client_id")?,
        client_secret: one(params, "client_secret")?,
        client_assertion_type: one(params, "client_assertion_type")?,
        client_assertion: one(params, "client_assertion")?,
    };
    let presented = Presented::extract(authorization.as_deref(), &creds).map_err(|e| {
        let challenge = if authorization.is_some() { Challenge::Basic } else { Challenge::None };
        AppError::OAuth { error: e, challenge }
    })?;
    let claimed = presented.claimed_client_id().unwrap_or_default();
    let app =
        ctx.records.application(&claimed).await?.ok_or_else(|| oauth_err(OAuthError::invalid_client("client authentication failed"), Some(&presented)))?;
    let secret = app.secret(&ctx.master).map_err(|_| AppError::internal("client secret does not open"))?;
    let accepted = vec![ctx.issuer.clone(), format!("{}{endpoint}", ctx.issuer), format!("{}{}", ctx.issuer, paths::TOKEN)];
    let auth = authenticate(&app.registration(&secret), &presented, &Audiences { accepted: &accepted }, ctx.now).map_err(|e| oauth_err(e, Some(&presented)))?;
    if let Some((jti, until)) = auth.assertion_jti {
        if !service::spend_assertion(&ctx.vault, ctx.now, app.client_id.as_str(), &jti, until).await? {
            return Err(oauth_err(OAuthError::invalid_client("client_assertion was already used (jti replay)"), Some(&presented)));
        }
    }
    Ok(app)
}

/// Notes that a deployment of `app` was seen (feeds "Previous deployments").
async fn record_deployment(
    ctx: &Ctx,
    app: &ApplicationRecord,
    cognito: &CognitoContext,
    error: Option<PoolRefusal>,
    app_client: Option<&AppClientReport>,
) -> AppResult<()> {
    let client_id = app.client_id.as_str();
    if let Some(updated) = deployment::observe(ctx.records.deployment(client_id, cognito).await?, cognito, error, app_client, ctx.now) {
        ctx.records.put_deployment(client_id, cognito, &updated).await?;
    }
    Ok(())
}

/// A report from the application's Cognito stack (`POST /cognito/events`).
#[derive(Debug, Deserialize)]
struct StackEvent {
    aws_account_id: String,
    region: String,
    user_pool_id: String,
    /// A code the stack refused a login with (an unknown one is a 400 with the reason).
    #[serde(default)]
    error: Option<PoolRefusal>,
}

/// `POST /cognito/events`: the stack reports why it refused a login (a case-sensitive
/// user pool, a phone-number user name), so the admin sees it in "Previous deployments".
pub async fn cognito_event(mut req: Request, ctx: &mut Ctx) -> AppResult<Response> {
    let authorization = req.headers().get("authorization")?;
    if authorization.is_none() {
        return Err(AppError::OAuth { error: OAuthError::invalid_client("client authentication is required"), challenge: Challenge::Basic });
    }
    let body: StackEvent = crate::http::json_body(&mut req).await?;
    let app = authenticate_client(&req, &Params::new(), ctx, "/cognito/events").await?;
    let cognito = CognitoContext { aws_account_id: body.aws_account_id, region: body.region, user_pool_id: body.user_pool_id };
    if !deployment::valid_context(&cognito) {
        return Err(AppError::Api(biopass_idp::error::ApiFailure::new(
            biopass_proto::error::ApiErrorCode::InvalidInput,
            "the event needs a 12-digit aws_account_id, a region and a user_pool_id",
        )));
    }
    record_deployment(ctx, &app, &cognito, body.error, None).await?;
    Ok(Response::empty()?.with_status(204))
}

/// `POST /par`.
pub async fn par(mut req: Request, ctx: &mut Ctx) -> AppResult<Response> {
    let params = form_params(&mut req).await?;
    let app = authenticate_client(&req, &params, ctx, paths::PAR).await?;
    let request = authorize::validate(&params, &client_view(&app), true).map_err(|e| match e {
        AuthorizeError::Fatal(error) | AuthorizeError::Redirect { error, .. } => AppError::oauth(error),
    })?;
    if let Some(cognito) = &request.cognito {
        if !deployment::valid_context(cognito) {
            return Err(AppError::oauth(OAuthError::invalid_request("the Cognito context (account, region, user pool) is malformed")));
        }
        let app_client = deployment::app_client_report(|name| one(&params, name).ok().flatten()).map_err(AppError::oauth)?;
        record_deployment(ctx, &app, cognito, None, app_client.as_ref()).await?;
    }
    let pushed = PushedRequest { request, authenticated: !app.is_public() };
    let request_uri = service::push(&ctx.svc.master, &mut ctx.svc.rng, ctx.svc.now, &pushed)?;
    json(201, &ParResponse { request_uri, expires_in: REQUEST_URI_LIFETIME })
}

/// `GET|POST /authorize`: validates, starts a login transaction, sends the browser to the
/// SPA's login route.
pub async fn authorize(mut req: Request, ctx: &mut Ctx) -> AppResult<Response> {
    let params = if req.method() == Method::Post { form_params(&mut req).await? } else { query_params(&req)? };
    let request_uri = one(&params, "request_uri").map_err(|_| AppError::Page(service::invalid_request_uri()))?;
    let browser = cookie(&req, BROWSER_COOKIE);
    match biopass_service::authorize::authorize(ctx, &params, request_uri, browser).await? {
        Authorized::Login { tx_id, browser } => {
            let set_cookie = crate::error::cookie(BROWSER_COOKIE, &browser, "Lax", 86400, &ctx.issuer);
            redirect(&format!("/login?tx={tx_id}"), Some(&set_cookie))
        }
        Authorized::Back(url) => redirect(&url, None),
    }
}

/// `POST /token`.
pub async fn token(mut req: Request, ctx: &mut Ctx) -> AppResult<Response> {
    let params = form_params(&mut req).await?;
    match one(&params, "grant_type")? {
        Some("authorization_code") => {}
        Some(_) => return Err(AppError::oauth(OAuthError::new(OAuthErrorCode::UnsupportedGrantType, "only authorization_code is supported"))),
        None => return Err(AppError::oauth(OAuthError::invalid_request("grant_type is missing"))),
    }
    let app = authenticate_client(&req, &params, ctx, paths::TOKEN).await?;
    let code = one(&params, "code")?.ok_or_else(|| AppError::oauth(OAuthError::invalid_request("code is missing")))?;
    let redemption =
        Redemption { client_id: app.client_id.as_str(), redirect_uri: one(&params, "redirect_uri")?, code_verifier: one(&params, "code_verifier")? };
    let alg = app.id_token_signed_response_alg.into();
    let keys = ctx.keyset_for(alg).await?;
    json(200, &tokens::exchange_code(ctx, &keys, &WebCrypto, alg, code, &redemption).await?)
}

/// `GET|POST /userinfo` with a bearer access token (RFC 6750).
pub async fn userinfo(req: Request, ctx: &mut Ctx) -> AppResult<Response> {
    let keys = ctx.keyset().await?;
    json(200, &tokens::userinfo(ctx, &keys, &WebCrypto, bearer(&req).as_deref()).await?)
}
