/** Which executor action heals which kind of drift (the spec's heal paths). */
export type HealAction = "provider.register" | "integration.configure" | "resource.rebuild" | "site.rebuild";

const ACTIONS: Record<string, HealAction> = {
  provider_missing: "provider.register",
  provider_change: "provider.register",
  cms_provider_change: "provider.register",
  integration_config: "integration.configure",
  webhook_broken: "integration.configure",
  resource_unhealthy: "resource.rebuild",
  site_stale: "site.rebuild",
};

export function healActionFor(kind: string): HealAction | null {
  return ACTIONS[kind] ?? null;
}
