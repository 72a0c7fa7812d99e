import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { blackwell as runCli } from "../support/cli.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalInfra, stopLocalInfra, type LocalInfraInfo } from "../../src/infra/local-infra.js";
import { startProcess } from "../support/child-process.js";

const ROOT = resolve(import.meta.dirname, "../..");
const PASSWORD = "correct-horse-battery-staple";
const WRONG = "wrong-password-do-not-log";

/** Debug logs on: what they print must not contain a credential. */
const blackwell = (args: string[], env: Record<string, string>) => runCli(args, { LOG_LEVEL: "debug", ...env });

/** A broker of its own with a SASL_PLAINTEXT (PLAIN) listener and an SSL listener. */
describe("SASL and TLS connections to Kafka", () => {
  const dir = mkdtempSync(join(tmpdir(), "blackwell-sasl-"));
  let info: LocalInfraInfo;
  let env: Record<string, string>;

  beforeAll(async () => {
    // A self-signed broker certificate for the SSL listener; its PEM is the clients' CA.
    const keystore = join(dir, "broker.p12");
    const keytool = (args: string[]) => {
      const r = spawnSync("keytool", args, { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`keytool ${args[0]} failed: ${r.stderr}`);
    };
    keytool([
      "-genkeypair",
      "-alias",
      "broker",
      "-keyalg",
      "RSA",
      "-keysize",
      "2048",
      "-keystore",
      keystore,
      "-storetype",
      "PKCS12",
      "-storepass",
      "keystore-pass",
      "-keypass",
      "keystore-pass",
      "-dname",
      "CN=127.0.0.1",
      "-ext",
      "SAN=IP:127.0.0.1",
      "-validity",
      "2",
    ]);
    keytool([
      "-exportcert",
      "-alias",
      "broker",
      "-keystore",
      keystore,
      "-storepass",
      "keystore-pass",
      "-rfc",
      "-file",
      join(dir, "ca.pem"),
    ]);
    info = await startLocalInfra({
      root: ROOT,
      dir,
      saslUsers: { alice: PASSWORD },
      tlsKeystore: { path: keystore, password: "keystore-pass" },
    });
    env = {
      KAFKA_BROKERS: info.saslBrokers!,
      SCHEMA_REGISTRY_URL: info.registryUrl,
      BLACKWELL_TOPIC_PREFIX: "secure.",
      KAFKA_SASL_MECHANISM: "plain",
      KAFKA_SASL_USERNAME: "alice",
    };
  }, 180_000);
  afterAll(async () => {
    await stopLocalInfra(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a wrong password with a clear error and exit 4, and never prints it", async () => {
    const res = await blackwell(["apply", "-f", "examples/acme-corp/blackwell.yaml"], {
      ...env,
      KAFKA_SASL_PASSWORD: WRONG,
    });
    expect(res.code).toBe(4);
    expect(res.stderr).toMatch(/SASL PLAIN authentication failed/i);
    expect(res.stdout + res.stderr).not.toContain(WRONG);
  });

  it("works with the right password (from a file), and the processes never log it", async () => {
    const file = join(dir, "sasl-password");
    writeFileSync(file, `${PASSWORD}\n`);
    const applied = await blackwell(["apply", "-f", "examples/acme-corp/blackwell.yaml"], {
      ...env,
      KAFKA_SASL_PASSWORD_FILE: file,
    });
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/acme-corp\/cms-ecom-prod\s+created/);
    const reconciler = startProcess("processors/reconciler/main.ts", {
      ...env,
      KAFKA_SASL_PASSWORD: PASSWORD,
      BLACKWELL_STATE_DIR: join(dir, "state"),
      LOG_LEVEL: "debug",
    });
    try {
      const deadline = Date.now() + 60_000;
      while (!reconciler.output().includes('"msg":"tasks ready"') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      expect(reconciler.output()).toContain('"msg":"tasks ready"');
      expect(reconciler.output()).not.toContain(PASSWORD);
    } finally {
      await reconciler.kill("SIGTERM");
    }
    const status = await blackwell(["status", "acme-corp", "--json"], { ...env, KAFKA_SASL_PASSWORD: PASSWORD });
    expect(JSON.parse(status.stdout || "[]")).toHaveLength(2);
  });

  it("says what is missing when SASL is asked for without credentials", async () => {
    const res = await blackwell(["apply", "-f", "examples/acme-corp/blackwell.yaml"], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(
      "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE) are required",
    );
  });

  it("connects over TLS when the broker's CA is given, and refuses an unknown certificate clearly", async () => {
    const tls = {
      KAFKA_BROKERS: info.tlsBrokers!,
      SCHEMA_REGISTRY_URL: info.registryUrl,
      BLACKWELL_TOPIC_PREFIX: "tls.",
    };
    const ok = await blackwell(["apply", "-f", "examples/acme-corp/blackwell.yaml"], {
      ...tls,
      KAFKA_SSL: "1",
      KAFKA_SSL_CA_FILE: join(dir, "ca.pem"),
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/acme-corp\/cms-ecom-prod\s+created/);
    const untrusted = await blackwell(["apply", "-f", "examples/acme-corp/blackwell.yaml"], { ...tls, KAFKA_SSL: "1" });
    expect(untrusted.code).toBe(4);
    expect(untrusted.stderr).toMatch(/self[- ]signed certificate/i);
  });
});
