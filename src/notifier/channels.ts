/**
 * Delivery to the policy's notification channels: Slack incoming webhooks
 * (`{"text": …}`) and generic webhooks (the drift event as JSON, with the
 * event id as Idempotency-Key). Timeouts; retries with exponential backoff on
 * 5xx, 429 and network errors; 4xx is final.
 */
import { errorMessage } from "../errors.js";

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

const ICON: Record<string, string> = { opened: ":rotating_light:", updated: ":warning:", resolved: ":white_check_mark:", acknowledged: ":eyes:", note: ":information_source:" };

export function slackText(n: DriftNotice): string {
  const head = `${ICON[n.transition] ?? ""} *${n.severity.toUpperCase()}* drift ${n.transition}: ${n.client_id}/${n.stack_id} ${n.drift_type}/${n.component}`.trim();
  const body = n.transition === "resolved"
    ? "Observed state matches the desired state again."
    : `Expected \`${n.expected_json.slice(0, 300)}\`, observed \`${n.observed_json.slice(0, 300)}\`.`;
  return [head, body, n.note ? `_${n.note}_` : null, `drift ${n.drift_id} · desired ${n.state_version} · ${n.timestamp}`].filter(Boolean).join("\n");
}

export async function deliver(url: string, body: unknown, idempotencyKey: string, options: { attempts?: number; retryBaseMs?: number; timeoutMs?: number } = {}): Promise<Delivery> {
  const attempts = options.attempts ?? 4;
  let error = "";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await new Promise((r) => setTimeout(r, (options.retryBaseMs ?? 1000) * 2 ** (attempt - 2)));
    try {
      const res = await fetch(url, {
        method: "POST", body: JSON.stringify(body), signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        headers: { "content-type": "application/json", "idempotency-key": idempotencyKey },
      });
      if (res.ok) return { ok: true, attempts: attempt };
      error = `HTTP ${res.status}`;
      if (res.status < 500 && res.status !== 429) return { ok: false, attempts: attempt, error };
    } catch (err) {
      error = errorMessage(err);
    }
  }
  return { ok: false, attempts, error };
}
