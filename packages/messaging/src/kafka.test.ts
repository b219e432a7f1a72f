/**
 * The bus conformance suite against a real Kafka broker: the KRaft dev broker from
 * deploy/dev/kafka.sh (or whatever already answers at KAFKA_BROKERS).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { ServiceUnavailableError } from '@whirl/core';
import { describeMessageBusContract } from './contract.js';
import { KafkaMessageBus, type KafkaBusLogger } from './kafka.js';
import { KafkaSourceError, ensureKafkaTopic, probeKafkaTopic, produceKafkaMessage, startKafkaTopicSource, type SourceMessage } from './kafka-source.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../../deploy/dev/kafka.sh', import.meta.url));
const brokers = (process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.KAFKA_PORT ?? '19092'}`).split(',');

/** Starts the dev broker unless something answers; returns whether this file started it, or why not. */
async function ensureBroker(): Promise<{ ok: true; started: boolean } | { ok: false; reason: string }> {
  if (process.env.KAFKA_BROKERS) return { ok: true, started: false };
  try {
    // The first run downloads Kafka from Maven Central, hence the generous bound.
    const { stdout } = await run(script, ['start'], { timeout: 600_000 });
    return { ok: true, started: stdout.trim() === 'started' };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return { ok: false, reason: (err.stderr ?? '').trim() || err.message };
  }
}

const broker = await ensureBroker();
const runId = randomBytes(4).toString('hex');
const prefixes: string[] = [];

afterAll(async () => {
  if (!broker.ok) return;
  if (broker.started) {
    await run(script, ['stop'], { timeout: 60_000 });
    return;
  }
  // A shared broker keeps running: drop this run's topics so repeated runs do not pile them up.
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => prefixes.some((p) => t.startsWith(p)));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
}, 90_000);

function recordingLogger(): KafkaBusLogger & { lines: { obj: Record<string, unknown>; msg: string }[] } {
  const lines: { obj: Record<string, unknown>; msg: string }[] = [];
  return { lines, warn: (obj, msg) => void lines.push({ obj, msg }), error: (obj, msg) => void lines.push({ obj, msg }) };
}

/** Every bus gets its own topic and group namespace, so tests and runs never see each other's messages. */
function freshBus(logger: KafkaBusLogger = recordingLogger()): KafkaMessageBus {
  const prefix = `whirl-test-${runId}-${prefixes.length}-`;
  prefixes.push(prefix);
  return new KafkaMessageBus({ brokers, prefix, logger, clientId: 'whirl-test' });
}

if (!broker.ok) {
  process.stderr.write(`[kafka.test] Kafka broker unavailable, skipping: ${broker.reason}\n`);
  describe('KafkaMessageBus', () => {
    it.skip(`needs a Kafka broker (deploy/dev/kafka.sh start failed: ${broker.reason})`, () => {});
  });
} else {
  describeMessageBusContract('kafka', async () => {
    const bus = freshBus();
    return { bus, cleanup: () => bus.close(), redeliversOnRebalance: true };
  });

  describe('KafkaMessageBus', () => {
    it('logs a failing handler with topic and group, without kafkajs console noise', async () => {
      const logger = recordingLogger();
      const bus = freshBus(logger);
      try {
        const seen: string[] = [];
        await bus.subscribe('t', 'g', async (m) => {
          if (m.value.toString() === 'x') throw new Error('nope');
          seen.push(m.value.toString());
        });
        await bus.publish('t', 'x');
        await bus.publish('t', 'y');
        await expect.poll(() => seen, { timeout: 10_000 }).toEqual(['y']);
        const failed = logger.lines.filter((l) => l.msg === 'message handler failed');
        expect(failed).toHaveLength(1);
        expect(failed[0]!.obj).toMatchObject({ topic: 't', group: 'g' });
        expect((failed[0]!.obj.err as Error).message).toBe('nope');
      } finally {
        await bus.close();
      }
    });

    it('creates topics idempotently and refuses use after close', async () => {
      const bus = freshBus();
      await bus.ensureTopics(['a', 'b']);
      await bus.ensureTopics(['a', 'b', 'c']);
      await bus.close();
      await expect(bus.publish('a', 'x')).rejects.toThrow(/closed/);
      await expect(bus.subscribe('a', 'g', async () => {})).rejects.toThrow(/closed/);
    });

    it('shares topics between two bus instances with one prefix (two controllers)', async () => {
      const prefix = `whirl-test-${runId}-shared-`;
      prefixes.push(prefix);
      const one = new KafkaMessageBus({ brokers, prefix, logger: recordingLogger() });
      const two = new KafkaMessageBus({ brokers, prefix, logger: recordingLogger() });
      try {
        await one.ensureTopics(['invoker0']);
        await two.ensureTopics(['invoker0']);
        const seen: string[] = [];
        await two.subscribe('invoker0', 'invoker0', async (m) => void seen.push(m.value.toString()));
        await one.publish('invoker0', 'from-one');
        await expect.poll(() => seen, { timeout: 10_000 }).toEqual(['from-one']);
      } finally {
        await Promise.all([one.close(), two.close()]);
      }
    });

    it('fails publish with ServiceUnavailableError when no broker answers', async () => {
      const bus = new KafkaMessageBus({
        brokers: ['127.0.0.1:1'],
        logger: recordingLogger(),
        retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 },
      });
      const started = Date.now();
      await expect(bus.publish('t', 'x')).rejects.toThrow(ServiceUnavailableError);
      expect(Date.now() - started).toBeLessThan(10_000);
      await bus.close();
    });
  });
  describe('Kafka topic source (the messaging feed)', () => {
    const topicName = (): string => {
      const prefix = `whirl-test-${runId}-${prefixes.length}-`;
      prefixes.push(prefix);
      return `${prefix}src`;
    };
    const until = async (cond: () => boolean): Promise<void> => {
      for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
    };

    it('names the brokers that cannot be reached, and a topic that does not exist', async () => {
      await expect(probeKafkaTopic(['127.0.0.1:1'], 'x')).rejects.toThrow(KafkaSourceError);
      await expect(probeKafkaTopic(['127.0.0.1:1'], 'x')).rejects.toThrow(/Kafka brokers 127\.0\.0\.1:1 cannot be reached/);
      await expect(probeKafkaTopic(brokers, `${topicName()}-missing`)).rejects.toThrow(/does not exist/);
    });

    it('hands over batches of at most maxBatch, commits them, and resumes from the kept position, not earlier', async () => {
      const topic = topicName();
      await ensureKafkaTopic(brokers, topic);
      expect(await probeKafkaTopic(brokers, topic)).toEqual({ '0': '0' });
      for (let i = 0; i < 7; i++) await produceKafkaMessage(brokers, topic, { key: `k${i}`, value: `v${i}` });
      // A fresh group told to start at offset 5 (as a feed whose status says 5 were fired).
      const got: SourceMessage[][] = [];
      const group = `${topic}-g`;
      const first = await startKafkaTopicSource({
        brokers,
        topic,
        groupId: group,
        maxBatch: 3,
        positions: { '0': '5' },
        onBatch: async (batch) => void got.push(batch),
      });
      await until(() => got.flat().length >= 2);
      await first.close();
      expect(got.flat().map((m) => [m.offset, m.key?.toString(), m.value?.toString()])).toEqual([
        ['5', 'k5', 'v5'],
        ['6', 'k6', 'v6'],
      ]);

      // Restarted (same group, committed at 7): only what came after is handed over, in batches of 3.
      for (let i = 7; i < 12; i++) await produceKafkaMessage(brokers, topic, { value: `v${i}` });
      const again: SourceMessage[][] = [];
      const second = await startKafkaTopicSource({ brokers, topic, groupId: group, maxBatch: 3, onBatch: async (b) => void again.push(b) });
      await until(() => again.flat().length >= 5);
      await second.close();
      expect(again.flat().map((m) => m.offset)).toEqual(['7', '8', '9', '10', '11']);
      expect(Math.max(...again.map((b) => b.length))).toBeLessThanOrEqual(3);
    });
  });
}
