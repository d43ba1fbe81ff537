//! Shared fixtures: paths, models, photos, the reference files and small utilities.
#![allow(dead_code)]

use biopass_model::{Face, Frame};

/// An owned RGBA image.
#[derive(Clone)]
pub struct Rgba {
    pub width: u32,
    pub height: u32,
    pub px: Vec<u8>,
}

impl Rgba {
    pub fn frame(&self) -> Frame<'_> {
        Frame::new(self.width, self.height, &self.px).unwrap()
    }

    pub fn from_rgb(width: u32, height: u32, rgb: &[u8]) -> Self {
        let px = rgb.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect();
        Self { width, height, px }
    }

    pub fn to_rgb(&self) -> Vec<u8> {
        self.px.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect()
    }

    /// Mirror image (left-right).
    pub fn mirrored(&self) -> Self {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut px = vec![0u8; self.px.len()];
        for y in 0..h {
            for x in 0..w {
                let (s, d) = ((y * w + x) * 4, (y * w + (w - 1 - x)) * 4);
                px[d..d + 4].copy_from_slice(&self.px[s..s + 4]);
            }
        }
        Self { width: self.width, height: self.height, px }
    }
}

/// Parses a binary PPM (P6, maxval 255) as written by the reference script.
pub fn parse_ppm(bytes: &[u8]) -> Rgba {
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(std::str::from_utf8(&bytes[start..i]).unwrap().to_string());
    }
    assert_eq!(fields[0], "P6", "not a binary PPM");
    assert_eq!(fields[3], "255");
    let (w, h): (u32, u32) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let data = &bytes[i + 1..];
    assert_eq!(data.len(), (w * h * 3) as usize, "truncated PPM");
    Rgba::from_rgb(w, h, data)
}

/// `u_i = (i * 2654435761 mod 2^32) / 2^32`, scaled to `lo..hi`: the fixed inputs shared
/// with `model/reference/reference.py`.
pub fn fixed_input(n: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n as u64)
        .map(|i| {
            let u = (i.wrapping_mul(2_654_435_761) % (1 << 32)) as f64 / 4_294_967_296.0;
            (lo as f64 + (hi - lo) as f64 * u) as f32
        })
        .collect()
}

/// SplitMix64: a tiny deterministic generator for the transformed copies.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi`.
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * u as f32
    }
}

/// Cosine of two equal-length vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    (dot / (na * nb)) as f32
}

/// Largest absolute difference.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// The face in `faces` whose centre is nearest `point`, with its distance.
pub fn nearest(faces: &[Face], point: [f32; 2]) -> Option<(Face, f32)> {
    faces
        .iter()
        .map(|f| {
            let c = f.bbox.centre();
            (*f, ((c[0] - point[0]).powi(2) + (c[1] - point[1]).powi(2)).sqrt())
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// Summary statistics for reports.
pub fn describe(name: &str, values: &[f32]) -> String {
    let mut v = values.to_vec();
    v.sort_by(f32::total_cmp);
    let pct = |p: f32| v[((p / 100.0) * (v.len() - 1) as f32).round() as usize];
    let mean = v.iter().sum::<f32>() / v.len() as f32;
    format!(
        "{name}: n={} min={:.3} p1={:.3} p5={:.3} p50={:.3} p95={:.3} p99={:.3} max={:.3} mean={:.3}",
        v.len(),
        v[0],
        pct(1.0),
        pct(5.0),
        pct(50.0),
        pct(95.0),
        pct(99.0),
        v[v.len() - 1],
        mean
    )
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::*;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::path::{Path, PathBuf};
    use std::sync::OnceLock;

    use biopass_model::{ModelBytes, ModelKind, Pipeline};
    use serde_json::Value;

    use super::{parse_ppm, Rgba};

    fn home() -> PathBuf {
        PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
    }

    pub fn models_dir() -> PathBuf {
        std::env::var_os("BIOPASS_MODELS").map(PathBuf::from).unwrap_or_else(|| {
            std::env::var_os("CARGO_MANIFEST_DIR")
                .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf(), std::path::PathBuf::from)
                .join("../public/models")
        })
    }

    pub fn photos_dir() -> PathBuf {
        std::env::var_os("BIOPASS_PHOTOS").map(PathBuf::from).unwrap_or_else(|| home().join(".cache/biopass/photos"))
    }

    pub fn reference_dir() -> PathBuf {
        std::env::var_os("BIOPASS_MODEL_REF").map(PathBuf::from).unwrap_or_else(|| home().join(".cache/biopass/model-ref"))
    }

    fn read(path: &Path, how: &str) -> Vec<u8> {
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {} ({e}): run {how} first", path.display()))
    }

    pub fn model_bytes(kind: ModelKind) -> Vec<u8> {
        read(&models_dir().join(kind.file_name()), "scripts/models.sh")
    }

    pub fn reference_file(name: &str) -> Vec<u8> {
        read(&reference_dir().join(name), "scripts/test-model.sh (it writes the onnxruntime reference)")
    }

    pub fn pipeline() -> &'static Pipeline {
        static P: OnceLock<Pipeline> = OnceLock::new();
        P.get_or_init(|| {
            let [d, l, v, f] = ModelKind::ALL.map(model_bytes);
            Pipeline::load(ModelBytes { detect: &d, landmark: &l, liveness: &v, feature: &f }).unwrap()
        })
    }

    /// `photos.json` of the reference script.
    pub fn reference() -> &'static Value {
        static R: OnceLock<Value> = OnceLock::new();
        R.get_or_init(|| serde_json::from_slice(&reference_file("photos.json")).unwrap())
    }

    /// `fixed.json` of the reference script.
    pub fn fixed_reference() -> Value {
        serde_json::from_slice(&reference_file("fixed.json")).unwrap()
    }

    pub fn floats(v: &Value) -> Vec<f32> {
        v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
    }

    /// A reference tensor file of raw little-endian f32.
    pub fn tensor_f32(name: &str) -> Vec<f32> {
        reference_file(&format!("tensors/{name}")).chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
    }

    /// A reference tensor file of raw bytes.
    pub fn tensor_u8(name: &str) -> Vec<u8> {
        reference_file(&format!("tensors/{name}"))
    }

    /// Demo photo `n` (1..=6), decoded by the reference script (same pixels on both sides).
    pub fn photo(n: usize) -> Rgba {
        parse_ppm(&reference_file(&format!("sample{n}.ppm")))
    }

    /// The original JPEG of demo photo `n`.
    pub fn photo_jpeg(n: usize) -> Vec<u8> {
        read(&photos_dir().join(format!("sample{n}.jpg")), "scripts/models.sh")
    }

    pub const PHOTOS: std::ops::RangeInclusive<usize> = 1..=6;
}
