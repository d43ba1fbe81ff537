//! The admin console's sign-in, as an OpenID client of this provider: a sign-in start (or
//! the one-time bootstrap link) creates a login transaction for the built-in console client,
//! the universal login authenticates the admin, and the callback redeems the code (with the
//! PKCE verifier the browser kept) into a session; every admin API call then checks the
//! session (and, for a change, its CSRF token).

use crate::context::Context;
use crate::http::Failure;
use crate::oauth::{misused, redeem_code, start_transaction, OneTimeError};
use crate::records::Records;
use crate::store::{from_value, to_value, OneTime};
use biopass_idp::authorize::AuthorizationRequest;
use biopass_idp::error::{ApiFailure, OAuthError, OAuthErrorCode};
use biopass_idp::grant::Redemption;
use biopass_idp::ids::UserName;
use biopass_idp::pkce::CodeChallenge;
use biopass_idp::random::Entropy;
use biopass_idp::schema::VaultKey;
use biopass_idp::session::{SessionRecord, CONSOLE_CALLBACK, CONSOLE_CLIENT_ID};
use biopass_idp::transaction::LoginTransaction;
use biopass_idp::user::UserRecord;
use biopass_proto::error::ApiErrorCode;
use biopass_proto::login::AuthenticatorKind;

/// A console sign-in just started: where the browser goes, and what it must keep (the
/// browser binding and the PKCE verifier, as cookies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleLogin {
    pub redirect_to: String,
    pub browser: String,
    pub verifier: String,
}

fn unauthenticated() -> Failure {
    Failure::Api(ApiFailure::new(ApiErrorCode::Unauthenticated, "Sign in as an administrator."))
}

/// Starts a console login transaction for `name` in the browser whose binding is `browser`
/// (a new one when it has none). `may_enrol`: the bootstrap link's first admin only.
///
/// # Errors
/// When a store fails.
pub async fn start_login<V: OneTime, R: Records>(
    cx: &mut Context<V, R>,
    name: &UserName,
    browser: Option<String>,
    may_enrol: bool,
) -> Result<ConsoleLogin, Failure> {
    let verifier = cx.rng.token::<32>();
    let request = AuthorizationRequest {
        client_id: CONSOLE_CLIENT_ID.into(),
        redirect_uri: format!("{}{CONSOLE_CALLBACK}", cx.issuer),
        state: None,
        nonce: None,
        code_challenge: Some(CodeChallenge::of_verifier(&verifier)),
        scope: vec!["openid".into()],
        login_hint: Some(name.clone()),
        cognito: None,
    };
    let browser = browser.filter(|c| c.len() == 43).unwrap_or_else(|| cx.rng.token::<32>());
    let kinds = console_authenticators(&cx.issuer);
    let tx = LoginTransaction::new(request, "Biopass admin console".into(), String::new(), kinds, &browser, may_enrol, cx.now);
    let tx_id = start_transaction(&cx.vault, &mut cx.rng, cx.now, &tx).await?;
    Ok(ConsoleLogin { redirect_to: format!("/login?tx={tx_id}"), browser, verifier })
}

/// The authenticators of the console's own sign-in: face and authenticator app, and
/// passkeys where the issuer is a domain name (WebAuthn's relying party is the issuer's
/// host; an IP address cannot be one).
pub fn console_authenticators(issuer: &str) -> Vec<AuthenticatorKind> {
    let mut kinds = AuthenticatorKind::all();
    if biopass_idp::passkey::rp_id(issuer).is_some() {
        kinds.push(AuthenticatorKind::Passkey);
    }
    kinds
}

/// Whether the one-time link still works: until an admin has an authenticator. The caller
/// checked the link's token.
///
/// # Errors
/// 410 (`expired`) once used.
pub async fn bootstrap_usable<V: OneTime, R: Records>(cx: &Context<V, R>) -> Result<(), Failure> {
    if cx.records.admins().await?.iter().any(|u| !u.enrolled().is_empty()) {
        return Err(Failure::Api(ApiFailure::new(ApiErrorCode::Expired, "This admin link was already used. Sign in with your user name instead.")));
    }
    Ok(())
}

/// The one-time link: makes `username` the first admin (a new user, or an existing one of
/// Biopass's own) and starts their sign-in, which may enrol an authenticator. It works until
/// an admin has an authenticator. The caller checked the link's token.
///
/// # Errors
/// 410 once used; 400 for a bad name.
pub async fn bootstrap<V: OneTime, R: Records>(
    cx: &mut Context<V, R>,
    username: &str,
    browser: Option<String>,
    ip: Option<String>,
) -> Result<ConsoleLogin, Failure> {
    bootstrap_usable(cx).await?;
    let username = UserName::parse(username).map_err(|m| Failure::Api(ApiFailure::invalid_field("username", m)))?;
    let mut user = match cx.records.user_named(None, &username).await? {
        Some(u) => u,
        None => UserRecord::register(username, None, "", &mut cx.rng, cx.now),
    };
    user.groups.retain(|g| !g.is_empty());
    user.admin = true;
    cx.records.put_user(&user).await?;
    cx.audit("bootstrap-link", "admin.bootstrap", Some(user.username.as_str()), None, ip).await;
    start_login(cx, &user.username, browser, true).await
}

/// The console's callback: redeems `code` with the browser's PKCE `verifier` into a session
/// for an active admin; the session and the cookie value that names it.
///
/// # Errors
/// `access_denied` (an error page) for a bad or spent code, another browser, or a user who
/// is not an active admin.
pub async fn open_session<V: OneTime, R: Records>(
    cx: &mut Context<V, R>,
    code: &str,
    verifier: &str,
    ip: Option<String>,
) -> Result<(SessionRecord, String), Failure> {
    let fail = |m: &str| Failure::Page(OAuthError::new(OAuthErrorCode::AccessDenied, m));
    let redirect_uri = format!("{}{CONSOLE_CALLBACK}", cx.issuer);
    let redemption = Redemption { client_id: CONSOLE_CLIENT_ID, redirect_uri: Some(&redirect_uri), code_verifier: Some(verifier) };
    let grant = match redeem_code(&cx.vault, cx.now, code, &redemption, None).await {
        Ok(g) => g,
        Err(OneTimeError::Misused(e)) => {
            misused(cx, "console.code_misused", CONSOLE_CLIENT_ID, &e, ip).await;
            return Err(fail(&e.description));
        }
        Err(e) => return Err(e.refusal().map(|e| fail(&e.description))?),
    };
    let user = match cx.records.user(&grant.user_id).await? {
        Some(u) if u.admin && !cx.is_disabled(&u).await? => u,
        _ => return Err(fail("this user cannot sign in to the admin console")),
    };
    let (session, value) = SessionRecord::new(&user.id, user.username.as_str(), &mut cx.rng, cx.now);
    cx.vault.insert(&VaultKey::Session(&value).to_string(), to_value(&session)?, session.expires_at, cx.now).await?;
    cx.audit(&format!("admin:{}", user.username), "admin.sign_in", None, Some(format!("with {}", grant.amr.join("+"))), ip).await;
    Ok((session, value))
}

/// The live session named by the cookie `value`, of a user who is still an active admin. A
/// change (`changes`: not GET or HEAD) must carry the session's CSRF token (`csrf`).
///
/// # Errors
/// 401 without a live session of an active admin; 403 without the CSRF token.
pub async fn session<V: OneTime, R: Records>(cx: &Context<V, R>, value: &str, changes: bool, csrf: Option<&str>) -> Result<SessionRecord, Failure> {
    let session: SessionRecord = from_value(cx.vault.get(&VaultKey::Session(value).to_string(), cx.now).await?)?.ok_or_else(unauthenticated)?;
    match cx.records.user(&session.user_id).await? {
        Some(u) if u.admin && !cx.is_disabled(&u).await? => {}
        _ => return Err(unauthenticated()),
    }
    if changes && !session.csrf_ok(csrf) {
        return Err(Failure::Api(ApiFailure::new(ApiErrorCode::Forbidden, "The request is missing its CSRF token. Reload the console and try again.")));
    }
    Ok(session)
}

/// Ends the session named by the cookie `value`.
///
/// # Errors
/// When the Vault fails.
pub async fn close_session<V: OneTime, R: Records>(cx: &Context<V, R>, value: &str) -> Result<(), Failure> {
    Ok(cx.vault.clear(&VaultKey::Session(value).to_string()).await?)
}
