//! The records (Workers KV): applications, groups, users with their name keys and directory
//! index, deployments, the keyset and the audit log. [`Records`] is the raw store (a value
//! and metadata per key, prefix listings in key order); [`RecordStore`] reads and writes the
//! product's records through it, every key built by `biopass_idp::schema`. The edge worker
//! implements [`Records`] over KV; [`crate::memory::MemoryRecords`] is the in-memory twin.
//!
//! KV is eventually consistent and has no atomic operations: what must happen once goes
//! through the Vault ([`crate::store::OneTime`]) instead.

use crate::store::{both, StoreError, StoreResult};
use biopass_idp::application::ApplicationRecord;
use biopass_idp::authorize::CognitoContext;
use biopass_idp::ids::UserName;
use biopass_idp::logo::Logo;
use biopass_idp::schema::{KvKey, KvPrefix};
use biopass_idp::user::UserRecord;
use biopass_idp::{audit, directory, schema};
use biopass_proto::admin::{AuditEntry, AuditPage, AuditQuery, Deployment, Group, Page, User};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::future::Future;

/// User records one reindex call reads (each writes a few index keys).
pub const REINDEX_BATCH: u64 = 100;
/// How long audit entries are kept.
pub const AUDIT_RETENTION_SECONDS: u64 = 400 * 24 * 3600;
/// Largest page of the audit log.
pub const AUDIT_MAX_PAGE: u64 = 100;
/// Keys one listing returns at most (KV's own limit).
const LIST_MAX: u64 = 1000;

/// A key of a listing, with the metadata written beside its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub name: String,
    pub metadata: Option<Value>,
}

/// One page of a prefix listing, and where the next starts (none at the end).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Listing {
    pub keys: Vec<Listed>,
    pub next_cursor: Option<String>,
}

/// The raw record store: KV's operations.
//
// Not `Send`, as [`crate::store::OneTime`].
#[allow(async_fn_in_trait)]
pub trait Records {
    async fn get(&self, key: &str) -> StoreResult<Option<String>>;
    /// The value at `key`, or what the store remembers of it from an earlier read (the
    /// worker keeps such values per isolate; absent keys are not remembered). Only for
    /// values the caller can check against what they name, and [`Self::forget`] when the
    /// check fails.
    async fn get_remembered(&self, key: &str) -> StoreResult<Option<String>> {
        self.get(key).await
    }
    /// Drops what [`Self::get_remembered`] remembers of `key`.
    fn forget(&self, _key: &str) {}
    /// Writes `value` with `metadata`; it expires after `ttl_seconds` when given.
    async fn put(&self, key: &str, value: String, metadata: Option<Value>, ttl_seconds: Option<u64>) -> StoreResult<()>;
    async fn delete(&self, key: &str) -> StoreResult<()>;
    /// Up to `limit` keys under `prefix` in key order, after `cursor` (from an earlier page).
    async fn list(&self, prefix: &str, limit: u64, cursor: Option<String>) -> StoreResult<Listing>;
}

/// A shared store is the store (as for [`crate::store::OneTime`]).
impl<T: Records> Records for std::rc::Rc<T> {
    async fn get(&self, key: &str) -> StoreResult<Option<String>> {
        (**self).get(key).await
    }
    async fn get_remembered(&self, key: &str) -> StoreResult<Option<String>> {
        (**self).get_remembered(key).await
    }
    fn forget(&self, key: &str) {
        (**self).forget(key);
    }
    async fn put(&self, key: &str, value: String, metadata: Option<Value>, ttl_seconds: Option<u64>) -> StoreResult<()> {
        (**self).put(key, value, metadata, ttl_seconds).await
    }
    async fn delete(&self, key: &str) -> StoreResult<()> {
        (**self).delete(key).await
    }
    async fn list(&self, prefix: &str, limit: u64, cursor: Option<String>) -> StoreResult<Listing> {
        (**self).list(prefix, limit, cursor).await
    }
}

fn encode<T: Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError(format!("kv value: {e}")))
}

/// The product's records over a [`Records`] store.
#[derive(Debug)]
pub struct RecordStore<R> {
    raw: R,
}

impl<R: Records> RecordStore<R> {
    pub fn new(raw: R) -> Self {
        Self { raw }
    }

    /// The raw store.
    pub fn raw(&self) -> &R {
        &self.raw
    }

    /// The JSON record at `key`.
    ///
    /// # Errors
    /// When the store fails or the value is not a `T`.
    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> StoreResult<Option<T>> {
        match self.raw.get(key).await? {
            Some(text) => serde_json::from_str(&text).map(Some).map_err(|e| StoreError(format!("kv value at {key}: {e}"))),
            None => Ok(None),
        }
    }

    /// Writes `value` as JSON at `key`.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn put_json<T: Serialize>(&self, key: &str, value: &T) -> StoreResult<()> {
        self.raw.put(key, encode(value)?, None, None).await
    }

    /// One page of the keys under `prefix`.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn list_page(&self, prefix: &str, limit: u64, cursor: Option<String>) -> StoreResult<Listing> {
        self.raw.list(prefix, limit.clamp(1, LIST_MAX), cursor).await
    }

    /// Every value under `prefix`, from the keys' metadata where it holds one (one listing
    /// per 1,000 keys), else read.
    async fn list_json<T: DeserializeOwned>(&self, prefix: &str) -> StoreResult<Vec<T>> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self.list_page(prefix, LIST_MAX, cursor).await?;
            for key in page.keys {
                match key.metadata.and_then(|m| serde_json::from_value(m).ok()) {
                    Some(v) => out.push(v),
                    None => out.extend(self.get_json(&key.name).await?),
                }
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(out)
    }

    /// Removes the record at `key`.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn delete_key(&self, key: KvKey<'_>) -> StoreResult<()> {
        self.raw.delete(&key.to_string()).await
    }

    // Applications.

    /// # Errors
    /// When the store fails (as every method below).
    pub async fn application(&self, client_id: &str) -> StoreResult<Option<ApplicationRecord>> {
        if client_id.is_empty() || client_id.len() > 64 {
            return Ok(None);
        }
        self.get_json(&KvKey::Application(client_id).to_string()).await
    }

    pub async fn put_application(&self, app: &ApplicationRecord) -> StoreResult<()> {
        self.put_json(&KvKey::Application(app.client_id.as_str()).to_string(), app).await
    }

    /// Removes the application and its logo.
    pub async fn delete_application(&self, client_id: &str) -> StoreResult<()> {
        self.delete_key(KvKey::Logo(client_id)).await?;
        self.delete_key(KvKey::Application(client_id)).await
    }

    /// The application's logo (`biopass_idp::logo`).
    pub async fn logo(&self, client_id: &str) -> StoreResult<Option<Logo>> {
        if client_id.is_empty() || client_id.len() > 64 {
            return Ok(None);
        }
        self.get_json(&KvKey::Logo(client_id).to_string()).await
    }

    pub async fn put_logo(&self, client_id: &str, logo: &Logo) -> StoreResult<()> {
        self.put_json(&KvKey::Logo(client_id).to_string(), logo).await
    }

    pub async fn delete_logo(&self, client_id: &str) -> StoreResult<()> {
        self.delete_key(KvKey::Logo(client_id)).await
    }

    /// Every application, newest first.
    pub async fn applications(&self) -> StoreResult<Vec<ApplicationRecord>> {
        let mut apps: Vec<ApplicationRecord> = self.list_json(&KvPrefix::Applications.to_string()).await?;
        apps.sort_by_key(|a| std::cmp::Reverse(a.created_at));
        Ok(apps)
    }

    // Groups.

    pub async fn group(&self, id: &str) -> StoreResult<Option<Group>> {
        self.get_json(&KvKey::Group(id).to_string()).await
    }

    /// Writes a group; the key's metadata is the group too, so listing groups reads no value.
    pub async fn put_group(&self, group: &Group) -> StoreResult<()> {
        self.raw.put(&KvKey::Group(&group.id).to_string(), encode(group)?, serde_json::to_value(group).ok(), None).await
    }

    pub async fn delete_group(&self, id: &str) -> StoreResult<()> {
        self.delete_key(KvKey::Group(id)).await
    }

    /// Every group, by name.
    pub async fn groups(&self) -> StoreResult<Vec<Group>> {
        let mut groups: Vec<Group> = self.list_json(&KvPrefix::Groups.to_string()).await?;
        groups.sort_by_key(|g| g.name.to_lowercase());
        Ok(groups)
    }

    // Users.

    pub async fn user(&self, id: &str) -> StoreResult<Option<UserRecord>> {
        self.get_json(&KvKey::User(id).to_string()).await
    }

    /// The user `user_pool` (or Biopass itself, `None`) knows as `name`.
    pub async fn user_named(&self, user_pool: Option<&CognitoContext>, name: &UserName) -> StoreResult<Option<UserRecord>> {
        Ok(self.user_at(KvKey::UserName(user_pool, name)).await?.filter(|u| u.belongs_to(user_pool)))
    }

    /// [`Self::user_named`], with `alongside(id)` run at the same time as the read of the
    /// user's record once the id their name points to is known: `Some` of its output when
    /// that id is the user's; `None` when the name pointed elsewhere once read again (a
    /// remembered id that is no longer theirs), and then the caller does without it.
    pub async fn user_named_with<T, F: Future<Output = T>>(
        &self,
        user_pool: Option<&CognitoContext>,
        name: &UserName,
        alongside: impl FnOnce(String) -> F,
    ) -> StoreResult<(Option<UserRecord>, Option<T>)> {
        let (user, beside) = self.user_at_with(KvKey::UserName(user_pool, name), alongside).await?;
        Ok((user.filter(|u| u.belongs_to(user_pool)), beside))
    }

    /// The user a name key ([`KvKey::UserName`]) points to, whichever realm they belong to now.
    ///
    /// The name's id may be one the store remembers: ids are never reused, so a user record
    /// under it whose own name key is `key` is the user `key` names. Otherwise (the user was
    /// deleted or renamed, or `key` is a legacy form) the name is read again.
    pub async fn user_at(&self, key: KvKey<'_>) -> StoreResult<Option<UserRecord>> {
        Ok(self.user_at_with(key, |_| std::future::ready(())).await?.0)
    }

    /// [`Self::user_at`], with `alongside(id)` run beside the read of the record of the id
    /// the name points to: its output is kept when that id turns out to be the user's.
    async fn user_at_with<T, F: Future<Output = T>>(
        &self,
        key: KvKey<'_>,
        alongside: impl FnOnce(String) -> F,
    ) -> StoreResult<(Option<UserRecord>, Option<T>)> {
        let key = key.to_string();
        let Some(id) = self.raw.get_remembered(&key).await? else { return Ok((None, None)) };
        let (first, beside) = both(self.user(&id), alongside(id.clone())).await;
        let first = first?;
        if first.as_ref().is_some_and(|u| KvKey::UserName(u.user_pool.as_ref(), &u.username).to_string() == key) {
            return Ok((first, Some(beside)));
        }
        self.raw.forget(&key);
        match self.raw.get(&key).await? {
            Some(fresh) if fresh == id => Ok((first, Some(beside))),
            Some(fresh) => Ok((self.user(&fresh).await?, None)),
            None => Ok((None, None)),
        }
    }

    /// Writes a user's record, their name key and their directory index keys (see
    /// `biopass_idp::directory`), removing the keys of groups they left.
    pub async fn put_user(&self, user: &UserRecord) -> StoreResult<()> {
        let before = self.user(&user.id).await?;
        self.put_json(&KvKey::User(&user.id).to_string(), user).await?;
        self.raw.put(&KvKey::UserName(user.user_pool.as_ref(), &user.username).to_string(), user.id.clone(), None, None).await?;
        self.write_index(before.as_ref(), user).await
    }

    /// Removes a user's record, their name key (while it still names them) and every index
    /// key: nothing of them is listed or found by name afterwards.
    pub async fn delete_user(&self, user: &UserRecord) -> StoreResult<()> {
        for key in directory::index_keys(user) {
            self.raw.delete(&key).await?;
        }
        let name_key = KvKey::UserName(user.user_pool.as_ref(), &user.username).to_string();
        if self.raw.get(&name_key).await?.as_deref() == Some(user.id.as_str()) {
            self.raw.delete(&name_key).await?;
        }
        self.delete_key(KvKey::User(&user.id)).await
    }

    async fn write_index(&self, before: Option<&UserRecord>, user: &UserRecord) -> StoreResult<()> {
        let changes = directory::index_changes(before, user);
        let metadata = directory::listing_metadata(&user.view());
        for key in &changes.put {
            self.raw.put(key, String::new(), metadata.clone(), None).await?;
        }
        for key in &changes.delete {
            self.raw.delete(key).await?;
        }
        Ok(())
    }

    /// A page of the users whose names start with `start`: of every user, or of the members
    /// of `group`. In name order: one listing, plus a record read only for a user whose
    /// view did not fit the metadata.
    pub async fn user_page(&self, start: &str, group: Option<&str>, limit: usize, cursor: Option<String>) -> StoreResult<Page<User>> {
        let prefix = match group {
            None => KvPrefix::UsersNamed(start).to_string(),
            Some(g) => format!("{}{}", KvPrefix::Members(g), start.to_lowercase()),
        };
        let page = self.list_page(&prefix, limit.clamp(1, directory::MAX_PAGE) as u64, cursor).await?;
        let mut items = Vec::with_capacity(page.keys.len());
        for key in page.keys {
            let view = match key.metadata.and_then(|m| serde_json::from_value::<User>(m).ok()) {
                Some(v) => Some(v),
                None => match schema::id_of(&key.name) {
                    Some(id) => self.user(id).await?.map(|u| u.view()),
                    None => None,
                },
            };
            items.extend(view.filter(|v| directory::listed(v, group)));
        }
        Ok(Page { items, next_cursor: page.next_cursor })
    }

    /// The console's admins (the `admin:` index: few keys).
    pub async fn admins(&self) -> StoreResult<Vec<UserRecord>> {
        let mut out = Vec::new();
        for key in self.list_page(&KvPrefix::Admins.to_string(), LIST_MAX, None).await?.keys {
            let Some(id) = schema::id_of(&key.name) else { continue };
            out.extend(self.user(id).await?.filter(|u| u.admin));
        }
        Ok(out)
    }

    /// Writes the index keys of up to [`REINDEX_BATCH`] user records from `cursor` (records
    /// written before the index existed); answers how many and where to go on.
    pub async fn reindex(&self, cursor: Option<String>) -> StoreResult<(usize, Option<String>)> {
        let page = self.list_page(&KvPrefix::Users.to_string(), REINDEX_BATCH, cursor).await?;
        let mut done = 0;
        for key in &page.keys {
            if let Some(user) = self.get_json::<UserRecord>(&key.name).await? {
                self.write_index(None, &user).await?;
                done += 1;
            }
        }
        if page.next_cursor.is_none() {
            self.raw.put(&KvKey::DirectoryIndexed.to_string(), "1".into(), None, None).await?;
        }
        Ok((done, page.next_cursor))
    }

    /// True once a reindex went through every record (every write since keeps the index).
    pub async fn directory_indexed(&self) -> StoreResult<bool> {
        Ok(self.raw.get(&KvKey::DirectoryIndexed.to_string()).await?.is_some())
    }

    // Deployments ("Previous deployments"), one per application, AWS account and region.

    pub async fn deployment(&self, client_id: &str, context: &CognitoContext) -> StoreResult<Option<Deployment>> {
        self.get_json(&KvKey::Deployment { client_id, context }.to_string()).await
    }

    pub async fn put_deployment(&self, client_id: &str, context: &CognitoContext, d: &Deployment) -> StoreResult<()> {
        self.put_json(&KvKey::Deployment { client_id, context }.to_string(), d).await
    }

    /// An application's deployments, the most recently seen first.
    pub async fn deployments(&self, client_id: &str) -> StoreResult<Vec<Deployment>> {
        let mut list: Vec<Deployment> = self.list_json(&KvPrefix::Deployments(client_id).to_string()).await?;
        list.sort_by_key(|d| std::cmp::Reverse(d.last_seen));
        Ok(list)
    }

    // The audit log: one key per entry, `audit:{inverted time}:{random}`, so a listing
    // returns the newest first; the entry rides in the key's metadata, so a page is one
    // listing. Entries expire after [`AUDIT_RETENTION_SECONDS`].

    /// Records `entry` under its time and `tie` (random, so two entries of one millisecond
    /// both stay).
    pub async fn put_audit(&self, entry: &AuditEntry, tie: &str) -> StoreResult<()> {
        let key = KvKey::Audit { at_ms: entry.at_ms, tie }.to_string();
        let metadata = serde_json::to_value(entry).map_err(|e| StoreError(format!("audit entry: {e}")))?;
        self.raw.put(&key, String::new(), Some(metadata), Some(AUDIT_RETENTION_SECONDS)).await
    }

    /// A page of the log, newest first.
    pub async fn audit_page(&self, cursor: Option<String>, limit: u64) -> StoreResult<Page<AuditEntry>> {
        let page = self.audit_search(&AuditQuery::default(), cursor, limit, limit).await?;
        Ok(Page { items: page.items, next_cursor: page.next_cursor })
    }

    /// The entries `query` matches, newest first: listings of `limit` entries (at most
    /// [`AUDIT_MAX_PAGE`]) are read until `limit` matches are found, `max_scan` entries
    /// were looked at, or the log is past the query's time range. Whole listings are read, so
    /// the cursor goes on where the last one ended (a page may hold more than `limit`
    /// matches, or none yet).
    pub async fn audit_search(&self, query: &AuditQuery, cursor: Option<String>, limit: u64, max_scan: u64) -> StoreResult<AuditPage> {
        let limit = limit.clamp(1, AUDIT_MAX_PAGE);
        let mut page = AuditPage { items: Vec::new(), next_cursor: cursor, scanned: 0 };
        let prefix = KvPrefix::Audit.to_string();
        loop {
            let listing = self.list_page(&prefix, limit, page.next_cursor.take()).await?;
            page.next_cursor = listing.next_cursor;
            for key in listing.keys {
                page.scanned += 1;
                let Some(entry) = key.metadata.and_then(|m| serde_json::from_value::<AuditEntry>(m).ok()) else { continue };
                if audit::past_range(query, &entry) {
                    page.next_cursor = None;
                    return Ok(page);
                }
                if audit::matches(query, &entry) {
                    page.items.push(entry);
                }
            }
            if page.next_cursor.is_none() || page.items.len() as u64 >= limit || page.scanned >= max_scan {
                return Ok(page);
            }
        }
    }
}
