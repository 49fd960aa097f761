#!/usr/bin/env bash
# Run every fuzz target for a bounded time; exit non-zero if any finds a crash.
# Usage: fuzz/run-bounded.sh [SECONDS_PER_TARGET] [TARGET...]   (default 60, all targets)
#
# cargo-fuzz needs nightly compiler features; on a stable toolchain RUSTC_BOOTSTRAP=1 unlocks
# them. New corpus entries go to fuzz/work/<target> (ignored by git); the checked-in seeds in
# fuzz/corpus/<target> are only read. Crashes are saved under fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"

secs="${1:-60}"
# A fixed seed by default so the CI smoke run is repeatable; FUZZ_SEED=0 lets libFuzzer pick
# one (exploratory runs).
seed="${FUZZ_SEED:-1}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(parse_report zip_reader)
fi

export RUSTC_BOOTSTRAP=1
# A build directory of its own: sanitizer flags would invalidate the main build's cache.
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/testscope-fuzz-target}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --version 0.13.2 --locked
fi

status=0
for t in "${targets[@]}"; do
    mkdir -p "work/$t" "artifacts/$t"
    echo "== $t: ${secs}s" >&2
    # -rss_limit_mb: the limits under test cap any one input far below this.
    if ! cargo fuzz run "$t" "work/$t" "corpus/$t" -- \
        -max_total_time="$secs" -seed="$seed" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1; then
        echo "== $t: crash found; see fuzz/artifacts/$t/" >&2
        status=1
    fi
done
exit $status
