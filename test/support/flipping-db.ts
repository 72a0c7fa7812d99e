/**
 * A stack whose only judged part is one database, with a day's staleness windows: each report flipping the database
 * between unhealthy and healthy opens or resolves its one drift. The exactly-once tests count those transitions.
 */
import type { DesiredStack } from "../../src/core/model/desired.js";
import { desiredStack } from "./core-spec.js";
import { resourceEventValue } from "./events.js";

const DAY = 86_400;

/** The stack `web` of `client_id`, applied at `base`. */
export function dbStack(client_id: string, base: number, providers?: DesiredStack["providers"]): DesiredStack {
  return desiredStack({
    client_id,
    stack_id: "web",
    applied_at: new Date(base).toISOString(),
    providers: providers ?? { cms: null, ecommerce: null, ssg: "codebuild" },
    resources: [{ name: "db", arn: "arn:aws:rds:eu-west-1:1:db:x", ignore_paths: [] }],
    staleness: {
      provider_silence_seconds: DAY,
      resource_ttl_seconds: DAY,
      content_grace_seconds: 300,
      webhook_failure_threshold: 3,
    },
  });
}

/** Flip `i` of the database (even: unhealthy, opening the drift; odd: healthy, resolving it), reported at `base` + i + 1 s. */
export function dbFlip(client_id: string, i: number, base: number) {
  return resourceEventValue({
    client_id,
    resource_name: "db",
    status: i % 2 === 0 ? "unhealthy" : "healthy",
    at: new Date(base + 1000 * (i + 1)),
  });
}
