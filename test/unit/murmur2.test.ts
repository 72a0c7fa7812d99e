import { describe, expect, it } from "vitest";
import { murmur2, partitionForKey } from "../../src/adapters/kafka/murmur2.js";
import { clientIdOfKey } from "../../src/adapters/kafka/partitioner.js";

/**
 * Expected values computed with the Java client itself
 * (org.apache.kafka.common.utils.Utils.murmur2 / toPositive from
 * kafka-clients 4.1.1), not with our code.
 */
const JAVA_CLIENT_VECTORS: Array<[key: string, murmur2: number, p3: number, p6: number, p12: number]> = [
  ["acme-corp", -1092797161, 1, 1, 7],
  ["globex", -1404328321, 1, 1, 7],
  ["initech", 304781106, 0, 0, 6],
  ["umbrella", -2098140590, 0, 0, 6],
  ["client-00042", -478509111, 2, 5, 5],
  ["c", -1877468854, 1, 4, 10],
  ["", 275646681, 0, 3, 9],
  ["zürich-shop", 509358333, 0, 3, 9],
  ["a-very-long-client-identifier-with-many-characters-0123456789", 674417662, 1, 4, 10],
];

describe("murmur2 partitioning matches the Java client", () => {
  it.each(JAVA_CLIENT_VECTORS)("key %j hashes and partitions like Utils.murmur2", (key, hash, p3, p6, p12) => {
    expect(murmur2(Buffer.from(key, "utf8"))).toBe(hash);
    expect(partitionForKey(key, 3)).toBe(p3);
    expect(partitionForKey(key, 6)).toBe(p6);
    expect(partitionForKey(key, 12)).toBe(p12);
  });

  it("takes the client id from composite keys", () => {
    expect(clientIdOfKey("acme-corp/cms-ecom-prod")).toBe("acme-corp");
    expect(clientIdOfKey("acme-corp")).toBe("acme-corp");
  });
});
