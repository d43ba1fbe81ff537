//! Light-and-distance face captures synthesised from a still photo: the genuine person the
//! tests and the benchmark simulate, the presentation attacks they must refuse, and the
//! calibration of the liveness thresholds.
//!
//! **The genuine simulation.** The photo's face becomes a 3D head: an ellipsoid over the
//! face (16 cm wide, 9 cm deep) with a nose 2.5 cm high, textured by the photo, in front
//! of a wall 1.5 m away (the photo, blurred beyond recognition). A pinhole camera (60°
//! across, 640x480) sees it at the distance that puts the detected face in each oval of
//! the challenge: true perspective, so the inner face grows faster than the jaw as the
//! head comes closer. The screen lights the head with near-field fall-off: the light added
//! to a surface point is `k * (30 cm / distance)^2 * facing`, times the screen's colour, on
//! an ambient light of 1 (k random in 0.25-0.45 per attempt); the wall gets
//! `k * (30 / 150)^2`. A partial auto-exposure, sensor noise, the 320x240 downscale and
//! JPEG (quality 85) follow, and frames are taken at the times the login page takes them.
//! This is what a real-time renderer in an attacker's browser could do too: the residual
//! risk the README states.
//!
//! ```text
//! livesynth evidence --photo P --face I --challenge JSON [--attack KIND] [--seed N] [--models DIR]
//!     prints {"frames": [...], "flashes_at_ms": n, "span_ms": n} for the challenge (the
//!     JSON the worker answered to POST .../face/challenge).
//!     KIND: still (one frame, repeated), paper (a flat print brought closer, lit by the
//!     screen), warp (the 3D head, no light response), tint (the 3D head, the whole frame
//!     tinted in step), late (the right light one colour late), reversed (the colours in
//!     reverse order), screen (a replay of a genuine capture of another sequence on a
//!     screen: moiré, gamma, blue cast); no-face (the near frames show the room only).
//! livesynth scene --photo P --face I --out-dir D [--models DIR]
//!     far.jpg, near.jpg (the head at the default ovals' distances, 640x480, white light
//!     off), far-mask.jpg, near-mask.jpg (the near-field light factor per pixel, over
//!     `mask_scale`), scene.json (the detected face's centre and width in pixels), for
//!     the browser's simulated person.
//! livesynth bench --photos DIR [--count N] [--kinds K,K] [--enrolments M] [--models DIR]
//!     APCER per attack and BPCER of the genuine simulation over N attempts each (the
//!     demo photos of DIR), through the worker's own measures and decisions; `--kinds`
//!     (e.g. `genuine`; empty: none) runs only those captures; `--enrolments` first
//!     enrols M times with fresh challenges and prints how many were refused, and why.
//! livesynth calibrate --photos DIR [--count N] [--models DIR]
//!     for N photos of DIR (the LFW calibration set), measures a genuine capture and the
//!     paper, tint and late attacks with the server's measures and prints the distribution
//!     of each liveness figure, which is how the thresholds of `biopass_idp::face` were set.
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use biopass_idp::face::{self as decide, IssuedChallenge, LivenessFigures, MeasuredFrame};
use biopass_idp::random::SeededEntropy;
use biopass_model::scene::{measure_capture, CaptureFrame, Phase};
use biopass_model::{Face, Frame, Landmarks68, ModelBytes, Pipeline};
use biopass_proto::login::{CapturePhase, FaceChallenge, FacePurpose, Oval, ScreenColour};
use std::path::{Path, PathBuf};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const W: usize = 640;
/// When [`place`] stops moving the head: the face's width within this (relative) of the
/// oval's, and |yaw| + |pitch| below this many degrees (the measured pose's noise is about 2).
const PLACED_WIDTH: f32 = 0.015;
const PLACED_DEGREES: f32 = 3.0;
const H: usize = 480;
/// Focal length in pixels: 60 degrees across 640 pixels.
const FOCAL: f32 = 554.0;
/// The head: full width and depth of the ellipsoid, and the nose's height, in cm.
const HEAD_WIDTH_CM: f32 = 16.0;
const HEAD_DEPTH_CM: f32 = 9.0;
const NOSE_CM: f32 = 2.5;
const WALL_CM: f32 = 150.0;
const LIGHT_REF_CM: f32 = 30.0;

fn lin(v: u8) -> f32 {
    let c = f32::from(v) / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

fn srgb(v: f32) -> u8 {
    let v = v.clamp(0.0, 1.0);
    let c = if v <= 0.0031308 { v * 12.92 } else { 1.055 * v.powf(1.0 / 2.4) - 0.055 };
    (c * 255.0).round() as u8
}

/// [`srgb`] by table: the smallest linear value that encodes to each of 1..=255 (found by
/// bisection over the floats' bits, so the result is [`srgb`]'s exactly), searched per pixel
/// instead of a `powf`.
struct SrgbEncoder([f32; 255]);

impl SrgbEncoder {
    fn new() -> Self {
        let mut edges = [0f32; 255];
        for (i, edge) in edges.iter_mut().enumerate() {
            let want = i as u8 + 1;
            // Positive floats order as their bits do: bisect for the first that reaches `want`.
            let (mut lo, mut hi) = (0u32, 1f32.to_bits());
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if srgb(f32::from_bits(mid)) >= want {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            *edge = f32::from_bits(lo);
        }
        Self(edges)
    }

    fn encode(&self, v: f32) -> u8 {
        self.0.partition_point(|e| *e <= v) as u8
    }
}

/// A small deterministic generator for the simulation's own noise (not a secret).
struct Noise(u64);

/// How many standard normal values [`Noise::gauss`] draws from: a sensor's noise needs the
/// distribution, not a fresh transcendental per pixel and channel.
const GAUSS_TABLE: usize = 4096;

impl Noise {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.next()
    }
    /// A standard normal value (Box-Muller).
    fn normal(&mut self) -> f32 {
        let (a, b) = (self.next().max(1e-7), self.next());
        (-2.0 * a.ln()).sqrt() * (std::f32::consts::TAU * b).cos()
    }

    /// A standard normal value, one of [`GAUSS_TABLE`] drawn once by [`Self::normal`].
    fn gauss(&mut self) -> f32 {
        static TABLE: std::sync::OnceLock<Vec<f32>> = std::sync::OnceLock::new();
        let table = TABLE.get_or_init(|| {
            let mut n = Noise::new(0x5EED);
            (0..GAUSS_TABLE).map(|_| n.normal()).collect()
        });
        table[(self.next() * GAUSS_TABLE as f32) as usize % GAUSS_TABLE]
    }
}

/// A photo's face as a textured head.
struct Head {
    /// The photo in linear RGB.
    photo: Vec<[f32; 3]>,
    pw: usize,
    ph: usize,
    centre: [f32; 2],
    axes: [f32; 2],
    nose: [f32; 2],
    nose_sigma: f32,
    /// Centimetres per photo pixel.
    cm: f32,
    /// The wall: the photo blurred beyond recognition, 640x480 linear.
    wall: Vec<[f32; 3]>,
    /// The face's pose in the photo.
    pose: biopass_model::Pose,
}

impl Head {
    fn new(p: &Pipeline, photo: &Path, index: usize) -> Res<Self> {
        let img = image::ImageReader::open(photo)?.with_guessed_format()?.decode()?.to_rgba8();
        let (pw, ph) = (img.width() as usize, img.height() as usize);
        let rgba = img.into_raw();
        let frame = Frame::new(pw as u32, ph as u32, &rgba)?;
        let faces = p.detect(&frame)?;
        let face: Face = *faces.get(index).ok_or_else(|| format!("{} has {} faces, no face {index}", photo.display(), faces.len()))?;
        let lm: Landmarks68 = p.landmarks(&frame, &face)?;
        let b = face.bbox;
        let axes = [0.62 * b.width(), 0.72 * b.height()];
        let table: [f32; 256] = std::array::from_fn(|v| lin(v as u8));
        let linear: Vec<[f32; 3]> = rgba.chunks_exact(4).map(|q| [0, 1, 2].map(|c| table[usize::from(q[c])])).collect();
        // The wall: the photo averaged over a 6x4 grid, bilinearly spread over the frame.
        let (gw, gh) = (6usize, 4usize);
        let mut grid = vec![[0f32; 3]; gw * gh];
        let mut counts = vec![0f32; gw * gh];
        for y in 0..ph {
            for x in 0..pw {
                let g = (y * gh / ph) * gw + x * gw / pw;
                for c in 0..3 {
                    grid[g][c] += linear[y * pw + x][c];
                }
                counts[g] += 1.0;
            }
        }
        for (g, n) in grid.iter_mut().zip(&counts) {
            *g = g.map(|v| v / n.max(1.0));
        }
        let mut wall = Vec::with_capacity(W * H);
        for y in 0..H {
            for x in 0..W {
                let gx = ((x as f32 + 0.5) / W as f32 * gw as f32 - 0.5).clamp(0.0, (gw - 1) as f32);
                let gy = ((y as f32 + 0.5) / H as f32 * gh as f32 - 0.5).clamp(0.0, (gh - 1) as f32);
                let (x0, y0) = (gx.floor() as usize, gy.floor() as usize);
                let (x1, y1) = ((x0 + 1).min(gw - 1), (y0 + 1).min(gh - 1));
                let (fx, fy) = (gx - x0 as f32, gy - y0 as f32);
                let at = |xx: usize, yy: usize, c: usize| grid[yy * gw + xx][c];
                wall.push([0, 1, 2].map(|c| {
                    let top = at(x0, y0, c) * (1.0 - fx) + at(x1, y0, c) * fx;
                    let bot = at(x0, y1, c) * (1.0 - fx) + at(x1, y1, c) * fx;
                    top * (1.0 - fy) + bot * fy
                }));
            }
        }
        Ok(Self {
            photo: linear,
            pw,
            ph,
            centre: b.centre(),
            axes,
            nose: lm.points[30],
            nose_sigma: 0.11 * b.width(),
            cm: HEAD_WIDTH_CM / (2.0 * axes[0]),
            wall,
            pose: biopass_model::head_pose(&lm),
        })
    }

    /// Height towards the camera (cm) and how much the surface faces the camera, at a
    /// photo point; `None` outside the head.
    /// `nose`: the nose's bump at `p`, `exp(-d² / 2σ²)` ([`Self::nose_bump`] along each axis).
    fn surface(&self, p: [f32; 2], nose: f32, flat: bool) -> Option<(f32, f32)> {
        let dx = (p[0] - self.centre[0]) / self.axes[0];
        let dy = (p[1] - self.centre[1]) / self.axes[1];
        let r2 = dx * dx + dy * dy;
        if flat {
            return Some((0.0, 1.0));
        }
        if r2 >= 1.0 {
            return None;
        }
        let z = HEAD_DEPTH_CM * (1.0 - r2).sqrt() + NOSE_CM * nose;
        Some((z, (1.0 - r2).sqrt().max(0.2)))
    }

    /// The nose's bump along one axis at photo coordinate `v` (`axis` 0: x, 1: y); the bump
    /// at a point is the product of its two (a Gaussian is separable).
    fn nose_bump(&self, v: f32, axis: usize) -> f32 {
        (-0.5 * ((v - self.nose[axis]) / self.nose_sigma).powi(2)).exp()
    }

    fn sample(&self, p: [f32; 2]) -> [f32; 3] {
        let (x, y) = (p[0] - 0.5, p[1] - 0.5);
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let cx = |v: f32| (v as i64).clamp(0, self.pw as i64 - 1) as usize;
        let cy = |v: f32| (v as i64).clamp(0, self.ph as i64 - 1) as usize;
        let (xa, xb, ya, yb) = (cx(x0), cx(x0 + 1.0), cy(y0), cy(y0 + 1.0));
        let g = |xx: usize, yy: usize, c: usize| self.photo[yy * self.pw + xx][c];
        [0, 1, 2].map(|c| {
            let top = g(xa, ya, c) + (g(xb, ya, c) - g(xa, ya, c)) * fx;
            let bot = g(xa, yb, c) + (g(xb, yb, c) - g(xa, yb, c)) * fx;
            top + (bot - top) * fy
        })
    }
}

/// How the frame is lit.
#[derive(Clone, Copy, Debug)]
enum Light {
    /// The screen at distance fall-off (genuine, and the paper).
    Near { screen: [f32; 3], k: f32 },
    /// No response to the screen.
    None,
    /// The whole frame multiplied alike.
    Global { screen: [f32; 3], k: f32 },
}

/// Where the head is: its distance (cm, of the ellipsoid's rim) and the image point its
/// centre projects to.
#[derive(Clone, Copy, Debug)]
struct Pose {
    z: f32,
    at: [f32; 2],
    /// Turn of the head about its vertical axis (radians; positive moves the nose to the
    /// image's right), and tilt about its horizontal axis (positive moves it up): the
    /// simulated person turns to face the camera.
    turn: f32,
    tilt: f32,
}

/// Renders the head (or, `flat`, the whole photo as a print) at `pose` under `light`:
/// the frame (640x480 RGBA, sRGB) and the light factor per pixel.
fn render(head: &Head, pose: Pose, light: Light, flat: bool, noise: &mut Noise) -> (Vec<u8>, Vec<f32>) {
    let mut colour = vec![[0f32; 3]; W * H];
    let mut depth = vec![f32::INFINITY; W * H];
    let mut factor = vec![(LIGHT_REF_CM / WALL_CM).powi(2); W * H];
    for (i, c) in colour.iter_mut().enumerate() {
        *c = head.wall[i];
    }
    let mag = FOCAL * head.cm / (pose.z - HEAD_DEPTH_CM - NOSE_CM).max(5.0);
    let sub = (mag * 1.6).ceil().max(1.0) as usize;
    let (x0, x1, y0, y1) = if flat {
        (0.0, head.pw as f32, 0.0, head.ph as f32)
    } else {
        (head.centre[0] - head.axes[0], head.centre[0] + head.axes[0], head.centre[1] - head.axes[1], head.centre[1] + head.axes[1])
    };
    let steps_x = ((x1 - x0) * sub as f32) as usize;
    let steps_y = ((y1 - y0) * sub as f32) as usize;
    let (st, ct) = pose.turn.sin_cos();
    let (sl, cl) = pose.tilt.sin_cos();
    let xs: Vec<f32> = (0..steps_x).map(|i| x0 + (i as f32 + 0.5) / sub as f32).collect();
    let nose_x: Vec<f32> = xs.iter().map(|x| head.nose_bump(*x, 0)).collect();
    for j in 0..steps_y {
        let y = y0 + (j as f32 + 0.5) / sub as f32;
        let nose_y = head.nose_bump(y, 1);
        for (x, nx) in xs.iter().zip(&nose_x) {
            let p = [*x, y];
            let Some((z, facing)) = head.surface(p, nx * nose_y, flat) else { continue };
            let x_cm = (p[0] - head.centre[0]) * head.cm;
            let (x_cm, z) = (x_cm * ct + z * st, z * ct - x_cm * st);
            let y_cm = (p[1] - head.centre[1]) * head.cm;
            let (y_cm, z) = (y_cm * cl - z * sl, z * cl + y_cm * sl);
            let zc = pose.z - z;
            let u = pose.at[0] + FOCAL * x_cm / zc;
            let v = pose.at[1] + FOCAL * y_cm / zc;
            if !(0.0..W as f32).contains(&u) || !(0.0..H as f32).contains(&v) {
                continue;
            }
            let k = v as usize * W + u as usize;
            if zc < depth[k] {
                depth[k] = zc;
                colour[k] = head.sample(p);
                factor[k] = (LIGHT_REF_CM / zc).powi(2) * facing;
            }
        }
    }
    let factor_at = |i: usize| factor[i];
    let (lit, exposure): (Box<dyn Fn(usize) -> [f32; 3]>, f32) = match light {
        Light::Near { screen, k } => (Box::new(move |i| screen.map(|s| 1.0 + k * factor_at(i) * s)), 1.0 / (1.0 + 0.3 * k * screen.iter().sum::<f32>() / 3.0)),
        Light::None => (Box::new(|_| [1.0; 3]), 1.0),
        Light::Global { screen, k } => (Box::new(move |_| screen.map(|s| 1.0 + k * s)), 1.0 / (1.0 + 0.3 * k * screen.iter().sum::<f32>() / 3.0)),
    };
    static ENCODER: std::sync::OnceLock<SrgbEncoder> = std::sync::OnceLock::new();
    let encoder = ENCODER.get_or_init(SrgbEncoder::new);
    let mut rgba = Vec::with_capacity(W * H * 4);
    for (i, px) in colour.iter().enumerate() {
        let l = lit(i);
        for c in 0..3 {
            let v = px[c] * l[c] * exposure;
            rgba.push(encoder.encode(v + 0.004 * noise.gauss()));
        }
        rgba.push(255);
    }
    drop(lit);
    (rgba, factor)
}

/// 640x480 RGBA to 320x240 RGB (2x2 box), as the page's canvas scales.
fn downscale(rgba: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(W * H * 3 / 4);
    for y in 0..H / 2 {
        for x in 0..W / 2 {
            for c in 0..3 {
                let s: u32 = [(0, 0), (1, 0), (0, 1), (1, 1)].iter().map(|(dx, dy)| u32::from(rgba[((2 * y + dy) * W + 2 * x + dx) * 4 + c])).sum();
                out.push(((s + 2) / 4) as u8);
            }
        }
    }
    out
}

fn jpeg(rgb: &[u8], w: u32, h: u32, quality: u8) -> Res<Vec<u8>> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality).encode(rgb, w, h, image::ExtendedColorType::Rgb8)?;
    Ok(out)
}

fn jpeg_rgba(jpeg_bytes: &[u8]) -> Res<Vec<u8>> {
    let img = image::load_from_memory_with_format(jpeg_bytes, image::ImageFormat::Jpeg)?;
    Ok(img.to_rgba8().into_raw())
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The pose that puts the detected face of the head at `oval`. With `orient`, the head
/// keeps that turn and tilt; without, it also turns to face the camera (the smallest
/// measured yaw and pitch found is kept).
fn place(p: &Pipeline, head: &Head, oval: &Oval, flat: bool, orient: Option<(f32, f32)>) -> Res<Pose> {
    let target = [oval.cx * W as f32, oval.cy * H as f32];
    let (turn, tilt) = orient.unwrap_or((0.0, 0.0));
    let mut pose = Pose { z: 40.0, at: target, turn, tilt };
    let mut best: Option<(f32, Pose)> = None;
    let mut noise = Noise::new(1);
    for _ in 0..8 {
        let (rgba, _) = render(head, pose, Light::None, flat, &mut noise);
        let frame = Frame::new(W as u32, H as u32, &rgba)?;
        let faces = p.detect(&frame)?;
        let Some(face) = faces.iter().min_by(|a, b| dist(a, target).total_cmp(&dist(b, target))) else {
            if best.is_some() {
                break;
            }
            return Err("the rendered head has no face".into());
        };
        let width = face.bbox.width() / W as f32;
        let c = face.bbox.centre();
        let seen = biopass_model::head_pose(&p.landmarks(&frame, face)?);
        let miss = seen.yaw.abs() + seen.pitch.abs() + 100.0 * ((width / oval.width) - 1.0).abs();
        if best.as_ref().is_none_or(|(m, _)| miss < *m) {
            best = Some((miss, pose));
        }
        // Good enough: the oval's width within 1.5 % and, unless the orientation is given,
        // facing the camera within the pose estimate's own noise (a few degrees).
        let size_miss = ((width / oval.width) - 1.0).abs();
        if size_miss < PLACED_WIDTH && (orient.is_some() || seen.yaw.abs() + seen.pitch.abs() < PLACED_DEGREES) {
            break;
        }
        if orient.is_none() && !flat {
            pose.turn = (pose.turn - 0.6 * seen.yaw.to_radians()).clamp(-0.6, 0.6);
            pose.tilt = (pose.tilt - 0.6 * seen.pitch.to_radians()).clamp(-0.6, 0.6);
        }
        // Size goes as 1 / distance (of the face's front, about 7 cm before the rim).
        let front = pose.z - 7.0;
        pose.z = 7.0 + front * width / oval.width;
        pose.at = [pose.at[0] + target[0] - c[0], pose.at[1] + target[1] - c[1]];
    }
    Ok(best.map_or(pose, |(_, b)| b))
}

fn dist(f: &Face, t: [f32; 2]) -> f32 {
    let c = f.bbox.centre();
    (c[0] - t[0]).powi(2) + (c[1] - t[1]).powi(2)
}

fn screen_lin(c: ScreenColour) -> [f32; 3] {
    c.rgb().map(lin)
}

/// An attack, or the genuine person.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Genuine,
    Still,
    Paper,
    Warp,
    Tint,
    Late,
    Reversed,
    Screen,
    /// The near frames show the room without the face (evidence that cannot be judged).
    NoFace,
}

impl Kind {
    fn parse(s: &str) -> Res<Self> {
        Ok(match s {
            "genuine" => Self::Genuine,
            "still" => Self::Still,
            "paper" => Self::Paper,
            "warp" => Self::Warp,
            "tint" => Self::Tint,
            "late" => Self::Late,
            "reversed" => Self::Reversed,
            "screen" => Self::Screen,
            "no-face" => Self::NoFace,
            _ => return Err(format!("unknown attack {s:?}").into()),
        })
    }
}

/// One synthesised frame: phase, time, the 320x240 JPEG.
struct Shot {
    phase: CapturePhase,
    t_ms: u32,
    jpeg: Vec<u8>,
}

/// A screen replay: a moiré of the screen's pixel grid, the screen's gamma and a blue cast.
fn as_screen(rgb: &mut [u8], noise: &mut Noise) {
    let phase = noise.range(0.0, std::f32::consts::TAU);
    for (i, px) in rgb.chunks_exact_mut(3).enumerate() {
        let (x, y) = ((i % (W / 2)) as f32, (i / (W / 2)) as f32);
        let moire = 1.0 + 0.08 * (0.9 * x + 0.35 * y + phase).sin() * (0.27 * y - 0.8 * x).cos();
        for (c, v) in px.iter_mut().enumerate() {
            let g = (f32::from(*v) / 255.0).powf(1.25) * moire * [0.92, 0.97, 1.1][c];
            *v = (g.clamp(0.0, 1.0) * 255.0) as u8;
        }
    }
}

/// The frames of a capture of `challenge` by `kind`, at the page's times.
fn capture(p: &Pipeline, head: &Head, c: &FaceChallenge, kind: Kind, seed: u64) -> Res<(Vec<Shot>, u32)> {
    let mut noise = Noise::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let flat = kind == Kind::Paper;
    let near = place(p, head, &c.near, flat, None)?;
    let far = place(p, head, &c.far, flat, Some((near.turn, near.tilt)))?;
    let near = if kind == Kind::Still { far } else { near };
    let k = noise.range(0.25, 0.45);
    let white = [1.0f32; 3];
    // The sequence the light follows: the issued one, or another (late, reversed, a replay).
    let colours: Vec<ScreenColour> = c.flashes.iter().map(|f| f.colour).collect();
    let shown: Vec<Option<ScreenColour>> = match kind {
        Kind::Late => std::iter::once(None).chain(colours.iter().map(|c| Some(*c))).take(colours.len()).collect(),
        Kind::Reversed => colours.iter().rev().map(|c| Some(*c)).collect(),
        Kind::Screen => {
            // A genuine capture recorded for another challenge: its own random sequence.
            let mut rng = SeededEntropy::new([seed as u8 ^ 0x5a; 32]);
            let other = decide::random_flashes(&mut rng, false);
            (0..colours.len()).map(|i| other.get(i % other.len()).map(|f| f.colour)).collect()
        }
        _ => colours.iter().map(|c| Some(*c)).collect(),
    };
    let light_for = |screen: [f32; 3]| match kind {
        Kind::Genuine | Kind::Paper | Kind::Late | Kind::Reversed | Kind::Screen | Kind::NoFace => Light::Near { screen, k },
        Kind::Warp | Kind::Still => Light::None,
        Kind::Tint => Light::Global { screen, k },
    };
    let still_frame = if kind == Kind::Still { Some(render(head, far, Light::None, false, &mut noise).0) } else { None };
    let mut shots = Vec::new();
    let mut shoot = |phase: CapturePhase, t_ms: u32, pose: Pose, light: Light, noise: &mut Noise| -> Res<()> {
        let jitter = Pose {
            z: pose.z * noise.range(0.99, 1.01),
            at: [pose.at[0] + noise.range(-1.5, 1.5), pose.at[1] + noise.range(-1.5, 1.5)],
            turn: pose.turn + noise.range(-0.02, 0.02),
            tilt: pose.tilt + noise.range(-0.02, 0.02),
        };
        let rgba = match &still_frame {
            Some(f) => f.clone(),
            None => render(head, jitter, light, flat, noise).0,
        };
        let mut rgb = downscale(&rgba);
        if kind == Kind::Screen {
            as_screen(&mut rgb, noise);
        }
        shots.push(Shot { phase, t_ms, jpeg: jpeg(&rgb, (W / 2) as u32, (H / 2) as u32, 85)? });
        Ok(())
    };
    let white_light = light_for(white);
    // As many frames as the challenge asks for, the last ones of each oval's times.
    let times = |all: &'static [u32], n: u8| &all[all.len().saturating_sub(usize::from(n))..];
    for &t in times(&[550, 700, 850], c.far_frames) {
        shoot(CapturePhase::Far, t + (noise.next() * 30.0) as u32, far, white_light, &mut noise)?;
    }
    // Without the face: the head far out of the frame.
    let near_shot = if kind == Kind::NoFace { Pose { at: [-10.0 * W as f32, near.at[1]], ..near } } else { near };
    for &t in times(&[2050, 2200, 2350, 2500], c.near_frames) {
        shoot(CapturePhase::Near, t + (noise.next() * 30.0) as u32, near_shot, white_light, &mut noise)?;
    }
    let at = 2600u32;
    let mut start = 0u32;
    for (f, shown) in c.flashes.iter().zip(&shown) {
        let t = at + start + (f.ms as f32 * noise.range(0.62, 0.78)) as u32;
        let screen = shown.map_or(white, screen_lin);
        shoot(CapturePhase::Light, t, near, light_for(screen), &mut noise)?;
        start += f.ms;
    }
    Ok((shots, at))
}

fn load_pipeline(dir: &Path) -> Res<Pipeline> {
    let read = |n: &str| std::fs::read(dir.join(n)).map_err(|e| format!("{}/{n}: {e}", dir.display()));
    let (d, l, v, f) = (read("fr_detect.onnx")?, read("fr_landmark.onnx")?, read("fr_liveness.onnx")?, read("fr_feature.onnx")?);
    Ok(Pipeline::load(ModelBytes { detect: &d, landmark: &l, liveness: &v, feature: &f })?)
}

struct Args(Vec<String>);

impl Args {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().position(|a| a == name).and_then(|i| self.0.get(i + 1)).map(String::as_str)
    }
    fn need(&self, name: &str) -> Res<&str> {
        self.get(name).ok_or_else(|| format!("missing {name}").into())
    }
    fn models(&self) -> PathBuf {
        self.get("--models").map_or_else(
            || std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from).join("../public/models"),
            PathBuf::from,
        )
    }
}

fn evidence(a: &Args) -> Res<()> {
    let p = load_pipeline(&a.models())?;
    let head = Head::new(&p, Path::new(a.need("--photo")?), a.need("--face")?.parse()?)?;
    let challenge: FaceChallenge = serde_json::from_str(a.need("--challenge")?)?;
    let kind = Kind::parse(a.get("--attack").unwrap_or("genuine"))?;
    let seed: u64 = a.get("--seed").unwrap_or("1").parse()?;
    let (shots, at) = capture(&p, &head, &challenge, kind, seed)?;
    let span = shots.last().map_or(0, |s| s.t_ms) - shots.first().map_or(0, |s| s.t_ms);
    let frames: Vec<serde_json::Value> = shots.iter().map(|s| serde_json::json!({ "phase": s.phase, "t_ms": s.t_ms, "jpeg": base64(&s.jpeg) })).collect();
    let bytes: usize = shots.iter().map(|s| s.jpeg.len()).sum();
    eprintln!("{kind:?}: {} frames, {bytes} bytes of JPEG, {span} ms", shots.len());
    if a.0.iter().any(|x| x == "--check") {
        let issued = IssuedChallenge {
            transaction: String::new(),
            purpose: challenge.purpose,
            far: challenge.far,
            near: challenge.near,
            flashes: challenge.flashes.clone(),
            issued_at: 0,
            expires_at: 0,
        };
        let (figures, verdict, poses) = judge(&p, &issued, &shots, at)?;
        eprintln!("{figures:?}\n{verdict:?}\nposes (yaw, pitch, width): {poses:?}");
    }
    println!("{}", serde_json::json!({ "frames": frames, "flashes_at_ms": at, "span_ms": span }));
    Ok(())
}

fn scene(a: &Args) -> Res<()> {
    let p = load_pipeline(&a.models())?;
    let head = Head::new(&p, Path::new(a.need("--photo")?), a.need("--face")?.parse()?)?;
    let dir = PathBuf::from(a.need("--out-dir")?);
    std::fs::create_dir_all(&dir)?;
    let scale = 1.5f32;
    let mut json = serde_json::Map::new();
    for (name, oval) in [("far", Oval { cx: 0.5, cy: 0.5, width: 0.225 }), ("near", Oval { cx: 0.5, cy: 0.5, width: 0.47 })] {
        let pose = place(&p, &head, &oval, false, None)?;
        let (rgba, factor) = render(&head, pose, Light::None, false, &mut Noise::new(7));
        let rgb: Vec<u8> = rgba.chunks_exact(4).flat_map(|q| [q[0], q[1], q[2]]).collect();
        std::fs::write(dir.join(format!("{name}.jpg")), jpeg(&rgb, W as u32, H as u32, 95)?)?;
        let mask: Vec<u8> = factor
            .iter()
            .flat_map(|f| {
                let v = (f / scale * 255.0).round().clamp(0.0, 255.0) as u8;
                [v, v, v]
            })
            .collect();
        std::fs::write(dir.join(format!("{name}-mask.jpg")), jpeg(&mask, W as u32, H as u32, 95)?)?;
        let frame = Frame::new(W as u32, H as u32, &rgba)?;
        let face = p.detect(&frame)?.into_iter().next().ok_or("no face in the render")?;
        json.insert(name.into(), serde_json::json!({ "face_centre": face.bbox.centre(), "face_width": face.bbox.width() }));
    }
    json.insert("mask_scale".into(), serde_json::json!(scale));
    std::fs::write(dir.join("scene.json"), serde_json::to_string_pretty(&json)?)?;
    eprintln!("wrote {}", dir.display());
    Ok(())
}

/// The server's measures and decision of a capture.
/// The server's measures of a capture (the worker's code: JPEG decode, measure_capture).
fn measure(p: &Pipeline, shots: &[Shot]) -> Res<Vec<MeasuredFrame>> {
    let pixels: Vec<Vec<u8>> = shots.iter().map(|s| jpeg_rgba(&s.jpeg)).collect::<Res<_>>()?;
    let phase = |ph: CapturePhase| match ph {
        CapturePhase::Far => Phase::Far,
        CapturePhase::Near => Phase::Near,
        CapturePhase::Light => Phase::Light,
    };
    let frames: Vec<CaptureFrame<'_>> =
        shots.iter().zip(&pixels).map(|(s, px)| Ok(CaptureFrame { phase: phase(s.phase), frame: Frame::new(320, 240, px)? })).collect::<Res<_>>()?;
    let measures = measure_capture(p, &frames)?;
    Ok(shots
        .iter()
        .zip(measures)
        .map(|(s, m)| {
            let face = m.face.map(|f| {
                f.map(|fm| {
                    let [cx, cy] = fm.face.bbox.centre();
                    decide::MeasuredFace {
                        cx: cx / 320.0,
                        cy: cy / 240.0,
                        width: fm.face.bbox.width() / 320.0,
                        faces: fm.faces,
                        yaw: fm.pose.yaw,
                        pitch: fm.pose.pitch,
                        depth_ratio: fm.depth_ratio,
                        score: fm.face.score,
                    }
                })
            });
            let score = face.flatten().map_or(0.0, |f| f.score);
            MeasuredFrame {
                phase: s.phase,
                t_ms: s.t_ms,
                face,
                liveness: m.liveness,
                embedding: m.embedding.map(|e| e.as_slice().to_vec()),
                quality: m.quality.map(|q| decide::FrameQuality { detector_score: score, sharpness: q.sharpness, brightness: q.brightness }),
                colours: m.colour.map(|c| decide::Colours { face: c.face, background: c.background, background_share: c.background_share }),
                continuity: m.continuity,
            }
        })
        .collect())
}

#[allow(clippy::type_complexity)]
fn judge(p: &Pipeline, c: &IssuedChallenge, shots: &[Shot], at: u32) -> Res<(LivenessFigures, Result<(), decide::FaceRejection>, Vec<(f32, f32, f32)>)> {
    let measured = measure(p, shots)?;
    let figures = decide::figures(c, decide::ColourTimes::nominal(at), &measured);
    let verdict = decide::check_liveness(c, decide::ColourTimes::nominal(at), &measured, 60_000)
        .map(|_| ())
        .and_then(|()| decide::match_score(&[0.0; 512], &measured).map(|_| ()));
    let poses = measured.iter().filter_map(|m| m.face.flatten()).map(|f| (f.yaw, f.pitch, f.width)).collect();
    Ok((figures, verdict, poses))
}

fn calibrate(a: &Args) -> Res<()> {
    let p = load_pipeline(&a.models())?;
    let dir = PathBuf::from(a.need("--photos")?);
    let count: usize = a.get("--count").unwrap_or("40").parse()?;
    let mut photos: Vec<PathBuf> = Vec::new();
    let mut people: Vec<PathBuf> = std::fs::read_dir(&dir)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
    people.sort();
    for person in people {
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(&person)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "jpg")).collect();
        files.sort();
        if let Some(f) = files.into_iter().next() {
            photos.push(f);
        }
    }
    // Every 37th person, for a spread over the alphabet.
    let chosen: Vec<&PathBuf> = photos.iter().step_by((photos.len() / count.max(1)).max(1)).take(count).collect();
    let kinds = [Kind::Genuine, Kind::Paper, Kind::Tint, Kind::Late, Kind::Warp];
    let mut rows: Vec<(Kind, LivenessFigures, String)> = Vec::new();
    let mut used = 0usize;
    for (i, photo) in chosen.iter().enumerate() {
        // People look at the camera when they sign in (the page asks them to): frontal
        // photos only.
        let Ok(head) = Head::new(&p, photo, 0) else { continue };
        if head.pose.yaw.abs() > 12.0 || head.pose.pitch.abs() > 12.0 {
            continue;
        }
        used += 1;
        let mut rng = SeededEntropy::new([i as u8; 32]);
        let issued = decide::new_challenge(&mut rng, "calibration".into(), FacePurpose::Authenticate, false, 0);
        let c = issued.public(String::new());
        for kind in kinds {
            let Ok((shots, at)) = capture(&p, &head, &c, kind, i as u64 + 1) else { continue };
            let (f, verdict, _) = judge(&p, &issued, &shots, at)?;
            let v = match verdict {
                Ok(()) => "accepted".to_string(),
                Err(decide::FaceRejection::PoorQuality(m)) => format!("poor: {m:?}"),
                Err(r) => r.attack().unwrap_or("poor_quality").to_string(),
            };
            rows.push((kind, f, v));
        }
        eprint!(".");
    }
    eprintln!();
    println!("Liveness figures on {used} frontal photos of {} LFW calibration people (5th / 50th / 95th percentile)", chosen.len());
    println!("{:<9} {:>22} {:>22} {:>22} {:>22} {:>22}", "capture", "growth", "perspective", "light corr.", "light response", "background/face");
    let pct = |mut v: Vec<f32>| {
        v.retain(|x| x.is_finite());
        v.sort_by(f32::total_cmp);
        if v.is_empty() {
            return "-".to_string();
        }
        let q = |f: f32| v[((v.len() - 1) as f32 * f).round() as usize];
        format!("{:.3}/{:.3}/{:.3}", q(0.05), q(0.5), q(0.95))
    };
    for kind in kinds {
        let of: Vec<&(Kind, LivenessFigures, String)> = rows.iter().filter(|r| r.0 == kind).collect();
        let col = |g: fn(&LivenessFigures) -> f32| pct(of.iter().map(|r| g(&r.1)).collect());
        println!(
            "{:<9} {:>22} {:>22} {:>22} {:>22} {:>22}",
            format!("{kind:?}"),
            col(|f| f.growth),
            col(|f| f.perspective),
            col(|f| f.light_correlation),
            col(|f| f.light_response),
            col(|f| f.background_response / f.face_response)
        );
        let mut verdicts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
        for r in &of {
            *verdicts.entry(r.2.as_str()).or_default() += 1;
        }
        println!("          decisions: {verdicts:?}");
    }
    Ok(())
}

/// APCER per attack and BPCER of the genuine simulation, through the server's own measures
/// and decisions (the code the worker runs), on the demo photos' frontal faces.
fn bench(a: &Args) -> Res<()> {
    let p = load_pipeline(&a.models())?;
    let photos = PathBuf::from(a.need("--photos")?);
    let count: usize = a.get("--count").unwrap_or("30").parse()?;
    let people = [("sample5.jpg", 4usize), ("sample6.jpg", 2), ("sample3.jpg", 0), ("sample3.jpg", 2)];
    let threshold = decide::calibration(biopass_proto::admin::FaceAssurance::default()).threshold;
    let mut heads = Vec::new();
    for (i, (file, face)) in people.iter().enumerate() {
        let head = Head::new(&p, &photos.join(file), *face)?;
        let enrolled = (|| -> Res<Vec<f32>> {
            // The enrolment: a genuine capture of its own challenge.
            let mut rng = SeededEntropy::new([200 + i as u8; 32]);
            let issued = decide::new_challenge(&mut rng, String::new(), FacePurpose::Enrol, false, 0);
            let (shots, at) = capture(&p, &head, &issued.public(String::new()), Kind::Genuine, 1000 + i as u64)?;
            let measured = measure(&p, &shots)?;
            Ok(decide::enrol(&issued, decide::ColourTimes::nominal(at), &measured, 60_000).map_err(|r| format!("does not enrol: {r:?}"))?)
        })();
        match enrolled {
            Ok(template) => heads.push((format!("{file}#{face}"), head, template)),
            Err(e) => eprintln!("{file}#{face} left out: {e}"),
        }
    }
    let enrolments: usize = a.get("--enrolments").unwrap_or("0").parse()?;
    if enrolments > 0 {
        // Genuine enrolments (the frames an enrolment's challenge asks for) with fresh challenges.
        let mut why: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
        let mut accepted = 0usize;
        for i in 0..enrolments {
            let (_, head, _) = &heads[i % heads.len()];
            let mut rng = SeededEntropy::new([(i % 251) as u8, 0xe0, (i / 251) as u8, 3].repeat(8).try_into().unwrap_or([0; 32]));
            let issued = decide::new_challenge(&mut rng, String::new(), FacePurpose::Enrol, i % 5 == 4, 0);
            let verdict =
                capture(&p, head, &issued.public(String::new()), Kind::Genuine, 5000 + i as u64).map_err(|e| e.to_string()).and_then(|(shots, at)| {
                    let measured = measure(&p, &shots).map_err(|e| e.to_string())?;
                    decide::enrol(&issued, decide::ColourTimes::nominal(at), &measured, 60_000).map_err(|r| match &r {
                        decide::FaceRejection::PoorQuality(m) | decide::FaceRejection::NoDistanceChange(m) => format!("{m:?}"),
                        other => other.attack().unwrap_or("other").to_string(),
                    })
                });
            match verdict {
                Ok(_) => accepted += 1,
                Err(e) => *why.entry(e).or_default() += 1,
            }
        }
        println!("Enrolment {:>9} {:>7.1}%  refused; {why:?}", format!("{accepted}/{enrolments}"), 100.0 * (1.0 - accepted as f32 / enrolments as f32));
    }
    let kinds = match a.get("--kinds") {
        Some("") => Vec::new(),
        Some(list) => list.split(',').map(Kind::parse).collect::<Res<Vec<_>>>()?,
        None => vec![Kind::Genuine, Kind::Still, Kind::Paper, Kind::Warp, Kind::Tint, Kind::Late, Kind::Reversed, Kind::Screen],
    };
    println!("Light-and-distance liveness on the genuine simulation and the attacks, {count} attempts each ({} people of the demo photos, a fresh challenge per attempt, the worker's own measures and decisions; the match at FMR 1 in 10,000, {threshold})", heads.len());
    println!("{:<10} {:>9} {:>8} {:>10}  refused by", "capture", "accepted", "rate", "KB/attempt");
    for kind in kinds {
        let (mut accepted, mut bytes) = (0usize, 0usize);
        let mut why: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
        for i in 0..count {
            let (name, head, template) = &heads[i % heads.len()];
            let mut rng = SeededEntropy::new([(i % 251) as u8, kind as u8, 7, 9].repeat(8).try_into().unwrap_or([0; 32]));
            let issued = decide::new_challenge(&mut rng, String::new(), FacePurpose::Authenticate, i % 5 == 4, 0);
            let Ok((shots, at)) = capture(&p, head, &issued.public(String::new()), kind, 17 + i as u64) else {
                *why.entry("not rendered".into()).or_default() += 1;
                continue;
            };
            bytes += shots.iter().map(|s| s.jpeg.len()).sum::<usize>();
            let measured = measure(&p, &shots)?;
            match decide::authenticate(&issued, decide::ColourTimes::nominal(at), &measured, 60_000, template, threshold) {
                Ok(_) => accepted += 1,
                Err(r) => {
                    if kind == Kind::Genuine {
                        let f = decide::figures(&issued, decide::ColourTimes::nominal(at), &measured);
                        eprintln!(
                            "genuine #{i} ({name}) refused: {r:?}; growth {:.3}, perspective {:.3}; far oval {:?}, near oval {:?}",
                            f.growth, f.perspective, issued.far, issued.near
                        );
                    }
                    let label = match &r {
                        decide::FaceRejection::PoorQuality(m) => format!("poor: {m:?}"),
                        decide::FaceRejection::NotRecognised { score } => format!("not recognised ({name}, {score:.2})"),
                        other => other.attack().unwrap_or("other").to_string(),
                    };
                    *why.entry(label).or_default() += 1;
                }
            }
        }
        let label = if kind == Kind::Genuine { "BPCER" } else { "APCER" };
        let rate = if kind == Kind::Genuine { 1.0 - accepted as f32 / count as f32 } else { accepted as f32 / count as f32 };
        println!(
            "{:<10} {:>9} {:>7.1}% {:>10.0}  {label}; {why:?}",
            format!("{kind:?}"),
            format!("{accepted}/{count}"),
            100.0 * rate,
            bytes as f32 / count as f32 / 1024.0
        );
    }
    Ok(())
}

fn main() -> Res<()> {
    let a = Args(std::env::args().skip(1).collect());
    match a.0.first().map(String::as_str) {
        Some("evidence") => evidence(&a),
        Some("scene") => scene(&a),
        Some("calibrate") => calibrate(&a),
        Some("bench") => bench(&a),
        _ => Err("usage: livesynth evidence|scene|calibrate ... (see the file's doc)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_srgb_table_encodes_as_the_formula_does() {
        let encoder = SrgbEncoder::new();
        for i in 0..=2_000_000u32 {
            let v = -0.1 + 1.2 * i as f32 / 2_000_000.0;
            assert_eq!(encoder.encode(v), srgb(v), "{v}");
        }
        for edge in encoder.0 {
            assert_eq!(encoder.encode(edge), srgb(edge));
            let below = f32::from_bits(edge.to_bits() - 1);
            assert_eq!(encoder.encode(below), srgb(below));
        }
    }

    #[test]
    fn the_noise_is_standard_normal() {
        let mut n = Noise::new(3);
        let draws: Vec<f32> = (0..200_000).map(|_| n.gauss()).collect();
        let mean = draws.iter().sum::<f32>() / draws.len() as f32;
        let var = draws.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / draws.len() as f32;
        assert!(mean.abs() < 0.02 && (var - 1.0).abs() < 0.05, "{mean} {var}");
        let within_one = draws.iter().filter(|v| v.abs() < 1.0).count() as f32 / draws.len() as f32;
        assert!((within_one - 0.6827).abs() < 0.02, "{within_one}");
    }

    #[test]
    fn the_nose_bump_is_the_gaussian_of_the_distance() {
        let head = Head {
            photo: vec![],
            pw: 0,
            ph: 0,
            centre: [100.0, 120.0],
            axes: [50.0, 60.0],
            nose: [102.0, 130.0],
            nose_sigma: 11.0,
            cm: 0.1,
            wall: vec![],
            pose: biopass_model::Pose { yaw: 0.0, pitch: 0.0, roll: 0.0 },
        };
        for p in [[102.0f32, 130.0], [90.0, 140.0], [60.0, 80.0], [140.5, 171.25]] {
            let d2 = ((p[0] - head.nose[0]).powi(2) + (p[1] - head.nose[1]).powi(2)) / head.nose_sigma.powi(2);
            let whole = (-0.5 * d2).exp();
            assert!((head.nose_bump(p[0], 0) * head.nose_bump(p[1], 1) - whole).abs() < 1e-6);
        }
    }
}
