#!/usr/bin/env bash
# Install everything the local stack and the tests need, on a fresh Debian/Ubuntu machine:
# Debian's PostgreSQL server, the project virtualenv (.venv, from requirements.lock) and the
# pinned lakeFS build. Each step is skipped when already done. Output goes to stderr.
set -euo pipefail
exec 1>&2
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/versions.sh
source "$root/scripts/versions.sh"

as_root() { if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# 0. The toolchains the project builds with: Python 3.11 (requirements.lock is resolved for it)
#    and Go >= 1.24 (to build lakeFS once).
python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || {
  echo "setup: Python 3.11 is required as python3 (found $(python3 --version 2>&1)); see README, Prerequisites"
  exit 1
}
python3 -c 'import ensurepip, venv' 2>/dev/null || {
  echo "setup: installing python3-venv (Debian package)..."
  as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3-venv >/dev/null
}
if ! command -v go >/dev/null && [[ ! -f "${LAKEFS_CACHE_DIR:-$HOME/.cache/mlops-airflow/lakefs-$LAKEFS_VERSION}/.with-webui" ]]; then
  echo "setup: Go >= 1.24 and npm are required once, to build lakeFS $LAKEFS_VERSION and its web UI"
  exit 1
fi

# 1. PostgreSQL server binaries (the cluster itself is created by scripts/stack.py).
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  echo "setup: installing PostgreSQL (Debian package)..."
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
fi

# 1b. nginx, the serving slots' reverse proxy. Debian's package would start a server on port 80 on
#     machines with an init system: a policy-rc.d forbids that during the install (the stack runs its own).
if ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
  echo "setup: installing nginx (Debian package nginx-light)..."
  as_root apt-get update -qq
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' | as_root tee $policy >/dev/null; as_root chmod +x $policy; created_policy=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nginx-light >/dev/null
  if [[ $created_policy == 1 ]]; then as_root rm -f $policy; fi
fi

# 1c. Chromium, the browser of the ui test tier (Playwright drives /usr/bin/chromium: Playwright's own
#     browser download cannot work on machines without network access to its CDN).
if ! command -v chromium >/dev/null && [[ ! -x /usr/bin/chromium ]]; then
  echo "setup: installing Chromium (Debian package, for the ui test tier)..."
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
fi

# 2. The virtualenv, synced exactly to requirements.lock (re-synced when the lock changes).
stamp="$root/.venv/.lock-sha256"
lock_sha="$(sha256sum "$root/requirements.lock" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_sha" ]]; then
  echo "setup: creating .venv from requirements.lock..."
  [[ -x "$root/.venv/bin/python" ]] || python3 -m venv "$root/.venv"
  "$root/.venv/bin/python" -m pip install -q "uv==$UV_VERSION"
  "$root/.venv/bin/uv" pip sync -q --python "$root/.venv/bin/python" "$root/requirements.lock"
  echo "$lock_sha" > "$stamp"
fi
# Bytecode for every installed module, once per lock: uv installs none, and where PYTHONDONTWRITEBYTECODE is
# set (CI machines, this sandbox) every process would compile Airflow, pandas, MLflow... from source again
# (importing them took 44-69 s instead of 6-7 s at load average 7).
if [[ ! -f "$root/.venv/.bytecode-sha256" || "$(cat "$root/.venv/.bytecode-sha256")" != "$lock_sha" ]]; then
  echo "setup: compiling the virtualenv's bytecode (once per requirements.lock)..."
  "$root/.venv/bin/python" -m compileall -q -j 0 "$("$root/.venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null || true
  echo "$lock_sha" > "$root/.venv/.bytecode-sha256"
fi
# The project itself, editable and without dependencies, so Airflow finds its provider metadata
# (the lakefs and mlflow connection types); a sync above removes it, so check every time.
if ! "$root/.venv/bin/python" -c 'import importlib.metadata as m; m.distribution("mlops-airflow")' 2>/dev/null; then
  "$root/.venv/bin/uv" pip install -q --python "$root/.venv/bin/python" --no-deps -e "$root"
fi

# 3. lakeFS server and lakectl, built once per machine from the Go module proxy.
bash "$root/scripts/install_lakefs.sh" >/dev/null
