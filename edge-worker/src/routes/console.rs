//! Admin console sign-in over HTTP: the cookies and redirects around
//! `biopass_service::console` (the sign-in start, the bootstrap link, the callback that
//! redeems the code into a session, and the session check of every admin API call). The
//! PKCE verifier and the browser binding travel as HttpOnly cookies; the session cookie is
//! HttpOnly, SameSite=Strict (Secure on https) and comes with a CSRF token.

use crate::error::{cookie, json, json_with_cookies, redirect_with_cookies, AppError, AppResult};
use crate::http::Request;
use crate::http::{cookie as read_cookie, json_body, query_params};
use crate::routes::oauth::BROWSER_COOKIE;
use crate::store::Ctx;
use biopass_idp::error::ApiFailure;
use biopass_idp::ids::UserName;
use biopass_idp::schema::sha256_hex;
use biopass_idp::session::{SessionRecord, CSRF_HEADER, PKCE_COOKIE, SESSION_COOKIE, SESSION_LIFETIME};
use biopass_proto::admin::{AdminSession, Bootstrap, BootstrapLink, BootstrapLinkStatus, Redirect, StartSignIn};
use biopass_proto::error::ApiErrorCode;
use biopass_service::console::{self, ConsoleLogin};
use subtle::ConstantTimeEq;
use worker::{Method, Response};

/// Who is calling the admin API.
pub enum Admin {
    /// The API token (automation).
    Token,
    /// A console session.
    Session(SessionRecord),
}

impl Admin {
    /// The actor as the audit log names it.
    pub fn actor(&self) -> String {
        match self {
            Self::Token => "api-token".into(),
            Self::Session(s) => format!("admin:{}", s.username),
        }
    }
}

fn unauthenticated() -> AppError {
    AppError::api(ApiErrorCode::Unauthenticated, "Sign in as an administrator.")
}

fn token_ok(ctx: &Ctx, token: &str) -> bool {
    ctx.admin_token_sha256.as_deref().is_some_and(|expected| bool::from(sha256_hex(token).as_bytes().ct_eq(expected.as_bytes())))
}

/// Authenticates an admin API call: the API token as a bearer, or a console session
/// cookie, which for state-changing methods must come with its CSRF token.
///
/// # Errors
/// `unauthenticated` (401) or `forbidden` (403, a missing or wrong CSRF token).
pub async fn require_admin(req: &Request, ctx: &Ctx) -> AppResult<Admin> {
    if let Some(token) = crate::http::bearer(req) {
        return if token_ok(ctx, &token) { Ok(Admin::Token) } else { Err(unauthenticated()) };
    }
    let value = read_cookie(req, SESSION_COOKIE).ok_or_else(unauthenticated)?;
    let changes = !matches!(req.method(), Method::Get | Method::Head);
    let csrf = req.headers().get(CSRF_HEADER)?;
    Ok(Admin::Session(console::session(ctx, &value, changes, csrf.as_deref()).await?))
}

/// The answer that sends the browser to the login page, with the cookies that bind the
/// sign-in to it.
fn to_login(ctx: &Ctx, started: &ConsoleLogin) -> AppResult<Response> {
    let cookies = [
        cookie(BROWSER_COOKIE, &started.browser, "Lax", 86400, &ctx.issuer),
        cookie(PKCE_COOKIE, &started.verifier, "Lax", biopass_idp::claims::TRANSACTION_LIFETIME, &ctx.issuer),
    ];
    let refs: Vec<&str> = cookies.iter().map(String::as_str).collect();
    json_with_cookies(200, &Redirect { redirect_to: started.redirect_to.clone() }, &refs)
}

/// `POST /admin/api/session/bootstrap`: the one-time link. Creates the first admin and
/// sends them to enrol an authenticator. It works until an admin has an authenticator.
pub async fn bootstrap(mut req: Request, ctx: &mut Ctx) -> AppResult<Response> {
    let input: Bootstrap = json_body(&mut req).await?;
    if !token_ok(ctx, &input.token) {
        return Err(AppError::api(ApiErrorCode::Unauthenticated, "This admin link is not valid."));
    }
    let started = console::bootstrap(ctx, &input.username, read_cookie(&req, BROWSER_COOKIE), crate::audit::client_ip(&req)).await?;
    to_login(ctx, &started)
}

/// `POST /admin/api/session/bootstrap/check`: whether the one-time link still works, so the
/// console says a spent link is spent before it shows the form.
pub async fn bootstrap_check(mut req: Request, ctx: &mut Ctx) -> AppResult<Response> {
    let input: BootstrapLink = json_body(&mut req).await?;
    if !token_ok(ctx, &input.token) {
        return Err(AppError::api(ApiErrorCode::Unauthenticated, "This admin link is not valid."));
    }
    console::bootstrap_usable(ctx).await?;
    json(200, &BootstrapLinkStatus { usable: true })
}

/// `POST /admin/api/session/start`: an admin signs in through the universal login. Every
/// well-formed name gets the same answer, a sign-in nobody vouched for (see
/// `LoginTransaction::shown_step`), so this page does not tell who is an admin, who exists
/// or who is disabled; the callback refuses anyone but an active admin once they proved who
/// they are.
pub async fn start(mut req: Request, ctx: &mut Ctx) -> AppResult<Response> {
    let input: StartSignIn = json_body(&mut req).await?;
    let name = UserName::parse(&input.username).map_err(|m| AppError::Api(ApiFailure::invalid_field("username", m)))?;
    let started = console::start_login(ctx, &name, read_cookie(&req, BROWSER_COOKIE), false).await?;
    to_login(ctx, &started)
}

/// `GET /console/callback`: redeems the console's code into a session.
pub async fn callback(req: Request, ctx: &mut Ctx) -> AppResult<Response> {
    let params = query_params(&req)?;
    let fail = |m: &str| AppError::Page(biopass_idp::error::OAuthError::new(biopass_idp::error::OAuthErrorCode::AccessDenied, m));
    let code = params.get("code").and_then(|v| v.first()).ok_or_else(|| fail("the sign-in did not return a code"))?;
    let verifier = read_cookie(&req, PKCE_COOKIE).ok_or_else(|| fail("this sign-in was started in another browser"))?;
    let (_, value) = console::open_session(ctx, code, &verifier, crate::audit::client_ip(&req)).await?;
    let session_cookie = cookie(SESSION_COOKIE, &value, "Strict", SESSION_LIFETIME, &ctx.issuer);
    let clear_pkce = cookie(PKCE_COOKIE, "", "Lax", 0, &ctx.issuer);
    redirect_with_cookies("/console", &[&session_cookie, &clear_pkce])
}

/// `GET /admin/api/session`: the signed-in admin and the CSRF token.
pub async fn session(req: Request, ctx: &mut Ctx) -> AppResult<Response> {
    match require_admin(&req, ctx).await? {
        Admin::Session(s) => json(200, &AdminSession { username: s.username, csrf_token: s.csrf_token, expires_at: s.expires_at }),
        Admin::Token => Err(AppError::api(ApiErrorCode::InvalidInput, "The API token has no console session.")),
    }
}

/// `POST /admin/api/session/signout`.
pub async fn signout(req: Request, ctx: &mut Ctx) -> AppResult<Response> {
    let admin = require_admin(&req, ctx).await?;
    if let Some(c) = read_cookie(&req, SESSION_COOKIE) {
        console::close_session(ctx, &c).await?;
    }
    let ip = crate::audit::client_ip(&req);
    ctx.audit(&admin.actor(), "admin.sign_out", None, None, ip).await;
    json_with_cookies(200, &serde_json::json!({ "signed_out": true }), &[&cookie(SESSION_COOKIE, "", "Strict", 0, &ctx.issuer)])
}
