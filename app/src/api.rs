//! HTTP calls to the edge worker. Every error the user may see comes back as [`ApiFail`]
//! with the server's message, or a plain-language one when the network failed. Admin calls
//! ride on the session cookie and repeat the session's CSRF token on state-changing methods.

use biopass_proto::admin::{
    AdminSession, Application, AuditPage, Bootstrap, BootstrapLink, BootstrapLinkStatus, CleanUpUsers, CleanedUp, ClientSecret, CognitoDeploymentGuide,
    CreateApplication, CreateGroup, Deleted, Deployment, DirectoryStatus, Group, Page, Redirect, Reindex, Reindexed, RotatedSecret, StartSignIn,
    UpdateApplication, UpdateUser, User,
};
use biopass_proto::error::{ApiError, ApiErrorCode};
use biopass_proto::login::{
    AuthenticatorKind, FaceChallenge, FaceChallengeRequest, FaceEvidence, LoginState, LoginStep, PasskeyAssertion, PasskeyOptions, PasskeyRegistration,
    RecoveryAnswer, TotpAnswer, TotpEnrolment,
};
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::RefCell;

/// A failed call, ready to show.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiFail {
    pub code: ApiErrorCode,
    pub message: String,
    pub field: Option<String>,
}

impl std::fmt::Display for ApiFail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiFail {}

fn network(e: impl std::fmt::Display) -> ApiFail {
    ApiFail { code: ApiErrorCode::Internal, message: format!("Could not reach Biopass. Check your connection and try again. ({e})"), field: None }
}

async fn decode<T: DeserializeOwned>(resp: Response) -> Result<T, ApiFail> {
    if resp.ok() {
        return resp.json::<T>().await.map_err(network);
    }
    match resp.json::<ApiError>().await {
        Ok(e) => Err(ApiFail { code: e.error, message: e.message, field: e.field }),
        Err(_) => Err(ApiFail { code: ApiErrorCode::Internal, message: format!("Biopass answered with status {}.", resp.status()), field: None }),
    }
}

// Login API.

pub async fn login_state(tx: &str) -> Result<LoginState, ApiFail> {
    decode(Request::get(&format!("/api/login/{tx}")).send().await.map_err(network)?).await
}

pub async fn totp_enrol(tx: &str) -> Result<TotpEnrolment, ApiFail> {
    decode(Request::post(&format!("/api/login/{tx}/totp/enrol")).send().await.map_err(network)?).await
}

async fn post_code(url: &str, answer: &TotpAnswer) -> Result<LoginStep, ApiFail> {
    let req = Request::post(url).json(answer).map_err(network)?;
    decode(req.send().await.map_err(network)?).await
}

pub async fn totp_confirm(tx: &str, code: String) -> Result<LoginStep, ApiFail> {
    post_code(&format!("/api/login/{tx}/totp/enrol/confirm"), &TotpAnswer { code, forget_face: false, add_authenticator: false }).await
}

/// Finishes the sign-in without the authenticator the person had asked to add.
pub async fn skip_addition(tx: &str) -> Result<LoginStep, ApiFail> {
    decode(Request::post(&format!("/api/login/{tx}/skip")).send().await.map_err(network)?).await
}

pub async fn totp_verify(tx: &str, answer: &TotpAnswer) -> Result<LoginStep, ApiFail> {
    post_code(&format!("/api/login/{tx}/totp"), answer).await
}

/// Signs in with a recovery code.
pub async fn recovery_verify(tx: &str, answer: &RecoveryAnswer) -> Result<LoginStep, ApiFail> {
    let req = Request::post(&format!("/api/login/{tx}/recovery")).json(answer).map_err(network)?;
    decode(req.send().await.map_err(network)?).await
}

/// New recovery codes (after proving an authenticator in this sign-in), shown once.
pub async fn recovery_new(tx: &str) -> Result<LoginStep, ApiFail> {
    decode(Request::post(&format!("/api/login/{tx}/recovery/new")).send().await.map_err(network)?).await
}

pub async fn face_challenge(tx: &str, request: &FaceChallengeRequest) -> Result<FaceChallenge, ApiFail> {
    let req = Request::post(&format!("/api/login/{tx}/face/challenge")).json(request).map_err(network)?;
    decode(req.send().await.map_err(network)?).await
}

pub async fn face_evidence(tx: &str, evidence: &FaceEvidence) -> Result<LoginStep, ApiFail> {
    let req = Request::post(&format!("/api/login/{tx}/face")).json(evidence).map_err(network)?;
    decode(req.send().await.map_err(network)?).await
}

pub async fn passkey_options(tx: &str) -> Result<PasskeyOptions, ApiFail> {
    decode(Request::post(&format!("/api/login/{tx}/passkey/options")).send().await.map_err(network)?).await
}

pub async fn passkey_enrol(tx: &str, registration: &PasskeyRegistration) -> Result<LoginStep, ApiFail> {
    let req = Request::post(&format!("/api/login/{tx}/passkey/enrol")).json(registration).map_err(network)?;
    decode(req.send().await.map_err(network)?).await
}

pub async fn passkey_verify(tx: &str, assertion: &PasskeyAssertion) -> Result<LoginStep, ApiFail> {
    let req = Request::post(&format!("/api/login/{tx}/passkey")).json(assertion).map_err(network)?;
    decode(req.send().await.map_err(network)?).await
}

// Admin API.

thread_local! {
    static CSRF: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The signed-in admin; remembers the CSRF token for later calls.
pub async fn session() -> Result<AdminSession, ApiFail> {
    let s: AdminSession = decode(Request::get("/admin/api/session").send().await.map_err(network)?).await?;
    CSRF.with(|c| *c.borrow_mut() = s.csrf_token.clone());
    Ok(s)
}

pub async fn bootstrap(token: String, username: String) -> Result<Redirect, ApiFail> {
    let req = Request::post("/admin/api/session/bootstrap").json(&Bootstrap { token, username }).map_err(network)?;
    decode(req.send().await.map_err(network)?).await
}

/// Whether the one-time link still works (410 `expired` once spent).
pub async fn bootstrap_check(token: String) -> Result<BootstrapLinkStatus, ApiFail> {
    let req = Request::post("/admin/api/session/bootstrap/check").json(&BootstrapLink { token }).map_err(network)?;
    decode(req.send().await.map_err(network)?).await
}

pub async fn start_sign_in(username: String) -> Result<Redirect, ApiFail> {
    let req = Request::post("/admin/api/session/start").json(&StartSignIn { username }).map_err(network)?;
    decode(req.send().await.map_err(network)?).await
}

fn with_csrf(b: RequestBuilder) -> RequestBuilder {
    let token = CSRF.with(|c| c.borrow().clone());
    b.header("X-CSRF-Token", &token)
}

/// `GET /admin/api{path}`.
async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiFail> {
    decode(Request::get(&format!("/admin/api{path}")).send().await.map_err(network)?).await
}

/// A state-changing admin call with an optional JSON body.
async fn send<B: Serialize, T: DeserializeOwned>(method: &str, path: &str, body: Option<&B>) -> Result<T, ApiFail> {
    let url = format!("/admin/api{path}");
    let builder = with_csrf(match method {
        "PATCH" => Request::patch(&url),
        "DELETE" => Request::delete(&url),
        _ => Request::post(&url),
    });
    let resp = match body {
        Some(b) => builder.json(b).map_err(network)?.send().await,
        None => builder.send().await,
    }
    .map_err(network)?;
    decode(resp).await
}

/// Signs out of the console.
pub async fn sign_out() -> Result<serde_json::Value, ApiFail> {
    send::<(), _>("POST", "/session/signout", None).await
}

/// A path segment or query value, percent-encoded.
fn enc(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

// The admin API, one function per call (README "Admin API").

pub async fn applications() -> Result<Vec<Application>, ApiFail> {
    get("/applications").await
}

pub async fn application(id: &str) -> Result<Application, ApiFail> {
    get(&format!("/applications/{}", enc(id))).await
}

pub async fn create_application(input: &CreateApplication) -> Result<Application, ApiFail> {
    send("POST", "/applications", Some(input)).await
}

pub async fn update_application(id: &str, change: &UpdateApplication) -> Result<Application, ApiFail> {
    send("PATCH", &format!("/applications/{}", enc(id)), Some(change)).await
}

pub async fn delete_application(id: &str) -> Result<Deleted, ApiFail> {
    send::<(), _>("DELETE", &format!("/applications/{}", enc(id)), None).await
}

/// Sets the application's logo to `file` (the server checks its bytes).
pub async fn set_logo(id: &str, file: &web_sys::File) -> Result<Application, ApiFail> {
    let url = format!("/admin/api/applications/{}/logo", enc(id));
    let req =
        with_csrf(Request::put(&url)).header("Content-Type", "application/octet-stream").body(wasm_bindgen::JsValue::from(file.clone())).map_err(network)?;
    decode(req.send().await.map_err(network)?).await
}

pub async fn remove_logo(id: &str) -> Result<Application, ApiFail> {
    send::<(), _>("DELETE", &format!("/applications/{}/logo", enc(id)), None).await
}

pub async fn application_secret(id: &str) -> Result<ClientSecret, ApiFail> {
    get(&format!("/applications/{}/secret", enc(id))).await
}

pub async fn rotate_secret(id: &str) -> Result<RotatedSecret, ApiFail> {
    send::<(), _>("POST", &format!("/applications/{}/secret/rotate", enc(id)), None).await
}

pub async fn cognito_guide(id: &str) -> Result<CognitoDeploymentGuide, ApiFail> {
    get(&format!("/applications/{}/cognito", enc(id))).await
}

pub async fn deployments(id: &str) -> Result<Vec<Deployment>, ApiFail> {
    get(&format!("/applications/{}/deployments", enc(id))).await
}

pub async fn groups() -> Result<Vec<Group>, ApiFail> {
    get("/groups").await
}

pub async fn create_group(input: &CreateGroup) -> Result<Group, ApiFail> {
    send("POST", "/groups", Some(input)).await
}

pub async fn delete_group(id: &str) -> Result<Deleted, ApiFail> {
    send::<(), _>("DELETE", &format!("/groups/{}", enc(id)), None).await
}

/// A page of the users whose names start with `start` (of every user, or of `group`'s
/// members), from `cursor`.
pub async fn users(group: Option<&str>, start: &str, limit: usize, cursor: Option<&str>) -> Result<Page<User>, ApiFail> {
    let from = cursor.map(|c| format!("&cursor={}", enc(c))).unwrap_or_default();
    let base = match group {
        Some(g) => format!("/groups/{}/members", enc(g)),
        None => "/users".to_owned(),
    };
    get(&format!("{base}?q={}&limit={limit}{from}", enc(start))).await
}

pub async fn update_user(id: &str, change: &UpdateUser) -> Result<User, ApiFail> {
    send("PATCH", &format!("/users/{}", enc(id)), Some(change)).await
}

/// Deletes a user and their authenticators (not an administrator).
pub async fn delete_user(id: &str) -> Result<Deleted, ApiFail> {
    send::<(), _>("DELETE", &format!("/users/{}", enc(id)), None).await
}

/// Removes a user's enrolled authenticator (`kind`; for passkeys, all of them).
pub async fn reset_authenticator(id: &str, kind: AuthenticatorKind) -> Result<User, ApiFail> {
    send::<(), _>("DELETE", &format!("/users/{}/authenticators/{}", enc(id), kind.id()), None).await
}

pub async fn directory() -> Result<DirectoryStatus, ApiFail> {
    get("/directory").await
}

/// One user.
pub async fn user(id: &str) -> Result<User, ApiFail> {
    get(&format!("/users/{}", enc(id))).await
}

/// Deletes one directory page's users who never enrolled and registered before
/// `registered_before` (Unix seconds), from `cursor`.
pub async fn clean_up_users(registered_before: u64, cursor: Option<String>) -> Result<CleanedUp, ApiFail> {
    send("POST", "/users/cleanup", Some(&CleanUpUsers { registered_before, cursor })).await
}

pub async fn reindex(cursor: Option<String>) -> Result<Reindexed, ApiFail> {
    send("POST", "/directory/reindex", Some(&Reindex { cursor })).await
}

/// The audit log's filters as query parameters (`name=value&...`, empty values left out).
pub fn audit_filters(filters: &[(&str, String)]) -> String {
    filters.iter().filter(|(_, v)| !v.trim().is_empty()).map(|(k, v)| format!("{k}={}", enc(v.trim()))).collect::<Vec<_>>().join("&")
}

/// A page of the audit log matching `filters`, newest first, from `cursor`.
pub async fn audit(filters: &[(&str, String)], limit: u64, cursor: Option<&str>) -> Result<AuditPage, ApiFail> {
    let from = cursor.map(|c| format!("&cursor={}", enc(c))).unwrap_or_default();
    let filters = audit_filters(filters);
    let filters = if filters.is_empty() { filters } else { format!("&{filters}") };
    get(&format!("/audit?limit={limit}{from}{filters}")).await
}

/// Where the browser downloads the entries `filters` match, as `format` (`csv`, `json`).
pub fn audit_export_url(filters: &[(&str, String)], format: &str) -> String {
    let filters = audit_filters(filters);
    let filters = if filters.is_empty() { filters } else { format!("&{filters}") };
    format!("/admin/api/audit/export?format={format}{filters}")
}
