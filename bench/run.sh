#!/usr/bin/env bash
# End-to-end speed and memory of headless --upload on a generated run, beside the floor:
# a bare quick-xml tokenization pass over the same zips (examples/floor.rs), in the same run.
#
#   bench/run.sh [profile] [repeats]      (default: pytorch 5)
#   REFERENCE=path/to/runner.py bench/run.sh small   also time the Python reference runner
#                                   (PyTorch's functions) and compare its objects byte for byte
#
# Reports the minimum wall time of the repeats (the machine is shared; the minimum is the
# least disturbed run) and the largest peak RSS.
BUILD="--bin testscope --example floor" . "$(dirname "$0")/setup.sh" "$@"
run_id=$(basename "$(dirname "$(dirname "$artifacts")")")
attempt=$(basename "$(dirname "$artifacts")")

# time_of OUT CMD...: run CMD quietly; OUT gets "seconds max_rss_kb" from /usr/bin/time.
time_of() {
  local out="$1"; shift
  /usr/bin/time -o "$out" -f '%e %M' "$@" >/dev/null 2>&1
}

min_floor=999999; min_up=999999; rss_up=0; rss_floor=0
for _ in $(seq "$repeats"); do
  time_of "$out/t" "$bin/examples/floor" "$artifacts"
  read -r s m < "$out/t"
  min_floor=$(python3 -c "print(min($min_floor, $s))"); rss_floor=$(( m > rss_floor ? m : rss_floor ))
  rm -rf "$out/up-$profile"
  time_of "$out/t" "$bin/testscope" --upload --workflow-run-id "$run_id" \
      --workflow-run-attempt "$attempt" --head-branch main --head-repository pytorch/pytorch \
      --job-names "$run/job-names.json" --reports "$run" --out-dir "$out/up-$profile"
  read -r s m < "$out/t"
  min_up=$(python3 -c "print(min($min_up, $s))"); rss_up=$(( m > rss_up ? m : rss_up ))
done
cases=$("$bin/testscope" "$run" --json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['cases'])")
echo "profile $profile ($cases cases), $repeats runs, $(nproc) cores"
printf '%-44s %8s %10s\n' "what" "seconds" "peak RSS"
printf '%-44s %8.2f %7d MB\n' "floor: inflate + quick-xml tokenize" "$min_floor" $((rss_floor / 1024))
printf '%-44s %8.2f %7d MB\n' "testscope --upload --out-dir (all 7 objects)" "$min_up" $((rss_up / 1024))
python3 -c "print(f'ratio to floor: {$min_up / $min_floor:.1f}x')"

if [ -n "${REFERENCE:-}" ]; then
  ref="$REFERENCE"
  [ -f "$ref" ] || { echo "REFERENCE: no file $ref" >&2; exit 1; }
  rm -rf "$out/ref-$profile"
  time_of "$out/t" python3 "$ref" --bucket-dir "$run" --run-id "$run_id" \
      --attempt "$attempt" --head-branch main --head-repository pytorch/pytorch \
      --job-names "$run/job-names.json" --out-dir "$out/ref-$profile"
  read -r s m < "$out/t"
  printf '%-44s %8.2f %7d MB (parent only)\n' "Python reference (PyTorch's functions)" "$s" $((m / 1024))
  for c in test_run_summary failed_test_runs test_run additional_info/reruns \
      additional_info/td_exclusions additional_info/invoking_file_summary additional_info/test_status; do
    f="ossci-raw-job-status/$c/$run_id/$attempt"
    if cmp -s <(zcat "$out/ref-$profile/$f") <(zcat "$out/up-$profile/$f"); then echo "identical: $c"; else echo "DIFFERENT: $c"; fi
  done
fi
