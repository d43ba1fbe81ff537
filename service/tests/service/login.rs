use crate::helpers::{api_code, message, name, run, transaction};
use biopass_idp::claims::TRANSACTION_LIFETIME;
use biopass_idp::face::CHALLENGE_LIFETIME;
use biopass_idp::lockout::{Earlier, LOCKOUT_WINDOW, MAX_FAILURES};
use biopass_idp::random::SeededEntropy;
use biopass_idp::schema::{vault_object, VaultKey};
use biopass_idp::secretbox::MasterKey;
use biopass_idp::totp::{self, TotpSeed, PERIOD};
use biopass_idp::user::UserRecord;
use biopass_proto::admin::AuditEntry;
use biopass_proto::error::ApiErrorCode;
use biopass_proto::login::{AuthenticatorKind, LoginStep, TotpAnswer};
use biopass_service::context::Context;
use biopass_service::http::Failure;
use biopass_service::login::{self, Caller, Step};
use biopass_service::memory::{MemoryRecords, MemoryVault};
use biopass_service::oauth::{redeem_code, start_transaction};
use biopass_service::store::Moved;
use std::cell::RefCell;
use std::rc::Rc;

pub type Cx = Context<Rc<MemoryVault>, Rc<MemoryRecords>>;

const START_MS: u64 = 1_800_000_000_000;
pub(crate) const BROWSER: &str = "browser-secret";

thread_local! {
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// The service's log in these tests: kept for [`take_log`].
pub(crate) fn log(line: &str) {
    LOG.with(|l| l.borrow_mut().push(line.to_owned()));
}

/// What this test's contexts logged since the last call.
pub(crate) fn take_log() -> Vec<String> {
    LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

pub fn context() -> Cx {
    Context::new(Rc::default(), Rc::default(), "https://id.example.com".into(), MasterKey::from_bytes([9; 32]), START_MS, SeededEntropy::new([5; 32]), log)
}

/// Another request's context over the same stores, at the same instant.
pub fn sibling(cx: &Cx, seed: u8) -> Cx {
    Context::new(cx.vault.clone(), cx.records.raw().clone(), cx.issuer.clone(), MasterKey::from_bytes([9; 32]), cx.now_ms, SeededEntropy::new([seed; 32]), log)
}

/// The seed of an enrolment offer (its base32 secret, RFC 4648 without padding).
pub(crate) fn seed_of(secret: &str) -> TotpSeed {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in secret.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {secret}"),
        };
        bits = (bits << 5) | u32::from(v);
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    TotpSeed::from_bytes(out)
}

pub fn advance(cx: &mut Cx, seconds: u64) {
    let at = cx.now_ms + seconds * 1000;
    cx.set_time(at);
}

/// A user saved in the records (of Biopass itself, in group g1).
pub(crate) fn registered(cx: &mut Cx, n: &str) -> UserRecord {
    let user = UserRecord::register(name(n), None, "g1", &mut cx.rng, cx.now);
    run(cx.records.put_user(&user)).unwrap();
    user
}

/// Starts a sign-in for `user`, vouched for or not; the step as the SPA's first call loads it.
pub(crate) fn begin(cx: &mut Cx, user: &str, vouched: bool) -> Step {
    begin_accepting(cx, user, vouched, &AuthenticatorKind::all())
}

/// [`begin`] where the application accepts `kinds` only.
pub(crate) fn begin_accepting(cx: &mut Cx, user: &str, vouched: bool, kinds: &[AuthenticatorKind]) -> Step {
    let mut tx = transaction(user, vouched, BROWSER, cx.now);
    tx.acceptable = kinds.to_vec();
    let id = run(start_transaction(&cx.vault, &mut cx.rng, cx.now, &tx)).unwrap();
    run(login::load(cx, &id, caller())).unwrap()
}

pub(crate) fn caller() -> Caller {
    Caller { browser: BROWSER.into(), ip: Some("192.0.2.1".into()), ..Caller::default() }
}

pub(crate) fn reload(cx: &Cx, step: &Step) -> Result<Step, Failure> {
    run(login::load(cx, &step.tx_id, step.caller.clone()))
}

/// The answer to a first enrolment: the new recovery codes, shown once; the person saved
/// them, and the sign-in finishes (`skip_addition`). Its codes and the finished step.
pub(crate) fn saved_codes(cx: &mut Cx, step: &Step, answer: LoginStep) -> (Vec<String>, LoginStep) {
    let LoginStep::RecoveryCodes { codes } = answer else { panic!("no recovery codes: {answer:?}") };
    assert_eq!(codes.len(), biopass_idp::recovery::COUNT);
    let step = reload(cx, step).unwrap();
    let done = run(login::skip_addition(cx, &step)).unwrap();
    assert!(matches!(done, LoginStep::Done { .. }), "{done:?}");
    (codes, done)
}

pub(crate) fn answer(code: &str) -> TotpAnswer {
    TotpAnswer { code: code.into(), add_authenticator: false, forget_face: false }
}

/// A code of `seed` that is wrong now (and in the steps drift allows).
fn wrong_code(seed: &TotpSeed, now: u64) -> String {
    let near: Vec<String> = (0..3).map(|i| totp::code_at(seed, now + i * PERIOD - PERIOD)).collect();
    (0..1_000_000).map(|n| format!("{n:06}")).find(|c| !near.contains(c)).unwrap()
}

/// Answers `step` with the code of `seed` now (`_now`) or a wrong one (`_wrong`), as a
/// sign-in (`verify_`) or as the confirmation of an enrolment (`confirm_`).
fn answer_with(cx: &mut Cx, step: &Step, seed: &TotpSeed, right: bool, confirm: bool) -> Result<LoginStep, Failure> {
    let a = answer(&if right { totp::code_at(seed, cx.now) } else { wrong_code(seed, cx.now) });
    if confirm {
        run(login::totp_confirm(cx, step, &a))
    } else {
        run(login::totp_verify(cx, step, &a))
    }
}

fn verify_now(cx: &mut Cx, step: &Step, seed: &TotpSeed) -> Result<LoginStep, Failure> {
    answer_with(cx, step, seed, true, false)
}

fn verify_wrong(cx: &mut Cx, step: &Step, seed: &TotpSeed) -> Result<LoginStep, Failure> {
    answer_with(cx, step, seed, false, false)
}

fn confirm_now(cx: &mut Cx, step: &Step, seed: &TotpSeed) -> Result<LoginStep, Failure> {
    answer_with(cx, step, seed, true, true)
}

fn confirm_wrong(cx: &mut Cx, step: &Step, seed: &TotpSeed) -> Result<LoginStep, Failure> {
    answer_with(cx, step, seed, false, true)
}

pub(crate) fn audit(cx: &Cx) -> Vec<AuditEntry> {
    run(cx.records.audit_page(None, 100)).unwrap().items
}

/// Enrols an authenticator app for `user` in a vouched-for sign-in; its seed.
pub(crate) fn enrol_totp(cx: &mut Cx, user: &str) -> TotpSeed {
    enrol_totp_and_codes(cx, user).0
}

/// [`enrol_totp`], and the recovery codes the enrolment showed.
pub(crate) fn enrol_totp_and_codes(cx: &mut Cx, user: &str) -> (TotpSeed, Vec<String>) {
    let step = begin(cx, user, true);
    let offer = run(login::totp_enrol(cx, &step)).unwrap();
    let seed = seed_of(&offer.secret);
    let step = reload(cx, &step).unwrap();
    let answer = run(login::totp_confirm(cx, &step, &answer(&totp::code_at(&seed, cx.now)))).unwrap();
    let (codes, _) = saved_codes(cx, &step, answer);
    (seed, codes)
}

pub(crate) fn code_of(step: &LoginStep) -> String {
    let LoginStep::Done { redirect_to } = step else { panic!("not done: {step:?}") };
    let url = url::Url::parse(redirect_to).unwrap();
    url.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).unwrap()
}

#[test]
fn first_sign_in_enrols_an_app_a_wrong_code_is_counted_and_the_right_one_issues_a_code_once() {
    let mut cx = context();
    registered(&mut cx, "ada@example.com");
    let step = begin(&mut cx, "ada@example.com", true);
    assert!(matches!(login::state(&step).step, LoginStep::Enrol { .. }));
    let offer = run(login::totp_enrol(&mut cx, &step)).unwrap();
    assert!(offer.otpauth_uri.starts_with("otpauth://totp/Payroll:ada%40example.com?"), "{}", offer.otpauth_uri);
    assert!(offer.otpauth_uri.contains("&issuer=Payroll&"), "the application's name, not the provider's: {}", offer.otpauth_uri);
    assert!(offer.qr_svg.starts_with("<svg") || offer.qr_svg.contains("<svg"));
    let seed = seed_of(&offer.secret);

    let step = reload(&cx, &step).unwrap();
    let wrong = confirm_wrong(&mut cx, &step, &seed).unwrap_err();
    assert_eq!(api_code(&wrong), ApiErrorCode::WrongAnswer);
    assert!(message(&wrong).ends_with(&format!("{} attempts left.", MAX_FAILURES - 1)), "{}", message(&wrong));
    let malformed = run(login::totp_confirm(&mut cx, &step, &answer("12ab56"))).unwrap_err();
    assert_eq!(api_code(&malformed), ApiErrorCode::InvalidInput, "not an attempt");

    let answer = confirm_now(&mut cx, &step, &seed).unwrap();
    let (_, done) = saved_codes(&mut cx, &step, answer);
    let code = code_of(&done);
    // The code belongs to the transaction's sign-in: the same Vault object.
    let object = |key: VaultKey<'_>| vault_object(&key.to_string()).0.to_owned();
    assert_eq!(object(VaultKey::Code(&code)), object(VaultKey::Transaction(&step.tx_id)));
    // The transaction is over; the code is in the Vault, once.
    assert_eq!(api_code(&reload(&cx, &step).unwrap_err()), ApiErrorCode::Expired);
    let redemption = biopass_idp::grant::Redemption { client_id: "c1", redirect_uri: Some("https://rp.example.com/cb"), code_verifier: None };
    let grant = run(redeem_code(&cx.vault, cx.now, &code, &redemption, None)).unwrap();
    assert_eq!((grant.username.as_str(), grant.amr.as_slice()), ("ada@example.com", &["otp".to_owned()][..]));
    assert!(run(redeem_code(&cx.vault, cx.now, &code, &redemption, None)).is_err());
    // The seed is saved sealed, and the audit log has the failure and the success.
    let saved = run(cx.records.user_named(None, &name("ada@example.com"))).unwrap().unwrap();
    assert!(!saved.totp.as_ref().unwrap().sealed.contains(&offer.secret));
    let mut actions: Vec<String> = audit(&cx).into_iter().map(|e| e.action).collect();
    actions.sort();
    assert_eq!(actions, ["login.failure", "login.success", "user.recovery_code.create"], "one instant: in any order");
}

#[test]
fn a_totp_code_works_once_and_five_wrong_codes_lock_until_the_window_passes() {
    let mut cx = context();
    registered(&mut cx, "ada@example.com");
    let seed = enrol_totp(&mut cx, "ada@example.com");

    // The enrolment's code is spent: the same step is refused in a new sign-in.
    let step = begin(&mut cx, "ada@example.com", true);
    let used = verify_now(&mut cx, &step, &seed).unwrap_err();
    assert!(message(&used).contains("already used"), "{}", message(&used));
    advance(&mut cx, PERIOD);
    let step = reload(&cx, &step).unwrap();
    assert!(matches!(verify_now(&mut cx, &step, &seed).unwrap(), LoginStep::Done { .. }));

    // Five wrong answers (the used code counted as the first, a new sign-in resets nothing).
    advance(&mut cx, PERIOD);
    let step = begin(&mut cx, "ada@example.com", true);
    let mut last = None;
    for _ in 0..MAX_FAILURES - 1 {
        last = Some(verify_wrong(&mut cx, &step, &seed).unwrap_err());
    }
    let last = last.unwrap();
    assert_eq!(api_code(&last), ApiErrorCode::Locked, "{}", message(&last));
    // Locked: even the right code is not checked.
    let locked = verify_now(&mut cx, &step, &seed).unwrap_err();
    assert_eq!(api_code(&locked), ApiErrorCode::Locked);
    let Failure::Api(a) = &locked else { unreachable!() };
    assert!(a.retry_after.is_some_and(|s| s > 0 && s <= LOCKOUT_WINDOW));

    // After the window, the right code signs in (a new sign-in: the first one expired).
    advance(&mut cx, LOCKOUT_WINDOW);
    assert_eq!(api_code(&reload(&cx, &step).unwrap_err()), ApiErrorCode::Expired, "transactions last {TRANSACTION_LIFETIME} s");
    let step = begin(&mut cx, "ada@example.com", true);
    assert!(matches!(verify_now(&mut cx, &step, &seed).unwrap(), LoginStep::Done { .. }));
    assert!(audit(&cx).iter().any(|e| e.action == "login.locked"));
}

/// Twenty TOTP answers (`code(seed, now, i)` for the i-th) to one vouched-for sign-in of an
/// enrolled user, at once: twenty requests over the same stores, each with its own context.
fn twenty_answers_at_once(code: impl Fn(&TotpSeed, u64, usize) -> String) -> Vec<Result<LoginStep, Failure>> {
    let mut cx = context();
    registered(&mut cx, "ada@example.com");
    let seed = enrol_totp(&mut cx, "ada@example.com");
    advance(&mut cx, PERIOD);
    let step = begin(&mut cx, "ada@example.com", true);
    let answers: Vec<TotpAnswer> = (0..20).map(|i| answer(&code(&seed, cx.now, i))).collect();
    let mut contexts: Vec<Cx> = (0..20).map(|i| sibling(&cx, 100 + i)).collect();
    run(futures::future::join_all(contexts.iter_mut().zip(&answers).map(|(c, a)| {
        let step = &step;
        async move { login::totp_verify(c, step, a).await }
    })))
}

#[test]
fn twenty_guesses_at_once_check_five_and_the_right_code_among_them_is_refused() {
    // The right code is the 13th (the attack of issue 15: it was accepted after 15 failures).
    let results = twenty_answers_at_once(|seed, now, i| if i == 12 { totp::code_at(seed, now) } else { wrong_code(seed, now) });
    let codes: Vec<ApiErrorCode> = results.iter().map(|r| api_code(r.as_ref().unwrap_err())).collect();
    assert_eq!(codes.iter().filter(|c| **c == ApiErrorCode::WrongAnswer).count() as u64, MAX_FAILURES - 1, "{codes:?}");
    assert_eq!(codes[12], ApiErrorCode::Locked, "the right code came after the limit: not checked");
    assert_eq!(codes.iter().filter(|c| **c == ApiErrorCode::Locked).count() as u64, 20 - (MAX_FAILURES - 1));
}

#[test]
fn the_same_right_code_sent_twenty_times_at_once_signs_in_once() {
    let results = twenty_answers_at_once(|seed, now, _| totp::code_at(seed, now));
    assert_eq!(results.iter().filter(|r| matches!(r, Ok(LoginStep::Done { .. }))).count(), 1, "{results:?}");
}

#[test]
fn a_right_totp_answer_is_one_vault_call_and_the_step_kept_by_the_earlier_layout_still_counts() {
    use biopass_idp::schema::Failures;
    use biopass_proto::login::AuthenticatorKind;
    use biopass_service::store::OneTime;
    let mut cx = context();
    registered(&mut cx, "ada@example.com");
    let seed = enrol_totp(&mut cx, "ada@example.com");
    let ada = run(cx.records.user_named(None, &name("ada@example.com"))).unwrap().unwrap();
    let counter = VaultKey::Failures(Failures::Authenticator(AuthenticatorKind::Totp, &ada.id)).to_string();

    // A right answer: one call, to the user's TOTP counter, in the user's status object (which
    // the vouched-for sign-in read already).
    let status = VaultKey::UserDisabled(&ada.id).to_string();
    assert_eq!(vault_object(&counter), (status.as_str(), Some("fail-totp")));
    advance(&mut cx, PERIOD);
    let step = begin(&mut cx, "ada@example.com", true);
    cx.vault.take_calls();
    assert!(matches!(verify_now(&mut cx, &step, &seed).unwrap(), LoginStep::Done { .. }));
    let to_counter: Vec<(String, String)> = cx.vault.take_calls().into_iter().filter(|(_, k)| k.contains(&ada.id)).collect();
    assert_eq!(to_counter, vec![(status.clone(), counter.clone())], "the lock-out and the step in one operation");

    // A user whose last step only the earlier layout (`totp-step:{user}`) has: that step is
    // still spent, and the next one is accepted.
    advance(&mut cx, PERIOD);
    run(cx.vault.clear(&counter)).unwrap();
    run(cx.vault.advance(&VaultKey::TotpStep(&ada.id).to_string(), totp::verify(&seed, &totp::code_at(&seed, cx.now), cx.now, None).unwrap())).unwrap();
    let step = begin(&mut cx, "ada@example.com", true);
    let used = verify_now(&mut cx, &step, &seed).unwrap_err();
    assert!(message(&used).contains("already used"), "{}", message(&used));
    advance(&mut cx, PERIOD);
    let step = reload(&cx, &step).unwrap();
    assert!(matches!(verify_now(&mut cx, &step, &seed).unwrap(), LoginStep::Done { .. }));

    // A user whose last step only the counter of the layout before (`fail:totp:{user}`, an
    // object of its own) has: that step is still spent, and the next one is accepted.
    advance(&mut cx, PERIOD);
    run(cx.vault.clear(&counter)).unwrap();
    let before = VaultKey::CounterBefore(AuthenticatorKind::Totp, &ada.id).to_string();
    assert_eq!(vault_object(&before), (before.as_str(), None));
    run(cx.vault.advance(&before, totp::verify(&seed, &totp::code_at(&seed, cx.now), cx.now, None).unwrap())).unwrap();
    let step = begin(&mut cx, "ada@example.com", true);
    let used = verify_now(&mut cx, &step, &seed).unwrap_err();
    assert!(message(&used).contains("already used"), "{}", message(&used));
    // Kept beside the counter now, the earlier layouts' keys are cleared.
    assert_eq!(run(cx.vault.counter(&before)).unwrap(), None);
    assert_eq!(run(cx.vault.counter(&VaultKey::TotpStep(&ada.id).to_string())).unwrap(), None);
    advance(&mut cx, PERIOD);
    let step = reload(&cx, &step).unwrap();
    assert!(matches!(verify_now(&mut cx, &step, &seed).unwrap(), LoginStep::Done { .. }));
}

#[test]
fn a_totp_answer_signs_in_though_the_earlier_layouts_keys_cannot_be_cleared() {
    use biopass_service::store::OneTime;
    let mut cx = context();
    registered(&mut cx, "ada@example.com");
    let seed = enrol_totp(&mut cx, "ada@example.com");
    let ada = run(cx.records.user_named(None, &name("ada@example.com"))).unwrap().unwrap();
    let counter = biopass_service::lockout::authenticator(AuthenticatorKind::Totp, &ada.id).key;
    // As the upgrade finds her: her last step kept by the counter of the layout before.
    advance(&mut cx, PERIOD);
    run(cx.vault.clear(&counter)).unwrap();
    let before = VaultKey::CounterBefore(AuthenticatorKind::Totp, &ada.id).to_string();
    let first = VaultKey::TotpStep(&ada.id).to_string();
    run(cx.vault.advance(&before, totp::verify(&seed, &totp::code_at(&seed, cx.now), cx.now, None).unwrap())).unwrap();
    cx.vault.fail_clears_in(&before);
    cx.vault.fail_clears_in(&first);
    take_log();

    // That step is still spent; the next one signs in, though neither earlier key is cleared.
    let step = begin(&mut cx, "ada@example.com", true);
    let used = verify_now(&mut cx, &step, &seed).unwrap_err();
    assert!(message(&used).contains("already used"), "{}", message(&used));
    let logged = take_log();
    assert!(logged.len() == 2 && logged[0].contains(&before) && logged[1].contains(&first), "each failed clear logged: {logged:?}");
    advance(&mut cx, PERIOD);
    let step = reload(&cx, &step).unwrap();
    assert!(matches!(verify_now(&mut cx, &step, &seed).unwrap(), LoginStep::Done { .. }));
    assert_eq!(take_log(), Vec::<String>::new(), "the step kept beside the counter: the earlier keys are not read again");
    assert!(run(cx.vault.counter(&before)).unwrap().is_some(), "left behind until she is deleted");
}

#[test]
fn a_totp_answer_loaded_by_its_id_reads_the_users_status_in_the_answer_and_refuses_a_disabled_user_unjudged() {
    use biopass_service::store::OneTime;
    let mut cx = context();
    registered(&mut cx, "ada@example.com");
    let seed = enrol_totp(&mut cx, "ada@example.com");
    let ada = run(cx.records.user_named(None, &name("ada@example.com"))).unwrap().unwrap();
    let status = VaultKey::UserDisabled(&ada.id).to_string();
    let counter = biopass_service::lockout::authenticator(AuthenticatorKind::Totp, &ada.id).key;
    let code = |cx: &Cx| answer(&totp::code_at(&seed, cx.now));

    // Disabled after the sign-in began: refused, nothing counted and the step not spent.
    advance(&mut cx, PERIOD);
    let step = begin(&mut cx, "ada@example.com", true);
    run(cx.mark_disabled(&ada.id, true)).unwrap();
    cx.vault.take_calls();
    let right = code(&cx);
    let refused = run(login::load_and_verify_totp(&mut cx, &step.tx_id, caller(), &right)).unwrap_err();
    assert_eq!(api_code(&refused), ApiErrorCode::Forbidden);
    let calls = cx.vault.take_calls();
    assert!(calls.iter().all(|(_, k)| *k != status), "the status is not read on its own: {calls:?}");
    let wrong = answer(&wrong_code(&seed, cx.now));
    let wrong = run(login::load_and_verify_totp(&mut cx, &step.tx_id, caller(), &wrong)).unwrap_err();
    assert_eq!(api_code(&wrong), ApiErrorCode::Forbidden);
    assert_eq!(
        run(cx.vault.reserve(&counter, cx.now, LOCKOUT_WINDOW, biopass_idp::lockout::Limit::Lock { max: MAX_FAILURES }, "probe".into(), Earlier::Nothing))
            .unwrap(),
        Moved::Done(Ok(("probe".into(), 1))),
        "no attempt was counted"
    );
    run(cx.vault.release(&counter, "probe")).unwrap();

    // Enabled again: the same code signs in, in three Vault calls (the transaction, the
    // answer with the status, the code) over the sign-in's object and the status object.
    run(cx.mark_disabled(&ada.id, false)).unwrap();
    cx.vault.take_calls();
    let done = run(login::load_and_verify_totp(&mut cx, &step.tx_id, caller(), &right)).unwrap();
    assert!(matches!(done, LoginStep::Done { .. }), "{done:?}");
    let calls = cx.vault.take_calls();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert_eq!(calls.iter().filter(|(o, _)| *o == status).map(|(_, k)| k.as_str()).collect::<Vec<_>>(), [counter.as_str()]);
}

#[test]
fn a_totp_answer_loaded_by_its_id_is_refused_for_a_user_disabled_by_their_record_alone() {
    let mut cx = context();
    registered(&mut cx, "ada@example.com");
    let seed = enrol_totp(&mut cx, "ada@example.com");
    advance(&mut cx, PERIOD);
    let step = begin(&mut cx, "ada@example.com", true);
    let mut ada = run(cx.records.user_named(None, &name("ada@example.com"))).unwrap().unwrap();
    ada.disabled = true;
    run(cx.records.put_user(&ada)).unwrap();
    let right = answer(&totp::code_at(&seed, cx.now));
    let refused = run(login::load_and_verify_totp(&mut cx, &step.tx_id, caller(), &right)).unwrap_err();
    assert_eq!(api_code(&refused), ApiErrorCode::Forbidden);
}

/// Ada, enrolled, as after the upgrade that moved the TOTP counter: her counter only in the
/// layout before (`fail:totp:{user}`), with `failures` counted there; then a TOTP period on.
fn upgraded_with_failures(failures: u64) -> (Cx, TotpSeed) {
    use biopass_idp::lockout::Limit;
    use biopass_service::store::OneTime;
    let mut cx = context();
    registered(&mut cx, "ada@example.com");
    let seed = enrol_totp(&mut cx, "ada@example.com");
    let ada = run(cx.records.user_named(None, &name("ada@example.com"))).unwrap().unwrap();
    let counter = biopass_service::lockout::authenticator(AuthenticatorKind::Totp, &ada.id);
    run(cx.vault.clear(&counter.key)).unwrap();
    let before = VaultKey::CounterBefore(AuthenticatorKind::Totp, &ada.id).to_string();
    assert_eq!(counter.limit, Limit::Lock { max: MAX_FAILURES });
    for i in 0..failures {
        let counted = run(cx.vault.reserve(&before, cx.now, LOCKOUT_WINDOW, counter.limit, format!("a{i}"), Earlier::Nothing)).unwrap();
        assert!(matches!(counted, Moved::Done(Ok(_))), "{counted:?}");
    }
    advance(&mut cx, PERIOD);
    (cx, seed)
}

#[test]
fn a_lock_the_earlier_layouts_counter_has_in_force_still_holds_for_right_and_wrong_answers() {
    let (mut cx, seed) = upgraded_with_failures(MAX_FAILURES);
    for right in [false, true] {
        let step = begin(&mut cx, "ada@example.com", true);
        let refused = answer_with(&mut cx, &step, &seed, right, false).unwrap_err();
        assert_eq!(api_code(&refused), ApiErrorCode::Locked, "right: {right}");
    }
    // Once its window has passed, the right answer is accepted.
    advance(&mut cx, LOCKOUT_WINDOW);
    let step = begin(&mut cx, "ada@example.com", true);
    assert!(matches!(verify_now(&mut cx, &step, &seed).unwrap(), LoginStep::Done { .. }));
}

#[test]
fn the_failures_the_earlier_layouts_counter_counted_under_the_limit_count_after_the_move() {
    // One failure short of the lock, in the layout before.
    let (mut cx, seed) = upgraded_with_failures(MAX_FAILURES - 1);
    let step = begin(&mut cx, "ada@example.com", true);
    // The next wrong answer is the last one allowed (it says so: locked now); after it, even
    // the right one is refused.
    let wrong = answer_with(&mut cx, &step, &seed, false, false).unwrap_err();
    assert_eq!(api_code(&wrong), ApiErrorCode::Locked, "{}", message(&wrong));
    let step = begin(&mut cx, "ada@example.com", true);
    assert_eq!(api_code(&verify_now(&mut cx, &step, &seed).unwrap_err()), ApiErrorCode::Locked);
}

#[test]
fn a_disabled_user_gets_no_step_when_vouched_for_and_is_told_only_after_proving_who_they_are_otherwise() {
    let mut cx = context();
    registered(&mut cx, "ada@example.com");
    let seed = enrol_totp(&mut cx, "ada@example.com");
    advance(&mut cx, PERIOD);
    let open = begin(&mut cx, "ada@example.com", false);
    let user = run(cx.records.user_named(None, &name("ada@example.com"))).unwrap().unwrap();
    run(cx.mark_disabled(&user.id, true)).unwrap();

    // Vouched for: refused at once.
    let tx = transaction("ada@example.com", true, BROWSER, cx.now);
    let id = run(start_transaction(&cx.vault, &mut cx.rng, cx.now, &tx)).unwrap();
    assert_eq!(api_code(&run(login::load(&cx, &id, caller())).unwrap_err()), ApiErrorCode::Forbidden);

    // Not vouched for: the step is the same as for anyone; after the right code, refused.
    let open = reload(&cx, &open).unwrap();
    assert!(matches!(login::state(&open).step, LoginStep::Authenticate { .. }));
    let refused = verify_now(&mut cx, &open, &seed).unwrap_err();
    assert_eq!(api_code(&refused), ApiErrorCode::Forbidden);
    assert!(message(&refused).contains("disabled"));

    // Enabled again, the next code works.
    run(cx.mark_disabled(&user.id, false)).unwrap();
    advance(&mut cx, PERIOD);
    let again = begin(&mut cx, "ada@example.com", true);
    assert!(matches!(verify_now(&mut cx, &again, &seed).unwrap(), LoginStep::Done { .. }));
}

#[test]
fn in_a_sign_in_nobody_vouched_for_an_unknown_name_answers_like_a_known_one() {
    let mut cx = context();
    registered(&mut cx, "ada@example.com");
    enrol_totp(&mut cx, "ada@example.com");
    let known = begin(&mut cx, "ada@example.com", false);
    let unknown = begin(&mut cx, "nobody@example.com", false);
    assert_eq!(login::state(&known).step, login::state(&unknown).step);
    let a = run(login::totp_verify(&mut cx, &known, &answer("000000"))).unwrap_err();
    let b = run(login::totp_verify(&mut cx, &unknown, &answer("000000"))).unwrap_err();
    assert_eq!((api_code(&a), api_code(&b)), (ApiErrorCode::WrongAnswer, ApiErrorCode::WrongAnswer));
    // Both count against this browser (the same for either name).
    assert_eq!(message(&b), message(&a).replace(&format!("{} attempts", 4), &format!("{} attempts", 3)));
}

#[test]
fn a_transaction_expires_belongs_to_its_browser_and_ends_once() {
    let mut cx = context();
    registered(&mut cx, "ada@example.com");
    let step = begin(&mut cx, "ada@example.com", true);
    let other = Caller { browser: "another browser".into(), ip: None, ..Caller::default() };
    assert_eq!(api_code(&run(login::load(&cx, &step.tx_id, other)).unwrap_err()), ApiErrorCode::Forbidden);
    assert_eq!(api_code(&run(login::load(&cx, "short", caller())).unwrap_err()), ApiErrorCode::Expired);

    let user = step.user.clone().unwrap();
    let done = run(login::finish(&mut cx, &step, &user, biopass_proto::login::AuthenticatorKind::Totp)).unwrap();
    assert!(matches!(done, LoginStep::Done { .. }));
    assert_eq!(api_code(&run(login::finish(&mut cx, &step, &user, biopass_proto::login::AuthenticatorKind::Totp)).unwrap_err()), ApiErrorCode::Expired);

    let step = begin(&mut cx, "ada@example.com", true);
    advance(&mut cx, TRANSACTION_LIFETIME - 1);
    assert!(reload(&cx, &step).is_ok(), "alive to the last second");
    advance(&mut cx, 1);
    assert_eq!(api_code(&reload(&cx, &step).unwrap_err()), ApiErrorCode::Expired);
}

#[test]
fn a_transaction_becomes_its_code_in_one_call_and_one_changed_meanwhile_ends_as_it_is_now() {
    use biopass_proto::login::AuthenticatorKind;
    use biopass_service::store::OneTime;
    let mut cx = context();
    registered(&mut cx, "ada@example.com");
    let grant_of = |cx: &Cx, done: &LoginStep| -> biopass_idp::grant::CodeGrant {
        let key = VaultKey::Code(&code_of(done)).to_string();
        serde_json::from_value(run(cx.vault.get(&key, cx.now)).unwrap().expect("the code is kept")).unwrap()
    };
    // As loaded: the transaction is exchanged for the code, one Vault call.
    let step = begin(&mut cx, "ada@example.com", true);
    let user = step.user.clone().unwrap();
    cx.vault.take_calls();
    let done = run(login::finish(&mut cx, &step, &user, AuthenticatorKind::Totp)).unwrap();
    let calls = cx.vault.take_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(grant_of(&cx, &done).amr, ["otp"]);
    assert_eq!(api_code(&reload(&cx, &step).unwrap_err()), ApiErrorCode::Expired, "the transaction is gone");

    // Changed by another step of the sign-in after this one loaded it: the code is made
    // from the transaction as it is now (its face check counts), and it still ends once.
    let step = begin(&mut cx, "ada@example.com", true);
    let mut now = step.tx.clone();
    now.authenticated.push(AuthenticatorKind::Face);
    let key = VaultKey::Transaction(&step.tx_id).to_string();
    assert!(run(cx.vault.replace(&key, serde_json::to_value(&now).unwrap(), cx.now)).unwrap());
    let done = run(login::finish(&mut cx, &step, &user, AuthenticatorKind::Totp)).unwrap();
    let mut amr = grant_of(&cx, &done).amr;
    amr.sort();
    assert_eq!(amr, ["face", "otp"]);
    assert_eq!(api_code(&run(login::finish(&mut cx, &step, &user, AuthenticatorKind::Totp)).unwrap_err()), ApiErrorCode::Expired);
}

#[test]
fn a_face_challenge_is_spent_once_and_expires() {
    let mut cx = context();
    registered(&mut cx, "ada@example.com");
    let step = begin(&mut cx, "ada@example.com", true);
    let challenge = run(login::face_challenge(&mut cx, &step, false)).unwrap();
    assert_eq!(challenge.purpose, biopass_proto::login::FacePurpose::Enrol);
    let issued = run(login::spend_face_challenge(&cx, &challenge.nonce, &biopass_i18n::EN)).unwrap();
    assert_eq!(issued.flashes, challenge.flashes);
    assert_eq!(api_code(&run(login::spend_face_challenge(&cx, &challenge.nonce, &biopass_i18n::EN)).unwrap_err()), ApiErrorCode::Expired);

    let late = run(login::face_challenge(&mut cx, &step, true)).unwrap();
    advance(&mut cx, CHALLENGE_LIFETIME);
    assert_eq!(api_code(&run(login::spend_face_challenge(&cx, &late.nonce, &biopass_i18n::EN)).unwrap_err()), ApiErrorCode::Expired);
    assert!(LOG.with(|l| l.borrow().is_empty()), "nothing went wrong enough to log");
}

#[test]
fn a_transaction_started_before_sign_ins_shared_an_object_still_loads() {
    use biopass_service::store::OneTime;
    let mut cx = context();
    registered(&mut cx, "ada@example.com");
    let tx = transaction("ada@example.com", true, BROWSER, cx.now);
    // A 43-character id, stored under its own key as before.
    let old = "A".repeat(43);
    let key = VaultKey::Transaction(&old).to_string();
    assert_eq!(vault_object(&key), (key.as_str(), None));
    run(cx.vault.insert(&key, serde_json::to_value(&tx).unwrap(), tx.expires_at, cx.now)).unwrap();
    let step = run(login::load(&cx, &old, caller())).unwrap();
    assert_eq!(step.tx_id, old);
    // It ends as any other, with a code of a sign-in of its own.
    let offer = run(login::totp_enrol(&mut cx, &step)).unwrap();
    let seed = seed_of(&offer.secret);
    let step = reload(&cx, &step).unwrap();
    let code = totp::code_at(&seed, cx.now);
    let answer = run(login::totp_confirm(&mut cx, &step, &answer(&code))).unwrap();
    let (_, done) = saved_codes(&mut cx, &step, answer);
    assert!(biopass_idp::schema::SignInToken::sign_in(&code_of(&done)).is_some());
    for id in ["", "short", &"A".repeat(44)] {
        assert_eq!(api_code(&run(login::load(&cx, id, caller())).unwrap_err()), ApiErrorCode::Expired, "{id:?}");
    }
}

#[test]
fn an_addition_asked_for_after_proving_an_accepted_authenticator_can_be_skipped_a_required_one_cannot() {
    let mut cx = context();
    registered(&mut cx, "ada@example.com");
    let seed = enrol_totp(&mut cx, "ada@example.com");
    let step = begin(&mut cx, "ada@example.com", true);
    // Nothing proved yet: nothing to finish with.
    assert_eq!(api_code(&run(login::skip_addition(&mut cx, &step)).unwrap_err()), ApiErrorCode::Forbidden);
    advance(&mut cx, 30);
    let add = TotpAnswer { code: totp::code_at(&seed, cx.now), add_authenticator: true, forget_face: false };
    let next = run(login::totp_verify(&mut cx, &step, &add)).unwrap();
    assert!(matches!(next, LoginStep::Enrol { additional: true, optional: true, .. }), "{next:?}");
    let step = reload(&cx, &step).unwrap();
    let done = run(login::skip_addition(&mut cx, &step)).unwrap();
    let redemption = biopass_idp::grant::Redemption { client_id: "c1", redirect_uri: Some("https://rp.example.com/cb"), code_verifier: None };
    let grant = run(redeem_code(&cx.vault, cx.now, &code_of(&done), &redemption, None)).unwrap();
    assert_eq!(grant.amr, ["otp"], "the sign-in ends with what was proved");
    assert!(audit(&cx).iter().any(|e| e.action == "login.success" && e.detail.as_deref() == Some("with otp")));
    // The transaction ended: skipping again finds nothing.
    assert!(reload(&cx, &step).is_err());
    // When the application accepts only a face, proving the app is not enough: the face
    // must be added, and skipping is refused.
    advance(&mut cx, 30);
    let face_only = begin_accepting(&mut cx, "ada@example.com", true, &[AuthenticatorKind::Face]);
    let right = answer(&totp::code_at(&seed, cx.now));
    let next = run(login::totp_verify(&mut cx, &face_only, &right)).unwrap();
    assert!(matches!(next, LoginStep::Enrol { additional: true, optional: false, .. }), "{next:?}");
    let face_only = reload(&cx, &face_only).unwrap();
    assert_eq!(api_code(&run(login::skip_addition(&mut cx, &face_only)).unwrap_err()), ApiErrorCode::Forbidden);
}
