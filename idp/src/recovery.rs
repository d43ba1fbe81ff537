//! One-time recovery codes: the way in when a person's camera, phone or security key fails.
//!
//! [`COUNT`] codes are made at a person's first enrolment (and anew, replacing the old ones,
//! after they prove another authenticator). Each is [`LENGTH`] characters of Crockford's
//! base32 (50 random bits), shown once as `XXXXX-XXXXX`; only a keyed hash of each is kept
//! (HMAC-SHA256 under a key derived from the master secret, with the user's id), so a copy
//! of the store alone cannot test guesses offline. Using one removes it; the Vault makes the
//! use single even under concurrency (`crate::schema::VaultKey::RecoveryUsed`).

use crate::random::Entropy;
use crate::schema::hex;
use crate::secretbox::hmac_sha256;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// Codes made at a time.
pub const COUNT: usize = 10;
/// Characters in a code (dashes and spaces aside).
pub const LENGTH: usize = 10;
/// How long the Vault remembers a used code (far beyond the store's propagation of its
/// removal from the user's record).
pub const USED_MARK_LIFETIME: u64 = 400 * 24 * 3600;
/// The label the hashing key is derived from the master secret with.
pub const KEY_LABEL: &[u8] = b"biopass/recovery-code/v1";

/// Crockford's base32: digits and letters without I, L, O and U.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A user's recovery codes as stored: keyed hashes (hex) of the unused ones.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodes {
    pub hashes: Vec<String>,
    pub created_at: u64,
}

impl std::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecoveryCodes {{ left: {}, created_at: {} }}", self.hashes.len(), self.created_at)
    }
}

/// A code typed by a person, in its one spelling: upper case, no dashes or spaces, and the
/// letters people confuse with digits read as those digits (I and L as 1, O as 0).
#[derive(Clone, PartialEq, Eq)]
pub struct TypedCode(String);

impl TypedCode {
    /// `None` when it cannot be a code (wrong length, a character not in the alphabet).
    pub fn parse(input: &str) -> Option<Self> {
        let mut out = String::with_capacity(LENGTH);
        for c in input.chars().filter(|c| !c.is_whitespace() && *c != '-') {
            let c = match c.to_ascii_uppercase() {
                'I' | 'L' => '1',
                'O' => '0',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) || out.len() == LENGTH {
                return None;
            }
            out.push(c);
        }
        (out.len() == LENGTH).then_some(Self(out))
    }
}

/// The keyed hash of `code` for `user_id` (`key`: derived with [`KEY_LABEL`]).
pub fn hash(key: &[u8; 32], user_id: &str, code: &TypedCode) -> String {
    hex(&hmac_sha256(key, format!("{user_id}\n{}", code.0).as_bytes()))
}

/// [`COUNT`] new codes for `user_id`, as shown to the person (`XXXXX-XXXXX`), and what is
/// stored of them.
pub fn generate(rng: &mut impl Entropy, key: &[u8; 32], user_id: &str, now: u64) -> (Vec<String>, RecoveryCodes) {
    let mut shown = Vec::with_capacity(COUNT);
    let mut hashes = Vec::with_capacity(COUNT);
    while shown.len() < COUNT {
        // 5 bits per character from one random byte each (32 divides 256: no bias).
        let raw: String = rng.bytes::<LENGTH>().iter().map(|b| char::from(ALPHABET[usize::from(b % 32)])).collect();
        let typed = TypedCode(raw);
        let h = hash(key, user_id, &typed);
        if hashes.contains(&h) {
            continue;
        }
        hashes.push(h);
        shown.push(format!("{}-{}", &typed.0[..LENGTH / 2], &typed.0[LENGTH / 2..]));
    }
    (shown, RecoveryCodes { hashes, created_at: now })
}

impl RecoveryCodes {
    /// True if `hash` is one of the unused codes (compared in constant time, every one).
    pub fn contains(&self, hash: &str) -> bool {
        self.hashes.iter().fold(false, |found, h| found | bool::from(h.as_bytes().ct_eq(hash.as_bytes())))
    }

    /// Removes a used code; true if it was there.
    pub fn remove(&mut self, hash: &str) -> bool {
        let before = self.hashes.len();
        self.hashes.retain(|h| h != hash);
        self.hashes.len() != before
    }

    pub fn left(&self) -> usize {
        self.hashes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::TestEntropy;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn codes_are_distinct_well_formed_and_only_their_hashes_are_kept() {
        let (shown, stored) = generate(&mut TestEntropy::new(1), &KEY, "u1", 50);
        assert_eq!(shown.len(), COUNT);
        assert_eq!(stored.left(), COUNT);
        assert_eq!(stored.created_at, 50);
        for (code, h) in shown.iter().zip(&stored.hashes) {
            assert_eq!(code.len(), LENGTH + 1);
            assert_eq!(code.as_bytes()[5], b'-');
            let typed = TypedCode::parse(code).unwrap();
            assert_eq!(&hash(&KEY, "u1", &typed), h);
            assert!(stored.contains(h));
            assert!(h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "a keyed hash, in hex: {h}");
        }
        let distinct: std::collections::BTreeSet<_> = shown.iter().collect();
        assert_eq!(distinct.len(), COUNT);
        assert!(!format!("{stored:?}").contains(&stored.hashes[0]), "Debug shows no hash");
    }

    #[test]
    fn a_code_is_bound_to_its_user_and_key() {
        let (shown, stored) = generate(&mut TestEntropy::new(2), &KEY, "u1", 0);
        let typed = TypedCode::parse(&shown[0]).unwrap();
        assert!(!stored.contains(&hash(&KEY, "u2", &typed)), "another user's record");
        assert!(!stored.contains(&hash(&[8; 32], "u1", &typed)), "another deployment's key");
    }

    #[test]
    fn typing_is_forgiving_but_not_loose() {
        let a = TypedCode::parse("0123A-BCDEF").unwrap();
        assert!(TypedCode::parse(" 0123a bcdef ") == Some(a.clone()), "case and spaces");
        assert!(TypedCode::parse("o123abcdef") == Some(a), "O is read as 0");
        assert_eq!(TypedCode::parse("0I23ABCDEF").unwrap().0, "0123ABCDEF");
        assert_eq!(TypedCode::parse("0l23ABCDEF").unwrap().0, "0123ABCDEF");
        for bad in ["", "0123ABCDE", "0123ABCDEF0", "0123ABCDEU", "0123ABCDE!", "0123ABCDEé", "123456"] {
            assert!(TypedCode::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_used_code_is_removed_once() {
        let (shown, mut stored) = generate(&mut TestEntropy::new(3), &KEY, "u1", 0);
        let h = hash(&KEY, "u1", &TypedCode::parse(&shown[3]).unwrap());
        assert!(stored.remove(&h));
        assert!(!stored.contains(&h));
        assert!(!stored.remove(&h));
        assert_eq!(stored.left(), COUNT - 1);
    }
}
