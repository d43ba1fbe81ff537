use crate::helpers::api_code;
use crate::helpers::{name, run};
use crate::login::{context, Cx};
use biopass_idp::application::ApplicationRecord;
use biopass_idp::authorize::CognitoContext;
use biopass_idp::schema::KvKey;
use biopass_idp::secretbox::MasterKey;
use biopass_idp::user::UserRecord;
use biopass_proto::admin::UpdateUser;
use biopass_proto::error::ApiErrorCode;
use biopass_service::users::{active_user, clean_up_never_enrolled, delete_user, reset_authenticator, resolve_user, update_user};

fn pool(id: &str) -> CognitoContext {
    CognitoContext { aws_account_id: "123456789012".into(), region: "eu-west-1".into(), user_pool_id: id.into() }
}

fn application(cx: &mut Cx, group: &str) -> ApplicationRecord {
    let input = serde_json::from_value(serde_json::json!({
        "name": "Payroll", "application_type": "amazon_cognito_mfa", "allowed_callback_urls": ["https://rp.example.com/cb"],
    }))
    .unwrap();
    ApplicationRecord::create(&input, group.into(), &MasterKey::from_bytes([9; 32]), &mut cx.rng, cx.now).unwrap().0
}

#[test]
fn a_vouched_for_first_sign_in_registers_the_user_in_the_pool_and_the_applications_group() {
    let mut cx = context();
    let app = application(&mut cx, "g-payroll");
    let p = pool("eu-west-1_Abc");
    let ada = name("ada@example.com");
    assert_eq!(run(resolve_user(&mut cx, &ada, Some(&p), &app, false)).unwrap(), None, "not vouched for: nobody is registered");
    let user = run(resolve_user(&mut cx, &ada, Some(&p), &app, true)).unwrap().unwrap();
    assert_eq!((user.user_pool.as_ref(), user.groups.as_slice()), (Some(&p), &["g-payroll".to_owned()][..]));
    // Found again (not registered twice), by the same pool only.
    assert_eq!(run(resolve_user(&mut cx, &ada, Some(&p), &app, true)).unwrap().unwrap().id, user.id);
    let other = run(resolve_user(&mut cx, &ada, Some(&pool("eu-west-1_Other")), &app, true)).unwrap().unwrap();
    assert_ne!(other.id, user.id, "the same name in another pool is another person");

    // Another application's sign-in puts the user in its group too.
    let second = application(&mut cx, "g-expenses");
    let joined = run(resolve_user(&mut cx, &ada, Some(&p), &second, true)).unwrap().unwrap();
    assert_eq!(joined.groups, ["g-payroll", "g-expenses"]);
}

#[test]
fn two_first_sign_ins_at_once_make_one_user() {
    let mut cx = context();
    let app = application(&mut cx, "g1");
    let p = pool("eu-west-1_Abc");
    let mut twin = crate::login::sibling(&cx, 77);
    let ada = name("ada@example.com");
    let (a, b) = run(futures::future::join(resolve_user(&mut cx, &ada, Some(&p), &app, true), resolve_user(&mut twin, &ada, Some(&p), &app, true)));
    assert_eq!(a.unwrap().unwrap().id, b.unwrap().unwrap().id);
}

#[test]
fn a_user_from_before_pools_is_adopted_by_the_first_pool_only_and_admins_never() {
    let mut cx = context();
    let app = application(&mut cx, "g1");
    let legacy = UserRecord::register(name("old@example.com"), None, "g0", &mut cx.rng, cx.now);
    run(cx.records.put_user(&legacy)).unwrap();
    let mut root = UserRecord::register(name("root@example.com"), None, "", &mut cx.rng, cx.now);
    root.admin = true;
    run(cx.records.put_user(&root)).unwrap();

    let first = pool("eu-west-1_First");
    let adopted = run(resolve_user(&mut cx, &name("old@example.com"), Some(&first), &app, true)).unwrap().unwrap();
    assert_eq!((adopted.id.as_str(), adopted.user_pool.as_ref()), (legacy.id.as_str(), Some(&first)));
    assert_eq!(adopted.groups, ["g0", "g1"]);
    assert_eq!(run(cx.records.user_at(KvKey::UserName(None, &name("old@example.com")))).unwrap(), None, "the plain name key is gone");
    let second = run(resolve_user(&mut cx, &name("old@example.com"), Some(&pool("eu-west-1_Second")), &app, true)).unwrap().unwrap();
    assert_ne!(second.id, legacy.id, "a second pool gets a user of its own");

    let admin_in_pool = run(resolve_user(&mut cx, &name("root@example.com"), Some(&first), &app, true)).unwrap().unwrap();
    assert_ne!(admin_in_pool.id, root.id, "console admins stay Biopass's own");
    assert!(run(cx.records.audit_page(None, 10)).unwrap().items.iter().any(|e| e.action == "user.pool.bind"));
}

#[test]
fn a_disabled_or_deleted_user_is_not_active() {
    let mut cx = context();
    let user = UserRecord::register(name("ada@example.com"), None, "g1", &mut cx.rng, cx.now);
    run(cx.records.put_user(&user)).unwrap();
    assert!(run(active_user(&cx, &user.id)).unwrap().is_some());
    run(cx.mark_disabled(&user.id, true)).unwrap();
    assert!(run(active_user(&cx, &user.id)).unwrap().is_none(), "the Vault's marker: at once");
    assert!(run(active_user(&cx, "no-such-user")).unwrap().is_none());
}

#[test]
fn a_deleted_user_leaves_nothing_that_finds_them_and_their_name_registers_someone_new() {
    let mut cx = context();
    let app = application(&mut cx, "g1");
    let p = pool("eu-west-1_Abc");
    let ada = name("ada@example.com");
    let user = run(resolve_user(&mut cx, &ada, Some(&p), &app, true)).unwrap().unwrap();
    let before = cx.records.raw().keys();
    assert!(before.iter().any(|k| k.contains(&user.id)), "{before:?}");

    assert_eq!(run(delete_user(&cx, &user.id)).unwrap().id, user.id);
    let after = cx.records.raw().keys();
    assert!(after.iter().all(|k| !k.contains(&user.id) && !k.contains("ada@example.com")), "left behind: {after:?}");
    assert!(run(active_user(&cx, &user.id)).unwrap().is_none());
    assert_eq!(api_code(&run(delete_user(&cx, &user.id)).unwrap_err()), ApiErrorCode::NotFound);

    let again = run(resolve_user(&mut cx, &ada, Some(&p), &app, true)).unwrap().unwrap();
    assert_ne!(again.id, user.id, "the Vault's registration claim went with them");
    assert!(again.enrolled().is_empty());
}

#[test]
fn an_administrator_is_not_deleted_until_their_role_is_removed() {
    let mut cx = context();
    let mut root = UserRecord::register(name("root@example.com"), None, "", &mut cx.rng, cx.now);
    root.admin = true;
    run(cx.records.put_user(&root)).unwrap();
    assert_eq!(api_code(&run(delete_user(&cx, &root.id)).unwrap_err()), ApiErrorCode::Conflict);
    assert!(run(cx.records.user(&root.id)).unwrap().is_some());
    root.admin = false;
    run(cx.records.put_user(&root)).unwrap();
    run(delete_user(&cx, &root.id)).unwrap();
    assert!(cx.records.raw().keys().iter().all(|k| !k.contains(&root.id)), "the admin index key too");
}

/// An administrator with an authenticator app (`disabled`: in their record).
fn admin_with_totp(cx: &mut Cx, username: &str) -> UserRecord {
    let mut user = UserRecord::register(name(username), None, "", &mut cx.rng, cx.now);
    user.admin = true;
    user.totp = Some(biopass_idp::user::Enrolled { sealed: "sealed".into(), enrolled_at: 1 });
    run(cx.records.put_user(&user)).unwrap();
    user
}

fn change(disabled: Option<bool>, admin: Option<bool>) -> UpdateUser {
    UpdateUser { groups: None, disabled, admin }
}

#[test]
fn the_last_administrator_who_can_sign_in_cannot_be_disabled_demoted_or_stripped() {
    let mut cx = context();
    let root = admin_with_totp(&mut cx, "root@example.com");
    for refused in [change(Some(true), None), change(None, Some(false))] {
        let e = run(update_user(&cx, &root.id, &refused)).unwrap_err();
        assert_eq!(api_code(&e), ApiErrorCode::Conflict);
    }
    assert_eq!(api_code(&run(reset_authenticator(&cx, &root.id, "totp")).unwrap_err()), ApiErrorCode::Conflict);
    let kept = run(cx.records.user(&root.id)).unwrap().unwrap();
    assert!(kept.admin && !kept.disabled && kept.totp.is_some(), "nothing changed");
    assert!(run(active_user(&cx, &root.id)).unwrap().is_some(), "not disabled in the Vault either");
    // Harmless changes go through: an authenticator the admin does not rely on, groups.
    run(reset_authenticator(&cx, &root.id, "face")).unwrap();
    assert_eq!(api_code(&run(reset_authenticator(&cx, &root.id, "fingerprint")).unwrap_err()), ApiErrorCode::InvalidInput);

    // An admin who cannot sign in (no authenticator yet) does not count as the other one.
    let mut pending = UserRecord::register(name("new-admin@example.com"), None, "", &mut cx.rng, cx.now);
    run(cx.records.put_user(&pending)).unwrap();
    let promoted = run(update_user(&cx, &pending.id, &change(None, Some(true)))).unwrap();
    assert!(promoted.admin, "the console makes another user an administrator");
    assert_eq!(api_code(&run(update_user(&cx, &root.id, &change(Some(true), None))).unwrap_err()), ApiErrorCode::Conflict);

    // With a second administrator who can sign in, the first can go, but not both.
    pending = admin_with_totp(&mut cx, "second@example.com");
    let disabled = run(update_user(&cx, &root.id, &change(Some(true), None))).unwrap();
    assert!(disabled.disabled);
    assert!(run(active_user(&cx, &root.id)).unwrap().is_none());
    assert_eq!(api_code(&run(reset_authenticator(&cx, &pending.id, "totp")).unwrap_err()), ApiErrorCode::Conflict);
    assert_eq!(api_code(&run(update_user(&cx, &pending.id, &change(None, Some(false)))).unwrap_err()), ApiErrorCode::Conflict);
    // Enabling the first again makes the second free to change.
    run(update_user(&cx, &root.id, &change(Some(false), None))).unwrap();
    run(update_user(&cx, &pending.id, &change(None, Some(false)))).unwrap();
}

#[test]
fn a_clean_up_deletes_the_users_who_never_enrolled_and_registered_before_the_cut_off_only() {
    let mut cx = context();
    let at = cx.now;
    let user = |cx: &mut Cx, n: &str, created_at: u64, admin: bool, totp: bool| {
        let mut u = UserRecord::register(name(n), None, "g1", &mut cx.rng, created_at);
        u.admin = admin;
        if totp {
            u.totp = Some(biopass_idp::user::Enrolled { sealed: "sealed".into(), enrolled_at: created_at });
        }
        run(cx.records.put_user(&u)).unwrap();
        u
    };
    let ghost = user(&mut cx, "ghost@example.com", at - 7_200, false, false);
    let enrolled = user(&mut cx, "ada@example.com", at - 7_200, false, true);
    let admin = user(&mut cx, "root@example.com", at - 7_200, true, false);
    let recent = user(&mut cx, "new@example.com", at - 60, false, false);
    let (deleted, scanned, next) = run(clean_up_never_enrolled(&cx, at - 3_600, None)).unwrap();
    assert_eq!(deleted.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(), [ghost.id.as_str()]);
    assert_eq!((scanned, next), (4, None));
    assert!(run(cx.records.user(&ghost.id)).unwrap().is_none());
    for kept in [&enrolled, &admin, &recent] {
        assert!(run(cx.records.user(&kept.id)).unwrap().is_some(), "{}", kept.username);
    }
    // Nothing is left to clean up with the same cut-off.
    assert!(run(clean_up_never_enrolled(&cx, at - 3_600, None)).unwrap().0.is_empty());
}
