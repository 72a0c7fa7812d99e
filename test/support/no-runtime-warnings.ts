/**
 * Every integration test file also checks that the code it ran emitted no
 * Node.js runtime warning: operators see those in their logs (on Node 24,
 * KafkaJS's request queue printed a TimeoutNegativeWarning many times a run
 * until patches/kafkajs+2.2.4.patch clamped its timer).
 */
import { afterAll, expect } from "vitest";

const warnings: string[] = [];
process.on("warning", (warning) => {
  warnings.push(`${warning.name}: ${warning.message}`);
  // Where it came from, for whoever has to chase it (the assertion keeps only the message).
  console.error(`runtime warning while testing: ${warning.stack ?? warning.message}`);
});

afterAll(() => {
  expect(warnings, "Node.js runtime warnings emitted while this file ran").toEqual([]);
});
