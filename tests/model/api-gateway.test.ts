/**
 * The built-in API gateway against a real standalone: routes managed through the official openwhisk
 * npm client (`routes.*`, which calls the /whisk.system/apimgmt web actions) and plain HTTP, then
 * called over HTTP at /api/{namespace}/{basepath}/{relpath}: parameters, path parameters, every
 * response type, CORS, API keys, the rate limit, swagger import, and the bad input of each step.
 */
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startStandalone, type RunningStandalone } from '../helpers/standalone.js';

let s: RunningStandalone;
let ow: ReturnType<typeof openwhisk>;
const put = (name: string, code: string, web: boolean) =>
  http(s, 'PUT', `/api/v1/namespaces/_/actions/${name}?overwrite=true`, {
    body: {
      exec: { kind: 'nodejs:20', code },
      annotations: web ? [{ key: 'web-export', value: true }, { key: 'raw-http', value: false }, { key: 'final', value: true }] : [],
    },
  });
const mgmt = (method: string, action: string, query: string, body?: unknown, auth?: string | null) =>
  http(s, method, `/api/v1/web/whisk.system/apimgmt/${action}.http${query}`, { ...(body !== undefined ? { body } : {}), ...(auth !== undefined ? { auth } : {}) });
const call = (path: string, opts: Parameters<typeof http>[3] & { method?: string } = {}) =>
  http(s, opts.method ?? 'GET', `/api/guest${path}`, { auth: null, ...opts });

interface Created {
  gwApiUrl: string;
  apidoc: { basePath: string; paths: Record<string, Record<string, { 'x-openwhisk': { action: string; namespace: string; url: string } }>> };
}

const route = (action: string, basepath: string, relpath: string, operation: string, responsetype?: string) =>
  ow.routes.create({ action, basepath, relpath, operation, ...(responsetype ? { responsetype } : {}) } as never) as unknown as Promise<Created>;

// The client has routes.get; its type declarations leave it out.
const routesGet = (basepath: string): Promise<unknown> => (ow.routes as unknown as { get(o: { basepath: string }): Promise<unknown> }).get({ basepath });

function swagger(paths: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { swagger: '2.0', info: { title: 'Imported', version: '1.0.0' }, basePath: '/imported', paths, ...extra };
}
const op = (action: string, ext = 'json', more: Record<string, unknown> = {}) => ({
  operationId: `op${action}`,
  'x-openwhisk': { namespace: '_', package: '', action, url: `http://127.0.0.1/api/v1/web/_/default/${action}.${ext}` },
  responses: { default: { description: 'Default response' } },
  ...more,
});

beforeAll(async () => {
  s = await startStandalone({ env: { WHIRL_CONTAINERS: 'process', WHIRL_PREWARM: 'false' } });
  ow = openwhisk({ apihost: s.apiHost, api_key: s.auth });
  await put('echo', 'function main(p) { return p; }', true);
  await put('page', 'function main(p) { return { body: "<b>" + (p.name || "page") + "</b>" }; }', true);
  await put('raw', 'function main(p) { return { statusCode: 201, headers: { "x-route": "yes", "content-type": "application/json" }, body: { path: p.__ow_path, method: p.__ow_method } }; }', true);
  await put('plain', 'function main() { return {}; }', false);
});
afterAll(async () => {
  expect(await s.stop()).toBe(0);
});

describe('the openwhisk npm client', () => {
  it('runs the official routes integration test: create, list, get, delete', async () => {
    await ow.actions.create({ name: 'routeAction', action: '' });
    await ow.routes.create({ action: 'routeAction', basepath: '/testing', relpath: '/foo/bar', operation: 'POST' });
    const results = (await ow.routes.list({ basepath: '/testing' })) as unknown as { apis: { value: Created }[] };
    expect(results.apis).toHaveLength(1);
    const apidoc = results.apis[0]!.value.apidoc;
    expect(apidoc.basePath).toBe('/testing');
    expect(apidoc.paths['/foo/bar']!.post!['x-openwhisk'].action).toBe('routeAction');
    const got = (await routesGet('/testing')) as unknown as { apis: unknown[] };
    expect(got.apis).toHaveLength(1);
    await ow.routes.delete({ basepath: '/testing' });
    await ow.actions.delete({ name: 'routeAction' });
    expect(((await ow.routes.list()) as unknown as { apis: unknown[] }).apis).toEqual([]);
  });

  it('creates a route whose URL calls the action with query, body, method and headers', async () => {
    const c = await route('echo', '/hello', '/world', 'POST');
    expect(c.gwApiUrl).toBe(`${s.apiHost}/api/guest/hello`);
    expect(c.apidoc.paths['/world']!.post!['x-openwhisk']).toMatchObject({ namespace: 'guest', action: 'echo', url: `${s.apiHost}/api/v1/web/guest/default/echo.json` });
    const r = await http(s, 'POST', `${new URL(c.gwApiUrl).pathname}/world?name=you`, { auth: null, body: { b: 2 }, headers: { 'x-custom': 'yes' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.body).toMatchObject({ name: 'you', b: 2, __ow_method: 'post', __ow_path: '' });
    expect((r.body as { __ow_headers: Record<string, string> }).__ow_headers).toMatchObject({ 'x-custom': 'yes' });
    // Only the verbs the API defines are served.
    const wrong = await call('/hello/world');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect((wrong.body as { error: string }).error).toContain('serves POST, not GET');
  });

  it('answers a route of the default base path / and a second verb on the same path', async () => {
    await route('echo', '/', '/top/level', 'GET');
    await route('page', '/', '/top/level', 'PUT', 'html');
    expect((await call('/top/level?x=1')).body).toMatchObject({ x: '1', __ow_method: 'get' });
    const h = await call('/top/level', { method: 'PUT' });
    expect(h.headers.get('content-type')).toMatch(/^text\/html/);
    expect(h.text).toBe('<b>page</b>');
  });

  it('serves every response type', async () => {
    await put('typed', 'function main(p) { return { body: "<svg>" + (p.t || "") + "</svg>", text: "t" }; }', true);
    for (const [type, ct] of [['html', 'text/html'], ['text', 'text/plain'], ['svg', 'image/svg+xml'], ['json', 'application/json']] as const) {
      await route('typed', '/types', `/${type}`, 'GET', type);
      const r = await call(`/types/${type}?t=${type}`);
      expect(r.status, r.text).toBe(200);
      expect(r.headers.get('content-type')?.split(';')[0]).toBe(ct);
      if (type !== 'json') expect(r.text).toBe(`<svg>${type}</svg>`);
      else expect(r.body).toMatchObject({ body: '<svg>json</svg>' });
    }
    await route('raw', '/types', '/http', 'GET', 'http');
    const h = await call('/types/http');
    expect(h.status).toBe(201);
    expect(h.headers.get('x-route')).toBe('yes');
    expect(h.body).toEqual({ path: '/types/http', method: 'get' });
  });

  it('matches path parameters, literal paths first, and passes the whole path in __ow_path', async () => {
    await route('raw', '/club', '/books/{isbn}', 'GET', 'http');
    await route('echo', '/club', '/books/new', 'GET');
    const r = await call('/club/books/978-0596517748');
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ path: '/club/books/978-0596517748', method: 'get' });
    expect((await call('/club/books/new')).body).toMatchObject({ __ow_method: 'get' });
    expect((await call('/club/books')).status).toBe(404);
    // Path parameters need the http response type, as in OpenWhisk.
    await expect(route('echo', '/club', '/authors/{id}', 'GET', 'json')).rejects.toMatchObject({ statusCode: 400 });
  });

  it('answers CORS preflights and adds CORS headers to responses', async () => {
    const pre = await call('/hello/world', { method: 'OPTIONS', headers: { 'access-control-request-headers': 'x-one' } });
    expect(pre.status).toBe(200);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
    expect(pre.headers.get('access-control-allow-headers')).toBe('x-one');
    const r = await call('/hello/world', { method: 'POST', body: {} });
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('updates a duplicate route in place instead of adding a second one', async () => {
    await route('echo', '/dup', '/same', 'GET');
    await route('page', '/dup', '/same', 'GET', 'html');
    const list = (await routesGet('/dup')) as unknown as { apis: { value: Created }[] };
    expect(Object.keys(list.apis[0]!.value.apidoc.paths)).toEqual(['/same']);
    expect(list.apis[0]!.value.apidoc.paths['/same']!.get!['x-openwhisk'].action).toBe('page');
    expect((await call('/dup/same')).text).toBe('<b>page</b>');
  });

  it('deletes one operation, one path, then the whole API', async () => {
    await route('echo', '/del', '/a', 'GET');
    await route('echo', '/del', '/a', 'POST');
    await route('echo', '/del', '/b', 'GET');
    await ow.routes.delete({ basepath: '/del', relpath: '/a', operation: 'GET' });
    expect((await call('/del/a')).status).toBe(405);
    expect((await call('/del/a', { method: 'POST', body: {} })).status).toBe(200);
    await ow.routes.delete({ basepath: '/del', relpath: '/a' });
    expect((await call('/del/a', { method: 'POST', body: {} })).status).toBe(404);
    await ow.routes.delete({ basepath: '/del' });
    expect((await call('/del/b')).status).toBe(404);
    await expect(ow.routes.delete({ basepath: '/del' })).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe('swagger import', () => {
  it('imports a whole API with an API key and a rate limit', async () => {
    const doc = swagger(
      { '/keyed': { get: op('echo') }, '/items/{id}': { parameters: [{ name: 'id', in: 'path', required: true, type: 'string' }], get: op('raw', 'http') } },
      {
        securityDefinitions: { key: { type: 'apiKey', in: 'header', name: 'X-Api-Key', 'x-whirl-api-keys': ['k-1', 'k-2'] } },
        security: [{ key: [] }],
        'x-openwhisk-rate-limit': { rate: 3, unit: 'hour' },
      },
    );
    const c = (await ow.routes.create({ swagger: doc } as never)) as unknown as Created;
    expect(c.gwApiUrl).toBe(`${s.apiHost}/api/guest/imported`);
    expect(c.apidoc.paths['/keyed']!.get!['x-openwhisk'].namespace).toBe('guest');
    const none = await call('/imported/keyed');
    expect(none.status).toBe(401);
    expect((none.body as { error: string }).error).toBe("This API requires an API key in the header 'X-Api-Key'.");
    expect((await call('/imported/keyed', { headers: { 'x-api-key': 'wrong' } })).status).toBe(401);
    expect((await call('/imported/keyed', { headers: { 'x-api-key': 'k-1' } })).status).toBe(200);
    expect((await call('/imported/items/7', { headers: { 'x-api-key': 'k-2' } })).body).toEqual({ path: '/imported/items/7', method: 'get' });
    expect((await call('/imported/keyed', { headers: { 'x-api-key': 'k-1' } })).status).toBe(200);
    const limited = await call('/imported/keyed', { headers: { 'x-api-key': 'k-1' } });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((limited.body as { error: string }).error).toContain('this API allows 3 calls');
  });

  it('turns CORS off when the swagger says so', async () => {
    const doc = { ...swagger({ '/x': { get: op('echo') } }), basePath: '/nocors', 'x-ibm-configuration': { cors: { enabled: false } } };
    await ow.routes.create({ swagger: doc } as never);
    const r = await call('/nocors/x');
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
  });

  it.each([
    ['no paths', { swagger: '2.0', info: { title: 't' }, basePath: '/bad' }, 'swagger is missing the paths field.'],
    ['no x-openwhisk', swagger({ '/x': { get: { responses: {} } } }), "paths['/x'].get['x-openwhisk'] is missing"],
    ['an unknown verb', swagger({ '/x': { fetch: op('echo') } }), "paths['/x'] has the operation 'fetch'"],
    ['a bad response type', swagger({ '/x': { get: op('echo', 'xml') } }), "url ends in '.xml'"],
    ['an undeclared path parameter', swagger({ '/x/{id}': { get: op('raw', 'http') } }), "The parameter 'id' defined in path '/x/{id}' does not match"],
    ['a bad rate limit', swagger({ '/x': { get: op('echo') } }, { 'x-openwhisk-rate-limit': { rate: 0 } }), 'x-openwhisk-rate-limit.rate must be a positive integer'],
    ['a number as info.version (YAML: version: 1.0)', { ...swagger({ '/x': { get: op('echo') } }), info: { title: 't', version: 1 } }, 'info.version must be a string, not the number 1'],
    ['no operation at all', swagger({}), 'The swagger has no operation'],
    ['a path with no operation', swagger({ '/x': {} }), 'The swagger has no operation'],
    ['an API key with no keys', swagger({ '/x': { get: op('echo') } }, { securityDefinitions: { k: { type: 'apiKey', in: 'header', name: 'k' } }, security: [{ k: [] }] }), 'x-whirl-api-keys'],
  ])('refuses a swagger with %s (400, nothing stored)', async (_what, doc, message) => {
    const r = await mgmt('POST', 'createApi', '', { apidoc: { namespace: '_', swagger: { ...doc, basePath: '/refused' } } });
    expect(r.status).toBe(400);
    expect((r.body as { error: string }).error).toContain(message);
    const list = await mgmt('GET', 'getApi', '?basepath=/refused');
    expect(list.body).toEqual({ apis: [] });
  });

  it('refuses a swagger that names a missing action (404, nothing stored)', async () => {
    const r = await mgmt('POST', 'createApi', '', { apidoc: { namespace: '_', swagger: { ...swagger({ '/x': { get: op('missing') } }), basePath: '/refused' } } });
    expect(r.status).toBe(404);
    expect((r.body as { error: string }).error).toBe("Unable to get action '/guest/missing': The requested resource does not exist.");
    expect((await mgmt('GET', 'getApi', '?basepath=/refused')).body).toEqual({ apis: [] });
  });

  it('refuses a swagger that is not JSON', async () => {
    const r = await mgmt('POST', 'createApi', '', { apidoc: { namespace: '_', swagger: '{not json' } });
    expect(r.status).toBe(400);
    expect((r.body as { error: string }).error).toBe('swagger field cannot be parsed. Ensure it is valid JSON.');
  });
});

describe('bad input', () => {
  it('needs credentials to manage routes', async () => {
    const r = await mgmt('GET', 'getApi', '', undefined, null);
    expect(r.status).toBe(401);
  });

  it('refuses a route to an unknown action with 404', async () => {
    await expect(route('nope', '/x', '/y', 'GET')).rejects.toMatchObject({ statusCode: 404, message: expect.stringContaining("Unable to get action '/guest/nope': The requested resource does not exist.") });
  });

  it('refuses a bad verb and a bad response type', async () => {
    const base = { namespace: '_', gatewayBasePath: '/v', gatewayPath: '/w', action: { name: 'echo', namespace: '_', backendMethod: 'GET', backendUrl: 'x', authkey: s.auth } };
    const verb = await mgmt('POST', 'createApi', '', { apidoc: { ...base, gatewayMethod: 'FETCH' } });
    expect(verb.status).toBe(400);
    expect((verb.body as { error: string }).error).toContain("'FETCH' is not a valid API verb.");
    const type = await mgmt('POST', 'createApi', '?responsetype=xml', { apidoc: { ...base, gatewayMethod: 'GET' } });
    expect(type.status).toBe(400);
    expect((type.body as { error: string }).error).toContain("The response type 'xml' is not valid.");
    const missing = await mgmt('POST', 'createApi', '', { apidoc: { namespace: '_', gatewayPath: '/w' } });
    expect((missing.body as { error: string }).error).toBe('apidoc is missing the gatewayBasePath field');
  });

  it('answers 404 at call time when the action was deleted or is not a web action', async () => {
    await put('gone', 'function main() { return {}; }', true);
    await route('gone', '/later', '/gone', 'GET');
    await route('plain', '/later', '/plain', 'GET');
    expect((await call('/later/gone')).status).toBe(200);
    await ow.actions.delete({ name: 'gone' });
    const r = await call('/later/gone');
    expect(r.status).toBe(404);
    expect((r.body as { error: string }).error).toBe('The action /guest/gone that this route calls does not exist.');
    const p = await call('/later/plain');
    expect(p.status).toBe(404);
    expect((p.body as { error: string }).error).toContain("Action '/guest/plain' is not a web action.");
  });

  it('answers 404 for an unknown API and leaves /api/v1 alone', async () => {
    expect((await call('/nothing/here')).status).toBe(404);
    expect((await http(s, 'GET', '/api/nobody/x', { auth: null })).status).toBe(404);
    const v1 = await http(s, 'PATCH', '/api/v1/namespaces/_/actions/echo');
    expect(v1.status).toBe(405);
    expect((await http(s, 'GET', '/api/v1')).status).toBe(200);
  });
});
