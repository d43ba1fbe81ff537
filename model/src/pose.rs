//! Head pose (yaw, pitch, roll) from 68 landmarks, without a network.
//!
//! Six landmarks (nose tip 30, chin 8, outer eye corners 36 and 45, mouth corners 48 and
//! 54) are matched to a generic 3-D face by a scaled-orthographic fit (the POS step of
//! POSIT): a least-squares 2x3 projection, orthonormalised into a rotation. Good to a few
//! degrees for the guidance and challenge checks we need ("turn left", "look up"); not a
//! metric 3-D pose.
//!
//! # Sign convention (camera image, not mirrored)
//! - `yaw > 0`: the person turns to **their left** (the nose moves towards the image's right).
//! - `pitch > 0`: the person looks **up**.
//! - `roll > 0`: the head tilts towards **their left** shoulder (on screen the face turns
//!   clockwise: the eye on the image's right drops).
//!
//! A mirrored (selfie-view) image flips the signs of yaw and roll.

use crate::landmark::Landmarks68;

/// Landmark indices used for the fit.
const INDICES: [usize; 6] = [30, 8, 36, 45, 48, 54];

/// The generic face, in model units: x towards the image's right for a frontal face, y up,
/// z towards the camera (the nose tip is the origin).
const MODEL: [[f32; 3]; 6] =
    [[0.0, 0.0, 0.0], [0.0, -330.0, -65.0], [-225.0, 170.0, -135.0], [225.0, 170.0, -135.0], [-150.0, -150.0, -125.0], [150.0, -150.0, -125.0]];

/// Head orientation in degrees; see the module doc for the sign convention.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pose {
    /// Left/right turn; positive when the person turns to their left.
    pub yaw: f32,
    /// Up/down; positive when the person looks up.
    pub pitch: f32,
    /// In-plane tilt; positive towards the person's left shoulder.
    pub roll: f32,
}

/// Estimates the head pose from landmarks (see the module doc).
///
/// Degenerate input (all points equal, non-finite values) gives a pose of zeros.
pub fn head_pose(landmarks: &Landmarks68) -> Pose {
    fit(&INDICES.map(|i| landmarks.points[i])).unwrap_or(Pose { yaw: 0.0, pitch: 0.0, roll: 0.0 })
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn add(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}
fn unit(a: [f64; 3]) -> Option<[f64; 3]> {
    let n = dot(a, a).sqrt();
    (n > 1e-12 && n.is_finite()).then(|| [a[0] / n, a[1] / n, a[2] / n])
}

/// Inverse of a symmetric 3x3 matrix.
fn inverse3(m: [[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let c = |r0: usize, r1: usize, c0: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    let cof = [[c(1, 2, 1, 2), -c(1, 2, 0, 2), c(1, 2, 0, 1)], [-c(0, 2, 1, 2), c(0, 2, 0, 2), -c(0, 2, 0, 1)], [c(0, 1, 1, 2), -c(0, 1, 0, 2), c(0, 1, 0, 1)]];
    let det = m[0][0] * cof[0][0] + m[0][1] * cof[0][1] + m[0][2] * cof[0][2];
    if det.abs() < 1e-9 {
        return None;
    }
    // inverse = adjugate / det; adjugate is the transposed cofactor matrix
    let mut inv = [[0.0; 3]; 3];
    for (r, row) in inv.iter_mut().enumerate() {
        for (col, v) in row.iter_mut().enumerate() {
            *v = cof[col][r] / det;
        }
    }
    Some(inv)
}

fn fit(image: &[[f32; 2]; 6]) -> Option<Pose> {
    let n = MODEL.len() as f64;
    let model: Vec<[f64; 3]> = MODEL.iter().map(|p| p.map(f64::from)).collect();
    // image points with y up
    let img: Vec<[f64; 2]> = image.iter().map(|p| [p[0] as f64, -(p[1] as f64)]).collect();
    let mc = model.iter().fold([0.0; 3], |a, p| add(a, *p)).map(|v| v / n);
    let ic = img.iter().fold([0.0; 2], |a, p| [a[0] + p[0], a[1] + p[1]]).map(|v| v / n);
    let xs: Vec<[f64; 3]> = model.iter().map(|p| sub(*p, mc)).collect();
    // P = (x^T X) (X^T X)^-1, a 2x3 matrix
    let mut xtx = [[0.0; 3]; 3];
    let mut ytx = [[0.0; 3]; 2];
    for (x, p) in xs.iter().zip(&img) {
        let q = [p[0] - ic[0], p[1] - ic[1]];
        for r in 0..3 {
            for c in 0..3 {
                xtx[r][c] += x[r] * x[c];
            }
            ytx[0][r] += q[0] * x[r];
            ytx[1][r] += q[1] * x[r];
        }
    }
    let inv = inverse3(xtx)?;
    let row = |k: usize| {
        let mut out = [0.0; 3];
        for (c, o) in out.iter_mut().enumerate() {
            *o = (0..3).map(|r| ytx[k][r] * inv[r][c]).sum();
        }
        out
    };
    let (r1, r2) = (unit(row(0))?, unit(row(1))?);
    // Closest orthonormal pair, symmetric in r1 and r2.
    let u = unit(add(r1, r2))?;
    let v = unit(sub(r1, r2))?;
    let s = std::f64::consts::FRAC_1_SQRT_2;
    let r1 = add(u, v).map(|x| x * s);
    let r2 = sub(u, v).map(|x| x * s);
    let r3 = cross(r1, r2);
    // R = [r1; r2; r3] maps the generic face into camera space (x right, y up, z towards
    // the camera). Decompose R = Ry(yaw) Rx(pitch) Rz(roll): roll about the face's own
    // view axis first, then pitch, then yaw.
    let r = [r1, r2, r3];
    let forward = [r[0][2], r[1][2], r[2][2]];
    let yaw = forward[0].atan2(forward[2]);
    let pitch = forward[1].atan2((forward[0] * forward[0] + forward[2] * forward[2]).sqrt());
    // Rz = Rx(pitch)^T Ry(yaw)^T R; only its first column is needed.
    let right = [r[0][0], r[1][0], r[2][0]];
    let (sy, cy) = yaw.sin_cos();
    let (sp, cp) = pitch.sin_cos();
    // Ry^T * right
    let a = [cy * right[0] - sy * right[2], right[1], sy * right[0] + cy * right[2]];
    // Rx^T * a, with Rx = [[1,0,0],[0,cp,sp],[0,-sp,cp]]
    let b = [a[0], cp * a[1] - sp * a[2]];
    let roll = (-b[1]).atan2(b[0]);
    let pose = Pose { yaw: yaw.to_degrees() as f32, pitch: pitch.to_degrees() as f32, roll: roll.to_degrees() as f32 };
    (pose.yaw.is_finite() && pose.pitch.is_finite() && pose.roll.is_finite()).then_some(pose)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Projects the generic face rotated by yaw (about y), then pitch (about x), then roll
    /// (about the view axis), into a y-down image at scale 0.2 around (320, 240).
    /// Projects the generic face posed as `Ry(yaw) Rx(pitch) Rz(roll)` (see `fit`) into a
    /// y-down image at scale 0.2 around (320, 240).
    fn project(yaw: f64, pitch: f64, roll: f64) -> Landmarks68 {
        let (sy, cy) = yaw.to_radians().sin_cos();
        let (sp, cp) = pitch.to_radians().sin_cos();
        let (sr, cr) = roll.to_radians().sin_cos();
        let mul = |m: [[f64; 3]; 3], v: [f64; 3]| [0, 1, 2].map(|i| m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2]);
        let ry = [[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]];
        let rx = [[1.0, 0.0, 0.0], [0.0, cp, sp], [0.0, -sp, cp]];
        let rz = [[cr, sr, 0.0], [-sr, cr, 0.0], [0.0, 0.0, 1.0]];
        let mut lm = Landmarks68 { points: [[0.0; 2]; 68] };
        for (i, p) in INDICES.iter().zip(MODEL) {
            let [x, y, _] = mul(ry, mul(rx, mul(rz, p.map(f64::from))));
            lm.points[*i] = [(320.0 + 0.2 * x) as f32, (240.0 - 0.2 * y) as f32];
        }
        lm
    }

    #[test]
    fn frontal_face_is_zero() {
        let p = head_pose(&project(0.0, 0.0, 0.0));
        assert!(p.yaw.abs() < 1e-3 && p.pitch.abs() < 1e-3 && p.roll.abs() < 1e-3, "{p:?}");
    }

    #[test]
    fn recovers_single_axis_rotations_with_documented_signs() {
        for a in [-40.0, -15.0, 10.0, 30.0] {
            let p = head_pose(&project(a, 0.0, 0.0));
            assert!((p.yaw - a as f32).abs() < 0.5 && p.pitch.abs() < 0.5, "yaw {a}: {p:?}");
            let p = head_pose(&project(0.0, a, 0.0));
            assert!((p.pitch - a as f32).abs() < 0.5 && p.yaw.abs() < 0.5, "pitch {a}: {p:?}");
            let p = head_pose(&project(0.0, 0.0, a));
            assert!((p.roll - a as f32).abs() < 0.5, "roll {a}: {p:?}");
        }
    }

    #[test]
    fn turning_left_moves_the_nose_right_and_is_positive() {
        let lm = project(20.0, 0.0, 0.0);
        let eyes_mid = (lm.points[36][0] + lm.points[45][0]) / 2.0;
        assert!(lm.points[30][0] > eyes_mid);
        assert!(head_pose(&lm).yaw > 0.0);
    }

    #[test]
    fn tilting_to_the_left_shoulder_drops_the_right_eye_and_is_positive() {
        let lm = project(0.0, 0.0, 15.0);
        assert!(lm.points[45][1] > lm.points[36][1]);
        assert!(head_pose(&lm).roll > 0.0);
    }

    #[test]
    fn combined_rotation_is_recovered() {
        let p = head_pose(&project(20.0, -10.0, 5.0));
        assert!((p.yaw - 20.0).abs() < 1.5 && (p.pitch + 10.0).abs() < 1.5 && (p.roll - 5.0).abs() < 1.5, "{p:?}");
    }

    #[test]
    fn degenerate_landmarks_give_zeros() {
        let p = head_pose(&Landmarks68 { points: [[5.0, 5.0]; 68] });
        assert_eq!(p, Pose { yaw: 0.0, pitch: 0.0, roll: 0.0 });
    }
}
