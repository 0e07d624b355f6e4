#!/usr/bin/env bash
# A local S3-compatible server for the S3 artifact store's test: moto's server (PyPI, Apache-2.0) in a venv under
# .tools/s3 (offline after the first run). MinIO would need its Go source built from the module proxy (minutes on
# 2 cores, AGPL); moto's server answers the S3 calls the store makes (put, get, list, delete).
set -euo pipefail
dir=.tools/s3
version=5.2.1
stamp="$dir/moto.version"
if [ ! -x "$dir/venv/bin/moto_server" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$version" ]; then
  command -v python3 >/dev/null || { echo "s3-server: python3 (with venv) is needed" >&2; exit 1; }
  echo "s3-server: installing moto[server] $version into $dir/venv (once)"
  rm -rf "$dir/venv"
  mkdir -p "$dir"
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet "moto[server]==$version"
  echo "$version" >"$stamp"
fi
