//! The token endpoint's grant and the userinfo endpoint's check, once the edge worker has
//! authenticated the client or read the bearer token: a code redeemed exactly once into
//! signed ID and access tokens (a replay revokes the first access token), and an access
//! token checked for its audience, revocation and account.

use crate::context::Context;
use crate::http::{Challenge, Failure};
use crate::oauth::{is_revoked, misused, record_redemption, redeem_code, OneTimeError};
use crate::records::Records;
use crate::store::OneTime;
use crate::users::active_user;
use biopass_idp::claims::{AccessTokenClaims, ACCESS_TOKEN_LIFETIME, ACCESS_TOKEN_TYP, ID_TOKEN_TYP};
use biopass_idp::discovery::paths;
use biopass_idp::error::{OAuthError, OAuthErrorCode};
use biopass_idp::grant::{token_claims, Redemption};
use biopass_idp::keys::{OpenKeyset, SigningAlg};
use biopass_idp::random::Entropy;
use biopass_proto::oauth::{TokenResponse, UserInfo};

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
    id_alg: SigningAlg,
    code: &str,
    redemption: &Redemption<'_>,
) -> Result<TokenResponse, Failure> {
    let grant = match redeem_code(&cx.vault, cx.now, code, redemption).await {
        Ok(g) => g,
        Err(OneTimeError::Misused(e)) => {
            misused(cx, "token.code_misused", redemption.client_id, &e, None).await;
            return Err(oauth(e));
        }
        Err(e) => return Err(oauth(e.refusal()?)),
    };
    if active_user(cx, &grant.user_id).await?.is_none() {
        return Err(oauth(OAuthError::invalid_grant("the account this code was issued to is disabled or gone")));
    }
    let jti = cx.rng.token::<16>();
    let ((id_claims, id_exp), (at_claims, at_exp)) = token_claims(&grant, &cx.issuer, jti, cx.now);
    let sign_err = |_| Failure::Internal("signing failed".into());
    let id_token = keys.sign_with(id_alg, ID_TOKEN_TYP, &id_claims, cx.now, id_exp).map_err(sign_err)?;
    let access_token = keys.sign(ACCESS_TOKEN_TYP, &at_claims, cx.now, at_exp).map_err(sign_err)?;
    record_redemption(&cx.vault, cx.now, code, &at_claims.jti, at_exp).await?;
    Ok(TokenResponse { access_token, token_type: "Bearer".into(), expires_in: ACCESS_TOKEN_LIFETIME, id_token, scope: grant.scope.join(" ") })
}

/// The userinfo answer for the bearer `token` (none: no token was sent).
///
/// # Errors
/// `invalid_token` with a Bearer challenge (RFC 6750 3) for a missing, forged, expired,
/// misdirected or revoked token, or a disabled account; internal when a store fails.
pub async fn userinfo<V: OneTime, R: Records>(cx: &Context<V, R>, keys: &OpenKeyset, token: Option<&str>) -> Result<UserInfo, Failure> {
    let invalid = |d: &str| Failure::OAuth { error: OAuthError::new(OAuthErrorCode::InvalidToken, d), challenge: Challenge::Bearer };
    let token = token.ok_or_else(|| invalid("an access token is required"))?;
    let (claims, _) = keys.verify::<AccessTokenClaims>(token, cx.now).map_err(|_| invalid("the access token is invalid or expired"))?;
    if claims.aud != format!("{}{}", cx.issuer, paths::USERINFO) || claims.iss != cx.issuer {
        return Err(invalid("the access token is not for this endpoint"));
    }
    if is_revoked(&cx.vault, cx.now, &claims.jti).await? {
        return Err(invalid("the access token was revoked: the code it was issued for was used again"));
    }
    if active_user(cx, &claims.sub).await?.is_none() {
        return Err(invalid("the account this token was issued to is disabled or gone"));
    }
    Ok(UserInfo { sub: claims.sub, preferred_username: claims.preferred_username })
}
