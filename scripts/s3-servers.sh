#!/usr/bin/env bash
# Installs the S3 servers the tests run against, each in its own venv under
# ${TESTSCOPE_S3_HOME:-$HOME/.cache/testscope-s3}, from hash-pinned requirements
# (scripts/s3/*-requirements.txt). The tests start and stop the servers themselves
# (tests/common/s3.rs); this script only installs them. Idempotent: a venv is rebuilt only
# when its requirements file changed.
#
# Usage: scripts/s3-servers.sh install [seaweedfs|moto|all]   (default all)
#        scripts/s3-servers.sh path seaweedfs|moto            the venv's bin folder
#        scripts/s3-servers.sh lock-moto                      re-pin moto and its deps
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
home="${TESTSCOPE_S3_HOME:-$HOME/.cache/testscope-s3}"
python="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

install_one() {
    local name="$1" req="$here/s3/$1-requirements.txt" venv="$home/$1"
    local want; want="$(sha256sum "$req" | cut -d' ' -f1)"
    if [ -f "$venv/.installed" ] && [ "$(cat "$venv/.installed")" = "$want" ]; then
        return 0
    fi
    command -v "$python" >/dev/null || { echo "s3-servers: $python not found (needed to install $name)" >&2; exit 1; }
    echo "s3-servers: installing $name into $venv" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    # Every package is pinned with its hash, wheels only: nothing unpinned or built here.
    "$venv/bin/pip" install --quiet --require-hashes --no-deps --only-binary :all: -r "$req"
    echo "$want" > "$venv/.installed"
}

locked() {
    # Test binaries and scripts/test.sh may install at the same time: one at a time.
    mkdir -p "$home"
    if command -v flock >/dev/null; then
        exec 9>"$home/.lock"
        flock 9
    fi
    "$@"
}

cmd="${1:-install}"
case "$cmd" in
    install)
        what="${2:-all}"
        case "$what" in
            seaweedfs|moto) locked install_one "$what" ;;
            all) locked install_one seaweedfs; locked install_one moto ;;
            *) echo "s3-servers: unknown server $what" >&2; exit 2 ;;
        esac
        ;;
    path)
        echo "$home/${2:?seaweedfs or moto}/bin"
        ;;
    lock-moto)
        # Resolve moto[s3] (and the Flask bits its server mode needs) afresh, then pin every
        # package with the hash of the wheel pip picks on this machine.
        tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
        "$python" -m venv "$tmp/venv"
        "$tmp/venv/bin/pip" install --quiet 'moto[s3]' flask flask-cors
        "$tmp/venv/bin/pip" freeze > "$tmp/frozen.txt"
        "$tmp/venv/bin/pip" download --quiet --no-deps -r "$tmp/frozen.txt" -d "$tmp/wheels"
        "$tmp/venv/bin/python" - "$tmp/frozen.txt" "$tmp/wheels" > "$here/s3/moto-requirements.txt" <<'PY'
import hashlib, os, re, sys
frozen, wheels = sys.argv[1], sys.argv[2]
norm = lambda s: re.sub(r"[-_.]+", "_", s).lower()
files = os.listdir(wheels)
print("# moto in server mode (S3 and the IAM calls that bootstrap its access keys), pinned with")
print("# hashes for CPython 3.11 on manylinux x86_64 (the project's machines). Regenerate with")
print("# scripts/s3-servers.sh lock-moto.")
for req in open(frozen).read().split():
    name, version = req.split("==")
    (wheel,) = [f for f in files if norm(f.split("-")[0]) == norm(name) and f.split("-")[1] == version]
    digest = hashlib.sha256(open(os.path.join(wheels, wheel), "rb").read()).hexdigest()
    extra = "[s3]" if name == "moto" else ""
    print(f"{name}{extra}=={version} \\\n    --hash=sha256:{digest}")
PY
        ;;
    *)
        echo "usage: $0 install [seaweedfs|moto|all] | path seaweedfs|moto | lock-moto" >&2
        exit 2
        ;;
esac
