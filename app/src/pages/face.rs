//! The face step of the universal login: consent (enrolment), camera and model start-up
//! with progress, then the light-and-distance capture: the person's face in a small oval
//! (at arm's length), then in a large one (close to the screen), with the screen around the
//! oval white, then the screen filled with the challenge's colours, one frame taken in
//! each. The whole camera frames go to the worker, which decides. Every failure ends in a
//! sentence a person understands and a way forward (try again, or another authenticator).
//!
//! The capture fills the window (`.capture`): the oval is a window onto the camera's
//! picture (mirrored, as people expect), and the screen around it is the light the check
//! measures on the face.

use super::login::{application_name, use_advance, AfterSignIn};
use crate::api::{self, ApiFail};
use crate::face::{mark, next_video_frame, now_ms, prefers_reduced_motion, set_screen_colour, sleep_until, Camera, CameraError, Grabbed, TrackerWorker};
use crate::lang::t;
use biopass_i18n::fill;
use biopass_idp::face::CHALLENGE_LIFETIME;
use biopass_idp::guidance::{light_frame_time, next_colour_time, shown_oval, Capture, Guidance, ShownOval, Stage};
use biopass_proto::error::ApiErrorCode;
use biopass_proto::login::{AuthenticatorKind, CapturePhase, EvidenceFrame, FaceChallenge, FaceChallengeRequest, FaceEvidence, FacePurpose, LoginStep};
use js_sys::Promise;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

/// Seconds kept in hand before the challenge's expiry for the upload and the check.
const UPLOAD_MARGIN: u64 = 8;
/// JPEG quality of the evidence frames (0-1): about 15 KB a frame at 320x240.
const JPEG_QUALITY: f64 = 0.85;

#[derive(Debug, Clone, PartialEq)]
enum Failure {
    Camera(CameraError),
    Tracker(String),
    TimedOut,
    /// The person pressed Stop.
    Stopped,
    Api(ApiFail),
}

impl Failure {
    fn title(&self) -> &'static str {
        let t = t();
        match self {
            Self::Camera(CameraError::PermissionDenied) => t.face_camera_refused,
            Self::Camera(CameraError::NoCamera) => t.face_no_camera,
            Self::Camera(CameraError::InUse) => t.face_camera_in_use,
            Self::Camera(_) => t.face_camera_failed,
            Self::Tracker(_) => t.face_tracking_failed,
            Self::TimedOut => t.face_time_up,
            Self::Stopped => t.face_stopped,
            Self::Api(e) => match e.code {
                ApiErrorCode::Locked => t.face_locked,
                ApiErrorCode::WrongAnswer => t.face_not_recognised,
                ApiErrorCode::Expired => t.face_expired,
                _ => t.face_could_not_check,
            },
        }
    }

    fn message(&self) -> String {
        let t = t();
        match self {
            Self::Camera(e) => e.message(),
            Self::Tracker(m) => fill(t.face_models_failed, &[("m", m)]),
            Self::TimedOut => fill(t.face_time_up_what, &[("seconds", &CHALLENGE_LIFETIME.to_string())]),
            Self::Stopped => t.face_stopped_what.into(),
            Self::Api(e) => e.message.clone(),
        }
    }

    /// False when trying again now cannot help (locked out).
    fn can_retry(&self) -> bool {
        !matches!(self, Self::Api(ApiFail { code: ApiErrorCode::Locked | ApiErrorCode::Forbidden, .. }))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Consent,
    Preparing,
    Capturing,
    Checking,
    Failed(Failure),
    Done,
}

/// What the running attempt shows.
#[derive(Clone, Copy)]
struct Ui {
    phase: RwSignal<Phase>,
    /// Bytes of the download: (loaded, total).
    download: RwSignal<Option<(f64, f64)>>,
    guidance: RwSignal<Option<Guidance>>,
    /// The part of the capture the person is in.
    step: RwSignal<CapturePhase>,
    /// The oval shown, over the mirrored picture.
    oval: RwSignal<Option<ShownOval>>,
    seconds_left: RwSignal<u64>,
    /// Colours shown so far, of how many.
    colours: RwSignal<(usize, usize)>,
    /// The person pressed Stop.
    stopped: RwSignal<bool>,
}

thread_local! {
    /// The tracker's worker and its model load, kept across attempts so "try again" does
    /// not download again. The load is a promise (of `null` when the models are ready, or
    /// the failure's message), so the consent screen can start it and any attempt await it.
    static TRACKER: RefCell<Option<(Rc<TrackerWorker>, Promise)>> = const { RefCell::new(None) };
}

/// The tracker, started (worker and model load) on first use.
fn tracker(download: RwSignal<Option<(f64, f64)>>) -> Result<(Rc<TrackerWorker>, Promise), Failure> {
    if let Some(t) = TRACKER.with(|t| t.borrow().clone()) {
        return Ok(t);
    }
    let worker = Rc::new(
        TrackerWorker::start(move |loaded, total| {
            let _ = download.try_set(Some((loaded, total)));
        })
        .map_err(Failure::Tracker)?,
    );
    let load = worker.load();
    let ready = future_to_promise(async move {
        Ok(match load.await {
            Ok(loaded) => {
                mark(if loaded.cached { "biopass:models-from-cache" } else { "biopass:models-downloaded" });
                JsValue::NULL
            }
            Err(message) => JsValue::from_str(&message),
        })
    });
    TRACKER.with(|t| *t.borrow_mut() = Some((worker.clone(), ready.clone())));
    Ok((worker, ready))
}

/// Waits for the tracker's models; a failed load is forgotten, so trying again starts anew.
async fn models_ready(ready: Promise) -> Result<(), Failure> {
    let outcome = JsFuture::from(ready).await.unwrap_or_else(|_| JsValue::from_str("the face tracker stopped"));
    match outcome.as_string() {
        None => Ok(()),
        Some(message) => {
            forget_tracker();
            Err(Failure::Tracker(message))
        }
    }
}

fn forget_tracker() {
    TRACKER.with(|t| *t.borrow_mut() = None);
}

fn video_element(video: NodeRef<leptos::html::Video>) -> Result<web_sys::HtmlVideoElement, Failure> {
    video.get_untracked().ok_or_else(|| Failure::Tracker("the page has no video element".into()))
}

/// Why the capture must end now, if it must: the page is gone or the person stopped.
fn interrupted(ui: Ui, alive: &AtomicBool) -> Result<(), Failure> {
    if !alive.load(Ordering::Relaxed) {
        return Err(Failure::TimedOut);
    }
    if ui.stopped.try_get_untracked().unwrap_or(true) {
        return Err(Failure::Stopped);
    }
    Ok(())
}

/// [`interrupted`], or the time is up; shows the seconds left otherwise.
fn still_on(ui: Ui, alive: &AtomicBool, deadline: f64) -> Result<(), Failure> {
    interrupted(ui, alive)?;
    let left = deadline - now_ms();
    if left <= 0.0 {
        return Err(Failure::TimedOut);
    }
    ui.seconds_left.set((left / 1000.0).ceil() as u64);
    Ok(())
}

/// The frames of the two ovals: each camera frame tracked, the guidance shown, and a whole
/// frame grabbed when [`Capture`] says so.
async fn oval_frames(
    worker: &TrackerWorker,
    video: &web_sys::HtmlVideoElement,
    challenge: &FaceChallenge,
    ui: Ui,
    alive: &AtomicBool,
    deadline: f64,
) -> Result<Vec<(CapturePhase, Grabbed)>, Failure> {
    let aspect = challenge.frame_width as f32 / challenge.frame_height.max(1) as f32;
    let mut capture = Capture::new(challenge);
    let mut frames = Vec::new();
    while let Some((stage, oval)) = capture.target() {
        still_on(ui, alive, deadline)?;
        let shown = Some(shown_oval(&oval, aspect));
        if ui.oval.get_untracked() != shown {
            ui.oval.set(shown);
            ui.step.set(stage.phase());
        }
        // Only new camera frames: the page paints faster than most cameras deliver.
        next_video_frame(video).await;
        mark("biopass:grab");
        let report = worker.track(video, aspect).await.map_err(Failure::Tracker)?;
        mark("biopass:tracked");
        let seen = capture.observe(&report, now_ms());
        ui.guidance.set(Some(seen.guidance));
        if let Some(phase) = seen.capture {
            let frame = Grabbed::take(video, challenge.frame_width, challenge.frame_height).map_err(Failure::Tracker)?;
            capture.captured(frame.at);
            frames.push((phase, frame));
        }
    }
    Ok(frames)
}

/// The colour sequence: fills `screen` with each colour for its time and grabs one frame
/// in each ([`light_frame_time`]); a late colour holds the next one back until it has had its
/// time ([`next_colour_time`]), and the evidence says when each appeared, so the worker
/// judges each frame against the colour really on screen. The screen is white again
/// afterwards, whatever happened.
async fn light_frames(
    screen: &web_sys::HtmlElement,
    video: &web_sys::HtmlVideoElement,
    challenge: &FaceChallenge,
    ui: Ui,
    alive: &AtomicBool,
) -> Result<LightCapture, Failure> {
    let begin = now_ms();
    let mut frames = Vec::with_capacity(challenge.flashes.len());
    let mut shown = Vec::with_capacity(challenge.flashes.len() + 1);
    let result = async {
        let (mut nominal, mut earliest) = (begin, begin);
        for flash in &challenge.flashes {
            sleep_until(nominal.max(earliest)).await;
            interrupted(ui, alive)?;
            set_screen_colour(screen, Some(flash.colour));
            let at = now_ms();
            shown.push(at);
            ui.colours.set((shown.len(), challenge.flashes.len()));
            sleep_until(light_frame_time(at, flash.ms)).await;
            let frame = Grabbed::take(video, challenge.frame_width, challenge.frame_height).map_err(Failure::Tracker)?;
            earliest = next_colour_time(nominal + f64::from(flash.ms), at, flash.ms, frame.at);
            frames.push(frame);
            nominal += f64::from(flash.ms);
        }
        sleep_until(nominal.max(earliest)).await;
        shown.push(now_ms());
        Ok::<(), Failure>(())
    }
    .await;
    set_screen_colour(screen, None);
    result.map(|()| LightCapture { begin, shown, frames })
}

/// The colour sequence as captured: when it began, when each colour appeared and the
/// screen went back (page milliseconds), and a frame under each colour.
struct LightCapture {
    begin: f64,
    shown: Vec<f64>,
    frames: Vec<Grabbed>,
}

/// One face check: camera + models, challenge, capture, evidence.
async fn attempt(
    tx: String,
    consent: bool,
    after: Option<AfterSignIn>,
    ui: Ui,
    video: NodeRef<leptos::html::Video>,
    screen: NodeRef<leptos::html::Div>,
    alive: Arc<AtomicBool>,
) -> Result<LoginStep, Failure> {
    mark("biopass:face-start");
    let (worker, ready) = tracker(ui.download)?;
    let element = video_element(video)?;
    let screen: web_sys::HtmlElement = screen.get_untracked().map(Into::into).ok_or_else(|| Failure::Tracker("the page has no capture screen".into()))?;
    let camera = Camera::open(&element).await.map_err(Failure::Camera)?;
    mark("biopass:camera-open");
    models_ready(ready).await?;
    mark("biopass:camera-ready");
    let asked = FaceChallengeRequest { reduced_motion: prefers_reduced_motion() };
    let challenge = api::face_challenge(&tx, &asked).await.map_err(Failure::Api)?;
    let deadline = now_ms() + ((CHALLENGE_LIFETIME - UPLOAD_MARGIN) * 1000) as f64;
    ui.step.set(CapturePhase::Far);
    ui.colours.set((0, challenge.flashes.len()));
    ui.oval.set(None);
    ui.phase.set(Phase::Capturing);
    // t = 0 of the evidence: the small oval is shown.
    let t0 = now_ms();
    mark("biopass:capture-start");
    let ovals = oval_frames(&worker, &element, &challenge, ui, &alive, deadline).await?;
    ui.step.set(CapturePhase::Light);
    mark("biopass:colours-start");
    let light = light_frames(&screen, &element, &challenge, ui, &alive).await?;
    mark("biopass:last-step");
    drop(camera);
    ui.phase.set(Phase::Checking);
    let t_ms = |at: f64| (at - t0).max(0.0).floor() as u32;
    let frames = ovals
        .iter()
        .map(|(phase, g)| (*phase, g))
        .chain(light.frames.iter().map(|g| (CapturePhase::Light, g)))
        .map(|(phase, g)| Ok(EvidenceFrame { phase, t_ms: t_ms(g.at), jpeg: g.jpeg_base64(JPEG_QUALITY)? }))
        .collect::<Result<Vec<_>, String>>()
        .map_err(Failure::Tracker)?;
    let (forget_face, add_authenticator) = after.map(AfterSignIn::get).unwrap_or_default();
    let evidence = FaceEvidence {
        nonce: challenge.nonce,
        frames,
        flashes_at_ms: t_ms(light.begin),
        colours_shown_ms: light.shown.iter().map(|at| t_ms(*at)).collect(),
        consent,
        forget_face,
        add_authenticator,
    };
    let decided = api::face_evidence(&tx, &evidence).await;
    mark("biopass:face-decided");
    let done = decided.map_err(Failure::Api)?;
    mark("biopass:face-verified");
    Ok(done)
}

/// The capture's three steps, in the order the page lists them.
const CAPTURE_STEPS: [CapturePhase; 3] = [CapturePhase::Far, CapturePhase::Near, CapturePhase::Light];

fn step_index(phase: CapturePhase) -> usize {
    CAPTURE_STEPS.iter().position(|p| *p == phase).unwrap_or(0)
}

/// A step's name in the list of steps.
fn step_name(phase: CapturePhase) -> &'static str {
    match phase {
        CapturePhase::Far => t().face_step_far,
        CapturePhase::Near => t().face_step_near,
        CapturePhase::Light => t().face_step_colours,
    }
}

/// What the person does in a part of the capture.
fn instruction(phase: CapturePhase) -> &'static str {
    match phase {
        CapturePhase::Far => t().face_instruction_far,
        CapturePhase::Near => t().face_instruction_near,
        CapturePhase::Light => t().face_instruction_light,
    }
}

/// The live guidance's sentence (shown, and read by screen readers).
fn guidance_text(g: Guidance) -> &'static str {
    let t = t();
    match g {
        Guidance::NoFace => t.face_no_face,
        Guidance::SeveralFaces => t.face_several_faces,
        Guidance::TooDark => t.face_too_dark,
        Guidance::ComeCloser(Stage::Far) => t.face_closer_far,
        Guidance::ComeCloser(Stage::Near) => t.face_closer_near,
        Guidance::MoveBack(Stage::Far) => t.face_back_far,
        Guidance::MoveBack(Stage::Near) => t.face_back_near,
        Guidance::IntoOval => t.face_into_oval,
        Guidance::LookStraight => t.face_look_straight,
        Guidance::Good => t.face_good,
    }
}

/// Where the oval is before the challenge says: the middle of the picture.
const NO_OVAL: ShownOval = ShownOval { left: 0.3, top: 0.2, width: 0.4, height: 0.6 };

/// A fraction as a CSS percentage.
fn pct(v: f32) -> String {
    format!("{:.2}%", v * 100.0)
}

/// The CSS clip of the camera's picture: only the inside of the oval shows it.
fn window_clip(o: ShownOval) -> String {
    format!("ellipse({} {} at {} {})", pct(o.width / 2.0), pct(o.height / 2.0), pct(o.left + o.width / 2.0), pct(o.top + o.height / 2.0))
}

/// The face step. `purpose` says whether it enrols (consent first) or authenticates;
/// `other` is the label and action of another authenticator, when there is one.
#[component]
pub fn FaceStep(
    tx: String,
    purpose: FacePurpose,
    #[prop(optional)] other: Option<(&'static str, Callback<()>)>,
    /// Authentication: what the person asked for once this check succeeds.
    #[prop(optional)]
    after: Option<AfterSignIn>,
) -> impl IntoView {
    let ui = Ui {
        phase: RwSignal::new(if purpose == FacePurpose::Enrol { Phase::Consent } else { Phase::Preparing }),
        download: RwSignal::new(None),
        guidance: RwSignal::new(None),
        step: RwSignal::new(CapturePhase::Far),
        oval: RwSignal::new(None),
        seconds_left: RwSignal::new(CHALLENGE_LIFETIME),
        colours: RwSignal::new((0, 0)),
        stopped: RwSignal::new(false),
    };
    let consent = RwSignal::new(false);
    let advance = use_advance();
    let video = NodeRef::<leptos::html::Video>::new();
    let screen = NodeRef::<leptos::html::Div>::new();
    let stop_button = NodeRef::<leptos::html::Button>::new();
    let alive = Arc::new(AtomicBool::new(true));
    on_cleanup({
        let alive = alive.clone();
        move || alive.store(false, Ordering::Relaxed)
    });
    let start = {
        let alive = alive.clone();
        move || {
            let (tx, alive) = (tx.clone(), alive.clone());
            ui.phase.set(Phase::Preparing);
            ui.guidance.set(None);
            ui.stopped.set(false);
            spawn_local(async move {
                match attempt(tx, consent.get_untracked(), after, ui, video, screen, alive.clone()).await {
                    Ok(next) => {
                        if matches!(next, LoginStep::Done { .. }) {
                            let _ = ui.phase.try_set(Phase::Done);
                        }
                        advance.run(AuthenticatorKind::Face, next);
                    }
                    Err(f) if alive.load(Ordering::Relaxed) => {
                        let _ = ui.phase.try_set(Phase::Failed(f));
                    }
                    Err(_) => {}
                }
            });
        }
    };
    let start = StoredValue::new_local(start);
    let run = move || start.with_value(|s| s());
    if purpose == FacePurpose::Authenticate {
        // Authenticating starts at once: the person came here to show their face.
        Effect::new(move |_| run());
    } else {
        // While the person reads what will happen, the models load (no camera, no face:
        // nothing is processed before consent); a failure shows when they continue.
        let _ = tracker(ui.download);
    }
    let phase = move || ui.phase.get();
    let capturing = move || phase() == Phase::Capturing;
    // The capture covers the page: the keyboard starts on its Stop button.
    Effect::new(move |_| {
        if capturing() {
            if let Some(b) = stop_button.get() {
                let _ = b.focus();
            }
        }
    });
    let stop = move || ui.stopped.set(true);
    let t = t();
    let heading = if purpose == FacePurpose::Enrol { t.face_setup } else { t.face_sign_in };
    let other_link = other.map(|(label, go)| {
        view! {
            <p class="alternative"><button type="button" class="link" on:click=move |_| go.run(())>{label}</button></p>
        }
    });
    let in_ovals = move || ui.step.get() != CapturePhase::Light;
    let oval = move || ui.oval.get().unwrap_or(NO_OVAL);
    view! {
        <h2>{heading}</h2>
        <Show when=move || phase() == Phase::Consent>
            <div class="consent">
                <p>{fill(t.face_consent_intro, &[("app", &application_name())])}</p>
                <ul>
                    <li>{t.face_consent_template}</li>
                    <li>{t.face_consent_pictures}</li>
                    <li>{t.face_consent_delete}</li>
                </ul>
                <p class="warning" id="face-colours-warning">{t.face_colours_warning}</p>
                <label class="check">
                    <input type="checkbox" id="face-consent" prop:checked=move || consent.get() on:change=move |ev| consent.set(event_target_checked(&ev))/>
                    {fill(t.face_consent_tick, &[("app", &application_name())])}
                </label>
                <button type="button" disabled=move || !consent.get() on:click=move |_| run()>{t.continue_}</button>
            </div>
        </Show>
        <div class="capture" class:hidden=move || !capturing() node_ref=screen role="dialog" aria-modal="true"
            aria-labelledby="face-instruction" aria-describedby="face-guidance"
            on:keydown=move |ev| if ev.key() == "Escape" { stop() }>
            <div class="capture-text">
                <ol class="capture-steps" aria-label=t.face_steps>
                    {CAPTURE_STEPS.iter().enumerate().map(move |(i, phase)| {
                        let label = step_name(*phase);
                        let step = ui.step;
                        let done = move || step_index(step.get()) > i;
                        let current = move || (step_index(step.get()) == i).then_some("step");
                        view! {
                            <li class=("done", done) aria-current=current>
                                <span class="sr-only">{move || if done() { t.done_prefix } else { "" }}</span>
                                {format!("{}. {label}", i + 1)}
                            </li>
                        }
                    }).collect_view()}
                </ol>
                <p class="instruction" id="face-instruction" aria-live="polite">{move || instruction(ui.step.get())}</p>
                <p class=move || if ui.guidance.get().is_some_and(|g| g.is_problem()) { "guidance warn" } else { "guidance" } role="status" id="face-guidance">
                    {move || match (in_ovals(), ui.guidance.get()) {
                        (false, _) => "",
                        (true, Some(g)) => guidance_text(g),
                        (true, None) => t.face_looking,
                    }}
                </p>
                <p class="muted">
                    {move || if in_ovals() {
                        format!("{} {}", t.face_colours_warning, fill(t.face_seconds_left, &[("seconds", &ui.seconds_left.get().to_string())]))
                    } else {
                        String::new()
                    }}
                </p>
                <Show when=move || !in_ovals()>
                    <progress id="face-colours" max=move || ui.colours.get().1.max(1) value=move || ui.colours.get().0
                        aria-label=t.face_colours_shown></progress>
                </Show>
                <button type="button" class="secondary small" node_ref=stop_button on:click=move |_| stop()>{t.stop}</button>
            </div>
            <div class="picture">
                // Styles through the CSSOM (`style:`), which the pages' CSP allows; a style
                // attribute would need 'unsafe-inline'.
                <div class="window" style:clip-path=move || window_clip(oval())>
                    <video node_ref=video autoplay=true playsinline=true muted=true aria-label=t.face_your_camera></video>
                </div>
                <div class="oval" aria-hidden="true" style:left=move || pct(oval().left) style:top=move || pct(oval().top)
                    style:width=move || pct(oval().width) style:height=move || pct(oval().height)
                    class:good=move || in_ovals() && ui.guidance.get() == Some(Guidance::Good)></div>
            </div>
        </div>
        <Show when=move || phase() == Phase::Preparing>
            <div class="preparing" role="status">
                {move || match ui.download.get() {
                    Some((loaded, total)) if total > 0.0 && loaded < total => {
                        let pct = (loaded / total * 100.0).floor();
                        view! {
                            <label for="face-download">{fill(t.face_downloading, &[("pct", &pct.to_string())])}</label>
                            <progress id="face-download" max=total value=loaded></progress>
                        }.into_any()
                    }
                    _ => view! { <p>{t.face_starting_camera}</p> }.into_any(),
                }}
                <p class="muted">{t.face_colours_warning}</p>
            </div>
        </Show>
        <Show when=move || phase() == Phase::Checking>
            <p role="status">{t.checking}</p>
        </Show>
        <Show when=move || phase() == Phase::Done>
            <p role="status">{t.face_done_returning}</p>
        </Show>
        {move || match phase() {
            Phase::Failed(f) => {
                let retry = f.can_retry();
                view! {
                    <div class="failure" role="alert">
                        <h3>{f.title()}</h3>
                        <p>{f.message()}</p>
                    </div>
                    <Show when=move || retry>
                        <button type="button" on:click=move |_| run()>{t.try_again}</button>
                    </Show>
                }.into_any()
            }
            _ => ().into_any(),
        }}
        {other_link}
    }
}
