//! In-memory twins of the stores: [`MemoryVault`], a [`OneTime`] with the Vault's semantics
//! (expiry on read, attempts counted by `biopass_idp::lockout`); [`MemoryRecords`], a
//! [`Records`] with KV's (values with metadata, listings in key order with a cursor); and a
//! [`Clock`] that tests advance instead of sleeping.

use crate::records::{Listed, Listing, Records};
use crate::store::{one_object, to_value, Exchanged, Moved, OneTime, RedeemOutcome, StoreError, StoreResult};
use biopass_idp::grant::{accepted_grant, Issued, Redeemed, Redemption};
use biopass_idp::lockout::{answer, moved, Answered, Attempts, CodeAnswer, Earlier, Limit, Reservation};
use biopass_idp::schema::vault_object;
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Gives way once before an operation runs, as a request to the Durable Object or KV
/// does, so futures joined in a test interleave at every store operation instead of each
/// running to its end in one poll (what makes a race in a test a race).
pub struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// A future that gives way once ([`YieldOnce`]), as a subrequest does.
pub fn give_way() -> YieldOnce {
    YieldOnce(false)
}

/// Unix seconds that move only when told to.
#[derive(Debug, Default)]
pub struct Clock(Cell<u64>);

impl Clock {
    pub fn at(now: u64) -> Self {
        Self(Cell::new(now))
    }

    pub fn now(&self) -> u64 {
        self.0.get()
    }

    pub fn advance(&self, seconds: u64) {
        self.0.set(self.0.get() + seconds);
    }
}

#[derive(Debug, Default)]
struct Slot {
    /// The value and when it expires (0: never).
    entry: Option<(Value, u64)>,
    counter: Option<u64>,
    /// `None` until an operation stores some (as the Vault stores none before).
    attempts: Option<Attempts>,
}

/// The Vault in memory: one slot per key. It also records which Durable Object each
/// operation would reach in the worker (`biopass_idp::schema::vault_object`), so tests can
/// count the calls and the objects a flow makes.
#[derive(Debug, Default)]
pub struct MemoryVault {
    slots: RefCell<HashMap<String, Slot>>,
    calls: RefCell<Vec<(String, String)>>,
    /// Objects whose clears fail ([`MemoryVault::fail_clears_in`]).
    failing_clears: RefCell<Vec<String>>,
}

impl MemoryVault {
    fn with<R>(&self, key: &str, f: impl FnOnce(&mut Slot) -> R) -> R {
        self.calls.borrow_mut().push((vault_object(key).0.to_owned(), key.to_owned()));
        let mut slots = self.slots.borrow_mut();
        f(slots.entry(key.to_owned()).or_default())
    }

    /// The object and key of each operation since the last call, in order; the record
    /// starts again empty.
    pub fn take_calls(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.calls.borrow_mut())
    }

    /// From now on every [`OneTime::clear`] of a key in `object` fails (and changes
    /// nothing), as a store that cannot be reached would.
    pub fn fail_clears_in(&self, object: &str) {
        self.failing_clears.borrow_mut().push(object.to_owned());
    }
}

fn live(slot: &Slot, now: u64) -> Option<&Value> {
    slot.entry.as_ref().filter(|(_, exp)| *exp == 0 || now < *exp).map(|(v, _)| v)
}

impl OneTime for MemoryVault {
    async fn insert(&self, key: &str, value: Value, expires_at: u64, now: u64) -> StoreResult<bool> {
        give_way().await;
        Ok(self.with(key, |s| {
            if live(s, now).is_some() {
                return false;
            }
            s.entry = Some((value, expires_at));
            true
        }))
    }

    async fn take(&self, key: &str, now: u64) -> StoreResult<Option<Value>> {
        give_way().await;
        Ok(self.with(key, |s| {
            let value = live(s, now).cloned();
            if value.is_some() {
                s.entry = None;
            }
            value
        }))
    }

    async fn get(&self, key: &str, now: u64) -> StoreResult<Option<Value>> {
        give_way().await;
        Ok(self.with(key, |s| live(s, now).cloned()))
    }

    async fn get_many(&self, keys: &[String], now: u64) -> StoreResult<Vec<Option<Value>>> {
        give_way().await;
        let Some(object) = one_object(keys)? else { return Ok(Vec::new()) };
        self.calls.borrow_mut().push((object.to_owned(), keys.join(" ")));
        let slots = self.slots.borrow();
        Ok(keys.iter().map(|k| slots.get(k).and_then(|s| live(s, now).cloned())).collect())
    }

    async fn replace(&self, key: &str, value: Value, now: u64) -> StoreResult<bool> {
        give_way().await;
        Ok(self.with(key, |s| match (live(s, now).is_some(), s.entry.as_mut()) {
            (true, Some(entry)) => {
                entry.0 = value;
                true
            }
            _ => false,
        }))
    }

    async fn get_or_insert(&self, key: &str, value: Value) -> StoreResult<Value> {
        give_way().await;
        Ok(self.with(key, |s| match live(s, 0) {
            Some(existing) => existing.clone(),
            None => {
                s.entry = Some((value.clone(), 0));
                value
            }
        }))
    }

    async fn put(&self, key: &str, value: Value) -> StoreResult<()> {
        give_way().await;
        self.with(key, |s| s.entry = Some((value, 0)));
        Ok(())
    }

    async fn advance(&self, key: &str, to: u64) -> StoreResult<bool> {
        give_way().await;
        Ok(self.with(key, |s| {
            if s.counter.is_none_or(|c| to > c) {
                s.counter = Some(to);
                true
            } else {
                false
            }
        }))
    }

    async fn reserve(&self, key: &str, now: u64, window: u64, limit: Limit, id: String, earlier: Earlier) -> StoreResult<Moved<Result<(String, u64), u64>>> {
        give_way().await;
        Ok(self.with(key, |s| {
            let Some((mut attempts, _)) = moved(s.attempts.take(), earlier) else {
                return Moved::NeedEarlier;
            };
            let decided = attempts.reserve(now, window, limit, id.clone());
            s.attempts = Some(attempts);
            Moved::Done(match decided {
                Reservation::Counted { count } => Ok((id, count)),
                Reservation::Refused { retry_at, .. } => Err(retry_at.max(now + 1)),
            })
        }))
    }

    async fn release(&self, key: &str, id: &str) -> StoreResult<()> {
        give_way().await;
        // Stored only when the attempt was there, as the Vault does.
        self.with(key, |s| {
            if let Some(attempts) = &mut s.attempts {
                attempts.release(id);
            }
        });
        Ok(())
    }

    async fn refused_until(&self, key: &str, now: u64, window: u64, limit: Limit, earlier: Earlier) -> StoreResult<Moved<Option<u64>>> {
        give_way().await;
        Ok(self.with(key, |s| {
            let Some((mut attempts, carried)) = moved(s.attempts.clone(), earlier) else {
                return Moved::NeedEarlier;
            };
            // A check stores only what it took on from the layout before, as the Vault does.
            if carried {
                s.attempts = Some(attempts.clone());
            }
            let refused = attempts.refused_until(now, window, limit).map(|t| t.max(now + 1));
            Moved::Done(refused)
        }))
    }

    async fn attempts(&self, key: &str) -> StoreResult<Attempts> {
        give_way().await;
        Ok(self.with(key, |s| s.attempts.clone().unwrap_or_default()))
    }

    async fn answer(&self, key: &str, a: CodeAnswer) -> StoreResult<Answered> {
        give_way().await;
        // The value of the object that keeps the counter: its own key's entry.
        let own = self.slots.borrow().get(vault_object(key).0).and_then(|s| live(s, a.now).cloned());
        Ok(self.with(key, |s| {
            let mut attempts = s.attempts.clone().unwrap_or_default();
            let answered = answer(&mut attempts, &mut s.counter, own.as_ref(), a);
            // Stored when they changed, as the Vault does.
            if s.attempts.as_ref().unwrap_or(&Attempts::default()) != &attempts {
                s.attempts = Some(attempts);
            }
            answered
        }))
    }

    async fn counter(&self, key: &str) -> StoreResult<Option<u64>> {
        give_way().await;
        Ok(self.with(key, |s| s.counter))
    }

    /// As in the worker: clearing an object's own value clears the whole object (its slots
    /// too); clearing a slot clears that slot.
    async fn clear(&self, key: &str) -> StoreResult<()> {
        give_way().await;
        self.calls.borrow_mut().push((vault_object(key).0.to_owned(), key.to_owned()));
        if self.failing_clears.borrow().iter().any(|o| o == vault_object(key).0) {
            return Err(StoreError(format!("clear {key}: the object cannot be reached")));
        }
        let mut slots = self.slots.borrow_mut();
        match vault_object(key) {
            (object, None) => slots.retain(|k, _| vault_object(k).0 != object),
            _ => {
                slots.remove(key);
            }
        }
        Ok(())
    }

    async fn redeem(&self, key: &str, now: u64, redemption: &Redemption<'_>, record: Option<(&str, &Issued)>) -> StoreResult<RedeemOutcome> {
        give_way().await;
        if let Some((into, _)) = record {
            one_object(&[key, into])?;
        }
        let (outcome, recorded) = self.with(key, |s| match live(s, now).cloned() {
            None => (RedeemOutcome::Absent, None),
            Some(stored) => match accepted_grant(&stored, redemption, now) {
                Some(grant) => {
                    s.entry = None;
                    (RedeemOutcome::Taken(stored), record.map(|(into, issued)| (into, Redeemed::of(&grant, issued.clone()))))
                }
                None => (RedeemOutcome::Refused(stored), None),
            },
        });
        if let Some((into, r)) = recorded {
            let until = r.until;
            self.slots.borrow_mut().entry(into.to_owned()).or_default().entry = Some((to_value(&r)?, until));
        }
        Ok(outcome)
    }

    async fn insert_pair(&self, first: (&str, Value, u64), second: (&str, Value, u64), now: u64) -> StoreResult<bool> {
        give_way().await;
        one_object(&[first.0, second.0])?;
        self.calls.borrow_mut().push((vault_object(first.0).0.to_owned(), format!("{} {}", first.0, second.0)));
        let mut slots = self.slots.borrow_mut();
        if [first.0, second.0].iter().any(|k| slots.get(*k).is_some_and(|s| live(s, now).is_some())) {
            return Ok(false);
        }
        for (key, value, expires_at) in [first, second] {
            slots.entry(key.to_owned()).or_default().entry = Some((value, expires_at));
        }
        Ok(true)
    }

    async fn exchange(&self, key: &str, expect: &Value, into: &str, value: Value, expires_at: u64, now: u64) -> StoreResult<Exchanged> {
        give_way().await;
        one_object(&[key, into])?;
        self.calls.borrow_mut().push((vault_object(key).0.to_owned(), format!("{key} {into}")));
        let mut slots = self.slots.borrow_mut();
        if slots.get(into).is_some_and(|s| live(s, now).is_some()) {
            return Err(StoreError(format!("exchange into a live value: {into}")));
        }
        let taken = slots.entry(key.to_owned()).or_default();
        match live(taken, now).cloned() {
            None => Ok(Exchanged::Absent),
            Some(found) if found != *expect => Ok(Exchanged::Holds(found)),
            Some(_) => {
                taken.entry = None;
                slots.entry(into.to_owned()).or_default().entry = Some((value, expires_at));
                Ok(Exchanged::Done)
            }
        }
    }
}

/// KV in memory: keys in order, each with its value and metadata. A time to live is kept
/// but not enforced (only the audit log sets one, of 400 days).
#[derive(Debug, Default)]
pub struct MemoryRecords {
    entries: RefCell<BTreeMap<String, Entry>>,
    /// Every operation as `"get key"`, `"put key"`, `"delete key"` or `"list prefix"`:
    /// what a test counts.
    calls: RefCell<Vec<String>>,
    /// What [`Records::get_remembered`] read, as an isolate of the worker keeps it; writes
    /// do not drop it, as writes made through another isolate do not.
    remembered: RefCell<BTreeMap<String, String>>,
}

/// A value, its metadata and its time to live.
type Entry = (String, Option<Value>, Option<u64>);

impl MemoryRecords {
    /// Every key, in order (what a test inspects).
    pub fn keys(&self) -> Vec<String> {
        self.entries.borrow().keys().cloned().collect()
    }

    /// The operations since the last call, oldest first.
    pub fn take_calls(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.borrow_mut())
    }

    fn log(&self, op: &str, key: &str) {
        self.calls.borrow_mut().push(format!("{op} {key}"));
    }
}

impl Records for MemoryRecords {
    async fn get(&self, key: &str) -> StoreResult<Option<String>> {
        give_way().await;
        self.log("get", key);
        Ok(self.entries.borrow().get(key).map(|(v, _, _)| v.clone()))
    }

    async fn get_remembered(&self, key: &str) -> StoreResult<Option<String>> {
        if let Some(kept) = self.remembered.borrow().get(key) {
            return Ok(Some(kept.clone()));
        }
        let read = self.get(key).await?;
        if let Some(value) = &read {
            self.remembered.borrow_mut().insert(key.to_owned(), value.clone());
        }
        Ok(read)
    }

    fn forget(&self, key: &str) {
        self.remembered.borrow_mut().remove(key);
    }

    async fn put(&self, key: &str, value: String, metadata: Option<Value>, ttl_seconds: Option<u64>) -> StoreResult<()> {
        give_way().await;
        self.log("put", key);
        self.entries.borrow_mut().insert(key.to_owned(), (value, metadata, ttl_seconds));
        Ok(())
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        give_way().await;
        self.log("delete", key);
        self.entries.borrow_mut().remove(key);
        Ok(())
    }

    /// The cursor is the last key of the page (KV's is opaque; callers only pass it back).
    async fn list(&self, prefix: &str, limit: u64, cursor: Option<String>) -> StoreResult<Listing> {
        give_way().await;
        self.log("list", prefix);
        let entries = self.entries.borrow();
        let after = |k: &String| cursor.as_ref().is_none_or(|c| k > c);
        let mut matching = entries.iter().filter(|(k, _)| k.starts_with(prefix) && after(k));
        let keys: Vec<Listed> = matching
            .by_ref()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|(k, (_, m, _))| Listed { name: k.clone(), metadata: m.clone() })
            .collect();
        let more = matching.next().is_some();
        let next_cursor = if more { keys.last().map(|k| k.name.clone()) } else { None };
        Ok(Listing { keys, next_cursor })
    }
}
