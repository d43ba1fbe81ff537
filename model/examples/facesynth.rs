//! Synthetic head movements from a still photo, for the face-login tests.
//!
//! A face of a demo photo is put in a 640x480 "webcam" frame and turned by a depth-aware
//! warp: the head is an ellipsoid-like surface (a paraboloid over the face box's ellipse)
//! plus a Gaussian nose bump at the nose-tip landmark; rotating that surface by yaw/pitch
//! (orthographic) gives a displacement field, which is inverted per output pixel by a
//! damped fixed-point iteration and sampled bilinearly. The background stays put.
//!
//! Every synthetic frame is checked with our own pipeline the way the edge worker checks
//! evidence: the 128x128 liveness crop must hold exactly one face whose head pose (from
//! the landmarks found on that crop) passes the challenge thresholds with a margin, its
//! liveness must pass, and the aligned crop (after JPEG) must be the same person as the
//! frontal frame. The rotation angle of each move is searched until the measured pose
//! reaches the margin.
//!
//! ```text
//! facesynth evidence --photo P --face I --steps turn_left,look_up
//!           [--attack two-faces|no-face] [--claim-photo P2 --claim-face J] [--models DIR]
//!     prints the JSON `frames` array of `POST /api/login/{tx}/face` (the page's
//!     `FRONTAL_FRAMES` frontal frames, copies of one still, then one frame per step in
//!     order); aligned crops JPEG q90, context crops PNG.
//!     --attack two-faces: the frontal frame's context crop shows this face and its nearest
//!       neighbour in the photo; no-face: a part of the photo without a face.
//!     --claim-*: adds an `embedding` field (that face's embedding) to every frame.
//! facesynth y4m --photo P --face I --out F.y4m [--models DIR]
//!     a 640x480 15 fps YUV420p video, frontal -> left -> frontal -> right -> frontal -> up
//!     -> frontal, 2 s each (0.6 s of movement, then held), for a fake camera.
//! facesynth faces --photo P
//!     lists the faces of a photo with their pose and whether the moves can be made.
//! ```
//! Few demo faces are frontal, so each scene first finds the rotation that makes the face
//! frontal as the worker measures it, and moves from there. Faces that work well (every
//! move passes with liveness >= 0.85, checked with `faces`, and every two frames of a
//! left/right/up evidence have a cosine >= 0.55, checked by `evidence`): sample5 face 4
//! (frontal as taken, the least warped: person A of the tests; least pair cosine 0.70),
//! sample6 face 2 (person B; 0.78), sample3 face 0 (0.64) and face 2 (0.64). Avoid sample1
//! face 2 and face 0 (left vs right turn below 0.52), sample3 face 1 and sample6 face 3
//! (not live). Models default to `public/models`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use biopass_model::imageops::{self, Affine};
use biopass_model::{
    align, head_pose, liveness_crop, similarity, Aligned112, Crop128, Embedding, Face, Frame,
    Landmarks68, ModelBytes, Pipeline, Pose,
};
use std::io::Write;
use std::path::{Path, PathBuf};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Webcam frame size.
const W: usize = 640;
const H: usize = 480;
/// Where the face centre goes in the webcam frame, and its box width there.
const FACE_AT: [f32; 2] = [320.0, 225.0];
const FACE_WIDTH: f32 = 190.0;
/// Margins over the worker's thresholds (idp::face): turns 15 deg, look up 10 deg,
/// frontal within 12 deg.
const TURN_TARGET: f32 = 20.0;
const UP_TARGET: f32 = 14.0;
const FRONTAL_LIMIT: f32 = 9.0;

// ---------------------------------------------------------------------------------------
// The warp (pure, unit-tested below)

/// The head as a depth surface over the frame, in frame pixels.
#[derive(Clone, Copy, Debug)]
struct Head {
    centre: [f32; 2],
    /// Semi-axes of the head ellipse.
    axes: [f32; 2],
    /// Depth of the surface at the ellipse centre, above its rim.
    depth: f32,
    nose: [f32; 2],
    nose_height: f32,
    nose_sigma: f32,
}

impl Head {
    fn from_face(face: &Face, lm: &Landmarks68) -> Self {
        let b = &face.bbox;
        let (bw, bh) = (b.width(), b.height());
        Self {
            centre: b.centre(),
            axes: [0.62 * bw, 0.72 * bh],
            depth: 0.45 * bw,
            nose: lm.points[30],
            nose_height: 0.09 * bw,
            nose_sigma: 0.11 * bw,
        }
    }

    fn r2(&self, p: [f32; 2]) -> f32 {
        let dx = (p[0] - self.centre[0]) / self.axes[0];
        let dy = (p[1] - self.centre[1]) / self.axes[1];
        dx * dx + dy * dy
    }

    /// Height of the surface towards the camera.
    fn z(&self, p: [f32; 2]) -> f32 {
        let r2 = self.r2(p);
        let base = if r2 < 1.0 {
            self.depth * (1.0 - r2)
        } else {
            0.0
        };
        let dn = ((p[0] - self.nose[0]).powi(2) + (p[1] - self.nose[1]).powi(2))
            / self.nose_sigma.powi(2);
        base + self.nose_height * (-0.5 * dn).exp()
    }

    /// How much of the rotation a point takes: 1 on the head, 0 in the background.
    fn weight(&self, p: [f32; 2]) -> f32 {
        let r = self.r2(p).sqrt();
        let t = ((r - 1.0) / 0.4).clamp(0.0, 1.0);
        1.0 - t * t * (3.0 - 2.0 * t)
    }

    /// Where the point `p` of the frontal image moves when the head turns by `yaw` (to the
    /// person's left, positive) and `pitch` (up, positive), in radians.
    fn forward(&self, p: [f32; 2], yaw: f32, pitch: f32) -> [f32; 2] {
        let w = self.weight(p);
        let z = self.z(p);
        let dx = (p[0] - self.centre[0]) * (yaw.cos() - 1.0) + z * yaw.sin();
        let dy = (p[1] - self.centre[1]) * (pitch.cos() - 1.0) - z * pitch.sin();
        [p[0] + w * dx, p[1] + w * dy]
    }

    /// The frontal-image point that lands on `q` (inverse of `forward`).
    fn backward(&self, q: [f32; 2], yaw: f32, pitch: f32) -> [f32; 2] {
        let mut p = q;
        for _ in 0..60 {
            let f = self.forward(p, yaw, pitch);
            let r = [q[0] - f[0], q[1] - f[1]];
            p = [p[0] + 0.7 * r[0], p[1] + 0.7 * r[1]];
            if r[0].abs() + r[1].abs() < 1e-3 {
                break;
            }
        }
        p
    }
}

/// Bilinear RGBA sample with replicated borders; `p` in continuous coordinates.
fn sample(rgba: &[u8], w: usize, h: usize, p: [f32; 2]) -> [u8; 4] {
    let (x, y) = (p[0] - 0.5, p[1] - 0.5);
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let cx = |v: f32| (v as i64).clamp(0, w as i64 - 1) as usize;
    let cy = |v: f32| (v as i64).clamp(0, h as i64 - 1) as usize;
    let (xa, xb, ya, yb) = (cx(x0), cx(x0 + 1.0), cy(y0), cy(y0 + 1.0));
    let mut out = [255u8; 4];
    for (c, o) in out.iter_mut().enumerate().take(3) {
        let g = |xx: usize, yy: usize| f32::from(rgba[(yy * w + xx) * 4 + c]);
        let top = g(xa, ya) + (g(xb, ya) - g(xa, ya)) * fx;
        let bot = g(xa, yb) + (g(xb, yb) - g(xa, yb)) * fx;
        *o = (top + (bot - top) * fy).round().clamp(0.0, 255.0) as u8;
    }
    out
}

/// The frame with the head turned by `yaw`/`pitch` degrees.
fn render(base: &[u8], head: &Head, yaw_deg: f32, pitch_deg: f32) -> Vec<u8> {
    let (yaw, pitch) = (yaw_deg.to_radians(), pitch_deg.to_radians());
    let mut out = vec![0u8; W * H * 4];
    for y in 0..H {
        for x in 0..W {
            let q = [x as f32 + 0.5, y as f32 + 0.5];
            let p = if head.weight(q) > 0.0 || head.r2(q) < 2.5 {
                head.backward(q, yaw, pitch)
            } else {
                q
            };
            out[(y * W + x) * 4..][..4].copy_from_slice(&sample(base, W, H, p));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Encoders: base64, PNG (stored deflate), JPEG (image crate), y4m

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// An RGB PNG with stored (uncompressed) deflate blocks: lossless, ~49 KB at 128x128.
fn png_rgb(rgb: &[u8], w: usize, h: usize) -> Vec<u8> {
    let mut raw = Vec::with_capacity((w * 3 + 1) * h);
    for row in rgb.chunks_exact(w * 3) {
        raw.push(0);
        raw.extend_from_slice(row);
    }
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, b) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let len = b.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(b);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + u32::from(x)) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut c = kind.to_vec();
        c.extend_from_slice(data);
        png.extend_from_slice(&c);
        png.extend_from_slice(&crc32(&c).to_be_bytes());
    };
    let mut ihdr = (w as u32).to_be_bytes().to_vec();
    ihdr.extend_from_slice(&(h as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &z);
    chunk(b"IEND", &[]);
    png
}

fn jpeg_rgb(rgb: &[u8], side: u32) -> Res<Vec<u8>> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode(
        rgb,
        side,
        side,
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(out)
}

fn jpeg_decode(jpeg: &[u8]) -> Res<Vec<u8>> {
    let img = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg)?;
    Ok(img.to_rgb8().into_raw())
}

/// One YUV420p frame (BT.601, limited range), as a fake camera reads it.
fn y4m_frame(rgba: &[u8]) -> Vec<u8> {
    let mut y = Vec::with_capacity(W * H);
    for p in rgba.chunks_exact(4) {
        let (r, g, b) = (f32::from(p[0]), f32::from(p[1]), f32::from(p[2]));
        y.push((16.0 + 0.257 * r + 0.504 * g + 0.098 * b).round() as u8);
    }
    let (mut u, mut v) = (Vec::new(), Vec::new());
    for cy in 0..H / 2 {
        for cx in 0..W / 2 {
            let mut s = [0f32; 3];
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let p = &rgba[((2 * cy + dy) * W + 2 * cx + dx) * 4..];
                for c in 0..3 {
                    s[c] += f32::from(p[c]) / 4.0;
                }
            }
            let [r, g, b] = s;
            u.push(
                (128.0 - 0.148 * r - 0.291 * g + 0.439 * b)
                    .round()
                    .clamp(0.0, 255.0) as u8,
            );
            v.push(
                (128.0 + 0.439 * r - 0.368 * g - 0.071 * b)
                    .round()
                    .clamp(0.0, 255.0) as u8,
            );
        }
    }
    let mut out = b"FRAME\n".to_vec();
    out.extend(y);
    out.extend(u);
    out.extend(v);
    out
}

// ---------------------------------------------------------------------------------------
// The pipeline, as the worker runs it

fn load_pipeline(dir: &Path) -> Res<Pipeline> {
    let read =
        |n: &str| std::fs::read(dir.join(n)).map_err(|e| format!("{}/{n}: {e}", dir.display()));
    let (d, l, v, f) = (
        read("fr_detect.onnx")?,
        read("fr_landmark.onnx")?,
        read("fr_liveness.onnx")?,
        read("fr_feature.onnx")?,
    );
    Ok(Pipeline::load(ModelBytes {
        detect: &d,
        landmark: &l,
        liveness: &v,
        feature: &f,
    })?)
}

fn load_photo(path: &Path) -> Res<(usize, usize, Vec<u8>)> {
    let img = image::ImageReader::open(path)?
        .with_guessed_format()?
        .decode()?
        .to_rgba8();
    Ok((img.width() as usize, img.height() as usize, img.into_raw()))
}

fn nearest(faces: &[Face], at: [f32; 2]) -> Option<Face> {
    let d = |f: &Face| {
        let c = f.bbox.centre();
        (c[0] - at[0]).powi(2) + (c[1] - at[1]).powi(2)
    };
    faces.iter().min_by(|a, b| d(a).total_cmp(&d(b))).cloned()
}

/// What the worker measures on a frame's crops (after JPEG for the aligned one).
struct Measured {
    context: Crop128,
    aligned_jpeg: Vec<u8>,
    landmarks: Landmarks68,
    /// Pose on the full frame (what the browser sees) and on the context crop (what the
    /// worker sees).
    frame_pose: Pose,
    crop_pose: Option<Pose>,
    crop_faces: usize,
    liveness: f32,
    embedding: Embedding,
}

fn measure(p: &Pipeline, rgba: &[u8]) -> Res<Measured> {
    let frame = Frame::new(W as u32, H as u32, rgba)?;
    let face = nearest(&p.detect(&frame)?, FACE_AT).ok_or("no face in the synthetic frame")?;
    let landmarks = p.landmarks(&frame, &face)?;
    let context = liveness_crop(&frame, &face);
    let aligned = align(&frame, &landmarks);
    let aligned_jpeg = jpeg_rgb(aligned.as_rgb(), 112)?;
    let embedding = p.embed(&Aligned112::from_bytes(&jpeg_decode(&aligned_jpeg)?)?)?;
    let (crop_faces, crop_pose) = crop_pose(p, &context)?;
    Ok(Measured {
        liveness: p.liveness(&context)?,
        frame_pose: head_pose(&landmarks),
        context,
        aligned_jpeg,
        landmarks,
        crop_pose,
        crop_faces,
        embedding,
    })
}

/// Faces found in a context crop, and the pose of the face if there is exactly one.
fn crop_pose(p: &Pipeline, context: &Crop128) -> Res<(usize, Option<Pose>)> {
    let rgba = context.to_rgba();
    let frame = Frame::new(128, 128, &rgba)?;
    let faces = p.detect(&frame)?;
    let pose = match faces.as_slice() {
        [one] => Some(head_pose(&p.landmarks(&frame, one)?)),
        _ => None,
    };
    Ok((faces.len(), pose))
}

// ---------------------------------------------------------------------------------------
// Moves

#[derive(Clone, Copy, Debug, PartialEq)]
enum Move {
    Frontal,
    TurnLeft,
    TurnRight,
    LookUp,
}

impl Move {
    fn parse(s: &str) -> Res<Self> {
        Ok(match s {
            "turn_left" => Self::TurnLeft,
            "turn_right" => Self::TurnRight,
            "look_up" => Self::LookUp,
            _ => return Err(format!("unknown step {s:?}").into()),
        })
    }
    /// (yaw, pitch) per unit of rotation.
    fn axis(self) -> (f32, f32) {
        match self {
            Self::Frontal => (0.0, 0.0),
            Self::TurnLeft => (1.0, 0.0),
            Self::TurnRight => (-1.0, 0.0),
            Self::LookUp => (0.0, 1.0),
        }
    }
    fn passes(self, pose: &Pose) -> bool {
        match self {
            Self::Frontal => pose.yaw.abs() <= FRONTAL_LIMIT && pose.pitch.abs() <= FRONTAL_LIMIT,
            Self::TurnLeft => pose.yaw >= TURN_TARGET,
            Self::TurnRight => pose.yaw <= -TURN_TARGET,
            Self::LookUp => pose.pitch >= UP_TARGET,
        }
    }
}

/// A face of a photo, placed in a webcam frame, ready to be turned.
struct Scene {
    base: Vec<u8>,
    head: Head,
    /// The rotation (yaw, pitch) that makes the face frontal as the worker measures it:
    /// the demo photos' faces are rarely frontal, so the moves start from there.
    neutral: (f32, f32),
}

impl Scene {
    fn new(p: &Pipeline, photo: &Path, index: usize) -> Res<Self> {
        let (pw, ph, rgba) = load_photo(photo)?;
        let frame = Frame::new(pw as u32, ph as u32, &rgba)?;
        let faces = p.detect(&frame)?;
        let face = faces.get(index).ok_or_else(|| {
            format!(
                "{} has {} faces, no face {index}",
                photo.display(),
                faces.len()
            )
        })?;
        let s = FACE_WIDTH / face.bbox.width();
        let c = face.bbox.centre();
        let map = Affine([
            [1.0 / s, 0.0, c[0] - FACE_AT[0] / s],
            [0.0, 1.0 / s, c[1] - FACE_AT[1] / s],
        ]);
        let base: Vec<u8> = imageops::to_u8(&imageops::warp_rgb(&frame, &map, W, H))
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect();
        let bf = Frame::new(W as u32, H as u32, &base)?;
        let face =
            nearest(&p.detect(&bf)?, FACE_AT).ok_or("the face is lost in the webcam frame")?;
        let lm = p.landmarks(&bf, &face)?;
        let mut scene = Self {
            head: Head::from_face(&face, &lm),
            base,
            neutral: (0.0, 0.0),
        };
        for _ in 0..6 {
            let (ny, np) = scene.neutral;
            let ms = measure(p, &render(&scene.base, &scene.head, ny, np))?;
            let pose = ms.crop_pose.ok_or("no single face in the context crop")?;
            if pose.yaw.abs() <= 3.0 && pose.pitch.abs() <= 3.0 {
                break;
            }
            scene.neutral = (ny - 0.9 * pose.yaw, np - 0.9 * pose.pitch);
        }
        Ok(scene)
    }

    fn render(&self, yaw: f32, pitch: f32) -> Vec<u8> {
        render(
            &self.base,
            &self.head,
            self.neutral.0 + yaw,
            self.neutral.1 + pitch,
        )
    }

    /// The smallest rotation (degrees) whose frame passes `m` as the worker measures it,
    /// with the frame and its measurements.
    fn make(&self, p: &Pipeline, m: Move) -> Res<(f32, Vec<u8>, Measured)> {
        let (ay, ap) = m.axis();
        let angles: Vec<f32> = if m == Move::Frontal {
            vec![0.0]
        } else {
            (0..=14).map(|i| 9.0 + 3.0 * i as f32).collect()
        };
        let mut last = String::new();
        for a in angles {
            let frame = self.render(ay * a, ap * a);
            let ms = measure(p, &frame)?;
            match ms.crop_pose {
                Some(pose) if m.passes(&pose) && m.passes(&ms.frame_pose) => {
                    return Ok((a, frame, ms));
                }
                Some(pose) => {
                    last = format!("at {a} deg: crop {pose:?}, frame {:?}", ms.frame_pose)
                }
                None => last = format!("at {a} deg: {} faces in the context crop", ms.crop_faces),
            }
        }
        Err(format!("{m:?} cannot be synthesised for this face ({last})").into())
    }
}

fn pose_json(pose: &Pose) -> serde_json::Value {
    serde_json::json!({ "yaw": (pose.yaw * 10.0).round() / 10.0, "pitch": (pose.pitch * 10.0).round() / 10.0 })
}

// ---------------------------------------------------------------------------------------
// Commands

struct Args(Vec<String>);

impl Args {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .position(|a| a == name)
            .and_then(|i| self.0.get(i + 1))
            .map(String::as_str)
    }
    fn need(&self, name: &str) -> Res<&str> {
        self.get(name)
            .ok_or_else(|| format!("missing {name}").into())
    }
    fn models(&self) -> PathBuf {
        self.get("--models").map_or_else(
            || std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf(), std::path::PathBuf::from).join("../public/models"),
            PathBuf::from,
        )
    }
}

/// A square crop of the photo resized to 128x128 RGB.
fn square_crop(photo: &Frame<'_>, cx: f32, cy: f32, side: f32) -> Crop128 {
    let map = Affine::rect_to_grid(cx - side / 2.0, cy - side / 2.0, side, side, 128, 128);
    let rgb = imageops::to_u8(&imageops::warp_rgb(photo, &map, 128, 128));
    Crop128::from_bytes(&rgb).unwrap()
}

/// A context crop that holds the face `index` of the photo and its nearest neighbour.
fn two_faces_crop(p: &Pipeline, photo: &Path, index: usize) -> Res<Crop128> {
    let (pw, ph, rgba) = load_photo(photo)?;
    let frame = Frame::new(pw as u32, ph as u32, &rgba)?;
    let faces = p.detect(&frame)?;
    let me = faces.get(index).ok_or("no such face")?;
    let other = faces
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != index)
        .map(|(_, f)| f)
        .min_by(|a, b| {
            let d = |f: &Face| {
                let (c, m) = (f.bbox.centre(), me.bbox.centre());
                (c[0] - m[0]).powi(2) + (c[1] - m[1]).powi(2)
            };
            d(a).total_cmp(&d(b))
        })
        .ok_or("the photo has one face only")?;
    let (x1, y1) = (me.bbox.x1.min(other.bbox.x1), me.bbox.y1.min(other.bbox.y1));
    let (x2, y2) = (me.bbox.x2.max(other.bbox.x2), me.bbox.y2.max(other.bbox.y2));
    let crop = square_crop(
        &frame,
        (x1 + x2) / 2.0,
        (y1 + y2) / 2.0,
        1.25 * (x2 - x1).max(y2 - y1),
    );
    let (n, _) = crop_pose(p, &crop)?;
    if n < 2 {
        return Err(format!("two-faces crop shows {n} faces").into());
    }
    Ok(crop)
}

/// A context crop of the photo in which the detector finds no face.
fn no_face_crop(p: &Pipeline, photo: &Path) -> Res<Crop128> {
    let (pw, ph, rgba) = load_photo(photo)?;
    let frame = Frame::new(pw as u32, ph as u32, &rgba)?;
    let side = (ph as f32 / 3.0).min(pw as f32 / 3.0);
    for gy in 0..3 {
        for gx in 0..3 {
            let crop = square_crop(
                &frame,
                side * (gx as f32 + 0.5),
                ph as f32 - side * (gy as f32 + 0.5),
                side,
            );
            if crop_pose(p, &crop)?.0 == 0 {
                return Ok(crop);
            }
        }
    }
    Err("every part of the photo shows a face".into())
}

fn evidence(a: &Args) -> Res<()> {
    let p = load_pipeline(&a.models())?;
    let photo = PathBuf::from(a.need("--photo")?);
    let index: usize = a.need("--face")?.parse()?;
    let steps = a
        .need("--steps")?
        .split(',')
        .map(Move::parse)
        .collect::<Res<Vec<_>>>()?;
    let claim = match (a.get("--claim-photo"), a.get("--claim-face")) {
        (Some(cp), Some(cf)) => {
            let scene = Scene::new(&p, Path::new(cp), cf.parse()?)?;
            Some(
                scene
                    .make(&p, Move::Frontal)?
                    .2
                    .embedding
                    .as_slice()
                    .to_vec(),
            )
        }
        _ => None,
    };
    let scene = Scene::new(&p, &photo, index)?;
    let moves: Vec<(Option<usize>, Move)> = std::iter::repeat_n((None, Move::Frontal), biopass_idp::face::FRONTAL_FRAMES)
        .chain(steps.iter().enumerate().map(|(i, m)| (Some(i), *m)))
        .collect();
    let mut frames = Vec::new();
    let mut first: Option<Embedding> = None;
    let mut all: Vec<Embedding> = Vec::new();
    for (step, m) in moves {
        let (angle, _, mut ms) = scene.make(&p, m)?;
        if step.is_none() {
            match a.get("--attack") {
                Some("two-faces") => ms.context = two_faces_crop(&p, &photo, index)?,
                Some("no-face") => ms.context = no_face_crop(&p, &photo)?,
                Some(other) => return Err(format!("unknown attack {other}").into()),
                None => {}
            }
        }
        let same = first.as_ref().map_or(1.0, |f| similarity(f, &ms.embedding));
        first.get_or_insert_with(|| ms.embedding.clone());
        all.push(ms.embedding.clone());
        eprintln!(
            "{m:?}: rotation {angle} deg; worker pose (context crop) {}; frame pose {}; liveness {:.3}; same person as frontal {same:.3}",
            ms.crop_pose
                .as_ref()
                .map_or(serde_json::Value::Null, pose_json),
            pose_json(&ms.frame_pose),
            ms.liveness
        );
        if a.get("--attack").is_none() && (ms.liveness < 0.5 || same < 0.5) {
            return Err(format!(
                "{m:?}: liveness {:.3}, same person {same:.3}: pick another face",
                ms.liveness
            )
            .into());
        }
        let mut f = serde_json::json!({
            "step": step,
            "aligned_jpeg": base64(&ms.aligned_jpeg),
            "context_png": base64(&png_rgb(ms.context.as_rgb(), 128, 128)),
            "landmarks": ms.landmarks.points.iter().map(|p| [p[0], p[1]]).collect::<Vec<_>>(),
        });
        if let Some(e) = &claim {
            f["embedding"] = serde_json::json!(e);
        }
        frames.push(f);
    }
    // The worker wants every pair of frames to be one person (cosine >= 0.5).
    let least = all
        .iter()
        .enumerate()
        .flat_map(|(i, a)| all[i + 1..].iter().map(move |b| similarity(a, b)))
        .fold(1.0f32, f32::min);
    eprintln!("least similarity between two frames {least:.3}");
    if a.get("--attack").is_none() && least < 0.55 {
        return Err(format!("two frames are too unlike ({least:.3}): pick another face").into());
    }
    println!("{}", serde_json::to_string(&frames)?);
    Ok(())
}

fn y4m(a: &Args) -> Res<()> {
    let p = load_pipeline(&a.models())?;
    let scene = Scene::new(
        &p,
        Path::new(a.need("--photo")?),
        a.need("--face")?.parse()?,
    )?;
    let mut key = Vec::new();
    for m in [
        Move::Frontal,
        Move::TurnLeft,
        Move::Frontal,
        Move::TurnRight,
        Move::Frontal,
        Move::LookUp,
        Move::Frontal,
    ] {
        let (angle, _, ms) = scene.make(&p, m)?;
        let (ay, ap) = m.axis();
        eprintln!(
            "{m:?}: rotation {angle} deg; frame pose {}",
            pose_json(&ms.frame_pose)
        );
        key.push((ay * angle, ap * angle));
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(a.need("--out")?)?);
    writeln!(out, "YUV4MPEG2 W{W} H{H} F15:1 Ip A1:1 C420jpeg")?;
    let (per, moving) = (30usize, 9usize);
    for k in 0..key.len() {
        let from = key[if k == 0 { key.len() - 1 } else { k - 1 }];
        let to = key[k];
        for i in 0..per {
            let t = (i as f32 / moving as f32).min(1.0);
            let t = t * t * (3.0 - 2.0 * t);
            let frame = scene.render(from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t);
            out.write_all(&y4m_frame(&frame))?;
        }
    }
    out.flush()?;
    Ok(())
}

fn faces(a: &Args) -> Res<()> {
    let p = load_pipeline(&a.models())?;
    let photo = PathBuf::from(a.need("--photo")?);
    let (pw, ph, rgba) = load_photo(&photo)?;
    let n = p.detect(&Frame::new(pw as u32, ph as u32, &rgba)?)?.len();
    for i in 0..n {
        let scene = match Scene::new(&p, &photo, i) {
            Ok(s) => s,
            Err(e) => {
                println!("face {i}: {e}");
                continue;
            }
        };
        let mut line = format!(
            "face {i} (neutral rotation yaw {:+.0} pitch {:+.0}):",
            scene.neutral.0, scene.neutral.1
        );
        for m in [Move::Frontal, Move::TurnLeft, Move::TurnRight, Move::LookUp] {
            match scene.make(&p, m) {
                Ok((angle, _, ms)) => {
                    let c = ms.crop_pose.unwrap();
                    line += &format!(
                        " {m:?} {angle}deg crop yaw {:+.1} pitch {:+.1} (frame {:+.1} {:+.1}) live {:.2};",
                        c.yaw, c.pitch, ms.frame_pose.yaw, ms.frame_pose.pitch, ms.liveness
                    );
                }
                Err(e) => line += &format!(" {e};"),
            }
        }
        println!("{line}");
    }
    Ok(())
}

fn main() -> Res<()> {
    let args = Args(std::env::args().skip(1).collect());
    match args.0.first().map(String::as_str) {
        Some("evidence") => evidence(&args),
        Some("y4m") => y4m(&args),
        Some("faces") => faces(&args),
        _ => Err(
            "usage: facesynth evidence|y4m|faces --photo P [--face I] ... (see the file's doc)"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> Head {
        Head {
            centre: [320.0, 240.0],
            axes: [110.0, 130.0],
            depth: 80.0,
            nose: [320.0, 250.0],
            nose_height: 16.0,
            nose_sigma: 20.0,
        }
    }

    #[test]
    fn backward_inverts_forward() {
        let h = head();
        for (yaw, pitch) in [(25f32, 0f32), (-25.0, 0.0), (0.0, 18.0), (10.0, 10.0)] {
            let (y, p) = (yaw.to_radians(), pitch.to_radians());
            for px in (150..=490).step_by(17) {
                for py in (80..=420).step_by(19) {
                    let q = h.forward([px as f32, py as f32], y, p);
                    let back = h.backward(q, y, p);
                    let err = (back[0] - px as f32).abs() + (back[1] - py as f32).abs();
                    assert!(
                        err < 0.05,
                        "({px},{py}) yaw {yaw} pitch {pitch}: back {back:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn signs_follow_the_pose_convention() {
        let h = head();
        // Turning to the person's left moves the nose to the image's right, more than the
        // eyes; looking up moves it up. The background does not move.
        let nose = h.forward(h.nose, 20f32.to_radians(), 0.0);
        let eye = h.forward([280.0, 215.0], 20f32.to_radians(), 0.0);
        assert!(nose[0] - h.nose[0] > eye[0] - 280.0 && nose[0] > h.nose[0] + 10.0);
        let up = h.forward(h.nose, 0.0, 15f32.to_radians());
        assert!(up[1] < h.nose[1] - 10.0);
        assert_eq!(h.forward([10.0, 10.0], 0.4, 0.3), [10.0, 10.0]);
    }

    #[test]
    fn encoders() {
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"fooba"), "Zm9vYmE=");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
        let rgb: Vec<u8> = (0..128 * 128 * 3).map(|i| (i * 7 % 251) as u8).collect();
        let png = png_rgb(&rgb, 128, 128);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // signature, IHDR (25), IDAT (12 + zlib header, stored blocks, adler), IEND (12)
        let raw: usize = 128 * (128 * 3 + 1);
        assert_eq!(
            png.len(),
            8 + 25 + 12 + 2 + raw.div_ceil(65_535) * 5 + raw + 4 + 12
        );
    }
}
