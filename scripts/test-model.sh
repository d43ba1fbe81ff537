#!/usr/bin/env bash
# Tests of the face pipeline (crate biopass-model):
#   1. models and photos (scripts/models.sh: fetched once, SHA-256 checked);
#   2. the reference fixtures from onnxruntime (venv and pins: scripts/setup.sh, requirements.txt)
#      (model/reference/reference.py -> $BIOPASS_CACHE/model-ref, not committed);
#   3. native tests (unit + tests/main.rs: parity, detection, verification, liveness, pose);
#   4. the same pipeline as wasm32 (simd128) in headless Chromium (wasm-bindgen-test).
# Exits non-zero on any failure. `--reference-only` stops after step 2 (used by
# scripts/bench-model.sh).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export BIOPASS_MODELS=${BIOPASS_MODELS:-$ROOT/public/models}
export BIOPASS_PHOTOS=${BIOPASS_PHOTOS:-$BIOPASS_CACHE/photos}
export BIOPASS_MODEL_REF=${BIOPASS_MODEL_REF:-$BIOPASS_CACHE/model-ref}
# tract needs optimised code to run the models at a usable speed (lib.sh).
native_profile

"$ROOT/scripts/models.sh"

# The venv and its pinned packages (requirements.txt) come from scripts/setup.sh.
[[ -x $VENV/bin/python ]] && "$VENV/bin/python" -c "import onnxruntime, numpy, PIL" 2>/dev/null \
  || die "the Python venv lacks onnxruntime/numpy/pillow: run scripts/setup.sh"

log "onnxruntime reference fixtures -> $BIOPASS_MODEL_REF"
"$VENV/bin/python" "$ROOT/model/reference/reference.py" fixtures \
  --models "$BIOPASS_MODELS" --photos "$BIOPASS_PHOTOS" --out "$BIOPASS_MODEL_REF"

[[ ${1:-} == --reference-only ]] && exit 0

log "native tests"
cargo test --release -p biopass-model -- --test-threads 1 --nocapture 2>&1 \
  | grep -Ev '^parity sample[0-9]' 

log "wasm32 tests in headless Chromium"
command -v wasm-bindgen-test-runner >/dev/null \
  || die "wasm-bindgen-test-runner missing: cargo install wasm-bindgen-cli --version $WASM_BINDGEN_VERSION"
[[ $(wasm-bindgen-test-runner --version) == *" $WASM_BINDGEN_VERSION" ]] \
  || die "wasm-bindgen-test-runner is not $WASM_BINDGEN_VERSION"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-300}
cargo test --release --target wasm32-unknown-unknown -p biopass-model --test main -- --nocapture

log "model tests passed"
