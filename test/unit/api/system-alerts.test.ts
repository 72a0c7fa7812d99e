import { describe, expect, it } from "vitest";
import { firingAlerts, LAG_WARNING_RECORDS, type SystemFigures } from "../../../src/api/system-alerts.js";

const quiet: SystemFigures = {
  lagRecords: 0,
  ingestPerSecond: 120,
  processedPerSecond: 120,
  windowSeconds: 60,
  lagAtWindowStart: 0,
  deadLettersInWindow: 0,
  stacksInError: 0,
  openCriticalDrifts: 0,
  replicaLagRecords: 0,
};
const names = (f: Partial<SystemFigures>) => firingAlerts({ ...quiet, ...f }).map((a) => a.alert);

describe("the alerts of the console's system panel", () => {
  it("fires nothing for a fleet that is caught up, healthy and clean", () => {
    expect(firingAlerts(quiet)).toEqual([]);
  });

  it("calls the reconciler stalled only when records waited through the whole window with none processed", () => {
    expect(names({ lagRecords: 40, lagAtWindowStart: 40, processedPerSecond: 0 })).toEqual(["ReconcilerStalled"]);
    // A record that arrived after the window started is not a stall, nor is a window too short to say.
    expect(names({ lagRecords: 1, lagAtWindowStart: 0, processedPerSecond: 0 })).toEqual([]);
    expect(names({ lagRecords: 40, lagAtWindowStart: null, processedPerSecond: null, windowSeconds: null })).toEqual(
      [],
    );
    const [stalled] = firingAlerts({ ...quiet, lagRecords: 40, lagAtWindowStart: 40, processedPerSecond: 0 });
    expect(stalled).toEqual({
      alert: "ReconcilerStalled",
      severity: "critical",
      summary: "40 input records waiting and none processed in the last 60 s: is a reconciler running?",
    });
  });

  it("warns of a reconciler that makes progress but is far behind, with the rates", () => {
    const [behind] = firingAlerts({ ...quiet, lagRecords: LAG_WARNING_RECORDS + 1, ingestPerSecond: 900 });
    expect(behind).toEqual({
      alert: "ReconcilerBehind",
      severity: "warning",
      summary: `${LAG_WARNING_RECORDS + 1} input records behind (arriving 900/s, processed 120/s)`,
    });
    expect(names({ lagRecords: LAG_WARNING_RECORDS })).toEqual([]);
  });

  it("fires for stacks in error, critical drifts, new dead letters and a stale replica, critical ones first", () => {
    expect(
      names({ deadLettersInWindow: 3, stacksInError: 2, openCriticalDrifts: 1, replicaLagRecords: 5_000 }),
    ).toEqual(["CriticalDriftOpen", "StacksInError", "DeadLettersArriving", "ReplicaBehind"]);
    expect(firingAlerts({ ...quiet, stacksInError: 1 })[0]!.summary).toBe(
      "1 stack in error: healing gave up or was rejected",
    );
    // Dead letters held from long ago are no alert: only new ones within the window are.
    expect(names({ deadLettersInWindow: 0 })).toEqual([]);
    expect(names({ deadLettersInWindow: null, windowSeconds: null })).toEqual([]);
  });
});
