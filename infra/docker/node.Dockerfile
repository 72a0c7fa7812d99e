# Node.js for the product image where Docker Hub (and so the official node image) is out of reach: the pinned
# runtime (.node-version, checked against infra/node/node.lock by scripts/node-bootstrap.sh) and the pinned npm
# (the npm line of infra/node/node.lock), both prepared into the build context by scripts/containers.ts, on a local Debian base.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
COPY node/bin /usr/local/bin
COPY node/include /usr/local/include
COPY node/share /usr/local/share
COPY npm.tgz /tmp/npm.tgz
RUN mkdir -p /usr/local/lib/node_modules/npm \
    && tar xzf /tmp/npm.tgz -C /usr/local/lib/node_modules/npm --strip-components=1 && rm /tmp/npm.tgz \
    && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && node --version && npm --version
