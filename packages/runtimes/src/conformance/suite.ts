/**
 * The action-proxy conformance suite (OPENWHISK-COMPAT.md §5): what any image or proxy speaking the
 * OpenWhisk action protocol must do for Whirl's invoker to run it. Language-neutral: the caller
 * supplies code snippets in its language (`ConformanceFixtures`) and a way to start a fresh proxy.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeZip, type ArchiveFile } from '../testing/archives.js';
import { request, type LogLine, type LogStream, type RunningProxy, type StartProxy } from './harness.js';

export const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';
export const NOT_A_DICTIONARY = 'The action did not return a dictionary.';

/** Code snippets, each a complete action in the runtime's language, entry point `main` unless said. */
export interface ConformanceFixtures {
  /** Returns its parameters unchanged. */
  echo: string;
  /** An entry point named `main` below returning `{"main": <that name>}`; no function called `main`. */
  customMain: { code: string; main: string };
  /**
   * Returns `{"env": {...}, "keys": [...]}`: every environment variable whose name starts with
   * `__OW_` or `MY_`, and the sorted names of its parameters.
   */
  env: string;
  /** Prints `params.out` as a line on stdout and `params.err` as a line on stderr, returns `{}`. */
  logs: string;
  /** Fails with an exception/error whose message is `boom` (synchronously, where that differs). */
  throws: string;
  /** Languages with promises: returns a rejected promise (an application error, 200 `{error}`). */
  rejects?: string;
  /** Returns the number 42. */
  nonObject: string;
  /** Makes the proxy process exit during the run; leave out where the action cannot (executables). */
  exits?: string;
  /**
   * Prints `start <params.i>` on stdout, waits `params.ms` milliseconds without blocking other
   * activations, prints `end <params.i>`, returns `{"i": params.i}`.
   */
  slow: string;
  /** Code that fails to load (a syntax error); `binary` for runtimes whose code is an archive or executable. */
  badInit: string | { code: string; binary: boolean };
  /** Prints the sentinel line on stdout and on stderr, returns `{}`. */
  printsSentinel: string;
  /** A zip action returning `{"zipped": true, "helper": 42}` from a second file in the archive. */
  zip: { files: ArchiveFile[]; main?: string };
}

export interface ConformanceOptions {
  fixtures: ConformanceFixtures;
  /** Runs once before the tests (building images...). */
  setup?: () => Promise<void>;
  /** When set, the suite is reported as skipped with this reason. */
  skip?: string;
}

interface Reply {
  status: number;
  json: unknown;
}

class Client {
  constructor(readonly proxy: RunningProxy) {}

  async post(path: string, body: unknown): Promise<Reply> {
    const r = await request(this.proxy.host, this.proxy.port, 'POST', path, JSON.stringify(body), undefined, this.proxy.socketPath);
    let json: unknown;
    try {
      json = JSON.parse(r.text);
    } catch {
      json = r.text;
    }
    return { status: r.status, json };
  }

  init(code: string, extra: Record<string, unknown> = {}): Promise<Reply> {
    return this.post('/init', { value: { name: 'action', main: 'main', binary: false, code, ...extra } });
  }

  run(value: unknown, extra: Record<string, unknown> = {}): Promise<Reply> {
    return this.post('/run', { value, ...extra });
  }

  lines(stream: LogStream): string[] {
    return this.proxy.logs().filter((l: LogLine) => l.stream === stream).map((l) => l.text);
  }

  sentinels(stream: LogStream): number {
    return this.lines(stream).filter((l) => l === SENTINEL).length;
  }

  /** Waits until both streams hold `n` sentinel lines. */
  async waitSentinels(n: number, timeoutMs = 5000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.sentinels('stdout') < n || this.sentinels('stderr') < n) {
      if (Date.now() > until) {
        throw new Error(`expected ${n} sentinels per stream, got logs ${JSON.stringify(this.proxy.logs())}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

export function describeRuntimeConformance(name: string, startProxy: StartProxy, opts: ConformanceOptions): void {
  const fx = opts.fixtures;
  const describeOrSkip = opts.skip !== undefined ? describe.skip : describe;
  const title = opts.skip !== undefined ? `${name} (skipped: ${opts.skip})` : name;

  describeOrSkip(`action protocol conformance: ${title}`, () => {
    const started: RunningProxy[] = [];
    const start = async (env?: Record<string, string>): Promise<Client> => {
      const p = await startProxy(env);
      started.push(p);
      return new Client(p);
    };

    if (opts.setup) beforeAll(opts.setup, 120_000);
    afterEach(async () => {
      await Promise.all(started.splice(0).map((p) => p.stop()));
    });

    it('initializes once: a second /init is refused with 403 and the first code stays', async () => {
      const p = await start();
      expect((await p.init(fx.echo)).status).toBe(200);
      const again = await p.init(fx.nonObject);
      expect(again.status).toBe(403);
      expect(again.json).toEqual({ error: 'Cannot initialize the action more than once.' });
      expect(await p.run({ still: 'echo' })).toEqual({ status: 200, json: { still: 'echo' } });
    });

    it('refuses /run before /init', async () => {
      const p = await start();
      const r = await p.run({});
      expect(r.status).toBe(403);
      expect(r.json).toEqual({ error: 'System not initialized.' });
      // The refusal leaves the proxy usable.
      expect((await p.init(fx.echo)).status).toBe(200);
      expect(await p.run({ a: 1 })).toEqual({ status: 200, json: { a: 1 } });
    });

    it('refuses malformed requests and stays initializable', async () => {
      const p = await start();
      expect(await p.post('/init', { value: { main: 'main' } })).toEqual({
        status: 403,
        json: { error: 'Missing main/no code to execute.' },
      });
      expect(await p.post('/nope', {})).toEqual({ status: 500, json: { error: 'Bad request.' } });
      const bad = await request(p.proxy.host, p.proxy.port, 'POST', '/run', '{not json', undefined, p.proxy.socketPath);
      expect(bad.status).toBe(500);
      expect((await p.init(fx.echo)).status).toBe(200);
      expect((await p.run('a string')).status).toBe(403);
      expect(await p.run({ a: 1 })).toEqual({ status: 200, json: { a: 1 } });
    });

    it('runs plain code and passes params as an object', async () => {
      const p = await start();
      await p.init(fx.echo);
      const params = { s: 'str', n: 1.5, t: true, f: false, z: null, list: [1, 'two', { three: 3 }], nested: { deep: { er: [] } } };
      expect(await p.run(params)).toEqual({ status: 200, json: params });
      expect(await p.run({})).toEqual({ status: 200, json: {} });
    });

    it('runs zipped code (binary: true)', async () => {
      const p = await start();
      const zip = makeZip(fx.zip.files).toString('base64');
      const init = await p.init(zip, { binary: true, ...(fx.zip.main !== undefined ? { main: fx.zip.main } : {}) });
      expect(init).toEqual({ status: 200, json: { OK: true } });
      expect(await p.run({})).toEqual({ status: 200, json: { zipped: true, helper: 42 } });
    });

    it('calls a custom main', async () => {
      const p = await start();
      expect((await p.init(fx.customMain.code, { main: fx.customMain.main })).status).toBe(200);
      expect(await p.run({})).toEqual({ status: 200, json: { main: fx.customMain.main } });
    });

    it('passes unicode in and out, in results and logs', async () => {
      const p = await start();
      await p.init(fx.logs);
      const s = 'héllo ☃ 😀 日本語 ✓';
      expect(await p.run({ out: s, err: `e ${s}` })).toEqual({ status: 200, json: {} });
      await p.waitSentinels(1);
      expect(p.lines('stdout')).toContain(s);
      expect(p.lines('stderr')).toContain(`e ${s}`);

      const q = await start();
      await q.init(fx.echo);
      expect(await q.run({ s, [s]: s })).toEqual({ status: 200, json: { s, [s]: s } });
    });

    it('accepts a 1 MB input', async () => {
      const p = await start();
      await p.init(fx.echo);
      const big = 'x'.repeat(1024 * 1024);
      const r = await p.run({ big, tail: 'ok' });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ big, tail: 'ok' });
    });

    it('exposes container, init and run __OW_* environment, and init parameters only as env', async () => {
      const p = await start({ __OW_API_HOST: 'http://whirl.test:3233', MY_CONTAINER_VAR: 'from-container' });
      const initEnv = {
        __OW_NAMESPACE: 'guest',
        __OW_ACTION_NAME: '/guest/pkg/action',
        __OW_ACTION_VERSION: '0.0.1',
        MY_SECRET: 's3cr3t ☃',
        MY_EMPTY: '',
        MY_JSON: '{"a":1}',
      };
      expect((await p.init(fx.env, { env: initEnv })).status).toBe(200);
      const fields = {
        namespace: 'guest',
        action_name: '/guest/pkg/action',
        action_version: '0.0.2',
        activation_id: 'act-1',
        transaction_id: 'tid-1',
        deadline: '1700000000000',
        api_key: 'uuid:key',
        not_a_string: 5,
      };
      const first = await p.run({ a: 1, b: 'two' }, fields);
      expect(first.status).toBe(200);
      const body = first.json as { env: Record<string, string>; keys: string[] };
      expect(body.env).toMatchObject({
        __OW_API_HOST: 'http://whirl.test:3233',
        MY_CONTAINER_VAR: 'from-container',
        MY_SECRET: 's3cr3t ☃',
        MY_EMPTY: '',
        MY_JSON: '{"a":1}',
        __OW_NAMESPACE: 'guest',
        __OW_ACTION_NAME: '/guest/pkg/action',
        __OW_ACTION_VERSION: '0.0.2',
        __OW_ACTIVATION_ID: 'act-1',
        __OW_TRANSACTION_ID: 'tid-1',
        __OW_DEADLINE: '1700000000000',
        __OW_API_KEY: 'uuid:key',
      });
      expect(body.env).not.toHaveProperty('__OW_NOT_A_STRING');
      expect(body.env).not.toHaveProperty('__OW_VALUE');
      // Init parameters are environment only, never parameters.
      expect(body.keys).toEqual(['a', 'b']);

      const second = await p.run({}, { ...fields, activation_id: 'act-2', transaction_id: 'tid-2' });
      const env2 = (second.json as { env: Record<string, string> }).env;
      expect(env2).toMatchObject({ __OW_ACTIVATION_ID: 'act-2', __OW_TRANSACTION_ID: 'tid-2', MY_SECRET: 's3cr3t ☃' });
      expect((second.json as { keys: string[] }).keys).toEqual([]);
    });

    it('reports a thrown error as 502 with an error message, followed by sentinels', async () => {
      const p = await start();
      await p.init(fx.throws);
      const r = await p.run({});
      expect(r.status).toBe(502);
      expect(r.json).toEqual({ error: expect.stringContaining('boom') as unknown });
      await p.waitSentinels(1);
    });

    it.skipIf(fx.rejects === undefined)('reports a rejected promise as an application error (200 with error)', async () => {
      const p = await start();
      await p.init(fx.rejects ?? '');
      const r = await p.run({});
      expect(r.status).toBe(200);
      expect(r.json).toHaveProperty('error');
      await p.waitSentinels(1);
    });

    it('refuses a non-object result with 502', async () => {
      const p = await start();
      await p.init(fx.nonObject);
      expect(await p.run({})).toEqual({ status: 502, json: { error: NOT_A_DICTIONARY } });
      await p.waitSentinels(1);
    });

    it.skipIf(fx.exits === undefined)('breaks the connection when the process exits mid-run', async () => {
      const p = await start();
      await p.init(fx.exits ?? '');
      await expect(p.run({})).rejects.toThrow();
    });

    it('fails init with 502 on code that does not load, and prints sentinels', async () => {
      const p = await start();
      const bad = typeof fx.badInit === 'string' ? { code: fx.badInit, binary: false } : fx.badInit;
      const r = await p.init(bad.code, { binary: bad.binary });
      expect(r.status).toBe(502);
      expect(r.json).toEqual({ error: expect.any(String) as unknown });
      await p.waitSentinels(1);
    });

    it('ends every activation with exactly one sentinel per stream, after its own output', async () => {
      const p = await start();
      await p.init(fx.logs);
      for (let i = 0; i < 3; i++) {
        expect((await p.run({ out: `out ${i}`, err: `err ${i}` })).status).toBe(200);
        await p.waitSentinels(i + 1);
      }
      // Nothing else may appear: a successful activation's logs are exactly what the action printed.
      const nonEmpty = (lines: string[]) => lines.filter((l) => l !== '');
      expect(nonEmpty(p.lines('stdout'))).toEqual(['out 0', SENTINEL, 'out 1', SENTINEL, 'out 2', SENTINEL]);
      expect(nonEmpty(p.lines('stderr'))).toEqual(['err 0', SENTINEL, 'err 1', SENTINEL, 'err 2', SENTINEL]);
    });

    it('alters sentinel lines printed by the action', async () => {
      const p = await start();
      await p.init(fx.printsSentinel);
      expect((await p.run({})).status).toBe(200);
      await p.waitSentinels(1);
      await new Promise((r) => setTimeout(r, 100));
      expect(p.sentinels('stdout')).toBe(1);
      expect(p.sentinels('stderr')).toBe(1);
      expect(p.lines('stdout')).toContain(`${SENTINEL} (printed by the action)`);
      expect(p.lines('stderr')).toContain(`${SENTINEL} (printed by the action)`);
      expect(p.lines('stdout').at(-1)).toBe(SENTINEL);
    });

    it('refuses a concurrent /run without __OW_ALLOW_CONCURRENT, and no sentinel cuts the running one short', async () => {
      const p = await start();
      await p.init(fx.slow);
      const first = p.run({ i: 1, ms: 500 });
      await new Promise((r) => setTimeout(r, 150));
      const second = await p.run({ i: 2, ms: 0 });
      expect(second.status).toBe(403);
      expect(second.json).toEqual({ error: 'System not ready, status is running.' });
      expect(await first).toEqual({ status: 200, json: { i: 1 } });
      await p.waitSentinels(1);
      await new Promise((r) => setTimeout(r, 100));
      expect(p.sentinels('stdout')).toBe(1);
      expect(p.sentinels('stderr')).toBe(1);
      expect(p.lines('stdout').filter((l) => /^(start|end) /.test(l) || l === SENTINEL)).toEqual(['start 1', 'end 1', SENTINEL]);
    });

    it('serves concurrent runs with __OW_ALLOW_CONCURRENT=true, each ending in its own sentinels', async () => {
      const p = await start({ __OW_ALLOW_CONCURRENT: 'true' });
      await p.init(fx.slow);
      const a = p.run({ i: 1, ms: 300 });
      await new Promise((r) => setTimeout(r, 100));
      const b = p.run({ i: 2, ms: 600 });
      expect(await Promise.all([a, b])).toEqual([
        { status: 200, json: { i: 1 } },
        { status: 200, json: { i: 2 } },
      ]);
      await p.waitSentinels(2);
      const out = p.lines('stdout').filter((l) => /^(start|end) /.test(l) || l === SENTINEL);
      const firstSentinel = out.indexOf(SENTINEL);
      const secondSentinel = out.lastIndexOf(SENTINEL);
      expect(out.filter((l) => l === SENTINEL)).toHaveLength(2);
      // Activation 1 finished first: all of its output precedes the first sentinel; activation 2's
      // end comes after it and before the second, which closes the stream.
      expect(out.indexOf('start 1')).toBeLessThan(firstSentinel);
      expect(out.indexOf('end 1')).toBeLessThan(firstSentinel);
      expect(out.indexOf('start 2')).toBeLessThan(secondSentinel);
      expect(out.indexOf('end 2')).toBeGreaterThan(firstSentinel);
      expect(out.indexOf('end 2')).toBeLessThan(secondSentinel);
      expect(secondSentinel).toBe(out.length - 1);
    });
  });
}
