/**
 * The local-infrastructure fallback, for `blackwell demo` and developer tools (the benchmark) only:
 * the environment's Kafka and registry when `KAFKA_BROKERS` or `SCHEMA_REGISTRY_URL` is set (AWS
 * from the standard AWS configuration), else the local no-Docker set (started if needed), whose moto
 * server stands in for AWS. A deployed role never comes here: it reads its configuration once
 * (src/config) and stops when Kafka is not configured, instead of starting a Kafka through Maven and
 * writing fake AWS credentials into its environment.
 */
import { kafkaConfigFromEnv, type KafkaConfig } from "../config/config.js";
import { projectRoot } from "../adapters/kafka/project-root.js";
import { defaultInfraDir, readRunningInfra, startLocalInfra } from "./local-infra.js";

/** Standard AWS SDK settings that point every AWS client at the local moto server. */
export function localAwsEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
  };
}

/** The configured Kafka, or the local one, started when not running; see the file's comment for who may call it. */
export async function kafkaConfigOrLocalInfra(log: (m: string) => void): Promise<KafkaConfig> {
  // Half a configuration is a mistake to report, not a reason to start a local Kafka beside it.
  if (process.env.KAFKA_BROKERS || process.env.SCHEMA_REGISTRY_URL) return kafkaConfigFromEnv();
  log(
    "KAFKA_BROKERS / SCHEMA_REGISTRY_URL not set: using the local Kafka, registry and moto server " +
      "(starting them if needed)",
  );
  const info = await startLocalInfra({ root: projectRoot(), log });
  // Only where the operator configured no AWS of their own.
  if (!process.env.AWS_ENDPOINT_URL && !process.env.AWS_PROFILE && !process.env.AWS_ACCESS_KEY_ID) {
    Object.assign(process.env, localAwsEnv(info.awsEndpoint));
  }
  return kafkaConfigFromEnv({ ...process.env, KAFKA_BROKERS: info.brokers, SCHEMA_REGISTRY_URL: info.registryUrl });
}

/**
 * For operator commands (`status`, `apply`...): the configured Kafka, else the local one only when it is already
 * running (`blackwell up` / `make demo` started it), never started here. Neither: the configuration error, which
 * names KAFKA_BROKERS and SCHEMA_REGISTRY_URL.
 */
export function kafkaConfigOrRunningLocal(log: (m: string) => void): KafkaConfig {
  if (process.env.KAFKA_BROKERS || process.env.SCHEMA_REGISTRY_URL) return kafkaConfigFromEnv();
  const running = readRunningInfra(defaultInfraDir(projectRoot()));
  if (!running) return kafkaConfigFromEnv();
  log(`KAFKA_BROKERS / SCHEMA_REGISTRY_URL not set: using the running local Kafka ${running.brokers}`);
  if (!process.env.AWS_ENDPOINT_URL && !process.env.AWS_PROFILE && !process.env.AWS_ACCESS_KEY_ID) {
    Object.assign(process.env, localAwsEnv(running.awsEndpoint));
  }
  return kafkaConfigFromEnv({
    ...process.env,
    KAFKA_BROKERS: running.brokers,
    SCHEMA_REGISTRY_URL: running.registryUrl,
  });
}
