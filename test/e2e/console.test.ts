/**
 * The web console in a real browser (Debian's Chromium driven by playwright-core) against the API over a real
 * reconciler and broker: sign in, fleet, client, drift, approve a gated heal and watch the approval arrive without
 * reloading; a client token never sees another client; an admin token sees both. Screenshots of each page go to
 * test-results/screenshots/. A second suite fills a replica with 10k stacks and reports how fast the fleet page
 * shows (a figure printed, not an assertion).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureChromium } from "../../src/infra/test-tools.js";
import { startTestApi, type TestApi } from "../support/api-harness.js";
import { providerEventValue, resourceEventValue } from "../support/events.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";
import { ADMIN_TOKEN, startUnitApi, type UnitApi } from "../unit/api/api-fixture.js";
import { eventually } from "../support/eventually.js";

const ACME = "acme-token-0123456789abcdef";
const OTHER = "other-token-0123456789abcdef";
const ADMIN = "admin-token-0123456789abcdef";
const TOKENS = `acme-ops@acme-corp:${ACME},other-ops@other-co:${OTHER},root@*:${ADMIN}`;
const EXAMPLE = readFileSync("examples/acme-corp/blackwell.yaml", "utf8");
const SHOTS = resolve("test-results/screenshots");
const WAIT = { timeout: 60_000 };
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A browser with a fresh profile of its own (its --user-data-dir), closed and removed by the returned stop. */
async function startBrowser() {
  const executablePath = ensureChromium((m) => console.log(m));
  const profile = mkdtempSync(join(tmpdir(), "blackwell-console-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: ARGS });
  return {
    context,
    stop: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

async function signIn(context: BrowserContext, baseUrl: string, token: string): Promise<Page> {
  const page = await context.newPage();
  page.on("pageerror", (err) => console.error(`page error: ${err.message}`));
  await page.goto(`${baseUrl}/ui/`);
  await page.waitForSelector("#token", WAIT);
  await page.fill("#token", token);
  await page.click("button[type=submit]");
  await page.waitForSelector("#fleet tbody tr[data-client]", WAIT);
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

describe("the web console in Chromium, on the real broker", () => {
  let h: Harness;
  let api: TestApi;
  let browser: Awaited<ReturnType<typeof startBrowser>>;
  let cmsDrift: string;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await startBrowser();
    h = await createHarness(3);
    await h.startReconciler();
    api = await startTestApi(h, TOKENS, { reconcilerGroup: `${h.config.topicPrefix}reconciler` });
    const yaml = { "content-type": "application/yaml" };
    expect((await api.call("POST", "/v1/clients/acme-corp/desired-state", ACME, EXAMPLE, yaml)).status).toBe(200);
    const other = EXAMPLE.replace("client_id: acme-corp", "client_id: other-co");
    expect((await api.call("POST", "/v1/clients/other-co/desired-state", OTHER, other, yaml)).status).toBe(200);
    // As in `blackwell demo`: the world reports healthy, then someone connects Contentful as the prod CMS,
    // which the example policy lets heal only after an approval (cms_provider_change).
    const now = Date.now();
    for (const client of ["acme-corp", "other-co"])
      for (const environment of ["prod", "staging"]) {
        await h.produce(
          "provider-events",
          "ProviderEvent",
          client,
          ["sanity", "shopify", "codebuild"].map((p) =>
            providerEventValue({
              client_id: client,
              environment,
              provider_name: p,
              event_type: "provider.connected",
              at: new Date(now),
            }),
          ),
        );
        await h.produce(
          "resource-events",
          "ResourceEvent",
          client,
          ["content_cache_table", "site_distribution", "site_bucket"].map((r) =>
            resourceEventValue({
              client_id: client,
              environment,
              resource_name: r,
              status: "healthy",
              at: new Date(now),
            }),
          ),
        );
      }
    await h.produce("provider-events", "ProviderEvent", "acme-corp", [
      providerEventValue({
        client_id: "acme-corp",
        environment: "prod",
        provider_name: "contentful",
        event_type: "provider.connected",
        at: new Date(now + 1000),
      }),
    ]);
    const drift = await eventually(
      "the CMS drift in the API",
      () => api.call("GET", "/v1/clients/acme-corp/drift", ACME),
      (r) => r.status === 200 && r.body.drift_details.some((d: { type: string }) => d.type === "provider"),
    );
    cmsDrift = drift.body.drift_details.find((d: { type: string }) => d.type === "provider").drift_id;
    await eventually(
      "other-co's stacks in the API",
      () => api.call("GET", "/v1/clients/other-co/stacks", ADMIN),
      (r) => r.status === 200 && r.body.stacks.length === 2,
    );
  }, 180_000);
  afterAll(async () => {
    await browser?.stop();
    await api?.stop();
    await h?.close();
  });

  it("signs in with a client token, shows fleet, client and drift, and an approval arrives live", async () => {
    const page = await signIn(browser.context, api.url, ACME);
    await page.waitForSelector("#fleet-health .value", WAIT);
    await shot(page, "1-fleet-client-token");
    expect(await page.locator("#fleet tbody tr[data-client]").count()).toBe(1);
    expect(await page.textContent("body")).not.toContain("other-co");
    // Lag, dead letters and alerts are fleet-wide: a client token is told so, and shown none of them.
    await page.waitForSelector("#system-box p", WAIT);
    expect(await page.textContent("#system-box")).toContain("need an admin token");
    expect(await page.locator("#system").count()).toBe(0);

    await page.click('#fleet a[href="#/clients/acme-corp"]');
    await page.waitForSelector(`tr[data-drift="${cmsDrift}"]`, WAIT);
    await page.waitForSelector("table.timeline", WAIT);
    expect(await page.locator("section[data-stack]").count()).toBe(2);
    // The declared components: the CMS role drifts (Contentful connected), the rest verified matching.
    await page.waitForSelector('section[data-stack="cms-ecom-prod"] tr[data-component="provider:cms"]', WAIT);
    expect(await page.textContent('section[data-stack="cms-ecom-prod"] tr[data-component="provider:cms"]')).toContain(
      cmsDrift,
    );
    expect(
      await page.textContent('section[data-stack="cms-ecom-prod"] tr[data-component="resource:site_bucket"]'),
    ).toContain("matching");
    await shot(page, "2-client-health");

    await page.click(`tr[data-drift="${cmsDrift}"] a`);
    await page.waitForSelector("#diff tbody tr", WAIT);
    const diffText = await page.textContent("#diff");
    expect(diffText).toContain("$");
    await shot(page, "3-drift-detail");

    const url = page.url();
    const transitions = () => page.locator("table.timeline tbody tr").count();
    const before = await transitions();
    await page.fill("#reason", "Contentful was connected by mistake");
    await page.click("#act-approve");
    await page.waitForSelector(".answer .answer-status", WAIT);
    expect(await page.textContent(".answer .answer-status")).toContain("HTTP 200");
    expect(await page.textContent(".answer .answer-message")).toContain("heal_approved");
    // The audit of the approval arrives through the poll, without a reload.
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll("table.timeline tbody tr")].some((tr) =>
          tr.textContent?.includes("heal approved"),
        ),
      undefined,
      WAIT,
    );
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll("table.timeline tbody tr")].some((tr) =>
          tr.textContent?.includes("heal command issued"),
        ),
      undefined,
      WAIT,
    );
    expect(await transitions()).toBeGreaterThan(before);
    expect(page.url()).toBe(url);
    expect(await page.evaluate(() => performance.getEntriesByType("navigation").length)).toBe(1);
    await shot(page, "4-drift-after-approval");

    // The reconciliation view counts the client's drifts of the window, read live from the replica.
    await page.click('nav a[href="#/reconciliation"]');
    await page.waitForSelector("#recon-chart svg", WAIT);
    await page.waitForFunction(
      () => Number(document.querySelector("#recon-trend .value")?.textContent?.split(" / ")[0] ?? 0) >= 1,
      undefined,
      WAIT,
    );
    expect(await page.textContent("#recon-open .value")).toMatch(/^\d+$/);
    await shot(page, "8-reconciliation");

    // Another client's pages, reached by URL: not found, and nothing of it shown.
    await page.goto(`${api.url}/ui/#/clients/other-co`);
    await page.waitForSelector("[role=alert]", WAIT);
    expect(await page.textContent("main")).toContain("Not found");
    expect(await page.textContent("body")).not.toContain("other-co");
    await shot(page, "5-other-client-hidden");
    await page.goto(`${api.url}/ui/#/clients/other-co/drifts/drift-000000000000000000000000`);
    await page.waitForSelector("[role=alert]", WAIT);
    expect(await page.textContent("body")).not.toContain("other-co");
    await page.goto(`${api.url}/ui/#/fleet?q=other`);
    await page.waitForSelector("#fleet tbody tr", WAIT);
    expect(await page.locator("#fleet tbody tr[data-client]").count()).toBe(0);
    expect(await page.textContent("body")).not.toContain("other-co");
    await page.close();
  });

  it("shows an admin token both clients", async () => {
    const page = await signIn(browser.context, api.url, ADMIN);
    await page.waitForSelector('#fleet tr[data-client="other-co"]', WAIT);
    const clients = await page
      .locator("#fleet tbody tr[data-client]")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-client")));
    expect(clients).toEqual(["acme-corp", "other-co"]);
    // The system panel: the reconciler's lag and throughput, dead letters, and the alerts the API says are firing.
    await page.waitForSelector("#system #event-lag .value", WAIT);
    expect(await page.textContent("#event-lag .value")).toMatch(/^\d+ records$/);
    expect(await page.textContent("#dead-letters .value")).toBe("0");
    // The same alerts as the API answers (read again while a heal may still change them).
    const agree = async () => {
      const firing = (await api.call("GET", "/v1/system", ADMIN)).body.alerts.map((a: { alert: string }) => a.alert);
      const shown = await page
        .locator("#system [data-alert]")
        .evaluateAll((items) => items.map((i) => i.getAttribute("data-alert")));
      return { shown, expected: firing.length > 0 ? firing : ["none"] };
    };
    const alerts = await eventually(
      "the console's alerts to match the API's",
      agree,
      (a) => JSON.stringify(a.shown) === JSON.stringify(a.expected),
    );
    expect(alerts.shown).toEqual(alerts.expected);
    await shot(page, "6-fleet-admin");
    await page.click("#logout");
    await page.waitForSelector("#token", WAIT);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.close();
  });
});

describe("the fleet page at 10k stacks (a measurement, not an assertion)", () => {
  let unit: UnitApi;
  let browser: Awaited<ReturnType<typeof startBrowser>>;
  let url: string;
  const CLIENTS = 1000;
  const STACKS_PER_CLIENT = 10;

  beforeAll(async () => {
    browser = await startBrowser();
    unit = await startUnitApi();
    const statuses = ["healthy", "healthy", "healthy", "drift_detected", "reconciling", "error"];
    const severities = ["low", "medium", "high", "critical"];
    unit.bulk(() => {
      for (let c = 0; c < CLIENTS; c++) {
        const client = `client-${String(c).padStart(4, "0")}`;
        for (let s = 0; s < STACKS_PER_CLIENT; s++) {
          const status = statuses[(c + s) % statuses.length]!;
          const drifts =
            status === "healthy"
              ? []
              : [0, 1].map((n) => ({
                  drift_id: `drift-${String(c * 100 + s * 10 + n).padStart(24, "0")}`,
                  type: "resource",
                  component: `r${n}`,
                  expected_json: '"healthy"',
                  observed_json: '"deleted"',
                  severity: severities[(c + s + n) % 4],
                  detected_at: "2026-01-01T00:00:00.000Z",
                  acknowledged: false,
                }));
          unit.stack(client, {
            client_id: client,
            stack_id: `stack-${s}`,
            status,
            state_version: "v1.0.0",
            resources: { site_bucket: "healthy" },
            reconciliation_policy: { auto_heal: true },
            drift_details: drifts,
          });
        }
      }
    });
    url = await unit.app.listen({ host: "127.0.0.1", port: 0 });
  }, 180_000);
  afterAll(async () => {
    await browser?.stop();
    await unit?.close();
  });

  it("reports time to first paint and to the first fleet rows", async () => {
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const apiTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const res = await fetch(`${url}/v1/clients?limit=50&sort=open_drifts&order=desc`, { headers });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { total: number; totals: { stacks: number } };
      expect(body).toMatchObject({ total: CLIENTS, totals: { stacks: CLIENTS * STACKS_PER_CLIENT } });
      apiTimes.push(performance.now() - t0);
    }
    const page = await browser.context.newPage();
    // Signed in already: the measurement is of the fleet page itself, from navigation start.
    await page.goto(`${url}/ui/#/login`);
    await page.evaluate((t) => sessionStorage.setItem("blackwell.token", t), ADMIN_TOKEN);
    await page.goto(`${url}/ui/#/fleet`);
    await page.reload();
    await page.waitForSelector("#fleet tbody tr[data-client]", WAIT);
    const timing = await page.evaluate(() => ({
      rows: performance.now(),
      fcp: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null,
      fp: performance.getEntriesByName("first-paint")[0]?.startTime ?? null,
    }));
    await shot(page, "7-fleet-10k-stacks");
    const [first, ...repeats] = apiTimes;
    const sorted = [...repeats].sort((a, b) => a - b);
    console.log(
      `[console 10k] ${CLIENTS * STACKS_PER_CLIENT} stacks of ${CLIENTS} clients: ` +
        `GET /v1/clients (page of 50, sorted by open drifts) first (counted in SQLite) ${first!.toFixed(0)} ms, ` +
        `repeats while unchanged (cached counts) median ${sorted[2]!.toFixed(0)} ms; ` +
        `fleet page, signed in, from navigation start: first paint ${timing.fp?.toFixed(0) ?? "n/a"} ms, ` +
        `first contentful paint ${timing.fcp?.toFixed(0) ?? "n/a"} ms, fleet rows shown ${timing.rows.toFixed(0)} ms`,
    );
    await page.close();
  });
});
