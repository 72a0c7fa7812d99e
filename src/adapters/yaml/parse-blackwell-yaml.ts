/**
 * blackwell.yaml -> DesiredStack[]: one file declares one client with one or
 * more stacks. Every problem is reported with the file, line and field path,
 * all at once, so an operator fixes a file in one round.
 */
import { createHash } from "node:crypto";
import { isAlias, isMap, isSeq, LineCounter, parseDocument, visit } from "yaml";
import type { Document, Node } from "yaml";
import { BlackwellError } from "../../errors.js";
import { canonicalJson } from "../../core/canonical-json.js";
import { parsePointer } from "../../core/diff/json-compare.js";
import { parseDuration } from "../../core/duration.js";
import { POLICY_DRIFT_KINDS } from "../../core/model/vocabulary.js";
import {
  DEFAULT_GUARDS,
  PROMOTED_PARTS,
  ROLES,
  SEVERITIES,
  WEEKDAYS,
  type DesiredStack,
  type HealWindow,
  type PromotedPart,
  type PromotionSpec,
  type ReconciliationPolicy,
  type Role,
  type Severity,
  type StalenessWindows,
  type Weekday,
} from "../../core/model/desired.js";
import { desiredProblems, policyProblems } from "../../core/model/validate-desired.js";
import { isTimeZone } from "../../core/policy/heal-windows.js";
import { POLICY_DOCUMENT_FIELDS, type FleetRules, type PolicyDocument } from "../../core/policy/fleet-policy.js";

/** A stack as declared, before versioning (state_version etc. are set by `apply`). */
export type DeclaredStack = Omit<DesiredStack, "state_version" | "previous_versions" | "applied_at" | "applied_by">;

export interface ParsedFile {
  client_id: string;
  stacks: DeclaredStack[];
}

export interface Problem {
  line: number;
  path: string;
  message: string;
}

const ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;

type Path = Array<string | number>;

class Reader {
  readonly problems: Problem[] = [];
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  private lineOf(path: Path): number {
    for (let p = path; p.length >= 0; p = p.slice(0, -1)) {
      const node = p.length === 0 ? this.doc.contents : this.doc.getIn(p, true);
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range) return this.lines.linePos(range[0]).line;
      if (p.length === 0) break;
    }
    return 1;
  }

  fail(path: Path, message: string): void {
    const problem = { line: this.lineOf(path), path: path.join(".") || "(root)", message };
    // Stacks share spec.defaults: report a problem there once, not once per stack.
    if (!this.problems.some((p) => p.path === problem.path && p.message === problem.message))
      this.problems.push(problem);
  }

  isList(path: Path): boolean {
    return isSeq(this.doc.getIn(path, true));
  }

  get(path: Path): unknown {
    return this.doc.getIn(path);
  }

  has(path: Path): boolean {
    return this.doc.hasIn(path);
  }

  string(path: Path, opts: { required?: boolean; pattern?: RegExp; oneOf?: readonly string[] } = {}): string | null {
    const v = this.get(path);
    if (v === undefined || v === null) {
      if (opts.required) this.fail(path, "is required");
      return null;
    }
    if (typeof v !== "string") {
      this.fail(path, `must be a string, got ${JSON.stringify(v)}`);
      return null;
    }
    if (opts.pattern && !opts.pattern.test(v)) this.fail(path, `${JSON.stringify(v)} must match ${opts.pattern}`);
    if (opts.oneOf && !opts.oneOf.includes(v))
      this.fail(path, `${JSON.stringify(v)} must be one of ${opts.oneOf.join(", ")}`);
    return v;
  }

  bool(path: Path, fallback: boolean): boolean {
    const v = this.get(path);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "boolean") {
      this.fail(path, `must be true or false, got ${JSON.stringify(v)}`);
      return fallback;
    }
    return v;
  }

  int(path: Path, fallback: number, min: number, max: number): number {
    const v = this.get(path);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      this.fail(path, `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
      return fallback;
    }
    return v;
  }

  /** A number from 0 to 1, or undefined when absent. */
  fraction(path: Path): number | undefined {
    const v = this.get(path);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > 1) {
      this.fail(path, `must be a number from 0 to 1, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  }

  /** Seconds from `15m`, `30s`, `2h` or a number of seconds. */
  seconds(path: Path, fallback: number): number {
    const v = this.get(path);
    if (v === undefined || v === null) return fallback;
    const ms = typeof v === "number" ? v * 1000 : typeof v === "string" ? parseDuration(v) : null;
    if (ms === null || ms <= 0) {
      this.fail(path, `must be a duration like 30s, 15m or 2h, got ${JSON.stringify(v)}`);
      return fallback;
    }
    return Math.round(ms / 1000);
  }

  strings(path: Path, opts: { oneOf?: readonly string[] } = {}): string[] {
    const v = this.get(path);
    if (v === undefined || v === null) return [];
    const node = this.doc.getIn(path, true);
    if (!isSeq(node)) {
      this.fail(path, "must be a list of strings");
      return [];
    }
    const out: string[] = [];
    node.items.forEach((_, i) => {
      const s = this.string([...path, i], { required: true, ...(opts.oneOf ? { oneOf: opts.oneOf } : {}) });
      if (s !== null) out.push(s);
    });
    return out;
  }

  keys(path: Path): string[] {
    const node = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
    if (node === undefined || node === null) return [];
    if (!isMap(node)) {
      this.fail(path, "must be a mapping");
      return [];
    }
    return node.items.map((pair) => String((pair.key as { value?: unknown } | null)?.value ?? pair.key));
  }

  /** Rejects keys we do not know: a typo must not silently drop a setting. */
  only(path: Path, allowed: readonly string[]): void {
    for (const key of this.keys(path)) {
      if (!allowed.includes(key)) this.fail([...path, key], `unknown field (expected one of: ${allowed.join(", ")})`);
    }
  }

  json(path: Path): unknown {
    const v = this.get(path);
    return v === undefined
      ? {}
      : JSON.parse(JSON.stringify((this.doc.getIn(path, true) as { toJSON?: () => unknown })?.toJSON?.() ?? v));
  }
}

/** Largest blackwell.yaml or policy document we read: far above any real composition, far below a memory problem. */
export const MAX_YAML_BYTES = 1024 * 1024;
/**
 * Most nodes a document may have once its aliases are expanded. An alias
 * copies its anchor's whole subtree, so a few lines of nested aliases
 * ("billion laughs") would otherwise expand to billions of nodes.
 */
export const MAX_YAML_NODES = 100_000;
/** Deepest nesting of mappings and lists we read; the validation walks recurse. */
export const MAX_YAML_DEPTH = 64;

const syntaxProblem = (file: string, message: string, line = 1) => invalid(file, [{ line, path: "(syntax)", message }]);

/**
 * Parses `text` with its anchors and aliases resolved: every alias is
 * replaced by a copy of the node it names, so `config: *cfg` reads as the
 * anchored mapping and an alias of a scalar as that scalar, with the
 * anchor's line in messages. Throws on a file or an expansion past the caps.
 */
function readDocument(text: string, file: string, lines: LineCounter): Document {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_YAML_BYTES)
    throw syntaxProblem(file, `the document is ${bytes} bytes, more than the limit of ${MAX_YAML_BYTES} bytes`);
  // The parser recurses per level of flow nesting ([[[[...): thousands of levels overflow its stack.
  if (flowNestsDeeperThan(text, MAX_YAML_DEPTH))
    throw syntaxProblem(file, `the document nests more than ${MAX_YAML_DEPTH} levels deep`);
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw invalid(
      file,
      doc.errors.map((e) => ({
        line: lines.linePos(e.pos[0]).line,
        path: "(syntax)",
        message: e.message.split("\n")[0]!,
      })),
    );
  }
  let nodes = 0;
  let tooMany = false;
  let tooDeep = false;
  visit(doc, {
    Node(_key, node, path) {
      if (++nodes > MAX_YAML_NODES) tooMany = true;
      // The path holds a pair and a collection per level.
      if (path.length > 2 * MAX_YAML_DEPTH + 1) tooDeep = true;
      if (tooMany || tooDeep) return visit.BREAK;
      if (!isAlias(node)) return undefined;
      const target = node.resolve(doc);
      if (!target) throw syntaxProblem(file, `alias *${node.source} names no anchor`, line(lines, node));
      // The copy is visited next, so aliases inside it are resolved (and counted) too.
      const copy = target.clone() as Node;
      copy.anchor = undefined;
      return copy;
    },
  });
  if (tooMany)
    throw syntaxProblem(file, `the document expands to more than ${MAX_YAML_NODES} nodes (aliases included)`);
  if (tooDeep) throw syntaxProblem(file, `the document nests more than ${MAX_YAML_DEPTH} levels deep`);
  return doc;
}

/**
 * True when flow collections ([...] and {...}) nest deeper than `limit`, not counting brackets in quoted
 * strings and comments. A bracket in a plain scalar counts too: an over-estimate only for text no
 * composition has (dozens of unclosed brackets).
 */
function flowNestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
    } else if (c === "'") {
      // '' is an escaped quote inside a single-quoted scalar.
      for (i++; i < text.length; i++)
        if (text[i] === "'" && text[i + 1] !== "'") break;
        else if (text[i] === "'") i++;
    } else if (c === "#" && (i === 0 || /\s/.test(text[i - 1]!))) {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "[" || c === "{") {
      if (++depth > limit) return true;
    } else if (c === "]" || c === "}") depth--;
  }
  return false;
}

const line = (lines: LineCounter, node: { range?: [number, number, number] | null }) =>
  node.range ? lines.linePos(node.range[0]).line : 1;

/** Parses and validates `text` (named `file` in messages). Throws BLACKWELL_ERR_INVALID_DESIRED_STATE listing every problem. */
export function parseBlackwellYaml(text: string, file: string): ParsedFile {
  const lines = new LineCounter();
  const doc = readDocument(text, file, lines);
  const r = new Reader(doc, lines);
  if (!isMap(doc.contents)) {
    r.fail([], "the document must be a mapping with apiVersion, kind, metadata and spec");
    throw invalid(file, r.problems);
  }
  r.only([], ["apiVersion", "kind", "metadata", "spec"]);
  r.string(["apiVersion"], { required: true, oneOf: ["blackwell.io/v1"] });
  r.string(["kind"], { required: true, oneOf: ["Composition"] });
  r.only(["metadata"], ["client_id", "labels"]);
  const client_id = r.string(["metadata", "client_id"], { required: true, pattern: ID }) ?? "";
  r.only(["spec"], ["defaults", "stacks"]);
  if (r.has(["spec", "defaults"]))
    r.only(
      ["spec", "defaults"],
      STACK_FIELDS.filter((f) => f !== "stack_id" && f !== "environment"),
    );

  const stacksNode = doc.getIn(["spec", "stacks"], true);
  const stacks: DeclaredStack[] = [];
  if (!isSeq(stacksNode) || stacksNode.items.length === 0) {
    r.fail(["spec", "stacks"], "must be a non-empty list of stacks");
  } else {
    const seen = new Set<string>();
    stacksNode.items.forEach((_, i) => {
      const stack = readStack(r, client_id, i);
      if (seen.has(stack.stack_id)) r.fail(["spec", "stacks", i, "stack_id"], `duplicate stack_id ${stack.stack_id}`);
      seen.add(stack.stack_id);
      stacks.push(stack);
    });
  }
  // A promotion names a stack of the same file, and the chain has no loop.
  const byId = new Map(stacks.map((s) => [s.stack_id, s]));
  stacks.forEach((stack, i) => {
    const from = stack.promotion?.from;
    if (from === undefined) return;
    if (!byId.has(from)) r.fail(["spec", "stacks", i, "promotion", "from"], `no stack ${from} in this file`);
    const seen = new Set([stack.stack_id]);
    for (let at = byId.get(from); at?.promotion; at = byId.get(at.promotion.from)) {
      if (seen.has(at.stack_id)) {
        r.fail(["spec", "stacks", i, "promotion", "from"], "the promotion chain loops back to this stack");
        break;
      }
      seen.add(at.stack_id);
    }
  });
  // The checks every desired state passes, whichever way it comes in (this file, the API, a record on Kafka).
  if (r.problems.length === 0)
    stacks.forEach((stack, i) => {
      for (const p of desiredProblems(stack)) r.fail(["spec", "stacks", i, ...p.path.split(".")], p.message);
    });
  if (r.problems.length > 0) throw invalid(file, r.problems);
  return { client_id, stacks };
}

const STACK_FIELDS = [
  "stack_id",
  "environment",
  "promotion",
  "providers",
  "integrations",
  "resources",
  "build_project",
  "content_types",
  "staleness",
  "policy",
];

/** A stack field, falling back to `spec.defaults`. */
function at(r: Reader, i: number, ...rest: Path): Path {
  const own: Path = ["spec", "stacks", i, ...rest];
  if (r.has(own) || !r.has(["spec", "defaults", ...rest])) return own;
  return ["spec", "defaults", ...rest];
}

function readStack(r: Reader, client_id: string, i: number): DeclaredStack {
  r.only(["spec", "stacks", i], STACK_FIELDS);
  const stack_id = r.string(["spec", "stacks", i, "stack_id"], { required: true, pattern: ID }) ?? "";
  const environment = r.string(["spec", "stacks", i, "environment"], { required: true, pattern: ID }) ?? "";

  r.only(at(r, i, "providers"), ROLES);
  const providers = Object.fromEntries(
    ROLES.map((role) => [role, r.string(at(r, i, "providers", role), { pattern: ID })]),
  ) as Record<Role, string | null>;
  if (ROLES.every((role) => providers[role] === null))
    r.fail(at(r, i, "providers"), "declare at least one provider (cms, ecommerce or ssg)");

  const integrations = r.keys(at(r, i, "integrations")).map((name) => {
    const base = [...at(r, i, "integrations"), name];
    r.only(base, ["config", "ignore"]);
    const ignore_paths = r.strings([...base, "ignore"]);
    ignore_paths.forEach((p, k) => {
      try {
        parsePointer(p);
      } catch (err) {
        r.fail([...base, "ignore", k], (err as Error).message);
      }
    });
    if (!r.has([...base, "config"])) r.fail([...base, "config"], "is required");
    return { name, config: r.json([...base, "config"]), ignore_paths };
  });

  const ARN = /^arn:aws[a-z-]*:/;
  const resources = r.keys(at(r, i, "resources")).map((name) => {
    const base = [...at(r, i, "resources"), name];
    // `name: arn` (the spec's expected_resources) or `name: {arn, ignore}`.
    if (typeof r.get(base) === "string") return { name, arn: r.string(base, { pattern: ARN }) ?? "", ignore_paths: [] };
    r.only(base, ["arn", "ignore"]);
    return {
      name,
      arn: r.string([...base, "arn"], { required: true, pattern: ARN }) ?? "",
      ignore_paths: r.strings([...base, "ignore"]),
    };
  });

  const build_project = r.string(at(r, i, "build_project"), { pattern: /^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/ });
  const content_types = r.strings(at(r, i, "content_types"));
  if (content_types.length > 0 && !build_project)
    r.fail(at(r, i, "content_types"), "tracking content needs a build_project that builds the site");

  r.only(at(r, i, "staleness"), ["provider_silence", "resource_ttl", "content_grace", "webhook_failure_threshold"]);
  const staleness: StalenessWindows = {
    provider_silence_seconds: r.seconds(at(r, i, "staleness", "provider_silence"), 900),
    resource_ttl_seconds: r.seconds(at(r, i, "staleness", "resource_ttl"), 600),
    content_grace_seconds: r.seconds(at(r, i, "staleness", "content_grace"), 300),
    webhook_failure_threshold: r.int(at(r, i, "staleness", "webhook_failure_threshold"), 3, 1, 1000),
  };

  const stack: Omit<DeclaredStack, "desired_hash"> = {
    client_id,
    stack_id,
    environment,
    source: "",
    providers,
    integrations,
    resources,
    build_project,
    content_types,
    staleness,
    policy: readPolicy(r, i),
    policy_declared_json: JSON.stringify(declaredPolicy(r, i)),
    ...readPromotion(r, i),
  };
  return { ...stack, desired_hash: desiredHash(stack) };
}

/**
 * A stack's `promotion:` (its own, never from `spec.defaults`: each link of the chain is named where it ends):
 *
 *   promotion:
 *     from: cms-ecom-staging          # the earlier environment's stack
 *     match: [providers, integrations]
 *     ignore: ["/integrations/shopify-products/config/webhook_url"]
 *     max_lag: 1d                     # default 1d
 *     soak: 30m                       # default 30m
 *     verify: {window: 15m, rollback_on: [provider_missing, integration_config]}
 *     approval_required: true         # default false: a promotion waits for someone else's approval
 */
function readPromotion(r: Reader, i: number): { promotion?: PromotionSpec } {
  const p: Path = ["spec", "stacks", i, "promotion"];
  if (!r.has(p)) return {};
  r.only(p, ["from", "match", "ignore", "max_lag", "soak", "verify", "coordinate_heals", "approval_required"]);
  r.only([...p, "verify"], ["window", "rollback_on"]);
  const from = r.string([...p, "from"], { required: true, pattern: ID }) ?? "";
  const match = r.strings([...p, "match"], { oneOf: PROMOTED_PARTS }) as PromotedPart[];
  if (match.length === 0) r.fail([...p, "match"], `must name at least one of ${PROMOTED_PARTS.join(", ")}`);
  const ignore_paths = r.strings([...p, "ignore"]);
  ignore_paths.forEach((pointer, k) => {
    try {
      parsePointer(pointer);
    } catch (err) {
      r.fail([...p, "ignore", k], (err as Error).message);
    }
  });
  return {
    promotion: {
      from,
      match,
      ignore_paths,
      max_lag_seconds: r.seconds([...p, "max_lag"], 86_400),
      soak_seconds: r.seconds([...p, "soak"], 1800),
      verify_window_seconds: r.seconds([...p, "verify", "window"], 900),
      rollback_on: r.strings([...p, "verify", "rollback_on"], { oneOf: POLICY_DRIFT_KINDS }),
      // Only when declared: a promotion that does not name it keeps its desired hash.
      ...(r.has([...p, "coordinate_heals"]) ? { coordinate_heals: r.bool([...p, "coordinate_heals"], false) } : {}),
      ...(r.has([...p, "approval_required"]) ? { approval_required: r.bool([...p, "approval_required"], false) } : {}),
    },
  };
}

/** The policy fields the stack sets itself (or through `spec.defaults`), as a document: what a fleet policy may not override. */
function declaredPolicy(r: Reader, i: number): PolicyDocument {
  const out: PolicyDocument = {};
  for (const path of POLICY_DOCUMENT_FIELDS) {
    const from = at(r, i, "policy", ...path);
    if (!r.has(from)) continue;
    let node = out;
    for (const k of path.slice(0, -1)) node = (node[k] ??= {}) as PolicyDocument;
    node[path[path.length - 1]!] = r.json(from);
  }
  return out;
}

function readPolicy(r: Reader, i: number): ReconciliationPolicy {
  const p = (...rest: Path) => at(r, i, "policy", ...rest);
  r.only(p(), ["schedule", "auto_heal", "notifications", "observability"]);
  r.only(p("schedule"), ["interval", "timezone"]);
  r.only(p("auto_heal"), [
    "enabled",
    "max_attempts",
    "backoff_strategy",
    "backoff_base",
    "backoff_cap",
    "allowed_drift_types",
    "require_approval",
    "circuit_breaker",
    "flap_detection",
    "content_quiet_period",
    "windows",
    "min_confidence",
    "preempt",
  ]);
  r.only(p("auto_heal", "preempt"), ["min_confidence", "drift_types"]);
  r.only(p("auto_heal", "circuit_breaker"), ["max_heals", "window"]);
  r.only(p("auto_heal", "flap_detection"), ["max_flips", "window"]);
  const minConfidence = r.fraction(p("auto_heal", "min_confidence"));
  let preempt: { min_confidence: number; drift_types: string[] } | undefined;
  if (r.has(p("auto_heal", "preempt"))) {
    const least = r.fraction(p("auto_heal", "preempt", "min_confidence"));
    if (least === undefined && !r.has(p("auto_heal", "preempt", "min_confidence")))
      r.fail(p("auto_heal", "preempt", "min_confidence"), "is required with preempt (e.g. 0.8)");
    const drift_types = r.strings(p("auto_heal", "preempt", "drift_types"), { oneOf: POLICY_DRIFT_KINDS });
    if (drift_types.length === 0)
      r.fail(p("auto_heal", "preempt", "drift_types"), "must name at least one drift kind to heal before it opens");
    preempt = { min_confidence: least ?? 1, drift_types };
  }
  const windows = (() => {
    const path = p("auto_heal", "windows");
    if (r.get(path) === undefined || r.get(path) === null) return [];
    if (!r.isList(path)) {
      r.fail(path, "must be a list of windows");
      return [];
    }
    return (r.json(path) as unknown[]).map((_, k): HealWindow => {
      const w = [...path, k];
      r.only(w, ["action", "days", "start", "end", "timezone", "drift_types"]);
      const hhmm = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;
      // A window without a zone is in UTC, whatever the schedule's zone: a window's meaning must not change
      // when someone edits the schedule.
      const timezone = r.string([...w, "timezone"]) ?? "UTC";
      if (!isTimeZone(timezone))
        r.fail(
          [...w, "timezone"],
          `unknown time zone ${JSON.stringify(timezone)} (use an IANA name like Europe/Berlin)`,
        );
      const start = r.string([...w, "start"], { required: true, pattern: hhmm }) ?? "00:00";
      const end = r.string([...w, "end"], { required: true, pattern: hhmm }) ?? "24:00";
      if (start === end) r.fail([...w, "end"], "must differ from start");
      const days = r.strings([...w, "days"], { oneOf: WEEKDAYS }) as Weekday[];
      return {
        action: (r.string([...w, "action"], { required: true, oneOf: ["allow", "deny"] }) ?? "deny") as
          "allow" | "deny",
        days: days.length > 0 ? days : [...WEEKDAYS],
        start,
        end,
        timezone,
        drift_types: r.strings([...w, "drift_types"], { oneOf: POLICY_DRIFT_KINDS }),
      };
    });
  })();
  const interval = r.string(p("schedule", "interval")) ?? "5m";
  const policyTimezone = r.string(p("schedule", "timezone")) ?? "UTC";
  if (!isTimeZone(policyTimezone))
    r.fail(
      p("schedule", "timezone"),
      `unknown time zone ${JSON.stringify(policyTimezone)} (use an IANA name like Europe/Berlin)`,
    );
  if (parseDuration(interval) === null)
    r.fail(p("schedule", "interval"), `must be a duration like 5m, got ${JSON.stringify(interval)}`);
  const channels = (() => {
    const path = p("notifications", "channels");
    if (r.get(path) === undefined || r.get(path) === null) return [];
    if (!r.isList(path)) {
      r.fail(path, "must be a list of channels");
      return [];
    }
    return (r.json(path) as unknown[]).map((_, k) => {
      r.only([...path, k], ["type", "webhook_url", "addresses", "severity_threshold"]);
      const type =
        r.string([...path, k, "type"], { required: true, oneOf: ["slack", "webhook", "email"] }) ?? "webhook";
      const webhook_url = r.string([...path, k, "webhook_url"], { pattern: /^https?:\/\// });
      if (type !== "email" && !webhook_url) r.fail([...path, k, "webhook_url"], `is required for a ${type} channel`);
      return {
        type,
        webhook_url,
        addresses: r.strings([...path, k, "addresses"]),
        severity_threshold: (r.string([...path, k, "severity_threshold"], { oneOf: SEVERITIES }) ??
          "medium") as Severity,
      };
    });
  })();
  r.only(p("observability"), ["metrics_retention", "detailed_logging", "performance_tracking"]);
  return {
    schedule: { interval, timezone: policyTimezone },
    auto_heal: {
      enabled: r.bool(p("auto_heal", "enabled"), false),
      max_attempts: r.int(p("auto_heal", "max_attempts"), 3, 1, 100),
      backoff_strategy: (r.string(p("auto_heal", "backoff_strategy"), { oneOf: ["linear", "exponential"] }) ??
        "exponential") as "linear" | "exponential",
      backoff_base_seconds: r.seconds(p("auto_heal", "backoff_base"), 30),
      backoff_cap_seconds: r.seconds(p("auto_heal", "backoff_cap"), 900),
      allowed_drift_types: r.strings(p("auto_heal", "allowed_drift_types"), { oneOf: POLICY_DRIFT_KINDS }),
      require_approval: r.strings(p("auto_heal", "require_approval"), { oneOf: POLICY_DRIFT_KINDS }),
      circuit_breaker: {
        max_heals: r.int(
          p("auto_heal", "circuit_breaker", "max_heals"),
          DEFAULT_GUARDS.circuit_breaker.max_heals,
          1,
          10_000,
        ),
        window_seconds: r.seconds(
          p("auto_heal", "circuit_breaker", "window"),
          DEFAULT_GUARDS.circuit_breaker.window_seconds,
        ),
      },
      flap_detection: {
        max_flips: r.int(
          p("auto_heal", "flap_detection", "max_flips"),
          DEFAULT_GUARDS.flap_detection.max_flips,
          2,
          1000,
        ),
        window_seconds: r.seconds(
          p("auto_heal", "flap_detection", "window"),
          DEFAULT_GUARDS.flap_detection.window_seconds,
        ),
      },
      windows,
      content_quiet_period_seconds: r.seconds(
        p("auto_heal", "content_quiet_period"),
        DEFAULT_GUARDS.content_quiet_period_seconds,
      ),
      // Only when declared: a policy that does not name it keeps its desired hash.
      ...(minConfidence !== undefined ? { min_confidence: minConfidence } : {}),
      ...(preempt ? { preempt } : {}),
    },
    notifications: { channels },
    observability: {
      metrics_retention: r.string(p("observability", "metrics_retention")) ?? "30d",
      detailed_logging: r.bool(p("observability", "detailed_logging"), false),
      performance_tracking: r.bool(p("observability", "performance_tracking"), false),
    },
  };
}

/** SHA-256 of the canonical (key-sorted) JSON of the declared composition (versioning and bookkeeping left out). */
export function desiredHash(stack: Omit<DeclaredStack, "desired_hash"> & Partial<DesiredStack>): string {
  // Where it came from (a file, a promotion) and which fields the stack wrote itself are bookkeeping: the composition
  // is the rest, so applying what a promotion published is no change.
  const {
    source: _source,
    policy_declared_json: _declared,
    fleet_policy_version: _fleet,
    promoted_from: _promoted,
    approved_by: _approved,
    desired_hash: _hash,
    state_version: _version,
    previous_versions: _previous,
    applied_at: _at,
    applied_by: _by,
    ...declared
  } = stack;
  return createHash("sha256")
    .update(canonicalJson(withoutDefaultConfidence(declared)))
    .digest("hex");
}

/**
 * `auto_heal.min_confidence: 0` is the default: the file leaves it out, the Avro record always has it. Hashed as
 * absent, so a version read back from Kafka (a promotion's base, a rollback) hashes as the file that declared it.
 */
function withoutDefaultConfidence<T extends { policy?: DesiredStack["policy"] }>(declared: T): T {
  const autoHeal = declared.policy?.auto_heal;
  if (!autoHeal || autoHeal.min_confidence !== 0) return declared;
  const { min_confidence: _zero, ...rest } = autoHeal;
  return { ...declared, policy: { ...declared.policy!, auto_heal: rest } };
}

function invalid(file: string, problems: Problem[]): BlackwellError {
  const lines = problems.sort((a, b) => a.line - b.line).map((p) => `  ${file}:${p.line}: ${p.path}: ${p.message}`);
  const err = new BlackwellError(
    "BLACKWELL_ERR_INVALID_DESIRED_STATE",
    `${file} is invalid (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${lines.join("\n")}`,
  );
  (err as BlackwellError & { problems: Problem[] }).problems = problems;
  return err;
}

/**
 * A policy on its own (YAML or JSON, the same format as a stack's `policy:`),
 * as the API's policy endpoint takes it. Same checks, same messages.
 */
/**
 * Every field of a policy document, as `GET /policy` answers it: what a full
 * replacement (`PUT /policy`) must name, so that leaving a field out is an
 * error, not a silent reset to its default.
 */
export const POLICY_FIELDS: ReadonlyArray<readonly string[]> = [
  ["schedule", "interval"],
  ["schedule", "timezone"],
  ["auto_heal", "enabled"],
  ["auto_heal", "max_attempts"],
  ["auto_heal", "backoff_strategy"],
  ["auto_heal", "backoff_base"],
  ["auto_heal", "backoff_cap"],
  ["auto_heal", "allowed_drift_types"],
  ["auto_heal", "require_approval"],
  ["auto_heal", "circuit_breaker", "max_heals"],
  ["auto_heal", "circuit_breaker", "window"],
  ["auto_heal", "flap_detection", "max_flips"],
  ["auto_heal", "flap_detection", "window"],
  ["auto_heal", "windows"],
  ["auto_heal", "content_quiet_period"],
  ["notifications", "channels"],
  ["observability", "metrics_retention"],
  ["observability", "detailed_logging"],
  ["observability", "performance_tracking"],
];

export function parsePolicyDocument(
  text: string,
  file: string,
  opts: { complete?: boolean } = {},
): ReconciliationPolicy {
  const lines = new LineCounter();
  const inner = readDocument(text, file, lines);
  if (!isMap(inner.contents))
    throw invalid(file, [{ line: 1, path: "(root)", message: "the policy must be an object" }]);
  const { policy, problems } = readPolicyNode(inner.contents, lines, opts);
  if (problems.length > 0) throw invalid(file, problems);
  return policy;
}

/** A policy document's node (its lines counted in `lines`), read and checked; problems with paths from `policy.`. */
function readPolicyNode(
  node: unknown,
  lines: LineCounter,
  opts: { complete?: boolean } = {},
): { policy: ReconciliationPolicy; problems: Problem[] } {
  const doc = parseDocument("spec: {stacks: [{policy: null}]}");
  doc.setIn(["spec", "stacks", 0, "policy"], node);
  const r = new Reader(doc, lines);
  const policy = readPolicy(r, 0);
  if (opts.complete)
    for (const field of POLICY_FIELDS)
      if ((doc.getIn(["spec", "stacks", 0, "policy", ...field]) ?? null) === null)
        r.fail(["spec", "stacks", 0, "policy", ...field], "is required: the policy is replaced as a whole");
  if (r.problems.length === 0)
    for (const p of policyProblems(policy)) r.fail(["spec", "stacks", 0, "policy", ...p.path.split(".")], p.message);
  return {
    policy,
    problems: r.problems.map((p) => ({ ...p, path: p.path.replace(/^spec\.stacks\.0\./, "") })),
  };
}

/** A fleet policy file: `defaults:` (a policy document every stack inherits) and `rules:`. */
export interface ParsedFleetPolicy {
  defaults: PolicyDocument;
  rules: FleetRules;
}

/**
 * Reads a fleet policy file:
 *
 *   defaults:                 # any policy field, in the format of a stack's policy:
 *     auto_heal: {max_attempts: 3, circuit_breaker: {max_heals: 10, window: 1h}}
 *   rules:
 *     approval_required_from_severity: critical
 *     max_attempts_at_most: 5
 *     never_auto_heal: [cms_provider_change]
 */
export function parseFleetPolicy(text: string, file: string): ParsedFleetPolicy {
  const lines = new LineCounter();
  const doc = readDocument(text, file, lines);
  const r = new Reader(doc, lines);
  if (!isMap(doc.contents)) {
    r.fail([], "the fleet policy must be a mapping with defaults and rules");
    throw invalid(file, r.problems);
  }
  r.only([], ["defaults", "rules"]);
  r.only(["rules"], ["approval_required_from_severity", "max_attempts_at_most", "never_auto_heal"]);
  const severity = r.string(["rules", "approval_required_from_severity"], { oneOf: SEVERITIES });
  const most = r.has(["rules", "max_attempts_at_most"]) ? r.int(["rules", "max_attempts_at_most"], 1, 1, 100) : null;
  const never = r.strings(["rules", "never_auto_heal"], { oneOf: POLICY_DRIFT_KINDS });
  const problems = [...r.problems];
  let defaults: PolicyDocument = {};
  const node = doc.getIn(["defaults"], true);
  if (node !== undefined && node !== null) {
    if (!isMap(node)) problems.push({ line: 1, path: "defaults", message: "must be a policy (a mapping)" });
    else {
      const read = readPolicyNode(node, lines);
      problems.push(...read.problems.map((p) => ({ ...p, path: p.path.replace(/^policy/, "defaults") })));
      defaults = JSON.parse(JSON.stringify((doc.toJS() as { defaults: unknown }).defaults)) as PolicyDocument;
    }
  }
  if (problems.length > 0) throw invalid(file, problems);
  return {
    defaults,
    rules: {
      approval_required_from_severity: (severity as Severity | null) ?? null,
      max_attempts_at_most: most,
      never_auto_heal: never,
    },
  };
}
