//! Face authentication decisions, pure: what a challenge asks, and whether the numbers the
//! worker measured on the evidence (liveness, head pose, embeddings) satisfy it. The worker
//! runs the models on the crops the browser sent; nothing the browser says about a face is
//! used here.
//!
//! Pose signs follow `biopass-model`: yaw > 0 when the person turns to their left, pitch > 0
//! when they look up (camera image, not mirrored).

use crate::random::Entropy;
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
/// Frames accepted per evidence: a frontal one and up to two per step.
pub const MAX_FRAMES: usize = 8;

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
    /// The face does not match the enrolled one.
    NotRecognised { score: f32 },
}

impl FaceRejection {
    pub fn message(&self) -> String {
        match self {
            Self::Incomplete(m) | Self::WrongMovement(m) => m.clone(),
            Self::NotLive => "We could not confirm a live person in front of the camera. Use a real camera, in good light, without glasses that reflect.".into(),
            Self::DifferentPeople => "The frames do not all show the same person. Only one person should be in front of the camera.".into(),
            Self::NotRecognised { .. } => "We did not recognise your face. Try again, facing the camera in good light.".into(),
        }
    }

    /// True when the attempt counts against the lock-out (a wrong face, or an attack), false
    /// for evidence that was merely incomplete.
    pub fn counts_as_failure(&self) -> bool {
        !matches!(self, Self::Incomplete(_))
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

/// The best similarity of the evidence to the enrolled template.
pub fn match_score(template: &[f32], frames: &[MeasuredFrame]) -> f32 {
    frames.iter().map(|f| cosine(template, &f.embedding)).fold(f32::MIN, f32::max)
}

/// Decides an authentication: evidence checks, then the template match at `threshold`.
///
/// # Errors
/// A [`FaceRejection`].
pub fn authenticate(steps: &[HeadMovement], frames: &[MeasuredFrame], template: &[f32], threshold: f32) -> Result<f32, FaceRejection> {
    check_evidence(steps, frames)?;
    let score = match_score(template, frames);
    if score >= threshold {
        Ok(score)
    } else {
        Err(FaceRejection::NotRecognised { score })
    }
}

/// The enrolment template: the mean of the frames' unit embeddings, re-normalised.
///
/// # Errors
/// A [`FaceRejection`] when the evidence fails its checks.
pub fn enrol(steps: &[HeadMovement], frames: &[MeasuredFrame]) -> Result<Vec<f32>, FaceRejection> {
    check_evidence(steps, frames)?;
    let dim = frames[0].embedding.len();
    let mut mean = vec![0f32; dim];
    for f in frames {
        for (m, v) in mean.iter_mut().zip(&f.embedding) {
            *m += v;
        }
    }
    let norm = mean.iter().map(|v| v * v).sum::<f32>().sqrt();
    if !norm.is_finite() || norm <= 0.0 {
        return Err(FaceRejection::DifferentPeople);
    }
    Ok(mean.into_iter().map(|v| v / norm).collect())
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

    fn frame(step: Option<usize>, yaw: f32, pitch: f32, emb: Vec<f32>) -> MeasuredFrame {
        MeasuredFrame { step, liveness: 0.9, yaw, pitch, embedding: emb }
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
    fn enrolment_template_is_the_normalised_mean() {
        let t = enrol(&[TurnLeft, TurnRight], &good()).unwrap();
        let norm: f32 = t.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        assert!(cosine(&t, &unit(0)) > 0.95);
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
}
