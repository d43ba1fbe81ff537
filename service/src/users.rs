//! Who a sign-in is for: the user a user pool (or Biopass itself) knows by a name, found or,
//! when the sign-in is vouched for, registered (product page section 2-1), and a user
//! registered before users were bound to pools adopted by the first pool that signs them in;
//! whether they may still sign in; an admin's changes to a user (never leaving the console
//! without an administrator who can sign in); and erasing a user.

use crate::context::Context;
use crate::http::Failure;
use crate::records::{RecordStore, Records};
use crate::store::{from_value, to_value, OneTime, StoreError, StoreResult};
use biopass_idp::application::ApplicationRecord;
use biopass_idp::authorize::CognitoContext;
use biopass_idp::claims::ACCESS_TOKEN_LIFETIME;
use biopass_idp::error::ApiFailure;
use biopass_idp::ids::UserName;
use biopass_idp::schema::{KvKey, VaultKey};
use biopass_idp::user::{pool_tag, UserRecord};
use biopass_proto::admin::UpdateUser;
use biopass_proto::error::ApiErrorCode;
use biopass_proto::login::AuthenticatorKind;

/// The Vault's answer to "one value ever wins", as a `String`.
async fn agreed<V: OneTime>(vault: &V, key: &str, proposed: &str) -> StoreResult<String> {
    from_value(Some(vault.get_or_insert(key, to_value(&proposed)?).await?))?.ok_or_else(|| StoreError("vault answered nothing".into()))
}

/// Finds the user a login is for, in the user pool it comes from (or among Biopass's own
/// users). When the sign-in is vouched for (`may_enrol`: an authenticated client, our
/// Cognito stack, after Cognito checked the password), an unknown user is registered in that
/// pool and put in the application's group, and a known one joins it. Two first logins at
/// once make one user: the Vault decides which id wins.
///
/// # Errors
/// When a store fails.
pub async fn resolve_user<V: OneTime, R: Records>(
    cx: &mut Context<V, R>,
    username: &UserName,
    user_pool: Option<&CognitoContext>,
    app: &ApplicationRecord,
    may_enrol: bool,
) -> StoreResult<Option<UserRecord>> {
    let found = cx.records.user_named(user_pool, username).await?;
    settle_user(cx, found, username, user_pool, app, may_enrol).await
}

/// [`resolve_user`] once the user named was looked up (`found`).
///
/// # Errors
/// When a store fails.
pub async fn settle_user<V: OneTime, R: Records>(
    cx: &mut Context<V, R>,
    found: Option<UserRecord>,
    username: &UserName,
    user_pool: Option<&CognitoContext>,
    app: &ApplicationRecord,
    may_enrol: bool,
) -> StoreResult<Option<UserRecord>> {
    if let Some(mut user) = found {
        if may_enrol && user.join(&app.group_id) {
            cx.records.put_user(&user).await?;
        }
        return Ok(Some(user));
    }
    if !may_enrol {
        return Ok(None);
    }
    if let Some(pool) = user_pool {
        if let Some(user) = adopt_unbound(cx, username, pool, app).await? {
            return Ok(Some(user));
        }
    }
    let fresh = UserRecord::register(username.clone(), user_pool, &app.group_id, &mut cx.rng, cx.now);
    let id = agreed(&cx.vault, &VaultKey::UserName(user_pool, username).to_string(), &fresh.id).await?;
    if id == fresh.id {
        cx.records.put_user(&fresh).await?;
        Ok(Some(fresh))
    } else {
        Ok(registered_meanwhile(cx, id, fresh).await?.filter(|u| u.belongs_to(user_pool)))
    }
}

/// The user `user_pool` (or Biopass itself, `None`) knows as `name`, and whether they are
/// disabled (the flag of their record, or their status in the Vault, which an admin's change
/// reaches at once): their record and their status are read at once.
///
/// # Errors
/// When a store fails.
pub async fn named_and_disabled<V: OneTime, R: Records>(
    records: &RecordStore<R>,
    vault: &V,
    now: u64,
    user_pool: Option<&CognitoContext>,
    name: &UserName,
) -> StoreResult<Option<(UserRecord, bool)>> {
    let status = |id: String| async move { crate::oauth::user_disabled(vault, now, &id).await };
    let (user, status) = records.user_named_with(user_pool, name, status).await?;
    let Some(user) = user else { return Ok(None) };
    let disabled = match status {
        Some(in_vault) => user.disabled || in_vault?,
        None => is_disabled(vault, now, &user).await?,
    };
    Ok(Some((user, disabled)))
}

/// True while `user` is disabled: the flag of their record, or their status in the Vault
/// (`Context::is_disabled`).
///
/// # Errors
/// When the Vault fails.
pub async fn is_disabled<V: OneTime>(vault: &V, now: u64, user: &UserRecord) -> StoreResult<bool> {
    if user.disabled {
        return Ok(true);
    }
    crate::oauth::user_disabled(vault, now, &user.id).await
}

/// The user a concurrent first sign-in registered as `id`. Their record may not be written
/// yet, or not visible here yet (KV is eventually consistent): until it is, they are the
/// record this sign-in would have made, under the winner's id (a new user with no
/// authenticator either way), and nothing is written for them here.
async fn registered_meanwhile<V: OneTime, R: Records>(cx: &Context<V, R>, id: String, fresh: UserRecord) -> StoreResult<Option<UserRecord>> {
    Ok(Some(cx.records.user(&id).await?.unwrap_or(UserRecord { id, ..fresh })))
}

/// Binds a user registered before users were bound to pools (an unbound record under the
/// plain name key) to `pool`, if no other pool claimed them first; console admins stay
/// Biopass's own.
async fn adopt_unbound<V: OneTime, R: Records>(
    cx: &mut Context<V, R>,
    username: &UserName,
    pool: &CognitoContext,
    app: &ApplicationRecord,
) -> StoreResult<Option<UserRecord>> {
    let legacy_key = KvKey::UserName(None, username);
    let Some(mut user) = cx.records.user_at(legacy_key).await?.filter(|u| u.user_pool.is_none() && !u.admin) else {
        return Ok(None);
    };
    let tag = pool_tag(pool);
    if agreed(&cx.vault, &VaultKey::PoolClaim(&user.id).to_string(), &tag).await? != tag {
        return Ok(None);
    }
    let id = agreed(&cx.vault, &VaultKey::UserName(Some(pool), username).to_string(), &user.id).await?;
    if id != user.id {
        let fresh = UserRecord::register(username.clone(), Some(pool), &app.group_id, &mut cx.rng, cx.now);
        return Ok(registered_meanwhile(cx, id, fresh).await?.filter(|u| u.belongs_to(Some(pool))));
    }
    user.user_pool = Some(pool.clone());
    user.join(&app.group_id);
    cx.records.put_user(&user).await?;
    cx.records.delete_key(legacy_key).await?;
    cx.audit("system", "user.pool.bind", Some(user.username.as_str()), Some(format!("bound to user pool {}", pool.user_pool_id)), None).await;
    Ok(Some(user))
}

/// Deletes the user `id` and what is kept for them: the record with their authenticators
/// (sealed TOTP seed, face template), their name and index keys, and in the Vault their
/// registration claim, last TOTP step, pool claim, the failure counters earlier layouts kept
/// in objects of their own, and their status object (disabled marker, counters,
/// revocations), which then says "gone" until their access tokens have expired. Their sessions, codes
/// and tokens stop working with the record (each is checked against an active user), and a
/// later sign-in with the name registers someone new. The audit log keeps what they did. An
/// administrator is not deleted: their role is removed first, so the console cannot lose
/// its last admin (or the caller) by a slip.
///
/// # Errors
/// 404 for an unknown user, 409 for an administrator; internal when a store fails.
pub async fn delete_user<V: OneTime, R: Records>(cx: &Context<V, R>, id: &str) -> Result<UserRecord, Failure> {
    let user = cx.records.user(id).await?.ok_or_else(no_such_user)?;
    if user.admin {
        return Err(Failure::Api(ApiFailure::new(ApiErrorCode::Conflict, "This user is an administrator: remove their administrator role first.")));
    }
    erase(cx, &user).await?;
    Ok(user)
}

/// Erases `user` (just read, not an administrator) as [`delete_user`] says.
async fn erase<V: OneTime, R: Records>(cx: &Context<V, R>, user: &UserRecord) -> StoreResult<()> {
    let claim = VaultKey::UserName(user.user_pool.as_ref(), &user.username).to_string();
    if from_value::<String>(cx.vault.get(&claim, cx.now).await?)?.as_deref() == Some(user.id.as_str()) {
        cx.vault.clear(&claim).await?;
    }
    let kinds = [AuthenticatorKind::Totp, AuthenticatorKind::Face, AuthenticatorKind::Passkey, AuthenticatorKind::RecoveryCode];
    // The counters as the layout before kept them, in objects of their own, then the whole
    // status object (the counters in it too) last, so its "gone" follows at once.
    let keys = [VaultKey::TotpStep(&user.id), VaultKey::PoolClaim(&user.id)]
        .into_iter()
        .chain(kinds.map(|kind| VaultKey::CounterBefore(kind, &user.id)))
        .chain([VaultKey::UserDisabled(&user.id)]);
    for key in keys {
        cx.vault.clear(&key.to_string()).await?;
    }
    // The user's access tokens are refused by their status alone (userinfo reads no
    // record): it says "gone" until the last of them has expired, then goes too.
    let status = VaultKey::UserDisabled(&user.id).to_string();
    cx.vault.insert(&status, to_value(&true)?, cx.now + ACCESS_TOKEN_LIFETIME, cx.now).await?;
    cx.records.delete_user(user).await
}

/// Users looked at by one [`clean_up_never_enrolled`] call.
pub const CLEANUP_PAGE: usize = 100;

/// Deletes (as [`delete_user`] does, from the record read here) the users of one page of the directory, from `cursor`,
/// who never enrolled an authenticator and registered before `registered_before`:
/// sign-ins that stopped before enrolment leave such users behind. Each is read again before
/// it goes, so one who enrolled meanwhile stays; administrators stay. Answers who went, how
/// many were looked at, and the cursor of the next page.
///
/// # Errors
/// Internal when a store fails.
pub async fn clean_up_never_enrolled<V: OneTime, R: Records>(
    cx: &Context<V, R>,
    registered_before: u64,
    cursor: Option<String>,
) -> Result<(Vec<UserRecord>, usize, Option<String>), Failure> {
    let page = cx.records.user_page("", None, CLEANUP_PAGE, cursor).await?;
    let scanned = page.items.len();
    let mut deleted = Vec::new();
    for listed in page.items {
        if !listed.authenticators.is_empty() || listed.admin || listed.created_at >= registered_before {
            continue;
        }
        let Some(user) = cx.records.user(&listed.id).await? else { continue };
        if !user.enrolled().is_empty() || user.admin || user.created_at >= registered_before {
            continue;
        }
        erase(cx, &user).await?;
        deleted.push(user);
    }
    Ok((deleted, scanned, page.next_cursor))
}

/// Whether `user` can sign in to the console: an administrator, not disabled, with an
/// authenticator.
async fn can_administer<V: OneTime, R: Records>(cx: &Context<V, R>, user: &UserRecord) -> StoreResult<bool> {
    Ok(user.admin && !user.enrolled().is_empty() && !cx.is_disabled(user).await?)
}

/// Refuses to turn `before` into `after` when `before` is the last administrator who can sign
/// in and `after` no longer could: nobody could then sign in to the console to undo it.
async fn keep_an_administrator<V: OneTime, R: Records>(cx: &Context<V, R>, before: &UserRecord, after: &UserRecord) -> Result<(), Failure> {
    let still = after.admin && !after.disabled && !after.enrolled().is_empty();
    if still || !can_administer(cx, before).await? {
        return Ok(());
    }
    for other in cx.records.admins().await? {
        if other.id != before.id && can_administer(cx, &other).await? {
            return Ok(());
        }
    }
    Err(Failure::Api(ApiFailure::new(
        ApiErrorCode::Conflict,
        "This is the last administrator who can sign in: make another user with an authenticator an administrator first.",
    )))
}

fn no_such_user() -> Failure {
    Failure::Api(ApiFailure::not_found("No user with this id."))
}

/// An admin's change to the user `id`: groups, disabled, administrator. Disabling takes
/// effect everywhere at once (the Vault's marker). The groups must exist (the caller checks).
///
/// # Errors
/// 404 for an unknown user; 409 when the change would leave no administrator who can sign
/// in; internal when a store fails.
pub async fn update_user<V: OneTime, R: Records>(cx: &Context<V, R>, id: &str, change: &UpdateUser) -> Result<UserRecord, Failure> {
    let before = cx.records.user(id).await?.ok_or_else(no_such_user)?;
    let mut after = before.clone();
    after.apply(change);
    keep_an_administrator(cx, &before, &after).await?;
    if let Some(d) = change.disabled {
        // Strongly consistent at once: every later login step, code redemption and userinfo
        // call of this user is refused (see `Context::is_disabled`).
        cx.mark_disabled(&after.id, d).await?;
    }
    cx.records.put_user(&after).await?;
    Ok(after)
}

/// Removes the user's enrolled authenticator `kind` (`totp`, `face` or `passkey`); they
/// enrol it again at their next sign-in.
///
/// # Errors
/// 404 for an unknown user, 400 for an unknown kind, 409 when it is the last authenticator
/// of the last administrator who can sign in; internal when a store fails.
pub async fn reset_authenticator<V: OneTime, R: Records>(cx: &Context<V, R>, id: &str, kind: &str) -> Result<UserRecord, Failure> {
    let before = cx.records.user(id).await?.ok_or_else(no_such_user)?;
    let mut after = before.clone();
    after.reset_authenticator(kind).map_err(|m| Failure::Api(ApiFailure::invalid_field("kind", m)))?;
    keep_an_administrator(cx, &before, &after).await?;
    cx.records.put_user(&after).await?;
    Ok(after)
}

/// The user `id` if they exist and are not disabled.
///
/// # Errors
/// When a store fails.
pub async fn active_user<V: OneTime, R: Records>(cx: &Context<V, R>, id: &str) -> StoreResult<Option<UserRecord>> {
    match cx.records.user(id).await? {
        Some(u) if !cx.is_disabled(&u).await? => Ok(Some(u)),
        _ => Ok(None),
    }
}
