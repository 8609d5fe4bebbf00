#!/usr/bin/env bash
# Remakes screenshots/*.png from the real app running under Xvfb (software OpenGL, Mesa), at
# 1600×1000 and 1280×720, dark and light, plus one at 2× scale (2560×1440 pixels) and two at
# 1024×768.
# Usage: scripts/screenshots.sh [DUMP [HINT_DUMP]]   (default: the bundled sample dump for
# both; HINT_DUMP is opened for the "hint-path" shots: a dump with a leak hint, whose first
# hint's evidence path is drawn).
# Environment: SETTLE=seconds to wait for a view to draw (default 6), ONLY=regex of names;
# LOADING_DUMP=a big dump: also the loading screen, SETTLE_LOADING seconds (default 5) into a
# fresh analysis of it (--no-index), with the largest classes it shows meanwhile.
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

nice -n 10 cargo build --release --quiet
dump=${1:-assets/sample.hprof.gz}
hint_dump=${2:-$dump}
out=screenshots
mkdir -p "$out"

display=:97
Xvfb "$display" -screen 0 2600x1500x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true' EXIT
export DISPLAY=$display LIBGL_ALWAYS_SOFTWARE=1
# No file chooser service here: the app says so and offers its path field.
unset DBUS_SESSION_BUS_ADDRESS
# A fresh settings directory: no remembered window size, theme, panel widths or recent files.
state=$(mktemp -d)
trap 'kill $xvfb 2>/dev/null || true; rm -rf "$state"' EXIT
export XDG_DATA_HOME=$state/data XDG_CONFIG_HOME=$state/config
sleep 1

# shot NAME SIZE [ZOOM] -- [heapsight window options...]
shot() {
    local name=$1 size=$2 zoom=$3
    shift 3
    if [ -n "${ONLY:-}" ] && ! [[ "$name" =~ $ONLY ]]; then
        return
    fi
    local file=$dump
    [[ "$name" == hint-path* ]] && file=$hint_dump
    HEAPSIGHT_WINDOW_SIZE=$size HEAPSIGHT_ZOOM=$zoom target/release/heapsight "$file" "$@" \
        >/dev/null 2>&1 &
    local app=$!
    local id=""
    # A busy machine can take a while to show the window.
    for _ in $(seq 1 300); do
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

for size in 1600x1000 1280x720; do
    shot "overview-$size" "$size" 1 --view overview
    shot "histogram-$size" "$size" 1 --view histogram
    shot "dominators-$size" "$size" 1 --view dominators
    shot "merged-paths-$size" "$size" 1 --paths-of Session
    shot "hint-path-$size" "$size" 1 --hint 1
    shot "threads-$size" "$size" 1 --view threads
    shot "overview-light-$size" "$size" 1 --view overview --theme light
    shot "histogram-light-$size" "$size" 1 --view histogram --theme light
    shot "dominators-light-$size" "$size" 1 --view dominators --theme light
    shot "hint-path-light-$size" "$size" 1 --hint 1 --theme light
done
shot "hint-path-2x-2560x1440" 2560x1440 2 --hint 1
# A small laptop's window: the views fit between the side panels, their columns shrunk.
shot "overview-1024x768" 1024x768 1 --view overview
shot "histogram-1024x768" 1024x768 1 --view histogram

if [ -n "${LOADING_DUMP:-}" ]; then
    for size in 1600x1000 1280x720; do
        dump=$LOADING_DUMP SETTLE=${SETTLE_LOADING:-5} shot "loading-$size" "$size" 1 --no-index
    done
fi
