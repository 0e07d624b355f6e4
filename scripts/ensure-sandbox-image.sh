#!/usr/bin/env bash
# Builds the sandbox image whose tag is the hash of its recipe (sandbox/image/), once.
set -euo pipefail
tag=$(npx --no-install tsx sandbox/image.ts)
work=${ANVIL_HOME:-.anvil}/cache/sandbox-image
mkdir -p "$work"
sandbox/image/build-offline.sh "$tag" "$work"
