import { describe, expect, it } from "vitest";
import { applied, given, providerEvent, summary, t } from "../../support/core-spec.js";

const expected = {
  url: "https://acme.example/hook",
  events: ["product.update", "product.create"],
  secret_ref: "vault:shopify",
  meta: { retries: 3 },
};
const declared = (ignore: string[] = []) =>
  applied(t(0), {
    providers: { cms: "sanity", ecommerce: "shopify", ssg: null },
    integrations: [{ name: "shopify-products", config: expected, ignore_paths: ignore }],
  });
const configured = (at: number, configuration: unknown) =>
  providerEvent(at, "shopify", "integration.configured", {
    integration: "shopify-products",
    payload: { configuration },
  });
const alive = [
  providerEvent(t(1), "sanity", "provider.heartbeat"),
  providerEvent(t(1), "shopify", "provider.heartbeat"),
];

describe("integration drift", () => {
  it("sees no drift when the observed config equals the declared one in another key and array order", () => {
    const out = given(declared(), ...alive).when(
      configured(t(2), {
        meta: { retries: 3 },
        secret_ref: "vault:shopify",
        events: ["product.create", "product.update"],
        url: "https://acme.example/hook",
      }),
    );
    expect(out.transitions).toEqual([]);
  });

  it("opens a medium drift when a nested value differs, and resolves when it is configured back", () => {
    const out = given(declared(), ...alive).when(
      configured(t(2), { ...expected, meta: { retries: 0 } }),
      configured(t(3), expected),
    );
    expect(summary(out.transitions).map(([tr, type, c]) => [tr, type, c])).toEqual([
      ["opened", "integration", "shopify-products"],
      ["resolved", "integration", "shopify-products"],
    ]);
    expect(out.transitions[0]).toMatchObject({
      severity: "medium",
      kind: "integration_config",
      observed: { meta: { retries: 0 } },
    });
  });

  it("ignores differences under the declared JSON pointers", () => {
    const out = given(declared(["/meta/retries", "/secret_ref"]), ...alive).when(
      configured(t(2), { ...expected, meta: { retries: 9 }, secret_ref: "rotated" }),
    );
    expect(out.transitions).toEqual([]);
  });

  it("opens webhook_broken after the failure threshold and resolves on the next delivery", () => {
    const failed = (at: number) => providerEvent(at, "shopify", "webhook.failed", { integration: "shopify-products" });
    const history = given(declared(), ...alive, failed(t(2)), failed(t(3)));
    const out = history.when(
      failed(t(4)),
      failed(t(5)),
      providerEvent(t(6), "shopify", "webhook.delivered", { integration: "shopify-products" }),
    );
    expect(summary(out.transitions)).toEqual([
      ["opened", "integration", "shopify-products/webhook", { failing_since: new Date(t(2)).toISOString() }],
      ["resolved", "integration", "shopify-products/webhook", { failing_since: new Date(t(2)).toISOString() }],
    ]);
  });
});
