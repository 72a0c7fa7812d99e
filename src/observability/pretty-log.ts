/**
 * The human form of our log lines, for a terminal:
 *
 *   14:02:03 WARN  reconciler  the message  key=value other={"a":1}
 *
 * pino still builds (and redacts) each JSON line; the destination stream here parses it back and writes it in this
 * form instead, so redaction and levels work exactly as in JSON mode. Our own code: pino-pretty is not a dependency.
 */
import type { DestinationStream } from "pino";

export type LogFormat = "json" | "pretty";

/**
 * `BLACKWELL_LOG_FORMAT=json` or `pretty` decides; unset (or anything else), a terminal gets the human form and
 * anything else (a pipe, a file, a container's log collector) JSON lines.
 */
export function chooseLogFormat(env: NodeJS.ProcessEnv, isTTY: boolean): LogFormat {
  const asked = env.BLACKWELL_LOG_FORMAT?.trim().toLowerCase();
  if (asked === "json" || asked === "pretty") return asked;
  return isTTY ? "pretty" : "json";
}

/** Colours only on a terminal, and never when `NO_COLOR` is set to something (https://no-color.org). */
export function useColour(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  return isTTY && !env.NO_COLOR;
}

const LEVELS: Record<number, { label: string; colour: string }> = {
  10: { label: "TRACE", colour: "90" },
  20: { label: "DEBUG", colour: "90" },
  30: { label: "INFO", colour: "36" },
  40: { label: "WARN", colour: "33" },
  50: { label: "ERROR", colour: "31" },
  60: { label: "FATAL", colour: "1;31" },
};

/** Fields the line shows in its own columns, or that repeat the logger's name. */
const SHOWN = new Set(["level", "time", "msg", "name", "service", "pid", "hostname", "v"]);

const paint = (on: boolean, code: string, text: string) => (on ? `\x1b[${code}m${text}\x1b[0m` : text);

function clock(time: unknown): string {
  const d = typeof time === "number" ? new Date(time) : new Date();
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

function value(v: unknown): string {
  if (typeof v === "string") return v === "" || /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  if (v !== null && typeof v === "object" && typeof (v as { message?: unknown }).message === "string") {
    // A serialised error: its type and message; its stack, if any, goes below the line.
    const e = v as { type?: string; message: string };
    return JSON.stringify(e.type ? `${e.type}: ${e.message}` : e.message);
  }
  return JSON.stringify(v) ?? String(v);
}

/** One parsed pino record in the human form (no trailing newline). */
export function formatRecord(record: Record<string, unknown>, colour = false): string {
  const level = LEVELS[record.level as number] ?? { label: String(record.level), colour: "0" };
  const name = typeof record.name === "string" ? record.name : typeof record.service === "string" ? record.service : "";
  const fields: string[] = [];
  const stacks: string[] = [];
  for (const [k, v] of Object.entries(record)) {
    if (SHOWN.has(k) || v === undefined) continue;
    if (k === "stack" && typeof v === "string") {
      stacks.push(v);
      continue;
    }
    if (v !== null && typeof v === "object" && typeof (v as { stack?: unknown }).stack === "string")
      stacks.push((v as { stack: string }).stack);
    fields.push(`${paint(colour, "2", `${k}=`)}${value(v)}`);
  }
  const line =
    `${paint(colour, "2", clock(record.time))} ${paint(colour, level.colour, level.label.padEnd(5))} ` +
    (name ? `${paint(colour, "35", name)}  ` : "") +
    (typeof record.msg === "string" ? record.msg : "") +
    (fields.length ? "  " + fields.join(" ") : "");
  const below = stacks.flatMap((s) => s.split("\n").map((l) => `    ${l.trim()}`));
  return [line, ...below].join("\n");
}

/** Formats one JSON line as pino writes it; a line that is not JSON passes through unchanged. */
export function formatLine(line: string, colour = false): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return line.replace(/\n$/, "");
  }
  if (record === null || typeof record !== "object") return line.replace(/\n$/, "");
  return formatRecord(record as Record<string, unknown>, colour);
}

/**
 * A pino destination that writes each record in the human form to `out` (pino's own file-descriptor stream, so
 * synchronous when that one is).
 */
export function prettyDestination(
  out: DestinationStream & { flush?: (cb?: (err?: Error) => void) => void; flushSync?: () => void },
  colour: boolean,
): DestinationStream & { flush(cb?: (err?: Error) => void): void; flushSync(): void } {
  return {
    write: (chunk: string) => {
      out.write(formatLine(chunk, colour) + "\n");
    },
    flush: (cb) => (out.flush ? out.flush(cb) : cb?.()),
    flushSync: () => out.flushSync?.(),
  };
}
