//! What every operation of the service works with: the two stores, the configuration that
//! is not per request (issuer, master key), and the request's instant and entropy. The edge
//! worker builds one per request from its bindings; tests build one over the in-memory
//! stores ([`Context::new`]) and move `now` instead of sleeping.

use crate::records::{RecordStore, Records};
use crate::store::{to_value, OneTime, StoreResult};
use biopass_idp::random::{Entropy, SeededEntropy};
use biopass_idp::schema::VaultKey;
use biopass_idp::secretbox::MasterKey;
use biopass_idp::user::UserRecord;
use biopass_proto::admin::AuditEntry;

/// Where the service's log lines go (the Workers console in the worker, a test's buffer or
/// stderr natively). Secrets and face templates never reach it.
pub type Log = fn(&str);

/// The stores, configuration, instant and entropy of one request.
pub struct Context<V, R> {
    pub vault: V,
    pub records: RecordStore<R>,
    /// The issuer URL, no trailing slash.
    pub issuer: String,
    pub master: MasterKey,
    /// Unix seconds.
    pub now: u64,
    /// The same instant in milliseconds (the audit log's order).
    pub now_ms: u64,
    pub rng: SeededEntropy,
    pub log: Log,
}

impl<V: OneTime, R: Records> Context<V, R> {
    /// A context at `now_ms`.
    pub fn new(vault: V, records: R, issuer: String, master: MasterKey, now_ms: u64, rng: SeededEntropy, log: Log) -> Self {
        Self { vault, records: RecordStore::new(records), issuer, master, now: now_ms / 1000, now_ms, rng, log }
    }

    /// Moves the instant to `now_ms` (a test's clock; the worker makes one context per request).
    pub fn set_time(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
        self.now = now_ms / 1000;
    }

    /// Records an entry in the audit log. A failure to record is logged and does not fail
    /// the operation that is being recorded.
    pub async fn audit(&mut self, actor: &str, action: &str, target: Option<&str>, detail: Option<String>, ip: Option<String>) {
        self.audit_named(actor, action, target, None, detail, ip).await;
    }

    /// [`Context::audit`] with the name of what `target` identifies, for people.
    pub async fn audit_named(
        &mut self,
        actor: &str,
        action: &str,
        target: Option<&str>,
        target_name: Option<&str>,
        detail: Option<String>,
        ip: Option<String>,
    ) {
        let entry = AuditEntry {
            at_ms: self.now_ms,
            actor: actor.to_owned(),
            action: action.to_owned(),
            target: target.map(str::to_owned),
            target_name: target_name.map(str::to_owned),
            detail,
            ip,
        };
        let tie = self.rng.token::<6>();
        if let Err(e) = self.records.put_audit(&entry, &tie).await {
            (self.log)(&format!("audit write failed for {action}: {e}"));
        }
    }

    /// True while `user` is disabled. The flag in KV is the record; the Vault's marker, set
    /// when an admin disables someone, is strongly consistent, so a disabled user is stopped
    /// everywhere at once, not when KV has propagated.
    pub async fn is_disabled(&self, user: &UserRecord) -> StoreResult<bool> {
        crate::users::is_disabled(&self.vault, self.now, user).await
    }

    /// Records that `user_id` is disabled (or enabled again) in the Vault too. Enabling
    /// writes `false` rather than clearing the user's status object, which also keeps the
    /// user's revoked access tokens.
    pub async fn mark_disabled(&self, user_id: &str, disabled: bool) -> StoreResult<()> {
        self.vault.put(&VaultKey::UserDisabled(user_id).to_string(), to_value(&disabled)?).await
    }
}
