/** CodeBuild on the run's moto server: projects to build, and the builds that were started. */
import { randomUUID } from "node:crypto";
import { CodeBuildClient, CreateProjectCommand, ListBuildsForProjectCommand } from "@aws-sdk/client-codebuild";

export function codebuildClient(): CodeBuildClient {
  return new CodeBuildClient({});
}

export async function createBuildProject(
  client: CodeBuildClient,
  name = `site-${randomUUID().slice(0, 8)}`,
): Promise<string> {
  await client.send(
    new CreateProjectCommand({
      name,
      source: { type: "S3", location: "blackwell-test-sources/site.zip" },
      artifacts: { type: "NO_ARTIFACTS" },
      environment: {
        type: "LINUX_CONTAINER",
        image: "aws/codebuild/standard:7.0",
        computeType: "BUILD_GENERAL1_SMALL",
      },
      serviceRole: "arn:aws:iam::123456789012:role/codebuild",
    }),
  );
  return name;
}

/** Builds started for `project`, as CodeBuild itself counts them. */
export async function buildsOf(client: CodeBuildClient, project: string): Promise<string[]> {
  const out = await client.send(new ListBuildsForProjectCommand({ projectName: project }));
  return out.ids ?? [];
}
