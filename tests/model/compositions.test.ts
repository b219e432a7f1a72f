/**
 * Sequences and conductor actions end to end (official client + plain HTTP, real standalone).
 */
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startStandalone, waitFor, type RunningStandalone } from '../helpers/standalone.js';

interface Activation {
  activationId: string;
  name: string;
  cause?: string;
  duration: number;
  logs: string[];
  response: { status: string; success: boolean; result: Record<string, unknown> };
  annotations: { key: string; value: unknown }[];
}
const ann = (a: Activation, key: string): unknown => a.annotations.find((x) => x.key === key)?.value;

let s: RunningStandalone;
let ow: ReturnType<typeof openwhisk>;

beforeAll(async () => {
  s = await startStandalone({ env: { WHIRL_CONTAINERS: 'process', WHIRL_PREWARM: 'false' } });
  ow = openwhisk({ apihost: s.apiHost, api_key: s.auth });
  await ow.actions.create({ name: 'inc', action: 'function main(p) { return { n: (p.n || 0) + 1 }; }' });
  await ow.actions.create({ name: 'dbl', action: 'function main(p) { return { n: p.n * 2 }; }' });
  await ow.actions.create({ name: 'fail', action: 'function main(p) { return { error: "failed at " + p.n }; }' });
});
afterAll(async () => {
  expect(await s.stop()).toBe(0);
});

const getActivation = (id: string): Promise<Activation> =>
  waitFor(`activation ${id}`, async () => {
    const r = await http(s, 'GET', `/api/v1/namespaces/_/activations/${id}`);
    return r.status === 200 ? (r.body as Activation) : undefined;
  });

describe('sequences', () => {
  it('passes each result to the next component and records the components', async () => {
    const created = await ow.actions.create({ name: 'seq', sequence: ['/_/inc', 'dbl', '/guest/inc'] } as never);
    expect(created.exec).toEqual({ kind: 'sequence', components: ['/guest/inc', '/guest/dbl', '/guest/inc'] });
    expect(created.parameters).toEqual([{ key: '_actions', value: ['/guest/inc', '/guest/dbl', '/guest/inc'] }]);

    const a = (await ow.actions.invoke({ name: 'seq', blocking: true, params: { n: 1 } })) as Activation;
    expect(a.response.result).toEqual({ n: 5 });
    expect(a.logs).toHaveLength(3);
    expect(ann(a, 'kind')).toBe('sequence');
    expect(ann(a, 'topmost')).toBe(true);
    const components = await Promise.all(a.logs.map(getActivation));
    expect(components.map((c) => c.name)).toEqual(['inc', 'dbl', 'inc']);
    for (const c of components) {
      expect(c.cause).toBe(a.activationId);
      expect(ann(c, 'causedBy')).toBe('sequence');
    }
    expect(a.duration).toBe(components.reduce((sum, c) => sum + c.duration, 0));
    const stored = await getActivation(a.activationId);
    expect(stored.logs).toEqual(a.logs);
  });

  it('nests sequences and stops at the first error', async () => {
    await ow.actions.create({ name: 'inner', sequence: ['/_/inc', '/_/inc'] } as never);
    await ow.actions.create({ name: 'outer', sequence: ['/_/inner', '/_/dbl'] } as never);
    const a = (await ow.actions.invoke({ name: 'outer', blocking: true, params: { n: 0 } })) as Activation;
    expect(a.response.result).toEqual({ n: 4 });
    expect(a.logs).toHaveLength(2);
    const inner = await getActivation(a.logs[0]!);
    expect(inner.name).toBe('inner');
    expect(inner.logs).toHaveLength(2);
    expect(inner.cause).toBe(a.activationId);
    expect(ann(inner, 'topmost')).toBe(false);

    await ow.actions.create({ name: 'stops', sequence: ['/_/inc', '/_/fail', '/_/dbl'] } as never);
    const r = await http(s, 'POST', '/api/v1/namespaces/_/actions/stops?blocking=true', { body: { n: 1 } });
    expect(r.status).toBe(502);
    const failed = r.body as Activation;
    expect(failed.response).toMatchObject({ status: 'application error', result: { error: 'failed at 2' } });
    expect(failed.logs).toHaveLength(2);
  });

  it('answers non-blocking with an id whose record appears when the run ends', async () => {
    const r = await http(s, 'POST', '/api/v1/namespaces/_/actions/seq', { body: { n: 2 } });
    expect(r.status).toBe(202);
    const rec = await getActivation((r.body as { activationId: string }).activationId);
    expect(rec.response.result).toEqual({ n: 7 });
  });

  it.each([
    ['no component', { exec: { kind: 'sequence', components: [] } }, 'No component specified for the sequence.'],
    ['a missing component', { exec: { kind: 'sequence', components: ['/_/nope'] } }, 'Sequence component does not exist.'],
    ['itself', { exec: { kind: 'sequence', components: ['/_/selfish'] } }, 'Sequence may not refer to itself.'],
    ['too many', { exec: { kind: 'sequence', components: Array(51).fill('/_/inc') } }, 'Too many actions in the sequence.'],
    ['a malformed name', { exec: { kind: 'sequence', components: ['/a/b/c/d'] } }, /fully qualified name/],
  ])('refuses a sequence with %s', async (_what, body, message) => {
    const r = await http(s, 'PUT', '/api/v1/namespaces/_/actions/selfish', { body });
    expect(r.status).toBe(400);
    expect((r.body as { error: string }).error).toMatch(message);
    expect((await http(s, 'GET', '/api/v1/namespaces/_/actions/selfish')).status).toBe(404);
  });

  it('refuses a cycle through a nested sequence', async () => {
    await ow.actions.create({ name: 'loopA', sequence: ['/_/inc'] } as never);
    await ow.actions.create({ name: 'loopB', sequence: ['/_/loopA'] } as never);
    const r = await http(s, 'PUT', '/api/v1/namespaces/_/actions/loopA?overwrite=true', {
      body: { exec: { kind: 'sequence', components: ['/_/loopB'] } },
    });
    expect(r.status).toBe(400);
    expect((r.body as { error: string }).error).toBe('Sequence may not refer to itself.');
  });
});

describe('conductor actions', () => {
  it('runs the components the conductor names, carrying state', async () => {
    await ow.actions.create({
      name: 'cond',
      action: `function main(p) {
        if (p.step === undefined) return { action: 'inc', params: { n: p.n }, state: { step: 1 } };
        if (p.step === 1) return { action: '/guest/dbl', params: { n: p.n }, state: { step: 2 } };
        return { params: { final: p.n } };
      }`,
      annotations: { conductor: true },
    } as never);
    const a = (await ow.actions.invoke({ name: 'cond', blocking: true, params: { n: 3 } })) as Activation;
    expect(a.response.result).toEqual({ final: 8 });
    expect(ann(a, 'conductor')).toBe(true);
    expect(ann(a, 'kind')).toBe('sequence');
    // conductor, inc, conductor, dbl, conductor: an odd number of derived activations.
    expect(a.logs).toHaveLength(5);
    const derived = await Promise.all(a.logs.map(getActivation));
    expect(derived.map((d) => d.name)).toEqual(['cond', 'inc', 'cond', 'dbl', 'cond']);
    expect(derived.every((d) => d.cause === a.activationId)).toBe(true);
  });

  it('tells the conductor when a component cannot be resolved', async () => {
    await ow.actions.create({
      name: 'cond2',
      action: `function main(p) {
        if (p.error) return { params: { reported: p.error } };
        return { action: 'missing-one' };
      }`,
      annotations: { conductor: true },
    } as never);
    const a = (await ow.actions.invoke({ name: 'cond2', blocking: true })) as Activation;
    expect(a.response.result).toEqual({ reported: "Failed to resolve action with name 'missing-one' during composition." });
  });
});
