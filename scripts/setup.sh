#!/usr/bin/env bash
# Installs everything the run and test commands need, skipping what is already there at
# the right version: Debian packages, the wasm32 target, pinned wasm-bindgen-cli and
# worker-build, npm packages, the Python venv, and the face models. Safe to run again.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

APT_PACKAGES=(chromium chromium-driver ffmpeg wrk strace)

apt_missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || apt_missing+=("$p")
done
if ((${#apt_missing[@]})); then
  log "apt-get install ${apt_missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${apt_missing[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
# The test command's lints: clippy and rustfmt (in rustup's default profile, but not in
# every installation).
for component in clippy rustfmt; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
    log "rustup component add $component"
    rustup component add "$component"
  fi
done

# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock, exactly.
locked=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3}' "$ROOT/Cargo.lock")
[[ $locked == "$WASM_BINDGEN_VERSION" ]] || die "Cargo.lock has wasm-bindgen $locked but scripts/lib.sh pins $WASM_BINDGEN_VERSION"
if [[ $(wasm-bindgen --version 2>/dev/null) != "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 5 minutes, once)"
  cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi
if [[ $(worker-build --version 2>/dev/null) != *"$WORKER_BUILD_VERSION"* ]]; then
  log "cargo install worker-build $WORKER_BUILD_VERSION (about 7 minutes, once)"
  cargo install -q worker-build --version "$WORKER_BUILD_VERSION" --locked --force
fi

# npm: reinstall only when package-lock.json changed since the last install.
lock_sum=$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)
if [[ ! -f $ROOT/node_modules/.biopass-lock || $(cat "$ROOT/node_modules/.biopass-lock") != "$lock_sum" ]]; then
  log "npm ci"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_sum" > "$ROOT/node_modules/.biopass-lock"
fi

# Python tools for the tests, in a venv in the cache; reinstalled when requirements change.
req_sum=$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)
if [[ ! -x $VENV/bin/python || ! -f $VENV/.biopass-req || $(cat "$VENV/.biopass-req") != "$req_sum" ]]; then
  log "python venv with requirements.txt"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/requirements.txt"
  echo "$req_sum" > "$VENV/.biopass-req"
fi
# checkov in a venv of its own: it pins versions of boto3 and friends that ministack's differ from.
req_sum=$(sha256sum "$ROOT/requirements-checkov.txt" | cut -d' ' -f1)
if [[ ! -x $CHECKOV_VENV/bin/checkov || ! -f $CHECKOV_VENV/.biopass-req || $(cat "$CHECKOV_VENV/.biopass-req") != "$req_sum" ]]; then
  log "python venv with requirements-checkov.txt"
  python3 -m venv "$CHECKOV_VENV"
  "$CHECKOV_VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/requirements-checkov.txt"
  echo "$req_sum" > "$CHECKOV_VENV/.biopass-req"
fi

bash "$ROOT/scripts/models.sh"
