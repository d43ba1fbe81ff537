//! Users and their enrolled authenticators. Seeds and templates are sealed at rest; the
//! admin view says only which authenticators exist.

use crate::authorize::CognitoContext;
use crate::ids::UserName;
use crate::random::Entropy;
use crate::recovery::RecoveryCodes;
use biopass_proto::admin::{Authenticators, PasskeyView, UpdateUser, User};
use biopass_proto::login::AuthenticatorKind;
use serde::{Deserialize, Serialize};

/// A sealed secret with when it was enrolled.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolled {
    pub sealed: String,
    pub enrolled_at: u64,
}

impl std::fmt::Debug for Enrolled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Enrolled {{ enrolled_at: {}, sealed: <hidden> }}", self.enrolled_at)
    }
}

/// A user as stored (KV `user:{id}`; [`crate::schema::KvKey::UserName`] maps names to ids).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: String,
    pub username: UserName,
    /// The Amazon Cognito user pool this user signs in from; `None` for users of Biopass
    /// itself (console admins, plain OpenID clients). Users of different pools with the same
    /// name are different people to Biopass.
    #[serde(default)]
    pub user_pool: Option<CognitoContext>,
    pub groups: Vec<String>,
    pub created_at: u64,
    #[serde(default)]
    pub disabled: bool,
    /// May sign in to the admin console.
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub totp: Option<Enrolled>,
    #[serde(default)]
    pub face: Option<Enrolled>,
    /// WebAuthn credentials, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passkeys: Vec<EnrolledPasskey>,
    /// The unused recovery codes (their keyed hashes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<RecoveryCodes>,
}

/// A passkey as stored: the credential id (base64url) and its public key
/// ([`crate::passkey::PublicKey`] as JSON), sealed to the user's record like the other
/// authenticators (it is not secret, but a key copied into another record does not open).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolledPasskey {
    pub credential_id: String,
    pub sealed_key: String,
    /// The signature counter at enrolment (0: the authenticator keeps none).
    pub sign_count: u32,
    pub enrolled_at: u64,
}

impl std::fmt::Debug for EnrolledPasskey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EnrolledPasskey {{ credential_id: {}, enrolled_at: {}, sealed_key: <hidden> }}", self.credential_id, self.enrolled_at)
    }
}

impl UserRecord {
    /// A new user of `user_pool` (or of Biopass itself) in `group`, with no authenticator.
    pub fn register(username: UserName, user_pool: Option<&CognitoContext>, group: &str, rng: &mut impl Entropy, now: u64) -> Self {
        Self {
            id: rng.token::<16>(),
            username,
            user_pool: user_pool.cloned(),
            groups: vec![group.to_owned()],
            created_at: now,
            disabled: false,
            admin: false,
            totp: None,
            face: None,
            passkeys: Vec::new(),
            recovery: None,
        }
    }

    /// True if this user is the one `user_pool` (or Biopass itself, `None`) knows by this name.
    pub fn belongs_to(&self, user_pool: Option<&CognitoContext>) -> bool {
        match (&self.user_pool, user_pool) {
            (None, None) => true,
            (Some(mine), Some(theirs)) => same_pool(mine, theirs),
            _ => false,
        }
    }

    /// Adds the user to `group` if not already in it; true if it changed.
    pub fn join(&mut self, group: &str) -> bool {
        if self.groups.iter().any(|g| g == group) {
            false
        } else {
            self.groups.push(group.to_owned());
            true
        }
    }

    /// How many recovery codes the user has left.
    pub fn recovery_codes_left(&self) -> usize {
        self.recovery.as_ref().map_or(0, RecoveryCodes::left)
    }

    /// The user's authenticators (recovery codes are not one: see [`Self::recovery_codes_left`]).
    pub fn enrolled(&self) -> Vec<AuthenticatorKind> {
        let mut kinds = Vec::new();
        if self.face.is_some() {
            kinds.push(AuthenticatorKind::Face);
        }
        if self.totp.is_some() {
            kinds.push(AuthenticatorKind::Totp);
        }
        if !self.passkeys.is_empty() {
            kinds.push(AuthenticatorKind::Passkey);
        }
        kinds
    }

    pub fn view(&self) -> User {
        User {
            id: self.id.clone(),
            username: self.username.to_string(),
            groups: self.groups.clone(),
            authenticators: Authenticators {
                totp: self.totp.is_some(),
                face: self.face.is_some(),
                passkeys: self.passkeys.iter().map(|p| PasskeyView { credential_id: p.credential_id.clone(), enrolled_at: p.enrolled_at }).collect(),
                recovery_codes: u32::try_from(self.recovery_codes_left()).unwrap_or(u32::MAX),
            },
            disabled: self.disabled,
            admin: self.admin,
            created_at: self.created_at,
            user_pool_id: self.user_pool.as_ref().map(|p| p.user_pool_id.clone()),
        }
    }
}

/// One user pool: the same pool id in the same AWS account.
fn same_pool(a: &CognitoContext, b: &CognitoContext) -> bool {
    a.aws_account_id == b.aws_account_id && a.user_pool_id == b.user_pool_id
}

/// The value of a pool claim ([`crate::schema::VaultKey::PoolClaim`]): which pool won.
pub fn pool_tag(p: &CognitoContext) -> String {
    format!("{}:{}", p.aws_account_id, p.user_pool_id)
}

impl UserRecord {
    /// Applies an admin's change (the groups in it already checked to exist).
    pub fn apply(&mut self, change: &UpdateUser) {
        if let Some(groups) = &change.groups {
            self.groups = groups.clone();
        }
        if let Some(d) = change.disabled {
            self.disabled = d;
        }
        if let Some(a) = change.admin {
            self.admin = a;
        }
    }

    /// Removes the enrolled authenticator `kind` (`totp`, `face` or `passkey`: every
    /// passkey, as in the admin API's path; `recovery_code`: every recovery code): the user
    /// enrols it again at their next sign-in. With the last authenticator go the recovery
    /// codes (they stand in for an authenticator; the next enrolment makes new ones).
    ///
    /// # Errors
    /// The reason, for an unknown kind.
    pub fn reset_authenticator(&mut self, kind: &str) -> Result<(), &'static str> {
        match kind {
            "totp" => self.totp = None,
            "face" => self.face = None,
            "passkey" => self.passkeys.clear(),
            "recovery_code" => self.recovery = None,
            _ => return Err("the authenticator kind is totp, face, passkey or recovery_code"),
        }
        if self.enrolled().is_empty() {
            self.recovery = None;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::TestEntropy;

    #[test]
    fn register_join_view() {
        let mut u = UserRecord::register(UserName::parse("Bob").unwrap(), None, "g1", &mut TestEntropy::new(1), 5);
        assert!(u.enrolled().is_empty());
        assert!(!u.join("g1"));
        assert!(u.join("g2"));
        u.totp = Some(Enrolled { sealed: "secret-bits".into(), enrolled_at: 6 });
        let v = u.view();
        assert_eq!(v.username, "bob");
        assert!(v.authenticators.totp && !v.authenticators.face);
        assert!(!format!("{u:?}").contains("secret-bits"));
        assert_eq!(u.enrolled(), vec![AuthenticatorKind::Totp]);
    }

    fn pool(account: &str, id: &str) -> CognitoContext {
        CognitoContext { aws_account_id: account.into(), region: "eu-west-1".into(), user_pool_id: id.into() }
    }

    fn name_key(pool: Option<&CognitoContext>, name: &UserName) -> String {
        crate::schema::KvKey::UserName(pool, name).to_string()
    }

    #[test]
    fn users_of_different_pools_are_different_people() {
        let name = UserName::parse("ada@example.com").unwrap();
        let (a, b, other_account) = (pool("111111111111", "eu-west-1_A"), pool("111111111111", "eu-west-1_B"), pool("222222222222", "eu-west-1_A"));
        let u = UserRecord::register(name.clone(), Some(&a), "g", &mut TestEntropy::new(2), 5);
        assert!(u.belongs_to(Some(&a)));
        assert!(!u.belongs_to(Some(&b)) && !u.belongs_to(Some(&other_account)) && !u.belongs_to(None));
        let local = UserRecord::register(name.clone(), None, "g", &mut TestEntropy::new(3), 5);
        assert!(local.belongs_to(None) && !local.belongs_to(Some(&a)));
        let keys = [name_key(None, &name), name_key(Some(&a), &name), name_key(Some(&b), &name), name_key(Some(&other_account), &name)];
        for (i, k) in keys.iter().enumerate() {
            assert!(keys.iter().skip(i + 1).all(|o| o != k), "{k} is unique");
        }
        assert_eq!(keys[0], "username:ada@example.com", "Biopass's own users keep their key");
        let tricky = UserName::parse("pool-user:111111111111:eu-west-1_A:ada@example.com").unwrap();
        assert_ne!(name_key(None, &tricky), keys[1], "a local name cannot spell a pool user's key");
        assert_eq!(u.view().user_pool_id.as_deref(), Some("eu-west-1_A"));
        let old: UserRecord = serde_json::from_str(r#"{"id":"x","username":"bob","groups":[],"created_at":1}"#).unwrap();
        assert_eq!(old.user_pool, None, "records from before pools were bound read as unbound");
    }

    #[test]
    fn admin_changes_apply_only_what_they_name() {
        let mut u = UserRecord::register(UserName::parse("ada").unwrap(), None, "g1", &mut TestEntropy::new(2), 5);
        u.apply(&UpdateUser { groups: None, disabled: Some(true), admin: None });
        assert!(u.disabled && !u.admin && u.groups == ["g1"]);
        u.apply(&UpdateUser { groups: Some(vec!["g2".into()]), disabled: None, admin: Some(true) });
        assert!(u.disabled && u.admin && u.groups == ["g2"]);
        u.totp = Some(Enrolled { sealed: "s".into(), enrolled_at: 1 });
        assert!(u.reset_authenticator("sms").is_err());
        assert!(u.totp.is_some());
        let (_, codes) = crate::recovery::generate(&mut TestEntropy::new(3), &[1; 32], &u.id, 1);
        u.recovery = Some(codes.clone());
        u.face = Some(Enrolled { sealed: "f".into(), enrolled_at: 1 });
        assert_eq!(u.reset_authenticator("recovery_code"), Ok(()));
        assert!(u.recovery.is_none() && u.totp.is_some(), "codes revoked, the app kept");
        u.recovery = Some(codes);
        assert_eq!(u.reset_authenticator("totp"), Ok(()));
        assert!(u.totp.is_none());
        assert_eq!(u.recovery_codes_left(), 10, "the face is left: the codes stay");
        assert_eq!(u.reset_authenticator("face"), Ok(()));
        assert_eq!(u.recovery_codes_left(), 0, "with the last authenticator go the codes");
    }
}
