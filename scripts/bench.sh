#!/usr/bin/env bash
# `npm run bench`: the dataplane benchmark (direct vs skein vs haproxy) on a private skein-local
# instance. Builds, then runs the TypeScript harness (e2e/src/bench/main.ts), which prints a table
# and writes bench-results/bench.json. Options: `npm run bench -- --help`.
#
# The instance never collides with the demo or the tests: its own state dir, bridge and ranges
# (override with SKEIN_BENCH_STATE_DIR / _BRIDGE / _POD_CIDR / _SERVICE_CIDR). The harness brings it
# down in a finally; the trap below does it again if the harness itself is killed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "bench: skein-local needs root (network namespaces, iptables); run as root" >&2
  exit 1
fi
for tool in haproxy taskset openssl curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (bash scripts/bootstrap.sh installs it)" >&2; exit 1; }
done
if [ "$(nproc)" -lt 2 ]; then
  echo "bench: needs 2 CPUs (load generator on CPU 1, server and proxies on CPU 0)" >&2
  exit 1
fi

export SKEIN_BENCH_STATE_DIR="${SKEIN_BENCH_STATE_DIR:-/run/skein-bench}"
export SKEIN_BENCH_BRIDGE="${SKEIN_BENCH_BRIDGE:-skbench}"
export SKEIN_BENCH_POD_CIDR="${SKEIN_BENCH_POD_CIDR:-10.254.0.0/24}"
export SKEIN_BENCH_SERVICE_CIDR="${SKEIN_BENCH_SERVICE_CIDR:-10.254.128.0/24}"

echo "bench: building" >&2
# A type error elsewhere in the tree (another part mid-change) should not stop the bench as long as
# what it runs was emitted; tsc -b still emits the projects that compile.
if ! npx tsc -b >&2; then
  echo "bench: warning: the build reported errors (above); running with what was emitted" >&2
fi
for f in e2e/dist/cli.js e2e/dist/bench/main.js dataplane/dist/main.js webhook/dist/main.js; do
  [ -f "$f" ] || { echo "bench: $f was not built" >&2; exit 1; }
done

cleanup() {
  SKEIN_LOCAL_STATE_DIR="$SKEIN_BENCH_STATE_DIR" SKEIN_LOCAL_BRIDGE="$SKEIN_BENCH_BRIDGE" \
  SKEIN_LOCAL_POD_CIDR="$SKEIN_BENCH_POD_CIDR" SKEIN_LOCAL_SERVICE_CIDR="$SKEIN_BENCH_SERVICE_CIDR" \
    node e2e/dist/cli.js down >/dev/null 2>&1 || true
}
trap 'cleanup; exit 130' INT TERM

node e2e/dist/bench/main.js "$@"
