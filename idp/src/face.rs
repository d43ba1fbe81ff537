//! Face authentication decisions, pure: what a challenge asks, and whether the numbers the
//! worker measured on the evidence (liveness, head pose, embeddings) satisfy it. The worker
//! runs the models on the crops the browser sent; nothing the browser says about a face is
//! used here.
//!
//! Pose signs follow `biopass-model`: yaw > 0 when the person turns to their left, pitch > 0
//! when they look up (camera image, not mirrored).
//!
//! Matching: the template is the normalised mean of the enrolment's good frontal frames;
//! a sign-in's good frontal frames are fused the same way (the cosine of the template with
//! the normalised mean of their embeddings) and compared with the threshold of the
//! application's [`FaceAssurance`] level ([`calibration`]).

use crate::random::Entropy;
use biopass_proto::admin::FaceAssurance;
use biopass_proto::login::{FacePurpose, HeadMovement};
use serde::{Deserialize, Serialize};

/// Seconds a challenge can be answered.
pub const CHALLENGE_LIFETIME: u64 = 90;
/// Liveness probability every frame must reach.
pub const LIVENESS_THRESHOLD: f32 = 0.5;
/// Degrees of yaw a turn must reach.
pub const TURN_YAW: f32 = 15.0;
/// Degrees of pitch "look up" must reach.
pub const LOOK_UP_PITCH: f32 = 10.0;
/// Largest yaw and pitch of a frontal frame.
pub const FRONTAL_MAX: f32 = 12.0;
/// Cosine every frame's embedding must have with the others: one person throughout.
pub const SAME_PERSON: f32 = 0.5;
/// Frames accepted per evidence: the frontal ones and one or two per step.
pub const MAX_FRAMES: usize = 8;
/// Good frontal frames an enrolment needs (the browser captures [`FRONTAL_FRAMES`]).
pub const ENROL_FRONTAL_FRAMES: usize = 3;
/// Frontal frames the browser captures before the movements.
pub const FRONTAL_FRAMES: usize = 3;

/// Quality floors of a frame used for matching, on what the worker measures itself (the
/// detector on the 128x128 context crop, `biopass_model::crop_quality` on the aligned
/// crop). Each is the 0.1st percentile of the 1,561 photos of the calibration set (LFW
/// people absent from LFW View 2, and the demo photos' faces), rounded down: the
/// thresholds below are measured on photos like those, so a frame worse than 99.9 % of
/// them is outside what the calibration vouches for and is refused at enrolment (and left
/// out of a sign-in's fusion). Printed by `scripts/calibrate` ("Server measures on the
/// photos"; the 1st percentiles, 0.997 / 31 / 70, would refuse the darkest demo face).
pub const MIN_DETECTOR_SCORE: f32 = 0.90;
/// Variance of the Laplacian of the aligned crop's face region (blur); see [`MIN_DETECTOR_SCORE`].
pub const MIN_SHARPNESS: f32 = 11.0;
/// Mean luma of the aligned crop's face region (dark); see [`MIN_DETECTOR_SCORE`].
pub const MIN_BRIGHTNESS: f32 = 59.0;

/// One operating point of the face matcher: the threshold for a false-match rate, and the
/// false non-match rate measured there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    pub level: FaceAssurance,
    /// Cosine similarity at or above which a sign-in matches the template.
    pub threshold: f32,
    /// False non-match rate measured at [`Calibration::threshold`], and the upper end of
    /// its 95 % (Wilson) interval.
    pub fnmr: f32,
    pub fnmr_upper: f32,
}

/// The thresholds of the assurance levels, set from the impostor distribution.
///
/// How they were set: `scripts/calibrate` runs the product's pipeline (detect, landmarks,
/// align, the aligned crop through JPEG as the browser sends it, embed) on the LFW
/// calibration set (1,539 photos of 1,466 people absent from LFW View 2, so View 2 stays a
/// fair test) plus the 22 faces of the demo photos, with three frames per photo (the photo
/// and two slightly moved copies), and compares a template of one photo's frames with the
/// fused frames of another: 1,217,476 impostor pairs, 208 genuine ones. Each threshold is
/// the lowest at which at most that fraction of impostor pairs match, rounded up to three
/// decimals (so slightly stricter); the bootstrap over people puts it within
/// 0.333-0.341 (1e-3), 0.406-0.418 (1e-4) and 0.454-0.520 (1e-5). The FMR 1e-5 point rests on
/// 12 impostor pairs, at the edge of what 1.2 million pairs can tell. The FNMR is that of
/// the 208 genuine pairs (51 people): news photos, years apart; webcam sign-ins right after
/// enrolment are closer to their template.
///
/// Reproduce: `scripts/calibrate` (that is, `cargo run --release -p biopass-model --example
/// calibrate -- ../shared/faces/lfw-calibration ~/.cache/biopass/photos`).
pub const CALIBRATION: [Calibration; 3] = [
    Calibration { level: FaceAssurance::Fmr1In1000, threshold: 0.337, fnmr: 0.0, fnmr_upper: 0.018 },
    Calibration { level: FaceAssurance::Fmr1In10000, threshold: 0.413, fnmr: 0.0, fnmr_upper: 0.018 },
    Calibration { level: FaceAssurance::Fmr1In100000, threshold: 0.482, fnmr: 0.058, fnmr_upper: 0.098 },
];

/// The calibrated operating point of `level`.
pub fn calibration(level: FaceAssurance) -> Calibration {
    match level {
        FaceAssurance::Fmr1In1000 => CALIBRATION[0],
        FaceAssurance::Fmr1In10000 => CALIBRATION[1],
        FaceAssurance::Fmr1In100000 => CALIBRATION[2],
    }
}

/// A challenge as the Vault keeps it, under its nonce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedChallenge {
    /// SHA-256 of the login transaction it belongs to.
    pub transaction: String,
    pub purpose: FacePurpose,
    pub steps: Vec<HeadMovement>,
    pub expires_at: u64,
}

/// A random sequence of two or three different movements.
pub fn random_steps(rng: &mut impl Entropy) -> Vec<HeadMovement> {
    let mut all = vec![HeadMovement::TurnLeft, HeadMovement::TurnRight, HeadMovement::LookUp];
    // Fisher-Yates with rejection-free small moduli (bias is irrelevant at this size).
    for i in (1..all.len()).rev() {
        let j = usize::from(rng.bytes::<1>()[0]) % (i + 1);
        all.swap(i, j);
    }
    let n = 2 + usize::from(rng.bytes::<1>()[0] % 2);
    all.truncate(n);
    all
}

/// What the worker measured on one frame of the evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredFrame {
    pub step: Option<usize>,
    pub liveness: f32,
    pub yaw: f32,
    pub pitch: f32,
    /// Unit-length embedding of the aligned crop.
    pub embedding: Vec<f32>,
    pub quality: FrameQuality,
}

/// Image quality of a frame, as the worker measured it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameQuality {
    /// Score of the face the detector finds on the context crop.
    pub detector_score: f32,
    /// Variance of the Laplacian of the aligned crop's face region.
    pub sharpness: f32,
    /// Mean luma of the aligned crop's face region.
    pub brightness: f32,
}

impl MeasuredFrame {
    /// Why this frame cannot be used for matching, if it cannot: side-on, a weak
    /// detection, blurred or dark. NaN measures fail.
    pub fn quality_problem(&self) -> Option<&'static str> {
        let below = |v: f32, floor: f32| v.partial_cmp(&floor).is_none_or(|o| o.is_lt());
        let within = |v: f32| v.abs() <= FRONTAL_MAX;
        if !(within(self.yaw) && within(self.pitch)) {
            Some("Look straight at the camera.")
        } else if below(self.quality.brightness, MIN_BRIGHTNESS) {
            Some("Your face is too dark. Face a window or a lamp.")
        } else if below(self.quality.sharpness, MIN_SHARPNESS) {
            Some("The picture is blurred. Hold still, and clean the camera if needed.")
        } else if below(self.quality.detector_score, MIN_DETECTOR_SCORE) {
            Some("Your face is not clearly visible. Remove anything covering it and face the camera in good light.")
        } else {
            None
        }
    }
}

/// Why evidence was refused. The messages are for people.
#[derive(Debug, Clone, PartialEq)]
pub enum FaceRejection {
    /// The evidence does not have the frames the challenge asks for, in order.
    Incomplete(String),
    /// A frame's head pose does not show the movement asked for.
    WrongMovement(String),
    /// A frame does not look like a live person in front of the camera.
    NotLive,
    /// The frames are not all of one person.
    DifferentPeople,
    /// No frontal frame (sign-in), or not enough of them (enrolment), is good enough to
    /// match: the message says why.
    PoorQuality(String),
    /// The face does not match the enrolled one.
    NotRecognised { score: f32 },
}

impl FaceRejection {
    pub fn message(&self) -> String {
        match self {
            Self::Incomplete(m) | Self::WrongMovement(m) => m.clone(),
            Self::PoorQuality(m) => format!("{m} Then try again."),
            Self::NotLive => "We could not confirm a live person in front of the camera. Use a real camera, in good light, without glasses that reflect.".into(),
            Self::DifferentPeople => "The frames do not all show the same person. Only one person should be in front of the camera.".into(),
            Self::NotRecognised { .. } => "We did not recognise your face. Try again, facing the camera in good light.".into(),
        }
    }

    /// True when the attempt counts against the lock-out (a wrong face, or an attack), false
    /// for evidence that was merely incomplete.
    pub fn counts_as_failure(&self) -> bool {
        !matches!(self, Self::Incomplete(_) | Self::PoorQuality(_))
    }
}

fn movement_done(m: HeadMovement, yaw: f32, pitch: f32) -> bool {
    match m {
        HeadMovement::TurnLeft => yaw >= TURN_YAW,
        HeadMovement::TurnRight => yaw <= -TURN_YAW,
        HeadMovement::LookUp => pitch >= LOOK_UP_PITCH,
    }
}

/// Human wording of a movement.
pub fn movement_name(m: HeadMovement) -> &'static str {
    match m {
        HeadMovement::TurnLeft => "turn your head to your left",
        HeadMovement::TurnRight => "turn your head to your right",
        HeadMovement::LookUp => "look up",
    }
}

/// Cosine of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Checks the frames against the challenge: structure and order, liveness, head movement
/// per step, one person throughout.
///
/// # Errors
/// The first [`FaceRejection`] found.
pub fn check_evidence(steps: &[HeadMovement], frames: &[MeasuredFrame]) -> Result<(), FaceRejection> {
    if frames.is_empty() || frames.len() > MAX_FRAMES {
        return Err(FaceRejection::Incomplete(format!("Send between 1 and {MAX_FRAMES} frames.")));
    }
    if frames[0].step.is_some() {
        return Err(FaceRejection::Incomplete("The first frame must face the camera.".into()));
    }
    let mut last: Option<usize> = None;
    for f in frames {
        if let Some(s) = f.step {
            if s >= steps.len() {
                return Err(FaceRejection::Incomplete("A frame names a step the challenge does not have.".into()));
            }
            if last.is_some_and(|l| s < l) || (last.is_none() && s != 0) || last.is_some_and(|l| s > l + 1) {
                return Err(FaceRejection::Incomplete("The movements were not made in the order asked.".into()));
            }
            last = Some(s);
        } else if last.is_some() {
            return Err(FaceRejection::Incomplete("The frontal frame must come before the movements.".into()));
        }
    }
    if steps.is_empty() || last != Some(steps.len() - 1) {
        return Err(FaceRejection::Incomplete("Not every movement of the challenge was made.".into()));
    }
    // NaN scores fail too.
    if frames.iter().any(|f| f.liveness.partial_cmp(&LIVENESS_THRESHOLD).is_none_or(|o| o.is_lt())) {
        return Err(FaceRejection::NotLive);
    }
    for f in frames {
        match f.step {
            None if f.yaw.abs() > FRONTAL_MAX || f.pitch.abs() > FRONTAL_MAX => {
                return Err(FaceRejection::WrongMovement("Look straight at the camera first.".into()));
            }
            Some(s) if !movement_done(steps[s], f.yaw, f.pitch) => {
                return Err(FaceRejection::WrongMovement(format!("We did not see you {}.", movement_name(steps[s]))));
            }
            _ => {}
        }
    }
    for (i, a) in frames.iter().enumerate() {
        for b in &frames[i + 1..] {
            if cosine(&a.embedding, &b.embedding) < SAME_PERSON {
                return Err(FaceRejection::DifferentPeople);
            }
        }
    }
    Ok(())
}

/// The frontal frames good enough to match, or why there are too few (fewer than `need`).
fn good_frontal(frames: &[MeasuredFrame], need: usize) -> Result<Vec<&MeasuredFrame>, FaceRejection> {
    let frontal: Vec<&MeasuredFrame> = frames.iter().filter(|f| f.step.is_none()).collect();
    let good: Vec<&MeasuredFrame> = frontal.iter().copied().filter(|f| f.quality_problem().is_none()).collect();
    if good.len() >= need.max(1) {
        return Ok(good);
    }
    let why = frontal.iter().find_map(|f| f.quality_problem());
    Err(FaceRejection::PoorQuality(why.unwrap_or("Look straight at the camera for a moment.").into()))
}

/// The normalised mean of unit embeddings; `None` when it is zero or not finite.
fn mean_unit<'a>(embeddings: impl Iterator<Item = &'a [f32]>) -> Option<Vec<f32>> {
    let mut mean: Vec<f32> = Vec::new();
    for e in embeddings {
        if mean.is_empty() {
            mean = vec![0.0; e.len()];
        }
        for (m, v) in mean.iter_mut().zip(e) {
            *m += v;
        }
    }
    let norm = mean.iter().map(|v| v * v).sum::<f32>().sqrt();
    (norm.is_finite() && norm > 0.0).then(|| mean.into_iter().map(|v| v / norm).collect())
}

/// The similarity of a sign-in to the enrolled template: the cosine of the template with
/// the normalised mean of the good frontal frames' embeddings. On the calibration set this
/// fusion needed no higher threshold for the same false-match rate than one frame, and the
/// best frame's score (the rule before) needed a higher one; the genuine pairs were too few
/// to tell the rules' false non-match rates apart (`scripts/calibrate`, "Fusion rules").
///
/// # Errors
/// [`FaceRejection::PoorQuality`] when no frontal frame is good enough.
pub fn match_score(template: &[f32], frames: &[MeasuredFrame]) -> Result<f32, FaceRejection> {
    let good = good_frontal(frames, 1)?;
    let probe = mean_unit(good.iter().map(|f| f.embedding.as_slice())).ok_or(FaceRejection::DifferentPeople)?;
    Ok(cosine(template, &probe))
}

/// Decides an authentication: evidence checks, then the fused match at `threshold` (the
/// application's level: [`calibration`]).
///
/// # Errors
/// A [`FaceRejection`].
pub fn authenticate(steps: &[HeadMovement], frames: &[MeasuredFrame], template: &[f32], threshold: f32) -> Result<f32, FaceRejection> {
    check_evidence(steps, frames)?;
    let score = match_score(template, frames)?;
    if score >= threshold {
        Ok(score)
    } else {
        Err(FaceRejection::NotRecognised { score })
    }
}

/// The enrolment template: the normalised mean of the good frontal frames' unit
/// embeddings. The evidence must pass its checks and hold at least
/// [`ENROL_FRONTAL_FRAMES`] frontal frames that pass [`MeasuredFrame::quality_problem`].
///
/// # Errors
/// A [`FaceRejection`]: the evidence's, or [`FaceRejection::PoorQuality`] with the first
/// problem found.
pub fn enrol(steps: &[HeadMovement], frames: &[MeasuredFrame]) -> Result<Vec<f32>, FaceRejection> {
    check_evidence(steps, frames)?;
    let good = good_frontal(frames, ENROL_FRONTAL_FRAMES)?;
    mean_unit(good.iter().map(|f| f.embedding.as_slice())).ok_or(FaceRejection::DifferentPeople)
}

/// A template as bytes (little-endian f32s), for sealing.
pub fn template_bytes(t: &[f32]) -> Vec<u8> {
    t.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Bytes back to a template; `None` if the length is not a whole number of f32s.
pub fn template_from_bytes(b: &[u8]) -> Option<Vec<f32>> {
    b.len().is_multiple_of(4).then(|| b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::TestEntropy;
    use HeadMovement::*;

    fn unit(seed: usize) -> Vec<f32> {
        let mut v = vec![0.0f32; 8];
        v[seed % 8] = 1.0;
        v
    }

    fn person(base: usize, wobble: f32) -> Vec<f32> {
        let mut v = unit(base);
        v[(base + 1) % 8] = wobble;
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    const CLEAR: FrameQuality = FrameQuality { detector_score: 0.9999, sharpness: 150.0, brightness: 120.0 };

    fn frame(step: Option<usize>, yaw: f32, pitch: f32, emb: Vec<f32>) -> MeasuredFrame {
        MeasuredFrame { step, liveness: 0.9, yaw, pitch, embedding: emb, quality: CLEAR }
    }

    /// Enrolment evidence: three frontal frames, then the two movements.
    fn enrolment() -> Vec<MeasuredFrame> {
        let mut frames = vec![frame(None, 1.0, 0.5, person(0, 0.05)), frame(None, -1.5, 2.0, person(0, 0.12))];
        frames.extend(good());
        frames
    }

    fn good() -> Vec<MeasuredFrame> {
        vec![
            frame(None, 2.0, -1.0, person(0, 0.1)),
            frame(Some(0), 25.0, 0.0, person(0, 0.2)),
            frame(Some(1), -22.0, 3.0, person(0, 0.15)),
        ]
    }

    #[test]
    fn a_good_sequence_passes_and_matches() {
        let steps = [TurnLeft, TurnRight];
        let score = authenticate(&steps, &good(), &unit(0), 0.6).unwrap();
        assert!(score > 0.95);
        assert!(matches!(authenticate(&steps, &good(), &unit(3), 0.6), Err(FaceRejection::NotRecognised { .. })));
    }

    #[test]
    fn steps_out_of_order_missing_or_wrong_are_refused() {
        let steps = [TurnLeft, TurnRight];
        let mut swapped = good();
        swapped.swap(1, 2);
        assert!(matches!(check_evidence(&steps, &swapped), Err(FaceRejection::Incomplete(_))));
        let missing = good()[..2].to_vec();
        assert!(matches!(check_evidence(&steps, &missing), Err(FaceRejection::Incomplete(_))));
        let wrong_way = [TurnRight, TurnLeft];
        assert!(matches!(check_evidence(&wrong_way, &good()), Err(FaceRejection::WrongMovement(_))));
        let mut no_front = good();
        no_front.remove(0);
        assert!(check_evidence(&steps, &no_front).is_err());
        let mut turned_front = good();
        turned_front[0].yaw = 30.0;
        assert!(matches!(check_evidence(&steps, &turned_front), Err(FaceRejection::WrongMovement(_))));
        let mut bad_index = good();
        bad_index[2].step = Some(5);
        assert!(check_evidence(&steps, &bad_index).is_err());
        assert!(check_evidence(&steps, &[]).is_err());
    }

    #[test]
    fn liveness_and_identity_across_frames() {
        let steps = [TurnLeft, TurnRight];
        let mut spoof = good();
        spoof[1].liveness = 0.2;
        assert_eq!(check_evidence(&steps, &spoof), Err(FaceRejection::NotLive));
        let mut nan = good();
        nan[1].liveness = f32::NAN;
        assert_eq!(check_evidence(&steps, &nan), Err(FaceRejection::NotLive));
        let mut mixed = good();
        mixed[2].embedding = unit(4);
        assert_eq!(check_evidence(&steps, &mixed), Err(FaceRejection::DifferentPeople));
        assert!(!FaceRejection::Incomplete(String::new()).counts_as_failure());
        assert!(FaceRejection::NotRecognised { score: 0.1 }.counts_as_failure());
    }

    #[test]
    fn enrolment_template_is_the_normalised_mean_of_the_frontal_frames() {
        let frames = enrolment();
        let t = enrol(&[TurnLeft, TurnRight], &frames).unwrap();
        let norm: f32 = t.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        let frontal: Vec<&[f32]> = frames[..3].iter().map(|f| f.embedding.as_slice()).collect();
        let expected = mean_unit(frontal.into_iter()).unwrap();
        assert!(t.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-6), "the turned frames are left out");
        assert_eq!(template_from_bytes(&template_bytes(&t)).unwrap(), t);
        assert!(template_from_bytes(&[1, 2, 3]).is_none());
    }

    #[test]
    fn random_steps_are_two_or_three_distinct_moves() {
        let mut rng = TestEntropy::new(7);
        let mut seen_lengths = [false; 4];
        for _ in 0..50 {
            let s = random_steps(&mut rng);
            assert!((2..=3).contains(&s.len()));
            let mut d = s.clone();
            d.dedup();
            assert_eq!(d.len(), s.len());
            seen_lengths[s.len()] = true;
        }
        assert!(seen_lengths[2] && seen_lengths[3]);
    }

    #[test]
    fn each_assurance_level_has_its_calibrated_threshold() {
        use FaceAssurance::*;
        assert_eq!(calibration(Fmr1In1000).threshold, 0.337);
        assert_eq!(calibration(Fmr1In10000).threshold, 0.413);
        assert_eq!(calibration(Fmr1In100000).threshold, 0.482);
        assert_eq!(calibration(FaceAssurance::default()).threshold, 0.413, "the default is FMR 1 in 10,000");
        for (c, level) in CALIBRATION.iter().zip(FaceAssurance::ALL) {
            assert_eq!(calibration(level), *c);
            assert!(c.fnmr <= c.fnmr_upper);
        }
        // A stricter level has a higher threshold and misses at least as many genuine people.
        for w in CALIBRATION.windows(2) {
            assert!(w[0].threshold < w[1].threshold && w[0].fnmr <= w[1].fnmr);
        }
        // The same score passes a lenient level and fails a strict one.
        let steps = [TurnLeft, TurnRight];
        let probe = person(0, 0.0);
        let template = { let mut t = probe.clone(); t[5] = 2.0; let n = t.iter().map(|x| x * x).sum::<f32>().sqrt(); t.iter().map(|x| x / n).collect::<Vec<_>>() };
        let mut frames = good();
        frames[0].embedding = probe;
        let score = match_score(&template, &frames).unwrap();
        assert!((0.42..0.48).contains(&score), "{score}");
        assert!(authenticate(&steps, &frames, &template, calibration(Fmr1In10000).threshold).is_ok());
        assert!(matches!(authenticate(&steps, &frames, &template, calibration(Fmr1In100000).threshold), Err(FaceRejection::NotRecognised { .. })));
    }

    #[test]
    fn sign_in_fuses_the_good_frontal_frames_by_their_mean() {
        let steps = [TurnLeft, TurnRight];
        let mut frames = good();
        frames.insert(1, frame(None, 0.0, 0.0, person(0, 0.9)));
        let template = person(0, 0.3);
        let expected = cosine(&template, &mean_unit([frames[0].embedding.as_slice(), frames[1].embedding.as_slice()].into_iter()).unwrap());
        let best = cosine(&template, &frames[0].embedding).max(cosine(&template, &frames[1].embedding));
        let score = authenticate(&steps, &frames, &template, 0.1).unwrap();
        assert!((score - expected).abs() < 1e-6 && (score - best).abs() > 1e-3, "{score} {expected} {best}");
        // A blurred frontal frame is left out; the turned frames never count.
        frames[1].quality.sharpness = 1.0;
        assert!((authenticate(&steps, &frames, &template, 0.1).unwrap() - cosine(&template, &frames[0].embedding)).abs() < 1e-6);
        // With no good frontal frame there is nothing to match: refused, not counted.
        frames[0].quality.brightness = 20.0;
        let r = authenticate(&steps, &frames, &template, 0.1).unwrap_err();
        assert!(matches!(r, FaceRejection::PoorQuality(_)) && !r.counts_as_failure(), "{r:?}");
        assert!(r.message().contains("too dark"), "{}", r.message());
    }

    #[test]
    fn enrolment_refuses_blurred_dark_side_on_or_weak_frames() {
        let steps = [TurnLeft, TurnRight];
        type Spoil = fn(&mut MeasuredFrame);
        let cases: [(Spoil, &str); 5] = [
            (|f| f.quality.sharpness = MIN_SHARPNESS - 1.0, "blurred"),
            (|f| f.quality.brightness = MIN_BRIGHTNESS - 1.0, "too dark"),
            (|f| f.quality.detector_score = MIN_DETECTOR_SCORE - 0.01, "not clearly visible"),
            (|f| f.quality.sharpness = f32::NAN, "blurred"),
            (|f| f.quality.detector_score = f32::NAN, "not clearly visible"),
        ];
        for (spoil, words) in cases {
            let mut frames = enrolment();
            spoil(&mut frames[1]);
            let r = enrol(&steps, &frames).unwrap_err();
            assert!(matches!(r, FaceRejection::PoorQuality(_)) && r.message().contains(words), "{words}: {r:?}");
            assert!(!r.counts_as_failure());
        }
        // Side-on: a frontal frame turned beyond FRONTAL_MAX.
        let mut frames = enrolment();
        frames[2].yaw = FRONTAL_MAX + 1.0;
        assert!(enrol(&steps, &frames).is_err());
        let mut one_frontal = enrolment();
        one_frontal.drain(..2);
        assert!(matches!(enrol(&steps, &one_frontal), Err(FaceRejection::PoorQuality(_))), "one frontal frame is not enough to enrol");
        assert!(enrol(&steps, &enrolment()).is_ok());
        // Exactly at the floors is good enough.
        let mut edge = enrolment();
        edge[0].quality = FrameQuality { detector_score: MIN_DETECTOR_SCORE, sharpness: MIN_SHARPNESS, brightness: MIN_BRIGHTNESS };
        assert!(enrol(&steps, &edge).is_ok());
    }
}
