//! The worker's one error type, and the one place it becomes an HTTP response.
//!
//! OAuth endpoints answer with RFC 6749 5.2 bodies (and `WWW-Authenticate` where RFC 6749
//! and RFC 6750 require it); the admin and login APIs with [`ApiError`] JSON; the
//! authorization endpoint, for errors that must not be redirected, with an HTML page.
//! Internal errors are logged with their detail and answered with a generic message.

use biopass_idp::error::{ApiFailure, OAuthError, OAuthErrorCode};
use biopass_proto::error::{ApiError, ApiErrorCode};
use biopass_proto::oauth::OAuthErrorBody;
use worker::{Headers, Response};

/// Everything a handler can fail with.
#[derive(Debug)]
pub enum AppError {
    /// Token, PAR and userinfo errors. `basic` means the client used the Authorization
    /// header, so a 401 carries `WWW-Authenticate: Basic`.
    OAuth { error: OAuthError, challenge: Challenge },
    /// An authorization request error that must be shown, not redirected.
    Page(OAuthError),
    /// Admin and login API errors.
    Api(ApiFailure),
    /// Our fault; the string is logged, never sent.
    Internal(String),
}

/// Which `WWW-Authenticate` challenge a 401 carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    None,
    Basic,
    Bearer,
}

pub type AppResult<T> = Result<T, AppError>;

impl From<worker::Error> for AppError {
    fn from(e: worker::Error) -> Self {
        Self::Internal(format!("runtime: {e}"))
    }
}

impl From<worker::KvError> for AppError {
    fn from(e: worker::KvError) -> Self {
        Self::Internal(format!("kv: {e}"))
    }
}

impl From<biopass_service::store::StoreError> for AppError {
    fn from(e: biopass_service::store::StoreError) -> Self {
        Self::Internal(format!("vault: {e}"))
    }
}

impl From<ApiFailure> for AppError {
    fn from(e: ApiFailure) -> Self {
        Self::Api(e)
    }
}

impl AppError {
    pub fn oauth(error: OAuthError) -> Self {
        Self::OAuth { error, challenge: Challenge::None }
    }
    pub fn api(code: ApiErrorCode, message: impl Into<String>) -> Self {
        Self::Api(ApiFailure::new(code, message))
    }
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::Internal(detail.into())
    }
}

/// The HTTP status of an API error code.
pub fn api_status(code: ApiErrorCode) -> u16 {
    match code {
        ApiErrorCode::InvalidInput => 400,
        ApiErrorCode::Unauthenticated | ApiErrorCode::WrongAnswer => 401,
        ApiErrorCode::Forbidden => 403,
        ApiErrorCode::NotFound => 404,
        ApiErrorCode::Conflict => 409,
        ApiErrorCode::Expired => 410,
        ApiErrorCode::Locked => 429,
        ApiErrorCode::Internal => 500,
    }
}

/// Headers every response of ours carries.
pub fn base_headers(content_type: &str) -> Headers {
    let h = Headers::new();
    // Setting a fixed, valid header on a fresh Headers object cannot fail.
    let _ = h.set("Content-Type", content_type);
    let _ = h.set("Cache-Control", "no-store");
    let _ = h.set("Pragma", "no-cache");
    let _ = h.set("X-Content-Type-Options", "nosniff");
    let _ = h.set("Referrer-Policy", "no-referrer");
    if content_type.starts_with("text/html") {
        // The error pages: nothing to run, nothing to frame (the SPA's pages get the same
        // from public/_headers).
        let _ = h.set("Content-Security-Policy", "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
        let _ = h.set("X-Frame-Options", "DENY");
    }
    h
}

fn body(status: u16, headers: Headers, text: String) -> Response {
    Response::builder().with_status(status).with_headers(headers).fixed(text.into_bytes())
}

/// Minimal HTML escaping for error pages.
pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The error page of the authorization endpoint.
pub fn error_page(status: u16, title: &str, detail: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>Biopass: {t}</title><link rel=\"stylesheet\" href=\"/style.css\"></head>\
         <body><main class=\"card\" role=\"main\"><h1>Sign-in cannot continue</h1><p role=\"alert\"><strong>{t}</strong></p>\
         <p>{d}</p><p>Go back to the application and try again. If it happens again, tell the application's administrator.</p></main></body></html>",
        t = escape_html(title),
        d = escape_html(detail),
    );
    let headers = base_headers("text/html; charset=utf-8");
    body(status, headers, html)
}

impl AppError {
    /// The response for this error. Never fails and never reveals internals.
    pub fn into_response(self) -> Response {
        match self {
            Self::OAuth { error, challenge } => {
                let status = error.code.http_status();
                let headers = base_headers("application/json");
                if status == 401 {
                    let value = match challenge {
                        Challenge::Basic => Some("Basic realm=\"biopass\", charset=\"UTF-8\"".to_owned()),
                        Challenge::Bearer => Some(format!(
                            "Bearer realm=\"biopass\", error=\"{}\", error_description=\"{}\"",
                            error.code.as_str(),
                            error.description.replace('"', "'")
                        )),
                        Challenge::None => None,
                    };
                    if let Some(v) = value {
                        let _ = headers.set("WWW-Authenticate", &v);
                    }
                }
                if error.code == OAuthErrorCode::ServerError {
                    worker::console_error!("oauth server_error: {}", error.description);
                }
                let b = OAuthErrorBody { error: error.code.as_str().to_owned(), error_description: Some(error.description) };
                body(status, headers, serde_json::to_string(&b).unwrap_or_default())
            }
            Self::Page(error) => error_page(400, error.code.as_str(), &error.description),
            Self::Api(f) => {
                let headers = base_headers("application/json");
                if let Some(secs) = f.retry_after {
                    let _ = headers.set("Retry-After", &secs.to_string());
                }
                let b = ApiError { error: f.code, message: f.message, field: f.field, retry_after: f.retry_after };
                body(api_status(f.code), headers, serde_json::to_string(&b).unwrap_or_default())
            }
            Self::Internal(detail) => {
                worker::console_error!("internal error: {detail}");
                let b = ApiError {
                    error: ApiErrorCode::Internal,
                    message: "Something went wrong on our side. Please try again.".into(),
                    field: None,
                    retry_after: None,
                };
                body(500, base_headers("application/json"), serde_json::to_string(&b).unwrap_or_default())
            }
        }
    }
}

/// A JSON success response.
pub fn json<T: serde::Serialize>(status: u16, value: &T) -> AppResult<Response> {
    let text = serde_json::to_string(value).map_err(|e| AppError::internal(format!("serialise: {e}")))?;
    Ok(body(status, base_headers("application/json"), text))
}

/// A 302 to `location`, with extra headers (cookies).
pub fn redirect(location: &str, set_cookie: Option<&str>) -> AppResult<Response> {
    redirect_with_cookies(location, set_cookie.as_slice())
}

/// A 302 to `location` setting each cookie.
pub fn redirect_with_cookies(location: &str, cookies: &[&str]) -> AppResult<Response> {
    let headers = base_headers("text/plain; charset=utf-8");
    headers.set("Location", location)?;
    for c in cookies {
        headers.append("Set-Cookie", c)?;
    }
    Ok(body(302, headers, String::new()))
}

/// A JSON success response setting each cookie.
pub fn json_with_cookies<T: serde::Serialize>(status: u16, value: &T, cookies: &[&str]) -> AppResult<Response> {
    let mut resp = json(status, value)?;
    for c in cookies {
        resp.headers_mut().append("Set-Cookie", c)?;
    }
    Ok(resp)
}

/// A `Set-Cookie` value: HttpOnly, `Path=/`, `Secure` when the issuer is https.
pub fn cookie(name: &str, value: &str, same_site: &str, max_age: u64, issuer: &str) -> String {
    let secure = if issuer.starts_with("https://") { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}")
}
