/**
 * Quick, quiet questions to a cluster that may not be there yet (local
 * infrastructure start-up): no retries, no client logs.
 */
import { Kafka, logLevel } from "kafkajs";

/** Number of brokers registered in the cluster behind `brokers`; throws when nothing answers within about 1 s. */
export async function countBrokers(brokers: string[], options: { retries?: number } = {}): Promise<number> {
  const admin = new Kafka({
    clientId: "blackwell-infra-probe",
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: options.retries ?? 0 },
    connectionTimeout: 1000,
  }).admin();
  try {
    await admin.connect();
    return (await admin.describeCluster()).brokers.length;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
