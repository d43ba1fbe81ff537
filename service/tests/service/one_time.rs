use crate::helpers::{run, App};
use biopass_idp::schema::VaultKey;
use biopass_service::store::OneTime;
use serde_json::json;

#[test]
fn a_code_is_redeemed_once_and_not_after_its_expiry() {
    let app = App::new();
    let now = app.now();
    let code = &VaultKey::Code("the-code").to_string();
    assert!(run(app.vault.insert(code, json!({"user": "u1"}), now + 60, now)).unwrap());
    assert!(!run(app.vault.insert(code, json!({"user": "u2"}), now + 60, now)).unwrap(), "a key holds one value");
    assert_eq!(run(app.vault.take(code, now)).unwrap(), Some(json!({"user": "u1"})));
    assert_eq!(run(app.vault.take(code, now)).unwrap(), None, "the second redemption gets nothing");
    let other = &VaultKey::Code("another-code").to_string();
    run(app.vault.insert(other, json!(1), now + 60, now)).unwrap();
    app.clock.advance(60);
    assert_eq!(run(app.vault.take(other, app.now())).unwrap(), None, "expired at its expiry");
}

#[test]
fn concurrent_takes_give_the_value_to_one() {
    let app = App::new();
    let now = app.now();
    let par = &VaultKey::PushedRequest("ref-1").to_string();
    run(app.vault.insert(par, json!("request"), now + 60, now)).unwrap();
    let got = run(futures::future::join_all((0..10).map(|_| app.vault.take(par, now))));
    assert_eq!(got.into_iter().filter(|r| matches!(r, Ok(Some(_)))).count(), 1);
}

#[test]
fn a_totp_step_is_used_once_and_never_an_older_one() {
    let app = App::new();
    let step = &VaultKey::TotpStep("u1").to_string();
    assert!(run(app.vault.advance(step, 100)).unwrap());
    assert!(!run(app.vault.advance(step, 100)).unwrap());
    assert!(!run(app.vault.advance(step, 99)).unwrap());
    assert!(run(app.vault.advance(step, 101)).unwrap());
}

#[test]
fn one_claim_of_a_name_wins() {
    let app = App::new();
    let name = biopass_idp::ids::UserName::parse("ada@example.com").unwrap();
    let key = &VaultKey::UserName(None, &name).to_string();
    assert_eq!(run(app.vault.get_or_insert(key, json!("u1"))).unwrap(), json!("u1"));
    assert_eq!(run(app.vault.get_or_insert(key, json!("u2"))).unwrap(), json!("u1"));
}

#[test]
fn a_replaced_transaction_keeps_its_expiry() {
    let app = App::new();
    let now = app.now();
    let tx = &VaultKey::Transaction("t1").to_string();
    run(app.vault.insert(tx, json!({"step": 1}), now + 600, now)).unwrap();
    assert!(run(app.vault.replace(tx, json!({"step": 2}), now + 10)).unwrap());
    app.clock.advance(600);
    assert!(!run(app.vault.replace(tx, json!({"step": 3}), app.now())).unwrap(), "gone at the original expiry");
    assert_eq!(run(app.vault.get(tx, app.now())).unwrap(), None);
}

#[test]
fn both_runs_two_calls_at_once_and_answers_both() {
    use biopass_service::memory::give_way;
    use std::cell::RefCell;
    let log = RefCell::new(Vec::new());
    let call = |name: &'static str, waits: usize| {
        let log = &log;
        async move {
            log.borrow_mut().push(format!("{name} starts"));
            for _ in 0..waits {
                give_way().await;
            }
            log.borrow_mut().push(format!("{name} ends"));
            name
        }
    };
    assert_eq!(run(biopass_service::store::both(call("a", 2), call("b", 1))), ("a", "b"));
    assert_eq!(*log.borrow(), ["a starts", "b starts", "b ends", "a ends"], "b ran while a waited");
    // The vault's own calls too.
    let app = App::new();
    let now = app.now();
    let (x, y) = run(biopass_service::store::both(app.vault.insert("x", json!(1), now + 60, now), app.vault.insert("y", json!(2), now + 60, now)));
    assert!(x.unwrap() && y.unwrap());
}
