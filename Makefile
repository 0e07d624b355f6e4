# `make demo` and `make test` are the two entry points; both run `make setup` first.
SHELL := /bin/bash
export PATH := $(CURDIR)/.tools/bin:$(PATH)
export NPM_CONFIG_UPDATE_NOTIFIER := false

.PHONY: setup demo test test-unit test-int typecheck lint bench bench-ladder docker compose sandbox-image

setup: node_modules/.installed .tools/bin/temporal docker compose sandbox-image

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.tools/bin/temporal: scripts/ensure-temporal.sh
	scripts/ensure-temporal.sh
	touch $@

docker:
	@scripts/ensure-docker.sh

# docker-compose validates docker-compose.yml in tests/compose.int.test.ts
compose:
	@scripts/ensure-compose.sh

sandbox-image: node_modules/.installed docker
	@scripts/ensure-sandbox-image.sh

demo: setup
	./bin/anvil.js forge example:penguins

typecheck: node_modules/.installed
	npx tsc --noEmit

# ESLint's rules (layers, determinism) and the formatter's check (prettier, width 120; `npm run format` fixes).
lint: node_modules/.installed
	npx eslint .
	npx prettier --check .

# The whole suite (what CI runs): both vitest projects, the JSON report read by .ci/run.
test: setup typecheck lint
	mkdir -p .anvil
	npx vitest run --reporter=default --reporter=json --outputFile.json=.anvil/test-results.json

# Only the tests that need neither Docker nor Temporal (*.unit.test.ts): no set-up beyond npm.
test-unit: node_modules/.installed
	npx vitest run --project unit

# Only the tests against Docker and a Temporal dev server (*.int.test.ts).
test-int: setup
	npx vitest run --project int

bench: setup
	npx tsx bench/sandbox-overhead.ts
	npx tsx bench/forge.ts
	npx tsx bench/env-step.ts
	npx tsx bench/synth-speedup.ts
	npx tsx bench/ladder.ts

# The reference ladder's cost per forged task beside its baseline time.
bench-ladder: setup
	npx tsx bench/ladder.ts
