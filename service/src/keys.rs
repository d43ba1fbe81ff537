//! The signing keyset: created on first use (the Vault decides, so two isolates starting at
//! once agree on one), kept in KV for every isolate to read, rotated with the previous keys
//! still published, and given an RSA key when an application first asks for RS256 ID
//! tokens. The edge worker keeps an opened keyset per isolate for a minute.

use crate::context::Context;
use crate::http::Failure;
use crate::records::Records;
use crate::store::{from_value, to_value, OneTime};
use biopass_idp::keys::{Keyset, OpenKeyset, StoredRsaKey};
use biopass_idp::schema::{KvKey, VaultKey};

fn keyset_error(what: &str) -> Failure {
    Failure::Internal(what.into())
}

/// The stored keyset, created on first use (the Vault decides which of two fresh ones wins).
async fn stored<V: OneTime, R: Records>(cx: &mut Context<V, R>) -> Result<Keyset, Failure> {
    if let Some(k) = cx.records.get_json::<Keyset>(&KvKey::Keyset.to_string()).await? {
        return Ok(k);
    }
    let fresh = Keyset::generate(&cx.master, &mut cx.rng, cx.now);
    let agreed: Keyset =
        from_value(Some(cx.vault.get_or_insert(&VaultKey::Keyset.to_string(), to_value(&fresh)?).await?))?.ok_or_else(|| keyset_error("no keyset agreed"))?;
    cx.records.put_json(&KvKey::Keyset.to_string(), &agreed).await?;
    Ok(agreed)
}

/// The Vault's keyset (the one changes are made to), created on first use.
async fn authoritative<V: OneTime, R: Records>(cx: &mut Context<V, R>) -> Result<Keyset, Failure> {
    stored(cx).await?;
    from_value(cx.vault.get(&VaultKey::Keyset.to_string(), cx.now).await?)?.ok_or_else(|| keyset_error("keyset missing from the vault"))
}

/// Writes a changed keyset to the Vault, then to KV for every isolate to read.
async fn save<V: OneTime, R: Records>(cx: &Context<V, R>, keyset: &Keyset) -> Result<(), Failure> {
    cx.vault.put(&VaultKey::Keyset.to_string(), to_value(keyset)?).await?;
    Ok(cx.records.put_json(&KvKey::Keyset.to_string(), keyset).await?)
}

/// The keyset, opened with the master key; created on first use.
///
/// # Errors
/// Internal when a store fails or the keys do not open with this master key.
pub async fn load<V: OneTime, R: Records>(cx: &mut Context<V, R>) -> Result<OpenKeyset, Failure> {
    stored(cx).await?.open(&cx.master, cx.now).map_err(|_| keyset_error("signing keys do not open with BIOPASS_MASTER_KEY"))
}

/// Makes sure the signing generation has an RSA key (an application asked for RS256 ID
/// tokens): the one the Vault agrees on (two isolates adding one at once make one), written
/// to the Vault's keyset and to KV. Seconds of CPU the first time; nothing after.
///
/// # Errors
/// Internal when a store fails.
pub async fn ensure_rsa<V: OneTime, R: Records>(cx: &mut Context<V, R>) -> Result<(), Failure> {
    let mut keyset = authoritative(cx).await?;
    let Some(current) = keyset.keys.iter().rev().find(|k| k.retired_at.is_none()).map(|k| k.kid.clone()) else {
        return Ok(());
    };
    if !keyset.add_missing_rsa(&cx.master, &mut cx.rng) {
        return Ok(());
    }
    let Some(generation) = keyset.keys.iter_mut().find(|k| k.kid == current) else {
        return Ok(());
    };
    let agreed: Option<StoredRsaKey> =
        from_value(Some(cx.vault.get_or_insert(&VaultKey::KeysetRsa(&current).to_string(), to_value(&generation.rsa)?).await?))?.flatten();
    generation.rsa = agreed;
    save(cx, &keyset).await
}

/// Rotates the signing key (the Vault's copy is the one rotated, then KV's follows); the
/// new current `kid`.
///
/// # Errors
/// Internal when a store fails or the keys do not open.
pub async fn rotate<V: OneTime, R: Records>(cx: &mut Context<V, R>) -> Result<String, Failure> {
    let mut keyset = authoritative(cx).await?;
    keyset.rotate(&cx.master, &mut cx.rng, cx.now);
    save(cx, &keyset).await?;
    let open = keyset.open(&cx.master, cx.now).map_err(|_| keyset_error("rotated keyset does not open"))?;
    Ok(open.current_kid().unwrap_or_default().to_owned())
}
