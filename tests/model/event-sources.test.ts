/**
 * Event sources and asynchronous delivery on a real standalone (real HTTP, real SQLite): signed
 * webhooks, feeds refused when their source cannot be reached, retries of failed non-blocking
 * invokes with their attempt records, and dead letters. Kafka and CouchDB feeds against real
 * services are in tests/distributed/feeds.test.ts.
 */
import { createHmac } from 'node:crypto';
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startStandalone, waitFor, type RunningStandalone } from '../helpers/standalone.js';
import { cliEnv } from '../cli/helpers.js';

let s: RunningStandalone;
let ow: ReturnType<typeof openwhisk>;
const env = { WHIRL_CONTAINERS: 'process', WHIRL_PREWARM: 'false', WHIRL_INVOCATIONS_PER_MINUTE: '1000', WHIRL_FIRES_PER_MINUTE: '1000' };

interface Record_ {
  activationId: string;
  name: string;
  annotations: { key: string; value: unknown }[];
  response: { success: boolean; status: string; result: Record<string, unknown> };
}
const ann = (r: Record_, key: string): unknown => r.annotations.find((a) => a.key === key)?.value;

const feedCall = (path: string, params: Record<string, unknown>) =>
  http(s, 'POST', `/api/v1/namespaces/whisk.system/actions/${path}?blocking=true`, { body: { authKey: s.auth, ...params } });

const records = async (name: string): Promise<Record_[]> =>
  (await http(s, 'GET', `/api/v1/namespaces/_/activations?name=${name}&docs=true&limit=50`)).body as Record_[];

beforeAll(async () => {
  s = await startStandalone({ env });
  ow = openwhisk({ apihost: s.apiHost, api_key: s.auth });
  await ow.actions.create({ name: 'echo', action: 'function main(params) { return params; }' });
});
afterAll(async () => {
  expect(await s.stop()).toBe(0);
});

describe('webhook feed', () => {
  it('fires the trigger for a signed call and refuses unsigned or badly signed ones with 401', async () => {
    await ow.triggers.create({ name: 'hook' } as never);
    await ow.rules.create({ name: 'hook-rule', trigger: 'hook', action: 'echo' });
    const secret = 'a-secret-of-enough-length';
    const created = await feedCall('webhook/webhook', { lifecycleEvent: 'CREATE', triggerName: '/_/hook', secret });
    expect(created.status).toBe(200);
    const result = (created.body as { response: { result: { url: string; secret: string } } }).response.result;
    expect(result.secret).toBe(secret);
    expect(result.url).toMatch(new RegExp(`^${s.apiHost}/api/v1/feeds/webhook/guest/hook/[0-9a-f]{32}$`));
    const path = result.url.slice(s.apiHost.length);

    const body = JSON.stringify({ action: 'opened', number: 7 });
    const sign = (b: string, key = secret): string => `sha256=${createHmac('sha256', key).update(b).digest('hex')}`;
    const unsigned = await http(s, 'POST', path, { raw: body, auth: null, headers: { 'content-type': 'application/json' } });
    expect(unsigned.status).toBe(401);
    expect((unsigned.body as { error: string }).error).toMatch(/not signed/);
    const wrong = await http(s, 'POST', path, { raw: body, auth: null, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(body, 'another-secret-entirely') } });
    expect(wrong.status).toBe(401);
    const tampered = await http(s, 'POST', path, { raw: body.replace('7', '8'), auth: null, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(body) } });
    expect(tampered.status).toBe(401);
    const badToken = await http(s, 'POST', path.replace(/[0-9a-f]{32}$/, '0'.repeat(32)), { raw: body, auth: null, headers: { 'x-hub-signature-256': sign(body) } });
    expect(badToken.status).toBe(404);
    expect(await records('hook')).toEqual([]);

    const ok = await http(s, 'POST', path, { raw: body, auth: null, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(body), 'x-github-event': 'pull_request' } });
    expect(ok.status).toBe(202);
    const fired = (ok.body as { activationId: string }).activationId;
    const run = await waitFor('the rule action run', async () => (await records('echo')).find((r) => r.response.result.number === 7));
    expect(run.response.result).toMatchObject({ action: 'opened', number: 7, __ow_headers: { 'x-github-event': 'pull_request' } });
    const trig = await http(s, 'GET', `/api/v1/namespaces/_/activations/${fired}`);
    expect(trig.body).toMatchObject({ name: 'hook', response: { result: { action: 'opened', number: 7 } } });

    const read = await feedCall('webhook/webhook', { lifecycleEvent: 'READ', triggerName: '/_/hook' });
    expect((read.body as { response: { result: unknown } }).response.result).toMatchObject({
      config: { url: result.url },
      status: { active: true, fireCount: 1 },
    });
    expect(JSON.stringify(read.body)).not.toContain(secret);

    // Paused: a signed call is refused and fires nothing.
    await feedCall('webhook/webhook', { lifecycleEvent: 'PAUSE', triggerName: '/_/hook' });
    expect((await http(s, 'POST', path, { raw: body, auth: null, headers: { 'x-hub-signature-256': sign(body) } })).status).toBe(409);
    await feedCall('webhook/webhook', { lifecycleEvent: 'DELETE', triggerName: '/_/hook' });
    expect((await http(s, 'POST', path, { raw: body, auth: null, headers: { 'x-hub-signature-256': sign(body) } })).status).toBe(404);
  });
});

describe('feeds whose source cannot be reached', () => {
  it('refuses a kafka feed with unreachable brokers, naming them, and stores nothing', async () => {
    await ow.triggers.create({ name: 'kt' } as never);
    const r = await feedCall('messaging/kafkaFeed', { lifecycleEvent: 'CREATE', triggerName: '/_/kt', brokers: ['127.0.0.1:1'], topic: 't' });
    expect(r.status).toBe(502);
    expect((r.body as { response: { result: { error: string } } }).response.result.error).toMatch(/Kafka brokers 127\.0\.0\.1:1 cannot be reached/);
    const read = await feedCall('messaging/kafkaFeed', { lifecycleEvent: 'READ', triggerName: '/_/kt' });
    expect((read.body as { response: { result: { error: string } } }).response.result.error).toMatch(/No messaging\/kafkaFeed feed is registered/);
    const bad = await feedCall('messaging/kafkaFeed', { lifecycleEvent: 'CREATE', triggerName: '/_/kt', brokers: 'not a broker', topic: 't' });
    expect((bad.body as { response: { result: { error: string } } }).response.result.error).toMatch(/brokers parameter 'not a broker' is not valid/);
  });

  it('leaves no trigger behind when the CLI creates one with an unreachable feed source', async () => {
    const cli = cliEnv(s);
    const r = await cli.run(['trigger', 'create', 'kcli', '--feed', '/whisk.system/messaging/kafkaFeed', '-p', 'brokers', '127.0.0.1:1', '-p', 'topic', 't']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Kafka brokers 127\.0\.0\.1:1 cannot be reached/);
    expect((await http(s, 'GET', '/api/v1/namespaces/_/triggers/kcli')).status).toBe(404);
  });

  it('refuses a couchdb feed with an unreachable host, naming it', async () => {
    await ow.triggers.create({ name: 'ct' } as never);
    const r = await feedCall('couchdb/changes', { lifecycleEvent: 'CREATE', triggerName: '/_/ct', host: 'http://127.0.0.1:1', dbname: 'x' });
    expect((r.body as { response: { result: { error: string } } }).response.result.error).toMatch(/database host 127\.0\.0\.1:1 cannot be reached/);
  });
});

describe('asynchronous delivery', () => {
  it('refuses a malformed retry annotation', async () => {
    const r = await http(s, 'PUT', '/api/v1/namespaces/_/actions/badretry', {
      body: { exec: { kind: 'nodejs:default', code: 'function main() { return {}; }' }, annotations: [{ key: 'retry', value: { attempts: 0 } }] },
    });
    expect(r.status).toBe(400);
    expect((r.body as { error: string }).error).toMatch(/retry annotation must be an object/);
    expect((r.body as { error: string }).error).toContain('attempts must be an integer from 1 to 10, got 0');
    // The same rule as the admin API's asyncRetry: out of bounds or of the wrong type is refused, not clamped.
    const many = await http(s, 'PUT', '/api/v1/namespaces/_/actions/badretry', {
      body: { exec: { kind: 'nodejs:default', code: 'function main() { return {}; }' }, annotations: [{ key: 'retry', value: { attempts: 50, backoffMs: '1000' } }] },
    });
    expect(many.status).toBe(400);
    for (const part of ['attempts must be an integer from 1 to 10, got 50', 'backoffMs must be a number of milliseconds from 0 to 900000, got "1000"']) {
      expect((many.body as { error: string }).error).toContain(part);
    }
  });

  it('retries an action that fails twice, then succeeds, each attempt its own linked record', async () => {
    // The count lives in the warm process, which an application error keeps.
    await http(s, 'PUT', '/api/v1/namespaces/_/actions/flaky', {
      body: {
        exec: { kind: 'nodejs:default', code: 'let n = 0; function main() { n += 1; return n < 3 ? { error: `failure ${n}` } : { ok: n }; }' },
        annotations: [{ key: 'retry', value: { attempts: 4, backoffMs: 300, onApplicationError: true } }],
      },
    });
    const first = await http(s, 'POST', '/api/v1/namespaces/_/actions/flaky', { body: {} });
    expect(first.status).toBe(202);
    const id = (first.body as { activationId: string }).activationId;
    const all = await waitFor('three attempts', async () => {
      const rs = await records('flaky');
      return rs.length >= 3 && rs.some((r) => r.response.success) ? rs : undefined;
    }, 60_000);
    const byAttempt = [...all].sort((a, b) => Number(ann(a, 'attempt')) - Number(ann(b, 'attempt')));
    expect(byAttempt.map((r) => [ann(r, 'attempt'), r.response.status])).toEqual([
      [1, 'application error'],
      [2, 'application error'],
      [3, 'success'],
    ]);
    expect(byAttempt[0]!.activationId).toBe(id);
    expect(ann(byAttempt[1]!, 'cause')).toBe(byAttempt[0]!.activationId);
    expect(ann(byAttempt[2]!, 'cause')).toBe(byAttempt[1]!.activationId);
    expect(byAttempt[2]!.response.result).toEqual({ ok: 3 });
  });

  it('does not retry an application error unless asked', async () => {
    await http(s, 'PUT', '/api/v1/namespaces/_/actions/refuses', {
      body: {
        exec: { kind: 'nodejs:default', code: 'function main() { return { error: "no" }; }' },
        annotations: [{ key: 'retry', value: { attempts: 3, backoffMs: 100 } }, { key: 'deadLetter', value: 'refusals' }],
      },
    });
    await ow.triggers.create({ name: 'refusals' } as never);
    await ow.rules.create({ name: 'refusals-rule', trigger: 'refusals', action: 'echo' });
    const id = ((await http(s, 'POST', '/api/v1/namespaces/_/actions/refuses', { body: {} })).body as { activationId: string }).activationId;
    const dead = await waitFor('the dead letter', async () => (await records('echo')).find((r) => r.response.result.activationId === id), 60_000);
    expect(dead.response.result).toMatchObject({ attempts: 1, activationIds: [id] });
    expect(await records('refuses')).toHaveLength(1);
  });

  it('sends an action that always fails to its dead-letter trigger after the last attempt', async () => {
    await http(s, 'PUT', '/api/v1/namespaces/_/actions/doomed', {
      body: {
        exec: { kind: 'nodejs:default', code: 'function main(p) { throw new Error("doomed " + p.n); }' },
        annotations: [{ key: 'retry', value: { attempts: 3, backoffMs: 100 } }, { key: 'deadLetter', value: 'graveyard' }],
      },
    });
    await ow.triggers.create({ name: 'graveyard' } as never);
    await ow.actions.create({ name: 'mourner', action: 'function main(p) { return { mourned: p.activationId, attempts: p.attempts, error: undefined, failed: p.activation.response.result.error }; }' });
    await ow.rules.create({ name: 'graveyard-rule', trigger: 'graveyard', action: 'mourner' });
    // Through a rule, as event sources deliver: the rule's non-blocking invoke is retried too.
    await ow.triggers.create({ name: 'go' } as never);
    await ow.rules.create({ name: 'go-rule', trigger: 'go', action: 'doomed' });
    await ow.triggers.invoke({ name: 'go', params: { n: 42 } });
    const mourned = await waitFor('the dead letter run', async () => (await records('mourner'))[0], 90_000);
    const attempts = await records('doomed');
    expect(attempts).toHaveLength(3);
    expect(attempts.every((r) => r.response.status === 'action developer error')).toBe(true);
    const last = attempts.find((r) => ann(r, 'attempt') === 3)!;
    expect(mourned.response.result).toMatchObject({ mourned: last.activationId, attempts: 3 });
    expect(String(mourned.response.result.failed)).toMatch(/doomed 42/);
  });
  it('keeps a pending retry across a restart of the controller', async () => {
    await http(s, 'PUT', '/api/v1/namespaces/_/actions/patient', {
      body: {
        exec: { kind: 'nodejs:default', code: 'function main() { throw new Error("not yet"); }' },
        annotations: [{ key: 'retry', value: { attempts: 2, backoffMs: 4000 } }, { key: 'deadLetter', value: 'graveyard' }],
      },
    });
    const id = ((await http(s, 'POST', '/api/v1/namespaces/_/actions/patient', { body: {} })).body as { activationId: string }).activationId;
    await waitFor('the first attempt recorded', async () => ((await records('patient')).length === 1 ? true : undefined), 30_000);
    // Stopped while the second attempt waits for its back-off; it must run after the restart.
    const dataDir = s.dataDir;
    expect(await s.stop({ keepData: true })).toBe(0);
    s = await startStandalone({ env, dataDir });
    ow = openwhisk({ apihost: s.apiHost, api_key: s.auth });
    const both = await waitFor('the second attempt after the restart', async () => {
      const rs = await records('patient');
      return rs.length === 2 ? rs : undefined;
    }, 60_000);
    const second = both.find((r) => ann(r, 'attempt') === 2)!;
    expect(ann(second, 'cause')).toBe(id);
    await waitFor('its dead letter', async () => (await records('mourner')).find((r) => r.response.result.mourned === second.activationId), 60_000);
  });
});
