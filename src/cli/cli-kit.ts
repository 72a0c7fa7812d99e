/** What every `blackwell` subcommand shares: exit codes, output, a Kafka context. */
import { userInfo } from "node:os";
import { kafkaError } from "../adapters/kafka/kafka-errors.js";
import { BlackwellError, ERRORS, EXIT, errorMessage, type ExitCode } from "../errors.js";
import { kafkaConfigOrRunningLocal } from "../infra/connect.js";
import { createLogger } from "../observability/logger.js";
import { createAppContext, type AppContext } from "../runtime/app-context.js";

/** 0 ok · 1 ran and found a problem · 2 usage · 3 invalid input · 4 Kafka/registry unavailable · 5 crashed (see the catalog). */
export { EXIT };

/** Wrong arguments: the command prints its help and exits 2. */
export class UsageError extends BlackwellError {
  constructor(message: string) {
    super("BLACKWELL_ERR_USAGE", message);
  }
}

/** A failed command's exit code, from the catalog entry of its error. */
export function exitCodeFor(err: unknown): ExitCode {
  // node:util parseArgs rejects unknown or malformed options with a TypeError coded ERR_PARSE_ARGS_*.
  if (err instanceof TypeError && "code" in err && String(err.code).startsWith("ERR_PARSE_ARGS")) return EXIT.usage;
  // A file named on the command line that is not there (apply -f, produce -f) is invalid input.
  if ((err as NodeJS.ErrnoException | null)?.code === "ENOENT") return EXIT.invalid;
  // Registry failures arrive classified (BLACKWELL_ERR_REGISTRY_UNAVAILABLE, from the serde) and KafkaJS errors are
  // classified here; anything else is a crash (INTERNAL, exit 5), never reported as "unavailable" (4): a script that
  // retries on 4 would retry a bug for ever.
  return ERRORS[kafkaError(err, "blackwell").code].exit;
}

/**
 * A crash (exit 5) in one line: the command, what failed and how to see more. The stack trace only on request
 * (`BLACKWELL_DEBUG=1`): a trace alone does not tell a user what went wrong.
 */
export function crashMessage(command: string, err: unknown, debug = process.env.BLACKWELL_DEBUG === "1"): string {
  const stack = debug && err instanceof Error && err.stack ? `\n${err.stack}` : "";
  const hint = stack ? "" : " (a fault in blackwell; BLACKWELL_DEBUG=1 shows the stack trace)";
  return `blackwell ${command}: internal error: ${errorMessage(err)}${hint}${stack}`;
}

export function print(json: boolean, value: unknown, human: () => string): void {
  console.log(json ? JSON.stringify(value, null, 2) : human());
}

/**
 * Two long values cut to `width` characters each where they differ, not at their start: an expected and an observed
 * configuration that share a long prefix (a webhook URL) otherwise read as the same text.
 */
export function clipDifference(a: string, b: string, width: number): [string, string] {
  if (a.length <= width && b.length <= width) return [a, b];
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const start = Math.max(0, Math.min(i - Math.floor(width / 4), Math.max(a.length, b.length) - width));
  const clip = (s: string) =>
    `${start > 0 ? "…" : ""}${s.slice(start, start + width)}${s.length > start + width ? "…" : ""}`;
  return [clip(a), clip(b)];
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export async function withContext<T>(work: (ctx: AppContext) => Promise<T>): Promise<T> {
  // Logs (ours and KafkaJS's warnings) on stderr: stdout is the command's answer, and `--json` must parse.
  const log = createLogger("blackwell-cli", process.env.LOG_LEVEL ?? "warn", { to: "stderr" });
  // The configured Kafka, or the local one `make demo` / `blackwell up` left running; never one started here.
  const config = kafkaConfigOrRunningLocal((m) => console.error(`[blackwell] ${m}`));
  const ctx = await createAppContext(config, log);
  try {
    return await work(ctx);
  } finally {
    await ctx.close();
  }
}

/**
 * Who runs the command, for the records it writes: `--by`, else BLACKWELL_USER, else the login name; trimmed. A blank
 * `--by` is refused: a name that says nobody would slip past a four-eyes check (found trying promotion approval).
 */
export function actorName(by: string | undefined): string {
  if (by !== undefined) {
    const name = by.trim();
    if (name === "") throw new UsageError("--by must name someone");
    return name;
  }
  return process.env.BLACKWELL_USER?.trim() || userInfo().username;
}
