//! The token endpoint's grant and the userinfo endpoint's check, once the edge worker has
//! authenticated the client or read the bearer token: a code redeemed exactly once into
//! signed ID and access tokens (a replay revokes the first access token), and an access
//! token checked for its audience, revocation and account. ES256 signatures are made and
//! checked by an [`Es256`]: the worker's is the runtime's WebCrypto, [`InProcess`] the
//! keyset's own P-256.

use crate::context::Context;
use crate::http::{Challenge, Failure};
use crate::oauth::{is_revoked, misused, redeem_code, token_status, user_disabled, OneTimeError};
use crate::records::Records;
use crate::store::OneTime;
use crate::users::active_user;
use biopass_idp::claims::{AccessTokenClaims, ACCESS_TOKEN_LIFETIME, ACCESS_TOKEN_TYP, ID_TOKEN_TYP};
use biopass_idp::discovery::paths;
use biopass_idp::error::{OAuthError, OAuthErrorCode};
use biopass_idp::grant::{token_claims, Issued, Redemption};
use biopass_idp::keys::{OpenKeyset, PresentedEs256, SigningAlg, UnsignedToken};
use biopass_idp::schema::SignInToken;
use biopass_proto::oauth::{TokenResponse, UserInfo};

/// Who makes and checks ES256 signatures with the keyset's keys.
#[allow(async_fn_in_trait)]
pub trait Es256 {
    /// The token `unsigned` with its signature.
    ///
    /// # Errors
    /// Internal when the signature cannot be made.
    async fn sign(&self, keys: &OpenKeyset, unsigned: &UnsignedToken) -> Result<String, Failure>;

    /// Whether `presented`'s signature is right.
    ///
    /// # Errors
    /// Internal when it cannot be checked (not for a wrong signature).
    async fn valid(&self, keys: &OpenKeyset, presented: &PresentedEs256<'_>) -> Result<bool, Failure>;
}

/// ES256 with the keyset's own P-256 (`p256`): natively, and in tests.
pub struct InProcess;

impl Es256 for InProcess {
    async fn sign(&self, keys: &OpenKeyset, unsigned: &UnsignedToken) -> Result<String, Failure> {
        keys.sign_unsigned(unsigned).map_err(|e| Failure::Internal(format!("signing failed: {e:?}")))
    }
    async fn valid(&self, keys: &OpenKeyset, presented: &PresentedEs256<'_>) -> Result<bool, Failure> {
        Ok(keys.es256_signature_valid(presented))
    }
}

fn oauth(error: OAuthError) -> Failure {
    Failure::OAuth { error, challenge: Challenge::None }
}

/// Redeems `code` (checked against `redemption`: client, redirect URI, PKCE) into tokens
/// signed with `keys`, for an account that is still active: the ID token with `id_alg` (the
/// application's `id_token_signed_response_alg`), the access token (ours alone) with ES256.
///
/// # Errors
/// `invalid_grant` for a bad, spent or expired code or a disabled account; internal when a
/// store or the signature fails.
pub async fn exchange_code<V: OneTime, R: Records>(
    cx: &mut Context<V, R>,
    keys: &OpenKeyset,
    es256: &impl Es256,
    id_alg: SigningAlg,
    code: &str,
    redemption: &Redemption<'_>,
) -> Result<TokenResponse, Failure> {
    // The access token's id is a value of the code's sign-in: its revocation, if the code is
    // replayed, is kept in the sign-in's Vault object, which userinfo then reads. It is
    // recorded in the call that spends the code.
    let issued = Issued::at(SignInToken::mint(&mut cx.rng, SignInToken::sign_in(code)), cx.now);
    let grant = match redeem_code(&cx.vault, cx.now, code, redemption, Some(&issued)).await {
        Ok(g) => g,
        Err(OneTimeError::Misused(e)) => {
            misused(cx, "token.code_misused", redemption.client_id, &e, None).await;
            return Err(oauth(e));
        }
        Err(e) => return Err(oauth(e.refusal()?)),
    };
    // The user's status object alone (no KV read of the record): disabling writes it before
    // the record, and deleting leaves it saying so past the last code's lifetime.
    if user_disabled(&cx.vault, cx.now, &grant.user_id).await? {
        return Err(oauth(OAuthError::invalid_grant("the account this code was issued to is disabled or gone")));
    }
    let ((id_claims, id_exp), (at_claims, at_exp)) = token_claims(&grant, &cx.issuer, &issued, cx.now);
    let sign_err = |_| Failure::Internal("signing failed".into());
    let id_token = match id_alg {
        SigningAlg::Es256 => es256.sign(keys, &keys.unsigned_es256(ID_TOKEN_TYP, &id_claims, cx.now, id_exp).map_err(sign_err)?).await?,
        SigningAlg::Rs256 => keys.sign_with(id_alg, ID_TOKEN_TYP, &id_claims, cx.now, id_exp).map_err(sign_err)?,
    };
    let access_token = es256.sign(keys, &keys.unsigned_es256(ACCESS_TOKEN_TYP, &at_claims, cx.now, at_exp).map_err(sign_err)?).await?;
    Ok(TokenResponse { access_token, token_type: "Bearer".into(), expires_in: ACCESS_TOKEN_LIFETIME, id_token, scope: grant.scope.join(" ") })
}

/// The userinfo answer for the bearer `token` (none: no token was sent).
///
/// # Errors
/// `invalid_token` with a Bearer challenge (RFC 6750 3) for a missing, forged, expired,
/// misdirected or revoked token, or a disabled account; internal when a store fails.
pub async fn userinfo<V: OneTime, R: Records>(cx: &Context<V, R>, keys: &OpenKeyset, es256: &impl Es256, token: Option<&str>) -> Result<UserInfo, Failure> {
    let invalid = |d: &str| Failure::OAuth { error: OAuthError::new(OAuthErrorCode::InvalidToken, d), challenge: Challenge::Bearer };
    let token = token.ok_or_else(|| invalid("an access token is required"))?;
    // Our access tokens are ES256 only.
    let presented = keys.presented_es256(token).map_err(|_| invalid("the access token is invalid or expired"))?;
    let valid = es256.valid(keys, &presented).await?;
    let (claims, _) = keys.accept::<AccessTokenClaims>(presented, valid, cx.now).map_err(|_| invalid("the access token is invalid or expired"))?;
    if claims.aud != format!("{}{}", cx.issuer, paths::USERINFO) || claims.iss != cx.issuer {
        return Err(invalid("the access token is not for this endpoint"));
    }
    // One Vault call for a token whose revocation is kept with its user's status (the
    // user's record in KV is not read: a deleted user's status says so until their last
    // token has expired); a token issued before that layout, the two places it was kept.
    let (revoked, gone) = if claims.revocation_with_user {
        let status = token_status(&cx.vault, cx.now, &claims.sub, &claims.jti).await?;
        (status.revoked, status.user_disabled)
    } else {
        (is_revoked(&cx.vault, cx.now, &claims.jti).await?, active_user(cx, &claims.sub).await?.is_none())
    };
    if revoked {
        return Err(invalid("the access token was revoked: the code it was issued for was used again"));
    }
    if gone {
        return Err(invalid("the account this token was issued to is disabled or gone"));
    }
    Ok(UserInfo { sub: claims.sub, preferred_username: claims.preferred_username })
}
