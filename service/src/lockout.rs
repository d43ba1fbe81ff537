//! An answer is counted toward every limit that applies before it is checked: the check of
//! each limit and the count are one Vault operation, so any number of concurrent guesses
//! gets at most the limit checked. A right answer (or one that is no answer at all, like a
//! malformed code) gives its attempts back. The rules of one counter are
//! `biopass_idp::lockout`'s; which counters apply is [`counters`].

use crate::context::Log;
use crate::store::{Moved, OneTime, StoreError, StoreResult};
use biopass_i18n::{fill, Texts};
use biopass_idp::lockout::{Earlier, Limit, ACCOUNT_FREE, ACCOUNT_MAX_DELAY, ACCOUNT_WINDOW, ADDRESS_FAILURES, CLIENT_FAILURES, LOCKOUT_WINDOW, MAX_FAILURES};
use biopass_idp::random::Entropy;
use biopass_idp::schema::{Failures, VaultKey};
use biopass_idp::transaction::LoginTransaction;
use biopass_idp::user::UserRecord;
use biopass_proto::login::AuthenticatorKind;
use std::future::Future;

/// Whose failures a counter holds: what a refusal tells the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One user's authenticator (vouched-for sign-ins): locked.
    Authenticator,
    /// The browser answering (sign-ins nobody vouched for): locked.
    Client,
    /// The network address answering (sign-ins nobody vouched for): locked.
    Address,
    /// The account named (sign-ins nobody vouched for): slowed, never locked.
    Account,
}

/// One counter an answer is counted on.
#[derive(Debug, Clone)]
pub struct Counter {
    /// A [`VaultKey::Failures`].
    pub key: String,
    pub window: u64,
    pub limit: Limit,
    pub scope: Scope,
    /// The key the layout before kept this counter under, if it moved: its first operation
    /// takes on what that one holds ([`on_counter`]).
    pub earlier: Option<String>,
}

impl Counter {
    /// Attempts left before the lock once `count` are counted; `None` for a paced counter.
    pub fn left(&self, count: u64) -> Option<u64> {
        match self.limit {
            Limit::Lock { max } => Some(max.saturating_sub(count)),
            Limit::Pace { .. } => None,
        }
    }
}

/// The counter of one user's authenticator `kind` (the face challenge checks it too), in the
/// user's status object. The layout before kept each in an object of its own: the face's,
/// passkeys' and recovery codes' are taken on by their first operation here. TOTP's is not
/// named: its answer takes it on with the last used step it also holds (`login::totp_answer`),
/// which must be there to read then.
pub fn authenticator(kind: AuthenticatorKind, user_id: &str) -> Counter {
    Counter {
        key: VaultKey::Failures(Failures::Authenticator(kind, user_id)).to_string(),
        window: LOCKOUT_WINDOW,
        limit: Limit::Lock { max: MAX_FAILURES },
        scope: Scope::Authenticator,
        earlier: (kind != AuthenticatorKind::Totp).then(|| VaultKey::CounterBefore(kind, user_id).to_string()),
    }
}

/// The counters an answer with `kind` in `tx` is counted on (`address`: the caller's network
/// address, when known). In a vouched-for sign-in, the user's authenticator: [`MAX_FAILURES`]
/// lock it. In one nobody vouched for (anyone can start it with a name), the answering
/// client is locked (browser, then address) and the account named, known or not, is only
/// slowed, so typing a name cannot lock anyone out, and the answers are the same whether
/// the account exists or not.
pub fn counters(tx: &LoginTransaction, kind: AuthenticatorKind, user: Option<&UserRecord>, address: Option<&str>) -> Vec<Counter> {
    if tx.vouched() {
        return user.map(|u| authenticator(kind, &u.id)).into_iter().collect();
    }
    let mut out = vec![Counter {
        key: VaultKey::Failures(Failures::Browser(&tx.browser_binding)).to_string(),
        window: LOCKOUT_WINDOW,
        limit: Limit::Lock { max: CLIENT_FAILURES },
        scope: Scope::Client,
        earlier: None,
    }];
    if let Some(ip) = address {
        out.push(Counter {
            key: VaultKey::Failures(Failures::Address(ip)).to_string(),
            window: LOCKOUT_WINDOW,
            limit: Limit::Lock { max: ADDRESS_FAILURES },
            scope: Scope::Address,
            earlier: None,
        });
    }
    if let Some(name) = &tx.request.login_hint {
        out.push(Counter {
            key: VaultKey::Failures(Failures::Account(tx.request.cognito.as_ref(), name)).to_string(),
            window: ACCOUNT_WINDOW,
            limit: Limit::Pace { free: ACCOUNT_FREE, cap: ACCOUNT_MAX_DELAY },
            scope: Scope::Account,
            earlier: None,
        });
    }
    out
}

/// Why an attempt was not counted (and so not checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotCounted {
    /// A limit refuses it until `retry_at` (Unix seconds).
    Refused {
        scope: Scope,
        retry_at: u64,
    },
    Store(StoreError),
}

impl From<StoreError> for NotCounted {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// A wrong answer, as counted: what the refusal says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// Attempts left before the first lock (`Some(0)`: this one locked), or `None` where only
    /// paced counters apply.
    pub left: Option<u64>,
    /// The scope of the first counter (what is locked).
    pub scope: Scope,
}

/// An answer counted on its counters (see the module doc).
#[derive(Debug)]
pub struct Attempt {
    held: Vec<(Counter, String, u64)>,
}

impl Attempt {
    /// Counts an attempt at `now` on every counter, or gives back what was already counted
    /// and says which refused. `log`: where a counter's first use logs an old key it could
    /// not clear ([`cleared_left_behind`]), which fails nothing.
    ///
    /// # Errors
    /// [`NotCounted::Refused`] when a limit refuses; [`NotCounted::Store`] when the store fails.
    pub async fn start<V: OneTime>(vault: &V, rng: &mut impl Entropy, now: u64, counters: Vec<Counter>, log: Log) -> Result<Self, NotCounted> {
        let mut held = Vec::with_capacity(counters.len());
        for c in counters {
            let id = rng.token::<12>();
            let reserved = on_counter(vault, &c, log, |earlier| vault.reserve(&c.key, now, c.window, c.limit, id.clone(), earlier)).await?;
            match reserved {
                Ok((id, count)) => held.push((c, id, count)),
                Err(retry_at) => {
                    Self { held }.give_back(vault).await?;
                    return Err(NotCounted::Refused { scope: c.scope, retry_at });
                }
            }
        }
        Ok(Self { held })
    }

    /// The answer was right, or no answer: it does not count.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn give_back<V: OneTime>(self, vault: &V) -> Result<(), StoreError> {
        for (c, id, _) in &self.held {
            vault.release(&c.key, id).await?;
        }
        Ok(())
    }

    /// The answer was wrong: it stays counted.
    pub fn failed(self) -> Counted {
        let left = self.held.iter().find_map(|(c, _, count)| c.left(*count));
        Counted { left, scope: self.held.first().map_or(Scope::Authenticator, |h| h.0.scope) }
    }
}

/// Whether `user`'s authenticator `kind` is locked now: `Some(retry_at)` if so. `log` as
/// for [`Attempt::start`].
///
/// # Errors
/// When the store fails.
pub async fn locked_until<V: OneTime>(vault: &V, kind: AuthenticatorKind, user_id: &str, now: u64, log: Log) -> Result<Option<u64>, StoreError> {
    let c = authenticator(kind, user_id);
    on_counter(vault, &c, log, |earlier| vault.refused_until(&c.key, now, c.window, c.limit, earlier)).await
}

/// Runs `op` on counter `c`. A counter that moved is asked with its layout before unread; if
/// it stores nothing yet, it asks for that ([`Moved::NeedEarlier`]), and `op` runs again with
/// what the layout before holds, which the counter takes on; the key of the layout before
/// is then cleared. Concurrent first operations each read it, and the counter takes it on
/// once (the first to store wins; the others' copies are not looked at). A clear that fails
/// fails nothing (`op` was done, and the counter, storing something now, does not read its
/// layout before again): it is logged, and the key stays until the user is deleted
/// ([`crate::users::delete_user`]).
///
/// # Errors
/// When the store fails, or a counter asks for its layout before twice.
async fn on_counter<V: OneTime, T, F: Future<Output = StoreResult<Moved<T>>>>(vault: &V, c: &Counter, log: Log, op: impl Fn(Earlier) -> F) -> StoreResult<T> {
    let first = op(if c.earlier.is_some() { Earlier::Unread } else { Earlier::Nothing }).await?;
    let before = match (first, &c.earlier) {
        (Moved::Done(done), _) => return Ok(done),
        (Moved::NeedEarlier, Some(before)) => before,
        (Moved::NeedEarlier, None) => return Err(StoreError("a counter that never moved asked for its layout before".into())),
    };
    let held = vault.attempts(before).await?;
    match op(Earlier::Read(held)).await? {
        Moved::Done(done) => {
            cleared_left_behind(vault, before, log).await;
            Ok(done)
        }
        Moved::NeedEarlier => Err(StoreError("a counter asked for its layout before twice".into())),
    }
}

/// Clears `key`, a counter's layout before that its counter took on: a failure is logged,
/// not returned (what was taken on is stored; the key is cleared again when the user is deleted).
pub(crate) async fn cleared_left_behind<V: OneTime>(vault: &V, key: &str, log: Log) {
    if let Err(e) = vault.clear(key).await {
        log(&format!("the layout before of a counter, taken on, was not cleared ({key}): {e}"));
    }
}

/// What a refusal by `scope` until `retry_at` tells the person at `now`.
pub fn refusal_message(t: &Texts, scope: Scope, retry_at: u64, now: u64) -> (String, u64) {
    let retry = retry_at.saturating_sub(now).max(1);
    let minutes = retry.div_ceil(60).to_string();
    let message = match scope {
        Scope::Authenticator => fill(t.api_retry_authenticator, &[("minutes", &minutes)]),
        Scope::Client => fill(t.api_retry_browser, &[("minutes", &minutes)]),
        Scope::Address => fill(t.api_retry_network, &[("minutes", &minutes)]),
        Scope::Account if retry < 120 => fill(t.api_retry_account_seconds, &[("seconds", &retry.to_string())]),
        Scope::Account => fill(t.api_retry_account_minutes, &[("minutes", &minutes)]),
    };
    (message, retry)
}
