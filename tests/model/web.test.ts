/**
 * Web actions end to end over plain HTTP against a real standalone: every extension, every method,
 * raw-http, binary bodies, final and reserved parameters, require-whisk-auth, CORS and custom options.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startStandalone, type RunningStandalone } from '../helpers/standalone.js';

let s: RunningStandalone;
const web = (path: string, opts: Parameters<typeof http>[3] = {}) => http(s, opts.raw !== undefined || opts.body !== undefined ? 'POST' : 'GET', `/api/v1/web/guest/${path}`, { auth: null, ...opts });
const put = (name: string, code: string, annotations: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  http(s, 'PUT', `/api/v1/namespaces/_/actions/${name}?overwrite=true`, {
    body: { exec: { kind: 'nodejs:20', code }, annotations: Object.entries(annotations).map(([key, value]) => ({ key, value })), ...extra },
  });
const webTrue = { 'web-export': true, 'raw-http': false, final: true };

beforeAll(async () => {
  s = await startStandalone({ env: { WHIRL_CONTAINERS: 'process', WHIRL_PREWARM: 'false' } });
  await put('echo', 'function main(p) { return p; }', webTrue, { parameters: [{ key: 'fixed', value: 'f' }] });
  await put('page', 'function main(p) { return { body: "<h1>hi " + (p.name || "") + "</h1>" }; }', webTrue);
  await put('http', 'function main(p) { return p.reply; }', { 'web-export': true });
  await put('raw', 'function main(p) { return p; }', { 'web-export': true, 'raw-http': true });
  await put('private', 'function main() { return { body: "no" }; }', {});
});
afterAll(async () => {
  expect(await s.stop()).toBe(0);
});

describe('web actions', () => {
  it('passes query, body, method, headers and path to the action (.json)', async () => {
    const r = await web('default/echo.json/extra/path?q=1', { body: { b: 2 }, headers: { 'x-custom': 'yes' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.headers.get('x-openwhisk-activation-id')).toMatch(/^[0-9a-f]{32}$/);
    const p = r.body as Record<string, unknown>;
    expect(p).toMatchObject({ q: '1', b: 2, fixed: 'f', __ow_method: 'post', __ow_path: '/extra/path' });
    expect(p.__ow_headers).toMatchObject({ 'x-custom': 'yes' });
    expect(p).not.toHaveProperty('__ow_user');
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const m = await http(s, method, '/api/v1/web/guest/default/echo.json', { auth: null });
      expect((m.body as { __ow_method: string }).__ow_method).toBe(method.toLowerCase());
    }
  });

  it('sets __ow_user when valid credentials are sent', async () => {
    const r = await http(s, 'GET', '/api/v1/web/guest/default/echo.json');
    expect((r.body as { __ow_user: string }).__ow_user).toBe('guest');
  });

  it('projects .html, .text, .svg and refuses the wrong shape', async () => {
    const h = await web('default/page.html?name=you');
    expect(h.status).toBe(200);
    expect(h.headers.get('content-type')).toMatch(/^text\/html/);
    expect(h.text).toBe('<h1>hi you</h1>');
    const t = await web('default/page.text');
    expect(t.headers.get('content-type')).toMatch(/^text\/plain/);
    const svg = await web('default/page.svg');
    expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    await put('num', 'function main() { return { answer: 42 }; }', webTrue);
    const bad = await web('default/num.html');
    expect(bad.status).toBe(400);
    expect((bad.body as { error: string }).error).toBe("Response is not valid 'text/html'.");
  });

  it('lets a .http action choose status, headers (repeated) and body', async () => {
    const r = await web('default/http?x=1', {
      body: { reply: { statusCode: '201', headers: { 'Set-Cookie': ['a=1', 'b=2'], 'X-N': 7 }, body: { created: true } } },
    });
    expect(r.status).toBe(201);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.headers.get('set-cookie')).toBe('a=1, b=2');
    expect(r.headers.get('x-n')).toBe('7');
    expect(r.body).toEqual({ created: true });

    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]);
    const bin = await web('default/http', { body: { reply: { headers: { 'content-type': 'image/png' }, body: png.toString('base64') } } });
    expect(bin.status).toBe(200);
    const res = await fetch(`${s.apiHost}/api/v1/web/guest/default/http`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reply: { headers: { 'content-type': 'image/png' }, body: png.toString('base64') } }),
    });
    expect(Buffer.from(await res.arrayBuffer())).toEqual(png);

    const empty = await web('default/http', { body: { reply: {} } });
    expect(empty.status).toBe(204);
    const invalid = await web('default/http', { body: { reply: { statusCode: 'abc' } } });
    expect(invalid.status).toBe(400);
    expect((invalid.body as { error: string }).error).toBe("Response is not valid 'message/http'.");
  });

  it('gives raw-http actions the raw query and body (base64 for JSON and binary)', async () => {
    const j = await web('default/raw.json?a=1&b=2', { body: { x: 1 } });
    const p = j.body as { __ow_query: string; __ow_body: string };
    expect(p.__ow_query).toBe('a=1&b=2');
    expect(Buffer.from(p.__ow_body, 'base64').toString()).toBe('{"x":1}');
    const t = await web('default/raw.json', { raw: 'plain text', headers: { 'content-type': 'text/plain' } });
    expect((t.body as { __ow_body: string }).__ow_body).toBe('plain text');
    const b = await web('default/raw.json', { raw: Buffer.from([1, 2, 3]), headers: { 'content-type': 'application/octet-stream' } });
    expect((b.body as { __ow_body: string }).__ow_body).toBe(Buffer.from([1, 2, 3]).toString('base64'));
  });

  it('puts non-object bodies in __ow_body', async () => {
    const arr = await web('default/echo.json', { raw: '[1,2]', headers: { 'content-type': 'application/json' } });
    expect((arr.body as { __ow_body: string }).__ow_body).toBe('[1,2]');
    const bin = await web('default/echo.json', { raw: Buffer.from([9, 8]), headers: { 'content-type': 'application/octet-stream' } });
    expect((bin.body as { __ow_body: string }).__ow_body).toBe(Buffer.from([9, 8]).toString('base64'));
    const form = await web('default/echo.json', { raw: 'k=v&w=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.body).toMatchObject({ k: 'v', w: '1' });
  });

  it('refuses reserved and final parameters', async () => {
    for (const path of ['default/echo.json?__ow_method=get', 'default/echo.json?fixed=override']) {
      const r = await web(path);
      expect(r.status).toBe(400);
      expect((r.body as { error: string }).error).toBe('Request defines parameters that are not allowed (e.g., reserved properties).');
    }
  });

  it('projects an application error and hides developer errors', async () => {
    await put('apperr', 'function main() { return { error: { statusCode: 418, body: "teapot" } }; }', { 'web-export': true });
    const a = await web('default/apperr');
    expect(a.status).toBe(418);
    expect(a.text).toBe('teapot');
    await put('crash', 'function main() { throw new Error("x"); }', { 'web-export': true });
    const c = await web('default/crash.json');
    expect(c.status).toBe(400);
    expect((c.body as { error: string }).error).toBe('There was an error processing your request.');
  });

  it('hides actions that are not web-exported, and needs the literal namespace', async () => {
    expect((await web('default/private')).status).toBe(404);
    expect((await http(s, 'GET', '/api/v1/web/_/default/echo.json', { auth: null })).status).toBe(404);
    expect((await web('default/missing.json')).status).toBe(404);
  });

  it('enforces require-whisk-auth: credentials or a secret header', async () => {
    await put('secure', 'function main() { return { ok: true }; }', { 'web-export': true, 'require-whisk-auth': true });
    expect((await web('default/secure.json')).status).toBe(401);
    expect((await http(s, 'GET', '/api/v1/web/guest/default/secure.json')).status).toBe(200);
    await put('secret', 'function main() { return { ok: true }; }', { 'web-export': true, 'require-whisk-auth': 1234 });
    expect((await web('default/secret.json')).status).toBe(401);
    expect((await web('default/secret.json', { headers: { 'x-require-whisk-auth': '4321' } })).status).toBe(401);
    expect((await web('default/secret.json', { headers: { 'x-require-whisk-auth': '1234' } })).status).toBe(200);
  });

  it('answers CORS preflight itself unless the action handles OPTIONS', async () => {
    const o = await http(s, 'OPTIONS', '/api/v1/web/guest/default/echo.json', { auth: null, headers: { 'access-control-request-headers': 'X-Foo' } });
    expect(o.status).toBe(200);
    expect(o.headers.get('access-control-allow-origin')).toBe('*');
    expect(o.headers.get('access-control-allow-methods')).toBe('OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH');
    expect(o.headers.get('access-control-allow-headers')).toBe('X-Foo');
    expect((await web('default/echo.json')).headers.get('access-control-allow-origin')).toBe('*');

    await put('opts', 'function main(p) { return { statusCode: 200, headers: { "x-handled": p.__ow_method }, body: "" }; }', {
      'web-export': true,
      'web-custom-options': true,
    });
    const custom = await http(s, 'OPTIONS', '/api/v1/web/guest/default/opts', { auth: null });
    expect(custom.headers.get('x-handled')).toBe('options');
    expect(custom.headers.get('access-control-allow-origin')).toBeNull();
  });
});
