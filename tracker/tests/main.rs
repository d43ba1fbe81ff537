//! The tracker on the real models and a demo photo, natively: what the login page's Web
//! Worker reports. Models come from `BIOPASS_MODELS` (default `public/models`),
//! photos from `BIOPASS_PHOTOS` (default `~/.cache/biopass/photos`); `scripts/setup.sh`
//! fetches both.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use biopass_model::{Detector, Frame};
use biopass_tracker::Tracker;
use std::path::PathBuf;

fn dir(var: &str, default: PathBuf) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or(default)
}

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup.sh)", path.display()))
}

fn tracker() -> Tracker {
    let models = dir(
        "BIOPASS_MODELS",
        std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from).join("../public/models"),
    );
    Tracker::load(&read(models.join("fr_detect.onnx")), &read(models.join("fr_landmark.onnx"))).unwrap()
}

fn photo(name: &str) -> (u32, u32, Vec<u8>) {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let photos = dir("BIOPASS_PHOTOS", home.join(".cache/biopass/photos"));
    let img = image::load_from_memory(&read(photos.join(name))).unwrap().to_rgba8();
    (img.width(), img.height(), img.into_raw())
}

fn no_clock() -> f64 {
    0.0
}

#[test]
fn reports_the_largest_face_its_pose_and_motion() {
    let mut t = tracker();
    let (w, h, rgba) = photo("sample5.jpg");
    let report = t.track(&rgba, w, h, &no_clock).unwrap();
    assert!(report.faces >= 2, "sample5 has several faces: {report:?}");
    let face = report.face.clone().unwrap();
    let area = |b: [f32; 4]| (b[2] - b[0]) * (b[3] - b[1]);
    // The largest of the detector's faces is the one reported.
    let frame = Frame::new(w, h, &rgba).unwrap();
    let models = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from).join("../public/models");
    let detector = Detector::load(&read(dir("BIOPASS_MODELS", models.clone()).join("fr_detect.onnx"))).unwrap();
    let largest = detector.detect(&frame).unwrap().iter().map(|f| f.bbox.area()).fold(0.0f32, f32::max);
    assert!((area(face.bbox) - largest).abs() < 1.0);
    assert_eq!(face.motion, None, "no previous frame");
    assert!(report.brightness > 40.0 && report.brightness < 230.0, "{}", report.brightness);

    // The same frame again: nothing moved.
    let again = t.track(&rgba, w, h, &no_clock).unwrap();
    assert!(again.face.unwrap().motion.unwrap() < 1e-3);
    assert!(face.yaw.is_finite() && face.pitch.is_finite());
}

#[test]
fn a_dark_empty_frame_has_no_face_and_forgets_the_last_one() {
    let mut t = tracker();
    let (w, h, rgba) = photo("sample5.jpg");
    assert!(t.track(&rgba, w, h, &no_clock).unwrap().face.is_some());
    let black = vec![0u8; 640 * 480 * 4];
    let report = t.track(&black, 640, 480, &no_clock).unwrap();
    assert_eq!((report.faces, report.face.is_none()), (0, true));
    assert!(report.brightness < 1.0);
    // The next face has no previous one to have moved from.
    assert_eq!(t.track(&rgba, w, h, &no_clock).unwrap().face.unwrap().motion, None);
    // A frame of the wrong size is an error, not a panic.
    assert!(t.track(&[0u8; 10], 640, 480, &no_clock).is_err());
}
