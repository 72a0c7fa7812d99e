/**
 * Decoded client states of a task, most recently committed first out of the store: reading a state back from
 * SQLite (a JSON parse of the whole row) was the largest single cost of a pass. Holds only committed states (the
 * core never mutates a state object, so sharing them with a pass is safe) and at most `limit` of them.
 */
import type { ClientState } from "../core/model/client-state.js";
import type { ClientLookup } from "./task-pass.js";

export class ClientCache implements ClientLookup {
  private readonly states = new Map<string, ClientState>();

  constructor(
    private readonly store: ClientLookup,
    private readonly limit: number,
  ) {}

  get(client_id: string): ClientState | undefined {
    const cached = this.states.get(client_id);
    if (cached) return cached;
    const stored = this.store.get(client_id);
    if (stored) this.remember(client_id, stored);
    return stored;
  }

  dueBetween(after: number, upTo: number): Array<{ client_id: string; deadline: number }> {
    return this.store.dueBetween(after, upTo);
  }

  nextDeadlineAfter(after: number): number | null {
    return this.store.nextDeadlineAfter(after);
  }

  /** States a transaction committed (and the store took). */
  committed(states: Iterable<[string, ClientState]>): void {
    for (const [client_id, state] of states) this.remember(client_id, state);
  }

  private remember(client_id: string, state: ClientState): void {
    // Map keeps insertion order: re-inserting makes the entry the newest, and the oldest goes first.
    this.states.delete(client_id);
    this.states.set(client_id, state);
    if (this.states.size > this.limit) this.states.delete(this.states.keys().next().value!);
  }
}
