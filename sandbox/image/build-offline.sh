#!/usr/bin/env bash
# Builds the sandbox image without a registry: a Debian rootfs from debootstrap, imported with
# `docker import`. Usage: build-offline.sh IMAGE_TAG WORKDIR. Idempotent: an existing tag is kept.
set -euo pipefail
tag=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
if docker image inspect "$tag" >/dev/null 2>&1; then echo "sandbox image $tag: present"; exit 0; fi
command -v debootstrap >/dev/null || {
  echo "installing debootstrap (apt-get)"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
pkgs=$(grep -vE '^\s*(#|$)' "$here/packages.txt" | paste -sd, -)
rootfs="$work/rootfs"
rm -rf "$rootfs"; mkdir -p "$rootfs"
echo "sandbox image $tag: debootstrap bookworm with $pkgs (a minute or two)"
debootstrap --variant=minbase --include="$pkgs" bookworm "$rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
  || { echo "debootstrap failed; see $work/debootstrap.log" >&2; tail -20 "$work/debootstrap.log" >&2; exit 1; }
# The unprivileged user every sandboxed process runs as (see sandbox/docker.ts).
echo 'sandbox:x:10001:10001:anvil sandbox:/workspace:/usr/sbin/nologin' >>"$rootfs/etc/passwd"
echo 'sandbox:x:10001:' >>"$rootfs/etc/group"
mkdir -p "$rootfs/workspace" "$rootfs/data" "$rootfs/code"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | docker import \
  --change 'USER 10001:10001' --change 'WORKDIR /workspace' \
  --change 'ENV HOME=/workspace PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 MPLCONFIGDIR=/tmp' \
  --change 'CMD ["python3"]' - "$tag" >/dev/null
rm -rf "$rootfs"
echo "sandbox image $tag: built"
