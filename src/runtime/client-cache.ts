/**
 * Decoded client states of a task, least recently used evicted first, within a byte budget: reading a state back
 * from SQLite and decoding it was the largest single cost of a pass. Holds only committed states (the core never
 * mutates a state object, so sharing them with a pass is safe). A state's cost is the size of its store rows times
 * `HEAP_PER_ROW_BYTE`, the measured ratio of a decoded state's heap to its Avro rows.
 */
import type { ClientState } from "../core/model/client-state.js";
import type { ClientLookup } from "./task-pass.js";

/**
 * Heap bytes a state takes per byte of its Avro rows, measured on the benchmark's states with what they share among
 * clients shared (src/adapters/kafka/interner.ts): 2.2 for a state decoded from the store, 3.0 for one the fold
 * built (its arrays grew by pushing). The larger, so that the budget holds.
 */
export const HEAP_PER_ROW_BYTE = 3;

/** Heap the decoded client states of a process may take by default (`BLACKWELL_STATE_CACHE_MB`). */
export const DEFAULT_STATE_CACHE_BYTES = 256 * 1024 * 1024;

export interface SizedLookup extends Omit<ClientLookup, "get"> {
  load(client_id: string): { state: ClientState; bytes: number } | undefined;
}

export class ClientCache implements ClientLookup {
  private readonly states = new Map<string, { state: ClientState; cost: number }>();
  private used = 0;

  constructor(
    private readonly store: SizedLookup,
    /** Heap bytes the decoded states may take. */
    private readonly budget: number,
  ) {}

  get(client_id: string): ClientState | undefined {
    const cached = this.states.get(client_id);
    if (cached) {
      // Most recently used goes last (Map keeps insertion order).
      this.states.delete(client_id);
      this.states.set(client_id, cached);
      return cached.state;
    }
    const stored = this.store.load(client_id);
    if (stored) this.remember(client_id, stored.state, stored.bytes);
    return stored?.state;
  }

  dueBetween(after: number, upTo: number): Array<{ client_id: string; deadline: number }> {
    return this.store.dueBetween(after, upTo);
  }

  nextDeadlineAfter(after: number): number | null {
    return this.store.nextDeadlineAfter(after);
  }

  /** States a transaction committed (and the store took), with the bytes of their rows. */
  committed(states: Iterable<[string, ClientState, number]>): void {
    for (const [client_id, state, bytes] of states) this.remember(client_id, state, bytes);
  }

  /** A client whose state was deleted (offboarded). */
  forget(client_id: string): void {
    const old = this.states.get(client_id);
    if (!old) return;
    this.used -= old.cost;
    this.states.delete(client_id);
  }

  /** Decoded states held, and their estimated heap bytes. */
  get size(): { clients: number; bytes: number } {
    return { clients: this.states.size, bytes: this.used };
  }

  private remember(client_id: string, state: ClientState, bytes: number): void {
    const old = this.states.get(client_id);
    if (old) {
      this.used -= old.cost;
      this.states.delete(client_id);
    }
    const cost = bytes * HEAP_PER_ROW_BYTE;
    this.states.set(client_id, { state, cost });
    this.used += cost;
    for (const [id, entry] of this.states) {
      if (this.used <= this.budget || id === client_id) break;
      this.states.delete(id);
      this.used -= entry.cost;
    }
  }
}
