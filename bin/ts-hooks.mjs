// How the product runs its TypeScript sources: each .ts module is transpiled once, in this thread, by esbuild
// when it is loaded (`node --import ./bin/ts-hooks.mjs ...`); there is no build step and nothing is type-checked
// here (`npm run lint` does that).
//
// The roles used to load through tsx, which transpiles with esbuild's `keepNames`: every function declared inside
// another function is wrapped in a naming helper each time the outer one runs. On the reconciler's per-record path
// (decide, the diff, the heal step) that helper took 3% of the CPU of a backlog, measured with `npm run bench --
// --profile`. Nothing in the product reads a function's name, so the names are not kept.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { readdir, stat, unlink, writeFile } from "node:fs/promises";
import { registerHooks, setSourceMapsSupport } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { transformSync, version } from "esbuild";

// Stack traces in logs point at the TypeScript lines (the transpiled code carries its source map).
setSourceMapsSupport(true);

const TS = /\.m?ts$/;

const OPTIONS = {
  loader: "ts",
  format: "esm",
  target: "node24",
  sourcemap: "inline",
  // As tsconfig.json's ES2022 target implies: class fields are defined, not assigned.
  tsconfigRaw: { compilerOptions: { useDefineForClassFields: true } },
};

/**
 * Transpiled modules are kept on disk by the hash of their source, file name, options and esbuild version, so a
 * command starts in about the time it did under tsx (transpiling every module took 0.3 to 0.5 s more). A cache that
 * cannot be read or written is skipped.
 */
const CACHE = process.env.BLACKWELL_TS_CACHE ?? join(tmpdir(), `blackwell-ts-cache-${process.getuid?.() ?? "user"}`);
const SALT = JSON.stringify({ version, OPTIONS });
/** Only a directory of this user's that nobody else can write to: its files are run as code. */
const cacheUsable = (() => {
  try {
    mkdirSync(CACHE, { recursive: true, mode: 0o700 });
    const s = statSync(CACHE);
    return s.isDirectory() && (process.getuid === undefined || s.uid === process.getuid()) && (s.mode & 0o022) === 0;
  } catch {
    return false;
  }
})();

/** Transpiled modules not written for this long are deleted (each edit of a source file leaves its old entry). */
const MAX_AGE_MS = 30 * 86_400_000;
const PRUNE_EVERY_MS = 86_400_000;

/** At most once a day, in the background: a start never waits for it, and a failure only leaves files behind. */
async function prune() {
  const marker = join(CACHE, ".pruned");
  const last = await stat(marker).catch(() => null);
  if (last && Date.now() - last.mtimeMs < PRUNE_EVERY_MS) return;
  await writeFile(marker, "", { mode: 0o600 });
  for (const name of await readdir(CACHE)) {
    if (!name.endsWith(".mjs") && !name.endsWith(".tmp")) continue;
    const path = join(CACHE, name);
    const s = await stat(path).catch(() => null);
    if (s && Date.now() - s.mtimeMs > MAX_AGE_MS) await unlink(path).catch(() => {});
  }
}
if (cacheUsable) prune().catch(() => {});

function transpiled(file, source) {
  const key = createHash("sha256").update(SALT).update("\0").update(file).update("\0").update(source).digest("hex");
  const cached = join(CACHE, `${key}.mjs`);
  if (cacheUsable) {
    try {
      return readFileSync(cached, "utf8");
    } catch {
      // not cached yet
    }
  }
  const { code } = transformSync(source, { ...OPTIONS, sourcefile: file });
  if (!cacheUsable) return code;
  try {
    // Written whole, then renamed: a process starting meanwhile never reads half a module.
    const partial = `${cached}.${process.pid}.tmp`;
    writeFileSync(partial, code, { mode: 0o600 });
    renameSync(partial, cached);
  } catch {
    // a read-only or full disk: run without the cache
  }
  return code;
}

registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (err) {
      // The sources import each other as `./x.js` (what TypeScript's NodeNext resolution asks for): load ./x.ts.
      if (err?.code === "ERR_MODULE_NOT_FOUND" && specifier.endsWith(".js") && TS.test(context.parentURL ?? ""))
        return next(`${specifier.slice(0, -3)}.ts`, context);
      throw err;
    }
  },
  load(url, context, next) {
    if (!url.startsWith("file:") || !TS.test(url)) return next(url, context);
    const file = fileURLToPath(url);
    return { format: "module", source: transpiled(file, readFileSync(file, "utf8")), shortCircuit: true };
  },
});
