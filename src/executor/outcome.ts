/** What acting on one heal command produced, as reported on heal-results and audit. */
export interface EffectOutcome {
  status: "started" | "succeeded" | "failed";
  error: string | null;
  /** Facts about the effect: build id, HTTP status, target. */
  details: Record<string, unknown>;
}

export const failed = (error: string, details: Record<string, unknown> = {}): EffectOutcome => ({
  status: "failed",
  error,
  details,
});
