/**
 * Client of the Integration API (the spec's `integration_api`): POST
 * /providers/register and PUT /integrations/{name}. Every call has a timeout;
 * 5xx, 429 and network failures are retried (src/runtime/retry.ts); 4xx are
 * final. The command key travels as `Idempotency-Key`, so a retried or
 * redelivered call can be recognised by the API.
 */
import { errorMessage } from "../errors.js";
import { retry, retryPolicy, type RetryPolicy } from "../runtime/retry.js";
import { failed, type EffectOutcome } from "./outcome.js";

/** A failure worth another try: 5xx, 429, timeout or network. */
class TransientFailure extends Error {}

export interface IntegrationApiOptions {
  baseUrl: string;
  /** Bearer token, if the API wants one. Never logged. */
  token?: string;
  /** Per request, ms. Default 10 000. */
  timeoutMs?: number;
  /** Attempts per call, the first included. Default 4. Ignored when `retry` is given. */
  attempts?: number;
  /** Delay before the first retry, ms; doubles after. Default 500. Ignored when `retry` is given. */
  retryBaseMs?: number;
  /** The whole retry policy; default built from `attempts` and `retryBaseMs`, with equal jitter. */
  retry?: RetryPolicy;
}

export class IntegrationApi {
  private readonly policy: RetryPolicy;

  constructor(private readonly o: IntegrationApiOptions) {
    // Built here, so a nonsensical setting stops the executor at start-up, not at the first heal.
    this.policy = o.retry ?? retryPolicy({ attempts: o.attempts ?? 4, initialMs: o.retryBaseMs ?? 500 });
  }

  /** The spec's body, plus the stack it is for. */
  registerProvider(
    idempotencyKey: string,
    body: { client_id: string; stack_id: string; provider_type: string; provider_name: string },
  ): Promise<EffectOutcome> {
    return this.call("POST", "/providers/register", idempotencyKey, body);
  }

  /** The spec's call (body = the expected configuration); the client and stack travel as query parameters. */
  configureIntegration(
    idempotencyKey: string,
    name: string,
    configuration: unknown,
    scope: { client_id: string; stack_id: string },
  ): Promise<EffectOutcome> {
    const query = new URLSearchParams(scope).toString();
    return this.call("PUT", `/integrations/${encodeURIComponent(name)}?${query}`, idempotencyKey, configuration);
  }

  private async call(method: string, path: string, idempotencyKey: string, body: unknown): Promise<EffectOutcome> {
    const url = `${this.o.baseUrl.replace(/\/+$/, "")}${path}`;
    let tried = 0;
    const once = async (attempt: number): Promise<EffectOutcome> => {
      tried = attempt;
      let res: Response;
      let text: string;
      try {
        res = await fetch(url, {
          method,
          headers: {
            "content-type": "application/json",
            "idempotency-key": idempotencyKey,
            ...(this.o.token ? { authorization: `Bearer ${this.o.token}` } : {}),
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
        });
        text = (await res.text()).slice(0, 500);
      } catch (err) {
        throw new TransientFailure(`${method} ${path} failed: ${errorMessage(err)}`);
      }
      const details = { method, path, http_status: res.status, attempts: attempt };
      if (res.ok) return { status: "succeeded", error: null, details };
      const answer = `${method} ${path} answered ${res.status}${text ? `: ${text}` : ""}`;
      if (res.status >= 500 || res.status === 429) throw new TransientFailure(answer);
      return failed(answer, details);
    };
    try {
      return await retry(once, this.policy, { retriable: (err) => err instanceof TransientFailure });
    } catch (err) {
      return failed(`${errorMessage(err)} (gave up after ${tried} attempts)`, { method, path, attempts: tried });
    }
  }
}
