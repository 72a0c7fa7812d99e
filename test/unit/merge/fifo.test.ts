import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Fifo } from "../../../src/runtime/merge/fifo.js";

describe("Fifo (the merge's queues)", () => {
  it("behaves as an array under any mix of push, shift and put-back, across its compactions", () => {
    const op = fc.oneof(
      fc.record({ push: fc.integer({ min: 1, max: 3000 }) }),
      fc.record({ shift: fc.integer({ min: 1, max: 3000 }) }),
      fc.record({ back: fc.integer({ min: 0, max: 50 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const fifo = new Fifo<number>();
        const model: number[] = [];
        let next = 0;
        for (const o of ops) {
          if ("push" in o) {
            for (let i = 0; i < o.push; i++) {
              fifo.push(next);
              model.push(next++);
            }
          } else if ("shift" in o) {
            const taken: number[] = [];
            for (let i = 0; i < o.shift; i++) {
              const got = fifo.shift();
              expect(got).toBe(model.shift());
              if (got !== undefined) taken.push(got);
            }
            // Put some of what was taken back at the head, as a failed pass does.
            const back = taken.slice(Math.max(0, taken.length - 10));
            fifo.unshiftAll(back);
            model.unshift(...back);
          } else {
            fifo.unshiftAll(Array.from({ length: o.back }, (_, i) => -1 - i));
            model.unshift(...Array.from({ length: o.back }, (_, i) => -1 - i));
          }
          expect(fifo.length).toBe(model.length);
          expect(fifo.peek()).toBe(model[0]);
          expect(fifo.last()).toBe(model[model.length - 1]);
        }
      }),
      { numRuns: 100 },
    );
  });
});
