/**
 * Approval of a promotion on the real broker: a stack whose promotion requires an approval gets a pending request,
 * not a version; its requester may not approve it; someone else's approval publishes it (with the gates checked
 * again); a request that either stack moved on from is superseded; a rejected one is gone. Through the runtime and
 * the API.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseBlackwellYaml } from "../../src/adapters/yaml/parse-blackwell-yaml.js";
import { applyDesired, currentDesired } from "../../src/runtime/apply-desired.js";
import { promote } from "../../src/runtime/promote.js";
import { approvePromotion, rejectPromotion } from "../../src/runtime/promotion-approval.js";
import { latestRequest, promotionRequests } from "../../src/runtime/promotion-requests.js";
import { startTestApi, type TestApi } from "../support/api-harness.js";
import { providerEventValue } from "../support/events.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";
import { collectTopic, type Collector } from "../support/topic-collector.js";
import { eventuallyValue } from "../support/eventually.js";

const CLIENT = "appr-corp";
const composition = (stagingCms: string, prodCms: string) =>
  parseBlackwellYaml(
    `apiVersion: blackwell.io/v1
kind: Composition
metadata: {client_id: ${CLIENT}}
spec:
  stacks:
    - stack_id: web-staging
      environment: staging
      providers: {cms: ${stagingCms}}
    - stack_id: web-prod
      environment: prod
      providers: {cms: ${prodCms}}
      promotion: {from: web-staging, match: [providers], soak: 1s, approval_required: true}
`,
    "blackwell.yaml",
  );

interface Audit {
  action: string;
  stack_id: string | null;
  triggered_by: string;
  approver: string | null;
  approval_required: boolean;
}
interface StateRecord {
  stack_id: string;
  state_version: string;
  status: string;
}

describe("approval of a promotion on the real broker", () => {
  let h: Harness;
  let api: TestApi;
  let states: Collector<StateRecord>;
  let audit: Collector<Audit>;
  const RELEASE = "release-token-0123456789abcdef";
  const LEAD = "lead-token-0123456789abcdef";
  const connected = (environment: string, cms: string) =>
    h.produce("provider-events", "ProviderEvent", CLIENT, [
      providerEventValue({
        client_id: CLIENT,
        environment,
        provider_name: cms,
        event_type: "provider.connected",
        provider_role: "cms",
      }),
    ]);
  /**
   * Staging's new CMS, connected, judged healthy under its new version: its gates will pass after the soak. The file
   * keeps prod's CMS as promoted (applying the old one would publish it again).
   */
  const stagingMovesTo = async (cms: string, prodCms = "contentful") => {
    await applyDesired(h.ctx, composition(cms, prodCms), { file: "blackwell.yaml", appliedBy: "dev" });
    const version = (await currentDesired(h.ctx, CLIENT)).get("web-staging")!.state_version;
    await connected("staging", cms);
    await states.waitFor(
      (items) =>
        items.some(
          (i) =>
            i.value?.stack_id === "web-staging" && i.value.state_version === version && i.value.status === "healthy",
        ),
      60_000,
      `staging healthy at ${version}`,
    );
    return version;
  };
  const request = () =>
    eventuallyValue("the gates", () => promote(h.ctx, CLIENT, { from: "web-staging", to: "web-prod", by: "release" }));
  const prodVersion = async () => (await currentDesired(h.ctx, CLIENT)).get("web-prod")!.state_version;

  beforeAll(async () => {
    h = await createHarness(3);
    states = await collectTopic(h.ctx.kafka, h.ctx.names["stack-state"], "StateRecord", h.ctx.serde);
    audit = await collectTopic(h.ctx.kafka, h.ctx.names.audit, "AuditEntry", h.ctx.serde);
    await h.startReconciler();
    api = await startTestApi(h, `release@${CLIENT}:${RELEASE},lead@${CLIENT}:${LEAD}`);
  });
  afterAll(async () => {
    await api?.stop();
    await states?.stop();
    await audit?.stop();
    await h?.close();
  });

  it("publishes a promotion only on someone else's approval, and never a stale or rejected one", async () => {
    await applyDesired(h.ctx, composition("sanity", "sanity"), { file: "blackwell.yaml", appliedBy: "dev" });
    await connected("prod", "sanity");
    const staged = await stagingMovesTo("contentful", "sanity");

    // The gates pass, but the promotion is a request: prod keeps its version.
    const asked = await request();
    expect(asked).toMatchObject({
      published: false,
      approval_required: true,
      from: { stack_id: "web-staging", state_version: staged },
      to: { stack_id: "web-prod", from_version: "v1.0.0", state_version: "v1.1.0" },
      request: { status: "pending", requested_by: "release", from_version: staged, base_version: "v1.0.0" },
    });
    expect(await prodVersion()).toBe("v1.0.0");
    // Asking again is the same request.
    const again = await promote(h.ctx, CLIENT, { from: "web-staging", to: "web-prod", by: "release" });
    expect(again.request?.request_id).toBe(asked.request!.request_id);

    // The requester may not approve it, neither here nor through the API.
    await expect(approvePromotion(h.ctx, CLIENT, "web-prod", { by: "release" })).rejects.toThrow(
      "release requested this promotion: someone else must approve it",
    );
    const self = await api.call("POST", `/v1/clients/${CLIENT}/stacks/web-prod/promote/approve`, RELEASE, {});
    expect([self.status, self.body.error.code]).toEqual([403, "BLACKWELL_ERR_SELF_APPROVAL"]);
    const pending = await api.call("GET", `/v1/clients/${CLIENT}/stacks/web-prod/promote`, LEAD);
    expect([pending.status, pending.body.status, pending.body.request_id, pending.body.stale]).toEqual([
      200,
      "pending",
      asked.request!.request_id,
      null,
    ]);
    // A dry run asked in the query, as apply takes it, publishes and requests nothing.
    const dry = await api.call("POST", `/v1/clients/${CLIENT}/stacks/web-prod/promote?dry_run=true`, RELEASE, {
      from: "web-staging",
    });
    expect([dry.status, dry.body.dry_run, dry.body.published, dry.body.request ?? null]).toEqual([
      200,
      true,
      false,
      null,
    ]);

    // Someone else approves it through the API (no body needed): published, by the requester, approved by the lead.
    const approved = await api.call("POST", `/v1/clients/${CLIENT}/stacks/web-prod/promote/approve`, LEAD);
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      published: true,
      to: { from_version: "v1.0.0", state_version: "v1.1.0" },
      request: { status: "approved", decided_by: "lead", published_version: "v1.1.0" },
    });
    const prod = (await currentDesired(h.ctx, CLIENT)).get("web-prod")!;
    expect([prod.state_version, prod.providers.cms, prod.promoted_from, prod.applied_by, prod.source]).toEqual([
      "v1.1.0",
      "contentful",
      { stack_id: "web-staging", state_version: staged },
      "release",
      `promote web-staging ${staged} (approved by lead)`,
    ]);
    // The reconciler's audit of the version names both: who asked (triggered_by) and who approved.
    const applied = await audit.waitFor(
      (items) =>
        items.some(
          (i) =>
            i.value?.action === "desired_state_applied" && i.value.stack_id === "web-prod" && i.value.approver !== null,
        ),
      60_000,
      "the audit of the approved version",
    );
    expect(
      applied.map((i) => i.value!).find((a) => a.action === "desired_state_applied" && a.approver !== null),
    ).toMatchObject({ triggered_by: "release", approver: "lead", approval_required: true });
    // Nothing is pending any more: a refusal that did nothing (409, exit 1).
    const twice = await api.call("POST", `/v1/clients/${CLIENT}/stacks/web-prod/promote/approve`, LEAD, {});
    expect([twice.status, twice.body.error.message]).toEqual([
      409,
      `no promotion to ${CLIENT}/web-prod awaits approval (the last one, ${asked.request!.request_id}, was approved)`,
    ]);

    // A request staging moved on from is stale: the approval is refused and the request superseded.
    const second = await stagingMovesTo("strapi");
    const stale = await request();
    expect(stale.request).toMatchObject({ status: "pending", from_version: second, base_version: "v1.1.0" });
    const third = await stagingMovesTo("storyblok");
    // Looking at it says it is stale before anyone tries.
    expect((await api.call("GET", `/v1/clients/${CLIENT}/stacks/web-prod/promote`, LEAD)).body.stale).toBe(
      `web-staging is at ${third}, the request promotes ${second}: request the promotion again`,
    );
    await expect(approvePromotion(h.ctx, CLIENT, "web-prod", { by: "lead" })).rejects.toThrow(
      `promotion request ${stale.request!.request_id} is stale: web-staging is at ${third}, the request promotes ${second}: request the promotion again`,
    );
    expect(await latestRequest(h.ctx, CLIENT, "web-prod")).toMatchObject({
      request_id: stale.request!.request_id,
      status: "superseded",
      decided_by: "lead",
    });
    expect(await prodVersion()).toBe("v1.1.0");

    // A fresh request, rejected with a reason, cannot be approved.
    const fresh = await request();
    expect(fresh.request).toMatchObject({ status: "pending", from_version: third });
    const rejected = await api.call("POST", `/v1/clients/${CLIENT}/stacks/web-prod/promote/reject`, LEAD, {
      reason: "change freeze",
    });
    expect(rejected.body).toMatchObject({ status: "rejected", decided_by: "lead", reason: "change freeze" });
    await expect(rejectPromotion(h.ctx, CLIENT, "web-prod", { by: "lead" })).rejects.toThrow(/awaits approval/);
    // An unknown stack, or one that declares no promotion, is said as such.
    expect((await api.call("GET", `/v1/clients/${CLIENT}/stacks/web-staging/promote`, LEAD)).body.error.message).toBe(
      `${CLIENT}/web-staging declares no promotion`,
    );
    expect((await api.call("GET", `/v1/clients/${CLIENT}/stacks/nope/promote`, LEAD)).status).toBe(404);
    await expect(approvePromotion(h.ctx, CLIENT, "web-prod", { by: "lead" })).rejects.toThrow(
      `(the last one, ${fresh.request!.request_id}, was rejected)`,
    );
    expect(await prodVersion()).toBe("v1.1.0");

    // The topic keeps the whole trail, oldest first.
    expect((await promotionRequests(h.ctx, CLIENT)).map((r) => [r.request_id, r.status])).toEqual([
      [asked.request!.request_id, "pending"],
      [asked.request!.request_id, "approved"],
      [stale.request!.request_id, "pending"],
      [stale.request!.request_id, "superseded"],
      [fresh.request!.request_id, "pending"],
      [fresh.request!.request_id, "rejected"],
    ]);
  }, 300_000);
});
