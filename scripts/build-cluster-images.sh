#!/usr/bin/env bash
# Builds the images of docker-compose.offline.yml without a registry, from Debian packages and Go
# modules only: a debootstrap base (deploy/offline/packages.txt, `docker import`), then PostgreSQL 15,
# the Temporal server and its admin tools (go.temporal.io/server v1.29.1), the Temporal Web UI
# (github.com/temporalio/ui-server/v2, its assets embedded) and Anvil's own image (this checkout,
# the host's node binary). Idempotent: each image carries the hash of its recipe as a label and is
# rebuilt only when that changes. Go builds take minutes on 2 cores, once (cached under .tools/cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
TEMPORAL_VERSION=1.29.1 UI_VERSION=2.42.1
work=$PWD/.tools/cluster
mkdir -p "$work"
export DOCKER_BUILDKIT=0 # the classic builder uses local images as FROM without asking a registry

hash_of() { sha256sum | cut -c1-12; }
present_with() { [ "$(docker image inspect -f '{{index .Config.Labels "anvil.recipe"}}' "$1" 2>/dev/null)" = "$2" ]; }

# 1. The shared base: Debian bookworm minbase with PostgreSQL 15 and the tools the healthchecks use.
base=anvil-offline/base:$(grep -vE '^\s*(#|$)' deploy/offline/packages.txt | hash_of)
if ! docker image inspect "$base" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || {
    echo "installing debootstrap (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  pkgs=$(grep -vE '^\s*(#|$)' deploy/offline/packages.txt | paste -sd, -)
  rootfs=$work/rootfs
  rm -rf "$rootfs" && mkdir -p "$rootfs"
  echo "cluster images: debootstrap bookworm with $pkgs (a minute or two)"
  debootstrap --variant=minbase --include="$pkgs" bookworm "$rootfs" http://deb.debian.org/debian \
    >"$work/debootstrap.log" 2>&1 || {
    echo "debootstrap failed; see $work/debootstrap.log" >&2
    tail -20 "$work/debootstrap.log" >&2
    exit 1
  }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/lib/postgresql/15/main
  tar -C "$rootfs" -c . | docker import --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' - "$base" >/dev/null
  rm -rf "$rootfs"
  echo "cluster images: $base built"
fi

# 2. Go binaries from the module proxy (GOFLAGS=-mod=mod: the modules' own go.mod, no workspace).
gobuild() { # GOBIN PACKAGE...
  local bin=$1
  shift
  command -v go >/dev/null || { echo "cluster images: Go is needed to build $* (install golang)" >&2; exit 1; }
  echo "cluster images: go install $* (minutes, once)"
  GOBIN=$bin GOFLAGS=-mod=mod go install "$@"
}
[ -x "$work/bin/server" ] && [ -x "$work/bin/sql" ] || gobuild "$work/bin" \
  "go.temporal.io/server/cmd/server@v$TEMPORAL_VERSION" "go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_VERSION"
[ -x "$work/ui-bin/server" ] || gobuild "$work/ui-bin" "github.com/temporalio/ui-server/v2/cmd/server@v$UI_VERSION"
[ -x .tools/bin/temporal ] || scripts/ensure-temporal.sh
modroot() { GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' "$1@$2" 2>/dev/null || echo "$(go env GOMODCACHE)/$1@$2"; }
server_mod=$(modroot go.temporal.io/server "v$TEMPORAL_VERSION")
ui_mod=$(modroot github.com/temporalio/ui-server/v2 "v$UI_VERSION")

# 3. One image per service: a build context staged under .tools/cluster/ctx/NAME, its hash the label.
build() { # NAME TAG: builds deploy/offline/NAME.Dockerfile from the staged context
  local name=$1 tag=$2 ctx=$work/ctx/$1 sum
  cp "deploy/offline/$name.Dockerfile" "$ctx/Dockerfile"
  sum=$( (echo "$base" && cd "$ctx" && find . -type f ! -path './app/*' -print0 | sort -z | xargs -0 sha256sum &&
    { cat "$work/ctx/$name.app-hash" 2>/dev/null || true; }) | hash_of)
  if present_with "$tag" "$sum"; then echo "cluster images: $tag present"; return; fi
  echo "cluster images: building $tag"
  docker build -q --build-arg "BASE=$base" --label "anvil.recipe=$sum" -t "$tag" "$ctx" >"$work/build-$name.log" 2>&1 ||
    { echo "cluster images: building $tag failed; see $work/build-$name.log" >&2 && tail -20 "$work/build-$name.log" >&2 && exit 1; }
  echo "cluster images: $tag built"
}
stage() { rm -rf "$work/ctx/$1" && mkdir -p "$work/ctx/$1" && echo "$work/ctx/$1"; }

ctx=$(stage postgresql)
cp deploy/offline/postgresql-entrypoint.sh "$ctx/"
build postgresql anvil-offline/postgresql:15

ctx=$(stage temporal-server)
cp "$work/bin/server" deploy/offline/temporal-entrypoint.sh "$ctx/"
cp "$server_mod/config/docker.yaml" "$ctx/"
build temporal-server "anvil-offline/temporal-server:$TEMPORAL_VERSION"

ctx=$(stage temporal-admin-tools)
cp "$work/bin/sql" .tools/bin/temporal "$ctx/"
mkdir -p "$ctx/schema" && cp -r "$server_mod/schema/postgresql" "$ctx/schema/"
chmod -R u+w "$ctx/schema"
build temporal-admin-tools "anvil-offline/temporal-admin-tools:$TEMPORAL_VERSION"

ctx=$(stage temporal-ui)
cp "$work/ui-bin/server" "$ctx/ui-server"
cp "$ui_mod/config/docker.yaml" "$ctx/"
build temporal-ui "anvil-offline/temporal-ui:$UI_VERSION"

# Anvil: the files ./Dockerfile's context would hold (git's view, less .dockerignore's tests/bench/...),
# production dependencies installed once per package-lock.json, the host's node.
ctx=$(stage anvil)
cp "$(command -v node)" "$ctx/node"
git ls-files -co --exclude-standard -z | grep -zvE '^(\.ci|tests|bench|deploy|\.dockerignore|Dockerfile|docker-compose)' |
  while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done | tar --null -T - -c | tar -C "$ctx" --one-top-level=app -x
lock=$(hash_of <package-lock.json)
modules=$work/prod-modules/$lock
if [ ! -d "$modules/node_modules" ]; then
  echo "cluster images: npm ci --omit=dev for the Anvil image (once per package-lock.json)"
  rm -rf "$work/prod-modules" && mkdir -p "$modules" && cp package.json package-lock.json "$modules/"
  (cd "$modules" && npm ci --omit=dev --prefer-offline --no-audit --no-fund --loglevel=error --ignore-scripts)
fi
cp -al "$modules/node_modules" "$ctx/app/node_modules"
(cd "$ctx/app" && find . -path ./node_modules -prune -o -type f -print0 | sort -z | xargs -0 sha256sum | hash_of) \
  >"$work/ctx/anvil.app-hash"
build anvil anvil-offline/anvil:latest
rm -rf "$work/ctx/anvil/app"

echo "cluster images: ready; start the cluster with"
echo "  docker-compose -f docker-compose.yml -f docker-compose.offline.yml up -d"
