//! The `Vault` Durable Object: everything that must happen exactly once or be counted
//! exactly. Each key lives in an object instance named by `biopass_idp::schema::vault_object`:
//! the values of one sign-in (request URI, transaction, face challenges, code) share the
//! sign-in's object, each in a slot of its own, and a pushed request's sign-in is in the object
//! of every sign-in of the person it names, so a returning person's sign-in creates none; a user's
//! status (disabled or deleted), their revoked access tokens, used recovery codes and counters
//! of failed answers with each authenticator share the user's object; every
//! other key has an object of its own, named by the key. Operations on one object are serialised
//! by the runtime, and operations on different objects run in parallel.
//!
//! Operations: [`Op::Insert`] (fails if present; [`Op::InsertPair`] two at once: a sealed
//! request URI's spent mark and its sign-in's transaction), [`Op::Take`] (read and delete: the
//! one-time use of request URIs and transactions), [`Op::Exchange`] (a value taken, if it
//! is still the one read, and another stored beside it: a request URI becoming its
//! transaction, a transaction its code), [`Op::Redeem`] (a code's grant checked
//! against the token request and taken, and the access token it issues recorded beside it,
//! in one operation), [`Op::Get`], [`Op::GetMany`]
//! (several slots of one object in one call: userinfo's user status and token revocation),
//! [`Op::Replace`], [`Op::GetOrInsert`] and [`Op::Put`] (keyset, user-name claims),
//! [`Op::Advance`] (a counter that only grows: TOTP steps), and
//! [`Op::Reserve`]/[`Op::Release`]/[`Op::Check`] (lock-outs over a sliding window: an
//! attempt is counted before its answer is checked, in the same operation that checks the
//! lock, so concurrent guesses cannot outrun the limit; a right answer gives its attempt
//! back; a counter that moved from another key takes on what it held there, once:
//! `biopass_idp::lockout::moved`), and [`Op::Answer`] (a one-time code's answer in one operation: the lock, then the
//! last used step moved forward or the answer counted; a user's TOTP counter).
//!
//! Expiry: an entry past its expiry is absent to every operation at once; an alarm removes it
//! from storage later. The alarm is set for the latest expiry in the object, rounded up to
//! the next quarter hour (kept in memory while the instance lives, so most writes do not
//! read it, and the sign-ins of a person within a quarter hour move it once), so it rings
//! once for a sign-in (or for sign-ins that follow each other), after the last of its values
//! expired; when
//! nothing is left it deletes the whole object. Setting it later first deletes what expired
//! already, so an object in use all day does not keep what expired in it.
//!
//! Storage goes through the runtime's synchronous key-value API (`ctx.storage.kv` of
//! SQLite-backed objects, the same table the asynchronous API reads and writes): an
//! operation's reads and writes run without giving way, so no other request's operation on
//! the object interleaves with them. Only alarm calls and deleting a whole object are
//! awaited, after the operation's reads. Values are stored as JSON text; those stored
//! before as structured values still read ([`Kv`]).
//!
//! Calls and replies are JSON text both ways, parsed in the wasm, in a header each while
//! short (most are; longer ones are bodies); the client calls the stub's own
//! `fetch(url, init)`, so no `Request` is built on its side.

use crate::error::{AppError, AppResult};
use biopass_idp::grant::{accepted_grant, Issued, Redeemed, Redemption, RedemptionParams};
use biopass_idp::lockout::{answer, moved, Answered, Attempts, CodeAnswer, Earlier, Limit, Reservation};
use biopass_idp::schema::vault_object;
use biopass_service::store::{from_value, in_header, one_object, to_value, Exchanged, Moved, OneTime, RedeemOutcome, StoreError, StoreResult};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cell::Cell;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::{durable_object, DurableObject, Env, ObjectNamespace, Request, Response, State};

/// A Vault operation. Times are Unix seconds.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    Insert {
        value: Value,
        expires_at: u64,
        now: u64,
    },
    /// [`Op::Insert`] of two values at once, the second in the slot `beside` of the same
    /// object, unless either slot holds a live value ([`OneTime::insert_pair`]).
    InsertPair {
        value: Value,
        expires_at: u64,
        beside: Option<String>,
        beside_value: Value,
        beside_expires_at: u64,
        now: u64,
    },
    Take {
        now: u64,
    },
    Get {
        now: u64,
    },
    /// The live values of several slots of the object (`None`: its own value), in one
    /// call; the reply's `values`, in order.
    GetMany {
        now: u64,
        slots: Vec<Option<String>>,
    },
    Replace {
        value: Value,
        now: u64,
    },
    GetOrInsert {
        value: Value,
    },
    Put {
        value: Value,
    },
    Advance {
        to: u64,
    },
    /// The attempts the counter holds, in `value`.
    Attempts,
    /// Whether `limit` would refuse an attempt now: `ok` false and `retry_at` if so.
    /// `earlier`: the counter's layout before, if it moved (the reply's `need_earlier` asks
    /// for it, [`biopass_idp::lockout::moved`]); what it holds is stored here once read.
    Check {
        now: u64,
        window: u64,
        limit: Limit,
        #[serde(default, skip_serializing_if = "Earlier::is_nothing")]
        earlier: Earlier,
    },
    /// Counts an attempt now unless `limit` refuses it (see [`biopass_idp::lockout`]); the
    /// reply's `ok` says whether it was counted, `count` how many there are, `oldest` the
    /// oldest, `retry_at` when a refused attempt may come again and `value` the attempt's id
    /// (for [`Op::Release`]); `earlier` as for [`Op::Check`].
    Reserve {
        now: u64,
        window: u64,
        limit: Limit,
        id: String,
        #[serde(default, skip_serializing_if = "Earlier::is_nothing")]
        earlier: Earlier,
    },
    /// Gives back the attempt `id` (its answer was right, or not an answer at all).
    Release {
        id: String,
    },
    /// Decides a one-time-code answer ([`biopass_idp::lockout::answer`]) on the attempts and
    /// the counter (the last used step) of the value; the reply's `answered` says how.
    Answer {
        answer: CodeAnswer,
    },
    /// The counter ([`Op::Advance`]); the reply's `value` holds it, if any.
    Counter,
    /// Redeems a code's grant ([`biopass_idp::grant::accepted_grant`]): the reply's `value`
    /// is the live grant, if any, and `ok` whether it was taken (removed). A grant taken with
    /// `issued` leaves its record ([`biopass_idp::grant::Redeemed`]) in the slot `into`.
    Redeem {
        now: u64,
        redemption: RedemptionParams,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        issued: Option<Issued>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        into: Option<String>,
    },
    /// Takes the value if it is `expect` and stores `value` in the slot `into` of the same
    /// object until `expires_at` ([`OneTime::exchange`]): the reply's `ok` says whether it
    /// did, `value` holds the live value otherwise. An `into` that holds a live value is an
    /// error, and nothing changes.
    Exchange {
        now: u64,
        expect: Value,
        into: Option<String>,
        value: Value,
        expires_at: u64,
    },
    Clear,
}

/// The header a call travels in, and the one its reply travels in, when their JSON text fits
/// one ([`in_header`]); longer ones are bodies. A
/// header is read at once, where a body is a stream read through a promise on both sides.
const CALL_HEADER: &str = "x-vault-call";
const REPLY_HEADER: &str = "x-vault-reply";

/// One call to an object: `op` on the value in `slot` (`None`: the object's own value, the
/// layout of an object that holds one key).
#[derive(Debug, Serialize, Deserialize)]
pub struct Call {
    #[serde(default)]
    pub slot: Option<String>,
    pub op: Op,
}

/// The storage name of `base` (`e` entry, `n` counter, `attempts`) for `slot`.
fn name(base: &str, slot: Option<&str>) -> String {
    match slot {
        None => base.to_owned(),
        Some(s) => format!("{base}:{s}"),
    }
}

/// The answer to an [`Op`].
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Reply {
    /// Insert, Replace, Advance: whether it took effect.
    #[serde(default)]
    pub ok: bool,
    /// Take, Get, GetOrInsert: the value.
    #[serde(default)]
    pub value: Option<Value>,
    /// Reserve, Count: attempts within the window, and the oldest of them.
    #[serde(default)]
    pub count: u64,
    #[serde(default)]
    pub oldest: u64,
    /// Reserve, refused: when the attempt may come again (Unix seconds).
    #[serde(default)]
    pub retry_at: u64,
    /// Answer: what it did.
    #[serde(default)]
    pub answered: Option<Answered>,
    /// Check, Reserve: the counter stores nothing yet and its layout before is unread;
    /// nothing changed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub need_earlier: bool,
    /// GetMany: the values, in the order asked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<Option<Value>>,
}

#[durable_object]
pub struct Vault {
    state: State,
    /// The alarm's time (Unix ms) as this instance last set or read it; `None`: not known.
    alarm: Cell<Option<i64>>,
    /// When (Unix seconds) this instance last swept the object on setting its alarm later.
    swept_at: Cell<u64>,
}

mod sys {
    use worker::wasm_bindgen::{self, prelude::wasm_bindgen, JsValue};
    use worker::{js_sys, web_sys};

    #[wasm_bindgen]
    extern "C" {
        /// `DurableObjectStorage.kv`: the synchronous key-value API of SQLite-backed objects.
        pub type SyncKvStorage;
        #[wasm_bindgen(method, catch)]
        pub fn get(this: &SyncKvStorage, key: &str) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(method, catch)]
        pub fn put(this: &SyncKvStorage, key: &str, value: JsValue) -> Result<(), JsValue>;
        #[wasm_bindgen(method, catch)]
        pub fn delete(this: &SyncKvStorage, key: &str) -> Result<bool, JsValue>;
        /// An iterator of `[key, value]` pairs, in key order.
        #[wasm_bindgen(method, catch)]
        pub fn list(this: &SyncKvStorage) -> Result<js_sys::Iterator, JsValue>;

        /// A Durable Object stub as the runtime gives it.
        pub type ObjectStub;
        /// `stub.fetch(url, init)`: a promise of the object's `Response`.
        #[wasm_bindgen(method, catch)]
        pub fn fetch(this: &ObjectStub, url: &str, init: &web_sys::RequestInit) -> Result<js_sys::Promise, JsValue>;
    }
}

/// The object's storage through the synchronous key-value API. Values are stored as JSON
/// text (one string across to the runtime, parsed in the wasm); values stored before as
/// `worker::Storage` stores them (structured JavaScript values, serde-wasm-bindgen) still
/// read: a stored string is always this form, as no value was ever stored as one before.
struct Kv(sys::SyncKvStorage);

/// A stored value, of either form [`Kv`] reads.
fn decode<T: DeserializeOwned>(stored: JsValue) -> worker::Result<T> {
    match stored.as_string() {
        Some(text) => serde_json::from_str(&text).map_err(|e| worker::Error::RustError(format!("vault value: {e}"))),
        None => Ok(serde_wasm_bindgen::from_value(stored)?),
    }
}

impl Kv {
    fn of(state: &State) -> worker::Result<Self> {
        let kv = worker::js_sys::Reflect::get(state.storage().as_raw(), &JsValue::from_str("kv"))?;
        if kv.is_undefined() {
            return Err(worker::Error::RustError("the Vault's storage has no synchronous key-value API (not SQLite-backed)".into()));
        }
        Ok(Self(kv.unchecked_into()))
    }

    fn get<T: DeserializeOwned>(&self, key: &str) -> worker::Result<Option<T>> {
        let found = self.0.get(key)?;
        if found.is_undefined() {
            return Ok(None);
        }
        decode(found).map(Some)
    }

    fn put<T: Serialize>(&self, key: &str, value: &T) -> worker::Result<()> {
        let text = serde_json::to_string(value).map_err(|e| worker::Error::RustError(format!("vault value: {e}")))?;
        Ok(self.0.put(key, JsValue::from_str(&text))?)
    }

    fn delete(&self, key: &str) -> worker::Result<()> {
        self.0.delete(key)?;
        Ok(())
    }

    /// Every key with its value.
    fn entries(&self) -> worker::Result<Vec<(String, JsValue)>> {
        let mut out = Vec::new();
        let iter = self.0.list()?;
        loop {
            let next = iter.next()?;
            if next.done() {
                return Ok(out);
            }
            let pair: worker::js_sys::Array = next.value().unchecked_into();
            if let Some(key) = pair.get(0).as_string() {
                out.push((key, pair.get(1)));
            }
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    value: Value,
    /// 0: never.
    expires_at: u64,
}

impl Vault {
    fn live(kv: &Kv, entry: &str, now: u64) -> worker::Result<Option<Entry>> {
        let found: Option<Entry> = kv.get(entry)?;
        Ok(found.filter(|e| e.expires_at == 0 || now < e.expires_at))
    }

    async fn store(&self, kv: &Kv, entry: &str, value: &Entry, now: u64) -> worker::Result<()> {
        kv.put(entry, value)?;
        if value.expires_at > 0 {
            self.arm(kv, value.expires_at, now).await?;
        }
        Ok(())
    }

    /// Sets the alarm for `expires_at` (at [`alarm_time`], the next quarter hour) unless it is
    /// set for then or later. Setting it later first deletes the entries that expired (`now`; at most once a minute): an object whose
    /// alarm keeps moving on (every sign-in of a person shares one, and each sets it for its
    /// own last expiry) would otherwise keep them until it is left alone long enough to ring.
    async fn arm(&self, kv: &Kv, expires_at: u64, now: u64) -> worker::Result<()> {
        let ms = unix_ms(expires_at);
        let storage = self.state.storage();
        let set = match self.alarm.get() {
            Some(known) => Some(known),
            None => storage.get_alarm().await?,
        };
        if set.is_some_and(|at| at >= ms) {
            self.alarm.set(set);
            return Ok(());
        }
        // At most once a minute per instance: a sweep reads every entry of the object.
        if set.is_some() && self.swept_at.get() + 60 <= now {
            self.swept_at.set(now);
            sweep(kv, now)?;
        }
        let at = unix_ms(alarm_time(expires_at));
        storage.set_alarm(worker::ScheduledTime::new(js_sys_date(at))).await?;
        self.alarm.set(Some(at));
        Ok(())
    }

    async fn run(&self, call: Call) -> worker::Result<Reply> {
        let kv = Kv::of(&self.state)?;
        let slot = call.slot.as_deref();
        let (entry, counter, attempts_at) = (name("e", slot), name("n", slot), name("attempts", slot));
        Ok(match call.op {
            Op::Insert { value, expires_at, now } => {
                if Self::live(&kv, &entry, now)?.is_some() {
                    Reply::default()
                } else {
                    self.store(&kv, &entry, &Entry { value, expires_at }, now).await?;
                    Reply { ok: true, ..Reply::default() }
                }
            }
            Op::InsertPair { value, expires_at, beside, beside_value, beside_expires_at, now } => {
                let other = name("e", beside.as_deref());
                if Self::live(&kv, &entry, now)?.is_some() || Self::live(&kv, &other, now)?.is_some() {
                    Reply::default()
                } else {
                    kv.put(&entry, &Entry { value, expires_at })?;
                    kv.put(&other, &Entry { value: beside_value, expires_at: beside_expires_at })?;
                    // Both written before the alarm call gives way; it rings after the later.
                    let latest = expires_at.max(beside_expires_at);
                    if latest > 0 {
                        self.arm(&kv, latest, now).await?;
                    }
                    Reply { ok: true, ..Reply::default() }
                }
            }
            Op::Take { now } => {
                let found = Self::live(&kv, &entry, now)?;
                if found.is_some() {
                    kv.delete(&entry)?;
                }
                Reply { ok: found.is_some(), value: found.map(|e| e.value), ..Reply::default() }
            }
            Op::Get { now } => {
                let found = Self::live(&kv, &entry, now)?;
                Reply { ok: found.is_some(), value: found.map(|e| e.value), ..Reply::default() }
            }
            Op::GetMany { now, slots } => {
                let mut values = Vec::with_capacity(slots.len());
                for s in &slots {
                    values.push(Self::live(&kv, &name("e", s.as_deref()), now)?.map(|e| e.value));
                }
                Reply { ok: true, values, ..Reply::default() }
            }
            Op::Replace { value, now } => match Self::live(&kv, &entry, now)? {
                Some(old) => {
                    kv.put(&entry, &Entry { value, expires_at: old.expires_at })?;
                    Reply { ok: true, ..Reply::default() }
                }
                None => Reply::default(),
            },
            Op::GetOrInsert { value } => match Self::live(&kv, &entry, 0)? {
                Some(existing) => Reply { ok: false, value: Some(existing.value), ..Reply::default() },
                None => {
                    self.store(&kv, &entry, &Entry { value: value.clone(), expires_at: 0 }, 0).await?;
                    Reply { ok: true, value: Some(value), ..Reply::default() }
                }
            },
            Op::Put { value } => {
                kv.put(&entry, &Entry { value, expires_at: 0 })?;
                Reply { ok: true, ..Reply::default() }
            }
            Op::Advance { to } => {
                let current: Option<u64> = kv.get(&counter)?;
                if current.is_none_or(|c| to > c) {
                    kv.put(&counter, &to)?;
                    Reply { ok: true, ..Reply::default() }
                } else {
                    Reply::default()
                }
            }
            Op::Attempts => {
                let attempts: Attempts = kv.get(&attempts_at)?.unwrap_or_default();
                let value = to_value(&attempts).map_err(|e| worker::Error::RustError(e.0))?;
                Reply { ok: true, value: Some(value), ..Reply::default() }
            }
            Op::Check { now, window, limit, earlier } => {
                let Some((mut attempts, carried)) = moved(kv.get(&attempts_at)?, earlier) else {
                    return Ok(Reply { need_earlier: true, ..Reply::default() });
                };
                if carried {
                    kv.put(&attempts_at, &attempts)?;
                }
                let refused = attempts.refused_until(now, window, limit);
                Reply { ok: refused.is_none(), count: attempts.count(), oldest: attempts.oldest(), retry_at: refused.unwrap_or(0), ..Reply::default() }
            }
            Op::Reserve { now, window, limit, id, earlier } => {
                let Some((mut attempts, _)) = moved(kv.get(&attempts_at)?, earlier) else {
                    return Ok(Reply { need_earlier: true, ..Reply::default() });
                };
                let decided = attempts.reserve(now, window, limit, id.clone());
                kv.put(&attempts_at, &attempts)?;
                let oldest = attempts.oldest();
                match decided {
                    Reservation::Counted { count } => Reply { ok: true, value: Some(Value::String(id)), count, oldest, ..Reply::default() },
                    Reservation::Refused { count, retry_at } => Reply { ok: false, count, oldest, retry_at, ..Reply::default() },
                }
            }
            Op::Answer { answer: a } => {
                // The object's own value, when the answer may be barred by it.
                let own = match a.barred_by {
                    Some(_) => Self::live(&kv, &name("e", None), a.now)?.map(|e| e.value),
                    None => None,
                };
                let mut attempts: Attempts = kv.get(&attempts_at)?.unwrap_or_default();
                let mut last: Option<u64> = kv.get(&counter)?;
                let before = (attempts.clone(), last);
                let answered = answer(&mut attempts, &mut last, own.as_ref(), a);
                if before.0 != attempts {
                    kv.put(&attempts_at, &attempts)?;
                }
                if let (Some(l), true) = (last, before.1 != last) {
                    kv.put(&counter, &l)?;
                }
                Reply { ok: answered == Answered::Accepted, answered: Some(answered), ..Reply::default() }
            }
            Op::Redeem { now, redemption, issued, into } => match Self::live(&kv, &entry, now)? {
                None => Reply::default(),
                Some(found) => {
                    let grant = accepted_grant(&found.value, &redemption.as_redemption(), now);
                    if let Some(grant) = &grant {
                        kv.delete(&entry)?;
                        if let Some(issued) = issued {
                            let record = Redeemed::of(grant, issued);
                            let expires_at = record.until;
                            let value = to_value(&record).map_err(|e| worker::Error::RustError(e.0))?;
                            self.store(&kv, &name("e", into.as_deref()), &Entry { value, expires_at }, now).await?;
                        }
                    }
                    Reply { ok: grant.is_some(), value: Some(found.value), ..Reply::default() }
                }
            },
            Op::Exchange { now, expect, into, value, expires_at } => {
                let target = name("e", into.as_deref());
                if Self::live(&kv, &target, now)?.is_some() {
                    return Err(worker::Error::RustError("exchange into a live value".into()));
                }
                match Self::live(&kv, &entry, now)? {
                    Some(found) if found.value == expect => {
                        kv.delete(&entry)?;
                        self.store(&kv, &target, &Entry { value, expires_at }, now).await?;
                        Reply { ok: true, ..Reply::default() }
                    }
                    found => Reply { ok: false, value: found.map(|e| e.value), ..Reply::default() },
                }
            }
            Op::Counter => {
                let current: Option<u64> = kv.get(&counter)?;
                Reply { ok: current.is_some(), value: current.map(Value::from), ..Reply::default() }
            }
            Op::Release { id } => {
                // Written only when the attempt was there: a counter that stores nothing still
                // takes on its layout before ([`Op::Check`]).
                let mut attempts: Attempts = kv.get(&attempts_at)?.unwrap_or_default();
                let ok = attempts.release(&id);
                if ok {
                    kv.put(&attempts_at, &attempts)?;
                }
                Reply { ok, ..Reply::default() }
            }
            Op::Clear => {
                match slot {
                    None => {
                        // The whole object, its alarm too: the alarm this instance knew is gone.
                        self.state.storage().delete_all().await?;
                        self.alarm.set(None);
                    }
                    Some(_) => {
                        for name in [entry, counter, attempts_at] {
                            kv.delete(&name)?;
                        }
                    }
                }
                Reply { ok: true, ..Reply::default() }
            }
        })
    }

    /// The alarm: deletes the entries that expired; when nothing else is stored, the whole
    /// object; otherwise sets the alarm again for the latest expiry still ahead, if any (at
    /// the quarter hour after it, [`Vault::arm`]).
    async fn expire(&self, now: u64) -> worker::Result<()> {
        self.alarm.set(None);
        let kv = Kv::of(&self.state)?;
        let plan = sweep(&kv, now)?;
        // Swept just now: setting the alarm again need not sweep a second time.
        self.swept_at.set(now);
        if !plan.kept {
            return self.state.storage().delete_all().await;
        }
        if let Some(at) = plan.later {
            self.arm(&kv, at, now).await?;
        }
        Ok(())
    }
}

/// How far an alarm's time is rounded up: a quarter of an hour, so the sign-ins of a person
/// that follow each other within it move the object's alarm once (each move is a write of
/// the runtime's alarm index), at the cost of what expired staying stored that much longer
/// (absent to every operation all the same).
const ALARM_GRAIN: u64 = 15 * 60;

/// The time (Unix seconds) the alarm is set for to remove what expires at `expires_at`.
fn alarm_time(expires_at: u64) -> u64 {
    expires_at.div_ceil(ALARM_GRAIN).saturating_mul(ALARM_GRAIN)
}

/// Unix seconds in milliseconds, as the alarm API takes them.
fn unix_ms(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX / 1000).saturating_mul(1000)
}

/// Deletes the entries that expired by `now` ([`sweep_plan`]) unless nothing else is stored
/// (the caller then deletes the whole object); the plan it followed.
fn sweep(kv: &Kv, now: u64) -> worker::Result<SweepPlan> {
    let stored: Vec<(String, Option<u64>)> = kv
        .entries()?
        .into_iter()
        .map(|(name, value)| {
            // `e` and `e:{slot}` are entries; counters and attempts are not.
            let expires_at = if name == "e" || name.starts_with("e:") { decode::<Entry>(value).ok().map(|e| e.expires_at) } else { None };
            (name, expires_at)
        })
        .collect();
    let plan = sweep_plan(stored, now);
    if plan.kept {
        for name in &plan.expired {
            kv.delete(name)?;
        }
    }
    Ok(plan)
}

/// What a sweep does with an object's stored names.
#[derive(Debug, PartialEq, Eq)]
struct SweepPlan {
    /// The entries that expired: deleted.
    expired: Vec<String>,
    /// The latest expiry still ahead.
    later: Option<u64>,
    /// Whether anything stays (counters, attempts, entries that never expire or are live).
    kept: bool,
}

/// The sweep of `stored` (each name with its entry's expiry, 0 for never; `None` for what is
/// not an entry, kept) at `now`.
fn sweep_plan(stored: Vec<(String, Option<u64>)>, now: u64) -> SweepPlan {
    let mut plan = SweepPlan { expired: Vec::new(), later: None, kept: false };
    for (name, expires_at) in stored {
        match expires_at {
            Some(at) if at > 0 && at <= now => plan.expired.push(name),
            Some(at) if at > now => {
                plan.later = Some(plan.later.map_or(at, |l| l.max(at)));
                plan.kept = true;
            }
            _ => plan.kept = true,
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::{alarm_time, sweep_plan, unix_ms, Call, Op, Reply, SweepPlan};
    use biopass_idp::lockout::{Attempts, Earlier, Limit};

    #[test]
    fn a_counters_layout_before_travels_only_when_named_and_a_call_without_it_reads() {
        let limit = Limit::Lock { max: 5 };
        let call = |earlier| Call { slot: Some("fail-face".into()), op: Op::Check { now: 10, window: 900, limit, earlier } };
        let plain = serde_json::to_string(&call(Earlier::Nothing)).unwrap();
        assert!(!plain.contains("earlier"), "{plain}");
        // A call of the version before (no `earlier`) reads as one with nothing before.
        let read: Call = serde_json::from_str(&plain).unwrap();
        assert!(matches!(read.op, Op::Check { earlier: Earlier::Nothing, .. }));
        for earlier in [Earlier::Unread, Earlier::Read(Attempts(vec![(5, "a".into())]))] {
            let text = serde_json::to_string(&call(earlier.clone())).unwrap();
            let read: Call = serde_json::from_str(&text).unwrap();
            assert!(matches!(read.op, Op::Check { earlier: ref e, .. } if *e == earlier), "{text}");
        }
        let reserve = Call { slot: None, op: Op::Reserve { now: 1, window: 2, limit, id: "x".into(), earlier: Earlier::Unread } };
        let read: Call = serde_json::from_str(&serde_json::to_string(&reserve).unwrap()).unwrap();
        assert!(matches!(read.op, Op::Reserve { earlier: Earlier::Unread, .. }));
        // The reply says `need_earlier` only when it is so.
        assert!(!serde_json::to_string(&Reply::default()).unwrap().contains("need_earlier"));
        let asked: Reply = serde_json::from_str(&serde_json::to_string(&Reply { need_earlier: true, ..Reply::default() }).unwrap()).unwrap();
        assert!(asked.need_earlier);
        assert!(!serde_json::from_str::<Reply>("{\"ok\":true}").unwrap().need_earlier);
    }

    #[test]
    fn an_alarm_is_set_at_the_next_quarter_hour_at_or_after_the_expiry() {
        assert_eq!(alarm_time(900), 900);
        assert_eq!(alarm_time(901), 1800);
        assert_eq!(alarm_time(1799), 1800);
        // Sign-ins a few minutes apart within one quarter hour share one alarm time.
        assert_eq!(alarm_time(1_700_000_100 + 60), alarm_time(1_700_000_100 + 300));
        assert_eq!(alarm_time(u64::MAX), u64::MAX);
        assert_eq!(unix_ms(2), 2000);
        assert_eq!(unix_ms(u64::MAX), i64::MAX / 1000 * 1000);
    }

    #[test]
    fn a_sweep_deletes_what_expired_and_keeps_the_rest() {
        let stored = |pairs: &[(&str, Option<u64>)]| pairs.iter().map(|(n, e)| ((*n).to_owned(), *e)).collect::<Vec<_>>();
        // A person's sign-in object in use: two earlier sign-ins' values expired, one live.
        let plan = sweep_plan(stored(&[("e:par:a", Some(100)), ("e:code-used:a", Some(150)), ("e:tx:b", Some(900)), ("attempts:x", None)]), 200);
        assert_eq!(plan, SweepPlan { expired: vec!["e:par:a".into(), "e:code-used:a".into()], later: Some(900), kept: true });
        // At its expiry to the second; an entry that never expires stays.
        let plan = sweep_plan(stored(&[("e", Some(200)), ("e:forever", Some(0))]), 200);
        assert_eq!(plan, SweepPlan { expired: vec!["e".into()], later: None, kept: true });
        // Nothing left: the whole object goes.
        assert!(!sweep_plan(stored(&[("e:par:a", Some(100)), ("e:tx:a", Some(150))]), 200).kept);
    }
}

/// The whole body of a response, read by the runtime (`Response.text()`): `worker`'s own
/// `Response::text` reads a streamed body chunk by chunk through the wasm (in a profile of
/// code exchanges, ~2.2 ms of the 12.4 sampled per exchange).
async fn body_text(web: worker::web_sys::Response) -> worker::Result<String> {
    let text = worker::wasm_bindgen_futures::JsFuture::from(web.text()?).await?;
    text.as_string().ok_or_else(|| worker::Error::RustError("a response body that is not text".into()))
}

fn js_sys_date(ms: i64) -> worker::js_sys::Date {
    worker::js_sys::Date::new(&worker::wasm_bindgen::JsValue::from_f64(ms as f64))
}

impl DurableObject for Vault {
    fn new(state: State, _env: Env) -> Self {
        Self { state, alarm: Cell::new(None), swept_at: Cell::new(0) }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        // The call in its header, or (too long for one) in the body; parsed in the wasm from
        // one string (`Request::json` would walk a JavaScript object).
        let text = match req.headers().get(CALL_HEADER)? {
            Some(text) => text,
            None => req.text().await?,
        };
        let call: Call = serde_json::from_str(&text).map_err(|e| worker::Error::RustError(format!("vault call: {e}")))?;
        let reply = self.run(call).await?;
        let text = serde_json::to_string(&reply).map_err(|e| worker::Error::RustError(format!("vault reply: {e}")))?;
        if let Some(value) = in_header(&text) {
            let mut answer = Response::empty()?;
            answer.headers_mut().set(REPLY_HEADER, &value)?;
            return Ok(answer);
        }
        Response::ok(text)
    }

    async fn alarm(&self) -> worker::Result<Response> {
        self.expire(crate::clock::now()).await?;
        Response::ok("")
    }
}

/// The worker's handle on the Vault namespace.
pub struct VaultClient {
    ns: ObjectNamespace,
}

impl VaultClient {
    pub fn new(ns: ObjectNamespace) -> Self {
        Self { ns }
    }

    /// Runs `op` on `key`, in the object and slot `vault_object` names for it.
    ///
    /// # Errors
    /// Internal errors when the object cannot be reached.
    pub async fn run(&self, key: &str, op: Op) -> AppResult<Reply> {
        let (object, slot) = vault_object(key);
        // The stub's own `fetch(url, init)`: the runtime makes the request, none is built
        // here (`worker::Request` would also read the request's `cf` properties).
        let stub: sys::ObjectStub = self.ns.get_by_name(object)?.into_rpc();
        let call = Call { slot: slot.map(str::to_owned), op };
        let text = serde_json::to_string(&call).map_err(|e| AppError::internal(format!("vault op: {e}")))?;
        let init = worker::web_sys::RequestInit::new();
        if let Some(value) = in_header(&text) {
            let headers = worker::web_sys::Headers::new().map_err(worker::Error::from)?;
            headers.set(CALL_HEADER, &value).map_err(worker::Error::from)?;
            init.set_headers(&headers);
        } else {
            init.set_method("POST");
            init.set_body(&JsValue::from_str(&text));
        }
        let answered = worker::wasm_bindgen_futures::JsFuture::from(stub.fetch("https://vault/op", &init).map_err(worker::Error::from)?)
            .await
            .map_err(worker::Error::from)?;
        let resp: worker::web_sys::Response = answered.unchecked_into();
        if resp.status() != 200 {
            return Err(AppError::internal(format!("vault answered {}", resp.status())));
        }
        let text = match resp.headers().get(REPLY_HEADER).map_err(worker::Error::from)? {
            Some(text) => text,
            None => body_text(resp).await?,
        };
        serde_json::from_str(&text).map_err(|e| AppError::internal(format!("vault reply: {e}")))
    }

    async fn run_op(&self, key: &str, op: Op) -> StoreResult<Reply> {
        self.run(key, op).await.map_err(|e| match e {
            AppError::Internal(detail) => StoreError(detail),
            other => StoreError(format!("{other:?}")),
        })
    }

    // Typed forms of the `OneTime` operations (values serialised here), for the handlers.

    /// Stores `value` under `key` until `expires_at`, unless the key is taken.
    pub async fn insert<T: Serialize>(&self, key: &str, value: &T, expires_at: u64, now: u64) -> AppResult<bool> {
        Ok(OneTime::insert(self, key, to_value(value)?, expires_at, now).await?)
    }

    /// Removes and returns the live value under `key`: at most one caller ever gets it.
    pub async fn take<T: DeserializeOwned>(&self, key: &str, now: u64) -> AppResult<Option<T>> {
        Ok(from_value(OneTime::take(self, key, now).await?)?)
    }

    pub async fn get<T: DeserializeOwned>(&self, key: &str, now: u64) -> AppResult<Option<T>> {
        Ok(from_value(OneTime::get(self, key, now).await?)?)
    }

    /// Replaces the live value under `key`, keeping its expiry; false if it is gone.
    pub async fn replace<T: Serialize>(&self, key: &str, value: &T, now: u64) -> AppResult<bool> {
        Ok(OneTime::replace(self, key, to_value(value)?, now).await?)
    }

    /// The value under `key`, inserting `value` (forever) if there is none.
    pub async fn get_or_insert<T: Serialize + DeserializeOwned>(&self, key: &str, value: &T) -> AppResult<T> {
        let stored = OneTime::get_or_insert(self, key, to_value(value)?).await?;
        from_value(Some(stored))?.ok_or_else(|| AppError::internal("vault get_or_insert returned nothing"))
    }

    pub async fn put<T: Serialize>(&self, key: &str, value: &T) -> AppResult<()> {
        Ok(OneTime::put(self, key, to_value(value)?).await?)
    }

    /// Moves the counter under `key` up to `to`; false if it was already there or beyond.
    pub async fn advance(&self, key: &str, to: u64) -> AppResult<bool> {
        Ok(OneTime::advance(self, key, to).await?)
    }

    pub async fn clear(&self, key: &str) -> AppResult<()> {
        Ok(OneTime::clear(self, key).await?)
    }
}

/// The service layer's view of the Vault (`biopass_service::store::OneTime`): the same
/// operations, keyed by the schema.
impl OneTime for VaultClient {
    async fn insert(&self, key: &str, value: Value, expires_at: u64, now: u64) -> StoreResult<bool> {
        self.run_op(key, Op::Insert { value, expires_at, now }).await.map(|r| r.ok)
    }
    async fn take(&self, key: &str, now: u64) -> StoreResult<Option<Value>> {
        self.run_op(key, Op::Take { now }).await.map(|r| r.value)
    }
    async fn get(&self, key: &str, now: u64) -> StoreResult<Option<Value>> {
        self.run_op(key, Op::Get { now }).await.map(|r| r.value)
    }
    async fn get_many(&self, keys: &[String], now: u64) -> StoreResult<Vec<Option<Value>>> {
        let Some(first) = keys.first() else { return Ok(Vec::new()) };
        one_object(keys)?;
        let slots = keys.iter().map(|k| vault_object(k).1.map(str::to_owned)).collect();
        let reply = self.run_op(first, Op::GetMany { now, slots }).await?;
        if reply.values.len() != keys.len() {
            return Err(StoreError(format!("vault get_many answered {} values for {}", reply.values.len(), keys.len())));
        }
        Ok(reply.values)
    }
    async fn replace(&self, key: &str, value: Value, now: u64) -> StoreResult<bool> {
        self.run_op(key, Op::Replace { value, now }).await.map(|r| r.ok)
    }
    async fn get_or_insert(&self, key: &str, value: Value) -> StoreResult<Value> {
        self.run_op(key, Op::GetOrInsert { value }).await?.value.ok_or_else(|| StoreError("vault get_or_insert returned nothing".into()))
    }
    async fn put(&self, key: &str, value: Value) -> StoreResult<()> {
        self.run_op(key, Op::Put { value }).await.map(|_| ())
    }
    async fn advance(&self, key: &str, to: u64) -> StoreResult<bool> {
        self.run_op(key, Op::Advance { to }).await.map(|r| r.ok)
    }
    async fn reserve(&self, key: &str, now: u64, window: u64, limit: Limit, id: String, earlier: Earlier) -> StoreResult<Moved<Result<(String, u64), u64>>> {
        let r = self.run_op(key, Op::Reserve { now, window, limit, id, earlier }).await?;
        Ok(match (r.need_earlier, r.ok, r.value) {
            (true, _, _) => Moved::NeedEarlier,
            (false, true, Some(Value::String(id))) => Moved::Done(Ok((id, r.count))),
            _ => Moved::Done(Err(r.retry_at.max(now + 1))),
        })
    }
    async fn release(&self, key: &str, id: &str) -> StoreResult<()> {
        self.run_op(key, Op::Release { id: id.to_owned() }).await.map(|_| ())
    }
    async fn refused_until(&self, key: &str, now: u64, window: u64, limit: Limit, earlier: Earlier) -> StoreResult<Moved<Option<u64>>> {
        let r = self.run_op(key, Op::Check { now, window, limit, earlier }).await?;
        Ok(if r.need_earlier { Moved::NeedEarlier } else { Moved::Done((!r.ok).then(|| r.retry_at.max(now + 1))) })
    }
    async fn attempts(&self, key: &str) -> StoreResult<Attempts> {
        Ok(from_value(self.run_op(key, Op::Attempts).await?.value)?.unwrap_or_default())
    }
    async fn answer(&self, key: &str, answer: CodeAnswer) -> StoreResult<Answered> {
        self.run_op(key, Op::Answer { answer }).await?.answered.ok_or_else(|| StoreError("vault answer returned nothing".into()))
    }
    async fn counter(&self, key: &str) -> StoreResult<Option<u64>> {
        Ok(self.run_op(key, Op::Counter).await?.value.and_then(|v| v.as_u64()))
    }
    async fn clear(&self, key: &str) -> StoreResult<()> {
        self.run_op(key, Op::Clear).await.map(|_| ())
    }
    async fn redeem(&self, key: &str, now: u64, redemption: &Redemption<'_>, record: Option<(&str, &Issued)>) -> StoreResult<RedeemOutcome> {
        if let Some((into, _)) = record {
            one_object(&[key, into])?;
        }
        let into = record.and_then(|(into, _)| vault_object(into).1.map(str::to_owned));
        let issued = record.map(|(_, issued)| issued.clone());
        let reply = self.run_op(key, Op::Redeem { now, redemption: RedemptionParams::of(redemption), issued, into }).await?;
        Ok(match (reply.ok, reply.value) {
            (_, None) => RedeemOutcome::Absent,
            (true, Some(grant)) => RedeemOutcome::Taken(grant),
            (false, Some(grant)) => RedeemOutcome::Refused(grant),
        })
    }
    async fn insert_pair(&self, first: (&str, Value, u64), second: (&str, Value, u64), now: u64) -> StoreResult<bool> {
        one_object(&[first.0, second.0])?;
        let (key, value, expires_at) = first;
        let beside = vault_object(second.0).1.map(str::to_owned);
        let op = Op::InsertPair { value, expires_at, beside, beside_value: second.1, beside_expires_at: second.2, now };
        self.run_op(key, op).await.map(|r| r.ok)
    }
    async fn exchange(&self, key: &str, expect: &Value, into: &str, value: Value, expires_at: u64, now: u64) -> StoreResult<Exchanged> {
        one_object(&[key, into])?;
        let into = vault_object(into).1.map(str::to_owned);
        let reply = self.run_op(key, Op::Exchange { now, expect: expect.clone(), into, value, expires_at }).await?;
        Ok(match (reply.ok, reply.value) {
            (true, _) => Exchanged::Done,
            (false, Some(found)) => Exchanged::Holds(found),
            (false, None) => Exchanged::Absent,
        })
    }
}
