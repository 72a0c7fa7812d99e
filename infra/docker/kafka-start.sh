#!/usr/bin/env bash
# Writes the broker's configuration from the environment, formats the KRaft storage on first start, and runs Kafka.
set -euo pipefail
data=/var/lib/kafka/data
conf=/var/lib/kafka/server.properties
advertised=${KAFKA_ADVERTISED:-127.0.0.1:9092}
internal=${KAFKA_INTERNAL:-$(hostname):19092}
classpath=$(printf '%s:' /opt/kafka/lib/*.jar)
log="-Dlog4j2.configurationFile=/opt/kafka/log4j2.properties"

cat > "$conf" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:9093
listeners=EXTERNAL://0.0.0.0:9092,INTERNAL://0.0.0.0:19092,CONTROLLER://127.0.0.1:9093
advertised.listeners=EXTERNAL://${advertised},INTERNAL://${internal}
controller.listener.names=CONTROLLER
inter.broker.listener.name=INTERNAL
listener.security.protocol.map=EXTERNAL:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${data}
num.partitions=6
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=6
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.segment.bytes=67108864
log.cleaner.dedupe.buffer.size=16777216
PROPS

if [ ! -f "$data/meta.properties" ]; then
  cluster=${KAFKA_CLUSTER_ID:-$(java "$log" -cp "$classpath" kafka.tools.StorageTool random-uuid)}
  java "$log" -cp "$classpath" kafka.tools.StorageTool format -t "$cluster" -c "$conf"
fi
exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -Djava.awt.headless=true "$log" -cp "$classpath" \
  kafka.Kafka "$conf"
