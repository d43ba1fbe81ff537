//! Whole-frame measures of a face capture for the light-and-distance liveness check: the
//! server runs these on the whole camera frames the browser sent, and decides from the
//! numbers (`biopass_idp::face`).
//!
//! The capture has three phases ([`Phase`]): the face at arm's length in a small oval
//! (`Far`), close to the screen in a large one (`Near`), and close while the screen shows a
//! colour sequence (`Light`). [`measure_capture`] runs per phase only what the decision
//! needs, so that a capture of about fifteen frames costs about what four crops did:
//!
//! | phase | detect + landmarks | liveness | embedding + quality | colour | continuity |
//! |-------|--------------------|----------|---------------------|--------|------------|
//! | Far   | yes, landmarks on 6 crops | yes | yes (one person)  | -      | -          |
//! | Near  | yes, landmarks on 6 crops | -   | yes (the match)     | own face box | -    |
//! | Light | last frame only    | -        | -                   | last Near box | vs last Near |
//!
//! - [`depth_ratio`]: how much wider the nose is than the jaw,
//!   across the face. Under a camera's perspective the nose, nearer the lens than the
//!   jaw's sides, grows faster as a real head comes closer; a flat picture keeps its
//!   proportions at every distance. [`steady_depth_ratio`] averages it over six crops.
//! - [`region_colours`]: the mean linear RGB of the face's centre (cheeks, nose) and of the
//!   background beside and above the head. Light from a screen 30 cm away falls off with
//!   the square of the distance: the face takes its colour, the wall behind barely does.
//! - [`luma_similarity`]: the normalised correlation of the luma of two frames inside a box:
//!   the same face stays in front of the camera while the colours change (light changes the
//!   chroma, not the face's structure).

use crate::detect::{BBox, Face};
use crate::embed::Embedding;
use crate::error::Result;
use crate::frame::Frame;
use crate::landmark::{LandmarkModel, Landmarks68};
use crate::pose::{head_pose, Pose};
use crate::quality::{crop_quality, CropQuality};
use crate::{align, liveness_crop, Pipeline};

/// The part of the capture a frame belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// At arm's length, in the small oval.
    Far,
    /// Close, in the large oval, the screen white.
    Near,
    /// Close, while the colours are shown.
    Light,
}

/// One frame of a capture.
#[derive(Clone, Copy, Debug)]
pub struct CaptureFrame<'a> {
    pub phase: Phase,
    pub frame: Frame<'a>,
}

/// The face the detector found in a frame, with its geometry.
#[derive(Clone, Debug, PartialEq)]
pub struct FaceMeasure {
    pub face: Face,
    /// How many faces the detector found (this is the best).
    pub faces: usize,
    pub landmarks: Landmarks68,
    pub pose: Pose,
    /// [`depth_ratio`] of the landmarks ([`steady_depth_ratio`] in far and near frames).
    pub depth_ratio: f32,
}

/// Mean linear RGB (`0..=1` per channel) of the face's centre and of the background.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RegionColour {
    pub face: [f32; 3],
    pub background: [f32; 3],
    /// Share of the frame's pixels in the background region.
    pub background_share: f32,
}

/// What [`measure_capture`] found in one frame; `None` where the phase does not need it.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct FrameMeasures {
    /// `Some(None)`: the detector ran and found no face.
    pub face: Option<Option<FaceMeasure>>,
    pub liveness: Option<f32>,
    pub embedding: Option<Embedding>,
    pub quality: Option<CropQuality>,
    pub colour: Option<RegionColour>,
    pub continuity: Option<f32>,
}

/// sRGB byte to linear light (computed).
fn linear_exact(v: u8) -> f32 {
    let c = f32::from(v) / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// sRGB byte to linear light, from a table built once (every pixel of a frame goes
/// through it).
fn linear(v: u8) -> f32 {
    static TABLE: std::sync::OnceLock<[f32; 256]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| std::array::from_fn(|i| linear_exact(i as u8)))[usize::from(v)]
}

/// Inner-face width over jaw width, across the face (perpendicular to the eye line): the
/// RMS distance of the nose's points from their centre, over that of the jaw's
/// sides (points 0-5 and 11-16; the chin is as near the lens as the mouth and is left out).
/// `0` for degenerate landmarks.
pub fn depth_ratio(lm: &Landmarks68) -> f32 {
    let p = &lm.points;
    let eye_l = p[36];
    let eye_r = p[45];
    let (dx, dy) = (eye_r[0] - eye_l[0], eye_r[1] - eye_l[1]);
    let n = (dx * dx + dy * dy).sqrt();
    if !(n.is_finite() && n > 0.0) {
        return 0.0;
    }
    let across = |q: [f32; 2]| (q[0] * dx + q[1] * dy) / n;
    let rms = |idx: &mut dyn Iterator<Item = usize>| {
        let xs: Vec<f32> = idx.map(|i| across(p[i])).collect();
        let mean = xs.iter().sum::<f32>() / xs.len() as f32;
        (xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / xs.len() as f32).sqrt()
    };
    let inner = rms(&mut (27..36));
    let jaw = rms(&mut (0..6).chain(11..17));
    if jaw > 0.0 && inner.is_finite() {
        inner / jaw
    } else {
        0.0
    }
}

/// [`depth_ratio`] averaged over the landmarks of several crops of the face: the
/// detector's box as is (its `landmarks` already found) and moved diagonally by 4 % of its
/// size both ways, each also mirrored. One crop's landmarks jitter by about a pixel of the
/// model's 64, which on a face at arm's length is as large as the perspective change the
/// check looks for; the crops' errors are partly independent. On the genuine simulation of
/// the demo photos this took the faces refused as flat from 3 in 100 to 1 in 300 (`livesynth
/// bench --kinds genuine`), and narrowed both the genuine and the print distributions on
/// the LFW calibration photos (README, face liveness).
///
/// # Errors
/// [`crate::Error::Inference`] when the network fails.
pub fn steady_depth_ratio(p: &Pipeline, frame: &Frame<'_>, face: &Face, landmarks: &Landmarks68) -> Result<f32> {
    let model = p.landmark_model();
    let (w, h) = (face.bbox.width(), face.bbox.height());
    let ratio_of = |input: Vec<f32>, at: &Face| -> Result<f32> { Ok(depth_ratio(&crate::landmark::postprocess(&model.run(input)?, at))) };
    // The box as is: its landmarks are given.
    let mut ratios = vec![depth_ratio(landmarks)];
    for d in DEPTH_SHIFTS {
        let moved = Face { bbox: face.bbox.shifted(d * w, d * h), score: face.score };
        let input = LandmarkModel::preprocess(frame, &moved);
        if d != 0.0 {
            ratios.push(ratio_of(input.clone(), &moved)?);
        }
        // The mirrored crop's points are mirrored too; the ratio is the same either way
        // (the nose's and the jaw's points are symmetric sets, spreads are unsigned).
        ratios.push(ratio_of(mirror(&input), &moved)?);
    }
    Ok(ratios.iter().sum::<f32>() / ratios.len() as f32)
}

/// Diagonal shifts of the face box (fractions of its width and height) for
/// [`steady_depth_ratio`]; the first is the box itself.
const DEPTH_SHIFTS: [f32; 3] = [0.0, -0.04, 0.04];

/// A square model input mirrored left to right.
fn mirror(input: &[f32]) -> Vec<f32> {
    let side = crate::landmark::INPUT_SIDE;
    input.chunks_exact(side).flat_map(|row| row.iter().rev().copied()).collect()
}

/// Pixel ranges of a frame region, clamped.
fn clamp_span(lo: f32, hi: f32, max: u32) -> (usize, usize) {
    let lo = lo.max(0.0).min(max as f32) as usize;
    let hi = hi.max(0.0).min(max as f32) as usize;
    (lo, hi.max(lo))
}

/// Mean linear colour of the face's centre (the box's middle half across, from 30 % to
/// 85 % down: cheeks, nose, upper lip) and of the background: the pixels above the chin's
/// height that are more than 20 % of the face's width beside it, or more than 25 % of its
/// height above it (most of the hair is left out, as it is as near the screen as the face;
/// a face that fits the large oval leaves at least 5 % of the frame to the background).
pub fn region_colours(frame: &Frame<'_>, face: &BBox) -> RegionColour {
    let (w, h) = (frame.width(), frame.height());
    let rgba = frame.rgba();
    let (fw, fh) = (face.width(), face.height());
    let (x0, x1) = clamp_span(face.x1 + 0.25 * fw, face.x2 - 0.25 * fw, w);
    let (y0, y1) = clamp_span(face.y1 + 0.30 * fh, face.y1 + 0.85 * fh, h);
    let mut sum = [0f64; 3];
    let mut count = 0f64;
    let mut bg = [0f64; 3];
    let mut bg_count = 0f64;
    let (near_l, near_r, near_top) = (face.x1 - 0.20 * fw, face.x2 + 0.20 * fw, face.y1 - 0.25 * fh);
    let chin = face.y2.min(h as f32).max(0.0) as usize;
    for y in 0..chin {
        let yc = y as f32 + 0.5;
        for x in 0..w as usize {
            let i = (y * w as usize + x) * 4;
            let px = [linear(rgba[i]), linear(rgba[i + 1]), linear(rgba[i + 2])];
            let xc = x as f32 + 0.5;
            if (y0..y1).contains(&y) && (x0..x1).contains(&x) {
                for c in 0..3 {
                    sum[c] += f64::from(px[c]);
                }
                count += 1.0;
            } else if xc < near_l || xc > near_r || yc < near_top {
                for c in 0..3 {
                    bg[c] += f64::from(px[c]);
                }
                bg_count += 1.0;
            }
        }
    }
    let mean = |s: [f64; 3], n: f64| if n > 0.0 { s.map(|v| (v / n) as f32) } else { [0.0; 3] };
    RegionColour { face: mean(sum, count), background: mean(bg, bg_count), background_share: (bg_count / f64::from(w * h)) as f32 }
}

/// Luma of `frame` sampled on a 16x16 grid over `region` (nearest pixel).
fn luma_grid(frame: &Frame<'_>, region: &BBox) -> Vec<f32> {
    const N: usize = 16;
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let rgba = frame.rgba();
    let mut out = Vec::with_capacity(N * N);
    for j in 0..N {
        for i in 0..N {
            let x = region.x1 + (i as f32 + 0.5) / N as f32 * region.width();
            let y = region.y1 + (j as f32 + 0.5) / N as f32 * region.height();
            let (x, y) = ((x.max(0.0) as usize).min(w - 1), (y.max(0.0) as usize).min(h - 1));
            let k = (y * w + x) * 4;
            out.push(0.299 * f32::from(rgba[k]) + 0.587 * f32::from(rgba[k + 1]) + 0.114 * f32::from(rgba[k + 2]));
        }
    }
    out
}

/// Normalised cross-correlation of the luma of `a` and `b` inside `region`, in `-1..=1`
/// (`0` when either is flat there).
pub fn luma_similarity(a: &Frame<'_>, b: &Frame<'_>, region: &BBox) -> f32 {
    let (ga, gb) = (luma_grid(a, region), luma_grid(b, region));
    let n = ga.len() as f32;
    let (ma, mb) = (ga.iter().sum::<f32>() / n, gb.iter().sum::<f32>() / n);
    let (mut sab, mut saa, mut sbb) = (0f32, 0f32, 0f32);
    for (x, y) in ga.iter().zip(&gb) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    let d = (saa * sbb).sqrt();
    if d > 0.0 {
        sab / d
    } else {
        0.0
    }
}

/// Detects the best face of `frame` and measures its geometry; `steady`: the depth ratio
/// of several crops ([`steady_depth_ratio`]), for the frames the distance check uses.
fn find_face(p: &Pipeline, frame: &Frame<'_>, steady: bool) -> Result<Option<FaceMeasure>> {
    let faces = p.detect(frame)?;
    let Some(face) = faces.first().copied() else { return Ok(None) };
    let landmarks = p.landmarks(frame, &face)?;
    let pose = head_pose(&landmarks);
    let depth_ratio = if steady { steady_depth_ratio(p, frame, &face, &landmarks)? } else { depth_ratio(&landmarks) };
    Ok(Some(FaceMeasure { face, faces: faces.len(), landmarks, pose, depth_ratio }))
}

/// Measures every frame of a capture as the table of the module says. Frames are taken in
/// the order given; the reference of the `Light` frames is the last `Near` frame before
/// them that has a face.
///
/// # Errors
/// [`crate::Error::Inference`] when a network fails.
pub fn measure_capture(p: &Pipeline, frames: &[CaptureFrame<'_>]) -> Result<Vec<FrameMeasures>> {
    let mut out = Vec::with_capacity(frames.len());
    let mut reference: Option<(usize, BBox)> = None;
    let last_light = frames.iter().rposition(|f| f.phase == Phase::Light);
    for (i, cf) in frames.iter().enumerate() {
        let frame = &cf.frame;
        let mut m = FrameMeasures::default();
        match cf.phase {
            Phase::Far | Phase::Near => {
                let found = find_face(p, frame, true)?;
                if let Some(f) = &found {
                    let aligned = align(frame, &f.landmarks);
                    m.embedding = Some(p.embed(&aligned)?);
                    m.quality = Some(crop_quality(&aligned));
                    if cf.phase == Phase::Far {
                        m.liveness = Some(p.liveness(&liveness_crop(frame, &f.face))?);
                    } else {
                        m.colour = Some(region_colours(frame, &f.face.bbox));
                        reference = Some((i, f.face.bbox));
                    }
                }
                m.face = Some(found);
            }
            Phase::Light => {
                if let Some((r, bbox)) = reference {
                    m.colour = Some(region_colours(frame, &bbox));
                    m.continuity = Some(luma_similarity(&frames[r].frame, frame, &bbox));
                }
                if Some(i) == last_light {
                    m.face = Some(find_face(p, frame, false)?);
                }
            }
        }
        out.push(m);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
        (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .flat_map(|(x, y)| {
                let [r, g, b] = f(x, y);
                [r, g, b, 255]
            })
            .collect()
    }

    #[test]
    fn region_colours_separate_the_face_from_the_background() {
        let face = BBox { x1: 100.0, y1: 60.0, x2: 220.0, y2: 200.0 };
        let rgba = solid(320, 240, |x, y| if (100..220).contains(&x) && (60..200).contains(&y) { [255, 0, 0] } else { [0, 0, 255] });
        let frame = Frame::new(320, 240, &rgba).unwrap();
        let c = region_colours(&frame, &face);
        assert!((c.face[0] - 1.0).abs() < 1e-6 && c.face[2] == 0.0, "{c:?}");
        assert!((c.background[2] - 1.0).abs() < 1e-6 && c.background[0] == 0.0, "{c:?}");
        assert!(c.background_share > 0.1 && c.background_share < 0.6, "{c:?}");
        assert!((linear(128) - 0.2158).abs() < 1e-3);
        assert!((0..=255u8).all(|v| linear(v) == linear_exact(v)));
    }

    #[test]
    fn luma_similarity_sees_the_same_structure_under_other_light() {
        let region = BBox { x1: 0.0, y1: 0.0, x2: 64.0, y2: 64.0 };
        let a = solid(64, 64, |x, _| [(x * 4) as u8; 3]);
        let tinted = solid(64, 64, |x, _| [(x * 4) as u8, (x * 2) as u8, 200]);
        let other = solid(64, 64, |_, y| [(y * 4) as u8; 3]);
        let (fa, ft, fo) = (Frame::new(64, 64, &a).unwrap(), Frame::new(64, 64, &tinted).unwrap(), Frame::new(64, 64, &other).unwrap());
        assert!(luma_similarity(&fa, &ft, &region) > 0.9);
        assert!(luma_similarity(&fa, &fo, &region) < 0.5);
        let flat = solid(64, 64, |_, _| [50, 50, 50]);
        assert_eq!(luma_similarity(&fa, &Frame::new(64, 64, &flat).unwrap(), &region), 0.0);
    }

    #[test]
    fn depth_ratio_is_scale_free_and_grows_with_the_inner_face() {
        let mut lm = Landmarks68 { points: [[0.0; 2]; 68] };
        for (i, p) in lm.points.iter_mut().enumerate() {
            // Jaw at +-50, the inner face within +-20, eyes level.
            *p = if i < 17 { [if i < 8 { -50.0 } else { 50.0 }, i as f32] } else { [((i % 5) as f32 - 2.0) * 10.0, i as f32] };
        }
        lm.points[36] = [-20.0, 0.0];
        lm.points[45] = [20.0, 0.0];
        let r = depth_ratio(&lm);
        let mut scaled = lm.clone();
        for p in scaled.points.iter_mut() {
            *p = [p[0] * 2.0 + 7.0, p[1] * 2.0 - 3.0];
        }
        assert!((depth_ratio(&scaled) - r).abs() < 1e-4, "a flat picture moved closer keeps its ratio");
        let mut nearer = lm.clone();
        for p in nearer.points[27..].iter_mut() {
            p[0] *= 1.1;
        }
        assert!(depth_ratio(&nearer) > r * 1.05);
        assert_eq!(depth_ratio(&Landmarks68 { points: [[1.0; 2]; 68] }), 0.0);
    }
}
