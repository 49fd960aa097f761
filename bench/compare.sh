#!/usr/bin/env bash
# A run against its base, end to end, beside the floor of reading both: `--json --base` (the
# comparison, clusters and failed cases of two generated runs) and the terminal UI's load
# with a base (examples/tui_load.rs with --base: both runs in, then triage), against
# examples/floor.rs over both runs' zips (inflate + tokenize, nothing else).
#
#   bench/compare.sh [profile] [repeats]      (default: pytorch 5)
#
# The base is `testscope-gen --base-of` the head: the same tests with known differences
# (bench/out/<profile>-base). Minimum wall time of the repeats, largest peak RSS.
BUILD="--bin testscope --example floor --example tui_load" . "$(dirname "$0")/setup.sh" "$@"
head_id=$(basename "$(dirname "$(dirname "$artifacts")")")
base="$out/$profile-base"
if [ ! -d "$base/gha-artifacts" ]; then
  "$bin/testscope-gen" --profile "$profile" --out "$base" --run-id $((head_id - 1)) \
      --base-of "$head_id" >&2
fi
base_artifacts=$(ls -d "$base"/gha-artifacts/pytorch/pytorch/*/*/artifact | head -n 1)

time_of() {
  local out="$1"; shift
  /usr/bin/time -o "$out" -f '%e %M' "$@" >/dev/null 2>&1
}
min() { python3 -c "print(min($1, $2))"; }

floor=999999; json=999999; tui=999999; rss_json=0; rss_tui=0
for _ in $(seq "$repeats"); do
  time_of "$out/t" "$bin/examples/floor" "$artifacts"; read -r a _ < "$out/t"
  time_of "$out/t" "$bin/examples/floor" "$base_artifacts"; read -r b _ < "$out/t"
  floor=$(min "$floor" "$(python3 -c "print($a + $b)")")
  time_of "$out/t" "$bin/testscope" "$run" --base "$base" --json --job-names "$run/job-names.json"
  read -r s m < "$out/t"; json=$(min "$json" "$s"); rss_json=$(( m > rss_json ? m : rss_json ))
  time_of "$out/t" "$bin/examples/tui_load" "$run" --base "$base" --job-names "$run/job-names.json"
  read -r s m < "$out/t"; tui=$(min "$tui" "$s"); rss_tui=$(( m > rss_tui ? m : rss_tui ))
done
echo "profile $profile against its base, $repeats runs, $(nproc) cores"
printf '%-48s %8s %10s\n' "what" "seconds" "peak RSS"
printf '%-48s %8.2f\n' "floor: inflate + tokenize both runs" "$floor"
printf '%-48s %8.2f %7d MB\n' "testscope --base --json (compare, clusters)" "$json" $((rss_json / 1024))
printf '%-48s %8.2f %7d MB\n' "terminal UI with --base until triaged" "$tui" $((rss_tui / 1024))
python3 -c "print(f'ratios to the floor: --json {$json / $floor:.1f}x, terminal UI {$tui / $floor:.1f}x')"
