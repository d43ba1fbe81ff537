//! The browser's WebAuthn calls (`navigator.credentials.create` / `.get`) from the options
//! the worker issued, and their answers as the login API takes them (base64url). The page
//! only relays bytes: the worker checks every one of them (`biopass_idp::passkey`).
//!
//! What the browser can say, in words a person understands: cancelled or timed out (the
//! browser does not tell these apart, nor "no passkey on this device", on purpose), already
//! registered on this device, not allowed on this page, not supported.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use biopass_proto::login::{PasskeyAssertion, PasskeyOptions, PasskeyRegistration};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Why the browser gave no passkey answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasskeyError {
    /// Cancelled, timed out, or no passkey for this account on this device.
    NotAllowed,
    /// Enrolment: this device already holds a passkey of this account.
    AlreadyRegistered,
    /// The page is not allowed to use passkeys (its address is not the relying party's).
    NotHere,
    /// The browser or device has no passkey support, or none with user verification.
    Unsupported,
    /// Anything else the browser said.
    Other(String),
}

impl PasskeyError {
    /// What the person is told.
    pub fn message(&self, enrolling: bool) -> String {
        let t = crate::lang::t();
        match self {
            Self::NotAllowed if enrolling => t.passkey_cancelled_create.into(),
            Self::NotAllowed => t.passkey_cancelled_use.into(),
            Self::AlreadyRegistered => t.passkey_exists.into(),
            Self::NotHere => t.passkey_not_here.into(),
            Self::Unsupported => t.passkey_unsupported.into(),
            Self::Other(m) => biopass_i18n::fill(t.passkey_failed, &[("m", m)]),
        }
    }
}

fn from_js(e: JsValue) -> PasskeyError {
    let name = e.dyn_ref::<web_sys::DomException>().map(web_sys::DomException::name).unwrap_or_default();
    match name.as_str() {
        "NotAllowedError" | "AbortError" => PasskeyError::NotAllowed,
        "InvalidStateError" => PasskeyError::AlreadyRegistered,
        "SecurityError" => PasskeyError::NotHere,
        "NotSupportedError" => PasskeyError::Unsupported,
        _ => PasskeyError::Other(e.dyn_ref::<js_sys::Error>().map(|x| String::from(x.message())).unwrap_or(name)),
    }
}

fn set(target: &Object, key: &str, value: &JsValue) -> Result<(), PasskeyError> {
    Reflect::set(target, &JsValue::from_str(key), value).map(|_| ()).map_err(from_js)
}

fn bytes(b64: &str) -> Result<JsValue, PasskeyError> {
    let raw = URL_SAFE_NO_PAD.decode(b64).map_err(|_| PasskeyError::Other("the options could not be read".into()))?;
    Ok(Uint8Array::from(raw.as_slice()).buffer().into())
}

fn b64_of(value: &JsValue) -> Option<String> {
    if value.is_null() || value.is_undefined() {
        return None;
    }
    Some(URL_SAFE_NO_PAD.encode(Uint8Array::new(value).to_vec()))
}

fn get(target: &JsValue, key: &str) -> Result<JsValue, PasskeyError> {
    Reflect::get(target, &JsValue::from_str(key)).map_err(from_js)
}

fn field(target: &JsValue, key: &str) -> Result<String, PasskeyError> {
    b64_of(&get(target, key)?).ok_or_else(|| PasskeyError::Other(format!("the browser gave no {key}")))
}

fn descriptors(ids: &[String]) -> Result<JsValue, PasskeyError> {
    let list = Array::new();
    for id in ids {
        let d = Object::new();
        set(&d, "type", &"public-key".into())?;
        set(&d, "id", &bytes(id)?)?;
        list.push(&d);
    }
    Ok(list.into())
}

fn container() -> Result<web_sys::CredentialsContainer, PasskeyError> {
    let window = web_sys::window().ok_or(PasskeyError::Unsupported)?;
    if Reflect::get(&window, &"PublicKeyCredential".into()).map_or(true, |v| v.is_undefined()) {
        return Err(PasskeyError::Unsupported);
    }
    Ok(window.navigator().credentials())
}

fn common(o: &PasskeyOptions, target: &Object) -> Result<(), PasskeyError> {
    set(target, "challenge", &bytes(&o.challenge)?)?;
    set(target, "timeout", &f64::from(o.timeout_ms).into())?;
    set(target, "userVerification", &"required".into())
}

/// `navigator.credentials.create`: a discoverable credential with user verification, ES256,
/// EdDSA or RS256, no attestation.
///
/// # Errors
/// What the browser said, as a [`PasskeyError`].
pub async fn create(o: &PasskeyOptions) -> Result<PasskeyRegistration, PasskeyError> {
    let user = o.user.as_ref().ok_or_else(|| PasskeyError::Other("the options name no user".into()))?;
    let public_key = Object::new();
    common(o, &public_key)?;
    let rp = Object::new();
    set(&rp, "id", &o.rp_id.as_str().into())?;
    set(&rp, "name", &o.rp_name.as_str().into())?;
    set(&public_key, "rp", &rp)?;
    let entity = Object::new();
    set(&entity, "id", &bytes(&user.id)?)?;
    set(&entity, "name", &user.name.as_str().into())?;
    set(&entity, "displayName", &user.display_name.as_str().into())?;
    set(&public_key, "user", &entity)?;
    let params = Array::new();
    for alg in biopass_idp::passkey::ALGORITHMS {
        let p = Object::new();
        set(&p, "type", &"public-key".into())?;
        set(&p, "alg", &(alg as f64).into())?;
        params.push(&p);
    }
    set(&public_key, "pubKeyCredParams", &params)?;
    set(&public_key, "excludeCredentials", &descriptors(&o.credential_ids)?)?;
    let selection = Object::new();
    set(&selection, "residentKey", &"required".into())?;
    set(&selection, "requireResidentKey", &true.into())?;
    set(&selection, "userVerification", &"required".into())?;
    set(&public_key, "authenticatorSelection", &selection)?;
    set(&public_key, "attestation", &"none".into())?;
    let options = web_sys::CredentialCreationOptions::new();
    set(&options, "publicKey", &public_key)?;
    let promise = container()?.create_with_options(&options).map_err(from_js)?;
    let credential = JsFuture::from(promise).await.map_err(from_js)?;
    let response = get(&credential, "response")?;
    Ok(PasskeyRegistration {
        credential_id: field(&credential, "rawId")?,
        client_data_json: field(&response, "clientDataJSON")?,
        attestation_object: field(&response, "attestationObject")?,
    })
}

/// `navigator.credentials.get` with user verification, from the credentials listed (none:
/// any discoverable credential of this site).
///
/// # Errors
/// What the browser said, as a [`PasskeyError`].
pub async fn get_assertion(o: &PasskeyOptions, add_authenticator: bool) -> Result<PasskeyAssertion, PasskeyError> {
    let public_key = Object::new();
    common(o, &public_key)?;
    set(&public_key, "rpId", &o.rp_id.as_str().into())?;
    set(&public_key, "allowCredentials", &descriptors(&o.credential_ids)?)?;
    let options = web_sys::CredentialRequestOptions::new();
    set(&options, "publicKey", &public_key)?;
    let promise = container()?.get_with_options(&options).map_err(from_js)?;
    let credential = JsFuture::from(promise).await.map_err(from_js)?;
    if credential.is_null() {
        return Err(PasskeyError::NotAllowed);
    }
    let response = get(&credential, "response")?;
    Ok(PasskeyAssertion {
        credential_id: field(&credential, "rawId")?,
        client_data_json: field(&response, "clientDataJSON")?,
        authenticator_data: field(&response, "authenticatorData")?,
        signature: field(&response, "signature")?,
        user_handle: b64_of(&get(&response, "userHandle")?),
        add_authenticator,
    })
}
