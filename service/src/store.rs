//! The storage of one-time and counted things (the Vault): every operation on one key is
//! atomic, so a code, request URI or nonce is taken at most once and concurrent answers
//! cannot outrun a limit. `edge-worker/src/vault.rs` runs these operations in a Durable
//! Object; [`crate::memory::MemoryVault`] runs them in memory for tests.

use biopass_idp::grant::{Issued, Redemption};
use biopass_idp::lockout::{Answered, Attempts, CodeAnswer, Earlier, Limit};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::future::Future;

/// A storage failure: the store could not be reached or answered nonsense. Internal: the
/// message is for the log, never for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

/// The crate's result.
pub type StoreResult<T> = Result<T, StoreError>;

/// The Vault's operations on one key each (a key built by `biopass_idp::schema::VaultKey`).
/// Times are Unix seconds; a value whose `expires_at` has passed is gone.
//
// The futures are not `Send`: a Worker runs on one thread, and the in-memory store is for
// single-threaded tests.
#[allow(async_fn_in_trait)]
pub trait OneTime {
    /// Stores `value` until `expires_at` unless the key holds a live value; whether it did.
    async fn insert(&self, key: &str, value: Value, expires_at: u64, now: u64) -> StoreResult<bool>;
    /// Removes and returns the live value: at most one caller ever gets it.
    async fn take(&self, key: &str, now: u64) -> StoreResult<Option<Value>>;
    async fn get(&self, key: &str, now: u64) -> StoreResult<Option<Value>>;
    /// The live values of `keys`, in one operation: the keys must live in one object
    /// (`biopass_idp::schema::vault_object`), or it fails.
    async fn get_many(&self, keys: &[String], now: u64) -> StoreResult<Vec<Option<Value>>>;
    /// Replaces the live value, keeping its expiry; false when it is gone.
    async fn replace(&self, key: &str, value: Value, now: u64) -> StoreResult<bool>;
    /// The value, inserting `value` (forever) when there is none: one value ever wins.
    async fn get_or_insert(&self, key: &str, value: Value) -> StoreResult<Value>;
    async fn put(&self, key: &str, value: Value) -> StoreResult<()>;
    /// Moves the key's counter up to `to`; false when it was already there or beyond.
    async fn advance(&self, key: &str, to: u64) -> StoreResult<bool>;
    /// Counts attempt `id` now unless `limit` refuses it within `window` seconds:
    /// `Ok((id, count))` when counted, `Err(retry_at)` when refused; `earlier`: the counter's
    /// layout before, if it moved ([`Moved`]).
    async fn reserve(&self, key: &str, now: u64, window: u64, limit: Limit, id: String, earlier: Earlier) -> StoreResult<Moved<Result<(String, u64), u64>>>;
    /// Gives back a counted attempt.
    async fn release(&self, key: &str, id: &str) -> StoreResult<()>;
    /// `Some(retry_at)` when `limit` would refuse an attempt now (without counting one);
    /// `earlier` as for [`Self::reserve`].
    async fn refused_until(&self, key: &str, now: u64, window: u64, limit: Limit, earlier: Earlier) -> StoreResult<Moved<Option<u64>>>;
    /// The attempts the counter `key` holds (all of them, pruned by nobody).
    async fn attempts(&self, key: &str) -> StoreResult<Attempts>;
    /// Decides a one-time-code answer in one operation of the counter `key`
    /// (`biopass_idp::lockout::answer`): the limit, then the last used step kept beside the
    /// counter's attempts moves forward, or the answer is counted.
    async fn answer(&self, key: &str, answer: CodeAnswer) -> StoreResult<Answered>;
    /// The counter of `key` as [`Self::advance`] moved it, if any.
    async fn counter(&self, key: &str) -> StoreResult<Option<u64>>;
    async fn clear(&self, key: &str) -> StoreResult<()>;
    /// Redeems the code grant under `key` for `redemption` in one operation
    /// (`biopass_idp::grant::accepted_grant` decides): a live grant it accepts is removed and
    /// answered, and with `record` (a key in the same object, and the token issued) the
    /// redemption's record (`biopass_idp::grant::Redeemed`) is stored there until the token
    /// expires; a grant it refuses stays where it is, and nothing is recorded.
    ///
    /// # Errors
    /// When `record`'s key lives in another object.
    async fn redeem(&self, key: &str, now: u64, redemption: &Redemption<'_>, record: Option<(&str, &Issued)>) -> StoreResult<RedeemOutcome>;
    /// Stores `first` and `second` (each a key, a value and its expiry) in one operation,
    /// unless either key holds a live value; whether it did (a sealed request URI's spent
    /// mark set as its sign-in's transaction starts).
    ///
    /// # Errors
    /// When the keys live in different objects.
    async fn insert_pair(&self, first: (&str, Value, u64), second: (&str, Value, u64), now: u64) -> StoreResult<bool>;
    /// Takes `key` if its live value is `expect` and stores `value` under `into` until
    /// `expires_at`, in one operation (a request URI becoming its sign-in's transaction, a
    /// transaction its code). Nothing changes unless it answers [`Exchanged::Done`].
    ///
    /// # Errors
    /// When the keys live in different objects, or `into` holds a live value.
    async fn exchange(&self, key: &str, expect: &Value, into: &str, value: Value, expires_at: u64, now: u64) -> StoreResult<Exchanged>;
}

/// What an operation of a counter answers when the counter may have moved from another key
/// (`biopass_idp::lockout::moved`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moved<T> {
    Done(T),
    /// The counter stores nothing yet and its layout before was not read: nothing changed;
    /// ask again with what the layout before holds ([`Earlier::Read`]).
    NeedEarlier,
}

/// What [`OneTime::exchange`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Exchanged {
    /// `key` was taken and `into` stored.
    Done,
    /// `key` holds another live value (it changed since it was read): nothing changed.
    Holds(Value),
    /// No live value under `key`: nothing changed.
    Absent,
}

/// Runs `a` and `b` at once and answers both outputs: each store call is a subrequest of its
/// own, so their waits overlap instead of adding up.
pub async fn both<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    futures_util::future::join(a, b).await
}

/// Whether `a` and `b` live in one Vault object (what [`OneTime::exchange`] and a
/// redemption's record need).
pub fn same_object(a: &str, b: &str) -> bool {
    biopass_idp::schema::vault_object(a).0 == biopass_idp::schema::vault_object(b).0
}

/// Turns the value under `key` into a new one under `into`, once: `make` builds the new
/// value, its expiry and what the caller gets back from the value it replaces. When both keys
/// live in one object and `key` still holds `expect` (the value as the caller read it), that
/// is one [`OneTime::exchange`]; otherwise (it changed meanwhile, or `key` is of a form kept
/// in an object of its own) `key` is taken and `make` builds from what was taken. `None`
/// when `key` holds no live value (another use of it came first).
///
/// # Errors
/// When the store fails or `make` does.
pub async fn turn_into<V: OneTime, T>(
    vault: &V,
    now: u64,
    key: &str,
    expect: &Value,
    into: &str,
    make: impl Fn(&Value) -> StoreResult<(Value, u64, T)>,
) -> StoreResult<Option<T>> {
    if same_object(key, into) {
        let (value, expires_at, back) = make(expect)?;
        match vault.exchange(key, expect, into, value, expires_at, now).await? {
            Exchanged::Done => return Ok(Some(back)),
            Exchanged::Absent => return Ok(None),
            Exchanged::Holds(_) => {}
        }
    }
    let Some(taken) = vault.take(key, now).await? else { return Ok(None) };
    let (value, expires_at, back) = make(&taken)?;
    vault.insert(into, value, expires_at, now).await?;
    Ok(Some(back))
}

/// What [`OneTime::redeem`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum RedeemOutcome {
    /// The grant, removed: this caller alone has it.
    Taken(Value),
    /// The grant, left in place: the redemption did not match it.
    Refused(Value),
    /// No live grant under the key.
    Absent,
}

/// A shared store is the store (tests give several contexts one in-memory Vault, as
/// concurrent requests share the Durable Object).
impl<T: OneTime> OneTime for std::rc::Rc<T> {
    async fn insert(&self, key: &str, value: Value, expires_at: u64, now: u64) -> StoreResult<bool> {
        (**self).insert(key, value, expires_at, now).await
    }
    async fn take(&self, key: &str, now: u64) -> StoreResult<Option<Value>> {
        (**self).take(key, now).await
    }
    async fn get(&self, key: &str, now: u64) -> StoreResult<Option<Value>> {
        (**self).get(key, now).await
    }
    async fn get_many(&self, keys: &[String], now: u64) -> StoreResult<Vec<Option<Value>>> {
        (**self).get_many(keys, now).await
    }
    async fn replace(&self, key: &str, value: Value, now: u64) -> StoreResult<bool> {
        (**self).replace(key, value, now).await
    }
    async fn get_or_insert(&self, key: &str, value: Value) -> StoreResult<Value> {
        (**self).get_or_insert(key, value).await
    }
    async fn put(&self, key: &str, value: Value) -> StoreResult<()> {
        (**self).put(key, value).await
    }
    async fn advance(&self, key: &str, to: u64) -> StoreResult<bool> {
        (**self).advance(key, to).await
    }
    async fn reserve(&self, key: &str, now: u64, window: u64, limit: Limit, id: String, earlier: Earlier) -> StoreResult<Moved<Result<(String, u64), u64>>> {
        (**self).reserve(key, now, window, limit, id, earlier).await
    }
    async fn release(&self, key: &str, id: &str) -> StoreResult<()> {
        (**self).release(key, id).await
    }
    async fn refused_until(&self, key: &str, now: u64, window: u64, limit: Limit, earlier: Earlier) -> StoreResult<Moved<Option<u64>>> {
        (**self).refused_until(key, now, window, limit, earlier).await
    }
    async fn attempts(&self, key: &str) -> StoreResult<Attempts> {
        (**self).attempts(key).await
    }
    async fn answer(&self, key: &str, answer: CodeAnswer) -> StoreResult<Answered> {
        (**self).answer(key, answer).await
    }
    async fn counter(&self, key: &str) -> StoreResult<Option<u64>> {
        (**self).counter(key).await
    }
    async fn clear(&self, key: &str) -> StoreResult<()> {
        (**self).clear(key).await
    }
    async fn redeem(&self, key: &str, now: u64, redemption: &Redemption<'_>, record: Option<(&str, &Issued)>) -> StoreResult<RedeemOutcome> {
        (**self).redeem(key, now, redemption, record).await
    }
    async fn insert_pair(&self, first: (&str, Value, u64), second: (&str, Value, u64), now: u64) -> StoreResult<bool> {
        (**self).insert_pair(first, second, now).await
    }
    async fn exchange(&self, key: &str, expect: &Value, into: &str, value: Value, expires_at: u64, now: u64) -> StoreResult<Exchanged> {
        (**self).exchange(key, expect, into, value, expires_at, now).await
    }
}

/// The one Vault object `keys` live in (`biopass_idp::schema::vault_object`), for
/// [`OneTime::get_many`], [`OneTime::exchange`], [`OneTime::insert_pair`] and
/// [`OneTime::redeem`]; `None` for no keys.
///
/// # Errors
/// When they live in more than one object.
pub fn one_object<K: AsRef<str>>(keys: &[K]) -> StoreResult<Option<&str>> {
    let Some(first) = keys.first() else { return Ok(None) };
    let object = biopass_idp::schema::vault_object(first.as_ref()).0;
    if keys.iter().any(|k| biopass_idp::schema::vault_object(k.as_ref()).0 != object) {
        let keys: Vec<&str> = keys.iter().map(AsRef::as_ref).collect();
        return Err(StoreError(format!("one operation across objects: {keys:?}")));
    }
    Ok(Some(object))
}

/// `value` as the store keeps it.
///
/// # Errors
/// When it does not serialise (a bug, reported as a storage error).
pub fn to_value<T: Serialize>(value: &T) -> StoreResult<Value> {
    serde_json::to_value(value).map_err(|e| StoreError(format!("vault value: {e}")))
}

/// A stored value as `T`.
///
/// # Errors
/// When the stored value is not a `T` (written by another version, or corrupt).
pub fn from_value<T: DeserializeOwned>(value: Option<Value>) -> StoreResult<Option<T>> {
    value.map(|v| serde_json::from_value(v).map_err(|e| StoreError(format!("vault value: {e}")))).transpose()
}

/// The longest JSON text the worker sends to or from the Vault in a header instead of a body
/// (a header is read at once; a body is a stream read through a promise).
pub const HEADER_JSON_MAX: usize = 8 * 1024;

/// `json` as a header value ([`header_safe_json`]) when it is at most [`HEADER_JSON_MAX`]
/// long; `None`: it goes as a body.
pub fn in_header(json: &str) -> Option<std::borrow::Cow<'_, str>> {
    Some(header_safe_json(json)).filter(|safe| safe.len() <= HEADER_JSON_MAX)
}

/// `json` (compact JSON text, as `serde_json` writes it) with every character outside
/// printable ASCII written as a `\uXXXX` escape (UTF-16, surrogate pairs above the BMP):
/// the same JSON value, and a valid HTTP header value. JSON text has characters outside
/// printable ASCII only inside strings (the control characters already escaped), where the
/// escape means the same character.
pub fn header_safe_json(json: &str) -> std::borrow::Cow<'_, str> {
    if json.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return std::borrow::Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if (' '..='~').contains(&c) {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::header_safe_json;
    use serde_json::{json, Value};

    #[test]
    fn header_safe_json_is_printable_ascii_and_the_same_value() {
        for v in [json!({"a": 1, "b": "plain"}), json!({"name": "Zoë Ünal 😀", "del": "\u{7f}", "tab": "\t", "quote": "\"\\/"}), json!(["€", null, true, 1.5])]
        {
            let text = serde_json::to_string(&v).unwrap();
            let safe = header_safe_json(&text);
            assert!(safe.bytes().all(|b| (0x20..0x7f).contains(&b)), "{safe}");
            assert_eq!(serde_json::from_str::<Value>(&safe).unwrap(), v);
        }
        assert!(matches!(header_safe_json(r#"{"a":"b"}"#), std::borrow::Cow::Borrowed(_)), "ASCII text is not copied");
    }
}
