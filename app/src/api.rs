//! HTTP calls to the edge worker. Every error the user may see comes back as [`ApiFail`]
//! with the server's message, or a plain-language one when the network failed.

use biopass_proto::admin::{Application, CreateApplication};
use biopass_proto::error::{ApiError, ApiErrorCode};
use biopass_proto::login::{LoginComplete, LoginState, TotpAnswer, TotpEnrolment};
use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;

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

fn network(e: impl std::fmt::Display) -> ApiFail {
    ApiFail {
        code: ApiErrorCode::Internal,
        message: format!("Could not reach Biopass. Check your connection and try again. ({e})"),
        field: None,
    }
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

pub async fn login_state(tx: &str) -> Result<LoginState, ApiFail> {
    decode(Request::get(&format!("/api/login/{tx}")).send().await.map_err(network)?).await
}

pub async fn totp_enrol(tx: &str) -> Result<TotpEnrolment, ApiFail> {
    decode(Request::post(&format!("/api/login/{tx}/totp/enrol")).send().await.map_err(network)?).await
}

async fn post_code(url: &str, code: String) -> Result<LoginComplete, ApiFail> {
    let req = Request::post(url).json(&TotpAnswer { code }).map_err(network)?;
    decode(req.send().await.map_err(network)?).await
}

pub async fn totp_confirm(tx: &str, code: String) -> Result<LoginComplete, ApiFail> {
    post_code(&format!("/api/login/{tx}/totp/enrol/confirm"), code).await
}

pub async fn totp_verify(tx: &str, code: String) -> Result<LoginComplete, ApiFail> {
    post_code(&format!("/api/login/{tx}/totp"), code).await
}

fn admin_get(token: &str, path: &str) -> gloo_net::http::RequestBuilder {
    Request::get(&format!("/admin/api{path}")).header("Authorization", &format!("Bearer {token}"))
}

pub async fn applications(token: &str) -> Result<Vec<Application>, ApiFail> {
    decode(admin_get(token, "/applications").send().await.map_err(network)?).await
}

pub async fn create_application(token: &str, input: &CreateApplication) -> Result<Application, ApiFail> {
    let req = Request::post("/admin/api/applications")
        .header("Authorization", &format!("Bearer {token}"))
        .json(input)
        .map_err(network)?;
    decode(req.send().await.map_err(network)?).await
}
