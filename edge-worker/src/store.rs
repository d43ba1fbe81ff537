//! Per-request context and the KV-backed stores: applications, groups, users and the
//! signing keyset. Things that must be exactly-once go through [`crate::vault`] instead.
//! Every key is built by `biopass_idp::schema`, which lists what is stored where.

use crate::error::{AppError, AppResult};
use crate::vault::VaultClient;
use biopass_idp::application::ApplicationRecord;
use biopass_idp::authorize::CognitoContext;
use biopass_idp::ids::UserName;
use biopass_idp::keys::{Keyset, OpenKeyset};
use biopass_idp::random::SeededEntropy;
use biopass_idp::schema::{KvKey, KvPrefix, VaultKey};
use biopass_idp::secretbox::MasterKey;
use biopass_idp::user::UserRecord;
use biopass_idp::{directory, schema};
use biopass_proto::admin::{Deployment, Group, Page, User};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::RefCell;
use std::rc::Rc;
use worker::kv::KvStore;
use worker::Env;

/// User records one reindex call reads (each writes a few index keys).
pub const REINDEX_BATCH: u64 = 100;

/// Seconds an isolate keeps its opened keyset. A rotation made elsewhere is picked up
/// within this time (plus KV propagation); retired keys stay published far longer.
pub const KEYSET_CACHE_SECONDS: u64 = 60;

thread_local! {
    static KEYSET_CACHE: RefCell<Option<(u64, Rc<OpenKeyset>)>> = const { RefCell::new(None) };
}

/// What every handler gets.
pub struct Ctx {
    pub env: Env,
    pub kv: KvStore,
    pub vault: VaultClient,
    /// The issuer URL, no trailing slash (var `ISSUER`).
    pub issuer: String,
    pub master: MasterKey,
    /// SHA-256 (hex) of the bootstrap admin token (secret `ADMIN_TOKEN_SHA256`).
    pub admin_token_sha256: Option<String>,
    pub now: u64,
    /// The same instant in milliseconds (the audit log's order).
    pub now_ms: u64,
    pub rng: SeededEntropy,
}

impl Ctx {
    /// Reads configuration from the environment.
    ///
    /// # Errors
    /// Internal when a binding or the master key is missing or malformed: the deployment
    /// is misconfigured, and the log says which.
    pub fn from_env(env: Env) -> AppResult<Self> {
        let issuer =
            env.var("ISSUER").map(|v| v.to_string().trim_end_matches('/').to_owned()).map_err(|_| AppError::internal("the ISSUER variable is not set"))?;
        let master = env
            .secret("BIOPASS_MASTER_KEY")
            .ok()
            .and_then(|s| MasterKey::parse(&s.to_string()))
            .ok_or_else(|| AppError::internal("the BIOPASS_MASTER_KEY secret is missing or not 32 bytes of base64"))?;
        let admin_token_sha256 = env.secret("ADMIN_TOKEN_SHA256").ok().map(|s| s.to_string().trim().to_lowercase());
        let kv = env.kv("BIOPASS")?;
        let vault = VaultClient::new(env.durable_object("VAULT")?);
        let now_ms = crate::clock::now_ms();
        Ok(Self { env, kv, vault, issuer, master, admin_token_sha256, now: now_ms / 1000, now_ms, rng: crate::clock::entropy()? })
    }

    async fn get_json<T: DeserializeOwned>(&self, key: &str) -> AppResult<Option<T>> {
        Ok(self.kv.get(key).json().await?)
    }

    async fn put_json<T: Serialize>(&self, key: &str, value: &T) -> AppResult<()> {
        self.put_with_metadata(key, serde_json::to_string(value).map_err(|e| AppError::internal(format!("kv value: {e}")))?, None).await
    }

    /// Writes `value` under `key`, with `metadata` (what a listing of the key gives back).
    async fn put_with_metadata(&self, key: &str, value: String, metadata: Option<serde_json::Value>) -> AppResult<()> {
        let put = self.kv.put(key, value)?;
        match metadata {
            Some(m) => put.metadata(m)?.execute().await?,
            None => put.execute().await?,
        }
        Ok(())
    }

    /// One page of the keys under `prefix` from `cursor`, and the cursor of the next page
    /// (none at the end).
    pub(crate) async fn list_page(&self, prefix: &str, limit: u64, cursor: Option<String>) -> AppResult<(Vec<worker::kv::Key>, Option<String>)> {
        let mut list = self.kv.list().prefix(prefix.to_owned()).limit(limit);
        if let Some(c) = cursor {
            list = list.cursor(c);
        }
        let page = list.execute().await?;
        Ok((page.keys, if page.list_complete { None } else { page.cursor }))
    }

    /// Every value under `prefix`, from the keys' metadata where it holds one (one listing
    /// per 1,000 keys), else read.
    async fn list_json<T: DeserializeOwned>(&self, prefix: &str) -> AppResult<Vec<T>> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let (keys, next) = self.list_page(prefix, 1000, cursor).await?;
            for key in keys {
                match key.metadata.and_then(|m| serde_json::from_value(m).ok()) {
                    Some(v) => out.push(v),
                    None => out.extend(self.get_json(&key.name).await?),
                }
            }
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(out)
    }

    // Applications.

    pub async fn application(&self, client_id: &str) -> AppResult<Option<ApplicationRecord>> {
        if client_id.is_empty() || client_id.len() > 64 {
            return Ok(None);
        }
        self.get_json(&KvKey::Application(client_id).to_string()).await
    }

    pub async fn put_application(&self, app: &ApplicationRecord) -> AppResult<()> {
        self.put_json(&KvKey::Application(app.client_id.as_str()).to_string(), app).await
    }

    pub async fn delete_application(&self, client_id: &str) -> AppResult<()> {
        Ok(self.kv.delete(&KvKey::Application(client_id).to_string()).await?)
    }

    pub async fn applications(&self) -> AppResult<Vec<ApplicationRecord>> {
        let mut apps: Vec<ApplicationRecord> = self.list_json(&KvPrefix::Applications.to_string()).await?;
        apps.sort_by_key(|a| std::cmp::Reverse(a.created_at));
        Ok(apps)
    }

    // Groups.

    pub async fn group(&self, id: &str) -> AppResult<Option<Group>> {
        self.get_json(&KvKey::Group(id).to_string()).await
    }

    /// Writes a group; the key's metadata is the group too, so listing groups reads no value.
    pub async fn put_group(&self, group: &Group) -> AppResult<()> {
        let value = serde_json::to_string(group).map_err(|e| AppError::internal(format!("kv value: {e}")))?;
        self.put_with_metadata(&KvKey::Group(&group.id).to_string(), value, serde_json::to_value(group).ok()).await
    }

    pub async fn delete_group(&self, id: &str) -> AppResult<()> {
        Ok(self.kv.delete(&KvKey::Group(id).to_string()).await?)
    }

    pub async fn groups(&self) -> AppResult<Vec<Group>> {
        let mut groups: Vec<Group> = self.list_json(&KvPrefix::Groups.to_string()).await?;
        groups.sort_by_key(|g| g.name.to_lowercase());
        Ok(groups)
    }

    // Users.

    pub async fn user(&self, id: &str) -> AppResult<Option<UserRecord>> {
        self.get_json(&KvKey::User(id).to_string()).await
    }

    /// True while `user` is disabled. The flag in KV is the record; the Vault's marker,
    /// set by the admin API when it disables someone, is strongly consistent, so a disabled
    /// user is stopped everywhere at once, not when KV has propagated.
    pub async fn is_disabled(&self, user: &UserRecord) -> AppResult<bool> {
        Ok(user.disabled || self.vault.get::<bool>(&VaultKey::UserDisabled(&user.id).to_string(), self.now).await?.is_some())
    }

    /// Records that `user` is disabled (or enabled again) in the Vault too.
    pub async fn mark_disabled(&self, user_id: &str, disabled: bool) -> AppResult<()> {
        if disabled {
            self.vault.put(&VaultKey::UserDisabled(user_id).to_string(), &true).await
        } else {
            self.vault.clear(&VaultKey::UserDisabled(user_id).to_string()).await
        }
    }

    /// The user `user_pool` (or Biopass itself, `None`) knows as `name`.
    pub async fn user_named(&self, user_pool: Option<&CognitoContext>, name: &UserName) -> AppResult<Option<UserRecord>> {
        Ok(self.user_at(KvKey::UserName(user_pool, name)).await?.filter(|u| u.belongs_to(user_pool)))
    }

    /// The user a name key ([`KvKey::UserName`]) points to, whichever realm they belong to now.
    pub async fn user_at(&self, key: KvKey<'_>) -> AppResult<Option<UserRecord>> {
        match self.kv.get(&key.to_string()).text().await? {
            Some(id) => self.user(&id).await,
            None => Ok(None),
        }
    }

    /// Writes a user's record, their name key and their directory index keys (see
    /// `biopass_idp::directory`), removing the keys of groups they left.
    pub async fn put_user(&self, user: &UserRecord) -> AppResult<()> {
        let before = self.user(&user.id).await?;
        self.put_json(&KvKey::User(&user.id).to_string(), user).await?;
        self.kv.put(&KvKey::UserName(user.user_pool.as_ref(), &user.username).to_string(), user.id.clone())?.execute().await?;
        self.write_index(before.as_ref(), user).await
    }

    async fn write_index(&self, before: Option<&UserRecord>, user: &UserRecord) -> AppResult<()> {
        let changes = directory::index_changes(before, user);
        let metadata = directory::listing_metadata(&user.view());
        for key in &changes.put {
            self.put_with_metadata(key, String::new(), metadata.clone()).await?;
        }
        for key in &changes.delete {
            self.kv.delete(key).await?;
        }
        Ok(())
    }

    /// A page of the users whose names start with `start`: of every user, or of the members
    /// of `group`. In name order: one KV listing, plus a record read only for a user whose
    /// view did not fit the metadata.
    pub async fn user_page(&self, start: &str, group: Option<&str>, limit: usize, cursor: Option<String>) -> AppResult<Page<User>> {
        let prefix = match group {
            None => KvPrefix::UsersNamed(start).to_string(),
            Some(g) => format!("{}{}", KvPrefix::Members(g), start.to_lowercase()),
        };
        let (keys, next_cursor) = self.list_page(&prefix, limit.clamp(1, directory::MAX_PAGE) as u64, cursor).await?;
        let mut items = Vec::with_capacity(keys.len());
        for key in keys {
            let view = match key.metadata.and_then(|m| serde_json::from_value::<User>(m).ok()) {
                Some(v) => Some(v),
                None => match schema::id_of(&key.name) {
                    Some(id) => self.user(id).await?.map(|u| u.view()),
                    None => None,
                },
            };
            items.extend(view.filter(|v| directory::listed(v, group)));
        }
        Ok(Page { items, next_cursor })
    }

    /// The console's admins (the `admin:` index: few keys).
    pub async fn admins(&self) -> AppResult<Vec<UserRecord>> {
        let mut out = Vec::new();
        for key in self.list_page(&KvPrefix::Admins.to_string(), 1000, None).await?.0 {
            let Some(id) = schema::id_of(&key.name) else { continue };
            out.extend(self.user(id).await?.filter(|u| u.admin));
        }
        Ok(out)
    }

    /// Writes the index keys of up to [`REINDEX_BATCH`] user records from `cursor` (records
    /// written before the index existed); answers how many and where to go on.
    pub async fn reindex(&self, cursor: Option<String>) -> AppResult<(usize, Option<String>)> {
        let (keys, next) = self.list_page(&KvPrefix::Users.to_string(), REINDEX_BATCH, cursor).await?;
        let mut done = 0;
        for key in &keys {
            if let Some(user) = self.get_json::<UserRecord>(&key.name).await? {
                self.write_index(None, &user).await?;
                done += 1;
            }
        }
        if next.is_none() {
            self.kv.put(&KvKey::DirectoryIndexed.to_string(), "1")?.execute().await?;
        }
        Ok((done, next))
    }

    /// True once a reindex went through every record (every write since keeps the index).
    pub async fn directory_indexed(&self) -> AppResult<bool> {
        Ok(self.kv.get(&KvKey::DirectoryIndexed.to_string()).text().await?.is_some())
    }

    pub async fn delete_key(&self, key: KvKey<'_>) -> AppResult<()> {
        Ok(self.kv.delete(&key.to_string()).await?)
    }

    // Deployments ("Previous deployments"), one per application, AWS account and region.

    pub async fn deployment(&self, client_id: &str, context: &CognitoContext) -> AppResult<Option<Deployment>> {
        self.get_json(&KvKey::Deployment { client_id, context }.to_string()).await
    }

    pub async fn put_deployment(&self, client_id: &str, context: &CognitoContext, d: &Deployment) -> AppResult<()> {
        self.put_json(&KvKey::Deployment { client_id, context }.to_string(), d).await
    }

    pub async fn deployments(&self, client_id: &str) -> AppResult<Vec<Deployment>> {
        let mut list: Vec<Deployment> = self.list_json(&KvPrefix::Deployments(client_id).to_string()).await?;
        list.sort_by_key(|d| std::cmp::Reverse(d.last_seen));
        Ok(list)
    }

    // Signing keys.

    /// The keyset, created on first use. Creation goes through the Vault so that two
    /// isolates starting at once agree on one keyset. Opened keys are kept for
    /// [`KEYSET_CACHE_SECONDS`] in the isolate, so most requests skip KV and decryption.
    pub async fn keyset(&mut self) -> AppResult<Rc<OpenKeyset>> {
        if let Some(open) = KEYSET_CACHE.with(|c| c.borrow().as_ref().filter(|(at, _)| self.now < at + KEYSET_CACHE_SECONDS).map(|(_, k)| k.clone())) {
            return Ok(open);
        }
        let stored = match self.get_json::<Keyset>(&KvKey::Keyset.to_string()).await? {
            Some(k) => k,
            None => {
                let fresh = Keyset::generate(&self.master, &mut self.rng, self.now);
                let agreed: Keyset = self.vault.get_or_insert(&VaultKey::Keyset.to_string(), &fresh).await?;
                self.put_json(&KvKey::Keyset.to_string(), &agreed).await?;
                agreed
            }
        };
        let open = Rc::new(stored.open(&self.master, self.now).map_err(|_| AppError::internal("signing keys do not open with BIOPASS_MASTER_KEY"))?);
        KEYSET_CACHE.with(|c| *c.borrow_mut() = Some((self.now, open.clone())));
        Ok(open)
    }

    /// Rotates the signing key; returns the new current `kid`.
    pub async fn rotate_keyset(&mut self) -> AppResult<String> {
        self.keyset().await?;
        let mut stored: Keyset =
            self.vault.get(&VaultKey::Keyset.to_string(), self.now).await?.ok_or_else(|| AppError::internal("keyset missing from the vault"))?;
        stored.rotate(&self.master, &mut self.rng, self.now);
        self.vault.put(&VaultKey::Keyset.to_string(), &stored).await?;
        self.put_json(&KvKey::Keyset.to_string(), &stored).await?;
        KEYSET_CACHE.with(|c| *c.borrow_mut() = None);
        let open = stored.open(&self.master, self.now).map_err(|_| AppError::internal("rotated keyset does not open"))?;
        Ok(open.current_kid().unwrap_or_default().to_owned())
    }
}
