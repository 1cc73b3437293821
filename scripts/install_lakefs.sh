#!/usr/bin/env bash
# Build the pinned lakeFS server (and lakectl) from the Go module proxy, once per machine.
# The binaries are cached outside the repository, keyed by version.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/versions.sh
source "$here/versions.sh"

cache_dir="${LAKEFS_CACHE_DIR:-$HOME/.cache/mlops-airflow/lakefs-$LAKEFS_VERSION}"
if [[ -x "$cache_dir/lakefs" && -x "$cache_dir/lakectl" ]]; then
  echo "$cache_dir"
  exit 0
fi
command -v go >/dev/null || { echo "install_lakefs: Go is required to build lakeFS (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$cache_dir"
echo "install_lakefs: building lakeFS $LAKEFS_VERSION from the Go module proxy (3-4 min cold)..." >&2
module_dir="$(GOFLAGS=-mod=mod go mod download -json "github.com/treeverse/lakefs@$LAKEFS_VERSION" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
ldflags="-X github.com/treeverse/lakefs/pkg/version.Version=$LAKEFS_VERSION"
(cd "$module_dir" && go build -ldflags "$ldflags" -o "$cache_dir/lakefs.tmp" ./cmd/lakefs \
  && go build -ldflags "$ldflags" -o "$cache_dir/lakectl.tmp" ./cmd/lakectl) >&2
mv "$cache_dir/lakefs.tmp" "$cache_dir/lakefs"
mv "$cache_dir/lakectl.tmp" "$cache_dir/lakectl"
echo "$cache_dir"
