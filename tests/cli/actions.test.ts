/**
 * `whirl` against a real standalone (process containers, no Docker): configuration, actions, activations,
 * exit codes, and every kind of bad input. Rows run in order; later rows use what earlier rows created.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandalone, waitFor, type RunningStandalone } from '../helpers/standalone.js';
import { check, cliEnv, type Case, type CliEnv } from './helpers.js';

let server: RunningStandalone;
let cli: CliEnv;
let files: Record<string, string>;

beforeAll(async () => {
  server = await startStandalone({ env: { WHIRL_CONTAINERS: 'process' } });
  cli = cliEnv(server);
  const f = (name: string, content: string): string => {
    const p = path.join(cli.dir, name);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, content);
    return p;
  };
  files = {
    hello: f('hello.js', 'function main(p) { console.log("hi " + p.name); return { greeting: "hello " + p.name, memo: p.memo }; }'),
    fail: f('fail.js', 'function main() { return { error: "boom" }; }'),
    dirIndex: f('pkgdir/index.js', 'exports.main = (p) => ({ zipped: true, n: p.n });'),
    dirPkg: f('pkgdir/package.json', '{"main":"index.js"}'),
    txt: f('notes.txt', 'hello'),
    zip: f('bundle.zip', 'PK'),
    params: f('params.json', '{"memo":"from file","name":"file"}'),
    badJson: f('bad.json', '{"memo":'),
    arrayJson: f('array.json', '[1,2]'),
  };
});

afterAll(async () => {
  await server?.stop();
});

describe('property and configuration', () => {
  it('round-trips .wskprops, keeping lines it does not own', async () => {
    const c = cliEnv();
    writeFileSync(c.props, '# my settings\nAPIGW_ACCESS_TOKEN=tok\nAPIHOST=old\n');
    const set = await c.run(['property', 'set', '--apihost', server.apiHost, '--auth', server.auth, '--namespace', 'guest']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain(`ok: whisk API host set to ${server.apiHost}`);
    expect(set.stdout).toContain('ok: whisk auth set.');
    expect(set.stdout).toContain('ok: whisk namespace set to guest');
    expect(readFileSync(c.props, 'utf8')).toBe(`# my settings\nAPIGW_ACCESS_TOKEN=tok\nAPIHOST=${server.apiHost}\nAUTH=${server.auth}\nNAMESPACE=guest\n`);
    const got = await c.json<Record<string, string>>(['property', 'get']);
    expect(got).toMatchObject({ apihost: server.apiHost, auth: server.auth, namespace: 'guest', apiversion: 'v1', cliversion: '0.1.0' });
    expect(got.apibuild).not.toBe('Unknown');
    const unset = await c.run(['property', 'unset', '--namespace']);
    expect(unset.stdout).toContain('ok: whisk namespace unset.');
    expect(readFileSync(c.props, 'utf8')).not.toContain('NAMESPACE');
    // `_` is resolved by asking the server.
    expect((await c.json<Record<string, string>>(['property', 'get', '--namespace'])).namespace).toBe('guest');
    const piped = await c.run(['property', 'get', '--apihost']);
    expect(piped.stdout).toBe(`whisk API host\t${server.apiHost}\n`);
  });

  it('resolves flag > WHIRL_* env > __OW_* env > file', async () => {
    const c = cliEnv({ apiHost: 'http://file:1', auth: 'file:key' });
    const get = async (args: string[], env: Record<string, string> = {}): Promise<Record<string, string>> => {
      const r = await c.run([...args, 'property', 'get', '--apihost', '--auth', '--json'], { env });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as Record<string, string>;
    };
    expect(await get([])).toMatchObject({ apihost: 'http://file:1', auth: 'file:key' });
    expect(await get([], { __OW_API_HOST: 'http://ow:1', __OW_API_KEY: 'ow:key' })).toMatchObject({ apihost: 'http://ow:1', auth: 'ow:key' });
    expect(await get([], { __OW_API_HOST: 'http://ow:1', WHIRL_APIHOST: 'http://whirl:1', WHIRL_AUTH: 'w:key' })).toMatchObject({
      apihost: 'http://whirl:1',
      auth: 'w:key',
    });
    expect(await get(['--apihost', 'http://flag:1', '-u', 'f:key'], { WHIRL_APIHOST: 'http://whirl:1' })).toMatchObject({ apihost: 'http://flag:1', auth: 'f:key' });
    // And the flag really is what a command uses: a flag pointing at the live server wins over a dead file host.
    const r = await c.run(['action', 'list', '--apihost', server.apiHost, '-u', server.auth, '--json']);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('actions and activations', () => {
  let lastId = '';
  const cases: Case[] = [
    { name: 'create from a .js file', args: () => ['action', 'create', 'hello', files.hello!], stdout: /^ok: created action hello\n$/ },
    { name: 'create again is a conflict (409 → 153)', args: () => ['action', 'create', 'hello', files.hello!], code: 153, stderr: /^error: Unable to create action 'hello': resource already exists \(code \w+\)\n$/ },
    {
      name: 'update with params, limits and web export',
      args: () => ['action', 'update', 'hello', files.hello!, '-p', 'name', 'world', '-P', files.params!, '-m', '128', '-t', '5000', '-a', 'description', 'says hi'],
      stdout: /^ok: updated action hello\n$/,
    },
    {
      name: 'get --json shows what update set',
      args: ['action', 'get', 'hello', '--json'],
      json: (v) => {
        const a = v as { exec: { kind: string; code: string }; limits: { memory: number; timeout: number }; parameters: { key: string; value: unknown }[]; annotations: { key: string; value: unknown }[] };
        expect(a.exec.kind).toMatch(/^nodejs:/);
        expect(a.exec.code).toContain('function main');
        expect(a.limits).toMatchObject({ memory: 128, timeout: 5000 });
        // -p wins over the same key from -P.
        expect(a.parameters).toEqual(expect.arrayContaining([{ key: 'name', value: 'world' }, { key: 'memo', value: 'from file' }]));
        expect(a.annotations).toEqual(expect.arrayContaining([{ key: 'description', value: 'says hi' }]));
      },
    },
    { name: 'create a web action', args: () => ['action', 'create', 'webby', files.hello!, '--web', 'true'], stdout: /ok: created action webby/ },
    {
      name: '--web true sets web-export, final and raw-http',
      args: ['action', 'get', 'webby', '--json'],
      json: (v) =>
        expect((v as { annotations: unknown[] }).annotations).toEqual(
          expect.arrayContaining([{ key: 'web-export', value: true }, { key: 'final', value: true }, { key: 'raw-http', value: false }]),
        ),
    },
    { name: 'get --url of a plain action is its REST URL', args: ['action', 'get', 'hello', '--url'], stdout: /^ok: got action hello\nhttp:\/\/127\.0\.0\.1:\d+\/api\/v1\/namespaces\/guest\/actions\/hello\n$/ },
    { name: 'get --url gives the web URL of a web action', args: ['action', 'get', 'webby', '--url', '--json'], json: (v) => expect((v as { url: string }).url).toMatch(/\/api\/v1\/web\/guest\/default\/webby$/) },
    { name: 'get prints ok and JSON', args: ['action', 'get', 'hello'], stdout: /^ok: got action hello\n\{\n {4}"namespace": "guest"/ },
    { name: 'list in a pipe is TSV', args: ['action', 'list'], stdout: /^\/guest\/hello\tprivate\tnodejs:\d+$/m },
    { name: 'list --json', args: ['action', 'list', '--json'], json: (v) => expect((v as { name: string }[]).map((a) => a.name)).toContain('hello') },
    { name: 'invoke -r prints the result', args: ['action', 'invoke', 'hello', '-r', '-p', 'name', 'bob'], json: (v) => expect(v).toEqual({ greeting: 'hello bob', memo: 'from file' }) },
    {
      name: 'invoke -b prints ok and the activation',
      args: ['action', 'invoke', 'hello', '-b', '-p', 'name', 'bo b'],
      stdout: /^ok: invoked \/_\/hello with id [0-9a-f]{32}\n\{/,
    },
    {
      name: 'invoke -b --json is the activation record alone',
      args: ['action', 'invoke', 'hello', '-b', '--json', '-p', 'name', 'json'],
      json: (v) => {
        const a = v as { activationId: string; response: { success: boolean; result: unknown } };
        expect(a.response).toMatchObject({ success: true, result: { greeting: 'hello json' } });
        lastId = a.activationId;
      },
    },
    { name: 'invoke without -b returns an id', args: ['action', 'invoke', 'hello'], stdout: /^ok: invoked \/_\/hello with id [0-9a-f]{32}\n$/ },
    { name: '-p values are JSON when they parse', args: ['action', 'invoke', 'hello', '-r', '-p', 'name', '{"x":1}'], json: (v) => expect(v).toMatchObject({ greeting: 'hello [object Object]' }) },
    { name: 'failed activation: JSON on stdout, error line, exit 246', args: () => ['action', 'create', 'fail', files.fail!], stdout: /ok: created action fail/ },
    { name: 'invoke of a failing action', args: ['action', 'invoke', 'fail', '-r'], code: 246, stdout: /"error": "boom"/, stderr: /^error: Unable to invoke action 'fail': boom\n$/ },
    { name: 'invoke of a missing action is 404 → 148', args: ['action', 'invoke', 'nope', '-b'], code: 148, stderr: /^error: Unable to invoke action 'nope': The requested resource does not exist\. \(code \w+\)\n$/ },
    { name: 'a directory is zipped on the fly', args: () => ['action', 'create', 'zipped', path.dirname(files.dirIndex!)], stdout: /ok: created action zipped/ },
    { name: 'the zipped action runs', args: ['action', 'invoke', 'zipped', '-r', '-p', 'n', '7'], json: (v) => expect(v).toEqual({ zipped: true, n: 7 }) },
    { name: 'zipped action is stored as binary', args: ['action', 'get', 'zipped', '--json'], json: (v) => expect((v as { exec: { binary: boolean } }).exec.binary).toBe(true) },
    {
      name: 'sequence from a comma list',
      args: ['action', 'create', 'seq', '--sequence', 'hello,/_/zipped'],
      stdout: /ok: created action seq/,
    },
    {
      name: 'sequence components are fully qualified',
      args: ['action', 'get', 'seq', '--json'],
      json: (v) => expect((v as { exec: { kind: string; components: string[] } }).exec).toMatchObject({ kind: 'sequence', components: ['/_/hello', '/_/zipped'].map((c) => expect.stringMatching(new RegExp(`^/(_|guest)${c.slice(2)}$`))) }),
    },
    { name: 'activation list --json', args: ['activation', 'list', '--json'], json: (v) => expect((v as unknown[]).length).toBeGreaterThan(3) },
    { name: 'activation list hello --limit 1', args: ['activation', 'list', 'hello', '--limit', '1', '--json'], json: (v) => expect((v as { name: string }[]).map((a) => a.name)).toEqual(['hello']) },
    { name: 'activation list in a pipe: TSV rows', args: ['activation', 'list', '--limit', '2'], stdout: /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\t[0-9a-f]{32}\tnodejs:\d+\t(cold|warm)\t\d+ms\t(success|application error)\tguest\/\w+:0\.0\.\d+$/m },
    { name: 'activation get ID --json', args: () => ['activation', 'get', lastId, '--json'], json: (v) => expect(v).toMatchObject({ activationId: lastId, name: 'hello' }) },
    { name: 'activation get --last', args: ['activation', 'get', '--last'], stdout: /^ok: got activation [0-9a-f]{32}\n\{/ },
    { name: 'activation result ID', args: () => ['activation', 'result', lastId], json: (v) => expect(v).toEqual({ greeting: 'hello json', memo: 'from file' }) },
    { name: 'activation result --json is the whole response', args: () => ['activation', 'result', lastId, '--json'], json: (v) => expect(v).toMatchObject({ success: true, status: 'success' }) },
    { name: 'activation get of a bad id', args: ['activation', 'get', 'xyz'], code: 144, stderr: /^error: Unable to get activation 'xyz': .+\(code \w+\)\n$/ },
    { name: 'action delete', args: ['action', 'delete', 'fail'], stdout: /^ok: deleted action fail\n$/ },
    { name: 'deleted action is gone', args: ['action', 'get', 'fail'], code: 148 },
    { name: 'namespace list', args: ['namespace', 'list', '--json'], json: (v) => expect(v).toEqual(['guest']) },
    { name: '--version prints CLI and server build', args: ['--version'], stdout: /^whirl CLI 0\.1\.0\nserver: http:\/\/127\.0\.0\.1:\d+ API 1\.0\.0 build \S+ \(buildno \S+\)\n$/ },
    { name: 'completion bash', args: ['completion', 'bash'], stdout: /complete -o default -F _whirl whirl[\s\S]*/ },
    { name: 'completion zsh', args: ['completion', 'zsh'], stdout: /bashcompinit/ },
  ];
  for (const c of cases) it(c.name, async () => void (await check(cli, c)));

  it('activation logs (with --strip) show what the action printed', async () => {
    const lines = await waitFor('logs', async () => {
      const r = await cli.run(['activation', 'logs', lastId, '--strip']);
      return r.stdout.includes('hi json') ? r.stdout : undefined;
    });
    expect(lines).toBe('hi json\n');
    const raw = await cli.json<{ logs: string[] }>(['activation', 'logs', lastId]);
    expect(raw.logs[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+\s+(stdout: )?hi json$/);
  });

  it('activation poll streams activations until --exit', async () => {
    const poll = cli.run(['activation', 'poll', 'hello', '--exit', '4', '--interval', '300']);
    await new Promise((r) => setTimeout(r, 1200));
    const inv = await cli.run(['action', 'invoke', 'hello', '-b', '-p', 'name', 'polled']);
    expect(inv.code).toBe(0);
    const r = await poll;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Activation: 'hello' \([0-9a-f]{32}\)/);
    expect(r.stderr).toContain('Polling for activation logs');
  });

  it('action get --save-as writes the code', async () => {
    const out = path.join(cli.dir, 'saved.js');
    const r = await cli.run(['action', 'get', 'hello', '--save-as', out]);
    expect(r.stdout).toBe(`ok: saved action code to ${out}\n`);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(files.hello!, 'utf8'));
    expect((await cli.run(['action', 'get', 'hello', '--save-as', out])).code).toBe(2);
  });
});

describe('bad input: one line, non-zero exit, no stack trace', () => {
  let html: http.Server;
  let silent: http.Server;
  let htmlUrl = '';
  let silentUrl = '';
  beforeAll(async () => {
    html = http.createServer((_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>Bad gateway</body></html>'));
    silent = http.createServer((req) => req.socket.destroy());
    await Promise.all([new Promise<void>((r) => html.listen(0, '127.0.0.1', r)), new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))]);
    htmlUrl = `http://127.0.0.1:${(html.address() as AddressInfo).port}`;
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await Promise.all([new Promise((r) => html.close(r)), new Promise((r) => silent.close(r))]);
  });

  const cases: Case[] = [
    { name: 'unknown command', args: ['actoin', 'list'], code: 2, stderr: /^error: unknown command 'actoin' \(Did you mean action\?\)/ },
    { name: 'unknown subcommand', args: ['action', 'frobnicate'], code: 2, stderr: /unknown command 'frobnicate'/ },
    { name: 'unknown flag', args: ['action', 'list', '--nope'], code: 2, stderr: /^error: unknown option '--nope'\n/ },
    { name: 'missing argument', args: ['action', 'create'], code: 2, stderr: /^error: missing required argument 'name'\n$/ },
    { name: 'missing artifact', args: ['action', 'create', 'x'], code: 2, stderr: /^error: An action file, directory, --docker image or --sequence list is required/ },
    { name: 'file does not exist', args: ['action', 'create', 'x', '/nonexistent/a.js'], code: 2, stderr: /^error: Unable to read '\/nonexistent\/a\.js': no such file or directory\n$/ },
    { name: 'kind not inferable', args: () => ['action', 'create', 'x', files.txt!], code: 2, stderr: /^error: Cannot infer the kind from the extension '\.txt'.*pass --kind\.\n$/ },
    { name: 'zip needs --kind', args: () => ['action', 'create', 'x', files.zip!], code: 2, stderr: /pass --kind/ },
    { name: '-p with one word', args: ['action', 'invoke', 'hello', '-p', 'onlykey'], code: 2, stderr: /^error: flag -p needs two arguments: -p KEY VALUE\n$/ },
    { name: '-p with broken JSON', args: ['action', 'invoke', 'hello', '-p', 'k', '{"a":'], code: 2, stderr: /^error: The value of 'k' looks like JSON but is not valid JSON/ },
    { name: '-P missing file', args: ['action', 'invoke', 'hello', '-P', '/nonexistent.json'], code: 2, stderr: /^error: Unable to read the -P file '\/nonexistent\.json': ENOENT\n$/ },
    { name: '-P not JSON', args: () => ['action', 'invoke', 'hello', '-P', files.badJson!], code: 2, stderr: /is not valid JSON/ },
    { name: '-P not an object', args: () => ['action', 'invoke', 'hello', '-P', files.arrayJson!], code: 2, stderr: /must hold a JSON object/ },
    { name: 'non-numeric -m', args: () => ['action', 'update', 'hello', '-m', 'lots'], code: 2, stderr: /flag -m expects a whole number/ },
    { name: 'bad --web', args: () => ['action', 'update', 'hello', '--web', 'maybe'], code: 2, stderr: /flag --web expects true, false or raw/ },
    { name: 'limit out of range is the server\'s 400 → 144', args: () => ['action', 'update', 'hello', '-m', '100000'], code: 144, stderr: /^error: Unable to update action 'hello': .*memory.*\(code \w+\)\n$/ },
    { name: 'apihost without scheme means https (wsk rule)', args: () => ['action', 'list', '--apihost', server.apiHost.replace('http://', '')], code: 1, stderr: /https:\/\/127\.0\.0\.1.*\nhint: .*http:\/\// },
    { name: 'server answering HTML', args: () => ['action', 'list', '--apihost', htmlUrl], code: 1, stderr: /answered HTTP 502 with text\/html, not JSON\.\nhint: / },
    { name: 'server answering nothing', args: () => ['action', 'list', '--apihost', silentUrl], code: 1, stderr: /failed, or timed out/ },
    { name: 'unreachable apihost', args: ['action', 'list', '--apihost', 'http://127.0.0.1:1'], code: 1, stderr: /Unable to reach the apihost http:\/\/127\.0\.0\.1:1: ECONNREFUSED\.\nhint: is the server running\?/ },
    { name: 'wrong auth is 401 → 145', args: ['action', 'list', '-u', 'nobody:nokey'], code: 145, stderr: /The supplied authentication is invalid/ },
    { name: 'help mentions exit codes and precedence', args: ['--help'], stdout: /Exit codes:[\s\S]*HTTP status S[\s\S]*|Configuration \(highest precedence first\)/ },
    { name: 'bad completion shell', args: ['completion', 'fish'], code: 2, stderr: /Unsupported shell 'fish'/ },
  ];
  for (const c of cases) it(c.name, async () => void (await check(cli, c)));

  it('missing auth and apihost give hints', async () => {
    const empty = cliEnv();
    const noHost = await empty.run(['action', 'list']);
    expect(noHost.code).toBe(1);
    expect(noHost.stderr).toMatch(/The API host is not set\.\nhint: run 'whirl property set --apihost/);
    const noAuth = await empty.run(['action', 'list', '--apihost', server.apiHost]);
    expect(noAuth.code).toBe(1);
    expect(noAuth.stderr).toMatch(/The API authentication key is not set\.\nhint: run 'whirl property set --auth/);
  });
});
