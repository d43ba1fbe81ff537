//! Client authentication at the token and PAR endpoints (RFC 6749 2.3, OpenID Connect
//! Core 9, RFC 7523): `client_secret_basic`, `client_secret_post`, `client_secret_jwt`,
//! `private_key_jwt` and `none`.
//!
//! [`Presented::extract`] reads what the request carries; [`authenticate`] checks it
//! against the registration. Assertion `jti`s must be recorded by the caller (exactly once,
//! in a Durable Object) until the assertion's `exp`.

use crate::error::OAuthError;
use crate::ids::ClientId;
use crate::keys::unix;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use biopass_proto::admin::ClientAuthMethod;
use jwt_compact::alg::{Ed25519, Es256, Hs256, Hs256Key, Rsa};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{AlgorithmExt, UntrustedToken};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// The credentials of an `Authorization` header of `scheme`: schemes are case-insensitive
/// (RFC 7235 2.1), `BEARER x` is `Bearer x`. `None` for another scheme or no credentials.
pub fn credentials<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = header.trim_start().split_once(' ')?;
    let rest = rest.trim();
    (given.eq_ignore_ascii_case(scheme) && !rest.is_empty()).then_some(rest)
}

/// RFC 7523 2.2.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The longest assertion lifetime we accept, which bounds how long a `jti` is remembered:
/// an hour, what common RP libraries put in `exp` by default (Authlib: `iat + 3600`).
pub const MAX_ASSERTION_LIFETIME: u64 = 3600;
/// Clock skew tolerated on assertion times.
pub const CLOCK_SKEW: u64 = 30;

/// What the client presented.
#[derive(Clone, PartialEq, Eq)]
pub enum Presented {
    Basic { client_id: String, secret: String },
    Post { client_id: String, secret: String },
    Assertion { client_id: Option<String>, assertion: String },
    None { client_id: String },
}

impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Presented::{}({:?})", self.method_name(), self.claimed_client_id())
    }
}

/// The form parameters that carry client credentials.
#[derive(Debug, Default, Clone)]
pub struct CredentialParams<'a> {
    pub client_id: Option<&'a str>,
    pub client_secret: Option<&'a str>,
    pub client_assertion_type: Option<&'a str>,
    pub client_assertion: Option<&'a str>,
}

fn percent_decode(s: &str) -> Option<String> {
    // RFC 6749 2.3.1: id and secret are form-urlencoded before Basic encoding.
    let decoded: String = url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned())?;
    Some(decoded)
}

impl Presented {
    /// Reads the credentials of a request from its `Authorization` header and form.
    ///
    /// # Errors
    /// `invalid_request` when more than one method is used or the header is malformed;
    /// `invalid_client` when nothing identifies the client.
    pub fn extract(authorization: Option<&str>, form: &CredentialParams<'_>) -> Result<Self, OAuthError> {
        let assertion_present = form.client_assertion.is_some() || form.client_assertion_type.is_some();
        if let Some(header) = authorization {
            if form.client_secret.is_some() || assertion_present {
                return Err(OAuthError::invalid_request("use only one client authentication method"));
            }
            let encoded = credentials(header, "Basic").ok_or_else(|| OAuthError::invalid_client("unsupported Authorization scheme"))?;
            let raw = STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
            let (id, secret) = raw.split_once(':').ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
            let client_id = percent_decode(id).ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
            let secret = percent_decode(secret).ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
            if form.client_id.is_some_and(|f| f != client_id) {
                return Err(OAuthError::invalid_request("client_id does not match the Authorization header"));
            }
            return Ok(Self::Basic { client_id, secret });
        }
        if assertion_present {
            if form.client_secret.is_some() {
                return Err(OAuthError::invalid_request("use only one client authentication method"));
            }
            if form.client_assertion_type != Some(JWT_BEARER_ASSERTION) {
                return Err(OAuthError::invalid_request(format!("client_assertion_type must be {JWT_BEARER_ASSERTION}")));
            }
            let assertion = form.client_assertion.ok_or_else(|| OAuthError::invalid_request("client_assertion is missing"))?;
            return Ok(Self::Assertion { client_id: form.client_id.map(str::to_owned), assertion: assertion.to_owned() });
        }
        let client_id = form.client_id.ok_or_else(|| OAuthError::invalid_client("client authentication is required"))?.to_owned();
        Ok(match form.client_secret {
            Some(secret) => Self::Post { client_id, secret: secret.to_owned() },
            None => Self::None { client_id },
        })
    }

    /// The client the request claims to be; for an assertion without `client_id`, its `sub`
    /// (unverified: only used to find the registration, then checked).
    pub fn claimed_client_id(&self) -> Option<String> {
        match self {
            Self::Basic { client_id, .. } | Self::Post { client_id, .. } | Self::None { client_id } => Some(client_id.clone()),
            Self::Assertion { client_id: Some(id), .. } => Some(id.clone()),
            Self::Assertion { client_id: None, assertion } => {
                UntrustedToken::new(assertion).ok().and_then(|t| t.deserialize_claims_unchecked::<AssertionClaims>().ok()).map(|c| c.custom.sub)
            }
        }
    }

    /// True when the credentials came in the `Authorization` header (a failure then needs
    /// `WWW-Authenticate`, RFC 6749 5.2).
    pub fn used_authorization_header(&self) -> bool {
        matches!(self, Self::Basic { .. })
    }

    fn method_name(&self) -> &'static str {
        match self {
            Self::Basic { .. } => "client_secret_basic",
            Self::Post { .. } => "client_secret_post",
            Self::Assertion { .. } => "jwt",
            Self::None { .. } => "none",
        }
    }
}

/// How a registered client authenticates, with what it needs to check the credentials.
pub struct Registration<'a> {
    pub client_id: &'a ClientId,
    /// The "Client authentication" checkbox; when false the client is public (`none`).
    pub client_authentication: bool,
    pub method: ClientAuthMethod,
    /// The client secret, opened from storage.
    pub secret: &'a str,
    /// The registered public JWK for `private_key_jwt`.
    pub public_jwk: Option<&'a serde_json::Value>,
}

/// A successful authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The method used, as named in discovery.
    pub method: &'static str,
    /// For assertions: the `jti` and the `exp` until which it must be remembered.
    pub assertion_jti: Option<(String, u64)>,
}

/// Where assertions may be addressed (RFC 7523 3, point 3): the issuer or the endpoint.
pub struct Audiences<'a> {
    pub accepted: &'a [String],
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, Deserialize, Serialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    aud: OneOrMany,
    #[serde(default)]
    jti: Option<String>,
}

fn secrets_equal(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn deny(reason: &str) -> OAuthError {
    OAuthError::invalid_client(reason)
}

/// Checks presented credentials against the registration at Unix time `now`.
///
/// # Errors
/// `invalid_client` with a description that names the rule (never the secret).
pub fn authenticate(reg: &Registration<'_>, presented: &Presented, audiences: &Audiences<'_>, now: u64) -> Result<Authenticated, OAuthError> {
    if presented.claimed_client_id().as_deref() != Some(reg.client_id.as_str()) {
        return Err(deny("client authentication failed"));
    }
    let plain = |method| Ok(Authenticated { method, assertion_jti: None });
    match (reg.client_authentication, reg.method, presented) {
        (false, _, Presented::None { .. }) => plain("none"),
        (false, _, _) => Err(deny("this client is public: authenticate with none and PKCE")),
        (true, _, Presented::None { .. }) => Err(deny("client authentication is required")),
        (true, ClientAuthMethod::ClientSecret, Presented::Basic { secret, .. }) => {
            if secrets_equal(secret, reg.secret) {
                plain("client_secret_basic")
            } else {
                Err(deny("client authentication failed"))
            }
        }
        (true, ClientAuthMethod::ClientSecret, Presented::Post { secret, .. }) => {
            if secrets_equal(secret, reg.secret) {
                plain("client_secret_post")
            } else {
                Err(deny("client authentication failed"))
            }
        }
        (true, ClientAuthMethod::ClientSecretJwt, Presented::Assertion { assertion, .. }) => {
            let jti = verify_assertion(reg, assertion, audiences, now, AssertionKey::Secret(reg.secret))?;
            Ok(Authenticated { method: "client_secret_jwt", assertion_jti: Some(jti) })
        }
        (true, ClientAuthMethod::PrivateKeyJwt, Presented::Assertion { assertion, .. }) => {
            let jwk = reg.public_jwk.ok_or_else(|| deny("no public key is registered for this client"))?;
            let jti = verify_assertion(reg, assertion, audiences, now, AssertionKey::Public(jwk))?;
            Ok(Authenticated { method: "private_key_jwt", assertion_jti: Some(jti) })
        }
        (true, _, _) => Err(deny("this client authentication method is not allowed for this client")),
    }
}

enum AssertionKey<'a> {
    Secret(&'a str),
    Public(&'a serde_json::Value),
}

/// Parses a registered public JWK and checks it is a public key of a supported type.
///
/// # Errors
/// A message for people.
pub fn validate_public_jwk(jwk: &serde_json::Value) -> Result<(), String> {
    if jwk.get("d").is_some() || jwk.get("p").is_some() || jwk.get("k").is_some() {
        return Err("this is a private or symmetric key: register the public key only".into());
    }
    let parsed: JsonWebKey<'_> = serde_json::from_value(jwk.clone()).map_err(|_| "not a valid JWK".to_owned())?;
    let ok = match &parsed {
        JsonWebKey::EllipticCurve { .. } => p256::ecdsa::VerifyingKey::try_from(&parsed).is_ok(),
        JsonWebKey::Rsa { .. } => rsa::RsaPublicKey::try_from(&parsed).is_ok_and(|k| rsa::traits::PublicKeyParts::size(&k) >= 256),
        JsonWebKey::KeyPair { .. } => ed25519_compact::PublicKey::try_from(&parsed).is_ok(),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err("unsupported key: use EC P-256, RSA (2048 bits or more) or Ed25519".into())
    }
}

fn verify_assertion(reg: &Registration<'_>, assertion: &str, audiences: &Audiences<'_>, now: u64, key: AssertionKey<'_>) -> Result<(String, u64), OAuthError> {
    let untrusted = UntrustedToken::new(assertion).map_err(|_| deny("client_assertion is not a JWT"))?;
    let bad_sig = || deny("client_assertion signature is not valid");
    let claims = match key {
        AssertionKey::Secret(secret) => {
            let key = Hs256Key::new(secret.as_bytes());
            Hs256.validator::<AssertionClaims>(&key).validate(&untrusted).map_err(|_| bad_sig())?
        }
        AssertionKey::Public(value) => {
            let jwk: JsonWebKey<'_> = serde_json::from_value(value.clone()).map_err(|_| deny("the registered key is not usable"))?;
            match (&jwk, untrusted.algorithm()) {
                (JsonWebKey::EllipticCurve { .. }, "ES256") => {
                    let k = p256::ecdsa::VerifyingKey::try_from(&jwk).map_err(|_| bad_sig())?;
                    Es256.validator::<AssertionClaims>(&k).validate(&untrusted).map_err(|_| bad_sig())?
                }
                (JsonWebKey::Rsa { .. }, "RS256") => {
                    let k = rsa::RsaPublicKey::try_from(&jwk).map_err(|_| bad_sig())?;
                    Rsa::rs256().validator::<AssertionClaims>(&k).validate(&untrusted).map_err(|_| bad_sig())?
                }
                (JsonWebKey::KeyPair { .. }, "EdDSA" | "Ed25519") => {
                    let k = ed25519_compact::PublicKey::try_from(&jwk).map_err(|_| bad_sig())?;
                    let alg = jwt_compact::Renamed::new(Ed25519, "EdDSA");
                    let alg_name = untrusted.algorithm();
                    if alg_name == "EdDSA" {
                        alg.validator::<AssertionClaims>(&k).validate(&untrusted).map_err(|_| bad_sig())?
                    } else {
                        Ed25519.validator::<AssertionClaims>(&k).validate(&untrusted).map_err(|_| bad_sig())?
                    }
                }
                _ => return Err(deny("client_assertion alg does not match the registered key")),
            }
        }
    };
    let c = claims.claims();
    let id = reg.client_id.as_str();
    if c.custom.iss != id || c.custom.sub != id {
        return Err(deny("client_assertion iss and sub must be the client_id"));
    }
    let aud_ok = match &c.custom.aud {
        OneOrMany::One(a) => audiences.accepted.contains(a),
        OneOrMany::Many(list) => list.iter().any(|a| audiences.accepted.contains(a)),
    };
    if !aud_ok {
        return Err(deny("client_assertion aud must be the issuer or this endpoint"));
    }
    let exp = c.expiration.map(unix).ok_or_else(|| deny("client_assertion has no exp"))?;
    if exp + CLOCK_SKEW <= now {
        return Err(deny("client_assertion has expired"));
    }
    if exp > now + MAX_ASSERTION_LIFETIME {
        return Err(deny("client_assertion lives too long (exp at most an hour ahead)"));
    }
    if c.not_before.map(unix).is_some_and(|nbf| nbf > now + CLOCK_SKEW) {
        return Err(deny("client_assertion is not valid yet"));
    }
    let jti = c.custom.jti.clone().filter(|j| !j.is_empty() && j.len() <= 256).ok_or_else(|| deny("client_assertion needs a jti"))?;
    Ok((jti, exp + CLOCK_SKEW))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::datetime;
    use jwt_compact::{Claims, Header};

    fn cid() -> ClientId {
        ClientId::parse("client-0123456789abcdef").unwrap()
    }

    fn reg<'a>(id: &'a ClientId, method: ClientAuthMethod, jwk: Option<&'a serde_json::Value>) -> Registration<'a> {
        Registration { client_id: id, client_authentication: true, method, secret: "s3cret-value", public_jwk: jwk }
    }

    const AUD: &str = "https://id.example.com/token";

    fn auds() -> Vec<String> {
        vec!["https://id.example.com".into(), AUD.into()]
    }

    fn claims(iss: &str, aud: &str, jti: &str, exp: u64) -> Claims<AssertionClaims> {
        let mut c = Claims::new(AssertionClaims { iss: iss.into(), sub: iss.into(), aud: OneOrMany::One(aud.into()), jti: Some(jti.into()) });
        c.expiration = Some(datetime(exp));
        c
    }

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    #[test]
    fn authorization_schemes_are_case_insensitive() {
        assert_eq!(credentials("BEARER abc", "Bearer"), Some("abc"));
        assert_eq!(credentials("bearer   abc ", "Bearer"), Some("abc"));
        assert_eq!(credentials("Basic dXNlcjpwdw==", "basic"), Some("dXNlcjpwdw=="));
        assert_eq!(credentials("Bearerabc", "Bearer"), None);
        assert_eq!(credentials("Basic ", "Basic"), None);
        assert_eq!(credentials("DPoP abc", "Bearer"), None);
    }

    #[test]
    fn basic_and_post() {
        let id = cid();
        let r = reg(&id, ClientAuthMethod::ClientSecret, None);
        let a = auds();
        let aud = Audiences { accepted: &a };
        let ok = Presented::extract(Some(&basic(id.as_str(), "s3cret-value")), &CredentialParams::default()).unwrap();
        assert_eq!(authenticate(&r, &ok, &aud, 0).unwrap().method, "client_secret_basic");
        let wrong = Presented::extract(Some(&basic(id.as_str(), "s3cret-valuX")), &CredentialParams::default()).unwrap();
        assert_eq!(authenticate(&r, &wrong, &aud, 0).unwrap_err().code.as_str(), "invalid_client");
        let post =
            Presented::extract(None, &CredentialParams { client_id: Some(id.as_str()), client_secret: Some("s3cret-value"), ..Default::default() }).unwrap();
        assert_eq!(authenticate(&r, &post, &aud, 0).unwrap().method, "client_secret_post");
        // A public-style request to a confidential client is refused.
        let none = Presented::extract(None, &CredentialParams { client_id: Some(id.as_str()), ..Default::default() }).unwrap();
        assert!(authenticate(&r, &none, &aud, 0).is_err());
        // Credentials of another client id do not match.
        let other = Presented::extract(Some(&basic("someone-else-entirely", "s3cret-value")), &CredentialParams::default()).unwrap();
        assert!(authenticate(&r, &other, &aud, 0).is_err());
    }

    #[test]
    fn basic_credentials_are_form_decoded_and_methods_exclusive() {
        let p = Presented::extract(Some(&basic("a%3Ab", "x%2By")), &CredentialParams::default()).unwrap();
        assert_eq!(p, Presented::Basic { client_id: "a:b".into(), secret: "x+y".into() });
        let both = Presented::extract(Some(&basic("a", "b")), &CredentialParams { client_secret: Some("b"), ..Default::default() });
        assert_eq!(both.unwrap_err().code.as_str(), "invalid_request");
        assert!(Presented::extract(Some("Bearer x"), &CredentialParams::default()).is_err());
        assert_eq!(Presented::extract(None, &CredentialParams::default()).unwrap_err().code.as_str(), "invalid_client");
    }

    #[test]
    fn public_clients() {
        let id = cid();
        let r = Registration { client_authentication: false, ..reg(&id, ClientAuthMethod::ClientSecret, None) };
        let a = auds();
        let none = Presented::None { client_id: id.to_string() };
        assert_eq!(authenticate(&r, &none, &Audiences { accepted: &a }, 0).unwrap().method, "none");
        let post = Presented::Post { client_id: id.to_string(), secret: "s3cret-value".into() };
        assert!(authenticate(&r, &post, &Audiences { accepted: &a }, 0).is_err());
    }

    #[test]
    fn client_secret_jwt_rules() {
        let id = cid();
        let r = reg(&id, ClientAuthMethod::ClientSecretJwt, None);
        let a = auds();
        let aud = Audiences { accepted: &a };
        let key = Hs256Key::new(b"s3cret-value");
        let sign = |c: &Claims<AssertionClaims>| Hs256.token(&Header::empty(), c, &key).unwrap();
        let now = 1_000_000;
        let good = sign(&claims(id.as_str(), AUD, "j1", now + 60));
        let p = Presented::Assertion { client_id: None, assertion: good };
        let auth = authenticate(&r, &p, &aud, now).unwrap();
        assert_eq!(auth.assertion_jti, Some(("j1".into(), now + 60 + CLOCK_SKEW)));
        for (bad, why) in [
            (sign(&claims(id.as_str(), "https://elsewhere.example/token", "j", now + 60)), "aud"),
            (sign(&claims(id.as_str(), AUD, "j", now - 60)), "expired"),
            (sign(&claims(id.as_str(), AUD, "j", now + MAX_ASSERTION_LIFETIME + 1)), "too long"),
            (sign(&claims(id.as_str(), AUD, "", now + 60)), "jti"),
            (Hs256.token(&Header::empty(), &claims(id.as_str(), AUD, "j", now + 60), &Hs256Key::new(b"other")).unwrap(), "key"),
        ] {
            let p = Presented::Assertion { client_id: Some(id.to_string()), assertion: bad };
            assert!(authenticate(&r, &p, &aud, now).is_err(), "{why}");
        }
        // An assertion is refused for a client registered for plain secrets.
        let r2 = reg(&id, ClientAuthMethod::ClientSecret, None);
        let p = Presented::Assertion { client_id: None, assertion: sign(&claims(id.as_str(), AUD, "j2", now + 60)) };
        assert!(authenticate(&r2, &p, &aud, now).is_err());
    }

    #[test]
    fn private_key_jwt_with_p256() {
        let id = cid();
        let sk = p256::ecdsa::SigningKey::from_slice(&[5u8; 32]).unwrap();
        let jwk = serde_json::to_value(JsonWebKey::from(sk.verifying_key())).unwrap();
        validate_public_jwk(&jwk).unwrap();
        let r = reg(&id, ClientAuthMethod::PrivateKeyJwt, Some(&jwk));
        let a = auds();
        let aud = Audiences { accepted: &a };
        let now = 2_000_000;
        let token = Es256.token(&Header::empty(), &claims(id.as_str(), "https://id.example.com", "k1", now + 30), &sk).unwrap();
        let p = Presented::Assertion { client_id: None, assertion: token };
        assert_eq!(authenticate(&r, &p, &aud, now).unwrap().method, "private_key_jwt");
        // Signed by another key: refused.
        let other = p256::ecdsa::SigningKey::from_slice(&[6u8; 32]).unwrap();
        let token = Es256.token(&Header::empty(), &claims(id.as_str(), AUD, "k2", now + 30), &other).unwrap();
        assert!(authenticate(&r, &Presented::Assertion { client_id: None, assertion: token }, &aud, now).is_err());
        // An HS256 assertion keyed with the public key's bytes (alg confusion): refused.
        let hs = Hs256.token(&Header::empty(), &claims(id.as_str(), AUD, "k3", now + 30), &Hs256Key::new(jwk.to_string().as_bytes())).unwrap();
        assert!(authenticate(&r, &Presented::Assertion { client_id: None, assertion: hs }, &aud, now).is_err());
    }

    #[test]
    fn private_jwks_are_refused_at_registration() {
        let sk = p256::ecdsa::SigningKey::from_slice(&[5u8; 32]).unwrap();
        let private = serde_json::to_value(JsonWebKey::from(&sk)).unwrap();
        assert!(validate_public_jwk(&private).is_err());
        assert!(validate_public_jwk(&serde_json::json!({"kty": "oct", "k": "abc"})).is_err());
        assert!(validate_public_jwk(&serde_json::json!({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"})).is_err());
    }

    /// Some text a client could send: printable, control, or shaped like credentials.
    fn any_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            "\\PC{0,80}",
            "[\\u{0}-\\u{7f}]{0,80}",
            "[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,200}\\.[A-Za-z0-9_-]{0,120}",
            proptest::collection::vec(any::<u8>(), 0..60).prop_map(|b| format!("Basic {}", STANDARD.encode(b))),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 500, ..Default::default() })]

        /// Whatever a client sends in the header and the form, extraction and
        /// authentication answer an OAuth error or a method, never a panic, and random
        /// credentials authenticate no confidential client.
        #[test]
        fn any_credentials_never_panic_and_never_authenticate(
            header in proptest::option::of(any_text()),
            form in proptest::collection::vec(proptest::option::of(any_text()), 4),
        ) {
            let params = CredentialParams {
                client_id: form[0].as_deref(),
                client_secret: form[1].as_deref(),
                client_assertion_type: form[2].as_deref(),
                client_assertion: form[3].as_deref(),
            };
            let Ok(presented) = Presented::extract(header.as_deref(), &params) else { return Ok(()) };
            let id = cid();
            let sk = p256::ecdsa::SigningKey::from_slice(&[5u8; 32]).unwrap();
            let jwk = serde_json::to_value(JsonWebKey::from(sk.verifying_key())).unwrap();
            let a = auds();
            for method in [ClientAuthMethod::ClientSecret, ClientAuthMethod::ClientSecretJwt, ClientAuthMethod::PrivateKeyJwt] {
                let r = reg(&id, method, Some(&jwk));
                let answer = authenticate(&r, &presented, &Audiences { accepted: &a }, 1_000_000);
                proptest::prop_assert!(answer.is_err(), "{:?} authenticated", presented);
            }
        }

        /// A valid assertion changed anywhere (a character replaced, cut short, or grown)
        /// is refused. The last character of each segment is left alone: its spare bits
        /// are not part of the value (RFC 4648 section 3.5).
        #[test]
        fn a_changed_assertion_is_refused(at in 0usize..10_000, with in "[A-Za-z0-9_.=+/-]", cut in 0usize..10_000, how in 0u8..3) {
            let id = cid();
            let r = reg(&id, ClientAuthMethod::ClientSecretJwt, None);
            let a = auds();
            let now = 1_000_000;
            let good = Hs256.token(&Header::empty(), &claims(id.as_str(), AUD, "j1", now + 60), &Hs256Key::new(b"s3cret-value")).unwrap();
            let changed = match how {
                0 => {
                    let bytes = good.as_bytes();
                    let i = at % bytes.len();
                    let last_of_segment = i + 1 == bytes.len() || bytes[i + 1] == b'.';
                    if last_of_segment || good[i..].starts_with(&with) {
                        return Ok(());
                    }
                    format!("{}{with}{}", &good[..i], &good[i + 1..])
                }
                1 => good[..cut % good.len()].to_owned(),
                _ => format!("{good}{with}"),
            };
            let p = Presented::Assertion { client_id: Some(id.to_string()), assertion: changed };
            let answer = authenticate(&r, &p, &Audiences { accepted: &a }, now);
            proptest::prop_assert!(answer.is_err(), "a changed assertion authenticated");
        }
    }
}
