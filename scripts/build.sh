#!/usr/bin/env bash
# Builds the provider Worker and the face service (worker-build, release) into
# edge-worker/build and face-service/build, the SPA and the
# login page's face tracker (cargo + wasm-bindgen + wasm-opt) into public/pkg, and
# public/pkg/face-manifest.json (the tracker's files with their SHA-256 and size, which
# the login page's Web Worker, public/face-worker.js, verifies and caches by). Cargo skips what is up to date; wasm-opt's
# output is cached by the hash of its input.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# worker_build DIR NAME: worker-build --release in DIR (its output in DIR/build).
worker_build() {
  local dir=$ROOT/$1
  log "building $2"
  # A build that was interrupted leaves worker-build's scratch folder behind, which fails the next.
  rm -rf "$dir/build/.tmp"
  (cd "$dir" && WASM_BINDGEN_BIN=$(command -v wasm-bindgen) \
    WASM_OPT_BIN=$ROOT/node_modules/.bin/wasm-opt ESBUILD_BIN=$ROOT/node_modules/.bin/esbuild \
    worker-build --release >"$BIOPASS_CACHE/worker-build-$1.log" 2>&1) \
    || { tail -40 "$BIOPASS_CACHE/worker-build-$1.log"; die "$2: build failed"; }
  # The name section (function names for stack traces) is 15 % of the provider's wasm and
  # is not needed to run: stripped (2 s; no optimisation pass runs again).
  "$ROOT/node_modules/.bin/wasm-opt" --enable-bulk-memory --enable-nontrapping-float-to-int --enable-simd \
    --enable-sign-ext --enable-mutable-globals --strip-debug --strip-producers \
    "$dir/build/index_bg.wasm" -o "$dir/build/index_bg.wasm"
  # A plain fetch entry in place of worker-build's per-request class and Proxies (see the script).
  node "$ROOT/scripts/entry.mjs" "$dir/build/index.js" && grep -q 'biopass: plain fetch entry' "$dir/build/index.js" \
    || die "$2: its entry could not be made plain"
}
worker_build edge-worker "the provider Worker"
worker_build face-service "the face service Worker"

out=$ROOT/public/pkg
mkdir -p "$out" "$BIOPASS_CACHE/wasm-opt"

# optimise FILE FLAGS...: wasm-opt in place, or the cached result for the same input.
optimise() {
  local file=$1; shift
  local key
  key=$(cat <(sha256sum "$file") <(echo "$*") | sha256sum | cut -c1-32)
  local cached=$BIOPASS_CACHE/wasm-opt/$key.wasm
  if [[ ! -f $cached ]]; then
    "$ROOT/node_modules/.bin/wasm-opt" "$@" --enable-bulk-memory --enable-nontrapping-float-to-int \
      "$file" -o "$cached.tmp" && mv "$cached.tmp" "$cached"
  fi
  cp "$cached" "$file"
}

log "building the SPA"
cargo build -q --release --target wasm32-unknown-unknown -p biopass-app
wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name app \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/biopass-app.wasm"
optimise "$out/app_bg.wasm" -Oz

log "building the face tracker"
cargo build -q --release --target wasm32-unknown-unknown -p biopass-tracker
wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name tracker \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/biopass_tracker.wasm"
# -O3, not -Oz: inference speed matters more here than the last 5% of size.
optimise "$out/tracker_bg.wasm" -O3 --enable-simd

entry() {
  local path=$1
  [[ -f $ROOT/public/$path ]] || die "public/$path is missing (run scripts/setup.sh)"
  printf '{"path":"%s","sha256":"%s","bytes":%s}' "$path" \
    "$(sha256sum "$ROOT/public/$path" | cut -d' ' -f1)" "$(stat -c %s "$ROOT/public/$path")"
}
printf '{"wasm":%s,"detect":%s,"landmark":%s}\n' "$(entry pkg/tracker_bg.wasm)" \
  "$(entry models/fr_detect.onnx)" "$(entry models/fr_landmark.onnx)" >"$out/face-manifest.json"
