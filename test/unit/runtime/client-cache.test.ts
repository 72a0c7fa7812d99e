import { describe, expect, it } from "vitest";
import { ClientCache, HEAP_PER_ROW_BYTE, type SizedLookup } from "../../../src/runtime/client-cache.js";
import { emptyClient, type ClientState } from "../../../src/core/model/client-state.js";

/** A store of `n` clients whose rows are `bytes` long; counts the reads that reached it. */
function storeOf(n: number, bytes: number) {
  const reads: string[] = [];
  const lookup: SizedLookup = {
    load: (id) => {
      reads.push(id);
      return Number(id.slice(1)) < n ? { state: emptyClient(id), bytes } : undefined;
    },
    dueBetween: () => [],
    nextDeadlineAfter: () => null,
  };
  return { lookup, reads };
}

describe("decoded client states kept within a byte budget", () => {
  it("reads a client from the store once while it stays within the budget, and returns the same object", () => {
    const { lookup, reads } = storeOf(10, 100);
    const cache = new ClientCache(lookup, 10 * 100 * HEAP_PER_ROW_BYTE);
    const first = cache.get("c1");
    for (let i = 0; i < 10; i++) cache.get(`c${i}`);
    expect(cache.get("c1")).toBe(first);
    expect(reads.filter((id) => id === "c1")).toHaveLength(1);
    expect(cache.size).toEqual({ clients: 10, bytes: 10 * 100 * HEAP_PER_ROW_BYTE });
  });

  it("evicts the least recently used client when a new one would pass the budget", () => {
    const { lookup, reads } = storeOf(10, 100);
    const cache = new ClientCache(lookup, 3 * 100 * HEAP_PER_ROW_BYTE);
    cache.get("c0");
    cache.get("c1");
    cache.get("c2");
    cache.get("c0"); // used again: c1 is now the least recent
    cache.get("c3");
    expect(cache.size.clients).toBe(3);
    reads.length = 0;
    cache.get("c0");
    cache.get("c2");
    cache.get("c3");
    expect(reads).toEqual([]);
    cache.get("c1");
    expect(reads).toEqual(["c1"]);
  });

  it("takes committed states in place of the stored ones, and keeps even a state larger than the whole budget", () => {
    const { lookup, reads } = storeOf(10, 100);
    const cache = new ClientCache(lookup, 100 * HEAP_PER_ROW_BYTE);
    const big: ClientState = { ...emptyClient("c5"), stacks: {} };
    cache.committed([["c5", big, 10_000]]);
    expect(cache.get("c5")).toBe(big);
    expect(reads).toEqual([]);
    cache.get("c6");
    expect(cache.size.clients).toBe(1);
    expect(cache.get("c7")).toEqual(emptyClient("c7"));
    expect(cache.get("c99")).toBeUndefined();
  });
});
