/**
 * The ports: every piece of I/O the controller and invoker do goes through one of these interfaces.
 * Each has an embedded adapter (SQLite, in-process, local processes) and a production adapter
 * (CouchDB, Kafka, Docker), and one conformance suite that runs against both.
 */
import type { ActivationRecord } from './activation.js';
import type { EntityType, Revisioned, WhiskEntity } from './entities.js';
import type { StoredCredential, Subject } from './identity.js';
import type { UserLimits } from './limits.js';
import type { ActionUsage, UsageQuery } from './usage.js';

export interface EntityListQuery {
  entityType: EntityType;
  /** `ns` or `ns/pkg`. */
  namespace: string;
  /** For actions listed at namespace level: also include those inside the namespace's packages. */
  includePackages?: boolean;
  /** Only `publish: true` entities (listing another namespace's packages). */
  publishedOnly?: boolean;
  limit: number;
  skip: number;
}

export interface EntityStore {
  /** By document id `ns/[pkg/]name`, whatever the entity type. */
  get(docId: string): Promise<Revisioned<WhiskEntity> | undefined>;
  /** Creates; throws ConflictError(`resource already exists`) when the id is taken. */
  create(doc: WhiskEntity): Promise<Revisioned<WhiskEntity>>;
  /** Replaces; throws ConflictError when `rev` is not the current revision. */
  update(doc: WhiskEntity, rev: string): Promise<Revisioned<WhiskEntity>>;
  /** Deletes; throws ConflictError when `rev` is not current, NotFoundError when gone. */
  delete(docId: string, rev: string): Promise<void>;
  /** Newest `updated` first. */
  list(q: EntityListQuery): Promise<WhiskEntity[]>;
  count(q: Omit<EntityListQuery, 'limit' | 'skip'>): Promise<number>;
  /**
   * Deletes every entity of a root namespace (and of its packages) and returns their document ids.
   * The embedded adapter does it in one transaction; CouchDB has none, so it retries what is left
   * until nothing is, and a caller that was interrupted finishes the job by calling again.
   */
  deleteNamespace(namespace: string): Promise<string[]>;
  close(): Promise<void>;
}

export interface ActivationListQuery {
  namespace: string;
  /** Matches the `path` annotation's `pkg/name` or `name` part, or the `binding` annotation. */
  name?: string;
  /** Inclusive bounds on `start`, epoch ms. */
  since?: number;
  upto?: number;
  limit: number;
  skip: number;
}

export interface ActivationStore {
  /**
   * Upserts records (the invoker batches them). With `keepExisting`, a record whose id already has
   * one is left out instead: how a stand-in (a failed record for an activation that seems lost) is
   * written without ever replacing the real record that got there first.
   */
  put(records: readonly ActivationRecord[], options?: { keepExisting?: boolean }): Promise<void>;
  get(namespace: string, activationId: string): Promise<ActivationRecord | undefined>;
  /** Which of these have no record (in the order given): one query however many are asked about. */
  missing(keys: readonly { namespace: string; activationId: string }[]): Promise<{ namespace: string; activationId: string }[]>;
  /** Newest `start` first. */
  list(q: ActivationListQuery): Promise<ActivationRecord[]>;
  count(q: Omit<ActivationListQuery, 'limit' | 'skip'>): Promise<number>;
  /**
   * Usage per action (see `usageOf` in core/usage.ts) of the records whose `start` is in the range,
   * ordered by action. Answered from an aggregate the adapter keeps as records are put (an upsert
   * replaces the record's earlier contribution), so its cost does not grow with the number of records.
   */
  usage(q: UsageQuery): Promise<ActionUsage[]>;
  /** Every namespace that has activation records. */
  namespaces(): Promise<string[]>;
  /**
   * Deletes up to `limit` records of `namespace` that started before `before` (epoch ms), oldest
   * first, and returns how many went; the retention sweeper calls it in batches until it returns less.
   */
  deleteOlderThan(namespace: string, before: number, limit: number): Promise<number>;
  close(): Promise<void>;
}

export interface SubjectStore {
  /** The credential with this uuid and the subject holding it, blocked or not; the caller verifies the key. */
  credential(uuid: string): Promise<{ subject: Subject; credential: StoredCredential } | undefined>;
  getSubject(subject: string): Promise<Subject | undefined>;
  /** Create or replace; a credential uuid held by another subject moves to this one. */
  putSubject(subject: Subject): Promise<void>;
  /** False when there was no such subject. */
  deleteSubject(subject: string): Promise<boolean>;
  /** By subject name, ascending. */
  listSubjects(q: { limit: number; skip: number }): Promise<Subject[]>;
  getLimits(namespace: string): Promise<Partial<UserLimits>>;
  putLimits(namespace: string, limits: Partial<UserLimits>): Promise<void>;
  deleteLimits(namespace: string): Promise<void>;
  /** Every namespace with stored limits (the retention sweeper reads their `retention`). */
  listLimits(): Promise<{ namespace: string; limits: Partial<UserLimits> }[]>;
  close(): Promise<void>;
}

export interface BusMessage {
  topic: string;
  value: Buffer;
  /**
   * The object itself when it was published as one and never left the process (the in-process bus):
   * the receiver takes it as it is, with no JSON round trip on the standalone hot path. Shared with
   * the publisher and every other group: read-only.
   */
  object?: unknown;
}

/**
 * What may be published: bytes, or an object, which a bus that stays in one process hands over as it
 * is and a bus that crosses processes encodes as JSON.
 */
export type BusValue = Buffer | string | { readonly object: unknown };

export interface Subscription {
  /** Stops delivery; resolves when no handler is running any more. */
  close(): Promise<void>;
}

export interface SubscribeOptions {
  /** How many handlers of this subscription may run at once (default 1: one at a time). */
  maxInFlight?: number;
}

export interface MessageBus {
  ensureTopics(topics: readonly string[]): Promise<void>;
  publish(topic: string, value: BusValue): Promise<void>;
  /**
   * Delivers every message published to `topic` after the subscription to exactly one subscriber of
   * `group` (each group sees every message). Handlers run one at a time per subscription, in order;
   * a message counts as consumed when its handler resolves. A handler that throws does not stop
   * delivery (the bus logs and moves on).
   *
   * With `maxInFlight` above 1, handlers are started in order without waiting for the previous one,
   * up to that many at once; a group that loses such a subscriber (a crash, a close) is handed again
   * at least every message whose handler had not resolved (Kafka: everything from the oldest one on,
   * since its position is one offset). Closing such a subscription stops new deliveries and does not
   * wait for running handlers: their messages are the next owner's, and may be handled twice.
   */
  subscribe(topic: string, group: string, handler: (msg: BusMessage) => Promise<void>, options?: SubscribeOptions): Promise<Subscription>;
  close(): Promise<void>;
}

/** One log line a container printed, as collected by the factory. */
export interface LogLine {
  /** Epoch ms the line was received (docker: the daemon's timestamp). */
  time: number;
  /** Nanosecond-precision RFC3339 timestamp when the source has one. */
  iso?: string;
  stream: 'stdout' | 'stderr';
  text: string;
}

/** An activation's logs as stored in its record: formatted lines, within the limits. */
export interface CollectedLogs {
  /** `<RFC3339 time padded to 30> <stream>: <text>`, truncation notices included. */
  lines: string[];
  truncated: boolean;
  /** False when collection gave up before the runtime's end of the activation (lines may be missing). */
  complete: boolean;
}

/** The bounds of one activation's logs. */
export interface LogLimits {
  limitBytes: number;
  /** Most lines kept (the namespace's maxLogLines); a truncation line says so. */
  limitLines?: number;
}

export interface ContainerSpec {
  /** Unique, e.g. `whirl0_3f9a1c_12_guest_hello` (invoker, owner token, sequence); only [A-Za-z0-9_.-]. */
  name: string;
  image: string;
  memoryMB: number;
  env: Record<string, string>;
  /** Labels the factory must attach so that leftovers can be found and removed. */
  labels: Record<string, string>;
}

export interface Container {
  readonly id: string;
  readonly name: string;
  /** Where the action proxy listens (`/init`, `/run`). */
  readonly host: string;
  readonly port: number;
  /**
   * The Unix socket the proxy also serves on (Whirl's runtimes in a directory the factory mounted);
   * when set, callers use it instead of host:port (no port proxy in the way). Absent: TCP only.
   */
  readonly socketPath?: string;
  /**
   * Every line the container prints, in order, from its start. A container with
   * `readActivationLogs` may print nothing here: its activations log to files instead.
   */
  onLog(listener: (line: LogLine) => void): void;
  /**
   * Present when the proxy writes each activation's output to a file of its own instead of
   * stdout/stderr (no log stream). Call it once the activation has answered (or its container died):
   * it reads that activation's lines in one pass, bounded by `limits`, and removes the file. Lines the
   * action printed elsewhere (another activation, after its answer) are never in it.
   */
  readActivationLogs?(activationId: string, limits: LogLimits): Promise<CollectedLogs>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Resolves once the container is gone; idempotent. */
  destroy(): Promise<void>;
  /** True when the container was killed for exceeding its memory limit. */
  wasOomKilled(): Promise<boolean>;
  /** True while the container (process) is running. */
  isAlive(): Promise<boolean>;
  /**
   * Starts measuring the container's resource use (one activation's worth); resolves undefined, or
   * is absent, where the adapter cannot read its counters.
   */
  meterUsage?(): Promise<UsageMeter | undefined>;
}

/** Peak memory and CPU time of a container over a stretch of time (see Container.meterUsage). */
export interface ResourceUsage {
  memoryPeakBytes: number;
  cpuNs: number;
}

export interface UsageMeter {
  /** Stops measuring: the peak memory and CPU time since the meter started, or undefined when unreadable. */
  stop(): Promise<ResourceUsage | undefined>;
}

export interface ContainerFactory {
  readonly kind: 'docker' | 'process';
  /** False for the local-process adapter: user code runs unconfined on the host. */
  readonly isolated: boolean;
  /** Whether the image is available locally (no pull). */
  hasImage(image: string): Promise<boolean>;
  /** Fetches an image from its registry; absent where the adapter cannot pull (local processes). */
  pull?(image: string): Promise<void>;
  create(spec: ContainerSpec): Promise<Container>;
  /** Removes every container carrying `label=value` (leftovers of an earlier run). */
  removeAll(label: string, value: string): Promise<number>;
  close(): Promise<void>;
}

/** What the journal keeps of an activation until its record is stored. */
export interface PendingActivation {
  namespace: string;
  activationId: string;
  /** Epoch ms the controller accepted the request. */
  received: number;
  subject: string;
  /** `ns[/pkg]` and name of the action (or composition), and its version. */
  path: string;
  name: string;
  version: string;
  cause?: string;
  binding?: string;
}

/**
 * Write-ahead journal of activations whose id was handed out but whose record is not stored yet. After
 * a crash or restart every entry left is turned into a failed record, so that every id a caller was
 * given can be read back. Entries are written before the id leaves the controller and removed once the
 * record is stored.
 */
export interface ActivationJournal {
  begin(entry: PendingActivation): Promise<void>;
  end(keys: readonly { namespace: string; activationId: string }[]): Promise<void>;
  /** Every entry still open (call at start, before new work arrives). */
  open(): Promise<PendingActivation[]>;
  close(): Promise<void>;
}
