#!/usr/bin/env node
// The container's HEALTHCHECK: healthy when this process's role answers /healthz. The API serves it on its own port,
// the other roles on BLACKWELL_OPS_PORT; BLACKWELL_HEALTH_URL names another address (the demo's stand-ins).
const urls = process.env.BLACKWELL_HEALTH_URL
  ? [process.env.BLACKWELL_HEALTH_URL]
  : [process.env.BLACKWELL_OPS_PORT, process.env.BLACKWELL_API_PORT ?? "8080"]
      .filter(Boolean)
      .map((port) => `http://127.0.0.1:${port}/healthz`);
const answers = await Promise.all(
  urls.map((url) =>
    fetch(url, { signal: AbortSignal.timeout(4000) }).then(
      (res) => res.ok,
      () => false,
    ),
  ),
);
process.exit(answers.some(Boolean) ? 0 : 1);
