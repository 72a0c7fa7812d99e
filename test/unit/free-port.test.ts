import { describe, expect, it } from "vitest";
import { freePort } from "../../src/infra/free-port.js";

describe("freePort", () => {
  it("never hands out one port twice in a process (two listeners of one broker on one port fail to start)", async () => {
    const ports = [];
    for (let i = 0; i < 300; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
  });
});
