# Shared by bench/*.sh (sourced): arguments, build dir, and the generated run.
#   BUILD="<cargo build targets>" . bench/setup.sh "$@"
# sets profile, repeats, bin (release dir), run (the generated run) and artifacts.
# GEN_ARGS="--jobs 10 --files-per-job 600" reshapes the profile's run (another folder).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
profile="${1:-pytorch}"
repeats="${2:-5}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/testscope-target}"
out="bench/out"
mkdir -p "$out"

cargo build --release --locked -p testscope-gen >&2
# shellcheck disable=SC2086
cargo build --release --locked $BUILD >&2
bin="$CARGO_TARGET_DIR/release"
run="$out/$profile"
gen_args=()
if [ -n "${GEN_ARGS:-}" ]; then
  read -r -a gen_args <<< "$GEN_ARGS"
  run="$out/$profile$(printf '%s' "$GEN_ARGS" | tr -c 'a-z0-9' '_')"
fi
if [ ! -d "$run/gha-artifacts" ]; then
  "$bin/testscope-gen" --profile "$profile" "${gen_args[@]}" --out "$run" >&2
fi
artifacts=$(ls -d "$run"/gha-artifacts/pytorch/pytorch/*/*/artifact | head -n 1)
