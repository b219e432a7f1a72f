/**
 * Node.js-proxy specifics. What every runtime must do is in the conformance suite
 * (`conformance/nodejs.test.ts` runs it against this proxy); these are the reference Node.js
 * runtime's own behaviours: module.exports lookup, package.json/tar.gz archives, error shapes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { processProxy, request, type RunningProxy } from './conformance/harness.js';
import { SENTINEL } from './conformance/suite.js';
import { nodejsProxyPath } from './images.js';
import { crc32, makeTarGz, makeZip } from './testing/archives.js';

interface Proxy {
  port: number;
  out: () => string;
  err: () => string;
  post: (path: string, body: unknown) => Promise<{ status: number; json: unknown }>;
  /** Resolves once each stream holds `n` exact sentinel lines. */
  sentinels: (n: number) => Promise<void>;
}

const launch = processProxy([process.execPath, nodejsProxyPath]);
const running: RunningProxy[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

function countSentinels(text: string): number {
  return text.split('\n').filter((l) => l === SENTINEL).length;
}

async function startProxy(env: Record<string, string> = {}): Promise<Proxy> {
  const p = await launch(env);
  running.push(p);
  const text = (stream: 'stdout' | 'stderr') =>
    p
      .logs()
      .filter((l) => l.stream === stream)
      .map((l) => `${l.text}\n`)
      .join('');
  const out = () => text('stdout');
  const err = () => text('stderr');
  return {
    port: p.port,
    out,
    err,
    post: async (path, body) => {
      const r = await request(p.host, p.port, 'POST', path, typeof body === 'string' ? body : JSON.stringify(body));
      return { status: r.status, json: JSON.parse(r.text) as unknown };
    },
    sentinels: async (n) => {
      const until = Date.now() + 5000;
      while (countSentinels(out()) < n || countSentinels(err()) < n) {
        if (Date.now() > until) throw new Error(`expected ${n} sentinels, stdout=${JSON.stringify(out())} stderr=${JSON.stringify(err())}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

const init = (p: Proxy, code: string, extra: Record<string, unknown> = {}) =>
  p.post('/init', { value: { name: 'a', main: 'main', binary: false, code, ...extra } });
const run = (p: Proxy, value: unknown, extra: Record<string, unknown> = {}) => p.post('/run', { value, ...extra });

describe('nodejs action proxy specifics', () => {
  it('test helper crc32 is the IEEE one', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('refuses a non-string main', async () => {
    const p = await startProxy();
    expect(await p.post('/init', { value: { main: 1, code: 'x' } })).toMatchObject({ status: 403 });
    expect((await init(p, 'function main() { return {} }')).status).toBe(200);
  });

  it('finds main through module.exports and exports', async () => {
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

  it('alters sentinels printed by the action, also when split across writes or written as bytes', async () => {
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
});
