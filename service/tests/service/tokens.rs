use crate::helpers::{name, run};
use crate::login::{advance, context, Cx};
use biopass_idp::claims::{AccessTokenClaims, IdTokenClaims, ACCESS_TOKEN_LIFETIME, ACCESS_TOKEN_TYP, CODE_LIFETIME};
use biopass_idp::error::OAuthErrorCode;
use biopass_idp::grant::{CodeGrant, Redemption};
use biopass_idp::keys::SigningAlg;
use biopass_idp::schema::VaultKey;
use biopass_idp::user::UserRecord;
use biopass_service::http::{Challenge, Failure};
use biopass_service::oauth::issue_code;
use biopass_service::store::OneTime;
use biopass_service::tokens::InProcess;
use biopass_service::{keys, tokens};

const CALLBACK: &str = "https://rp.example.com/cb";

fn oauth_error(f: &Failure) -> (OAuthErrorCode, Challenge) {
    match f {
        Failure::OAuth { error, challenge } => (error.code, *challenge),
        other => panic!("not an OAuth failure: {other:?}"),
    }
}

/// A user and a code issued to them for client c1.
fn issued(cx: &mut Cx, code: &str) -> UserRecord {
    let user = match run(cx.records.user_named(None, &name("ada@example.com"))).unwrap() {
        Some(u) => u,
        None => {
            let u = UserRecord::register(name("ada@example.com"), None, "g1", &mut cx.rng, cx.now);
            run(cx.records.put_user(&u)).unwrap();
            u
        }
    };
    let grant = CodeGrant {
        client_id: "c1".into(),
        redirect_uri: CALLBACK.into(),
        code_challenge: None,
        nonce: Some("n-1".into()),
        scope: vec!["openid".into()],
        user_id: user.id.clone(),
        username: user.username.to_string(),
        auth_time: cx.now,
        amr: vec!["otp".into()],
        expires_at: cx.now + CODE_LIFETIME,
    };
    run(issue_code(&cx.vault, cx.now, code, &grant)).unwrap();
    user
}

/// A JWT's header.
fn header_of(token: &str) -> serde_json::Value {
    use base64::Engine;
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap()
}

fn redemption() -> Redemption<'static> {
    Redemption { client_id: "c1", redirect_uri: Some(CALLBACK), code_verifier: None }
}

#[test]
fn a_code_gives_signed_tokens_once_and_its_replay_revokes_the_access_token() {
    let mut cx = context();
    let user = issued(&mut cx, "code-1");
    let keyset = run(keys::load(&mut cx)).unwrap();
    let answer = run(tokens::exchange_code(&mut cx, &keyset, &InProcess, SigningAlg::Es256, "code-1", &redemption())).unwrap();
    assert_eq!((answer.token_type.as_str(), answer.expires_in, answer.scope.as_str()), ("Bearer", ACCESS_TOKEN_LIFETIME, "openid"));
    let (id, _) = keyset.verify::<IdTokenClaims>(&answer.id_token, cx.now).unwrap();
    assert_eq!((id.iss.as_str(), id.sub.as_str(), id.aud.as_str(), id.nonce.as_deref()), (cx.issuer.as_str(), user.id.as_str(), "c1", Some("n-1")));

    cx.vault.take_calls();
    let info = run(tokens::userinfo(&cx, &keyset, &InProcess, Some(&answer.access_token))).unwrap();
    assert_eq!((info.sub.as_str(), info.preferred_username.as_str()), (user.id.as_str(), "ada@example.com"));
    // One Vault call: the user's status object holds both the user's state and the
    // token's revocation.
    let calls = cx.vault.take_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].0, format!("user-disabled:{}", user.id));
    // The ID token is not an access token for userinfo.
    assert_eq!(
        oauth_error(&run(tokens::userinfo(&cx, &keyset, &InProcess, Some(&answer.id_token))).unwrap_err()),
        (OAuthErrorCode::InvalidToken, Challenge::Bearer)
    );
    assert_eq!(oauth_error(&run(tokens::userinfo(&cx, &keyset, &InProcess, None)).unwrap_err()).0, OAuthErrorCode::InvalidToken);

    // The replay fails and the first access token stops working.
    assert_eq!(
        oauth_error(&run(tokens::exchange_code(&mut cx, &keyset, &InProcess, SigningAlg::Es256, "code-1", &redemption())).unwrap_err()).0,
        OAuthErrorCode::InvalidGrant
    );
    assert_eq!(oauth_error(&run(tokens::userinfo(&cx, &keyset, &InProcess, Some(&answer.access_token))).unwrap_err()).0, OAuthErrorCode::InvalidToken);
}

#[test]
fn a_disabled_account_gets_no_tokens_and_its_tokens_stop_working() {
    let mut cx = context();
    let user = issued(&mut cx, "code-1");
    issued(&mut cx, "code-2");
    let keyset = run(keys::load(&mut cx)).unwrap();
    let answer = run(tokens::exchange_code(&mut cx, &keyset, &InProcess, SigningAlg::Es256, "code-1", &redemption())).unwrap();
    run(cx.mark_disabled(&user.id, true)).unwrap();
    assert_eq!(
        oauth_error(&run(tokens::exchange_code(&mut cx, &keyset, &InProcess, SigningAlg::Es256, "code-2", &redemption())).unwrap_err()).0,
        OAuthErrorCode::InvalidGrant
    );
    assert_eq!(oauth_error(&run(tokens::userinfo(&cx, &keyset, &InProcess, Some(&answer.access_token))).unwrap_err()).0, OAuthErrorCode::InvalidToken);
}

#[test]
fn a_deleted_users_tokens_stop_working() {
    let mut cx = context();
    let user = issued(&mut cx, "code-1");
    let keyset = run(keys::load(&mut cx)).unwrap();
    let answer = run(tokens::exchange_code(&mut cx, &keyset, &InProcess, SigningAlg::Es256, "code-1", &redemption())).unwrap();
    run(biopass_service::users::delete_user(&cx, &user.id)).unwrap();
    let refused = run(tokens::userinfo(&cx, &keyset, &InProcess, Some(&answer.access_token))).unwrap_err();
    assert_eq!(oauth_error(&refused).0, OAuthErrorCode::InvalidToken);
    // The status that says so lasts as long as the user's last token, and then goes too.
    let status = VaultKey::UserDisabled(&user.id).to_string();
    assert!(run(cx.vault.get(&status, cx.now)).unwrap().is_some());
    assert!(run(cx.vault.get(&status, cx.now + ACCESS_TOKEN_LIFETIME)).unwrap().is_none());
}

#[test]
fn a_deleted_users_outstanding_code_gets_no_tokens() {
    let mut cx = context();
    let user = issued(&mut cx, "code-1");
    let keyset = run(keys::load(&mut cx)).unwrap();
    run(biopass_service::users::delete_user(&cx, &user.id)).unwrap();
    let refused = run(tokens::exchange_code(&mut cx, &keyset, &InProcess, SigningAlg::Es256, "code-1", &redemption())).unwrap_err();
    assert_eq!(oauth_error(&refused).0, OAuthErrorCode::InvalidGrant);
}

/// An access token as issued before revocations were kept with the user: no `rvu` claim.
fn earlier_token(cx: &Cx, keyset: &biopass_idp::keys::OpenKeyset, user: &UserRecord, jti: &str) -> String {
    let claims = AccessTokenClaims {
        iss: cx.issuer.clone(),
        sub: user.id.clone(),
        aud: format!("{}/userinfo", cx.issuer),
        client_id: "c1".into(),
        scope: "openid".into(),
        jti: jti.into(),
        preferred_username: user.username.to_string(),
        revocation_with_user: false,
    };
    let token = keyset.sign_with(SigningAlg::Es256, ACCESS_TOKEN_TYP, &claims, cx.now, cx.now + ACCESS_TOKEN_LIFETIME).unwrap();
    assert!(!token.split('.').nth(1).is_some_and(|p| p.contains("rvu")));
    token
}

#[test]
fn a_token_issued_before_is_checked_where_its_revocation_and_its_user_were_kept() {
    let mut cx = context();
    let mut user = issued(&mut cx, "code-1");
    let keyset = run(keys::load(&mut cx)).unwrap();
    let (fine, revoked) = (earlier_token(&cx, &keyset, &user, "jti-a"), earlier_token(&cx, &keyset, &user, "jti-b"));
    run(cx.vault.insert(&VaultKey::RevokedToken("jti-b").to_string(), serde_json::Value::Bool(true), cx.now + 600, cx.now)).unwrap();
    assert!(run(tokens::userinfo(&cx, &keyset, &InProcess, Some(&fine))).is_ok());
    assert_eq!(oauth_error(&run(tokens::userinfo(&cx, &keyset, &InProcess, Some(&revoked))).unwrap_err()).0, OAuthErrorCode::InvalidToken);
    // Disabled in the user's record alone (as before the Vault kept a marker): refused too.
    user.disabled = true;
    run(cx.records.put_user(&user)).unwrap();
    assert_eq!(oauth_error(&run(tokens::userinfo(&cx, &keyset, &InProcess, Some(&fine))).unwrap_err()).0, OAuthErrorCode::InvalidToken);
}

#[test]
fn an_access_token_expires_and_a_rotation_keeps_the_previous_key_published() {
    let mut cx = context();
    issued(&mut cx, "code-1");
    let before = run(keys::load(&mut cx)).unwrap();
    let answer = run(tokens::exchange_code(&mut cx, &before, &InProcess, SigningAlg::Es256, "code-1", &redemption())).unwrap();
    let old_kid = before.current_kid().unwrap().to_owned();
    let new_kid = run(keys::rotate(&mut cx)).unwrap();
    assert_ne!(new_kid, old_kid);
    let after = run(keys::load(&mut cx)).unwrap();
    assert_eq!(after.current_kid(), Some(new_kid.as_str()));
    assert!(run(tokens::userinfo(&cx, &after, &InProcess, Some(&answer.access_token))).is_ok(), "signed with the previous key, still verified");

    advance(&mut cx, ACCESS_TOKEN_LIFETIME);
    assert_eq!(
        oauth_error(&run(tokens::userinfo(&cx, &after, &InProcess, Some(&answer.access_token))).unwrap_err()).0,
        OAuthErrorCode::InvalidToken,
        "expired"
    );
}

#[test]
fn two_isolates_starting_at_once_agree_on_one_keyset() {
    let mut cx = context();
    let mut twin = crate::login::sibling(&cx, 41);
    let (a, b) = run(futures::future::join(keys::load(&mut cx), keys::load(&mut twin)));
    assert_eq!(a.unwrap().current_kid(), b.unwrap().current_kid());
}

#[test]
fn an_rs256_application_gets_rs256_id_tokens_from_one_rsa_key_made_when_first_needed() {
    let mut cx = context();
    issued(&mut cx, "code-1");
    // A new keyset has no RSA key: the first sign-in after a deployment must not wait for one.
    assert!(!run(keys::load(&mut cx)).unwrap().can_sign(SigningAlg::Rs256));

    // Two isolates add one at once: one RSA key.
    let mut twin = crate::login::sibling(&cx, 42);
    let (x, y) = run(futures::future::join(keys::ensure_rsa(&mut cx), keys::ensure_rsa(&mut twin)));
    x.unwrap();
    y.unwrap();
    let (a, b) = (run(keys::load(&mut cx)).unwrap(), run(keys::load(&mut twin)).unwrap());
    let rsa_kids = |k: &biopass_idp::keys::OpenKeyset| -> Vec<String> {
        k.jwks()["keys"].as_array().unwrap().iter().filter(|j| j["kty"] == "RSA").map(|j| j["kid"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(rsa_kids(&a).len(), 1);
    assert_eq!(rsa_kids(&a), rsa_kids(&b));

    let answer = run(tokens::exchange_code(&mut cx, &a, &InProcess, SigningAlg::Rs256, "code-1", &redemption())).unwrap();
    let header = header_of(&answer.id_token);
    assert_eq!((header["alg"].as_str(), header["kid"].as_str()), (Some("RS256"), rsa_kids(&a).first().map(String::as_str)));
    assert!(b.verify::<IdTokenClaims>(&answer.id_token, cx.now).is_ok());
    // The access token stays ES256 and works at userinfo.
    assert_eq!(header_of(&answer.access_token)["alg"], "ES256");
    assert!(run(tokens::userinfo(&cx, &a, &InProcess, Some(&answer.access_token))).is_ok());
}

#[test]
fn a_code_presented_by_another_client_is_refused_recorded_and_not_spent() {
    let mut cx = context();
    issued(&mut cx, "code-1");
    let keyset = run(keys::load(&mut cx)).unwrap();
    let thief = Redemption { client_id: "c2", redirect_uri: Some(CALLBACK), code_verifier: None };
    let refused = run(tokens::exchange_code(&mut cx, &keyset, &InProcess, SigningAlg::Es256, "code-1", &thief)).unwrap_err();
    assert_eq!(oauth_error(&refused).0, OAuthErrorCode::InvalidGrant, "the same answer as for an unknown code");
    let entries = run(cx.records.audit_page(None, 10)).unwrap().items;
    let entry = entries.iter().find(|e| e.action == "token.code_misused").expect("recorded");
    assert_eq!((entry.actor.as_str(), entry.target.as_deref()), ("client:c2", Some("c2")));
    // An unknown code is refused too, and is not a misuse of anyone's.
    assert!(run(tokens::exchange_code(&mut cx, &keyset, &InProcess, SigningAlg::Es256, "never-issued", &thief)).is_err());
    assert_eq!(run(cx.records.audit_page(None, 10)).unwrap().items.len(), 1);
    // The client it was issued to still redeems it.
    assert!(run(tokens::exchange_code(&mut cx, &keyset, &InProcess, SigningAlg::Es256, "code-1", &redemption())).is_ok());
}
