use crate::helpers::{run, transaction, App};
use biopass_idp::claims::{CODE_LIFETIME, REQUEST_URI_LIFETIME, TRANSACTION_LIFETIME};
use biopass_idp::error::OAuthErrorCode;
use biopass_idp::grant::{CodeGrant, Issued, Redemption};
use biopass_idp::pkce::CodeChallenge;
use biopass_idp::schema::{SignInToken, VaultKey};
use biopass_idp::secretbox::MasterKey;
use biopass_service::oauth::{
    is_revoked, issue_code, push, redeem_code, resolve, spend, spend_assertion, start_pushed_transaction, start_transaction, token_status, OneTimeError,
    PushedRequest, TokenStatus,
};
use biopass_service::store::OneTime;

fn pushed(client_id: &str) -> PushedRequest {
    let mut request = transaction("ada@example.com", true, "b", 0).request;
    request.client_id = client_id.into();
    PushedRequest { request, authenticated: true }
}

fn code_of(e: &OneTimeError) -> OAuthErrorCode {
    match e {
        OneTimeError::Refused(o) | OneTimeError::Misused(o) => o.code,
        OneTimeError::Store(s) => panic!("store failed: {s}"),
    }
}

fn master() -> MasterKey {
    MasterKey::from_bytes([3; 32])
}

/// The reference part of a request URI (`{sign-in}.{secret}`), and its sealed request.
fn parts(uri: &str) -> (&str, &str) {
    uri.strip_prefix("urn:ietf:params:oauth:request_uri:").and_then(|r| r.rsplit_once('.')).expect("a sealed request URI")
}

#[test]
fn a_request_uri_works_once_for_its_client_until_it_expires() {
    let mut app = App::new();
    let now = app.now();
    let key = master();
    // Pushing stores nothing: the request is sealed into its URI.
    let uri = push(&key, &mut app.rng, now, &pushed("c1")).unwrap();
    assert!(uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    assert!(!uri.contains("ada@example.com") && !uri.contains("rp.example.com"), "sealed, not readable: {uri}");
    let resolved = run(resolve(&app.vault, &key, now, "c1", &uri)).unwrap();
    assert_eq!(resolved.pushed, pushed("c1"));
    assert!(app.vault.take_calls().is_empty(), "a sealed request resolves without the Vault");
    // Its first use starts the sign-in's transaction and spends it, in one Vault call.
    let tx = transaction("ada@example.com", true, "b", now);
    let tx_id = run(start_pushed_transaction(&app.vault, &mut app.rng, now, &resolved, &tx)).unwrap().expect("a transaction");
    assert_eq!(app.vault.take_calls().len(), 1);
    assert!(run(app.vault.get(&VaultKey::Transaction(&tx_id).to_string(), now)).unwrap().is_some());
    assert_eq!(SignInToken::sign_in(&tx_id), SignInToken::sign_in(parts(&uri).0), "the transaction joins the request's sign-in");
    // The second use starts nothing, nor does an error's spending count as a first use.
    let again = run(resolve(&app.vault, &key, now, "c1", &uri)).unwrap();
    assert_eq!(run(start_pushed_transaction(&app.vault, &mut app.rng, now, &again, &tx)).unwrap(), None, "the second use");
    assert!(!run(spend(&app.vault, now, &again)).unwrap());
    // Resolved twice before either use, it starts one transaction.
    let uri = push(&key, &mut app.rng, now, &pushed("c1")).unwrap();
    let (a, b) = (run(resolve(&app.vault, &key, now, "c1", &uri)).unwrap(), run(resolve(&app.vault, &key, now, "c1", &uri)).unwrap());
    let mut rng2 = biopass_idp::random::TestEntropy::new(99);
    let started = run(futures::future::join(
        start_pushed_transaction(&app.vault, &mut app.rng, now, &a, &tx),
        start_pushed_transaction(&app.vault, &mut rng2, now, &b, &tx),
    ));
    assert_eq!([started.0.unwrap().is_some(), started.1.unwrap().is_some()].iter().filter(|s| **s).count(), 1, "one of two concurrent uses");
    // An authorization request that ends with an error spends it too, once.
    let uri = push(&key, &mut app.rng, now, &pushed("c1")).unwrap();
    let resolved = run(resolve(&app.vault, &key, now, "c1", &uri)).unwrap();
    assert!(run(spend(&app.vault, now, &resolved)).unwrap());
    assert!(!run(spend(&app.vault, now, &resolved)).unwrap(), "spent already");
    assert_eq!(run(start_pushed_transaction(&app.vault, &mut app.rng, now, &resolved, &tx)).unwrap(), None);

    // Another client cannot use it, nor burn it for its client.
    let uri = push(&key, &mut app.rng, now, &pushed("c1")).unwrap();
    let stolen = run(resolve(&app.vault, &key, now, "c2", &uri)).unwrap_err();
    assert!(matches!(stolen, OneTimeError::Misused(_)));
    assert_eq!(code_of(&stolen), OAuthErrorCode::InvalidRequestUri);
    let mine = run(resolve(&app.vault, &key, now, "c1", &uri)).unwrap();
    assert!(run(start_pushed_transaction(&app.vault, &mut app.rng, now, &mine, &tx)).unwrap().is_some(), "still unspent for its client");

    // Tampered with, moved to another reference, or sealed under another key: refused.
    let (reference, sealed) = parts(&uri);
    let mut bytes = sealed.as_bytes().to_vec();
    bytes[20] = if bytes[20] == b'A' { b'B' } else { b'A' };
    let tampered = format!("urn:ietf:params:oauth:request_uri:{reference}.{}", String::from_utf8(bytes).unwrap());
    assert_eq!(code_of(&run(resolve(&app.vault, &key, now, "c1", &tampered)).unwrap_err()), OAuthErrorCode::InvalidRequestUri);
    let other = push(&key, &mut app.rng, now, &pushed("c1")).unwrap();
    let moved = format!("urn:ietf:params:oauth:request_uri:{}.{sealed}", parts(&other).0);
    assert_eq!(code_of(&run(resolve(&app.vault, &key, now, "c1", &moved)).unwrap_err()), OAuthErrorCode::InvalidRequestUri, "bound to its reference");
    let foreign = run(resolve(&app.vault, &MasterKey::from_bytes([4; 32]), now, "c1", &uri)).unwrap_err();
    assert_eq!(code_of(&foreign), OAuthErrorCode::InvalidRequestUri);

    // Expired after its lifetime, to the second.
    let uri = push(&key, &mut app.rng, now, &pushed("c1")).unwrap();
    app.clock.advance(REQUEST_URI_LIFETIME - 1);
    assert!(run(resolve(&app.vault, &key, app.now(), "c1", &uri)).is_ok());
    app.clock.advance(1);
    assert!(run(resolve(&app.vault, &key, app.now(), "c1", &uri)).is_err());
    // Cut short to its reference, a sealed one is no request (its spent mark is no request).
    let (reference, _) = parts(&uri);
    let resolved = run(resolve(&app.vault, &key, now, "c1", &uri)).unwrap();
    assert!(run(spend(&app.vault, now, &resolved)).unwrap());
    let cut = format!("urn:ietf:params:oauth:request_uri:{reference}");
    assert_eq!(code_of(&run(resolve(&app.vault, &key, now, "c1", &cut)).unwrap_err()), OAuthErrorCode::InvalidRequestUri);
    // Spent, its mark outlives it by a lifetime: a use that found it live cannot find the
    // mark swept by a later one.
    assert!(run(app.vault.get(&VaultKey::PushedRequest(reference).to_string(), now + 2 * REQUEST_URI_LIFETIME - 1)).unwrap().is_some());
    // Not a request_uri of ours at all.
    assert!(run(resolve(&app.vault, &key, app.now(), "c1", "urn:ietf:params:oauth:request_uri:")).is_err());
    assert!(run(resolve(&app.vault, &key, app.now(), "c1", "urn:ietf:params:oauth:request_uri:abc.def")).is_err());
    let hosted = run(resolve(&app.vault, &key, app.now(), "c1", "https://rp.example.com/request.jwt")).unwrap_err();
    assert_eq!(code_of(&hosted), OAuthErrorCode::RequestUriNotSupported, "Core 6.2");
}

/// A request URI of the form before requests were sealed (the request kept in the Vault
/// under its reference) still works, once, for its client, so a deployment does not end the
/// sign-ins under way.
#[test]
fn a_stored_request_uri_still_works_once() {
    let mut app = App::new();
    let now = app.now();
    let key = master();
    let reference = SignInToken::mint(&mut app.rng, None);
    let stored = serde_json::to_value(pushed("c1")).unwrap();
    assert!(run(app.vault.insert(&VaultKey::PushedRequest(&reference).to_string(), stored, now + REQUEST_URI_LIFETIME, now)).unwrap());
    let uri = format!("urn:ietf:params:oauth:request_uri:{reference}");
    assert!(matches!(run(resolve(&app.vault, &key, now, "c2", &uri)).unwrap_err(), OneTimeError::Misused(_)));
    let resolved = run(resolve(&app.vault, &key, now, "c1", &uri)).unwrap();
    assert_eq!(resolved.pushed, pushed("c1"));
    let tx = transaction("ada@example.com", true, "b", now);
    let tx_id = run(start_pushed_transaction(&app.vault, &mut app.rng, now, &resolved, &tx)).unwrap().expect("a transaction");
    assert_eq!(SignInToken::sign_in(&tx_id), SignInToken::sign_in(&reference));
    assert_eq!(code_of(&run(resolve(&app.vault, &key, now, "c1", &uri)).unwrap_err()), OAuthErrorCode::InvalidRequestUri, "the second use");
    assert_eq!(run(start_pushed_transaction(&app.vault, &mut app.rng, now, &resolved, &tx)).unwrap(), None);
}

fn grant(now: u64, verifier: &str) -> CodeGrant {
    CodeGrant {
        client_id: "c1".into(),
        redirect_uri: "https://rp.example.com/cb".into(),
        code_challenge: Some(CodeChallenge::of_verifier(verifier)),
        nonce: Some("n".into()),
        scope: vec!["openid".into()],
        user_id: "u1".into(),
        username: "ada@example.com".into(),
        auth_time: now,
        amr: vec!["face".into()],
        expires_at: now + CODE_LIFETIME,
    }
}

fn redemption(verifier: &str) -> Redemption<'_> {
    Redemption { client_id: "c1", redirect_uri: Some("https://rp.example.com/cb"), code_verifier: Some(verifier) }
}

#[test]
fn a_code_is_redeemed_once_even_concurrently_and_a_failed_check_does_not_spend_it() {
    let app = App::new();
    let now = app.now();
    let verifier = "v".repeat(43);
    run(issue_code(&app.vault, now, "code-1", &grant(now, &verifier))).unwrap();
    let r = redemption(&verifier);
    let results = run(futures::future::join_all((0..8).map(|_| redeem_code(&app.vault, now, "code-1", &r, None))));
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| code_of(e) == OAuthErrorCode::InvalidGrant));

    // A wrong verifier, or another client, is refused; the client it was issued to still
    // redeems it.
    run(issue_code(&app.vault, now, "code-2", &grant(now, &verifier))).unwrap();
    let wrong = "w".repeat(43);
    assert_eq!(code_of(&run(redeem_code(&app.vault, now, "code-2", &redemption(&wrong), None)).unwrap_err()), OAuthErrorCode::InvalidGrant);
    let other = Redemption { client_id: "c2", ..redemption(&verifier) };
    assert_eq!(code_of(&run(redeem_code(&app.vault, now, "code-2", &other, None)).unwrap_err()), OAuthErrorCode::InvalidGrant);
    assert_eq!(run(redeem_code(&app.vault, now, "code-2", &redemption(&verifier), None)).unwrap().user_id, "u1");
    assert!(run(redeem_code(&app.vault, now, "code-2", &redemption(&verifier), None)).is_err(), "then spent");
}

#[test]
fn a_replayed_code_revokes_the_access_token_it_gave() {
    let mut app = App::new();
    let now = app.now();
    let verifier = "v".repeat(43);
    // A code of a sign-in is spent and its token recorded in one Vault call; a code in the
    // form minted before sign-ins shared an object, in two.
    let code = SignInToken::mint(&mut app.rng, None);
    for (code, calls) in [(code.as_str(), 1), ("code-5", 2)] {
        run(issue_code(&app.vault, now, code, &grant(now, &verifier))).unwrap();
        app.vault.take_calls();
        let issued = Issued { access_token_jti: "at-1".into(), until: now + 3600 };
        run(redeem_code(&app.vault, now, code, &redemption(&verifier), Some(&issued))).unwrap();
        assert_eq!(app.vault.take_calls().len(), calls, "{code}");
        let clear = TokenStatus { user_disabled: false, revoked: false };
        assert_eq!(run(token_status(&app.vault, now, "u1", "at-1")).unwrap(), clear);
        // The replay fails, and the first redemption's token stops working: its revocation is
        // kept with the user's status, which one call reads.
        assert!(run(redeem_code(&app.vault, now + 5, code, &redemption(&verifier), None)).is_err());
        app.vault.take_calls();
        assert_eq!(run(token_status(&app.vault, now + 5, "u1", "at-1")).unwrap(), TokenStatus { user_disabled: false, revoked: true });
        assert_eq!(app.vault.take_calls().len(), 1, "one Vault call");
        assert_eq!(run(token_status(&app.vault, now + 5, "u1", "at-2")).unwrap(), clear, "another token of the user");
        assert_eq!(run(token_status(&app.vault, now + 5, "u2", "at-1")).unwrap(), clear, "another user");
        assert_eq!(run(token_status(&app.vault, now + 3600, "u1", "at-1")).unwrap(), clear, "kept only while the token lives");
        // Revoked for the next round's code to show it again.
        run(app.vault.clear(&VaultKey::UserRevoked("u1", "at-1").to_string())).unwrap();
    }
    // A code never issued revokes nothing.
    assert!(run(redeem_code(&app.vault, now, "never-issued", &redemption(&verifier), None)).is_err());
    // A refused redemption records nothing: the code's later redemption and its replay
    // revoke only the token that redemption issued.
    let code = SignInToken::mint(&mut app.rng, None);
    run(issue_code(&app.vault, now, &code, &grant(now, &verifier))).unwrap();
    let wrong = "w".repeat(43);
    let early = Issued { access_token_jti: "at-refused".into(), until: now + 3600 };
    assert!(run(redeem_code(&app.vault, now, &code, &redemption(&wrong), Some(&early))).is_err());
    assert!(run(app.vault.get(&VaultKey::RedeemedCode(&code).to_string(), now)).unwrap().is_none(), "nothing recorded");
    let issued = Issued { access_token_jti: "at-3".into(), until: now + 3600 };
    run(redeem_code(&app.vault, now, &code, &redemption(&verifier), Some(&issued))).unwrap();
    assert!(run(redeem_code(&app.vault, now + 5, &code, &redemption(&verifier), None)).is_err());
    assert!(run(token_status(&app.vault, now + 5, "u1", "at-3")).unwrap().revoked);
    assert!(!run(token_status(&app.vault, now + 5, "u1", "at-refused")).unwrap().revoked);
}

#[test]
fn a_redemption_recorded_before_revocations_were_kept_with_the_user_revokes_where_it_did() {
    let app = App::new();
    let now = app.now();
    let verifier = "v".repeat(43);
    run(issue_code(&app.vault, now, "code-6", &grant(now, &verifier))).unwrap();
    run(redeem_code(&app.vault, now, "code-6", &redemption(&verifier), None)).unwrap();
    // As the earlier layout recorded it: no user.
    let earlier = serde_json::json!({ "access_token_jti": "at-9", "until": now + 600 });
    run(app.vault.insert(&VaultKey::RedeemedCode("code-6").to_string(), earlier, now + 600, now)).unwrap();
    assert!(run(redeem_code(&app.vault, now + 5, "code-6", &redemption(&verifier), None)).is_err());
    assert!(run(is_revoked(&app.vault, now + 5, "at-9")).unwrap());
}

#[test]
fn a_users_status_says_disabled_and_survives_enabling_with_the_revocations() {
    let cx = crate::login::context();
    let (vault, now) = (&cx.vault, cx.now);
    let verifier = "v".repeat(43);
    run(issue_code(vault, now, "code-7", &grant(now, &verifier))).unwrap();
    run(redeem_code(vault, now, "code-7", &redemption(&verifier), Some(&Issued { access_token_jti: "at-7".into(), until: now + 600 }))).unwrap();
    assert!(run(redeem_code(vault, now, "code-7", &redemption(&verifier), None)).is_err());
    run(cx.mark_disabled("u1", true)).unwrap();
    assert_eq!(run(token_status(vault, now, "u1", "at-7")).unwrap(), TokenStatus { user_disabled: true, revoked: true });
    // Enabled again: the revoked token stays revoked.
    run(cx.mark_disabled("u1", false)).unwrap();
    assert_eq!(run(token_status(vault, now, "u1", "at-7")).unwrap(), TokenStatus { user_disabled: false, revoked: true });
}

#[test]
fn a_code_expires_after_its_lifetime() {
    let app = App::new();
    let now = app.now();
    let verifier = "v".repeat(43);
    run(issue_code(&app.vault, now, "code-3", &grant(now, &verifier))).unwrap();
    app.clock.advance(CODE_LIFETIME - 1);
    run(issue_code(&app.vault, app.now(), "code-4", &grant(app.now(), &verifier))).unwrap();
    assert!(run(redeem_code(&app.vault, app.now(), "code-3", &redemption(&verifier), None)).is_ok(), "one second before");
    app.clock.advance(CODE_LIFETIME);
    assert!(run(redeem_code(&app.vault, app.now(), "code-4", &redemption(&verifier), None)).is_err(), "at its expiry");
}

#[test]
fn a_client_assertion_id_is_spent_once_until_the_assertion_expires() {
    let app = App::new();
    let now = app.now();
    assert!(run(spend_assertion(&app.vault, now, "c1", "jti-1", now + 300)).unwrap());
    assert!(!run(spend_assertion(&app.vault, now + 10, "c1", "jti-1", now + 300)).unwrap(), "a replay");
    assert!(run(spend_assertion(&app.vault, now, "c2", "jti-1", now + 300)).unwrap(), "another client's jti is its own");
}

#[test]
fn a_login_transaction_lives_for_its_lifetime() {
    let mut app = App::new();
    let now = app.now();
    let tx = transaction("ada@example.com", true, "b", now);
    let id = run(start_transaction(&app.vault, &mut app.rng, now, &tx)).unwrap();
    assert!(SignInToken::sign_in(&id).is_some(), "a new sign-in's value: {id}");
    let key = VaultKey::Transaction(&id).to_string();
    assert!(run(app.vault.get(&key, now)).unwrap().is_some());
    app.clock.advance(TRANSACTION_LIFETIME);
    assert!(run(app.vault.get(&key, app.now())).unwrap().is_none());
}
