#!/usr/bin/env bash
# The README's demo: builds Skein, starts a one-host mesh (skein-local + skein-cp),
# deploys the `shop` namespace (frontend -> orders -> bills, orders -> redis), sends
# traffic through the sidecars and prints what they saw. Leaves the mesh running;
# `npx skein-local down` removes everything. Safe to run again while it is up.
#
# Environment: SKEIN_LOCAL_STATE_DIR / SKEIN_LOCAL_BRIDGE / SKEIN_LOCAL_POD_CIDR /
# SKEIN_LOCAL_SERVICE_CIDR are passed through to skein-local (defaults: /run/skein-local,
# skein0, 10.244.0.0/16, 10.96.0.0/16). DEMO_REQUESTS sets how many orders to place (5).
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS="${DEMO_REQUESTS:-5}"
SL=(npx --no-install skein-local)   # the e2e workspace's bin, linked by npm ci
SHOW='npx skein-local'              # how the printed commands call it (pasteable from the repository root)
sl() { "${SL[@]}" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Prints a pod's name from a label selector (Deployments name their pods <deployment>-<hash>).
pod_of() {
  sl get pods -n shop -o json \
    | jq -r --arg app "$1" '[.items[] | select(.metadata.labels.app == $app and .status.phase == "Running")][0].metadata.name // empty'
}

step "bootstrap (packages, npm, build)"
bash scripts/bootstrap.sh

step "start the mesh"
# `get namespaces` only answers when this state dir's node is up: then there is nothing to start.
if sl get namespaces >/dev/null 2>&1; then
  echo "skein-local is already up (state dir ${SKEIN_LOCAL_STATE_DIR:-/run/skein-local}); reusing it"
else
  sl up
fi

step "deploy the shop (namespace labelled skein.io/inject=enabled)"
sl apply -f e2e/demo/manifests/
for app in redis bills orders frontend client; do
  sl wait pod -n shop -l "app=$app" --for ready --timeout 120s
done
sl get pods -n shop -o wide

FRONTEND="$(pod_of frontend)"
ORDERS="$(pod_of orders)"
BILLS="$(pod_of bills)"
REDIS="$(pod_of redis)"
if [ -z "$FRONTEND" ] || [ -z "$ORDERS" ] || [ -z "$BILLS" ] || [ -z "$REDIS" ]; then
  echo "demo: a shop pod is not running; see: $SHOW get pods -n shop -o json" >&2
  exit 1
fi
echo "each pod has containers: $(sl get pods "$FRONTEND" -n shop -o json \
  | jq -r '[.spec.initContainers[]?.name, .spec.containers[].name] | join(", ")')"

step "place $REQUESTS orders: client -> frontend -> orders -> (redis, bills), every hop through two sidecars"
for i in $(seq 1 "$REQUESTS"); do
  sl exec client -n shop -- curl -sS --fail --max-time 10 http://frontend.shop/
done

step "talk to Redis with redis-cli through the mesh"
sl exec client -n shop -- redis-cli -h redis.shop -p 6379 PING
sl exec client -n shop -- redis-cli -h redis.shop -p 6379 GET shop:orders

step "what the sidecars counted (admin endpoint, 127.0.0.1:15000/stats inside each pod)"
for pod in client "$FRONTEND" "$ORDERS" "$BILLS" "$REDIS"; do
  echo "--- $pod"
  sl admin "$pod" /stats -n shop
  echo
done

step "look around yourself"
cat <<EOF
  $SHOW get pods -n shop -o wide                   # the pods, their IPs and readiness
  $SHOW admin $FRONTEND /stats -n shop             # a sidecar's counters
  $SHOW admin $FRONTEND /ready -n shop             # its readiness
  $SHOW logs $FRONTEND -n shop -c skein-proxy      # its log (one line per connection/request)
  $SHOW exec client -n shop -- curl -s http://frontend.shop/
  $SHOW exec client -n shop -- redis-cli -h redis.shop INCR shop:orders
(from the repository root; 'npx skein-local' is the e2e workspace's bin, see the README for putting it on PATH)
The admin port listens on 127.0.0.1 inside the pod only: 'admin' runs the GET from inside the pod.
The mesh keeps running. Remove everything with:  $SHOW down
EOF
