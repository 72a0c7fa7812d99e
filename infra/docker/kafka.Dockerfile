# Apache Kafka (KRaft, one combined broker + controller) from the jars pinned in infra/kafka/pom.xml, the same
# versions the no-Docker default runs. BASE_IMAGE is any Debian bookworm image: the official one by default, or one
# made locally with debootstrap (scripts/containers.ts) where Docker Hub is out of reach.
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS fetch
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      openjdk-17-jre-headless maven ca-certificates && rm -rf /var/lib/apt/lists/*
COPY infra/kafka/pom.xml /build/pom.xml
RUN mvn -q -B -f /build/pom.xml dependency:copy-dependencies && ls /build/target/lib | wc -l

FROM ${BASE_IMAGE}
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      openjdk-17-jre-headless && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10010 --home-dir /var/lib/kafka --create-home kafka
COPY --from=fetch /build/target/lib /opt/kafka/lib
COPY infra/kafka/log4j2.properties infra/docker/kafka-start.sh /opt/kafka/
USER kafka
VOLUME /var/lib/kafka
# 9092: clients (advertised as KAFKA_ADVERTISED, default 127.0.0.1:9092); 19092: other containers
# (advertised as KAFKA_INTERNAL, default <hostname>:19092).
EXPOSE 9092 19092
HEALTHCHECK --interval=5s --timeout=5s --start-period=30s --retries=30 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/19092"]
ENTRYPOINT ["bash", "/opt/kafka/kafka-start.sh"]
