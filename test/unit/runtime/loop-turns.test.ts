import { describe, expect, it } from "vitest";
import { LoopTurns, STRETCH_MS, TimeSlice } from "../../../src/runtime/loop-turns.js";

/** Holds the thread for `ms`, as decoding and folding a stretch of records does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe("tasks taking turns on the event loop", () => {
  it("resumes one paused stretch per turn, in the order they paused, with timers running between any two", async () => {
    const turns = new LoopTurns();
    const log: string[] = [];
    // A timer that re-arms itself runs once per turn of the loop at most: the I/O a health check or a fetch needs.
    let ticking = true;
    const tick = () => {
      log.push("timer");
      if (ticking) setTimeout(tick, 0);
    };
    setTimeout(tick, 0);
    const worker = async (name: string) => {
      for (let stretch = 0; stretch < 3; stretch++) {
        await turns.next();
        log.push(name);
        busy(3); // longer than a timer's least delay (1 ms), so the timer is due at every turn
      }
    };
    await Promise.all(["a", "b", "c"].map(worker));
    ticking = false;

    const stretches = log.filter((e) => e !== "timer");
    expect(stretches).toEqual(["a", "b", "c", "a", "b", "c", "a", "b", "c"]);
    const firstStretch = log.indexOf("a");
    const adjacent = log
      .slice(firstStretch)
      .filter((e, i, all) => e !== "timer" && all[i + 1] !== undefined && all[i + 1] !== "timer");
    expect(adjacent).toEqual([]);
  });

  it("a slice is due once it held the loop for a stretch, and starts a new one after its pause", async () => {
    const slice = new TimeSlice(new LoopTurns());
    expect(slice.due()).toBe(false);
    busy(STRETCH_MS);
    expect(slice.due()).toBe(true);
    await slice.pause();
    expect(slice.due()).toBe(false);
  });
});
