#!/usr/bin/env bash
# Regenerates assets/sample.hprof.gz: a small real HotSpot heap dump of the SampleIncidents
# scenario (tests/java/SampleIncidents.java): a web application undeployed with its loader
# pinned, CLIENTS OSSClients never shut down, and the SessionsInMap store (a SessionManager
# whose static ConcurrentHashMap holds LIVE sessions, plus GARBAGE sessions that are
# unreachable but not yet collected). The sample is embedded in the binary (include_bytes!).
#
# Usage: scripts/make-sample.sh [LIVE=300] [GARBAGE=100] [CLIENTS=100]
# Needs a JDK (java, javac, jmap) on PATH; prints jmap's histogram lines for the scenario's
# classes so assets/README.md can quote them.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
live=${1:-300}
garbage=${2:-100}
clients=${3:-100}
out="$root/assets/sample.hprof.gz"
max_bytes=$((1536 * 1024))

for tool in java javac jmap gzip; do
    command -v "$tool" >/dev/null || { echo "make-sample: $tool not on PATH" >&2; exit 1; }
done

work=$(mktemp -d)
pid=""
cleanup() {
    if [[ -n "$pid" ]]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

java_dir="$root/tests/java"
javac -encoding UTF-8 -d "$work/classes" "$java_dir/SampleIncidents.java" \
    "$java_dir/MixedIncidents.java" "$java_dir/SessionsInMap.java" \
    $(find "$java_dir/hints/lib" -name '*.java' | sort)
javac -encoding UTF-8 -d "$work/webapp" $(find "$java_dir/hints/webapp" -name '*.java' | sort)

# Default collector (G1) and compressed oops, as most production dumps are; the young
# generation is large enough that no GC runs after the redeploy's check, so the garbage
# sessions and the dropped clients stay in the dump.
java -Xms64m -Xmx64m -Xmn48m -cp "$work/classes" SampleIncidents "$work/webapp" "$clients" \
    "$live" "$garbage" >"$work/stdout" 2>"$work/stderr" &
pid=$!

for _ in $(seq 600); do
    grep -q '^READY ' "$work/stdout" && break
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "make-sample: scenario exited early:" >&2
        cat "$work/stderr" >&2
        exit 1
    fi
    sleep 0.1
done
grep -q '^READY ' "$work/stdout" || { echo "make-sample: no READY within 60 s" >&2; exit 1; }

jmap -histo "$pid" >"$work/histo.txt"
jmap -dump:format=b,file="$work/sample.hprof" "$pid" >/dev/null
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=""

gzip -9 -n -c "$work/sample.hprof" >"$out"
raw=$(stat -c %s "$work/sample.hprof")
size=$(stat -c %s "$out")
if ((size >= max_bytes)); then
    echo "make-sample: $out is $size bytes, over the $max_bytes limit: use fewer sessions or clients" >&2
    exit 1
fi

echo "wrote $out ($size bytes gzipped, $raw bytes raw; $live live + $garbage garbage sessions, $clients clients)"
echo "jmap -histo (before the dump):"
grep -E ' (Session|SessionManager|java\.util\.concurrent\.ConcurrentHashMap\$Node|java\.util\.HashMap|com\.aliyun\.oss\.OSSClient|org\.apache\.http\.impl\.conn\.PoolingHttpClientConnectionManager|org\.apache\.catalina\.loader\.ParallelWebappClassLoader)( |$)' \
    "$work/histo.txt" || true
tail -n 1 "$work/histo.txt"
