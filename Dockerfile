# syntax=docker/dockerfile:1
# The bgp-announce image: `bgp-announce daemon` on Node 24, as a non-root user (uid 65532).
# NOT BUILT HERE: the machine this project is developed on has no Docker engine, so this file is only
# read by test/deploy-manifests.test.ts (base image, user, entrypoint). Build and push it yourself:
#   docker build -t REGISTRY/bgp-announce:0.1.0 . && docker push REGISTRY/bgp-announce:0.1.0
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
# node-gyp builds the socket addon (TCP MD5, GTSM, the BFD TTL check) from source, with the Node
# headers the base image ships.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY packages ./packages
RUN npm ci --no-audit --no-fund
# Compile every workspace and build the addon; unlike npm's install script this fails the build
# when the addon cannot be built (an image without it would refuse TCP MD5 and checked BFD).
RUN npx tsc -b \
 && node packages/sockopt/scripts/build-addon.mjs
# Keep the runtime: production dependencies only (no scripts: the addon is built already), compiled
# JavaScript, package.json files and the addon itself.
RUN rm -rf node_modules \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && mv packages/sockopt/build/Release/sockopt.node /tmp/sockopt.node \
 && rm -rf packages/sockopt/build packages/sockopt/native packages/*/src packages/*/*.tsbuildinfo packages/*/tsconfig*.json \
 && mkdir -p packages/sockopt/build/Release \
 && mv /tmp/sockopt.node packages/sockopt/build/Release/sockopt.node

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# V8's young generation capped at 4 MB semi-spaces (Node 24 lets them grow to tens of MB): the idle
# daemon with 5,000 Services ends at ~217 MB RSS instead of ~337, with no measurable cost to the full
# reconcile (bench/README.md, "Footprint"); 1 MB saves a little more but slows start-up and the
# reconcile by ~1 s. Other heap flags that save memory (--optimize-for-size, --lite-mode) are not
# allowed in NODE_OPTIONS and cost CPU. The DaemonSet may set its own NODE_OPTIONS (Helm: nodeOptions).
ENV NODE_OPTIONS="--max-semi-space-size=4"
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/packages ./packages
RUN ln -s /app/packages/cli/bin/bgp-announce.js /usr/local/bin/bgp-announce \
 && bgp-announce --version
# A numeric user, so that the kubelet can check runAsNonRoot; not one of the base image's users.
USER 65532:65532
# Metrics, /healthz and /readyz (the admin endpoint stays on 127.0.0.1:7474).
EXPOSE 7475
# The DaemonSet passes the daemon's options as args; `kubectl exec ... -- bgp-announce status` works too.
ENTRYPOINT ["bgp-announce", "daemon"]
