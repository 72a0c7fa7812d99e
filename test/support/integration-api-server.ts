/** A local stand-in for the Integration API (a system we do not own): records calls, answers as scripted. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ApiCall {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface FakeIntegrationApi {
  url: string;
  calls: ApiCall[];
  /** Status codes for the next calls, in order; 200 once they run out. */
  script: (statuses: number[]) => void;
  close: () => Promise<void>;
}

export async function startFakeIntegrationApi(onCall?: (call: ApiCall) => void): Promise<FakeIntegrationApi> {
  const calls: ApiCall[] = [];
  let statuses: number[] = [];
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => {
      raw += c.toString();
    });
    req.on("end", () => {
      const call = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: raw ? (JSON.parse(raw) as unknown) : null,
      };
      calls.push(call);
      const status = statuses.shift() ?? 200;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(status < 300 ? { ok: true } : { error: `scripted ${status}` }));
      if (status < 300) onCall?.(call);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    script: (s) => {
      statuses = [...s];
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
