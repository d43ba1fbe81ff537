//! The provider's token-signing keys: ES256 (P-256), created on first use, rotated on
//! demand. A rotated-out key stays in the JWKS for [`RETIRED_KEY_GRACE`] seconds, longer
//! than any token we sign lives, so tokens signed just before a rotation still verify.
//!
//! At rest (KV) the private scalar is sealed with [`Purpose::SigningKey`]; [`Keyset`] is
//! the stored form, [`OpenKeyset`] the usable one.

use crate::random::Entropy;
use crate::secretbox::{MasterKey, Purpose, SealError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use jwt_compact::alg::Es256;
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{AlgorithmExt, Claims, Header, UntrustedToken};
use p256::ecdsa::{SigningKey, VerifyingKey};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Seconds a retired key is still published: the longest token lifetime plus a margin.
pub const RETIRED_KEY_GRACE: u64 = crate::claims::ACCESS_TOKEN_LIFETIME + 300;

/// One key as stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredKey {
    pub kid: String,
    pub created_at: u64,
    #[serde(default)]
    pub retired_at: Option<u64>,
    /// The private scalar, sealed.
    pub sealed_d: String,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey").field("kid", &self.kid).field("created_at", &self.created_at).field("retired_at", &self.retired_at).finish_non_exhaustive()
    }
}

/// The stored keyset: the newest unretired key signs; the others verify until pruned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyset {
    pub keys: Vec<StoredKey>,
}

fn new_signing_key(rng: &mut impl Entropy) -> SigningKey {
    loop {
        // A random 32-byte string is a valid scalar except with probability ~2^-128.
        if let Ok(key) = SigningKey::from_slice(&rng.bytes::<32>()) {
            return key;
        }
    }
}

/// RFC 7638 thumbprint of the public key, base64url: the `kid`.
fn thumbprint(key: &VerifyingKey) -> String {
    URL_SAFE_NO_PAD.encode(JsonWebKey::from(key).thumbprint::<Sha256>())
}

impl Keyset {
    /// A keyset with one fresh key.
    pub fn generate(master: &MasterKey, rng: &mut impl Entropy, now: u64) -> Self {
        let mut set = Self::default();
        set.push_new(master, rng, now);
        set
    }

    fn push_new(&mut self, master: &MasterKey, rng: &mut impl Entropy, now: u64) {
        let key = new_signing_key(rng);
        let kid = thumbprint(key.verifying_key());
        let sealed_d = master.secret_box(Purpose::SigningKey).seal(rng, &kid, &key.to_bytes());
        self.keys.push(StoredKey { kid, created_at: now, retired_at: None, sealed_d });
    }

    /// Retires the current key, adds a new one, and drops keys retired for longer than
    /// [`RETIRED_KEY_GRACE`].
    pub fn rotate(&mut self, master: &MasterKey, rng: &mut impl Entropy, now: u64) {
        for key in &mut self.keys {
            key.retired_at.get_or_insert(now);
        }
        self.keys.retain(|k| k.retired_at.is_none_or(|r| now < r + RETIRED_KEY_GRACE));
        self.push_new(master, rng, now);
    }

    /// Opens the keys still published at `now`.
    ///
    /// # Errors
    /// [`SealError`] when a key does not open under `master` (a wrong master key).
    pub fn open(&self, master: &MasterKey, now: u64) -> Result<OpenKeyset, SealError> {
        let sb = master.secret_box(Purpose::SigningKey);
        let mut keys = Vec::new();
        for stored in &self.keys {
            if stored.retired_at.is_some_and(|r| now >= r + RETIRED_KEY_GRACE) {
                continue;
            }
            let d = sb.open(&stored.kid, &stored.sealed_d)?;
            let key = SigningKey::from_slice(&d).map_err(|_| SealError)?;
            keys.push(OpenKey { kid: stored.kid.clone(), key, retired: stored.retired_at.is_some() });
        }
        Ok(OpenKeyset { keys })
    }
}

struct OpenKey {
    kid: String,
    key: SigningKey,
    retired: bool,
}

/// Keys ready to sign and verify.
pub struct OpenKeyset {
    keys: Vec<OpenKey>,
}

impl std::fmt::Debug for OpenKeyset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|k| k.kid.as_str()).collect();
        f.debug_struct("OpenKeyset").field("kids", &kids).finish()
    }
}

/// A JWT could not be made or did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    NoSigningKey,
    Malformed,
    UnknownKey,
    BadSignature,
    Expired,
}

/// Seconds since the epoch as the `chrono` time `jwt-compact` wants.
pub fn datetime(secs: u64) -> DateTime<Utc> {
    DateTime::from_timestamp(i64::try_from(secs).unwrap_or(i64::MAX), 0).unwrap_or_default()
}

/// `chrono` time back to seconds since the epoch (0 before the epoch).
pub fn unix(t: DateTime<Utc>) -> u64 {
    u64::try_from(t.timestamp()).unwrap_or(0)
}

impl OpenKeyset {
    /// The public keys, as the JWKS document (RFC 7517 section 5).
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self
            .keys
            .iter()
            .map(|k| {
                let point = k.key.verifying_key().to_encoded_point(false);
                let coord = |c: Option<&p256::FieldBytes>| c.map(|b| URL_SAFE_NO_PAD.encode(b)).unwrap_or_default();
                serde_json::json!({
                    "kty": "EC",
                    "crv": "P-256",
                    "x": coord(point.x()),
                    "y": coord(point.y()),
                    "kid": k.kid,
                    "use": "sig",
                    "alg": "ES256",
                })
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }

    /// The `kid` that signs now.
    pub fn current_kid(&self) -> Option<&str> {
        self.current().map(|k| k.kid.as_str())
    }

    fn current(&self) -> Option<&OpenKey> {
        self.keys.iter().rev().find(|k| !k.retired)
    }

    /// Signs `custom` with the current key, valid from `iat` until `exp`.
    ///
    /// # Errors
    /// [`JwtError::NoSigningKey`] when every key is retired; `Malformed` if the claims do
    /// not serialise.
    pub fn sign<T: Serialize>(&self, typ: &str, custom: T, iat: u64, exp: u64) -> Result<String, JwtError> {
        let key = self.current().ok_or(JwtError::NoSigningKey)?;
        let header = Header::empty().with_key_id(key.kid.clone()).with_token_type(typ);
        let mut claims = Claims::new(custom);
        claims.issued_at = Some(datetime(iat));
        claims.expiration = Some(datetime(exp));
        Es256.token(&header, &claims, &key.key).map_err(|_| JwtError::Malformed)
    }

    /// Verifies a token we signed (any published key) and that it has not expired at
    /// `now`; returns its custom claims and `exp`.
    ///
    /// # Errors
    /// [`JwtError`] saying why.
    pub fn verify<T: DeserializeOwned + Clone>(&self, token: &str, now: u64) -> Result<(T, u64), JwtError> {
        let untrusted = UntrustedToken::new(token).map_err(|_| JwtError::Malformed)?;
        if untrusted.algorithm() != "ES256" {
            return Err(JwtError::Malformed);
        }
        let kid = untrusted.header().key_id.as_deref().ok_or(JwtError::UnknownKey)?;
        let key = self.keys.iter().find(|k| k.kid == kid).ok_or(JwtError::UnknownKey)?;
        let token = Es256.validator::<T>(key.key.verifying_key()).validate(&untrusted).map_err(|_| JwtError::BadSignature)?;
        let exp = token.claims().expiration.map(unix).ok_or(JwtError::Expired)?;
        if now >= exp {
            return Err(JwtError::Expired);
        }
        Ok((token.claims().custom.clone(), exp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::TestEntropy;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Demo {
        sub: String,
    }

    #[test]
    fn sign_verify_and_rotation_grace() {
        let master = MasterKey::from_bytes([9; 32]);
        let mut rng = TestEntropy::new(1);
        let mut set = Keyset::generate(&master, &mut rng, 1000);
        let open = set.open(&master, 1000).unwrap();
        let old_kid = open.current_kid().unwrap().to_owned();
        let token = open.sign("JWT", Demo { sub: "u1".into() }, 1000, 1300).unwrap();
        let (claims, exp) = open.verify::<Demo>(&token, 1100).unwrap();
        assert_eq!((claims.sub.as_str(), exp), ("u1", 1300));
        assert_eq!(open.verify::<Demo>(&token, 1300), Err(JwtError::Expired));

        set.rotate(&master, &mut rng, 1200);
        let open = set.open(&master, 1200).unwrap();
        assert_ne!(open.current_kid().unwrap(), old_kid);
        // The old key is still published and still verifies.
        assert_eq!(open.jwks()["keys"].as_array().unwrap().len(), 2);
        assert!(open.verify::<Demo>(&token, 1250).is_ok());
        // After the grace period it is gone.
        let later = 1200 + RETIRED_KEY_GRACE;
        let open = set.open(&master, later).unwrap();
        assert_eq!(open.jwks()["keys"].as_array().unwrap().len(), 1);
        set.rotate(&master, &mut rng, later + 1);
        assert_eq!(set.keys.len(), 2, "the long-retired key is pruned");
    }

    #[test]
    fn tampered_and_foreign_tokens_fail() {
        let master = MasterKey::from_bytes([9; 32]);
        let mut rng = TestEntropy::new(2);
        let open = Keyset::generate(&master, &mut rng, 0).open(&master, 0).unwrap();
        let other = Keyset::generate(&master, &mut rng, 0).open(&master, 0).unwrap();
        let token = other.sign("JWT", Demo { sub: "x".into() }, 0, 100).unwrap();
        assert_eq!(open.verify::<Demo>(&token, 1), Err(JwtError::UnknownKey));
        let good = open.sign("JWT", Demo { sub: "x".into() }, 0, 100).unwrap();
        let mut parts: Vec<&str> = good.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"sub":"admin","exp":100}"#);
        parts[1] = &forged;
        assert_eq!(open.verify::<Demo>(&parts.join("."), 1), Err(JwtError::BadSignature));
        assert!(Keyset::generate(&master, &mut rng, 0).open(&MasterKey::from_bytes([1; 32]), 0).is_err());
    }

    #[test]
    fn jwks_has_no_private_parts() {
        let master = MasterKey::from_bytes([9; 32]);
        let mut rng = TestEntropy::new(3);
        let open = Keyset::generate(&master, &mut rng, 0).open(&master, 0).unwrap();
        let text = open.jwks().to_string();
        assert!(!text.contains("\"d\""));
        assert!(text.contains("\"kid\""));
    }
}
