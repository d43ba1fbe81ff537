use crate::helpers::{api_code, name, run};
use crate::login::{context, Cx};
use biopass_idp::claims::TRANSACTION_LIFETIME;
use biopass_idp::error::OAuthErrorCode;
use biopass_idp::session::SESSION_LIFETIME;
use biopass_idp::user::UserRecord;
use biopass_proto::error::ApiErrorCode;
use biopass_proto::login::{AuthenticatorKind, LoginStep};
use biopass_service::console;
use biopass_service::http::Failure;
use biopass_service::login::{self, Caller};

fn page_code(f: &Failure) -> OAuthErrorCode {
    match f {
        Failure::Page(e) => e.code,
        other => panic!("not an error page: {other:?}"),
    }
}

/// The code of a finished sign-in.
fn code_of(step: &LoginStep) -> String {
    let LoginStep::Done { redirect_to } = step else { panic!("not done: {step:?}") };
    let url = url::Url::parse(redirect_to).unwrap();
    assert_eq!(url.path(), "/console/callback");
    url.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).unwrap()
}

/// Finishes the console sign-in `started` as if the admin proved who they are.
fn signed_in(cx: &mut Cx, started: &console::ConsoleLogin) -> String {
    let tx_id = started.redirect_to.trim_start_matches("/login?tx=");
    let step = run(login::load(cx, tx_id, Caller { browser: started.browser.clone(), ip: None, ..Caller::default() })).unwrap();
    let user = run(cx.records.user_named(None, &name("root@example.com"))).unwrap().unwrap_or_else(|| step.user.clone().unwrap());
    code_of(&run(login::finish(cx, &step, &user, AuthenticatorKind::Totp)).unwrap())
}

fn with_totp(mut user: UserRecord) -> UserRecord {
    user.totp = Some(biopass_idp::user::Enrolled { sealed: "sealed".into(), enrolled_at: 1 });
    user
}

#[test]
fn the_bootstrap_link_makes_the_first_admin_once_and_their_code_opens_one_session() {
    let mut cx = context();
    assert!(run(console::bootstrap_usable(&cx)).is_ok(), "usable before any admin has an authenticator");
    let started = run(console::bootstrap(&mut cx, "root@example.com", None, None)).unwrap();
    assert_eq!(started.browser.len(), 43, "a new browser binding");
    let root = run(cx.records.user_named(None, &name("root@example.com"))).unwrap().unwrap();
    assert!(root.admin);
    let code = signed_in(&mut cx, &started);

    // The wrong verifier (another browser) is refused and does not spend the code.
    assert_eq!(page_code(&run(console::open_session(&mut cx, &code, "another verifier", None)).unwrap_err()), OAuthErrorCode::AccessDenied);
    let (session, value) = run(console::open_session(&mut cx, &code, &started.verifier, None)).unwrap();
    assert_eq!(session.username, "root@example.com");
    assert_eq!(page_code(&run(console::open_session(&mut cx, &code, &started.verifier, None)).unwrap_err()), OAuthErrorCode::AccessDenied, "once");

    // The session: reads without a CSRF token, changes only with it.
    assert!(run(console::session(&cx, &value, false, None)).is_ok());
    assert_eq!(api_code(&run(console::session(&cx, &value, true, None)).unwrap_err()), ApiErrorCode::Forbidden);
    assert!(run(console::session(&cx, &value, true, Some(&session.csrf_token))).is_ok());

    // Once the admin has an authenticator, the link is spent.
    run(cx.records.put_user(&with_totp(root))).unwrap();
    assert_eq!(api_code(&run(console::bootstrap(&mut cx, "other@example.com", None, None)).unwrap_err()), ApiErrorCode::Expired);
    assert_eq!(api_code(&run(console::bootstrap_usable(&cx)).unwrap_err()), ApiErrorCode::Expired, "the check says so before any form");
    let actions: Vec<String> = run(cx.records.audit_page(None, 10)).unwrap().items.into_iter().map(|e| e.action).collect();
    assert!(actions.contains(&"admin.bootstrap".to_owned()) && actions.contains(&"admin.sign_in".to_owned()), "{actions:?}");
}

#[test]
fn a_session_ends_when_it_expires_when_closed_and_when_its_admin_is_disabled() {
    let mut cx = context();
    let started = run(console::bootstrap(&mut cx, "root@example.com", None, None)).unwrap();
    let code = signed_in(&mut cx, &started);
    let (_, value) = run(console::open_session(&mut cx, &code, &started.verifier, None)).unwrap();
    let root = run(cx.records.user_named(None, &name("root@example.com"))).unwrap().unwrap();

    run(cx.mark_disabled(&root.id, true)).unwrap();
    assert_eq!(api_code(&run(console::session(&cx, &value, false, None)).unwrap_err()), ApiErrorCode::Unauthenticated, "disabled: at once");
    run(cx.mark_disabled(&root.id, false)).unwrap();
    assert!(run(console::session(&cx, &value, false, None)).is_ok());

    crate::login::advance(&mut cx, SESSION_LIFETIME);
    assert_eq!(api_code(&run(console::session(&cx, &value, false, None)).unwrap_err()), ApiErrorCode::Unauthenticated, "expired");

    let again = run(console::start_login(&mut cx, &name("root@example.com"), Some(started.browser.clone()), false)).unwrap();
    assert_eq!(again.browser, started.browser, "the same browser keeps its binding");
    let code = signed_in(&mut cx, &again);
    let (_, value) = run(console::open_session(&mut cx, &code, &again.verifier, None)).unwrap();
    run(console::close_session(&cx, &value)).unwrap();
    assert_eq!(api_code(&run(console::session(&cx, &value, false, None)).unwrap_err()), ApiErrorCode::Unauthenticated, "signed out");
}

#[test]
fn a_console_sign_in_for_someone_who_is_not_an_admin_opens_no_session() {
    let mut cx = context();
    let ada = UserRecord::register(name("ada@example.com"), None, "g1", &mut cx.rng, cx.now);
    run(cx.records.put_user(&ada)).unwrap();
    let started = run(console::start_login(&mut cx, &name("ada@example.com"), None, false)).unwrap();
    let tx_id = started.redirect_to.trim_start_matches("/login?tx=");
    let step = run(login::load(&cx, tx_id, Caller { browser: started.browser.clone(), ip: None, ..Caller::default() })).unwrap();
    assert!(!step.tx.vouched(), "anyone can type a name here");
    let code = code_of(&run(login::finish(&mut cx, &step, &ada, AuthenticatorKind::Totp)).unwrap());
    assert_eq!(page_code(&run(console::open_session(&mut cx, &code, &started.verifier, None)).unwrap_err()), OAuthErrorCode::AccessDenied);
    // The console's transaction lives as long as any other.
    let late = run(console::start_login(&mut cx, &name("ada@example.com"), None, false)).unwrap();
    crate::login::advance(&mut cx, TRANSACTION_LIFETIME);
    let tx_id = late.redirect_to.trim_start_matches("/login?tx=");
    assert_eq!(api_code(&run(login::load(&cx, tx_id, Caller { browser: late.browser, ip: None, ..Caller::default() })).unwrap_err()), ApiErrorCode::Expired);
}

#[test]
fn the_console_offers_passkeys_where_the_issuer_is_a_domain_name() {
    use AuthenticatorKind::{Face, Passkey, Totp};
    assert_eq!(console::console_authenticators("https://id.example.com"), [Face, Totp, Passkey]);
    assert_eq!(console::console_authenticators("http://localhost:8787"), [Face, Totp, Passkey]);
    assert_eq!(console::console_authenticators("http://127.0.0.1:8787"), [Face, Totp], "no relying party on an IP address");
    let mut cx = context();
    let started = run(console::start_login(&mut cx, &name("root@example.com"), None, false)).unwrap();
    let tx_id = started.redirect_to.trim_start_matches("/login?tx=");
    let step = run(login::load(&cx, tx_id, Caller { browser: started.browser.clone(), ip: None, ..Caller::default() })).unwrap();
    assert_eq!(step.tx.acceptable, console::console_authenticators(&cx.issuer));
}
