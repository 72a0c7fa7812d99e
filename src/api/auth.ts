/**
 * Bearer tokens, each scoped to one client or to every client (admin). From
 * `BLACKWELL_API_TOKENS`: comma-separated `<name>@<client_id|*>:<token>`.
 * Tokens are kept only as SHA-256 digests and compared in constant time; the
 * name is what audit records show as the issuer.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { BlackwellError } from "../errors.js";

export interface Principal {
  name: string;
  /** null: admin, every client. */
  client_id: string | null;
}

interface Entry extends Principal {
  digest: Buffer;
}

const digest = (token: string) => createHash("sha256").update(token).digest();

export class TokenAuth {
  private readonly entries: Entry[];

  constructor(spec: string) {
    this.entries = spec
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)
      .map((item) => {
        const m = /^([A-Za-z0-9._@-]+?)@([a-z0-9][a-z0-9._-]{0,62}|\*):(.{16,})$/.exec(item);
        if (!m)
          throw new BlackwellError(
            "BLACKWELL_ERR_CONFIG",
            `BLACKWELL_API_TOKENS entry ${JSON.stringify(item.replace(/:.*/, ":…"))} is not <name>@<client_id|*>:<token of 16+ characters>`,
          );
        return { name: m[1]!, client_id: m[2] === "*" ? null : m[2]!, digest: digest(m[3]!) };
      });
  }

  get size(): number {
    return this.entries.length;
  }

  /** The principal of an `Authorization` header, or null. */
  verify(header: string | undefined): Principal | null {
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? "");
    if (!m) return null;
    const d = digest(m[1]!);
    let found: Entry | null = null;
    for (const e of this.entries) if (timingSafeEqual(e.digest, d)) found = e; // no early exit: same time whichever matches
    return found ? { name: found.name, client_id: found.client_id } : null;
  }

  static canSee(p: Principal, client_id: string): boolean {
    return p.client_id === null || p.client_id === client_id;
  }
}
