//! The login steps the universal-login SPA drives, once the edge worker has parsed the
//! request: the transaction's state, TOTP enrolment and sign-in, face challenges and face
//! evidence (the models run behind [`FaceAnalysis`]: the worker's own, or a test's figures),
//! passkey ceremonies (checked by `biopass_idp::passkey`), who may answer, counting, and
//! the end of the sign-in.
//!
//! Every call names a live transaction and must come from the browser that started it.
//! An answer is counted in the Vault before it is checked (`crate::lockout`); in a sign-in
//! nobody vouched for, the answers are the same for every name until an authenticator has
//! been proved. The end of a sign-in takes the transaction exactly once and issues the code.

use crate::context::Context;
use crate::http::Failure;
use crate::lockout::{self, cleared_left_behind, counters, locked_until, refusal_message, Attempt, Counted, NotCounted, Scope};
use crate::records::Records;
use crate::store::{from_value, to_value, turn_into, OneTime, StoreError};
use biopass_i18n::{fill, Lang, Texts};
use biopass_idp::error::ApiFailure;
use biopass_idp::face::{self, FaceRejection, IssuedChallenge, MeasuredFrame};
use biopass_idp::lockout::{Answered, CodeAnswer, LOCKOUT_WINDOW};
use biopass_idp::passkey::{self, IssuedPasskeyChallenge, PasskeyRejection};
use biopass_idp::qr;
use biopass_idp::random::Entropy;
use biopass_idp::recovery::{self, TypedCode};
use biopass_idp::schema::{sha256_hex, KvKey, SignInToken, VaultKey};
use biopass_idp::secretbox::Purpose;
use biopass_idp::totp::{self, TotpRejection, TotpSeed};
use biopass_idp::transaction::LoginTransaction;
use biopass_idp::user::{Enrolled, EnrolledPasskey, UserRecord};
use biopass_proto::error::ApiErrorCode;
use biopass_proto::login::{
    AuthenticatorKind, EvidenceFrame, FaceChallenge, FaceEvidence, FacePurpose, LoginState, LoginStep, PasskeyAssertion, PasskeyOptions, PasskeyRegistration,
    PasskeyUser, RecoveryAnswer, TotpAnswer, TotpEnrolment,
};

/// A login step's result.
pub type LoginResult<T> = Result<T, Failure>;

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Internal(format!("store: {e}"))
    }
}

fn api(code: ApiErrorCode, message: impl Into<String>) -> Failure {
    Failure::Api(ApiFailure::new(code, message))
}

/// The answer to a step of a transaction that is over or never was.
pub fn gone(t: &Texts) -> Failure {
    api(ApiErrorCode::Expired, t.api_gone)
}

fn disabled(t: &Texts) -> Failure {
    api(ApiErrorCode::Forbidden, t.api_disabled)
}

fn malformed_code(t: &Texts) -> Failure {
    Failure::Api(ApiFailure::invalid_field("code", t.api_malformed_code))
}

fn not_allowed_to_enrol(t: &Texts) -> Failure {
    api(ApiErrorCode::Forbidden, t.api_cannot_enrol)
}

/// A new one-time value of the sign-in of the transaction `tx_id` (its Vault object).
fn sign_in_value<V, R>(cx: &mut Context<V, R>, tx_id: &str) -> String {
    SignInToken::mint(&mut cx.rng, SignInToken::sign_in(tx_id))
}

fn tx_key(id: &str) -> String {
    VaultKey::Transaction(id).to_string()
}

/// What a pending TOTP seed is sealed to: the transaction (hashed), so it opens in no other.
fn pending_seed_binding(tx_id: &str) -> String {
    format!("tx:{}", sha256_hex(tx_id))
}

/// What a user's sealed secrets (TOTP seed, face template) are bound to: their record's
/// key, so a sealed value copied into another record does not open.
pub fn sealed_to(user_id: &str) -> String {
    KvKey::User(user_id).to_string()
}

/// Who is calling: the browser's secret (the `bp_browser` cookie), address, and the language
/// the answers are said in (from `Accept-Language`).
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub browser: String,
    pub ip: Option<String>,
    pub lang: Lang,
}

/// A live transaction and the user it is for, loaded for one step.
#[derive(Debug, Clone)]
pub struct Step {
    pub tx_id: String,
    pub tx: LoginTransaction,
    pub user: Option<UserRecord>,
    pub caller: Caller,
    /// The transaction as the Vault answered it: [`finish`] exchanges it for the code only
    /// if it is still that.
    pub stored: serde_json::Value,
}

impl Step {
    /// The texts of the caller's language.
    fn t(&self) -> &'static Texts {
        self.caller.lang.texts()
    }

    /// Who is answering, for the audit log.
    fn actor(&self) -> String {
        format!("user:{}", self.tx.request.login_hint.as_ref().map(ToString::to_string).unwrap_or_default())
    }
}

/// Loads a live transaction started by `caller`'s browser, and its user. In a vouched-for
/// sign-in a disabled user gets no further step; in one nobody vouched for that is said
/// only once they proved who they are (see [`LoginTransaction::shown_step`]).
///
/// # Errors
/// [`gone`] for an unknown or expired transaction, 403 for another browser or a disabled
/// user, internal on a storage failure.
pub async fn load<V: OneTime, R: Records>(cx: &Context<V, R>, tx_id: &str, caller: Caller) -> LoginResult<Step> {
    load_reading_status(cx, tx_id, caller, true).await
}

/// [`load`], reading the user's status only when `status` says so: false only where the one
/// use of the step reads it itself ([`load_and_verify_totp`]).
async fn load_reading_status<V: OneTime, R: Records>(cx: &Context<V, R>, tx_id: &str, caller: Caller, status: bool) -> LoginResult<Step> {
    // Ids of the form before sign-ins shared a Vault object (43 characters) still load, so a
    // deployment does not end the sign-ins under way.
    let t = caller.lang.texts();
    if SignInToken::sign_in(tx_id).is_none() && tx_id.len() != 43 {
        return Err(gone(t));
    }
    let stored = cx.vault.get(&tx_key(tx_id), cx.now).await?.ok_or_else(|| gone(t))?;
    let tx: LoginTransaction = from_value(Some(stored.clone()))?.ok_or_else(|| gone(t))?;
    if !tx.bound_to(&caller.browser) {
        return Err(api(ApiErrorCode::Forbidden, t.api_other_browser));
    }
    let pool = tx.request.cognito.as_ref();
    let user = match &tx.request.login_hint {
        Some(name) if status && tx.vouched() => match crate::users::named_and_disabled(&cx.records, &cx.vault, cx.now, pool, name).await? {
            Some((_, true)) => return Err(disabled(t)),
            Some((u, false)) => Some(u),
            None => None,
        },
        Some(name) => cx.records.user_named(pool, name).await?,
        None => None,
    };
    // The record's own flag costs no call (where the status is read, it was counted there).
    if tx.vouched() && user.as_ref().is_some_and(|u| u.disabled) {
        return Err(disabled(t));
    }
    Ok(Step { tx_id: tx_id.to_owned(), tx, user, caller, stored })
}

/// `POST /api/login/{tx}/totp` from the transaction's id: [`load`], then [`totp_verify`],
/// with one Vault call fewer in a vouched-for sign-in. There the user's status is not read
/// by the load but by the answer's own operation on the user's TOTP counter, which lives in
/// the status object ([`Answered::Barred`]): a disabled user's answer is refused before it is
/// judged, and no other way through [`totp_verify`] ends in a code; a user disabled by their
/// record's flag is refused by the load, which has the record. What is refused before the
/// answer reaches the Vault (a malformed code, TOTP not offered) says that, not "disabled".
///
/// # Errors
/// As [`load`] and [`totp_verify`].
pub async fn load_and_verify_totp<V: OneTime, R: Records>(cx: &mut Context<V, R>, tx_id: &str, caller: Caller, answer: &TotpAnswer) -> LoginResult<LoginStep> {
    let step = load_reading_status(cx, tx_id, caller, false).await?;
    totp_verify(cx, &step, answer).await
}

/// `GET /api/login/{tx}`: what the SPA shows.
pub fn state(step: &Step) -> LoginState {
    LoginState {
        application_name: step.tx.application_name.clone(),
        application_logo: step.tx.application_logo.clone(),
        username: step.tx.request.login_hint.as_ref().map(ToString::to_string).unwrap_or_default(),
        expires_at: step.tx.expires_at,
        step: step.tx.shown_step(step.user.as_ref()),
    }
}

/// A refusal by a limit, as the login API says it.
fn refused(t: &Texts, scope: Scope, retry_at: u64, now: u64) -> Failure {
    let (message, retry) = refusal_message(t, scope, retry_at, now);
    Failure::Api(ApiFailure { retry_after: Some(retry), ..ApiFailure::new(ApiErrorCode::Locked, message) })
}

/// Counts an answer with `kind` for `user` on the step's counters before it is checked,
/// or refuses with 429.
///
/// # Errors
/// 429 when a limit refuses it; internal on a storage failure.
pub async fn count_attempt<V: OneTime, R: Records>(
    cx: &mut Context<V, R>,
    step: &Step,
    kind: AuthenticatorKind,
    user: Option<&UserRecord>,
) -> LoginResult<Attempt> {
    match Attempt::start(&cx.vault, &mut cx.rng, cx.now, counters(&step.tx, kind, user, step.caller.ip.as_deref()), cx.log).await {
        Ok(a) => Ok(a),
        Err(NotCounted::Refused { scope, retry_at }) => Err(refused(step.t(), scope, retry_at, cx.now)),
        Err(NotCounted::Store(e)) => Err(e.into()),
    }
}

/// The answer was wrong: it stays counted. Records it in the audit log (`what`: the
/// authenticator, e.g. "totp"); the error to return, with the attempts left before the
/// first lock.
pub async fn wrong_answer<V: OneTime, R: Records>(cx: &mut Context<V, R>, step: &Step, attempt: Attempt, what: &str, message: &str) -> Failure {
    counted_wrong(cx, step, attempt.failed(), what, message).await
}

/// [`wrong_answer`] for an answer already counted.
async fn counted_wrong<V: OneTime, R: Records>(cx: &mut Context<V, R>, step: &Step, counted: Counted, what: &str, message: &str) -> Failure {
    let Counted { left, scope } = counted;
    let action = if left == Some(0) { "login.locked" } else { "login.failure" };
    record(cx, step, action, format!("{what}: {message}")).await;
    let t = step.t();
    match left {
        Some(0) => {
            let locked = if scope == Scope::Client { t.api_locked_browser } else { t.api_locked_authenticator };
            Failure::Api(ApiFailure { retry_after: Some(LOCKOUT_WINDOW), ..ApiFailure::new(ApiErrorCode::Locked, locked) })
        }
        Some(n) => api(ApiErrorCode::WrongAnswer, fill(t.api_attempts_left, &[("message", message), ("n", &n.to_string())])),
        None => api(ApiErrorCode::WrongAnswer, message.to_owned()),
    }
}

/// Records an audit entry about the step (`action`, `detail`).
pub async fn record<V: OneTime, R: Records>(cx: &mut Context<V, R>, step: &Step, action: &str, detail: String) {
    cx.audit_named(&step.actor(), action, Some(&step.tx.request.client_id), Some(&step.tx.application_name), Some(detail), step.caller.ip.clone()).await;
}

/// Ends the transaction (exactly once) with `kind` as the last authenticator used, and
/// issues the code; [`LoginStep::Done`] with where the browser goes.
///
/// # Errors
/// [`gone`] when the transaction ended meanwhile; internal on a storage failure.
pub async fn finish<V: OneTime, R: Records>(cx: &mut Context<V, R>, step: &Step, user: &UserRecord, kind: AuthenticatorKind) -> LoginResult<LoginStep> {
    let code = sign_in_value(cx, &step.tx_id);
    // The transaction as loaded becomes the code (one that changed meanwhile, e.g. by another
    // step of the sign-in, ends as it is now).
    let (issuer, now) = (cx.issuer.as_str(), cx.now);
    let make = |stored: &serde_json::Value| {
        let tx: LoginTransaction = from_value(Some(stored.clone()))?.ok_or_else(|| StoreError("no transaction".into()))?;
        let amr = tx.amr(kind);
        let (grant, redirect_to) = tx.finish(user, amr.clone(), &code, issuer, now);
        Ok((to_value(&grant)?, grant.expires_at, (amr, redirect_to)))
    };
    let ended = turn_into(&cx.vault, now, &tx_key(&step.tx_id), &step.stored, &VaultKey::Code(&code).to_string(), make).await?;
    let (amr, redirect_to) = ended.ok_or_else(|| gone(step.t()))?;
    record(cx, step, "login.success", format!("with {}", amr.join(" and "))).await;
    Ok(LoginStep::Done { redirect_to })
}

/// The user just proved who they are with `kind`: the sign-in ends, or (they asked to, or
/// none of their authenticators is one the application accepts) they go on to enrol
/// another authenticator in this transaction; the next step. In a sign-in nobody vouched
/// for, this is where a disabled account is told so.
///
/// # Errors
/// 403 for a disabled account, [`gone`] when the transaction ended meanwhile.
pub async fn authenticated<V: OneTime, R: Records>(
    cx: &mut Context<V, R>,
    step: &Step,
    user: &UserRecord,
    kind: AuthenticatorKind,
    add: bool,
) -> LoginResult<LoginStep> {
    if !step.tx.vouched() && cx.is_disabled(user).await? {
        return Err(disabled(step.t()));
    }
    if step.tx.completes_with(user, kind, add) {
        return finish(cx, step, user, kind).await;
    }
    let mut tx = step.tx.clone();
    tx.authenticated.push(kind);
    if !cx.vault.replace(&tx_key(&step.tx_id), to_value(&tx)?, cx.now).await? {
        return Err(gone(step.t()));
    }
    record(cx, step, "login.authenticated", format!("with {}, adding another authenticator", kind.id())).await;
    Ok(tx.next_step(Some(user)))
}

/// The person asked to add another authenticator after proving who they are with one the
/// application accepts, and now does not (their camera failed, they changed their mind): the
/// sign-in ends as it would have without the addition. When the addition is required (none
/// of their authenticators is one the application accepts), it cannot be skipped.
///
/// # Errors
/// 403 when nothing the application accepts was proved in this sign-in, or for a disabled
/// account; [`gone`] when the transaction ended meanwhile.
pub async fn skip_addition<V: OneTime, R: Records>(cx: &mut Context<V, R>, step: &Step) -> LoginResult<LoginStep> {
    let (Some(kind), Some(user)) = (step.tx.proved_accepted(step.user.as_ref()), step.user.as_ref()) else {
        return Err(api(ApiErrorCode::Forbidden, step.t().api_accept_to_finish));
    };
    if !step.tx.vouched() && cx.is_disabled(user).await? {
        return Err(disabled(step.t()));
    }
    finish(cx, step, user, kind).await
}

/// `user` (not yet saved) just enrolled `kind`: saves them. An addition after proving
/// another authenticator ends the sign-in; a first enrolment also makes the person's
/// recovery codes (saved with the enrolment, in one write) and answers with them, shown
/// once: the sign-in then ends when they have saved them (`skip_addition`).
///
/// # Errors
/// [`gone`] when the transaction ended meanwhile; internal on a storage failure.
async fn enrolled<V: OneTime, R: Records>(cx: &mut Context<V, R>, step: &Step, mut user: UserRecord, kind: AuthenticatorKind) -> LoginResult<LoginStep> {
    if !step.tx.authenticated.is_empty() {
        cx.records.put_user(&user).await?;
        return finish(cx, step, &user, kind).await;
    }
    let codes = new_recovery_codes(cx, &mut user);
    cx.records.put_user(&user).await?;
    let mut tx = step.tx.clone();
    tx.authenticated.push(kind);
    if !cx.vault.replace(&tx_key(&step.tx_id), to_value(&tx)?, cx.now).await? {
        return Err(gone(step.t()));
    }
    record(cx, step, "user.recovery_code.create", format!("{} codes, with the first {}", codes.len(), biopass_i18n::EN.kind(kind))).await;
    Ok(LoginStep::RecoveryCodes { codes })
}

/// The key recovery codes are hashed with.
fn recovery_key<V, R>(cx: &Context<V, R>) -> [u8; 32] {
    cx.master.derive(recovery::KEY_LABEL)
}

/// Makes `user` new recovery codes (replacing any old ones); the codes as shown.
fn new_recovery_codes<V, R>(cx: &mut Context<V, R>, user: &mut UserRecord) -> Vec<String> {
    let key = recovery_key(cx);
    let (codes, stored) = recovery::generate(&mut cx.rng, &key, &user.id, cx.now);
    user.recovery = Some(stored);
    codes
}

/// `POST /api/login/{tx}/recovery/new`: new recovery codes, replacing the old ones, for a
/// person who proved an authenticator the application accepts in this sign-in; shown once.
///
/// # Errors
/// 403 before such a proof.
pub async fn recovery_new<V: OneTime, R: Records>(cx: &mut Context<V, R>, step: &Step) -> LoginResult<LoginStep> {
    let mut user = may_enrol(step, AuthenticatorKind::RecoveryCode)?;
    let codes = new_recovery_codes(cx, &mut user);
    cx.records.put_user(&user).await?;
    record(cx, step, "user.recovery_code.create", format!("{} codes, replacing the old ones", codes.len())).await;
    Ok(LoginStep::RecoveryCodes { codes })
}

/// `POST /api/login/{tx}/recovery`: signs in with a recovery code. It is counted like any
/// answer (the lock-out of the user's recovery codes, or the client's in a sign-in nobody
/// vouched for), works once even under concurrency (the Vault takes its use once), and is
/// then removed from the user's record.
///
/// # Errors
/// 400 for what cannot be a code (not counted); 401 (counted) for a wrong or used one; 429
/// when locked.
pub async fn recovery_verify<V: OneTime, R: Records>(cx: &mut Context<V, R>, step: &Step, answer: &RecoveryAnswer) -> LoginResult<LoginStep> {
    let kind = AuthenticatorKind::RecoveryCode;
    let user = answering(step, kind)?;
    let Some(typed) = TypedCode::parse(&answer.code) else {
        return Err(Failure::Api(ApiFailure::invalid_field("code", step.t().api_recovery_malformed)));
    };
    let attempt = count_attempt(cx, step, kind, user.as_ref()).await?;
    let key = recovery_key(cx);
    let found = user.map(|u| (recovery::hash(&key, &u.id, &typed), u)).filter(|(h, u)| u.recovery.as_ref().is_some_and(|r| r.contains(h)));
    let Some((hash, mut user)) = found else {
        return Err(wrong_answer(cx, step, attempt, kind.id(), step.t().api_recovery_wrong).await);
    };
    let used = VaultKey::RecoveryUsed(&user.id, &hash).to_string();
    if !cx.vault.insert(&used, serde_json::Value::Bool(true), cx.now + recovery::USED_MARK_LIFETIME, cx.now).await? {
        return Err(wrong_answer(cx, step, attempt, kind.id(), step.t().api_recovery_wrong).await);
    }
    attempt.give_back(&cx.vault).await?;
    if let Some(r) = user.recovery.as_mut() {
        r.remove(&hash);
    }
    cx.records.put_user(&user).await?;
    record(cx, step, "user.recovery_code.use", format!("{} left", user.recovery_codes_left())).await;
    authenticated(cx, step, &user, kind, answer.add_authenticator).await
}

/// The user who may enrol `kind` in this sign-in, or why not. Before anything is proved
/// in a sign-in nobody vouched for, the answer is the same for every name.
///
/// # Errors
/// 403 with what the person can do instead.
pub fn may_enrol(step: &Step, kind: AuthenticatorKind) -> LoginResult<UserRecord> {
    match step.tx.shown_step(step.user.as_ref()) {
        LoginStep::Enrol { allowed, .. } if allowed.contains(&kind) => step.user.clone().ok_or_else(|| not_allowed_to_enrol(step.t())),
        LoginStep::Enrol { allowed, .. } if allowed.is_empty() => Err(not_allowed_to_enrol(step.t())),
        LoginStep::Enrol { .. } => Err(api(ApiErrorCode::Forbidden, fill(step.t().api_not_accepted_new, &[("kind", step.t().kind(kind))]))),
        _ => Err(api(ApiErrorCode::Forbidden, step.t().api_prove_first)),
    }
}

/// True if `user` can answer with `kind` in this sign-in.
pub fn can_authenticate(tx: &LoginTransaction, user: &UserRecord, kind: AuthenticatorKind) -> bool {
    matches!(tx.next_step(Some(user)), LoginStep::Authenticate { enrolled, .. } if enrolled.contains(&kind))
}

/// The user whose `kind` an answer is checked against. `Ok(None)`: the answer is checked as
/// a wrong one (a sign-in nobody vouched for, for an account that cannot give it: the
/// answer must not say so). In a vouched-for sign-in, that refuses at once.
///
/// # Errors
/// 403 when `kind` is not offered, or (vouched for) not enrolled.
pub fn answering(step: &Step, kind: AuthenticatorKind) -> LoginResult<Option<UserRecord>> {
    let tx = &step.tx;
    if !matches!(tx.shown_step(step.user.as_ref()), LoginStep::Authenticate { enrolled, .. } if enrolled.contains(&kind)) {
        return Err(api(ApiErrorCode::Forbidden, fill(step.t().api_kind_not_available, &[("kind", step.t().kind(kind))])));
    }
    match step.user.clone().filter(|u| can_authenticate(tx, u, kind)) {
        Some(u) => Ok(Some(u)),
        None if tx.vouched() => Err(api(ApiErrorCode::Forbidden, fill(step.t().api_kind_not_enrolled, &[("kind", step.t().kind(kind))]))),
        None => Ok(None),
    }
}

/// Deletes the face enrolment of a user who just authenticated and asked for it.
///
/// # Errors
/// Internal on a storage failure.
pub async fn forget_face<V: OneTime, R: Records>(cx: &mut Context<V, R>, step: &Step, user: &mut UserRecord) -> LoginResult<()> {
    if user.face.take().is_some() {
        cx.records.put_user(user).await?;
        record(cx, step, "user.face.delete", "by the user, after signing in".into()).await;
    }
    Ok(())
}

/// `POST /api/login/{tx}/totp/enrol`: offers a new TOTP seed (not yet saved to the user),
/// sealed into the transaction.
///
/// # Errors
/// 403 when this sign-in cannot enrol an app, [`gone`] when it ended.
pub async fn totp_enrol<V: OneTime, R: Records>(cx: &mut Context<V, R>, step: &Step) -> LoginResult<TotpEnrolment> {
    let user = may_enrol(step, AuthenticatorKind::Totp)?;
    let seed = TotpSeed::generate(&mut cx.rng);
    let mut tx = step.tx.clone();
    tx.pending_totp = Some(cx.master.secret_box(Purpose::TotpSeed).seal(&mut cx.rng, &pending_seed_binding(&step.tx_id), seed.as_bytes()));
    if !cx.vault.replace(&tx_key(&step.tx_id), to_value(&tx)?, cx.now).await? {
        return Err(gone(step.t()));
    }
    // The authenticator app lists the code under the application's name: what the person
    // signs in to, not the provider behind it.
    let uri = seed.otpauth_uri(&step.tx.application_name, user.username.as_str());
    let qr_svg = qr::svg(&uri).ok_or_else(|| Failure::Internal("QR code rendering failed".into()))?;
    Ok(TotpEnrolment { otpauth_uri: uri, secret: seed.to_base32(), qr_svg })
}

/// `POST /api/login/{tx}/totp/enrol/confirm`: the first code proves the app has the seed;
/// the seed is saved and the sign-in completes.
///
/// # Errors
/// 400 for a malformed code or no set-up started; 401 (counted) for a wrong one.
pub async fn totp_confirm<V: OneTime, R: Records>(cx: &mut Context<V, R>, step: &Step, answer: &TotpAnswer) -> LoginResult<LoginStep> {
    let mut user = may_enrol(step, AuthenticatorKind::Totp)?;
    let sealed = step.tx.pending_totp.as_deref().ok_or_else(|| api(ApiErrorCode::InvalidInput, step.t().api_totp_start_first))?;
    let seed = TotpSeed::from_bytes(
        cx.master
            .secret_box(Purpose::TotpSeed)
            .open(&pending_seed_binding(&step.tx_id), sealed)
            .map_err(|_| Failure::Internal("pending TOTP seed does not open".into()))?,
    );
    let verdict = totp::verify(&seed, &answer.code, cx.now, None);
    if verdict == Err(TotpRejection::Malformed) {
        return Err(malformed_code(step.t()));
    }
    let attempt = count_attempt(cx, step, AuthenticatorKind::Totp, Some(&user)).await?;
    let Ok(totp_step) = verdict else {
        return Err(wrong_answer(cx, step, attempt, "totp enrolment", step.t().api_totp_enrol_wrong).await);
    };
    attempt.give_back(&cx.vault).await?;
    cx.vault.advance(&lockout::authenticator(AuthenticatorKind::Totp, &user.id).key, totp_step).await?;
    user.totp =
        Some(Enrolled { sealed: cx.master.secret_box(Purpose::TotpSeed).seal(&mut cx.rng, &sealed_to(&user.id), seed.as_bytes()), enrolled_at: cx.now });
    enrolled(cx, step, user, AuthenticatorKind::Totp).await
}

/// `POST /api/login/{tx}/totp`: authenticates with an enrolled TOTP. Each time step's code
/// works once, even under concurrency (the Vault moves the user's last step forward once).
///
/// # Errors
/// 400 for a malformed code (not counted); 401 (counted) for a wrong or used one; 429
/// when locked.
pub async fn totp_verify<V: OneTime, R: Records>(cx: &mut Context<V, R>, step: &Step, answer: &TotpAnswer) -> LoginResult<LoginStep> {
    let user = answering(step, AuthenticatorKind::Totp)?;
    // A malformed code is no attempt at all, for every account alike.
    if !totp::well_formed(&answer.code) {
        return Err(malformed_code(step.t()));
    }
    let user = match user {
        Some(u) if step.tx.vouched() => return totp_answer(cx, step, u, answer).await,
        other => other,
    };
    let attempt = count_attempt(cx, step, AuthenticatorKind::Totp, user.as_ref()).await?;
    // The verdict is only acted on once the attempt is counted. An account that cannot
    // answer is checked against a seed nobody has.
    let seed = answering_seed(cx, user.as_ref())?;
    match (totp::verify(&seed, &answer.code, cx.now, None), user) {
        (Ok(totp_step), Some(mut user)) => {
            if !advance_totp_step(cx, &user.id, totp_step).await? {
                return Err(wrong_answer(cx, step, attempt, "totp", step.t().api_totp_used).await);
            }
            attempt.give_back(&cx.vault).await?;
            if answer.forget_face {
                forget_face(cx, step, &mut user).await?;
            }
            authenticated(cx, step, &user, AuthenticatorKind::Totp, answer.add_authenticator).await
        }
        _ => Err(wrong_answer(cx, step, attempt, "totp", step.t().api_totp_wrong).await),
    }
}

/// The seed a TOTP answer is checked against: the user's, opened, or for an account that
/// cannot answer, one nobody has.
fn answering_seed<V: OneTime, R: Records>(cx: &mut Context<V, R>, user: Option<&UserRecord>) -> LoginResult<TotpSeed> {
    match user.and_then(|u| u.totp.as_ref().map(|t| (u, t))) {
        Some((u, enrolled)) => Ok(TotpSeed::from_bytes(
            cx.master
                .secret_box(Purpose::TotpSeed)
                .open(&sealed_to(&u.id), &enrolled.sealed)
                .map_err(|_| Failure::Internal("TOTP seed does not open".into()))?,
        )),
        None => Ok(TotpSeed::generate(&mut cx.rng)),
    }
}

/// A TOTP answer in a sign-in the first factor vouched for: the user's lock-out and last used
/// step are one Vault operation on the user's TOTP counter (`biopass_idp::lockout::answer`),
/// so a right answer is one call, and concurrent answers are judged at most the limit and
/// each step accepted once. A user without an enrolled app answers against a seed nobody has.
async fn totp_answer<V: OneTime, R: Records>(cx: &mut Context<V, R>, step: &Step, mut user: UserRecord, answer: &TotpAnswer) -> LoginResult<LoginStep> {
    let seed = answering_seed(cx, Some(&user))?;
    let counter = lockout::authenticator(AuthenticatorKind::Totp, &user.id);
    let verified = totp::verify(&seed, &answer.code, cx.now, None).ok();
    let now = cx.now;
    // Not judged while the user is disabled: the status object keeps the counter.
    let ask = |id: String, floor: Option<u64>| CodeAnswer {
        now,
        window: counter.window,
        limit: counter.limit,
        id,
        step: verified,
        floor,
        barred_by: Some(serde_json::Value::Bool(true)),
        carried: None,
    };
    let mut answered = cx.vault.answer(&counter.key, ask(cx.rng.token::<12>(), None)).await?;
    if answered == Answered::NeedFloor {
        // The user's first answer since the counter moved into their status object: the
        // earlier layouts' last step is the floor, and the attempts the earlier counter
        // counted are taken on (a lock it has in force still holds).
        let before = VaultKey::CounterBefore(AuthenticatorKind::Totp, &user.id).to_string();
        let carried = cx.vault.attempts(&before).await?;
        let floor = earlier_totp_step(cx, &user.id).await?;
        answered = cx.vault.answer(&counter.key, CodeAnswer { carried: Some(carried), ..ask(cx.rng.token::<12>(), Some(floor)) }).await?;
        if matches!(answered, Answered::Accepted | Answered::Counted { .. }) {
            // The floor is kept beside the counter now: the earlier layouts' keys are done.
            cleared_left_behind(&cx.vault, &before, cx.log).await;
            cleared_left_behind(&cx.vault, &VaultKey::TotpStep(&user.id).to_string(), cx.log).await;
        }
    }
    match answered {
        Answered::Accepted => {
            if answer.forget_face {
                forget_face(cx, step, &mut user).await?;
            }
            authenticated(cx, step, &user, AuthenticatorKind::Totp, answer.add_authenticator).await
        }
        Answered::Refused { retry_at } => Err(refused(step.t(), counter.scope, retry_at, cx.now)),
        Answered::Counted { count, used } => {
            let message = if used { step.t().api_totp_used } else { step.t().api_totp_wrong };
            Err(counted_wrong(cx, step, Counted { left: counter.left(count), scope: counter.scope }, "totp", message).await)
        }
        Answered::Barred => Err(disabled(step.t())),
        Answered::NeedFloor => Err(Failure::Internal("the TOTP counter asked for its floor twice".into())),
    }
}

/// Moves the user's last used TOTP step to `to` (kept beside the user's TOTP counter); false
/// when it was there or beyond, as the earlier layout's key says too for a counter that has
/// no step yet.
async fn advance_totp_step<V: OneTime, R: Records>(cx: &Context<V, R>, user_id: &str, to: u64) -> LoginResult<bool> {
    let key = lockout::authenticator(AuthenticatorKind::Totp, user_id).key;
    if cx.vault.counter(&key).await?.is_none() && to <= earlier_totp_step(cx, user_id).await? {
        return Ok(false);
    }
    Ok(cx.vault.advance(&key, to).await?)
}

/// The last TOTP step used as the earlier layouts kept it (`totp-step:{user}`, then the
/// counter `fail:totp:{user}` in an object of its own), 0 for none: the floor of the step
/// kept in the user's status object, read once per user.
async fn earlier_totp_step<V: OneTime, R: Records>(cx: &Context<V, R>, user_id: &str) -> LoginResult<u64> {
    let first = cx.vault.counter(&VaultKey::TotpStep(user_id).to_string()).await?;
    let before = cx.vault.counter(&VaultKey::CounterBefore(AuthenticatorKind::Totp, user_id).to_string()).await?;
    Ok(first.max(before).unwrap_or(0))
}

/// Refuses a face challenge while the user's face is locked (vouched-for sign-ins only:
/// elsewhere the answer would say the account exists).
async fn ensure_face_not_locked<V: OneTime, R: Records>(cx: &Context<V, R>, step: &Step, user: &UserRecord) -> LoginResult<()> {
    if !step.tx.vouched() {
        return Ok(());
    }
    match locked_until(&cx.vault, AuthenticatorKind::Face, &user.id, cx.now, cx.log).await? {
        Some(retry_at) => Err(refused(step.t(), Scope::Authenticator, retry_at, cx.now)),
        None => Ok(()),
    }
}

/// The Vault key of a face challenge.
pub fn challenge_key(nonce: &str) -> String {
    VaultKey::FaceNonce(nonce).to_string()
}

/// `POST /api/login/{tx}/face/challenge`: a one-use challenge for this transaction, to
/// enrol a face (a user without one, where enrolment is allowed) or to authenticate.
///
/// # Errors
/// 403 when face sign-in is not available here; 429 while the face is locked.
pub async fn face_challenge<V: OneTime, R: Records>(cx: &mut Context<V, R>, step: &Step, reduced_motion: bool) -> LoginResult<FaceChallenge> {
    let purpose = match step.tx.shown_step(step.user.as_ref()) {
        LoginStep::Enrol { allowed, .. } if allowed.contains(&AuthenticatorKind::Face) && step.user.is_some() => FacePurpose::Enrol,
        LoginStep::Authenticate { enrolled, .. } if enrolled.contains(&AuthenticatorKind::Face) => {
            if let Some(u) = &step.user {
                ensure_face_not_locked(cx, step, u).await?;
            }
            FacePurpose::Authenticate
        }
        LoginStep::Enrol { allowed, .. } if allowed.is_empty() => return Err(not_allowed_to_enrol(step.t())),
        _ => return Err(api(ApiErrorCode::Forbidden, step.t().api_face_not_available)),
    };
    let nonce = sign_in_value(cx, &step.tx_id);
    let issued = face::new_challenge(&mut cx.rng, sha256_hex(&step.tx_id), purpose, reduced_motion, cx.now);
    cx.vault.insert(&challenge_key(&nonce), to_value(&issued)?, issued.expires_at, cx.now).await?;
    Ok(issued.public(nonce))
}

/// Spends the face challenge `nonce` (one use, even under concurrency).
///
/// # Errors
/// 410 when it expired or was used; internal on a storage failure.
pub async fn spend_face_challenge<V: OneTime, R: Records>(cx: &Context<V, R>, nonce: &str, t: &Texts) -> LoginResult<IssuedChallenge> {
    from_value(cx.vault.take(&challenge_key(nonce), cx.now).await?)?.ok_or_else(|| api(ApiErrorCode::Expired, t.api_face_challenge_gone))
}

/// What runs the face models on the frames of an evidence: detection, landmarks, alignment,
/// liveness, embedding and the light measures, on what the browser sent (nothing it
/// computed). The worker runs its own copy of the models; tests give figures.
#[allow(async_fn_in_trait)]
pub trait FaceAnalysis {
    /// # Errors
    /// A 400 for a frame that cannot be read; internal when the models fail to load.
    async fn measure(&self, frames: &[EvidenceFrame]) -> Result<Vec<MeasuredFrame>, Failure>;
}

fn bad_evidence(field: &str, message: impl Into<String>) -> Failure {
    Failure::Api(ApiFailure::invalid_field(field, message))
}

/// `POST /api/login/{tx}/face`: the evidence for a challenge. The nonce is spent first (one
/// use, even under concurrency); an evidence made for another sign-in is a replay (counted,
/// recorded as an attack); the frames are analysed by `analysis` and decided here: an
/// enrolment saves the sealed template, a sign-in is counted before it is decided.
///
/// # Errors
/// 410 for a spent or expired challenge; 400 for unusable evidence (not counted); 401
/// (counted) for a refusal; 429 when locked.
pub async fn face_evidence<V: OneTime, R: Records, A: FaceAnalysis>(
    cx: &mut Context<V, R>,
    step: &Step,
    evidence: &FaceEvidence,
    analysis: &A,
) -> LoginResult<LoginStep> {
    let issued = spend_face_challenge(cx, &evidence.nonce, step.t()).await?;
    if issued.transaction != sha256_hex(&step.tx_id) {
        return Err(face_refused(cx, step, FaceRejection::Inconsistent("the check belongs to another sign-in".into())).await);
    }
    if evidence.frames.is_empty() || evidence.frames.len() > face::MAX_FRAMES {
        return Err(bad_evidence("frames", fill(step.t().api_face_frames, &[("n", &face::MAX_FRAMES.to_string())])));
    }
    let elapsed_ms = cx.now.saturating_sub(issued.issued_at).saturating_add(1).saturating_mul(1000);
    let colours = face::ColourTimes { start_ms: evidence.flashes_at_ms, shown_ms: &evidence.colours_shown_ms };
    match issued.purpose {
        FacePurpose::Enrol => {
            let mut user = may_enrol(step, AuthenticatorKind::Face)?;
            if !evidence.consent {
                return Err(bad_evidence("consent", step.t().api_face_consent));
            }
            let measured = analysis.measure(&evidence.frames).await?;
            let template = match face::enrol(&issued, colours, &measured, elapsed_ms) {
                Ok(t) => t,
                Err(r) => {
                    if let Some(kind) = r.attack() {
                        record(cx, step, "face.attack", format!("enrolment refused: {kind}")).await;
                    }
                    return Err(api(ApiErrorCode::InvalidInput, r.message(step.t())));
                }
            };
            let sealed = cx.master.secret_box(Purpose::FaceTemplate).seal(&mut cx.rng, &sealed_to(&user.id), &face::template_bytes(&template));
            user.face = Some(Enrolled { sealed, enrolled_at: cx.now });
            enrolled(cx, step, user, AuthenticatorKind::Face).await
        }
        FacePurpose::Authenticate => {
            let user = answering(step, AuthenticatorKind::Face)?;
            let attempt = count_attempt(cx, step, AuthenticatorKind::Face, user.as_ref()).await?;
            let measured = match analysis.measure(&evidence.frames).await {
                Ok(m) => m,
                Err(e) => {
                    // No usable frame (no face, a bad frame) says nothing about the match.
                    attempt.give_back(&cx.vault).await?;
                    return Err(e);
                }
            };
            let decision = match &user {
                Some(u) => {
                    face::authenticate(&issued, colours, &measured, elapsed_ms, &face_template(cx, u)?, face::calibration(step.tx.face_assurance).threshold)
                        .map(|_| ())
                }
                None => Err(face::authenticate_nobody(&issued, colours, &measured, elapsed_ms, &mut cx.rng)),
            };
            match (decision, user) {
                (Ok(()), Some(mut user)) => {
                    attempt.give_back(&cx.vault).await?;
                    if evidence.forget_face {
                        forget_face(cx, step, &mut user).await?;
                    }
                    authenticated(cx, step, &user, AuthenticatorKind::Face, evidence.add_authenticator).await
                }
                (Err(r), _) if !r.counts_as_failure() => {
                    attempt.give_back(&cx.vault).await?;
                    Err(api(ApiErrorCode::InvalidInput, r.message(step.t())))
                }
                (Err(r), _) => {
                    if let Some(kind) = r.attack() {
                        record(cx, step, "face.attack", format!("sign-in refused: {kind}")).await;
                    }
                    Err(wrong_answer(cx, step, attempt, "face", &r.message(step.t())).await)
                }
                // Unreachable (`authenticate_nobody` never accepts); answered as a stranger's face.
                (Ok(()), None) => Err(wrong_answer(cx, step, attempt, "face", &FaceRejection::NotRecognised { score: 0.0 }.message(step.t())).await),
            }
        }
    }
}

/// The user's enrolled face template, opened.
fn face_template<V: OneTime, R: Records>(cx: &Context<V, R>, user: &UserRecord) -> LoginResult<Vec<f32>> {
    let enrolled = user.face.as_ref().ok_or_else(|| Failure::Internal("face template missing".into()))?;
    cx.master
        .secret_box(Purpose::FaceTemplate)
        .open(&sealed_to(&user.id), &enrolled.sealed)
        .ok()
        .and_then(|b| face::template_from_bytes(&b))
        .ok_or_else(|| Failure::Internal("face template does not open".into()))
}

/// A refusal recorded as an attack and, where the person could be signing in with a face
/// (or anyone could: a sign-in nobody vouched for), counted toward the limits.
async fn face_refused<V: OneTime, R: Records>(cx: &mut Context<V, R>, step: &Step, rejection: FaceRejection) -> Failure {
    let kind = rejection.attack().unwrap_or("refused");
    record(cx, step, "face.attack", format!("refused: {kind}")).await;
    let face_user = step.user.as_ref().filter(|u| u.face.is_some() && can_authenticate(&step.tx, u, AuthenticatorKind::Face));
    if face_user.is_some() || !step.tx.vouched() {
        match count_attempt(cx, step, AuthenticatorKind::Face, face_user).await {
            Ok(attempt) => wrong_answer(cx, step, attempt, "face", &rejection.message(step.t())).await,
            Err(e) => e,
        }
    } else {
        api(ApiErrorCode::Forbidden, rejection.message(step.t()))
    }
}

/// The relying party and origin of this issuer, or why passkeys cannot work here.
fn relying_party(issuer: &str, t: &Texts) -> LoginResult<(String, String)> {
    match (passkey::rp_id(issuer), passkey::origin(issuer)) {
        (Some(rp), Some(origin)) => Ok((rp, origin)),
        _ => Err(api(ApiErrorCode::Forbidden, t.api_passkeys_not_here)),
    }
}

/// `POST /api/login/{tx}/passkey/options`: a one-use challenge (90 s) for this transaction
/// and what the browser's WebAuthn call needs: to enrol a passkey (a user without one where
/// enrolment is allowed, or adding one after proving another authenticator) or to sign in
/// with one. In a sign-in nobody vouched for, the credentials are not listed (that would
/// say the account has passkeys): any passkey of this site may answer, and the answer names
/// its user.
///
/// # Errors
/// 403 when passkeys are not available here.
pub async fn passkey_options<V: OneTime, R: Records>(cx: &mut Context<V, R>, step: &Step) -> LoginResult<PasskeyOptions> {
    let (rp_id, _) = relying_party(&cx.issuer, step.t())?;
    let kind = AuthenticatorKind::Passkey;
    let (purpose, user, credential_ids) = match step.tx.shown_step(step.user.as_ref()) {
        LoginStep::Enrol { allowed, .. } if allowed.contains(&kind) => {
            let u = may_enrol(step, kind)?;
            if u.passkeys.len() >= passkey::MAX_PASSKEYS {
                return Err(api(ApiErrorCode::Conflict, step.t().api_passkeys_full));
            }
            let entity = PasskeyUser { id: passkey::b64(u.id.as_bytes()), name: u.username.to_string(), display_name: u.username.to_string() };
            (FacePurpose::Enrol, Some(entity), u.passkeys.iter().map(|p| p.credential_id.clone()).collect())
        }
        LoginStep::Authenticate { enrolled, .. } if enrolled.contains(&kind) => {
            let listed = match (&step.user, step.tx.vouched()) {
                (Some(u), true) => u.passkeys.iter().map(|p| p.credential_id.clone()).collect(),
                _ => Vec::new(),
            };
            (FacePurpose::Authenticate, None, listed)
        }
        LoginStep::Enrol { allowed, .. } if allowed.is_empty() => return Err(not_allowed_to_enrol(step.t())),
        _ => return Err(api(ApiErrorCode::Forbidden, step.t().api_passkey_not_available)),
    };
    let challenge = cx.rng.token::<32>();
    let expires_at = cx.now + passkey::CHALLENGE_TTL;
    let issued = IssuedPasskeyChallenge { transaction: sha256_hex(&step.tx_id), purpose, expires_at };
    cx.vault.insert(&VaultKey::PasskeyChallenge(&challenge).to_string(), to_value(&issued)?, expires_at, cx.now).await?;
    Ok(PasskeyOptions {
        purpose,
        challenge,
        rp_id,
        rp_name: step.tx.application_name.clone(),
        user,
        credential_ids,
        timeout_ms: passkey::CEREMONY_TIMEOUT_MS,
        expires_at,
    })
}

fn bad_passkey(field: &'static str, t: &Texts) -> Failure {
    Failure::Api(ApiFailure::invalid_field(field, PasskeyRejection::Malformed(field).message(t)))
}

/// Spends the challenge a client data names, for this transaction and `purpose` (one use,
/// even under concurrency), and gives back what the ceremony expects.
async fn spend_passkey_challenge<V: OneTime, R: Records>(
    cx: &mut Context<V, R>,
    step: &Step,
    client_data_json: &[u8],
    purpose: FacePurpose,
) -> LoginResult<Result<String, PasskeyRejection>> {
    let challenge = passkey::challenge_of(client_data_json).map_err(|_| bad_passkey("client_data_json", step.t()))?;
    let issued: Option<IssuedPasskeyChallenge> = from_value(cx.vault.take(&VaultKey::PasskeyChallenge(&challenge).to_string(), cx.now).await?)?;
    let Some(issued) = issued.filter(|i| i.expires_at > cx.now) else {
        return Err(api(ApiErrorCode::Expired, step.t().api_passkey_gone));
    };
    if issued.transaction != sha256_hex(&step.tx_id) || issued.purpose != purpose {
        return Ok(Err(PasskeyRejection::WrongChallenge));
    }
    Ok(Ok(challenge))
}

/// The passkeys of a user, each with its public key opened (a key copied from another
/// record does not open).
fn passkey_key(cx: &Context<impl OneTime, impl Records>, user: &UserRecord, p: &EnrolledPasskey) -> LoginResult<passkey::PublicKey> {
    let bytes = cx
        .master
        .secret_box(Purpose::PasskeyKey)
        .open(&sealed_to(&user.id), &p.sealed_key)
        .map_err(|_| Failure::Internal("passkey key does not open".into()))?;
    serde_json::from_slice(&bytes).map_err(|_| Failure::Internal("passkey key is not readable".into()))
}

/// `POST /api/login/{tx}/passkey/enrol`: the new credential of a registration ceremony;
/// saved (sealed to the user's record), and the sign-in goes on as after any enrolment.
///
/// # Errors
/// 410 for a spent or expired challenge; 400 for an answer that does not verify (an attack
/// is recorded); 409 for a credential the user already has.
pub async fn passkey_enrol<V: OneTime, R: Records>(cx: &mut Context<V, R>, step: &Step, reg: &PasskeyRegistration) -> LoginResult<LoginStep> {
    let mut user = may_enrol(step, AuthenticatorKind::Passkey)?;
    let (rp_id, origin) = relying_party(&cx.issuer, step.t())?;
    let client_data = passkey::unb64(&reg.client_data_json, "client_data_json").map_err(|_| bad_passkey("client_data_json", step.t()))?;
    let attestation = passkey::unb64(&reg.attestation_object, "attestation_object").map_err(|_| bad_passkey("attestation_object", step.t()))?;
    let credential_id = passkey::unb64(&reg.credential_id, "credential_id").map_err(|_| bad_passkey("credential_id", step.t()))?;
    let checked = match spend_passkey_challenge(cx, step, &client_data, FacePurpose::Enrol).await? {
        Ok(challenge) => passkey::verify_registration(
            &passkey::Expected { rp_id: &rp_id, origin: &origin, challenge: &challenge },
            &credential_id,
            &client_data,
            &attestation,
        ),
        Err(r) => Err(r),
    };
    let new = match checked {
        Ok(n) => n,
        Err(r) => {
            if let Some(kind) = r.attack() {
                record(cx, step, "passkey.attack", format!("enrolment refused: {kind}")).await;
            }
            return Err(api(ApiErrorCode::InvalidInput, r.message(step.t())));
        }
    };
    let id = passkey::b64(&new.credential_id);
    if user.passkeys.iter().any(|p| p.credential_id == id) {
        return Err(api(ApiErrorCode::Conflict, step.t().api_passkey_exists));
    }
    let key = serde_json::to_vec(&new.public_key).map_err(|e| Failure::Internal(format!("passkey key: {e}")))?;
    let sealed_key = cx.master.secret_box(Purpose::PasskeyKey).seal(&mut cx.rng, &sealed_to(&user.id), &key);
    if new.sign_count > 0 {
        cx.vault.advance(&VaultKey::PasskeyCounter(&user.id, &passkey::credential_tag(&new.credential_id)).to_string(), u64::from(new.sign_count)).await?;
    }
    user.passkeys.push(EnrolledPasskey { credential_id: id, sealed_key, sign_count: new.sign_count, enrolled_at: cx.now });
    record(cx, step, "user.passkey.enrol", format!("credential {}", passkey::credential_tag(&new.credential_id))).await;
    enrolled(cx, step, user, AuthenticatorKind::Passkey).await
}

/// Checks an assertion for `user` (`None`: an account that cannot answer; the check fails
/// as a wrong answer would).
async fn check_assertion<V: OneTime, R: Records>(
    cx: &mut Context<V, R>,
    step: &Step,
    user: Option<&UserRecord>,
    a: &PasskeyAssertion,
    expected: &passkey::Expected<'_>,
    client_data: &[u8],
) -> LoginResult<Result<(), PasskeyRejection>> {
    let unknown = Ok(Err(PasskeyRejection::UnknownCredential));
    let Some(user) = user else { return unknown };
    if a.user_handle.as_deref().is_some_and(|h| passkey::unb64(h, "user_handle").ok().as_deref() != Some(user.id.as_bytes())) {
        return unknown;
    }
    let Some(enrolled) = user.passkeys.iter().find(|p| p.credential_id == a.credential_id.trim_end_matches('=')) else { return unknown };
    let key = passkey_key(cx, user, enrolled)?;
    let authenticator_data = passkey::unb64(&a.authenticator_data, "authenticator_data").map_err(|_| bad_passkey("authenticator_data", step.t()))?;
    let signature = passkey::unb64(&a.signature, "signature").map_err(|_| bad_passkey("signature", step.t()))?;
    let asserted = match passkey::verify_assertion(expected, &key, client_data, &authenticator_data, &signature) {
        Ok(x) => x,
        Err(r) => return Ok(Err(r)),
    };
    // The counter: one that grows must have grown (atomically, in the Vault); zero is
    // allowed only from an authenticator that has never counted.
    let credential = passkey::unb64(&enrolled.credential_id, "credential_id").map_err(|_| Failure::Internal("stored credential id".into()))?;
    let counter_key = VaultKey::PasskeyCounter(&user.id, &passkey::credential_tag(&credential)).to_string();
    if asserted.sign_count == 0 {
        let counted = enrolled.sign_count > 0 || cx.vault.get(&counter_key, cx.now).await?.is_some();
        return Ok(if counted { Err(PasskeyRejection::CounterWentBack { stored: enrolled.sign_count, received: 0 }) } else { Ok(()) });
    }
    if let Err(r) = passkey::counter_ok(enrolled.sign_count, asserted.sign_count) {
        return Ok(Err(r));
    }
    if !cx.vault.advance(&counter_key, u64::from(asserted.sign_count)).await? {
        return Ok(Err(PasskeyRejection::CounterWentBack { stored: enrolled.sign_count, received: asserted.sign_count }));
    }
    if enrolled.sign_count == 0 {
        // Remembers that this authenticator counts, so a later zero is refused.
        cx.vault.put(&counter_key, serde_json::Value::Bool(true)).await?;
    }
    Ok(Ok(()))
}

/// `POST /api/login/{tx}/passkey`: signs in with a passkey. The challenge is spent first
/// (one use); the answer is counted before it is checked; a wrong or cloned one is refused,
/// counted and recorded as an attack.
///
/// # Errors
/// 410 for a spent or expired challenge; 400 for an unreadable answer (not counted); 401
/// (counted) for a refusal; 429 when locked.
pub async fn passkey_verify<V: OneTime, R: Records>(cx: &mut Context<V, R>, step: &Step, a: &PasskeyAssertion) -> LoginResult<LoginStep> {
    let user = answering(step, AuthenticatorKind::Passkey)?;
    let (rp_id, origin) = relying_party(&cx.issuer, step.t())?;
    let client_data = passkey::unb64(&a.client_data_json, "client_data_json").map_err(|_| bad_passkey("client_data_json", step.t()))?;
    let spent = spend_passkey_challenge(cx, step, &client_data, FacePurpose::Authenticate).await?;
    let attempt = count_attempt(cx, step, AuthenticatorKind::Passkey, user.as_ref()).await?;
    let verdict = match spent {
        Ok(challenge) => {
            let expected = passkey::Expected { rp_id: &rp_id, origin: &origin, challenge: &challenge };
            match check_assertion(cx, step, user.as_ref(), a, &expected, &client_data).await {
                Ok(v) => v,
                Err(e) => {
                    attempt.give_back(&cx.vault).await?;
                    return Err(e);
                }
            }
        }
        Err(r) => Err(r),
    };
    match (verdict, user) {
        (Ok(()), Some(user)) => {
            attempt.give_back(&cx.vault).await?;
            authenticated(cx, step, &user, AuthenticatorKind::Passkey, a.add_authenticator).await
        }
        (Err(r), _) if !r.counts_as_failure() => {
            attempt.give_back(&cx.vault).await?;
            Err(api(ApiErrorCode::InvalidInput, r.message(step.t())))
        }
        (Err(r), _) => {
            if let Some(kind) = r.attack() {
                record(cx, step, "passkey.attack", format!("sign-in refused: {kind}")).await;
            }
            Err(wrong_answer(cx, step, attempt, "passkey", r.message(step.t())).await)
        }
        (Ok(()), None) => Err(wrong_answer(cx, step, attempt, "passkey", PasskeyRejection::UnknownCredential.message(step.t())).await),
    }
}
