/**
 * The Kafka feed's throughput (standalone, the dev Kafka broker): messages per second from a topic to
 * accepted trigger fires, through `/whisk.system/messaging/kafkaFeed` with its default batch of 100
 * (a fire per batch; the trigger has no rule, so the figure is the feed itself, not the actions).
 * Floor: a bare kafkajs consumer reading the same messages in the same run (fetch + decode only).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { smoke, sleep } from '../lib/config.js';
import type { Benchmark } from '../lib/bench.js';
import { repoRoot } from '../lib/proc.js';
import { api, runTag, startStandaloneWhirl, type Whirl } from '../lib/whirl.js';

const run = promisify(execFile);
const BROKERS = [`127.0.0.1:${process.env.KAFKA_PORT ?? '19092'}`];

async function kafkaService(verb: 'start' | 'stop'): Promise<string> {
  const { stdout } = await run('bash', [path.join(repoRoot, 'deploy/dev/kafka.sh'), verb], { cwd: repoRoot, timeout: 600_000 });
  return stdout.trim().split('\n').at(-1) ?? '';
}

async function feedStatus(w: Whirl, trigger: string): Promise<{ position?: Record<string, string>; fireCount?: number }> {
  const r = await api(w, 'POST', '/api/v1/namespaces/whisk.system/actions/messaging/kafkaFeed?blocking=true&result=true', {
    lifecycleEvent: 'READ',
    triggerName: `/_/${trigger}`,
    authKey: w.auth,
  });
  return (r.body as { status: { position?: Record<string, string>; fireCount?: number } }).status;
}

export const kafkaFeedBench: Benchmark = {
  name: 'kafka-feed',
  description: 'Kafka feed: messages/s from a topic to accepted trigger fires, vs a bare kafkajs consumer',
  async run(ctx) {
    if ((await kafkaService('start')) === 'started') ctx.scope.defer('the dev Kafka broker', async () => void (await kafkaService('stop')));
    const w = await startStandaloneWhirl(ctx.scope, { env: { WHIRL_CONTAINERS: 'process', WHIRL_PREWARM: 'false' } });
    const kafka = new Kafka({ clientId: 'whirl-bench', brokers: BROKERS, logLevel: logLevel.NOTHING });
    const tag = runTag();
    const topic = `${tag}_feed`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: -1 }] });
    ctx.scope.defer(`topic ${topic}`, async () => {
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    });

    const trigger = `${tag}_t`;
    await api(w, 'PUT', `/api/v1/namespaces/_/triggers/${trigger}`, { annotations: [{ key: 'feed', value: '/whisk.system/messaging/kafkaFeed' }] });
    await api(w, 'POST', '/api/v1/namespaces/whisk.system/actions/messaging/kafkaFeed?blocking=true&result=true', {
      lifecycleEvent: 'CREATE',
      triggerName: `/_/${trigger}`,
      authKey: w.auth,
      brokers: BROKERS,
      topic,
    });
    for (let i = 0; i < 600 && (await feedStatus(w, trigger)).position === undefined; i++) await sleep(100);

    // The messages wait in the topic while the feed is paused; the clock runs from its first fire after
    // UNPAUSE to its last (as the floor's runs from its first batch), so group joins count in neither.
    const lifecycle = (event: string): Promise<unknown> =>
      api(w, 'POST', '/api/v1/namespaces/whisk.system/actions/messaging/kafkaFeed?blocking=true&result=true', { lifecycleEvent: event, triggerName: `/_/${trigger}`, authKey: w.auth });
    await lifecycle('PAUSE');
    const n = smoke ? 2_000 : 20_000;
    const producer = kafka.producer();
    await producer.connect();
    const value = JSON.stringify({ hello: 'world', pad: 'x'.repeat(64) });
    for (let sent = 0; sent < n; sent += 1_000) {
      await producer.send({ topic, acks: 1, messages: Array.from({ length: Math.min(1_000, n - sent) }, () => ({ value })) });
    }
    await producer.disconnect();
    await lifecycle('UNPAUSE');
    const at = async (): Promise<number> => Number((await feedStatus(w, trigger)).position?.['0'] ?? 0);
    let pos = await at();
    while (pos === 0) pos = await at();
    const t0 = Date.now();
    const first = pos;
    while (pos < n) {
      await sleep(10);
      pos = await at();
    }
    const feedSeconds = (Date.now() - t0) / 1000;
    const status = await feedStatus(w, trigger);

    // The floor: the same messages read by a bare consumer of a fresh group, from the beginning.
    // Fetches of ~100 messages like the feed's batches, timed the same way: from the end of the first
    // batch to the end of the last, so the group join counts in neither.
    const consumer = kafka.consumer({ groupId: `${tag}_floor`, maxWaitTimeInMs: 100, maxBytesPerPartition: 100 * (value.length + 70) });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let seen = 0;
    let f0 = 0;
    let firstBatch = 0;
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) if (m.value) JSON.parse(m.value.toString('utf8'));
          seen += batch.messages.length;
          if (f0 === 0) {
            f0 = Date.now();
            firstBatch = seen;
          }
          if (seen >= n) resolve();
        },
      });
    });
    await done;
    const floorSeconds = (Date.now() - f0) / 1000;
    await consumer.disconnect();

    ctx.emit({
      name: 'kafka-feed.messages_per_s',
      unit: '/s',
      value: (n - first) / Math.max(feedSeconds, 0.001),
      floor: (n - firstBatch) / Math.max(floorSeconds, 0.001),
      extra: { messages: n, timed: n - first, floor_timed: n - firstBatch, fires: status.fireCount ?? null, batch: 100 },
    });
  },
};
