/** The notifier role's settings, read once at start-up. */
import { readKafkaConfig, type KafkaConfig } from "./config.js";
import { EnvReader } from "./env-reader.js";

export interface NotifierConfig {
  kafka: KafkaConfig;
  /** Consumer group on drift-events. `BLACKWELL_NOTIFIER_GROUP`, default `blackwell-notifier`. */
  groupId: string;
}

export function notifierConfigFromEnv(env: NodeJS.ProcessEnv = process.env): NotifierConfig {
  const r = new EnvReader(env);
  return r.finish({
    kafka: readKafkaConfig(r),
    groupId: r.string("BLACKWELL_NOTIFIER_GROUP", "blackwell-notifier"),
  });
}
