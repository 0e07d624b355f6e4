#!/usr/bin/env bash
# Builds a catalog for `anvil fidelity` from real data only: forged tasks (example datasets), the two
# imported human-made competitions of tests/fixtures/imports, three hand-written seed packages of
# tests/fixtures/packages and Synth micro tasks grown from them. Usage:
#   ANVIL_HOME=/tmp/fidelity scripts/fidelity-corpus.sh && ANVIL_HOME=/tmp/fidelity bin/anvil.js fidelity --plot f.svg
# Each step starts the home's dev server on ANVIL_DEV_SERVER_PORT (7233 unless set): on a shared host
# pick a free one.
set -euo pipefail
cd "$(dirname "$0")/.."
anvil() { node bin/anvil.js "$@"; }
: "${ANVIL_HOME:?set ANVIL_HOME to the folder whose catalog to fill}"
catalog="$ANVIL_HOME/catalog"
mkdir -p "$catalog" "$ANVIL_HOME/seeds"

# an example name, or vega:FILE for a file of the npm package vega-datasets (most examples give one task)
vega=$(node -e 'const p = require("path");
  console.log(p.join(p.dirname(require.resolve("vega-datasets")), "..", "data"))')
datasets="penguins iris boston-housing cars seattle-weather vega:gapminder.json vega:movies.json"
for dataset in ${FORGE_DATASETS-$datasets}; do
  case "$dataset" in vega:*) source="$vega/${dataset#vega:}" ;; *) source="example:$dataset" ;; esac
  anvil forge "$source" --max-tasks "${FORGE_MAX_TASKS:-2}" --json >"$ANVIL_HOME/forge-${dataset#vega:}.json" || true
done
fixtures=tests/fixtures/imports
anvil import mle-bench "$fixtures/mle-bench/mlebench/competitions/palmer-penguins" \
  --raw "$fixtures/mle-bench/data/palmer-penguins/raw" --json >"$ANVIL_HOME/import-mle-bench.json" || true
anvil import mle-dojo "$fixtures/mle-dojo/mledojo/competitions/car-fuel-efficiency" \
  --raw "$fixtures/mle-dojo/data/prepared/car-fuel-efficiency/raw" --json >"$ANVIL_HOME/import-mle-dojo.json" || true
# Seeds keep their fixture's files under a "seed-" id, so a forged task of the same name stays apart.
for fixture in ${SEEDS:-iris-species penguins-sex boston-medv}; do
  seed="seed-$fixture"
  rm -rf "${ANVIL_HOME:?}/seeds/$seed" && cp -r "tests/fixtures/packages/$fixture" "$ANVIL_HOME/seeds/$seed"
  node -e 'const f = process.argv[1], m = JSON.parse(require("fs").readFileSync(f)); m.id = process.argv[2];
    require("fs").writeFileSync(f, JSON.stringify(m, null, 2))' "$ANVIL_HOME/seeds/$seed/task.json" "$seed"
  verified=$(anvil verify "$ANVIL_HOME/seeds/$seed" --json | tail -n 1)
  dir=$(node -e 'const r = JSON.parse(process.argv[1]); if (r.status !== "verified") process.exit(1); console.log(r.packageDir)' "$verified")
  rm -rf "${catalog:?}/$seed" && cp -r "$dir" "$catalog/$seed"
  anvil synth "$seed" --count "${SYNTH_COUNT:-2}" --json >"$ANVIL_HOME/synth-$seed.json" || true
done
ls "$catalog"
