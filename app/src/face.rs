//! The camera and the face tracker's Web Worker, for the login page's face step. No UI
//! here: `pages::face` drives these and shows what they report.
//!
//! - [`Camera`]: `getUserMedia` into a `<video>`, its errors in words a person
//!   understands ([`CameraError`]), stopped when dropped.
//! - [`TrackerWorker`]: `public/face-worker.js` (a module worker running the
//!   `biopass-tracker` wasm): model download with progress, one tracked frame. One request
//!   at a time; answers come back in order.
//! - [`Grabbed`]: a whole camera frame drawn at the evidence's size the moment it is
//!   taken, encoded to JPEG later ([`Grabbed::jpeg_base64`]).
//! - [`prefers_reduced_motion`], [`set_screen_colour`], [`sleep_until`]: what the light
//!   sequence needs.

use biopass_proto::login::ScreenColour;
use biopass_proto::tracker::TrackReport;
use js_sys::{Array, Function, Object, Promise, Reflect};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CanvasRenderingContext2d, DomException, HtmlCanvasElement, HtmlElement, HtmlVideoElement, ImageBitmapOptions, MediaStream, MediaStreamConstraints,
    MessageEvent, Worker, WorkerOptions, WorkerType,
};

/// Why the camera could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraError {
    /// The page is not in a secure context, or the browser has no camera API.
    Unsupported,
    PermissionDenied,
    NoCamera,
    InUse,
    Other(String),
}

impl CameraError {
    pub fn message(&self) -> String {
        let t = crate::lang::t();
        match self {
            Self::Unsupported => t.camera_unsupported.into(),
            Self::PermissionDenied => t.camera_refused_what.into(),
            Self::NoCamera => t.camera_none_what.into(),
            Self::InUse => t.camera_in_use_what.into(),
            Self::Other(m) => biopass_i18n::fill(t.camera_failed_what, &[("m", m)]),
        }
    }

    fn from_js(e: &JsValue) -> Self {
        match e.dyn_ref::<DomException>().map(|d| d.name()) {
            Some(n) if n == "NotAllowedError" || n == "SecurityError" => Self::PermissionDenied,
            Some(n) if n == "NotFoundError" || n == "OverconstrainedError" => Self::NoCamera,
            Some(n) if n == "NotReadableError" || n == "AbortError" => Self::InUse,
            Some(n) => Self::Other(n),
            None => Self::Other(describe(e)),
        }
    }
}

fn describe(e: &JsValue) -> String {
    Reflect::get(e, &"message".into()).ok().and_then(|m| m.as_string()).or_else(|| e.as_string()).unwrap_or_else(|| "unknown error".into())
}

fn set(o: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(o, &key.into(), &value.into());
}

/// A running camera shown in a `<video>`; stopped (light off) when dropped.
pub struct Camera {
    stream: MediaStream,
}

impl Camera {
    /// Asks for the front camera at 640x480 and plays it in `video`.
    ///
    /// # Errors
    /// [`CameraError`] for a refusal, a missing or busy camera.
    pub async fn open(video: &HtmlVideoElement) -> Result<Camera, CameraError> {
        let devices = web_sys::window().and_then(|w| w.navigator().media_devices().ok()).ok_or(CameraError::Unsupported)?;
        let wanted = Object::new();
        set(&wanted, "facingMode", "user");
        let ideal = |n: u32| {
            let o = Object::new();
            set(&o, "ideal", n);
            o
        };
        set(&wanted, "width", ideal(640));
        set(&wanted, "height", ideal(480));
        let constraints = MediaStreamConstraints::new();
        constraints.set_video(&wanted);
        constraints.set_audio(&JsValue::FALSE);
        let promise = devices.get_user_media_with_constraints(&constraints).map_err(|e| CameraError::from_js(&e))?;
        let stream: MediaStream = JsFuture::from(promise).await.map_err(|e| CameraError::from_js(&e))?.unchecked_into();
        let camera = Camera { stream };
        video.set_muted(true);
        video.set_src_object(Some(&camera.stream));
        if let Ok(p) = video.play() {
            JsFuture::from(p).await.map_err(|e| CameraError::from_js(&e))?;
        }
        // The first frame's size arrives a moment after play() on some cameras.
        for _ in 0..100 {
            if video.video_width() > 0 {
                return Ok(camera);
            }
            sleep(20).await;
        }
        Err(CameraError::Other("the camera sends no picture".into()))
    }
}

impl Drop for Camera {
    fn drop(&mut self) {
        for track in self.stream.get_tracks().iter() {
            if let Ok(t) = track.dyn_into::<web_sys::MediaStreamTrack>() {
                t.stop();
            }
        }
    }
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(p).await;
}

/// Resolves at `at` (page milliseconds, as [`now_ms`]), at once when that has passed.
pub async fn sleep_until(at: f64) {
    // A timer may fire a fraction of a millisecond early; the colours' times must not.
    loop {
        let left = at - now_ms();
        if left <= 0.0 {
            return;
        }
        sleep(left.ceil() as i32).await;
    }
}

/// True when the person asked their system for less motion (`prefers-reduced-motion`).
pub fn prefers_reduced_motion() -> bool {
    web_sys::window().and_then(|w| w.match_media("(prefers-reduced-motion: reduce)").ok().flatten()).is_some_and(|m| m.matches())
}

/// Fills `screen` with `colour` at once (not at the next reactive update: the light
/// sequence's timing is the page's clock), or gives it back to the style sheet (white).
pub fn set_screen_colour(screen: &HtmlElement, colour: Option<ScreenColour>) {
    let style = screen.style();
    let _ = match colour {
        Some(c) => style.set_property("background-color", &c.css()),
        None => style.remove_property("background-color").map(|_| ()),
    };
}

/// The part of `video`'s picture that is the frame (`biopass_idp::guidance::camera_crop`).
fn crop_of(video: &HtmlVideoElement, aspect: f32) -> [f64; 4] {
    biopass_idp::guidance::camera_crop(video.video_width(), video.video_height(), aspect).map(f64::from)
}

/// A whole camera frame, drawn at the evidence's size when it was taken.
pub struct Grabbed {
    canvas: HtmlCanvasElement,
    /// When it was drawn (page milliseconds).
    pub at: f64,
}

impl Grabbed {
    /// Draws the frame `video` shows now (its [`crop_of`] at `width` x `height`, as the
    /// camera sees it: not mirrored) and notes the time right after.
    ///
    /// # Errors
    /// The page cannot make a 2D canvas.
    pub fn take(video: &HtmlVideoElement, width: u32, height: u32) -> Result<Grabbed, String> {
        let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
        let canvas: HtmlCanvasElement = document.create_element("canvas").map_err(|e| describe(&e))?.unchecked_into();
        canvas.set_width(width);
        canvas.set_height(height);
        let ctx: CanvasRenderingContext2d = canvas.get_context("2d").map_err(|e| describe(&e))?.ok_or("no 2D canvas")?.unchecked_into();
        // Averaging, not nearest-pixel: the frame is half the camera's size or less.
        let _ = Reflect::set(&ctx, &"imageSmoothingQuality".into(), &"high".into());
        let [x, y, w, h] = crop_of(video, width as f32 / height.max(1) as f32);
        ctx.draw_image_with_html_video_element_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(video, x, y, w, h, 0.0, 0.0, f64::from(width), f64::from(height))
            .map_err(|e| describe(&e))?;
        Ok(Grabbed { canvas, at: now_ms() })
    }

    /// The frame as JPEG at `quality` (0-1), base64 without the data-URL prefix.
    ///
    /// # Errors
    /// The browser cannot encode it.
    pub fn jpeg_base64(&self, quality: f64) -> Result<String, String> {
        let url = self.canvas.to_data_url_with_type_and_encoder_options("image/jpeg", &quality.into()).map_err(|e| describe(&e))?;
        url.split_once(',').map(|(_, b64)| b64.to_owned()).ok_or_else(|| "the frame could not be encoded".into())
    }
}

#[wasm_bindgen]
extern "C" {
    /// A video element with `requestVideoFrameCallback` (not in web-sys yet).
    #[wasm_bindgen(extends = HtmlVideoElement)]
    type FrameCallbackVideo;
    #[wasm_bindgen(method, js_name = requestVideoFrameCallback)]
    fn request_video_frame_callback(this: &FrameCallbackVideo, callback: &Function) -> u32;
}

/// Resolves when `video` presents its next camera frame (`requestVideoFrameCallback`), or
/// at the next animation frame in browsers without it.
pub async fn next_video_frame(video: &HtmlVideoElement) {
    let has_callback = Reflect::has(video, &"requestVideoFrameCallback".into()).unwrap_or(false);
    let p = Promise::new(&mut |resolve, _| {
        if has_callback {
            video.unchecked_ref::<FrameCallbackVideo>().request_video_frame_callback(&resolve);
        } else if let Some(w) = web_sys::window() {
            let _ = w.request_animation_frame(&resolve);
        }
    });
    let _ = JsFuture::from(p).await;
}

/// Milliseconds since the page started (`performance.now()`).
pub fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or_default()
}

/// A named instant in the page's performance timeline (read by the benchmarks).
pub fn mark(name: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.mark(name);
    }
}

/// The models are ready.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loaded {
    /// Every file came from Cache Storage.
    pub cached: bool,
}

type Waiting = Rc<RefCell<Option<Function>>>;

/// Widest frame the tracker is sent (the detector works on less; larger camera pictures
/// are scaled down on the way).
pub const TRACK_WIDTH: u32 = 640;

/// The face tracker's Web Worker; terminated when dropped.
pub struct TrackerWorker {
    worker: Worker,
    waiting: Waiting,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

fn field(o: &JsValue, key: &str) -> JsValue {
    Reflect::get(o, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

impl TrackerWorker {
    /// Starts the worker; `on_progress(loaded, total)` gets the download's bytes.
    ///
    /// # Errors
    /// The browser cannot start module workers.
    pub fn start(on_progress: impl Fn(f64, f64) + 'static) -> Result<TrackerWorker, String> {
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let worker = Worker::new_with_options("/face-worker.js", &options).map_err(|e| describe(&e))?;
        let waiting: Waiting = Rc::new(RefCell::new(None));
        let on_message = {
            let waiting = waiting.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
                let data = ev.data();
                if field(&data, "type").as_string().as_deref() == Some("progress") {
                    on_progress(field(&data, "loaded").as_f64().unwrap_or(0.0), field(&data, "total").as_f64().unwrap_or(0.0));
                } else if let Some(resolve) = waiting.borrow_mut().take() {
                    let _ = resolve.call1(&JsValue::NULL, &data);
                }
            })
        };
        let on_error = {
            let waiting = waiting.clone();
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |ev: web_sys::ErrorEvent| {
                ev.prevent_default();
                let answer = Object::new();
                set(&answer, "type", "error");
                set(&answer, "message", format!("the face tracker stopped: {}", ev.message()));
                if let Some(resolve) = waiting.borrow_mut().take() {
                    let _ = resolve.call1(&JsValue::NULL, &answer);
                }
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(TrackerWorker { worker, waiting, _on_message: on_message, _on_error: on_error })
    }

    /// Posts `message` now; the returned future resolves with the answer.
    fn request(&self, message: &Object, transfer: Option<&Array>) -> impl std::future::Future<Output = Result<JsValue, String>> {
        let waiting = self.waiting.clone();
        let answer = Promise::new(&mut |resolve, _| {
            *waiting.borrow_mut() = Some(resolve);
        });
        let posted = match transfer {
            Some(t) => self.worker.post_message_with_transfer(message, t),
            None => self.worker.post_message(message),
        };
        async move {
            posted.map_err(|e| describe(&e))?;
            let data = JsFuture::from(answer).await.map_err(|e| describe(&e))?;
            if field(&data, "type").as_string().as_deref() == Some("error") {
                return Err(field(&data, "message").as_string().unwrap_or_else(|| "the face tracker failed".into()));
            }
            Ok(data)
        }
    }

    fn message(kind: &str) -> Object {
        let o = Object::new();
        set(&o, "type", kind);
        o
    }

    /// Downloads (or takes from the cache) and loads the tracker and its models. The
    /// request is posted at once; await the future when the result is needed.
    pub fn load(&self) -> impl std::future::Future<Output = Result<Loaded, String>> {
        let answer = self.request(&Self::message("load"), None);
        async move {
            let data = answer.await?;
            Ok(Loaded { cached: field(&data, "cached").as_bool().unwrap_or(false) })
        }
    }

    /// Tracks the frame `video` shows now: the part of it at `aspect` that is the
    /// evidence's frame, at most [`TRACK_WIDTH`] wide.
    ///
    /// # Errors
    /// The frame cannot be grabbed or the tracker fails.
    pub async fn track(&self, video: &HtmlVideoElement, aspect: f32) -> Result<TrackReport, String> {
        let window = web_sys::window().ok_or("no window")?;
        let [x, y, w, h] = crop_of(video, aspect);
        let options = ImageBitmapOptions::new();
        if w > f64::from(TRACK_WIDTH) {
            options.set_resize_width(TRACK_WIDTH);
            options.set_resize_height((f64::from(TRACK_WIDTH) * h / w).round() as u32);
        }
        let (x, y, w, h) = (x as i32, y as i32, w as i32, h as i32);
        let bitmap = window
            .create_image_bitmap_with_html_video_element_and_a_sx_and_a_sy_and_a_sw_and_a_sh_and_a_options(video, x, y, w, h, &options)
            .map_err(|e| describe(&e))?;
        let bitmap = JsFuture::from(bitmap).await.map_err(|e| describe(&e))?;
        let message = Self::message("track");
        set(&message, "bitmap", bitmap.clone());
        let data = self.request(&message, Some(&Array::of1(&bitmap))).await?;
        let text = field(&data, "report").as_string().ok_or("the face tracker sent no report")?;
        serde_json::from_str(&text).map_err(|e| e.to_string())
    }
}

impl Drop for TrackerWorker {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}
