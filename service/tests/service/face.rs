use crate::helpers::{api_code, message, name, run, transaction};
use crate::login::{context, Cx};
use biopass_idp::face::{self, MeasuredFrame};
use biopass_idp::lockout::{Earlier, LOCKOUT_WINDOW, MAX_FAILURES};
use biopass_idp::schema::{vault_object, VaultKey};
use biopass_idp::secretbox::Purpose;
use biopass_idp::user::{Enrolled, UserRecord};
use biopass_proto::error::ApiErrorCode;
use biopass_proto::login::{AuthenticatorKind, CapturePhase, EvidenceFrame, FaceEvidence, FacePurpose};
use biopass_service::http::Failure;
use biopass_service::lockout::authenticator;
use biopass_service::login::{self, Caller, FaceAnalysis, Step};
use biopass_service::oauth::start_transaction;
use biopass_service::store::{Moved, OneTime};
use std::cell::Cell;
use std::collections::BTreeSet;

const BROWSER: &str = "browser-secret";

/// Figures in place of the models: what the worker would have measured, or a refusal to
/// read the frames. Counts its calls.
struct Figures {
    frames: Result<Vec<MeasuredFrame>, Failure>,
    calls: Cell<u32>,
}

impl Figures {
    fn of(frames: Vec<MeasuredFrame>) -> Self {
        Self { frames: Ok(frames), calls: Cell::new(0) }
    }
    fn unreadable() -> Self {
        Self { frames: Err(Failure::Api(biopass_idp::error::ApiFailure::invalid_field("frames", "A frame is not a JPEG."))), calls: Cell::new(0) }
    }
}

impl FaceAnalysis for Figures {
    async fn measure(&self, _frames: &[EvidenceFrame]) -> Result<Vec<MeasuredFrame>, Failure> {
        self.calls.set(self.calls.get() + 1);
        self.frames.clone()
    }
}

/// One frame the detector found no face in.
fn faceless(phase: CapturePhase, t_ms: u32) -> MeasuredFrame {
    MeasuredFrame { phase, t_ms, face: Some(None), liveness: None, embedding: None, quality: None, colours: None, continuity: None }
}

/// A user with a face enrolled (a sealed template that opens).
fn with_face(cx: &mut Cx, n: &str) -> UserRecord {
    let mut user = UserRecord::register(name(n), None, "g1", &mut cx.rng, cx.now);
    let template: Vec<f32> = (0..512).map(|i| if i == 0 { 1.0 } else { 0.0 }).collect();
    let sealed = cx.master.secret_box(Purpose::FaceTemplate).seal(&mut cx.rng, &login::sealed_to(&user.id), &face::template_bytes(&template));
    user.face = Some(Enrolled { sealed, enrolled_at: cx.now });
    run(cx.records.put_user(&user)).unwrap();
    user
}

fn begin(cx: &mut Cx, user: &str, vouched: bool) -> Step {
    let tx = transaction(user, vouched, BROWSER, cx.now);
    let id = run(start_transaction(&cx.vault, &mut cx.rng, cx.now, &tx)).unwrap();
    run(login::load(cx, &id, Caller { browser: BROWSER.into(), ip: None, ..Caller::default() })).unwrap()
}

fn evidence(nonce: &str, frames: usize, consent: bool) -> FaceEvidence {
    FaceEvidence {
        nonce: nonce.into(),
        frames: (0..frames).map(|i| EvidenceFrame { phase: CapturePhase::Far, t_ms: 100 * i as u32, jpeg: "AA".into() }).collect(),
        flashes_at_ms: 0,
        colours_shown_ms: Vec::new(),
        consent,
        forget_face: false,
        add_authenticator: false,
    }
}

fn actions(cx: &Cx) -> Vec<String> {
    run(cx.records.audit_page(None, 100)).unwrap().items.into_iter().map(|e| e.action).collect()
}

#[test]
fn evidence_made_for_another_sign_in_is_a_counted_attack_and_spends_the_challenge() {
    let mut cx = context();
    with_face(&mut cx, "ada@example.com");
    let first = begin(&mut cx, "ada@example.com", true);
    let other = begin(&mut cx, "ada@example.com", true);
    let challenge = run(login::face_challenge(&mut cx, &first, false)).unwrap();
    assert_eq!(challenge.purpose, FacePurpose::Authenticate);
    let figures = Figures::of(Vec::new());
    let replay = run(login::face_evidence(&mut cx, &other, &evidence(&challenge.nonce, 3, false), &figures)).unwrap_err();
    assert_eq!(api_code(&replay), ApiErrorCode::WrongAnswer);
    assert!(message(&replay).contains(&format!("{} attempts left", MAX_FAILURES - 1)), "{}", message(&replay));
    assert_eq!(figures.calls.get(), 0, "refused before any analysis");
    assert!(actions(&cx).contains(&"face.attack".to_owned()));
    let again = run(login::face_evidence(&mut cx, &first, &evidence(&challenge.nonce, 3, false), &figures)).unwrap_err();
    assert_eq!(api_code(&again), ApiErrorCode::Expired, "the challenge was spent by the replay");
}

#[test]
fn frames_that_cannot_be_read_give_the_count_back_and_a_wrong_capture_is_counted() {
    let mut cx = context();
    with_face(&mut cx, "ada@example.com");
    let step = begin(&mut cx, "ada@example.com", true);
    for _ in 0..3 {
        let challenge = run(login::face_challenge(&mut cx, &step, false)).unwrap();
        let unreadable = run(login::face_evidence(&mut cx, &step, &evidence(&challenge.nonce, 3, false), &Figures::unreadable())).unwrap_err();
        assert_eq!(api_code(&unreadable), ApiErrorCode::InvalidInput);
    }
    // Three unreadable evidences later, the first counted refusal still has all but one left.
    let challenge = run(login::face_challenge(&mut cx, &step, false)).unwrap();
    let one_frame = Figures::of(vec![faceless(CapturePhase::Far, 0)]);
    let refused = run(login::face_evidence(&mut cx, &step, &evidence(&challenge.nonce, 1, false), &one_frame)).unwrap_err();
    assert_eq!(api_code(&refused), ApiErrorCode::WrongAnswer, "{}", message(&refused));
    assert!(message(&refused).contains(&format!("{} attempts left", MAX_FAILURES - 1)), "{}", message(&refused));
    assert_eq!(one_frame.calls.get(), 1);
}

#[test]
fn an_enrolment_needs_consent_and_evidence_needs_frames() {
    let mut cx = context();
    let user = UserRecord::register(name("new@example.com"), None, "g1", &mut cx.rng, cx.now);
    run(cx.records.put_user(&user)).unwrap();
    let step = begin(&mut cx, "new@example.com", true);
    let challenge = run(login::face_challenge(&mut cx, &step, false)).unwrap();
    assert_eq!(challenge.purpose, FacePurpose::Enrol);
    let figures = Figures::of(Vec::new());
    let no_consent = run(login::face_evidence(&mut cx, &step, &evidence(&challenge.nonce, 3, false), &figures)).unwrap_err();
    let Failure::Api(f) = &no_consent else { panic!("{no_consent:?}") };
    assert_eq!((f.code, f.field.as_deref()), (ApiErrorCode::InvalidInput, Some("consent")));
    assert_eq!(figures.calls.get(), 0, "no face is processed without consent");

    let challenge = run(login::face_challenge(&mut cx, &step, false)).unwrap();
    let empty = run(login::face_evidence(&mut cx, &step, &evidence(&challenge.nonce, 0, true), &figures)).unwrap_err();
    assert_eq!(api_code(&empty), ApiErrorCode::InvalidInput);
    let challenge = run(login::face_challenge(&mut cx, &step, false)).unwrap();
    let too_many = run(login::face_evidence(&mut cx, &step, &evidence(&challenge.nonce, face::MAX_FRAMES + 1, true), &figures)).unwrap_err();
    assert_eq!(api_code(&too_many), ApiErrorCode::InvalidInput);
    // A capture the decision refuses enrols nothing.
    let challenge = run(login::face_challenge(&mut cx, &step, false)).unwrap();
    let refused =
        run(login::face_evidence(&mut cx, &step, &evidence(&challenge.nonce, 1, true), &Figures::of(vec![faceless(CapturePhase::Far, 0)]))).unwrap_err();
    assert_eq!(api_code(&refused), ApiErrorCode::InvalidInput);
    assert!(run(cx.records.user(&user.id)).unwrap().unwrap().face.is_none());
}

#[test]
fn in_a_sign_in_nobody_vouched_for_a_face_answer_for_an_unknown_name_is_refused_like_a_stranger() {
    let mut cx = context();
    let unknown = begin(&mut cx, "nobody@example.com", false);
    let challenge = run(login::face_challenge(&mut cx, &unknown, false)).unwrap();
    assert_eq!(challenge.purpose, FacePurpose::Authenticate, "the same challenge as for anyone");
    let figures = Figures::of(vec![faceless(CapturePhase::Far, 0)]);
    let refused = run(login::face_evidence(&mut cx, &unknown, &evidence(&challenge.nonce, 1, false), &figures)).unwrap_err();
    assert_eq!(api_code(&refused), ApiErrorCode::WrongAnswer, "{}", message(&refused));
}

/// A counted face refusal for `step` (a capture with no face in it): its message.
fn refused_capture(cx: &mut Cx, step: &Step) -> Failure {
    let challenge = run(login::face_challenge(cx, step, false)).unwrap();
    run(login::face_evidence(cx, step, &evidence(&challenge.nonce, 1, false), &Figures::of(vec![faceless(CapturePhase::Far, 0)]))).unwrap_err()
}

/// `failures` attempts counted on `user`'s face counter as the layout before kept it
/// (`fail:face:{user}`, an object of its own), as the upgrade that moved it finds them.
fn failures_before_the_move(cx: &Cx, user: &UserRecord, failures: u64) -> String {
    let before = VaultKey::CounterBefore(AuthenticatorKind::Face, &user.id).to_string();
    assert_eq!(before, format!("fail:face:{}", user.id));
    let counter = authenticator(AuthenticatorKind::Face, &user.id);
    for i in 0..failures {
        let counted = run(cx.vault.reserve(&before, cx.now, counter.window, counter.limit, format!("before-{i}"), Earlier::Nothing)).unwrap();
        assert!(matches!(counted, Moved::Done(Ok(_))), "{counted:?}");
    }
    before
}

#[test]
fn a_users_face_counter_is_a_slot_of_their_status_object() {
    let mut cx = context();
    let ada = with_face(&mut cx, "ada@example.com");
    let status = VaultKey::UserDisabled(&ada.id).to_string();
    let counter = authenticator(AuthenticatorKind::Face, &ada.id).key;
    assert_eq!(vault_object(&counter), (status.as_str(), Some("fail-face")));
    let step = begin(&mut cx, "ada@example.com", true);
    cx.vault.take_calls();
    let refused = refused_capture(&mut cx, &step);
    assert!(message(&refused).contains(&format!("{} attempts left", MAX_FAILURES - 1)), "{}", message(&refused));
    // Her objects: the status object alone (the sign-in's own object aside); the layout
    // before is read once, when the counter is first used.
    let first = cx.vault.take_calls();
    let objects: BTreeSet<String> = first.iter().map(|(o, _)| o.clone()).filter(|o| !o.starts_with("sign-in:")).collect();
    assert_eq!(objects, BTreeSet::from([status.clone(), format!("fail:face:{}", ada.id)]));
    // The calls on her counters: the challenge's check and the answer's count, and the first
    // use's 3 more (the check asks again, the old object is read and cleared).
    let on_counters = |calls: &[(String, String)]| calls.iter().filter(|(o, k)| *k == counter || !o.starts_with("sign-in:") && *o != status).count();
    assert_eq!(on_counters(&first), 2 + 3, "{first:?}");
    let refused = refused_capture(&mut cx, &step);
    assert!(message(&refused).contains(&format!("{} attempts left", MAX_FAILURES - 2)), "{}", message(&refused));
    let second = cx.vault.take_calls();
    let objects: BTreeSet<String> = second.iter().map(|(o, _)| o.clone()).filter(|o| !o.starts_with("sign-in:")).collect();
    assert_eq!(objects, BTreeSet::from([status.clone()]), "once moved, nothing else");
    assert_eq!(on_counters(&second), 2, "{second:?}");
}

#[test]
fn an_earlier_face_counter_that_cannot_be_cleared_fails_no_answer_and_is_taken_on_once() {
    let mut cx = context();
    let ada = with_face(&mut cx, "ada@example.com");
    let before = failures_before_the_move(&cx, &ada, 2);
    cx.vault.fail_clears_in(&before);
    crate::login::take_log();
    let step = begin(&mut cx, "ada@example.com", true);
    let refused = refused_capture(&mut cx, &step);
    assert!(message(&refused).contains(&format!("{} attempts left", MAX_FAILURES - 3)), "{}", message(&refused));
    let logged = crate::login::take_log();
    assert!(logged.len() == 1 && logged[0].contains(&before), "the failed clear logged: {logged:?}");
    // The counter stores her attempts now: the old ones left behind are not counted again.
    let refused = refused_capture(&mut cx, &step);
    assert!(message(&refused).contains(&format!("{} attempts left", MAX_FAILURES - 4)), "{}", message(&refused));
    assert_eq!(crate::login::take_log(), Vec::<String>::new());
    assert_eq!(run(cx.vault.attempts(&before)).unwrap().count(), 2, "left behind until she is deleted");
}

#[test]
fn a_lock_the_earlier_layouts_face_counter_has_in_force_still_holds_and_then_opens() {
    let mut cx = context();
    let ada = with_face(&mut cx, "ada@example.com");
    let before = failures_before_the_move(&cx, &ada, MAX_FAILURES);
    let step = begin(&mut cx, "ada@example.com", true);
    let locked = run(login::face_challenge(&mut cx, &step, false)).unwrap_err();
    assert_eq!(api_code(&locked), ApiErrorCode::Locked);
    // Taken on by the counter in the status object, and the layout before cleared.
    assert_eq!(run(cx.vault.attempts(&authenticator(AuthenticatorKind::Face, &ada.id).key)).unwrap().count(), MAX_FAILURES);
    assert_eq!(run(cx.vault.attempts(&before)).unwrap().count(), 0);
    let locked = run(login::face_challenge(&mut cx, &step, false)).unwrap_err();
    assert_eq!(api_code(&locked), ApiErrorCode::Locked, "still, from the counter's new place");
    crate::login::advance(&mut cx, LOCKOUT_WINDOW);
    let step = begin(&mut cx, "ada@example.com", true);
    let refused = refused_capture(&mut cx, &step);
    assert!(message(&refused).contains(&format!("{} attempts left", MAX_FAILURES - 1)), "{}", message(&refused));
}

#[test]
fn the_failures_the_earlier_layouts_face_counter_counted_under_the_limit_count_after_the_move() {
    // Taken on by the challenge's check.
    let mut cx = context();
    let ada = with_face(&mut cx, "ada@example.com");
    failures_before_the_move(&cx, &ada, 3);
    let step = begin(&mut cx, "ada@example.com", true);
    let refused = refused_capture(&mut cx, &step);
    assert!(message(&refused).contains(&format!("{} attempts left", MAX_FAILURES - 4)), "{}", message(&refused));

    // Taken on by the answer's count: a challenge issued before the upgrade (the counter in
    // the status object has nothing yet when the evidence comes).
    let mut cx = context();
    let ada = with_face(&mut cx, "ada@example.com");
    let step = begin(&mut cx, "ada@example.com", true);
    let challenge = run(login::face_challenge(&mut cx, &step, false)).unwrap();
    run(cx.vault.clear(&authenticator(AuthenticatorKind::Face, &ada.id).key)).unwrap();
    let before = failures_before_the_move(&cx, &ada, 4);
    let figures = Figures::of(vec![faceless(CapturePhase::Far, 0)]);
    let refused = run(login::face_evidence(&mut cx, &step, &evidence(&challenge.nonce, 1, false), &figures)).unwrap_err();
    // The fifth failure, with the four carried over: it locks.
    assert_eq!(api_code(&refused), ApiErrorCode::Locked, "{}", message(&refused));
    assert_eq!(run(cx.vault.attempts(&before)).unwrap().count(), 0, "the layout before is cleared");
    let locked = run(login::face_challenge(&mut cx, &step, false)).unwrap_err();
    assert_eq!(api_code(&locked), ApiErrorCode::Locked);
}
