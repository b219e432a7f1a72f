/**
 * Production MessageBus on Apache Kafka through kafkajs, for the distributed deployment: controllers
 * publish to `invoker<N>`, invokers to `completed<C>` and `health`, each consumer group is one
 * logical subscriber. Delivery is at-least-once: an offset is committed only after its handler
 * resolved, so a crash between the two replays that message.
 */
import {
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type Consumer,
  type EachMessagePayload,
  type LogEntry,
  type Producer,
  type RetryOptions,
} from 'kafkajs';
import { ServiceUnavailableError, busBytes, retryWithBackoff, type BusMessage, type BusValue, type MessageBus, type SubscribeOptions, type Subscription } from '@whirl/core';
import { stderrBusLogger, type BusLogger } from './logger.js';

/** Where the bus's warnings and kafkajs's own log lines go instead of the console. */
export type KafkaBusLogger = BusLogger;

export interface KafkaMessageBusOptions {
  /** `host:port` of one or more brokers. */
  brokers: readonly string[];
  clientId?: string;
  logger?: KafkaBusLogger;
  /**
   * Prepended to every topic and consumer group name on the wire (never visible to callers), so that
   * several deployments or test runs can share one cluster, like OpenWhisk's topic prefix.
   */
  prefix?: string;
  /** Partitions of topics this bus creates. 1 keeps per-topic order, which the invoker relies on. */
  partitions?: number;
  /** Replication factor of topics this bus creates; -1 takes the broker's default. */
  replicationFactor?: number;
  /**
   * How hard kafkajs retries a failing request before publish/subscribe give up. The default gives up
   * within a few seconds so that a controller can answer 503 while Kafka is away instead of hanging.
   */
  retry?: RetryOptions;
  /** How long `subscribe` waits for its consumer to join the group. */
  joinTimeoutMs?: number;
  /** Told how long each publish took (until the broker acknowledged it) and whether it succeeded (metrics). */
  onPublish?: (topic: string, seconds: number, ok: boolean) => void;
}

/** How far one subscription's group is behind its topic: messages published and not yet consumed. */
export interface ConsumerLag {
  topic: string;
  group: string;
  lag: number;
}

type Handler = (msg: BusMessage) => Promise<void>;

const stderrLogger = stderrBusLogger('kafka');

/*
 * Consumer tuning for fast joins: the tests and the controller's load balancer start consumers often.
 * A member learns of a rebalance only on its next heartbeat, which kafkajs sends between fetches, so
 * both the heartbeat interval and the fetch long-poll are short. 6 s is the broker's minimum session
 * timeout (group.min.session.timeout.ms); the broker side also needs group.initial.rebalance.delay.ms=0
 * (deploy/dev/kafka.sh sets it) or every first join waits 3 s.
 */
const CONSUMER_TUNING = {
  sessionTimeout: 6_000,
  rebalanceTimeout: 10_000,
  heartbeatInterval: 250,
  maxWaitTimeInMs: 250,
} as const;

/** Records per produce request and bytes per request, below the broker's default message.max.bytes of 1 MB. */
const MAX_BATCH_RECORDS = 1_000;
const MAX_BATCH_BYTES = 512 * 1024;

interface Pending {
  value: Buffer;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Publishes of one topic leave in call order, one produce request at a time, gathering whatever
 * queued up while the previous request was in flight: kafkajs does no batching of its own, and
 * concurrent sends of one topic could otherwise reach the broker out of order after a retry.
 */
class TopicPublisher {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly wireTopic: string,
    private readonly producer: () => Promise<Producer>,
  ) {}

  publish(value: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ value, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // Deferred so that publishes issued in the same tick share the first request.
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      let bytes = 0;
      let n = 0;
      while (n < this.queue.length && n < MAX_BATCH_RECORDS && (n === 0 || bytes + this.queue[n]!.value.length <= MAX_BATCH_BYTES)) {
        bytes += this.queue[n]!.value.length;
        n++;
      }
      const batch = this.queue.splice(0, n);
      try {
        const producer = await this.producer();
        // acks=1 (the leader's write): measured at about half the latency of acks=-1 per hop, and the
        // invoke path crosses the bus. A new group pinned to the high watermark (see `groupStart`)
        // can only start at or before an acknowledged message, never after it, so none is skipped.
        // The cost: a message acknowledged by a leader that dies before its followers copy it is
        // lost on a multi-broker cluster (its activation is then recorded as lost at the next start
        // of the controller that journaled it, in standalone; see the closing notes for distributed).
        await producer.send({ topic: this.wireTopic, acks: 1, messages: batch.map((p) => ({ value: p.value })) });
        for (const p of batch) p.resolve();
      } catch (err) {
        const failure = unavailable('publish', err);
        for (const p of batch) p.reject(failure);
      }
    }
    this.flushing = false;
  }
}

function unavailable(what: string, err: unknown): ServiceUnavailableError {
  const reason = err instanceof Error ? err.message : String(err);
  const e = new ServiceUnavailableError(`The message bus is not available (${what}: ${reason}).`, 'BUS_UNAVAILABLE');
  (e as Error & { cause?: unknown }).cause = err;
  return e;
}

/**
 * The commit position of one partition of a concurrent subscription: the offset of the oldest message
 * whose handler has not resolved (or the one after the newest, when all have). Offsets arrive in
 * order, handlers resolve in any order.
 */
class PartitionWatermark {
  private readonly offsets: bigint[] = [];
  private readonly done = new Set<bigint>();
  private head = 0;
  private next: bigint | undefined;

  started(offset: bigint): void {
    this.offsets.push(offset);
    this.next = offset + 1n;
  }

  resolved(offset: bigint): void {
    this.done.add(offset);
    while (this.head < this.offsets.length && this.done.delete(this.offsets[this.head]!)) this.head++;
    if (this.head > 1024 && this.head * 2 > this.offsets.length) {
      this.offsets.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The offset to commit, undefined before the first message. */
  position(): bigint | undefined {
    return this.head < this.offsets.length ? this.offsets[this.head] : this.next;
  }
}

/**
 * Delivery for `maxInFlight` > 1: handlers start in order without waiting for each other, the topic
 * is paused while `maxInFlight` run, and each partition's watermark is committed by hand (at most
 * every 500 ms and on close), never past a message whose handler is still running.
 */
class ConcurrentDelivery {
  private readonly marks = new Map<number, PartitionWatermark>();
  private readonly committed = new Map<number, bigint>();
  private running = 0;
  private paused = false;
  private commitTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly consumer: Consumer,
    private readonly wireTopic: string,
    private readonly maxInFlight: number,
    private readonly logger: BusLogger,
  ) {}

  start(partition: number, offset: string, run: () => Promise<void>): void {
    let mark = this.marks.get(partition);
    if (!mark) this.marks.set(partition, (mark = new PartitionWatermark()));
    const at = BigInt(offset);
    mark.started(at);
    this.running++;
    if (this.running >= this.maxInFlight && !this.paused) {
      this.paused = true;
      this.consumer.pause([{ topic: this.wireTopic }]);
    }
    void run().then(() => {
      mark.resolved(at);
      this.running--;
      if (this.paused && this.running < this.maxInFlight) {
        this.paused = false;
        this.consumer.resume([{ topic: this.wireTopic }]);
      }
      if (!this.commitTimer) {
        this.commitTimer = setTimeout(() => void this.commit(), 500);
        this.commitTimer.unref();
      }
    });
  }

  /** After a rebalance: partitions that went to another member are its to commit now. */
  assigned(partitions: readonly number[]): void {
    const kept = new Set(partitions);
    for (const p of [...this.marks.keys()]) {
      if (!kept.has(p)) {
        this.marks.delete(p);
        this.committed.delete(p);
      }
    }
  }

  async commit(): Promise<void> {
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    const offsets: { topic: string; partition: number; offset: string }[] = [];
    for (const [partition, mark] of this.marks) {
      const at = mark.position();
      if (at === undefined || this.committed.get(partition) === at) continue;
      offsets.push({ topic: this.wireTopic, partition, offset: at.toString() });
    }
    if (offsets.length === 0) return;
    try {
      await this.consumer.commitOffsets(offsets);
      for (const o of offsets) this.committed.set(o.partition, BigInt(o.offset));
    } catch (err) {
      // A partition moved to another member (or the broker is away): that member resumes from the
      // last commit that did succeed, and handles the rest again.
      this.logger.warn({ err, topic: this.wireTopic }, 'could not commit the positions of a concurrent subscription');
    }
  }
}

class KafkaSubscription implements Subscription {
  private closing: Promise<void> | undefined;
  private inFlight: Promise<void> | undefined;
  /** Replaced when a crashed consumer is started again. */
  consumer: Consumer | undefined;

  constructor(
    readonly topic: string,
    readonly group: string,
    private readonly onClose: (s: KafkaSubscription) => void,
  ) {}

  get isClosing(): boolean {
    return this.closing !== undefined;
  }

  /** Runs one message; never throws, so kafkajs commits the offset and moves on. */
  async deliver(run: () => Promise<void>): Promise<void> {
    const p = run();
    this.inFlight = p;
    try {
      await p;
    } finally {
      this.inFlight = undefined;
    }
  }

  /** Set for a concurrent subscription (replaced with its consumer). */
  concurrent: ConcurrentDelivery | undefined;

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.onClose(this);
      // Where the running handlers stand, before leaving: the next owner starts there.
      await this.concurrent?.commit();
      // disconnect() stops the fetch loop synchronously, lets the running handler finish, commits
      // what was handled and leaves the group, so the group's other members take over at once.
      const stopping = this.consumer?.disconnect();
      await this.inFlight;
      await stopping;
    })();
    return this.closing;
  }
}

export class KafkaMessageBus implements MessageBus {
  private readonly kafka: Kafka;
  private readonly logger: KafkaBusLogger;
  private readonly prefix: string;
  private readonly partitions: number;
  private readonly replicationFactor: number;
  private readonly joinTimeoutMs: number;
  private readonly retry: RetryOptions;
  private producerReady: Promise<Producer> | undefined;
  private adminReady: Promise<Admin> | undefined;
  private readonly publishers = new Map<string, TopicPublisher>();
  private readonly knownTopics = new Set<string>();
  private readonly subscriptions = new Set<KafkaSubscription>();
  private closed = false;
  private readonly onPublish: KafkaMessageBusOptions['onPublish'];

  constructor(options: KafkaMessageBusOptions) {
    this.onPublish = options.onPublish;
    this.logger = options.logger ?? stderrLogger;
    this.prefix = options.prefix ?? '';
    this.partitions = options.partitions ?? 1;
    this.replicationFactor = options.replicationFactor ?? -1;
    this.joinTimeoutMs = options.joinTimeoutMs ?? 30_000;
    this.retry = options.retry ?? { retries: 4, initialRetryTime: 100, maxRetryTime: 1_000 };
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'whirl',
      brokers: [...options.brokers],
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
      retry: this.retry,
      logLevel: options.logger?.info ? logLevel.INFO : logLevel.WARN,
      logCreator: () => (entry) => this.log(entry),
    });
  }

  async ensureTopics(topics: readonly string[]): Promise<void> {
    this.assertOpen();
    const missing = [...new Set(topics)].map((t) => this.wire(t)).filter((t) => !this.knownTopics.has(t));
    if (missing.length === 0) return;
    // A broker that has just started answers retriable errors (metadata or coordinator not loaded yet)
    // for a moment; that is worth waiting for, up to the join timeout, unlike a broker that is gone.
    const deadline = Date.now() + this.joinTimeoutMs;
    for (;;) {
      try {
        const admin = await this.admin();
        // Resolves false when some already exist, which is fine: creation is idempotent here.
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({ topic, numPartitions: this.partitions, replicationFactor: this.replicationFactor })),
        });
        break;
      } catch (err) {
        if (isTopicExists(err)) break;
        if (!isWarmingUp(err) || Date.now() > deadline) throw unavailable('create topics', err);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    for (const t of missing) this.knownTopics.add(t);
  }

  async publish(topic: string, value: BusValue): Promise<void> {
    this.assertOpen();
    const wireTopic = this.wire(topic);
    let publisher = this.publishers.get(wireTopic);
    if (!publisher) {
      publisher = new TopicPublisher(wireTopic, () => this.producer());
      this.publishers.set(wireTopic, publisher);
    }
    const t0 = performance.now();
    try {
      await publisher.publish(busBytes(value));
      this.onPublish?.(topic, (performance.now() - t0) / 1000, true);
    } catch (err) {
      this.onPublish?.(topic, (performance.now() - t0) / 1000, false);
      throw err;
    }
  }

  /**
   * The lag of every open subscription's group: the topic's end offsets minus the group's committed
   * ones, summed over partitions (a partition the group has not committed on counts from its start).
   */
  async consumerLag(): Promise<ConsumerLag[]> {
    const admin = await this.admin();
    const out: ConsumerLag[] = [];
    for (const sub of this.subscriptions) {
      const wireTopic = this.wire(sub.topic);
      const [ends, committed] = await Promise.all([
        admin.fetchTopicOffsets(wireTopic),
        admin.fetchOffsets({ groupId: this.wire(`${sub.topic}.${sub.group}`), topics: [wireTopic] }),
      ]);
      const at = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      let lag = 0;
      for (const e of ends) {
        const c = at.get(e.partition) ?? -1;
        lag += Math.max(0, Number(e.high) - (c >= 0 ? c : Number(e.low)));
      }
      out.push({ topic: sub.topic, group: sub.group, lag });
    }
    return out;
  }

  async subscribe(topic: string, group: string, handler: Handler, options: SubscribeOptions = {}): Promise<Subscription> {
    this.assertOpen();
    await this.ensureTopics([topic]);
    const wireTopic = this.wire(topic);
    // Kafka groups span topics, but a bus group belongs to one topic: two subscriptions of group `g` on
    // different topics must not share (and split) one partition assignment.
    const groupId = this.wire(`${topic}.${group}`);
    const starts = await this.groupStart(groupId, wireTopic);

    const sub = new KafkaSubscription(topic, group, (s) => this.subscriptions.delete(s));
    this.subscriptions.add(sub);
    try {
      await this.startConsumer(sub, topic, group, handler, starts, options.maxInFlight ?? 1);
    } catch (err) {
      await sub.close().catch(() => undefined);
      throw unavailable(`subscribe to ${topic}`, err);
    }
    return sub;
  }

  private async startConsumer(sub: KafkaSubscription, topic: string, group: string, handler: Handler, starts: Map<number, string>, maxInFlight: number): Promise<void> {
    const wireTopic = this.wire(topic);
    const groupId = this.wire(`${topic}.${group}`);
    const consumer = this.kafka.consumer({ groupId, allowAutoTopicCreation: true, retry: this.retry, ...CONSUMER_TUNING });
    sub.consumer = consumer;
    const joined = new Promise<number[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consumer of ${topic} (group ${group}) did not join within ${this.joinTimeoutMs} ms`)), this.joinTimeoutMs);
      const stop = consumer.on(consumer.events.GROUP_JOIN, (e) => {
        clearTimeout(timer);
        stop();
        // Seeking commits the offset on the first fetch, so it is where this member starts and where
        // later members and restarts of the group resume. Only partitions assigned to this member:
        // the others' owners pin their own.
        const pinned: number[] = [];
        for (const partition of e.payload.memberAssignment[wireTopic] ?? []) {
          const offset = starts.get(partition);
          if (offset === undefined) continue;
          consumer.seek({ topic: wireTopic, partition, offset });
          pinned.push(partition);
        }
        resolve(pinned);
      });
    });
    joined.catch(() => undefined);
    // kafkajs restarts a consumer by itself after retriable errors (e.g. the broker went away). Other
    // crashes would end delivery for good — kafkajs 2.2.4 has one when a rebalance lands while a
    // batch is being handled (tulios/kafkajs#558) — so this subscription starts a fresh consumer,
    // which resumes from the group's committed offset.
    consumer.on(consumer.events.CRASH, (e) => {
      const { error, restart } = e.payload;
      this.logger.warn({ err: error, topic, group, restart }, restart ? 'consumer crashed, kafkajs restarts it' : 'consumer crashed, starting a new one');
      if (restart || sub.isClosing || this.closed) return;
      void (async () => {
        await consumer.disconnect().catch(() => undefined);
        await retryWithBackoff(() => this.startConsumer(sub, topic, group, handler, new Map(), maxInFlight), {
          initialMs: 250,
          maxMs: 5_000,
          stopped: () => sub.isClosing || this.closed,
          onRetry: (err) => this.logger.warn({ err, topic, group }, 'restarting the consumer failed, retrying'),
        });
      })();
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: wireTopic, fromBeginning: false });
      if (maxInFlight > 1) {
        const delivery = new ConcurrentDelivery(consumer, wireTopic, maxInFlight, this.logger);
        sub.concurrent = delivery;
        consumer.on(consumer.events.GROUP_JOIN, (e) => delivery.assigned(e.payload.memberAssignment[wireTopic] ?? []));
        await consumer.run({
          autoCommit: false,
          eachMessage: async (payload) => delivery.start(payload.partition, payload.message.offset, () => this.handle(topic, group, handler, payload)),
        });
      } else {
        await consumer.run({
          // Resolved offsets are committed at the end of every fetched batch, on rebalance and on
          // close; the interval bounds the replay after a crash in the middle of a long batch.
          autoCommit: true,
          autoCommitInterval: 1_000,
          eachMessage: (payload) => sub.deliver(() => this.handle(topic, group, handler, payload)),
        });
      }
      const pinned = await joined;
      // Without auto-commit kafkajs does not commit a seek: commit the pin here.
      if (maxInFlight > 1 && pinned.length > 0) await consumer.commitOffsets(pinned.map((partition) => ({ topic: wireTopic, partition, offset: starts.get(partition)! })));
      // Until the pin is committed, another member joining now would pin (and seek) again, and a
      // restart of this group would start at the end and lose what was published in between.
      if (pinned.length > 0) await this.awaitCommitted(groupId, wireTopic, pinned);
    } catch (err) {
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    const producer = this.producerReady;
    const admin = this.adminReady;
    this.producerReady = undefined;
    this.adminReady = undefined;
    await Promise.all([
      producer?.then((p) => p.disconnect()).catch(() => undefined),
      admin?.then((a) => a.disconnect()).catch(() => undefined),
    ]);
  }

  private async handle(topic: string, group: string, handler: Handler, { message }: EachMessagePayload): Promise<void> {
    try {
      await handler({ topic, value: message.value ?? Buffer.alloc(0) });
    } catch (err) {
      this.logger.warn({ err, topic, group, offset: message.offset }, 'message handler failed');
    }
  }

  /**
   * Where a group that has never committed must start: the topic's end as of now, looked up before
   * the consumer runs. With `fromBeginning: false` alone, kafkajs would look the end up only after the
   * join, and a message published in between would be skipped although `subscribe` had returned.
   * (kafkajs's admin.setOffsets would do it too, but it joins the group with a throwaway consumer and
   * costs seconds per subscribe.)
   */
  private async groupStart(groupId: string, wireTopic: string): Promise<Map<number, string>> {
    // As in ensureTopics: a broker still warming up is waited for, one that is gone is not.
    const deadline = Date.now() + this.joinTimeoutMs;
    for (;;) {
      const starts = new Map<number, string>();
      try {
        const admin = await this.admin();
        const committed = await admin.fetchOffsets({ groupId, topics: [wireTopic] });
        const known = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
        for (const end of await admin.fetchTopicOffsets(wireTopic)) {
          if ((known.get(end.partition) ?? -1) < 0) starts.set(end.partition, end.high);
        }
        return starts;
      } catch (err) {
        if (!isWarmingUp(err) || Date.now() > deadline) throw unavailable(`prepare group ${groupId}`, err);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private async awaitCommitted(groupId: string, wireTopic: string, partitions: readonly number[]): Promise<void> {
    const admin = await this.admin();
    const deadline = Date.now() + this.joinTimeoutMs;
    for (;;) {
      const committed = await admin.fetchOffsets({ groupId, topics: [wireTopic] });
      const offsets = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      if (partitions.every((p) => (offsets.get(p) ?? -1) >= 0)) return;
      if (Date.now() > deadline) throw new Error(`group ${groupId} did not commit its start offsets in time`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private producer(): Promise<Producer> {
    this.producerReady ??= (async () => {
      const producer = this.kafka.producer({
        allowAutoTopicCreation: true,
        idempotent: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: this.retry,
      });
      await producer.connect();
      return producer;
    })();
    // A failed connect must not stick: the next publish (e.g. once Kafka is back) tries again.
    this.producerReady.catch(() => (this.producerReady = undefined));
    return this.producerReady;
  }

  private admin(): Promise<Admin> {
    this.adminReady ??= (async () => {
      const admin = this.kafka.admin({ retry: this.retry });
      await admin.connect();
      return admin;
    })();
    this.adminReady.catch(() => (this.adminReady = undefined));
    return this.adminReady;
  }

  private wire(name: string): string {
    return `${this.prefix}${name}`;
  }

  private log(entry: LogEntry): void {
    const { message, ...rest } = entry.log;
    const obj = { ...rest, namespace: entry.namespace, kafkajs: entry.label };
    const msg = `kafkajs: ${message}`;
    // A rebalance is routine (a member joined or left) although kafkajs reports it as an error.
    const routine = /rebalanc/i.test(`${message} ${String(rest.error ?? '')}`);
    if (entry.level === logLevel.ERROR && !routine) (this.logger.error ?? this.logger.warn).call(this.logger, obj, msg);
    else if (entry.level === logLevel.WARN && !routine) this.logger.warn(obj, msg);
    else this.logger.info?.(obj, msg);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('message bus is closed');
  }
}

function errorType(err: unknown): string | undefined {
  const e = err as { type?: unknown; cause?: unknown } | null;
  if (typeof e?.type === 'string') return e.type;
  return undefined;
}

function isTopicExists(err: unknown): boolean {
  const e = err as { errors?: unknown[]; type?: string } | null;
  if (errorType(err) === 'TOPIC_ALREADY_EXISTS') return true;
  return Array.isArray(e?.errors) && e.errors.length > 0 && e.errors.every((x) => errorType(x) === 'TOPIC_ALREADY_EXISTS');
}

/**
 * Retriable protocol errors a live broker gives while it loads metadata or group state. kafkajs wraps
 * them differently per call path, so the chain is walked. A refused connection is not one of them.
 */
function isWarmingUp(err: unknown): boolean {
  const warming = new Set(['COORDINATOR_LOAD_IN_PROGRESS', 'COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR', 'UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_OR_FOLLOWER', 'NOT_LEADER_FOR_PARTITION', 'NOT_CONTROLLER']);
  for (let e = err, depth = 0; e && depth < 5; depth++) {
    const type = errorType(e);
    if (type !== undefined && warming.has(type)) return true;
    if (/coordinator is (loading|not available)|not the correct coordinator|does not host this topic-partition|no leader|not the leader for that topic-partition/i.test(e instanceof Error ? e.message : '')) return true;
    const next = e as { cause?: unknown; originalError?: unknown };
    e = next.cause ?? next.originalError;
  }
  return false;
}
