//! Errors of the protocol logic: OAuth errors carry their RFC code, API errors their
//! [`ApiErrorCode`]. Mapping to HTTP happens in the worker, in one place.

use biopass_proto::error::ApiErrorCode;
use std::fmt;

/// An OAuth 2.0 error code (RFC 6749 4.1.2.1 and 5.2, RFC 9126 2.3, OpenID Connect Core 3.1.2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    InvalidToken,
    InvalidRequestUri,
    ServerError,
    LoginRequired,
    /// OpenID Connect Core 6.1: request objects are not supported.
    RequestNotSupported,
    /// OpenID Connect Core 6.2: a `request_uri` that is not one of PAR's.
    RequestUriNotSupported,
}

impl OAuthErrorCode {
    /// Every code (what a test that must cover each one walks).
    pub const ALL: [Self; 14] = [
        Self::InvalidRequest,
        Self::InvalidClient,
        Self::InvalidGrant,
        Self::UnauthorizedClient,
        Self::UnsupportedGrantType,
        Self::UnsupportedResponseType,
        Self::InvalidScope,
        Self::AccessDenied,
        Self::InvalidToken,
        Self::InvalidRequestUri,
        Self::ServerError,
        Self::LoginRequired,
        Self::RequestNotSupported,
        Self::RequestUriNotSupported,
    ];

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::InvalidToken => "invalid_token",
            Self::InvalidRequestUri => "invalid_request_uri",
            Self::ServerError => "server_error",
            Self::LoginRequired => "login_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
        }
    }

    /// The HTTP status of a token, PAR or userinfo error response with this code.
    pub fn http_status(self) -> u16 {
        match self {
            Self::InvalidClient | Self::InvalidToken => 401,
            Self::ServerError => 500,
            _ => 400,
        }
    }
}

/// An OAuth error with a description that is safe to show (no secrets, no internals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: OAuthErrorCode,
    /// Only the characters RFC 6749 5.2 allows in `error_description` (see [`Self::new`]).
    pub description: String,
}

/// `description` in the characters RFC 6749 5.2 allows in `error_description`
/// (%x20-21 / %x23-5B / %x5D-7E: printable ASCII without `"` and `\`): a double quote becomes
/// a single one, a backslash a slash, anything else outside the set a `?`.
pub fn wire_description(description: &str) -> String {
    description
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

impl OAuthError {
    /// Every OAuth error is made here, so every description is [`wire_description`]'s.
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        Self { code, description: wire_description(&description.into()) }
    }
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidRequest, description)
    }
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidClient, description)
    }
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidGrant, description)
    }
    pub fn server_error() -> Self {
        Self::new(OAuthErrorCode::ServerError, "the server could not complete the request")
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl std::error::Error for OAuthError {}

/// An admin or login API error: a code and a message a person can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    pub code: ApiErrorCode,
    pub message: String,
    pub field: Option<String>,
    pub retry_after: Option<u64>,
}

impl ApiFailure {
    pub fn new(code: ApiErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), field: None, retry_after: None }
    }
    /// A validation failure of one input field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self { field: Some(field.to_owned()), ..Self::new(ApiErrorCode::InvalidInput, message) }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ApiErrorCode::NotFound, message)
    }
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiFailure {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_hold_only_what_rfc_6749_allows() {
        let e = OAuthError::invalid_request("login_hint: \"Zoë\" \\ tab\there\u{7f}");
        assert_eq!(e.description, "login_hint: 'Zo?' / tab?here?");
        for c in e.description.chars() {
            assert!(matches!(c as u32, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E), "{c:?}");
        }
        assert_eq!(OAuthError::invalid_grant("plain text, kept").description, "plain text, kept");
    }
}
