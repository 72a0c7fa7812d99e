/**
 * The base images where Docker Hub is out of reach: Debian bookworm made with `debootstrap --variant=minbase` from
 * Debian's own packages (the tarball cached under `.blackwell/images`, so a fresh engine imports it in seconds), and
 * on it the pinned Node.js and npm. Users with Docker Hub never need these: every Dockerfile defaults to the official
 * image of the same Debian and Node.js.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { imageExists, must, type Log } from "./docker-engine.js";

export const DEBIAN_IMAGE = "blackwell/debian:bookworm-minbase";

export interface BaseImages {
  /** A Debian bookworm image: the other images' `BASE_IMAGE`. */
  debian: string;
  /** Debian with the pinned Node.js and npm: the product image's `BASE_IMAGE`. */
  node: string;
}

const seconds = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

function nodeVersion(root: string): string {
  return readFileSync(join(root, ".node-version"), "utf8").trim();
}

/**
 * The machine's own extra trust roots (`/usr/local/share/ca-certificates`, where a proxy's CA goes): copied into the
 * base so that package managers in the builds trust what the machine trusts. Empty on most machines.
 */
function localCaDir(): string | null {
  const dir = "/usr/local/share/ca-certificates";
  return existsSync(dir) && readdirSync(dir).some((f) => f.endsWith(".crt")) ? dir : null;
}

function makeDebianTarball(cacheDir: string, tarball: string, log: Log): void {
  const mirror = process.env.BLACKWELL_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
  const work = mkdtempSync(join(cacheDir, "rootfs-"));
  const rootfs = join(work, "rootfs");
  try {
    log(`making the Debian bookworm base with debootstrap from ${mirror} (about a minute or three, once)...`);
    const t0 = Date.now();
    const r = spawnSync("debootstrap", ["--variant=minbase", "bookworm", rootfs, mirror], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    if (r.status !== 0) throw new Error(`debootstrap failed (exit ${r.status ?? r.signal}); is ${mirror} reachable?`);
    const cas = localCaDir();
    if (cas) {
      mkdirSync(join(rootfs, "usr/local/share/ca-certificates"), { recursive: true });
      must("sh", ["-c", `cp ${cas}/*.crt ${rootfs}/usr/local/share/ca-certificates/`], "copying the local CAs");
    }
    for (const dir of ["var/cache/apt/archives", "var/lib/apt/lists"])
      must("find", [join(rootfs, dir), "-type", "f", "-delete"], `emptying ${dir}`);
    must("tar", ["-C", rootfs, "-cf", `${tarball}.part`, "."], "packing the base");
    renameSync(`${tarball}.part`, tarball);
    log(`base made in ${seconds(t0)} (${megabytes(statSync(tarball).size)}, cached in ${tarball})`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The pinned npm, fetched with `npm pack` and checked against its sha512 in infra/node/node.lock. */
function packNpm(root: string, into: string): void {
  const line = readFileSync(join(root, "infra/node/node.lock"), "utf8")
    .split("\n")
    .find((l) => l.startsWith("npm "));
  const [, spec, integrity] = line?.trim().split(/\s+/) ?? [];
  if (!spec || !integrity?.startsWith("sha512-")) throw new Error("infra/node/node.lock has no npm line");
  const packed = spawnSync("npm", ["pack", "--silent", spec], { cwd: into, encoding: "utf8" });
  if (packed.status !== 0) throw new Error(`npm pack ${spec} failed: ${packed.stderr}`);
  const file = join(into, packed.stdout.trim().split("\n").pop()!);
  const digest = `sha512-${createHash("sha512").update(readFileSync(file)).digest("base64")}`;
  if (digest !== integrity) throw new Error(`${spec}: integrity ${digest} does not match the pinned ${integrity}`);
  renameSync(file, join(into, "npm.tgz"));
}

/** The pinned Node.js home, installed by scripts/node-bootstrap.sh even when the machine's node is of that major. */
function pinnedNodeHome(root: string): string {
  const r = spawnSync(join(root, "scripts/node-bootstrap.sh"), [], {
    encoding: "utf8",
    env: { ...process.env, BLACKWELL_NODE_BOOTSTRAP: "always" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const home = r.stdout.trim();
  if (r.status !== 0 || !home) throw new Error("scripts/node-bootstrap.sh could not provide the pinned Node.js");
  return home;
}

export function ensureBaseImages(root: string, log: Log): BaseImages {
  const cacheDir = join(root, ".blackwell", "images");
  mkdirSync(cacheDir, { recursive: true });
  if (!imageExists(DEBIAN_IMAGE)) {
    const tarball = join(cacheDir, "debian-bookworm-minbase.tar");
    if (!existsSync(tarball)) makeDebianTarball(cacheDir, tarball, log);
    log(`importing ${tarball} as ${DEBIAN_IMAGE}...`);
    must("sh", ["-c", `docker import - ${DEBIAN_IMAGE} < "${tarball}" > /dev/null`], "docker import");
  }
  // The tag names what made the image, so a change to its Dockerfile or pins builds a new one.
  const made = createHash("sha256")
    .update(readFileSync(join(root, "infra/docker/node.Dockerfile")))
    .update(readFileSync(join(root, "infra/node/node.lock")))
    .update(DEBIAN_IMAGE)
    .digest("hex");
  const node = `blackwell/node:${nodeVersion(root)}-${made.slice(0, 8)}`;
  if (!imageExists(node)) {
    const t0 = Date.now();
    log(`building ${node} (the pinned Node.js and npm on ${DEBIAN_IMAGE})...`);
    const context = join(cacheDir, "node-context");
    rmSync(context, { recursive: true, force: true });
    mkdirSync(context, { recursive: true });
    try {
      must("cp", ["-al", pinnedNodeHome(root), join(context, "node")], "copying the pinned Node.js");
      packNpm(root, context);
      must(
        "docker",
        [
          "build",
          "-q",
          "-f",
          join(root, "infra/docker/node.Dockerfile"),
          "--build-arg",
          `BASE_IMAGE=${DEBIAN_IMAGE}`,
          "-t",
          node,
          context,
        ],
        `building ${node}`,
      );
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
    log(`${node} built in ${seconds(t0)}`);
  }
  return { debian: DEBIAN_IMAGE, node };
}
