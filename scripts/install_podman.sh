#!/usr/bin/env bash
# Podman from scratch, idempotent: Debian's podman, runc, debootstrap and docker-compose packages, the
# project's containers.conf (runc, ulimits), and the local base image localhost/debian-base made with
# debootstrap from the Debian mirror apt already uses (no image registry is reachable here).
# Each step is skipped when already done. Output goes to stderr. Usage: bash scripts/install_podman.sh
set -euo pipefail
exec 1>&2
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$root/deploy/podman/containers.conf}"
BASE_IMAGE="${BASE_IMAGE:-localhost/debian-base}"
SUITE="${DEBIAN_SUITE:-bookworm}"

as_root() { if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# 1. Packages. docker-compose (1.29, Python) talks to podman's Docker-compatible API socket; it honours
#    depends_on conditions (service_healthy, service_completed_successfully), which podman-compose 1.0.3 ignores.
#    The CNI dnsname plugin gives compose networks name resolution (service names): without it podman 4.3 (CNI
#    backend) creates them with dns_enabled false and "could not translate host name "postgres"".
missing=()
for pair in podman:podman runc:runc debootstrap:debootstrap docker-compose:docker-compose \
    /usr/lib/cni/dnsname:golang-github-containernetworking-plugin-dnsname; do
  command -v "${pair%%:*}" >/dev/null || [[ -x "${pair%%:*}" ]] || missing+=("${pair#*:}")
done
if ((${#missing[@]})); then
  echo "install_podman: installing ${missing[*]} (Debian packages)..."
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. The base image, only when missing.
if podman image exists "$BASE_IMAGE"; then
  echo "install_podman: $BASE_IMAGE present"
  exit 0
fi
# The Debian mirror apt uses (deb822 .sources or one-line .list files; the first one serving /debian).
mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
  | grep -oE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' | head -1 | awk '{print $2}' || true)"
mirror="${mirror:-http://deb.debian.org/debian}"
work="$(mktemp -d /var/tmp/debian-base.XXXXXX)"
trap 'as_root rm -rf "$work"' EXIT
echo "install_podman: debootstrap --variant=minbase $SUITE from $mirror (about a minute)..."
started=$SECONDS
as_root debootstrap --variant=minbase "$SUITE" "$work/rootfs" "$mirror" >/dev/null
as_root rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
as_root tar -C "$work/rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
echo "install_podman: $BASE_IMAGE built in $((SECONDS - started)) s"
