# syntax=docker/dockerfile:1
# skein/dataplane: skein-dp, used twice in every injected pod:
#   skein-init  (args: init ...)  writes the iptables capture rules, needs NET_ADMIN/NET_RAW, runs as root;
#   skein-proxy (args: run ...)   the sidecar proxy, runs as UID/GID 5678.
# The injector gives only args; the entrypoint is skein-dp (DESIGN.md "Images").
# Build from the repository root:
#   docker build -f manifests/docker/dataplane.Dockerfile -t skein/dataplane:0.1.0 .
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: install, compile the SO_ORIGINAL_DST addon and TypeScript -------
FROM ${NODE_IMAGE} AS build
# node-gyp needs python3, make and a C compiler for dataplane/native/orig_dst.c.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# The official node image ships its headers under /usr/local/include/node:
# build against them instead of downloading headers at build time.
ENV npm_config_nodedir=/usr/local
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
COPY api/package.json api/
COPY webhook/package.json webhook/
COPY dataplane/package.json dataplane/
COPY e2e/package.json e2e/
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.base.json tsconfig.json ./
COPY api/ api/
COPY dataplane/ dataplane/
# npm ci does not build a workspace's addon; the root build:native script does
# (dataplane/native/build.sh -> dataplane/build/Release/orig_dst.node). The
# addon is loaded relative to dist (../../build/Release/orig_dst.node), so
# /out keeps that layout.
RUN npm run build:native \
 && test -f dataplane/build/Release/orig_dst.node \
 && npx tsc -b api dataplane \
 && npm prune --omit=dev --no-audit --no-fund --loglevel=error \
 && find api/dist dataplane/dist \( -name '*.test.js' -o -name '*.test.js.map' -o -name '*.test.d.ts' -o -name '*.tsbuildinfo' \) -delete \
 && mkdir -p /out/api /out/dataplane/build/Release \
 && cp -r package.json node_modules /out/ \
 && cp -r api/package.json api/dist /out/api/ \
 && cp -r dataplane/package.json dataplane/bin dataplane/dist /out/dataplane/ \
 && cp dataplane/build/Release/orig_dst.node /out/dataplane/build/Release/

# ---- runtime -----------------------------------------------------------------
FROM ${NODE_IMAGE}
# iptables (nft and legacy back ends, skein-dp init picks one) and iproute2 for
# skein-init; nothing else: the sidecar itself needs only node.
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables iproute2 \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /out/ /app/
# `skein-dp` on PATH: the entrypoint, and the postStart hook's
# `skein-dp wait --timeout 120s` (docs/contracts.md).
RUN printf '#!/bin/sh\nexec node /app/dataplane/bin/skein-dp.js "$@"\n' > /usr/local/bin/skein-dp \
 && chmod 0755 /usr/local/bin/skein-dp
# The proxy's UID/GID (iptables lets this UID's own traffic out uncaptured).
# skein-init overrides it with runAsUser: 0 in the injected pod spec, since
# writing iptables rules needs root plus NET_ADMIN/NET_RAW.
USER 5678:5678
# 15001 outbound capture, 15006 inbound capture, 15020 health + metrics
# (15000 admin listens on 127.0.0.1 only and is not exposed).
EXPOSE 15001 15006 15020
ENTRYPOINT ["skein-dp"]
