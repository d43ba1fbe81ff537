//! Passkeys (WebAuthn Level 3 relying-party ceremonies, FIDO2 credentials): the checks of
//! a registration (§7.1) and of an authentication (§7.2), pure, on the bytes the browser
//! sent. Time, randomness and storage are the caller's (`biopass_service::login`): the
//! challenge is a one-time Vault entry, the signature counter a Vault counter.
//!
//! CBOR and COSE are read by `ciborium` and `coset` (Google's COSE library); signatures are
//! checked with `p256` (ES256), `ed25519-compact` (EdDSA) and `rsa` (RS256, Windows Hello).
//! The authenticator data's fixed layout (rpIdHash, flags, counter, attested credential
//! data) is read here. Attestation is not asked for (`attestation: "none"`): a statement
//! that comes anyway is not trusted, so nothing here says a key is in hardware.
//!
//! User verification is required in both ceremonies; the origin must be exactly the
//! issuer's; the RP ID is the issuer's host name.

use crate::schema::sha256_hex;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use coset::{iana, CborSerializable, CoseKey, KeyType, Label};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Cursor;

/// How long a ceremony's challenge lives, in seconds.
pub const CHALLENGE_TTL: u64 = 90;

/// The timeout the page passes to the browser, in milliseconds (less than the challenge's
/// life, so the browser gives up first and says so).
pub const CEREMONY_TIMEOUT_MS: u32 = 80_000;

/// Most credentials one user may have.
pub const MAX_PASSKEYS: usize = 10;

/// The longest credential id WebAuthn allows (§5.8.3: 1023 bytes).
const MAX_CREDENTIAL_ID: usize = 1023;

/// COSE algorithm identifiers this relying party accepts, most preferred first
/// (`pubKeyCredParams`).
pub const ALGORITHMS: [i64; 3] = [-7, -8, -257];

/// Why a ceremony is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasskeyRejection {
    /// The bytes are not what WebAuthn defines (not counted: no answer was given).
    Malformed(&'static str),
    /// `clientDataJSON.type` is not the ceremony's.
    WrongType,
    /// Not the challenge this ceremony issued.
    WrongChallenge,
    /// Made for another web origin (or inside another site's frame).
    WrongOrigin,
    /// The authenticator data is for another relying party.
    WrongRelyingParty,
    /// The person was not present or not verified (PIN or biometric).
    NotVerified,
    /// A key type or algorithm this relying party does not accept.
    UnsupportedAlgorithm,
    /// The signature does not verify with the credential's key.
    BadSignature,
    /// Not a credential of this user.
    UnknownCredential,
    /// The signature counter did not grow: the key may have been copied.
    CounterWentBack { stored: u32, received: u32 },
}

impl PasskeyRejection {
    /// What the person is told, in the language of `t`.
    pub fn message(&self, t: &biopass_i18n::Texts) -> &'static str {
        match self {
            Self::Malformed(_) => t.api_passkey_malformed,
            Self::WrongType | Self::WrongChallenge | Self::WrongOrigin | Self::WrongRelyingParty => t.api_passkey_not_for_this,
            Self::NotVerified => t.api_passkey_not_verified,
            Self::UnsupportedAlgorithm => t.api_passkey_algorithm,
            Self::BadSignature | Self::UnknownCredential => t.api_passkey_unknown,
            Self::CounterWentBack { .. } => t.api_passkey_copied,
        }
    }

    /// The audit log's name for a refusal that looks like an attack, if it is one.
    pub fn attack(&self) -> Option<&'static str> {
        match self {
            Self::Malformed(_) | Self::NotVerified | Self::UnsupportedAlgorithm => None,
            Self::WrongType => Some("passkey answer of another ceremony"),
            Self::WrongChallenge => Some("passkey answer to another challenge"),
            Self::WrongOrigin => Some("passkey answer made for another origin"),
            Self::WrongRelyingParty => Some("passkey of another relying party"),
            Self::BadSignature => Some("passkey signature does not verify"),
            Self::UnknownCredential => Some("passkey of another account"),
            Self::CounterWentBack { .. } => Some("passkey counter went back (cloned authenticator)"),
        }
    }

    /// True if the refusal counts toward the lock-out (an answer was given and was wrong).
    pub fn counts_as_failure(&self) -> bool {
        !matches!(self, Self::Malformed(_) | Self::NotVerified)
    }
}

type Checked<T> = Result<T, PasskeyRejection>;

/// What a ceremony expects: the relying party, the exact origin, the challenge it issued.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub rp_id: &'a str,
    pub origin: &'a str,
    /// The challenge as sent (base64url).
    pub challenge: &'a str,
}

/// The relying party of an issuer URL: its host name, or `None` when the host is an IP
/// address (WebAuthn needs a domain; `localhost` is one).
pub fn rp_id(issuer: &str) -> Option<String> {
    let url = url::Url::parse(issuer).ok()?;
    match url.host()? {
        url::Host::Domain(d) => Some(d.to_ascii_lowercase()),
        _ => None,
    }
}

/// The web origin of an issuer URL (`scheme://host[:port]`), which every ceremony's client
/// data must name exactly.
pub fn origin(issuer: &str) -> Option<String> {
    let url = url::Url::parse(issuer).ok()?;
    Some(url.origin().ascii_serialization())
}

/// Base64url without padding, as WebAuthn's JSON forms use it.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Reads a base64url field (padding tolerated).
///
/// # Errors
/// [`PasskeyRejection::Malformed`] naming the field.
pub fn unb64(text: &str, field: &'static str) -> Checked<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).map_err(|_| PasskeyRejection::Malformed(field))
}

/// The challenge a client data names (to find the ceremony it answers).
///
/// # Errors
/// [`PasskeyRejection::Malformed`] when it is not WebAuthn client data.
pub fn challenge_of(client_data_json: &[u8]) -> Checked<String> {
    Ok(client_data(client_data_json)?.challenge)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClientData {
    #[serde(rename = "type")]
    ty: String,
    challenge: String,
    origin: String,
    #[serde(default)]
    cross_origin: Option<bool>,
    #[serde(default)]
    top_origin: Option<String>,
}

fn client_data(bytes: &[u8]) -> Checked<ClientData> {
    serde_json::from_slice(bytes).map_err(|_| PasskeyRejection::Malformed("client_data_json"))
}

/// §7.1 steps 7-10 / §7.2 steps 11-14: type, challenge, origin, not inside another site.
fn check_client_data(bytes: &[u8], ty: &str, expected: &Expected<'_>) -> Checked<()> {
    let c = client_data(bytes)?;
    if c.ty != ty {
        return Err(PasskeyRejection::WrongType);
    }
    if !bool::from(subtle::ConstantTimeEq::ct_eq(c.challenge.as_bytes(), expected.challenge.as_bytes())) {
        return Err(PasskeyRejection::WrongChallenge);
    }
    if c.origin != expected.origin || c.cross_origin == Some(true) || c.top_origin.is_some_and(|t| t != expected.origin) {
        return Err(PasskeyRejection::WrongOrigin);
    }
    Ok(())
}

/// Authenticator data flags (§6.1).
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;

/// The authenticator data, read.
struct AuthData<'a> {
    rp_id_hash: &'a [u8],
    flags: u8,
    sign_count: u32,
    /// The attested credential data: credential id and its COSE public key.
    credential: Option<(Vec<u8>, CoseKey)>,
}

fn auth_data(bytes: &[u8]) -> Checked<AuthData<'_>> {
    let malformed = PasskeyRejection::Malformed("authenticator_data");
    if bytes.len() < 37 {
        return Err(malformed);
    }
    let (rp_id_hash, rest) = bytes.split_at(32);
    let flags = rest[0];
    let sign_count = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]);
    let rest = &rest[5..];
    let credential = if flags & AT != 0 {
        // aaguid (16), credentialIdLength (2, big-endian), credentialId, credentialPublicKey (COSE_Key in CBOR).
        if rest.len() < 18 {
            return Err(malformed);
        }
        let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
        if len == 0 || len > MAX_CREDENTIAL_ID || rest.len() < 18 + len {
            return Err(malformed);
        }
        let id = rest[18..18 + len].to_vec();
        let mut reader = Cursor::new(&rest[18 + len..]);
        let value: ciborium::Value = ciborium::de::from_reader(&mut reader).map_err(|_| PasskeyRejection::Malformed("credential public key"))?;
        let key = <CoseKey as coset::AsCborValue>::from_cbor_value(value).map_err(|_| PasskeyRejection::Malformed("credential public key"))?;
        Some((id, key))
    } else {
        None
    };
    Ok(AuthData { rp_id_hash, flags, sign_count, credential })
}

/// §7.1 steps 13-16 / §7.2 steps 15-17: the relying party's hash, the person present and verified.
fn check_auth_data(data: &AuthData<'_>, expected: &Expected<'_>) -> Checked<()> {
    let want = Sha256::digest(expected.rp_id.as_bytes());
    if !bool::from(subtle::ConstantTimeEq::ct_eq(data.rp_id_hash, &want[..])) {
        return Err(PasskeyRejection::WrongRelyingParty);
    }
    if data.flags & UP == 0 || data.flags & UV == 0 {
        return Err(PasskeyRejection::NotVerified);
    }
    Ok(())
}

/// A credential's public key as stored: its COSE_Key, re-encoded by `coset`, and its algorithm.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKey {
    pub alg: i64,
    /// The COSE_Key (RFC 9052 §7), base64url.
    pub cose: String,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey {{ alg: {} }}", self.alg)
    }
}

/// A key this relying party can verify with.
enum Verifier {
    Es256(p256::ecdsa::VerifyingKey),
    EdDsa(ed25519_compact::PublicKey),
    Rs256(rsa::RsaPublicKey),
}

fn param(key: &CoseKey, label: i64) -> Option<&[u8]> {
    key.params.iter().find(|(l, _)| *l == Label::Int(label)).and_then(|(_, v)| v.as_bytes()).map(Vec::as_slice)
}

fn int_param(key: &CoseKey, label: i64) -> Option<i128> {
    key.params.iter().find(|(l, _)| *l == Label::Int(label)).and_then(|(_, v)| v.as_integer()).map(i128::from)
}

/// The algorithm and verifier of a COSE key: EC2 P-256 with ES256, OKP Ed25519 with
/// EdDSA, RSA (2048 bits or more) with RS256. The key's `alg` must be present and match.
fn verifier(key: &CoseKey) -> Checked<(i64, Verifier)> {
    let unsupported = PasskeyRejection::UnsupportedAlgorithm;
    let alg = match &key.alg {
        Some(coset::Algorithm::Assigned(a)) => *a as i64,
        _ => return Err(unsupported),
    };
    match (&key.kty, alg) {
        (KeyType::Assigned(iana::KeyType::EC2), -7) => {
            if int_param(key, -1) != Some(iana::EllipticCurve::P_256 as i128) {
                return Err(unsupported);
            }
            let (x, y) = (param(key, -2).ok_or(unsupported.clone())?, param(key, -3).ok_or(unsupported.clone())?);
            if x.len() != 32 || y.len() != 32 {
                return Err(PasskeyRejection::Malformed("credential public key"));
            }
            let mut sec1 = Vec::with_capacity(65);
            sec1.push(4);
            sec1.extend_from_slice(x);
            sec1.extend_from_slice(y);
            let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| PasskeyRejection::Malformed("credential public key"))?;
            Ok((alg, Verifier::Es256(vk)))
        }
        (KeyType::Assigned(iana::KeyType::OKP), -8) => {
            if int_param(key, -1) != Some(iana::EllipticCurve::Ed25519 as i128) {
                return Err(unsupported);
            }
            let x = param(key, -2).ok_or(unsupported)?;
            let pk = ed25519_compact::PublicKey::from_slice(x).map_err(|_| PasskeyRejection::Malformed("credential public key"))?;
            Ok((alg, Verifier::EdDsa(pk)))
        }
        (KeyType::Assigned(iana::KeyType::RSA), -257) => {
            let (n, e) = (param(key, -1).ok_or(unsupported.clone())?, param(key, -2).ok_or(unsupported.clone())?);
            let pk = rsa::RsaPublicKey::new(rsa::BigUint::from_bytes_be(n), rsa::BigUint::from_bytes_be(e)).map_err(|_| unsupported.clone())?;
            if rsa::traits::PublicKeyParts::size(&pk) < 256 {
                return Err(unsupported);
            }
            Ok((alg, Verifier::Rs256(pk)))
        }
        _ => Err(unsupported),
    }
}

fn verify_signature(v: &Verifier, message: &[u8], signature: &[u8]) -> Checked<()> {
    let ok = match v {
        Verifier::Es256(vk) => {
            use p256::ecdsa::signature::Verifier as _;
            // WebAuthn's ES256 signatures are ASN.1 DER (§6.5.6).
            p256::ecdsa::Signature::from_der(signature).is_ok_and(|s| vk.verify(message, &s).is_ok())
        }
        Verifier::EdDsa(pk) => ed25519_compact::Signature::from_slice(signature).is_ok_and(|s| pk.verify(message, &s).is_ok()),
        Verifier::Rs256(pk) => pk.verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message), signature).is_ok(),
    };
    if ok {
        Ok(())
    } else {
        Err(PasskeyRejection::BadSignature)
    }
}

/// A credential a registration made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPasskey {
    pub credential_id: Vec<u8>,
    pub public_key: PublicKey,
    pub sign_count: u32,
    /// The credential may be synced to other devices (backup eligible) / is (backed up).
    pub backup_eligible: bool,
    pub backed_up: bool,
}

#[derive(Deserialize)]
struct AttestationObject {
    fmt: String,
    #[serde(rename = "authData", with = "serde_bytes_compat")]
    auth_data: Vec<u8>,
}

/// `ciborium` gives CBOR byte strings to `Vec<u8>` through this (a plain `Vec<u8>` would
/// ask for an array of integers).
mod serde_bytes_compat {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        match ciborium::Value::deserialize(d)? {
            ciborium::Value::Bytes(b) => Ok(b),
            _ => Err(serde::de::Error::custom("authData is not a byte string")),
        }
    }
}

/// §7.1: checks a registration (`navigator.credentials.create`'s response) against the
/// ceremony; the new credential. `credential_id` is the id the browser reported, which
/// must be the attested one.
///
/// # Errors
/// The first check that fails.
pub fn verify_registration(expected: &Expected<'_>, credential_id: &[u8], client_data_json: &[u8], attestation_object: &[u8]) -> Checked<NewPasskey> {
    check_client_data(client_data_json, "webauthn.create", expected)?;
    let att: AttestationObject = ciborium::de::from_reader(attestation_object).map_err(|_| PasskeyRejection::Malformed("attestation_object"))?;
    // Attestation is not asked for; any statement is accepted as no attestation (§7.1 step
    // 21 lets a relying party treat it so when it does not rely on it).
    if att.fmt.is_empty() {
        return Err(PasskeyRejection::Malformed("attestation_object"));
    }
    let data = auth_data(&att.auth_data)?;
    check_auth_data(&data, expected)?;
    let (id, key) = data.credential.as_ref().ok_or(PasskeyRejection::Malformed("attested credential data"))?;
    if id.as_slice() != credential_id {
        return Err(PasskeyRejection::Malformed("credential_id"));
    }
    let (alg, _) = verifier(key)?;
    let cose = key.clone().to_vec().map_err(|_| PasskeyRejection::Malformed("credential public key"))?;
    Ok(NewPasskey {
        credential_id: id.clone(),
        public_key: PublicKey { alg, cose: b64(&cose) },
        sign_count: data.sign_count,
        backup_eligible: data.flags & BE != 0,
        backed_up: data.flags & BS != 0,
    })
}

/// What an assertion proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asserted {
    pub sign_count: u32,
}

/// §7.2 steps 11-21: checks an assertion (`navigator.credentials.get`'s response) made with
/// `key` against the ceremony. The counter is checked by the caller with [`counter_ok`]
/// against the stored one, atomically.
///
/// # Errors
/// The first check that fails.
pub fn verify_assertion(expected: &Expected<'_>, key: &PublicKey, client_data_json: &[u8], authenticator_data: &[u8], signature: &[u8]) -> Checked<Asserted> {
    check_client_data(client_data_json, "webauthn.get", expected)?;
    let data = auth_data(authenticator_data)?;
    check_auth_data(&data, expected)?;
    let cose = unb64(&key.cose, "stored key")?;
    let cose = CoseKey::from_slice(&cose).map_err(|_| PasskeyRejection::Malformed("stored key"))?;
    let (alg, v) = verifier(&cose)?;
    if alg != key.alg {
        return Err(PasskeyRejection::UnsupportedAlgorithm);
    }
    let mut message = authenticator_data.to_vec();
    message.extend_from_slice(&Sha256::digest(client_data_json));
    verify_signature(&v, &message, signature)?;
    Ok(Asserted { sign_count: data.sign_count })
}

/// §7.2 step 22: a counter that the authenticator keeps must grow. Both zero: the
/// authenticator keeps none (many synced passkeys), which is allowed.
///
/// # Errors
/// [`PasskeyRejection::CounterWentBack`].
pub fn counter_ok(stored: u32, received: u32) -> Checked<()> {
    if (stored != 0 || received != 0) && received <= stored {
        Err(PasskeyRejection::CounterWentBack { stored, received })
    } else {
        Ok(())
    }
}

/// The stable short name of a credential id (Vault keys, audit entries): its SHA-256, hex.
pub fn credential_tag(credential_id: &[u8]) -> String {
    sha256_hex(&b64(credential_id))
}

/// A ceremony's challenge as the Vault keeps it until it is answered (once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedPasskeyChallenge {
    /// The transaction it belongs to (hashed).
    pub transaction: String,
    pub purpose: biopass_proto::login::FacePurpose,
    pub expires_at: u64,
}

/// A software authenticator for tests (this crate's and the service's): a P-256 key, a
/// credential id and a signature counter, making the bytes a browser would send.
#[cfg(any(test, feature = "testing"))]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub mod soft {
    use super::{b64, iana, CborSerializable, Sha256};
    use coset::CoseKeyBuilder;
    use p256::ecdsa::signature::Signer;
    use sha2::Digest;

    pub const UP: u8 = super::UP;
    pub const UV: u8 = super::UV;
    pub const AT: u8 = super::AT;

    /// A software authenticator: a P-256 key, a credential id and a counter.
    pub struct SoftKey {
        pub key: p256::ecdsa::SigningKey,
        pub id: Vec<u8>,
        pub count: u32,
    }

    impl SoftKey {
        pub fn new(seed: u8) -> Self {
            Self { key: p256::ecdsa::SigningKey::from_slice(&[seed.max(1); 32]).unwrap(), id: vec![seed; 16], count: 0 }
        }

        fn cose(&self) -> Vec<u8> {
            let point = self.key.verifying_key().to_encoded_point(false);
            CoseKeyBuilder::new_ec2_pub_key(iana::EllipticCurve::P_256, point.x().unwrap().to_vec(), point.y().unwrap().to_vec())
                .algorithm(iana::Algorithm::ES256)
                .build()
                .to_vec()
                .unwrap()
        }

        pub fn auth_data(&self, rp: &str, flags: u8, attested: bool) -> Vec<u8> {
            let mut d = Sha256::digest(rp.as_bytes()).to_vec();
            d.push(flags | if attested { AT } else { 0 });
            d.extend_from_slice(&self.count.to_be_bytes());
            if attested {
                d.extend_from_slice(&[0; 16]);
                d.extend_from_slice(&u16::try_from(self.id.len()).unwrap().to_be_bytes());
                d.extend_from_slice(&self.id);
                d.extend_from_slice(&self.cose());
            }
            d
        }

        pub fn client_data(ty: &str, challenge: &str, origin: &str) -> Vec<u8> {
            serde_json::to_vec(&serde_json::json!({"type": ty, "challenge": challenge, "origin": origin, "crossOrigin": false})).unwrap()
        }

        pub fn attestation(&self, rp: &str, flags: u8) -> Vec<u8> {
            let value = ciborium::Value::Map(vec![
                (ciborium::Value::Text("fmt".into()), ciborium::Value::Text("none".into())),
                (ciborium::Value::Text("attStmt".into()), ciborium::Value::Map(vec![])),
                (ciborium::Value::Text("authData".into()), ciborium::Value::Bytes(self.auth_data(rp, flags, true))),
            ]);
            let mut out = Vec::new();
            ciborium::ser::into_writer(&value, &mut out).unwrap();
            out
        }

        pub fn sign(&self, auth_data: &[u8], client_data: &[u8]) -> Vec<u8> {
            let mut m = auth_data.to_vec();
            m.extend_from_slice(&Sha256::digest(client_data));
            let s: p256::ecdsa::Signature = self.key.sign(&m);
            s.to_der().as_bytes().to_vec()
        }
    }

    impl SoftKey {
        /// The browser's registration for `challenge` (credential id, client data,
        /// attestation object; base64url).
        pub fn register(&self, rp: &str, origin: &str, challenge: &str) -> (String, String, String) {
            let cd = Self::client_data("webauthn.create", challenge, origin);
            (b64(&self.id), b64(&cd), b64(&self.attestation(rp, UP | UV)))
        }

        /// The browser's assertion for `challenge` (client data, authenticator data,
        /// signature; base64url), with the counter as it is now.
        pub fn assert(&self, rp: &str, origin: &str, challenge: &str) -> (String, String, String) {
            let cd = Self::client_data("webauthn.get", challenge, origin);
            let ad = self.auth_data(rp, UP | UV, false);
            let sig = self.sign(&ad, &cd);
            (b64(&cd), b64(&ad), b64(&sig))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::soft::{SoftKey, UP, UV};
    use super::*;
    use coset::CoseKeyBuilder;

    const RP: &str = "login.example.com";
    const ORIGIN: &str = "https://login.example.com";

    fn expected(challenge: &str) -> Expected<'_> {
        Expected { rp_id: RP, origin: ORIGIN, challenge }
    }

    fn registered(k: &SoftKey) -> NewPasskey {
        let cd = SoftKey::client_data("webauthn.create", "c1", ORIGIN);
        verify_registration(&expected("c1"), &k.id, &cd, &k.attestation(RP, UP | UV)).unwrap()
    }

    #[test]
    fn a_registration_gives_the_credential_and_its_key() {
        let k = SoftKey::new(3);
        let p = registered(&k);
        assert_eq!(p.credential_id, k.id);
        assert_eq!(p.public_key.alg, -7);
        assert!(!p.backup_eligible);
    }

    #[test]
    fn a_registration_is_refused_for_each_broken_rule() {
        let k = SoftKey::new(3);
        let att = k.attestation(RP, UP | UV);
        let cd = |ty, ch, o| SoftKey::client_data(ty, ch, o);
        let e = expected("c1");
        assert_eq!(verify_registration(&e, &k.id, &cd("webauthn.get", "c1", ORIGIN), &att), Err(PasskeyRejection::WrongType));
        assert_eq!(verify_registration(&e, &k.id, &cd("webauthn.create", "c2", ORIGIN), &att), Err(PasskeyRejection::WrongChallenge));
        assert_eq!(verify_registration(&e, &k.id, &cd("webauthn.create", "c1", "https://evil.example"), &att), Err(PasskeyRejection::WrongOrigin));
        assert_eq!(verify_registration(&e, &k.id, &cd("webauthn.create", "c1", "http://login.example.com"), &att), Err(PasskeyRejection::WrongOrigin));
        let good = cd("webauthn.create", "c1", ORIGIN);
        assert_eq!(verify_registration(&e, &k.id, &good, &k.attestation("evil.example", UP | UV)), Err(PasskeyRejection::WrongRelyingParty));
        assert_eq!(verify_registration(&e, &k.id, &good, &k.attestation(RP, UP)), Err(PasskeyRejection::NotVerified));
        assert!(matches!(verify_registration(&e, &[9; 16], &good, &att), Err(PasskeyRejection::Malformed(_))));
        assert!(matches!(verify_registration(&e, &k.id, &good, b"\xa0"), Err(PasskeyRejection::Malformed(_))));
        assert!(matches!(verify_registration(&e, &k.id, b"{", &att), Err(PasskeyRejection::Malformed(_))));
        let framed = serde_json::to_vec(&serde_json::json!({"type": "webauthn.create", "challenge": "c1", "origin": ORIGIN, "crossOrigin": true})).unwrap();
        assert_eq!(verify_registration(&e, &k.id, &framed, &att), Err(PasskeyRejection::WrongOrigin));
    }

    #[test]
    fn an_assertion_verifies_and_each_broken_rule_is_refused() {
        let mut k = SoftKey::new(5);
        let key = registered(&k).public_key;
        k.count = 7;
        let ad = k.auth_data(RP, UP | UV, false);
        let cd = SoftKey::client_data("webauthn.get", "c9", ORIGIN);
        let sig = k.sign(&ad, &cd);
        let e = expected("c9");
        assert_eq!(verify_assertion(&e, &key, &cd, &ad, &sig), Ok(Asserted { sign_count: 7 }));
        // Another challenge, origin, type, RP; not verified; a signature by another key.
        assert_eq!(verify_assertion(&expected("c8"), &key, &cd, &ad, &sig), Err(PasskeyRejection::WrongChallenge));
        let other = SoftKey::client_data("webauthn.get", "c9", "https://login.example.com:8443");
        assert_eq!(verify_assertion(&e, &key, &other, &ad, &k.sign(&ad, &other)), Err(PasskeyRejection::WrongOrigin));
        let create = SoftKey::client_data("webauthn.create", "c9", ORIGIN);
        assert_eq!(verify_assertion(&e, &key, &create, &ad, &k.sign(&ad, &create)), Err(PasskeyRejection::WrongType));
        let wrong_rp = k.auth_data("example.com", UP | UV, false);
        assert_eq!(verify_assertion(&e, &key, &cd, &wrong_rp, &k.sign(&wrong_rp, &cd)), Err(PasskeyRejection::WrongRelyingParty));
        let no_uv = k.auth_data(RP, UP, false);
        assert_eq!(verify_assertion(&e, &key, &cd, &no_uv, &k.sign(&no_uv, &cd)), Err(PasskeyRejection::NotVerified));
        let thief = SoftKey::new(6);
        assert_eq!(verify_assertion(&e, &key, &cd, &ad, &thief.sign(&ad, &cd)), Err(PasskeyRejection::BadSignature));
        // The signature covers the client data and the authenticator data.
        let mut tampered = ad.clone();
        tampered[36] ^= 1;
        assert_eq!(verify_assertion(&e, &key, &cd, &tampered, &sig), Err(PasskeyRejection::BadSignature));
        assert_eq!(verify_assertion(&e, &key, &cd, &ad, b"not der"), Err(PasskeyRejection::BadSignature));
    }

    #[test]
    fn counters_must_grow_unless_the_authenticator_keeps_none() {
        assert!(counter_ok(0, 0).is_ok());
        assert!(counter_ok(0, 1).is_ok());
        assert!(counter_ok(4, 5).is_ok());
        assert_eq!(counter_ok(5, 5), Err(PasskeyRejection::CounterWentBack { stored: 5, received: 5 }));
        assert_eq!(counter_ok(5, 0), Err(PasskeyRejection::CounterWentBack { stored: 5, received: 0 }));
    }

    #[test]
    fn ed25519_and_unsupported_keys() {
        let kp = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([7; 32]));
        let cose = CoseKeyBuilder::new_okp_key()
            .param(-1, ciborium::Value::from(6))
            .param(-2, ciborium::Value::Bytes(kp.pk.to_vec()))
            .algorithm(iana::Algorithm::EdDSA)
            .build();
        let key = PublicKey { alg: -8, cose: b64(&cose.clone().to_vec().unwrap()) };
        let k = SoftKey::new(1);
        let ad = k.auth_data(RP, UP | UV, false);
        let cd = SoftKey::client_data("webauthn.get", "c", ORIGIN);
        let mut m = ad.clone();
        m.extend_from_slice(&Sha256::digest(&cd));
        let sig = kp.sk.sign(&m, None);
        assert!(verify_assertion(&expected("c"), &key, &cd, &ad, sig.as_ref()).is_ok());
        // A P-384 key, or a key without its algorithm, is not accepted.
        let p384 = CoseKeyBuilder::new_ec2_pub_key(iana::EllipticCurve::P_384, vec![1; 48], vec![2; 48]).algorithm(iana::Algorithm::ES384).build();
        assert_eq!(verifier(&p384).err(), Some(PasskeyRejection::UnsupportedAlgorithm));
        let mut no_alg = cose;
        no_alg.alg = None;
        assert_eq!(verifier(&no_alg).err(), Some(PasskeyRejection::UnsupportedAlgorithm));
    }

    #[test]
    fn rs256_keys_of_windows_hello_verify() {
        use rsa::traits::PublicKeyParts;
        let mut entropy = crate::random::TestEntropy::new(4);
        let private = rsa::RsaPrivateKey::new(&mut crate::keys::Rng(&mut entropy), 2048).unwrap();
        let public = private.to_public_key();
        let cose = CoseKey {
            kty: KeyType::Assigned(iana::KeyType::RSA),
            alg: Some(coset::Algorithm::Assigned(iana::Algorithm::RS256)),
            params: vec![
                (Label::Int(-1), ciborium::Value::Bytes(public.n().to_bytes_be())),
                (Label::Int(-2), ciborium::Value::Bytes(public.e().to_bytes_be())),
            ],
            ..Default::default()
        };
        let key = PublicKey { alg: -257, cose: b64(&cose.to_vec().unwrap()) };
        let ad = SoftKey::new(1).auth_data(RP, UP | UV, false);
        let cd = SoftKey::client_data("webauthn.get", "c", ORIGIN);
        let mut m = ad.clone();
        m.extend_from_slice(&Sha256::digest(&cd));
        let sig = private.sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(&m)).unwrap();
        assert!(verify_assertion(&expected("c"), &key, &cd, &ad, &sig).is_ok());
        assert_eq!(verify_assertion(&expected("c"), &key, &cd, &ad, &sig[1..]), Err(PasskeyRejection::BadSignature));
    }

    #[test]
    fn relying_party_and_origin_of_an_issuer() {
        assert_eq!(rp_id("https://Login.Example.com/").as_deref(), Some("login.example.com"));
        assert_eq!(rp_id("http://localhost:8787").as_deref(), Some("localhost"));
        assert_eq!(rp_id("http://127.0.0.1:8787"), None);
        assert_eq!(origin("http://localhost:8787").as_deref(), Some("http://localhost:8787"));
        assert_eq!(origin("https://login.example.com/").as_deref(), Some("https://login.example.com"));
    }

    #[test]
    fn garbage_never_panics() {
        let e = expected("c");
        for n in 0..80 {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + n) as u8).collect();
            let _ = verify_registration(&e, &bytes, &bytes, &bytes);
            let _ = auth_data(&bytes);
        }
        let mut k = SoftKey::new(2);
        let mut att = k.auth_data(RP, UP | UV, true);
        for cut in 0..att.len() {
            let _ = auth_data(&att[..cut]);
        }
        att.truncate(40);
        k.count = 1;
        assert!(auth_data(&att).is_err());
    }
}
