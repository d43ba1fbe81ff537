#!/usr/bin/env bash
# Makes the fake cameras of the face tests from the demo photos that set-up fetched:
#   $BIOPASS_CACHE/person/person-a, person-b   the simulated people's renders
#       (model/examples/livesynth.rs `scene`: far.jpg, near.jpg, far-mask.jpg,
#       near-mask.jpg, scene.json), which tests/lib/facecam.mjs moves and relights as the
#       login page asks; person A = sample5 face 4, person B = sample6 face 2
#   $BIOPASS_CACHE/video (y4m, 640x480, for Chromium's own fake camera; a still picture
#       never passes the light check):
#       dark.y4m       person A at arm's length at a fifth of the brightness
#       two-faces.y4m  persons A and B side by side
#       no-face.y4m    a plain grey picture
# Skipped when they were made by the same tool, photos and script (a stamp of their
# hashes).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VIDEO=$BIOPASS_CACHE/video
PEOPLE=$BIOPASS_CACHE/person
PHOTOS=$BIOPASS_CACHE/photos
stamp=$(cat "$ROOT/scripts/fixtures.sh" "$ROOT/model/examples/livesynth.rs" "$ROOT"/model/src/*.rs \
  "$PHOTOS/sample5.jpg" "$PHOTOS/sample6.jpg" | sha256sum | cut -d' ' -f1)
if [[ -f $VIDEO/stamp && $(cat "$VIDEO/stamp") == "$stamp" && -f $PEOPLE/stamp && $(cat "$PEOPLE/stamp") == "$stamp" ]]; then
  exit 0
fi

log "making the fake cameras (simulated people, still videos)"
mkdir -p "$VIDEO" "$PEOPLE"
rm -f "$VIDEO/stamp" "$PEOPLE/stamp"
native_profile
cargo build -q --release -p biopass-model --example livesynth
synth=$CARGO_TARGET_DIR/release/examples/livesynth
scene() {
  rm -rf "$PEOPLE/$1.tmp"
  "$synth" scene --photo "$PHOTOS/$2" --face "$3" --out-dir "$PEOPLE/$1.tmp" --models "$ROOT/public/models" 2>/dev/null
  rm -rf "${PEOPLE:?}/$1" && mv "$PEOPLE/$1.tmp" "$PEOPLE/$1"
}
scene person-a sample5.jpg 4
scene person-b sample6.jpg 2
echo "$stamp" >"$PEOPLE/stamp"

ff() { ffmpeg -v error -y "$@"; }
ff -i "$PEOPLE/person-a/far.jpg" -vf "lutyuv=y=val*0.2,format=yuv420p" -f yuv4mpegpipe "$VIDEO/dark.y4m"
ff -i "$PEOPLE/person-a/far.jpg" -i "$PEOPLE/person-b/far.jpg" \
  -filter_complex "[0:v]crop=320:480:160:0[a];[1:v]crop=320:480:160:0[b];[a][b]hstack=inputs=2,format=yuv420p" \
  -f yuv4mpegpipe "$VIDEO/two-faces.y4m"
ff -f lavfi -i "color=c=0x808080:s=640x480:r=15" -frames:v 1 -pix_fmt yuv420p -f yuv4mpegpipe "$VIDEO/no-face.y4m"
# The videos of the head-movement check, gone with it.
rm -f "$VIDEO/person-a.y4m" "$VIDEO/person-b.y4m"
echo "$stamp" >"$VIDEO/stamp"
