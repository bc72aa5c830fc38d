#!/usr/bin/env bash
# The README's test command: installs what is needed, builds, lints, runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
echo "test: lint"
npx eslint .
echo "test: suite"
bash scripts/run-tests.sh
