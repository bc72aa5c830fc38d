#!/usr/bin/env bash
# Removes what a KILLED test run left behind (its after() hooks never ran): skein-local instances
# of e2e test files whose process is gone, and the test namespaces named after a dead pid.
# Instances whose test process is still alive are kept. Never fails the caller.
set -u
cd "$(dirname "$0")/.."
[ -f e2e/dist/cli.js ] || exit 0
# Test instances live in the temp dir, or in /run (the private-clone test mirrors /run/skein-local).
for rec in "${TMPDIR:-/tmp}"/skein-e2e-*/state/instance.json /run/skein-e2e-*/state/instance.json; do
  [ -e "$rec" ] || continue
  work="${rec%/state/instance.json}"; pid="${work##*-}"
  kill -0 "$pid" 2>/dev/null && continue
  echo "sweep: removing the leftover test instance in $work"
  node e2e/dist/cli.js --state-dir "$work/state" --bridge "$(jq -r .bridge "$rec")" \
    --pod-cidr "$(jq -r .podCidr "$rec")" --service-cidr "$(jq -r .serviceCidr "$rec")" down >/dev/null 2>&1 || true
  rm -rf "$work"
done
for ns in $(ip netns list 2>/dev/null | awk '/^sklt-out-[0-9]+/{print $1}'); do
  kill -0 "${ns#sklt-out-}" 2>/dev/null && continue
  { ip netns pids "$ns" | xargs -r kill -9; } 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
done
exit 0
