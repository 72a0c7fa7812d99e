/**
 * Approval of a promotion, pure: the four-eyes rule, a request that no longer describes the promotion it asked for,
 * a repeated request, and what a decision records. The YAML option reaches the promotion spec, and the CLI refuses
 * flag combinations that mean nothing before anything connects to Kafka.
 */
import { describe, expect, it } from "vitest";
import { parseBlackwellYaml } from "../../../src/adapters/yaml/parse-blackwell-yaml.js";
import { UsageError } from "../../../src/cli/cli-kit.js";
import { promoteCommand } from "../../../src/cli/commands/promote.js";
import { promotionChainYaml } from "../../support/promotion-chain.js";
import {
  approverRefusal,
  decided,
  samePending,
  staleness,
  type PromotionRequest,
} from "../../../src/core/promotion/approval.js";

const request: PromotionRequest = {
  request_id: "prq-0011223344556677",
  client_id: "acme",
  stack_id: "web-prod",
  from_stack_id: "web-staging",
  from_version: "v1.3.0",
  base_version: "v1.1.0",
  requested_by: "release",
  requested_at: "2026-12-02T10:00:00.000Z",
  status: "pending",
  decided_by: null,
  decided_at: null,
  reason: null,
  published_version: null,
};

describe("approval of a promotion", () => {
  it("given a pending request, when its requester approves it, then it is refused; anyone else may", () => {
    expect(approverRefusal(request, "release")).toBe("release requested this promotion: someone else must approve it");
    expect(approverRefusal(request, "lead")).toBeNull();
    // A padded or blank name is no way around it.
    expect(approverRefusal(request, " release ")).toBe(
      "release requested this promotion: someone else must approve it",
    );
    expect(approverRefusal(request, "  ")).toBe("an approval must name its approver");
  });

  it("given either stack moved on since the request, then the request is stale and says which", () => {
    expect(staleness(request, { from_version: "v1.3.0", base_version: "v1.1.0" })).toBeNull();
    expect(staleness(request, { from_version: "v1.4.0", base_version: "v1.1.0" })).toBe(
      "web-staging is at v1.4.0, the request promotes v1.3.0: request the promotion again",
    );
    expect(staleness(request, { from_version: "v1.3.0", base_version: "v1.2.0" })).toBe(
      "web-prod is at v1.2.0, the request was made at v1.1.0: request the promotion again",
    );
  });

  it("given a pending request, when the same promotion is asked again, then it is the same request", () => {
    const same = { from_stack_id: "web-staging", from_version: "v1.3.0", base_version: "v1.1.0" };
    expect(samePending(request, same)).toBe(true);
    expect(samePending(request, { ...same, from_version: "v1.4.0" })).toBe(false);
    expect(samePending({ ...request, status: "rejected" }, same)).toBe(false);
    expect(samePending(null, same)).toBe(false);
  });

  it("a decision records who, when, why and what it published", () => {
    const at = "2026-12-02T11:00:00.000Z";
    expect(decided(request, "approved", { by: "lead", at, published_version: "v1.2.0" })).toEqual({
      ...request,
      status: "approved",
      decided_by: "lead",
      decided_at: at,
      reason: null,
      published_version: "v1.2.0",
    });
    expect(decided(request, "rejected", { by: "lead", at, reason: "freeze" })).toMatchObject({
      status: "rejected",
      reason: "freeze",
      published_version: null,
    });
  });

  it("approval_required in blackwell.yaml reaches the promotion; without it the promotion is unchanged", () => {
    const file = (promotion: string) =>
      parseBlackwellYaml(promotionChainYaml({ promotion }), "blackwell.yaml").stacks.find(
        (s) => s.stack_id === "web-prod",
      )!;
    expect(file(", approval_required: true").promotion?.approval_required).toBe(true);
    expect(file("").promotion).not.toHaveProperty("approval_required");
    expect(() => file(", approval_required: maybe")).toThrow(/approval_required/);
  });
});

describe("blackwell promote arguments", () => {
  it.each([
    [["acme", "--from", "a"], "promote needs --to <stack>"],
    [["acme", "--to", "b"], "promote needs --from <stack> and --to <stack>"],
    [["acme", "--to", "b", "--approve", "--reject"], "--approve and --reject exclude each other"],
    [["acme", "--to", "b", "--from", "a", "--approve"], "--approve acts on the pending request of --to <stack>"],
    [["acme", "--to", "b", "--approve", "--dry-run"], "--approve has no --dry-run"],
    [["acme", "--to", "b", "--approve", "--reason", "x"], "--reason goes with --reject"],
    [["acme", "--to", "B!", "--pending"], '"B!" is not an id'],
    [["acme", "--to", "b", "--approve", "--by", " "], "--by must name someone"],
  ])("promote %j is a usage error", async (args, message) => {
    const refused = promoteCommand(args);
    await expect(refused).rejects.toBeInstanceOf(UsageError);
    await expect(refused).rejects.toThrow(message);
  });
});
