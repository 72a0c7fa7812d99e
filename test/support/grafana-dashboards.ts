/**
 * The Grafana dashboards in deploy/grafana/dashboards as the tests see them: every panel's PromQL, the template
 * variables, Grafana's own variables substituted the way a test against a short-lived Prometheus can use them, and
 * the metric names an expression reads (so a typo in a name fails even where `or vector(0)` would hide it).
 */
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");
export const DASHBOARDS_DIR = join(ROOT, "deploy/grafana/dashboards");
export const DASHBOARD_FILES = ["reconciliation.json", "client-health.json", "system-overview.json"] as const;

export interface Target {
  expr?: unknown;
  refId?: unknown;
  datasource?: unknown;
  [k: string]: unknown;
}
export interface Panel {
  id?: unknown;
  type?: unknown;
  title?: unknown;
  gridPos?: { x?: unknown; y?: unknown; w?: unknown; h?: unknown };
  datasource?: unknown;
  targets?: Target[];
  panels?: Panel[];
  [k: string]: unknown;
}
export interface Variable {
  name: string;
  type: string;
  query?: unknown;
  definition?: unknown;
  datasource?: unknown;
  allValue?: unknown;
  includeAll?: unknown;
  [k: string]: unknown;
}
export interface Dashboard {
  title?: unknown;
  uid?: unknown;
  schemaVersion?: unknown;
  panels?: Panel[];
  templating?: { list?: Variable[] };
  [k: string]: unknown;
}

export function loadDashboards(): Array<{ file: string; dashboard: Dashboard }> {
  return readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), "utf8")) as Dashboard }));
}

/** Every panel, those inside collapsed rows included. */
export function allPanels(d: Dashboard): Panel[] {
  return (d.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
}

export interface PanelQuery {
  file: string;
  panel: string;
  refId: string;
  expr: string;
}

export function panelQueries(file: string, d: Dashboard): PanelQuery[] {
  return allPanels(d).flatMap((p) =>
    (p.targets ?? []).map((t) => ({ file, panel: String(p.title), refId: String(t.refId), expr: String(t.expr) })),
  );
}

/** Grafana's built-in variables an expression may use, with values for a Prometheus that has minutes of data. */
export const BUILTIN_VARIABLES: Record<string, string> = {
  // Grafana: max($__interval + scrape interval, 4 x scrape interval); the test scrapes every second.
  __rate_interval: "30s",
  __interval: "15s",
  // The dashboards' default range is the last hour; the test's Prometheus holds a minute or two of it.
  __range: "1h",
};

/** The variable query's text: `label_values(metric, label)` (Grafana stores it as a string or as `{ query }`). */
export function variableQuery(v: Variable): string {
  if (typeof v.query === "string") return v.query;
  if (v.query && typeof v.query === "object" && typeof (v.query as { query?: unknown }).query === "string")
    return (v.query as { query: string }).query;
  return typeof v.definition === "string" ? v.definition : "";
}

/** `$name`, `${name}` and `${name:format}` replaced by `values[name]`; unknown names are left as they are. */
export function substitute(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, braced?: string, bare?: string) => {
    const name = (braced ?? bare)!;
    return values[name] ?? whole;
  });
}

/** The variables an expression refers to. */
export function variablesIn(expr: string): string[] {
  return [...expr.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g)].map((m) => (m[1] ?? m[2])!);
}

/** Values for every variable of `d`: Grafana's built-ins, and each multi-value variable's "All" (its allValue). */
export function variableValues(d: Dashboard): Record<string, string> {
  const values: Record<string, string> = { ...BUILTIN_VARIABLES };
  for (const v of d.templating?.list ?? []) {
    if (v.type === "datasource") continue;
    values[v.name] = typeof v.allValue === "string" && v.includeAll === true ? v.allValue : ".*";
  }
  return values;
}

const KEYWORDS = new Set([
  "and",
  "or",
  "unless",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "offset",
  "inf",
  "nan",
]);

/**
 * The metric names a PromQL expression selects. Not a parser: strings, label matchers, ranges and grouping
 * clauses are removed, then every identifier that is not a function call or keyword is a metric name. Enough for
 * the expressions of our dashboards and rules (the unit test checks it on samples).
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(?=\s*(\()?)/g)) {
    const [, name, call] = m;
    if (call || KEYWORDS.has(name!.toLowerCase())) continue;
    names.add(name!);
  }
  return [...names];
}
