/**
 * The Kafka port: what the rest of the product may know about Kafka. Only
 * `src/adapters/kafka` imports the client library (a lint rule keeps it so);
 * runtime, executor, notifier, API, CLI and bench work with these types, so
 * moving to another client is a change of that one folder.
 */

/** Header values as written; read back as bytes. */
export type Headers = Record<string, string | Buffer>;

/** A record as read from a partition. */
export interface InRecord {
  topic: string;
  partition: number;
  /** Offset as a decimal string (64-bit). */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Record timestamp, epoch ms. */
  timestamp: number;
  headers: Record<string, Buffer | undefined>;
}

/** A record to write. Without `partition` it goes where its key's client id hashes (see partitioner.ts). */
export interface OutRecord {
  topic: string;
  key: string | Buffer | null;
  value: Buffer | null;
  partition?: number;
  headers?: Headers;
  /** Record timestamp, epoch ms. Default: the producer's clock at send. */
  timestamp?: number;
}

/** Records of one partition handed to a consumer in one fetch. */
export interface RecordBatch {
  topic: string;
  partition: number;
  /** Records in offset order (transaction markers and aborted records left out). */
  records: InRecord[];
  /** Offset of the last record or marker the fetch covered: the position after the batch is lastOffset + 1. */
  lastOffset: string;
  /** Offset the fetch that brought the batch started at (where the consumer stood for this partition); group consumers set it. */
  fetchedOffset?: string;
  /** The partition's high watermark as the fetch saw it. */
  highWatermark: string;
}

/** A group offset to commit: `offset` is the next one to read. */
export interface InputOffset {
  topic: string;
  partition: number;
  offset: string;
}

/** Where a send put the records of one partition. */
export interface SendResult {
  topic: string;
  partition: number;
  baseOffset: string;
}

/** An idempotent producer (acks=all). */
export interface RecordProducer {
  send(records: OutRecord[]): Promise<SendResult[]>;
  disconnect(): Promise<void>;
}

/** What one committed transaction wrote: the next offset per `topic:partition` it wrote records with an explicit partition to. */
export interface CommitResult {
  ends: Map<string, bigint>;
}

/**
 * A transactional producer with a fixed transactional id: opening one fences
 * any earlier producer with that id (a zombie). `commit` writes `records` and,
 * when given, the consumer group's input offsets in one transaction. A commit
 * whose answer to EndTxn was lost counts as committed if the group's offsets
 * show its input offsets; otherwise it throws BLACKWELL_ERR_KAFKA_COMMIT_UNKNOWN
 * (it may still be committing): the caller must not retry it, but open a new
 * producer, which settles it, and look. A producer whose transaction can be
 * neither committed nor aborted is replaced (the new one fences it). A failed
 * commit throws and leaves nothing visible to read_committed readers. Once
 * another producer opened the same transactional id (the task moved), this
 * one is fenced: that commit and every later one throw BLACKWELL_ERR_FENCED,
 * and the caller must stop.
 */
export interface TransactionalProducer {
  readonly transactionalId: string;
  commit(records: OutRecord[], input?: { groupId: string; offsets: InputOffset[] }): Promise<CommitResult>;
  close(): Promise<void>;
}

/** Per-batch controls handed to a consumer's handler. */
export interface BatchControl {
  /** Keeps the group membership alive during long work. */
  heartbeat(): Promise<void>;
  /** Marks records up to `offset` as handled (moves the fetch position past them). */
  resolveOffset(offset: string): void;
  /** False once the consumer is stopping or the partition was revoked: stop early. */
  isActive(): boolean;
  /** Pauses this partition (fetched again from `seekTo` when given) until the returned resume is called. */
  pause(seekTo?: string): () => void;
}

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  /** Where a partition without a committed offset starts: the beginning, except for these topics (their end). */
  fromEnd?: string[];
  /** Give a member partition p of every topic together (co-partitioned tasks). Default false (round robin). */
  coPartitioned?: boolean;
  /**
   * Commit the group's offsets automatically after each batch. Default false: the handler commits them in its
   * transactions, or the group is a throw-away one.
   */
  autoCommit?: boolean;
  /** The handler marks what it handled with `resolveOffset` (else a whole batch counts as handled). Default false. */
  manualResolve?: boolean;
  /** Partitions handled at the same time. Default 1. */
  concurrency?: number;
  sessionTimeoutMs?: number;
  maxWaitMs?: number;
  maxBytesPerPartition?: number;
  maxBytes?: number;
}

export interface ConsumerHandlers {
  eachBatch(batch: RecordBatch, control: BatchControl): Promise<void>;
  /** After every (re)join: the partitions this member now owns, per topic. */
  onAssigned?(assignment: Map<string, number[]>): void;
  /**
   * After every fetch of a partition, even one holding only transaction markers: the position is lastOffset + 1, for
   * a fetch that started at `fetchedOffset`.
   */
  onPosition?(topic: string, partition: number, lastOffset: string, fetchedOffset: string | undefined): void;
  /** The consumer stopped and will not restart by itself: the process should exit so a supervisor restarts it. */
  onFatal?(error: Error): void;
  /** Connected to (true) or disconnected from (false) the cluster. */
  onConnection?(connected: boolean): void;
}

/** A member of a consumer group (read_committed). */
export interface GroupConsumer {
  start(handlers: ConsumerHandlers): Promise<void>;
  pause(topics: string[]): void;
  resume(topics: string[]): void;
  /** Moves the fetch position of one partition; honoured once the consumer runs (call after `start`). */
  seek(topic: string, partition: number, offset: string): void;
  stop(): Promise<void>;
}

/** One partition's end: the high watermark, where a reader that wants everything written so far must get to. */
export interface PartitionEnd {
  partition: number;
  high: bigint;
  /** Its log start offset: records below it were deleted by retention. */
  low: bigint;
}

export interface TopicDescription {
  name: string;
  partitions: number;
  /** Per partition (by index): its leader's broker id (-1 without one) and its replica count. */
  leaders: number[];
  replicas: number[];
  config?: Record<string, string>;
}

/** Cluster reads and topic management. */
export interface KafkaAdmin {
  /** High watermark of every partition of `topic` (not the last stable offset). */
  endOffsets(topic: string): Promise<PartitionEnd[]>;
  /** The group's committed offset per partition of `topic` (partitions without one left out). */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, bigint>>;
  /** Per partition, the earliest offset whose timestamp is at or after `timestamp` (the end when none is). */
  offsetsAtTime(topic: string, timestamp: number): Promise<Array<{ partition: number; offset: bigint }>>;
  deleteGroups(groupIds: string[]): Promise<void>;
  deleteTopics(topics: string[]): Promise<void>;
  /** Broker ids of the cluster and its controller, to check it answers. */
  describeCluster(): Promise<{ brokers: number[]; controller: number | null }>;
  listTopics(): Promise<string[]>;
  /** Partition counts, and the values of `configNames` when asked for. */
  describeTopics(topics: string[], configNames?: string[]): Promise<TopicDescription[]>;
  /** The group's state (`Stable`, `Empty`, `Dead`...) and how many members it has. */
  describeGroup(groupId: string): Promise<{ state: string; members: number }>;
  createTopics(
    topics: Array<{ name: string; partitions: number; replicationFactor: number; config: Record<string, string> }>,
  ): Promise<void>;
  /**
   * Sets `entries` on an existing topic, keeping its other topic-level settings (what the topic was created with
   * or an operator set since).
   */
  alterTopicConfig(topic: string, entries: Record<string, string>): Promise<void>;
  /** Resolves once every partition of `topics` has a leader that serves it. */
  waitForLeaders(topics: string[], timeoutMs?: number): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ReadToEndOptions {
  topic: string;
  /** Start offset per partition; partitions not listed are skipped. Default: every partition from 0. */
  from?: Map<number, bigint>;
  /** Throw-away consumer groups are named `<groupPrefix>-read-<uuid>` and deleted afterwards. */
  groupPrefix: string;
  /** Called per fetched batch with the records at or after `from`. */
  onBatch(batch: RecordBatch): void | Promise<void>;
  timeoutMs?: number;
}

/** The one client of a process: builds producers and consumers, owns the admin. */
export interface KafkaPort {
  readonly admin: KafkaAdmin;
  producer(options?: { fastFail?: boolean }): Promise<RecordProducer>;
  transactionalProducer(transactionalId: string): Promise<TransactionalProducer>;
  consumer(options: ConsumerOptions): GroupConsumer;
  /** Reads `topic` read_committed up to the high watermarks it had when the read started, then stops. */
  readToEnd(options: ReadToEndOptions): Promise<{ partitions: number }>;
  close(): Promise<void>;
}
