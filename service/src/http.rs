//! Errors as HTTP, as pure data: the status, headers and body of every error answer, so the
//! mapping is tested natively (`edge-worker/src/error.rs` turns a [`Lowered`] into a
//! Workers `Response`).
//!
//! OAuth endpoints answer with RFC 6749 5.2 bodies (and `WWW-Authenticate` where RFC 6749
//! 5.2 and RFC 6750 3 require it); the admin and login APIs with `ApiError` JSON; the
//! authorization endpoint, for errors that must not be redirected, with an HTML page.
//! Internal errors give their detail to the log only and a generic message to the caller.

use biopass_idp::error::{ApiFailure, OAuthError, OAuthErrorCode};
use biopass_proto::error::{ApiError, ApiErrorCode};
use biopass_proto::oauth::OAuthErrorBody;

/// Which `WWW-Authenticate` challenge a 401 carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    None,
    /// The client used the Authorization header (RFC 6749 5.2).
    Basic,
    /// A bearer token was refused (RFC 6750 3).
    Bearer,
}

/// An error, before it is HTTP.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// Token, PAR and userinfo errors.
    OAuth { error: OAuthError, challenge: Challenge },
    /// An authorization request error that must be shown, not redirected.
    Page(OAuthError),
    /// Admin and login API errors.
    Api(ApiFailure),
    /// Our fault; the string is logged, never sent.
    Internal(String),
}

/// An answer: status, headers (in order; `Set-Cookie` may repeat), body, and what to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lowered {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    /// For the worker's log (internal errors and OAuth `server_error`s).
    pub log: Option<String>,
}

impl Lowered {
    /// The value of header `name` (the first, case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
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

/// The headers of a metadata document (OpenID Connect Discovery, RFC 8414): public and the
/// same for every caller until a deployment changes it, so a relying party's HTTP cache may
/// keep it an hour (the token endpoint's `no-store` and `Pragma` are for secrets, and a
/// referrer policy is for pages).
pub fn metadata_headers() -> Vec<(&'static str, String)> {
    vec![
        ("Content-Type", "application/json".to_owned()),
        ("Cache-Control", "public, max-age=3600".to_owned()),
        ("X-Content-Type-Options", "nosniff".to_owned()),
    ]
}

/// Headers every answer of ours carries, for a body of `content_type`.
pub fn base_headers(content_type: &str) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("Content-Type", content_type.to_owned()),
        ("Cache-Control", "no-store".to_owned()),
        ("Pragma", "no-cache".to_owned()),
        ("X-Content-Type-Options", "nosniff".to_owned()),
        ("Referrer-Policy", "no-referrer".to_owned()),
    ];
    if content_type.starts_with("text/html") {
        // The error pages: nothing to run, nothing to frame (the SPA's pages get the same
        // from public/_headers).
        h.push(("Content-Security-Policy", "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'".to_owned()));
        h.push(("X-Frame-Options", "DENY".to_owned()));
    }
    h
}

/// Minimal HTML escaping for error pages.
pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The error page of the authorization endpoint.
pub fn error_page(status: u16, title: &str, detail: &str) -> Lowered {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>Biopass: {t}</title><link rel=\"stylesheet\" href=\"/style.css\"></head>\
         <body><main class=\"card\" role=\"main\"><h1>Sign-in cannot continue</h1><p role=\"alert\"><strong>{t}</strong></p>\
         <p>{d}</p><p>Go back to the application and try again. If it happens again, tell the application's administrator.</p></main></body></html>",
        t = escape_html(title),
        d = escape_html(detail),
    );
    Lowered { status, headers: base_headers("text/html; charset=utf-8"), body, log: None }
}

fn json_body<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The answer for `failure`. Never reveals internals.
pub fn lower(failure: Failure) -> Lowered {
    match failure {
        Failure::OAuth { error, challenge } => {
            let status = error.code.http_status();
            let mut headers = base_headers("application/json");
            if status == 401 {
                match challenge {
                    Challenge::Basic => headers.push(("WWW-Authenticate", "Basic realm=\"biopass\", charset=\"UTF-8\"".to_owned())),
                    Challenge::Bearer => headers.push((
                        "WWW-Authenticate",
                        format!("Bearer realm=\"biopass\", error=\"{}\", error_description=\"{}\"", error.code.as_str(), error.description.replace('"', "'")),
                    )),
                    Challenge::None => {}
                }
            }
            let log = (error.code == OAuthErrorCode::ServerError).then(|| format!("oauth server_error: {}", error.description));
            let body = json_body(&OAuthErrorBody { error: error.code.as_str().to_owned(), error_description: Some(error.description) });
            Lowered { status, headers, body, log }
        }
        Failure::Page(error) => error_page(400, error.code.as_str(), &error.description),
        Failure::Api(f) => {
            let mut headers = base_headers("application/json");
            if let Some(secs) = f.retry_after {
                headers.push(("Retry-After", secs.to_string()));
            }
            let status = api_status(f.code);
            let body = json_body(&ApiError { error: f.code, message: f.message, field: f.field, retry_after: f.retry_after });
            Lowered { status, headers, body, log: None }
        }
        Failure::Internal(detail) => {
            let body = json_body(&ApiError {
                error: ApiErrorCode::Internal,
                message: "Something went wrong on our side. Please try again.".into(),
                field: None,
                retry_after: None,
            });
            Lowered { status: 500, headers: base_headers("application/json"), body, log: Some(format!("internal error: {detail}")) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_error_of_ours_is_a_503_or_any_5xx_but_500() {
        // Under load, 503s came from wrangler dev's proxy (see the README): never from here.
        let allowed = [400, 401, 403, 404, 409, 410, 429, 500];
        let mut failures: Vec<Failure> = ApiErrorCode::ALL.into_iter().map(|c| Failure::Api(ApiFailure::new(c, "m"))).collect();
        for code in OAuthErrorCode::ALL {
            let e = OAuthError::new(code, "d");
            failures.push(Failure::OAuth { error: e.clone(), challenge: Challenge::None });
            failures.push(Failure::OAuth { error: e.clone(), challenge: Challenge::Basic });
            failures.push(Failure::Page(e));
        }
        failures.push(Failure::Internal("x".into()));
        for f in failures {
            let status = lower(f.clone()).status;
            assert!(allowed.contains(&status), "{f:?} answers {status}");
        }
    }

    fn body(l: &Lowered) -> serde_json::Value {
        serde_json::from_str(&l.body).unwrap()
    }

    #[test]
    fn oauth_errors_are_rfc_6749_bodies_with_their_challenge() {
        let l = lower(Failure::OAuth { error: OAuthError::invalid_client("client authentication failed"), challenge: Challenge::Basic });
        assert_eq!(l.status, 401);
        assert_eq!(l.header("www-authenticate"), Some("Basic realm=\"biopass\", charset=\"UTF-8\""));
        assert_eq!(body(&l), serde_json::json!({"error": "invalid_client", "error_description": "client authentication failed"}));
        assert_eq!(l.header("Cache-Control"), Some("no-store"));
        // Without the Authorization header, no challenge (RFC 6749 5.2).
        let l = lower(Failure::OAuth { error: OAuthError::invalid_client("x"), challenge: Challenge::None });
        assert_eq!((l.status, l.header("WWW-Authenticate")), (401, None));
        // A bearer token refused: RFC 6750 3, quotes in the description made harmless.
        let l = lower(Failure::OAuth { error: OAuthError::new(OAuthErrorCode::InvalidToken, "the \"token\" expired"), challenge: Challenge::Bearer });
        assert_eq!(l.header("WWW-Authenticate"), Some("Bearer realm=\"biopass\", error=\"invalid_token\", error_description=\"the 'token' expired\""));
        // invalid_grant is a 400 with no challenge whatever the client sent.
        let l = lower(Failure::OAuth { error: OAuthError::invalid_grant("used"), challenge: Challenge::Basic });
        assert_eq!((l.status, l.header("WWW-Authenticate"), l.log.is_none()), (400, None, true));
    }

    #[test]
    fn api_errors_are_typed_json_with_retry_after() {
        let f = ApiFailure { retry_after: Some(900), ..ApiFailure::new(ApiErrorCode::Locked, "Too many failed attempts.") };
        let l = lower(Failure::Api(f));
        assert_eq!(l.status, 429);
        assert_eq!(l.header("Retry-After"), Some("900"));
        assert_eq!(body(&l)["error"], "locked");
        assert_eq!(body(&l)["retry_after"], 900);
        let l = lower(Failure::Api(ApiFailure::invalid_field("username", "Enter a user name.")));
        assert_eq!((l.status, body(&l)["field"].as_str()), (400, Some("username")));
        for (code, status) in [(ApiErrorCode::WrongAnswer, 401), (ApiErrorCode::Expired, 410), (ApiErrorCode::Conflict, 409), (ApiErrorCode::Forbidden, 403)] {
            assert_eq!(api_status(code), status);
        }
    }

    #[test]
    fn internal_errors_are_logged_never_answered() {
        let l = lower(Failure::Internal("kv: secret detail at key user:u1".into()));
        assert_eq!(l.status, 500);
        assert!(!l.body.contains("secret detail") && !l.body.contains("user:u1"), "{}", l.body);
        assert_eq!(body(&l)["error"], "internal");
        assert_eq!(l.log.as_deref(), Some("internal error: kv: secret detail at key user:u1"));
    }

    #[test]
    fn error_pages_escape_and_cannot_be_framed_or_run_script() {
        let l = lower(Failure::Page(OAuthError::invalid_request("<script>alert(1)</script> & \"q\"")));
        assert_eq!(l.status, 400);
        assert!(l.body.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;q&#39;"), "{}", l.body);
        assert!(!l.body.contains("<script>"));
        assert_eq!(l.header("X-Frame-Options"), Some("DENY"));
        assert!(l.header("Content-Security-Policy").is_some_and(|c| c.contains("frame-ancestors 'none'") && c.contains("default-src 'none'")));
        assert!(lower(Failure::Api(ApiFailure::new(ApiErrorCode::NotFound, "x"))).header("Content-Security-Policy").is_none());
    }
}
