/**
 * Issue 14 item 15: `blackwell produce` numbered JSON lines without the blank ones, stopped at the first line that
 * was not JSON, and crashed with "Cannot destructure" on `[1,"a",null]`.
 */
import { describe, expect, it } from "vitest";
import { validateRecords } from "../../../src/cli/commands/produce.js";

const ok = { client_id: "acme-corp", environment: "prod", resource_name: "db", status: "healthy" };
const line = (v: unknown) => JSON.stringify(v);

describe("validateRecords (the input of blackwell produce)", () => {
  it("reports file:line counting every line, blank ones included, and every bad line at once", () => {
    const text = [line(ok), "", "{not json", line({ ...ok, status: "on fire" }), "", "also not json", line(ok)].join(
      "\n",
    );
    const out = validateRecords("resource-events", text, "events.jsonl");
    expect(out.records).toEqual([]);
    expect(out.problems).toEqual([
      expect.stringMatching(/^events\.jsonl:3: not JSON: /),
      expect.stringMatching(/^events\.jsonl:6: not JSON: /),
      expect.stringMatching(/^events\.jsonl:4: record 2: status "on fire" is not one of healthy/),
    ]);
  });

  it("refuses records that are not objects with a clear message instead of crashing", () => {
    const out = validateRecords("resource-events", '[1,"a",null]', "stdin");
    expect(out.problems).toEqual([
      "stdin: record 1: must be a JSON object, not number",
      "stdin: record 2: must be a JSON object, not string",
      "stdin: record 3: must be a JSON object, not null",
    ]);
    expect(validateRecords("commands", "[[]]\n", "x.json").problems).toEqual([
      "x.json: record 1: must be a JSON object, not an array",
    ]);
  });

  it("reports a pretty-printed document with a syntax error once, not each of its lines", () => {
    const out = validateRecords("resource-events", '{\n  "client_id": "acme-corp",\n  "status": \n}\n', "e.json");
    expect(out.problems).toHaveLength(1);
    expect(out.problems[0]).toMatch(/^e\.json: not JSON \(one document or JSON lines\): Unexpected token/);
  });

  it("completes and accepts valid records from an array, an object or JSON lines", () => {
    expect(validateRecords("resource-events", line([ok, ok]), "a.json").records).toHaveLength(2);
    expect(validateRecords("resource-events", line(ok), "o.json").records[0]).toMatchObject({
      ...ok,
      source: "blackwell-cli",
      details_json: "{}",
    });
    expect(validateRecords("resource-events", `${line(ok)}\n\n${line(ok)}\n`, "l.jsonl")).toMatchObject({
      problems: [],
      records: [ok, ok],
    });
  });
});
