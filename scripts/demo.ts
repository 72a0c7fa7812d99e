/**
 * The main job, end to end on the local default (`npm run demo`):
 * Kafka + registry up (unless configured), topics and schemas bootstrapped,
 * one provider event produced with acks=all and read back read_committed.
 */
import { randomUUID } from "node:crypto";
import { createKafka } from "../src/adapters/kafka/kafka-client.js";
import { AvroSerde } from "../src/adapters/kafka/serde.js";
import { loadSchemas } from "../src/adapters/kafka/schemas.js";
import { bootstrapTopics } from "../src/adapters/kafka/bootstrap.js";
import { clientPartitioner } from "../src/adapters/kafka/partitioner.js";
import { resolveKafkaConfig } from "../src/infra/connect.js";

const say = (m: string) => console.log(`[demo] ${m}`);
const config = await resolveKafkaConfig(say);
say(`kafka ${config.brokers.join(",")}, registry ${config.registryUrl}, topic prefix ${config.topicPrefix}`);

const kafka = createKafka(config);
const admin = kafka.admin();
await admin.connect();
const serde = AvroSerde.forUrl(config.registryUrl, loadSchemas());
const report = await bootstrapTopics({ admin, serde, prefix: config.topicPrefix, partitions: config.partitions, replicationFactor: config.replicationFactor });
say(`topics: ${report.created.length} created, ${report.existing.length} already there; ${Object.keys(report.schemaIds).length} schemas registered (BACKWARD)`);

const event = {
  event_id: randomUUID(),
  client_id: "acme-corp",
  stack_id: "cms-ecom-prod",
  environment: "prod",
  provider_name: "sanity",
  provider_role: "cms",
  event_type: "provider.heartbeat",
  content_id: null,
  content_type: null,
  integration: null,
  timestamp: new Date().toISOString(),
  payload_json: "{}",
};
const topic = report.names["provider-events"];
const producer = kafka.producer({ createPartitioner: clientPartitioner, idempotent: true });
await producer.connect();
const [meta] = await producer.send({ topic, acks: -1, messages: [{ key: event.client_id, value: serde.encode(topic, "ProviderEvent", event) }] });
say(`produced ${event.event_type} ${event.event_id} to ${topic} partition ${meta?.partition} offset ${meta?.baseOffset}`);
await producer.disconnect();

const consumer = kafka.consumer({ groupId: `blackwell-demo-${randomUUID()}`, readUncommitted: false });
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
const found = await new Promise<Record<string, unknown>>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error("event not read back within 30 s")), 30_000);
  void consumer.run({
    eachMessage: async ({ message }) => {
      const value = await serde.decode<Record<string, unknown>>("ProviderEvent", message.value);
      if (value.event_id === event.event_id) {
        clearTimeout(timer);
        resolve(value);
      }
    },
  });
});
say(`read back (read_committed): ${JSON.stringify(found)}`);
await consumer.disconnect();
await admin.disconnect();
say("done. Stop the local Kafka and registry with: npm run infra:down");
