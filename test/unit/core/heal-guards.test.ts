import { describe, expect, it } from "vitest";
import { applied, desiredStack, providerEvent, resourceEvent, run, t, T0, tick } from "../../support/core-spec.js";
import type { DesiredStack, HealWindow } from "../../../src/core/model/desired.js";
import { nextOpening, windowBlock } from "../../../src/core/policy/heal-windows.js";
import type { HealCommandOutput } from "../../../src/core/model/outputs.js";

/** The resource a rebuild command is for (null for any other action). */
const resourceOf = (c: HealCommandOutput) => (c.action === "resource.rebuild" ? c.params.resource : null);

const healing = (
  autoHeal: Partial<DesiredStack["policy"]["auto_heal"]> = {},
  extra: Partial<DesiredStack> = {},
  resources = ["db"],
) =>
  applied(t(0), {
    providers: { cms: "sanity", ecommerce: null, ssg: "codebuild" },
    build_project: "acme-site",
    content_types: ["product"],
    resources: resources.map((name) => ({ name, arn: `arn:aws:s3:::${name}`, ignore_paths: [] })),
    staleness: { ...desiredStack().staleness, resource_ttl_seconds: 86_400 },
    policy: {
      ...desiredStack().policy,
      auto_heal: {
        enabled: true,
        max_attempts: 3,
        backoff_strategy: "exponential",
        backoff_base_seconds: 30,
        backoff_cap_seconds: 900,
        allowed_drift_types: ["resource_unhealthy", "site_stale"],
        require_approval: [],
        ...autoHeal,
      },
    },
    ...extra,
  });
const alive = [
  providerEvent(t(1), "sanity", "provider.heartbeat"),
  providerEvent(t(1), "codebuild", "provider.heartbeat"),
];

describe("runaway guards", () => {
  it("opens the stack's circuit breaker at max heals per window: audit + drift note, no more commands until it closes", () => {
    const out = run([
      healing({ circuit_breaker: { max_heals: 2, window_seconds: 600 }, backoff_base_seconds: 3600 }, {}, [
        "db",
        "cache",
        "bucket",
      ]),
      ...alive,
      resourceEvent(t(10), "db", "unhealthy"),
      resourceEvent(t(20), "cache", "unhealthy"),
      resourceEvent(t(30), "bucket", "unhealthy"),
      tick(t(200)),
      tick(t(609)),
      tick(t(610)),
    ]);
    expect(out.healCommands.map((c) => [resourceOf(c), c.issued_at])).toEqual([
      ["db", t(10)],
      ["cache", t(20)],
      ["bucket", t(610)],
    ]);
    expect(out.audits.filter((a) => a.action.startsWith("circuit_breaker")).map((a) => [a.action, a.at])).toEqual([
      ["circuit_breaker_opened", t(20)],
      ["circuit_breaker_closed", t(610)],
      ["circuit_breaker_opened", t(610)], // the bucket's heal fills the window again
    ]);
    const note = out.transitions.find((x) => x.transition === "note")!;
    expect(note).toMatchObject({
      component: "cache",
      note: expect.stringContaining("circuit breaker opened: 2 heals within 600s reached the limit of 2"),
    });
    const bucket = out.transitions.find((x) => x.component === "bucket")!.drift_id;
    expect(out.audits.find((a) => a.action === "heal_wait_breaker")).toMatchObject({ drift_id: bucket, at: t(30) });
  });

  it("switches a flapping component to alert-only with a note saying why, and heals other drifts as usual", () => {
    const flips = [10, 20, 30, 40, 50].flatMap((s) => [
      resourceEvent(t(s * 10), "db", "unhealthy"),
      resourceEvent(t(s * 10 + 5), "db", "healthy"),
    ]);
    const out = run([
      healing({ flap_detection: { max_flips: 3, window_seconds: 1800 }, backoff_base_seconds: 1 }, {}, ["db", "cache"]),
      ...alive,
      ...flips,
      resourceEvent(t(600), "cache", "unhealthy"),
    ]);
    expect(out.healCommands.filter((c) => resourceOf(c) === "db")).toHaveLength(2);
    const notes = out.transitions.filter((x) => x.transition === "note");
    expect(notes).toHaveLength(3); // the 3rd, 4th and 5th opening each say so
    expect(notes[0]!.note).toContain("flapping: opened 3 times within 1800s (limit 3)");
    expect(
      out.audits.filter((a) => a.action === "heal_alert_only" && a.reason?.startsWith("flapping")),
    ).not.toHaveLength(0);
    expect(out.healCommands.filter((c) => resourceOf(c) === "cache")).toHaveLength(1);
  });

  it("defers a heal inside a deny window until it ends (deny wins over allow)", () => {
    // T0 is a Thursday, 00:00 UTC; deny 00:00-02:00 UTC every day, allow all day thursday.
    const windows: HealWindow[] = [
      { action: "allow", days: ["thu"], start: "00:00", end: "24:00", timezone: "UTC", drift_types: [] },
      { action: "deny", days: [], start: "00:00", end: "02:00", timezone: "UTC", drift_types: ["resource_unhealthy"] },
    ].map(
      (w) => ({ ...w, days: w.days.length ? w.days : ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] }) as HealWindow,
    );
    const out = run([
      healing({ windows }),
      ...alive,
      resourceEvent(t(10), "db", "unhealthy"),
      tick(t(7199)),
      tick(t(7200)),
    ]);
    expect(out.healCommands.map((c) => [c.attempt, c.issued_at])).toEqual([[1, t(7200)]]);
    expect(out.audits.find((a) => a.action === "heal_wait_window")!.reason).toContain(
      "waits until 2026-01-01T02:00:00.000Z",
    );
  });

  it("coalesces a burst of content publishes into one site rebuild after the quiet period", () => {
    const publishes = Array.from({ length: 20 }, (_, i) =>
      providerEvent(t(10 + i * 20), "sanity", "content.published", { content_type: "product", content_id: `p${i}` }),
    );
    const out = run([
      healing(
        { content_quiet_period_seconds: 120, backoff_base_seconds: 3600 },
        { staleness: { ...desiredStack().staleness, content_grace_seconds: 60 } },
      ),
      ...alive,
      ...publishes,
      tick(t(500)),
      tick(t(510)),
      tick(t(511)),
      tick(t(900)),
    ]);
    const rebuilds = out.healCommands.filter((c) => c.action === "site.rebuild");
    expect(rebuilds).toHaveLength(1);
    expect(rebuilds[0]!.issued_at).toBe(t(10 + 19 * 20 + 120)); // last publish + quiet period
  });
});

describe("heal windows", () => {
  const thursday = Date.parse("2026-01-01T12:00:00Z");
  const berlinNights: HealWindow = {
    action: "allow",
    days: ["mon", "tue", "wed", "thu", "fri"],
    start: "22:00",
    end: "06:00",
    timezone: "Europe/Berlin",
    drift_types: ["site_stale"],
  };

  it("judges local time in the window's zone, across midnight", () => {
    expect(windowBlock([berlinNights], "site_stale", thursday)).toMatch(/^outside every allow window/);
    expect(windowBlock([berlinNights], "site_stale", Date.parse("2026-01-01T21:30:00Z"))).toBeNull(); // 22:30 in Berlin
    expect(windowBlock([berlinNights], "site_stale", Date.parse("2026-01-02T04:59:00Z"))).toBeNull(); // 05:59 Friday, thursday's night
    expect(windowBlock([berlinNights], "resource_unhealthy", thursday)).toBeNull(); // other kinds unaffected
  });

  it("finds the next opening to the minute", () => {
    expect(nextOpening([berlinNights], "site_stale", thursday)).toBe(Date.parse("2026-01-01T21:00:00Z"));
    expect(nextOpening([{ ...berlinNights, days: [] }], "site_stale", thursday)).toBeNull();
    expect(T0).toBe(Date.parse("2026-01-01T00:00:00Z"));
  });
});
