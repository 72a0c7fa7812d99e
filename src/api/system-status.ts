/**
 * What the fleet page's system panel shows beyond the fleet: how far the reconciler's consumer group is behind its
 * inputs and how fast records arrive and are processed, from Kafka's offsets (no metrics pipeline needed), and how
 * many dead letters the replica holds. Rates come from successive samples, so the first answer has none; samples
 * are taken at most once per `cacheMs` whatever the number of consoles polling.
 */
import type { KafkaAdmin } from "../adapters/kafka/port.js";
import { RECONCILER_INPUTS, type TopicNames } from "../adapters/kafka/topics.js";
import type { SystemFigures } from "./system-alerts.js";

export interface SystemSample {
  at: number;
  /** Sum over the reconciler's input partitions: high watermarks, and what its group has committed. */
  inputHigh: number;
  inputCommitted: number;
  /**
   * Records the group has not committed (a partition it never committed counts from its log start); a partition one
   * offset behind counts as caught up, since that offset is a transaction's commit marker.
   */
  lagRecords: number;
  /** Dead-letter records held (the replica's count, within the topic's retention). */
  deadLetters: number;
}

export interface SystemRates {
  /** The samples the rates are over, in seconds; null until two samples are far enough apart. */
  windowSeconds: number | null;
  ingestPerSecond: number | null;
  processedPerSecond: number | null;
  deadLettersInWindow: number | null;
  /** The consumer lag at the window's start: records that waited through all of it if none was processed. */
  lagAtWindowStart: number | null;
}

export interface SystemStatusOptions {
  admin: KafkaAdmin;
  names: TopicNames;
  /** The reconciler's consumer group (its application id). */
  reconcilerGroup: string;
  /** Dead letters held now (Replica.deadLetters().total): offsets would count transaction markers too. */
  deadLetters: () => number;
  /** A sample this recent is answered again instead of asking Kafka. Default 5 s. */
  cacheMs?: number;
  /** Rates are over the oldest sample within this span. Default 5 min. */
  windowMs?: number;
  /** Two samples closer than this give no rate yet. Default 15 s. */
  minWindowMs?: number;
  now?: () => number;
}

/** Offsets a partition may trail its high watermark by and still count as caught up (a commit marker). */
const TRAILING_MARKER = 1;

export class SystemStatus {
  private readonly samples: SystemSample[] = [];
  private pending: Promise<SystemSample> | null = null;

  constructor(private readonly o: SystemStatusOptions) {}

  /** The newest sample (fresh, or at most `cacheMs` old) and the rates since the window's oldest. */
  async read(): Promise<{ sample: SystemSample; rates: SystemRates }> {
    const now = this.now();
    const last = this.samples.at(-1);
    const sample = last && now - last.at < (this.o.cacheMs ?? 5_000) ? last : await this.fresh();
    return { sample, rates: this.rates(sample) };
  }

  private fresh(): Promise<SystemSample> {
    // Requests that arrive while a sample is taken share it.
    this.pending ??= this.take().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async take(): Promise<SystemSample> {
    const { admin, names, reconcilerGroup } = this.o;
    let inputHigh = 0,
      inputCommitted = 0,
      lagRecords = 0;
    await Promise.all(
      RECONCILER_INPUTS.map(async (role) => {
        const [ends, committed] = await Promise.all([
          admin.endOffsets(names[role]),
          admin.committedOffsets(reconcilerGroup, names[role]),
        ]);
        for (const end of ends) {
          const done = committed.get(end.partition) ?? end.low;
          inputHigh += Number(end.high);
          inputCommitted += Number(done);
          const behind = Number(end.high - (done > end.low ? done : end.low));
          // A transaction's commit marker takes the offset after its last record, and the reconciler commits the
          // offset after the last record it processed: a caught-up partition of a transactionally written input
          // (heal-results) sits one below its high watermark for good.
          if (behind > TRAILING_MARKER) lagRecords += behind;
        }
      }),
    );
    const sample: SystemSample = {
      at: this.now(),
      inputHigh,
      inputCommitted,
      lagRecords,
      deadLetters: this.o.deadLetters(),
    };
    this.samples.push(sample);
    const keepFrom = sample.at - (this.o.windowMs ?? 300_000);
    while (this.samples.length > 2 && this.samples[0]!.at < keepFrom) this.samples.shift();
    return sample;
  }

  private rates(latest: SystemSample): SystemRates {
    const oldest = this.samples.find((s) => s.at >= latest.at - (this.o.windowMs ?? 300_000)) ?? latest;
    const ms = latest.at - oldest.at;
    if (ms < (this.o.minWindowMs ?? 15_000))
      return {
        windowSeconds: null,
        ingestPerSecond: null,
        processedPerSecond: null,
        deadLettersInWindow: null,
        lagAtWindowStart: null,
      };
    const seconds = ms / 1000;
    return {
      windowSeconds: seconds,
      ingestPerSecond: Math.max(0, latest.inputHigh - oldest.inputHigh) / seconds,
      processedPerSecond: Math.max(0, latest.inputCommitted - oldest.inputCommitted) / seconds,
      deadLettersInWindow: Math.max(0, latest.deadLetters - oldest.deadLetters),
      lagAtWindowStart: oldest.lagRecords,
    };
  }

  private now(): number {
    return this.o.now ? this.o.now() : Date.now();
  }
}

/** What the alerts are judged on: a sample, its rates, and what the fleet and the replica say. */
export function figuresOf(
  sample: SystemSample,
  rates: SystemRates,
  fleet: { stacksInError: number; openCriticalDrifts: number; replicaLagRecords: number },
): SystemFigures {
  return {
    lagRecords: sample.lagRecords,
    ingestPerSecond: rates.ingestPerSecond,
    processedPerSecond: rates.processedPerSecond,
    windowSeconds: rates.windowSeconds,
    lagAtWindowStart: rates.lagAtWindowStart,
    deadLettersInWindow: rates.deadLettersInWindow,
    ...fleet,
  };
}
