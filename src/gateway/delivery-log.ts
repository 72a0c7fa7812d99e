/**
 * The webhook deliveries an API instance has accepted within the dedupe
 * window, so a replay is answered without producing again. Shopify signs
 * only the body, with no timestamp: a captured request stays valid forever,
 * and its unsigned X-Shopify-Topic can be changed (an update replayed as a
 * delete). So a delivery is remembered with its meaning, and also its signed
 * body: the same delivery id, or the same signed bytes, coming back as a
 * deletion of what they first announced is refused.
 *
 * In memory, per instance: several API instances behind a load balancer each
 * keep their own window (the reconciler is level-based, so a duplicate that
 * slips through is harmless; a tampered meaning is what this stops).
 */
import { createHash } from "node:crypto";

export interface Delivery {
  /** `<provider>:<source match>`: delivery ids are unique per provider account, not across them. */
  source: string;
  deliveryId: string;
  /** The signed bytes. */
  body: Buffer;
  /** What the delivery says happened (event type, content id and type). */
  meaning: string;
  /** The event type alone; a deletion is what a tampered replay is after. */
  eventType: string;
}

export type DeliveryVerdict =
  { kind: "new"; forget: () => void } | { kind: "duplicate" } | { kind: "conflict"; reason: string };

interface Seen {
  at: number;
  meaning: string;
  eventType: string;
}

export interface DeliveryLogOptions {
  windowMs: number;
  /** Most deliveries remembered; the oldest are forgotten first. Default 100,000 (~30 MB). */
  maxEntries?: number;
}

const DELETED = "content.deleted";

export class DeliveryLog {
  private readonly byId = new Map<string, Seen>();
  private readonly byBody = new Map<string, Seen>();
  private readonly maxEntries: number;

  constructor(private readonly o: DeliveryLogOptions) {
    this.maxEntries = o.maxEntries ?? 100_000;
  }

  /**
   * Records `d` as seen at `now` unless it was seen within the window. A new delivery is remembered at once
   * (a concurrent duplicate is a duplicate); `forget` undoes that when the event could not be stored, so the
   * provider's retry is accepted.
   */
  check(d: Delivery, now: number): DeliveryVerdict {
    this.expire(now);
    const idKey = `${d.source}\n${d.deliveryId}`;
    const bodyKey = `${d.source}\n${createHash("sha256").update(d.body).digest("hex")}`;
    const byId = this.byId.get(idKey);
    if (byId) {
      if (byId.meaning === d.meaning) return { kind: "duplicate" };
      return { kind: "conflict", reason: `delivery ${d.deliveryId} was accepted before as ${byId.eventType}` };
    }
    const byBody = this.byBody.get(bodyKey);
    if (byBody && byBody.eventType !== d.eventType && d.eventType === DELETED)
      return { kind: "conflict", reason: `this signed body was accepted before as ${byBody.eventType}` };
    const seen = { at: now, meaning: d.meaning, eventType: d.eventType };
    this.byId.set(idKey, seen);
    if (!byBody) this.byBody.set(bodyKey, seen);
    return {
      kind: "new",
      forget: () => {
        if (this.byId.get(idKey) === seen) this.byId.delete(idKey);
        if (this.byBody.get(bodyKey) === seen) this.byBody.delete(bodyKey);
      },
    };
  }

  /** Maps iterate in insertion order, which is time order: drop from the front. */
  private expire(now: number): void {
    for (const map of [this.byId, this.byBody]) {
      for (const [key, seen] of map) {
        if (now - seen.at <= this.o.windowMs && map.size <= this.maxEntries) break;
        map.delete(key);
      }
    }
  }
}
