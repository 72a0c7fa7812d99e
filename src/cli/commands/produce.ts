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

/** One input record with where it came from: `file:line` for JSON lines, `file` inside one JSON document. */
interface Located {
  where: string;
  value: unknown;
}

/**
 * The records of `text`: one JSON document (an object or an array of them) or JSON lines. Lines are counted as a
 * person counts them (blank lines too), and every line that is not JSON is reported, not only the first.
 */
export function parseJsonRecords(text: string, source: string): { records: Located[]; problems: string[] } {
  if (text.trim() === "") return { records: [], problems: [] };
  let whole: unknown;
  let wholeError: unknown;
  try {
    whole = JSON.parse(text);
  } catch (err) {
    wholeError = err;
  }
  if (wholeError === undefined) {
    const values = Array.isArray(whole) ? (whole as unknown[]) : [whole];
    return { records: values.map((value) => ({ where: source, value })), problems: [] };
  }
  const records: Located[] = [];
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const where = `${source}:${i + 1}`;
    try {
      records.push({ where, value: JSON.parse(line) as unknown });
    } catch (err) {
      problems.push(`${where}: not JSON: ${errorMessage(err)}`);
    }
  });
  // Not JSON lines either: one multi-line document with a syntax error, reported once rather than line by line.
  if (records.length === 0 && problems.length > 1)
    return { records, problems: [`${source}: not JSON (one document or JSON lines): ${errorMessage(wholeError)}`] };
  return { records, problems };
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

/**
 * Parses and validates every record of `text` as the reconciler would, completing what a person need not type.
 * Returns the records to send, or every problem found (as `file:line: record N: problem`).
 */
export function validateRecords(
  role: TopicRole,
  text: string,
  source: string,
): { records: Json[]; problems: string[] } {
  const parsed = parseJsonRecords(text, source);
  const schema = topicSpec(role).schema!;
  const type = loadSchemas().get(schema)!;
  const problems = [...parsed.problems];
  const records: Json[] = [];
  parsed.records.forEach(({ where, value }, i) => {
    const problem = (message: string) => problems.push(`${where}: record ${i + 1}: ${message}`);
    // `[1, "a", null]` used to fail with "Cannot destructure": every record must be an object.
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      problem(
        `must be a JSON object, not ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}`,
      );
      return;
    }
    const r = complete(role, value as Json);
    try {
      if (typeof r.client_id !== "string" || r.client_id === "") throw new Error("client_id is required");
      const errors: string[] = [];
      if (!type.isValid(r, { errorHook: (path) => errors.push(path.join(".") || "(record)") }))
        throw new Error(`does not match ${schema}: ${[...new Set(errors)].join(", ")}`);
      toInput(role, r.client_id, r as never, Date.now());
      records.push(r);
    } catch (err) {
      problem(errorMessage(err));
    }
  });
  return { records: problems.length > 0 ? [] : records, problems };
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
  const fromStdin = !values.file || values.file === "-";
  const source = fromStdin ? "stdin" : values.file!;
  const text = readFileSync(fromStdin ? 0 : source, "utf8");
  const { records, problems } = validateRecords(role, text, source);
  if (records.length === 0 && problems.length === 0) throw new UsageError("no records in the input");
  if (problems.length > 0)
    throw new BlackwellError(
      "BLACKWELL_ERR_INVALID_RECORD",
      `nothing produced; ${problems.length} invalid record(s):\n${problems.map((p) => `  ${p}`).join("\n")}`,
    );
  const schema = topicSpec(role).schema!;
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
