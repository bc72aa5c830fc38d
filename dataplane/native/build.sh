#!/bin/sh
# Builds the SO_ORIGINAL_DST addon (build/Release/orig_dst.node) with the node-gyp that npm bundles
# (npm puts it on PATH for scripts). `npm ci` does NOT build it for a workspace package (checked with
# npm 11), so the root `npm run build:native` (run by scripts/bootstrap.sh) calls this.
# Builds against the installed Node headers when present (Debian: /usr/include/node), so no download.
set -eu
cd "$(dirname "$0")/.."
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_api.h ]; then
  npm_config_nodedir=/usr
  export npm_config_nodedir
fi
exec node-gyp rebuild --loglevel=warn
