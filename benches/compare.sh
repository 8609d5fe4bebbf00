#!/usr/bin/env bash
# benches/compare.sh: measure heapsight against peer HPROF tools on one dump.
#
# Builds heapsight, installs/builds the peers (hprof-slurp, hprof-analyzer 0.3.2,
# VisualVM's heap library), generates the benchmark dump with benches/BigHeap.java if it
# is missing, then runs each tool on the same file, one after another (never in parallel):
# one untimed warm-up run per tool (so that every tool reads the dump from a warm page
# cache), then timed runs under /usr/bin/time -f '%e %M' (wall seconds, peak RSS).
# heapsight and hprof-slurp are timed RUNS times (default 3) and the median is reported;
# hprof-analyzer and VisualVM once.  Everything it makes goes under target/bench/.
# See benches/README.md.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: benches/compare.sh [options]

  --medium          use the ~150 MB dump (target/bench/medium.hprof) instead of the
                    ~1.4 GB one (target/bench/big.hprof)
  --huge            use the ~5.5 GB, ~100 M-object dump (target/bench/huge.hprof; BigHeap
                    at scale 4, its JVM needs a 12 GB heap)
  --both            run everything on big.hprof, then on huge.hprof (two tables)
  --cap MB          also run heapsight fresh once under a cgroup v1 memory cap of MB
                    megabytes (/sys/fs/cgroup/memory/heapsight-bench), and say whether it
                    completed; with --cap-only, only that run
  --cap-only        measure nothing but the capped run (needs --cap)
  --file PATH       use this dump instead (not generated; must exist)
  --only-slurp      compare heapsight with hprof-slurp only (no hprof-analyzer, no VisualVM)
  --no-visualvm     skip VisualVM
  --no-analyzer     skip hprof-analyzer
  --no-slurp        skip hprof-slurp
  --no-heapsight    skip heapsight (measure the peers only)
  --runs N          timed runs of heapsight and hprof-slurp (median reported); default 3
  --no-warmup       skip the untimed warm-up run of each tool; instead read the dump once
                    with cat to warm the page cache (saves the time of one extra VisualVM /
                    hprof-analyzer run)
  --timeout SECS    kill a tool run after SECS seconds (default 3600)
  --visualvm-xmx X  -Xmx of the VisualVM JVM (default 16g)
  --regen           regenerate the dump even if it exists
  --prepare-only    build/install everything and generate the dump, measure nothing
  -h, --help        this text
EOF
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/target/bench"
PEERS="$BENCH/peers"               # cargo install --root: $PEERS/bin/{hprof-slurp,hprof-analyzer}
PEERS_SRC="$BENCH/peers-src"       # hprof-analyzer crate source, patched
OUT="$BENCH/out"                   # tool outputs, timings, results
CARGO_HOME_DIR="${CARGO_HOME:-$HOME/.cargo}"

ANALYZER_VERSION=0.3.2
ANALYZER_ZIP_PIN='=2.2.3'

# JVM flags for BigHeap (see the header of benches/BigHeap.java for why each matters).
BIGHEAP_JVM_FLAGS=(-XX:+UseSerialGC -XX:MarkSweepDeadRatio=0 -XX:-ResizeTLAB -XX:TLABSize=512k
                   -Xms6g -Xmx6g -Xmn2g)
# Scale 4 (~103 M objects): four times the live data and the garbage.
BIGHEAP_HUGE_JVM_FLAGS=(-XX:+UseSerialGC -XX:MarkSweepDeadRatio=0 -XX:-ResizeTLAB -XX:TLABSize=512k
                        -Xms12g -Xmx12g -Xmn4g)

SIZE=full
FILE=""
RUNS=3
WARMUP=1
TIMEOUT=3600
VISUALVM_XMX=16g
DO_HEAPSIGHT=1 DO_SLURP=1 DO_ANALYZER=1 DO_VISUALVM=1
REGEN=0
PREPARE_ONLY=0
BOTH=0
CAP_MB=""
CAP_ONLY=0
ALL_ARGS=("$@")

while [ $# -gt 0 ]; do
    case "$1" in
        --medium) SIZE=medium ;;
        --huge) SIZE=huge ;;
        --both) BOTH=1 ;;
        --cap) CAP_MB="$2"; shift ;;
        --cap-only) CAP_ONLY=1 ;;
        --file) FILE="$2"; shift ;;
        --only-slurp) DO_ANALYZER=0; DO_VISUALVM=0 ;;
        --no-visualvm) DO_VISUALVM=0 ;;
        --no-analyzer) DO_ANALYZER=0 ;;
        --no-slurp) DO_SLURP=0 ;;
        --no-heapsight) DO_HEAPSIGHT=0 ;;
        --runs) RUNS="$2"; shift ;;
        --no-warmup) WARMUP=0 ;;
        --timeout) TIMEOUT="$2"; shift ;;
        --visualvm-xmx) VISUALVM_XMX="$2"; shift ;;
        --regen) REGEN=1 ;;
        --prepare-only) PREPARE_ONLY=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
case "$RUNS" in ''|*[!0-9]*|0) echo "--runs needs a positive integer" >&2; exit 2 ;; esac
case "$CAP_MB" in ''|*[!0-9]*) [ -z "$CAP_MB" ] || { echo "--cap needs megabytes" >&2; exit 2; } ;; esac
if [ "$CAP_ONLY" = 1 ] && [ -z "$CAP_MB" ]; then echo "--cap-only needs --cap MB" >&2; exit 2; fi

if [ "$BOTH" = 1 ]; then
    # One run of the script per dump; the flags other than --both apply to both.
    rest=()
    for a in "${ALL_ARGS[@]}"; do [ "$a" = --both ] || rest+=("$a"); done
    "$0" "${rest[@]}"
    "$0" --huge "${rest[@]}"
    exit $?
fi

GENERATE=1
if [ -n "$FILE" ]; then
    GENERATE=0
    [ -f "$FILE" ] || { echo "no such dump: $FILE" >&2; exit 2; }
    FILE="$(cd "$(dirname "$FILE")" && pwd)/$(basename "$FILE")"
elif [ "$SIZE" = medium ]; then
    FILE="$BENCH/medium.hprof"
elif [ "$SIZE" = huge ]; then
    FILE="$BENCH/huge.hprof"
else
    FILE="$BENCH/big.hprof"
fi
mkdir -p "$BENCH" "$PEERS" "$OUT"

log() { printf '\n=== %s\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=0
apt_install() {
    if [ "$APT_UPDATED" = 0 ]; then
        as_root apt-get update -qq
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# ---------------------------------------------------------------------------------------
# Cleanup: never leave a BigHeap JVM running.
JVM_PID=""
cleanup() {
    if [ -n "$JVM_PID" ] && kill -0 "$JVM_PID" 2>/dev/null; then
        kill "$JVM_PID" 2>/dev/null || true
        wait "$JVM_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------
# Prerequisites

ensure_time() {
    if [ ! -x /usr/bin/time ]; then
        log "installing GNU time (apt)"
        apt_install time
    fi
}

ensure_java() {
    local t
    for t in java javac jmap; do
        command -v "$t" >/dev/null || { echo "$t not found: a JDK 17+ is needed" >&2; exit 1; }
    done
}

# ---------------------------------------------------------------------------------------
# heapsight

HEAPSIGHT="$ROOT/target/release/heapsight"
HEAPSIGHT_OK=0
HEAPSIGHT_WHY=""
build_heapsight() {
    log "building heapsight (cargo build --release)"
    if ! (cd "$ROOT" && cargo build --release) >"$OUT/heapsight-build.log" 2>&1; then
        tail -n 20 "$OUT/heapsight-build.log" >&2
        HEAPSIGHT_WHY="heapsight does not build right now (see $OUT/heapsight-build.log); skipped"
        note "$HEAPSIGHT_WHY"
        return
    fi
    if ! "$HEAPSIGHT" report --help >/dev/null 2>&1; then
        HEAPSIGHT_WHY="heapsight has no 'report' subcommand yet ('heapsight report --help' fails); skipped"
        note "$HEAPSIGHT_WHY"
        return
    fi
    HEAPSIGHT_OK=1
}

# ---------------------------------------------------------------------------------------
# Peers

SLURP="$PEERS/bin/hprof-slurp"
install_slurp() {
    if [ -x "$SLURP" ]; then return; fi
    log "installing hprof-slurp from crates.io into $PEERS"
    if ! cargo install --locked --root "$PEERS" hprof-slurp >"$OUT/hprof-slurp-install.log" 2>&1; then
        note "--locked install failed, retrying without --locked"
        cargo install --root "$PEERS" hprof-slurp >>"$OUT/hprof-slurp-install.log" 2>&1 \
            || { tail -n 20 "$OUT/hprof-slurp-install.log" >&2; echo "hprof-slurp install failed" >&2; exit 1; }
    fi
}

ANALYZER="$PEERS/bin/hprof-analyzer"
build_analyzer() {
    if [ -x "$ANALYZER" ]; then return; fi
    log "building hprof-analyzer $ANALYZER_VERSION from its crate source (zip pinned to $ANALYZER_ZIP_PIN)"
    # 1. Let cargo itself download the crate source: a throwaway project that depends on it.
    local fetch="$BENCH/fetch-hprof-analyzer"
    mkdir -p "$fetch/src"
    cat >"$fetch/Cargo.toml" <<EOF
[package]
name = "fetch-hprof-analyzer"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
hprof-analyzer = "=$ANALYZER_VERSION"

[workspace]
EOF
    echo 'fn main() {}' >"$fetch/src/main.rs"
    (cd "$fetch" && cargo fetch) >"$OUT/hprof-analyzer-build.log" 2>&1
    local src
    src="$(ls -d "$CARGO_HOME_DIR"/registry/src/*/hprof-analyzer-"$ANALYZER_VERSION" 2>/dev/null | head -n 1)"
    [ -n "$src" ] || { echo "cargo fetch did not unpack hprof-analyzer-$ANALYZER_VERSION" >&2; exit 1; }
    # 2. Copy it, pin zip (the newest zip 2.x breaks the build), drop rust-toolchain.toml
    #    (it asks for a toolchain that is not installed here).
    local dst="$PEERS_SRC/hprof-analyzer-$ANALYZER_VERSION"
    rm -rf "$dst"
    mkdir -p "$PEERS_SRC"
    cp -r "$src" "$dst"
    chmod -R u+w "$dst"
    rm -f "$dst/rust-toolchain.toml" "$dst/rust-toolchain"
    sed -i '/^\[dependencies\.zip\]$/,/^\[/ s/^version = "[^"]*"$/version = "'"$ANALYZER_ZIP_PIN"'"/' "$dst/Cargo.toml"
    grep -A1 '^\[dependencies\.zip\]$' "$dst/Cargo.toml" | grep -q "\"$ANALYZER_ZIP_PIN\"" \
        || { echo "could not pin zip in $dst/Cargo.toml" >&2; exit 1; }
    # 3. Build (its release profile uses fat LTO and one codegen unit: takes a while).
    if ! (cd "$dst" && cargo build --release --bin hprof-analyzer) >>"$OUT/hprof-analyzer-build.log" 2>&1; then
        tail -n 30 "$OUT/hprof-analyzer-build.log" >&2
        echo "hprof-analyzer build failed (log: $OUT/hprof-analyzer-build.log)" >&2
        exit 1
    fi
    mkdir -p "$PEERS/bin"
    cp "$dst/target/release/hprof-analyzer" "$ANALYZER"
}

VISUALVM_JAR=""
VISUALVM_CLASSES="$BENCH/peer-classes"
find_visualvm_jar() {
    local j
    j="$(dpkg -L visualvm 2>/dev/null | grep '/org-graalvm-visualvm-lib-jfluid-heap\.jar$' | head -n 1 || true)"
    if [ -z "$j" ] && [ -f /usr/share/visualvm/visualvm/modules/org-graalvm-visualvm-lib-jfluid-heap.jar ]; then
        j=/usr/share/visualvm/visualvm/modules/org-graalvm-visualvm-lib-jfluid-heap.jar
    fi
    VISUALVM_JAR="$j"
}
prepare_visualvm() {
    find_visualvm_jar
    if [ -z "$VISUALVM_JAR" ]; then
        log "installing VisualVM (apt) for its heap library"
        apt_install visualvm
        find_visualvm_jar
        [ -n "$VISUALVM_JAR" ] || { echo "org-graalvm-visualvm-lib-jfluid-heap.jar not found after installing visualvm" >&2; exit 1; }
    fi
    mkdir -p "$VISUALVM_CLASSES"
    javac -cp "$VISUALVM_JAR" -d "$VISUALVM_CLASSES" "$ROOT/benches/peers/VisualVmRetained.java"
}

# ---------------------------------------------------------------------------------------
# The dump

generate_dump() {
    local mode="$1" file="$2"
    log "generating $mode dump $file (BigHeap)"
    mkdir -p "$BENCH/classes"
    javac -d "$BENCH/classes" "$ROOT/benches/BigHeap.java"
    local glog="$BENCH/bigheap-$mode.log"
    : >"$glog"
    local flags=("${BIGHEAP_JVM_FLAGS[@]}") arg="$mode"
    if [ "$mode" = huge ]; then
        flags=("${BIGHEAP_HUGE_JVM_FLAGS[@]}") arg=4
    fi
    java "${flags[@]}" -cp "$BENCH/classes" BigHeap "$arg" >"$glog" 2>&1 &
    JVM_PID=$!
    local i
    for i in $(seq 1 900); do
        grep -q '^READY ' "$glog" && break
        kill -0 "$JVM_PID" 2>/dev/null || { cat "$glog" >&2; echo "BigHeap died" >&2; exit 1; }
        sleep 1
    done
    grep -q '^READY ' "$glog" || { cat "$glog" >&2; echo "BigHeap not READY after 900 s" >&2; exit 1; }
    sed 's/^/    /' "$glog" >&2
    local pid
    pid="$(awk '/^READY /{print $2}' "$glog")"
    # Object count as the JVM sees it ('all': no GC is triggered, garbage included).
    jmap -histo:all "$pid" >"${file%.hprof}.histo.txt"
    rm -f "$file.partial"
    jmap -dump:format=b,file="$file.partial" "$pid" >&2
    mv "$file.partial" "$file"
    kill "$JVM_PID"; wait "$JVM_PID" 2>/dev/null || true
    JVM_PID=""
}

# ---------------------------------------------------------------------------------------
# Measuring

# Tools may leave sidecar files next to the dump (VisualVM: FILE.hwcache/, hprof-analyzer:
# its analysis cache, heapsight: maybe an index).  Delete them before every run so that
# each run analyses the dump from scratch; only the page cache is warm.
clean_sidecars() {
    local dir base p
    dir="$(dirname "$FILE")"; base="$(basename "$FILE")"
    [ "${1:-}" = reopen ] && return 0   # heapsight reopening its own index
    for p in "$dir/$base".* "$dir/.$base".*; do
        [ -e "$p" ] || continue
        note "removing sidecar $(basename "$p")"
        rm -rf "$p"
    done
    if [ -x "$ANALYZER" ] && [ "${1:-}" = analyzer ]; then
        "$ANALYZER" heap cache-clear "$FILE" >/dev/null 2>&1 || true
    fi
}

RESULTS=()     # "name|runs|median_s|median_rss_mb|status|command|max_load"

loadavg() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0; }
max_of() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 > b + 0) ? a : b }'; }

median() {     # numbers on stdin -> median (mean of the two middle values if even)
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# run_timed TAG OUTFILE ERRFILE CMD... -> 0 if the command succeeded; writes "secs kb" to $OUT/TAG.time
run_timed() {
    local tag="$1" outf="$2" errf="$3"; shift 3
    local rc=0
    /usr/bin/time -f '%e %M' -o "$OUT/$tag.time" timeout "$TIMEOUT" "$@" >"$outf" 2>"$errf" || rc=$?
    return "$rc"
}

# measure NAME SLUG REPEATS CLEANKIND CMD...
measure() {
    local name="$1" slug="$2" reps="$3" kind="$4"; shift 4
    local outf="$OUT/$slug.out" errf="$OUT/$slug.err" rc=0 i maxload=0 l
    log "$name: $*"
    if [ "$WARMUP" = 1 ]; then
        clean_sidecars "$kind"
        note "warm-up run (untimed)"
        run_timed "$slug.warmup" "$outf" "$errf" "$@" || rc=$?
        if [ "$rc" != 0 ]; then
            local t; t="$(tail -n 1 "$OUT/$slug.warmup.time" 2>/dev/null | cut -d' ' -f1)"
            if [ "$rc" = 124 ]; then
                note "warm-up run TIMED OUT after ${t:-?} s (--timeout $TIMEOUT); no timed runs"
                RESULTS+=("$name|0|>${t:-?}|-|TIMEOUT: warm-up run killed after $TIMEOUT s|$*|-")
            else
                note "FAILED (exit $rc after ${t:-?} s); last lines of stderr:"
                tail -n 5 "$errf" | sed 's/^/      /' >&2
                RESULTS+=("$name|0|-|-|FAILED exit $rc after ${t:-?} s|$*|-")
            fi
            return
        fi
    fi
    : >"$OUT/$slug.times"
    for i in $(seq 1 "$reps"); do
        clean_sidecars "$kind"
        l="$(loadavg)"; maxload="$(max_of "$maxload" "$l")"
        rc=0
        run_timed "$slug.$i" "$outf" "$errf" "$@" || rc=$?
        local line; line="$(tail -n 1 "$OUT/$slug.$i.time")"
        if [ "$rc" != 0 ]; then
            local ft fm
            ft="$(echo "$line" | awk '{ print $1 }')"
            fm="$(echo "$line" | awk '{ printf "%.0f", $2 / 1024 }')"
            if [ "$rc" = 124 ]; then
                note "run $i TIMED OUT after $ft s (--timeout $TIMEOUT), peak RSS so far $fm MB"
                RESULTS+=("$name|$((i - 1))|>$ft|>=$fm|TIMEOUT: killed after $TIMEOUT s in run $i|$*|$maxload")
            else
                note "run $i FAILED (exit $rc after $ft s, $fm MB peak RSS); last lines of stderr:"
                tail -n 5 "$errf" | sed 's/^/      /' >&2
                RESULTS+=("$name|$((i - 1))|-|-|FAILED exit $rc after $ft s in run $i|$*|$maxload")
            fi
            return
        fi
        note "run $i: $(echo "$line" | awk '{ printf "%.2f s, %.0f MB peak RSS", $1, $2 / 1024 }') (load average before: $l)"
        echo "$line" >>"$OUT/$slug.times"
    done
    local secs rss
    secs="$(cut -d' ' -f1 "$OUT/$slug.times" | median)"
    rss="$(cut -d' ' -f2 "$OUT/$slug.times" | median | awk '{ printf "%.0f", $1 / 1024 }')"
    RESULTS+=("$name|$reps|$secs|$rss|ok|$*|$maxload")
    note "output: $outf (stderr: $errf)"
}

result_field() {  # result_field NAME FIELDNO
    local r
    for r in "${RESULTS[@]}"; do
        if [ "${r%%|*}" = "$1" ]; then echo "$r" | cut -d'|' -f"$2"; return; fi
    done
    echo "-"
}

ratio() {  # ratio A B -> A/B or "n/a"; B = ">N" (peer timed out) gives "<A/N"
    awk -v a="$1" -v b="$2" 'BEGIN {
        lt = ""; if (b ~ /^>[0-9.]+$/) { lt = "<"; b = substr(b, 2) }
        if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%s%.3f", lt, a / b; else printf "n/a" }'
}

# ---------------------------------------------------------------------------------------
# Main

ensure_time
ensure_java
[ "$DO_HEAPSIGHT" = 1 ] && build_heapsight
[ "$DO_SLURP" = 1 ] && install_slurp
[ "$DO_ANALYZER" = 1 ] && build_analyzer
[ "$DO_VISUALVM" = 1 ] && prepare_visualvm

if [ "$GENERATE" = 1 ] && { [ "$REGEN" = 1 ] || [ ! -f "$FILE" ]; }; then
    generate_dump "$SIZE" "$FILE"
fi

DUMP_BYTES="$(stat -c %s "$FILE")"
HISTO="${FILE%.hprof}.histo.txt"
OBJECTS="-"
if [ -f "$HISTO" ]; then
    OBJECTS="$(awk '/^Total/ { print $2 }' "$HISTO")"
fi

if [ "$PREPARE_ONLY" = 1 ]; then
    log "prepared: $FILE ($DUMP_BYTES bytes, $OBJECTS objects per jmap -histo:all)"
    exit 0
fi

if [ "$WARMUP" = 0 ]; then
    log "warming the page cache: cat $FILE > /dev/null"
    cat "$FILE" >/dev/null
fi

# run_capped MB CMD...: runs CMD once inside a cgroup v1 memory cap; prints "secs kb rc".
CGROUP=/sys/fs/cgroup/memory/heapsight-bench
run_capped() {
    local mb="$1"; shift
    if [ ! -d /sys/fs/cgroup/memory ]; then echo "no cgroup v1 memory controller" >&2; return 1; fi
    as_root mkdir -p "$CGROUP"
    echo $((mb * 1024 * 1024)) | as_root tee "$CGROUP/memory.limit_in_bytes" >/dev/null
    echo 0 | as_root tee "$CGROUP/memory.max_usage_in_bytes" >/dev/null 2>&1 || true
    # The shell enters the cgroup, then becomes the measured command.
    local rc=0
    /usr/bin/time -f '%e %M' -o "$OUT/capped.time" timeout "$TIMEOUT" \
        sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CGROUP" "$@" \
        >"$OUT/capped.out" 2>"$OUT/capped.err" || rc=$?
    local max; max="$(cat "$CGROUP/memory.max_usage_in_bytes" 2>/dev/null || echo 0)"
    echo "$(tail -n 1 "$OUT/capped.time") $rc $max"
}

SLUG_SUFFIX="$(basename "${FILE%.hprof}")"
# heapsight analyses from scratch with --no-index when it has an index file.
HS_FRESH=()
if [ "$HEAPSIGHT_OK" = 1 ] && "$HEAPSIGHT" report --help 2>&1 | grep -q -- '--no-index'; then
    HS_FRESH=(--no-index)
fi
if [ -n "$CAP_MB" ] && [ "$HEAPSIGHT_OK" = 1 ]; then
    log "heapsight fresh under a ${CAP_MB} MB cgroup memory cap"
    clean_sidecars heapsight
    read -r csecs ckb crc cmax <<<"$(run_capped "$CAP_MB" "$HEAPSIGHT" report "$FILE" --json "${HS_FRESH[@]}")"
    if [ "$crc" = 0 ]; then cstatus="ok: completed under the cap"; else cstatus="FAILED exit $crc (137: killed by the cap)"; fi
    note "$csecs s, peak RSS $((ckb / 1024)) MB, cgroup peak usage $((cmax / 1048576)) MB (page cache included): $cstatus"
    RESULTS+=("heapsight-cap${CAP_MB}|1|$csecs|$((ckb / 1024))|$cstatus; cgroup max usage $((cmax / 1048576)) MB|$HEAPSIGHT report $FILE --json ${HS_FRESH[*]}|$(loadavg)")
    if [ "$CAP_ONLY" = 1 ]; then DO_HEAPSIGHT=0 DO_SLURP=0 DO_ANALYZER=0 DO_VISUALVM=0; fi
fi
if [ "$DO_HEAPSIGHT" = 1 ]; then
    if [ "$HEAPSIGHT_OK" = 1 ]; then
        measure "heapsight" "heapsight-$SLUG_SUFFIX" "$RUNS" heapsight "$HEAPSIGHT" report "$FILE" --json "${HS_FRESH[@]}"
        if [ "${#HS_FRESH[@]}" -gt 0 ]; then
            # Reopened: a first run writes the index, the timed runs read it.
            clean_sidecars heapsight
            [ "$WARMUP" = 1 ] || "$HEAPSIGHT" report "$FILE" --json >/dev/null 2>&1 || true
            measure "heapsight-reopen" "heapsight-reopen-$SLUG_SUFFIX" "$RUNS" reopen \
                "$HEAPSIGHT" report "$FILE" --json
            clean_sidecars heapsight
        fi
        # Extra row when heapsight can skip the retention work: the like-for-like
        # counterpart of hprof-slurp, which only builds a histogram.
        if "$HEAPSIGHT" report --help 2>&1 | grep -q -- '--histogram-only'; then
            measure "heapsight-hist" "heapsight-hist-$SLUG_SUFFIX" "$RUNS" heapsight \
                "$HEAPSIGHT" report "$FILE" --json --histogram-only
        fi
    else
        RESULTS+=("heapsight|0|-|-|SKIPPED: $HEAPSIGHT_WHY|$HEAPSIGHT report $FILE --json|-")
    fi
fi
if [ "$DO_SLURP" = 1 ]; then
    # hprof-slurp >= 0.10 takes the dump as a positional argument; older ones want -i.
    if "$SLURP" --help 2>&1 | grep -q -- '--inputFile'; then SLURP_ARGS=(-i "$FILE"); else SLURP_ARGS=("$FILE"); fi
    measure "hprof-slurp" "hprof-slurp-$SLUG_SUFFIX" "$RUNS" slurp "$SLURP" "${SLURP_ARGS[@]}"
fi
if [ "$DO_ANALYZER" = 1 ]; then
    # One-shot full analysis: histogram, dominator tree, retained sizes, leak suspects,
    # top consumers, written as a JSON report (no cache is read or written).
    measure "hprof-analyzer" "hprof-analyzer-$SLUG_SUFFIX" 1 analyzer \
        "$ANALYZER" "$FILE" "$OUT/hprof-analyzer-$SLUG_SUFFIX.json" --progress never
fi
if [ "$DO_VISUALVM" = 1 ]; then
    measure "visualvm" "visualvm-$SLUG_SUFFIX" 1 visualvm \
        java "-Xmx$VISUALVM_XMX" -cp "$VISUALVM_JAR:$VISUALVM_CLASSES" VisualVmRetained "$FILE"
fi
clean_sidecars none

# ---------------------------------------------------------------------------------------
# Report

TSV="$OUT/results-$SLUG_SUFFIX.tsv"
{
    printf 'tool\truns\tseconds\tpeak_rss_mb\tstatus\tcommand\tmax_load\n'
    for r in "${RESULTS[@]}"; do echo "$r" | tr '|' '\t'; done
} >"$TSV"

echo
echo "dump: $FILE"
echo "      $DUMP_BYTES bytes ($(awk -v b="$DUMP_BYTES" 'BEGIN { printf "%.2f GB", b / 1e9 }')), $OBJECTS objects (jmap -histo:all total)"
if [ "$WARMUP" = 1 ]; then
    echo "      page cache warm: each tool ran once untimed before its timed runs"
else
    echo "      page cache warm: dump read once with cat before the runs (--no-warmup)"
fi
echo
printf '%-16s %5s %10s %12s %6s  %s\n' tool runs seconds "peak RSS MB" load status
printf '%-16s %5s %10s %12s %6s  %s\n' ---- ---- ------- ----------- ---- ------
BUSY=0
for r in "${RESULTS[@]}"; do
    IFS='|' read -r name runs secs rss status _cmd load <<<"$r"
    printf '%-16s %5s %10s %12s %6s  %s\n' "$name" "$runs" "$secs" "$rss" "$load" "$status"
    if awk -v l="$load" -v n="$(nproc)" 'BEGIN { exit !(l ~ /^[0-9.]+$/ && l + 0 > n + 0.5) }'; then BUSY=1; fi
done
echo "(load = highest 1-minute load average seen just before a timed run of that tool)"
if [ "$BUSY" = 1 ]; then
    echo "WARNING: the machine was busy (load average above its $(nproc) cores) during some timed runs;"
    echo "         other processes competed for the CPU, so those times are inflated. Re-run on a quiet machine."
fi
echo
HS_T="$(result_field heapsight 3)"; HS_M="$(result_field heapsight 4)"
printf '%-34s %s\n' "heapsight/hprof-slurp time:" "$(ratio "$HS_T" "$(result_field hprof-slurp 3)")"
printf '%-34s %s\n' "heapsight RSS (MB):" "$HS_M"
printf '%-34s %s\n' "heapsight/hprof-analyzer RSS:" "$(ratio "$HS_M" "$(result_field hprof-analyzer 4)")"
if [ "$(result_field heapsight-hist 3)" != - ]; then
    printf '%-34s %s\n' "heapsight-hist/hprof-slurp time:" \
        "$(ratio "$(result_field heapsight-hist 3)" "$(result_field hprof-slurp 3)")"
    printf '%-34s %s\n' "heapsight-hist RSS (MB):" "$(result_field heapsight-hist 4)"
fi
printf '%-34s %s\n' "heapsight/hprof-analyzer time:" "$(ratio "$HS_T" "$(result_field hprof-analyzer 3)")"
printf '%-34s %s\n' "heapsight/visualvm time:" "$(ratio "$HS_T" "$(result_field visualvm 3)")"
echo
echo "commands:"
for r in "${RESULTS[@]}"; do
    IFS='|' read -r name _ _ _ _ cmd _load <<<"$r"
    printf '  %-16s %s\n' "$name" "$cmd"
done
echo "results: $TSV; tool outputs and per-run timings: $OUT/"
