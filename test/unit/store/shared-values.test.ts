import { describe, expect, it } from "vitest";
import { desiredStackFromAvro, desiredToAvro, toInput } from "../../../src/adapters/kafka/records.js";
import { loadSchemas } from "../../../src/adapters/kafka/schemas.js";
import { stateCodecOf } from "../../../src/adapters/store/state-codec.js";
import type { ClientState } from "../../../src/core/model/client-state.js";
import type { DesiredStack } from "../../../src/core/model/desired.js";
import { findDrifts } from "../../../src/core/diff/find-drifts.js";
import { observedView } from "../../../src/core/diff/observed-view.js";
import { evolve } from "../../../src/core/fold/evolve.js";
import { emptyClient } from "../../../src/core/model/client-state.js";
import { desiredFor } from "../../../bench/workload.js";

const types = loadSchemas();
const codec = stateCodecOf({ type: (name) => types.get(name)! });
const APPLIED = Date.parse("2026-11-30T00:00:00Z");

/** A stack's desired state as the store gives it back: encoded as a changelog entry, then decoded. */
function stored(desired: DesiredStack): DesiredStack {
  return desiredStackFromAvro(codec.decodeEntry(codec.encodeDesired(desired, 1)).desired!);
}

const stack = (client_id: string, environment = "prod") => ({ client_id, stack_id: `web-${environment}`, environment });

type AvroInput = Parameters<typeof toInput>[2];

/** An `integration.configured` provider event as it arrives; `environment` null: for the whole client. */
const configuredRecord = (client_id: string, payload_json: string, environment: string | null = "prod") =>
  ({
    event_id: `e-${client_id}`,
    client_id,
    stack_id: null,
    environment,
    provider_name: "shopify",
    provider_role: null,
    event_type: "integration.configured",
    content_id: null,
    content_type: null,
    integration: "orders-hook",
    timestamp: "2026-11-30T00:00:01.000Z",
    payload_json,
  }) as unknown as AvroInput;

/** `environment` null: reported for the whole client, so every stack of it observes the configuration. */
function configuredEvent(client_id: string, configuration: unknown, environment: string | null = "prod") {
  const value = configuredRecord(client_id, JSON.stringify({ configuration }), environment);
  return toInput("provider-events", client_id, value, APPLIED + 1000);
}

describe("decoded states share what clients have in common", () => {
  it("gives stacks that declare the same integrations one frozen configuration, and keeps what is their own", () => {
    const a = stored(desiredFor(stack("client-a"), APPLIED));
    const b = stored(desiredFor(stack("client-b"), APPLIED));
    // Everything but the policy, which reads back with its defaults filled in.
    expect({ ...a, policy: null }).toEqual({ ...desiredFor(stack("client-a"), APPLIED), policy: null });
    expect(b.integrations[0]!.config).toBe(a.integrations[0]!.config);
    expect(b.providers).toBe(a.providers);
    expect(b.staleness).toBe(a.staleness);
    expect(b.resources[0]!.arn).toBe("arn:aws:rds:eu-west-1:1:db:client-b");
    expect(a.resources[0]!.arn).toBe("arn:aws:rds:eu-west-1:1:db:client-a");
    // Changing a shared value would change every client that shares it: it fails loudly instead.
    const config = a.integrations[0]!.config as { url: string; topics: string[] };
    expect(Object.isFrozen(config) && Object.isFrozen(config.topics)).toBe(true);
    expect(() => {
      config.url = "https://elsewhere.example";
    }).toThrow(TypeError);
    expect(() => config.topics.push("orders/delete")).toThrow(TypeError);
    expect(b.integrations[0]!.config).toEqual({
      url: "https://hooks.example/catalog",
      topics: ["products/update", "products/create"],
      format: "json",
    });
  });

  it("keeps a stack whose configuration differs apart from the shared one", () => {
    const plain = stored(desiredFor(stack("client-a"), APPLIED));
    const own = desiredFor(stack("client-c"), APPLIED);
    own.integrations = own.integrations.map((i) =>
      i.name === "orders-hook" ? { ...i, config: { ...(i.config as object), format: "xml" } } : i,
    );
    own.providers = { ...own.providers, cms: "contentful" };
    const c = stored(own);
    expect(c.integrations.find((i) => i.name === "orders-hook")!.config).toEqual({
      url: "https://hooks.example/orders",
      topics: ["orders/create"],
      format: "xml",
    });
    expect(plain.integrations.find((i) => i.name === "orders-hook")!.config).toMatchObject({ format: "json" });
    expect(c.providers).toEqual({ cms: "contentful", ecommerce: "shopify", ssg: "codebuild" });
    expect(plain.providers.cms).toBe("sanity");
  });

  it("gives integrations that report the same configuration one frozen object, in events and in stored states", () => {
    const configuration = { url: "https://hooks.example/orders", topics: ["orders/create"], format: "json" };
    const one = configuredEvent("client-a", configuration);
    const two = configuredEvent("client-b", configuration);
    if (one.kind !== "ProviderEventObserved" || two.kind !== "ProviderEventObserved") throw new Error("not an event");
    expect(two.payload).toBe(one.payload);
    expect(Object.isFrozen(one.payload.configuration)).toBe(true);
    const other = configuredEvent("client-c", { ...configuration, format: "xml" });
    if (other.kind !== "ProviderEventObserved") throw new Error("not an event");
    expect(other.payload).toEqual({ configuration: { ...configuration, format: "xml" } });

    // The same configuration observed by two clients, read back from their runtime rows.
    const stateOf = (client_id: string): ClientState => ({
      client_id,
      stacks: {},
      scopes: {
        "*": {
          active: {},
          seen: { shopify: APPLIED },
          disconnected: {},
          resources: {},
          integrations: { "orders-hook": { config: { value: { ...configuration }, at: APPLIED } } },
          content: {},
          builds: { covers: null, started: {} },
        },
      },
    });
    const [x, y] = ["client-a", "client-b"].map((id) =>
      codec.decodeClient(codec.encodeRuntime(stateOf(id), null, 1), []),
    );
    const seen = (s: ClientState) => s.scopes["*"]!.integrations["orders-hook"]!.config!.value;
    expect(seen(y!)).toBe(seen(x!));
    expect(seen(x!)).toEqual(configuration);
    expect(x).toEqual(stateOf("client-a"));
  });

  it("judges a shared configuration by each stack's own ignore list, in either order", () => {
    // Staging ignores the format, prod does not; both declare the same configuration, so they share one object.
    const declare = (environment: string, ignore: string[]) => {
      const d = desiredFor(stack("client-a", environment), APPLIED);
      d.integrations = d.integrations.map((i) => (i.name === "orders-hook" ? { ...i, ignore_paths: ignore } : i));
      return stored(d);
    };
    const staging = declare("staging", ["/format"]);
    const prod = declare("prod", []);
    const hook = (d: DesiredStack) => d.integrations.find((i) => i.name === "orders-hook")!;
    expect(hook(staging).config).toBe(hook(prod).config);
    const reported = configuredEvent("client-a", { ...(hook(prod).config as object), format: "xml" }, null);
    const state = evolve(emptyClient("client-a"), reported);
    const configDrifts = (d: DesiredStack) =>
      findDrifts(d, observedView(state, d.stack_id, d.environment), APPLIED + 2000, APPLIED).findings.filter(
        (f) => f.kind === "integration_config",
      ).length;
    expect([configDrifts(staging), configDrifts(prod)]).toEqual([0, 1]);
    expect([configDrifts(prod), configDrifts(staging)]).toEqual([1, 0]);
  });

  it("still refuses a configuration that is not JSON, naming the field", () => {
    const value = desiredToAvro(desiredFor(stack("client-a"), APPLIED));
    value.integrations[0]!.config_json = "{not json";
    expect(() => toInput("desired-state", "client-a/web-prod", value as unknown as AvroInput, APPLIED)).toThrow(
      /integrations\.catalog-hook\.config_json is not valid JSON/,
    );
    expect(() => toInput("provider-events", "client-a", configuredRecord("client-a", "[1, 2]"), APPLIED)).toThrow(
      /payload_json must be a JSON object/,
    );
  });
});
