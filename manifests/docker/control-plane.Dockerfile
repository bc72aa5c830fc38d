# syntax=docker/dockerfile:1
# skein/control-plane: skein-cp (webhook, CA, discovery and policy server).
# Build from the repository root (the build context must hold the workspaces):
#   docker build -f manifests/docker/control-plane.Dockerfile -t skein/control-plane:0.1.0 .
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: install, compile, drop dev dependencies --------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Manifests first so the dependency layer is cached until package*.json change.
# npm ci needs every workspace's package.json, even the ones this image does not ship.
COPY package.json package-lock.json .npmrc ./
COPY api/package.json api/
COPY webhook/package.json webhook/
COPY dataplane/package.json dataplane/
COPY e2e/package.json e2e/
# No native addon in skein-cp, so no compiler toolchain in this image: npm ci
# does not build the dataplane addon (its own script does, see dataplane.Dockerfile).
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.base.json tsconfig.json ./
COPY api/ api/
COPY webhook/ webhook/
# Compile, drop dev dependencies, and collect only what runs into /out:
# compiled code without tests (source maps kept for stack traces), and without
# dist/manifests (manifest checks for the test suite; they import dev dependencies).
RUN npx tsc -b api webhook \
 && npm prune --omit=dev --no-audit --no-fund --loglevel=error \
 && find api/dist webhook/dist \( -name '*.test.js' -o -name '*.test.js.map' -o -name '*.test.d.ts' -o -name '*.tsbuildinfo' \) -delete \
 && rm -rf webhook/dist/manifests \
 && mkdir -p /out/api /out/webhook \
 && cp -r package.json node_modules /out/ \
 && cp -r api/package.json api/dist /out/api/ \
 && cp -r webhook/package.json webhook/bin webhook/dist /out/webhook/

# ---- runtime -----------------------------------------------------------------
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# Same layout as the repository, so the workspace links in node_modules/@skein resolve.
COPY --from=build /out/ /app/
# `skein-cp` on PATH, so the Deployment gives only args (--mode kubernetes).
# exec: node becomes PID 1 and receives SIGTERM itself (skein-cp drains on it).
RUN printf '#!/bin/sh\nexec node /app/webhook/bin/skein-cp.js "$@"\n' > /usr/local/bin/skein-cp \
 && chmod 0755 /usr/local/bin/skein-cp
# Numeric, non-root, and the same UID the Deployment's securityContext names:
# runAsNonRoot can only be verified by the kubelet for a numeric USER.
USER 65532:65532
# 9443 webhook (HTTPS), 15012 gRPC (TLS), 15014 health + metrics.
EXPOSE 9443 15012 15014
ENTRYPOINT ["skein-cp"]
