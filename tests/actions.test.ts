/**
 * Action CRUD, listing and every "bad input" answer, driven through the official `openwhisk` npm client
 * and plain HTTP against a real standalone.
 */
import openwhisk from 'openwhisk';
import { buildZip } from '@whirl/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startStandalone, type RunningStandalone } from './helpers/standalone.js';

let s: RunningStandalone;
let ow: ReturnType<typeof openwhisk>;
const code = 'function main(params) { return { echo: params }; }';

beforeAll(async () => {
  s = await startStandalone({ env: { WHIRL_PREWARM: 'false' } });
  ow = openwhisk({ apihost: s.apiHost, api_key: s.auth });
});
afterAll(async () => {
  expect(await s.stop()).toBe(0);
});

describe('actions through the openwhisk client', () => {
  it('creates, gets, updates, lists and deletes', async () => {
    const created = await ow.actions.create({ name: 'crud', action: code, params: { a: 1 } });
    expect(created).toMatchObject({
      namespace: 'guest',
      name: 'crud',
      version: '0.0.1',
      publish: false,
      exec: { kind: 'nodejs:20', code, binary: false },
      parameters: [{ key: 'a', value: 1 }],
      limits: { timeout: 60000, memory: 256, logs: 10, concurrency: 1 },
    });
    expect(created.annotations).toEqual([
      { key: 'provide-api-key', value: false },
      { key: 'exec', value: 'nodejs:20' },
    ]);

    await expect(ow.actions.create({ name: 'crud', action: code })).rejects.toMatchObject({ statusCode: 409 });

    const got = await ow.actions.get({ name: 'crud' });
    expect((got.exec as { code?: string }).code).toBe(code);
    const noCode = await ow.actions.get({ name: 'crud', code: false } as never);
    expect(noCode.exec).not.toHaveProperty('code');

    const updated = await ow.actions.update({ name: 'crud', action: code, params: { b: 2 }, limits: { timeout: 5000 } } as never);
    expect(updated.version).toBe('0.0.2');
    expect(updated.parameters).toEqual([{ key: 'b', value: 2 }]);
    expect(updated.limits).toMatchObject({ timeout: 5000, memory: 256 });

    // Annotations merge on update; limits merge field by field.
    const r = await http(s, 'PUT', '/api/v1/namespaces/_/actions/crud?overwrite=true', {
      body: { annotations: [{ key: 'description', value: 'd' }], limits: { memory: 128 } },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ version: '0.0.3', limits: { timeout: 5000, memory: 128 } });
    expect((r.body as { annotations: unknown[] }).annotations).toContainEqual({ key: 'description', value: 'd' });
    expect((r.body as { annotations: unknown[] }).annotations).toContainEqual({ key: 'provide-api-key', value: false });

    await ow.actions.create({ name: 'crud2', action: code });
    const list = await ow.actions.list();
    expect(list.map((a) => a.name)).toEqual(['crud2', 'crud']);
    expect(list[0]).toMatchObject({ namespace: 'guest', exec: { binary: false } });
    expect(list[0]).not.toHaveProperty('parameters');
    const count = await http(s, 'GET', '/api/v1/namespaces/_/actions?count=true');
    expect(count.body).toEqual({ actions: 2 });
    const page = await ow.actions.list({ limit: 1, skip: 1 });
    expect(page.map((a) => a.name)).toEqual(['crud']);

    const deleted = await ow.actions.delete({ name: 'crud' });
    expect(deleted).toMatchObject({ name: 'crud', version: '0.0.3' });
    await expect(ow.actions.get({ name: 'crud' })).rejects.toMatchObject({ statusCode: 404 });
    await expect(ow.actions.delete({ name: 'crud' })).rejects.toMatchObject({ statusCode: 404 });
    await ow.actions.delete({ name: 'crud2' });
  });

  it('marks base64 code as binary and resolves the default kind', async () => {
    // A real zip: archives are inflated once at create (the archive-bomb bound, core/archive.ts), so a
    // corrupt one is refused there now; other binaries pass as they are.
    const zip = buildZip([{ name: 'index.js', data: Buffer.from('function main() { return {}; }\n') }]).toString('base64');
    const r = await http(s, 'PUT', '/api/v1/namespaces/_/actions/bin', { body: { exec: { kind: 'nodejs:default', code: zip } } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ exec: { kind: 'nodejs:20', binary: true } });
    await http(s, 'DELETE', '/api/v1/namespaces/_/actions/bin');
    const other = Buffer.from([0, 1, 2, 3, 250, 251, 252, 253]).toString('base64');
    const b = await http(s, 'PUT', '/api/v1/namespaces/_/actions/bin', { body: { exec: { kind: 'nodejs:default', code: other } } });
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ exec: { binary: true } });
    await http(s, 'DELETE', '/api/v1/namespaces/_/actions/bin');
  });
});

describe('conventions on every route', () => {
  it('answers info routes without credentials', async () => {
    const api = await http(s, 'GET', '/api/v1', { auth: null });
    expect(api.status).toBe(200);
    expect(api.body).toMatchObject({ description: 'OpenWhisk API', api_version: '1.0.0', api_version_path: 'v1' });
    const ping = await http(s, 'GET', '/ping', { auth: null });
    expect(ping.text).toBe('pong');
    const root = await http(s, 'GET', '/', { auth: null });
    expect(root.body).toMatchObject({ api_paths: ['/api/v1'], runtimes: { nodejs: [{ kind: 'nodejs:20', default: true }] } });
  });

  it('echoes X-Request-ID, sets CORS and answers OPTIONS', async () => {
    const r = await http(s, 'GET', '/api/v1/namespaces', { headers: { 'x-request-id': 'tid-123' } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual(['guest']);
    expect(r.headers.get('x-request-id')).toBe('tid-123');
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    const o = await http(s, 'OPTIONS', '/api/v1/namespaces/_/actions/x', { auth: null });
    expect(o.status).toBe(200);
    expect(o.headers.get('access-control-allow-methods')).toBe('GET, DELETE, POST, PUT, HEAD');
    const gen = await http(s, 'GET', '/api/v1/namespaces/_/actions/nope');
    expect(gen.status).toBe(404);
    expect(gen.body).toEqual({ error: 'The requested resource does not exist.', code: gen.headers.get('x-request-id') });
    expect(gen.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('shows the namespace limits', async () => {
    const r = await http(s, 'GET', '/api/v1/namespaces/_/limits');
    expect(r.body).toMatchObject({
      invocationsPerMinute: 60,
      concurrentInvocations: 30,
      firesPerMinute: 60,
      maxActionMemory: 512,
      minActionMemory: 128,
      maxActionTimeout: 300000,
      minActionTimeout: 100,
      maxParameterSize: '1 MB',
    });
    expect((await http(s, 'GET', '/api/v1/namespaces/other/limits')).status).toBe(403);
  });
});

describe('bad input gets a clear 4xx and changes nothing', () => {
  const put = (name: string, body: unknown, extra: Parameters<typeof http>[3] = {}) =>
    http(s, 'PUT', `/api/v1/namespaces/_/actions/${name}`, { body, ...extra });

  it.each([
    ['malformed JSON', () => put('bad', undefined, { raw: '{"exec": ', headers: { 'content-type': 'application/json' } }), 400, /malformed/],
    ['wrong content type', () => put('bad', undefined, { raw: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, /content type/],
    ['no exec', () => put('bad', {}), 400, /^exec undefined$/],
    ['unknown kind', () => put('bad', { exec: { kind: 'cobol:1', code: 'x' } }), 400, /The specified runtime 'cobol:1' is not supported by this platform. Valid values are: .*'nodejs:20'/],
    ['illegal name', () => put('b%24d', { exec: { kind: 'nodejs:20', code: code } }), 400, /^The name of the entity contains illegal characters.$/],
    ['name over 256', () => put('a'.repeat(300), { exec: { kind: 'nodejs:20', code: code } }), 400, /^Name segement longer than allowed: 300 > 256.$/],
    ['memory over limit', () => put('bad', { exec: { kind: 'nodejs:20', code }, limits: { memory: 1024 } }), 400, /^memory size 1024 MB exceeds allowed threshold of 512 MB$/],
    ['timeout under limit', () => put('bad', { exec: { kind: 'nodejs:20', code }, limits: { timeout: 10 } }), 400, /^duration 10 milliseconds below allowed threshold of 100 milliseconds$/],
    ['logs over limit', () => put('bad', { exec: { kind: 'nodejs:20', code }, limits: { logs: 11 } }), 400, /^log size 11 MB exceeds allowed threshold of 10 MB$/],
    ['wrong field type', () => put('bad', { exec: { kind: 'nodejs:20', code }, parameters: 'x' }), 400, /'parameters'/],
    ['parameters over 1 MB', () => put('bad', { exec: { kind: 'nodejs:20', code }, parameters: [{ key: 'k', value: 'x'.repeat(1024 * 1024) }] }), 413, /^parameters larger than allowed: \d+ > 1048576 bytes.$/],
    ['another namespace', () => http(s, 'PUT', '/api/v1/namespaces/someone/actions/bad', { body: { exec: { kind: 'nodejs:20', code } } }), 403, /not authorized/],
    ['limit over 200', () => http(s, 'GET', '/api/v1/namespaces/_/actions?limit=201'), 400, /^The value '201' is not in the range of 0 to 200 for actions.$/],
    ['negative skip', () => http(s, 'GET', '/api/v1/namespaces/_/activations?skip=-1'), 400, /^The value '-1' is not greater than or equal to 0 for activations.$/],
    ['non-integer limit', () => http(s, 'GET', '/api/v1/namespaces/_/activations?limit=x'), 400, /^The value 'x' is not an integer for activations.$/],
    ['short activation id', () => http(s, 'GET', '/api/v1/namespaces/_/activations/abc'), 400, /^Activation id length is 3 but must be 32.$/],
    ['non-hex activation id', () => http(s, 'GET', `/api/v1/namespaces/_/activations/${'z'.repeat(32)}`), 400, /^The activation id is not valid.$/],
    ['docs with count', () => http(s, 'GET', '/api/v1/namespaces/_/activations?docs=true&count=true'), 400, /not permitted with 'count'/],
    ['bad activation name filter', () => http(s, 'GET', '/api/v1/namespaces/_/activations?name=a/b/c'), 400, /^Parameter may be a 'simple' name or 'package-name\/simple' name: a\/b\/c$/],
    ['bad since', () => http(s, 'GET', '/api/v1/namespaces/_/activations?since=yesterday'), 400, /epoch/],
    ['bad blocking timeout', () => http(s, 'POST', '/api/v1/namespaces/_/actions/x?blocking=true&timeout=70000'), 400, /^Timeout must be number of milliseconds up to 60000.$/],
  ] as const)('%s', async (_what, call, status, message) => {
    const r = await call();
    expect(r.status).toBe(status);
    const body = r.body as { error: string; code: string };
    expect(body.error).toMatch(message);
    expect(body.code).toBe(r.headers.get('x-request-id'));
    const list = await http(s, 'GET', '/api/v1/namespaces/_/actions');
    expect(list.body).toEqual([]);
  });

  it('refuses code over 48 MB with 413', async () => {
    const r = await put('big', { exec: { kind: 'nodejs:20', code: `/*${'x'.repeat(48 * 1024 * 1024)}*/` } });
    expect(r.status).toBe(413);
    expect((r.body as { error: string }).error).toMatch(/^exec larger than allowed: \d+ > 50331648 bytes.$/);
  });

  it('answers 401 with WWW-Authenticate for missing or wrong credentials', async () => {
    const none = await http(s, 'GET', '/api/v1/namespaces/_/actions', { auth: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Basic realm="OpenWhisk secure realm"');
    expect((none.body as { error: string }).error).toMatch(/requires authentication/);
    const [uuid] = s.auth.split(':');
    const wrong = await http(s, 'GET', '/api/v1/namespaces/_/actions', { auth: `${uuid}:${'x'.repeat(64)}` });
    expect(wrong.status).toBe(401);
    expect((wrong.body as { error: string }).error).toBe('The supplied authentication is invalid');
    const short = await http(s, 'GET', '/api/v1/namespaces/_/actions', { auth: `${uuid}:short` });
    expect(short.status).toBe(401);
  });

  it('answers 404 for unknown routes and 405 for a wrong method', async () => {
    const r = await http(s, 'GET', '/api/v2/whatever');
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ error: 'The requested resource could not be found.' });
    const m = await http(s, 'PATCH', '/api/v1/namespaces/_/actions/x', { body: {} });
    expect(m.status).toBe(405);
  });

  it('refuses an invoke payload over 1 MB before queueing it', async () => {
    await put('small', { exec: { kind: 'nodejs:20', code } });
    const r = await http(s, 'POST', '/api/v1/namespaces/_/actions/small', { body: { big: 'x'.repeat(1024 * 1024 + 10) } });
    expect(r.status).toBe(413);
    expect((r.body as { error: string }).error).toMatch(/^Request larger than allowed: \d+ > 1048576 bytes.$/);
    const acts = await http(s, 'GET', '/api/v1/namespaces/_/activations?count=true');
    expect(acts.body).toEqual({ activations: 0 });
    const arr = await http(s, 'POST', '/api/v1/namespaces/_/actions/small', { body: [1, 2] });
    expect(arr.status).toBe(400);
    await http(s, 'DELETE', '/api/v1/namespaces/_/actions/small');
  });
});
