//! Admin console sessions. The console is an OpenID client of this provider (the built-in
//! [`CONSOLE_CLIENT_ID`]): admins sign in through the same universal login as everyone,
//! and the code that comes back to `/console/callback` becomes a session cookie. Each
//! session carries a CSRF token that state-changing calls repeat in a header.

use crate::random::Entropy;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// The console's client id (never stored in KV; it cannot be edited or deleted).
pub const CONSOLE_CLIENT_ID: &str = "biopass-admin-console";
/// The console's callback path.
pub const CONSOLE_CALLBACK: &str = "/console/callback";
/// Seconds a session lasts.
pub const SESSION_LIFETIME: u64 = 8 * 3600;
/// The session cookie.
pub const SESSION_COOKIE: &str = "bp_admin";
/// The cookie holding the console sign-in's PKCE verifier.
pub const PKCE_COOKIE: &str = "bp_console_pkce";
/// The header that repeats the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A session as the Vault keeps it, under the hash of its cookie
/// ([`crate::schema::VaultKey::Session`]).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub user_id: String,
    pub username: String,
    pub csrf_token: String,
    pub expires_at: u64,
}

impl std::fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRecord").field("username", &self.username).field("expires_at", &self.expires_at).finish_non_exhaustive()
    }
}

impl SessionRecord {
    /// A new session; returns it and the cookie value.
    pub fn new(user_id: &str, username: &str, rng: &mut impl Entropy, now: u64) -> (Self, String) {
        let cookie = rng.token::<32>();
        let record = Self { user_id: user_id.to_owned(), username: username.to_owned(), csrf_token: rng.token::<24>(), expires_at: now + SESSION_LIFETIME };
        (record, cookie)
    }

    /// True when `header` repeats this session's CSRF token.
    pub fn csrf_ok(&self, header: Option<&str>) -> bool {
        header.is_some_and(|h| bool::from(h.as_bytes().ct_eq(self.csrf_token.as_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::TestEntropy;

    #[test]
    fn sessions_and_csrf() {
        let (s, cookie) = SessionRecord::new("u1", "root", &mut TestEntropy::new(1), 100);
        assert_eq!(s.expires_at, 100 + SESSION_LIFETIME);
        assert_ne!(cookie, s.csrf_token);
        assert!(s.csrf_ok(Some(&s.csrf_token.clone())));
        assert!(!s.csrf_ok(Some("nope")));
        assert!(!s.csrf_ok(None));
        assert!(!format!("{s:?}").contains(&s.csrf_token));
    }
}
