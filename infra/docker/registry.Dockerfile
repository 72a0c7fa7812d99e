# Apicurio Registry, the distribution pinned (URL and SHA-1) in infra/registry/registry.json: the same version the
# no-Docker default runs. Its Confluent-compatible API is at /apis/ccompat/v7 on port 8080.
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS fetch
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      curl ca-certificates && rm -rf /var/lib/apt/lists/*
COPY infra/registry/registry.json /build/registry.json
RUN set -eu; cd /build; \
    field() { sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p" registry.json; }; \
    curl -fsSL -o dist.tar.gz "$(field url)"; \
    echo "$(field sha1)  dist.tar.gz" | sha1sum -c -; \
    mkdir dist && tar xzf dist.tar.gz -C dist && rm dist.tar.gz; \
    test -f "dist/$(field runner)" && ln -s "$(field runner)" dist/registry-runner.jar

FROM ${BASE_IMAGE}
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      openjdk-17-jre-headless && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10011 --home-dir /var/lib/registry --create-home registry
COPY --from=fetch /build/dist /opt/registry
USER registry
VOLUME /var/lib/registry
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=5s --start-period=30s --retries=30 CMD ["bash", "-c", \
  "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /apis/ccompat/v7/subjects HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
# File-backed H2, so registered schemas (and their ids) survive a restart, like the broker's data.
ENTRYPOINT ["sh", "-c", "exec java ${REGISTRY_HEAP_OPTS:--Xms128m -Xmx512m} -Dquarkus.http.port=8080 -Dquarkus.http.host=0.0.0.0 \
  -Dquarkus.management.port=9000 -Dquarkus.management.host=127.0.0.1 -Dquarkus.log.level=WARN \
  '-Dapicurio.datasource.url=jdbc:h2:file:/var/lib/registry/db;DB_CLOSE_ON_EXIT=FALSE' -jar /opt/registry/registry-runner.jar"]
