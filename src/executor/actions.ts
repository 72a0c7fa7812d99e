/**
 * What each heal action does to the outside world, and which rate budget it
 * spends: `resource.rebuild` / `site.rebuild` start a CodeBuild build of the
 * stack's project; `provider.register` / `integration.configure` call the
 * Integration API. Commands arrive decoded (records.healCommandFromAvro), so
 * `params` already has the shape HEAL_ACTION_TABLE declares for the action.
 */
import type { HealCommandOf, HealCommandOutput } from "../core/model/outputs.js";
import { HEAL_ACTION_TABLE } from "../core/model/vocabulary.js";
import type { CodeBuild } from "./codebuild.js";
import type { IntegrationApi } from "./integration-api.js";
import { failed, type EffectOutcome } from "./outcome.js";

export interface ActionTargets {
  codebuild: CodeBuild;
  /** Absent when no Integration API is configured: its actions then fail with a clear reason. */
  integrationApi: IntegrationApi | null;
  /** Publishes desired-state versions (a promotion rolled back); absent: those commands fail with a clear reason. */
  desiredState?: DesiredStateTarget | null;
}

export interface DesiredStateTarget {
  /** Publishes version `to` of the stack's desired state again, as its next version, if it still holds `from`. */
  rollback(cmd: HealCommandOf<"desired.rollback">): Promise<EffectOutcome>;
}

/** The rate-budget target a command spends: `codebuild`, or the Integration API per provider. */
export function budgetTarget(cmd: HealCommandOutput): string {
  switch (cmd.action) {
    case "resource.rebuild":
    case "site.rebuild":
      return HEAL_ACTION_TABLE[cmd.action].target;
    case "provider.register":
      return `${HEAL_ACTION_TABLE[cmd.action].target}:${cmd.params.provider_name}`;
    case "integration.configure":
      // Integrations are named `<provider>-<what>` (shopify-products): the provider's API is what we must not flood.
      return `${HEAL_ACTION_TABLE[cmd.action].target}:${cmd.params.integration.split("-")[0]}`;
    case "desired.rollback":
      return HEAL_ACTION_TABLE[cmd.action].target;
  }
}

export async function perform(cmd: HealCommandOutput, targets: ActionTargets): Promise<EffectOutcome> {
  switch (cmd.action) {
    case "resource.rebuild":
    case "site.rebuild":
      return rebuild(cmd, targets.codebuild);
    case "provider.register": {
      if (!targets.integrationApi) return noIntegrationApi(cmd.action);
      const { provider_type, provider_name } = cmd.params;
      const body = { client_id: cmd.client_id, stack_id: cmd.stack_id, provider_type, provider_name };
      return targets.integrationApi.registerProvider(cmd.command_key, body);
    }
    case "integration.configure": {
      if (!targets.integrationApi) return noIntegrationApi(cmd.action);
      const { integration, configuration } = cmd.params;
      // A configuration of null means the stack no longer declares the integration: nothing to put.
      if (configuration === null) {
        return failed(`integration.configure: the stack declares no configuration for ${integration}`);
      }
      const scope = { client_id: cmd.client_id, stack_id: cmd.stack_id };
      return targets.integrationApi.configureIntegration(cmd.command_key, integration, configuration, scope);
    }
    case "desired.rollback":
      if (!targets.desiredState) return failed("desired.rollback: this executor cannot publish desired states");
      return targets.desiredState.rollback(cmd);
  }
}

const noIntegrationApi = (action: string) =>
  failed(`${action}: no Integration API is configured (BLACKWELL_INTEGRATION_API_URL)`);

type RebuildCommand = HealCommandOf<"resource.rebuild"> | HealCommandOf<"site.rebuild">;

async function rebuild(cmd: RebuildCommand, codebuild: CodeBuild): Promise<EffectOutcome> {
  const { project, reason } = cmd.params;
  if (!project) return failed(`${cmd.action}: the stack declares no build_project, so there is nothing to start`);
  const resource = cmd.action === "resource.rebuild" ? cmd.params.resource : null;
  return codebuild.startBuild({
    project,
    environment: {
      BLACKWELL_COMMAND_KEY: cmd.command_key,
      BLACKWELL_CLIENT_ID: cmd.client_id,
      BLACKWELL_STACK_ID: cmd.stack_id,
      BLACKWELL_DRIFT_ID: cmd.drift_id,
      BLACKWELL_ACTION: cmd.action,
      ...(resource ? { BLACKWELL_RESOURCE: resource } : {}),
      BLACKWELL_REASON: reason ?? cmd.action,
    },
  });
}
