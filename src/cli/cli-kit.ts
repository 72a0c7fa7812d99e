/** What every `blackwell` subcommand shares: exit codes, output, a Kafka context. */
import { kafkaError } from "../adapters/kafka/kafka-errors.js";
import { BlackwellError, ERRORS, EXIT, type ExitCode } from "../errors.js";
import { kafkaConfigOrRunningLocal } from "../infra/connect.js";
import { createLogger } from "../observability/logger.js";
import { createAppContext, type AppContext } from "../runtime/app-context.js";

/** 0 ok · 1 ran and found a problem · 2 usage · 3 invalid input · 4 Kafka/registry unavailable (see the catalog). */
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
  const classified = kafkaError(err, "blackwell");
  // Not ours and not Kafka's: mostly network failures of clients not wrapped yet (registry HTTP, AWS), which
  // the command has always reported as "unavailable"; the catalog's INTERNAL (1) would tell scripts it ran.
  if (classified.code === "BLACKWELL_ERR_INTERNAL" && !(err instanceof BlackwellError)) return EXIT.unavailable;
  return ERRORS[classified.code].exit;
}

export function print(json: boolean, value: unknown, human: () => string): void {
  console.log(json ? JSON.stringify(value, null, 2) : human());
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
  const log = createLogger("blackwell-cli", process.env.LOG_LEVEL ?? "warn");
  // The configured Kafka, or the local one `make demo` / `blackwell up` left running; never one started here.
  const config = kafkaConfigOrRunningLocal((m) => console.error(`[blackwell] ${m}`));
  const ctx = await createAppContext(config, log);
  try {
    return await work(ctx);
  } finally {
    await ctx.close();
  }
}
