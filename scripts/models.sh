#!/usr/bin/env bash
# Fetches the face models and the test photos once into the cache, checks their SHA-256,
# and puts the models where the worker serves them (public/models/, gitignored) and the
# photos where the model tests find them. Idempotent: verified files are not fetched again.
#
#   faceplugin-face-recognition-js@0.0.1 (MIT): model/fr_{detect,landmark,liveness,feature}.onnx
#   @vladmandic/face-api@1.7.15 (MIT):          demo/sample1..6.jpg (22 faces)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NPM_DIR=$BIOPASS_CACHE/npm
MODELS_OUT=${BIOPASS_MODELS:-$ROOT/public/models}
PHOTOS_OUT=${BIOPASS_PHOTOS:-$BIOPASS_CACHE/photos}

FACEPLUGIN=faceplugin-face-recognition-js@0.0.1
FACEPLUGIN_TGZ=faceplugin-face-recognition-js-0.0.1.tgz
FACEAPI=@vladmandic/face-api@1.7.15
FACEAPI_TGZ=vladmandic-face-api-1.7.15.tgz

declare -A MODEL_SHA256=(
  [fr_detect.onnx]=6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854
  [fr_landmark.onnx]=f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258
  [fr_liveness.onnx]=afa783b7e902fdfcf323a7240cac2a1c580c25314ea4161129dc1b0d100dc32d
  [fr_feature.onnx]=87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581
)
declare -A PHOTO_SHA256=(
  [sample1.jpg]=8ecae4b267b2d3169e06e00c7dee97097aa2a94635d45216f7732a5f4943cb51
  [sample2.jpg]=7d2b60ae6f13bf30f422e04df87451081a02c83de469056f25afb44b7000c691
  [sample3.jpg]=8eb081c9efb14370fa94d9feab9e5fbeafd19a627491853a80c2bf67f7ffa936
  [sample4.jpg]=729efa5923061d40eb4ed5f267a18cc7b8ba6f852bb2757b16d8b7e4937476fc
  [sample5.jpg]=6d45095ebb182d8f975c0790e0e4eefd86fbb40609cf4b271776d92e12662938
  [sample6.jpg]=9baad80f9d5e306fb9b8c0913d44445f1e95848df317530efb03d0934c57ba87
)

sha_ok() { [[ -f $1 ]] && [[ $(sha256sum "$1" | cut -d' ' -f1) == "$2" ]]; }

# all_ok DIR ASSOC_ARRAY_NAME: every file present with the pinned hash
all_ok() {
  local dir=$1; local -n sums=$2; local f
  for f in "${!sums[@]}"; do sha_ok "$dir/$f" "${sums[$f]}" || return 1; done
}

# fetch_from SPEC TGZ PREFIX DEST ASSOC_ARRAY_NAME: extract PREFIX/<file> for each pinned file
fetch_from() {
  local spec=$1 tgz=$2 prefix=$3 dest=$4; local -n sums=$5
  all_ok "$dest" "$5" && return 0
  mkdir -p "$NPM_DIR" "$dest"
  if [[ ! -f $NPM_DIR/$tgz ]]; then
    log "npm pack $spec"
    (cd "$NPM_DIR" && npm pack --silent "$spec" >/dev/null) || die "npm pack $spec failed"
  fi
  local tmp f
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  local members=()
  for f in "${!sums[@]}"; do members+=("package/$prefix/$f"); done
  tar -xzf "$NPM_DIR/$tgz" -C "$tmp" "${members[@]}" || die "$tgz lacks ${members[*]}"
  for f in "${!sums[@]}"; do
    sha_ok "$tmp/package/$prefix/$f" "${sums[$f]}" \
      || die "SHA-256 mismatch for $f in $tgz (delete $NPM_DIR/$tgz to fetch it again)"
    install -m 0644 "$tmp/package/$prefix/$f" "$dest/$f"
  done
  log "$spec: ${!sums[*]} -> $dest"
}

fetch_from "$FACEPLUGIN" "$FACEPLUGIN_TGZ" model "$MODELS_OUT" MODEL_SHA256
fetch_from "$FACEAPI" "$FACEAPI_TGZ" demo "$PHOTOS_OUT" PHOTO_SHA256
all_ok "$MODELS_OUT" MODEL_SHA256 && all_ok "$PHOTOS_OUT" PHOTO_SHA256 \
  || die "model files or photos failed verification"
log "models in $MODELS_OUT, photos in $PHOTOS_OUT (verified)"
