//! Authorization codes (RFC 6749 4.1.2 and 4.1.3): what a code is bound to, and the checks
//! at redemption. That a code is redeemed at most once is the storage's job (the worker
//! keeps codes in a Durable Object and removes them atomically on redemption).

use crate::claims::{AccessTokenClaims, IdTokenClaims, ACCESS_TOKEN_LIFETIME, ID_TOKEN_LIFETIME};
use crate::error::OAuthError;
use crate::pkce::CodeChallenge;
use serde::{Deserialize, Serialize};

/// Everything a code stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    #[serde(default)]
    pub code_challenge: Option<CodeChallenge>,
    #[serde(default)]
    pub nonce: Option<String>,
    pub scope: Vec<String>,
    /// The user's stable id (`sub`).
    pub user_id: String,
    pub username: String,
    pub auth_time: u64,
    pub amr: Vec<String>,
    pub expires_at: u64,
}

/// The parameters of an `authorization_code` token request, after client authentication.
#[derive(Debug, Clone, Default)]
pub struct Redemption<'a> {
    pub client_id: &'a str,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
}

/// A [`Redemption`] that owns its values: what the token endpoint sends to where the code is
/// kept, so the check and the removal are one operation there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedemptionParams {
    pub client_id: String,
    #[serde(default)]
    pub redirect_uri: Option<String>,
    #[serde(default)]
    pub code_verifier: Option<String>,
}

impl RedemptionParams {
    pub fn of(r: &Redemption<'_>) -> Self {
        Self { client_id: r.client_id.to_owned(), redirect_uri: r.redirect_uri.map(str::to_owned), code_verifier: r.code_verifier.map(str::to_owned) }
    }

    pub fn as_redemption(&self) -> Redemption<'_> {
        Redemption { client_id: &self.client_id, redirect_uri: self.redirect_uri.as_deref(), code_verifier: self.code_verifier.as_deref() }
    }
}

/// Whether the stored form of a code's grant may be taken for `r` at `now`
/// ([`check_redemption`] accepts it); a value that is not a grant may not.
pub fn redeemable(stored: &serde_json::Value, r: &Redemption<'_>, now: u64) -> bool {
    CodeGrant::deserialize(stored).is_ok_and(|grant| check_redemption(&grant, r, now).is_ok())
}

/// Checks a redemption against the grant the code stood for, at Unix time `now`.
///
/// # Errors
/// `invalid_grant` when the code has expired, belongs to another client, the redirect URI
/// differs, or PKCE fails.
pub fn check_redemption(grant: &CodeGrant, r: &Redemption<'_>, now: u64) -> Result<(), OAuthError> {
    if now >= grant.expires_at {
        return Err(OAuthError::invalid_grant("the authorization code has expired"));
    }
    if grant.client_id != r.client_id {
        return Err(OAuthError::invalid_grant("the authorization code was issued to another client"));
    }
    if r.redirect_uri != Some(grant.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request"));
    }
    match (&grant.code_challenge, r.code_verifier) {
        (Some(challenge), Some(verifier)) => challenge.verify(verifier),
        (Some(_), None) => Err(OAuthError::invalid_grant("code_verifier is required")),
        (None, Some(_)) => Err(OAuthError::invalid_grant("code_verifier sent but no code_challenge was")),
        (None, None) => Ok(()),
    }
}

/// The claims of the tokens issued for a grant, with their expiry times.
pub fn token_claims(grant: &CodeGrant, issuer: &str, jti: String, now: u64) -> ((IdTokenClaims, u64), (AccessTokenClaims, u64)) {
    let id = IdTokenClaims {
        iss: issuer.to_owned(),
        sub: grant.user_id.clone(),
        aud: grant.client_id.clone(),
        azp: grant.client_id.clone(),
        auth_time: grant.auth_time,
        nonce: grant.nonce.clone(),
        amr: grant.amr.clone(),
        preferred_username: grant.username.clone(),
    };
    let access = AccessTokenClaims {
        iss: issuer.to_owned(),
        sub: grant.user_id.clone(),
        aud: format!("{issuer}{}", crate::discovery::paths::USERINFO),
        client_id: grant.client_id.clone(),
        scope: grant.scope.join(" "),
        jti,
        preferred_username: grant.username.clone(),
        revocation_with_user: true,
    };
    ((id, now + ID_TOKEN_LIFETIME), (access, now + ACCESS_TOKEN_LIFETIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn grant() -> CodeGrant {
        CodeGrant {
            client_id: "c1".into(),
            redirect_uri: "https://a/cb".into(),
            code_challenge: Some(CodeChallenge::of_verifier(VERIFIER)),
            nonce: Some("n".into()),
            scope: vec!["openid".into()],
            user_id: "u1".into(),
            username: "alice".into(),
            auth_time: 100,
            amr: vec!["otp".into()],
            expires_at: 160,
        }
    }

    fn ok_redemption() -> Redemption<'static> {
        Redemption { client_id: "c1", redirect_uri: Some("https://a/cb"), code_verifier: Some(VERIFIER) }
    }

    #[test]
    fn a_stored_grant_is_redeemable_only_as_check_redemption_allows() {
        let stored = serde_json::to_value(grant()).unwrap();
        assert!(redeemable(&stored, &ok_redemption(), 159));
        assert!(!redeemable(&stored, &ok_redemption(), 160), "expired");
        assert!(!redeemable(&stored, &Redemption { client_id: "c2", ..ok_redemption() }, 100), "another client");
        assert!(!redeemable(&stored, &Redemption { code_verifier: Some("wrong-verifier-wrong-verifier-wrong-verifier"), ..ok_redemption() }, 100), "PKCE");
        assert!(!redeemable(&serde_json::json!({"not": "a grant"}), &ok_redemption(), 100), "not a grant");
        // What crosses to the Vault is the same redemption.
        let params = RedemptionParams::of(&ok_redemption());
        let back: RedemptionParams = serde_json::from_value(serde_json::to_value(&params).unwrap()).unwrap();
        assert_eq!(back, params);
        assert!(redeemable(&stored, &back.as_redemption(), 159));
    }

    #[test]
    fn redemption_rules() {
        let g = grant();
        check_redemption(&g, &ok_redemption(), 159).unwrap();
        let expect_invalid = |r: Redemption<'_>, now| assert_eq!(check_redemption(&g, &r, now).unwrap_err().code.as_str(), "invalid_grant");
        expect_invalid(ok_redemption(), 160);
        expect_invalid(Redemption { client_id: "c2", ..ok_redemption() }, 120);
        expect_invalid(Redemption { redirect_uri: Some("https://a/cb2"), ..ok_redemption() }, 120);
        expect_invalid(Redemption { redirect_uri: None, ..ok_redemption() }, 120);
        expect_invalid(Redemption { code_verifier: None, ..ok_redemption() }, 120);
        expect_invalid(Redemption { code_verifier: Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX"), ..ok_redemption() }, 120);
        let no_pkce = CodeGrant { code_challenge: None, ..grant() };
        assert!(check_redemption(&no_pkce, &Redemption { code_verifier: None, ..ok_redemption() }, 120).is_ok());
        assert!(check_redemption(&no_pkce, &ok_redemption(), 120).is_err());
    }

    #[test]
    fn claims_carry_the_grant() {
        let ((id, id_exp), (at, at_exp)) = token_claims(&grant(), "https://i", "j".into(), 150);
        assert_eq!((id.iss.as_str(), id.aud.as_str(), id.nonce.as_deref(), id.auth_time), ("https://i", "c1", Some("n"), 100));
        assert_eq!(id.preferred_username, "alice");
        assert_eq!(id_exp, 150 + ID_TOKEN_LIFETIME);
        assert_eq!(at.aud, "https://i/userinfo");
        assert_eq!(at_exp, 150 + ACCESS_TOKEN_LIFETIME);
    }
}
