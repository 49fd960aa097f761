#!/usr/bin/env bash
# Reading a run from S3 and from the download cache, beside reading its zips from disk: a
# SeaweedFS server on 127.0.0.1 (the test servers' install, scripts/s3-servers.sh) holding
# the generated run, then `--upload --out-dir` from the bucket (no cache), the same with an
# empty cache and again from the full one, and from the zips on disk. Then the bucket
# behind a link of LINK_MBPS megabytes a second (bench/throttle.py; default 25): how long
# the downloads take, and how soon after the last byte the load ends (the zips are parsed
# while the rest downloads).
#
#   bench/s3.sh [profile] [repeats]      (default: pytorch 5)
BUILD="--bin testscope" . "$(dirname "$0")/setup.sh" "$@"
scripts/s3-servers.sh install seaweedfs >&2
weed="$HOME/.cache/testscope-s3/seaweedfs/bin/weed"
py="$HOME/.cache/testscope-s3/moto/bin/python"   # boto3 comes with moto's install
run_id=$(basename "$(dirname "$(dirname "$artifacts")")")
attempt=$(basename "$(dirname "$artifacts")")
work=$(mktemp -d)
tpid=
trap 'kill "$pid" $tpid 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
base=$((20000 + RANDOM % 20000))
cat > "$work/s3.json" <<JSON
{"identities": [{"name": "bench", "credentials": [{"accessKey": "bench", "secretKey": "benchsecret"}],
  "actions": ["Admin", "Read", "List", "Write"]}]}
JSON
mkdir -p "$work/data" "$work/tmp"
TMPDIR="$work/tmp" "$weed" mini -dir="$work/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
  -master.telemetry=false -s3.autoCreateBucket=false -s3.config="$work/s3.json" \
  -webdav=false -admin.ui=false -s3.port.iceberg=0 -s3.port.lance=0 \
  -s3.port=$base -s3.port.grpc=$((base + 1)) -master.port=$((base + 2)) \
  -master.port.grpc=$((base + 3)) -volume.port=$((base + 4)) -volume.port.grpc=$((base + 5)) \
  -filer.port=$((base + 6)) -filer.port.grpc=$((base + 7)) -admin.port=$((base + 8)) \
  -s3.localSocket="$work/s3.sock" -filer.localSocket="$work/filer.sock" \
  > "$work/weed.log" 2>&1 &
pid=$!
endpoint="http://127.0.0.1:$base"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=benchsecret AWS_REGION=us-east-1
"$py" - "$endpoint" "$run/gha-artifacts" <<'PY'
import os, sys, time, boto3
endpoint, root = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=endpoint)
for _ in range(300):
    try:
        s3.list_buckets(); break
    except Exception:
        time.sleep(0.2)
for b in ("gha-artifacts", "ossci-raw-job-status"):
    s3.create_bucket(Bucket=b)
for dirpath, _, files in os.walk(root):
    for f in files:
        path = os.path.join(dirpath, f)
        s3.upload_file(path, "gha-artifacts", os.path.relpath(path, root))
PY

time_of() {
  local out="$1"; shift
  /usr/bin/time -o "$out" -f '%e %M' "$@" >/dev/null 2>&1
}
flags=(--upload --workflow-run-id "$run_id" --workflow-run-attempt "$attempt" --head-branch main
  --head-repository pytorch/pytorch --job-names "$run/job-names.json")
local_t=999; s3_t=999; cached_t=999
for _ in $(seq "$repeats"); do
  rm -rf "$out/up-s3"
  time_of "$out/t" "$bin/testscope" "${flags[@]}" --reports "$run" --out-dir "$out/up-s3"
  read -r s _ < "$out/t"; local_t=$(python3 -c "print(min($local_t, $s))")
  rm -rf "$out/up-s3"
  time_of "$out/t" "$bin/testscope" "${flags[@]}" --no-cache --s3-endpoint "$endpoint" \
      --s3-path-style --out-dir "$out/up-s3"
  read -r s _ < "$out/t"; s3_t=$(python3 -c "print(min($s3_t, $s))")
  rm -rf "$out/up-s3" "$work/cache"
  "$bin/testscope" "${flags[@]}" --cache-dir "$work/cache" --s3-endpoint "$endpoint" \
      --s3-path-style --out-dir "$out/up-s3" >/dev/null 2>&1
  rm -rf "$out/up-s3"
  time_of "$out/t" "$bin/testscope" "${flags[@]}" --cache-dir "$work/cache" \
      --s3-endpoint "$endpoint" --s3-path-style --out-dir "$out/up-s3"
  read -r s _ < "$out/t"; cached_t=$(python3 -c "print(min($cached_t, $s))")
done
link="${LINK_MBPS:-25}"
tport=$((base + 9))
python3 bench/throttle.py "$tport" "$base" "$link" > "$work/throttle.log" 2>&1 &
tpid=$!
until grep -q ready "$work/throttle.log" 2>/dev/null; do sleep 0.1; done
link_t=999; link_fetch=0
for _ in $(seq "$repeats"); do
  rm -rf "$out/up-s3"
  /usr/bin/time -o "$out/t" -f '%e %M' "$bin/testscope" "${flags[@]}" --no-cache \
      --s3-endpoint "http://127.0.0.1:$tport" --s3-path-style --out-dir "$out/up-s3" \
      >/dev/null 2>"$out/err"
  read -r s _ < "$out/t"
  fetched=$(sed -n 's/^fetched .* in \([0-9.]*\)s$/\1/p' "$out/err")
  if python3 -c "import sys; sys.exit(0 if $s < $link_t else 1)"; then
    link_t=$s; link_fetch=$fetched
  fi
done
echo "profile $profile, $repeats runs, $(nproc) cores, SeaweedFS on 127.0.0.1"
printf '%-52s %8.2f\n' "--upload --out-dir, zips on disk" "$local_t"
printf '%-52s %8.2f\n' "--upload --out-dir, from S3 (no cache)" "$s3_t"
printf '%-52s %8.2f\n' "--upload --out-dir, from S3, the download cache full" "$cached_t"
python3 -c "print(f'ratios to the zips on disk: S3 {$s3_t / $local_t:.2f}x, from the cache {$cached_t / $local_t:.2f}x')"
printf '%-52s %8.2f\n' "from S3 through a $link MB/s link" "$link_t"
printf '%-52s %8.2f\n' "  of which until the last archive was in" "$link_fetch"
python3 -c "print(f'the load ended {$link_t - $link_fetch:.2f} s after the last byte; one after the other would take about {$link_fetch + $local_t:.2f} s')"
