//! Recovery codes: shown once at the first enrolment, hashed at rest, each usable once even
//! under concurrency, counted in the lock-out, and made anew only after proving an
//! authenticator.

use crate::helpers::{api_code, name, run};
use crate::login::{advance, audit, begin, code_of, context, enrol_totp_and_codes, registered, reload, saved_codes, sibling, Cx};
use biopass_idp::lockout::MAX_FAILURES;
use biopass_idp::totp::{self, PERIOD};
use biopass_proto::error::ApiErrorCode;
use biopass_proto::login::{AuthenticatorKind, LoginStep, RecoveryAnswer, TotpAnswer};
use biopass_service::login;
use biopass_service::oauth::redeem_code;

fn code(c: &str) -> RecoveryAnswer {
    RecoveryAnswer { code: c.into(), add_authenticator: false }
}

fn saved_user(cx: &Cx) -> biopass_idp::user::UserRecord {
    run(cx.records.user_named(None, &name("ada@example.com"))).unwrap().unwrap()
}

/// Ada with an authenticator app; the recovery codes her enrolment showed.
fn ada(cx: &mut Cx) -> (biopass_idp::totp::TotpSeed, Vec<String>) {
    registered(cx, "ada@example.com");
    enrol_totp_and_codes(cx, "ada@example.com")
}

#[test]
fn a_code_signs_in_once_is_kept_only_as_a_keyed_hash_and_forgives_case_and_dashes() {
    let mut cx = context();
    let (_, codes) = ada(&mut cx);
    let stored = serde_json::to_string(&saved_user(&cx)).unwrap();
    for c in &codes {
        assert!(!stored.contains(c.as_str()) && !stored.contains(&c.replace('-', "")), "a code is not stored as typed");
    }
    assert_eq!(saved_user(&cx).view().authenticators.recovery_codes, 10);

    let step = begin(&mut cx, "ada@example.com", true);
    assert_eq!(
        login::state(&step).step,
        LoginStep::Authenticate {
            enrolled: vec![AuthenticatorKind::Totp, AuthenticatorKind::RecoveryCode],
            can_add: vec![AuthenticatorKind::Face, AuthenticatorKind::RecoveryCode],
            must_add: false
        }
    );
    let typed = format!(" {} ", codes[2].to_lowercase().replace('-', " "));
    let done = run(login::recovery_verify(&mut cx, &step, &code(&typed))).unwrap();
    let redemption = biopass_idp::grant::Redemption { client_id: "c1", redirect_uri: Some("https://rp.example.com/cb"), code_verifier: None };
    assert_eq!(run(redeem_code(&cx.vault, cx.now, &code_of(&done), &redemption, None)).unwrap().amr, ["otp"]);
    assert_eq!(saved_user(&cx).recovery_codes_left(), 9);
    assert!(audit(&cx).iter().any(|e| e.action == "user.recovery_code.use" && e.detail.as_deref() == Some("9 left")));

    // Used: refused (and counted) in the next sign-in; another code still works.
    let step = begin(&mut cx, "ada@example.com", true);
    let again = run(login::recovery_verify(&mut cx, &step, &code(&codes[2]))).unwrap_err();
    assert_eq!(api_code(&again), ApiErrorCode::WrongAnswer);
    assert!(crate::helpers::message(&again).ends_with(&format!("{} attempts left.", MAX_FAILURES - 1)), "{}", crate::helpers::message(&again));
    assert!(matches!(run(login::recovery_verify(&mut cx, &step, &code(&codes[3]))).unwrap(), LoginStep::Done { .. }));
}

#[test]
fn what_cannot_be_a_code_is_not_counted_and_five_wrong_ones_lock_the_codes() {
    let mut cx = context();
    let (_, codes) = ada(&mut cx);
    let step = begin(&mut cx, "ada@example.com", true);
    for bad in ["", "123456", "ABCDE-FGHIJK", "ABCDE-FGHI!"] {
        let e = run(login::recovery_verify(&mut cx, &step, &code(bad))).unwrap_err();
        assert_eq!(api_code(&e), ApiErrorCode::InvalidInput, "{bad:?}");
    }
    for i in 0..MAX_FAILURES {
        let e = run(login::recovery_verify(&mut cx, &step, &code("00000-00000"))).unwrap_err();
        let expected = if i + 1 == MAX_FAILURES { ApiErrorCode::Locked } else { ApiErrorCode::WrongAnswer };
        assert_eq!(api_code(&e), expected, "answer {i}");
    }
    let locked = run(login::recovery_verify(&mut cx, &step, &code(&codes[0]))).unwrap_err();
    assert_eq!(api_code(&locked), ApiErrorCode::Locked, "a right code is not checked while locked");
    assert_eq!(saved_user(&cx).recovery_codes_left(), 10);
    advance(&mut cx, biopass_idp::lockout::LOCKOUT_WINDOW);
    let step = begin(&mut cx, "ada@example.com", true);
    assert!(matches!(run(login::recovery_verify(&mut cx, &step, &code(&codes[0]))).unwrap(), LoginStep::Done { .. }));
}

#[test]
fn one_code_sent_in_twenty_sign_ins_at_once_signs_in_once() {
    let mut cx = context();
    let (_, codes) = ada(&mut cx);
    let steps: Vec<_> = (0..20).map(|_| begin(&mut cx, "ada@example.com", true)).collect();
    let mut contexts: Vec<Cx> = (0..20).map(|i| sibling(&cx, 100 + i)).collect();
    let answer = code(&codes[0]);
    let results = run(futures::future::join_all(contexts.iter_mut().zip(&steps).map(|(c, step)| {
        let answer = &answer;
        async move { login::recovery_verify(c, step, answer).await }
    })));
    assert_eq!(results.iter().filter(|r| matches!(r, Ok(LoginStep::Done { .. }))).count(), 1, "{results:?}");
    assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| matches!(api_code(e), ApiErrorCode::WrongAnswer | ApiErrorCode::Locked)));
    assert_eq!(saved_user(&cx).recovery_codes_left(), 9);
}

#[test]
fn new_codes_need_a_proven_authenticator_and_replace_the_old_ones() {
    let mut cx = context();
    let (seed, old) = ada(&mut cx);
    let step = begin(&mut cx, "ada@example.com", true);
    assert_eq!(api_code(&run(login::recovery_new(&mut cx, &step)).unwrap_err()), ApiErrorCode::Forbidden, "before proving anything");
    advance(&mut cx, PERIOD);
    let answer = TotpAnswer { code: totp::code_at(&seed, cx.now), forget_face: false, add_authenticator: true };
    let proved = run(login::totp_verify(&mut cx, &step, &answer)).unwrap();
    assert_eq!(proved, LoginStep::Enrol { allowed: vec![AuthenticatorKind::Face, AuthenticatorKind::RecoveryCode], additional: true, optional: true });
    let step = reload(&cx, &step).unwrap();
    let fresh = run(login::recovery_new(&mut cx, &step)).unwrap();
    let (new, done) = saved_codes(&mut cx, &step, fresh);
    assert!(new.iter().all(|c| !old.contains(c)));
    let redemption = biopass_idp::grant::Redemption { client_id: "c1", redirect_uri: Some("https://rp.example.com/cb"), code_verifier: None };
    assert_eq!(run(redeem_code(&cx.vault, cx.now, &code_of(&done), &redemption, None)).unwrap().amr, ["otp"]);
    let step = begin(&mut cx, "ada@example.com", true);
    assert_eq!(api_code(&run(login::recovery_verify(&mut cx, &step, &code(&old[0]))).unwrap_err()), ApiErrorCode::WrongAnswer, "an old code");
    assert!(matches!(run(login::recovery_verify(&mut cx, &step, &code(&new[0]))).unwrap(), LoginStep::Done { .. }));
}

#[test]
fn a_code_proves_who_one_is_but_a_required_authenticator_must_still_be_added() {
    let mut cx = context();
    let (_, codes) = ada(&mut cx);
    let step = crate::login::begin_accepting(&mut cx, "ada@example.com", true, &[AuthenticatorKind::Face]);
    let next = run(login::recovery_verify(&mut cx, &step, &code(&codes[0]))).unwrap();
    assert_eq!(next, LoginStep::Enrol { allowed: vec![AuthenticatorKind::Face], additional: true, optional: false });
    let step = reload(&cx, &step).unwrap();
    assert_eq!(api_code(&run(login::skip_addition(&mut cx, &step)).unwrap_err()), ApiErrorCode::Forbidden);
}

#[test]
fn in_a_sign_in_nobody_vouched_for_every_name_is_offered_codes_and_answered_alike() {
    let mut cx = context();
    let (_, codes) = ada(&mut cx);
    registered(&mut cx, "bob@example.com");
    let answers: Vec<_> = ["ada@example.com", "bob@example.com", "nobody@example.com"]
        .into_iter()
        .map(|who| {
            let step = begin(&mut cx, who, false);
            assert!(matches!(&login::state(&step).step, LoginStep::Authenticate { enrolled, .. } if enrolled.contains(&AuthenticatorKind::RecoveryCode)));
            let e = run(login::recovery_verify(&mut cx, &step, &code("00000-00000"))).unwrap_err();
            // The count left is this browser's, which every answer here shares.
            let message = crate::helpers::message(&e);
            (api_code(&e), message.split(" attempts left").next().map(|m| m.trim_end_matches(char::is_numeric).to_owned()))
        })
        .collect();
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, ApiErrorCode::WrongAnswer);
    let step = begin(&mut cx, "ada@example.com", false);
    assert!(matches!(run(login::recovery_verify(&mut cx, &step, &code(&codes[1]))).unwrap(), LoginStep::Done { .. }));
}

#[test]
fn the_answers_are_said_in_the_callers_language() {
    let mut cx = context();
    ada(&mut cx);
    let english = begin(&mut cx, "ada@example.com", true);
    let german = login::Step { caller: login::Caller { lang: biopass_i18n::Lang::De, ..english.caller.clone() }, ..english.clone() };
    let wrong = run(login::recovery_verify(&mut cx, &german, &code("00000-00000"))).unwrap_err();
    assert_eq!(crate::helpers::message(&wrong), "Dieser Wiederherstellungscode ist nicht richtig oder wurde bereits verwendet. Noch 4 Versuche.");
    let wrong = run(login::recovery_verify(&mut cx, &english, &code("00000-00000"))).unwrap_err();
    assert_eq!(crate::helpers::message(&wrong), "That recovery code is not right, or was already used. 3 attempts left.");
    for _ in 0..3 {
        run(login::recovery_verify(&mut cx, &german, &code("00000-00000"))).unwrap_err();
    }
    let locked = run(login::recovery_verify(&mut cx, &german, &code("00000-00000"))).unwrap_err();
    assert_eq!(crate::helpers::message(&locked), "Zu viele Fehlversuche. Versuchen Sie es in 15 Minuten erneut.");
    let gone = run(login::load(&cx, "no-such-sign-in", german.caller.clone())).unwrap_err();
    assert!(crate::helpers::message(&gone).starts_with("Diese Anmeldung ist abgelaufen"), "{}", crate::helpers::message(&gone));
}
