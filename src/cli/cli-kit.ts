/** What every `blackwell` subcommand shares: exit codes, output, a Kafka context. */
import { kafkaConfigFromEnv } from "../config/config.js";
import { createLogger } from "../observability/logger.js";
import { createAppContext, type AppContext } from "../runtime/app-context.js";

/** 0 ok · 1 ran and found a problem · 2 usage · 3 invalid input · 4 Kafka/registry unavailable. */
export const EXIT = { ok: 0, problem: 1, usage: 2, invalid: 3, unavailable: 4 } as const;

export class UsageError extends Error {}

export function print(json: boolean, value: unknown, human: () => string): void {
  console.log(json ? JSON.stringify(value, null, 2) : human());
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}

export async function withContext<T>(work: (ctx: AppContext) => Promise<T>): Promise<T> {
  const log = createLogger("blackwell-cli", process.env.LOG_LEVEL ?? "warn");
  // Operator commands act on the configured Kafka only: a local one would answer with an empty, wrong picture.
  const config = kafkaConfigFromEnv();
  const ctx = await createAppContext(config, log);
  try {
    return await work(ctx);
  } finally {
    await ctx.close();
  }
}
