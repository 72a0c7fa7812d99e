/**
 * The demo's events as the outside world would publish them: provider and resource events for one client, with
 * real, strictly increasing event times (the executors wait for `not_before` on the wall clock), written to the input
 * topics in the registry's Avro.
 */
import { randomUUID } from "node:crypto";
import type { RecordProducer } from "../adapters/kafka/port.js";
import type { AppContext } from "../runtime/app-context.js";
import type { WorldReactions } from "./demo-world.js";

export type InputTopic = "provider-events" | "resource-events" | "commands";
export interface Scope {
  environment?: string;
  stack_id?: string;
}

export class DemoEvents {
  private clock = Date.now();

  constructor(
    private readonly ctx: Pick<AppContext, "names" | "serde">,
    private readonly producer: RecordProducer,
    readonly clientId: string,
  ) {}

  /** An event time after every earlier one. */
  at(): string {
    this.clock = Math.max(this.clock + 1, Date.now());
    return new Date(this.clock).toISOString();
  }

  provider(scope: Scope, provider_name: string, event_type: string, extra: Record<string, unknown> = {}): object {
    return {
      event_id: randomUUID(),
      client_id: this.clientId,
      stack_id: scope.stack_id ?? null,
      environment: scope.environment ?? null,
      provider_name,
      provider_role: null,
      event_type,
      content_id: null,
      content_type: null,
      integration: null,
      timestamp: this.at(),
      payload_json: "{}",
      ...extra,
    };
  }

  resource(scope: Scope, resource_name: string, status: string, source = "demo"): object {
    return {
      event_id: randomUUID(),
      client_id: this.clientId,
      stack_id: scope.stack_id ?? null,
      environment: scope.environment ?? null,
      resource_name,
      resource_arn: null,
      status,
      source,
      timestamp: this.at(),
      details_json: "{}",
    };
  }

  async send(topic: InputTopic, values: object[]): Promise<void> {
    const { names, serde } = this.ctx;
    const schema =
      topic === "provider-events" ? "ProviderEvent" : topic === "resource-events" ? "ResourceEvent" : "Command";
    await this.producer.send(
      values.map((v) => ({ topic: names[topic], key: this.clientId, value: serde.encode(names[topic], schema, v) })),
    );
  }

  /** The world's answer to the executors' Integration API calls: the provider reports the new facts. */
  worldReactions(say: (m: string) => void): WorldReactions {
    return {
      providerRegistered: async (c) => {
        say(
          `  world: Integration API re-registered ${c.provider_name} as the ${c.provider_type} of ${c.stack_id}; the provider reports in`,
        );
        await this.send("provider-events", [
          this.provider({ stack_id: c.stack_id }, c.provider_name, "provider.connected", {
            provider_role: c.provider_type,
          }),
        ]);
      },
      integrationConfigured: async (c) => {
        say(
          `  world: Integration API reconfigured ${c.integration} on ${c.stack_id}; the provider confirms the new configuration`,
        );
        await this.send("provider-events", [
          this.provider({ stack_id: c.stack_id }, c.integration.split("-")[0]!, "integration.configured", {
            integration: c.integration,
            payload_json: JSON.stringify({ configuration: c.configuration }),
          }),
        ]);
      },
    };
  }
}
