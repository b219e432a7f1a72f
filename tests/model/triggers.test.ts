/**
 * Triggers, rules and fire, through the official `openwhisk` client and plain HTTP against a real
 * standalone: CRUD, rule status kept on the trigger, the exact fire semantics and every bad input.
 */
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startStandalone, waitFor, type RunningStandalone } from '../helpers/standalone.js';
import { addTenant } from './tenant.js';

let s: RunningStandalone;
let ow: ReturnType<typeof openwhisk>;
let alice: { apiHost: string; auth: string };
const echo = 'function main(params) { return params; }';

interface Activation {
  activationId: string;
  namespace: string;
  name: string;
  version: string;
  end?: number;
  duration?: number;
  cause?: string;
  logs: string[];
  annotations: unknown[];
  response: { status: string; success: boolean; result: Record<string, unknown> };
}

beforeAll(async () => {
  s = await startStandalone({ env: { WHIRL_CONTAINERS: 'process', WHIRL_PREWARM: 'false' } });
  ow = openwhisk({ apihost: s.apiHost, api_key: s.auth });
  alice = { apiHost: s.apiHost, auth: await addTenant(s.dataDir, 'alice') };
  await http(alice, 'PUT', '/api/v1/namespaces/_/triggers/theirs', { body: {} });
  await http(alice, 'PUT', '/api/v1/namespaces/_/packages/secret', { body: {} });
  await http(alice, 'PUT', '/api/v1/namespaces/_/actions/secret/act', { body: { exec: { kind: 'nodejs:20', code: echo } } });
  await ow.actions.create({ name: 'echo', action: echo });
});
afterAll(async () => {
  expect(await s.stop()).toBe(0);
});

const activation = (id: string): Promise<Activation> =>
  waitFor(`activation ${id}`, async () => {
    const r = await http(s, 'GET', `/api/v1/namespaces/_/activations/${id}`);
    return r.status === 200 ? (r.body as Activation) : undefined;
  });

describe('triggers', () => {
  it('creates, updates (replacing parameters and annotations), gets, lists and deletes', async () => {
    const t = await ow.triggers.create({ name: 't1', trigger: { parameters: [{ key: 'a', value: 1 }] } } as never);
    expect(t).toMatchObject({ namespace: 'guest', name: 't1', version: '0.0.1', publish: false, annotations: [], limits: {} });
    const u = await ow.triggers.update({ name: 't1' } as never);
    expect(u).toMatchObject({ version: '0.0.2', parameters: [{ key: 'a', value: 1 }] });
    const r = await http(s, 'PUT', '/api/v1/namespaces/_/triggers/t1?overwrite=true', { body: { parameters: [{ key: 'b', value: 2 }], annotations: [{ key: 'x', value: 1 }] } });
    expect(r.body).toMatchObject({ version: '0.0.3', parameters: [{ key: 'b', value: 2 }], annotations: [{ key: 'x', value: 1 }] });
    await ow.triggers.create({ name: 't2' } as never);
    const list = (await ow.triggers.list()) as unknown as Record<string, unknown>[];
    expect(list.map((x) => x.name)).toEqual(['t2', 't1']);
    expect(Object.keys(list[0]!).sort()).toEqual(['annotations', 'name', 'namespace', 'publish', 'updated', 'version']);
    expect((await http(s, 'GET', '/api/v1/namespaces/_/triggers?count=true')).body).toEqual({ triggers: 2 });
    expect(await ow.triggers.delete({ name: 't2' })).toMatchObject({ name: 't2' });
    await expect(ow.triggers.get({ name: 't2' })).rejects.toMatchObject({ statusCode: 404 });
    await ow.triggers.delete({ name: 't1' });
  });

  it('fires with 204 and records nothing when no rule is active', async () => {
    await ow.triggers.create({ name: 'lonely' } as never);
    const before = (await http(s, 'GET', '/api/v1/namespaces/_/activations?count=true')).body;
    const r = await http(s, 'POST', '/api/v1/namespaces/_/triggers/lonely', { body: { a: 1 } });
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    expect((await http(s, 'GET', '/api/v1/namespaces/_/activations?count=true')).body).toEqual(before);
    await ow.triggers.delete({ name: 'lonely' });
  });
});

describe('rules and fire', () => {
  it('fires a rule: trigger activation with one log line per rule, action activations with merged args and __ow_headers', async () => {
    await ow.triggers.create({ name: 'tr', trigger: { parameters: [{ key: 'fromTrigger', value: 1 }, { key: 'both', value: 'trigger' }] } } as never);
    await ow.actions.create({ name: 'pk', action: echo, params: { fromAction: true } });
    const rule = await ow.rules.create({ name: 'r1', trigger: 'tr', action: 'echo' });
    expect(rule).toMatchObject({ name: 'r1', status: 'active', trigger: { path: 'guest', name: 'tr' }, action: { path: 'guest', name: 'echo' } });
    await ow.rules.create({ name: 'r2', trigger: '/_/tr', action: '/_/pk' });

    const trig = (await ow.triggers.get({ name: 'tr' })) as unknown as { rules: Record<string, unknown> };
    expect(trig.rules).toEqual({
      'guest/r1': { action: { path: 'guest', name: 'echo' }, status: 'active' },
      'guest/r2': { action: { path: 'guest', name: 'pk' }, status: 'active' },
    });

    const fired = await http(s, 'POST', '/api/v1/namespaces/_/triggers/tr', { body: { both: 'payload', p: 1 }, headers: { 'x-custom': 'yes' } });
    expect(fired.status).toBe(202);
    const id = (fired.body as { activationId: string }).activationId;
    expect(fired.headers.get('x-openwhisk-activation-id')).toBe(id);

    // Stored before the id was returned.
    const direct = await http(s, 'GET', `/api/v1/namespaces/_/activations/${id}`);
    expect(direct.status).toBe(200);
    const ta = direct.body as Activation;
    expect(ta).toMatchObject({ namespace: 'guest', name: 'tr', version: '0.0.1', annotations: [], response: { success: true, result: { both: 'payload', p: 1 } } });
    expect(ta).not.toHaveProperty('end');
    expect(ta).not.toHaveProperty('duration');
    expect(ta.logs).toHaveLength(2);
    const lines = ta.logs.map((l) => JSON.parse(l) as { statusCode: number; success: boolean; activationId: string; rule: string; action: string });
    expect(lines.map((l) => l.rule).sort()).toEqual(['guest/r1', 'guest/r2']);
    for (const l of lines) expect(l).toMatchObject({ statusCode: 0, success: true });

    const byRule = Object.fromEntries(lines.map((l) => [l.rule, l]));
    const a1 = await activation(byRule['guest/r1']!.activationId);
    expect(a1.response.result).toMatchObject({ fromTrigger: 1, both: 'payload', p: 1 });
    const headers = a1.response.result.__ow_headers as Record<string, string>;
    expect(headers['x-custom']).toBe('yes');
    expect(headers).not.toHaveProperty('authorization');
    expect(a1).not.toHaveProperty('cause');
    const a2 = await activation(byRule['guest/r2']!.activationId);
    expect(a2.response.result).toMatchObject({ fromAction: true, fromTrigger: 1 });

    // Through the client as well.
    const viaClient = await ow.triggers.invoke({ name: 'tr', params: { c: 1 } });
    expect(viaClient).toHaveProperty('activationId');

    // Activation list with the trigger name filter.
    const listed = (await http(s, 'GET', '/api/v1/namespaces/_/activations?name=tr')).body as Activation[];
    expect(listed.length).toBe(2);
  });

  it('disabling a rule stops its invocations; enabling is idempotent; status lives on the trigger', async () => {
    await ow.rules.disable({ name: 'r1' });
    await ow.rules.disable({ name: 'r2' });
    expect(await ow.rules.get({ name: 'r1' })).toMatchObject({ status: 'inactive' });
    const list = (await ow.rules.list()) as unknown as Record<string, unknown>[];
    expect(list.map((r) => r.name)).toEqual(['r2', 'r1']);
    for (const r of list) expect(r).not.toHaveProperty('status');
    expect((await http(s, 'GET', '/api/v1/namespaces/_/rules?count=true')).body).toEqual({ rules: 2 });

    const countBefore = (await http(s, 'GET', '/api/v1/namespaces/_/activations?name=echo&count=true')).body;
    expect((await http(s, 'POST', '/api/v1/namespaces/_/triggers/tr', { body: {} })).status).toBe(204);

    // Only r1 active: one log line.
    expect((await http(s, 'POST', '/api/v1/namespaces/_/rules/r1', { body: { status: 'active' } })).status).toBe(200);
    const twice = await http(s, 'POST', '/api/v1/namespaces/_/rules/r1', { body: { status: 'active', trigger: null, action: null } });
    expect(twice.status).toBe(200);
    const fired = await http(s, 'POST', '/api/v1/namespaces/_/triggers/tr', { body: {} });
    const ta = await activation((fired.body as { activationId: string }).activationId);
    expect(ta.logs).toHaveLength(1);
    await waitFor('echo invoked once more', async () => {
      const n = (await http(s, 'GET', '/api/v1/namespaces/_/activations?name=echo&count=true')).body as { activations: number };
      return n.activations === (countBefore as { activations: number }).activations + 1 ? true : undefined;
    });
  });

  it('updates a rule keeping its status and moving its trigger link; deletes return status inactive', async () => {
    await ow.triggers.create({ name: 'tr2' } as never);
    await ow.rules.disable({ name: 'r2' });
    const upd = await http(s, 'PUT', '/api/v1/namespaces/_/rules/r2?overwrite=true', { body: { trigger: '/_/tr2', action: 'guest/echo' } });
    expect(upd.status).toBe(200);
    expect(upd.body).toMatchObject({ version: '0.0.2', status: 'inactive', trigger: { path: 'guest', name: 'tr2' }, action: { path: 'guest', name: 'echo' } });
    const tr = (await ow.triggers.get({ name: 'tr' })) as unknown as { rules: Record<string, unknown> };
    expect(Object.keys(tr.rules)).toEqual(['guest/r1']);
    const tr2 = (await ow.triggers.get({ name: 'tr2' })) as unknown as { rules: Record<string, unknown> };
    expect(tr2.rules).toEqual({ 'guest/r2': { action: { path: 'guest', name: 'echo' }, status: 'inactive' } });

    // Deleting the trigger leaves the rule; it can still be read and deleted, but not enabled.
    await ow.triggers.delete({ name: 'tr2' });
    expect(await ow.rules.get({ name: 'r2' })).toMatchObject({ status: 'inactive' });
    const enable = await http(s, 'POST', '/api/v1/namespaces/_/rules/r2', { body: { status: 'active' } });
    expect(enable.status).toBe(404);
    expect(enable.body).toMatchObject({ error: 'Only rules with existing triggers can be activated' });
    const del = await ow.rules.delete({ name: 'r2' });
    expect(del).toMatchObject({ name: 'r2', status: 'inactive' });
    const del1 = await ow.rules.delete({ name: 'r1' });
    expect(del1).toMatchObject({ name: 'r1', status: 'inactive' });
    const tr3 = (await ow.triggers.get({ name: 'tr' })) as unknown as { rules: Record<string, unknown> };
    expect(tr3.rules).toEqual({});
    await expect(ow.rules.get({ name: 'r1' })).rejects.toMatchObject({ statusCode: 404 });
  });

  it('fires rules that invoke public packaged actions and records a failed rule invoke in the log', async () => {
    await ow.rules.create({ name: 'toecho', trigger: 'tr', action: '/whisk.system/utils/echo' });
    await ow.actions.create({ name: 'doomed', action: echo });
    await ow.rules.create({ name: 'todoomed', trigger: 'tr', action: 'doomed' });
    await ow.actions.delete({ name: 'doomed' });
    const fired = await http(s, 'POST', '/api/v1/namespaces/_/triggers/tr', { body: { z: 1 } });
    expect(fired.status).toBe(202);
    const ta = await activation((fired.body as { activationId: string }).activationId);
    const lines = Object.fromEntries(ta.logs.map((l) => JSON.parse(l) as Record<string, unknown>).map((l) => [l.rule, l]));
    expect(lines['guest/toecho']).toMatchObject({ statusCode: 0, success: true, action: 'whisk.system/utils/echo' });
    expect(lines['guest/todoomed']).toEqual({ statusCode: 1, success: false, error: 'The requested resource does not exist.', rule: 'guest/todoomed', action: 'guest/doomed' });
    const echoed = await activation((lines['guest/toecho'] as { activationId: string }).activationId);
    expect(echoed.response.result).toMatchObject({ z: 1 });
    await ow.rules.delete({ name: 'toecho' });
    await ow.rules.delete({ name: 'todoomed' });
  });
});

describe('bad input', () => {
  it('answers with the exact status and message and changes nothing', async () => {
    await ow.triggers.create({ name: 'bt' } as never);
    const rule = (trigger: unknown, action: unknown): unknown => ({ trigger, action });
    const cases: [string, string, unknown, number, string][] = [
      ['PUT', '/api/v1/namespaces/_/rules/bad', rule('/_/nope', '/_/echo'), 400, 'trigger /guest/nope does not exist'],
      ['PUT', '/api/v1/namespaces/_/rules/bad', rule('/_/bt', '/_/nope'), 400, 'action /guest/nope does not exist'],
      ['PUT', '/api/v1/namespaces/_/rules/bad', rule('/_/bt', '/_/nopkg/nope'), 400, 'action /guest/nopkg/nope does not exist'],
      ['PUT', '/api/v1/namespaces/_/rules/bad', rule('bt', '/_/echo'), 400, 'The request content was malformed: The fully qualified name of the entity must contain at least the namespace and the name of the entity.'],
      ['PUT', '/api/v1/namespaces/_/rules/bad', { trigger: '/_/bt' }, 400, 'rule requires a valid trigger and a valid action'],
      ['PUT', '/api/v1/namespaces/_/rules/bad', rule('/alice/theirs', '/_/echo'), 403, 'The supplied authentication is not authorized to access this resource.'],
      ['PUT', '/api/v1/namespaces/_/rules/bad', rule('/_/bt', '/alice/secret/act'), 403, 'The supplied authentication is not authorized to access this resource.'],
      ['PUT', '/api/v1/namespaces/_/rules/bad', rule('/_/echo', '/_/echo'), 400, 'trigger /guest/echo does not exist'],
      ['POST', '/api/v1/namespaces/_/rules/nope', { status: 'active' }, 404, 'The requested resource does not exist.'],
      ['GET', '/api/v1/namespaces/_/rules/nope', undefined, 404, 'The requested resource does not exist.'],
      ['PUT', '/api/v1/namespaces/_/triggers/bf', { annotations: [{ key: 'feed', value: 'justaname' }] }, 400, 'Feed name is not valid'],
      ['PUT', '/api/v1/namespaces/_/triggers/bf', { annotations: [{ key: 'feed', value: 42 }] }, 400, 'Feed name is not valid'],
      ['PUT', '/api/v1/namespaces/_/triggers/bt', {}, 409, 'resource already exists'],
      ['PUT', '/api/v1/namespaces/_/triggers/echo', {}, 409, 'Resource by this name exists but is not in this collection.'],
      ['GET', '/api/v1/namespaces/_/triggers/echo', undefined, 409, 'Resource by this name exists but is not in this collection.'],
      ['PUT', '/api/v1/namespaces/_/rules/echo', rule('/_/bt', '/_/echo'), 409, 'Resource by this name exists but is not in this collection.'],
      ['PUT', '/api/v1/namespaces/_/triggers/b%24d', {}, 400, 'The name of the entity contains illegal characters.'],
      ['PUT', '/api/v1/namespaces/_/triggers/bx', { parameters: 'nope' }, 400, 'The request content was malformed'],
      ['POST', '/api/v1/namespaces/_/triggers/nope', {}, 404, 'The requested resource does not exist.'],
      ['POST', '/api/v1/namespaces/_/triggers/bt', [1, 2], 400, 'The request content was malformed'],
      ['POST', '/api/v1/namespaces/alice/triggers/theirs', {}, 403, 'The supplied authentication is not authorized to access this resource.'],
      ['GET', '/api/v1/namespaces/alice/triggers', undefined, 403, 'The supplied authentication is not authorized to access this resource.'],
      ['GET', '/api/v1/namespaces/_/triggers?limit=201', undefined, 400, "The value '201' is not in the range of 0 to 200 for triggers."],
      ['GET', '/api/v1/namespaces/_/rules?skip=-1', undefined, 400, "The value '-1' is not greater than or equal to 0 for rules."],
    ];
    for (const [method, url, body, status, error] of cases) {
      const r = await http(s, method, url, body === undefined ? {} : { body });
      expect({ method, url, body, status: r.status }).toEqual({ method, url, body, status });
      expect((r.body as { error: string }).error).toContain(error);
    }
    expect((await http(s, 'GET', '/api/v1/namespaces/_/rules?count=true')).body).toEqual({ rules: 0 });
    expect((await http(s, 'GET', '/api/v1/namespaces/_/triggers?count=true')).body).toEqual({ triggers: 2 });

    await ow.rules.create({ name: 'okrule', trigger: 'bt', action: 'echo' });
    const badState = await http(s, 'POST', '/api/v1/namespaces/_/rules/okrule', { body: { status: 'paused' } });
    expect(badState.status).toBe(400);
    expect(badState.body).toMatchObject({ error: "'paused' is not a recognized rule state, must be one of ['active', 'inactive']" });
    expect(await ow.rules.get({ name: 'okrule' })).toMatchObject({ status: 'active' });
    const dup = await http(s, 'PUT', '/api/v1/namespaces/_/rules/okrule', { body: rule('/_/bt', '/_/echo') });
    expect(dup.status).toBe(409);
    await ow.rules.delete({ name: 'okrule' });
  });
});
