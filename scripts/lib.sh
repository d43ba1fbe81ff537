# Shared by the set-up, run, test and bench scripts. Source it; it only sets variables
# and defines helpers.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Everything generated or downloaded lives in this cache, outside the checkout, so a
# fresh clone on a machine that already ran set-up starts fast.
BIOPASS_CACHE=${BIOPASS_CACHE:-$HOME/.cache/biopass}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$BIOPASS_CACHE/target}
VENV=$BIOPASS_CACHE/venv
CHECKOV_VENV=$BIOPASS_CACHE/venv-checkov
CARGO_BIN=${CARGO_HOME:-$HOME/.cargo}/bin
export PATH="$CARGO_BIN:$ROOT/node_modules/.bin:$PATH"
export WRANGLER_SEND_METRICS=false
# Native builds of the face pipeline and its tools (tests, benches, livesynth): optimised
# for speed and quick to link; the workspace's release profile is for wasm size (opt-level
# "z", fat LTO: minutes to link). tests/face/helpers.mjs builds livesynth the same way.
native_profile() {
  export CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
}
# Every wasm32 build (worker, SPA, the face pipeline's browser tests) with SIMD: the face
# models need it, and one flag set keeps their shared dependencies built once.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128"

# Pinned tool versions. WASM_BINDGEN must equal the wasm-bindgen in Cargo.lock.
WASM_BINDGEN_VERSION=0.2.130
WORKER_BUILD_VERSION=0.8.7

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
