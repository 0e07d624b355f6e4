#!/usr/bin/env bash
# Builds the Temporal CLI (dev server) into .tools/bin. v1.5.1 is the last tag `go install` accepts.
set -euo pipefail
bin=.tools/bin/temporal
stamp=.tools/temporal.version   # a `go install` build reports its version as 0.0.0-DEV
version=v1.5.1
if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then exit 0; fi
command -v go >/dev/null || { echo "temporal: Go is needed to build the Temporal CLI (install golang, then retry)" >&2; exit 1; }
echo "temporal: building the Temporal CLI $version with go install (a few minutes, once)"
mkdir -p .tools/bin
GOBIN="$PWD/.tools/bin" go install "github.com/temporalio/cli/cmd/temporal@$version"
echo "$version" >"$stamp"
echo "temporal: $("$bin" --version)"
