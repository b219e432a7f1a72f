/**
 * Packages, bindings, the system catalog and cross-namespace entitlement, through the official
 * `openwhisk` client and plain HTTP against a real standalone.
 */
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startStandalone, type RunningStandalone } from '../helpers/standalone.js';
import { addTenant } from './tenant.js';

let s: RunningStandalone;
let ow: ReturnType<typeof openwhisk>;
let alice: { apiHost: string; auth: string };
const echo = 'function main(params) { return params; }';

beforeAll(async () => {
  s = await startStandalone({ env: { WHIRL_CONTAINERS: 'process', WHIRL_PREWARM: 'false' } });
  ow = openwhisk({ apihost: s.apiHost, api_key: s.auth });
  alice = { apiHost: s.apiHost, auth: await addTenant(s.dataDir, 'alice') };
  expect((await http(alice, 'PUT', '/api/v1/namespaces/_/packages/secret', { body: { parameters: [{ key: 'k', value: 'v' }] } })).status).toBe(200);
  expect((await http(alice, 'PUT', '/api/v1/namespaces/_/actions/secret/act', { body: { exec: { kind: 'nodejs:20', code: echo } } })).status).toBe(200);
  expect((await http(alice, 'PUT', '/api/v1/namespaces/_/packages/shared', { body: { publish: true, parameters: [{ key: 'owner', value: 'alice' }] } })).status).toBe(200);
  expect((await http(alice, 'PUT', '/api/v1/namespaces/_/actions/shared/hi', { body: { exec: { kind: 'nodejs:20', code: echo } } })).status).toBe(200);
  expect((await http(alice, 'PUT', '/api/v1/namespaces/_/packages/sharedbinding', { body: { publish: true, binding: { namespace: 'alice', name: 'shared' } } })).status).toBe(200);
});
afterAll(async () => {
  expect(await s.stop()).toBe(0);
});

interface Pkg {
  namespace: string;
  name: string;
  version: string;
  publish: boolean;
  annotations: { key: string; value: unknown }[];
  parameters: { key: string; value: unknown }[];
  binding: unknown;
  actions?: { name: string }[];
  feeds?: { name: string }[];
}

describe('package CRUD', () => {
  it('creates, updates (replacing parameters and annotations), gets, lists and deletes', async () => {
    const created = (await ow.packages.create({ name: 'p1', package: { parameters: [{ key: 'a', value: 1 }] } } as never)) as unknown as Pkg;
    expect(created).toMatchObject({ namespace: 'guest', name: 'p1', version: '0.0.1', publish: false, annotations: [], binding: {} });
    expect(created.parameters).toEqual([{ key: 'a', value: 1 }]);

    const bumped = (await ow.packages.update({ name: 'p1' } as never)) as unknown as Pkg;
    expect(bumped.version).toBe('0.0.2');
    expect(bumped.parameters).toEqual([{ key: 'a', value: 1 }]);

    const replaced = await http(s, 'PUT', '/api/v1/namespaces/_/packages/p1?overwrite=true', {
      body: { parameters: [{ key: 'b', value: 2 }], annotations: [{ key: 'description', value: 'd' }] },
    });
    expect(replaced.body).toMatchObject({ version: '0.0.3', parameters: [{ key: 'b', value: 2 }], annotations: [{ key: 'description', value: 'd' }] });
    const again = await http(s, 'PUT', '/api/v1/namespaces/_/packages/p1?overwrite=true', { body: { annotations: [{ key: 'other', value: 1 }], version: '1.2.3' } });
    expect(again.body).toMatchObject({ version: '1.2.3', parameters: [{ key: 'b', value: 2 }], annotations: [{ key: 'other', value: 1 }] });

    await ow.actions.create({ name: 'p1/a1', action: echo });
    await ow.actions.create({ name: 'p1/f1', action: echo, annotations: { feed: true } } as never);
    const got = (await ow.packages.get({ name: 'p1' })) as unknown as Pkg;
    expect(got.actions?.map((a) => a.name)).toEqual(['a1']);
    expect(got.feeds?.map((a) => a.name)).toEqual(['f1']);

    await ow.packages.create({ name: 'p2' } as never);
    const list = (await ow.packages.list()) as unknown as Pkg[];
    expect(list.map((p) => p.name).slice(0, 2)).toEqual(['p2', 'p1']);
    expect(list[0]).toMatchObject({ binding: false, namespace: 'guest' });
    expect(list[0]).not.toHaveProperty('parameters');
    expect((await http(s, 'GET', '/api/v1/namespaces/_/packages?count=true')).body).toEqual({ packages: 2 });
    expect((await http(s, 'GET', '/api/v1/namespaces/_/actions/p1/')).body).toHaveLength(2);

    const notEmpty = await http(s, 'DELETE', '/api/v1/namespaces/_/packages/p1');
    expect(notEmpty.status).toBe(409);
    expect(notEmpty.body).toMatchObject({ error: 'Package not empty (contains 2 entities). Set force param or delete package contents.' });
    expect((await http(s, 'GET', '/api/v1/namespaces/_/actions/p1/a1')).status).toBe(200);

    const deleted = await http(s, 'DELETE', '/api/v1/namespaces/_/packages/p1?force=true');
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ name: 'p1', version: '1.2.3' });
    expect((await http(s, 'GET', '/api/v1/namespaces/_/actions/p1/a1')).status).toBe(404);
    await expect(ow.packages.get({ name: 'p1' })).rejects.toMatchObject({ statusCode: 404 });
    await expect(ow.packages.delete({ name: 'p1' })).rejects.toMatchObject({ statusCode: 404 });
    await ow.packages.delete({ name: 'p2' });
  });

  it('answers bad input with the exact status and message and changes nothing', async () => {
    const cases: [string, string, unknown, number, string][] = [
      ['PUT', '/api/v1/namespaces/_/packages/default', {}, 400, "Package name 'default' is reserved."],
      ['PUT', '/api/v1/namespaces/_/packages/b1', { binding: { namespace: '_', name: 'nope' } }, 400, 'Binding references a package that does not exist.'],
      ['PUT', '/api/v1/namespaces/_/packages/b1', { binding: { namespace: 'alice', name: 'sharedbinding' } }, 400, 'Cannot bind to another package binding.'],
      ['PUT', '/api/v1/namespaces/_/packages/b1', { binding: { namespace: 'alice', name: 'secret' } }, 403, 'The supplied authentication is not authorized to access this resource.'],
      ['PUT', '/api/v1/namespaces/_/packages/b1', { binding: { namespace: 'alice', name: 'missing' } }, 403, 'The supplied authentication is not authorized to access this resource.'],
      ['PUT', '/api/v1/namespaces/_/packages/b1', { binding: { name: 3 } }, 400, 'The request content was malformed'],
      ['PUT', '/api/v1/namespaces/_/packages/b%241', {}, 400, 'The name of the entity contains illegal characters.'],
      ['PUT', '/api/v1/namespaces/alice/packages/b1', {}, 403, 'The supplied authentication is not authorized to access this resource.'],
      ['GET', '/api/v1/namespaces/alice/packages/secret', undefined, 403, 'The supplied authentication is not authorized to access this resource.'],
      ['GET', '/api/v1/namespaces/alice/packages/missing', undefined, 403, 'The supplied authentication is not authorized to access this resource.'],
      ['DELETE', '/api/v1/namespaces/alice/packages/shared', undefined, 403, 'The supplied authentication is not authorized to access this resource.'],
    ];
    for (const [method, url, body, status, error] of cases) {
      const r = await http(s, method, url, body === undefined ? {} : { body });
      expect({ method, url, status: r.status }).toEqual({ method, url, status });
      expect((r.body as { error: string }).error).toContain(error);
    }
    expect((await http(s, 'GET', '/api/v1/namespaces/_/packages?count=true')).body).toEqual({ packages: 0 });

    await ow.packages.create({ name: 'real' } as never);
    const conv = await http(s, 'PUT', '/api/v1/namespaces/_/packages/real?overwrite=true', { body: { binding: { namespace: 'alice', name: 'shared' } } });
    expect(conv.status).toBe(409);
    expect(conv.body).toMatchObject({ error: 'Resource is a package and cannot be converted into a binding.' });
    const exists = await http(s, 'PUT', '/api/v1/namespaces/_/packages/real', { body: {} });
    expect(exists.status).toBe(409);
    expect(exists.body).toMatchObject({ error: 'resource already exists' });
    // One id space per namespace: an action and a package cannot share a name.
    await ow.actions.create({ name: 'taken', action: echo });
    const clash = await http(s, 'PUT', '/api/v1/namespaces/_/packages/taken', { body: {} });
    expect(clash.status).toBe(409);
    expect(clash.body).toMatchObject({ error: 'Resource by this name exists but is not in this collection.' });
    expect((await http(s, 'GET', '/api/v1/namespaces/_/packages/taken')).status).toBe(409);
    await ow.actions.delete({ name: 'taken' });
    await ow.packages.delete({ name: 'real' });
  });
});

describe('bindings', () => {
  it('binds, merges parameters package < binding < action < request, and invokes through the binding', async () => {
    await ow.packages.create({
      name: 'base',
      package: { parameters: ['a', 'b', 'c', 'd'].map((key) => ({ key, value: 'package' })) },
    } as never);
    await ow.actions.create({ name: 'base/show', action: echo, params: { c: 'action', d: 'action' } });
    const bound = await http(s, 'PUT', '/api/v1/namespaces/_/packages/mine', {
      body: { binding: { namespace: '_', name: 'base' }, parameters: ['b', 'c', 'd'].map((key) => ({ key, value: 'binding' })) },
    });
    expect(bound.status).toBe(200);
    expect(bound.body).toMatchObject({
      binding: { namespace: 'guest', name: 'base' },
      annotations: [{ key: 'binding', value: { namespace: 'guest', name: 'base' } }],
    });

    const r = await ow.actions.invoke({ name: 'mine/show', blocking: true, params: { d: 'request' } });
    expect(r.response!.result).toEqual({ a: 'package', b: 'binding', c: 'action', d: 'request' });
    const ann = (r as unknown as { annotations: { key: string; value: unknown }[] }).annotations;
    expect(ann).toContainEqual({ key: 'binding', value: 'guest/mine' });
    expect(ann).toContainEqual({ key: 'path', value: 'guest/base/show' });

    const got = (await ow.packages.get({ name: 'mine' })) as unknown as Pkg;
    expect(got.parameters).toEqual([
      { key: 'a', value: 'package' },
      { key: 'b', value: 'binding' },
      { key: 'c', value: 'binding' },
      { key: 'd', value: 'binding' },
    ]);
    expect(got.actions?.map((a) => a.name)).toEqual(['show']);
    expect((await http(s, 'GET', '/api/v1/namespaces/_/actions/mine/')).body).toMatchObject([{ name: 'show', namespace: 'guest/base' }]);

    const write = await http(s, 'PUT', '/api/v1/namespaces/_/actions/mine/other', { body: { exec: { kind: 'nodejs:20', code: echo } } });
    expect(write.status).toBe(400);
    expect(write.body).toMatchObject({ error: 'Operation not permitted on package binding.' });

    // A binding can always be deleted; the bound package keeps its action.
    expect((await http(s, 'DELETE', '/api/v1/namespaces/_/packages/mine')).status).toBe(200);
    await http(s, 'DELETE', '/api/v1/namespaces/_/packages/base?force=true');
  });

  it('binds to another namespace public package and invokes its actions; private ones are 403', async () => {
    const b = await http(s, 'PUT', '/api/v1/namespaces/_/packages/fromalice', { body: { binding: { namespace: 'alice', name: 'shared' } } });
    expect(b.status).toBe(200);
    const r = await ow.actions.invoke({ name: 'fromalice/hi', blocking: true, params: { x: 1 } });
    expect(r.response!.result).toEqual({ owner: 'alice', x: 1 });
    expect(r.namespace).toBe('guest');
    const direct = await ow.actions.invoke({ name: '/alice/shared/hi', blocking: true });
    expect(direct.response!.result).toEqual({ owner: 'alice' });
    expect((await http(s, 'GET', '/api/v1/namespaces/alice/actions/shared/')).body).toMatchObject([{ name: 'hi' }]);

    const priv = await http(s, 'POST', '/api/v1/namespaces/alice/actions/secret/act?blocking=true', { body: {} });
    expect(priv.status).toBe(403);
    expect((await http(s, 'GET', '/api/v1/namespaces/alice/actions/secret/act')).status).toBe(403);
    expect((await http(s, 'GET', '/api/v1/namespaces/alice/actions/secret/')).status).toBe(403);

    // Another namespace's listing shows only its shared packages, never its bindings.
    const listed = (await http(s, 'GET', '/api/v1/namespaces/alice/packages')).body as Pkg[];
    expect(listed.map((p) => p.name)).toEqual(['shared']);
    expect((await http(s, 'GET', '/api/v1/namespaces/alice/packages?count=true')).body).toEqual({ packages: 1 });
    await http(s, 'DELETE', '/api/v1/namespaces/_/packages/fromalice');
  });
});

describe('the system catalog', () => {
  it('is public under whisk.system and its utils run from the guest namespace', async () => {
    const pkgs = (await ow.packages.list({ namespace: 'whisk.system' } as never)) as unknown as Pkg[];
    expect(pkgs.map((p) => p.name).sort()).toEqual(['alarms', 'apimgmt', 'couchdb', 'messaging', 'utils', 'webhook']);
    const utils = (await ow.packages.get({ name: '/whisk.system/utils' })) as unknown as Pkg;
    expect(utils.publish).toBe(true);
    expect(utils.actions?.map((a) => a.name).sort()).toEqual(['cat', 'date', 'echo', 'head', 'hosturl', 'namespace', 'smash', 'sort', 'split']);
    const alarms = (await ow.packages.get({ name: '/whisk.system/alarms' })) as unknown as Pkg;
    expect(alarms.feeds?.map((a) => a.name).sort()).toEqual(['alarm', 'interval', 'once']);
    expect(alarms.parameters.map((p) => p.key).sort()).toEqual(['apihost', 'trigger_payload']);

    const echoed = await ow.actions.invoke({ name: '/whisk.system/utils/echo', blocking: true, params: { hello: 'world' } });
    expect(echoed.response!.success).toBe(true);
    expect(echoed.response!.result).toEqual({ hello: 'world' });
    const sorted = await ow.actions.invoke({ name: '/whisk.system/utils/sort', blocking: true, params: { lines: ['b', 'c', 'a'] } });
    expect(sorted.response!).toMatchObject({ success: true, result: { length: 3, lines: ['a', 'b', 'c'] } });

    const run = async (name: string, params: Record<string, unknown>): Promise<unknown> =>
      (await ow.actions.invoke({ name: `/whisk.system/utils/${name}`, blocking: true, result: true, params })) as unknown;
    expect(await run('cat', { lines: ['a', 'b'] })).toEqual({ lines: ['a', 'b'], payload: 'a\nb' });
    expect(await run('head', { lines: ['a', 'b', 'c'], num: 2 })).toEqual({ lines: ['a', 'b'] });
    expect(await run('split', { payload: 'a,b', separator: ',' })).toEqual({ lines: ['a', 'b'], payload: 'a,b' });
    expect(await run('smash', { a: 1 })).toEqual({ payload: { a: 1 } });
    expect(await run('namespace', {})).toEqual({ namespace: 'guest' });
    expect(((await run('date', {})) as { date: string }).date).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await run('hosturl', {})).toHaveProperty('url');

    // Through a binding in the guest namespace.
    await http(s, 'PUT', '/api/v1/namespaces/_/packages/myutils', { body: { binding: { namespace: 'whisk.system', name: 'utils' } } });
    expect(await ow.actions.invoke({ name: 'myutils/echo', blocking: true, result: true, params: { via: 'binding' } })).toEqual({ via: 'binding' });
    await http(s, 'DELETE', '/api/v1/namespaces/_/packages/myutils');

    // Nobody but whisk.system may change the catalog.
    expect((await http(s, 'PUT', '/api/v1/namespaces/whisk.system/actions/utils/echo?overwrite=true', { body: {} })).status).toBe(403);
    expect((await http(s, 'DELETE', '/api/v1/namespaces/whisk.system/packages/utils')).status).toBe(403);
  });
});
