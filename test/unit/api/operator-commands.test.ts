/**
 * Operator commands become Command records, and the caller gets the
 * reconciler's answer (200), or 202 when it has not answered within the wait.
 * A Kafka outage while writing answers 503 with the catalog's code.
 */
import kafkajs from "kafkajs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ACME_TOKEN, DRIFT_ID, bearer, decode, names, stackRow, startUnitApi, type UnitApi } from "./api-fixture.js";

let api: UnitApi;
const post = (url: string, payload: object = {}) =>
  api.app.inject({ method: "POST", url, headers: bearer(ACME_TOKEN), payload });
const ACK = `/v1/clients/acme-corp/drifts/${DRIFT_ID}/acknowledge`;
/** A POST of `payload` as it is, in `contentType` (what a client that does not send JSON sends). */
const postRaw = (url: string, contentType: string, payload: string) =>
  api.app.inject({ method: "POST", url, headers: { ...bearer(ACME_TOKEN), "content-type": contentType }, payload });

beforeAll(async () => {
  api = await startUnitApi({ waitMs: 300 });
  api.stack("acme-corp", stackRow("web-prod"));
});
beforeEach(() => {
  api.producer.sent.length = 0;
  api.producer.onSend = () => {};
});
afterAll(async () => api.close());

describe("operator commands", () => {
  it("writes an acknowledge Command keyed by client, issued by the token's name, with the reason", async () => {
    const res = await post(ACK, { reason: "known, fixing by hand" });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: "accepted" });
    expect(api.producer.sent).toHaveLength(1);
    const [record] = api.producer.sent;
    expect(record).toMatchObject({ topic: names.commands, key: "acme-corp" });
    expect(decode("Command", record!.value)).toMatchObject({
      command_id: res.json().command_id,
      command: "acknowledge",
      client_id: "acme-corp",
      stack_id: "web-prod",
      drift_id: DRIFT_ID,
      issued_by: "acme-ops",
      reason: "known, fixing by hand",
    });
  });

  it("answers 200 with the audit once the reconciler has processed the command", async () => {
    // Stands in for the reconciler: its audit of the command reaches the replica right after the write.
    api.producer.onSend = (records) => {
      const command = decode("Command", records[0]!.value);
      const command_id = String(command.command_id);
      api.audit(
        {
          audit_id: `audit-${command_id}`,
          client_id: "acme-corp",
          stack_id: "web-prod",
          action: "approve",
          timestamp: "2026-01-01T00:02:00.000Z",
          success: true,
          changes_made_json: JSON.stringify({ command_id }),
        },
        command_id,
      );
    };
    const res = await post(`/v1/clients/acme-corp/drifts/${DRIFT_ID}/approve`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: "done", audit: { action: "approve", success: true } });
  });

  it("answers 404 for a drift that is not open, and writes nothing", async () => {
    const res = await post("/v1/clients/acme-corp/drifts/drift-000000000000000000000000/reject");
    expect(res.statusCode).toBe(404);
    expect(api.producer.sent).toHaveLength(0);
  });

  it("refuses unknown body fields with 400", async () => {
    const res = await post(ACK, { surprise: 1 });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("BLACKWELL_ERR_BAD_REQUEST");
  });

  it("refuses a body value of the wrong type instead of converting it, and writes nothing", async () => {
    const res = await post(ACK, { reason: 5 });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toEqual({ code: "BLACKWELL_ERR_BAD_REQUEST", message: "body/reason must be string" });
    expect(api.producer.sent).toHaveLength(0);
  });

  it("takes a decision that comes without a body (all its fields are optional)", async () => {
    const res = await api.app.inject({ method: "POST", url: ACK, headers: bearer(ACME_TOKEN) });
    expect(res.statusCode).toBe(202);
    expect(api.producer.sent).toHaveLength(1);
    expect(decode("Command", api.producer.sent[0]!.value)).toMatchObject({ command: "acknowledge", reason: null });
  });

  it("refuses a JSON null body: only a missing body counts as empty", async () => {
    const res = await postRaw(ACK, "application/json", "null");
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toEqual({ code: "BLACKWELL_ERR_BAD_REQUEST", message: "body must be object" });
    expect(api.producer.sent).toHaveLength(0);
  });

  it("says which Content-Type to send for a body it cannot read (curl -d sends a form)", async () => {
    const res = await postRaw(ACK, "application/x-www-form-urlencoded", '{"reason":"x"}');
    expect(res.statusCode).toBe(415);
    expect(res.json().error).toEqual({
      code: "BLACKWELL_ERR_UNSUPPORTED_MEDIA_TYPE",
      message:
        "Content-Type application/x-www-form-urlencoded is not read here: send JSON as application/json (a blackwell.yaml document also as application/yaml)",
    });
    expect(api.producer.sent).toHaveLength(0);
  });

  it("says a route needs a JSON body when a POST comes without one", async () => {
    const res = await api.app.inject({
      method: "POST",
      url: "/v1/clients/acme-corp/stacks/web-prod/promote",
      headers: bearer(ACME_TOKEN),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toEqual({
      code: "BLACKWELL_ERR_BAD_REQUEST",
      message: "POST /v1/clients/:client/stacks/:stack/promote needs a JSON body (Content-Type: application/json)",
    });
  });

  it("answers 503 BLACKWELL_ERR_KAFKA when the broker is away", async () => {
    api.producer.onSend = () => {
      const refused = new kafkajs.KafkaJSConnectionError("Connection error: ECONNREFUSED");
      throw new kafkajs.KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 5, retryTime: 1000 });
    };
    const res = await post(ACK);
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe("BLACKWELL_ERR_KAFKA");
  });

  it("answers 500 without details for an unexpected failure, even one whose message mentions a broker", async () => {
    api.producer.onSend = () => {
      throw new Error("cannot reach broker list: internal bug");
    };
    const res = await post(ACK);
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { code: "BLACKWELL_ERR_INTERNAL", message: "internal error" } });
  });
});
