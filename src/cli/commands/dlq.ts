/**
 * `blackwell dlq list` shows what was refused and why; `blackwell dlq redrive`
 * sends the original bytes back to their source topic after a fix (a schema
 * registered, a client's desired state applied...), marked with where they
 * came from. Re-driving twice is harmless: the reconciler folds duplicate
 * events idempotently, and a record that is still bad returns to the DLQ.
 */
import { parseArgs } from "node:util";
import { ERRORS } from "../../errors.js";
import { readRecords } from "../../runtime/read-records.js";
import { EXIT, UsageError, print, table, withContext } from "../cli-kit.js";

interface DeadLetter {
  dlq: string;
  key: string;
  source_topic: string;
  source_partition: number;
  source_offset: string;
  error_code: string;
  error_message: string;
  bytes: number;
}

const hdr = (h: Record<string, unknown> | undefined, name: string) => (h?.[name] === undefined ? "" : String(h[name]));

export async function dlq(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "list" && sub !== "redrive") throw new UsageError("dlq needs list or redrive");
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      json: { type: "boolean" },
      limit: { type: "string" },
      code: { type: "string" },
      source: { type: "string" },
      client: { type: "string" },
      at: { type: "string", multiple: true },
      all: { type: "boolean" },
      "dry-run": { type: "boolean" },
    },
  });
  // A selection that cannot match (a typo) would list or re-drive nothing and exit 0: refuse it instead.
  for (const at of values.at ?? []) {
    if (!/^\d+:\d+$/.test(at))
      throw new UsageError(`--at ${JSON.stringify(at)} is not <dlq-partition>:<dlq-offset> (as \`dlq list\` shows it)`);
  }
  if (values.code !== undefined && !Object.hasOwn(ERRORS, values.code))
    throw new UsageError(`--code ${JSON.stringify(values.code)} is not an error code (e.g. BLACKWELL_ERR_UNDECODABLE)`);
  if (values.limit !== undefined && !/^[1-9]\d*$/.test(values.limit))
    throw new UsageError(`--limit must be a whole number >= 1, got ${JSON.stringify(values.limit)}`);
  if (sub === "redrive" && !values.all && !values.at?.length && !values.code && !values.source && !values.client) {
    throw new UsageError(
      "redrive needs a selection: --at <dlq-partition>:<dlq-offset> (repeatable), --code, --source, --client, or --all",
    );
  }
  return withContext(async (ctx) => {
    const topics = Object.values(ctx.names) as string[];
    if (values.source !== undefined && !Object.hasOwn(ctx.names, values.source) && !topics.includes(values.source))
      throw new UsageError(
        `--source ${JSON.stringify(values.source)} is neither a topic role (provider-events, resource-events, ...) nor one of our topics`,
      );
    const all = await readRecords<never>(ctx, "dlq", null, { decode: false });
    const letters = all
      .map((r) => ({
        record: r,
        view: {
          dlq: `${r.partition}:${r.offset}`,
          key: r.key,
          source_topic: hdr(r.record.headers, "blackwell.source.topic"),
          source_partition: Number(hdr(r.record.headers, "blackwell.source.partition")),
          source_offset: hdr(r.record.headers, "blackwell.source.offset"),
          error_code: hdr(r.record.headers, "blackwell.error.code"),
          error_message: hdr(r.record.headers, "blackwell.error.message"),
          bytes: r.record.value?.length ?? 0,
        } satisfies DeadLetter,
      }))
      .filter(
        ({ view }) =>
          (!values.code || view.error_code === values.code) &&
          (!values.source ||
            view.source_topic === values.source ||
            view.source_topic === ctx.names[values.source as keyof typeof ctx.names]) &&
          (!values.client || view.key === values.client || view.key.startsWith(`${values.client}/`)) &&
          (!values.at?.length || values.at.includes(view.dlq)),
      );
    if (sub === "list") {
      const limit = Number(values.limit ?? 100);
      const shown = letters.slice(-limit).map((l) => l.view);
      print(values.json ?? false, shown, () =>
        shown.length === 0
          ? "the DLQ holds nothing that matches"
          : table([
              ["DLQ", "SOURCE", "KEY", "CODE", "REASON"],
              ...shown.map((v) => [
                v.dlq,
                `${v.source_topic}:${v.source_partition}@${v.source_offset}`,
                v.key,
                v.error_code,
                v.error_message.slice(0, 100),
              ]),
            ]),
      );
      return EXIT.ok;
    }
    const known = new Set(Object.values(ctx.names));
    const bySource = new Map<string, typeof letters>();
    const skipped: string[] = [];
    for (const l of letters) {
      if (!known.has(l.view.source_topic)) {
        skipped.push(`${l.view.dlq}: source topic ${JSON.stringify(l.view.source_topic)} is not one of ours`);
        continue;
      }
      bySource.set(l.view.source_topic, [...(bySource.get(l.view.source_topic) ?? []), l]);
    }
    if (!values["dry-run"]) {
      const producer = await ctx.kafka.producer();
      try {
        for (const [topic, list] of bySource) {
          // The original partition keeps the client's records together, whatever partitioner the original producer used.
          await producer.send(
            list.map((l) => ({
              topic,
              key: l.record.record.key,
              value: l.record.record.value,
              partition: l.view.source_partition,
              headers: { "blackwell.redriven-from": `${ctx.names.dlq}:${l.view.dlq}` },
            })),
          );
        }
      } finally {
        await producer.disconnect();
      }
    }
    const count = [...bySource.values()].reduce((n, l) => n + l.length, 0);
    const summary = {
      redriven: values["dry-run"] ? 0 : count,
      would_redrive: values["dry-run"] ? count : undefined,
      skipped,
      topics: Object.fromEntries([...bySource].map(([t, l]) => [t, l.length])),
    };
    print(values.json ?? false, summary, () =>
      [
        `${values["dry-run"] ? "would re-drive" : "re-drove"} ${count} record(s)`,
        ...[...bySource].map(([t, l]) => `  ${t}: ${l.length}`),
        ...skipped.map((s) => `  skipped ${s}`),
      ].join("\n"),
    );
    return skipped.length > 0 ? EXIT.problem : EXIT.ok;
  });
}
