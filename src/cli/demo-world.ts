/**
 * The outside world of the demo, which a real installation has for real: the
 * Integration API (providers re-register, webhooks get reconfigured) and the
 * client's CodeBuild project on the local moto server. When the executors'
 * heals land, the world reports the new facts as provider and resource
 * events, the way webhooks and monitors would; the reconciler resolves drift
 * only from those observations.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CodeBuildClient, CreateProjectCommand, ResourceAlreadyExistsException } from "@aws-sdk/client-codebuild";

export interface WorldReactions {
  providerRegistered: (call: {
    client_id: string;
    stack_id: string;
    provider_type: string;
    provider_name: string;
  }) => Promise<void>;
  integrationConfigured: (call: {
    client_id: string;
    stack_id: string;
    integration: string;
    configuration: unknown;
  }) => Promise<void>;
}

/** A stand-in Integration API, by default on a free loopback port; `GET /healthz` answers 200. */
export async function startDemoIntegrationApi(
  react: WorldReactions,
  listen: { host: string; port: number } = { host: "127.0.0.1", port: 0 },
): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => {
      raw += c.toString();
    });
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const answer = (status: number, body: object) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.method === "GET" && url.pathname === "/healthz") {
        answer(200, { status: "ok" });
        return;
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        answer(400, { error: "body is not JSON" });
        return;
      }
      let work: Promise<void> | null = null;
      if (req.method === "POST" && url.pathname === "/providers/register") {
        work = react.providerRegistered(body as Parameters<WorldReactions["providerRegistered"]>[0]);
      } else if (req.method === "PUT" && url.pathname.startsWith("/integrations/")) {
        work = react.integrationConfigured({
          client_id: url.searchParams.get("client_id") ?? "",
          stack_id: url.searchParams.get("stack_id") ?? "",
          integration: decodeURIComponent(url.pathname.slice("/integrations/".length)),
          configuration: body,
        });
      }
      if (!work) {
        answer(404, { error: "no such endpoint" });
        return;
      }
      work.then(
        () => answer(200, { ok: true }),
        (err: unknown) => answer(500, { error: String(err) }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(listen.port, listen.host, () => r()));
  const { port } = server.address() as AddressInfo;
  const host = listen.host === "0.0.0.0" ? "127.0.0.1" : listen.host;
  return { url: `http://${host}:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/** The client's build projects, as they would exist in their AWS account. */
export async function ensureBuildProjects(names: string[]): Promise<void> {
  const client = new CodeBuildClient({});
  try {
    for (const name of names) {
      await client
        .send(
          new CreateProjectCommand({
            name,
            source: { type: "S3", location: `${name}-source/site.zip` },
            artifacts: { type: "NO_ARTIFACTS" },
            environment: {
              type: "LINUX_CONTAINER",
              image: "aws/codebuild/standard:7.0",
              computeType: "BUILD_GENERAL1_SMALL",
            },
            serviceRole: "arn:aws:iam::123456789012:role/codebuild-site",
          }),
        )
        .catch((err: unknown) => {
          if (!(err instanceof ResourceAlreadyExistsException)) throw err;
        });
    }
  } finally {
    client.destroy();
  }
}
