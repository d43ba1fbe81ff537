//! Proof Key for Code Exchange (RFC 7636), S256 only: `plain` offers no protection when the
//! authorization request can be observed, so it is refused.

use crate::error::OAuthError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A validated S256 code challenge: 43 base64url characters (a SHA-256 digest).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// Parses `code_challenge` and `code_challenge_method` of an authorization request.
    ///
    /// # Errors
    /// `invalid_request` when the method is not `S256` (RFC 7636 4.4.1: a missing method
    /// means `plain`, which we do not support) or the challenge is not a base64url SHA-256.
    pub fn parse(challenge: &str, method: Option<&str>) -> Result<Self, OAuthError> {
        match method {
            Some("S256") => {}
            Some(_) | None => return Err(OAuthError::invalid_request("code_challenge_method must be S256 (plain is not supported)")),
        }
        let decoded = URL_SAFE_NO_PAD.decode(challenge).ok();
        if challenge.len() != 43 || decoded.map(|d| d.len()) != Some(32) {
            return Err(OAuthError::invalid_request("code_challenge must be the base64url SHA-256 of the code verifier"));
        }
        Ok(Self(challenge.to_owned()))
    }

    /// The S256 challenge of `verifier`.
    pub fn of_verifier(verifier: &str) -> Self {
        Self(URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks a `code_verifier` from the token request against this challenge, in
    /// constant time.
    ///
    /// # Errors
    /// `invalid_grant` when the verifier is malformed (RFC 7636 4.1: 43-128 unreserved
    /// characters) or does not match.
    pub fn verify(&self, verifier: &str) -> Result<(), OAuthError> {
        let well_formed = (43..=128).contains(&verifier.len()) && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !well_formed {
            return Err(OAuthError::invalid_grant("code_verifier is malformed"));
        }
        let computed = Self::of_verifier(verifier);
        if bool::from(computed.0.as_bytes().ct_eq(self.0.as_bytes())) {
            Ok(())
        } else {
            Err(OAuthError::invalid_grant("code_verifier does not match the code_challenge"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_appendix_b_vector() {
        assert_eq!(CodeChallenge::of_verifier(VERIFIER).as_str(), CHALLENGE);
        let c = CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap();
        c.verify(VERIFIER).unwrap();
    }

    #[test]
    fn wrong_verifier_is_invalid_grant() {
        let c = CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap();
        let other = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX";
        assert_eq!(c.verify(other).unwrap_err().code.as_str(), "invalid_grant");
        assert_eq!(c.verify("short").unwrap_err().code.as_str(), "invalid_grant");
        let bad_chars = "dBjftJeZ4CVP+mB92K27uhbUJU1p1r/wW1gFWFOEjXk";
        assert!(c.verify(bad_chars).is_err());
    }

    #[test]
    fn plain_and_missing_method_are_refused() {
        assert!(CodeChallenge::parse(CHALLENGE, Some("plain")).is_err());
        assert!(CodeChallenge::parse(CHALLENGE, None).is_err());
        assert!(CodeChallenge::parse("too-short", Some("S256")).is_err());
    }
}
