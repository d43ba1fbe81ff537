use crate::helpers::{name, run};
use crate::login::{context, Cx};
use biopass_idp::application::ApplicationRecord;
use biopass_idp::authorize::Params;
use biopass_idp::error::OAuthErrorCode;
use biopass_idp::schema::{vault_object, VaultKey};
use biopass_idp::secretbox::MasterKey;
use biopass_idp::user::UserRecord;
use biopass_service::authorize::{authorize, Authorized};
use biopass_service::http::Failure;
use biopass_service::login::{self, Caller};
use biopass_service::oauth::{push, PushedRequest};

const CALLBACK: &str = "https://rp.example.com/cb";

fn app(cx: &mut Cx, par_only: bool) -> ApplicationRecord {
    let input = serde_json::from_value(serde_json::json!({
        "name": "Payroll", "application_type": "amazon_cognito_mfa", "allowed_callback_urls": [CALLBACK],
        "require_pushed_authorization_requests": par_only,
    }))
    .unwrap();
    let app = ApplicationRecord::create(&input, "g1".into(), &MasterKey::from_bytes([9; 32]), &mut cx.rng, cx.now).unwrap().0;
    run(cx.records.put_application(&app)).unwrap();
    app
}

fn params(app: &ApplicationRecord, extra: &[(&str, &str)]) -> Params {
    let mut p = Params::new();
    for (k, v) in [("client_id", app.client_id.as_str()), ("response_type", "code"), ("redirect_uri", CALLBACK), ("scope", "openid"), ("state", "s-1")]
        .into_iter()
        .chain(extra.iter().copied())
    {
        p.insert(k.to_owned(), vec![v.to_owned()]);
    }
    p
}

fn error_of(back: &Authorized) -> String {
    let Authorized::Back(url) = back else { panic!("not sent back: {back:?}") };
    let url = url::Url::parse(url).unwrap();
    assert!(url.as_str().starts_with(CALLBACK), "{url}");
    assert_eq!(url.query_pairs().find(|(k, _)| k == "state").map(|(_, v)| v.into_owned()).as_deref(), Some("s-1"));
    url.query_pairs().find(|(k, _)| k == "error").map(|(_, v)| v.into_owned()).unwrap()
}

fn page_code(f: &Failure) -> OAuthErrorCode {
    match f {
        Failure::Page(e) => e.code,
        other => panic!("not an error page: {other:?}"),
    }
}

/// The pushed request of `app`'s stack for `user` (vouched for: the client authenticated).
fn pushed(cx: &mut Cx, app: &ApplicationRecord, user: &str) -> String {
    let p = params(app, &[("login_hint", user)]);
    let request = biopass_idp::authorize::validate(&p, &biopass_service::authorize::client_view(app), true).unwrap();
    push(&cx.master, &mut cx.rng, cx.now, &PushedRequest { request, authenticated: true }).unwrap()
}

#[test]
fn a_pushed_request_registers_the_user_and_starts_a_sign_in_bound_to_the_browser_once() {
    let mut cx = context();
    let app = app(&mut cx, true);
    let uri = pushed(&mut cx, &app, "ada@example.com");
    let p = params(&app, &[("request_uri", &uri)]);
    let Authorized::Login { tx_id, browser } = run(authorize(&mut cx, &p, Some(&uri), None)).unwrap() else { panic!("no sign-in") };
    assert_eq!(browser.len(), 43, "a new browser binding");
    let step = run(login::load(&cx, &tx_id, Caller { browser: browser.clone(), ip: None, ..Caller::default() })).unwrap();
    assert!(step.tx.vouched());
    // The transaction joins the pushed request's sign-in: one Vault object for both.
    let reference = uri.strip_prefix(biopass_idp::authorize::REQUEST_URI_PREFIX).and_then(|r| r.rsplit_once('.')).unwrap().0;
    let object = |key: VaultKey<'_>| vault_object(&key.to_string()).0.to_owned();
    assert_eq!(object(VaultKey::Transaction(&tx_id)), object(VaultKey::PushedRequest(reference)));
    assert!(object(VaultKey::Transaction(&tx_id)).starts_with("sign-in:"));
    let user = run(cx.records.user_named(None, &name("ada@example.com"))).unwrap().unwrap();
    assert_eq!(step.user.as_ref().map(|u| u.id.as_str()), Some(user.id.as_str()));
    assert_eq!(user.groups, ["g1"], "in the application's group");
    // The request URI works once, and its replay does nothing: the user deleted meanwhile is
    // not registered again.
    run(biopass_service::users::delete_user(&cx, &user.id)).unwrap();
    assert_eq!(page_code(&run(authorize(&mut cx, &p, Some(&uri), None)).unwrap_err()), OAuthErrorCode::InvalidRequestUri);
    assert_eq!(run(cx.records.user_named(None, &name("ada@example.com"))).unwrap(), None, "the replay registered nobody");
    // A browser that has a binding keeps it.
    let again = pushed(&mut cx, &app, "ada@example.com");
    let Authorized::Login { browser: kept, .. } = run(authorize(&mut cx, &p, Some(&again), Some(browser.clone()))).unwrap() else { panic!() };
    assert_eq!(kept, browser);
}

#[test]
fn a_spent_request_uri_changes_nothing_for_an_existing_user_though_they_are_looked_up_meanwhile() {
    let mut cx = context();
    let app = app(&mut cx, true);
    // Ada exists in another group than the application's.
    let ada = UserRecord::register(name("ada@example.com"), None, "g0", &mut cx.rng, cx.now);
    run(cx.records.put_user(&ada)).unwrap();
    let uri = pushed(&mut cx, &app, "ada@example.com");
    let resolved = run(biopass_service::oauth::resolve(&cx.vault, &cx.master, cx.now, app.client_id.as_str(), &uri)).ok().unwrap();
    assert!(run(biopass_service::oauth::spend(&cx.vault, cx.now, &resolved)).unwrap(), "spent by an earlier use");
    let p = params(&app, &[("request_uri", &uri)]);
    assert_eq!(page_code(&run(authorize(&mut cx, &p, Some(&uri), None)).unwrap_err()), OAuthErrorCode::InvalidRequestUri);
    let after = run(cx.records.user(&ada.id)).unwrap().unwrap();
    assert_eq!(after.groups, ["g0"], "joined no group");
    // Not spent: the same user joins the application's group.
    let fresh = pushed(&mut cx, &app, "ada@example.com");
    let p = params(&app, &[("request_uri", &fresh)]);
    assert!(matches!(run(authorize(&mut cx, &p, Some(&fresh), None)).unwrap(), Authorized::Login { .. }));
    assert_eq!(run(cx.records.user(&ada.id)).unwrap().unwrap().groups, ["g0", "g1"]);
}

/// Every pushed sign-in of one person lives in one Vault object, so a returning person's
/// sign-in creates none; another person's, and a plain request's, are elsewhere.
#[test]
fn a_persons_pushed_sign_ins_share_one_vault_object() {
    let mut cx = context();
    let app = app(&mut cx, false);
    let object_of = |cx: &mut Cx, uri: &str| {
        let p = params(&app, &[("request_uri", uri)]);
        let Authorized::Login { tx_id, .. } = run(authorize(cx, &p, Some(uri), None)).unwrap() else { panic!("no sign-in") };
        vault_object(&VaultKey::Transaction(&tx_id).to_string()).0.to_owned()
    };
    let first = pushed(&mut cx, &app, "ada@example.com");
    let first = object_of(&mut cx, &first);
    cx.vault.take_calls();
    let again = pushed(&mut cx, &app, "ada@example.com");
    assert_eq!(object_of(&mut cx, &again), first, "the same person's next sign-in");
    assert!(cx.vault.take_calls().iter().all(|(object, _)| object == &first || object.starts_with("user-disabled:")), "no other object");
    let bob = pushed(&mut cx, &app, "bob@example.com");
    assert_ne!(object_of(&mut cx, &bob), first);
    let Authorized::Login { tx_id, .. } = run(authorize(&mut cx, &params(&app, &[("login_hint", "ada@example.com")]), None, None)).unwrap() else { panic!() };
    assert_ne!(vault_object(&VaultKey::Transaction(&tx_id).to_string()).0, first, "a plain request's sign-in has its own");
    // A request nobody vouched for (a public client's push) has its own too.
    let p = params(&app, &[("login_hint", "ada@example.com")]);
    let request = biopass_idp::authorize::validate(&p, &biopass_service::authorize::client_view(&app), true).unwrap();
    let public = push(&cx.master, &mut cx.rng, cx.now, &PushedRequest { request, authenticated: false }).unwrap();
    assert_ne!(object_of(&mut cx, &public), first, "not vouched for");
}

#[test]
fn a_plain_request_is_sent_back_where_pushed_requests_are_required_and_registers_nobody() {
    let mut cx = context();
    let strict = app(&mut cx, true);
    let back = run(authorize(&mut cx, &params(&strict, &[("login_hint", "ada@example.com")]), None, None)).unwrap();
    assert_eq!(error_of(&back), "invalid_request");
    let open = app(&mut cx, false);
    let Authorized::Login { .. } = run(authorize(&mut cx, &params(&open, &[("login_hint", "ada@example.com")]), None, None)).unwrap() else { panic!() };
    assert_eq!(run(cx.records.user_named(None, &name("ada@example.com"))).unwrap(), None, "nobody vouched for it: nobody registered");
    assert_eq!(error_of(&run(authorize(&mut cx, &params(&open, &[]), None, None)).unwrap()), "login_required");
}

#[test]
fn an_unknown_client_or_a_bad_redirect_uri_is_an_error_page_never_a_redirect() {
    let mut cx = context();
    let app = app(&mut cx, false);
    let mut unknown = params(&app, &[]);
    unknown.insert("client_id".into(), vec!["nobody".into()]);
    assert_eq!(page_code(&run(authorize(&mut cx, &unknown, None, None)).unwrap_err()), OAuthErrorCode::InvalidClient);
    let mut elsewhere = params(&app, &[]);
    elsewhere.insert("redirect_uri".into(), vec!["https://evil.example/cb".into()]);
    assert!(matches!(run(authorize(&mut cx, &elsewhere, None, None)).unwrap_err(), Failure::Page(_)));
}

#[test]
fn a_disabled_user_is_sent_back_from_a_vouched_for_request_only() {
    let mut cx = context();
    let app = app(&mut cx, false);
    let user = UserRecord::register(name("ada@example.com"), None, "g1", &mut cx.rng, cx.now);
    run(cx.records.put_user(&user)).unwrap();
    run(cx.mark_disabled(&user.id, true)).unwrap();
    let uri = pushed(&mut cx, &app, "ada@example.com");
    assert_eq!(error_of(&run(authorize(&mut cx, &params(&app, &[]), Some(&uri), None)).unwrap()), "access_denied");
    // That spent the request URI: used again, it is refused on the error page.
    assert_eq!(page_code(&run(authorize(&mut cx, &params(&app, &[]), Some(&uri), None)).unwrap_err()), OAuthErrorCode::InvalidRequestUri);
    // Not vouched for: the same as for anyone, until they prove who they are.
    let plain = run(authorize(&mut cx, &params(&app, &[("login_hint", "ada@example.com")]), None, None)).unwrap();
    assert!(matches!(plain, Authorized::Login { .. }), "{plain:?}");
}

#[test]
fn a_request_uri_presented_by_another_application_is_refused_recorded_and_not_spent() {
    let mut cx = context();
    let mine = app(&mut cx, true);
    let other = app(&mut cx, true);
    let uri = pushed(&mut cx, &mine, "ada@example.com");
    let stolen = run(authorize(&mut cx, &params(&other, &[]), Some(&uri), None)).unwrap_err();
    assert_eq!(page_code(&stolen), OAuthErrorCode::InvalidRequestUri);
    let entries = run(cx.records.audit_page(None, 10)).unwrap().items;
    assert!(entries.iter().any(|e| e.action == "authorize.request_uri_misused" && e.target.as_deref() == Some(other.client_id.as_str())), "{entries:?}");
    assert!(matches!(run(authorize(&mut cx, &params(&mine, &[]), Some(&uri), None)).unwrap(), Authorized::Login { .. }));
}

/// The Vault calls of a whole returning sign-in through a pushed request (PAR, authorize, the
/// login page's first call, a TOTP answer, the code's redemption, userinfo): how many calls
/// each step makes, and which objects they reach. The values of the sign-in share one object; before
/// they did, each of them (request URI, transaction, code, the code's redemption record) was
/// an object of its own, created for this one sign-in.
#[test]
fn a_returning_sign_in_creates_one_vault_object() {
    use biopass_idp::totp;
    use biopass_proto::login::LoginStep;
    use biopass_service::tokens::{self, InProcess};
    use std::collections::BTreeSet;

    let mut cx = context();
    let app = app(&mut cx, true);
    crate::login::registered(&mut cx, "ada@example.com");
    let seed = crate::login::enrol_totp(&mut cx, "ada@example.com");
    let keyset = run(biopass_service::keys::load(&mut cx)).unwrap();
    crate::login::advance(&mut cx, 30);
    let before: BTreeSet<String> = cx.vault.take_calls().into_iter().map(|(object, _)| object).collect();

    let mut steps = Vec::new();
    let uri = pushed(&mut cx, &app, "ada@example.com");
    steps.push(("par", cx.vault.take_calls()));
    let p = params(&app, &[("request_uri", &uri)]);
    let Authorized::Login { tx_id, browser } = run(authorize(&mut cx, &p, Some(&uri), None)).unwrap() else { panic!("no sign-in") };
    steps.push(("authorize", cx.vault.take_calls()));
    cx.records.raw().take_calls();
    let step = run(login::load(&cx, &tx_id, Caller { browser, ip: None, ..Caller::default() })).unwrap();
    steps.push(("login state", cx.vault.take_calls()));
    // KV: the user's record; the id of their name is remembered from authorize.
    let user_id = step.user.as_ref().map(|u| u.id.clone()).unwrap_or_default();
    assert_eq!(cx.records.raw().take_calls(), [format!("get {}", biopass_idp::schema::KvKey::User(&user_id))]);
    let answer = biopass_proto::login::TotpAnswer { code: totp::code_at(&seed, cx.now), add_authenticator: false, forget_face: false };
    let done = run(login::totp_verify(&mut cx, &step, &answer)).unwrap();
    let LoginStep::Done { redirect_to } = &done else { panic!("not done: {done:?}") };
    let code = url::Url::parse(redirect_to).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    steps.push(("totp", cx.vault.take_calls()));
    let redemption = biopass_idp::grant::Redemption { client_id: app.client_id.as_str(), redirect_uri: Some(CALLBACK), code_verifier: None };
    let issued = run(tokens::exchange_code(&mut cx, &keyset, &InProcess, biopass_idp::keys::SigningAlg::Es256, &code, &redemption)).unwrap();
    steps.push(("token", cx.vault.take_calls()));
    // Userinfo: one call to the user's status object, which holds the token's revocation too.
    run(tokens::userinfo(&cx, &keyset, &InProcess, Some(&issued.access_token))).unwrap();
    let userinfo = cx.vault.take_calls();
    assert!(userinfo.len() == 1 && userinfo[0].0.starts_with("user-disabled:") && userinfo[0].1.contains(":revoked:"), "{userinfo:?}");
    steps.push(("userinfo", userinfo));

    let all: Vec<&(String, String)> = steps.iter().flat_map(|(_, calls)| calls).collect();
    let objects: BTreeSet<&str> = all.iter().map(|(o, _)| o.as_str()).collect();
    let new: BTreeSet<&str> = objects.iter().copied().filter(|o| !before.contains(*o)).collect();
    let sign_in: BTreeSet<&str> = objects.iter().copied().filter(|o| o.starts_with("sign-in:")).collect();
    // One key, one object: what the same calls reached before a sign-in shared one.
    let keys_new: BTreeSet<&str> = all.iter().filter(|(o, _)| !before.contains(o)).map(|(_, k)| k.as_str()).collect();
    for (name, calls) in &steps {
        let reached: BTreeSet<&str> = calls.iter().map(|(o, _)| o.as_str()).collect();
        println!("{name}: {} Vault calls, {} objects", calls.len(), reached.len());
    }
    println!("whole sign-in: {} calls over {} objects, {} of them new (one object per key: {} new)", all.len(), objects.len(), new.len(), keys_new.len());
    // The code exchange: the code checked, taken and its token recorded in one call, and the
    // user's status (was: read, take, status, record, and a KV read of the user).
    let count = |step: &str| steps.iter().find(|(name, _)| *name == step).map_or(0, |(_, calls)| calls.len());
    assert_eq!(count("token"), 2, "{steps:?}");
    // PAR makes no Vault call: `oauth::push` takes no Vault, the request is sealed into its
    // URI (was: one call creating the sign-in's object).
    // Authorize: the user's status, and the request URI's spent mark with the transaction in
    // one call (was: read, take, status, insert; then read, status, exchange).
    assert_eq!(count("authorize"), 2, "{steps:?}");
    // The TOTP answer (lock-out and step in one call), and the transaction exchanged for the
    // code in one call (was: take, insert).
    assert_eq!(count("totp"), 2, "{steps:?}");
    assert_eq!(sign_in.len(), 1, "every value of the sign-in in one object: {sign_in:?}");
    // The other is the user's status object, which holds the TOTP counter too (it was an
    // object of its own).
    let status = biopass_idp::schema::VaultKey::UserDisabled(&user_id).to_string();
    assert_eq!(objects.iter().copied().filter(|o| !o.starts_with("sign-in:")).collect::<Vec<_>>(), [status.as_str()], "{objects:?}");
    assert_eq!(new, sign_in, "the sign-in's object is the only one it creates");
    assert!(keys_new.len() >= 4, "request URI, transaction, code and its redemption record were objects of their own: {keys_new:?}");
    // No value of the sign-in was stored under a key of its own.
    let own = |k: &str| ["par:", "tx:", "code:", "code-used:", "face-nonce:", "revoked:"].iter().any(|p| k.starts_with(p));
    assert!(all.iter().all(|(_, k)| !own(k)), "{all:?}");
}
