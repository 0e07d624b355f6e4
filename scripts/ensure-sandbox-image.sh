#!/usr/bin/env bash
# Builds the sandbox image of a profile (default python-ml; python-torch…) whose tag is the hash
# of its recipe (sandbox/image/, and the profile's sandbox/image/profiles/<profile>.txt), once.
# Usage: ensure-sandbox-image.sh [PROFILE]
set -euo pipefail
profile=${1:-python-ml}
read -r tag extra < <(npx --no-install tsx sandbox/image.ts "$profile")
work=${ANVIL_HOME:-.anvil}/cache/sandbox-image-$profile
mkdir -p "$work"
if [ -z "${extra:-}" ]; then exec sandbox/image/build-offline.sh "$tag" "$work"; fi
# A profile: the same recipe with the profile's packages appended to packages.txt.
recipe="$work/recipe"
rm -rf "$recipe" && cp -r sandbox/image "$recipe"
cat "$extra" >>"$recipe/packages.txt"
"$recipe/build-offline.sh" "$tag" "$work"
