//! Passkeys through the login service: enrolment at first sign-in, sign-in with it, and
//! the refusals (a replayed or concurrent answer, another account's credential, another
//! origin, a cloned authenticator's counter), each counted and recorded.

use crate::helpers::{api_code, name, run};
use crate::login::{audit, code_of, context, registered, reload, Cx};
use biopass_idp::grant::Redemption;
use biopass_idp::lockout::MAX_FAILURES;
use biopass_idp::passkey::soft::SoftKey;
use biopass_proto::error::ApiErrorCode;
use biopass_proto::login::{AuthenticatorKind, FacePurpose, LoginStep, PasskeyAssertion, PasskeyRegistration, TotpAnswer};
use biopass_service::login::{self, Step};
use biopass_service::oauth::redeem_code;

const RP: &str = "id.example.com";
const ORIGIN: &str = "https://id.example.com";

/// A sign-in for `user` to an application accepting `kinds`.
fn begin(cx: &mut Cx, user: &str, vouched: bool, kinds: &[AuthenticatorKind]) -> Step {
    crate::login::begin_accepting(cx, user, vouched, kinds)
}

fn enrol(cx: &mut Cx, step: &Step, key: &SoftKey) -> Result<LoginStep, biopass_service::http::Failure> {
    let options = run(login::passkey_options(cx, step)).unwrap();
    assert_eq!((options.purpose, options.rp_id.as_str()), (FacePurpose::Enrol, RP));
    let (credential_id, client_data_json, attestation_object) = key.register(RP, ORIGIN, &options.challenge);
    run(login::passkey_enrol(cx, step, &PasskeyRegistration { credential_id, client_data_json, attestation_object }))
}

fn assertion(key: &SoftKey, origin: &str, challenge: &str) -> PasskeyAssertion {
    let (client_data_json, authenticator_data, signature) = key.assert(RP, origin, challenge);
    PasskeyAssertion {
        credential_id: biopass_idp::passkey::b64(&key.id),
        client_data_json,
        authenticator_data,
        signature,
        user_handle: None,
        add_authenticator: false,
    }
}

fn challenge(cx: &mut Cx, step: &Step) -> String {
    let options = run(login::passkey_options(cx, step)).unwrap();
    assert_eq!(options.purpose, FacePurpose::Authenticate);
    options.challenge
}

const PASSKEY: &[AuthenticatorKind] = &[AuthenticatorKind::Passkey];

/// Ada with a passkey enrolled (the key's counter then at `count`).
fn ada_with_passkey(cx: &mut Cx, key: &mut SoftKey) {
    registered(cx, "ada@example.com");
    key.count = 1;
    let step = begin(cx, "ada@example.com", true, PASSKEY);
    let answer = enrol(cx, &step, key).unwrap();
    crate::login::saved_codes(cx, &step, answer);
}

#[test]
fn a_passkey_enrolled_at_first_sign_in_signs_in_again_with_amr_swk_and_user() {
    let mut cx = context();
    let mut key = SoftKey::new(11);
    ada_with_passkey(&mut cx, &mut key);
    let saved = run(cx.records.user_named(None, &name("ada@example.com"))).unwrap().unwrap();
    assert_eq!(saved.passkeys.len(), 1);
    // The public key is sealed to the record.
    assert!(!saved.passkeys[0].sealed_key.contains("cose"));

    let step = begin(&mut cx, "ada@example.com", true, PASSKEY);
    let options = run(login::passkey_options(&mut cx, &step)).unwrap();
    assert_eq!(options.credential_ids, vec![biopass_idp::passkey::b64(&key.id)], "a vouched-for sign-in names the user's passkeys");
    key.count = 2;
    let done = run(login::passkey_verify(&mut cx, &step, &assertion(&key, ORIGIN, &options.challenge))).unwrap();
    let redemption = Redemption { client_id: "c1", redirect_uri: Some("https://rp.example.com/cb"), code_verifier: None };
    let grant = run(redeem_code(&cx.vault, cx.now, &code_of(&done), &redemption, None)).unwrap();
    assert_eq!(grant.amr, ["swk", "user"]);
}

#[test]
fn a_replayed_or_concurrent_assertion_is_answered_once() {
    let mut cx = context();
    let mut key = SoftKey::new(12);
    ada_with_passkey(&mut cx, &mut key);
    let step = begin(&mut cx, "ada@example.com", true, PASSKEY);
    let c = challenge(&mut cx, &step);
    key.count = 5;
    let a = assertion(&key, ORIGIN, &c);
    let mut other = crate::login::sibling(&cx, 44);
    let (one, two) = run(futures::future::join(login::passkey_verify(&mut cx, &step, &a), login::passkey_verify(&mut other, &step, &a)));
    assert_eq!([one.is_ok(), two.is_ok()].iter().filter(|ok| **ok).count(), 1, "{one:?} {two:?}");
    // Replayed later, into a new sign-in: its challenge is gone.
    let step = begin(&mut cx, "ada@example.com", true, PASSKEY);
    let _ = challenge(&mut cx, &step);
    assert_eq!(api_code(&run(login::passkey_verify(&mut cx, &step, &a)).unwrap_err()), ApiErrorCode::Expired);
}

#[test]
fn another_accounts_passkey_another_origin_and_a_cloned_counter_are_refused_counted_and_recorded() {
    let mut cx = context();
    let mut ada = SoftKey::new(13);
    ada_with_passkey(&mut cx, &mut ada);
    // Bob has his own passkey; he answers Ada's sign-in with it.
    registered(&mut cx, "bob@example.com");
    let mut bob = SoftKey::new(14);
    bob.count = 1;
    let step = begin(&mut cx, "bob@example.com", true, PASSKEY);
    enrol(&mut cx, &step, &bob).unwrap();

    let step = begin(&mut cx, "ada@example.com", true, PASSKEY);
    let c = challenge(&mut cx, &step);
    bob.count = 2;
    let e = run(login::passkey_verify(&mut cx, &step, &assertion(&bob, ORIGIN, &c))).unwrap_err();
    assert_eq!(api_code(&e), ApiErrorCode::WrongAnswer);
    // Ada's own key, but the answer was made for another origin.
    let c = challenge(&mut cx, &step);
    ada.count = 3;
    let e = run(login::passkey_verify(&mut cx, &step, &assertion(&ada, "https://id.example.com.evil.example", &c))).unwrap_err();
    assert_eq!(api_code(&e), ApiErrorCode::WrongAnswer);
    // A copy of Ada's key whose counter is behind the original's.
    let c = challenge(&mut cx, &step);
    ada.count = 9;
    run(login::passkey_verify(&mut cx, &step, &assertion(&ada, ORIGIN, &c))).unwrap();
    let step = begin(&mut cx, "ada@example.com", true, PASSKEY);
    let c = challenge(&mut cx, &step);
    ada.count = 4;
    let e = run(login::passkey_verify(&mut cx, &step, &assertion(&ada, ORIGIN, &c))).unwrap_err();
    assert_eq!(api_code(&e), ApiErrorCode::WrongAnswer);
    // A copy that reports no counter at all, after the original counted.
    let c = challenge(&mut cx, &step);
    ada.count = 0;
    assert_eq!(api_code(&run(login::passkey_verify(&mut cx, &step, &assertion(&ada, ORIGIN, &c))).unwrap_err()), ApiErrorCode::WrongAnswer);

    let attacks: Vec<String> = audit(&cx).into_iter().filter(|e| e.action == "passkey.attack").filter_map(|e| e.detail).collect();
    for kind in ["passkey of another account", "made for another origin", "counter went back"] {
        assert!(attacks.iter().any(|d| d.contains(kind)), "{kind} not in {attacks:?}");
    }
    // Counted: the failures so far leave fewer attempts, and the limit locks.
    for _ in 0..MAX_FAILURES {
        let c = challenge(&mut cx, &step);
        let _ = run(login::passkey_verify(&mut cx, &step, &assertion(&bob, ORIGIN, &c)));
    }
    let c = challenge(&mut cx, &step);
    ada.count = 20;
    assert_eq!(api_code(&run(login::passkey_verify(&mut cx, &step, &assertion(&ada, ORIGIN, &c))).unwrap_err()), ApiErrorCode::Locked);
}

#[test]
fn a_totp_user_adds_a_passkey_after_proving_totp_and_a_challenge_of_another_sign_in_is_refused() {
    let mut cx = context();
    registered(&mut cx, "ada@example.com");
    let seed = crate::login::enrol_totp(&mut cx, "ada@example.com");
    let both = &[AuthenticatorKind::Totp, AuthenticatorKind::Passkey];
    let step = begin(&mut cx, "ada@example.com", true, both);
    // Before TOTP is proved, there is no passkey to enrol.
    assert_eq!(api_code(&run(login::passkey_options(&mut cx, &step)).unwrap_err()), ApiErrorCode::Forbidden);
    crate::login::advance(&mut cx, 30);
    let code = biopass_idp::totp::code_at(&seed, cx.now);
    let next = run(login::totp_verify(&mut cx, &step, &TotpAnswer { code, forget_face: false, add_authenticator: true })).unwrap();
    assert_eq!(next, LoginStep::Enrol { allowed: vec![AuthenticatorKind::Passkey, AuthenticatorKind::RecoveryCode], additional: true, optional: true });
    let step = reload(&cx, &step).unwrap();
    // A challenge issued to another sign-in does not enrol here.
    let elsewhere = begin(&mut cx, "ada@example.com", true, both);
    let code = biopass_idp::totp::code_at(&seed, cx.now + 30);
    crate::login::advance(&mut cx, 30);
    run(login::totp_verify(&mut cx, &elsewhere, &TotpAnswer { code, forget_face: false, add_authenticator: true })).unwrap();
    let elsewhere = reload(&cx, &elsewhere).unwrap();
    let foreign = run(login::passkey_options(&mut cx, &elsewhere)).unwrap().challenge;
    let key = SoftKey::new(15);
    let (credential_id, client_data_json, attestation_object) = key.register(RP, ORIGIN, &foreign);
    let refused = run(login::passkey_enrol(&mut cx, &step, &PasskeyRegistration { credential_id, client_data_json, attestation_object })).unwrap_err();
    assert_eq!(api_code(&refused), ApiErrorCode::InvalidInput);
    let done = enrol(&mut cx, &step, &key).unwrap();
    let redemption = Redemption { client_id: "c1", redirect_uri: Some("https://rp.example.com/cb"), code_verifier: None };
    assert_eq!(run(redeem_code(&cx.vault, cx.now, &code_of(&done), &redemption, None)).unwrap().amr, ["otp", "swk", "user"]);
    let saved = run(cx.records.user_named(None, &name("ada@example.com"))).unwrap().unwrap();
    assert_eq!(saved.enrolled(), vec![AuthenticatorKind::Totp, AuthenticatorKind::Passkey]);
}

#[test]
fn in_a_sign_in_nobody_vouched_for_no_credential_is_listed_and_an_unknown_name_answers_alike() {
    let mut cx = context();
    let mut key = SoftKey::new(16);
    ada_with_passkey(&mut cx, &mut key);
    let step = begin(&mut cx, "ada@example.com", false, PASSKEY);
    let options = run(login::passkey_options(&mut cx, &step)).unwrap();
    assert!(options.credential_ids.is_empty());
    let nobody = begin(&mut cx, "nobody@example.com", false, PASSKEY);
    let theirs = run(login::passkey_options(&mut cx, &nobody)).unwrap();
    assert!(theirs.credential_ids.is_empty() && theirs.purpose == FacePurpose::Authenticate);
    // Ada's key answers for nobody: a wrong answer, like any.
    key.count = 2;
    let e = run(login::passkey_verify(&mut cx, &nobody, &assertion(&key, ORIGIN, &theirs.challenge))).unwrap_err();
    assert_eq!(api_code(&e), ApiErrorCode::WrongAnswer);
    // And for Ada it signs in (the user handle must be hers when given).
    key.count = 3;
    let mut a = assertion(&key, ORIGIN, &options.challenge);
    a.user_handle = Some(biopass_idp::passkey::b64(b"someone-else"));
    assert_eq!(api_code(&run(login::passkey_verify(&mut cx, &step, &a)).unwrap_err()), ApiErrorCode::WrongAnswer);
    let c = challenge(&mut cx, &step);
    let ada = run(cx.records.user_named(None, &name("ada@example.com"))).unwrap().unwrap();
    key.count = 4;
    let a = PasskeyAssertion { user_handle: Some(biopass_idp::passkey::b64(ada.id.as_bytes())), ..assertion(&key, ORIGIN, &c) };
    assert!(matches!(run(login::passkey_verify(&mut cx, &step, &a)).unwrap(), LoginStep::Done { .. }));
}
