/**
 * What each heal action does to the outside world, and which rate budget it
 * spends: `resource.rebuild` / `site.rebuild` start a CodeBuild build of the
 * stack's project; `provider.register` / `integration.configure` call the
 * Integration API.
 */
import type { HealCommandOutput } from "../core/model/outputs.js";
import type { CodeBuild } from "./codebuild.js";
import type { IntegrationApi } from "./integration-api.js";
import { failed, type EffectOutcome } from "./outcome.js";

export interface ActionTargets {
  codebuild: CodeBuild;
  /** Absent when no Integration API is configured: its actions then fail with a clear reason. */
  integrationApi: IntegrationApi | null;
}

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** The rate-budget target a command spends: `codebuild`, or the Integration API per provider. */
export function budgetTarget(cmd: HealCommandOutput): string {
  if (cmd.action === "resource.rebuild" || cmd.action === "site.rebuild") return "codebuild";
  const provider = str(cmd.params.provider_name) ?? str(cmd.params.integration)?.split("-")[0] ?? "unknown";
  return `integration-api:${provider}`;
}

export async function perform(cmd: HealCommandOutput, targets: ActionTargets): Promise<EffectOutcome> {
  const p = cmd.params;
  switch (cmd.action) {
    case "resource.rebuild":
    case "site.rebuild": {
      const project = str(p.project);
      if (!project) return failed(`${cmd.action}: the stack declares no build_project, so there is nothing to start`);
      return targets.codebuild.startBuild({
        project,
        environment: {
          BLACKWELL_COMMAND_KEY: cmd.command_key,
          BLACKWELL_CLIENT_ID: cmd.client_id,
          BLACKWELL_STACK_ID: cmd.stack_id,
          BLACKWELL_DRIFT_ID: cmd.drift_id,
          BLACKWELL_ACTION: cmd.action,
          ...(str(p.resource) ? { BLACKWELL_RESOURCE: str(p.resource)! } : {}),
          BLACKWELL_REASON: str(p.reason) ?? cmd.action,
        },
      });
    }
    case "provider.register": {
      if (!targets.integrationApi) return failed("provider.register: no Integration API is configured (BLACKWELL_INTEGRATION_API_URL)");
      const type = str(p.provider_type);
      const name = str(p.provider_name);
      if (!type || !name) return failed("provider.register: params need provider_type and provider_name");
      return targets.integrationApi.registerProvider(cmd.command_key, { client_id: cmd.client_id, stack_id: cmd.stack_id, provider_type: type, provider_name: name });
    }
    case "integration.configure": {
      if (!targets.integrationApi) return failed("integration.configure: no Integration API is configured (BLACKWELL_INTEGRATION_API_URL)");
      const name = str(p.integration);
      if (!name || p.configuration === undefined || p.configuration === null) return failed("integration.configure: params need integration and configuration");
      return targets.integrationApi.configureIntegration(cmd.command_key, name, p.configuration, { client_id: cmd.client_id, stack_id: cmd.stack_id });
    }
    default:
      return failed(`unknown action ${cmd.action}`);
  }
}
