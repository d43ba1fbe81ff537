//! Admin console sign-in. The console is an OpenID client of this provider: the bootstrap
//! link or a sign-in start creates a login transaction for the built-in console client,
//! the universal login authenticates the admin (TOTP or face), and `/console/callback`
//! redeems the code (PKCE verifier from an HttpOnly cookie of the same browser) into a
//! session cookie (HttpOnly, SameSite=Strict, Secure on https) with a CSRF token.

use crate::error::{cookie, json, json_with_cookies, redirect_with_cookies, AppError, AppResult};
use crate::http::{cookie as read_cookie, json_body, query_params};
use crate::routes::oauth::BROWSER_COOKIE;
use crate::store::Ctx;
use biopass_idp::authorize::AuthorizationRequest;
use biopass_idp::error::ApiFailure;
use biopass_idp::grant::Redemption;
use biopass_idp::ids::UserName;
use biopass_idp::pkce::CodeChallenge;
use biopass_idp::random::Entropy;
use biopass_idp::schema::{sha256_hex, VaultKey};
use biopass_idp::session::{SessionRecord, CONSOLE_CALLBACK, CONSOLE_CLIENT_ID, CSRF_HEADER, PKCE_COOKIE, SESSION_COOKIE, SESSION_LIFETIME};
use biopass_idp::transaction::LoginTransaction;
use biopass_idp::user::UserRecord;
use biopass_proto::admin::{AdminSession, Bootstrap, Redirect, StartSignIn};
use biopass_proto::error::ApiErrorCode;
use biopass_proto::login::AuthenticatorKind;
use biopass_service::oauth::OneTimeError;
use subtle::ConstantTimeEq;
use worker::{Method, Request, Response};

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
    let cookie = read_cookie(req, SESSION_COOKIE).ok_or_else(unauthenticated)?;
    let session: SessionRecord = ctx.vault.get(&VaultKey::Session(&cookie).to_string(), ctx.now).await?.ok_or_else(unauthenticated)?;
    let user = ctx.user(&session.user_id).await?;
    if !user.is_some_and(|u| u.admin && !u.disabled) {
        return Err(unauthenticated());
    }
    if !matches!(req.method(), Method::Get | Method::Head) {
        let header = req.headers().get(CSRF_HEADER)?;
        if !session.csrf_ok(header.as_deref()) {
            return Err(AppError::api(ApiErrorCode::Forbidden, "The request is missing its CSRF token. Reload the console and try again."));
        }
    }
    Ok(Admin::Session(session))
}

/// Starts a console login transaction for the user `name`; returns the login URL and the
/// cookies that bind it to this browser.
async fn start_login(req: &Request, ctx: &mut Ctx, name: &UserName, may_enrol: bool) -> AppResult<(String, Vec<String>)> {
    let verifier = ctx.rng.token::<32>();
    let request = AuthorizationRequest {
        client_id: CONSOLE_CLIENT_ID.into(),
        redirect_uri: format!("{}{CONSOLE_CALLBACK}", ctx.issuer),
        state: None,
        nonce: None,
        code_challenge: Some(CodeChallenge::of_verifier(&verifier)),
        scope: vec!["openid".into()],
        login_hint: Some(name.clone()),
        cognito: None,
    };
    let browser = read_cookie(req, BROWSER_COOKIE).filter(|c| c.len() == 43).unwrap_or_else(|| ctx.rng.token::<32>());
    let tx = LoginTransaction::new(request, "Biopass admin console".into(), String::new(), AuthenticatorKind::all(), &browser, may_enrol, ctx.now);
    let tx_id = biopass_service::oauth::start_transaction(&ctx.vault, &mut ctx.rng, ctx.now, &tx).await?;
    let cookies = vec![
        cookie(BROWSER_COOKIE, &browser, "Lax", 86400, &ctx.issuer),
        cookie(PKCE_COOKIE, &verifier, "Lax", biopass_idp::claims::TRANSACTION_LIFETIME, &ctx.issuer),
    ];
    Ok((format!("/login?tx={tx_id}"), cookies))
}

/// `POST /admin/api/session/bootstrap`: the one-time link. Creates the first admin and
/// sends them to enrol an authenticator. It works until an admin has an authenticator.
pub async fn bootstrap(mut req: Request, ctx: &mut Ctx) -> AppResult<Response> {
    let input: Bootstrap = json_body(&mut req).await?;
    if !token_ok(ctx, &input.token) {
        return Err(AppError::api(ApiErrorCode::Unauthenticated, "This admin link is not valid."));
    }
    if ctx.admins().await?.iter().any(|u| !u.enrolled().is_empty()) {
        return Err(AppError::api(ApiErrorCode::Expired, "This admin link was already used. Sign in with your user name instead."));
    }
    let username = UserName::parse(&input.username).map_err(|m| AppError::Api(ApiFailure::invalid_field("username", m)))?;
    let mut user = match ctx.user_named(None, &username).await? {
        Some(u) => u,
        None => UserRecord::register(username, None, "", &mut ctx.rng, ctx.now),
    };
    user.groups.retain(|g| !g.is_empty());
    user.admin = true;
    ctx.put_user(&user).await?;
    let ip = crate::audit::client_ip(&req);
    ctx.audit("bootstrap-link", "admin.bootstrap", Some(user.username.as_str()), None, ip).await;
    let (redirect_to, cookies) = start_login(&req, ctx, &user.username, true).await?;
    let refs: Vec<&str> = cookies.iter().map(String::as_str).collect();
    json_with_cookies(200, &Redirect { redirect_to }, &refs)
}

/// `POST /admin/api/session/start`: an admin signs in through the universal login. Every
/// well-formed name gets the same answer, a sign-in nobody vouched for (see
/// `LoginTransaction::shown_step`), so this page does not tell who is an admin, who exists
/// or who is disabled; the callback refuses anyone but an active admin once they proved who
/// they are.
pub async fn start(mut req: Request, ctx: &mut Ctx) -> AppResult<Response> {
    let input: StartSignIn = json_body(&mut req).await?;
    let name = UserName::parse(&input.username).map_err(|m| AppError::Api(ApiFailure::invalid_field("username", m)))?;
    let (redirect_to, cookies) = start_login(&req, ctx, &name, false).await?;
    let refs: Vec<&str> = cookies.iter().map(String::as_str).collect();
    json_with_cookies(200, &Redirect { redirect_to }, &refs)
}

/// `GET /console/callback`: redeems the console's code into a session.
pub async fn callback(req: Request, ctx: &mut Ctx) -> AppResult<Response> {
    let params = query_params(&req)?;
    let fail = |m: &str| AppError::Page(biopass_idp::error::OAuthError::new(biopass_idp::error::OAuthErrorCode::AccessDenied, m));
    let code = params.get("code").and_then(|v| v.first()).ok_or_else(|| fail("the sign-in did not return a code"))?;
    let verifier = read_cookie(&req, PKCE_COOKIE).ok_or_else(|| fail("this sign-in was started in another browser"))?;
    let redirect_uri = format!("{}{CONSOLE_CALLBACK}", ctx.issuer);
    let redemption = Redemption { client_id: CONSOLE_CLIENT_ID, redirect_uri: Some(&redirect_uri), code_verifier: Some(&verifier) };
    let grant = biopass_service::oauth::redeem_code(&ctx.vault, ctx.now, code, &redemption).await.map_err(|e| match e {
        OneTimeError::Refused(e) => fail(&e.description),
        OneTimeError::Store(e) => e.into(),
    })?;
    let user = ctx.user(&grant.user_id).await?.filter(|u| u.admin && !u.disabled).ok_or_else(|| fail("this user cannot sign in to the admin console"))?;
    let (session, value) = SessionRecord::new(&user.id, user.username.as_str(), &mut ctx.rng, ctx.now);
    ctx.vault.insert(&VaultKey::Session(&value).to_string(), &session, session.expires_at, ctx.now).await?;
    let ip = crate::audit::client_ip(&req);
    ctx.audit(&format!("admin:{}", user.username), "admin.sign_in", None, Some(format!("with {}", grant.amr.join("+"))), ip).await;
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
        ctx.vault.clear(&VaultKey::Session(&c).to_string()).await?;
    }
    let ip = crate::audit::client_ip(&req);
    ctx.audit(&admin.actor(), "admin.sign_out", None, None, ip).await;
    json_with_cookies(200, &serde_json::json!({ "signed_out": true }), &[&cookie(SESSION_COOKIE, "", "Strict", 0, &ctx.issuer)])
}
