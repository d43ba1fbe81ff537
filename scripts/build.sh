#!/usr/bin/env bash
# Builds the edge worker (worker-build, release) into edge-worker/build and the SPA
# (cargo + wasm-bindgen + wasm-opt) into public/pkg. Cargo skips what is up to date.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

log "building the edge worker"
(cd "$ROOT/edge-worker" && WASM_BINDGEN_BIN=$(command -v wasm-bindgen) \
  WASM_OPT_BIN=$ROOT/node_modules/.bin/wasm-opt ESBUILD_BIN=$ROOT/node_modules/.bin/esbuild \
  worker-build --release >"$BIOPASS_CACHE/worker-build.log" 2>&1) \
  || { tail -40 "$BIOPASS_CACHE/worker-build.log"; die "worker build failed"; }

log "building the SPA"
cargo build -q --release --target wasm32-unknown-unknown -p biopass-app
out=$ROOT/public/pkg
mkdir -p "$out"
wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name app \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/biopass-app.wasm"
"$ROOT/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  "$out/app_bg.wasm" -o "$out/app_bg.wasm"
