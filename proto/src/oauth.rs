//! OAuth 2.0 and OpenID Connect wire types. Field names follow the RFCs.

use serde::{Deserialize, Serialize};

/// Error response of the token and PAR endpoints (RFC 6749 section 5.2), also used in
/// error redirects of the authorization endpoint (section 4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthErrorBody {
    /// The RFC error code, e.g. `invalid_grant`.
    pub error: String,
    /// Human-readable detail; never contains secrets or internals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// Successful pushed authorization response (RFC 9126 section 2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParResponse {
    /// `urn:ietf:params:oauth:request_uri:<reference>`, usable once.
    pub request_uri: String,
    /// Lifetime of `request_uri` in seconds.
    pub expires_in: u64,
}

/// Successful token response (RFC 6749 section 5.1, OpenID Connect Core 3.1.3.3).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// A signed JWT access token (RFC 9068 profile) for the userinfo endpoint.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime of the access token in seconds.
    pub expires_in: u64,
    /// The OpenID Connect ID token.
    pub id_token: String,
    /// Granted scopes, space-separated.
    pub scope: String,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<hidden>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("id_token", &"<hidden>")
            .field("scope", &self.scope)
            .finish()
    }
}

/// OpenID Connect Discovery 1.0 provider metadata (section 3), the fields we serve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    pub pushed_authorization_request_endpoint: String,
    pub require_pushed_authorization_requests: bool,
    pub scopes_supported: Vec<String>,
    pub response_types_supported: Vec<String>,
    pub response_modes_supported: Vec<String>,
    pub grant_types_supported: Vec<String>,
    pub subject_types_supported: Vec<String>,
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub token_endpoint_auth_signing_alg_values_supported: Vec<String>,
    pub code_challenge_methods_supported: Vec<String>,
    pub claims_supported: Vec<String>,
    pub authorization_response_iss_parameter_supported: bool,
    /// OpenID Connect Discovery 3: request objects by value (`request`) are not accepted.
    pub request_parameter_supported: bool,
    /// OpenID Connect Discovery 3 (omitted means true): only PAR's own `request_uri`s
    /// (RFC 9126) are accepted, never one hosted by the client.
    pub request_uri_parameter_supported: bool,
}

/// Userinfo response (OpenID Connect Core 5.3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub sub: String,
    pub preferred_username: String,
}
