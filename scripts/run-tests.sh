#!/usr/bin/env bash
# Runs every compiled test file of every workspace in ONE node:test run, so the
# summary at the end (tests/pass/fail) covers the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find api/dist webhook/dist dataplane/dist e2e/dist -name '*.test.js' 2>/dev/null | sort)
if [ "${#files[@]}" -eq 0 ]; then echo "run-tests: no test files found (did the build run?)" >&2; exit 1; fi
bash scripts/sweep-test-leftovers.sh
# e2e tests share one host's network namespaces: run files one at a time.
exec node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
