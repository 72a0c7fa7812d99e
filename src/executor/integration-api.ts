/**
 * Client of the Integration API (the spec's `integration_api`): POST
 * /providers/register and PUT /integrations/{name}. Every call has a timeout;
 * 5xx, 429 and network failures are retried with exponential backoff; 4xx are
 * final. The command key travels as `Idempotency-Key`, so a retried or
 * redelivered call can be recognised by the API.
 */
import { errorMessage } from "../errors.js";
import { failed, type EffectOutcome } from "./outcome.js";

export interface IntegrationApiOptions {
  baseUrl: string;
  /** Bearer token, if the API wants one. Never logged. */
  token?: string;
  timeoutMs?: number;
  /** Attempts per call, the first included. Default 4. */
  attempts?: number;
  /** First retry delay; doubles each time. Default 500 ms. */
  retryBaseMs?: number;
}

export class IntegrationApi {
  constructor(private readonly o: IntegrationApiOptions) {}

  /** The spec's body, plus the stack it is for. */
  registerProvider(idempotencyKey: string, body: { client_id: string; stack_id: string; provider_type: string; provider_name: string }): Promise<EffectOutcome> {
    return this.call("POST", "/providers/register", idempotencyKey, body);
  }

  /** The spec's call (body = the expected configuration); the client and stack travel as query parameters. */
  configureIntegration(idempotencyKey: string, name: string, configuration: unknown, scope: { client_id: string; stack_id: string }): Promise<EffectOutcome> {
    const query = new URLSearchParams(scope).toString();
    return this.call("PUT", `/integrations/${encodeURIComponent(name)}?${query}`, idempotencyKey, configuration);
  }

  private async call(method: string, path: string, idempotencyKey: string, body: unknown): Promise<EffectOutcome> {
    const url = `${this.o.baseUrl.replace(/\/+$/, "")}${path}`;
    const attempts = this.o.attempts ?? 4;
    let last = "";
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await new Promise((r) => setTimeout(r, (this.o.retryBaseMs ?? 500) * 2 ** (attempt - 2)));
      try {
        const res = await fetch(url, {
          method,
          headers: {
            "content-type": "application/json",
            "idempotency-key": idempotencyKey,
            ...(this.o.token ? { authorization: `Bearer ${this.o.token}` } : {}),
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
        });
        const text = (await res.text()).slice(0, 500);
        const details = { method, path, http_status: res.status, attempts: attempt };
        if (res.ok) return { status: "succeeded", error: null, details };
        last = `${method} ${path} answered ${res.status}${text ? `: ${text}` : ""}`;
        if (res.status < 500 && res.status !== 429) return failed(last, details);
      } catch (err) {
        last = `${method} ${path} failed: ${errorMessage(err)}`;
      }
    }
    return failed(`${last} (gave up after ${attempts} attempts)`, { method, path, attempts });
  }
}
