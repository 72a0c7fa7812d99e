import { describe, expect, it } from "vitest";
import { applied, given, providerEvent, summary, t, tick } from "../../support/core-spec.js";

const site = applied(t(0), {
  providers: { cms: "sanity", ecommerce: null, ssg: "codebuild" },
  build_project: "acme-site",
  content_types: ["product", "page"],
});
const alive = [
  providerEvent(t(1), "sanity", "provider.heartbeat"),
  providerEvent(t(1), "codebuild", "provider.heartbeat"),
];
const publish = (at: number, content_type: string) =>
  providerEvent(at, "sanity", "content.published", { content_type, content_id: `doc-${at}` });
const build = (at: number, id: string, phase: "build.started" | "build.succeeded" | "build.failed") =>
  providerEvent(at, "codebuild", phase, { payload: { build_id: id } });

describe("content drift (composition-aware)", () => {
  it("marks the site stale when tracked content stays unbuilt past the grace period", () => {
    const history = given(
      site,
      ...alive,
      build(t(5), "b1", "build.started"),
      build(t(50), "b1", "build.succeeded"),
      publish(t(100), "product"),
    );
    expect(history.when(tick(t(399))).transitions).toEqual([]);
    const out = history.when(tick(t(401)));
    expect(summary(out.transitions)).toEqual([
      ["opened", "content", "acme-site", { last_build_covers: new Date(t(5)).toISOString() }],
    ]);
    expect(out.transitions[0]).toMatchObject({
      severity: "medium",
      kind: "site_stale",
      expected: { built_after: new Date(t(100)).toISOString() },
    });
  });

  it("ignores untracked content types", () => {
    expect(
      given(site, ...alive, publish(t(100), "draft-note"))
        .when(tick(t(1000)))
        .transitions.filter((x) => x.drift_type === "content"),
    ).toEqual([]);
  });

  it("a build that started before the publish does not resolve it; a later successful build does", () => {
    const history = given(site, ...alive, publish(t(100), "page"), build(t(90), "b2", "build.started"), tick(t(401)));
    const stillStale = history.when(build(t(420), "b2", "build.succeeded"));
    expect(summary(stillStale.transitions).map(([tr]) => tr)).toEqual(["updated"]);
    const fixed = history.when(
      build(t(420), "b2", "build.succeeded"),
      build(t(430), "b3", "build.started"),
      build(t(500), "b3", "build.failed"),
      build(t(510), "b4", "build.started"),
    );
    expect(fixed.transitions.map((x) => x.transition)).toEqual(["updated"]);
    const built = history.when(build(t(430), "b3", "build.started"), build(t(520), "b3", "build.succeeded"));
    expect(summary(built.transitions).map(([tr, type]) => [tr, type])).toEqual([["resolved", "content"]]);
  });

  it("a publish after a drift is open does not re-open or update it", () => {
    const out = given(site, ...alive, publish(t(100), "page"), tick(t(401))).when(
      publish(t(402), "product"),
      publish(t(403), "page"),
    );
    expect(out.transitions).toEqual([]);
  });
});
