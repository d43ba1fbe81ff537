//! Request parsing helpers shared by the handlers.

use crate::error::{AppError, AppResult};
use biopass_idp::authorize::Params;
use biopass_idp::error::OAuthError;
use worker::Request;

/// Largest form or JSON body we read.
pub const MAX_BODY: usize = 64 * 1024;

/// Parses `application/x-www-form-urlencoded` text into parameters.
pub fn parse_params(text: &str) -> Params {
    let mut p = Params::new();
    for (k, v) in url::form_urlencoded::parse(text.as_bytes()) {
        p.entry(k.into_owned()).or_default().push(v.into_owned());
    }
    p
}

/// The query parameters of a request.
pub fn query_params(req: &Request) -> AppResult<Params> {
    let url = req.url()?;
    Ok(parse_params(url.query().unwrap_or("")))
}

/// The form body of an OAuth POST (RFC 6749 requires the form content type).
///
/// # Errors
/// `invalid_request` for another content type or an oversized body.
pub async fn form_params(req: &mut Request) -> AppResult<Params> {
    let ct = req.headers().get("content-type")?.unwrap_or_default();
    if !ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
        return Err(AppError::oauth(OAuthError::invalid_request("the body must be application/x-www-form-urlencoded")));
    }
    let text = req.text().await?;
    if text.len() > MAX_BODY {
        return Err(AppError::oauth(OAuthError::invalid_request("the body is too large")));
    }
    Ok(parse_params(&text))
}

/// The single value of a parameter; a repeated one is an error (RFC 6749 3.1).
///
/// # Errors
/// `invalid_request` when repeated.
pub fn one<'a>(p: &'a Params, name: &str) -> AppResult<Option<&'a str>> {
    biopass_idp::authorize::single(p, name).map_err(AppError::oauth)
}

/// A JSON body, as an API error when it does not parse.
pub async fn json_body<T: serde::de::DeserializeOwned>(req: &mut Request) -> AppResult<T> {
    let text = req.text().await?;
    if text.len() > MAX_BODY {
        return Err(AppError::Api(biopass_idp::error::ApiFailure::new(biopass_proto::error::ApiErrorCode::InvalidInput, "the request body is too large")));
    }
    serde_json::from_str(&text).map_err(|e| {
        AppError::Api(biopass_idp::error::ApiFailure::new(biopass_proto::error::ApiErrorCode::InvalidInput, format!("the request body is not valid: {e}")))
    })
}

/// The value of cookie `name`.
pub fn cookie(req: &Request, name: &str) -> Option<String> {
    let header = req.headers().get("cookie").ok().flatten()?;
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

/// The bearer token of the `Authorization` header.
pub fn bearer(req: &Request) -> Option<String> {
    let h = req.headers().get("authorization").ok().flatten()?;
    biopass_idp::client_auth::credentials(&h, "Bearer").map(str::to_owned)
}
