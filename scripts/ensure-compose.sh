#!/usr/bin/env bash
# Makes sure `docker-compose` is on PATH (Debian's docker-compose package, v1.29 on bookworm):
# tests/compose.int.test.ts validates docker-compose.yml with it. Quiet when it is already there.
set -euo pipefail
if command -v docker-compose >/dev/null 2>&1; then exit 0; fi
echo "compose: no docker-compose here; installing Debian's docker-compose (apt-get)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq docker-compose >/dev/null
command -v docker-compose >/dev/null 2>&1 || { echo "compose: docker-compose is still missing after apt-get" >&2; exit 1; }
echo "compose: $(docker-compose version --short 2>/dev/null || docker-compose --version)"
