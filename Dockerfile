# The product: one image for every role (`run reconciler|executor|api|notifier`, and the `blackwell` command).
# BASE_IMAGE is a Node.js 24 image on Debian bookworm: the official one by default; scripts/containers.ts passes one
# made locally (infra/docker/node.Dockerfile) where Docker Hub is out of reach.
ARG BASE_IMAGE=node:24.22.3-bookworm-slim

FROM ${BASE_IMAGE} AS build
# better-sqlite3 compiles against the runtime's own headers when no prebuilt binary can be fetched.
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      python3 make g++ ca-certificates && rm -rf /var/lib/apt/lists/*
# npm trusts the system's CAs too (and so a proxy's CA that a local base carries, see docs/containers.md).
ENV npm_config_nodedir=/usr/local NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
WORKDIR /app
COPY package.json package-lock.json .node-version ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM ${BASE_IMAGE}
RUN useradd --system --uid 10001 --home-dir /var/lib/blackwell --create-home blackwell
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY package.json .node-version tsconfig.json ./
COPY bin ./bin
COPY schemas ./schemas
COPY examples ./examples
COPY processors ./processors
COPY src ./src
# Logs as JSON lines (docker logs, collectors); the ops endpoints and the API answer on every interface of the
# container, which publishes only what compose maps (to 127.0.0.1 there).
ENV NODE_ENV=production \
    BLACKWELL_STATE_DIR=/var/lib/blackwell \
    BLACKWELL_LOG_FORMAT=json \
    BLACKWELL_OPS_HOST=0.0.0.0 \
    BLACKWELL_OPS_PORT=9464 \
    BLACKWELL_API_HOST=0.0.0.0 \
    BLACKWELL_API_PORT=8080
USER blackwell
VOLUME /var/lib/blackwell
EXPOSE 8080 9464
HEALTHCHECK --interval=5s --timeout=5s --start-period=60s --retries=12 CMD ["node", "bin/healthcheck.mjs"]
ENTRYPOINT ["node", "bin/blackwell.mjs"]
CMD ["run", "reconciler"]
