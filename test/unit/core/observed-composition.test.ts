/**
 * The StateRecord's observed_hash is the hash of what a stack is observed to be made of: a heartbeat, a newer
 * observation of the same thing or a content change does not change it; a switched provider, a disconnect, a resource
 * status, an integration's configuration or a failing webhook does.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../../src/core/canonical-json.js";
import { observedComposition, observedHash } from "../../../src/core/diff/observed-composition.js";
import type { ObservedView } from "../../../src/core/diff/observed-view.js";

const view = (change: (v: ObservedView) => void = () => {}): ObservedView => {
  const v: ObservedView = {
    active: { cms: { name: "sanity", since: 1000 }, ecommerce: { name: "shopify", since: 1000 } },
    seen: { sanity: 5000, shopify: 5000 },
    disconnected: {},
    resources: { bucket: { status: "healthy", at: 4000 } },
    integrations: { products: { config: { value: { url: "https://x", mode: "sync" }, at: 3000 } } },
    pending: { post: [4500] },
    latest: { post: 4500 },
    covers: 2000,
  };
  change(v);
  return v;
};

describe("observed_hash", () => {
  const base = observedHash(view());

  it("stays when only times move: heartbeats, newer observations, content, builds", () => {
    expect(
      observedHash(
        view((v) => {
          v.seen.sanity = 9000;
          v.active.cms = { name: "sanity", since: 8000 };
          v.resources.bucket = { status: "healthy", at: 9000 };
          v.integrations.products = { config: { value: { mode: "sync", url: "https://x" }, at: 9000 } };
          v.pending.post = [4500, 8000];
          v.latest.post = 8000;
          v.covers = 7000;
        }),
      ),
    ).toBe(base);
  });

  it.each<[string, (v: ObservedView) => void]>([
    ["a switched provider", (v) => (v.active.cms = { name: "contentful", since: 6000 })],
    ["a provider disconnected after it was last seen", (v) => (v.disconnected.shopify = 6000)],
    ["a resource's status", (v) => (v.resources.bucket = { status: "degraded", at: 6000 })],
    ["an integration's configuration", (v) => (v.integrations.products!.config!.value = { url: "https://y" })],
    ["a failing webhook", (v) => (v.integrations.products!.webhook = { failures: 1, first_failure: 6000, at: 6000 })],
  ])("changes with %s", (_what, change) => {
    expect(observedHash(view(change))).not.toBe(base);
  });

  it("a disconnect older than the provider's last event is not a disconnected provider", () => {
    expect(observedHash(view((v) => (v.disconnected.shopify = 4000)))).toBe(base);
  });

  it("is the SHA-256 of the composition's canonical JSON, asked again or not, beyond the recent hashes kept", () => {
    const views = Array.from({ length: 5000 }, (_, i) =>
      view((v) => (v.integrations.products = { config: { value: { url: `https://x/${i}` }, at: i } })),
    );
    const sha = (v: ObservedView) =>
      createHash("sha256")
        .update(canonicalJson(observedComposition(v)))
        .digest("hex");
    for (const v of [...views, ...views.reverse()]) expect(observedHash(v)).toBe(sha(v));
  });
});
