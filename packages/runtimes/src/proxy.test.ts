import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { nodejsProxyPath } from './images.js';
import { crc32, makeTarGz, makeZip } from './testing/archives.js';

const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';

interface Proxy {
  port: number;
  child: ChildProcess;
  out: () => string;
  err: () => string;
  post: (path: string, body: unknown) => Promise<{ status: number; json: unknown }>;
  /** Resolves once each stream holds `n` exact sentinel lines. */
  sentinels: (n: number) => Promise<void>;
}

const running: ChildProcess[] = [];

afterEach(() => {
  for (const c of running.splice(0)) c.kill('SIGKILL');
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

const agent = new http.Agent({ keepAlive: true });

function request(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        agent,
        headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

function countSentinels(text: string): number {
  return text.split('\n').filter((l) => l === SENTINEL).length;
}

async function startProxy(env: Record<string, string> = {}): Promise<Proxy> {
  const port = await freePort();
  const child = spawn(process.execPath, [nodejsProxyPath], {
    env: { PATH: process.env['PATH'] ?? '', TMPDIR: os.tmpdir(), ...env, __OW_PROXY_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      await request(port, 'GET', '/ready-probe');
      break;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return {
    port,
    child,
    out: () => out,
    err: () => err,
    post: async (path, body) => {
      const r = await request(port, 'POST', path, body);
      return { status: r.status, json: JSON.parse(r.text) as unknown };
    },
    sentinels: async (n) => {
      const until = Date.now() + 5000;
      while (countSentinels(out) < n || countSentinels(err) < n) {
        if (Date.now() > until) throw new Error(`expected ${n} sentinels, stdout=${JSON.stringify(out)} stderr=${JSON.stringify(err)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

const init = (p: Proxy, code: string, extra: Record<string, unknown> = {}) =>
  p.post('/init', { value: { name: 'a', main: 'main', binary: false, code, ...extra } });
const run = (p: Proxy, value: unknown, extra: Record<string, unknown> = {}) => p.post('/run', { value, ...extra });

describe('nodejs action proxy', () => {
  it('test helper crc32 is the IEEE one', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('initializes once and keeps the first code', async () => {
    const p = await startProxy();
    expect(await init(p, 'function main() { return { v: 1 } }')).toEqual({ status: 200, json: { OK: true } });
    expect(await init(p, 'function main() { return { v: 2 } }')).toEqual({
      status: 403,
      json: { error: 'Cannot initialize the action more than once.' },
    });
    expect(await run(p, {})).toEqual({ status: 200, json: { v: 1 } });
  });

  it('refuses /run before /init, bad init messages and unknown routes', async () => {
    const p = await startProxy();
    expect(await run(p, {})).toEqual({ status: 403, json: { error: 'System not initialized.' } });
    expect(await p.post('/init', { value: { main: 'main' } })).toEqual({
      status: 403,
      json: { error: 'Missing main/no code to execute.' },
    });
    expect(await p.post('/init', { value: { main: 1, code: 'x' } })).toMatchObject({ status: 403 });
    expect(await p.post('/nope', {})).toEqual({ status: 500, json: { error: 'Bad request.' } });
    const bad = await request(p.port, 'POST', '/run', '{not json');
    expect(bad.status).toBe(500);
    // Still initializable after a missing-code refusal.
    expect((await init(p, 'function main() { return {} }')).status).toBe(200);
    expect((await run(p, 'a string')).status).toBe(403);
    expect((await run(p, { a: 1 })).status).toBe(200);
  });

  it('runs plain code, custom main names and module.exports', async () => {
    const p = await startProxy();
    await init(p, 'function main(p) { return { greeting: "hello " + p.name } }');
    expect(await run(p, { name: 'world' })).toEqual({ status: 200, json: { greeting: 'hello world' } });

    const q = await startProxy();
    expect((await init(q, 'function hello(p) { return { n: p.n + 1 } }', { main: 'hello' })).status).toBe(200);
    expect((await run(q, { n: 1 })).json).toEqual({ n: 2 });

    const r = await startProxy();
    expect((await init(r, 'module.exports.niam = (p) => ({ via: "module.exports" })', { main: 'niam' })).status).toBe(200);
    expect((await run(r, {})).json).toEqual({ via: 'module.exports' });

    const s = await startProxy();
    expect((await init(s, 'exports.main = async () => ({ via: "exports", sq: require("node:path").sep })')).status).toBe(200);
    expect((await run(s, {})).json).toEqual({ via: 'exports', sq: '/' });
  });

  it('fails init with 502 and prints sentinels when the code does not load', async () => {
    const p = await startProxy();
    const res = await init(p, 'function main( {');
    expect(res.status).toBe(502);
    expect((res.json as { error: string }).error).toMatch(/^Initialization has failed due to: SyntaxError/);
    await p.sentinels(1);

    const q = await startProxy();
    const notFn = await init(q, 'var main = 3');
    expect(notFn).toEqual({ status: 502, json: { error: "Initialization has failed due to: ActionEntrypoint 'main' is not a function." } });
    await q.sentinels(1);
  });

  it('loads zipped actions through package.json, index.js and file.func', async () => {
    const pkg = makeZip([
      { name: 'package.json', content: JSON.stringify({ main: 'lib/entry.js' }) },
      { name: 'lib/entry.js', content: 'const h = require("./helper"); exports.main = (p) => ({ from: "package.json", h: h(p.x) })' },
      { name: 'lib/helper.js', content: 'module.exports = (x) => x * 3', store: true },
    ]);
    const p = await startProxy();
    expect(await init(p, pkg.toString('base64'), { binary: true })).toEqual({ status: 200, json: { OK: true } });
    expect((await run(p, { x: 2 })).json).toEqual({ from: 'package.json', h: 6 });

    const idx = makeZip([{ name: 'index.js', content: 'exports.main = () => ({ from: "index.js", cwd: process.cwd() !== "" })' }]);
    const q = await startProxy();
    expect((await init(q, idx.toString('base64'), { binary: true })).status).toBe(200);
    expect((await run(q, {})).json).toEqual({ from: 'index.js', cwd: true });

    const dotted = makeZip([{ name: 'other.js', content: 'exports.go = () => ({ from: "other.go" })' }]);
    const r = await startProxy();
    expect((await init(r, dotted.toString('base64'), { binary: true, main: 'other.go' })).status).toBe(200);
    expect((await run(r, {})).json).toEqual({ from: 'other.go' });

    const neither = makeZip([{ name: 'lib/x.js', content: 'exports.main = () => ({})' }]);
    const s = await startProxy();
    expect(await init(s, neither.toString('base64'), { binary: true })).toEqual({
      status: 502,
      json: { error: 'Initialization has failed due to: Zipped actions must contain either package.json or index.js at the root.' },
    });
    await s.sentinels(1);
  });

  it('loads tar.gz actions', async () => {
    const tgz = makeTarGz([{ name: 'index.js', content: 'exports.main = (p) => ({ from: "tgz", p })' }]);
    const p = await startProxy();
    expect((await init(p, tgz.toString('base64'), { binary: true })).status).toBe(200);
    expect((await run(p, { a: 'b' })).json).toEqual({ from: 'tgz', p: { a: 'b' } });
  });

  it('passes unicode and 1 MB inputs through', async () => {
    const p = await startProxy();
    await init(p, 'function main(p) { console.log(p.s); return { echo: p.s, len: (p.big || "").length } }');
    const s = 'héllo ☃ 😀 日本語';
    expect((await run(p, { s })).json).toEqual({ echo: s, len: 0 });
    await p.sentinels(1);
    expect(p.out().split('\n')).toContain(s);
    const big = 'x'.repeat(1024 * 1024);
    expect((await run(p, { s: 'big', big })).json).toEqual({ echo: 'big', len: big.length });
  });

  it('exposes run fields as __OW_ env vars and init env as env vars', async () => {
    const p = await startProxy();
    await init(
      p,
      'function main() { const e = {}; for (const k of Object.keys(process.env)) if (k.startsWith("__OW_") || k.startsWith("MY_")) e[k] = process.env[k]; return e }',
      { env: { MY_SECRET: 's3cr3t', MY_EMPTY: '' } },
    );
    const res = await run(p, { a: 1 }, {
      namespace: 'guest',
      action_name: '/guest/pkg/a',
      action_version: '0.0.1',
      activation_id: 'abc123',
      transaction_id: 'tid',
      deadline: '1700000000000',
      api_key: 'uuid:key',
      not_a_string: 5,
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      MY_SECRET: 's3cr3t',
      MY_EMPTY: '',
      __OW_NAMESPACE: 'guest',
      __OW_ACTION_NAME: '/guest/pkg/a',
      __OW_ACTION_VERSION: '0.0.1',
      __OW_ACTIVATION_ID: 'abc123',
      __OW_TRANSACTION_ID: 'tid',
      __OW_DEADLINE: '1700000000000',
      __OW_API_KEY: 'uuid:key',
    });
    expect(res.json).not.toHaveProperty('__OW_NOT_A_STRING');
    expect(res.json).not.toHaveProperty('__OW_VALUE');
  });

  it('maps thrown errors, rejections and bad results like the OpenWhisk runtime', async () => {
    const p = await startProxy();
    await init(
      p,
      `async function main(p) {
         if (p.mode === 'reject') throw new Error('nope');
         if (p.mode === 'rejectObj') return Promise.reject({ code: 42 });
         if (p.mode === 'rejectEmpty') return Promise.reject();
         if (p.mode === 'number') return 5;
         if (p.mode === 'array') return [1, 2];
         if (p.mode === 'undef') return;
         return { ok: true };
       }`,
    );
    const rej = await run(p, { mode: 'reject' });
    expect(rej.status).toBe(200);
    expect(rej.json).toMatchObject({ error: { name: 'Error', message: 'nope' } });
    expect(await run(p, { mode: 'rejectObj' })).toEqual({ status: 200, json: { error: { code: 42 } } });
    expect(await run(p, { mode: 'rejectEmpty' })).toEqual({ status: 200, json: { error: {} } });
    expect(await run(p, { mode: 'number' })).toEqual({ status: 502, json: { error: 'The action did not return a dictionary.' } });
    expect(await run(p, { mode: 'array' })).toEqual({ status: 200, json: [1, 2] });
    expect(await run(p, { mode: 'undef' })).toEqual({ status: 200, json: {} });
    await p.sentinels(6);

    const q = await startProxy();
    await init(q, 'function main() { throw new Error("boom") }');
    expect(await run(q, {})).toEqual({ status: 502, json: { error: 'An error has occurred: Error: boom' } });
    await q.sentinels(1);
    // The reference runtime stops serving after an uncaught exception.
    expect(await run(q, {})).toEqual({ status: 403, json: { error: 'System not ready, status is stopped.' } });
  });

  it('ends every activation with one sentinel per stream after the user output', async () => {
    const p = await startProxy();
    await init(p, 'function main(p) { console.log("out " + p.i); console.error("err " + p.i); return {} }');
    for (let i = 0; i < 3; i++) {
      await run(p, { i });
      await p.sentinels(i + 1);
    }
    const outLines = p.out().split('\n').filter(Boolean);
    const errLines = p.err().split('\n').filter(Boolean);
    expect(outLines).toEqual(['out 0', SENTINEL, 'out 1', SENTINEL, 'out 2', SENTINEL]);
    expect(errLines).toEqual(['err 0', SENTINEL, 'err 1', SENTINEL, 'err 2', SENTINEL]);
  });

  it('alters sentinels printed by the action', async () => {
    const p = await startProxy();
    await init(
      p,
      `function main() {
         console.log('${SENTINEL}');
         console.error('${SENTINEL}');
         process.stdout.write('${SENTINEL.slice(0, 10)}');
         process.stdout.write('${SENTINEL.slice(10)}\\n');
         process.stdout.write(Buffer.from('${SENTINEL}\\n'));
         return {};
       }`,
    );
    await run(p, {});
    await p.sentinels(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(countSentinels(p.out())).toBe(1);
    expect(countSentinels(p.err())).toBe(1);
    expect(p.out()).toContain(`${SENTINEL} (printed by the action)`);
    expect(p.out().trimEnd().endsWith(SENTINEL)).toBe(true);
  });

  it('refuses a concurrent /run unless __OW_ALLOW_CONCURRENT=true', async () => {
    const code = 'async function main(p) { await new Promise((r) => setTimeout(r, 300)); return { i: p.i } }';
    const p = await startProxy();
    await init(p, code);
    const [a, b] = await Promise.all([run(p, { i: 1 }), new Promise((r) => setTimeout(r, 50)).then(() => run(p, { i: 2 }))]);
    expect(a).toEqual({ status: 200, json: { i: 1 } });
    expect(b).toEqual({ status: 403, json: { error: 'System not ready, status is running.' } });
    await p.sentinels(1);
    expect(countSentinels(p.out())).toBe(1);

    const q = await startProxy({ __OW_ALLOW_CONCURRENT: 'true' });
    await init(q, code);
    const both = await Promise.all([run(q, { i: 1 }), run(q, { i: 2 })]);
    expect(both).toEqual([
      { status: 200, json: { i: 1 } },
      { status: 200, json: { i: 2 } },
    ]);
  });
});
