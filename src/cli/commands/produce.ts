/**
 * `blackwell produce <topic> [-f file.json]`: publish events from JSON (one
 * object, an array, or JSON lines; stdin by default), validated exactly as
 * the reconciler validates them, keyed by client_id. Nothing is produced if
 * any record is invalid (exit 3, every problem listed).
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { toInput } from "../../adapters/kafka/records.js";
import { loadSchemas } from "../../adapters/kafka/schemas.js";
import { topicSpec, type TopicRole } from "../../adapters/kafka/topics.js";
import { BlackwellError, errorMessage } from "../../errors.js";
import { EXIT, UsageError, print, withContext } from "../cli-kit.js";

const PRODUCIBLE: readonly TopicRole[] = ["provider-events", "resource-events", "commands"];
type Json = Record<string, unknown>;

function parseJsonRecords(text: string): Json[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return (Array.isArray(parsed) ? parsed : [parsed]) as Json[];
  } catch {
    return trimmed
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((line, i) => {
        try {
          return JSON.parse(line) as Json;
        } catch (err) {
          throw new BlackwellError("BLACKWELL_ERR_INVALID_RECORD", `line ${i + 1}: not JSON: ${errorMessage(err)}`);
        }
      });
  }
}

/** Fills what a person should not have to type: ids, times, nulls, JSON-string payloads. */
function complete(role: TopicRole, r: Json): Json {
  const now = new Date().toISOString();
  const json = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v ?? {}));
  const { payload, details, params, ...rest } = r;
  switch (role) {
    case "provider-events":
      return {
        event_id: randomUUID(),
        stack_id: null,
        environment: null,
        provider_role: null,
        content_id: null,
        content_type: null,
        integration: null,
        timestamp: now,
        ...rest,
        payload_json: rest.payload_json ?? json(payload),
      };
    case "resource-events":
      return {
        event_id: randomUUID(),
        stack_id: null,
        environment: null,
        resource_arn: null,
        source: "blackwell-cli",
        timestamp: now,
        ...rest,
        details_json: rest.details_json ?? json(details),
      };
    default:
      return {
        command_id: randomUUID(),
        stack_id: null,
        drift_id: null,
        issued_by: process.env.BLACKWELL_USER ?? "blackwell-cli",
        issued_at: now,
        reason: null,
        ...rest,
        params_json: rest.params_json ?? json(params),
      };
  }
}

export async function produce(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { file: { type: "string", short: "f" }, json: { type: "boolean" } },
  });
  const role = positionals[0] as TopicRole | undefined;
  if (!role || !PRODUCIBLE.includes(role)) throw new UsageError(`produce needs a topic: ${PRODUCIBLE.join(", ")}`);
  const text = values.file && values.file !== "-" ? readFileSync(values.file, "utf8") : readFileSync(0, "utf8");
  const records = parseJsonRecords(text).map((r) => complete(role, r));
  if (records.length === 0) throw new UsageError("no records in the input");
  const schema = topicSpec(role).schema!;
  const type = loadSchemas().get(schema)!;
  const problems: string[] = [];
  records.forEach((r, i) => {
    try {
      if (typeof r.client_id !== "string" || r.client_id === "") throw new Error("client_id is required");
      const errors: string[] = [];
      if (!type.isValid(r, { errorHook: (path) => errors.push(path.join(".") || "(record)") }))
        throw new Error(`does not match ${schema}: ${[...new Set(errors)].join(", ")}`);
      toInput(role, r.client_id, r as never, Date.now());
    } catch (err) {
      problems.push(`record ${i + 1}: ${errorMessage(err)}`);
    }
  });
  if (problems.length > 0)
    throw new BlackwellError(
      "BLACKWELL_ERR_INVALID_RECORD",
      `nothing produced; ${problems.length} invalid record(s):\n${problems.map((p) => `  ${p}`).join("\n")}`,
    );
  const sent = await withContext(async (ctx) => {
    const topic = ctx.names[role];
    const producer = await ctx.kafka.producer();
    try {
      const meta = await producer.send(
        records.map((r) => ({ topic, key: String(r.client_id), value: ctx.serde.encode(topic, schema, r) })),
      );
      return {
        topic,
        records: records.length,
        partitions: meta.map((m) => ({ partition: m.partition, base_offset: m.baseOffset })),
      };
    } finally {
      await producer.disconnect();
    }
  });
  print(values.json ?? false, sent, () => `produced ${sent.records} record(s) to ${sent.topic}`);
  return EXIT.ok;
}
