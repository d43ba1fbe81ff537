//! Per-request context: KV as the service's [`Records`] (the records themselves are read and
//! written by `biopass_service::records::RecordStore`), the Vault client, configuration,
//! the clock and entropy; and what is cached per isolate: the signing keyset, the
//! application records and the ids user names were last seen to name. Things that must be
//! exactly-once go through [`crate::vault`]. Every key is built by `biopass_idp::schema`.

use crate::error::{AppError, AppResult};
use crate::vault::VaultClient;
use biopass_idp::keys::{OpenKeyset, SigningAlg};
use biopass_idp::schema::KvPrefix;
use biopass_idp::secretbox::MasterKey;
use biopass_service::context::Context;
use biopass_service::keys;
use biopass_service::records::{Listed, Listing, Records};
use biopass_service::store::{StoreError, StoreResult};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::rc::Rc;
use worker::kv::KvStore;
use worker::Env;

/// Seconds an isolate keeps its opened keyset. A rotation made elsewhere is picked up
/// within this time (plus KV propagation); retired keys stay published far longer.
pub const KEYSET_CACHE_SECONDS: u64 = 60;

/// Seconds an isolate keeps an application record it read (every PAR, authorize and token
/// request reads one). A change made through this isolate drops its copy at once (before and
/// after the write); one made elsewhere is seen within this time plus KV's own propagation
/// (up to 60 s), so within 90 s.
pub const APPLICATION_CACHE_SECONDS: u64 = 30;
/// Seconds an isolate remembers a value read with [`Records::get_remembered`] (a user name's
/// id): the caller checks what it names, so this only bounds the memory's age.
pub const REMEMBERED_SECONDS: u64 = 300;
/// Most entries each of an isolate's caches keeps (absent keys are never kept).
const CACHE_SIZE: usize = 256;

/// Values an isolate keeps for `ttl` seconds, at most [`CACHE_SIZE`] of them.
struct Kept {
    ttl: u64,
    entries: HashMap<String, (u64, String)>,
}

impl Kept {
    fn new(ttl: u64) -> Self {
        Self { ttl, entries: HashMap::new() }
    }
    fn get(&self, key: &str, now: u64) -> Option<String> {
        self.entries.get(key).filter(|(at, _)| now < at + self.ttl).map(|(_, v)| v.clone())
    }
    fn keep(&mut self, key: &str, value: &str, now: u64) {
        if self.entries.len() >= CACHE_SIZE {
            self.entries.clear();
        }
        self.entries.insert(key.to_owned(), (now, value.to_owned()));
    }
    fn forget(&mut self, key: &str) {
        self.entries.remove(key);
    }
}

thread_local! {
    static KEYSET_CACHE: RefCell<Option<(u64, Rc<OpenKeyset>)>> = const { RefCell::new(None) };
    static APPLICATIONS: RefCell<Kept> = RefCell::new(Kept::new(APPLICATION_CACHE_SECONDS));
    static REMEMBERED: RefCell<Kept> = RefCell::new(Kept::new(REMEMBERED_SECONDS));
}

fn is_application(key: &str) -> bool {
    key.starts_with(&KvPrefix::Applications.to_string())
}

/// Drops this isolate's copies of `key` (before and after a write through it).
fn forget_everywhere(key: &str) {
    APPLICATIONS.with(|c| c.borrow_mut().forget(key));
    REMEMBERED.with(|c| c.borrow_mut().forget(key));
}

/// Workers KV as the service's [`Records`].
pub struct Kv(KvStore);

fn kv_error(e: worker::KvError) -> StoreError {
    StoreError(format!("kv: {e}"))
}

impl Kv {
    /// A read through `cache`: what it keeps, else KV's value (kept when present).
    async fn get_through(&self, cache: &'static std::thread::LocalKey<RefCell<Kept>>, key: &str) -> StoreResult<Option<String>> {
        let now = crate::clock::now();
        if let Some(kept) = cache.with(|c| c.borrow().get(key, now)) {
            return Ok(Some(kept));
        }
        let read = self.0.get(key).text().await.map_err(kv_error)?;
        if let Some(value) = &read {
            cache.with(|c| c.borrow_mut().keep(key, value, now));
        }
        Ok(read)
    }
}

impl Records for Kv {
    async fn get(&self, key: &str) -> StoreResult<Option<String>> {
        if is_application(key) {
            return self.get_through(&APPLICATIONS, key).await;
        }
        self.0.get(key).text().await.map_err(kv_error)
    }

    async fn get_remembered(&self, key: &str) -> StoreResult<Option<String>> {
        self.get_through(&REMEMBERED, key).await
    }

    fn forget(&self, key: &str) {
        REMEMBERED.with(|c| c.borrow_mut().forget(key));
    }

    async fn put(&self, key: &str, value: String, metadata: Option<serde_json::Value>, ttl_seconds: Option<u64>) -> StoreResult<()> {
        forget_everywhere(key);
        let mut put = self.0.put(key, value).map_err(kv_error)?;
        if let Some(m) = metadata {
            put = put.metadata(m).map_err(kv_error)?;
        }
        if let Some(ttl) = ttl_seconds {
            put = put.expiration_ttl(ttl);
        }
        put.execute().await.map_err(kv_error)?;
        // Again once written: a read of this isolate made while the write was in flight
        // may have kept the old value.
        forget_everywhere(key);
        Ok(())
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        forget_everywhere(key);
        self.0.delete(key).await.map_err(kv_error)?;
        forget_everywhere(key);
        Ok(())
    }

    async fn list(&self, prefix: &str, limit: u64, cursor: Option<String>) -> StoreResult<Listing> {
        let mut list = self.0.list().prefix(prefix.to_owned()).limit(limit);
        if let Some(c) = cursor {
            list = list.cursor(c);
        }
        let page = list.execute().await.map_err(kv_error)?;
        let keys = page.keys.into_iter().map(|k| Listed { name: k.name, metadata: k.metadata }).collect();
        Ok(Listing { keys, next_cursor: if page.list_complete { None } else { page.cursor } })
    }
}

/// What every handler gets: the service's [`Context`] (stores, configuration, instant,
/// entropy; reached through `Deref`) and the Worker's own environment.
pub struct Ctx {
    pub env: Env,
    /// SHA-256 (hex) of the bootstrap admin token (secret `ADMIN_TOKEN_SHA256`).
    pub admin_token_sha256: Option<String>,
    pub svc: Context<VaultClient, Kv>,
}

impl Deref for Ctx {
    type Target = Context<VaultClient, Kv>;
    fn deref(&self) -> &Self::Target {
        &self.svc
    }
}

impl DerefMut for Ctx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.svc
    }
}

fn log_error(line: &str) {
    worker::console_error!("{line}");
}

/// The issuer URL (variable `ISSUER`), without a trailing slash.
///
/// # Errors
/// Internal when the variable is not set.
pub fn issuer(env: &Env) -> AppResult<String> {
    env.var("ISSUER").map(|v| v.to_string().trim_end_matches('/').to_owned()).map_err(|_| AppError::internal("the ISSUER variable is not set"))
}

impl Ctx {
    /// Reads configuration from the environment.
    ///
    /// # Errors
    /// Internal when a binding or the master key is missing or malformed: the deployment
    /// is misconfigured, and the log says which.
    pub fn from_env(env: Env) -> AppResult<Self> {
        let issuer = issuer(&env)?;
        let master = env
            .secret("BIOPASS_MASTER_KEY")
            .ok()
            .and_then(|s| MasterKey::parse(&s.to_string()))
            .ok_or_else(|| AppError::internal("the BIOPASS_MASTER_KEY secret is missing or not 32 bytes of base64"))?;
        let admin_token_sha256 = env.secret("ADMIN_TOKEN_SHA256").ok().map(|s| s.to_string().trim().to_lowercase());
        let kv = Kv(env.kv("BIOPASS")?);
        let vault = VaultClient::new(env.durable_object("VAULT")?);
        let svc = Context::new(vault, kv, issuer, master, crate::clock::now_ms(), crate::clock::entropy()?, log_error);
        Ok(Self { env, admin_token_sha256, svc })
    }

    // Signing keys.

    /// The keyset (`biopass_service::keys`). Opened keys are kept for
    /// [`KEYSET_CACHE_SECONDS`] in the isolate, so most requests skip KV and decryption.
    pub async fn keyset(&mut self) -> AppResult<Rc<OpenKeyset>> {
        if let Some(open) = KEYSET_CACHE.with(|c| c.borrow().as_ref().filter(|(at, _)| self.now < at + KEYSET_CACHE_SECONDS).map(|(_, k)| k.clone())) {
            return Ok(open);
        }
        let open = Rc::new(keys::load(&mut self.svc).await?);
        KEYSET_CACHE.with(|c| *c.borrow_mut() = Some((self.now, open.clone())));
        Ok(open)
    }

    /// The keyset, with a current key of `alg` (an RSA key is made the first time one is
    /// needed: see `biopass_service::keys::ensure_rsa`).
    pub async fn keyset_for(&mut self, alg: SigningAlg) -> AppResult<Rc<OpenKeyset>> {
        let keys = self.keyset().await?;
        if keys.can_sign(alg) {
            return Ok(keys);
        }
        keys::ensure_rsa(&mut self.svc).await?;
        KEYSET_CACHE.with(|c| *c.borrow_mut() = None);
        self.keyset().await
    }

    /// Rotates the signing key; returns the new current `kid`.
    pub async fn rotate_keyset(&mut self) -> AppResult<String> {
        let kid = keys::rotate(&mut self.svc).await?;
        KEYSET_CACHE.with(|c| *c.borrow_mut() = None);
        Ok(kid)
    }
}
