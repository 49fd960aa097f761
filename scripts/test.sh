#!/usr/bin/env bash
# Runs every test of testscope, installing what the tests need first.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

# Build output lives outside the clone so repeated runs (and CI) stay warm.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/testscope-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

command -v cargo >/dev/null || { echo "cargo not found: install Rust (https://rustup.rs)" >&2; exit 1; }

cargo test --locked --all-targets "$@"
