/**
 * `blackwell demo` (`make demo`): the main job end to end on the local
 * default. Brings up Kafka + registry if none is configured, applies the
 * example, runs the reconciler and feeds a scripted scenario; prints drift as
 * it is detected and resolved, read back from Kafka like any consumer would.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../adapters/kafka/project-root.js";
import { clientPartitioner } from "../adapters/kafka/partitioner.js";
import { parseBlackwellYaml } from "../adapters/yaml/parse-blackwell-yaml.js";
import { resolveKafkaConfig } from "../infra/connect.js";
import { createLogger } from "../observability/logger.js";
import { createAppContext } from "../runtime/app-context.js";
import { applyDesired } from "../runtime/apply-desired.js";
import { ReconcilerRunner } from "../runtime/reconciler-runner.js";

const say = (m: string) => console.log(`[demo] ${m}`);
const CLIENT = "acme-corp";

interface DriftEventValue { transition: string; stack_id: string; drift_type: string; component: string; severity: string; expected_json: string; observed_json: string }
interface StateValue { stack_id: string; status: string; state_version: string; drift_details: unknown[] }

export async function demo(): Promise<number> {
  const root = projectRoot();
  const log = createLogger("demo", process.env.LOG_LEVEL ?? "warn");
  const config = await resolveKafkaConfig(say);
  say(`kafka ${config.brokers.join(",")}  registry ${config.registryUrl}  topics ${config.topicPrefix}*`);
  const ctx = await createAppContext(config, log);
  const { kafka, names, serde } = ctx;

  const file = join(root, "examples/acme-corp/blackwell.yaml");
  const parsed = parseBlackwellYaml(readFileSync(file, "utf8"), "examples/acme-corp/blackwell.yaml");
  const changes = await applyDesired(ctx, parsed, { file: "examples/acme-corp/blackwell.yaml", appliedBy: "demo" });
  for (const c of changes) say(`apply ${CLIENT}/${c.stack_id}: ${c.change} ${c.from ?? ""}${c.to && c.to !== c.from ? ` -> ${c.to}` : ""}`);

  const runner = new ReconcilerRunner({
    kafka, admin: ctx.admin, serde, names, partitions: config.partitions, applicationId: "blackwell-reconciler",
    stateDir: join(root, ".blackwell", "state"), log, wallClockTicks: true,
  });
  await runner.start();
  say("reconciler running (consumer group blackwell-reconciler, exactly-once transactions)");

  const transitions: DriftEventValue[] = [];
  const watcher = kafka.consumer({ groupId: `blackwell-demo-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  const joined = new Promise<void>((r) => watcher.on(watcher.events.GROUP_JOIN, () => r()));
  await watcher.connect();
  await watcher.subscribe({ topics: [names["drift-events"]], fromBeginning: false });
  await watcher.run({
    eachMessage: async ({ message }) => {
      if (!message.value) return;
      const v = await serde.decode<DriftEventValue>("DriftEvent", message.value);
      transitions.push(v);
      const arrow = v.transition === "resolved" ? "✓" : "!";
      say(`  ${arrow} drift ${v.transition.padEnd(8)} ${v.stack_id} ${v.drift_type}/${v.component} (${v.severity}) expected ${v.expected_json.slice(0, 60)} observed ${v.observed_json.slice(0, 60)}`);
    },
  });
  await joined;

  const producer = kafka.producer({ idempotent: true, createPartitioner: clientPartitioner });
  await producer.connect();
  let clock = Date.now();
  const at = () => new Date((clock += 1000)).toISOString();
  const provider = (environment: string, provider_name: string, event_type: string, extra: Record<string, unknown> = {}) => ({
    event_id: randomUUID(), client_id: CLIENT, stack_id: null, environment, provider_name, provider_role: null, event_type,
    content_id: null, content_type: null, integration: null, timestamp: at(), payload_json: "{}", ...extra,
  });
  const resource = (environment: string, resource_name: string, status: string) => ({
    event_id: randomUUID(), client_id: CLIENT, stack_id: null, environment, resource_name, resource_arn: null, status, source: "demo", timestamp: at(), details_json: "{}",
  });
  const send = async (topic: "provider-events" | "resource-events", values: object[]) => {
    const schema = topic === "provider-events" ? "ProviderEvent" : "ResourceEvent";
    await producer.send({ topic: names[topic], acks: -1, messages: values.map((v) => ({ key: CLIENT, value: serde.encode(names[topic], schema, v) })) });
  };
  const waitFor = async (what: string, count: (t: DriftEventValue[]) => number, n: number) => {
    const deadline = Date.now() + 30_000;
    while (count(transitions) < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (count(transitions) < n) throw new Error(`demo: ${what} not seen within 30 s`);
  };
  const prodConfig = parsed.stacks.find((s) => s.stack_id === "cms-ecom-prod")!.integrations.find((i) => i.name === "shopify-products")!.config as Record<string, unknown>;

  say("step 1: providers and resources report healthy");
  for (const env of ["prod", "staging"]) {
    await send("provider-events", ["sanity", "shopify", "codebuild"].map((p) => provider(env, p, "provider.connected")));
    await send("resource-events", ["content_cache_table", "site_distribution", "site_bucket"].map((r) => resource(env, r, "healthy")));
  }
  await send("provider-events", [provider("prod", "shopify", "integration.configured", { integration: "shopify-products", payload_json: JSON.stringify({ configuration: prodConfig }) })]);

  const opened = (t: DriftEventValue[]) => t.filter((x) => x.transition === "opened").length;
  const resolved = (t: DriftEventValue[]) => t.filter((x) => x.transition === "resolved").length;
  const base = { opened: opened(transitions), resolved: resolved(transitions) };
  say("step 2: someone connects Contentful as the prod CMS, the prod site bucket is deleted, and the Shopify webhook loses a topic");
  await send("provider-events", [provider("prod", "contentful", "provider.connected")]);
  await send("resource-events", [resource("prod", "site_bucket", "deleted")]);
  await send("provider-events", [provider("prod", "shopify", "integration.configured", { integration: "shopify-products", payload_json: JSON.stringify({ configuration: { ...prodConfig, topics: ["products/create"] } }) })]);
  await waitFor("three drifts opened", opened, base.opened + 3);

  say("step 3: the fixes are observed: Sanity reconnects, the bucket is back, the webhook is reconfigured");
  await send("provider-events", [provider("prod", "sanity", "provider.connected")]);
  await send("resource-events", [resource("prod", "site_bucket", "healthy")]);
  await send("provider-events", [provider("prod", "shopify", "integration.configured", { integration: "shopify-products", payload_json: JSON.stringify({ configuration: prodConfig }) })]);
  await waitFor("three drifts resolved", resolved, base.resolved + 3);
  await new Promise((r) => setTimeout(r, 500));

  const states = new Map<string, StateValue>();
  const reader = kafka.consumer({ groupId: `blackwell-demo-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  await reader.connect();
  await reader.subscribe({ topics: [names["stack-state"]], fromBeginning: true });
  await reader.run({ eachMessage: async ({ message }) => {
    if (message.key?.toString().startsWith(`${CLIENT}/`) && message.value) states.set(message.key.toString(), await serde.decode<StateValue>("StateRecord", message.value));
  } });
  const until = Date.now() + 10_000;
  while (states.size < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 500));
  for (const [key, s] of states) say(`stack-state ${key}: ${s.status} (desired ${s.state_version}, ${s.drift_details.length} open drifts)`);

  await Promise.all([reader.disconnect(), watcher.disconnect(), producer.disconnect()]);
  await runner.stop();
  await ctx.close();
  say("done: drift detected and resolved from observation alone. The policy issued heal commands to blackwell.heal-commands (executors that carry them out, and the HTTP API, are not part of this build yet).");
  say("stop the local Kafka and registry with: npm run infra:down");
  return 0;
}
