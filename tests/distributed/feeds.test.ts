/**
 * Event sources on the distributed tier (nginx → 2 controllers, real Kafka, real pouchdb-server, 1
 * invoker): a message produced with kafkaProduce runs the rule's action with it, every message fires
 * exactly once although both controllers could consume, also after the leading controller is killed
 * and the other takes its feeds over; a CouchDB insert runs an action and a lost database shows in
 * the feed status; alarms run with two controllers; a signed webhook fires through nginx.
 */
import { createHmac } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import type Dockerode from 'dockerode';
import nano from 'nano';
import openwhisk from 'openwhisk';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureKafkaTopic, produceKafkaMessage } from '@whirl/messaging';
import { startDistributed, type Distributed } from '../../deploy/dev/distributed.js';
import { waitFor } from '../helpers/standalone.js';
import { docker, dockerUp } from '../helpers/docker.js';

const insecure = new Agent({ connect: { rejectUnauthorized: false } });

interface Rec {
  activationId: string;
  name: string;
  response: { success: boolean; status: string; result: Record<string, unknown> };
}

describe.skipIf(!dockerUp)('event sources on the distributed tier', () => {
  let d: Distributed;
  let ow: ReturnType<typeof openwhisk>;

  async function call(method: string, path: string, opts: { body?: unknown; raw?: string; headers?: Record<string, string>; auth?: boolean } = {}): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.auth !== false) headers.authorization = `Basic ${Buffer.from(d.auth).toString('base64')}`;
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${d.apiHost}${path}`, { method, headers, body, dispatcher: insecure } as RequestInit);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // text
    }
    return { status: res.status, body: parsed };
  }
  const feed = async (action: string, params: Record<string, unknown>): Promise<{ status: number; result: Record<string, unknown> }> => {
    const r = await call('POST', `/api/v1/namespaces/whisk.system/actions/${action}?blocking=true`, { body: { authKey: d.auth, ...params } });
    return { status: r.status, result: (r.body as { response: { result: Record<string, unknown> } }).response.result };
  };
  const records = async (name: string): Promise<Rec[]> => (await call('GET', `/api/v1/namespaces/_/activations?name=${name}&docs=true&limit=200`)).body as Rec[];
  const leader = async (): Promise<number> => {
    const doc = (await nano(d.couchdbUrl).use<{ body: { holder: string; expires: number } }>(`${d.prefix}feedstate`).get('lease:event-sources')).body;
    return Number(doc.holder.replace('controller', ''));
  };

  beforeAll(async () => {
    d = await startDistributed({
      controllers: 2,
      invokers: 1,
      env: { WHIRL_PREWARM: 'false', WHIRL_INVOCATIONS_PER_MINUTE: '2000', WHIRL_FIRES_PER_MINUTE: '2000', WHIRL_FEED_LEASE_MS: '4000' },
      log: (l) => appendFileSync('.tmp/feeds-controllers.log', `${l}\n`),
    });
    ow = openwhisk({ apihost: d.apiHost, api_key: d.auth, ignore_certs: true });
    await waitFor('the invoker healthy', async () => {
      const r = await call('GET', '/invokers', { auth: false });
      return JSON.stringify(r.body) === '{"invoker0":"up"}' ? r : undefined;
    }, 90_000);
    await ow.actions.create({ name: 'record', action: 'function main(params) { delete params.__ow_headers; return params; }' });
  }, 600_000);

  afterAll(async () => {
    await d?.stop();
    const mine = (c: Dockerode.ContainerInfo): boolean => (c.Labels['whirl.owner'] ?? '').startsWith(`${d.prefix}invoker`);
    const left = (await docker.listContainers({ all: true, filters: { label: ['whirl.owner'] } })).filter(mine);
    for (const c of left) await docker.getContainer(c.Id).remove({ force: true });
    expect(left).toEqual([]);
  }, 120_000);

  it('runs an action for a CouchDB insert, and shows a lost database in the feed status', async () => {
    const url = new URL(d.couchdbUrl);
    const dbname = `${d.prefix}userdb`;
    const server = nano(d.couchdbUrl);
    await server.db.create(dbname);
    await ow.triggers.create({ name: 'ct' } as never);
    const created = await feed('couchdb/changes', {
      lifecycleEvent: 'CREATE',
      triggerName: '/_/ct',
      host: `http://${url.host}`,
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      dbname,
    });
    expect(created).toMatchObject({ status: 200, result: { status: 'success' } });
    await ow.rules.create({ name: 'ct-rule', trigger: 'ct', action: 'record' });
    const missing = await feed('couchdb/changes', { lifecycleEvent: 'CREATE', triggerName: '/_/ct', host: `http://${url.host}`, dbname: 'nope' });
    expect(String(missing.result.error)).toMatch(/already exists|does not exist|refused/);

    await server.use<{ hello: string }>(dbname).insert({ _id: 'doc1', hello: 'world' });
    const run = await waitFor('the change fired', async () => (await records('record')).find((r) => r.response.result.id === 'doc1'), 60_000);
    expect(run.response.result).toMatchObject({ dbname, id: 'doc1', changes: [{ rev: expect.stringMatching(/^1-/) }] });
    const read = await feed('couchdb/changes', { lifecycleEvent: 'READ', triggerName: '/_/ct' });
    expect(read.result).toMatchObject({ config: { dbname }, status: { active: true, state: 'running', fireCount: 1 } });
    expect(read.result.config).not.toHaveProperty('password');

    await server.db.destroy(dbname);
    const lost = await waitFor('the feed retrying', async () => {
      const r = await feed('couchdb/changes', { lifecycleEvent: 'READ', triggerName: '/_/ct' });
      return (r.result.status as { state?: string }).state === 'retrying' ? r : undefined;
    }, 60_000);
    // CouchDB answers 404; pouchdb-server leaves the long poll hanging: either way the feed says why.
    expect(lost.result.status).toMatchObject({ active: true, state: 'retrying', lastError: expect.any(String) });
    await feed('couchdb/changes', { lifecycleEvent: 'DELETE', triggerName: '/_/ct' });
  });

  it('fires alarms with two controllers', async () => {
    await ow.triggers.create({ name: 'tick' } as never);
    await ow.rules.create({ name: 'tick-rule', trigger: 'tick', action: 'record' });
    const r = await feed('alarms/alarm', { lifecycleEvent: 'CREATE', triggerName: '/_/tick', cron: '*/2 * * * * *', trigger_payload: { tick: true } });
    expect(r.status).toBe(200);
    await waitFor('two alarm fires', async () => ((await records('tick')).length >= 2 ? true : undefined), 60_000);
    await feed('alarms/alarm', { lifecycleEvent: 'DELETE', triggerName: '/_/tick' });
  });

  it('fires a trigger from a signed webhook through nginx and refuses an unsigned one', async () => {
    await ow.triggers.create({ name: 'wh' } as never);
    await ow.rules.create({ name: 'wh-rule', trigger: 'wh', action: 'record' });
    const created = await feed('webhook/webhook', { lifecycleEvent: 'CREATE', triggerName: '/_/wh' });
    const { url, secret } = created.result as { url: string; secret: string };
    expect(url.startsWith(`${d.apiHost}/api/v1/feeds/webhook/guest/wh/`)).toBe(true);
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const path = url.slice(d.apiHost.length);
    expect((await call('POST', path, { raw: body, auth: false, headers: { 'content-type': 'application/json' } })).status).toBe(401);
    const sig = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    const ok = await call('POST', path, { raw: body, auth: false, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sig } });
    expect(ok.status).toBe(202);
    await waitFor('the webhook run', async () => (await records('record')).find((r) => r.response.result.ref === 'refs/heads/main'), 60_000);
  });
  // Last: it kills a controller, and nginx does not retry writes on a dead upstream.
  it('runs the rule action with produced Kafka messages, each exactly once, also across a leader crash', async () => {
    const topic = `${d.prefix}events`;
    await ensureKafkaTopic([d.kafkaBrokers], topic);
    await ow.triggers.create({ name: 'kt', trigger: { annotations: [{ key: 'feed', value: '/whisk.system/messaging/kafkaFeed' }] } } as never);
    const created = await feed('messaging/kafkaFeed', { lifecycleEvent: 'CREATE', triggerName: '/_/kt', brokers: [d.kafkaBrokers], topic, isJSONData: true, maxBatch: 5 });
    expect(created).toMatchObject({ status: 200, result: { status: 'success' } });
    await ow.actions.create({ name: 'krecord', action: 'function main(params) { delete params.__ow_headers; return params; }' });
    await ow.rules.create({ name: 'kt-rule', trigger: 'kt', action: 'krecord' });
    await waitFor('the kafka feed running', async () => ((await feed('messaging/kafkaFeed', { lifecycleEvent: 'READ', triggerName: '/_/kt' })).result.status as { state?: string }).state === 'running' || undefined, 60_000);

    // kafkaProduce, an action of the catalog.
    const produced = await feed('messaging/kafkaProduce', { brokers: d.kafkaBrokers, topic, key: 'k0', value: { n: 0 } });
    expect(produced).toMatchObject({ status: 200, result: { success: true, topic, offset: 0 } });
    const first = await waitFor('the rule action run', async () => (await records('krecord'))[0], 60_000);
    expect(first.response.result).toEqual({ messages: [{ topic, partition: 0, offset: 0, key: 'k0', value: { n: 0 } }] });

    const seen = async (): Promise<number[]> =>
      (await records('krecord')).flatMap((r) => (r.response.result.messages as { value: { n: number } }[] | undefined)?.map((m) => m.value.n) ?? []).sort((a, b) => a - b);
    for (let n = 1; n <= 20; n++) await produceKafkaMessage([d.kafkaBrokers], topic, { value: JSON.stringify({ n }) });
    await waitFor('21 messages fired', async () => (new Set(await seen()).size >= 21 ? true : undefined), 90_000);
    expect(await seen()).toEqual(Array.from({ length: 21 }, (_, i) => i));

    // The leader dies without a word; the other controller takes the feed over once the lease expires.
    const was = await leader();
    await d.stopController(was, 'SIGKILL');
    for (let n = 21; n <= 30; n++) await produceKafkaMessage([d.kafkaBrokers], topic, { value: JSON.stringify({ n }) });
    await waitFor('31 messages fired', async () => (new Set(await seen()).size >= 31 ? true : undefined), 120_000);
    expect(await leader()).toBe(1 - was);
    expect(await seen()).toEqual(Array.from({ length: 31 }, (_, i) => i));
    const status = await feed('messaging/kafkaFeed', { lifecycleEvent: 'READ', triggerName: '/_/kt' });
    expect(status.result).toMatchObject({ config: { topic, isJSONData: true, maxBatch: 5 }, status: { active: true, state: 'running' } });
  });
});
