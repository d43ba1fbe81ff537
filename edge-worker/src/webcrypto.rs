//! ES256 through the runtime's WebCrypto: native code, where P-256 compiled to wasm costs
//! milliseconds per signature. The keyset's keys are imported once per isolate (by `kid`,
//! which names one key for ever); the header and claims are still `jwt-compact`'s
//! (`biopass_idp::keys::OpenKeyset::unsigned_es256`). A token this isolate signed is known
//! valid without verifying it again ([`SignedHere`]).

use biopass_idp::keys::{OpenKeyset, PresentedEs256, SignedHere, UnsignedToken};
use biopass_service::http::Failure;
use biopass_service::tokens::Es256;
use std::cell::RefCell;
use std::collections::HashMap;
use web_sys::{CryptoKey, SubtleCrypto, WorkerGlobalScope};
use worker::js_sys::{self, Array, Object, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;

/// The signing (private) and verifying (public) key of one `kid`.
#[derive(Clone)]
struct Imported {
    sign: CryptoKey,
    verify: CryptoKey,
}

/// How many signatures an isolate remembers ([`SignedHere`]): one or two per code exchange
/// (the access token, and the ID token when it is ES256), so at least the last 512.
const REMEMBERED_SIGNATURES: usize = 1024;

thread_local! {
    static IMPORTED: RefCell<HashMap<String, Imported>> = RefCell::new(HashMap::new());
    static SIGNED: RefCell<SignedHere> = RefCell::new(SignedHere::new(REMEMBERED_SIGNATURES));
}

/// The worker's [`Es256`].
pub struct WebCrypto;

fn failed(what: &str, e: &JsValue) -> Failure {
    Failure::Internal(format!("webcrypto {what}: {}", e.as_string().unwrap_or_else(|| format!("{e:?}"))))
}

fn subtle() -> Result<SubtleCrypto, Failure> {
    let global: WorkerGlobalScope = js_sys::global().unchecked_into();
    Ok(global.crypto().map_err(|e| failed("crypto", &e))?.subtle())
}

fn object(pairs: &[(&str, &str)]) -> Result<Object, Failure> {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v)).map_err(|e| failed("object", &e))?;
    }
    Ok(o)
}

async fn import(subtle: &SubtleCrypto, jwk: &Object, usage: &str) -> Result<CryptoKey, Failure> {
    let algorithm = object(&[("name", "ECDSA"), ("namedCurve", "P-256")])?;
    let usages = Array::of1(&JsValue::from_str(usage));
    let promise = subtle.import_key_with_object("jwk", jwk, &algorithm, false, &usages).map_err(|e| failed("importKey", &e))?;
    JsFuture::from(promise).await.map_err(|e| failed("importKey", &e))?.dyn_into::<CryptoKey>().map_err(|e| failed("importKey", &e))
}

/// The imported keys of `kid`, importing them the first time.
async fn keys_of(subtle: &SubtleCrypto, keys: &OpenKeyset, kid: &str) -> Result<Imported, Failure> {
    if let Some(found) = IMPORTED.with(|m| m.borrow().get(kid).cloned()) {
        return Ok(found);
    }
    let jwk = keys.es256_jwk(kid).ok_or_else(|| Failure::Internal(format!("no ES256 key {kid}")))?;
    let private = object(&[("kty", jwk.kty), ("crv", jwk.crv), ("x", &jwk.x), ("y", &jwk.y), ("d", &jwk.d)])?;
    let public = object(&[("kty", jwk.kty), ("crv", jwk.crv), ("x", &jwk.x), ("y", &jwk.y)])?;
    let imported = Imported { sign: import(subtle, &private, "sign").await?, verify: import(subtle, &public, "verify").await? };
    IMPORTED.with(|m| m.borrow_mut().insert(kid.to_owned(), imported.clone()));
    Ok(imported)
}

fn ecdsa_sha256() -> Result<Object, Failure> {
    object(&[("name", "ECDSA"), ("hash", "SHA-256")])
}

impl Es256 for WebCrypto {
    async fn sign(&self, keys: &OpenKeyset, unsigned: &UnsignedToken) -> Result<String, Failure> {
        let subtle = subtle()?;
        let key = keys_of(&subtle, keys, &unsigned.kid).await?;
        let promise = subtle.sign_with_object_and_u8_array(&ecdsa_sha256()?, &key.sign, unsigned.signing_input.as_bytes()).map_err(|e| failed("sign", &e))?;
        let signature = Uint8Array::new(&JsFuture::from(promise).await.map_err(|e| failed("sign", &e))?).to_vec();
        if signature.len() != 64 {
            return Err(Failure::Internal(format!("webcrypto sign: {} bytes", signature.len())));
        }
        SIGNED.with(|s| s.borrow_mut().remember(&unsigned.kid, &unsigned.signing_input, &signature));
        Ok(unsigned.with_signature(&signature))
    }

    async fn valid(&self, keys: &OpenKeyset, presented: &PresentedEs256<'_>) -> Result<bool, Failure> {
        // ES256 signatures are r || s, 64 bytes (RFC 7518 3.4); anything else is simply wrong.
        if presented.signature().len() != 64 {
            return Ok(false);
        }
        // Made here, over these very bytes, by a key still in the set: known valid.
        if keys.has_es256(&presented.kid) && SIGNED.with(|s| s.borrow().made(&presented.kid, presented.signing_input, presented.signature())) {
            return Ok(true);
        }
        let subtle = subtle()?;
        let key = keys_of(&subtle, keys, &presented.kid).await?;
        let promise = subtle
            .verify_with_object_and_u8_array_and_u8_array(&ecdsa_sha256()?, &key.verify, presented.signature(), presented.signing_input.as_bytes())
            .map_err(|e| failed("verify", &e))?;
        Ok(JsFuture::from(promise).await.map_err(|e| failed("verify", &e))?.as_bool() == Some(true))
    }
}
