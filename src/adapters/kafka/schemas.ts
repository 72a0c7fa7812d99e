import { readFileSync } from "node:fs";
import { join } from "node:path";
import avro from "avsc";
import type { SchemaName } from "./topics.js";
import { projectRoot } from "./project-root.js";

export const SCHEMA_NAMES: readonly SchemaName[] = [
  "DesiredState",
  "ProviderEvent",
  "ResourceEvent",
  "Command",
  "HealResult",
  "DriftEvent",
  "DriftPrediction",
  "HealCommand",
  "StateRecord",
  "AuditEntry",
  "ExecutorEffect",
  "TaskJournal",
  "ChangelogEntry",
  "FleetPolicy",
  "PromotionRequest",
];

/** The `.avsc` text of one contract, as committed in `schemas/`. */
export function schemaText(name: SchemaName, dir = join(projectRoot(), "schemas")): string {
  return readFileSync(join(dir, `${name}.avsc`), "utf8");
}

/**
 * Parsed avsc types of every contract. Each file is self-contained, except that ChangelogEntry names DesiredState
 * (loaded before it); the registry is sent the whole schema, DesiredState inlined.
 */
export function loadSchemas(dir?: string): Map<SchemaName, avro.Type> {
  const types = new Map<SchemaName, avro.Type>();
  for (const name of SCHEMA_NAMES) {
    const registry: Record<string, avro.Type> =
      name === "ChangelogEntry" ? { "io.blackwell.DesiredState": types.get("DesiredState")! } : {};
    types.set(name, avro.Type.forSchema(JSON.parse(schemaText(name, dir)) as avro.Schema, { registry }));
  }
  return types;
}
