#!/usr/bin/env bash
# Installs what Skein needs on a fresh Debian machine (as root): Debian packages for
# the network plumbing and the real protocol clients the tests use, npm packages, a build.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  iptables iproute2 procps psmisc util-linux conntrack   # network namespaces, capture rules, process control
  curl nghttp2-client redis-server redis-tools socat netcat-openbsd  # real clients/servers used through the mesh
  openssh-server openssh-client mariadb-server mariadb-client        # server-speaks-first protocols through the mesh
  tcpdump                                                # captures on the bridge: nothing in clear between sidecars
  haproxy wrk                                            # the benchmark baseline and load
  python3 make g++                                       # node-gyp builds the SO_ORIGINAL_DST addon
  protobuf-compiler jq openssl                           # openssl: throwaway certificates in the e2e tests
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: missing Debian packages (${missing[*]}); run as root or install them" >&2
    exit 1
  fi
  echo "bootstrap: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's server packages start system instances; the mesh tests start their own.
for unit in redis-server mariadb ssh; do systemctl disable --now "$unit" >/dev/null 2>&1 || true; done

# Build native addons against the headers of the Node.js that runs them.
if [ -f /usr/include/node/node_api.h ]; then export npm_config_nodedir=/usr; fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "bootstrap: building"
npm run --silent build:native   # the SO_ORIGINAL_DST addon (npm ci does not run it: npm 11 gates install scripts)
npx tsc -b
# The bins (npx skein-cp, skein-dp, skein-local) are committed shims in <workspace>/bin that load dist/.
