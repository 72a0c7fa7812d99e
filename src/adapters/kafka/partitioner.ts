import type { ICustomPartitioner } from "kafkajs";
import { partitionForKey } from "./murmur2.js";

/**
 * The client id of a record key: keys are `client_id` or `client_id/stack_id`.
 * Client ids cannot contain `/` (the desired-state validator refuses them).
 */
export function clientIdOfKey(key: string): string {
  const slash = key.indexOf("/");
  return slash === -1 ? key : key.slice(0, slash);
}

/** Partition of every record of `clientId`, on every topic with `partitions` partitions. */
export function partitionForClient(clientId: string, partitions: number): number {
  return partitionForKey(clientId, partitions);
}

/**
 * KafkaJS partitioner that hashes only the client_id part of the key, so
 * `acme` and `acme/web-prod` land on the same partition — the same one the Java
 * default partitioner picks for key `acme`.
 */
export const clientPartitioner: ICustomPartitioner =
  () =>
  ({ partitionMetadata, message }) => {
    // An explicit partition wins (DLQ copies keep the partition of their source record, whatever their key).
    if (typeof message.partition === "number") return message.partition;
    const key = message.key;
    if (key === null || key === undefined) {
      throw new Error("blackwell records must be keyed by client_id");
    }
    const text = typeof key === "string" ? key : key.toString("utf8");
    return partitionForClient(clientIdOfKey(text), partitionMetadata.length);
  };
