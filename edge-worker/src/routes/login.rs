//! The login API: what the universal-login SPA calls to finish a login transaction.
//!
//! Every call names the transaction in its path and must come from the browser that
//! started it (the `bp_browser` cookie). Failed answers are counted in the Vault before
//! they are checked (`biopass_service::lockout`, rules in [`biopass_idp::lockout`]): per user and
//! authenticator in sign-ins the Cognito stack vouched for; per browser, address and
//! account name, with the same answers for every name, in sign-ins anyone can start.
//! Face evidence is checked by the worker itself (see `crate::face`).

use crate::error::{json, AppError, AppResult};
use crate::http::{cookie, json_body};
use crate::routes::oauth::BROWSER_COOKIE;
use crate::store::Ctx;
use biopass_idp::error::ApiFailure;
use biopass_idp::face::{self, FaceRejection, IssuedChallenge};
use biopass_idp::lockout::LOCKOUT_WINDOW;
use biopass_idp::qr;
use biopass_idp::random::Entropy;
use biopass_idp::schema::{sha256_hex, KvKey, VaultKey};
use biopass_idp::secretbox::Purpose;
use biopass_idp::totp::{self, TotpRejection, TotpSeed};
use biopass_idp::transaction::LoginTransaction;
use biopass_idp::user::{Enrolled, UserRecord};
use biopass_proto::error::ApiErrorCode;
use biopass_proto::login::{
    AuthenticatorKind, FaceChallenge, FaceChallengeRequest, FaceEvidence, FacePurpose, LoginState, LoginStep, TotpAnswer, TotpEnrolment,
};
use biopass_service::lockout::{counters, locked_until, refusal_message, Attempt, Counted, NotCounted, Scope};
use worker::{Request, Response};

fn tx_key(id: &str) -> String {
    VaultKey::Transaction(id).to_string()
}

fn gone() -> AppError {
    AppError::api(ApiErrorCode::Expired, "This sign-in has expired or was already completed. Go back to the application and sign in again.")
}

fn disabled() -> AppError {
    AppError::api(ApiErrorCode::Forbidden, "This account is disabled. Ask your administrator.")
}

/// Loads a live transaction started by this browser.
async fn load(req: &Request, ctx: &Ctx, tx_id: &str) -> AppResult<LoginTransaction> {
    if tx_id.len() != 43 {
        return Err(gone());
    }
    let tx: LoginTransaction = ctx.vault.get(&tx_key(tx_id), ctx.now).await?.ok_or_else(gone)?;
    let browser = cookie(req, BROWSER_COOKIE).unwrap_or_default();
    if !tx.bound_to(&browser) {
        return Err(AppError::api(ApiErrorCode::Forbidden, "This sign-in was started in another browser. Start again from the application."));
    }
    Ok(tx)
}

/// The user the transaction is for. In a vouched-for sign-in a disabled user gets no
/// further step; in one nobody vouched for that is said only once they proved who they are
/// (see [`LoginTransaction::shown_step`]).
async fn user_of(ctx: &Ctx, tx: &LoginTransaction) -> AppResult<Option<UserRecord>> {
    let user = match &tx.request.login_hint {
        Some(name) => ctx.user_named(tx.request.cognito.as_ref(), name).await?,
        None => None,
    };
    if let Some(u) = &user {
        if tx.vouched() && ctx.is_disabled(u).await? {
            return Err(disabled());
        }
    }
    Ok(user)
}

/// `GET /api/login/{tx}`.
pub async fn state(req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    let tx = load(&req, ctx, tx_id).await?;
    let user = user_of(ctx, &tx).await?;
    json(
        200,
        &LoginState {
            application_name: tx.application_name.clone(),
            username: tx.request.login_hint.as_ref().map(ToString::to_string).unwrap_or_default(),
            expires_at: tx.expires_at,
            step: tx.shown_step(user.as_ref()),
        },
    )
}

/// A refusal by a limit, as the login API says it.
fn refused(scope: Scope, retry_at: u64, now: u64) -> AppError {
    let (message, retry) = refusal_message(scope, retry_at, now);
    AppError::Api(ApiFailure { retry_after: Some(retry), ..ApiFailure::new(ApiErrorCode::Locked, message) })
}

/// Counts an answer with `kind` in `tx` on its counters before it is checked
/// (`biopass_service::lockout`), or refuses with 429.
async fn count_attempt(req: &Request, ctx: &mut Ctx, tx: &LoginTransaction, kind: AuthenticatorKind, user: Option<&UserRecord>) -> AppResult<Attempt> {
    let address = crate::audit::client_ip(req);
    match Attempt::start(&ctx.vault, &mut ctx.rng, ctx.now, counters(tx, kind, user, address.as_deref())).await {
        Ok(a) => Ok(a),
        Err(NotCounted::Refused { scope, retry_at }) => Err(refused(scope, retry_at, ctx.now)),
        Err(NotCounted::Store(e)) => Err(e.into()),
    }
}

/// Refuses a face challenge while the user's face is locked (vouched-for sign-ins only:
/// elsewhere the answer would say the account exists).
async fn ensure_not_locked(ctx: &Ctx, tx: &LoginTransaction, user: &UserRecord) -> AppResult<()> {
    if !tx.vouched() {
        return Ok(());
    }
    match locked_until(&ctx.vault, AuthenticatorKind::Face, &user.id, ctx.now).await? {
        Some(retry_at) => Err(refused(Scope::Authenticator, retry_at, ctx.now)),
        None => Ok(()),
    }
}

/// The answer was wrong: it stays counted. Records it in the audit log; the error to
/// return, with the attempts left before the first lock.
async fn wrong_answer(ctx: &mut Ctx, attempt: Attempt, message: &str, who: &Who) -> AppError {
    let Counted { left, scope } = attempt.failed();
    let action = if left == Some(0) { "login.locked" } else { "login.failure" };
    ctx.audit(&who.actor, action, Some(&who.client_id), Some(format!("{}: {message}", who.kind)), who.ip.clone()).await;
    match left {
        Some(0) => {
            let whom = if scope == Scope::Client { "this browser is" } else { "this authenticator is" };
            AppError::Api(ApiFailure {
                retry_after: Some(LOCKOUT_WINDOW),
                ..ApiFailure::new(ApiErrorCode::Locked, format!("Too many failed attempts: {whom} locked for 15 minutes."))
            })
        }
        Some(n) => AppError::api(ApiErrorCode::WrongAnswer, format!("{message} {n} attempts left.")),
        None => AppError::api(ApiErrorCode::WrongAnswer, message.to_owned()),
    }
}

/// Who is answering, for the audit log.
struct Who {
    actor: String,
    client_id: String,
    kind: &'static str,
    ip: Option<String>,
}

impl Who {
    fn new(req: &Request, tx: &LoginTransaction, kind: &'static str) -> Self {
        let name = tx.request.login_hint.as_ref().map(ToString::to_string).unwrap_or_default();
        Self { actor: format!("user:{name}"), client_id: tx.request.client_id.clone(), kind, ip: crate::audit::client_ip(req) }
    }
}

/// Ends the transaction (exactly once) with `kind` as the last authenticator used, and
/// issues the code; answers [`LoginStep::Done`] with where the browser goes.
async fn finish(ctx: &mut Ctx, tx_id: &str, user: &UserRecord, kind: AuthenticatorKind, who: &Who) -> AppResult<Response> {
    let tx: LoginTransaction = ctx.vault.take(&tx_key(tx_id), ctx.now).await?.ok_or_else(gone)?;
    let code = ctx.rng.token::<32>();
    let amr = tx.amr(kind);
    let detail = format!("with {}", amr.join(" and "));
    let (grant, redirect_to) = tx.finish(user, amr, &code, &ctx.issuer, ctx.now);
    biopass_service::oauth::issue_code(&ctx.vault, ctx.now, &code, &grant).await?;
    ctx.audit(&who.actor, "login.success", Some(&who.client_id), Some(detail), who.ip.clone()).await;
    json(200, &LoginStep::Done { redirect_to })
}

/// The user just proved who they are with `kind`: the sign-in ends, or (they asked to, or
/// none of their authenticators is one the application accepts) they go on to enrol
/// another authenticator in this transaction; answers the next step. In a sign-in nobody
/// vouched for, this is where a disabled account is told so.
async fn authenticated(
    ctx: &mut Ctx,
    tx_id: &str,
    mut tx: LoginTransaction,
    user: &UserRecord,
    kind: AuthenticatorKind,
    add: bool,
    who: &Who,
) -> AppResult<Response> {
    if !tx.vouched() && ctx.is_disabled(user).await? {
        return Err(disabled());
    }
    if tx.completes_with(user, kind, add) {
        return finish(ctx, tx_id, user, kind, who).await;
    }
    tx.authenticated.push(kind);
    if !ctx.vault.replace(&tx_key(tx_id), &tx, ctx.now).await? {
        return Err(gone());
    }
    ctx.audit(&who.actor, "login.authenticated", Some(&who.client_id), Some(format!("with {}, adding another authenticator", who.kind)), who.ip.clone()).await;
    json(200, &tx.next_step(Some(user)))
}

/// The user who may enrol `kind` in this sign-in, or why not. Before anything is proved
/// in a sign-in nobody vouched for, the answer is the same for every name.
fn may_enrol(tx: &LoginTransaction, user: Option<UserRecord>, kind: AuthenticatorKind) -> AppResult<UserRecord> {
    match tx.shown_step(user.as_ref()) {
        LoginStep::Enrol { allowed, .. } if allowed.contains(&kind) => user.ok_or_else(not_allowed_to_enrol),
        LoginStep::Enrol { allowed, .. } if allowed.is_empty() => Err(not_allowed_to_enrol()),
        LoginStep::Enrol { .. } => Err(AppError::api(ApiErrorCode::Forbidden, format!("This application does not accept a new {} here.", kind.label()))),
        _ => Err(AppError::api(ApiErrorCode::Forbidden, "Sign in with an authenticator you have first; then you can add another.")),
    }
}

fn not_allowed_to_enrol() -> AppError {
    AppError::api(ApiErrorCode::Forbidden, "You have no authenticator enrolled, and this sign-in cannot enrol one. Ask your administrator.")
}

/// True if the user can answer with `kind` in this sign-in.
fn can_authenticate(tx: &LoginTransaction, user: &UserRecord, kind: AuthenticatorKind) -> bool {
    matches!(tx.next_step(Some(user)), LoginStep::Authenticate { enrolled, .. } if enrolled.contains(&kind))
}

/// The user whose `kind` an answer is checked against. `Ok(None)`: the answer is checked as
/// a wrong one (a sign-in nobody vouched for, for an account that cannot give it: the
/// answer must not say so). In a vouched-for sign-in, that refuses at once.
fn answering(tx: &LoginTransaction, user: Option<UserRecord>, kind: AuthenticatorKind) -> AppResult<Option<UserRecord>> {
    if !matches!(tx.shown_step(user.as_ref()), LoginStep::Authenticate { enrolled, .. } if enrolled.contains(&kind)) {
        return Err(AppError::api(ApiErrorCode::Forbidden, format!("Signing in with your {} is not available for this application.", kind.label())));
    }
    match user.filter(|u| can_authenticate(tx, u, kind)) {
        Some(u) => Ok(Some(u)),
        None if tx.vouched() => Err(AppError::api(ApiErrorCode::Forbidden, format!("No {} is enrolled for this account.", kind.label()))),
        None => Ok(None),
    }
}

/// Deletes the face enrolment of a user who just authenticated and asked for it.
async fn forget_face(ctx: &mut Ctx, user: &mut UserRecord, who: &Who) -> AppResult<()> {
    if user.face.take().is_some() {
        ctx.put_user(user).await?;
        ctx.audit(&who.actor, "user.face.delete", Some(&who.client_id), Some("by the user, after signing in".into()), who.ip.clone()).await;
    }
    Ok(())
}

fn record(tx_id: &str) -> String {
    format!("tx:{}", sha256_hex(tx_id))
}

fn malformed_code() -> AppError {
    AppError::Api(ApiFailure::invalid_field("code", "Enter the 6 digits shown in your authenticator app."))
}

/// `POST /api/login/{tx}/totp/enrol`: offers a new TOTP seed (not yet saved to the user).
pub async fn totp_enrol(req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    let mut tx = load(&req, ctx, tx_id).await?;
    let user = may_enrol(&tx, user_of(ctx, &tx).await?, AuthenticatorKind::Totp)?;
    let seed = TotpSeed::generate(&mut ctx.rng);
    tx.pending_totp = Some(ctx.master.secret_box(Purpose::TotpSeed).seal(&mut ctx.rng, &record(tx_id), seed.as_bytes()));
    if !ctx.vault.replace(&tx_key(tx_id), &tx, ctx.now).await? {
        return Err(gone());
    }
    let uri = seed.otpauth_uri("Biopass", user.username.as_str());
    let qr_svg = qr::svg(&uri).ok_or_else(|| AppError::internal("QR code rendering failed"))?;
    json(200, &TotpEnrolment { otpauth_uri: uri, secret: seed.to_base32(), qr_svg })
}

/// `POST /api/login/{tx}/totp/enrol/confirm`: the first code proves the app has the seed;
/// the seed is saved and the login completes.
pub async fn totp_confirm(mut req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    let answer: TotpAnswer = json_body(&mut req).await?;
    let tx = load(&req, ctx, tx_id).await?;
    let mut user = may_enrol(&tx, user_of(ctx, &tx).await?, AuthenticatorKind::Totp)?;
    let sealed = tx.pending_totp.as_deref().ok_or_else(|| AppError::api(ApiErrorCode::InvalidInput, "Start the authenticator app set-up first."))?;
    let seed = TotpSeed::from_bytes(
        ctx.master.secret_box(Purpose::TotpSeed).open(&record(tx_id), sealed).map_err(|_| AppError::internal("pending TOTP seed does not open"))?,
    );
    let who = Who::new(&req, &tx, "totp enrolment");
    let verdict = totp::verify(&seed, &answer.code, ctx.now, None);
    if verdict == Err(TotpRejection::Malformed) {
        return Err(malformed_code());
    }
    let attempt = count_attempt(&req, ctx, &tx, AuthenticatorKind::Totp, Some(&user)).await?;
    let Ok(step) = verdict else {
        return Err(wrong_answer(ctx, attempt, "That code is not right. Check your device's clock and try the current code.", &who).await);
    };
    attempt.give_back(&ctx.vault).await?;
    ctx.vault.advance(&VaultKey::TotpStep(&user.id).to_string(), step).await?;
    user.totp =
        Some(Enrolled { sealed: ctx.master.secret_box(Purpose::TotpSeed).seal(&mut ctx.rng, &sealed_to(&user.id), seed.as_bytes()), enrolled_at: ctx.now });
    ctx.put_user(&user).await?;
    finish(ctx, tx_id, &user, AuthenticatorKind::Totp, &who).await
}

/// `POST /api/login/{tx}/totp`: authenticates with an enrolled TOTP.
pub async fn totp_verify(mut req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    let answer: TotpAnswer = json_body(&mut req).await?;
    let tx = load(&req, ctx, tx_id).await?;
    let user = answering(&tx, user_of(ctx, &tx).await?, AuthenticatorKind::Totp)?;
    // A malformed code is no attempt at all, for every account alike.
    if !totp::well_formed(&answer.code) {
        return Err(malformed_code());
    }
    let who = Who::new(&req, &tx, "totp");
    let attempt = count_attempt(&req, ctx, &tx, AuthenticatorKind::Totp, user.as_ref()).await?;
    // The verdict is only acted on once the attempt is counted. An account that cannot
    // answer is checked against a seed nobody has.
    let seed = match user.as_ref().and_then(|u| u.totp.as_ref().map(|t| (u, t))) {
        Some((u, enrolled)) => TotpSeed::from_bytes(
            ctx.master.secret_box(Purpose::TotpSeed).open(&sealed_to(&u.id), &enrolled.sealed).map_err(|_| AppError::internal("TOTP seed does not open"))?,
        ),
        None => TotpSeed::generate(&mut ctx.rng),
    };
    let verdict = totp::verify(&seed, &answer.code, ctx.now, None);
    match (verdict, user) {
        (Ok(step), Some(mut user)) => {
            // Single use, even under concurrency: the Vault moves the step forward once.
            if !ctx.vault.advance(&VaultKey::TotpStep(&user.id).to_string(), step).await? {
                return Err(wrong_answer(ctx, attempt, "That code was already used. Wait for the next one.", &who).await);
            }
            attempt.give_back(&ctx.vault).await?;
            if answer.forget_face {
                forget_face(ctx, &mut user, &who).await?;
            }
            authenticated(ctx, tx_id, tx, &user, AuthenticatorKind::Totp, answer.add_authenticator, &who).await
        }
        _ => Err(wrong_answer(ctx, attempt, "That code is not right.", &who).await),
    }
}

/// What a user's sealed secrets (TOTP seed, face template) are bound to: their record's
/// key, so a sealed value copied into another record does not open.
fn sealed_to(user_id: &str) -> String {
    KvKey::User(user_id).to_string()
}

fn challenge_key(nonce: &str) -> String {
    VaultKey::FaceNonce(nonce).to_string()
}

/// `POST /api/login/{tx}/face/challenge`: a one-use challenge for this transaction, to
/// enrol a face (a user without one, where enrolment is allowed) or to authenticate.
pub async fn face_challenge(mut req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    // The body is optional: `{"reduced_motion": true}` asks for slower colours.
    let text = req.text().await?;
    let asked: FaceChallengeRequest = if text.trim().is_empty() {
        FaceChallengeRequest::default()
    } else {
        serde_json::from_str(&text).map_err(|e| AppError::Api(ApiFailure::new(ApiErrorCode::InvalidInput, format!("the request body is not valid: {e}"))))?
    };
    let tx = load(&req, ctx, tx_id).await?;
    let user = user_of(ctx, &tx).await?;
    let purpose = match tx.shown_step(user.as_ref()) {
        LoginStep::Enrol { allowed, .. } if allowed.contains(&AuthenticatorKind::Face) && user.is_some() => FacePurpose::Enrol,
        LoginStep::Authenticate { enrolled, .. } if enrolled.contains(&AuthenticatorKind::Face) => {
            if let Some(u) = &user {
                ensure_not_locked(ctx, &tx, u).await?;
            }
            FacePurpose::Authenticate
        }
        LoginStep::Enrol { allowed, .. } if allowed.is_empty() => return Err(not_allowed_to_enrol()),
        _ => return Err(AppError::api(ApiErrorCode::Forbidden, "Face sign-in is not available for this account here.")),
    };
    let nonce = ctx.rng.token::<32>();
    let issued = face::new_challenge(&mut ctx.rng, sha256_hex(tx_id), purpose, asked.reduced_motion, ctx.now);
    ctx.vault.insert(&challenge_key(&nonce), &issued, issued.expires_at, ctx.now).await?;
    json(
        200,
        &FaceChallenge {
            nonce,
            expires_at: issued.expires_at,
            purpose,
            far: issued.far,
            near: issued.near,
            flashes: issued.flashes,
            frame_width: face::FRAME_WIDTH,
            frame_height: face::FRAME_HEIGHT,
        },
    )
}

/// `POST /api/login/{tx}/face`: the evidence for a challenge. The nonce is spent first (one
/// use, even under concurrency); the worker re-runs the models on every frame and decides.
pub async fn face_evidence(mut req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    // Frames are larger than the generic API body limit allows: a limit of their own.
    let text = req.text().await?;
    if text.len() > crate::face::MAX_EVIDENCE_BODY {
        return Err(AppError::Api(ApiFailure::invalid_field("frames", "The face evidence is too large.")));
    }
    let evidence: FaceEvidence =
        serde_json::from_str(&text).map_err(|e| AppError::Api(ApiFailure::new(ApiErrorCode::InvalidInput, format!("the request body is not valid: {e}"))))?;
    let tx = load(&req, ctx, tx_id).await?;
    let user = user_of(ctx, &tx).await?;
    let issued: IssuedChallenge = ctx
        .vault
        .take(&challenge_key(&evidence.nonce), ctx.now)
        .await?
        .ok_or_else(|| AppError::api(ApiErrorCode::Expired, "This face check has expired or was already used. Start it again."))?;
    let who = Who::new(&req, &tx, "face");
    if issued.transaction != sha256_hex(tx_id) {
        // Evidence made for another sign-in: a replay. Counted and recorded as an attack.
        let rejection = FaceRejection::Inconsistent("the check belongs to another sign-in".into());
        return Err(face_refused(ctx, &req, &tx, user.as_ref(), &who, rejection).await);
    }
    if evidence.frames.is_empty() || evidence.frames.len() > face::MAX_FRAMES {
        return Err(AppError::Api(ApiFailure::invalid_field("frames", format!("Send between 1 and {} frames.", face::MAX_FRAMES))));
    }
    let elapsed_ms = ctx.now.saturating_sub(issued.issued_at).saturating_add(1).saturating_mul(1000);
    let colours = face::ColourTimes { start_ms: evidence.flashes_at_ms, shown_ms: &evidence.colours_shown_ms };
    match issued.purpose {
        FacePurpose::Enrol => {
            let mut user = may_enrol(&tx, user, AuthenticatorKind::Face)?;
            if !evidence.consent {
                return Err(AppError::Api(ApiFailure::invalid_field("consent", "Face sign-in needs your consent to process your face.")));
            }
            let measured = measure_all(ctx, &evidence).await?;
            let template = match face::enrol(&issued, colours, &measured, elapsed_ms) {
                Ok(t) => t,
                Err(r) => {
                    if let Some(kind) = r.attack() {
                        ctx.audit(&who.actor, "face.attack", Some(&who.client_id), Some(format!("enrolment refused: {kind}")), who.ip.clone()).await;
                    }
                    return Err(AppError::Api(ApiFailure::new(ApiErrorCode::InvalidInput, r.message())));
                }
            };
            let sealed = ctx.master.secret_box(Purpose::FaceTemplate).seal(&mut ctx.rng, &sealed_to(&user.id), &face::template_bytes(&template));
            user.face = Some(Enrolled { sealed, enrolled_at: ctx.now });
            ctx.put_user(&user).await?;
            finish(ctx, tx_id, &user, AuthenticatorKind::Face, &who).await
        }
        FacePurpose::Authenticate => {
            let user = answering(&tx, user, AuthenticatorKind::Face)?;
            let attempt = count_attempt(&req, ctx, &tx, AuthenticatorKind::Face, user.as_ref()).await?;
            let measured = match measure_all(ctx, &evidence).await {
                Ok(m) => m,
                Err(e) => {
                    // No usable frame (no face, a bad frame) says nothing about the match.
                    attempt.give_back(&ctx.vault).await?;
                    return Err(e);
                }
            };
            let decision = match &user {
                Some(u) => face::authenticate(&issued, colours, &measured, elapsed_ms, &face_template(ctx, u)?, face::calibration(tx.face_assurance).threshold)
                    .map(|_| ()),
                None => Err(face::authenticate_nobody(&issued, colours, &measured, elapsed_ms, &mut ctx.rng)),
            };
            match (decision, user) {
                (Ok(()), Some(mut user)) => {
                    attempt.give_back(&ctx.vault).await?;
                    if evidence.forget_face {
                        forget_face(ctx, &mut user, &who).await?;
                    }
                    authenticated(ctx, tx_id, tx, &user, AuthenticatorKind::Face, evidence.add_authenticator, &who).await
                }
                (Err(r), _) if !r.counts_as_failure() => {
                    attempt.give_back(&ctx.vault).await?;
                    Err(AppError::Api(ApiFailure::new(ApiErrorCode::InvalidInput, r.message())))
                }
                (Err(r), _) => {
                    if let Some(kind) = r.attack() {
                        ctx.audit(&who.actor, "face.attack", Some(&who.client_id), Some(format!("sign-in refused: {kind}")), who.ip.clone()).await;
                    }
                    Err(wrong_answer(ctx, attempt, &r.message(), &who).await)
                }
                // Unreachable (`authenticate_nobody` never accepts); answered as a stranger's face.
                (Ok(()), None) => Err(wrong_answer(ctx, attempt, &FaceRejection::NotRecognised { score: 0.0 }.message(), &who).await),
            }
        }
    }
}

/// The user's enrolled face template, opened.
fn face_template(ctx: &Ctx, user: &UserRecord) -> AppResult<Vec<f32>> {
    let enrolled = user.face.as_ref().ok_or_else(|| AppError::internal("face template missing"))?;
    ctx.master
        .secret_box(Purpose::FaceTemplate)
        .open(&sealed_to(&user.id), &enrolled.sealed)
        .ok()
        .and_then(|b| face::template_from_bytes(&b))
        .ok_or_else(|| AppError::internal("face template does not open"))
}

/// Runs the face models on the evidence's frames.
async fn measure_all(ctx: &Ctx, evidence: &FaceEvidence) -> AppResult<Vec<face::MeasuredFrame>> {
    let pipeline = crate::face::pipeline(&ctx.env).await?;
    crate::face::measure(&pipeline, &evidence.frames)
}

/// A refusal recorded as an attack and, where the person could be signing in with a face,
/// counted toward the limits; the error to return.
async fn face_refused(ctx: &mut Ctx, req: &Request, tx: &LoginTransaction, user: Option<&UserRecord>, who: &Who, rejection: FaceRejection) -> AppError {
    let kind = rejection.attack().unwrap_or("refused");
    ctx.audit(&who.actor, "face.attack", Some(&who.client_id), Some(format!("refused: {kind}")), who.ip.clone()).await;
    let face_user = user.filter(|u| u.face.is_some() && can_authenticate(tx, u, AuthenticatorKind::Face));
    if face_user.is_some() || !tx.vouched() {
        match count_attempt(req, ctx, tx, AuthenticatorKind::Face, face_user).await {
            Ok(attempt) => wrong_answer(ctx, attempt, &rejection.message(), who).await,
            Err(e) => e,
        }
    } else {
        AppError::api(ApiErrorCode::Forbidden, rejection.message())
    }
}
