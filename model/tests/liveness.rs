//! Liveness semantics and channel order, determined on the 22 real faces:
//! - channel order: with BGR planes class 0 wins on more real faces, with a higher mean
//!   probability, than with RGB planes;
//! - class 0 is "live": a screen-replay artefact (a moire pattern multiplied into the
//!   crop) moves the real faces off class 0 onto class 1, and a flat texture-free crop
//!   is class 1;
//! - `liveness()` is `softmax[0]` of the BGR input, and most real faces are live.

use biopass_model::liveness::{ChannelOrder, LivenessScores};
use biopass_model::{liveness_crop, Crop128};

use crate::helpers::*;

fn argmax(s: &LivenessScores) -> usize {
    (0..3).max_by(|a, b| s.probabilities[*a].total_cmp(&s.probabilities[*b])).unwrap_or(0)
}

/// Multiplies a moire-like interference pattern into the crop, as a screen re-captured
/// by a camera shows.
fn moire(crop: &Crop128) -> Crop128 {
    let side = Crop128::SIDE;
    let rgb: Vec<u8> = crop
        .as_rgb()
        .chunks_exact(3)
        .enumerate()
        .flat_map(|(i, p)| {
            let (x, y) = ((i % side) as f32, (i / side) as f32);
            let m = 0.85 + 0.15 * (x * 1.3 + y * 0.9).sin() * (y * 1.1).sin();
            p.iter().map(move |v| (*v as f32 * m).round().clamp(0.0, 255.0) as u8).collect::<Vec<_>>()
        })
        .collect();
    Crop128::from_bytes(&rgb).unwrap()
}

#[test]
fn class_zero_is_live_and_planes_are_bgr() {
    let p = pipeline();
    let mut crops = Vec::new();
    for n in PHOTOS {
        let img = photo(n);
        let frame = img.frame();
        for face in p.detect(&frame).unwrap() {
            crops.push(liveness_crop(&frame, &face));
        }
    }
    assert_eq!(crops.len(), 22);
    let stats = |order: ChannelOrder, transform: &dyn Fn(&Crop128) -> Crop128| {
        let scores: Vec<LivenessScores> = crops.iter().map(|c| p.liveness.scores(&transform(c), order).unwrap()).collect();
        let mut wins = [0usize; 3];
        for s in &scores {
            wins[argmax(s)] += 1;
        }
        let mean = scores.iter().map(|s| s.live()).sum::<f32>() / scores.len() as f32;
        (wins, mean)
    };
    let same = |c: &Crop128| c.clone();
    let (bgr_wins, bgr_mean) = stats(ChannelOrder::Bgr, &same);
    let (rgb_wins, rgb_mean) = stats(ChannelOrder::Rgb, &same);
    let (moire_wins, moire_mean) = stats(ChannelOrder::Bgr, &moire);
    println!("liveness real faces, BGR: argmax per class {bgr_wins:?}, mean p(class 0) {bgr_mean:.3}");
    println!("liveness real faces, RGB: argmax per class {rgb_wins:?}, mean p(class 0) {rgb_mean:.3}");
    println!("liveness moire copies, BGR: argmax per class {moire_wins:?}, mean p(class 0) {moire_mean:.3}");

    // Channel order: BGR is the one under which real faces are recognised as such.
    assert!(bgr_wins[0] > rgb_wins[0] && bgr_mean > rgb_mean);
    // Class 0 is live: most real faces are class 0 ...
    assert!(bgr_wins[0] * 4 >= crops.len() * 3, "only {} of 22 real faces are class 0", bgr_wins[0]);
    // ... and a replay artefact moves them to an attack class (1), dropping class 0 sharply.
    assert!(moire_wins[1] > crops.len() / 2 && moire_mean < bgr_mean - 0.3);

    // A flat, texture-free crop is no live face either.
    let flat = Crop128::from_bytes(&vec![128u8; 128 * 128 * 3]).unwrap();
    let s = p.liveness.scores(&flat, ChannelOrder::Bgr).unwrap();
    println!("liveness flat grey crop: {:?}", s.probabilities);
    assert_eq!(argmax(&s), 1);

    // The product's score is softmax[0] of the BGR input, accepting RGB or RGBA bytes.
    for c in crops.iter().take(3) {
        let from_rgba = Crop128::from_bytes(&c.to_rgba()).unwrap();
        let live = p.liveness(&from_rgba).unwrap();
        assert_eq!(live, p.liveness.scores(c, ChannelOrder::Bgr).unwrap().live());
        assert_eq!(live, p.liveness.liveness_bytes(c.as_rgb()).unwrap());
    }
    assert!(matches!(p.liveness.liveness_bytes(&[0u8; 7]), Err(biopass_model::Error::BadCropSize { side: 128, actual: 7 })));
    assert!(Crop128::from_bytes(&[0u8; 7]).is_err());
}
