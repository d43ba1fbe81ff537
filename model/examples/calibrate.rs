//! Calibration of the face match thresholds on real faces (`scripts/calibrate`).
//!
//! ```text
//! cargo run --release -p biopass-model --example calibrate -- <lfw dir> <photos dir>
//!     [--models DIR] [--rounds 200] [--threads 2]
//! ```
//! `<lfw dir>` holds one folder of JPEGs per person (the LFW calibration set: people absent
//! from LFW View 2, see its README); `<photos dir>` the demo photos `sample1..6.jpg`, whose
//! faces join as one person each (impostors only). Every photo goes through the pipeline
//! as the product runs it: detect (on an LFW photo the face nearest the centre; on a demo
//! photo each face, cut to a square three face widths wide, the framing of a selfie),
//! landmarks, align, the aligned crop through JPEG quality 92 (what the browser sends),
//! embed; the server's measures (detector score on the 128x128 context crop, head pose,
//! sharpness and brightness of the aligned crop) are taken on the same crops.
//!
//! Each photo also gives two more frames, transformed slightly the way consecutive camera
//! frames differ (scale 0.95-1.05, rotation up to 4 degrees, shift up to 0.05 face widths,
//! brightness +-10 %, fixed-seed), for the fusion comparison: the template is the
//! normalised mean of one photo's three frames (as enrolment builds it), the probe is
//! another photo's three frames, fused by each rule.
//!
//! Printed: photos without a face; the distributions of the quality measures; FMR and
//! FNMR per threshold of single-frame comparisons and of the product's rule; for FMR 1e-3,
//! 1e-4 and 1e-5 the threshold, its FMR with a Wilson 95 % interval, the FNMR there, and
//! 95 % bootstrap intervals over people (people resampled with replacement) of the
//! threshold and of the FNMR; the fusion rules side by side at equal FMR.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use biopass_idp::face::cosine;
use biopass_model::imageops::{self, Affine};
use biopass_model::{align, crop_quality, head_pose, liveness_crop, Aligned112, Embedding, Face, Frame, ModelBytes, Pipeline};
use image::codecs::jpeg::JpegEncoder;
use std::path::{Path, PathBuf};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Frames per photo: the photo itself and two transformed copies.
const FRAMES: usize = 3;
/// JPEG quality of the aligned crop the browser sends (`public/face-worker.js`).
const ALIGNED_JPEG_QUALITY: u8 = 92;
const TARGETS: [f64; 3] = [1e-3, 1e-4, 1e-5];

/// One photo, measured.
struct Sample {
    person: usize,
    /// The face box in the photo (demo faces) or in the LFW photo.
    bbox: [f32; 4],
    /// Detector score of the face on the 128x128 context crop (what the server detects).
    context_score: f32,
    context_faces: usize,
    yaw: f32,
    pitch: f32,
    sharpness: f32,
    brightness: f32,
    /// Unit embeddings: frame 0 is the photo, then the transformed copies.
    frames: Vec<Vec<f32>>,
}

struct Job {
    person: usize,
    path: PathBuf,
    /// `None`: an LFW photo (face nearest the centre); `Some(i)`: face `i` of a demo photo.
    face: Option<usize>,
}

/// SplitMix64, for the fixed-seed transforms.
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * u
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

fn load_pipeline(dir: &Path) -> Res<Pipeline> {
    let read = |n: &str| std::fs::read(dir.join(n)).map_err(|e| format!("{}/{n}: {e}", dir.display()));
    let (d, l, v, f) = (read("fr_detect.onnx")?, read("fr_landmark.onnx")?, read("fr_liveness.onnx")?, read("fr_feature.onnx")?);
    Ok(Pipeline::load(ModelBytes { detect: &d, landmark: &l, liveness: &v, feature: &f })?)
}

struct Rgba {
    w: u32,
    h: u32,
    px: Vec<u8>,
}

fn load_photo(path: &Path) -> Res<Rgba> {
    let img = image::ImageReader::open(path)?.with_guessed_format()?.decode()?.to_rgba8();
    Ok(Rgba { w: img.width(), h: img.height(), px: img.into_raw() })
}

fn rgba_from_rgb(rgb: &[u8]) -> Vec<u8> {
    rgb.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect()
}

fn nearest(faces: &[Face], at: [f32; 2]) -> Option<Face> {
    let d = |f: &Face| {
        let c = f.bbox.centre();
        (c[0] - at[0]).powi(2) + (c[1] - at[1]).powi(2)
    };
    faces.iter().min_by(|a, b| d(a).total_cmp(&d(b))).copied()
}

/// `img` transformed about `centre` (scale, rotation in degrees, shift) and brightened,
/// on a `side` x `side` canvas whose centre is where `centre` was.
fn view(img: &Rgba, centre: [f32; 2], side: usize, scale: f32, angle: f32, shift: [f32; 2], light: f32) -> Res<Rgba> {
    let (s, c) = angle.to_radians().sin_cos();
    let (a, b) = (scale * c, scale * s);
    let [cx, cy] = centre;
    let half = side as f32 / 2.0;
    let fwd = Affine([[a, -b, half + shift[0] - (a * cx - b * cy)], [b, a, half + shift[1] - (b * cx + a * cy)]]);
    let inv = fwd.invert().ok_or("singular transform")?;
    let frame = Frame::new(img.w, img.h, &img.px)?;
    let lit: Vec<f32> = imageops::warp_rgb(&frame, &inv, side, side).iter().map(|v| v * light).collect();
    Ok(Rgba { w: side as u32, h: side as u32, px: rgba_from_rgb(&imageops::to_u8(&lit)) })
}

/// The aligned crop as the server receives it: through JPEG and back.
fn through_jpeg(aligned: &Aligned112) -> Res<Aligned112> {
    let side = Aligned112::SIDE as u32;
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, ALIGNED_JPEG_QUALITY).encode(aligned.as_rgb(), side, side, image::ExtendedColorType::Rgb8)?;
    let rgb = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)?.to_rgb8().into_raw();
    Ok(Aligned112::from_bytes(&rgb)?)
}

struct Measured {
    face: Face,
    aligned: Aligned112,
    embedding: Embedding,
    yaw: f32,
    pitch: f32,
}

/// Detect (the face nearest `at`), landmarks, align, JPEG, embed.
fn measure(p: &Pipeline, img: &Rgba, at: [f32; 2]) -> Res<Option<Measured>> {
    let frame = Frame::new(img.w, img.h, &img.px)?;
    let Some(face) = nearest(&p.detect(&frame)?, at) else { return Ok(None) };
    let lm = p.landmarks(&frame, &face)?;
    let pose = head_pose(&lm);
    let aligned = through_jpeg(&align(&frame, &lm))?;
    let embedding = p.embed(&aligned)?;
    Ok(Some(Measured { face, aligned, embedding, yaw: pose.yaw, pitch: pose.pitch }))
}

fn run_job(p: &Pipeline, job: &Job, seed: u64) -> Res<Option<Sample>> {
    let photo = load_photo(&job.path)?;
    // The frame the face is found in: an LFW photo as it is; a demo face cut out.
    let (img, at, width, bbox) = match job.face {
        None => {
            let at = [photo.w as f32 / 2.0, photo.h as f32 / 2.0];
            let frame = Frame::new(photo.w, photo.h, &photo.px)?;
            let Some(face) = nearest(&p.detect(&frame)?, at) else { return Ok(None) };
            let b = face.bbox;
            (photo, at, b.width(), [b.x1, b.y1, b.x2, b.y2])
        }
        Some(i) => {
            let frame = Frame::new(photo.w, photo.h, &photo.px)?;
            let faces = p.detect(&frame)?;
            let face = faces.get(i).ok_or("face index out of range")?;
            let side = (3.0 * face.bbox.width()).round().max(32.0) as usize;
            let cut = view(&photo, face.bbox.centre(), side, 1.0, 0.0, [0.0, 0.0], 1.0)?;
            let at = [side as f32 / 2.0; 2];
            let b = face.bbox;
            (cut, at, b.width(), [b.x1, b.y1, b.x2, b.y2])
        }
    };
    let Some(first) = measure(p, &img, at)? else { return Ok(None) };
    let frame = Frame::new(img.w, img.h, &img.px)?;
    let context = liveness_crop(&frame, &first.face);
    let context_rgba = context.to_rgba();
    let context_faces = p.detect(&Frame::new(128, 128, &context_rgba)?)?;
    let context_score = context_faces.iter().map(|f| f.score).fold(0.0, f32::max);
    let q = crop_quality(&first.aligned);
    let mut frames = vec![first.embedding.as_slice().to_vec()];
    let mut rng = SplitMix(seed);
    while frames.len() < FRAMES {
        let scale = rng.uniform(0.95, 1.05) as f32;
        let angle = rng.uniform(-4.0, 4.0) as f32;
        let shift = [rng.uniform(-0.05, 0.05) as f32 * width, rng.uniform(-0.05, 0.05) as f32 * width];
        let light = rng.uniform(0.9, 1.1) as f32;
        let copy = view(&img, at, img.w.max(img.h) as usize, scale, angle, shift, light)?;
        let centre = [copy.w as f32 / 2.0 + shift[0], copy.h as f32 / 2.0 + shift[1]];
        match measure(p, &copy, centre)? {
            Some(m) => frames.push(m.embedding.as_slice().to_vec()),
            // A copy without a face: the frame a camera would not have captured.
            None => frames.push(first.embedding.as_slice().to_vec()),
        }
    }
    Ok(Some(Sample {
        person: job.person,
        bbox,
        context_score,
        context_faces: context_faces.len(),
        yaw: first.yaw,
        pitch: first.pitch,
        sharpness: q.sharpness,
        brightness: q.brightness,
        frames,
    }))
}

fn mean_unit(vs: &[Vec<f32>]) -> Vec<f32> {
    let mut m = vec![0f32; vs[0].len()];
    for v in vs {
        for (a, b) in m.iter_mut().zip(v) {
            *a += b;
        }
    }
    let n = m.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    m.iter().map(|x| x / n).collect()
}

/// How the probe frames of one sign-in are fused into one score against a template.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Rule {
    /// One frame only (the first), the baseline.
    Single,
    /// The cosine of the template with the normalised mean of the probe frames.
    MeanEmbedding,
    /// The mean of the per-frame cosines.
    MeanScore,
    /// The median of the per-frame cosines.
    Median,
    /// The best per-frame cosine.
    Max,
    /// The mean of the two best per-frame cosines.
    Best2,
}

const RULES: [Rule; 6] = [Rule::Single, Rule::MeanEmbedding, Rule::MeanScore, Rule::Median, Rule::Max, Rule::Best2];

/// The fused score of one probe: `first` is the first frame's cosine, `sorted` every
/// frame's cosine from the best, `of_mean` the cosine with the probe frames' mean.
fn fuse(rule: Rule, first: f32, sorted: &[f32], of_mean: f32) -> f32 {
    let n = sorted.len();
    match rule {
        Rule::Single => first,
        Rule::MeanEmbedding => of_mean,
        Rule::MeanScore => sorted.iter().sum::<f32>() / n as f32,
        Rule::Median if n % 2 == 1 => sorted[n / 2],
        Rule::Median => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        Rule::Max => sorted[0],
        Rule::Best2 => (sorted[0] + sorted[1.min(n - 1)]) / 2.0,
    }
}

/// Scores of one comparison scheme: genuine scores with their person, impostor scores with
/// their two people, impostors sorted from the highest.
struct Scores {
    genuine: Vec<(f32, u32)>,
    impostor: Vec<(f32, u32, u32)>,
}

impl Scores {
    fn sort(&mut self) {
        self.impostor.sort_by(|a, b| b.0.total_cmp(&a.0));
        self.genuine.sort_by(|a, b| a.0.total_cmp(&b.0));
    }

    fn fmr_count(&self, t: f32) -> usize {
        self.impostor.partition_point(|s| s.0 >= t)
    }

    fn fnmr_count(&self, t: f32) -> usize {
        self.genuine.partition_point(|s| s.0 < t)
    }

    /// The lowest threshold whose FMR is at most `target` with people weighted by `w`
    /// (all 1: the sample itself).
    fn threshold(&self, target: f64, w: &[f64], total: f64) -> f32 {
        let allowed = target * total;
        let mut c = 0.0;
        for &(s, a, b) in &self.impostor {
            let wk = w[a as usize] * w[b as usize];
            if c + wk > allowed {
                return s.next_up();
            }
            c += wk;
        }
        f32::MIN
    }

    fn weighted_fnmr(&self, t: f32, w: &[f64]) -> f64 {
        let total: f64 = self.genuine.iter().map(|g| w[g.1 as usize]).sum();
        let below: f64 = self.genuine.iter().take_while(|g| g.0 < t).map(|g| w[g.1 as usize]).sum();
        if total > 0.0 {
            below / total
        } else {
            f64::NAN
        }
    }
}

/// Wilson score interval (95 %) of `x` successes in `n`.
fn wilson(x: usize, n: usize) -> (f64, f64) {
    let (x, n, z) = (x as f64, n as f64, 1.959_964);
    let p = x / n;
    let d = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / d;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / d;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let i = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
    v[i]
}

/// Impostor weight of one bootstrap round: pairs of photos of different people, each
/// weighted by how often its two people were drawn.
fn impostor_total(w: &[f64], photos_per_person: &[usize]) -> f64 {
    let s: f64 = w.iter().zip(photos_per_person).map(|(w, n)| w * *n as f64).sum();
    let same: f64 = w.iter().zip(photos_per_person).map(|(w, n)| (w * *n as f64).powi(2)).sum();
    (s * s - same) / 2.0
}

struct Level {
    target: f64,
    threshold: f32,
    fmr: (usize, usize),
    fnmr: (usize, usize),
    threshold_ci: (f64, f64),
    fnmr_ci: (f64, f64),
}

fn levels(sc: &Scores, photos_per_person: &[usize], rounds: usize, seed: u64) -> Vec<Level> {
    let people = photos_per_person.len();
    let ones = vec![1.0; people];
    let total = impostor_total(&ones, photos_per_person);
    let mut rng = SplitMix(seed);
    let mut boot: Vec<(Vec<f64>, Vec<f64>)> = TARGETS.iter().map(|_| (Vec::new(), Vec::new())).collect();
    for _ in 0..rounds {
        let mut w = vec![0.0; people];
        for _ in 0..people {
            w[rng.below(people)] += 1.0;
        }
        let total = impostor_total(&w, photos_per_person);
        for (k, &target) in TARGETS.iter().enumerate() {
            let t = sc.threshold(target, &w, total);
            boot[k].0.push(f64::from(t));
            boot[k].1.push(sc.weighted_fnmr(t, &w));
        }
    }
    TARGETS
        .iter()
        .zip(boot)
        .map(|(&target, (mut ts, mut fs))| {
            let t = sc.threshold(target, &ones, total);
            Level {
                target,
                threshold: t,
                fmr: (sc.fmr_count(t), sc.impostor.len()),
                fnmr: (sc.fnmr_count(t), sc.genuine.len()),
                threshold_ci: (percentile(&mut ts, 2.5), percentile(&mut ts, 97.5)),
                fnmr_ci: (percentile(&mut fs, 2.5), percentile(&mut fs, 97.5)),
            }
        })
        .collect()
}

fn print_levels(name: &str, sc: &Scores, photos_per_person: &[usize], rounds: usize) {
    println!("\n{name}: {} genuine pairs, {} impostor pairs", sc.genuine.len(), sc.impostor.len());
    println!("  FMR target | threshold (bootstrap 95 %) | FMR at it (Wilson 95 %)         | FNMR at it (Wilson 95 %; bootstrap 95 %)");
    for l in levels(sc, photos_per_person, rounds, 0x00CA_11B2) {
        let (fl, fh) = wilson(l.fmr.0, l.fmr.1);
        let (nl, nh) = wilson(l.fnmr.0, l.fnmr.1);
        println!(
            "  {:>10.0e} | {:.4} ({:.4}-{:.4})     | {:.2e} ({}/{}) ({:.1e}-{:.1e}) | {:5.2} % ({}/{}) ({:.2}-{:.2} %; {:.2}-{:.2} %)",
            l.target,
            l.threshold,
            l.threshold_ci.0,
            l.threshold_ci.1,
            l.fmr.0 as f64 / l.fmr.1 as f64,
            l.fmr.0,
            l.fmr.1,
            fl,
            fh,
            100.0 * l.fnmr.0 as f64 / l.fnmr.1 as f64,
            l.fnmr.0,
            l.fnmr.1,
            100.0 * nl,
            100.0 * nh,
            (100.0 * l.fnmr_ci.0).max(0.0),
            (100.0 * l.fnmr_ci.1).max(0.0),
        );
    }
}

fn print_sweep(sc: &Scores) {
    println!("  threshold |       FMR (count) | FNMR (count)");
    let mut t = 0.20f32;
    while t < 0.701 {
        let (i, g) = (sc.fmr_count(t), sc.fnmr_count(t));
        println!("  {t:9.3} | {:9.2e} ({i:>6}) | {:5.2} % ({g})", i as f64 / sc.impostor.len() as f64, 100.0 * g as f64 / sc.genuine.len() as f64);
        t += 0.025;
    }
}

fn describe(name: &str, mut v: Vec<f32>) {
    v.sort_by(f32::total_cmp);
    let pct = |p: f32| v[((p / 100.0) * (v.len() - 1) as f32).round() as usize];
    println!(
        "  {name:<28} min {:8.4}  p0.1 {:8.4}  p0.5 {:8.4}  p1 {:8.4}  p5 {:8.4}  p50 {:8.4}  p95 {:8.4}  max {:8.4}",
        v[0],
        pct(0.1),
        pct(0.5),
        pct(1.0),
        pct(5.0),
        pct(50.0),
        pct(95.0),
        v[v.len() - 1]
    );
}

struct Args {
    lfw: PathBuf,
    photos: PathBuf,
    models: PathBuf,
    rounds: usize,
    threads: usize,
}

fn args() -> Res<Args> {
    let mut pos = Vec::new();
    let mut models = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf(), std::path::PathBuf::from)
        .join("../public/models");
    let (mut rounds, mut threads) = (200, 2);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--models" => models = it.next().ok_or("--models DIR")?.into(),
            "--rounds" => rounds = it.next().ok_or("--rounds N")?.parse()?,
            "--threads" => threads = it.next().ok_or("--threads N")?.parse()?,
            _ => pos.push(PathBuf::from(a)),
        }
    }
    let [lfw, photos]: [PathBuf; 2] = pos.try_into().map_err(|_| "usage: calibrate <lfw dir> <photos dir> [--models DIR] [--rounds N] [--threads N]")?;
    Ok(Args { lfw, photos, models, rounds, threads: threads.max(1) })
}

fn jobs(a: &Args, p: &Pipeline) -> Res<(Vec<Job>, Vec<String>)> {
    let mut names = Vec::new();
    let mut jobs = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&a.lfw)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
    dirs.sort();
    for dir in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("jpg")))
            .collect();
        files.sort();
        if files.is_empty() {
            continue;
        }
        let person = names.len();
        names.push(dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        jobs.extend(files.into_iter().map(|path| Job { person, path, face: None }));
    }
    for n in 1..=6 {
        let path = a.photos.join(format!("sample{n}.jpg"));
        let photo = load_photo(&path)?;
        let faces = p.detect(&Frame::new(photo.w, photo.h, &photo.px)?)?;
        for i in 0..faces.len() {
            jobs.push(Job { person: names.len(), path: path.clone(), face: Some(i) });
            names.push(format!("demo sample{n}#{i}"));
        }
    }
    Ok((jobs, names))
}

fn main() -> Res<()> {
    let a = args()?;
    let started = std::time::Instant::now();
    let p = load_pipeline(&a.models)?;
    let (jobs, names) = jobs(&a, &p)?;
    let demo_faces = names.iter().filter(|n| n.starts_with("demo ")).count();
    eprintln!("{} photos of {} people ({} demo faces); {} threads", jobs.len(), names.len(), demo_faces, a.threads);
    let results: Vec<Res<Option<Sample>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..a.threads)
            .map(|t| {
                let (p, jobs) = (p.clone(), &jobs);
                s.spawn(move || {
                    let mut out = Vec::new();
                    for (i, job) in jobs.iter().enumerate().filter(|(i, _)| i % a.threads == t) {
                        out.push((i, run_job(&p, job, 0x5EED_0000 + i as u64)));
                        if t == 0 && out.len() % 100 == 0 {
                            eprintln!("  {} of {} photos", out.len() * a.threads, jobs.len());
                        }
                    }
                    out
                })
            })
            .collect();
        let mut all: Vec<(usize, Res<Option<Sample>>)> = handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect();
        all.sort_by_key(|x| x.0);
        all.into_iter().map(|x| x.1).collect()
    });
    let mut samples = Vec::new();
    let mut no_face = Vec::new();
    for (job, r) in jobs.iter().zip(results) {
        match r? {
            Some(s) => samples.push(s),
            None => no_face.push(job.path.display().to_string()),
        }
    }
    println!(
        "Face calibration: {} photos of {} people ({} LFW, {} demo faces), {:.0} s",
        jobs.len(),
        names.len(),
        names.len() - demo_faces,
        demo_faces,
        started.elapsed().as_secs_f32()
    );
    println!("photos without a face: {} {:?}", no_face.len(), no_face);
    let mut photos_per_person = vec![0usize; names.len()];
    for s in &samples {
        photos_per_person[s.person] += 1;
    }
    let with_pairs = photos_per_person.iter().filter(|n| **n >= 2).count();
    println!("people with two or more photos (genuine pairs): {with_pairs}");

    println!("\nServer measures on the photos (LFW and demo, frame 0):");
    describe("detector score, context crop", samples.iter().map(|s| s.context_score).collect());
    let not_one = samples.iter().filter(|s| s.context_faces != 1).count();
    println!("  photos whose context crop does not show exactly one face (the server refuses those): {not_one}");
    describe("|yaw| (degrees)", samples.iter().map(|s| s.yaw.abs()).collect());
    describe("|pitch| (degrees)", samples.iter().map(|s| s.pitch.abs()).collect());
    describe("sharpness (Laplacian var.)", samples.iter().map(|s| s.sharpness).collect());
    describe("brightness (mean luma)", samples.iter().map(|s| s.brightness).collect());

    println!("  demo faces (box in the photo; score, |yaw|, |pitch|, sharpness, brightness):");
    for s in samples.iter().filter(|s| names[s.person].starts_with("demo ")) {
        let b = s.bbox;
        println!(
            "    {:<18} [{:.0} {:.0} {:.0} {:.0}] {:.4} {:5.1} {:5.1} {:7.1} {:6.1}",
            &names[s.person][5..],
            b[0],
            b[1],
            b[2],
            b[3],
            s.context_score,
            s.yaw.abs(),
            s.pitch.abs(),
            s.sharpness,
            s.brightness
        );
    }

    // Single frames (frame 0 against frame 0) and the fusion rules (a template of one
    // photo's frames against another photo's frames, fused).
    let templates: Vec<Vec<f32>> = samples.iter().map(|s| mean_unit(&s.frames)).collect();
    let probe_means = templates.clone();
    let mut by_rule: Vec<Scores> = RULES.iter().map(|_| Scores { genuine: Vec::new(), impostor: Vec::new() }).collect();
    let mut single = Scores { genuine: Vec::new(), impostor: Vec::new() };
    for i in 0..samples.len() {
        for j in 0..samples.len() {
            if i == j {
                continue;
            }
            let (si, sj) = (&samples[i], &samples[j]);
            let same = si.person == sj.person;
            // Impostors once per unordered pair; genuine pairs both ways (each photo enrols).
            if !same && j < i {
                continue;
            }
            if i < j {
                let s = cosine(&si.frames[0], &sj.frames[0]);
                if same {
                    single.genuine.push((s, si.person as u32));
                } else {
                    single.impostor.push((s, si.person as u32, sj.person as u32));
                }
            }
            let mut per_frame: Vec<f32> = sj.frames.iter().map(|f| cosine(&templates[i], f)).collect();
            let first = per_frame[0];
            per_frame.sort_by(|a, b| b.total_cmp(a));
            let of_mean = cosine(&templates[i], &probe_means[j]);
            for (k, rule) in RULES.iter().enumerate() {
                let s = fuse(*rule, first, &per_frame, of_mean);
                if same {
                    by_rule[k].genuine.push((s, si.person as u32));
                } else {
                    by_rule[k].impostor.push((s, si.person as u32, sj.person as u32));
                }
            }
        }
    }
    single.sort();
    for sc in &mut by_rule {
        sc.sort();
    }

    println!("\nSingle photo against single photo (the matcher itself):");
    print_sweep(&single);
    print_levels("Single photo against single photo", &single, &photos_per_person, a.rounds);

    println!("\nFusion rules: template = normalised mean of one photo's {FRAMES} frames; probe = another photo's {FRAMES} frames (genuine pairs both ways)");
    println!("  rule            | thr@1e-3 FNMR      | thr@1e-4 FNMR      | thr@1e-5 FNMR");
    for (rule, sc) in RULES.iter().zip(&by_rule) {
        let ones = vec![1.0; names.len()];
        let total = impostor_total(&ones, &photos_per_person);
        let cells: Vec<String> = TARGETS
            .iter()
            .map(|&target| {
                let t = sc.threshold(target, &ones, total);
                format!("{t:.4} {:5.2} %", 100.0 * sc.fnmr_count(t) as f64 / sc.genuine.len() as f64)
            })
            .collect();
        println!("  {:<15} | {}", format!("{rule:?}"), cells.join(" | "));
    }
    let chosen = RULES.iter().position(|r| *r == Rule::MeanEmbedding).unwrap_or(0);
    println!("\nThe product's rule ({:?}):", RULES[chosen]);
    print_sweep(&by_rule[chosen]);
    print_levels(&format!("Product rule ({:?})", RULES[chosen]), &by_rule[chosen], &photos_per_person, a.rounds);
    println!("\nHighest impostor pairs (single photo):");
    for (s, x, y) in single.impostor.iter().take(5) {
        println!("  {s:.4} {} vs {}", names[*x as usize], names[*y as usize]);
    }
    println!("Lowest genuine pairs (single photo):");
    for (s, x) in single.genuine.iter().take(5) {
        println!("  {s:.4} {}", names[*x as usize]);
    }
    println!("\nWilson intervals treat pairs as independent; they are not (a person is in many pairs), which the bootstrap over people accounts for. The FMR 1e-5 point rests on about {} impostor pairs above it: borderline.", (1e-5 * single.impostor.len() as f64).round());
    Ok(())
}
