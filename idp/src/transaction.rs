//! Login transactions: created at `/authorize`, finished by an authenticator, ended by the
//! code. They live in a Durable Object (strongly consistent, one use) for at most
//! [`TRANSACTION_LIFETIME`] seconds, and are bound to the browser that started them by a
//! cookie whose hash they keep.

use crate::authorize::{redirect_with, AuthorizationRequest};
use crate::claims::{CODE_LIFETIME, TRANSACTION_LIFETIME};
use crate::grant::CodeGrant;
use crate::schema::sha256_hex;
use crate::user::UserRecord;
use biopass_proto::admin::FaceAssurance;
use biopass_proto::login::{AuthenticatorKind, LoginStep};
use serde::{Deserialize, Serialize};
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
    /// The authenticators the application accepts.
    #[serde(default = "AuthenticatorKind::all")]
    pub acceptable: Vec<AuthenticatorKind>,
    /// The authenticators the user already proved themselves with in this sign-in (they
    /// are adding another one now); their `amr` values go into the code.
    #[serde(default)]
    pub authenticated: Vec<AuthenticatorKind>,
    /// The application's face-match level; transactions from before this setting get the
    /// default.
    #[serde(default)]
    pub face_assurance: FaceAssurance,
    /// Where the login page loads the application's logo from, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_logo: Option<String>,
}

impl LoginTransaction {
    pub fn new(
        request: AuthorizationRequest,
        application_name: String,
        group_id: String,
        acceptable: Vec<AuthenticatorKind>,
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
            acceptable,
            authenticated: Vec::new(),
            face_assurance: FaceAssurance::default(),
            application_logo: None,
        }
    }

    /// The same transaction, showing the logo at `url` (the application's, if it has one).
    pub fn with_logo(self, url: Option<String>) -> Self {
        Self { application_logo: url, ..self }
    }

    /// The same transaction, matching faces at `level` (the application's setting).
    pub fn with_face_assurance(self, level: FaceAssurance) -> Self {
        Self { face_assurance: level, ..self }
    }

    /// True if `browser_secret` (the cookie) is the one this transaction was started with.
    pub fn bound_to(&self, browser_secret: &str) -> bool {
        bool::from(sha256_hex(browser_secret).as_bytes().ct_eq(self.browser_binding.as_bytes()))
    }

    pub fn expired(&self, now: u64) -> bool {
        now >= self.expires_at
    }

    /// What the user must do next.
    ///
    /// A user enrols without proving anything else only while they have no authenticator
    /// at all (the password, checked by Cognito, is all they have). Adding a second one
    /// needs one of theirs first, in this sign-in: so a stolen password cannot add the
    /// thief's authenticator to an account. A user with recovery codes left may answer with
    /// one instead of any authenticator; once they proved one the application accepts, new
    /// codes are an addition like the others.
    pub fn next_step(&self, user: Option<&UserRecord>) -> LoginStep {
        let enrolled = user.map(UserRecord::enrolled).unwrap_or_default();
        let missing: Vec<_> = self.acceptable.iter().copied().filter(|k| !enrolled.contains(k)).collect();
        if !self.authenticated.is_empty() {
            let optional = self.proved_accepted(user).is_some();
            let mut allowed = missing;
            if optional {
                allowed.push(AuthenticatorKind::RecoveryCode);
            }
            return LoginStep::Enrol { allowed, additional: true, optional };
        }
        if enrolled.is_empty() {
            let allowed = if self.may_enrol { self.acceptable.clone() } else { Vec::new() };
            return LoginStep::Enrol { allowed, additional: false, optional: false };
        }
        let usable: Vec<_> = enrolled.iter().copied().filter(|k| self.acceptable.contains(k)).collect();
        let must_add = usable.is_empty();
        let mut answers = if must_add { enrolled } else { usable };
        if user.is_some_and(|u| u.recovery_codes_left() > 0) {
            answers.push(AuthenticatorKind::RecoveryCode);
        }
        let mut can_add = missing;
        if !must_add {
            can_add.push(AuthenticatorKind::RecoveryCode);
        }
        LoginStep::Authenticate { enrolled: answers, can_add, must_add }
    }

    /// True when the sign-in was vouched for: pushed by an authenticated client (our
    /// Cognito stack, after Cognito checked the password). Anyone can start one that is not
    /// (a plain request, a public client's push, the console's sign-in) by typing a name.
    pub fn vouched(&self) -> bool {
        self.may_enrol
    }

    /// What the login page is told. In a sign-in nobody vouched for, until an
    /// authenticator has been proved, it is the same for every name (unknown, enrolled,
    /// disabled, with or without a face): authenticate with any kind the application
    /// accepts. An answer for an account that cannot give it is a wrong answer.
    pub fn shown_step(&self, user: Option<&UserRecord>) -> LoginStep {
        if !self.vouched() && self.authenticated.is_empty() {
            let mut any = self.acceptable.clone();
            any.push(AuthenticatorKind::RecoveryCode);
            return LoginStep::Authenticate { enrolled: any, can_add: Vec::new(), must_add: false };
        }
        self.next_step(user)
    }

    /// True when a successful answer with `kind` ends the sign-in: the application accepts
    /// it, and the person did not ask to add another authenticator (`add`) or cannot.
    pub fn completes_with(&self, user: &UserRecord, kind: AuthenticatorKind, add: bool) -> bool {
        match self.next_step(Some(user)) {
            LoginStep::Authenticate { can_add, must_add, .. } => !must_add && (!add || can_add.is_empty()),
            _ => self.acceptable.contains(&kind),
        }
    }

    /// The last authenticator proved in this sign-in that the application accepts (a
    /// recovery code counts for a `user` who has such an authenticator: it stands in for
    /// it): with one, an addition the person asked for may be skipped and the sign-in
    /// finished with it.
    pub fn proved_accepted(&self, user: Option<&UserRecord>) -> Option<AuthenticatorKind> {
        let has_accepted = user.is_some_and(|u| u.enrolled().iter().any(|k| self.acceptable.contains(k)));
        self.authenticated.iter().rev().copied().find(|k| self.acceptable.contains(k) || (*k == AuthenticatorKind::RecoveryCode && has_accepted))
    }

    /// The `amr` values of a sign-in finished with `kind` after those proved before.
    pub fn amr(&self, kind: AuthenticatorKind) -> Vec<String> {
        let mut kinds = self.authenticated.clone();
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
        let mut amr: Vec<String> = Vec::new();
        for value in kinds.into_iter().flat_map(|k| k.amr_values().iter()) {
            if !amr.iter().any(|v| v == value) {
                amr.push((*value).to_owned());
            }
        }
        amr
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
        let tx = LoginTransaction::new(request(), "App".into(), "g".into(), AuthenticatorKind::all(), "cookie-secret", true, 1000);
        assert!(tx.bound_to("cookie-secret"));
        assert!(!tx.bound_to("cookie-secreT"));
        assert!(!tx.expired(1000 + TRANSACTION_LIFETIME - 1));
        assert!(tx.expired(1000 + TRANSACTION_LIFETIME));
        let mut user = UserRecord::register(UserName::parse("alice").unwrap(), None, "g", &mut TestEntropy::new(1), 1000);
        assert_eq!(
            tx.next_step(Some(&user)),
            LoginStep::Enrol { allowed: vec![AuthenticatorKind::Face, AuthenticatorKind::Totp], additional: false, optional: false }
        );
        let no_enrol = LoginTransaction { may_enrol: false, ..tx.clone() };
        assert_eq!(no_enrol.next_step(None), LoginStep::Enrol { allowed: vec![], additional: false, optional: false });
        user.totp = Some(Enrolled { sealed: String::new(), enrolled_at: 1 });
        assert_eq!(
            tx.next_step(Some(&user)),
            LoginStep::Authenticate {
                enrolled: vec![AuthenticatorKind::Totp],
                can_add: vec![AuthenticatorKind::Face, AuthenticatorKind::RecoveryCode],
                must_add: false
            }
        );
        let (grant, url) = tx.finish(&user, tx.amr(AuthenticatorKind::Totp), "the-code", "https://i", 1100);
        assert_eq!(grant.amr, vec!["otp"]);
        assert_eq!(url, "https://a/cb?code=the-code&state=s+t&iss=https%3A%2F%2Fi");
        assert_eq!(grant.expires_at, 1100 + CODE_LIFETIME);
        assert_eq!(grant.user_id, user.id);
    }

    #[test]
    fn the_face_level_comes_from_the_application_and_defaults_for_old_transactions() {
        let tx = LoginTransaction::new(request(), "App".into(), "g".into(), AuthenticatorKind::all(), "c", true, 1000);
        assert_eq!(tx.face_assurance, FaceAssurance::Fmr1In10000);
        let strict = tx.with_face_assurance(FaceAssurance::Fmr1In100000);
        assert_eq!(strict.face_assurance, FaceAssurance::Fmr1In100000);
        let mut old = serde_json::to_value(&strict).unwrap();
        old.as_object_mut().unwrap().remove("face_assurance");
        let old: LoginTransaction = serde_json::from_value(old).unwrap();
        assert_eq!(old.face_assurance, FaceAssurance::Fmr1In10000);
    }

    #[test]
    fn a_sign_in_nobody_vouched_for_shows_the_same_step_for_every_name_until_one_is_proved() {
        use AuthenticatorKind::{Face, RecoveryCode, Totp};
        let blind = LoginTransaction::new(request(), "App".into(), "g".into(), vec![Face, Totp], "c", false, 1000);
        assert!(!blind.vouched());
        let same = LoginStep::Authenticate { enrolled: vec![Face, Totp, RecoveryCode], can_add: vec![], must_add: false };
        let mut disabled = with(true, false);
        disabled.disabled = true;
        for user in [None, Some(with(false, false)), Some(with(true, false)), Some(with(false, true)), Some(with(true, true)), Some(disabled)] {
            assert_eq!(blind.shown_step(user.as_ref()), same, "{user:?}");
        }
        // Once the person proved one, they see their own next step.
        let proved = LoginTransaction { authenticated: vec![Totp], ..blind.clone() };
        assert_eq!(proved.shown_step(Some(&with(true, false))), LoginStep::Enrol { allowed: vec![Face, RecoveryCode], additional: true, optional: true });
        // A vouched-for sign-in shows the real step at once.
        let vouched = LoginTransaction { may_enrol: true, ..blind };
        assert_eq!(vouched.shown_step(None), LoginStep::Enrol { allowed: vec![Face, Totp], additional: false, optional: false });
    }

    fn with(totp: bool, face: bool) -> UserRecord {
        let mut user = UserRecord::register(UserName::parse("alice").unwrap(), None, "g", &mut TestEntropy::new(1), 1000);
        let record = Enrolled { sealed: String::new(), enrolled_at: 1 };
        user.totp = totp.then(|| record.clone());
        user.face = face.then_some(record);
        user
    }

    #[test]
    fn the_applications_policy_and_adding_an_authenticator() {
        use AuthenticatorKind::{Face, Totp};
        let tx = |acceptable: &[AuthenticatorKind]| LoginTransaction::new(request(), "App".into(), "g".into(), acceptable.to_vec(), "c", true, 1000);
        let face_only = tx(&[Face]);
        // A new user enrols only what the application accepts.
        assert_eq!(face_only.next_step(Some(&with(false, false))), LoginStep::Enrol { allowed: vec![Face], additional: false, optional: false });
        // A user with only an authenticator app proves it is them with it, then must add a face.
        let totp_user = with(true, false);
        assert_eq!(face_only.next_step(Some(&totp_user)), LoginStep::Authenticate { enrolled: vec![Totp], can_add: vec![Face], must_add: true });
        assert!(!face_only.completes_with(&totp_user, Totp, false), "a code alone does not get into a face-only application");
        // Having proved it, they may enrol the face, and the code says both.
        let proved = LoginTransaction { authenticated: vec![Totp], ..face_only.clone() };
        assert_eq!(proved.next_step(Some(&totp_user)), LoginStep::Enrol { allowed: vec![Face], additional: true, optional: false }, "a required addition");
        assert_eq!(proved.amr(Face), vec!["otp", "face"]);
        // A user who has both only sees the accepted one; all they can add is new recovery codes.
        let both = with(true, true);
        assert_eq!(
            face_only.next_step(Some(&both)),
            LoginStep::Authenticate { enrolled: vec![Face], can_add: vec![AuthenticatorKind::RecoveryCode], must_add: false }
        );
        assert!(face_only.completes_with(&both, Face, false));
        assert!(!face_only.completes_with(&both, Face, true), "asked to add: new recovery codes");
        // Where both are accepted, a user with one may ask to add the other.
        let all = tx(&[Face, Totp]);
        assert!(all.completes_with(&totp_user, Totp, false));
        assert!(!all.completes_with(&totp_user, Totp, true));
        // Without having proved anything, a user who has an authenticator cannot enrol another.
        assert!(matches!(all.next_step(Some(&totp_user)), LoginStep::Authenticate { .. }));
        // Transactions stored before the policy existed accept every kind.
        let mut old = serde_json::to_value(&all).unwrap();
        old.as_object_mut().unwrap().remove("acceptable");
        let old: LoginTransaction = serde_json::from_value(old).unwrap();
        assert_eq!(old.acceptable, vec![Face, Totp]);
    }

    fn with_codes(mut user: UserRecord) -> UserRecord {
        let (_, codes) = crate::recovery::generate(&mut TestEntropy::new(9), &[1; 32], &user.id, 1);
        user.recovery = Some(codes);
        user
    }

    #[test]
    fn recovery_codes_stand_in_for_an_authenticator_but_not_for_a_required_one() {
        use AuthenticatorKind::{Face, RecoveryCode, Totp};
        let tx = |acceptable: &[AuthenticatorKind]| LoginTransaction::new(request(), "App".into(), "g".into(), acceptable.to_vec(), "c", true, 1000);
        let all = tx(&[Face, Totp]);
        // A face-only user with codes may answer with a code instead, and it ends the sign-in.
        let face_user = with_codes(with(false, true));
        assert_eq!(
            all.next_step(Some(&face_user)),
            LoginStep::Authenticate { enrolled: vec![Face, RecoveryCode], can_add: vec![Totp, RecoveryCode], must_add: false }
        );
        assert!(all.completes_with(&face_user, RecoveryCode, false));
        assert_eq!(all.amr(RecoveryCode), vec!["otp"]);
        // Without codes left, no code is offered.
        let mut spent = face_user.clone();
        spent.recovery.as_mut().unwrap().hashes.clear();
        assert_eq!(all.next_step(Some(&spent)), LoginStep::Authenticate { enrolled: vec![Face], can_add: vec![Totp, RecoveryCode], must_add: false });
        // Having proved a code, adding something else may be skipped (it stands in for the face).
        let by_code = LoginTransaction { authenticated: vec![RecoveryCode], ..all.clone() };
        assert_eq!(by_code.proved_accepted(Some(&face_user)), Some(RecoveryCode));
        assert_eq!(by_code.next_step(Some(&face_user)), LoginStep::Enrol { allowed: vec![Totp, RecoveryCode], additional: true, optional: true });
        // Where the application accepts none of the person's authenticators, a code proves
        // who they are but the addition stays required.
        let face_only = tx(&[Face]);
        let totp_user = with_codes(with(true, false));
        assert_eq!(face_only.next_step(Some(&totp_user)), LoginStep::Authenticate { enrolled: vec![Totp, RecoveryCode], can_add: vec![Face], must_add: true });
        assert!(!face_only.completes_with(&totp_user, RecoveryCode, false));
        let by_code = LoginTransaction { authenticated: vec![RecoveryCode], ..face_only };
        assert_eq!(by_code.proved_accepted(Some(&totp_user)), None);
        assert_eq!(by_code.next_step(Some(&totp_user)), LoginStep::Enrol { allowed: vec![Face], additional: true, optional: false });
        assert_eq!(by_code.amr(Face), vec!["otp", "face"]);
        // Codes alone are no enrolment: a user whose authenticators were all reset enrols anew.
        let mut reset = totp_user;
        reset.totp = None;
        assert!(matches!(all.next_step(Some(&reset)), LoginStep::Enrol { additional: false, .. }));
        // The same value is not claimed twice.
        let both = LoginTransaction { authenticated: vec![Totp], ..all };
        assert_eq!(both.amr(RecoveryCode), vec!["otp"]);
    }
}
