/**
 * Where a process finds Kafka and the registry: the environment when
 * `KAFKA_BROKERS` and `SCHEMA_REGISTRY_URL` are set, else the local no-Docker
 * pair (started if needed).
 */
import { kafkaConfigFromEnv, type KafkaConfig } from "../config/config.js";
import { projectRoot } from "../adapters/kafka/project-root.js";
import { startLocalInfra } from "./local-infra.js";

export async function resolveKafkaConfig(log: (m: string) => void): Promise<KafkaConfig> {
  if (process.env.KAFKA_BROKERS && process.env.SCHEMA_REGISTRY_URL) return kafkaConfigFromEnv();
  log("KAFKA_BROKERS / SCHEMA_REGISTRY_URL not set: using the local Kafka and registry (starting them if needed)");
  const info = await startLocalInfra({ root: projectRoot(), log });
  return kafkaConfigFromEnv({ ...process.env, KAFKA_BROKERS: info.brokers, SCHEMA_REGISTRY_URL: info.registryUrl });
}
