//! Encryption at rest: AES-256-GCM under keys derived from the worker's master secret.
//!
//! Each purpose (client secrets, TOTP seeds, signing keys, face templates) gets its own
//! key, `HMAC-SHA256(master, purpose)`, and every sealed value is bound to the record it
//! belongs to through the associated data, so a ciphertext copied to another record does
//! not open.

use crate::random::Entropy;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

/// What a derived key is for. The label is part of the derivation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    ClientSecret,
    TotpSeed,
    SigningKey,
    FaceTemplate,
    /// A passkey's public key: not secret, sealed so it is bound to its user's record.
    PasskeyKey,
    /// A pushed authorization request, sealed into its own `request_uri` (RFC 9126 2.2).
    PushedRequest,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Self::ClientSecret => b"biopass/client-secret/v1",
            Self::TotpSeed => b"biopass/totp-seed/v1",
            Self::SigningKey => b"biopass/signing-key/v1",
            Self::FaceTemplate => b"biopass/face-template/v1",
            Self::PasskeyKey => b"biopass/passkey-key/v1",
            Self::PushedRequest => b"biopass/pushed-request/v1",
        }
    }
}

/// Opening failed: wrong key, wrong record, or tampered data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealError;

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sealed value does not open")
    }
}

impl std::error::Error for SealError {}

/// The 256-bit master secret (worker secret `BIOPASS_MASTER_KEY`, base64).
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<hidden>)")
    }
}

impl MasterKey {
    /// Parses the base64 (standard or url-safe) encoding of 32 bytes.
    pub fn parse(encoded: &str) -> Option<Self> {
        let s = encoded.trim();
        let bytes = STANDARD.decode(s).or_else(|_| URL_SAFE_NO_PAD.decode(s)).ok()?;
        <[u8; 32]>::try_from(bytes.as_slice()).ok().map(Self)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key for one purpose.
    pub fn secret_box(&self, purpose: Purpose) -> SecretBox {
        SecretBox { cipher: Aes256Gcm::new(&self.derive(purpose.label()).into()) }
    }

    /// `HMAC-SHA256(master, label)`: also used for keyed hashes of lookup values.
    pub fn derive(&self, label: &[u8]) -> [u8; 32] {
        hmac_sha256(&self.0, label)
    }
}

/// HMAC-SHA256 of `message` under `key` (RFC 2104: keys longer than the 64-byte block are
/// hashed first, shorter ones zero-padded, which is what the fixed-size constructor does).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&block.into());
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// An AES-256-GCM key for one purpose.
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(<hidden>)")
    }
}

impl SecretBox {
    /// Encrypts `plaintext` bound to `record` (e.g. the client ID), as base64url of
    /// `nonce || ciphertext || tag`.
    pub fn seal(&self, rng: &mut impl Entropy, record: &str, plaintext: &[u8]) -> String {
        let nonce = rng.bytes::<12>();
        let payload = Payload { msg: plaintext, aad: record.as_bytes() };
        // Encryption only fails for inputs over 64 GiB.
        let ct = self.cipher.encrypt(&Nonce::from(nonce), payload).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// Decrypts what [`SecretBox::seal`] made for the same `record`.
    ///
    /// # Errors
    /// [`SealError`] when the value is malformed, was sealed for another record or
    /// purpose, or was tampered with.
    pub fn open(&self, record: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let raw = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| SealError)?;
        if raw.len() < 12 + 16 {
            return Err(SealError);
        }
        let (nonce, ct) = raw.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| SealError)?;
        let payload = Payload { msg: ct, aad: record.as_bytes() };
        self.cipher.decrypt(&Nonce::from(nonce), payload).map_err(|_| SealError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::TestEntropy;

    #[test]
    fn seal_open_round_trip_and_binding() {
        let master = MasterKey::from_bytes([7; 32]);
        let b = master.secret_box(Purpose::ClientSecret);
        let mut rng = TestEntropy::new(3);
        let sealed = b.seal(&mut rng, "client-a", b"s3cret");
        assert!(!sealed.contains("s3cret"));
        assert_eq!(b.open("client-a", &sealed).unwrap(), b"s3cret");
        assert_eq!(b.open("client-b", &sealed), Err(SealError));
        let other = master.secret_box(Purpose::TotpSeed);
        assert_eq!(other.open("client-a", &sealed), Err(SealError));
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(b.open("client-a", std::str::from_utf8(&tampered).unwrap()).is_err());
        assert!(b.open("client-a", "short").is_err());
    }

    #[test]
    fn master_key_parsing() {
        assert!(MasterKey::parse(&STANDARD.encode([1u8; 32])).is_some());
        assert!(MasterKey::parse(&URL_SAFE_NO_PAD.encode([1u8; 32])).is_some());
        assert!(MasterKey::parse(&STANDARD.encode([1u8; 31])).is_none());
        assert!(MasterKey::parse("not base64!").is_none());
        assert_eq!(format!("{:?}", MasterKey::from_bytes([1; 32])), "MasterKey(<hidden>)");
    }
}
