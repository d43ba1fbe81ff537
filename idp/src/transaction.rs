//! Login transactions: created at `/authorize`, finished by an authenticator, ended by the
//! code. They live in a Durable Object (strongly consistent, one use) for at most
//! [`TRANSACTION_LIFETIME`] seconds, and are bound to the browser that started them by a
//! cookie whose hash they keep.

use crate::authorize::{redirect_with, AuthorizationRequest};
use crate::claims::{CODE_LIFETIME, TRANSACTION_LIFETIME};
use crate::grant::CodeGrant;
use crate::user::UserRecord;
use biopass_proto::login::{AuthenticatorKind, LoginStep};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A login in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginTransaction {
    pub request: AuthorizationRequest,
    pub application_name: String,
    /// The group the application adds users to.
    pub group_id: String,
    pub created_at: u64,
    pub expires_at: u64,
    /// SHA-256 (hex) of the browser-binding cookie.
    pub browser_binding: String,
    /// True when an unknown user may be registered and enrol here: only for requests
    /// pushed by an authenticated client (our Cognito stack, after Cognito checked the
    /// password).
    pub may_enrol: bool,
    /// A TOTP seed offered for enrolment and not yet confirmed, sealed to this transaction.
    #[serde(default)]
    pub pending_totp: Option<String>,
}

/// SHA-256 in lower-case hex.
pub fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl LoginTransaction {
    pub fn new(
        request: AuthorizationRequest,
        application_name: String,
        group_id: String,
        browser_secret: &str,
        may_enrol: bool,
        now: u64,
    ) -> Self {
        Self {
            request,
            application_name,
            group_id,
            created_at: now,
            expires_at: now + TRANSACTION_LIFETIME,
            browser_binding: sha256_hex(browser_secret),
            may_enrol,
            pending_totp: None,
        }
    }

    /// True if `browser_secret` (the cookie) is the one this transaction was started with.
    pub fn bound_to(&self, browser_secret: &str) -> bool {
        bool::from(sha256_hex(browser_secret).as_bytes().ct_eq(self.browser_binding.as_bytes()))
    }

    pub fn expired(&self, now: u64) -> bool {
        now >= self.expires_at
    }

    /// What the user must do next.
    pub fn next_step(&self, user: Option<&UserRecord>) -> LoginStep {
        let enrolled = user.map(UserRecord::enrolled).unwrap_or_default();
        if enrolled.is_empty() {
            let allowed = if self.may_enrol { vec![AuthenticatorKind::Face, AuthenticatorKind::Totp] } else { Vec::new() };
            LoginStep::Enrol { allowed }
        } else {
            LoginStep::Authenticate { enrolled }
        }
    }

    /// The code grant for `user`, authenticated now with `amr`, and the URL the browser
    /// goes to with `code`.
    pub fn finish(&self, user: &UserRecord, amr: Vec<String>, code: &str, issuer: &str, now: u64) -> (CodeGrant, String) {
        let grant = CodeGrant {
            client_id: self.request.client_id.clone(),
            redirect_uri: self.request.redirect_uri.clone(),
            code_challenge: self.request.code_challenge.clone(),
            nonce: self.request.nonce.clone(),
            scope: self.request.scope.clone(),
            user_id: user.id.clone(),
            username: user.username.to_string(),
            auth_time: now,
            amr,
            expires_at: now + CODE_LIFETIME,
        };
        let mut pairs = vec![("code", code)];
        if let Some(state) = self.request.state.as_deref() {
            pairs.push(("state", state));
        }
        pairs.push(("iss", issuer));
        (grant, redirect_with(&self.request.redirect_uri, &pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserName;
    use crate::random::TestEntropy;
    use crate::user::Enrolled;

    fn request() -> AuthorizationRequest {
        AuthorizationRequest {
            client_id: "c1".into(),
            redirect_uri: "https://a/cb".into(),
            state: Some("s t".into()),
            nonce: Some("n".into()),
            code_challenge: None,
            scope: vec!["openid".into()],
            login_hint: Some(UserName::parse("alice").unwrap()),
            cognito: None,
        }
    }

    #[test]
    fn binding_expiry_steps_and_finish() {
        let tx = LoginTransaction::new(request(), "App".into(), "g".into(), "cookie-secret", true, 1000);
        assert!(tx.bound_to("cookie-secret"));
        assert!(!tx.bound_to("cookie-secreT"));
        assert!(!tx.expired(1000 + TRANSACTION_LIFETIME - 1));
        assert!(tx.expired(1000 + TRANSACTION_LIFETIME));
        let mut user = UserRecord::register(UserName::parse("alice").unwrap(), "g", &mut TestEntropy::new(1), 1000);
        assert_eq!(tx.next_step(Some(&user)), LoginStep::Enrol { allowed: vec![AuthenticatorKind::Face, AuthenticatorKind::Totp] });
        let no_enrol = LoginTransaction { may_enrol: false, ..tx.clone() };
        assert_eq!(no_enrol.next_step(None), LoginStep::Enrol { allowed: vec![] });
        user.totp = Some(Enrolled { sealed: String::new(), enrolled_at: 1 });
        assert_eq!(tx.next_step(Some(&user)), LoginStep::Authenticate { enrolled: vec![AuthenticatorKind::Totp] });
        let (grant, url) = tx.finish(&user, vec!["otp".into()], "the-code", "https://i", 1100);
        assert_eq!(url, "https://a/cb?code=the-code&state=s+t&iss=https%3A%2F%2Fi");
        assert_eq!(grant.expires_at, 1100 + CODE_LIFETIME);
        assert_eq!(grant.user_id, user.id);
    }
}
