/**
 * The `blackwell` command. Exit codes scripts can rely on:
 * 0 ok · 1 the operation ran and found a problem (e.g. replay differs) ·
 * 2 usage error · 3 invalid input (e.g. blackwell.yaml) · 4 Kafka/registry unavailable (only that) ·
 * 5 the command crashed (a one-line message says what; BLACKWELL_DEBUG=1 adds the stack trace).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { isBlackwellError, errorMessage } from "../errors.js";
import { parseBlackwellYaml } from "../adapters/yaml/parse-blackwell-yaml.js";
import { projectRoot } from "../adapters/kafka/project-root.js";
import { defaultInfraDir, purgeStateDir, startLocalInfra, stopLocalInfra } from "../infra/local-infra.js";
import { localAwsEnv } from "../infra/connect.js";
import { apiConfigFromEnv } from "../config/api-config.js";
import { notifierConfigFromEnv } from "../config/notifier-config.js";
import { defaultStateDir, reconcilerConfigFromEnv } from "../config/reconciler-config.js";
import { executorConfigFromEnv } from "../executor/executor-config.js";
import { applyDesired, type Bump } from "../runtime/apply-desired.js";
import { replayAndCompare } from "../runtime/replay.js";

import { actorName, crashMessage, EXIT, exitCodeFor, print, table, UsageError, withContext } from "./cli-kit.js";
export { EXIT };

const HELP: Record<string, string> = {
  main: `usage: blackwell <command> [options]

commands:
  apply -f <file>     validate blackwell.yaml and publish the desired state (versioned)
  replay              rebuild all state from the input topics and compare with the live state
  status [client]     stacks and their status (exit 1 if any is not healthy)
  drift [client]      open drifts (exit 1 if there are any)
  history <client>    drift transitions and audit entries, newest first
  report [client]     the spec's KPIs and every heal with its approver over a window (md, json, csv)
  ack|approve|reject <client> <drift-id>   operator decisions, answered by the reconciler's audit
  pause|resume|reconcile <client> [stack]  stop/restart healing, or force a full pass
  rollback <client> <stack> --to <version>  publish an earlier desired state as the next version
  promote <client> --from <stack> --to <stack>  promote an earlier environment's stack, gated (soak, health)
  policy what-if -f <file>                  what a proposed policy would have changed over the recorded history
  policy fleet show|set -f <file>           the fleet policy: defaults every stack inherits, rules none may break
  policy explain <client> <stack>           a stack's effective policy and where each field came from
  client offboard <client> --yes           remove a client from every compacted topic and store, audited
  produce <topic>     publish events from JSON (provider-events, resource-events, commands)
  dlq list|redrive    what the DLQ holds and why; send records back after a fix
  run <role...>       run roles in this process: reconciler (alias: processor), executor, api, notifier, all
  demo                the main job end to end on the local default
  up | down           start / stop the local Kafka and schema registry (no Docker)

Every command takes --help. Kafka and the registry come from KAFKA_BROKERS and
SCHEMA_REGISTRY_URL; only demo starts a local pair when they are unset, and up
starts it and prints them.`,
  apply: `usage: blackwell apply -f <file> [--bump major|minor|patch] [--prune] [--dry-run] [--json]

Validates the file (every problem reported with file, line and field), compares
each stack with the desired-state topic, and publishes the changed stacks with
the next semantic version (default bump: minor). --prune removes stacks of the
client that the file no longer declares.`,
  replay: `usage: blackwell replay [--keep] [--reorder] [--json]

Replays the input topics from the beginning into a fresh consumer group, empty
store and throw-away output topics (--keep keeps them), taking records in the
order live took them (the task journal), then compares, per partition, the
ordered drift-events, heal-commands and audit records and the latest
stack-state with the live ones, and shows the first divergence. Exit 1 if not
equal. --reorder merges the inputs by timestamp instead: what perfect arrival
would have produced (differences are the effect of records live took late).
BLACKWELL_APPLICATION_ID names the reconciler whose journal to follow.`,
  run: `usage: blackwell run <role...>

Roles: reconciler (alias processor), executor, api, notifier, all. Runs until SIGTERM/SIGINT, then stops gracefully.
Executor settings: BLACKWELL_INTEGRATION_API_URL, BLACKWELL_INTEGRATION_API_TOKEN,
BLACKWELL_BUDGET_CODEBUILD[_PER_CLIENT], BLACKWELL_BUDGET_INTEGRATION_API[_PER_CLIENT] (e.g. 30/min),
AWS_* (standard AWS configuration; \`blackwell up\` prints the local moto server's).
Kafka: KAFKA_BROKERS and SCHEMA_REGISTRY_URL are required; every setting is checked before any role starts.
API settings: BLACKWELL_API_TOKENS (comma-separated <name>@<client_id|*>:<token>), BLACKWELL_API_HOST, BLACKWELL_API_PORT.`,
  demo: `usage: blackwell demo [--exit] | demo --external [--api-url URL] | demo --world HOST:PORT

Starts local Kafka, registry and moto server if needed, applies examples/acme-corp/blackwell.yaml,
runs the reconciler, the executors and the API, and plays a scenario: drift is detected, healed
(one heal after an approval) and resolved. Then keeps the API up until Ctrl-C, printing its URL,
tokens and curl lines; --exit stops after the scenario instead.

--external: the roles already run elsewhere (docker compose up): only apply the example and play the
scenario through KAFKA_BROKERS, SCHEMA_REGISTRY_URL and AWS_ENDPOINT_URL, then stop (exit 0 when every
stack ended healthy). --world HOST:PORT: only the scenario's stand-in Integration API, which reports
what it changed to Kafka (compose's integration-api service).`,
  status:
    "usage: blackwell status [client] [--json]\n\nEvery stack (of one client) with its status, desired and evaluated versions and open drift count,\nread from the stack-state topic. Exit 0 when all are healthy, 1 otherwise.",
  drift:
    "usage: blackwell drift [client] [--json]\n\nOpen drifts with id, component, severity, expected and observed. Exit 0 when there are none, 1 otherwise.",
  history:
    "usage: blackwell history <client> [--limit N] [--json]\n\nDrift transitions and audit entries of the client, newest first (default 50).",
  client:
    "usage: blackwell client offboard <client> [--yes] [--reason text] [--by name] [--wait seconds] [--json]\n\nRemoves the client: the reconciler resolves its open drifts, tombstones its StateRecords and\nchangelog entries, deletes it from its store and audits client_offboarded (API replicas then forget\nthe client); then its desired-state, desired-history and executor-ledger records are tombstoned.\nEvents, drift events and audit entries age out with their topics' retention. Without --yes it\nprints what it would remove and does nothing (exit 1). Stop the client's event sources first: a\nlater event starts a new, empty state.",
  promote:
    "usage: blackwell promote <client> --from <stack> --to <stack> [--by name] [--dry-run] [--json]\n       blackwell promote <client> --to <stack> --approve | --reject [--reason text] | --pending [--by name] [--json]\n\nPublishes the --from stack's promoted parts (its promotion's match:, minus the ignore: pointers) as\nthe --to stack's next version, when the --from stack was judged under its current version, is\nhealthy with no open drift, and has been for its promotion's soak time; else exits 1 with every\nreason. The reconciler rolls the promoted version back if drifts of the verify.rollback_on kinds\nopen within verify.window.\n\nWhere the --to stack's promotion says approval_required: true, the call records a pending request\ninstead. --approve, by someone other than the requester (the requester's own: exit 1), checks the\ngates again and publishes it while both stacks still hold the versions it was requested for (else\nthe request is stale: exit 1); --reject drops it (the requester may, to withdraw it); --pending\nshows the latest request, what became of it and whether it is stale. Nothing pending to approve or\nreject: exit 1. --by (else BLACKWELL_USER, else the login name) names who asks or decides.",
  policy:
    "usage: blackwell policy fleet show [--json]\n       blackwell policy fleet set -f <fleet.yaml> [--reason text] [--by name] [--dry-run] [--json]\n       blackwell policy explain <client> <stack> [--json]\n       blackwell policy what-if -f <proposed.yaml> [--client c [--stack s]] [--from T] [--to T] [--json]\n\nReplays the recorded inputs twice in a sandbox (throw-away topics: no command reaches an executor),\nonce as recorded and once with the proposed policy in place of the recorded one (for every stack,\nthe client's, or one stack), following the live reconciler's task journal, and reports per client\nwhat would have differed over the window: heals issued, avoided and added, approvals asked, circuit\nbreaker openings, heals exhausted, time in error and drifts opened. The file is a policy in the\nformat of a stack's policy: in blackwell.yaml (fields left out take their defaults). A heal only the\nproposed policy issues has no recorded outcome: it stays in flight. T is an ISO 8601 time or a\nduration ago; --to defaults to now, --from to 30 days before --to. Exit 1 when the proposed policy\napplied to no recorded desired state.\n\nfleet set: the file has defaults: (policy fields in the format of a stack's policy:, inherited by\nevery stack that does not set them) and rules: (approval_required_from_severity, max_attempts_at_most,\nnever_auto_heal). It publishes the next version of every stack whose effective policy changes, and\nis refused (exit 3), naming every stack and field, when a stack would break a rule. explain exits 1\nwhen the stack breaks a rule in force (applied before the rule).",
  report:
    "usage: blackwell report [client] [--from T] [--to T] [--transient D] [--format md|json|csv]\n\nThe spec's KPIs per client and fleet-wide over the window, read from the drift-events and audit\ntopics: time to detection (first evidence to opened) and to recovery (opened to resolved), mean and\np95; auto-heal success rate; false-positive rate (drifts rejected with --false-positive, and drifts\nthat resolved within --transient, default 2m, with no heal and no operator decision); manual\ninterventions; configuration compliance (share of each stack's time with no open drift); and every\nheal with its approver and outcome. T is an ISO 8601 time or a duration ago (30d, 12h); --to\ndefaults to now, --from to 30 days before --to. Default format md; --json is --format json.\nExit 1 when the topics hold no record of the client.",
  ack: "usage: blackwell ack <client> <drift-id> [--reason text] [--by name] [--wait seconds] [--json]\n\nAcknowledges a drift. Waits (default 15 s) for the reconciler's audit: exit 0 done, 1 refused or no answer.",
  approve:
    "usage: blackwell approve <client> <drift-id> [--reason text] [--by name] [--wait seconds] [--json]\n\nApproves the pending heal of a drift whose kind requires approval.",
  reject:
    "usage: blackwell reject <client> <drift-id> [--false-positive] [--reason text] [--by name] [--wait seconds] [--json]\n\nRejects healing a drift: it stays alert-only until it resolves. --false-positive records that the\ndrift was not real (counted by blackwell report).",
  pause:
    "usage: blackwell pause <client> [stack] [--reason text] [--by name] [--json]\n\nStops issuing heal commands for the client's stacks (or one stack) until resume.",
  resume:
    "usage: blackwell resume <client> [stack] [--reason text] [--by name] [--json]\n\nResumes healing after pause.",
  reconcile:
    "usage: blackwell reconcile <client> [stack] [--json]\n\nForces a full reconciliation pass and prints its outcome from the audit trail.",
  rollback:
    "usage: blackwell rollback <client> <stack> --to <version> [--by name] [--json]\n\nPublishes the desired state of an earlier version (from the desired-history topic) as the stack's\nnext version. When the stack already holds that content it says so and publishes nothing (exit 0).\nExit 3 if that version is not in the history.",
  produce:
    "usage: blackwell produce <provider-events|resource-events|commands> [-f file.json|-] [--json]\n\nPublishes one JSON object, an array, or JSON lines (stdin by default). Missing ids and times are\nfilled in; `payload`/`details`/`params` objects become the JSON-string fields. Every record is\nvalidated as the reconciler validates it; if any is invalid nothing is produced (exit 3) and every\nproblem is listed as file:line (JSON lines, blank lines counted) or file: record N.",
  dlq: "usage: blackwell dlq list [--code C] [--source topic] [--client id] [--limit N] [--json]\n       blackwell dlq redrive (--at <partition>:<offset>... | --code C | --source topic | --client id | --all) [--dry-run] [--json]\n\nlist: dead letters with their source and reason. redrive: sends the original bytes back to their\nsource topic and partition, with a blackwell.redriven-from header.",
  up: "usage: blackwell up\n\nStarts the local Kafka (KRaft) and schema registry, or reports the running ones.",
  down: "usage: blackwell down [--purge]\n\nStops the local Kafka and registry; --purge also deletes their data and the roles' local stores\n(BLACKWELL_STATE_DIR, default .blackwell/state), so the next start begins from nothing.",
};

async function apply(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      file: { type: "string", short: "f" },
      bump: { type: "string" },
      prune: { type: "boolean" },
      "dry-run": { type: "boolean" },
      json: { type: "boolean" },
      by: { type: "string" },
    },
    strict: true,
  });
  if (!values.file) throw new UsageError("apply needs -f <file>");
  if (values.bump && !["major", "minor", "patch"].includes(values.bump))
    throw new UsageError("--bump must be major, minor or patch");
  const parsed = parseBlackwellYaml(readFileSync(values.file, "utf8"), values.file);
  const changes = await withContext((ctx) =>
    applyDesired(ctx, parsed, {
      file: values.file!,
      appliedBy: actorName(values.by),
      bump: (values.bump ?? "minor") as Bump,
      prune: values.prune ?? false,
      dryRun: values["dry-run"] ?? false,
    }),
  );
  print(values.json ?? false, { client_id: parsed.client_id, dry_run: values["dry-run"] ?? false, changes }, () =>
    table([
      ["STACK", "CHANGE", "FROM", "TO"],
      ...changes.map((c) => [`${parsed.client_id}/${c.stack_id}`, c.change, c.from ?? "-", c.to ?? "-"]),
    ]),
  );
  return EXIT.ok;
}

async function replay(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { keep: { type: "boolean" }, json: { type: "boolean" }, reorder: { type: "boolean" } },
    strict: true,
  });
  const applicationId = process.env.BLACKWELL_APPLICATION_ID;
  const report = await withContext((ctx) =>
    replayAndCompare(ctx, {
      keep: values.keep ?? false,
      reorder: values.reorder ?? false,
      ...(applicationId ? { applicationId } : {}),
      log: (m) => console.error(`[replay] ${m}`),
    }),
  );
  print(values.json ?? false, report, () => replayText(report));
  return report.equal ? EXIT.ok : EXIT.problem;
}

function replayText(report: Awaited<ReturnType<typeof replayAndCompare>>): string {
  const lines = [
    `replayed ${report.inputRecords} input records in ${(report.ms / 1000).toFixed(1)} s, ` +
      (report.mode === "journal"
        ? `following ${report.journal.entries} journal entries of ${report.journal.applicationId ?? "no reconciler"}`
        : "merged by timestamp (--reorder)"),
    `stack-state: ${report.stacks.equal} equal, ${report.stacks.differences.length} different (live ${report.stacks.live}, replayed ${report.stacks.replayed})`,
  ];
  for (const s of report.sequences) {
    lines.push(`${s.topic}: live ${s.live}, replayed ${s.replayed}, ${s.equal ? "same order" : "DIFFERENT"}`);
    const d = s.firstDivergence;
    if (d) {
      lines.push(`  first divergence: partition ${d.partition}, record ${d.index}`);
      lines.push(...d.live.map((r) => `    live     ${r}`), ...d.replayed.map((r) => `    replayed ${r}`));
    }
  }
  lines.push(...report.stacks.differences.slice(0, 10).map((d) => `  differs: ${d.key}`));
  if (!report.exactCut)
    lines.push("live committed during the cut: only what the replay covered was compared, and live may go on past it");
  if (report.mode === "reorder" && !report.equal && report.journal.lateRecords > 0)
    lines.push(
      `live took ${report.journal.lateRecords} records late (see late_record in the audit): the differences are their effect`,
    );
  lines.push(report.equal ? "EQUAL" : "DIFFERENT");
  return lines.join("\n");
}

const ROLES = ["reconciler", "processor", "executor", "api", "notifier", "all"] as const;

async function run(args: string[]): Promise<number> {
  const roles = args.filter((a) => !a.startsWith("-"));
  if (roles.length === 0) throw new UsageError(`run needs at least one role: ${ROLES.join(", ")}`);
  const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (unknown.length > 0)
    throw new UsageError(`unknown role(s): ${unknown.join(", ")} (available: ${ROLES.join(", ")})`);
  const want = (r: string) => roles.includes(r) || roles.includes("all");
  const { serveOps, stopOnSignals } = await import("../runtime/signals.js");
  const stops: Array<() => Promise<void>> = [];
  const ops: Array<import("../runtime/signals.js").RoleOps> = [];
  // Every wanted role's configuration is read before any role starts: a bad executor setting must not
  // surface after the reconciler has joined its group. No local Kafka here: that is `demo` and `up`.
  const reconcilerCfg = want("reconciler") || want("processor") ? reconcilerConfigFromEnv() : null;
  const executorCfg = want("executor") ? executorConfigFromEnv() : null;
  const notifierCfg = want("notifier") ? notifierConfigFromEnv() : null;
  const apiCfg = want("api") ? apiConfigFromEnv() : null;
  // Roles in start order; each brings its stop and, except the API (which serves its own), its ops endpoints.
  type Started = { stop: () => Promise<void>; ops?: import("../runtime/signals.js").RoleOps };
  const starters: Array<[boolean, () => Promise<Started>]> = [
    [
      !!reconcilerCfg,
      async () => (await import("../../processors/reconciler/main.js")).startReconciler(reconcilerCfg!),
    ],
    [!!executorCfg, async () => (await import("../../processors/executor/main.js")).startExecutor(executorCfg!)],
    [!!notifierCfg, async () => (await import("../../processors/notifier/main.js")).startNotifier(notifierCfg!)],
    [
      !!apiCfg,
      async () => {
        const api = await (await import("../../processors/api/main.js")).startApi(apiCfg!);
        console.error(`API listening on ${api.url} (OpenAPI at ${api.url}/openapi.json)`);
        return api;
      },
    ],
  ];
  for (const [wanted, start] of starters) {
    if (!wanted) continue;
    const app = await start();
    stops.push(app.stop);
    if (app.ops) ops.push(app.ops);
  }
  // The API serves its own /metrics; the other roles get theirs on BLACKWELL_OPS_PORT.
  const opsServer = await serveOps(ops);
  stopOnSignals(async () => {
    await opsServer?.close();
    for (const stop of stops.reverse()) await stop();
  });
  await new Promise(() => {}); // runs until a signal
  return EXIT.ok;
}

async function up(): Promise<number> {
  const info = await startLocalInfra({ root: projectRoot(), log: (m) => console.error(`[infra] ${m}`) });
  console.log(`export KAFKA_BROKERS=${info.brokers}`);
  console.log(`export SCHEMA_REGISTRY_URL=${info.registryUrl}`);
  for (const [k, v] of Object.entries(localAwsEnv(info.awsEndpoint))) console.log(`export ${k}=${v}`);
  return EXIT.ok;
}

async function down(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { purge: { type: "boolean" } }, strict: true });
  const root = projectRoot();
  const infraDir = defaultInfraDir(root);
  const stopped = await stopLocalInfra(infraDir, values.purge ?? false);
  console.error(stopped ? "[infra] stopped" : "[infra] nothing was running");
  if (values.purge) {
    // All local state: a store kept from the old cluster made the next demo start from a stale state.
    const stateDir = process.env.BLACKWELL_STATE_DIR ?? defaultStateDir();
    purgeStateDir(stateDir, root);
    console.error(`[infra] deleted the Kafka and registry data (${infraDir}) and the local stores (${stateDir})`);
  }
  return EXIT.ok;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    console.log(HELP.main);
    return command ? EXIT.ok : EXIT.usage;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    if (!HELP[command]) {
      console.error(`unknown command ${command}\n\n${HELP.main}`);
      return EXIT.usage;
    }
    console.log(HELP[command]);
    return EXIT.ok;
  }
  try {
    switch (command) {
      case "apply":
        return await apply(rest);
      case "replay":
        return await replay(rest);
      case "run":
        return await run(rest);
      case "demo": {
        const { values } = parseArgs({
          args: rest,
          options: {
            exit: { type: "boolean" },
            external: { type: "boolean" },
            "api-url": { type: "string" },
            world: { type: "string" },
          },
          strict: true,
        });
        const demoModule = await import("./demo.js");
        if (values.world !== undefined) {
          const at = /^(?<host>[^:]+):(?<port>\d{1,5})$/.exec(values.world);
          if (!at || Number(at.groups!.port) > 65535)
            throw new UsageError(`--world needs host:port (e.g. 0.0.0.0:8090), got ${JSON.stringify(values.world)}`);
          return await demoModule.demoWorld(at.groups!.host!, Number(at.groups!.port));
        }
        if (values["api-url"] !== undefined && !values.external) throw new UsageError("--api-url goes with --external");
        return await demoModule
          .demo({
            exitAfter: values.exit ?? false,
            ...(values.external ? { external: values["api-url"] ? { apiUrl: values["api-url"] } : {} } : {}),
          })
          .catch((err: unknown) => {
            if (!(err instanceof demoModule.DemoHeld)) throw err;
            console.error(`blackwell demo: ${err.message}`);
            return EXIT.problem;
          });
      }
      case "status":
        return await (await import("./commands/state-commands.js")).status(rest);
      case "drift":
        return await (await import("./commands/state-commands.js")).drift(rest);
      case "history":
        return await (await import("./commands/state-commands.js")).history(rest);
      case "client":
        return await (await import("./commands/offboard.js")).clientCommand(rest);
      case "policy":
        return await (await import("./commands/policy.js")).policyCommand(rest);
      case "promote":
        return await (await import("./commands/promote.js")).promoteCommand(rest);
      case "report":
        return await (await import("./commands/report.js")).report(rest);
      case "ack":
      case "approve":
      case "reject":
      case "pause":
      case "resume":
      case "reconcile":
        return await (await import("./commands/operator-commands.js")).operatorCommand(command, rest);
      case "produce":
        return await (await import("./commands/produce.js")).produce(rest);
      case "rollback":
        return await (await import("./commands/rollback.js")).rollback(rest);
      case "dlq":
        return await (await import("./commands/dlq.js")).dlq(rest);
      case "up":
        return await up();
      case "down":
        return await down(rest);
      default:
        console.error(`unknown command ${command}\n\n${HELP.main}`);
        return EXIT.usage;
    }
  } catch (err) {
    const exit = exitCodeFor(err);
    if (err instanceof UsageError || (exit === EXIT.usage && err instanceof TypeError)) {
      console.error(`blackwell ${command}: ${errorMessage(err)}\n\n${HELP[command] ?? HELP.main}`);
    } else if (exit === EXIT.internal) {
      console.error(crashMessage(command, err));
    } else if (isBlackwellError(err) && !err.retriable) {
      // Our own final errors already say what is wrong, with file and field.
      console.error(err.message);
    } else {
      console.error(`blackwell ${command}: ${errorMessage(err)}`);
    }
    // A script that asked for --json reads stdout: it gets the failure as JSON there too, never nothing.
    if (rest.includes("--json")) {
      const code = isBlackwellError(err) ? err.code : exit === EXIT.internal ? "BLACKWELL_ERR_INTERNAL" : null;
      console.log(JSON.stringify({ error: { code, exit, message: errorMessage(err) } }, null, 2));
    }
    return exit;
  }
}

// A failure outside the command's own code path (a client library's stray rejection) is a crash too: one line, exit 5.
for (const event of ["uncaughtException", "unhandledRejection"] as const) {
  process.on(event, (err: unknown) => {
    console.error(crashMessage(process.argv[2] ?? "", err));
    process.exit(EXIT.internal);
  });
}

process.exitCode = await main(process.argv.slice(2));
// Client libraries may keep sockets or timers alive; the command is done.
setTimeout(() => process.exit(), 200).unref();
