import { describe, expect, it } from "vitest";
import { applied, given, providerEvent, resourceEvent, summary, t, tick } from "../../support/core-spec.js";

const withCdn = (at: number) =>
  applied(at, { resources: [{ name: "cdn", arn: "arn:aws:cloudfront::1:distribution/X", ignore_paths: [] }] });
const alive = (at: number) => providerEvent(at, "sanity", "provider.heartbeat");

describe("resource drift", () => {
  it.each(["unhealthy", "deleted", "degraded"] as const)(
    "opens a high drift when an expected resource is %s",
    (status) => {
      const out = given(withCdn(t(0)), alive(t(1)), resourceEvent(t(2), "cdn", "healthy")).when(
        resourceEvent(t(3), "cdn", status),
      );
      expect(summary(out.transitions)).toEqual([["opened", "resource", "cdn", status]]);
      expect(out.transitions[0]!.severity).toBe("high");
    },
  );

  it("resolves only when the resource is observed healthy again", () => {
    const out = given(withCdn(t(0)), alive(t(1)), resourceEvent(t(2), "cdn", "unhealthy")).when(
      resourceEvent(t(3), "cdn", "degraded"),
      resourceEvent(t(4), "cdn", "healthy"),
    );
    expect(summary(out.transitions)).toEqual([
      ["updated", "resource", "cdn", "degraded"],
      ["resolved", "resource", "cdn", "degraded"],
    ]);
  });

  it("an older report arriving late does not reopen a resolved drift", () => {
    const out = given(
      withCdn(t(0)),
      alive(t(1)),
      resourceEvent(t(2), "cdn", "unhealthy"),
      resourceEvent(t(5), "cdn", "healthy"),
    ).when(resourceEvent(t(3), "cdn", "unhealthy"));
    expect(out.transitions).toEqual([]);
  });

  it("reports unknown once the last observation is older than the TTL", () => {
    const before = given(withCdn(t(0)), alive(t(1)), resourceEvent(t(2), "cdn", "healthy"), alive(t(500)));
    expect(before.when(tick(t(601))).transitions).toEqual([]);
    expect(summary(before.when(tick(t(603))).transitions)).toEqual([["opened", "resource", "cdn", "unknown"]]);
  });
});
