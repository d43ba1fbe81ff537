use crate::helpers::{run, transaction, user, App};
use crate::login::{log, take_log};
use biopass_idp::lockout::{CLIENT_FAILURES, LOCKOUT_WINDOW, MAX_FAILURES};
use biopass_proto::login::AuthenticatorKind::{Face, Totp};
use biopass_service::lockout::{counters, locked_until, refusal_message, Attempt, NotCounted, Scope};

/// The service's log in these tests: nothing here goes wrong enough to log.
fn nothing_logged(line: &str) {
    panic!("logged: {line}");
}

/// A wrong answer in `tx`: counted and kept, or why not.
fn wrong(
    app: &mut App,
    tx: &biopass_idp::transaction::LoginTransaction,
    kind: biopass_proto::login::AuthenticatorKind,
    u: &biopass_idp::user::UserRecord,
    ip: Option<&str>,
) -> Result<Option<u64>, NotCounted> {
    let now = app.now();
    run(async { Attempt::start(&app.vault, &mut app.rng, now, counters(tx, kind, Some(u), ip), nothing_logged).await.map(|a| a.failed().left) })
}

#[test]
fn five_wrong_answers_lock_the_authenticator_for_the_window_then_it_opens() {
    let mut app = App::new();
    let ada = user("ada@example.com");
    let tx = transaction("ada@example.com", true, "browser-1", app.now());
    for i in 1..=MAX_FAILURES {
        assert_eq!(wrong(&mut app, &tx, Totp, &ada, None), Ok(Some(MAX_FAILURES - i)));
        app.clock.advance(10);
    }
    // Locked: not even counted, and the face challenge sees it too (for the face).
    let refused = wrong(&mut app, &tx, Totp, &ada, None);
    let first = 1_800_000_000;
    assert_eq!(refused, Err(NotCounted::Refused { scope: Scope::Authenticator, retry_at: first + LOCKOUT_WINDOW }));
    assert_eq!(run(locked_until(&app.vault, Totp, &ada.id, app.now(), nothing_logged)), Ok(Some(first + LOCKOUT_WINDOW)));
    assert_eq!(run(locked_until(&app.vault, Face, &ada.id, app.now(), nothing_logged)), Ok(None), "each authenticator has its own count");
    // Once the first failure leaves the window, one more attempt is counted (and locks again).
    app.clock.advance(LOCKOUT_WINDOW - 50);
    assert_eq!(wrong(&mut app, &tx, Totp, &ada, None), Ok(Some(0)));
}

#[test]
fn a_right_answer_gives_its_attempt_back() {
    let mut app = App::new();
    let ada = user("ada@example.com");
    let tx = transaction("ada@example.com", true, "browser-1", app.now());
    for _ in 0..MAX_FAILURES - 1 {
        wrong(&mut app, &tx, Face, &ada, None).unwrap();
    }
    let now = app.now();
    run(async {
        let a = Attempt::start(&app.vault, &mut app.rng, now, counters(&tx, Face, Some(&ada), None), nothing_logged).await.unwrap();
        a.give_back(&app.vault).await.unwrap();
    });
    // Still one attempt left: the right answer did not use it.
    assert_eq!(wrong(&mut app, &tx, Face, &ada, None), Ok(Some(0)));
}

#[test]
fn concurrent_guesses_get_at_most_the_limit_checked() {
    let app = App::new();
    let ada = user("ada@example.com");
    let tx = transaction("ada@example.com", true, "browser-1", app.now());
    let now = app.now();
    let mut rngs: Vec<_> = (0..20).map(biopass_idp::random::TestEntropy::new).collect();
    let vault = &app.vault;
    let tx = &tx;
    let ada = &ada;
    let results = run(futures::future::join_all(
        rngs.iter_mut()
            .map(|rng| async move { Attempt::start(vault, rng, now, counters(tx, Totp, Some(ada), None), nothing_logged).await.map(Attempt::failed) }),
    ));
    let counted = results.iter().filter(|r| r.is_ok()).count() as u64;
    assert_eq!(counted, MAX_FAILURES);
    assert!(results.iter().filter(|r| r.is_err()).all(|r| matches!(r, Err(NotCounted::Refused { scope: Scope::Authenticator, .. }))));
}

#[test]
fn where_nobody_vouched_the_browser_is_locked_and_the_account_only_slowed() {
    let mut app = App::new();
    let ada = user("ada@example.com");
    let attacker = transaction("ada@example.com", false, "attacker-browser", app.now());
    for _ in 0..CLIENT_FAILURES {
        wrong(&mut app, &attacker, Totp, &ada, Some("203.0.113.9")).unwrap();
        app.clock.advance(60);
    }
    assert!(matches!(wrong(&mut app, &attacker, Totp, &ada, Some("203.0.113.9")), Err(NotCounted::Refused { scope: Scope::Client, .. })));
    // The account is not locked: its owner, in another browser, is slowed at most.
    let owner = transaction("ada@example.com", false, "owner-browser", app.now());
    app.clock.advance(120);
    // Counted on its own browser's counter (4 left there), and the account's pace let it through.
    assert_eq!(wrong(&mut app, &owner, Totp, &ada, Some("198.51.100.7")), Ok(Some(CLIENT_FAILURES - 1)));
    assert_eq!(run(locked_until(&app.vault, Totp, &ada.id, app.now(), nothing_logged)), Ok(None), "the user's own counter is untouched");
}

#[test]
fn refusals_say_how_long_to_wait() {
    assert_eq!(refusal_message(&biopass_i18n::EN, Scope::Authenticator, 1_900, 1_000), ("Too many failed attempts. Try again in 15 minutes.".into(), 900));
    assert_eq!(
        refusal_message(&biopass_i18n::EN, Scope::Account, 1_030, 1_000).0,
        "Too many failed attempts for this account. Wait 30 seconds, then try again."
    );
    assert_eq!(refusal_message(&biopass_i18n::EN, Scope::Client, 1_000, 1_000).1, 1, "never zero seconds");
}

#[test]
fn concurrent_guesses_on_a_counter_that_moved_take_on_its_earlier_attempts_once_and_get_at_most_the_limit() {
    use biopass_idp::lockout::Earlier;
    use biopass_idp::schema::VaultKey;
    use biopass_proto::login::AuthenticatorKind::{Passkey, RecoveryCode};
    use biopass_service::store::{Moved, OneTime};
    for kind in [Face, Passkey, RecoveryCode] {
        let app = App::new();
        let ada = user("ada@example.com");
        let tx = transaction("ada@example.com", true, "browser-1", app.now());
        let now = app.now();
        // Two failures as the layout before kept them.
        let before = VaultKey::CounterBefore(kind, &ada.id).to_string();
        let counter = biopass_service::lockout::authenticator(kind, &ada.id);
        assert_eq!(counter.earlier.as_deref(), Some(before.as_str()));
        for id in ["b1", "b2"] {
            let counted = run(app.vault.reserve(&before, now, counter.window, counter.limit, id.into(), Earlier::Nothing)).unwrap();
            assert!(matches!(counted, Moved::Done(Ok(_))), "{counted:?}");
        }
        let mut rngs: Vec<_> = (0..20).map(biopass_idp::random::TestEntropy::new).collect();
        let (vault, tx, ada) = (&app.vault, &tx, &ada);
        let results = run(futures::future::join_all(
            rngs.iter_mut()
                .map(|rng| async move { Attempt::start(vault, rng, now, counters(tx, kind, Some(ada), None), nothing_logged).await.map(Attempt::failed) }),
        ));
        // Taken on once, however many guesses found the counter empty at once.
        let counted = results.iter().filter(|r| r.is_ok()).count() as u64;
        assert_eq!(counted, MAX_FAILURES - 2, "{kind:?}");
        assert!(results.iter().filter(|r| r.is_err()).all(|r| matches!(r, Err(NotCounted::Refused { scope: Scope::Authenticator, .. }))));
        assert_eq!(run(app.vault.attempts(&counter.key)).unwrap().count(), MAX_FAILURES);
        assert_eq!(run(app.vault.attempts(&before)).unwrap().count(), 0);
    }
    // TOTP's counter is taken on by its answer with the step it holds (login tests), not here.
    assert_eq!(biopass_service::lockout::authenticator(Totp, "u1").earlier, None);
}

#[test]
fn giving_back_an_attempt_a_counter_never_held_does_not_make_it_skip_its_layout_before() {
    use biopass_idp::lockout::Earlier;
    use biopass_service::store::{Moved, OneTime};
    let app = App::new();
    let counter = biopass_service::lockout::authenticator(Face, "u1");
    run(app.vault.release(&counter.key, "nothing")).unwrap();
    let checked = run(app.vault.refused_until(&counter.key, app.now(), counter.window, counter.limit, Earlier::Unread)).unwrap();
    assert_eq!(checked, Moved::NeedEarlier);
}

#[test]
fn a_right_answer_gives_its_attempt_back_though_the_old_counter_cannot_be_cleared() {
    use biopass_idp::lockout::Earlier;
    use biopass_proto::login::AuthenticatorKind::{Passkey, RecoveryCode};
    use biopass_service::store::{Moved, OneTime};
    // Passkeys and recovery codes: the answer's count is a counter's first use.
    for kind in [Passkey, RecoveryCode] {
        let mut app = App::new();
        let ada = user("ada@example.com");
        let tx = transaction("ada@example.com", true, "browser-1", app.now());
        let now = app.now();
        let counter = biopass_service::lockout::authenticator(kind, &ada.id);
        let before = counter.earlier.clone().unwrap();
        for id in ["b1", "b2"] {
            let counted = run(app.vault.reserve(&before, now, counter.window, counter.limit, id.into(), Earlier::Nothing)).unwrap();
            assert!(matches!(counted, Moved::Done(Ok(_))), "{counted:?}");
        }
        app.vault.fail_clears_in(&before);
        take_log();
        let attempt = run(Attempt::start(&app.vault, &mut app.rng, now, counters(&tx, kind, Some(&ada), None), log)).unwrap();
        let lines = take_log();
        assert!(lines.len() == 1 && lines[0].contains(&before), "{kind:?}: the failed clear logged: {lines:?}");
        // The right answer: its attempt given back, the two taken on kept.
        run(attempt.give_back(&app.vault)).unwrap();
        assert_eq!(run(app.vault.attempts(&counter.key)).unwrap().count(), 2, "{kind:?}");
        // A wrong one next: the old attempts, left behind, are not taken on again.
        assert_eq!(wrong(&mut app, &tx, kind, &ada, None), Ok(Some(MAX_FAILURES - 3)), "{kind:?}");
        assert_eq!(run(app.vault.attempts(&before)).unwrap().count(), 2, "{kind:?}: left behind until she is deleted");
    }
}
