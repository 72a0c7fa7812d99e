/**
 * Request validation: a query string or a path parameter is text, so `?limit=5` is coerced to the number its schema
 * declares; a JSON body says what type each value is, so a body's value of the wrong type is refused, not converted
 * (`{"reason": 5}` had been taken as the reason "5", `{"dry_run": "yes"}` refused only because "yes" is no boolean).
 */
import { Ajv, type Options } from "ajv";
import type { FastifySchema, FastifySchemaCompiler } from "fastify";

/**
 * As Fastify's own compiler, but every problem at once and nothing removed silently. Unlike it, no ajv-formats (no
 * schema here uses `format`; one that did would fail at start-up, not pass unchecked) and header names are not
 * lowercased (no route has a headers schema; one would name its headers in lower case).
 */
const COMMON: Options = { allErrors: true, removeAdditional: false, useDefaults: true, addUsedSchema: false };

export function requestValidators(): FastifySchemaCompiler<FastifySchema> {
  const text = new Ajv({ ...COMMON, coerceTypes: "array" });
  const json = new Ajv({ ...COMMON, coerceTypes: false });
  return ({ schema, httpPart }) => (httpPart === "body" ? json : text).compile(schema as object);
}
