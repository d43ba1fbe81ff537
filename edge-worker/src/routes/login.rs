//! The login API: what the universal-login SPA calls to finish a login transaction.
//!
//! Every call names the transaction in its path and must come from the browser that
//! started it (the `bp_browser` cookie). Failed answers are counted per user in the Vault:
//! [`MAX_FAILURES`] within [`LOCKOUT_WINDOW`] seconds lock that authenticator for that user.
//! Face evidence is checked by the worker itself (see `crate::face`).

use crate::error::{json, AppError, AppResult};
use crate::http::{cookie, json_body};
use crate::routes::oauth::BROWSER_COOKIE;
use crate::store::Ctx;
use biopass_idp::error::ApiFailure;
use biopass_idp::qr;
use biopass_idp::random::Entropy;
use biopass_idp::secretbox::Purpose;
use biopass_idp::totp::{self, TotpRejection, TotpSeed};
use biopass_idp::transaction::{sha256_hex, LoginTransaction};
use biopass_idp::user::{Enrolled, UserRecord};
use biopass_proto::error::ApiErrorCode;
use biopass_idp::face::{self, FaceRejection, IssuedChallenge};
use biopass_proto::login::{AuthenticatorKind, FaceChallenge, FaceChallengeRequest, FaceEvidence, FacePurpose, LoginState, LoginStep, TotpAnswer, TotpEnrolment};
use worker::{Request, Response};

/// Failed answers that lock an authenticator.
pub const MAX_FAILURES: u64 = 5;
/// The window failures are counted in, and how long a lock-out lasts (seconds).
pub const LOCKOUT_WINDOW: u64 = 15 * 60;

fn tx_key(id: &str) -> String {
    format!("tx:{id}")
}

fn gone() -> AppError {
    AppError::api(ApiErrorCode::Expired, "This sign-in has expired or was already completed. Go back to the application and sign in again.")
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

/// The user the transaction is for; a disabled user gets no further step.
async fn user_of(ctx: &Ctx, tx: &LoginTransaction) -> AppResult<Option<UserRecord>> {
    let user = match &tx.request.login_hint {
        Some(name) => ctx.user_named(tx.request.cognito.as_ref(), name).await?,
        None => None,
    };
    if let Some(u) = &user {
        if ctx.is_disabled(u).await? {
            return Err(AppError::api(ApiErrorCode::Forbidden, "This account is disabled. Ask your administrator."));
        }
    }
    Ok(user)
}

/// `GET /api/login/{tx}`.
pub async fn state(req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    let tx = load(&req, ctx, tx_id).await?;
    let user = user_of(ctx, &tx).await?;
    json(200, &LoginState {
        application_name: tx.application_name.clone(),
        username: tx.request.login_hint.as_ref().map(ToString::to_string).unwrap_or_default(),
        expires_at: tx.expires_at,
        step: tx.next_step(user.as_ref()),
    })
}

fn lock_key(kind: &str, user_id: &str) -> String {
    format!("fail:{kind}:{user_id}")
}

fn locked(oldest: u64, now: u64) -> AppError {
    let retry = (oldest + LOCKOUT_WINDOW).saturating_sub(now).max(1);
    AppError::Api(ApiFailure {
        retry_after: Some(retry),
        ..ApiFailure::new(ApiErrorCode::Locked, format!("Too many failed attempts. Try again in {} minutes.", retry.div_ceil(60)))
    })
}

async fn ensure_not_locked(ctx: &Ctx, key: &str) -> AppResult<()> {
    let (count, oldest) = ctx.vault.count(key, ctx.now, LOCKOUT_WINDOW).await?;
    if count >= MAX_FAILURES {
        return Err(locked(oldest, ctx.now));
    }
    Ok(())
}

/// An answer counted toward the lock-out before it is checked: the check of the lock and
/// the count are one Vault operation, so any number of concurrent guesses gets at most
/// [`MAX_FAILURES`] checked per window. A right answer (or one that is no answer at all,
/// like a malformed code) gives its attempt back.
struct Attempt {
    key: String,
    id: String,
}

impl Attempt {
    /// Counts an attempt at `key`, or refuses with 429 when the lock is on.
    async fn start(ctx: &mut Ctx, key: String) -> AppResult<Self> {
        let id = ctx.rng.token::<12>();
        match ctx.vault.reserve(&key, ctx.now, LOCKOUT_WINDOW, MAX_FAILURES, id).await? {
            Ok(id) => Ok(Self { key, id }),
            Err((_, oldest)) => Err(locked(oldest, ctx.now)),
        }
    }

    /// The answer was right, or no answer: it does not count.
    async fn give_back(self, ctx: &Ctx) -> AppResult<()> {
        ctx.vault.release(&self.key, &self.id).await
    }

    /// The answer was wrong: it stays counted. Records it in the audit log; the error to
    /// return.
    async fn failed(self, ctx: &mut Ctx, message: &str, who: &Who) -> AppError {
        let outcome = ctx.vault.count(&self.key, ctx.now, LOCKOUT_WINDOW).await;
        let action = match &outcome {
            Ok((count, _)) if *count >= MAX_FAILURES => "login.locked",
            _ => "login.failure",
        };
        ctx.audit(&who.actor, action, Some(&who.client_id), Some(format!("{}: {message}", who.kind)), who.ip.clone()).await;
        match outcome {
            Ok((count, _)) if count >= MAX_FAILURES => AppError::Api(ApiFailure {
                retry_after: Some(LOCKOUT_WINDOW),
                ..ApiFailure::new(ApiErrorCode::Locked, "Too many failed attempts. This authenticator is locked for 15 minutes.")
            }),
            Ok((count, _)) => AppError::api(ApiErrorCode::WrongAnswer, format!("{message} {} attempts left.", MAX_FAILURES - count)),
            Err(e) => e,
        }
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
    fn new(req: &Request, tx: &LoginTransaction, user: &UserRecord, kind: &'static str) -> Self {
        Self { actor: format!("user:{}", user.username), client_id: tx.request.client_id.clone(), kind, ip: crate::audit::client_ip(req) }
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
    ctx.vault.insert(&format!("code:{}", sha256_hex(&code)), &grant, grant.expires_at, ctx.now).await?;
    ctx.audit(&who.actor, "login.success", Some(&who.client_id), Some(detail), who.ip.clone()).await;
    json(200, &LoginStep::Done { redirect_to })
}

/// The user just proved who they are with `kind`: the sign-in ends, or (they asked to, or
/// none of their authenticators is one the application accepts) they go on to enrol
/// another authenticator in this transaction; answers the next step.
async fn authenticated(ctx: &mut Ctx, tx_id: &str, mut tx: LoginTransaction, user: &UserRecord, kind: AuthenticatorKind, add: bool, who: &Who) -> AppResult<Response> {
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

/// Refuses to enrol `kind` unless this sign-in's enrolment step offers it.
fn may_enrol(tx: &LoginTransaction, user: &UserRecord, kind: AuthenticatorKind) -> AppResult<()> {
    match tx.next_step(Some(user)) {
        LoginStep::Enrol { allowed, .. } if allowed.contains(&kind) => Ok(()),
        LoginStep::Enrol { .. } => Err(AppError::api(ApiErrorCode::Forbidden, format!("This application does not accept a new {} here.", kind.label()))),
        _ => Err(AppError::api(ApiErrorCode::Forbidden, "You already have an authenticator: sign in with it first, then add another.")),
    }
}

/// Refuses an authenticator this sign-in cannot be answered with.
fn may_authenticate(tx: &LoginTransaction, user: &UserRecord, kind: AuthenticatorKind) -> AppResult<()> {
    match tx.next_step(Some(user)) {
        LoginStep::Authenticate { enrolled, .. } if enrolled.contains(&kind) => Ok(()),
        _ => Err(AppError::api(ApiErrorCode::Forbidden, format!("Signing in with your {} is not available for this application.", kind.label()))),
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

/// `POST /api/login/{tx}/totp/enrol`: offers a new TOTP seed (not yet saved to the user).
pub async fn totp_enrol(req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    let mut tx = load(&req, ctx, tx_id).await?;
    let user = user_of(ctx, &tx).await?.ok_or_else(not_allowed_to_enrol)?;
    may_enrol(&tx, &user, AuthenticatorKind::Totp)?;
    let seed = TotpSeed::generate(&mut ctx.rng);
    tx.pending_totp = Some(ctx.master.secret_box(Purpose::TotpSeed).seal(&mut ctx.rng, &record(tx_id), seed.as_bytes()));
    if !ctx.vault.replace(&tx_key(tx_id), &tx, ctx.now).await? {
        return Err(gone());
    }
    let uri = seed.otpauth_uri("Biopass", user.username.as_str());
    let qr_svg = qr::svg(&uri).ok_or_else(|| AppError::internal("QR code rendering failed"))?;
    json(200, &TotpEnrolment { otpauth_uri: uri, secret: seed.to_base32(), qr_svg })
}

fn not_allowed_to_enrol() -> AppError {
    AppError::api(ApiErrorCode::Forbidden, "You have no authenticator enrolled, and this sign-in cannot enrol one. Ask your administrator.")
}

/// `POST /api/login/{tx}/totp/enrol/confirm`: the first code proves the app has the seed;
/// the seed is saved and the login completes.
pub async fn totp_confirm(mut req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    let answer: TotpAnswer = json_body(&mut req).await?;
    let tx = load(&req, ctx, tx_id).await?;
    let mut user = user_of(ctx, &tx).await?.ok_or_else(not_allowed_to_enrol)?;
    may_enrol(&tx, &user, AuthenticatorKind::Totp)?;
    let sealed = tx.pending_totp.as_deref().ok_or_else(|| AppError::api(ApiErrorCode::InvalidInput, "Start the authenticator app set-up first."))?;
    let seed = TotpSeed::from_bytes(
        ctx.master.secret_box(Purpose::TotpSeed).open(&record(tx_id), sealed).map_err(|_| AppError::internal("pending TOTP seed does not open"))?,
    );
    let who = Who::new(&req, &tx, &user, "totp enrolment");
    let attempt = Attempt::start(ctx, lock_key("totp", &user.id)).await?;
    let step = match totp::verify(&seed, &answer.code, ctx.now, None) {
        Ok(step) => step,
        Err(TotpRejection::Malformed) => {
            attempt.give_back(ctx).await?;
            return Err(AppError::Api(ApiFailure::invalid_field("code", "Enter the 6 digits shown in your authenticator app.")));
        }
        Err(_) => return Err(attempt.failed(ctx, "That code is not right. Check your device's clock and try the current code.", &who).await),
    };
    attempt.give_back(ctx).await?;
    ctx.vault.advance(&format!("totp-step:{}", user.id), step).await?;
    user.totp = Some(Enrolled {
        sealed: ctx.master.secret_box(Purpose::TotpSeed).seal(&mut ctx.rng, &format!("user:{}", user.id), seed.as_bytes()),
        enrolled_at: ctx.now,
    });
    ctx.put_user(&user).await?;
    finish(ctx, tx_id, &user, AuthenticatorKind::Totp, &who).await
}

/// `POST /api/login/{tx}/totp`: authenticates with an enrolled TOTP.
pub async fn totp_verify(mut req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    let answer: TotpAnswer = json_body(&mut req).await?;
    let tx = load(&req, ctx, tx_id).await?;
    let user = user_of(ctx, &tx).await?;
    let Some((user, enrolled)) = user.and_then(|u| u.totp.clone().map(|t| (u, t))) else {
        return Err(AppError::api(ApiErrorCode::Forbidden, "No authenticator app is enrolled for this account."));
    };
    may_authenticate(&tx, &user, AuthenticatorKind::Totp)?;
    let who = Who::new(&req, &tx, &user, "totp");
    let seed = TotpSeed::from_bytes(
        ctx.master
            .secret_box(Purpose::TotpSeed)
            .open(&format!("user:{}", user.id), &enrolled.sealed)
            .map_err(|_| AppError::internal("TOTP seed does not open"))?,
    );
    // The verdict is only acted on once the attempt is counted (a malformed code is no
    // attempt at all).
    let verdict = totp::verify(&seed, &answer.code, ctx.now, None);
    if verdict == Err(TotpRejection::Malformed) {
        return Err(AppError::Api(ApiFailure::invalid_field("code", "Enter the 6 digits shown in your authenticator app.")));
    }
    let attempt = Attempt::start(ctx, lock_key("totp", &user.id)).await?;
    match verdict {
        Ok(step) => {
            // Single use, even under concurrency: the Vault moves the step forward once.
            if !ctx.vault.advance(&format!("totp-step:{}", user.id), step).await? {
                return Err(attempt.failed(ctx, "That code was already used. Wait for the next one.", &who).await);
            }
            attempt.give_back(ctx).await?;
            let mut user = user;
            if answer.forget_face {
                forget_face(ctx, &mut user, &who).await?;
            }
            authenticated(ctx, tx_id, tx, &user, AuthenticatorKind::Totp, answer.add_authenticator, &who).await
        }
        Err(_) => Err(attempt.failed(ctx, "That code is not right.", &who).await),
    }
}

fn challenge_key(nonce: &str) -> String {
    format!("face-nonce:{}", sha256_hex(nonce))
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
    let user = user_of(ctx, &tx).await?.ok_or_else(not_allowed_to_enrol)?;
    let purpose = match tx.next_step(Some(&user)) {
        LoginStep::Enrol { allowed, .. } if allowed.contains(&AuthenticatorKind::Face) => FacePurpose::Enrol,
        LoginStep::Authenticate { enrolled, .. } if enrolled.contains(&AuthenticatorKind::Face) => {
            ensure_not_locked(ctx, &lock_key("face", &user.id)).await?;
            FacePurpose::Authenticate
        }
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
/// use, even under concurrency); the worker re-runs the models on every crop and decides.
pub async fn face_evidence(mut req: Request, ctx: &mut Ctx, tx_id: &str) -> AppResult<Response> {
    // Crops are larger than the generic API body limit allows: a limit of their own.
    let text = req.text().await?;
    if text.len() > crate::face::MAX_EVIDENCE_BODY {
        return Err(AppError::Api(ApiFailure::invalid_field("frames", "The face evidence is too large.")));
    }
    let evidence: FaceEvidence = serde_json::from_str(&text)
        .map_err(|e| AppError::Api(ApiFailure::new(ApiErrorCode::InvalidInput, format!("the request body is not valid: {e}"))))?;
    let tx = load(&req, ctx, tx_id).await?;
    let mut user = user_of(ctx, &tx).await?.ok_or_else(not_allowed_to_enrol)?;
    let issued: IssuedChallenge = ctx
        .vault
        .take(&challenge_key(&evidence.nonce), ctx.now)
        .await?
        .ok_or_else(|| AppError::api(ApiErrorCode::Expired, "This face check has expired or was already used. Start it again."))?;
    let who = Who::new(&req, &tx, &user, "face");
    if issued.transaction != sha256_hex(tx_id) {
        // Evidence made for another sign-in: a replay. Counted and recorded as an attack.
        let rejection = FaceRejection::Inconsistent("the check belongs to another sign-in".into());
        return Err(face_refused(ctx, &tx, &user, &who, rejection).await);
    }
    if evidence.frames.is_empty() || evidence.frames.len() > face::MAX_FRAMES {
        return Err(AppError::Api(ApiFailure::invalid_field("frames", format!("Send between 1 and {} frames.", face::MAX_FRAMES))));
    }
    let elapsed_ms = ctx.now.saturating_sub(issued.issued_at).saturating_add(1).saturating_mul(1000);
    let attempt = if issued.purpose == FacePurpose::Authenticate {
        may_authenticate(&tx, &user, AuthenticatorKind::Face)?;
        Some(Attempt::start(ctx, lock_key("face", &user.id)).await?)
    } else {
        may_enrol(&tx, &user, AuthenticatorKind::Face)?;
        if !evidence.consent {
            return Err(AppError::Api(ApiFailure::invalid_field("consent", "Face sign-in needs your consent to process your face.")));
        }
        None
    };
    let measured = match measure_all(ctx, &evidence).await {
        Ok(m) => m,
        Err(e) => {
            // No usable frame (no face, a bad crop) says nothing about the match.
            if let Some(a) = attempt {
                a.give_back(ctx).await?;
            }
            return Err(e);
        }
    };
    let face_box = ctx.master.secret_box(Purpose::FaceTemplate);
    let record = format!("user:{}", user.id);
    match issued.purpose {
        FacePurpose::Enrol => {
            let template = match face::enrol(&issued, evidence.flashes_at_ms, &measured, elapsed_ms) {
                Ok(t) => t,
                Err(r) => {
                    if let Some(kind) = r.attack() {
                        ctx.audit(&who.actor, "face.attack", Some(&who.client_id), Some(format!("enrolment refused: {kind}")), who.ip.clone()).await;
                    }
                    return Err(AppError::Api(ApiFailure::new(ApiErrorCode::InvalidInput, r.message())));
                }
            };
            user.face = Some(Enrolled { sealed: face_box.seal(&mut ctx.rng, &record, &face::template_bytes(&template)), enrolled_at: ctx.now });
            ctx.put_user(&user).await?;
            finish(ctx, tx_id, &user, AuthenticatorKind::Face, &who).await
        }
        FacePurpose::Authenticate => {
            let attempt = attempt.ok_or_else(|| AppError::internal("face attempt not counted"))?;
            let enrolled = user.face.as_ref().ok_or_else(|| AppError::api(ApiErrorCode::Forbidden, "No face is enrolled for this account."))?;
            let template = face_box
                .open(&record, &enrolled.sealed)
                .ok()
                .and_then(|b| face::template_from_bytes(&b))
                .ok_or_else(|| AppError::internal("face template does not open"))?;
            match face::authenticate(&issued, evidence.flashes_at_ms, &measured, elapsed_ms, &template, face::calibration(tx.face_assurance).threshold) {
                Ok(_) => {
                    attempt.give_back(ctx).await?;
                    if evidence.forget_face {
                        forget_face(ctx, &mut user, &who).await?;
                    }
                    authenticated(ctx, tx_id, tx, &user, AuthenticatorKind::Face, evidence.add_authenticator, &who).await
                }
                Err(r) if r.counts_as_failure() => {
                    if let Some(kind) = r.attack() {
                        ctx.audit(&who.actor, "face.attack", Some(&who.client_id), Some(format!("sign-in refused: {kind}")), who.ip.clone()).await;
                    }
                    Err(attempt.failed(ctx, &r.message(), &who).await)
                }
                Err(r) => {
                    attempt.give_back(ctx).await?;
                    Err(AppError::Api(ApiFailure::new(ApiErrorCode::InvalidInput, r.message())))
                }
            }
        }
    }
}

/// Runs the face models on the evidence's frames.
async fn measure_all(ctx: &Ctx, evidence: &FaceEvidence) -> AppResult<Vec<face::MeasuredFrame>> {
    let pipeline = crate::face::pipeline(&ctx.env).await?;
    crate::face::measure(&pipeline, &evidence.frames)
}

/// A refusal recorded as an attack and, where the user has a face to sign in with, counted
/// toward the lock-out; the error to return.
async fn face_refused(ctx: &mut Ctx, tx: &LoginTransaction, user: &UserRecord, who: &Who, rejection: FaceRejection) -> AppError {
    let kind = rejection.attack().unwrap_or("refused");
    ctx.audit(&who.actor, "face.attack", Some(&who.client_id), Some(format!("refused: {kind}")), who.ip.clone()).await;
    if user.face.is_some() && may_authenticate(tx, user, AuthenticatorKind::Face).is_ok() {
        match Attempt::start(ctx, lock_key("face", &user.id)).await {
            Ok(attempt) => attempt.failed(ctx, &rejection.message(), who).await,
            Err(e) => e,
        }
    } else {
        AppError::api(ApiErrorCode::Forbidden, rejection.message())
    }
}
