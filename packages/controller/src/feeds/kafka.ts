/**
 * `/whisk.system/messaging`: the kafkaFeed feed (a trigger fired with each batch of messages of a
 * user's topic, in OpenWhisk's payload shape `{messages: [{topic, partition, offset, key, value}]}`)
 * and the kafkaProduce action. Each trigger has its own consumer group; a batch is committed only
 * after its fire was accepted, and the next offset is stored in the feed status before the commit,
 * so a restart (or a new leader) resumes after the last fired message and never fires it twice.
 */
import { createHash } from 'node:crypto';
import { ActivationStatus, Limits, type FeedRegistration } from '@whirl/core';
import { KafkaSourceError, probeKafkaTopic, produceKafkaMessage, startKafkaTopicSource, type SourceMessage } from '@whirl/messaging';
import type { SystemActionHandler } from '../catalog/system-actions.js';
import { FeedError, boolParam, stringParam, type FeedSpec } from './lifecycle.js';
import type { SourceIO, SourceStarter } from './manager.js';
import { sleep } from './fire.js';

const MAX_BATCH = 10_000;

export function parseBrokers(v: unknown): string[] {
  let list: unknown = v;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t.startsWith('[')) {
      try {
        list = JSON.parse(t);
      } catch {
        list = undefined;
      }
    } else list = t.split(',');
  }
  const brokers = Array.isArray(list) ? list.map((b) => (typeof b === 'string' ? b.trim() : '')).filter((b) => b !== '') : [];
  if (brokers.length === 0 || !brokers.every((b) => /^[\w.-]+:\d{1,5}$/.test(b))) {
    throw new FeedError(`The brokers parameter '${typeof v === 'string' ? v : JSON.stringify(v)}' is not valid; pass host:port entries as an array or a comma-separated string.`);
  }
  return brokers;
}

export const kafkaFeedSpec: FeedSpec = {
  kind: 'kafka',
  action: 'messaging/kafkaFeed',
  updatable: ['brokers', 'topic', 'isJSONData', 'isBinaryKey', 'isBinaryValue', 'maxBatch'],
  async configure(p, base) {
    const brokers = p.brokers !== undefined ? parseBrokers(p.brokers) : base ? (base.brokers as string[]) : parseBrokers(p.brokers);
    const topic = stringParam(p, 'topic', base, 'the Kafka topic to listen to');
    const maxBatch = Number(p.maxBatch ?? base?.maxBatch ?? 100);
    if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > MAX_BATCH) {
      throw new FeedError(`The maxBatch parameter '${String(p.maxBatch)}' must be an integer from 1 to ${MAX_BATCH}.`);
    }
    const config = {
      brokers,
      topic,
      isJSONData: boolParam(p, 'isJSONData', base),
      isBinaryKey: boolParam(p, 'isBinaryKey', base),
      isBinaryValue: boolParam(p, 'isBinaryValue', base),
      maxBatch,
    };
    try {
      const ends = await probeKafkaTopic(brokers, topic);
      return { config, position: ends };
    } catch (e) {
      if (e instanceof KafkaSourceError) throw new FeedError(e.message);
      throw e;
    }
  },
  sourceOf: (c) => `${(c.brokers as string[]).join(',')}/${String(c.topic)}`,
  show: (c) => c,
};

function decode(buf: Buffer | null, binary: boolean, json: boolean): unknown {
  if (buf === null) return null;
  if (binary) return buf.toString('base64');
  const text = buf.toString('utf8');
  if (!json) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The consumer group of a trigger's feed: new for every CREATE, so a re-created trigger starts fresh. */
export function groupOf(reg: FeedRegistration): string {
  const h = createHash('sha256').update(`${reg.namespace}/${reg.trigger}/${reg.created}`).digest('hex').slice(0, 16);
  return `whirl-feed-${reg.namespace}-${reg.trigger}-${h}`;
}

/** Splits a batch so that each fire's payload stays within the trigger payload limit. */
function* chunks(messages: Record<string, unknown>[]): Generator<Record<string, unknown>[]> {
  const size = (m: unknown): number => Buffer.byteLength(JSON.stringify(m)) + 1;
  let cur: Record<string, unknown>[] = [];
  let bytes = 16;
  for (const m of messages) {
    const n = size(m);
    if (cur.length > 0 && bytes + n > Limits.payloadBytes) {
      yield cur;
      cur = [];
      bytes = 16;
    }
    cur.push(m);
    bytes += n;
  }
  if (cur.length > 0) yield cur;
}

export const startKafkaSource: SourceStarter = async (reg, io: SourceIO, log) => {
  const c = reg.config as { brokers: string[]; topic: string; isJSONData: boolean; isBinaryKey: boolean; isBinaryValue: boolean; maxBatch: number };
  const positions: Record<string, string> = {};
  for (const [k, v] of Object.entries(io.status.position ?? {})) if (typeof v === 'string') positions[k] = v;
  return startKafkaTopicSource({
    brokers: c.brokers,
    topic: c.topic,
    groupId: groupOf(reg),
    clientId: 'whirl-kafka-feed',
    maxBatch: c.maxBatch,
    positions,
    ...(log ? { log } : {}),
    onState: (state, error) => void io.report({ state, ...(error !== undefined ? { lastError: error } : {}) }).catch(() => undefined),
    onBatch: async (all: SourceMessage[], control) => {
      // Also skipped here, whatever the consumer replays: what was fired up to the kept position.
      const at = Number(positions[String(all[0]!.partition)] ?? -1);
      const batch = all.filter((m) => Number(m.offset) >= at);
      if (batch.length === 0) return;
      const messages = batch.map((m) => ({
        topic: m.topic,
        partition: m.partition,
        offset: Number(m.offset),
        key: decode(m.key, c.isBinaryKey, false),
        value: decode(m.value, c.isBinaryValue, c.isJSONData),
      }));
      for (const part of chunks(messages)) {
        await io.fire({ messages: part }, control.heartbeat);
        positions[String(part[0]!.partition)] = String(Number(part[part.length - 1]!.offset) + 1);
        // Stored before the source commits to Kafka: the position, not the commit, decides where a
        // restart resumes. The fire happened, so the write is retried rather than the batch.
        for (let attempt = 0; ; attempt++) {
          try {
            await io.report({ state: 'running', position: { ...positions } });
            break;
          } catch (err) {
            if (control.signal.aborted) throw err;
            await sleep(Math.min(5_000, 200 * 2 ** attempt), control.signal);
            await control.heartbeat().catch(() => undefined);
          }
        }
      }
    },
  });
};

/** kafkaProduce: `brokers`, `topic`, `value` (and `key`, `base64DecodeValue`, `base64DecodeKey`). */
export const kafkaProduceHandler: SystemActionHandler = async (call) => {
  const p = call.params;
  try {
    const brokers = parseBrokers(p.brokers);
    const topic = stringParam(p, 'topic', undefined, 'the Kafka topic to produce to');
    if (p.value === undefined) throw new FeedError('The value parameter is missing; pass the message to produce.');
    const bytes = (v: unknown, b64: unknown): Buffer | string =>
      b64 === true || b64 === 'true' ? Buffer.from(String(v), 'base64') : typeof v === 'string' ? v : JSON.stringify(v);
    const value = bytes(p.value, p.base64DecodeValue);
    const key = p.key === undefined || p.key === null ? null : bytes(p.key, p.base64DecodeKey);
    const r = await produceKafkaMessage(brokers, topic, { key, value });
    return { statusCode: ActivationStatus.Success, result: { success: true, topic, partition: r.partition, offset: Number(r.offset) } };
  } catch (e) {
    if (e instanceof FeedError || e instanceof KafkaSourceError) return { statusCode: ActivationStatus.ApplicationError, result: { error: e.message } };
    throw e;
  }
};
