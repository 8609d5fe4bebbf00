#!/usr/bin/env bash
# Remakes screenshots/*.png from the real app running under Xvfb (software OpenGL, Mesa).
# Usage: scripts/screenshots.sh [DUMP]   (default: the bundled sample dump)
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v Xvfb >/dev/null || missing+=(xvfb)
command -v import >/dev/null || missing+=(imagemagick)
command -v xwininfo >/dev/null || missing+=(x11-utils)
[ -e /usr/lib/x86_64-linux-gnu/dri/swrast_dri.so ] || missing+=(libgl1-mesa-dri libegl1)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cargo build --release --quiet
dump=${1:-assets/sample.hprof.gz}
out=screenshots
mkdir -p "$out"

display=:97
Xvfb "$display" -screen 0 1500x940x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true' EXIT
export DISPLAY=$display LIBGL_ALWAYS_SOFTWARE=1
sleep 1

# shot NAME [heapsight window options...]
shot() {
    local name=$1
    shift
    target/release/heapsight "$dump" "$@" >/dev/null 2>&1 &
    local app=$!
    local id=""
    for _ in $(seq 1 100); do
        id=$(xwininfo -root -tree 2>/dev/null | awk '/"heapsight"/ {print $1; exit}')
        [ -n "$id" ] && break
        sleep 0.2
    done
    sleep "${SETTLE:-6}"
    if [ -n "$id" ]; then
        import -window "$id" "$out/$name.png"
    else
        import -window root "$out/$name.png"
    fi
    kill "$app" 2>/dev/null || true
    wait "$app" 2>/dev/null || true
    echo "$out/$name.png"
}

shot overview --view overview
shot histogram --view histogram
shot dominators --view dominators
shot paths --paths-of Session
shot threads --view threads
shot overview-light --view overview --theme light
shot histogram-light --view histogram --theme light
