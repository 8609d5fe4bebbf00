#!/usr/bin/env bash
# Fuzzes the dump reader.
#
# Usage: scripts/fuzz.sh [SECONDS=600]
#
# With a nightly toolchain and cargo-fuzz (`rustup toolchain install nightly`,
# `cargo install cargo-fuzz`), runs libFuzzer on fuzz/fuzz_targets/read_dump.rs, seeded with
# fuzz/seeds/ (small dumps written by tests/support/hprof_writer.rs); the corpus grows in
# fuzz/corpus/read_dump/ and crashing inputs land in fuzz/artifacts/read_dump/. Copy a crash to
# fuzz/regressions/ (tests/bad_input.rs replays every file there) and reproduce it with
#   cargo +nightly fuzz run read_dump fuzz/regressions/<file>
#
# Without them, runs the stable-Rust mutation fuzzer (#[ignore]d test `mutation_fuzzer` in
# tests/bad_input.rs) in release for the same time; it saves failing inputs to
# fuzz/regressions/ itself.
#
# Environment:
#   HEAPSIGHT_FUZZ_ANALYSIS=1   also run the retention analysis on each input (cargo-fuzz only)
#   FUZZ_JOBS=N                 libFuzzer jobs in parallel (default 1)
#   FUZZ_STABLE=1               use the stable fuzzer even when cargo-fuzz is there
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}

if [[ -z "${FUZZ_STABLE:-}" ]] && cargo +nightly fuzz --version >/dev/null 2>&1; then
    mkdir -p fuzz/corpus/read_dump
    jobs=${FUZZ_JOBS:-1}
    # -rss_limit_mb: a dump may legitimately need memory; 2 GB catches runaway allocations.
    # -timeout: one input that takes 10 s is a hang.
    exec cargo +nightly fuzz run read_dump fuzz/corpus/read_dump fuzz/seeds -- \
        -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -jobs="$jobs" -workers="$jobs"
else
    echo "fuzz.sh: cargo-fuzz on nightly not available; running the stable mutation fuzzer" >&2
    HEAPSIGHT_FUZZ_SECS="$secs" exec cargo test --release --test bad_input -- \
        --ignored mutation_fuzzer --nocapture
fi
