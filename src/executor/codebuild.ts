/**
 * AWS CodeBuild adapter of the executors. Endpoint, region and credentials come
 * from the standard AWS configuration (`AWS_ENDPOINT_URL`, `AWS_REGION`,
 * profiles, roles), so the same code talks to AWS and to a local moto server.
 */
import { BatchGetBuildsCommand, CodeBuildClient, StartBuildCommand } from "@aws-sdk/client-codebuild";
import { errorMessage } from "../errors.js";
import { failed, type EffectOutcome } from "./outcome.js";

export interface BuildRequest {
  project: string;
  /** Names what the build is for: command key, drift, resource, reason. */
  environment: Record<string, string>;
}

export type BuildState = { done: false } | { done: true; succeeded: boolean; status: string };

const TERMINAL_FAILURES = new Set(["FAILED", "FAULT", "TIMED_OUT", "STOPPED"]);

export class CodeBuild {
  private readonly client: CodeBuildClient;

  constructor(client?: CodeBuildClient) {
    this.client = client ?? new CodeBuildClient({ maxAttempts: 3 });
  }

  async startBuild(request: BuildRequest): Promise<EffectOutcome> {
    try {
      const out = await this.client.send(
        new StartBuildCommand({
          projectName: request.project,
          environmentVariablesOverride: Object.entries(request.environment).map(([name, value]) => ({
            name,
            value,
            type: "PLAINTEXT",
          })),
        }),
        { abortSignal: AbortSignal.timeout(30_000) },
      );
      const id = out.build?.id;
      if (!id) return failed("CodeBuild StartBuild answered without a build id", { project: request.project });
      return {
        status: "started",
        error: null,
        details: { project: request.project, build_id: id, build_arn: out.build?.arn ?? null },
      };
    } catch (err) {
      const name = err instanceof Error ? err.name : "Error";
      return failed(`CodeBuild StartBuild for project ${request.project} failed: ${name}: ${errorMessage(err)}`, {
        project: request.project,
      });
    }
  }

  async buildState(id: string): Promise<BuildState> {
    const out = await this.client.send(new BatchGetBuildsCommand({ ids: [id] }), {
      abortSignal: AbortSignal.timeout(30_000),
    });
    const build = out.builds?.[0];
    const status = build?.buildStatus ?? "UNKNOWN";
    if (!build) return { done: true, succeeded: false, status: "NOT_FOUND" };
    if (status === "SUCCEEDED") return { done: true, succeeded: true, status };
    if (TERMINAL_FAILURES.has(status)) return { done: true, succeeded: false, status };
    return { done: false };
  }

  close(): void {
    this.client.destroy();
  }
}
