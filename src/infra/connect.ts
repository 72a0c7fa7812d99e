/**
 * Where a process finds Kafka, the registry and AWS: the environment when
 * `KAFKA_BROKERS` and `SCHEMA_REGISTRY_URL` are set (AWS from the standard AWS
 * configuration), else the local no-Docker set (started if needed), whose
 * moto server stands in for AWS.
 */
import { kafkaConfigFromEnv, type KafkaConfig } from "../config/config.js";
import { projectRoot } from "../adapters/kafka/project-root.js";
import { startLocalInfra } from "./local-infra.js";

/** Standard AWS SDK settings that point every AWS client at the local moto server. */
export function localAwsEnv(endpoint: string): Record<string, string> {
  return { AWS_ENDPOINT_URL: endpoint, AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local" };
}

export async function resolveKafkaConfig(log: (m: string) => void): Promise<KafkaConfig> {
  if (process.env.KAFKA_BROKERS && process.env.SCHEMA_REGISTRY_URL) return kafkaConfigFromEnv();
  log("KAFKA_BROKERS / SCHEMA_REGISTRY_URL not set: using the local Kafka, registry and moto server (starting them if needed)");
  const info = await startLocalInfra({ root: projectRoot(), log });
  // Only where the operator configured no AWS of their own.
  if (!process.env.AWS_ENDPOINT_URL && !process.env.AWS_PROFILE && !process.env.AWS_ACCESS_KEY_ID) Object.assign(process.env, localAwsEnv(info.awsEndpoint));
  return kafkaConfigFromEnv({ ...process.env, KAFKA_BROKERS: info.brokers, SCHEMA_REGISTRY_URL: info.registryUrl });
}
