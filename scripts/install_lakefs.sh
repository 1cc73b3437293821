#!/usr/bin/env bash
# Build the pinned lakeFS server (with its web UI) and lakectl from the Go module proxy, once per
# machine. The module ships no compiled UI, so it is built from the module's webui/ sources with
# npm first (packages from the npm registry; no browser download: install scripts are skipped).
# The binaries are cached outside the repository, keyed by version. Two set-ups running at once
# take turns on a lock in the cache folder: the second one finds the binaries the first built.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/versions.sh
source "$here/versions.sh"

cache_dir="${LAKEFS_CACHE_DIR:-$HOME/.cache/mlops-airflow/lakefs-$LAKEFS_VERSION}"
built() { [[ -x "$cache_dir/lakefs" && -x "$cache_dir/lakectl" && -f "$cache_dir/.with-webui" ]]; }
if built; then
  echo "$cache_dir"
  exit 0
fi
mkdir -p "$cache_dir"
exec 9>"$cache_dir/.install.lock"
if ! flock -n 9; then
  echo "install_lakefs: another set-up is building lakeFS $LAKEFS_VERSION, waiting for it..." >&2
  flock 9
fi
if built; then  # built by the set-up we waited for
  echo "$cache_dir"
  exit 0
fi
for tool in go npm; do
  command -v "$tool" >/dev/null || { echo "install_lakefs: $tool is required to build lakeFS $LAKEFS_VERSION" >&2; exit 1; }
done
echo "install_lakefs: building lakeFS $LAKEFS_VERSION with its web UI (about 5 min cold)..." >&2
module_dir="$(GOFLAGS=-mod=mod go mod download -json "github.com/treeverse/lakefs@$LAKEFS_VERSION" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
build_dir="$(mktemp -d)"
trap 'rm -rf "$build_dir"' EXIT
cp -r "$module_dir/." "$build_dir/"   # the module cache is read-only; the UI build writes webui/dist
chmod -R u+w "$build_dir"
(cd "$build_dir/webui" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error && npm run build --silent) >&2
ldflags="-X github.com/treeverse/lakefs/pkg/version.Version=$LAKEFS_VERSION"
(cd "$build_dir" && go build -ldflags "$ldflags" -o "$cache_dir/lakefs.tmp" ./cmd/lakefs \
  && go build -ldflags "$ldflags" -o "$cache_dir/lakectl.tmp" ./cmd/lakectl) >&2
mv "$cache_dir/lakefs.tmp" "$cache_dir/lakefs"
mv "$cache_dir/lakectl.tmp" "$cache_dir/lakectl"
touch "$cache_dir/.with-webui"
echo "$cache_dir"
