import type { ScopeKey } from "../model/client-state.js";

/** The scope an event speaks about: its stack if named, else its environment, else the whole client. */
export function scopeOf(stack_id: string | null, environment: string | null): ScopeKey {
  if (stack_id) return `stack:${stack_id}`;
  if (environment) return `env:${environment}`;
  return "*";
}

/** Scopes whose observations apply to a stack, most general first. */
export function scopesOfStack(stack_id: string, environment: string): ScopeKey[] {
  return ["*", `env:${environment}`, `stack:${stack_id}`];
}
