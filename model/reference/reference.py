#!/usr/bin/env python3
"""Reference fixtures for the model crate's parity tests, computed with onnxruntime.

An independent numpy implementation of the pipeline the crate documents (same crops,
same resampling convention, same thresholds), run with onnxruntime (1 thread):

  fixed.json         each model on a deterministic input (formula shared with the tests)
  photos.json        per photo: detections, landmarks, liveness (both channel orders),
                     embeddings; raw detector outputs for model-level parity
  sampleN.ppm        the photo as PIL decodes it: both sides start from the same pixels
  tensors/...        exact model inputs used here (raw little-endian f32 / u8), so the
                     tests can compare models on identical inputs and preprocessing apart

  reference.py fixtures --models DIR --photos DIR --out DIR
  reference.py bench    --models DIR --out DIR [--runs N]   (onnxruntime timings, JSON)
"""
import argparse
import json
import pathlib
import sys
import time

import numpy as np
import onnxruntime as ort
from PIL import Image

MODELS = ("detect", "landmark", "liveness", "feature")
INPUT_SHAPES = {
    "detect": (1, 3, 240, 320),
    "landmark": (1, 1, 64, 64),
    "liveness": (1, 3, 128, 128),
    "feature": (1, 3, 112, 112),
}
# Input ranges of the fixed inputs: the value domain each model sees after preprocessing.
FIXED_RANGES = {
    "detect": (-1.0, 1.0),
    "landmark": (0.0, 1.0),
    "liveness": (0.0, 255.0),
    "feature": (-1.0, 1.0),
}
SCORE_THRESHOLD, NMS_IOU, TOP_K = 0.65, 0.4, 750
LANDMARK_SHIFT = 0.1
LIVENESS_SCALE = 2.7
REFERENCE_POINTS = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ]
)


def session(models, name):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(
        str(pathlib.Path(models) / f"fr_{name}.onnx"), so, providers=["CPUExecutionProvider"]
    )


def fixed_input(name):
    """u_i = (i * 2654435761 mod 2^32) / 2^32 scaled to the model's range."""
    shape = INPUT_SHAPES[name]
    lo, hi = FIXED_RANGES[name]
    i = np.arange(int(np.prod(shape)), dtype=np.uint64)
    u = ((i * np.uint64(2654435761)) % np.uint64(2**32)).astype(np.float64) / 2.0**32
    return (lo + (hi - lo) * u).astype(np.float32).reshape(shape)


def warp(rgb, m, ow, oh):
    """Bilinear sample of an HxWx3 image onto an ow x oh grid.

    m (2x3) maps continuous output coordinates to continuous source coordinates (pixel
    (i, j) has its centre at (i + 0.5, j + 0.5)); borders are replicated."""
    h, w = rgb.shape[:2]
    v, u = np.mgrid[0:oh, 0:ow].astype(np.float64) + 0.5
    x = m[0, 0] * u + m[0, 1] * v + m[0, 2] - 0.5
    y = m[1, 0] * u + m[1, 1] * v + m[1, 2] - 0.5
    x0 = np.floor(x)
    y0 = np.floor(y)
    fx = (x - x0)[..., None]
    fy = (y - y0)[..., None]
    x0 = x0.astype(np.int64)
    y0 = y0.astype(np.int64)
    xa, xb = np.clip(x0, 0, w - 1), np.clip(x0 + 1, 0, w - 1)
    ya, yb = np.clip(y0, 0, h - 1), np.clip(y0 + 1, 0, h - 1)
    img = rgb.astype(np.float64)
    top = img[ya, xa] + (img[ya, xb] - img[ya, xa]) * fx
    bottom = img[yb, xa] + (img[yb, xb] - img[yb, xa]) * fx
    return top + (bottom - top) * fy


def rect_map(x, y, w, h, ow, oh):
    return np.array([[w / ow, 0.0, x], [0.0, h / oh, y]])


def to_u8(values):
    return np.clip(np.floor(values + 0.5), 0, 255).astype(np.uint8)


def iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def detect(sess, rgb):
    h, w = rgb.shape[:2]
    x = warp(rgb, rect_map(0, 0, w, h, 320, 240), 320, 240)
    tensor = ((x - 127.0) / 128.0).transpose(2, 0, 1)[None].astype(np.float32)
    scores, boxes = sess.run(["scores", "boxes"], {"input": tensor})
    s, b = scores[0], boxes[0]
    idx = [i for i in np.argsort(-s[:, 1], kind="stable") if s[i, 1] > SCORE_THRESHOLD][:TOP_K]
    kept = []
    for i in idx:
        box = (b[i] * [w, h, w, h]).tolist()
        if all(iou(box, k[0]) <= NMS_IOU for k in kept):
            kept.append((box, float(s[i, 1])))
    return tensor, scores, boxes, kept


def landmark_rect(box):
    w, h = box[2] - box[0], box[3] - box[1]
    return box[0], box[1] + LANDMARK_SHIFT * h, w, h


def landmarks(sess, rgb, box):
    x, y, w, h = landmark_rect(box)
    c = warp(rgb, rect_map(x, y, w, h, 64, 64), 64, 64)
    grey = c[..., 0] * 0.299 + c[..., 1] * 0.587 + c[..., 2] * 0.114
    tensor = (grey / 256.0)[None, None].astype(np.float32)
    out = sess.run(None, {"input": tensor})[0][0].astype(np.float64)
    pts = out.reshape(68, 2) * [w, h] + [x, y]
    return tensor, out, pts


def five_points(pts):
    return np.array(
        [
            pts[[37, 38, 40, 41]].mean(0),
            pts[[43, 44, 46, 47]].mean(0),
            pts[30],
            (pts[48] + pts[60]) / 2,
            (pts[54] + pts[64]) / 2,
        ]
    )


def similarity(src, dst):
    """Least-squares rotation + uniform scale + translation taking src to dst."""
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    n = (s**2).sum()
    a = (s * d).sum() / n
    b = (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum() / n
    return np.array(
        [[a, -b, md[0] - (a * ms[0] - b * ms[1])], [b, a, md[1] - (b * ms[0] + a * ms[1])]]
    )


def align(rgb, pts):
    fwd = np.vstack([similarity(five_points(pts), REFERENCE_POINTS + 0.5), [0, 0, 1]])
    inv = np.linalg.inv(fwd)[:2]
    return to_u8(warp(rgb, inv, 112, 112))


def liveness_crop(rgb, box):
    h, w = rgb.shape[:2]
    bw, bh = max(box[2] - box[0], 1.0), max(box[3] - box[1], 1.0)
    scale = min(LIVENESS_SCALE, w / bw, h / bh)
    cw, ch = bw * scale, bh * scale
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    x = min(max(cx - cw / 2, 0.0), max(w - cw, 0.0))
    y = min(max(cy - ch / 2, 0.0), max(h - ch, 0.0))
    return to_u8(warp(rgb, rect_map(x, y, cw, ch, 128, 128), 128, 128))


def softmax(v):
    e = np.exp(v - v.max())
    return e / e.sum()


def liveness(sess, crop, bgr):
    c = crop[..., ::-1] if bgr else crop
    tensor = c.astype(np.float32).transpose(2, 0, 1)[None]
    return tensor, softmax(sess.run(None, {"input": tensor})[0][0].astype(np.float64))


def embed(sess, aligned):
    tensor = ((aligned.astype(np.float32) - 127.0) / 128.0).transpose(2, 0, 1)[None]
    raw = sess.run(None, {"input": tensor})[0][0].astype(np.float64)
    return tensor, raw / np.linalg.norm(raw)


def write_ppm(path, rgb):
    h, w = rgb.shape[:2]
    with open(path, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (w, h))
        f.write(rgb.astype(np.uint8).tobytes())


def fixtures(args):
    out = pathlib.Path(args.out)
    tensors = out / "tensors"
    tensors.mkdir(parents=True, exist_ok=True)
    sess = {m: session(args.models, m) for m in MODELS}

    fixed = {}
    for m in MODELS:
        outputs = sess[m].run(None, {"input": fixed_input(m)})
        names = [o.name for o in sess[m].get_outputs()]
        fixed[m] = {
            n: {"shape": list(o.shape), "values": o.astype(np.float64).ravel().tolist()}
            for n, o in zip(names, outputs)
        }
    (out / "fixed.json").write_text(json.dumps(fixed))

    photos = {}
    for k in range(1, 7):
        name = f"sample{k}"
        rgb = np.asarray(Image.open(pathlib.Path(args.photos) / f"{name}.jpg").convert("RGB"))
        write_ppm(out / f"{name}.ppm", rgb)
        det_in, scores, boxes, faces = detect(sess["detect"], rgb)
        det_in.tofile(tensors / f"{name}_detect.f32")
        entry = {
            "width": rgb.shape[1],
            "height": rgb.shape[0],
            "raw_scores": scores.ravel().astype(np.float64).tolist(),
            "raw_boxes": boxes.ravel().astype(np.float64).tolist(),
            "faces": [],
        }
        for j, (box, score) in enumerate(faces):
            lm_in, lm_raw, pts = landmarks(sess["landmark"], rgb, box)
            aligned = align(rgb, pts)
            live = liveness_crop(rgb, box)
            _, live_bgr = liveness(sess["liveness"], live, True)
            _, live_rgb = liveness(sess["liveness"], live, False)
            _, emb = embed(sess["feature"], aligned)
            stem = f"{name}_f{j}"
            lm_in.tofile(tensors / f"{stem}_landmark.f32")
            aligned.tofile(tensors / f"{stem}_aligned.u8")
            live.tofile(tensors / f"{stem}_live.u8")
            entry["faces"].append(
                {
                    "box": box,
                    "score": score,
                    "landmark_raw": lm_raw.tolist(),
                    "landmarks": pts.ravel().tolist(),
                    "liveness_bgr": live_bgr.tolist(),
                    "liveness_rgb": live_rgb.tolist(),
                    "embedding": emb.tolist(),
                }
            )
        photos[name] = entry
        print(f"{name}: {len(faces)} faces", file=sys.stderr)
    (out / "photos.json").write_text(json.dumps(photos))
    total = sum(len(p["faces"]) for p in photos.values())
    print(f"reference fixtures in {out}: {total} faces", file=sys.stderr)


def bench(args):
    """Median onnxruntime time (1 thread) per model on the tensors of sample1, face 0."""
    t = pathlib.Path(args.out) / "tensors"
    inputs = {
        "detect": np.fromfile(t / "sample1_detect.f32", np.float32).reshape(1, 3, 240, 320),
        "landmark": np.fromfile(t / "sample1_f0_landmark.f32", np.float32).reshape(1, 1, 64, 64),
        "liveness": np.ascontiguousarray(
            np.fromfile(t / "sample1_f0_live.u8", np.uint8)
            .reshape(128, 128, 3)[..., ::-1]
            .astype(np.float32)
            .transpose(2, 0, 1)[None]
        ),
        "feature": np.ascontiguousarray(
            (
                (np.fromfile(t / "sample1_f0_aligned.u8", np.uint8).reshape(112, 112, 3).astype(np.float32) - 127.0)
                / 128.0
            ).transpose(2, 0, 1)[None]
        ),
    }
    result = {}
    for m in MODELS:
        t0 = time.perf_counter()
        s = session(args.models, m)
        s.run(None, {"input": inputs[m]})
        load_ms = (time.perf_counter() - t0) * 1e3
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            s.run(None, {"input": inputs[m]})
            times.append((time.perf_counter() - t0) * 1e3)
        result[m] = {"median_ms": float(np.median(times)), "load_ms": load_ms}
    print(json.dumps({"onnxruntime": ort.__version__, "models": result}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fixtures")
    f.add_argument("--models", required=True)
    f.add_argument("--photos", required=True)
    f.add_argument("--out", required=True)
    b = sub.add_parser("bench")
    b.add_argument("--models", required=True)
    b.add_argument("--out", required=True)
    b.add_argument("--runs", type=int, default=50)
    args = p.parse_args()
    fixtures(args) if args.cmd == "fixtures" else bench(args)


if __name__ == "__main__":
    main()
