/** `active_reconciliations` reads, at scrape time, how many passes the process's reconcilers have under way. */
import { describe, expect, it } from "vitest";
import { countActiveReconciliations, createMetrics } from "../../../src/observability/metrics.js";

const value = (text: string) => /^active_reconciliations (\S+)$/m.exec(text)?.[1];

describe("active_reconciliations", () => {
  it("sums every registered reconciler's passes under way at each scrape, and forgets a stopped one", async () => {
    const metrics = createMetrics();
    expect(value(await metrics.registry.metrics())).toBe("0");
    let a = 2;
    const stopA = countActiveReconciliations(() => a);
    const stopB = countActiveReconciliations(() => 1);
    expect(value(await metrics.registry.metrics())).toBe("3");
    a = 0;
    expect(value(await metrics.registry.metrics())).toBe("1");
    stopB();
    expect(value(await metrics.registry.metrics())).toBe("0");
    stopA();
  });
});
