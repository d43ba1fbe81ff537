#!/usr/bin/env bash
# Benchmarks of the face pipeline, one run each, printed side by side with ratios:
#   native:  tract vs onnxruntime (Python, 1 thread) per model on the same tensors, per
#            tracking frame (detect + landmarks + pose) and per verification (liveness
#            crop + liveness + align + embed), model load time;
#   browser: tract compiled to wasm32 (simd128; and simd128 + relaxed-simd) vs
#            onnxruntime-web 1.30 (wasm backend, 1 thread) in headless Chromium, same
#            tensors and frame; model load time; size of the pipeline's wasm.
# For onnxruntime the per-frame and per-verification figures are its network times plus
# our own image work (measured in the same runtime), i.e. the pipeline with its networks
# swapped. Load time excludes download. Usage: scripts/bench-model.sh [RUNS]
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${1:-30}
export BIOPASS_MODELS=${BIOPASS_MODELS:-$ROOT/public/models}
export BIOPASS_MODEL_REF=${BIOPASS_MODEL_REF:-$BIOPASS_CACHE/model-ref}
# tract needs optimised code to run the models at a usable speed (lib.sh).
native_profile
OUT=$BIOPASS_CACHE/model-bench
mkdir -p "$OUT"

"$ROOT/scripts/test-model.sh" --reference-only
[[ -d $ROOT/node_modules/onnxruntime-web && -d $ROOT/node_modules/playwright-core ]] \
  || die "node_modules lacks onnxruntime-web or playwright-core: run npm install at the root"

log "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (other work skews the figures)"

log "native: tract"
cargo run --quiet --release -p biopass-model --example bench -- \
  "$BIOPASS_MODELS" "$BIOPASS_MODEL_REF" "$RUNS" >"$OUT/native-tract.json"
log "native: onnxruntime"
"$VENV/bin/python" "$ROOT/model/reference/reference.py" bench \
  --models "$BIOPASS_MODELS" --out "$BIOPASS_MODEL_REF" --runs "$RUNS" >"$OUT/native-ort.json"

# build_wasm NAME FEATURES TARGET_DIR: the bench module with -C target-feature=FEATURES,
# bindgen'd. The simd128 build shares the test script's target dir; relaxed-simd, whose
# flags differ, has its own so the two do not rebuild each other.
build_wasm() {
  local name=$1 features=$2 dir=$3
  log "wasm32 build ($features)"
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=$features" CARGO_TARGET_DIR="$dir" \
    cargo build --quiet --release --target wasm32-unknown-unknown -p biopass-model --example wasm_bench
  wasm-bindgen --target web --out-dir "$OUT/pkg-$name" --out-name wasm_bench \
    "$dir/wasm32-unknown-unknown/release/examples/wasm_bench.wasm"
  gzip -9 -c "$OUT/pkg-$name/wasm_bench_bg.wasm" >"$OUT/pkg-$name/wasm_bench_bg.wasm.gz"
}
build_wasm simd "+simd128" "$CARGO_TARGET_DIR"
build_wasm relaxed "+simd128,+relaxed-simd" "$CARGO_TARGET_DIR-relaxed-simd"

for v in simd relaxed; do
  log "browser: tract wasm ($v) vs onnxruntime-web"
  node "$ROOT/tests/model/run-bench.mjs" "$OUT/pkg-$v" "$BIOPASS_MODELS" "$BIOPASS_MODEL_REF" "$RUNS" \
    >"$OUT/browser-$v.json" 2>"$OUT/browser-$v.log" || { cat "$OUT/browser-$v.log" >&2; die "browser bench failed"; }
done

"$VENV/bin/python" - "$OUT" "$ROOT" <<'PY'
import json, os, sys
out, root = sys.argv[1], sys.argv[2]
load = lambda n: json.load(open(os.path.join(out, n)))
nt, no = load("native-tract.json"), load("native-ort.json")["models"]
bs, br = load("browser-simd.json"), load("browser-relaxed.json")
models = ["detect", "landmark", "liveness", "feature"]
def row(label, *vals, ratio=None):
    cells = "".join(f"{v:>12.2f}" if isinstance(v, float) else f"{v:>12}" for v in vals)
    print(f"{label:<34}{cells}" + (f"{ratio:>10.2f}x" if ratio is not None else ""))

print("\nNative, 1 thread (ms, median of %d)    tract  onnxruntime  tract/ort" % nt["runs"])
for m in models:
    row(f"  {m}", nt["infer_ms"][m], no[m]["median_ms"], ratio=nt["infer_ms"][m] / no[m]["median_ms"])
fo = no["detect"]["median_ms"] + no["landmark"]["median_ms"] + nt["frame_prepost_ms"]
vo = no["liveness"]["median_ms"] + no["feature"]["median_ms"] + nt["verify_prepost_ms"]
row("  tracking frame (640x480)", nt["frame_ms"], fo, ratio=nt["frame_ms"] / fo)
row("  verification", nt["verify_ms"], vo, ratio=nt["verify_ms"] / vo)
row("  image work alone (frame / verif.)", nt["frame_prepost_ms"], nt["verify_prepost_ms"])
for m in models:
    row(f"  load {m}", nt["load_ms"][m], no[m]["load_ms"], ratio=nt["load_ms"][m] / no[m]["load_ms"])

print("\nBrowser, Chromium, 1 thread (ms, median of %d)" % bs["runs"])
print(f"{'':<34}{'tract simd':>12}{'tract relax':>12}{'ort-web':>12}  simd/ort relaxed/ort")
def brow(label, a, b, c):
    print(f"{label:<34}{a:>12.2f}{b:>12.2f}{c:>12.2f}{a / c:>9.2f}x{b / c:>9.2f}x")
for m in models:
    brow(f"  {m}", bs["tract"]["infer_ms"][m], br["tract"]["infer_ms"][m], bs["ort"]["infer_ms"][m])
brow("  tracking frame (640x480)", bs["tract"]["frame_ms"], br["tract"]["frame_ms"], bs["ort"]["frame_ms"])
brow("  verification", bs["tract"]["verify_ms"], br["tract"]["verify_ms"], bs["ort"]["verify_ms"])
brow("  runtime init (wasm compile)", bs["tract"]["init_ms"], br["tract"]["init_ms"], bs["ort"]["init_ms"])
for m in models:
    brow(f"  load {m}", bs["tract"]["load_ms"][m], br["tract"]["load_ms"][m], bs["ort"]["load_ms"][m])
tl = lambda b: sum(b["tract"]["load_ms"].values())
brow("  load all four", tl(bs), tl(br), sum(bs["ort"]["load_ms"].values()))
print("  outputs tract vs ort-web, max abs diff: " + ", ".join(f"{m} {bs['max_abs_diff'][m]:.1e}" for m in models))

print("\nwasm of the pipeline (bench module: pipeline + glue, opt-level 3, no wasm-opt)")
for v in ("simd", "relaxed"):
    d = os.path.join(out, f"pkg-{v}")
    raw = os.path.getsize(os.path.join(d, "wasm_bench_bg.wasm")) / 1e6
    gz = os.path.getsize(os.path.join(d, "wasm_bench_bg.wasm.gz")) / 1e6
    print(f"  {v:<8} raw {raw:6.2f} MB   gzip -9 {gz:5.2f} MB")
ort_wasm = os.path.join(root, "node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm")
if os.path.exists(ort_wasm):
    import gzip
    data = open(ort_wasm, "rb").read()
    print(f"  ort-web  raw {len(data) / 1e6:6.2f} MB   gzip -9 {len(gzip.compress(data, 9)) / 1e6:5.2f} MB (ort-wasm-simd-threaded.wasm)")
PY
