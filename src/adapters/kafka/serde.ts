/**
 * Avro values in the Confluent wire format: magic byte 0, 4-byte big-endian
 * schema id, Avro binary. Writers register under TopicNameStrategy subjects
 * (`<topic>-value`); readers resolve whatever writer schema a record names
 * into our reader schema, so older and newer producers both decode.
 */
import avro from "avsc";
import { COMPATIBILITY, SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import { BlackwellError, errorMessage } from "../../errors.js";
import type { SchemaName } from "./topics.js";

const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;

export interface SerdeOptions {
  registry: SchemaRegistry;
  types: Map<SchemaName, avro.Type>;
  /** Whether basic-auth credentials are configured, to say the right thing when the registry answers 401. */
  authConfigured?: boolean;
  /** The registry's base URL, to tell an outage from a refusal when the client reports HTTP 400 (see `classify`). */
  url?: string;
}

export class AvroSerde {
  private readonly registry: SchemaRegistry;
  private readonly authConfigured: boolean;
  private readonly url: string | undefined;
  private readonly types: Map<SchemaName, avro.Type>;
  /** Writer schema id per topic, set by `register`. */
  private readonly writerIds = new Map<string, number>();
  private readonly writerTypes = new Map<number, Promise<avro.Type>>();
  /** Per reader schema and writer id: the resolver, or null when the writer's schema is ours (read it directly). */
  private readonly resolvers = new Map<string, avro.Resolver | null>();

  constructor(options: SerdeOptions) {
    this.registry = options.registry;
    this.types = options.types;
    this.authConfigured = options.authConfigured ?? false;
    this.url = options.url;
  }

  static forUrl(
    url: string,
    types: Map<SchemaName, avro.Type>,
    auth?: { username: string; password: string },
  ): AvroSerde {
    return new AvroSerde({
      registry: new SchemaRegistry({ host: url, ...(auth ? { auth } : {}) }),
      types,
      authConfigured: auth !== undefined,
      url,
    });
  }

  /** Our own (reader and writer) type of a contract. */
  type(name: SchemaName): avro.Type {
    const type = this.types.get(name);
    if (!type) throw new BlackwellError("BLACKWELL_ERR_CONFIG", `no schema ${name} loaded`);
    return type;
  }

  /**
   * Registers `schema` under `<topic>-value` with BACKWARD compatibility and
   * remembers its id for encoding. Refusal by the registry is a typed error.
   */
  async register(topic: string, schema: SchemaName): Promise<number> {
    const subject = `${topic}-value`;
    for (let attempt = 1; ; attempt++) {
      try {
        const { id } = await this.registry.register(
          // exportAttrs keeps field defaults (and docs): without them every later field addition is refused.
          { type: SchemaType.AVRO, schema: JSON.stringify(this.type(schema).schema({ exportAttrs: true })) },
          { subject, compatibility: COMPATIBILITY.BACKWARD },
        );
        this.writerIds.set(topic, id);
        return id;
      } catch (err) {
        // Two processes starting together on a fresh registry race to set the subject's compatibility rule: the
        // loser is told the rule "already exists" (409), or reads the registry's default (NONE) in the moment
        // between the winner creating the subject and setting BACKWARD on it. Neither is a verdict on the schema:
        // register again. A rule someone set on purpose still refuses after the attempts.
        const raced =
          (statusOf(err) === 409 && /already exists/i.test(errorMessage(err))) ||
          /Compatibility does not match the configuration/i.test(errorMessage(err));
        if (raced && attempt < 5) {
          await new Promise((r) => setTimeout(r, 100 * attempt));
          continue;
        }
        throw await this.classify(err, `registering ${schema} under ${subject}`);
      }
    }
  }

  /** Encodes `value` for `topic` (registered before). Invalid values name the offending field. */
  encode(topic: string, schema: SchemaName, value: unknown): Buffer {
    const id = this.writerIds.get(topic);
    if (id === undefined) throw new BlackwellError("BLACKWELL_ERR_CONFIG", `no schema registered for topic ${topic}`);
    const type = this.type(schema);
    const problems: string[] = [];
    if (
      !type.isValid(value, {
        errorHook: (path, v) => problems.push(`${path.join(".") || "(root)"}=${JSON.stringify(v)}`),
      })
    ) {
      throw new BlackwellError(
        "BLACKWELL_ERR_ENCODE",
        `${schema} value is invalid at ${problems.slice(0, 5).join(", ")}`,
      );
    }
    return this.frame(topic, type.toBuffer(value));
  }

  /**
   * Wraps an Avro body already encoded with our own type of the schema registered for `topic` (a value encoded once
   * for two uses, like a store row and its changelog record).
   */
  frame(topic: string, body: Buffer): Buffer {
    const id = this.writerIds.get(topic);
    if (id === undefined) throw new BlackwellError("BLACKWELL_ERR_CONFIG", `no schema registered for topic ${topic}`);
    const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
    out.writeUInt8(MAGIC_BYTE, 0);
    out.writeInt32BE(id, 1);
    body.copy(out, HEADER_BYTES);
    return out;
  }

  /** The schema id this process writes `topic` with (registered), or undefined. */
  writerId(topic: string): number | undefined {
    return this.writerIds.get(topic);
  }

  /** Decodes a wire-format record into the `schema` reader type, or throws a typed, non-retriable error. */
  async decode<T>(schema: SchemaName, buffer: Buffer | null): Promise<T> {
    if (buffer === null || buffer.length < HEADER_BYTES) {
      throw new BlackwellError(
        "BLACKWELL_ERR_UNDECODABLE",
        `value of ${buffer?.length ?? 0} bytes is shorter than the ${HEADER_BYTES}-byte wire header`,
      );
    }
    if (buffer.readUInt8(0) !== MAGIC_BYTE) {
      throw new BlackwellError(
        "BLACKWELL_ERR_UNDECODABLE",
        `magic byte is ${buffer.readUInt8(0)}, expected ${MAGIC_BYTE} (not Confluent wire format)`,
      );
    }
    const id = buffer.readInt32BE(1);
    const writer = await this.writerType(id);
    const resolver = this.resolver(schema, id, writer);
    try {
      const body = buffer.subarray(HEADER_BYTES);
      return (resolver ? this.type(schema).fromBuffer(body, resolver) : this.type(schema).fromBuffer(body)) as T;
    } catch (err) {
      throw new BlackwellError(
        "BLACKWELL_ERR_UNDECODABLE",
        `Avro body does not decode with schema id ${id}: ${errorMessage(err)}`,
        { cause: err },
      );
    }
  }

  private writerType(id: number): Promise<avro.Type> {
    let pending = this.writerTypes.get(id);
    if (!pending) {
      pending = this.registry.getSchema(id).then(
        (found) => avro.Type.forSchema((found as unknown as avro.Type).schema() as avro.Schema),
        async (err: unknown) => {
          this.writerTypes.delete(id); // a registry outage must not poison the cache
          throw await this.classify(err, `fetching schema id ${id}`);
        },
      );
      this.writerTypes.set(id, pending);
    }
    return pending;
  }

  /**
   * The registry client reports a refused connection or a timeout as HTTP 400, keeping only a message; a real 400 is
   * the registry's verdict. Rather than read the message, ask the registry itself: if it does not answer HTTP at all,
   * the 400 was an outage.
   */
  private async classify(err: unknown, doing: string): Promise<BlackwellError> {
    const outage = statusOf(err) === 400 && this.url !== undefined && !(await answersHttp(this.url));
    return registryError(err, doing, this.authConfigured, outage);
  }

  private resolver(schema: SchemaName, id: number, writer: avro.Type): avro.Resolver | null {
    const key = `${schema}:${id}`;
    let resolver = this.resolvers.get(key);
    if (resolver === undefined) {
      try {
        // The same canonical schema as ours (the common case: records we wrote) needs no resolving, which costs.
        resolver = this.type(schema).equals(writer) ? null : this.type(schema).createResolver(writer);
      } catch (err) {
        throw new BlackwellError(
          "BLACKWELL_ERR_INVALID_RECORD",
          `writer schema id ${id} (${writer.name ?? writer.typeName}) cannot be read as ${schema}: ${errorMessage(err)}`,
          { cause: err },
        );
      }
      this.resolvers.set(key, resolver);
    }
    return resolver;
  }
}

function statusOf(err: unknown): number | undefined {
  return typeof err === "object" && err !== null && "status" in err
    ? Number((err as { status: unknown }).status)
    : undefined;
}

/** Whether anything answers HTTP at `url` within 2 s (any status counts: it is reachable). */
async function answersHttp(url: string): Promise<boolean> {
  try {
    await fetch(`${url.replace(/\/$/, "")}/subjects`, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

/**
 * Maps a registry failure to our errors. Only the registry's verdict on a schema is final (404, 409, 422 and other
 * refusals); an outage, an overload or refused credentials is retriable, so a processor waits instead of
 * dead-lettering records it could decode once the registry (or its configuration) is back.
 */
function registryError(err: unknown, doing: string, authConfigured: boolean, outage: boolean): BlackwellError {
  const status = statusOf(err);
  const text = errorMessage(err);
  if (status === 401 || status === 403) {
    const message = authConfigured
      ? `${doing}: the schema registry refused the credentials (HTTP ${status}); check SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD`
      : `${doing}: the schema registry requires credentials (HTTP ${status}); set SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD (or _FILE)`;
    return new BlackwellError("BLACKWELL_ERR_REGISTRY_UNAVAILABLE", message, { cause: err });
  }
  if (status === undefined || status >= 500 || status === 429 || outage) {
    return new BlackwellError("BLACKWELL_ERR_REGISTRY_UNAVAILABLE", `${doing}: schema registry unavailable: ${text}`, {
      cause: err,
    });
  }
  if (status === 404)
    return new BlackwellError("BLACKWELL_ERR_UNKNOWN_SCHEMA", `${doing}: not found in the registry`, { cause: err });
  if (status === 409)
    return new BlackwellError("BLACKWELL_ERR_SCHEMA_INCOMPATIBLE", `${doing}: refused as incompatible: ${text}`, {
      cause: err,
    });
  return new BlackwellError("BLACKWELL_ERR_SCHEMA_INCOMPATIBLE", `${doing}: refused (${status}): ${text}`, {
    cause: err,
  });
}
