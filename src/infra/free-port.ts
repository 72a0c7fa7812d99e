import { createServer } from "node:net";

/** Ports this process handed out: the OS may give a just-closed port again, and two listeners on one port fail. */
const handedOut = new Set<number>();

/** Asks the OS for a free loopback TCP port, never one this process was given before. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await osPort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error("the OS kept offering ports already handed out");
}

function osPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("could not read the port the OS gave us"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
