//! Users and their enrolled authenticators. Seeds and templates are sealed at rest; the
//! admin view says only which authenticators exist.

use crate::ids::UserName;
use crate::random::Entropy;
use biopass_proto::admin::{Authenticators, User};
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

/// A user as stored (KV `user:{id}`; `username:{name}` maps names to ids).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: String,
    pub username: UserName,
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
}

impl UserRecord {
    /// A new user in `group`, with no authenticator.
    pub fn register(username: UserName, group: &str, rng: &mut impl Entropy, now: u64) -> Self {
        Self {
            id: rng.token::<16>(),
            username,
            groups: vec![group.to_owned()],
            created_at: now,
            disabled: false,
            admin: false,
            totp: None,
            face: None,
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

    pub fn enrolled(&self) -> Vec<AuthenticatorKind> {
        let mut kinds = Vec::new();
        if self.face.is_some() {
            kinds.push(AuthenticatorKind::Face);
        }
        if self.totp.is_some() {
            kinds.push(AuthenticatorKind::Totp);
        }
        kinds
    }

    pub fn view(&self) -> User {
        User {
            id: self.id.clone(),
            username: self.username.to_string(),
            groups: self.groups.clone(),
            authenticators: Authenticators { totp: self.totp.is_some(), face: self.face.is_some() },
            disabled: self.disabled,
            admin: self.admin,
            created_at: self.created_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::TestEntropy;

    #[test]
    fn register_join_view() {
        let mut u = UserRecord::register(UserName::parse("Bob").unwrap(), "g1", &mut TestEntropy::new(1), 5);
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
}
