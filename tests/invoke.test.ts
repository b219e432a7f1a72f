/**
 * Invocations end to end in real Docker containers, through the official `openwhisk` npm client:
 * blocking and non-blocking, results, activation records and logs, zip actions, cold → warm,
 * stem-cell hits, pause/resume, and the failure modes (init failure, application and developer
 * errors, timeout, out-of-memory, log truncation). Every activation id handed out must have a record.
 */
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeZip } from '../packages/runtimes/src/testing/archives.js';
import { http, startStandalone, waitFor, type RunningStandalone } from './helpers/standalone.js';
import { docker, dockerUp } from './helpers/docker.js';

interface Activation {
  activationId: string;
  namespace: string;
  name: string;
  start: number;
  end: number;
  duration: number;
  logs: string[];
  response: { status: string; success: boolean; result: Record<string, unknown> };
  annotations: { key: string; value: unknown }[];
}

const ann = (a: Activation, key: string): unknown => a.annotations.find((x) => x.key === key)?.value;

describe.skipIf(!dockerUp)('invocations in Docker', () => {
  let s: RunningStandalone;
  let ow: ReturnType<typeof openwhisk>;
  const handedOut: string[] = [];

  beforeAll(async () => {
    s = await startStandalone({ env: { WHIRL_PAUSE_GRACE_MS: '400', WHIRL_CONTAINERS: 'docker' } });
    ow = openwhisk({ apihost: s.apiHost, api_key: s.auth });
  });

  afterAll(async () => {
    // Every id handed out has a stored record, whatever its outcome.
    for (const id of handedOut) {
      const r = await waitFor(`record ${id}`, async () => {
        const got = await http(s, 'GET', `/api/v1/namespaces/_/activations/${id}`);
        return got.status === 200 ? got : undefined;
      });
      expect(r.status).toBe(200);
    }
    expect(await s.stop()).toBe(0);
    const left = await docker.listContainers({ all: true, filters: { label: [`whirl.owner=${s.owner}`] } });
    expect(left).toEqual([]);
  });

  const activation = (id: string): Promise<Activation> =>
    waitFor(`activation ${id} with logs`, async () => {
      const r = await http(s, 'GET', `/api/v1/namespaces/_/activations/${id}`);
      return r.status === 200 ? (r.body as Activation) : undefined;
    });

  it('runs a blocking invoke, cold then warm, and records logs', async () => {
    await ow.actions.create({
      name: 'hello',
      action: 'function main(p) { console.log("hello", p.name); console.error("to stderr"); return { greeting: "hello " + p.name }; }',
    });
    const cold = (await ow.actions.invoke({ name: 'hello', blocking: true, params: { name: 'cold' } })) as Activation;
    handedOut.push(cold.activationId);
    expect(cold.response).toEqual({ result: { greeting: 'hello cold' }, size: 25, status: 'success', success: true });
    expect(cold.namespace).toBe('guest');
    expect(cold.logs).toEqual([]);
    expect(ann(cold, 'initTime')).toEqual(expect.any(Number));
    expect(ann(cold, 'kind')).toBe('nodejs:20');
    expect(ann(cold, 'path')).toBe('guest/hello');
    expect(ann(cold, 'timeout')).toBe(false);
    expect(ann(cold, 'waitTime')).toEqual(expect.any(Number));
    expect(cold.duration).toBe(cold.end - cold.start);

    const warm = (await ow.actions.invoke({ name: 'hello', blocking: true, params: { name: 'warm' } })) as Activation;
    handedOut.push(warm.activationId);
    expect(warm.response.result).toEqual({ greeting: 'hello warm' });
    expect(ann(warm, 'initTime')).toBeUndefined();

    const stored = await activation(warm.activationId);
    expect(stored.logs).toHaveLength(2);
    // stdout and stderr are two pipes: lines written in the same instant may arrive in either order.
    const sorted = [...stored.logs].sort((a, b) => a.slice(31).localeCompare(b.slice(31)));
    expect(sorted[0]).toMatch(/ stderr: to stderr$/);
    expect(sorted[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z\s+stdout: hello warm$/);
    expect(stored.logs.join('\n')).not.toMatch(/cold|XXX_THE_END/);

    const logs = await ow.activations.logs({ name: warm.activationId });
    expect(logs).toEqual({ logs: stored.logs });
    const result = await ow.activations.result({ name: warm.activationId });
    expect(result).toEqual({ result: { greeting: 'hello warm' }, size: 25, status: 'success', success: true });
  });

  it('puts what the code printed while loading into the cold activation\'s logs', async () => {
    await ow.actions.create({ name: 'loader', action: 'console.log("loading module"); function main() { console.log("running"); return {}; }' });
    const a = await ow.actions.invoke({ name: 'loader', blocking: true });
    handedOut.push(a.activationId);
    const logs = (await activation(a.activationId)).logs.map((l) => l.replace(/^\S+\s+/, ''));
    expect(logs).toEqual(['stdout: loading module', 'stdout: running']);
  });

  it('answers result=true with only the result, and non-blocking with 202 and an id', async () => {
    const r = await http(s, 'POST', '/api/v1/namespaces/_/actions/hello?blocking=true&result=true', { body: { name: 'r' } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ greeting: 'hello r' });
    const id = r.headers.get('x-openwhisk-activation-id')!;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    handedOut.push(id);

    const nb = await http(s, 'POST', '/api/v1/namespaces/_/actions/hello', { body: { name: 'nb' } });
    expect(nb.status).toBe(202);
    const nbId = (nb.body as { activationId: string }).activationId;
    expect(nb.headers.get('x-openwhisk-activation-id')).toBe(nbId);
    handedOut.push(nbId);
    const done = await activation(nbId);
    expect(done.response.result).toEqual({ greeting: 'hello nb' });

    const viaClient = await ow.actions.invoke({ name: 'hello', params: { name: 'c' } });
    handedOut.push(viaClient.activationId);
    expect(viaClient).toEqual({ activationId: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it('lists activations newest first, with filters and count', async () => {
    await ow.actions.create({ name: 'other', action: 'function main() { return {}; }' });
    const o = await ow.actions.invoke({ name: 'other', blocking: true });
    handedOut.push(o.activationId);
    // The blocking answer comes before the record is stored (as in OpenWhisk): wait until it is listed.
    const list = await waitFor('the newest activation listed first', async () => {
      const l = (await ow.activations.list({ limit: 3 })) as Activation[];
      return l[0]?.activationId === o.activationId ? l : undefined;
    });
    expect(list[0]!.activationId).toBe(o.activationId);
    for (let i = 1; i < list.length; i++) expect(list[i - 1]!.start).toBeGreaterThanOrEqual(list[i]!.start);
    expect(list[0]).toMatchObject({ name: 'other', statusCode: 0, namespace: 'guest' });
    expect(list[0]).not.toHaveProperty('response');

    const named = (await ow.activations.list({ name: 'hello' } as never)) as Activation[];
    expect(named.length).toBeGreaterThanOrEqual(4);
    expect(named.every((a) => a.name === 'hello')).toBe(true);
    const counted = await http(s, 'GET', '/api/v1/namespaces/_/activations?count=true&name=other');
    expect(counted.body).toEqual({ activations: 1 });
    const since = await http(s, 'GET', `/api/v1/namespaces/_/activations?since=${o.start}&docs=true`);
    expect((since.body as Activation[]).map((a) => a.activationId)).toContain(o.activationId);
    expect((since.body as Activation[])[0]).toHaveProperty('response');
    const upto = await http(s, 'GET', `/api/v1/namespaces/_/activations?upto=${o.start - 1}`);
    expect((upto.body as Activation[]).map((a) => a.activationId)).not.toContain(o.activationId);
  });

  it('runs a zip action with package.json and one with index.js', async () => {
    const pkgZip = makeZip([
      { name: 'package.json', content: JSON.stringify({ main: 'lib/entry.js' }) },
      { name: 'lib/entry.js', content: 'exports.main = (p) => ({ zipped: true, p });' },
    ]);
    await ow.actions.create({ name: 'zipped', action: pkgZip, kind: 'nodejs:default' } as never);
    const a = await ow.actions.invoke({ name: 'zipped', blocking: true, params: { x: 1 } });
    handedOut.push(a.activationId);
    expect(a.response?.result).toEqual({ zipped: true, p: { x: 1 } });
    const got = await ow.actions.get({ name: 'zipped' });
    expect((got.exec as { binary?: boolean }).binary).toBe(true);

    const idxZip = makeZip([{ name: 'index.js', content: 'exports.handler = (p) => ({ handler: p.v });' }]);
    const r = await http(s, 'PUT', '/api/v1/namespaces/_/actions/zipidx', {
      body: { exec: { kind: 'nodejs:20', code: idxZip.toString('base64'), main: 'handler' } },
    });
    expect(r.status).toBe(200);
    const b = await ow.actions.invoke({ name: 'zipidx', blocking: true, params: { v: 'ü' } });
    handedOut.push(b.activationId);
    expect(b.response?.result).toEqual({ handler: 'ü' });
  });

  it('starts a new action from a stem cell (no container of its own is created)', async () => {
    // Ready in the pool (its own gauge), not merely running: a cell still starting is not taken.
    await waitFor('two stem cells', async () => {
      const res = await http(s, 'GET', '/metrics');
      const m = /^whirl_invoker_containers\{invoker="0",state="stem_cell"\} (\d+)$/m.exec(res.text);
      return m && Number(m[1]) >= 2 ? m : undefined;
    });
    await ow.actions.create({ name: 'stemmed', action: 'function main() { return { ok: true }; }' });
    const a = await ow.actions.invoke({ name: 'stemmed', blocking: true });
    handedOut.push(a.activationId);
    expect(ann(a as Activation, 'initTime')).toEqual(expect.any(Number));
    const own = await docker.listContainers({ all: true, filters: { name: ['guest_stemmed'], label: [`whirl.owner=${s.owner}`] } });
    expect(own).toEqual([]);
  });

  it('pauses an idle container and resumes it on the next invoke', async () => {
    await ow.actions.create({ name: 'napper', action: 'let n = 0; function main() { return { n: ++n }; }', limits: { memory: 128 } } as never);
    const first = await ow.actions.invoke({ name: 'napper', blocking: true });
    handedOut.push(first.activationId);
    const container = await waitFor('a paused container', async () => {
      const cs = await docker.listContainers({ all: true, filters: { name: ['guest_napper'], status: ['paused'], label: [`whirl.owner=${s.owner}`] } });
      return cs[0];
    });
    const second = await ow.actions.invoke({ name: 'napper', blocking: true });
    handedOut.push(second.activationId);
    // Same container (module state kept), no re-init.
    expect(second.response?.result).toEqual({ n: 2 });
    expect(ann(second as Activation, 'initTime')).toBeUndefined();
    const inspected = await docker.getContainer(container.Id).inspect();
    expect(inspected.State.Paused).toBe(false);
  });

  it('reports an application error as 502 with the activation, and only the error with result=true', async () => {
    await ow.actions.create({ name: 'apperr', action: 'function main() { return { error: "nope" }; }' });
    const r = await http(s, 'POST', '/api/v1/namespaces/_/actions/apperr?blocking=true', { body: {} });
    expect(r.status).toBe(502);
    const a = r.body as Activation;
    handedOut.push(a.activationId);
    expect(a.response).toMatchObject({ status: 'application error', success: false, result: { error: 'nope' } });
    const rr = await http(s, 'POST', '/api/v1/namespaces/_/actions/apperr?blocking=true&result=true', { body: {} });
    expect(rr.status).toBe(502);
    expect(rr.body).toEqual({ error: 'nope' });
    handedOut.push(rr.headers.get('x-openwhisk-activation-id')!);
    await expect(ow.actions.invoke({ name: 'apperr', blocking: true })).rejects.toMatchObject({ statusCode: 502 });
  });

  it('records an init failure and a thrown error as developer errors', async () => {
    await ow.actions.create({ name: 'broken', action: 'function main( { syntax error' });
    const r = await http(s, 'POST', '/api/v1/namespaces/_/actions/broken?blocking=true', { body: {} });
    expect(r.status).toBe(502);
    const a = r.body as Activation;
    handedOut.push(a.activationId);
    expect(a.response.status).toBe('action developer error');
    expect(String(a.response.result.error)).toMatch(/^Initialization has failed due to: /);

    await ow.actions.create({ name: 'thrower', action: 'function main() { console.log("before the throw"); throw new Error("boom"); }' });
    const t = await http(s, 'POST', '/api/v1/namespaces/_/actions/thrower?blocking=true', { body: {} });
    expect(t.status).toBe(502);
    const ta = t.body as Activation;
    handedOut.push(ta.activationId);
    expect(ta.response).toMatchObject({ status: 'action developer error', result: { error: expect.stringMatching(/boom/) } });
    // The container is removed after a developer error, but not before its logs are in.
    const logs = (await activation(ta.activationId)).logs.join('\n');
    expect(logs).toMatch(/stdout: before the throw/);
    expect(logs).not.toMatch(/issue while collecting/);
  });

  it('kills an action at its timeout and marks the record', async () => {
    await ow.actions.create({
      name: 'sleeper',
      action: 'function main() { return new Promise((r) => setTimeout(() => r({ late: true }), 5000)); }',
      limits: { timeout: 1000 },
    } as never);
    const r = await http(s, 'POST', '/api/v1/namespaces/_/actions/sleeper?blocking=true', { body: {} });
    expect(r.status).toBe(502);
    const a = r.body as Activation;
    handedOut.push(a.activationId);
    expect(a.response).toMatchObject({
      status: 'action developer error',
      result: { error: 'The action exceeded its time limits of 1000 milliseconds.' },
    });
    expect(ann(a, 'timeout')).toBe(true);
    const after = await ow.actions.invoke({ name: 'hello', blocking: true, params: { name: 'after' } });
    handedOut.push(after.activationId);
    expect(after.response?.success).toBe(true);
  });

  it('reports an action that exhausts its memory', async () => {
    await ow.actions.create({
      name: 'hog',
      action: 'function main() { const a = []; for (;;) a.push(Buffer.alloc(16 * 1024 * 1024, 1)); }',
      limits: { memory: 128 },
    } as never);
    const r = await http(s, 'POST', '/api/v1/namespaces/_/actions/hog?blocking=true', { body: {} });
    expect(r.status).toBe(502);
    const a = r.body as Activation;
    handedOut.push(a.activationId);
    expect(a.response).toMatchObject({
      status: 'action developer error',
      result: { error: 'The action exhausted its memory and was aborted.' },
    });
  });

  it('truncates logs over the limit', async () => {
    await ow.actions.create({
      name: 'chatty',
      action: 'function main() { const line = "y".repeat(1023); for (let i = 0; i < 1100; i++) console.log(line); return {}; }',
      limits: { logs: 1 },
    } as never);
    const a = await ow.actions.invoke({ name: 'chatty', blocking: true });
    handedOut.push(a.activationId);
    const stored = await activation(a.activationId);
    // 1025 lines of 1023 bytes fit in 1 MiB; the 1026th is the truncation notice.
    expect(stored.logs.length).toBe(1026);
    expect(stored.logs.at(-1)).toMatch(/ stderr: Logs were truncated because the total bytes size exceeds the limit of 1048576 bytes.$/);
  });

  it('turns a result over 1 MB into an application error naming the sizes', async () => {
    await ow.actions.create({ name: 'huge', action: 'function main() { return { big: "z".repeat(1100 * 1024) }; }' });
    const r = await http(s, 'POST', '/api/v1/namespaces/_/actions/huge?blocking=true', { body: {} });
    expect(r.status).toBe(502);
    const a = r.body as Activation;
    handedOut.push(a.activationId);
    expect(a.response.status).toBe('application error');
    expect(String(a.response.result.error)).toMatch(
      /^The action produced a response that exceeded the allowed length: \d+ > 1048576 bytes. The truncated response was: \{"big":"zzz/,
    );
  });

  it('never attributes a line printed after the fake sentinel to the next activation', async () => {
    await ow.actions.create({
      name: 'forger',
      action:
        'function main(p) { console.log("XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"); console.error("XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"); console.log("after-" + p.i); return {}; }',
    });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const a = await ow.actions.invoke({ name: 'forger', blocking: true, params: { i } });
      ids.push(a.activationId);
      handedOut.push(a.activationId);
    }
    for (const [i, id] of ids.entries()) {
      const rec = await activation(id);
      const text = rec.logs.join('\n');
      for (let j = 0; j < 3; j++) if (j !== i) expect(text).not.toContain(`after-${j}`);
    }
  });
});
