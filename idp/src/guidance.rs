//! Live guidance on the login page, pure: from what the face tracker saw in a camera frame
//! ([`TrackReport`]) and the oval the page shows, to what the person is told ([`Guidance`]:
//! move back, come closer, into the oval; the page says it in the person's language) and
//! when a frame is good to capture ([`Capture`]); where the page draws an oval
//! ([`shown_oval`]) and which part of the camera's picture is the frame ([`camera_crop`]);
//! and when, within each colour of the light sequence, the page takes its frame
//! ([`light_frame_time`], [`next_colour_time`]).
//!
//! The page's tolerances are stricter than the server's ([`crate::face`]) by a margin, so a
//! frame the page accepts also fits when the worker measures it.
//!
//! # The capture
//! 1. The small oval (`far`, the person at arm's length): as many frames as the challenge
//!    asks for (`far_frames`).
//! 2. The large oval (`near`, close to the screen): `near_frames` frames.
//! 3. The colours (`light`): one frame in each, timed by the page, not by the tracker.
//!
//! In the ovals a frame is taken once [`STEADY_FRAMES`] tracked frames in a row fit the
//! oval, and no sooner than [`FRAME_GAP_MS`] after the one before.

use crate::face::FRONTAL_MAX;
use biopass_proto::login::{CapturePhase, FaceChallenge, Oval};
use biopass_proto::tracker::TrackReport;

/// Smallest mean luma (0-255) of the face (or of the frame, when no face is found).
pub const MIN_BRIGHTNESS: f32 = 45.0;
/// The page's frontal limit (yaw and pitch, degrees): the server's, less a margin.
pub const PAGE_FRONTAL_MAX: f32 = FRONTAL_MAX - 3.0;
/// Consecutive tracked frames that must fit the oval before one is captured.
pub const STEADY_FRAMES: u32 = 2;
/// Least time between two captured frames of one oval, milliseconds.
pub const FRAME_GAP_MS: f64 = 150.0;
/// The light frame is taken this far into its colour (a fraction of the colour's time,
/// from when it appeared: a camera's picture lags the screen, and more on a busy machine)...
pub const LIGHT_FRAME_SHARE: f64 = 0.7;
/// ...and never sooner than this many milliseconds after the colour appeared (the screen's
/// paint, the camera's exposure and delivery).
pub const LIGHT_FRAME_MIN_MS: f64 = 120.0;
/// The oval drawn around a face that fits: its width over the face box's width, and its
/// height over its width (in pixels).
pub const OVAL_SCALE: f32 = 1.3;
pub const OVAL_ASPECT: f32 = 1.3;

/// How closely a face must fit an oval: its width within `width` (relative) of the oval's,
/// its centre within `centre` (fractions of the frame, as a distance) of the oval's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub width: f32,
    pub centre: f32,
}

/// The small oval's tolerances.
pub const FAR_FIT: Fit = Fit { width: 0.15, centre: 0.05 };
/// The large oval's tolerances.
pub const NEAR_FIT: Fit = Fit { width: 0.12, centre: 0.06 };

/// Which oval the person is asked to fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The small oval: at arm's length.
    Far,
    /// The large oval: close to the screen.
    Near,
}

impl Stage {
    /// The tolerances of this oval.
    pub fn fit(self) -> Fit {
        match self {
            Self::Far => FAR_FIT,
            Self::Near => NEAR_FIT,
        }
    }

    /// The evidence phase of this oval's frames.
    pub fn phase(self) -> CapturePhase {
        match self {
            Self::Far => CapturePhase::Far,
            Self::Near => CapturePhase::Near,
        }
    }
}

/// What the page tells the person about the current frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guidance {
    NoFace,
    SeveralFaces,
    TooDark,
    /// The face is smaller than the oval.
    ComeCloser(Stage),
    /// The face is larger than the oval.
    MoveBack(Stage),
    /// The face is the right size but not in the oval.
    IntoOval,
    LookStraight,
    /// The frame fits the oval.
    Good,
}

impl Guidance {
    /// True when the problem is not the oval but the scene (no face, another face, the
    /// light): shown as a warning.
    pub fn is_problem(self) -> bool {
        matches!(self, Self::NoFace | Self::SeveralFaces | Self::TooDark)
    }
}

/// Guidance for one frame, aiming at `oval` with `stage`'s tolerances.
pub fn guide(report: &TrackReport, stage: Stage, oval: &Oval) -> Guidance {
    let face = match (&report.face, report.faces) {
        (_, n) if n > 1 => return Guidance::SeveralFaces,
        (Some(f), _) => f,
        (None, _) => return if report.brightness < MIN_BRIGHTNESS { Guidance::TooDark } else { Guidance::NoFace },
    };
    // Light first: moving a face in the dark does not help.
    if report.brightness < MIN_BRIGHTNESS {
        return Guidance::TooDark;
    }
    let fit = stage.fit();
    let (w, h) = (report.width.max(1) as f32, report.height.max(1) as f32);
    let [x1, y1, x2, y2] = face.bbox;
    let ratio = (x2 - x1) / w / oval.width.max(f32::EPSILON);
    if ratio < 1.0 - fit.width {
        return Guidance::ComeCloser(stage);
    }
    if ratio > 1.0 + fit.width {
        return Guidance::MoveBack(stage);
    }
    let (cx, cy) = ((x1 + x2) / 2.0 / w, (y1 + y2) / 2.0 / h);
    if (cx - oval.cx).hypot(cy - oval.cy) > fit.centre {
        return Guidance::IntoOval;
    }
    if face.yaw.abs() > PAGE_FRONTAL_MAX || face.pitch.abs() > PAGE_FRONTAL_MAX {
        return Guidance::LookStraight;
    }
    Guidance::Good
}

/// The capture in the two ovals of a challenge: its `far_frames` in the small one, then its
/// `near_frames` in the large one.
#[derive(Debug, Clone, PartialEq)]
pub struct Capture {
    far: Oval,
    near: Oval,
    /// Frames to capture in the small oval and in the large one.
    far_frames: usize,
    near_frames: usize,
    /// `None` once every oval frame is captured.
    stage: Option<Stage>,
    /// Frames captured in this stage.
    taken: usize,
    /// Good tracked frames in a row.
    steady: u32,
    /// When this stage's last frame was captured (page milliseconds).
    last_at: Option<f64>,
}

/// What to do after a tracked frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    pub guidance: Guidance,
    /// `Some(phase)` when the page should capture a frame now, for `phase`.
    pub capture: Option<CapturePhase>,
}

impl Capture {
    pub fn new(challenge: &FaceChallenge) -> Self {
        Self {
            far: challenge.far,
            near: challenge.near,
            far_frames: usize::from(challenge.far_frames.max(1)),
            near_frames: usize::from(challenge.near_frames.max(1)),
            stage: Some(Stage::Far),
            taken: 0,
            steady: 0,
            last_at: None,
        }
    }

    /// The oval the person is asked to fill now; `None` once both are done.
    pub fn target(&self) -> Option<(Stage, Oval)> {
        self.stage.map(|s| (s, self.oval(s)))
    }

    /// The oval of `stage`.
    pub fn oval(&self, stage: Stage) -> Oval {
        match stage {
            Stage::Far => self.far,
            Stage::Near => self.near,
        }
    }

    /// Takes one tracked frame at `now_ms`.
    pub fn observe(&mut self, report: &TrackReport, now_ms: f64) -> Observation {
        let Some((stage, oval)) = self.target() else {
            return Observation { guidance: Guidance::Good, capture: None };
        };
        let guidance = guide(report, stage, &oval);
        self.steady = if guidance == Guidance::Good { self.steady.saturating_add(1) } else { 0 };
        let spaced = self.last_at.is_none_or(|t| now_ms - t >= FRAME_GAP_MS);
        let capture = (self.steady >= STEADY_FRAMES && spaced).then(|| stage.phase());
        Observation { guidance, capture }
    }

    /// The frame asked for was captured at `now_ms`.
    pub fn captured(&mut self, now_ms: f64) {
        let Some(stage) = self.stage else { return };
        self.taken += 1;
        self.last_at = Some(now_ms);
        let frames = match stage {
            Stage::Far => self.far_frames,
            Stage::Near => self.near_frames,
        };
        if self.taken >= frames {
            self.stage = match stage {
                Stage::Far => Some(Stage::Near),
                Stage::Near => None,
            };
            self.taken = 0;
            self.steady = 0;
            self.last_at = None;
        }
    }

    /// True once every oval frame is captured.
    pub fn is_done(&self) -> bool {
        self.stage.is_none()
    }
}

/// Where the page draws `oval` over the picture as the person sees it (mirrored), in
/// fractions of the picture: left, top, width, height. `aspect` is the frame's width over
/// its height. The oval is [`OVAL_SCALE`] times as wide as the face it asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShownOval {
    pub left: f32,
    pub top: f32,
    pub width: f32,
    pub height: f32,
}

pub fn shown_oval(oval: &Oval, aspect: f32) -> ShownOval {
    let width = oval.width * OVAL_SCALE;
    let height = width * OVAL_ASPECT * aspect;
    // Mirrored: what is at `cx` in the camera's image is at `1 - cx` on the screen.
    ShownOval { left: 1.0 - oval.cx - width / 2.0, top: oval.cy - height / 2.0, width, height }
}

/// The part of a camera picture (`width` x `height` pixels) that is the frame: its
/// centre at the frame's `aspect` (width over height), the whole picture when it already
/// has that shape. The page shows, tracks and sends this part, so the ovals' fractions mean
/// the same in all three. `[x, y, width, height]` in the camera's pixels.
pub fn camera_crop(width: u32, height: u32, aspect: f32) -> [f32; 4] {
    let (w, h) = (width as f32, height as f32);
    if !aspect.is_finite() || aspect <= 0.0 || w <= 0.0 || h <= 0.0 {
        return [0.0, 0.0, w, h];
    }
    if w / h > aspect {
        let cw = (h * aspect).round();
        [((w - cw) / 2.0).floor(), 0.0, cw, h]
    } else {
        let ch = (w / aspect).round();
        [0.0, ((h - ch) / 2.0).floor(), w, ch]
    }
}

/// When to take the frame of a colour of `ms` milliseconds that appeared at `shown_at`
/// (page milliseconds): [`LIGHT_FRAME_SHARE`] of its time after it appeared, and never
/// within [`LIGHT_FRAME_MIN_MS`]. Counted from when it appeared, not from its place on the
/// schedule, so a colour shown late still has that long to reach the camera's picture; it
/// stays on screen for its whole time ([`next_colour_time`]).
pub fn light_frame_time(shown_at: f64, ms: u32) -> f64 {
    shown_at + (LIGHT_FRAME_SHARE * f64::from(ms)).max(LIGHT_FRAME_MIN_MS)
}

/// When the colour after one of `ms` milliseconds may appear: at its place on the
/// sequence's timeline (`nominal_end`), so a late timer does not shift every colour after
/// it, but never before this one has been shown for its whole `ms` (the server's durations
/// keep the sequence below three flashes a second), and never within the millisecond its
/// frame was taken at (`frame_at`): the evidence counts whole milliseconds, and a frame
/// stamped with the next colour's millisecond is outside its own colour's window (a grab
/// that took the rest of the colour's time, on a busy machine).
pub fn next_colour_time(nominal_end: f64, shown_at: f64, ms: u32, frame_at: f64) -> f64 {
    nominal_end.max(shown_at + f64::from(ms)).max(frame_at + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::{LIGHT_LAG_MS, OVAL_CENTRE, OVAL_WIDTH};
    use biopass_proto::tracker::TrackedFace;

    const FAR: Oval = Oval { cx: 0.45, cy: 0.5, width: 0.25 };
    const NEAR: Oval = Oval { cx: 0.5, cy: 0.5, width: 0.45 };

    /// A frontal, still face of `width` (fraction of 640) centred at (`cx`, `cy`).
    fn face_at(cx: f32, cy: f32, width: f32) -> TrackReport {
        let (w, h) = (width * 640.0, width * 640.0 * 1.2);
        let (x, y) = (cx * 640.0, cy * 480.0);
        TrackReport {
            width: 640,
            height: 480,
            faces: 1,
            face: Some(TrackedFace { bbox: [x - w / 2.0, y - h / 2.0, x + w / 2.0, y + h / 2.0], yaw: 2.0, pitch: -1.0, roll: 0.0, motion: Some(0.0) }),
            brightness: 120.0,
            millis: 10.0,
        }
    }

    #[test]
    fn the_page_is_stricter_than_the_server() {
        const {
            assert!(1.0 - FAR_FIT.width >= *OVAL_WIDTH.start() && 1.0 + FAR_FIT.width <= *OVAL_WIDTH.end());
            assert!(1.0 - NEAR_FIT.width >= *OVAL_WIDTH.start() && 1.0 + NEAR_FIT.width <= *OVAL_WIDTH.end());
            // The server allows OVAL_CENTRE on each axis; the page, a distance.
            assert!(FAR_FIT.centre <= OVAL_CENTRE && NEAR_FIT.centre <= OVAL_CENTRE);
            assert!(PAGE_FRONTAL_MAX < FRONTAL_MAX);
        };
    }

    #[test]
    fn scene_problems_come_first() {
        let mut r = face_at(FAR.cx, FAR.cy, FAR.width);
        assert_eq!(guide(&r, Stage::Far, &FAR), Guidance::Good);
        r.faces = 2;
        assert_eq!(guide(&r, Stage::Far, &FAR), Guidance::SeveralFaces);
        r.faces = 0;
        r.face = None;
        assert_eq!(guide(&r, Stage::Far, &FAR), Guidance::NoFace);
        r.brightness = 10.0;
        assert_eq!(guide(&r, Stage::Far, &FAR), Guidance::TooDark, "a black frame is dark, not faceless");
        // A dark face is told so before where to go.
        let mut dark = face_at(0.7, FAR.cy, 0.4);
        dark.brightness = 30.0;
        assert_eq!(guide(&dark, Stage::Far, &FAR), Guidance::TooDark);
        for g in [Guidance::NoFace, Guidance::SeveralFaces, Guidance::TooDark] {
            assert!(g.is_problem());
        }
        assert!(!Guidance::ComeCloser(Stage::Near).is_problem() && !Guidance::Good.is_problem());
    }

    #[test]
    fn the_face_must_be_the_small_ovals_size_within_15_percent() {
        let at = |width| guide(&face_at(FAR.cx, FAR.cy, width), Stage::Far, &FAR);
        assert_eq!(at(FAR.width * 0.86), Guidance::Good);
        assert_eq!(at(FAR.width * 1.14), Guidance::Good);
        assert_eq!(at(FAR.width * 0.84), Guidance::ComeCloser(Stage::Far));
        // Where a sign-in starts: the face at the laptop's usual distance, too big.
        assert_eq!(at(0.4), Guidance::MoveBack(Stage::Far));
    }

    #[test]
    fn the_face_must_be_the_large_ovals_size_within_12_percent() {
        let at = |width| guide(&face_at(NEAR.cx, NEAR.cy, width), Stage::Near, &NEAR);
        assert_eq!(at(NEAR.width * 0.89), Guidance::Good);
        assert_eq!(at(NEAR.width * 1.11), Guidance::Good);
        assert_eq!(at(NEAR.width * 0.87), Guidance::ComeCloser(Stage::Near));
        assert_eq!(at(NEAR.width * 1.13), Guidance::MoveBack(Stage::Near));
        // The face still at arm's length when the large oval appears.
        assert_eq!(at(FAR.width), Guidance::ComeCloser(Stage::Near));
    }

    #[test]
    fn the_face_must_be_centred_in_the_oval() {
        let far = |dx: f32, dy: f32| guide(&face_at(FAR.cx + dx, FAR.cy + dy, FAR.width), Stage::Far, &FAR);
        assert_eq!(far(0.04, 0.0), Guidance::Good);
        assert_eq!(far(0.0, -0.049), Guidance::Good);
        assert_eq!(far(0.06, 0.0), Guidance::IntoOval);
        assert_eq!(far(0.04, 0.04), Guidance::IntoOval, "a distance, not per axis");
        let near = |dx: f32| guide(&face_at(NEAR.cx + dx, NEAR.cy, NEAR.width), Stage::Near, &NEAR);
        assert_eq!(near(0.055), Guidance::Good);
        assert_eq!(near(-0.065), Guidance::IntoOval);
    }

    #[test]
    fn a_turned_face_is_asked_to_look_straight() {
        let mut r = face_at(FAR.cx, FAR.cy, FAR.width);
        if let Some(f) = r.face.as_mut() {
            f.yaw = PAGE_FRONTAL_MAX + 1.0;
        }
        assert_eq!(guide(&r, Stage::Far, &FAR), Guidance::LookStraight);
    }

    fn challenge(far_frames: u8, near_frames: u8) -> FaceChallenge {
        FaceChallenge {
            nonce: String::new(),
            expires_at: 0,
            purpose: biopass_proto::login::FacePurpose::Authenticate,
            far: FAR,
            near: NEAR,
            far_frames,
            near_frames,
            flashes: Vec::new(),
            frame_width: 320,
            frame_height: 240,
        }
    }

    #[test]
    fn capture_takes_as_many_frames_as_the_challenge_asks() {
        let far = face_at(FAR.cx, FAR.cy, FAR.width);
        let near = face_at(NEAR.cx, NEAR.cy, NEAR.width);
        let mut c = Capture::new(&challenge(1, 2));
        let mut taken = Vec::new();
        let mut t = 0.0;
        while !c.is_done() && t < 10_000.0 {
            let face = if c.target().is_some_and(|(s, _)| s == Stage::Far) { &far } else { &near };
            if let Some(phase) = c.observe(face, t).capture {
                taken.push(phase);
                c.captured(t);
            }
            t += 60.0;
        }
        assert_eq!(taken, [CapturePhase::Far, CapturePhase::Near, CapturePhase::Near]);
    }

    #[test]
    fn capture_takes_two_far_frames_then_three_near_ones_after_steady_frames() {
        let mut c = Capture::new(&challenge(2, 3));
        let far = face_at(FAR.cx, FAR.cy, FAR.width);
        let near = face_at(NEAR.cx, NEAR.cy, NEAR.width);
        let close = face_at(FAR.cx, FAR.cy, 0.4);
        assert_eq!(c.target(), Some((Stage::Far, FAR)));
        assert_eq!(c.observe(&close, 0.0).guidance, Guidance::MoveBack(Stage::Far));
        assert_eq!(c.observe(&far, 60.0).capture, None, "one good frame is not enough");
        assert_eq!(c.observe(&close, 120.0).capture, None, "a bad frame resets the streak");
        assert_eq!(c.observe(&far, 180.0).capture, None);
        assert_eq!(c.observe(&far, 240.0).capture, Some(CapturePhase::Far));
        c.captured(245.0);
        assert_eq!(c.observe(&far, 300.0).capture, None, "too soon after the last frame");
        assert_eq!(c.observe(&far, 400.0).capture, Some(CapturePhase::Far));
        c.captured(400.0);
        // The large oval: the face is still far, then comes closer.
        assert_eq!(c.target(), Some((Stage::Near, NEAR)));
        let seen = c.observe(&far, 460.0);
        assert_eq!((seen.guidance, seen.capture), (Guidance::ComeCloser(Stage::Near), None));
        assert_eq!(c.observe(&near, 520.0).capture, None, "the streak starts again in a new oval");
        let mut t = 580.0;
        for _ in 0..3 {
            assert_eq!(c.observe(&near, t).capture, Some(CapturePhase::Near));
            c.captured(t);
            t += FRAME_GAP_MS;
        }
        assert!(c.is_done());
        assert_eq!(c.target(), None);
        assert_eq!(c.observe(&near, t).capture, None);
    }

    #[test]
    fn the_oval_is_drawn_mirrored_around_the_face() {
        let o = shown_oval(&Oval { cx: 0.4, cy: 0.5, width: 0.25 }, 4.0 / 3.0);
        // The face left of centre in the camera's image is right of centre on the screen.
        assert!((o.left + o.width / 2.0 - 0.6).abs() < 1e-6);
        assert!((o.top + o.height / 2.0 - 0.5).abs() < 1e-6);
        assert!((o.width - 0.25 * OVAL_SCALE).abs() < 1e-6);
        // Taller than wide on the screen: height in pixels over width in pixels.
        assert!((o.height / o.width * 3.0 / 4.0 - OVAL_ASPECT).abs() < 1e-5);
    }

    #[test]
    fn the_frame_is_the_centre_of_the_camera_picture_at_the_frames_shape() {
        assert_eq!(camera_crop(640, 480, 4.0 / 3.0), [0.0, 0.0, 640.0, 480.0]);
        assert_eq!(camera_crop(1280, 720, 4.0 / 3.0), [160.0, 0.0, 960.0, 720.0]);
        assert_eq!(camera_crop(480, 640, 4.0 / 3.0), [0.0, 140.0, 480.0, 360.0]);
        assert_eq!(camera_crop(0, 0, 4.0 / 3.0), [0.0, 0.0, 0.0, 0.0]);
        assert_eq!(camera_crop(640, 480, f32::NAN), [0.0, 0.0, 640.0, 480.0]);
    }

    #[test]
    fn light_frames_are_taken_late_in_each_colour_and_colours_never_shortened() {
        // 70 % in, from when the colour appeared, however late that was.
        assert_eq!(light_frame_time(1000.0, 200), 1140.0);
        assert_eq!(light_frame_time(1000.0, 600), 1420.0);
        assert_eq!(light_frame_time(1030.0, 200), 1170.0);
        // Never within its first 120 ms.
        assert_eq!(light_frame_time(1000.0, 100), 1120.0);
        // The next colour keeps to the timeline, but this one is shown for its whole time.
        assert_eq!(next_colour_time(1200.0, 1000.0, 200, 1140.0), 1200.0);
        assert_eq!(next_colour_time(1200.0, 1004.0, 200, 1144.0), 1204.0);
        // A grab that ended after the colour's time: the next colour waits a millisecond,
        // so the frame's whole-millisecond time is inside its own colour's window.
        let late = 1200.3;
        let next = next_colour_time(1200.0, 1000.0, 200, late);
        let windows = [(1000 + LIGHT_LAG_MS, next.floor() as u32)];
        assert_eq!(crate::face::flash_at(&windows, late.floor() as u32), Some(0), "{next}");
        for ms in [200u32, 250, 400, 600, 1000] {
            let at = light_frame_time(0.0, ms);
            assert!(at >= LIGHT_FRAME_MIN_MS && at < f64::from(ms), "{ms}: {at}");
            // The server's lag: a frame it can read the colour in.
            assert!(at >= f64::from(LIGHT_LAG_MS));
        }
    }
}
