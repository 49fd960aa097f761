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
    targets=(parse_report zip_reader deflate_roundtrip)
fi

export RUSTC_BOOTSTRAP=1
# A build directory of its own: sanitizer flags would invalidate the main build's cache.
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/testscope-fuzz-target}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --version 0.13.2 --locked
fi

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
failed=()
for t in "${targets[@]}"; do
    mkdir -p "work/$t" "artifacts/$t"
    echo "== $t: ${secs}s" >&2
    # -rss_limit_mb: the limits under test cap any one input far below this.
    if ! cargo fuzz run "$t" "work/$t" "corpus/$t" -- \
        -max_total_time="$secs" -seed="$seed" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        2>&1 | tee "$logs/$t"; then
        failed+=("$t")
    fi
done

# A failure is told again last, so the end of a long CI log shows what failed and on what
# input: the fuzzer's report, and each new artifact in hex.
status=0
for t in "${failed[@]+"${failed[@]}"}"; do
    status=1
    echo "== $t FAILED; its report:" >&2
    grep -v -E '^#[0-9]+|Uses: [0-9]+|NEW_FUNC' "$logs/$t" | tail -n 60 >&2
    for a in $(grep -o -E 'Test unit written to [^ ]+' "$logs/$t" | awk '{print $NF}'); do
        echo "== input $a:" >&2
        od -A d -c "$a" | head -n 40 >&2
    done
done
exit $status
