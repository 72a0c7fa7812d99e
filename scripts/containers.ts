/**
 * The Docker path, on machines without Docker Hub (ours, CI):
 *
 *   npm run containers -- setup   install docker.io / docker-compose / debootstrap when missing (as root), start
 *                                 dockerd when none answers, make the Debian and Node.js base images (cached in
 *                                 .blackwell/images), build the stack's images
 *   npm run containers -- check   setup, then the compose stack on free loopback ports, the demo scenario against
 *                                 it, drift opened and healed checked through its API, and everything taken down
 *   npm run containers -- env     the variables that make `docker compose` use the local base images
 *
 * With Docker Hub, none of this is needed: `docker compose up --build` builds on the official images.
 */
import { resolve } from "node:path";
import { buildStack, defineStack } from "../src/infra/containers/compose-stack.js";
import { prepareContainers, runContainersCheck } from "../src/infra/containers/containers-check.js";

const root = resolve(import.meta.dirname, "..");
const log = (m: string) => console.error(`[containers] ${m}`);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case "setup": {
      const t0 = Date.now();
      const images = await prepareContainers(root, log);
      await buildStack(await defineStack(root, "blackwell", images), log);
      log(`containers set up in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      return 0;
    }
    case "env": {
      const images = await prepareContainers(root, log);
      console.log(`export BLACKWELL_DEBIAN_IMAGE=${images.debian}`);
      console.log(`export BLACKWELL_NODE_IMAGE=${images.node}`);
      return 0;
    }
    case "check": {
      const report = await runContainersCheck(root, log);
      process.stdout.write(report.demo.output);
      console.log("");
      for (const [image, size] of Object.entries(report.images)) console.log(`image ${image}: ${mb(size)}`);
      console.log(`stacks through the API: ${report.stacks.map((s) => `${s.stack_id} ${s.status}`).join(", ")}`);
      const s = report.seconds;
      console.log(
        `containers check passed in ${s.total.toFixed(0)} s (prepare ${s.prepare.toFixed(0)} s, build ${s.build.toFixed(0)} s, up ${s.up.toFixed(0)} s, demo ${s.demo.toFixed(0)} s)`,
      );
      return report.stacks.length > 0 && report.stacks.every((st) => st.status === "healthy") ? 0 : 1;
    }
    default:
      console.error("usage: npm run containers -- setup|check|env");
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[containers] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
