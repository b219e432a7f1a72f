/**
 * Kafka as an event source for triggers (the `/whisk.system/messaging` feeds), as opposed to the
 * platform's own bus in kafka.ts: a user's brokers and topic, a consumer group per trigger, offsets
 * committed only after a batch was handed over, and a resume position the caller keeps itself (so
 * that a restart never hands over a message twice, even when the commit to Kafka was lost).
 * Controller code reaches kafkajs only through this file.
 */
import { Kafka, logLevel, type Consumer, type LogEntry } from 'kafkajs';
import { retryWithBackoff } from '@whirl/core';

export interface SourceMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

export interface BatchControl {
  /** Keeps the consumer's group membership alive while the batch waits (back-off, throttling). */
  heartbeat(): Promise<void>;
  /** Aborted when the source is closing: stop waiting and give up on the batch. */
  signal: AbortSignal;
}

export interface KafkaTopicSourceOptions {
  brokers: readonly string[];
  topic: string;
  groupId: string;
  clientId?: string;
  /** Most messages handed over at once. */
  maxBatch: number;
  /**
   * Where to start per partition (the next offset to deliver). Wins over the group's committed offset:
   * it is written by the caller before the commit, so it is never behind it.
   */
  positions?: Readonly<Record<string, string>>;
  /** Hands over one batch of one partition; resolving means accepted (then committed). */
  onBatch(messages: SourceMessage[], control: BatchControl): Promise<void>;
  /** `running` once the consumer joined its group, `retrying` with the reason while it is lost. */
  onState?(state: 'running' | 'retrying', error?: string): void;
  log?: { warn(obj: object, msg: string): void };
}

export interface KafkaTopicSource {
  close(): Promise<void>;
}

/** Why a feed cannot be set up: names the brokers that failed. */
export class KafkaSourceError extends Error {}

function client(brokers: readonly string[], clientId = 'whirl-feeds', quiet = true): Kafka {
  return new Kafka({
    clientId,
    brokers: [...brokers],
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: quiet ? 1 : 5, initialRetryTime: 200, maxRetryTime: 3_000 },
    logLevel: quiet ? logLevel.NOTHING : logLevel.ERROR,
    logCreator: () => (_entry: LogEntry) => {},
  });
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Checks that the brokers answer and the topic exists, and returns the topic's current end per
 * partition (where a new feed starts). Throws KafkaSourceError with a sentence naming the brokers.
 */
export async function probeKafkaTopic(brokers: readonly string[], topic: string): Promise<Record<string, string>> {
  const admin = client(brokers).admin();
  try {
    try {
      await admin.connect();
    } catch (err) {
      throw new KafkaSourceError(`The Kafka brokers ${brokers.join(', ')} cannot be reached (${reason(err)}); check the brokers parameter.`);
    }
    let offsets;
    try {
      offsets = await admin.fetchTopicOffsets(topic);
    } catch (err) {
      const missing = /does not host this topic-partition|UNKNOWN_TOPIC|not exist/i.test(reason(err));
      throw new KafkaSourceError(
        missing
          ? `The topic '${topic}' does not exist on the Kafka brokers ${brokers.join(', ')}; create it first.`
          : `The Kafka brokers ${brokers.join(', ')} did not answer for topic '${topic}' (${reason(err)}).`,
      );
    }
    return Object.fromEntries(offsets.map((o) => [String(o.partition), o.high]));
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Produces one message; resolves once the partition leader has it. */
export async function produceKafkaMessage(
  brokers: readonly string[],
  topic: string,
  message: { key?: Buffer | string | null; value: Buffer | string | null },
): Promise<{ partition: number; offset: string }> {
  const producer = client(brokers).producer({ allowAutoTopicCreation: true });
  try {
    try {
      await producer.connect();
    } catch (err) {
      throw new KafkaSourceError(`The Kafka brokers ${brokers.join(', ')} cannot be reached (${reason(err)}); check the brokers parameter.`);
    }
    const [r] = await producer.send({ topic, acks: -1, messages: [{ key: message.key ?? null, value: message.value }] });
    return { partition: r?.partition ?? 0, offset: r?.baseOffset ?? '0' };
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

/** Creates a topic if it does not exist (tests and benchmarks; feeds never create topics). */
export async function ensureKafkaTopic(brokers: readonly string[], topic: string, partitions = 1): Promise<void> {
  const admin = client(brokers).admin();
  try {
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, replicationFactor: -1 }] });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Consumes `topic` in group `groupId` and hands batches to `onBatch` one at a time per partition,
 * committing each batch's offsets after it was accepted. A consumer that crashes is started again
 * with back-off; `close` stops it and waits for the batch in hand.
 */
export async function startKafkaTopicSource(opts: KafkaTopicSourceOptions): Promise<KafkaTopicSource> {
  const abort = new AbortController();
  const kafka = client(opts.brokers, opts.clientId, false);
  let consumer: Consumer | undefined;
  let closed = false;
  const positions = new Map(Object.entries(opts.positions ?? {}));

  const start = async (): Promise<void> => {
    const c = kafka.consumer({ groupId: opts.groupId, sessionTimeout: 30_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 250, retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5_000 } });
    consumer = c;
    c.on(c.events.GROUP_JOIN, (e) => {
      for (const partition of e.payload.memberAssignment[opts.topic] ?? []) {
        const at = positions.get(String(partition));
        if (at !== undefined) c.seek({ topic: opts.topic, partition, offset: at });
      }
      opts.onState?.('running');
    });
    c.on(c.events.CRASH, (e) => {
      const { error, restart } = e.payload;
      opts.log?.warn({ err: error, topic: opts.topic, restart }, 'feed consumer crashed');
      opts.onState?.('retrying', reason(error));
      if (restart || closed) return;
      void (async () => {
        await c.disconnect().catch(() => undefined);
        await retryWithBackoff(start, {
          initialMs: 500,
          maxMs: 30_000,
          delayFirst: true,
          stopped: () => closed,
          onRetry: (err) => opts.onState?.('retrying', reason(err)),
        });
      })();
    });
    await c.connect();
    await c.subscribe({ topic: opts.topic, fromBeginning: false });
    await c.run({
      // Offsets are resolved by hand once a chunk was accepted, and a threshold of 1 commits each
      // resolved chunk at once (commitOffsetsIfNecessary) instead of on a timer.
      autoCommit: true,
      autoCommitThreshold: 1,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset, commitOffsetsIfNecessary }) => {
        const all = batch.messages;
        for (let i = 0; i < all.length && isRunning() && !isStale() && !closed; i += opts.maxBatch) {
          const chunk = all.slice(i, i + opts.maxBatch);
          const at = positions.get(String(batch.partition));
          // Messages before the kept position were handed over already (a commit lost to a crash).
          const fresh = at === undefined ? chunk : chunk.filter((m) => BigInt(m.offset) >= BigInt(at));
          if (fresh.length > 0) {
            await opts.onBatch(
              fresh.map((m) => ({ topic: batch.topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value })),
              { heartbeat, signal: abort.signal },
            );
          }
          if (closed) return;
          const last = chunk[chunk.length - 1]!.offset;
          positions.set(String(batch.partition), (BigInt(last) + 1n).toString());
          resolveOffset(last);
          await commitOffsetsIfNecessary();
          await heartbeat();
        }
      },
    });
  };

  try {
    await start();
  } catch (err) {
    await consumer?.disconnect().catch(() => undefined);
    throw new KafkaSourceError(`The Kafka brokers ${opts.brokers.join(', ')} cannot be reached (${reason(err)}).`);
  }
  return {
    async close() {
      if (closed) return;
      closed = true;
      abort.abort();
      await consumer?.disconnect().catch(() => undefined);
    },
  };
}
