//! The one-time things of the OAuth flow, each redeemable exactly once even under
//! concurrency: pushed authorization requests (RFC 9126), login transactions, authorization
//! codes (RFC 6749 4.1), client assertion ids (RFC 7523 3, `jti`). The protocol checks are
//! `biopass_idp`'s; this module stores and takes.

use crate::store::{from_value, same_object, to_value, turn_into, OneTime, RedeemOutcome, StoreError};
use biopass_idp::authorize::{AuthorizationRequest, REQUEST_URI_PREFIX};
use biopass_idp::claims::REQUEST_URI_LIFETIME;
use biopass_idp::error::OAuthError;
use biopass_idp::grant::{check_redemption, CodeGrant, Issued, Redeemed, Redemption};
use biopass_idp::random::Entropy;
use biopass_idp::schema::{SignInToken, VaultKey};
use biopass_idp::secretbox::{MasterKey, Purpose};
use biopass_idp::transaction::LoginTransaction;
use serde::{Deserialize, Serialize};

/// A pushed request as kept under its `request_uri`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushedRequest {
    pub request: AuthorizationRequest,
    /// The client authenticated when pushing (so Cognito has checked the password).
    pub authenticated: bool,
}

/// A refusal of a one-time thing, or the store failing.
#[derive(Debug, Clone, PartialEq)]
pub enum OneTimeError {
    /// Unknown, expired or already used (the OAuth error to answer).
    Refused(OAuthError),
    /// Live, but presented by another client or with a wrong PKCE verifier: refused (the
    /// same OAuth error as [`Self::Refused`], so the answer says no more) and not spent;
    /// the caller records the attempt.
    Misused(OAuthError),
    Store(StoreError),
}

impl OneTimeError {
    /// The OAuth error to answer, or `None` for a store failure.
    pub fn refusal(self) -> Result<OAuthError, StoreError> {
        match self {
            Self::Refused(e) | Self::Misused(e) => Ok(e),
            Self::Store(e) => Err(e),
        }
    }
}

impl From<StoreError> for OneTimeError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// A pushed request as sealed into its `request_uri`: the request and when it expires.
#[derive(Debug, Serialize, Deserialize)]
struct Sealed {
    pushed: PushedRequest,
    expires_at: u64,
}

/// The `request_uri` of `pushed`, usable for [`REQUEST_URI_LIFETIME`] seconds: the request
/// sealed into it (RFC 9126 2.2 leaves the form to the server), so pushing stores nothing.
/// Its reference (`{sign-in}.{secret}`, a [`SignInToken`]) names the sign-in's Vault object
/// (vouched for, the one of every sign-in of the person named, [`SignInToken::of_user`]) and is the sealed
/// value's associated data, so a sealed request opens only under the
/// reference it was made with; the reference's spent mark ([`start_pushed_transaction`],
/// [`spend`]) makes it usable once.
///
/// # Errors
/// When the request does not serialise (a bug).
pub fn push(master: &MasterKey, rng: &mut impl Entropy, now: u64, pushed: &PushedRequest) -> Result<String, StoreError> {
    // Every sign-in of the person named that their application vouched for (it authenticated
    // to push it) shares their sign-in object; another (a public client's, which anyone can
    // push for any name) has an object of its own, so nobody can crowd a person's object.
    let home =
        pushed.request.login_hint.as_ref().filter(|_| pushed.authenticated).map(|name| SignInToken::of_user(master, pushed.request.cognito.as_ref(), name));
    let reference = SignInToken::mint(rng, home.as_deref());
    let sealed = Sealed { pushed: pushed.clone(), expires_at: now + REQUEST_URI_LIFETIME };
    let text = serde_json::to_vec(&sealed).map_err(|e| StoreError(format!("pushed request: {e}")))?;
    let sealed = master.secret_box(Purpose::PushedRequest).seal(rng, &reference, &text);
    Ok(format!("{REQUEST_URI_PREFIX}{reference}.{sealed}"))
}

/// A pushed request found for its client, not yet spent (as far as its form can tell before
/// the Vault is asked): [`start_pushed_transaction`] spends it as the sign-in's transaction
/// starts, [`spend`] when the request ends otherwise.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub pushed: PushedRequest,
    /// The reference the request URI names it by (`{sign-in}.{secret}` when of this form).
    reference: String,
    source: Source,
}

impl Resolved {
    /// The sign-in the request started, whose Vault object its transaction joins.
    pub fn sign_in(&self) -> Option<&str> {
        SignInToken::sign_in(&self.reference)
    }

    /// Its Vault key: the stored request's, or a sealed one's spent mark.
    fn key(&self) -> String {
        VaultKey::PushedRequest(&self.reference).to_string()
    }
}

/// Where a resolved request came from.
#[derive(Debug, Clone)]
enum Source {
    /// Sealed into the request URI: how long its spent mark is kept, a lifetime past the
    /// URI's own expiry, so a use that found the URI live (its `now` before the expiry)
    /// cannot find the mark already swept by an operation whose `now` is later.
    Sealed { until: u64 },
    /// Stored in the Vault under its reference (the form of request URIs before they were
    /// sealed; they live 60 s, so a deployment does not end the sign-ins under way): the value
    /// as the Vault answered it.
    Stored { stored: serde_json::Value },
}

/// Finds the pushed request `request_uri` for `client_id`: live, and only for the client
/// that pushed it. Another client's attempt is refused without spending it, so whoever sees
/// a request URI cannot burn it for its client. It is spent once, by whichever use of it
/// comes first ([`start_pushed_transaction`] or [`spend`]); a sealed one that was spent
/// still resolves, and those refuse it.
///
/// # Errors
/// [`OneTimeError::Refused`] (`invalid_request_uri`) otherwise.
pub async fn resolve<V: OneTime>(vault: &V, master: &MasterKey, now: u64, client_id: &str, request_uri: &str) -> Result<Resolved, OneTimeError> {
    let invalid = || OneTimeError::Refused(invalid_request_uri());
    // Core 6.2: a request_uri hosted by the client is not supported; PAR's are (RFC 9126 5).
    let Some(reference) = request_uri.strip_prefix(REQUEST_URI_PREFIX) else {
        return Err(OneTimeError::Refused(OAuthError::new(
            biopass_idp::error::OAuthErrorCode::RequestUriNotSupported,
            "only request_uri values from this provider's pushed authorization request endpoint are accepted",
        )));
    };
    let (reference, pushed, source) = match reference.rsplit_once('.').filter(|(r, _)| SignInToken::sign_in(r).is_some()) {
        Some((reference, sealed)) => {
            let text = master.secret_box(Purpose::PushedRequest).open(reference, sealed).map_err(|_| invalid())?;
            let opened: Sealed = serde_json::from_slice(&text).map_err(|_| invalid())?;
            if now >= opened.expires_at {
                return Err(invalid());
            }
            (reference, opened.pushed, Source::Sealed { until: opened.expires_at + REQUEST_URI_LIFETIME })
        }
        None if reference.is_empty() => return Err(invalid()),
        None => {
            let stored = vault.get(&VaultKey::PushedRequest(reference).to_string(), now).await?.ok_or_else(invalid)?;
            // A spent mark (a sealed URI cut short) is not a request either.
            let pushed: PushedRequest = serde_json::from_value(stored.clone()).map_err(|_| invalid())?;
            (reference, pushed, Source::Stored { stored })
        }
    };
    if pushed.request.client_id != client_id {
        return Err(OneTimeError::Misused(invalid_request_uri()));
    }
    Ok(Resolved { pushed, reference: reference.to_owned(), source })
}

/// Spends a resolved pushed request whose authorization request ended without a sign-in
/// (an error sent back to the application): it is not usable again. Whether this use spent
/// it (false: an earlier or concurrent use did).
///
/// # Errors
/// When the store fails.
pub async fn spend<V: OneTime>(vault: &V, now: u64, resolved: &Resolved) -> Result<bool, StoreError> {
    let key = resolved.key();
    match &resolved.source {
        Source::Sealed { until } => vault.insert(&key, serde_json::Value::Bool(true), *until, now).await,
        Source::Stored { .. } => Ok(vault.take(&key, now).await?.is_some()),
    }
}

/// Starts the sign-in's transaction `tx` from the pushed request `resolved`, spending it in
/// the same Vault operation (a sealed request's spent mark set beside the transaction; a
/// stored one exchanged for it, or taken first when it is of a form kept in an object of its
/// own); the transaction's id, or `None` when the request was spent already (an earlier or
/// concurrent use of it won).
///
/// # Errors
/// When the store fails.
pub async fn start_pushed_transaction<V: OneTime>(
    vault: &V,
    rng: &mut impl Entropy,
    now: u64,
    resolved: &Resolved,
    tx: &LoginTransaction,
) -> Result<Option<String>, StoreError> {
    let id = SignInToken::mint(rng, resolved.sign_in());
    let (key, into) = (resolved.key(), VaultKey::Transaction(&id).to_string());
    let value = to_value(tx)?;
    let started = match &resolved.source {
        Source::Sealed { until } => vault.insert_pair((&key, serde_json::Value::Bool(true), *until), (&into, value, tx.expires_at), now).await?.then_some(()),
        // A request URI's value never changes, so the transaction is the same whichever way.
        Source::Stored { stored } => turn_into(vault, now, &key, stored, &into, |_| Ok((value.clone(), tx.expires_at, ()))).await?,
    };
    Ok(started.map(|()| id))
}

/// Records in the audit log a live code or request URI presented by the wrong client or
/// with a wrong verifier (`action`, by `client_id`): refused and not spent, but not unseen.
pub async fn misused<V: OneTime, R: crate::records::Records>(
    cx: &mut crate::context::Context<V, R>,
    action: &str,
    client_id: &str,
    refusal: &OAuthError,
    ip: Option<String>,
) {
    cx.audit(&format!("client:{client_id}"), action, Some(client_id), Some(format!("refused, not spent: {}", refusal.description)), ip).await;
}

/// The error for a `request_uri` that cannot be used.
pub fn invalid_request_uri() -> OAuthError {
    OAuthError::new(biopass_idp::error::OAuthErrorCode::InvalidRequestUri, "the request_uri is unknown, expired or already used")
}

/// Starts the login transaction `tx` of a new sign-in (a plain request's, or the console's);
/// answers its id.
///
/// # Errors
/// When the store fails.
pub async fn start_transaction<V: OneTime>(vault: &V, rng: &mut impl Entropy, now: u64, tx: &LoginTransaction) -> Result<String, StoreError> {
    let id = SignInToken::mint(rng, None);
    vault.insert(&VaultKey::Transaction(&id).to_string(), to_value(tx)?, tx.expires_at, now).await?;
    Ok(id)
}

/// Keeps `grant` under `code` until the grant expires.
///
/// # Errors
/// When the store fails.
pub async fn issue_code<V: OneTime>(vault: &V, now: u64, code: &str, grant: &CodeGrant) -> Result<(), StoreError> {
    vault.insert(&VaultKey::Code(code).to_string(), to_value(grant)?, grant.expires_at, now).await?;
    Ok(())
}

/// Redeems `code`: checked against `redemption` (client, redirect URI, PKCE, expiry) and
/// taken in one Vault operation (a second redemption, even a concurrent one, finds nothing),
/// which also records the access token `issued`, if any, so that a replay of the code revokes
/// it (RFC 6749 4.1.2, 10.5). A redemption that fails the checks (another client, a wrong
/// verifier) is refused without spending the code, so whoever sees a code cannot burn it for
/// the client it was issued to.
///
/// # Errors
/// [`OneTimeError::Refused`] with `invalid_grant`.
pub async fn redeem_code<V: OneTime>(vault: &V, now: u64, code: &str, redemption: &Redemption<'_>, issued: Option<&Issued>) -> Result<CodeGrant, OneTimeError> {
    let gone = || OneTimeError::Refused(OAuthError::invalid_grant("the authorization code is invalid, expired or already used"));
    let key = VaultKey::Code(code).to_string();
    let record = VaultKey::RedeemedCode(code).to_string();
    // A code minted before a sign-in's values shared one object has its record elsewhere:
    // recorded in a call of its own.
    let together = same_object(&key, &record);
    match vault.redeem(&key, now, redemption, issued.filter(|_| together).map(|i| (record.as_str(), i))).await? {
        RedeemOutcome::Taken(stored) => {
            let grant: CodeGrant = from_value(Some(stored))?.ok_or_else(gone)?;
            if let (Some(issued), false) = (issued, together) {
                vault.insert(&record, to_value(&Redeemed::of(&grant, issued.clone()))?, issued.until, now).await?;
            }
            Ok(grant)
        }
        // Left in place: the check says why (it refused the same grant where it is kept).
        RedeemOutcome::Refused(grant) => {
            let seen: CodeGrant = from_value(Some(grant))?.ok_or_else(gone)?;
            check_redemption(&seen, redemption, now).map_err(OneTimeError::Misused)?;
            Err(gone())
        }
        RedeemOutcome::Absent => {
            revoke_on_replay(vault, now, code).await?;
            Err(gone())
        }
    }
}

/// A code presented again after its redemption: the access token it gave is revoked.
async fn revoke_on_replay<V: OneTime>(vault: &V, now: u64, code: &str) -> Result<(), StoreError> {
    if let Some(r) = from_value::<Redeemed>(vault.get(&VaultKey::RedeemedCode(code).to_string(), now).await?)? {
        let key = match &r.user_id {
            Some(user) => VaultKey::UserRevoked(user, &r.access_token_jti),
            None => VaultKey::RevokedToken(&r.access_token_jti),
        };
        vault.insert(&key.to_string(), serde_json::Value::Bool(true), r.until, now).await?;
    }
    Ok(())
}

/// Whether `user_id` is disabled or deleted, and whether their access token `jti` was
/// revoked (its code was replayed): one call to the user's status object.
///
/// # Errors
/// When the store fails.
pub async fn token_status<V: OneTime>(vault: &V, now: u64, user_id: &str, jti: &str) -> Result<TokenStatus, StoreError> {
    let keys = [VaultKey::UserDisabled(user_id).to_string(), VaultKey::UserRevoked(user_id, jti).to_string()];
    let values = vault.get_many(&keys, now).await?;
    let set = |i: usize| values.get(i).and_then(Option::as_ref).and_then(serde_json::Value::as_bool) == Some(true);
    Ok(TokenStatus { user_disabled: set(0), revoked: set(1) })
}

/// Whether `user_id` is disabled or deleted, from the user's status object alone.
///
/// # Errors
/// When the store fails.
pub async fn user_disabled<V: OneTime>(vault: &V, now: u64, user_id: &str) -> Result<bool, StoreError> {
    Ok(from_value::<bool>(vault.get(&VaultKey::UserDisabled(user_id).to_string(), now).await?)? == Some(true))
}

/// What [`token_status`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenStatus {
    /// Disabled by an admin, or deleted.
    pub user_disabled: bool,
    pub revoked: bool,
}

/// Whether the access token `jti` was revoked (its code was replayed), for a token issued
/// before revocations were kept with the user ([`token_status`]).
///
/// # Errors
/// When the store fails.
pub async fn is_revoked<V: OneTime>(vault: &V, now: u64, jti: &str) -> Result<bool, StoreError> {
    Ok(vault.get(&VaultKey::RevokedToken(jti).to_string(), now).await?.is_some())
}

/// Spends a client assertion's `jti` for `client_id` until `until` (the assertion's expiry);
/// false when it was spent already (a replay).
///
/// # Errors
/// When the store fails.
pub async fn spend_assertion<V: OneTime>(vault: &V, now: u64, client_id: &str, jti: &str, until: u64) -> Result<bool, StoreError> {
    vault.insert(&VaultKey::Assertion { client_id, jti }.to_string(), serde_json::Value::Bool(true), until, now).await
}
