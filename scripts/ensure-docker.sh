#!/usr/bin/env bash
# Makes sure a Docker engine answers: installs Debian's docker.io and starts dockerd when needed.
set -euo pipefail
log=${ANVIL_HOME:-.anvil}/dockerd.log
if docker info >/dev/null 2>&1; then exit 0; fi
if ! command -v dockerd >/dev/null; then
  echo "docker: no engine here; installing Debian's docker.io (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  echo "docker: starting dockerd in the background (log: $log)"
  mkdir -p "$(dirname "$log")"
  setsid dockerd >"$log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi
docker info >/dev/null 2>&1 || { echo "docker: dockerd did not answer within 60 s; see $log" >&2; tail -20 "$log" >&2; exit 1; }
echo "docker: engine $(docker info --format '{{.ServerVersion}}') ready"
