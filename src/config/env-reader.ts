/**
 * Reads settings from an environment and collects every problem, so a role refuses to start once,
 * naming each bad variable, instead of failing on the first and then on the next after a fix.
 */
import { readFileSync } from "node:fs";
import { parseDuration } from "../core/duration.js";
import { BlackwellError, errorMessage } from "../errors.js";

const TRUE = ["1", "true", "yes", "on"];
const FALSE = ["0", "false", "no", "off"];

export class EnvReader {
  readonly #problems: string[] = [];

  constructor(readonly env: NodeJS.ProcessEnv) {}

  /** The value, or undefined when unset or empty: `KAFKA_BROKERS= cmd` means "not configured", as in a shell. */
  optional(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value === "" ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.optional(name) ?? fallback;
  }

  /** Records a problem with `name`; the message should say what is expected and what was found. */
  problem(name: string, message: string): void {
    this.#problems.push(`${name} ${message}`);
  }

  /** A secret from `name`, or from the file named by `name_FILE` (mounted secrets). */
  secret(name: string): string | undefined {
    const file = this.optional(`${name}_FILE`);
    if (file === undefined) return this.optional(name);
    try {
      return readFileSync(file, "utf8").trim();
    } catch (err) {
      this.problem(`${name}_FILE`, `names ${file}, which cannot be read: ${errorMessage(err)}`);
      return undefined;
    }
  }

  /** Applies `parse` to the value; an error it throws becomes a problem with `name`. */
  parse<T>(name: string, fallback: T, parse: (raw: string) => T): T {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    try {
      return parse(raw);
    } catch (err) {
      const message = errorMessage(err);
      const quoted = JSON.stringify(raw);
      this.problem(name, message.includes(quoted) ? message : `${message} (got ${quoted})`);
      return fallback;
    }
  }

  positiveInt(name: string, fallback: number): number {
    return this.parse(name, fallback, (raw) => {
      const value = Number(raw);
      if (!Number.isInteger(value) || value < 1) throw new Error("must be a positive integer");
      return value;
    });
  }

  /** A TCP port; 0 lets the system choose. */
  port(name: string, fallback: number): number {
    return this.parse(name, fallback, (raw) => {
      const value = Number(raw);
      if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error("must be a port number 0-65535");
      return value;
    });
  }

  /** Milliseconds from a bare number. */
  milliseconds(name: string, min: number): number | undefined {
    return this.parse<number | undefined>(name, undefined, (raw) => {
      const value = Number(raw);
      if (!Number.isFinite(value) || value < min) throw new Error(`must be a number of milliseconds >= ${min}`);
      return value;
    });
  }

  /** Milliseconds from a duration like `30s`, `10m` or `2h`. */
  duration(name: string, fallback: string): number {
    const parsed = parseDuration(fallback);
    if (parsed === null) throw new Error(`bad default duration ${fallback} for ${name}`);
    return this.parse(name, parsed, (raw) => {
      const value = parseDuration(raw);
      if (value === null || value <= 0) throw new Error("must be a duration like 30s, 10m or 2h");
      return value;
    });
  }

  flag(name: string, fallback: boolean): boolean {
    return this.parse(name, fallback, (raw) => {
      if (TRUE.includes(raw.toLowerCase())) return true;
      if (FALSE.includes(raw.toLowerCase())) return false;
      throw new Error(`must be one of ${[...TRUE, ...FALSE].join(", ")}`);
    });
  }

  /** An http(s) URL without trailing slashes, or undefined when unset. */
  httpUrl(name: string): string | undefined {
    return this.parse<string | undefined>(name, undefined, (raw) => {
      if (!/^https?:\/\/[^/]/.test(raw)) throw new Error("must be an http(s) URL");
      return raw.replace(/\/+$/, "");
    });
  }

  /** Returns `value` when nothing was wrong; otherwise throws one BLACKWELL_ERR_CONFIG naming every problem. */
  finish<T>(value: T): T {
    if (this.#problems.length === 0) return value;
    const [first, ...more] = this.#problems;
    const message = more.length === 0 ? first! : `invalid configuration:\n  ${this.#problems.join("\n  ")}`;
    throw new BlackwellError("BLACKWELL_ERR_CONFIG", message);
  }
}
