/**
 * patches/kafkajs+2.2.4.patch: disconnecting a KafkaJS connection whose socket was refused must not leave a
 * listener behind. Node's `socket.unref()` on a destroyed socket waits for a 'connect' that never comes; KafkaJS
 * disconnected the same dead connection again and again while a broker was down, and a clean-clone CI run of the
 * broker-restart test caught `MaxListenersExceededWarning: 11 connect listeners added to [Socket]`.
 */
import { createRequire } from "node:module";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../src/infra/free-port.js";

const require = createRequire(import.meta.url);
const Connection = require("kafkajs/src/network/connection.js");
const { createLogger, LEVELS } = require("kafkajs/src/loggers/index.js");
const defaultSocketFactory = require("kafkajs/src/network/socketFactory.js");

const warnings: string[] = [];
const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
process.on("warning", onWarning);
afterEach(() => {
  warnings.length = 0;
});

describe("a KafkaJS connection to a broker that refuses it", () => {
  it("can be disconnected again and again without piling up socket listeners", async () => {
    // A port nothing listens on: the connect is refused at once.
    const port = await freePort();
    const logger = createLogger({ level: LEVELS.NOTHING, logCreator: () => () => {} });
    const connection = new Connection({
      host: "127.0.0.1",
      port,
      logger,
      socketFactory: defaultSocketFactory(),
      connectionTimeout: 2_000,
    });
    await expect(connection.connect()).rejects.toThrow(/ECONNREFUSED|Connection error/);
    expect(connection.socket.destroyed).toBe(true);
    // The connect callback and a read waiting for the connection: this socket's own, whatever happens next.
    const own = connection.socket.listenerCount("connect");
    for (let i = 0; i < 15; i++) await connection.disconnect();
    expect(connection.socket.listenerCount("connect")).toBe(own);
    // Warnings are emitted on the next tick.
    await new Promise((r) => setImmediate(r));
    expect(warnings).toEqual([]);
  });
});
