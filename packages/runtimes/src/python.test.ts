/**
 * Python-proxy specifics beyond the conformance suite (`conformance/python.test.ts`): OpenWhisk's
 * python runtime conventions for zips (`__main__.py`, `virtualenv/`) and results.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { processProxy, request, type RunningProxy } from './conformance/harness.js';
import { NOT_A_DICTIONARY, SENTINEL } from './conformance/suite.js';
import { localPythonCommand, pythonProxyPath } from './images.js';
import { makeZip } from './testing/archives.js';

const launch = processProxy([localPythonCommand(), pythonProxyPath]);
const running: RunningProxy[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

async function post(p: RunningProxy, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const r = await request(p.host, p.port, 'POST', path, JSON.stringify(body));
  return { status: r.status, json: JSON.parse(r.text) as unknown };
}

async function started(code: string, extra: Record<string, unknown> = {}): Promise<{ p: RunningProxy; init: { status: number; json: unknown } }> {
  const p = await launch();
  running.push(p);
  const init = await post(p, '/init', { value: { name: 'a', main: 'main', binary: false, code, ...extra } });
  return { p, init };
}

const zip = (files: { name: string; content: string }[]) => makeZip(files).toString('base64');

describe('python action proxy specifics', () => {
  it('adds a zipped virtualenv/ site-packages to sys.path', async () => {
    const code = zip([
      { name: '__main__.py', content: 'import greeter\n\ndef main(args):\n    return {"greeting": greeter.greet(args["name"])}\n' },
      { name: 'virtualenv/bin/activate_this.py', content: '' },
      { name: 'virtualenv/lib/python3.11/site-packages/greeter/__init__.py', content: 'def greet(n):\n    return "hello " + n\n' },
    ]);
    const { p, init } = await started(code, { binary: true });
    expect(init).toEqual({ status: 200, json: { OK: true } });
    expect(await post(p, '/run', { value: { name: 'venv' } })).toEqual({ status: 200, json: { greeting: 'hello venv' } });
  });

  it('selects main in a zip and refuses zips without __main__.py', async () => {
    const { p, init } = await started(zip([{ name: '__main__.py', content: 'def other(args):\n    return {"via": "other"}\n' }]), {
      binary: true,
      main: 'other',
    });
    expect(init.status).toBe(200);
    expect((await post(p, '/run', { value: {} })).json).toEqual({ via: 'other' });

    const bad = await started(zip([{ name: 'main.py', content: 'def main(a):\n    return {}\n' }]), { binary: true });
    expect(bad.init).toEqual({
      status: 502,
      json: { error: 'Initialization has failed due to: Zipped actions must contain __main__.py at the root.' },
    });
  });

  it('refuses a main that is not a function', async () => {
    const { init } = await started('main = 3\n');
    expect(init).toEqual({ status: 502, json: { error: "Initialization has failed due to: ActionEntrypoint 'main' is not a function." } });
  });

  it('maps results and exceptions', async () => {
    const { p } = await started(
      [
        'def main(args):',
        '    m = args.get("mode")',
        '    if m == "list": return [1, "two"]',
        '    if m == "none": return None',
        '    if m == "str": return "text"',
        '    if m == "set": return {"s": {1, 2}}',
        '    if m == "raise": raise KeyError("missing")',
        '    if m == "error": return {"error": "app"}',
        '    return {"ok": True}',
        '',
      ].join('\n'),
    );
    const run = (mode: string) => post(p, '/run', { value: { mode } });
    expect(await run('list')).toEqual({ status: 200, json: [1, 'two'] });
    expect(await run('none')).toEqual({ status: 502, json: { error: NOT_A_DICTIONARY } });
    expect(await run('str')).toEqual({ status: 502, json: { error: NOT_A_DICTIONARY } });
    expect(await run('set')).toEqual({ status: 502, json: { error: NOT_A_DICTIONARY } });
    expect(await run('raise')).toEqual({ status: 502, json: { error: "An error has occurred: KeyError: 'missing'" } });
    expect(await run('error')).toEqual({ status: 200, json: { error: 'app' } });
    // Unlike the Node.js runtime, an exception does not stop the proxy.
    expect(await run('ok')).toEqual({ status: 200, json: { ok: true } });
  });

  it('alters a sentinel split across writes', async () => {
    const { p } = await started(
      `import sys\ndef main(args):\n    sys.stdout.write("${SENTINEL.slice(0, 7)}")\n    sys.stdout.write("${SENTINEL.slice(7)}\\n")\n    return {}\n`,
    );
    expect((await post(p, '/run', { value: {} })).status).toBe(200);
    const until = Date.now() + 5000;
    while (!p.logs().some((l) => l.stream === 'stdout' && l.text === SENTINEL)) {
      if (Date.now() > until) throw new Error(JSON.stringify(p.logs()));
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(p.logs().filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual([`${SENTINEL} (printed by the action)`, SENTINEL]);
  });
});
