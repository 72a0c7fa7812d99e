import { describe, expect, it } from "vitest";
import { chunkBySize } from "../../src/adapters/kafka/chunk.js";

describe("chunkBySize", () => {
  it("splits a pass into requests under the byte limit, keeping every message once and in order", () => {
    const messages = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: Buffer.alloc(1000, i) }));
    const chunks = chunkBySize(
      [
        { topic: "a", messages: messages.slice(0, 30) },
        { topic: "b", messages: messages.slice(30) },
      ],
      10_000,
    );
    expect(chunks.length).toBeGreaterThan(4);
    const flat = chunks.flatMap((c) => c.flatMap((t) => t.messages.map((m) => `${t.topic}:${String(m.key)}`)));
    expect(flat).toEqual([
      ...messages.slice(0, 30).map((m) => `a:${m.key}`),
      ...messages.slice(30).map((m) => `b:${m.key}`),
    ]);
    for (const chunk of chunks) {
      const bytes = chunk
        .flatMap((t) => t.messages)
        .reduce((n, m) => n + (m.value as Buffer).length + 64 + String(m.key).length, 0);
      expect(bytes).toBeLessThanOrEqual(10_000);
    }
  });

  it("sends a single message larger than the limit on its own", () => {
    const chunks = chunkBySize(
      [
        {
          topic: "a",
          messages: [
            { key: "small", value: "x" },
            { key: "big", value: Buffer.alloc(50_000) },
            { key: "after", value: "y" },
          ],
        },
      ],
      10_000,
    );
    expect(chunks.map((c) => c[0]!.messages.map((m) => m.key))).toEqual([["small"], ["big"], ["after"]]);
  });
});
