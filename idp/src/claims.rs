//! What the tokens we sign say (OpenID Connect Core 2 and 5.1, RFC 9068), and for how long.

use serde::{Deserialize, Serialize};

/// Seconds an authorization code lives (RFC 6749 4.1.2 recommends at most 10 minutes; the
/// Cognito trigger redeems it at once).
pub const CODE_LIFETIME: u64 = 60;
/// Seconds an ID token lives.
pub const ID_TOKEN_LIFETIME: u64 = 300;
/// Seconds an access token (for userinfo) lives.
pub const ACCESS_TOKEN_LIFETIME: u64 = 600;
/// Seconds a PAR `request_uri` lives (RFC 9126 suggests 5 to 600; short, as it is one-use).
pub const REQUEST_URI_LIFETIME: u64 = 60;
/// Seconds a login transaction lives: Cognito's longest auth session validity.
pub const TRANSACTION_LIFETIME: u64 = 15 * 60;

/// ID token claims other than `exp` and `iat` (which `jwt-compact` carries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub azp: String,
    pub auth_time: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Authentication methods (RFC 8176): `otp`, `face`, `mfa`, ...
    pub amr: Vec<String>,
    pub preferred_username: String,
}

/// Access token claims (RFC 9068 2.2) other than `exp` and `iat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    /// The userinfo endpoint is the only resource.
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub jti: String,
    pub preferred_username: String,
    /// Set on every token issued since a token's revocation is kept with its user's status
    /// (`biopass_idp::schema::VaultKey::UserRevoked`): userinfo then learns both in one
    /// Vault call. A token without it was issued before, and its revocation is looked for
    /// where its sign-in kept it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not", rename = "rvu")]
    pub revocation_with_user: bool,
}

/// The `typ` header of access tokens (RFC 9068 2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
/// The `typ` header of ID tokens.
pub const ID_TOKEN_TYP: &str = "JWT";
