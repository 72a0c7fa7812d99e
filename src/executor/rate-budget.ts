/**
 * Rate budgets of the executors: a token bucket per target (CodeBuild, each
 * provider's API) shared by all clients, and inside it one bucket per client
 * and target holding only a share of it, so one noisy client cannot spend a
 * target's whole budget. Pure: the caller passes the time.
 */

export interface Rate {
  /** Tokens added per `perMs`; also the burst size. */
  tokens: number;
  perMs: number;
}

const UNITS: Record<string, number> = { s: 1000, sec: 1000, min: 60_000, m: 60_000, h: 3_600_000 };

/** Parses `30/min`, `5/s`, `100/h`. */
export function parseRate(text: string): Rate {
  const m = /^\s*(\d+)\s*\/\s*(s|sec|m|min|h)\s*$/.exec(text);
  if (!m || Number(m[1]) < 1)
    throw new Error(`rate ${JSON.stringify(text)} is not of the form <n>/s, <n>/min or <n>/h with n >= 1`);
  return { tokens: Number(m[1]), perMs: UNITS[m[2]!]! };
}

class Bucket {
  private level: number;
  private at: number;
  constructor(
    private readonly rate: Rate,
    now: number,
  ) {
    this.level = rate.tokens;
    this.at = now;
  }
  private refill(now: number): void {
    if (now > this.at) {
      this.level = Math.min(this.rate.tokens, this.level + ((now - this.at) * this.rate.tokens) / this.rate.perMs);
      this.at = now;
    }
  }
  /** Milliseconds until one token is available (0: now). */
  waitMs(now: number): number {
    this.refill(now);
    return this.level >= 1 ? 0 : Math.ceil(((1 - this.level) * this.rate.perMs) / this.rate.tokens);
  }
  take(): void {
    this.level -= 1;
  }
}

export interface TargetBudget {
  /** Whole target, all clients together. */
  total: Rate;
  /** One client's share of it. */
  perClient: Rate;
}

export type BudgetAnswer = { granted: true } | { granted: false; retryInMs: number; reason: string };

export class RateBudgets {
  private readonly buckets = new Map<string, Bucket>();
  constructor(private readonly budgetFor: (target: string) => TargetBudget) {}

  private bucket(key: string, rate: Rate, now: number): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      b = new Bucket(rate, now);
      this.buckets.set(key, b);
    }
    return b;
  }

  /** Takes one token from the client's and the target's bucket, or says how long to wait; takes nothing when refused. */
  take(target: string, clientId: string, now: number): BudgetAnswer {
    const budget = this.budgetFor(target);
    const client = this.bucket(`${target}\u0000${clientId}`, budget.perClient, now);
    const total = this.bucket(target, budget.total, now);
    const clientWait = client.waitMs(now);
    if (clientWait > 0)
      return {
        granted: false,
        retryInMs: clientWait,
        reason: `client ${clientId} has used its share of the ${target} budget`,
      };
    const totalWait = total.waitMs(now);
    if (totalWait > 0) return { granted: false, retryInMs: totalWait, reason: `the ${target} budget is used up` };
    client.take();
    total.take();
    return { granted: true };
  }
}
