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

/// The grant whose stored form is `stored`, when it may be taken for `r` at `now`
/// ([`check_redemption`] accepts it); a value that is not a grant may not.
pub fn accepted_grant(stored: &serde_json::Value, r: &Redemption<'_>, now: u64) -> Option<CodeGrant> {
    CodeGrant::deserialize(stored).ok().filter(|grant| check_redemption(grant, r, now).is_ok())
}

/// The access token a redemption issues: recorded beside the spent code, in the operation
/// that spends it, so that a replay of the code revokes the token (RFC 6749 4.1.2, 10.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issued {
    pub access_token_jti: String,
    /// When the access token expires: the record is kept as long.
    pub until: u64,
}

impl Issued {
    /// The access token `jti` issued at `now`, with its lifetime.
    pub fn at(access_token_jti: String, now: u64) -> Self {
        Self { access_token_jti, until: now + ACCESS_TOKEN_LIFETIME }
    }
}

/// What a redeemed code issued, and to whom: the record a replay of the code reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redeemed {
    pub access_token_jti: String,
    pub until: u64,
    /// The token's user, whose status object keeps its revocation; absent in what was
    /// recorded before (the revocation then goes to the sign-in's object, where userinfo
    /// looks for such tokens').
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

impl Redeemed {
    /// The record of `grant` redeemed for `issued`.
    pub fn of(grant: &CodeGrant, issued: Issued) -> Self {
        Self { access_token_jti: issued.access_token_jti, until: issued.until, user_id: Some(grant.user_id.clone()) }
    }
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
/// `issued` names the access token (its `jti` and expiry, as [`Issued::at`] made them).
pub fn token_claims(grant: &CodeGrant, issuer: &str, issued: &Issued, now: u64) -> ((IdTokenClaims, u64), (AccessTokenClaims, u64)) {
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
        jti: issued.access_token_jti.clone(),
        preferred_username: grant.username.clone(),
        revocation_with_user: true,
    };
    ((id, now + ID_TOKEN_LIFETIME), (access, issued.until))
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
    fn a_stored_grant_is_accepted_only_as_check_redemption_allows() {
        let stored = serde_json::to_value(grant()).unwrap();
        assert_eq!(accepted_grant(&stored, &ok_redemption(), 159), Some(grant()));
        assert!(accepted_grant(&stored, &ok_redemption(), 160).is_none(), "expired");
        assert!(accepted_grant(&stored, &Redemption { client_id: "c2", ..ok_redemption() }, 100).is_none(), "another client");
        assert!(
            accepted_grant(&stored, &Redemption { code_verifier: Some("wrong-verifier-wrong-verifier-wrong-verifier"), ..ok_redemption() }, 100).is_none(),
            "PKCE"
        );
        assert!(accepted_grant(&serde_json::json!({"not": "a grant"}), &ok_redemption(), 100).is_none(), "not a grant");
        // What crosses to the Vault is the same redemption.
        let params = RedemptionParams::of(&ok_redemption());
        let back: RedemptionParams = serde_json::from_value(serde_json::to_value(&params).unwrap()).unwrap();
        assert_eq!(back, params);
        assert!(accepted_grant(&stored, &back.as_redemption(), 159).is_some());
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
        let issued = Issued::at("j".into(), 150);
        let ((id, id_exp), (at, at_exp)) = token_claims(&grant(), "https://i", &issued, 150);
        assert_eq!((id.iss.as_str(), id.aud.as_str(), id.nonce.as_deref(), id.auth_time), ("https://i", "c1", Some("n"), 100));
        assert_eq!(id.preferred_username, "alice");
        assert_eq!(id_exp, 150 + ID_TOKEN_LIFETIME);
        assert_eq!(at.aud, "https://i/userinfo");
        assert_eq!((at.jti.as_str(), at_exp), ("j", 150 + ACCESS_TOKEN_LIFETIME));
        // The redemption's record names the same token, for the grant's user.
        let record = Redeemed::of(&grant(), issued);
        assert_eq!((record.access_token_jti.as_str(), record.until, record.user_id.as_deref()), ("j", at_exp, Some("u1")));
    }
}
