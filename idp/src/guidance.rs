//! Live guidance on the login page, pure: from what the face tracker saw in a camera frame
//! ([`TrackReport`]) to what the person is told ("move closer", "hold still", "turn your
//! head to your left"), and when a frame is good enough to become evidence.
//!
//! The page's thresholds are stricter than the server's ([`crate::face`]) by a margin, so
//! a frame the page accepts also passes when the worker re-measures it on the crops.

use crate::face::{movement_name, FRONTAL_FRAMES, FRONTAL_MAX, LOOK_UP_PITCH, TURN_YAW};
use biopass_proto::login::HeadMovement;
use biopass_proto::tracker::TrackReport;

/// Smallest face width, as a fraction of the frame width.
pub const FACE_MIN_WIDTH: f32 = 0.18;
/// Largest face width, as a fraction of the frame width.
pub const FACE_MAX_WIDTH: f32 = 0.6;
/// Largest distance of the face centre from the frame centre, as a fraction of the frame
/// size (each axis).
pub const OFF_CENTRE: f32 = 0.22;
/// Smallest mean luma (0-255) of the face.
pub const MIN_BRIGHTNESS: f32 = 45.0;
/// Largest landmark motion (fraction of face width per frame) of a frontal capture.
pub const STILL_FRONTAL: f32 = 0.02;
/// Largest landmark motion of a movement capture (the head is held at the end of a turn).
pub const STILL_MOVE: f32 = 0.035;
/// The page's frontal limit: the server's, less a margin.
pub const PAGE_FRONTAL_MAX: f32 = FRONTAL_MAX - 3.0;
/// The page's turn: the server's, plus a margin.
pub const PAGE_TURN_YAW: f32 = TURN_YAW + 4.0;
/// The page's look up: the server's, plus a margin.
pub const PAGE_LOOK_UP_PITCH: f32 = LOOK_UP_PITCH + 3.0;
/// Consecutive good frames before one is captured.
pub const STEADY_FRAMES: u32 = 2;

/// What the person should do with the frame they are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Look straight at the camera.
    Frontal,
    /// Make this movement and hold it.
    Move(HeadMovement),
}

/// What the page tells the person about the current frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guidance {
    NoFace,
    SeveralFaces,
    TooFar,
    TooClose,
    OffCentre,
    TooDark,
    LookStraight,
    Move(HeadMovement),
    HoldStill,
    /// The frame is good for the target.
    Good,
}

impl Guidance {
    /// The sentence shown (and read by screen readers).
    pub fn message(self) -> String {
        match self {
            Self::NoFace => "We cannot see a face. Look at the camera.".into(),
            Self::SeveralFaces => "More than one face is in view. Only you should be in front of the camera.".into(),
            Self::TooFar => "Move closer to the camera.".into(),
            Self::TooClose => "Move a little further from the camera.".into(),
            Self::OffCentre => "Centre your face in the oval.".into(),
            Self::TooDark => "It is too dark. Turn on a light or face a window.".into(),
            Self::LookStraight => "Look straight at the camera.".into(),
            Self::Move(m) => format!("Slowly {}.", movement_name(m)),
            Self::HoldStill => "Hold still…".into(),
            Self::Good => "Good, hold it…".into(),
        }
    }

    /// True when the problem is the face's framing or the light (shown as a warning);
    /// false for the instructions of the challenge itself.
    pub fn is_problem(self) -> bool {
        !matches!(self, Self::LookStraight | Self::Move(_) | Self::HoldStill | Self::Good)
    }
}

fn pose_reached(target: Target, yaw: f32, pitch: f32) -> bool {
    match target {
        Target::Frontal => yaw.abs() <= PAGE_FRONTAL_MAX && pitch.abs() <= PAGE_FRONTAL_MAX,
        Target::Move(HeadMovement::TurnLeft) => yaw >= PAGE_TURN_YAW,
        Target::Move(HeadMovement::TurnRight) => yaw <= -PAGE_TURN_YAW,
        Target::Move(HeadMovement::LookUp) => pitch >= PAGE_LOOK_UP_PITCH,
    }
}

/// Guidance for one frame, aiming at `target`.
pub fn guide(report: &TrackReport, target: Target) -> Guidance {
    let face = match (&report.face, report.faces) {
        (_, n) if n > 1 => return Guidance::SeveralFaces,
        (Some(f), _) => f,
        (None, _) => return if report.brightness < MIN_BRIGHTNESS { Guidance::TooDark } else { Guidance::NoFace },
    };
    let (w, h) = (report.width.max(1) as f32, report.height.max(1) as f32);
    let [x1, y1, x2, y2] = face.bbox;
    let width = (x2 - x1) / w;
    if width < FACE_MIN_WIDTH {
        return Guidance::TooFar;
    }
    if width > FACE_MAX_WIDTH {
        return Guidance::TooClose;
    }
    let (cx, cy) = ((x1 + x2) / 2.0 / w, (y1 + y2) / 2.0 / h);
    if (cx - 0.5).abs() > OFF_CENTRE || (cy - 0.5).abs() > OFF_CENTRE {
        return Guidance::OffCentre;
    }
    if report.brightness < MIN_BRIGHTNESS {
        return Guidance::TooDark;
    }
    if !pose_reached(target, face.yaw, face.pitch) {
        return match target {
            Target::Frontal => Guidance::LookStraight,
            Target::Move(m) => Guidance::Move(m),
        };
    }
    let still = if target == Target::Frontal { STILL_FRONTAL } else { STILL_MOVE };
    match face.motion {
        Some(m) if m <= still => Guidance::Good,
        _ => Guidance::HoldStill,
    }
}

/// The capture sequence of a challenge: [`FRONTAL_FRAMES`] frontal frames (the template
/// and the match are built from several), then one frame per movement, each taken after
/// [`STEADY_FRAMES`] good frames in a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    steps: Vec<HeadMovement>,
    /// Below `FRONTAL_FRAMES`: a frontal frame; `FRONTAL_FRAMES + k`: movement `k`.
    index: usize,
    steady: u32,
}

/// What to do after a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    pub guidance: Guidance,
    /// `Some(step)` when this frame should be captured as evidence for `step` (`None` for
    /// the frontal frame, else the movement's index in the challenge).
    pub capture: Option<Option<usize>>,
}

impl Capture {
    pub fn new(steps: Vec<HeadMovement>) -> Self {
        Self { steps, index: 0, steady: 0 }
    }

    /// What the person is asked for now; `None` once every frame is captured.
    pub fn target(&self) -> Option<Target> {
        target_after(&self.steps, self.index)
    }

    /// Captures done and to do, for a progress indicator: (done, total).
    pub fn progress(&self) -> (usize, usize) {
        let total = self.steps.len() + FRONTAL_FRAMES;
        (self.index.min(total), total)
    }

    /// Takes one tracked frame.
    pub fn observe(&mut self, report: &TrackReport) -> Observation {
        let Some(target) = self.target() else {
            return Observation { guidance: Guidance::Good, capture: None };
        };
        let guidance = guide(report, target);
        if guidance == Guidance::Good {
            self.steady += 1;
        } else {
            self.steady = 0;
        }
        let capture = (self.steady >= STEADY_FRAMES).then(|| self.index.checked_sub(FRONTAL_FRAMES));
        Observation { guidance, capture }
    }

    /// The frame asked for was captured: move to the next.
    pub fn captured(&mut self) {
        self.index += 1;
        self.steady = 0;
    }

    /// True once every frame is captured.
    pub fn is_done(&self) -> bool {
        self.target().is_none()
    }
}

/// What is asked for once `done` frames of a challenge of `steps` are captured; `None`
/// when they all are.
pub fn target_after(steps: &[HeadMovement], done: usize) -> Option<Target> {
    match done.checked_sub(FRONTAL_FRAMES) {
        None => Some(Target::Frontal),
        Some(k) => steps.get(k).map(|m| Target::Move(*m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use biopass_proto::tracker::TrackedFace;

    fn report(bbox: [f32; 4], yaw: f32, pitch: f32, motion: Option<f32>) -> TrackReport {
        TrackReport {
            width: 640,
            height: 480,
            faces: 1,
            face: Some(TrackedFace { bbox, yaw, pitch, roll: 0.0, motion }),
            brightness: 120.0,
            millis: 10.0,
        }
    }

    const CENTRED: [f32; 4] = [225.0, 130.0, 415.0, 350.0];

    #[test]
    fn framing_problems_come_first() {
        let mut r = report(CENTRED, 0.0, 0.0, Some(0.0));
        assert_eq!(guide(&r, Target::Frontal), Guidance::Good);
        r.faces = 2;
        assert_eq!(guide(&r, Target::Frontal), Guidance::SeveralFaces);
        r.faces = 0;
        r.face = None;
        assert_eq!(guide(&r, Target::Frontal), Guidance::NoFace);
        r.brightness = 10.0;
        assert_eq!(guide(&r, Target::Frontal), Guidance::TooDark, "a black frame is dark, not faceless");
        let far = report([300.0, 200.0, 340.0, 250.0], 0.0, 0.0, Some(0.0));
        assert_eq!(guide(&far, Target::Frontal), Guidance::TooFar);
        let close = report([50.0, 0.0, 600.0, 480.0], 0.0, 0.0, Some(0.0));
        assert_eq!(guide(&close, Target::Frontal), Guidance::TooClose);
        let corner = report([0.0, 0.0, 190.0, 220.0], 0.0, 0.0, Some(0.0));
        assert_eq!(guide(&corner, Target::Frontal), Guidance::OffCentre);
        let mut dark = report(CENTRED, 0.0, 0.0, Some(0.0));
        dark.brightness = 30.0;
        assert_eq!(guide(&dark, Target::Frontal), Guidance::TooDark);
    }

    #[test]
    fn poses_need_the_page_margin_over_the_server() {
        let frontal = |yaw| guide(&report(CENTRED, yaw, 0.0, Some(0.0)), Target::Frontal);
        assert_eq!(frontal(PAGE_FRONTAL_MAX - 0.5), Guidance::Good);
        assert_eq!(frontal(PAGE_FRONTAL_MAX + 0.5), Guidance::LookStraight);
        const { assert!(PAGE_FRONTAL_MAX < FRONTAL_MAX && PAGE_TURN_YAW > TURN_YAW && PAGE_LOOK_UP_PITCH > LOOK_UP_PITCH) };
        let left = Target::Move(HeadMovement::TurnLeft);
        let right = Target::Move(HeadMovement::TurnRight);
        let up = Target::Move(HeadMovement::LookUp);
        // Just over the server's threshold is not enough for the page.
        assert_eq!(guide(&report(CENTRED, TURN_YAW + 1.0, 0.0, Some(0.0)), left), Guidance::Move(HeadMovement::TurnLeft));
        assert_eq!(guide(&report(CENTRED, PAGE_TURN_YAW + 1.0, 0.0, Some(0.0)), left), Guidance::Good);
        assert_eq!(guide(&report(CENTRED, PAGE_TURN_YAW + 1.0, 0.0, Some(0.0)), right), Guidance::Move(HeadMovement::TurnRight));
        assert_eq!(guide(&report(CENTRED, -PAGE_TURN_YAW - 1.0, 0.0, Some(0.0)), right), Guidance::Good);
        assert_eq!(guide(&report(CENTRED, 0.0, PAGE_LOOK_UP_PITCH + 1.0, Some(0.0)), up), Guidance::Good);
        assert_eq!(guide(&report(CENTRED, 0.0, -20.0, Some(0.0)), up), Guidance::Move(HeadMovement::LookUp));
    }

    #[test]
    fn moving_faces_are_asked_to_hold_still() {
        assert_eq!(guide(&report(CENTRED, 0.0, 0.0, None), Target::Frontal), Guidance::HoldStill);
        assert_eq!(guide(&report(CENTRED, 0.0, 0.0, Some(0.05)), Target::Frontal), Guidance::HoldStill);
        let left = Target::Move(HeadMovement::TurnLeft);
        assert_eq!(guide(&report(CENTRED, 25.0, 0.0, Some(0.03)), left), Guidance::Good);
        assert_eq!(guide(&report(CENTRED, 25.0, 0.0, Some(0.08)), left), Guidance::HoldStill);
    }

    #[test]
    fn capture_walks_frontal_then_each_step_after_steady_frames() {
        let mut c = Capture::new(vec![HeadMovement::LookUp, HeadMovement::TurnRight]);
        assert_eq!(c.progress(), (0, FRONTAL_FRAMES + 2));
        let frontal = report(CENTRED, 1.0, 2.0, Some(0.001));
        for _ in 0..FRONTAL_FRAMES {
            assert_eq!(c.target(), Some(Target::Frontal));
            assert_eq!(c.observe(&frontal).capture, None);
            assert_eq!(c.observe(&frontal).capture, Some(None));
            c.captured();
        }
        assert_eq!(c.target(), Some(Target::Move(HeadMovement::LookUp)));
        // A right turn does not count for "look up"; a bad frame resets the streak.
        let right = report(CENTRED, -25.0, 0.0, Some(0.0));
        let up = report(CENTRED, 0.0, 16.0, Some(0.0));
        assert_eq!(c.observe(&right).guidance, Guidance::Move(HeadMovement::LookUp));
        assert_eq!(c.observe(&up).capture, None);
        assert_eq!(c.observe(&right).capture, None);
        assert_eq!(c.observe(&up).capture, None);
        assert_eq!(c.observe(&up).capture, Some(Some(0)));
        c.captured();
        assert_eq!(c.observe(&right).capture, None);
        assert_eq!(c.observe(&right).capture, Some(Some(1)));
        c.captured();
        assert!(c.is_done());
        assert_eq!(c.progress(), (FRONTAL_FRAMES + 2, FRONTAL_FRAMES + 2));
        assert_eq!(c.observe(&right).capture, None);
    }

    #[test]
    fn messages_are_sentences() {
        for g in [Guidance::NoFace, Guidance::TooDark, Guidance::Move(HeadMovement::TurnLeft), Guidance::HoldStill] {
            let m = g.message();
            assert!(m.ends_with('.') || m.ends_with('…'), "{m}");
        }
        assert_eq!(Guidance::Move(HeadMovement::TurnLeft).message(), "Slowly turn your head to your left.");
    }
}
