#!/usr/bin/env bash
# Makes the fake-camera videos of the face tests (y4m, 640x480, looping) in
# $BIOPASS_CACHE/video from the demo photos that set-up fetched:
#   person-a.y4m, person-b.y4m  a face looking at the camera, then turning left, right and
#                               up (model/examples/facesynth.rs; persons A and B of the tests)
#   dark.y4m                    person A's first frame at a fifth of its brightness
#   two-faces.y4m               persons A and B side by side
#   no-face.y4m                 a plain grey picture
# Skipped when the videos were made by the same tool, photos and script (a stamp of their
# hashes).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VIDEO=$BIOPASS_CACHE/video
PHOTOS=$BIOPASS_CACHE/photos
stamp=$(cat "$ROOT/scripts/fixtures.sh" "$ROOT/model/examples/facesynth.rs" "$ROOT"/model/src/*.rs \
  "$PHOTOS/sample5.jpg" "$PHOTOS/sample6.jpg" | sha256sum | cut -d' ' -f1)
if [[ -f $VIDEO/stamp && $(cat "$VIDEO/stamp") == "$stamp" ]]; then
  exit 0
fi

log "making the fake-camera videos"
mkdir -p "$VIDEO"
rm -f "$VIDEO/stamp"
cargo build -q --release -p biopass-model --example facesynth
synth=$CARGO_TARGET_DIR/release/examples/facesynth
"$synth" y4m --photo "$PHOTOS/sample5.jpg" --face 4 --out "$VIDEO/person-a.y4m" --models "$ROOT/public/models" 2>/dev/null
"$synth" y4m --photo "$PHOTOS/sample6.jpg" --face 2 --out "$VIDEO/person-b.y4m" --models "$ROOT/public/models" 2>/dev/null

ff() { ffmpeg -v error -y "$@"; }
ff -i "$VIDEO/person-a.y4m" -frames:v 1 -vf "lutyuv=y=val*0.2" -f yuv4mpegpipe "$VIDEO/dark.y4m"
ff -i "$VIDEO/person-a.y4m" -i "$VIDEO/person-b.y4m" -frames:v 1 \
  -filter_complex "[0:v]crop=320:480:160:0[a];[1:v]crop=320:480:160:0[b];[a][b]hstack=inputs=2,format=yuv420p" \
  -f yuv4mpegpipe "$VIDEO/two-faces.y4m"
ff -f lavfi -i "color=c=0x808080:s=640x480:r=15" -frames:v 1 -pix_fmt yuv420p -f yuv4mpegpipe "$VIDEO/no-face.y4m"
echo "$stamp" >"$VIDEO/stamp"
