//! The incoming request ([`Request`]) and the parsing helpers shared by the handlers.

use crate::error::{AppError, AppResult};
use biopass_idp::authorize::Params;
use biopass_idp::error::OAuthError;
use worker::wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{web_sys, Headers, Method};

/// The request the runtime handed the Worker, read only where a handler asks. Making a
/// `worker::Request` reads the request's `cf` properties, which the runtime builds for
/// each read and no handler uses (in a profile of userinfo calls, ~5 % of the sampled
/// time per call).
pub struct Request(web_sys::Request);

impl From<web_sys::Request> for Request {
    fn from(raw: web_sys::Request) -> Self {
        Self(raw)
    }
}

impl Request {
    pub fn method(&self) -> Method {
        Method::from(self.0.method())
    }

    /// The URL's path, as the runtime serialised it (percent-encoded, without the query).
    pub fn path(&self) -> String {
        path_of(&self.0.url()).to_owned()
    }

    /// # Errors
    /// When the runtime's URL does not parse (it always does).
    pub fn url(&self) -> worker::Result<url::Url> {
        url::Url::parse(&self.0.url()).map_err(|e| worker::Error::RustError(format!("request URL: {e}")))
    }

    pub fn headers(&self) -> Headers {
        Headers(self.0.headers())
    }

    /// The body as text, read by the runtime in one call.
    ///
    /// # Errors
    /// When the body was read already or is not text.
    pub async fn text(&mut self) -> worker::Result<String> {
        let text = JsFuture::from(self.0.text()?).await?;
        text.as_string().ok_or_else(|| worker::Error::RustError("a request body that is not text".into()))
    }

    /// The body's bytes.
    ///
    /// # Errors
    /// When the body was read already.
    pub async fn bytes(&mut self) -> worker::Result<Vec<u8>> {
        let buffer = JsFuture::from(self.0.array_buffer()?).await?;
        Ok(worker::js_sys::Uint8Array::new(&buffer.unchecked_into()).to_vec())
    }

    /// A copy whose body can be read on its own.
    ///
    /// # Errors
    /// When the body was read already.
    pub fn try_clone(&self) -> worker::Result<Self> {
        Ok(Self(self.0.clone()?))
    }
}

/// The path of an absolute URL as the runtime serialises it: from the first `/` after the
/// host, up to a query or fragment.
pub fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or(path)
}

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

#[cfg(test)]
mod tests {
    use super::path_of;

    #[test]
    fn the_path_is_what_follows_the_host_up_to_a_query() {
        assert_eq!(path_of("https://id.example.com/api/login/abc?x=1#f"), "/api/login/abc");
        assert_eq!(path_of("http://127.0.0.1:8787/token"), "/token");
        assert_eq!(path_of("https://id.example.com"), "/");
        assert_eq!(path_of("https://id.example.com/a%3Fb"), "/a%3Fb");
    }
}
