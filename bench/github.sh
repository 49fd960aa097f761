#!/usr/bin/env bash
# Reading a run's GitHub Actions artifacts, beside reading its zips from disk: a stand-in of
# GitHub's artifacts API and storage host on 127.0.0.1 (bench/github_standin.py) serving the
# generated run's zips as artifacts, then `--upload --out-dir --from github --no-cache`
# directly, and behind a link of LINK_MBPS megabytes a second (bench/throttle.py; default
# 25): how long the downloads take, and how soon after the last byte the load ends.
#
#   bench/github.sh [profile] [repeats]      (default: pytorch 5)
BUILD="--bin testscope" . "$(dirname "$0")/setup.sh" "$@"
run_id=$(basename "$(dirname "$(dirname "$artifacts")")")
attempt=$(basename "$(dirname "$artifacts")")
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
tport=$((port + 1))
link="${LINK_MBPS:-25}"
python3 bench/github_standin.py "$port" "$artifacts" pytorch/pytorch "$run_id" > "$work/api.log" 2>&1 &
api=$!
python3 bench/throttle.py "$tport" "$port" "$link" > "$work/throttle.log" 2>&1 &
throttle=$!
trap 'kill "$api" "$throttle" 2>/dev/null; rm -rf "$work"' EXIT
until grep -q ready "$work/api.log" 2>/dev/null && grep -q ready "$work/throttle.log" 2>/dev/null; do
  sleep 0.1
done

flags=(--upload --workflow-run-id "$run_id" --workflow-run-attempt "$attempt" --head-branch main
  --head-repository pytorch/pytorch --job-names "$run/job-names.json" --out-dir "$out/up-gh")
export GITHUB_TOKEN=bench-token
best() { python3 -c "import sys; print(min(float(x) for x in sys.argv[1:]))" "$@"; }
local_ts=(); gh_ts=(); link_t=999; link_fetch=0
for _ in $(seq "$repeats"); do
  rm -rf "$out/up-gh"
  /usr/bin/time -o "$out/t" -f '%e' "$bin/testscope" "${flags[@]}" --reports "$run" >/dev/null 2>&1
  local_ts+=("$(cat "$out/t")")
  rm -rf "$out/up-gh"
  /usr/bin/time -o "$out/t" -f '%e' "$bin/testscope" "${flags[@]}" --from github --no-cache \
      --github-api-url "http://127.0.0.1:$port" >/dev/null 2>&1
  gh_ts+=("$(cat "$out/t")")
  rm -rf "$out/up-gh"
  /usr/bin/time -o "$out/t" -f '%e' "$bin/testscope" "${flags[@]}" --from github --no-cache \
      --github-api-url "http://127.0.0.1:$tport" >/dev/null 2>"$out/err"
  s=$(cat "$out/t")
  fetched=$(sed -n 's/^fetched .* in \([0-9.]*\)s$/\1/p' "$out/err")
  if python3 -c "import sys; sys.exit(0 if $s < $link_t else 1)"; then
    link_t=$s; link_fetch=$fetched
  fi
done
local_t=$(best "${local_ts[@]}"); gh_t=$(best "${gh_ts[@]}")
echo "profile $profile, $repeats runs, $(nproc) cores, a GitHub stand-in on 127.0.0.1"
printf '%-52s %8.2f\n' "--upload --out-dir, zips on disk" "$local_t"
printf '%-52s %8.2f\n' "--upload --out-dir --from github (no cache)" "$gh_t"
python3 -c "print(f'ratio to the zips on disk: {$gh_t / $local_t:.2f}x')"
printf '%-52s %8.2f\n' "--from github through a $link MB/s link" "$link_t"
printf '%-52s %8.2f\n' "  of which until the last archive was in" "$link_fetch"
python3 -c "print(f'the load ended {$link_t - $link_fetch:.2f} s after the last byte; one after the other would take about {$link_fetch + $local_t:.2f} s')"
