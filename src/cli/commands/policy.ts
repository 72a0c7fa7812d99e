/**
 * `blackwell policy what-if -f proposed.yaml [--client c] [--stack s] [--from T] [--to T] [--json]`: what a proposed
 * policy would have changed over the recorded history (src/runtime/what-if.ts). Nothing it decides reaches an
 * executor or the live topics.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parsePolicyDocument } from "../../adapters/yaml/parse-blackwell-yaml.js";
import { reportWindow } from "../../core/report/report-window.js";
import { renderWhatIf } from "../../core/whatif/what-if-report.js";
import { whatIf } from "../../runtime/what-if.js";
import { EXIT, UsageError, print, withContext } from "../cli-kit.js";

const ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export async function policyCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "what-if") throw new UsageError("policy needs a subcommand: what-if");
  const { values } = parseArgs({
    args: rest,
    allowPositionals: false,
    strict: true,
    options: {
      file: { type: "string", short: "f" },
      client: { type: "string" },
      stack: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      json: { type: "boolean" },
    },
  });
  if (!values.file) throw new UsageError("what-if needs -f <proposed policy file>");
  for (const [name, v] of [
    ["client", values.client],
    ["stack", values.stack],
  ] as const)
    if (v !== undefined && !ID.test(v)) throw new UsageError(`--${name} ${JSON.stringify(v)} is not an id`);
  if (values.stack !== undefined && values.client === undefined) throw new UsageError("--stack needs --client");
  const window = reportWindow({ from: values.from, to: values.to }, Date.now());
  if ("error" in window) throw new UsageError(window.error);
  // A missing file, or an invalid policy (every problem with its line and field), exits 3, as apply does.
  const policy = parsePolicyDocument(readFileSync(values.file, "utf8"), values.file);
  const client = values.client ?? null;
  const applicationId = process.env.BLACKWELL_APPLICATION_ID;
  const result = await withContext((ctx) =>
    whatIf(ctx, {
      policy,
      client,
      stack: values.stack ?? null,
      window: { from: window.from, to: window.to },
      ...(applicationId ? { applicationId } : {}),
      log: (m) => console.error(`[what-if] ${m}`),
    }),
  );
  if (result.replay.stacks_changed === 0) {
    const whose = client === null ? "any client" : values.stack ? `${client}/${values.stack}` : `client ${client}`;
    console.error(`the recorded history has no desired state of ${whose}: the proposed policy changed nothing`);
    return EXIT.problem;
  }
  print(values.json ?? false, result, () =>
    [
      renderWhatIf(result),
      `replayed ${result.replay.input_records} input records twice in ${(result.replay.ms / 1000).toFixed(1)} s; ` +
        `the proposed policy replaced the recorded one on ${result.replay.stacks_changed} stack(s)`,
    ].join("\n"),
  );
  return EXIT.ok;
}
