/**
 * Delivery to the policy's notification channels: Slack incoming webhooks
 * (`{"text": …}`) and generic webhooks (the drift event as JSON, with the
 * event id as Idempotency-Key). Timeouts; retries (src/runtime/retry.ts) on
 * 5xx, 429 and network errors; 4xx is final.
 */
import { errorMessage } from "../errors.js";
import { retry, retryPolicy, type RetryPolicy } from "../runtime/retry.js";

/** A failure worth another try: 5xx, 429, timeout or network. */
class TransientFailure extends Error {}

export interface DriftNotice {
  event_id: string;
  client_id: string;
  stack_id: string;
  drift_id: string;
  transition: string;
  drift_type: string;
  component: string;
  severity: string;
  expected_json: string;
  observed_json: string;
  timestamp: string;
  note: string | null;
  state_version: string;
}

export type Delivery = { ok: true; attempts: number } | { ok: false; attempts: number; error: string };

const ICON: Record<string, string> = {
  opened: ":rotating_light:",
  updated: ":warning:",
  resolved: ":white_check_mark:",
  acknowledged: ":eyes:",
  note: ":information_source:",
};

export function slackText(n: DriftNotice): string {
  const head =
    `${ICON[n.transition] ?? ""} *${n.severity.toUpperCase()}* drift ${n.transition}: ${n.client_id}/${n.stack_id} ${n.drift_type}/${n.component}`.trim();
  const body =
    n.transition === "resolved"
      ? "Observed state matches the desired state again."
      : `Expected \`${n.expected_json.slice(0, 300)}\`, observed \`${n.observed_json.slice(0, 300)}\`.`;
  return [
    head,
    body,
    n.note ? `_${n.note}_` : null,
    `drift ${n.drift_id} · desired ${n.state_version} · ${n.timestamp}`,
  ]
    .filter(Boolean)
    .join("\n");
}

export interface DeliveryOptions {
  /** Attempts, the first included. Default 4. Ignored when `retry` is given. */
  attempts?: number;
  /** Delay before the first retry, ms; doubles after. Default 1000. Ignored when `retry` is given. */
  retryBaseMs?: number;
  /** The whole retry policy; default built from `attempts` and `retryBaseMs`, with equal jitter. */
  retry?: RetryPolicy;
  /** Per request, ms. Default 10 000. */
  timeoutMs?: number;
}

export async function deliver(
  url: string,
  body: unknown,
  idempotencyKey: string,
  options: DeliveryOptions = {},
): Promise<Delivery> {
  const { attempts = 4, retryBaseMs = 1000 } = options;
  const policy = options.retry ?? retryPolicy({ attempts, initialMs: retryBaseMs });
  let tried = 0;
  const once = async (attempt: number): Promise<Delivery> => {
    tried = attempt;
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        headers: { "content-type": "application/json", "idempotency-key": idempotencyKey },
      });
    } catch (err) {
      throw new TransientFailure(errorMessage(err));
    }
    if (res.ok) return { ok: true, attempts: attempt };
    if (res.status >= 500 || res.status === 429) throw new TransientFailure(`HTTP ${res.status}`);
    return { ok: false, attempts: attempt, error: `HTTP ${res.status}` };
  };
  try {
    return await retry(once, policy, { retriable: (err) => err instanceof TransientFailure });
  } catch (err) {
    return { ok: false, attempts: tried, error: errorMessage(err) };
  }
}
