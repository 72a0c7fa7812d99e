/**
 * `blackwell policy`:
 * - `what-if -f proposed.yaml [--client c] [--stack s] [--from T] [--to T] [--json]`: what a proposed policy would
 *   have changed over the recorded history (src/runtime/what-if.ts). Nothing it decides reaches an executor or the
 *   live topics.
 * - `fleet show [--json]` and `fleet set -f fleet.yaml [--reason] [--by] [--dry-run] [--json]`: the fleet policy
 *   (src/runtime/fleet-policy.ts).
 * - `explain <client> <stack> [--json]`: a stack's effective policy and where each field came from.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseFleetPolicy, parsePolicyDocument } from "../../adapters/yaml/parse-blackwell-yaml.js";
import type { FleetRules } from "../../core/policy/fleet-policy.js";
import { BlackwellError } from "../../errors.js";
import { currentFleetPolicy, explainPolicy, setFleetPolicy } from "../../runtime/fleet-policy.js";
import { reportWindow } from "../../core/report/report-window.js";
import { renderWhatIf } from "../../core/whatif/what-if-report.js";
import { whatIf } from "../../runtime/what-if.js";
import { actorName, EXIT, print, table, UsageError, withContext } from "../cli-kit.js";
import { ID_PATTERN as ID } from "../../core/model/validate-desired.js";

export async function policyCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "what-if") return whatIfCommand(rest);
  if (sub === "fleet") return fleetCommand(rest);
  if (sub === "explain") return explainCommand(rest);
  throw new UsageError("policy needs a subcommand: what-if, fleet show|set, explain");
}

async function whatIfCommand(rest: string[]): Promise<number> {
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
      file: values.file!,
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

const rulesText = (r: FleetRules) =>
  [
    r.approval_required_from_severity
      ? `drifts of severity ${r.approval_required_from_severity} or higher auto-heal only with an approval`
      : null,
    r.max_attempts_at_most !== null ? `at most ${r.max_attempts_at_most} heal attempts` : null,
    r.never_auto_heal.length > 0 ? `never auto-healed: ${r.never_auto_heal.join(", ")}` : null,
  ].filter((x) => x !== null);

async function fleetCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "show") {
    const { values } = parseArgs({ args: rest, strict: true, options: { json: { type: "boolean" } } });
    const fleet = await withContext((ctx) => currentFleetPolicy(ctx));
    print(values.json ?? false, fleet, () =>
      fleet === null
        ? "no fleet policy is set: every stack's policy is its own, over the built-in defaults"
        : [
            `fleet policy v${fleet.version}, set ${fleet.set_at} by ${fleet.set_by}${fleet.reason ? ` (${fleet.reason})` : ""}`,
            `defaults: ${JSON.stringify(fleet.defaults)}`,
            `rules: ${rulesText(fleet.rules).join("; ") || "none"}`,
          ].join("\n"),
    );
    return EXIT.ok;
  }
  if (sub !== "set") throw new UsageError("policy fleet needs show or set");
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      file: { type: "string", short: "f" },
      reason: { type: "string" },
      by: { type: "string" },
      "dry-run": { type: "boolean" },
      json: { type: "boolean" },
    },
  });
  if (!values.file) throw new UsageError("policy fleet set needs -f <fleet policy file>");
  const parsed = parseFleetPolicy(readFileSync(values.file, "utf8"), values.file);
  const result = await withContext((ctx) =>
    setFleetPolicy(ctx, parsed, {
      by: actorName(values.by),
      reason: values.reason ?? null,
      file: values.file!,
      dryRun: values["dry-run"] ?? false,
    }),
  );
  const updated = result.changes.filter((c) => c.change === "updated");
  print(values.json ?? false, result, () =>
    [
      `${result.dry_run ? "would set" : "set"} fleet policy v${result.version}: ` +
        `${updated.length} stack(s) ${result.dry_run ? "would get" : "got"} a new version, ` +
        `${result.changes.length - updated.length} unchanged`,
      ...(updated.length > 0
        ? [
            table([
              ["STACK", "FROM", "TO"],
              ...updated.map((c) => [`${c.client_id}/${c.stack_id}`, c.from ?? "-", c.to ?? "-"]),
            ]),
          ]
        : []),
    ].join("\n"),
  );
  return EXIT.ok;
}

async function explainCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { json: { type: "boolean" } },
  });
  const [client, stack, ...extra] = positionals;
  if (!client || !stack || extra.length > 0) throw new UsageError("explain needs <client> <stack>");
  for (const id of [client, stack]) if (!ID.test(id)) throw new UsageError(`${JSON.stringify(id)} is not an id`);
  const explained = await withContext((ctx) => explainPolicy(ctx, client, stack));
  // An unknown stack is a bad name (exit 3, and the error object with --json); exit 1 means a rule is broken.
  if (explained === null) throw new BlackwellError("BLACKWELL_ERR_NOT_FOUND", `no stack ${stack} for client ${client}`);
  const fleetNote =
    explained.fleet_policy_current === null
      ? "no fleet policy is set"
      : explained.fleet_policy_version === explained.fleet_policy_current
        ? `computed with fleet policy v${explained.fleet_policy_current} (in force)`
        : `computed with fleet policy ${explained.fleet_policy_version === null ? "none" : `v${explained.fleet_policy_version}`}; v${explained.fleet_policy_current} is in force (its defaults apply from the stack's next version)`;
  print(values.json ?? false, explained, () =>
    [
      `${client}/${stack} ${explained.state_version}: ${fleetNote}`,
      table([["FIELD", "VALUE", "FROM"], ...explained.fields.map((f) => [f.field, JSON.stringify(f.value), f.source])]),
      `fleet rules: ${rulesText(explained.rules).join("; ") || "none"}`,
      ...explained.violations.map((v) => `breaks a fleet rule: policy.${v.path}: ${v.message}`),
    ].join("\n"),
  );
  return explained.violations.length > 0 ? EXIT.problem : EXIT.ok;
}
