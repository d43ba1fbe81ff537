//! The worker's one error type, and the one place it becomes an HTTP response: the status,
//! headers and body are `biopass_service::http::lower`'s (pure, unit-tested there); this
//! file turns them into a Workers `Response` and logs what is to be logged.

use biopass_idp::error::{ApiFailure, OAuthError};
use biopass_proto::error::ApiErrorCode;
pub use biopass_service::http::Challenge;
use biopass_service::http::{self, Failure};
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

impl From<Failure> for AppError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::OAuth { error, challenge } => Self::OAuth { error, challenge },
            Failure::Page(e) => Self::Page(e),
            Failure::Api(a) => Self::Api(a),
            Failure::Internal(d) => Self::Internal(d),
        }
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

thread_local! {
    /// [`base_headers`] made once per isolate and content type, copied for each response
    /// (one call into the runtime instead of one per header).
    static BASE_HEADERS: std::cell::RefCell<Vec<(String, Headers)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Headers every response of ours carries (a fresh object the caller may add to).
pub fn base_headers(content_type: &str) -> Headers {
    BASE_HEADERS.with(|cache| {
        let mut cache = cache.borrow_mut();
        let template = match cache.iter().position(|(t, _)| t == content_type) {
            Some(i) => &cache[i].1,
            None => {
                cache.push((content_type.to_owned(), headers_of(&http::base_headers(content_type))));
                &cache[cache.len() - 1].1
            }
        };
        // Copying a Headers object cannot fail; should the runtime refuse, build it anew.
        worker::web_sys::Headers::new_with_headers(&template.0).map_or_else(|_| headers_of(&http::base_headers(content_type)), Headers)
    })
}

/// A metadata document's headers ([`http::metadata_headers`]).
pub fn metadata_headers() -> Headers {
    headers_of(&http::metadata_headers())
}

fn headers_of(pairs: &[(&'static str, String)]) -> Headers {
    let h = Headers::new();
    for (name, value) in pairs {
        // Our own fixed names and values, on a fresh Headers object: cannot fail.
        let _ = h.append(name, value);
    }
    h
}

fn body(status: u16, headers: Headers, text: String) -> Response {
    Response::builder().with_status(status).with_headers(headers).fixed(text.into_bytes())
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        match e {
            AppError::OAuth { error, challenge } => Failure::OAuth { error, challenge },
            AppError::Page(e) => Failure::Page(e),
            AppError::Api(f) => Failure::Api(f),
            AppError::Internal(d) => Failure::Internal(d),
        }
    }
}

impl AppError {
    /// The response for this error ([`http::lower`]). Never fails and never reveals internals.
    pub fn into_response(self) -> Response {
        let lowered = http::lower(self.into());
        if let Some(line) = &lowered.log {
            worker::console_error!("{line}");
        }
        body(lowered.status, headers_of(&lowered.headers), lowered.body)
    }
}

/// 405 for an endpoint called with another method than `allow` (RFC 9110 15.5.6).
pub fn method_not_allowed(allow: &str) -> AppResult<Response> {
    let headers = base_headers("application/json");
    headers.set("Allow", allow)?;
    let b = biopass_proto::error::ApiError {
        error: ApiErrorCode::InvalidInput,
        message: format!("This endpoint answers only {allow}."),
        field: None,
        retry_after: None,
    };
    Ok(body(405, headers, serde_json::to_string(&b).unwrap_or_default()))
}

/// A JSON success response.
pub fn json<T: serde::Serialize>(status: u16, value: &T) -> AppResult<Response> {
    let text = serde_json::to_string(value).map_err(|e| AppError::internal(format!("serialise: {e}")))?;
    Ok(json_text(status, text))
}

/// A JSON success response whose body is already serialised.
pub fn json_text(status: u16, text: String) -> Response {
    body(status, base_headers("application/json"), text)
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
