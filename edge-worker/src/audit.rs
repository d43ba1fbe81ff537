//! The audit log, in KV: one key per entry, `audit:{inverted time}:{random}`, so a prefix
//! listing returns the newest first; the entry itself rides in the key's metadata, so a
//! page is one list call. Entries expire after [`RETENTION_SECONDS`].

use crate::error::{AppError, AppResult};
use crate::store::Ctx;
use biopass_idp::random::Entropy;
use biopass_idp::schema::{KvKey, KvPrefix};
use biopass_proto::admin::{AuditEntry, Page};
use worker::Request;

/// How long entries are kept.
pub const RETENTION_SECONDS: u64 = 400 * 24 * 3600;
/// Largest page.
pub const MAX_PAGE: u64 = 100;

/// The caller's IP address as Cloudflare reports it.
pub fn client_ip(req: &Request) -> Option<String> {
    req.headers().get("cf-connecting-ip").ok().flatten().or_else(|| req.headers().get("x-real-ip").ok().flatten())
}

impl Ctx {
    /// Records an entry. A failure to record is logged and does not fail the request.
    pub async fn audit(&mut self, actor: &str, action: &str, target: Option<&str>, detail: Option<String>, ip: Option<String>) {
        let at_ms = self.now_ms;
        let entry = AuditEntry { at_ms, actor: actor.to_owned(), action: action.to_owned(), target: target.map(str::to_owned), detail, ip };
        let key = KvKey::Audit { at_ms, tie: &self.rng.token::<6>() }.to_string();
        let result = async {
            self.kv.put(&key, "")?.metadata(&entry)?.expiration_ttl(RETENTION_SECONDS).execute().await?;
            Ok::<_, worker::KvError>(())
        }
        .await;
        if let Err(e) = result {
            worker::console_error!("audit write failed for {action}: {e}");
        }
    }

    /// A page of the log, newest first.
    pub async fn audit_page(&self, cursor: Option<String>, limit: u64) -> AppResult<Page<AuditEntry>> {
        let (keys, next_cursor) = self.list_page(&KvPrefix::Audit.to_string(), limit.clamp(1, MAX_PAGE), cursor).await?;
        let items = keys.into_iter().filter_map(|k| k.metadata.and_then(|m| serde_json::from_value::<AuditEntry>(m).ok())).collect();
        Ok(Page { items, next_cursor })
    }
}

/// Maps a bad audit query to a typed error.
pub fn bad_limit() -> AppError {
    AppError::Api(biopass_idp::error::ApiFailure::invalid_field("limit", "limit must be a number from 1 to 100"))
}
