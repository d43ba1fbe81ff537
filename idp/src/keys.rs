//! The provider's token-signing keys: each generation is an ES256 (P-256) key and an RS256
//! (RSA, 2048 bits) key, created on first use and rotated together on demand. ES256 signs
//! by default; an application may ask for RS256 ID tokens (OpenID Connect Core 15.1 requires
//! a provider to offer it). A rotated-out generation stays in the JWKS for
//! [`RETIRED_KEY_GRACE`] seconds, longer than any token we sign lives, so tokens signed just
//! before a rotation still verify.
//!
//! At rest (KV) the private keys are sealed with [`Purpose::SigningKey`], each bound to its
//! `kid`; [`Keyset`] is the stored form, [`OpenKeyset`] the usable one. A generation gets its
//! RSA key when an application first needs one ([`Keyset::add_missing_rsa`]), and keeps
//! having one across rotations.
//!
//! ES256 can also be signed and verified outside this crate (the worker uses the runtime's
//! WebCrypto, native code, instead of P-256 in wasm): [`OpenKeyset::unsigned_es256`] gives
//! what to sign and [`UnsignedToken::with_signature`] the token; [`OpenKeyset::presented_es256`]
//! splits a presented token and [`OpenKeyset::accept`] takes the verdict. The claims are
//! `jwt-compact`'s either way.

use crate::random::Entropy;
use crate::secretbox::{MasterKey, Purpose, SealError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use jwt_compact::alg::{Es256, Rsa};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{Algorithm, AlgorithmExt, AlgorithmSignature, Claims, Header, UntrustedToken};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{SigningKey, VerifyingKey};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::borrow::Cow;

/// Seconds a retired key is still published: the longest token lifetime plus a margin.
pub const RETIRED_KEY_GRACE: u64 = crate::claims::ACCESS_TOKEN_LIFETIME + 300;
/// Bits of the RSA keys (RFC 7518 3.3: 2048 or more).
pub const RSA_BITS: usize = 2048;

/// A JWS algorithm we sign with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlg {
    Es256,
    Rs256,
}

impl From<biopass_proto::admin::IdTokenAlg> for SigningAlg {
    fn from(alg: biopass_proto::admin::IdTokenAlg) -> Self {
        match alg {
            biopass_proto::admin::IdTokenAlg::Es256 => Self::Es256,
            biopass_proto::admin::IdTokenAlg::Rs256 => Self::Rs256,
        }
    }
}

impl SigningAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }
}

/// The RSA key of a generation, as stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRsaKey {
    pub kid: String,
    /// The PKCS#1 DER of the private key, sealed.
    pub sealed_der: String,
}

/// One key as stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredKey {
    pub kid: String,
    pub created_at: u64,
    #[serde(default)]
    pub retired_at: Option<u64>,
    /// The private scalar, sealed.
    pub sealed_d: String,
    /// The generation's RSA key (none in keysets stored before RSA keys existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsa: Option<StoredRsaKey>,
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

fn rsa_thumbprint(key: &RsaPublicKey) -> String {
    URL_SAFE_NO_PAD.encode(JsonWebKey::from(key).thumbprint::<Sha256>())
}

/// [`Entropy`] as the `rand_core` generator the RSA key generation draws primes from.
pub(crate) struct Rng<'a, E: Entropy>(pub(crate) &'a mut E);

impl<E: Entropy> rand_core::RngCore for Rng<'_, E> {
    fn next_u32(&mut self) -> u32 {
        u32::from_le_bytes(self.0.bytes::<4>())
    }
    fn next_u64(&mut self) -> u64 {
        u64::from_le_bytes(self.0.bytes::<8>())
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill(dest);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.0.fill(dest);
        Ok(())
    }
}

// `Entropy` is a cryptographically secure source by contract.
impl<E: Entropy> rand_core::CryptoRng for Rng<'_, E> {}

/// A new sealed RSA key; `None` only if generation or encoding failed (it does not for
/// [`RSA_BITS`] with a working generator).
fn new_rsa_key(master: &MasterKey, rng: &mut impl Entropy) -> Option<StoredRsaKey> {
    let key = RsaPrivateKey::new(&mut Rng(rng), RSA_BITS).ok()?;
    let kid = rsa_thumbprint(&key.to_public_key());
    let der = key.to_pkcs1_der().ok()?;
    let sealed_der = master.secret_box(Purpose::SigningKey).seal(rng, &kid, der.as_bytes());
    Some(StoredRsaKey { kid, sealed_der })
}

impl Keyset {
    /// A keyset with one fresh ES256 key. The RSA key of a generation is made when an
    /// application first needs it ([`Self::add_missing_rsa`]): generating one costs seconds
    /// of CPU, which the first sign-in after a deployment (a Cognito trigger with a budget of
    /// a few seconds) cannot wait for.
    pub fn generate(master: &MasterKey, rng: &mut impl Entropy, now: u64) -> Self {
        let mut set = Self::default();
        set.push_new(master, rng, now, false);
        set
    }

    fn push_new(&mut self, master: &MasterKey, rng: &mut impl Entropy, now: u64, with_rsa: bool) {
        let key = new_signing_key(rng);
        let kid = thumbprint(key.verifying_key());
        let sealed_d = master.secret_box(Purpose::SigningKey).seal(rng, &kid, &key.to_bytes());
        let rsa = if with_rsa { new_rsa_key(master, rng) } else { None };
        self.keys.push(StoredKey { kid, created_at: now, retired_at: None, sealed_d, rsa });
    }

    /// True when the signing generation has no RSA key (none was needed yet, or it was
    /// stored before RSA keys existed).
    pub fn lacks_rsa(&self) -> bool {
        self.keys.iter().rev().find(|k| k.retired_at.is_none()).is_some_and(|k| k.rsa.is_none())
    }

    /// Gives the signing generation an RSA key if it has none; whether it did.
    pub fn add_missing_rsa(&mut self, master: &MasterKey, rng: &mut impl Entropy) -> bool {
        match self.keys.iter_mut().rev().find(|k| k.retired_at.is_none()) {
            Some(current) if current.rsa.is_none() => {
                current.rsa = new_rsa_key(master, rng);
                current.rsa.is_some()
            }
            _ => false,
        }
    }

    /// Retires the current generation, adds a new one (with an RSA key when the retired one
    /// had one), and drops keys retired for longer than [`RETIRED_KEY_GRACE`].
    pub fn rotate(&mut self, master: &MasterKey, rng: &mut impl Entropy, now: u64) {
        let with_rsa = !self.keys.is_empty() && !self.lacks_rsa();
        for key in &mut self.keys {
            key.retired_at.get_or_insert(now);
        }
        self.keys.retain(|k| k.retired_at.is_none_or(|r| now < r + RETIRED_KEY_GRACE));
        self.push_new(master, rng, now, with_rsa);
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
            let rsa = match &stored.rsa {
                Some(r) => {
                    let der = sb.open(&r.kid, &r.sealed_der)?;
                    Some((r.kid.clone(), RsaPrivateKey::from_pkcs1_der(&der).map_err(|_| SealError)?))
                }
                None => None,
            };
            keys.push(OpenKey { kid: stored.kid.clone(), key, rsa, retired: stored.retired_at.is_some() });
        }
        Ok(OpenKeyset { keys })
    }
}

struct OpenKey {
    kid: String,
    key: SigningKey,
    /// The generation's RSA key and its `kid`.
    rsa: Option<(String, RsaPrivateKey)>,
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

/// An ES256 token before its signature: the signing input (`header.claims`, base64url) and
/// the `kid` of the key that must sign it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedToken {
    pub kid: String,
    pub signing_input: String,
}

impl UnsignedToken {
    /// The compact JWS with `signature`: ES256's `r || s`, 64 bytes (RFC 7518 3.4), which is
    /// also what WebCrypto's ECDSA answers.
    pub fn with_signature(&self, signature: &[u8]) -> String {
        format!("{}.{}", self.signing_input, URL_SAFE_NO_PAD.encode(signature))
    }
}

/// An ES256 token presented to us, under one of our keys, split for a signature check.
pub struct PresentedEs256<'t> {
    untrusted: UntrustedToken<'t>,
    pub kid: String,
    pub signing_input: &'t str,
}

impl PresentedEs256<'_> {
    pub fn signature(&self) -> &[u8] {
        self.untrusted.signature_bytes()
    }
}

/// An ES256 key as a JWK with its private part (RFC 7518 6.2), to import into WebCrypto.
/// `d` never appears in `Debug`.
pub struct Es256Jwk {
    pub kty: &'static str,
    pub crv: &'static str,
    pub x: String,
    pub y: String,
    pub d: String,
}

impl std::fmt::Debug for Es256Jwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Es256Jwk").field("x", &self.x).field("y", &self.y).field("d", &"<hidden>").finish()
    }
}

/// ES256 by name, signed afterwards: `jwt-compact` writes the header and claims, and the
/// signature it leaves empty is made by whoever holds the key.
struct Es256Later;

struct SignedLater;

impl AlgorithmSignature for SignedLater {
    fn try_from_slice(_: &[u8]) -> anyhow::Result<Self> {
        Ok(Self)
    }
    fn as_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&[])
    }
}

impl Algorithm for Es256Later {
    type SigningKey = ();
    type VerifyingKey = ();
    type Signature = SignedLater;
    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("ES256")
    }
    fn sign(&self, (): &(), _: &[u8]) -> SignedLater {
        SignedLater
    }
    fn verify_signature(&self, _: &SignedLater, (): &(), _: &[u8]) -> bool {
        false
    }
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
        let mut keys = Vec::new();
        for k in &self.keys {
            let point = k.key.verifying_key().to_encoded_point(false);
            let coord = |c: Option<&p256::FieldBytes>| c.map(|b| URL_SAFE_NO_PAD.encode(b)).unwrap_or_default();
            keys.push(serde_json::json!({
                "kty": "EC",
                "crv": "P-256",
                "x": coord(point.x()),
                "y": coord(point.y()),
                "kid": k.kid,
                "use": "sig",
                "alg": "ES256",
            }));
            if let Some((kid, rsa)) = &k.rsa {
                keys.push(serde_json::json!({
                    "kty": "RSA",
                    "n": URL_SAFE_NO_PAD.encode(rsa.n().to_bytes_be()),
                    "e": URL_SAFE_NO_PAD.encode(rsa.e().to_bytes_be()),
                    "kid": kid,
                    "use": "sig",
                    "alg": "RS256",
                }));
            }
        }
        serde_json::json!({ "keys": keys })
    }

    /// True when `alg` can sign now (RS256 needs the signing generation's RSA key).
    pub fn can_sign(&self, alg: SigningAlg) -> bool {
        match alg {
            SigningAlg::Es256 => self.current().is_some(),
            SigningAlg::Rs256 => self.current().is_some_and(|k| k.rsa.is_some()),
        }
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
        self.sign_with(SigningAlg::Es256, typ, custom, iat, exp)
    }

    /// Signs as [`Self::sign`] with `alg`.
    ///
    /// # Errors
    /// [`JwtError::NoSigningKey`] when no current key of `alg` exists.
    pub fn sign_with<T: Serialize>(&self, alg: SigningAlg, typ: &str, custom: T, iat: u64, exp: u64) -> Result<String, JwtError> {
        match alg {
            SigningAlg::Es256 => self.sign_unsigned(&self.unsigned_es256(typ, custom, iat, exp)?),
            SigningAlg::Rs256 => {
                let key = self.current().ok_or(JwtError::NoSigningKey)?;
                let mut claims = Claims::new(custom);
                claims.issued_at = Some(datetime(iat));
                claims.expiration = Some(datetime(exp));
                let (kid, rsa) = key.rsa.as_ref().ok_or(JwtError::NoSigningKey)?;
                let header = Header::empty().with_key_id(kid.clone()).with_token_type(typ);
                Rsa::rs256().token(&header, &claims, rsa).map_err(|_| JwtError::Malformed)
            }
        }
    }

    /// What an ES256 token of `custom`, valid from `iat` until `exp`, signs with the current
    /// key: the signature is made by the caller (see [`UnsignedToken::with_signature`]).
    ///
    /// # Errors
    /// [`JwtError::NoSigningKey`] when every key is retired; `Malformed` if the claims do
    /// not serialise.
    pub fn unsigned_es256<T: Serialize>(&self, typ: &str, custom: T, iat: u64, exp: u64) -> Result<UnsignedToken, JwtError> {
        let key = self.current().ok_or(JwtError::NoSigningKey)?;
        let mut claims = Claims::new(custom);
        claims.issued_at = Some(datetime(iat));
        claims.expiration = Some(datetime(exp));
        let header = Header::empty().with_key_id(key.kid.clone()).with_token_type(typ);
        let token = Es256Later.token(&header, &claims, &()).map_err(|_| JwtError::Malformed)?;
        let signing_input = token.strip_suffix('.').ok_or(JwtError::Malformed)?.to_owned();
        Ok(UnsignedToken { kid: key.kid.clone(), signing_input })
    }

    /// Signs `unsigned` with this crate's P-256 (what the worker does with WebCrypto).
    ///
    /// # Errors
    /// [`JwtError::UnknownKey`] when its key is not in the set.
    pub fn sign_unsigned(&self, unsigned: &UnsignedToken) -> Result<String, JwtError> {
        let key = self.keys.iter().find(|k| k.kid == unsigned.kid).ok_or(JwtError::UnknownKey)?;
        let signature: p256::ecdsa::Signature = key.key.sign(unsigned.signing_input.as_bytes());
        Ok(unsigned.with_signature(&signature.to_bytes()))
    }

    /// Whether the set holds the ES256 key `kid`.
    pub fn has_es256(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid == kid)
    }

    /// The ES256 key `kid` with its private part, to import into WebCrypto.
    pub fn es256_jwk(&self, kid: &str) -> Option<Es256Jwk> {
        let key = self.keys.iter().find(|k| k.kid == kid)?;
        let point = key.key.verifying_key().to_encoded_point(false);
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        Some(Es256Jwk { kty: "EC", crv: "P-256", x: b64(point.x()?), y: b64(point.y()?), d: b64(&key.key.to_bytes()) })
    }

    /// Splits `token` for a signature check made by the caller: it must be ES256 under one of
    /// our published keys.
    ///
    /// # Errors
    /// `Malformed` for something that is not an ES256 JWT; `UnknownKey` for a `kid` not ours.
    pub fn presented_es256<'t>(&self, token: &'t str) -> Result<PresentedEs256<'t>, JwtError> {
        let untrusted = UntrustedToken::new(token).map_err(|_| JwtError::Malformed)?;
        if untrusted.algorithm() != "ES256" {
            return Err(JwtError::Malformed);
        }
        let kid = untrusted.header().key_id.clone().ok_or(JwtError::UnknownKey)?;
        if !self.keys.iter().any(|k| k.kid == kid) {
            return Err(JwtError::UnknownKey);
        }
        let (signing_input, _) = token.rsplit_once('.').ok_or(JwtError::Malformed)?;
        Ok(PresentedEs256 { untrusted, kid, signing_input })
    }

    /// Checks `presented`'s signature with this crate's P-256 (what the worker does with
    /// WebCrypto).
    pub fn es256_signature_valid(&self, presented: &PresentedEs256<'_>) -> bool {
        let Some(key) = self.keys.iter().find(|k| k.kid == presented.kid) else { return false };
        let Ok(signature) = p256::ecdsa::Signature::from_slice(presented.signature()) else { return false };
        key.key.verifying_key().verify(presented.signing_input.as_bytes(), &signature).is_ok()
    }

    /// The claims and `exp` of `presented`, given the verdict on its signature
    /// (`signature_valid`), if it has not expired at `now`.
    ///
    /// # Errors
    /// `BadSignature` when the signature was refused; `Expired`; `Malformed` claims.
    pub fn accept<T: DeserializeOwned>(&self, presented: PresentedEs256<'_>, signature_valid: bool, now: u64) -> Result<(T, u64), JwtError> {
        if !signature_valid {
            return Err(JwtError::BadSignature);
        }
        let claims = presented.untrusted.deserialize_claims_unchecked::<T>().map_err(|_| JwtError::Malformed)?;
        let exp = claims.expiration.map(unix).ok_or(JwtError::Expired)?;
        if now >= exp {
            return Err(JwtError::Expired);
        }
        Ok((claims.custom, exp))
    }

    /// Verifies a token we signed (any published key) and that it has not expired at
    /// `now`; returns its custom claims and `exp`.
    ///
    /// # Errors
    /// [`JwtError`] saying why.
    pub fn verify<T: DeserializeOwned + Clone>(&self, token: &str, now: u64) -> Result<(T, u64), JwtError> {
        let untrusted = UntrustedToken::new(token).map_err(|_| JwtError::Malformed)?;
        let kid = untrusted.header().key_id.as_deref().ok_or(JwtError::UnknownKey)?;
        // The algorithm goes with the key: an ES256 kid verifies ES256 only, an RSA kid RS256.
        let token = match untrusted.algorithm() {
            "ES256" => {
                let key = self.keys.iter().find(|k| k.kid == kid).ok_or(JwtError::UnknownKey)?;
                Es256.validator::<T>(key.key.verifying_key()).validate(&untrusted).map_err(|_| JwtError::BadSignature)?
            }
            "RS256" => {
                let rsa = self.keys.iter().find_map(|k| k.rsa.as_ref().filter(|(id, _)| id == kid)).ok_or(JwtError::UnknownKey)?;
                Rsa::rs256().validator::<T>(&rsa.1.to_public_key()).validate(&untrusted).map_err(|_| JwtError::BadSignature)?
            }
            _ => return Err(JwtError::Malformed),
        };
        let exp = token.claims().expiration.map(unix).ok_or(JwtError::Expired)?;
        if now >= exp {
            return Err(JwtError::Expired);
        }
        Ok((token.claims().custom.clone(), exp))
    }
}

/// ES256 signatures one isolate made, remembered by SHA-256 of the key id and the signing
/// input (at most `capacity`; the oldest are forgotten first). A token presented with
/// exactly the signature made here over exactly that input, by a key still in the set, is
/// known valid without verifying it again: the common case of userinfo called with the
/// access token the same isolate just issued. Anything else is verified as before.
#[derive(Debug)]
pub struct SignedHere {
    capacity: usize,
    order: std::collections::VecDeque<[u8; 32]>,
    made: std::collections::HashMap<[u8; 32], [u8; 64]>,
}

impl SignedHere {
    pub fn new(capacity: usize) -> Self {
        Self { capacity, order: std::collections::VecDeque::new(), made: std::collections::HashMap::new() }
    }

    fn digest(kid: &str, signing_input: &str) -> [u8; 32] {
        use sha2::Digest;
        let mut h = Sha256::new();
        h.update(kid.as_bytes());
        h.update([0]);
        h.update(signing_input.as_bytes());
        h.finalize().into()
    }

    /// Remembers the signature made by `kid` over `signing_input` (ES256's 64 bytes; others
    /// are not remembered).
    pub fn remember(&mut self, kid: &str, signing_input: &str, signature: &[u8]) {
        let Ok(signature) = <[u8; 64]>::try_from(signature) else { return };
        if self.capacity == 0 {
            return;
        }
        let digest = Self::digest(kid, signing_input);
        if self.made.insert(digest, signature).is_none() {
            self.order.push_back(digest);
        }
        while self.order.len() > self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.made.remove(&oldest);
            }
        }
    }

    /// Whether this is a signature made here by `kid` over `signing_input`.
    pub fn made(&self, kid: &str, signing_input: &str, signature: &[u8]) -> bool {
        self.made.get(&Self::digest(kid, signing_input)).is_some_and(|s| s.as_slice() == signature)
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
    fn a_signature_made_here_is_known_for_its_key_and_input_only_and_the_oldest_are_forgotten() {
        let mut here = SignedHere::new(2);
        let (a, b, c) = ([1u8; 64], [2u8; 64], [3u8; 64]);
        here.remember("k1", "header.payload", &a);
        assert!(here.made("k1", "header.payload", &a));
        assert!(!here.made("k1", "header.payload", &b), "another signature over the same input");
        assert!(!here.made("k1", "header.payload2", &a), "the same signature over another input");
        assert!(!here.made("k2", "header.payload", &a), "another key");
        assert!(!here.made("k1", "header.payload", &a[..63]), "a cut signature");
        here.remember("k1", "short", &[9u8; 10]);
        assert!(!here.made("k1", "short", &[9u8; 10]), "only ES256's 64 bytes are remembered");
        here.remember("k1", "second", &b);
        here.remember("k1", "third", &c);
        assert!(!here.made("k1", "header.payload", &a), "the oldest is forgotten beyond the capacity");
        assert!(here.made("k1", "second", &b) && here.made("k1", "third", &c));
        let mut none = SignedHere::new(0);
        none.remember("k1", "x", &a);
        assert!(!none.made("k1", "x", &a));
    }

    #[test]
    fn es256_signed_and_checked_outside_matches_the_crate() {
        let master = MasterKey::from_bytes([9; 32]);
        let mut rng = TestEntropy::new(3);
        let open = Keyset::generate(&master, &mut rng, 1000).open(&master, 1000).unwrap();
        let unsigned = open.unsigned_es256("at+jwt", Demo { sub: "u1".into() }, 1000, 1300).unwrap();
        assert_eq!(unsigned.kid, open.current_kid().unwrap());
        assert_eq!(unsigned.signing_input.matches('.').count(), 1);
        // Signed afterwards, it is the token the crate itself verifies.
        let token = open.sign_unsigned(&unsigned).unwrap();
        assert_eq!(open.verify::<Demo>(&token, 1100).unwrap(), (Demo { sub: "u1".into() }, 1300));
        let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!((header["alg"].as_str(), header["typ"].as_str()), (Some("ES256"), Some("at+jwt")));
        // The other way: a token the crate signed, split and checked here.
        let signed = open.sign("JWT", Demo { sub: "u2".into() }, 1000, 1300).unwrap();
        let presented = open.presented_es256(&signed).unwrap();
        assert!(open.es256_signature_valid(&presented));
        assert_eq!(open.accept::<Demo>(presented, true, 1299).unwrap().0.sub, "u2");
        assert_eq!(open.accept::<Demo>(open.presented_es256(&signed).unwrap(), false, 1100), Err(JwtError::BadSignature));
        assert_eq!(open.accept::<Demo>(open.presented_es256(&signed).unwrap(), true, 1300), Err(JwtError::Expired));
        // A changed payload fails the check.
        let mut parts: Vec<&str> = signed.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"sub":"admin","exp":9999,"iat":0}"#);
        parts[1] = &forged;
        let forged = parts.join(".");
        assert!(!open.es256_signature_valid(&open.presented_es256(&forged).unwrap()));
        // The private JWK is the key: its public part is the JWKS's, and d stays out of Debug.
        let jwk = open.es256_jwk(&unsigned.kid).unwrap();
        assert_eq!(open.jwks()["keys"][0]["x"].as_str(), Some(jwk.x.as_str()));
        assert!(!format!("{jwk:?}").contains(&jwk.d));
        assert_eq!(URL_SAFE_NO_PAD.decode(&jwk.d).unwrap().len(), 32);
    }

    #[test]
    fn presented_tokens_must_be_es256_under_our_keys() {
        let master = MasterKey::from_bytes([9; 32]);
        let mut rng = TestEntropy::new(4);
        let mut set = Keyset::generate(&master, &mut rng, 0);
        set.add_missing_rsa(&master, &mut rng);
        let open = set.open(&master, 0).unwrap();
        let rs = open.sign_with(SigningAlg::Rs256, "JWT", Demo { sub: "x".into() }, 0, 100).unwrap();
        assert_eq!(open.presented_es256(&rs).err(), Some(JwtError::Malformed));
        let other = Keyset::generate(&master, &mut TestEntropy::new(5), 0).open(&master, 0).unwrap();
        let foreign = other.sign("JWT", Demo { sub: "x".into() }, 0, 100).unwrap();
        assert_eq!(open.presented_es256(&foreign).err(), Some(JwtError::UnknownKey));
        assert_eq!(open.presented_es256("not a token").err(), Some(JwtError::Malformed));
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
        // The old key is still published and still verifies (no RSA key was needed here).
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
    fn rs256_signs_with_the_generations_rsa_key_and_verifies_only_as_rs256() {
        let master = MasterKey::from_bytes([9; 32]);
        let mut rng = TestEntropy::new(4);
        let mut set = Keyset::generate(&master, &mut rng, 0);
        assert!(set.lacks_rsa(), "made when first needed");
        assert!(set.add_missing_rsa(&master, &mut rng));
        let open = set.open(&master, 0).unwrap();
        assert!(open.can_sign(SigningAlg::Rs256));
        let token = open.sign_with(SigningAlg::Rs256, "JWT", Demo { sub: "u1".into() }, 0, 100).unwrap();
        let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_ne!(header["kid"].as_str(), open.current_kid(), "the RSA key has a kid of its own");
        assert_eq!(open.verify::<Demo>(&token, 1).unwrap().0.sub, "u1");
        // The JWKS publishes it as an RSA key of 2048 bits with e = 65537.
        let jwks = open.jwks();
        let rsa = jwks["keys"].as_array().unwrap().iter().find(|k| k["kty"] == "RSA").unwrap();
        assert_eq!((rsa["alg"].as_str(), rsa["kid"].as_str()), (Some("RS256"), header["kid"].as_str()));
        assert_eq!(URL_SAFE_NO_PAD.decode(rsa["n"].as_str().unwrap()).unwrap().len(), RSA_BITS / 8);
        assert_eq!(rsa["e"], "AQAB");
        // An ES256 header on the RSA kid (or the reverse) is not a signature of ours.
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[0] = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"ES256","kid":"{}","typ":"JWT"}}"#, header["kid"].as_str().unwrap()));
        assert_eq!(open.verify::<Demo>(&parts.join("."), 1), Err(JwtError::UnknownKey));

        // Rotation replaces both; the old RSA key still verifies through the grace period.
        set.rotate(&master, &mut rng, 10);
        assert!(!set.lacks_rsa(), "a generation with an RSA key is followed by one");
        let open = set.open(&master, 10).unwrap();
        assert!(open.verify::<Demo>(&token, 11).is_ok());
        assert_eq!(open.jwks()["keys"].as_array().unwrap().len(), 4);
    }

    #[test]
    fn a_keyset_without_rsa_keys_gets_one_and_stays_readable() {
        let master = MasterKey::from_bytes([9; 32]);
        let mut rng = TestEntropy::new(5);
        let set = Keyset::generate(&master, &mut rng, 0);
        // As stored before RSA keys existed: no `rsa` field at all.
        let old = serde_json::to_value(&set).unwrap();
        assert!(old["keys"][0].get("rsa").is_none());
        let mut set: Keyset = serde_json::from_value(old).unwrap();
        assert!(set.lacks_rsa());
        assert!(!set.open(&master, 0).unwrap().can_sign(SigningAlg::Rs256));
        assert_eq!(set.open(&master, 0).unwrap().sign_with(SigningAlg::Rs256, "JWT", Demo { sub: "x".into() }, 0, 9), Err(JwtError::NoSigningKey));
        assert!(set.add_missing_rsa(&master, &mut rng));
        assert!(!set.lacks_rsa() && !set.add_missing_rsa(&master, &mut rng));
        assert!(set.open(&master, 0).unwrap().can_sign(SigningAlg::Rs256));
    }

    #[test]
    fn jwks_has_no_private_parts() {
        let master = MasterKey::from_bytes([9; 32]);
        let mut rng = TestEntropy::new(3);
        let open = Keyset::generate(&master, &mut rng, 0).open(&master, 0).unwrap();
        let text = open.jwks().to_string();
        for private in ["\"d\"", "\"p\"", "\"q\"", "\"dp\"", "\"dq\"", "\"qi\""] {
            assert!(!text.contains(private), "{private} in {text}");
        }
        assert!(text.contains("\"kid\""));
    }
}
