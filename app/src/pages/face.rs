//! The face step of the universal login: consent (enrolment), camera and model start-up
//! with progress, live guidance in an oval, the challenge's head movements, and the
//! evidence sent to the worker, which decides. Every failure ends in a sentence a person
//! understands and a way forward (try again, or another authenticator).

use super::login::{use_advance, AfterSignIn};
use crate::api::{self, ApiFail};
use crate::face::{mark, next_video_frame, now_ms, Camera, CameraError, TrackerWorker};
use biopass_idp::face::{movement_name, CHALLENGE_LIFETIME, FRONTAL_FRAMES};
use biopass_idp::guidance::{target_after, Capture, Guidance, Target};
use biopass_proto::error::ApiErrorCode;
use biopass_proto::login::{FaceEvidence, FacePurpose, HeadMovement, LoginStep};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use js_sys::Promise;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Seconds kept in hand before the challenge's expiry for the upload and the check.
const UPLOAD_MARGIN: u64 = 8;

#[derive(Debug, Clone, PartialEq)]
enum Failure {
    Camera(CameraError),
    Tracker(String),
    TimedOut,
    Api(ApiFail),
}

impl Failure {
    fn title(&self) -> &'static str {
        match self {
            Self::Camera(CameraError::PermissionDenied) => "Camera access refused",
            Self::Camera(CameraError::NoCamera) => "No camera found",
            Self::Camera(CameraError::InUse) => "Camera in use",
            Self::Camera(_) => "The camera did not start",
            Self::Tracker(_) => "Face tracking did not start",
            Self::TimedOut => "Time is up",
            Self::Api(e) => match e.code {
                ApiErrorCode::Locked => "Face sign-in is locked",
                ApiErrorCode::WrongAnswer => "Not recognised",
                ApiErrorCode::Expired => "This check has expired",
                _ => "We could not check your face",
            },
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Camera(e) => e.message(),
            Self::Tracker(m) => format!("The face models could not be loaded ({m}). Check your connection and try again."),
            Self::TimedOut => format!("The face check must be finished within {CHALLENGE_LIFETIME} seconds. Try again, and follow the instructions under the picture."),
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
    steps: RwSignal<Vec<HeadMovement>>,
    /// Captures done (below `FRONTAL_FRAMES`: frontal ones; `FRONTAL_FRAMES + k`: k movements).
    done: RwSignal<usize>,
    seconds_left: RwSignal<u64>,
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
    let worker = Rc::new(TrackerWorker::start(move |loaded, total| {
        let _ = download.try_set(Some((loaded, total)));
    }).map_err(Failure::Tracker)?);
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

/// One face check: camera + models, challenge, capture, evidence.
async fn attempt(tx: String, consent: bool, after: Option<AfterSignIn>, ui: Ui, video: NodeRef<leptos::html::Video>, alive: Arc<AtomicBool>) -> Result<LoginStep, Failure> {
    mark("biopass:face-start");
    let (worker, ready) = tracker(ui.download)?;
    let element = video_element(video)?;
    let camera = Camera::open(&element).await.map_err(Failure::Camera)?;
    mark("biopass:camera-open");
    models_ready(ready).await?;
    mark("biopass:camera-ready");
    let challenge = api::face_challenge(&tx).await.map_err(Failure::Api)?;
    let deadline = now_ms() + ((CHALLENGE_LIFETIME - UPLOAD_MARGIN) * 1000) as f64;
    ui.steps.set(challenge.steps.clone());
    ui.done.set(0);
    ui.phase.set(Phase::Capturing);
    let mut capture = Capture::new(challenge.steps.clone());
    let mut frames = Vec::new();
    while !capture.is_done() {
        if !alive.load(Ordering::Relaxed) {
            return Err(Failure::TimedOut);
        }
        let left = deadline - now_ms();
        if left <= 0.0 {
            return Err(Failure::TimedOut);
        }
        ui.seconds_left.set((left / 1000.0).ceil() as u64);
        // Only new camera frames: the page paints faster than most cameras deliver, and
        // "hold still" must compare two different frames.
        next_video_frame(&element).await;
        mark("biopass:grab");
        let report = worker.track(&element).await.map_err(Failure::Tracker)?;
        mark("biopass:tracked");
        let seen = capture.observe(&report);
        ui.guidance.set(Some(seen.guidance));
        if let Some(step) = seen.capture {
            if let Some(frame) = worker.capture(step).await.map_err(Failure::Tracker)? {
                frames.push(frame);
                capture.captured();
                ui.done.set(capture.progress().0);
            }
        }
    }
    mark("biopass:last-step");
    drop(camera);
    ui.phase.set(Phase::Checking);
    let (forget_face, add_authenticator) = after.map(AfterSignIn::get).unwrap_or_default();
    let evidence = FaceEvidence { nonce: challenge.nonce, frames, consent, forget_face, add_authenticator };
    let done = api::face_evidence(&tx, &evidence).await.map_err(Failure::Api)?;
    mark("biopass:face-verified");
    Ok(done)
}

fn instruction(target: Option<Target>) -> String {
    match target {
        Some(Target::Frontal) | None => "Look straight at the camera".into(),
        Some(Target::Move(m)) => {
            let name = movement_name(m);
            let mut s = name[..1].to_uppercase();
            s.push_str(&name[1..]);
            s
        }
    }
}

/// The face step. `purpose` says whether it enrols (consent first) or authenticates;
/// `other` is the label and action of another authenticator, when there is one.
#[component]
pub fn FaceStep(
    tx: String,
    purpose: FacePurpose,
    #[prop(optional)] other: Option<(&'static str, Callback<()>)>,
    /// Authentication: what the person asked for once this check succeeds.
    #[prop(optional)] after: Option<AfterSignIn>,
) -> impl IntoView {
    let ui = Ui {
        phase: RwSignal::new(if purpose == FacePurpose::Enrol { Phase::Consent } else { Phase::Preparing }),
        download: RwSignal::new(None),
        guidance: RwSignal::new(None),
        steps: RwSignal::new(Vec::new()),
        done: RwSignal::new(0),
        seconds_left: RwSignal::new(CHALLENGE_LIFETIME),
    };
    let consent = RwSignal::new(false);
    let advance = use_advance();
    let video = NodeRef::<leptos::html::Video>::new();
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
            spawn_local(async move {
                match attempt(tx, consent.get_untracked(), after, ui, video, alive.clone()).await {
                    Ok(next) => {
                        if matches!(next, LoginStep::Done { .. }) {
                            let _ = ui.phase.try_set(Phase::Done);
                        }
                        advance.run(next);
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
    let camera_on = move || matches!(phase(), Phase::Preparing | Phase::Capturing);
    let target = move || {
        let done = ui.done.get();
        ui.steps.with(|s| target_after(s, done))
    };
    let heading = if purpose == FacePurpose::Enrol { "Set up face sign-in" } else { "Sign in with your face" };
    let other_link = other.map(|(label, go)| view! {
        <p class="alternative"><button type="button" class="link" on:click=move |_| go.run(())>{label}</button></p>
    });
    view! {
        <h2>{heading}</h2>
        <Show when=move || phase() == Phase::Consent>
            <div class="consent">
                <p>"Biopass will use your camera to check that you are a live person and to learn your face: look at the camera, then move your head as asked (it takes about 20 seconds)."</p>
                <ul>
                    <li>"From a few pictures we compute a face template: numbers that describe your face. It is stored encrypted and used only to recognise you when you sign in."</li>
                    <li>"The pictures are used for this check and not kept."</li>
                    <li>"You can delete it at any time when you sign in (\u{201c}Delete my face data\u{201d}), and so can your administrator."</li>
                </ul>
                <label class="check">
                    <input type="checkbox" id="face-consent" prop:checked=move || consent.get() on:change=move |ev| consent.set(event_target_checked(&ev))/>
                    "I agree to Biopass processing my face (biometric data) to sign me in."
                </label>
                <button type="button" disabled=move || !consent.get() on:click=move |_| run()>"Continue"</button>
            </div>
        </Show>
        <div class="camera" class:hidden=move || !camera_on() aria-hidden=move || (!camera_on()).to_string()>
            <video node_ref=video autoplay=true playsinline=true muted=true aria-label="Your camera"></video>
            <svg class="oval" viewBox="0 0 640 480" aria-hidden="true" class:good=move || ui.guidance.get() == Some(Guidance::Good)>
                <ellipse cx="320" cy="240" rx="125" ry="165"></ellipse>
            </svg>
        </div>
        <Show when=move || phase() == Phase::Preparing>
            <div class="preparing" role="status">
                {move || match ui.download.get() {
                    Some((loaded, total)) if total > 0.0 && loaded < total => {
                        let pct = (loaded / total * 100.0).floor();
                        view! {
                            <label for="face-download">{format!("Downloading the face models… {pct}%")}</label>
                            <progress id="face-download" max=total value=loaded></progress>
                        }.into_any()
                    }
                    _ => view! { <p>"Starting the camera…"</p> }.into_any(),
                }}
            </div>
        </Show>
        <Show when=move || phase() == Phase::Capturing>
            <p class="instruction" id="face-instruction">{move || instruction(target())}</p>
            <p class=move || if ui.guidance.get().is_some_and(|g| g.is_problem()) { "guidance warn" } else { "guidance" } role="status" aria-live="polite" id="face-guidance">
                {move || ui.guidance.get().map(|g| g.message()).unwrap_or_else(|| "Looking for your face…".into())}
            </p>
            <ol class="face-steps" aria-label="Steps">
                <li class:done={move || ui.done.get() >= FRONTAL_FRAMES} aria-current=move || (ui.done.get() < FRONTAL_FRAMES).then_some("step")>"Look at the camera"</li>
                <For each=move || ui.steps.get().into_iter().enumerate() key=|(i, m)| (*i, *m) let((i, m))>
                    <li class:done={move || ui.done.get() > i + FRONTAL_FRAMES} aria-current=move || (ui.done.get() == i + FRONTAL_FRAMES).then_some("step")>{instruction(Some(Target::Move(m)))}</li>
                </For>
            </ol>
            <p class="muted">{move || format!("{} seconds left", ui.seconds_left.get())}</p>
        </Show>
        <Show when=move || phase() == Phase::Checking>
            <p role="status">"Checking…"</p>
        </Show>
        <Show when=move || phase() == Phase::Done>
            <p role="status">"Done. Returning to the application…"</p>
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
                        <button type="button" on:click=move |_| run()>"Try again"</button>
                    </Show>
                }.into_any()
            }
            _ => ().into_any(),
        }}
        {other_link}
    }
}
