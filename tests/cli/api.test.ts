/**
 * `whirl api create|get|list|delete` against a real standalone, then the created URLs called over
 * HTTP: wsk's output lines, --json, swagger import (JSON and YAML), and wsk's refusals.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startStandalone, type RunningStandalone } from '../helpers/standalone.js';
import { check, cliEnv, type Case, type CliEnv } from './helpers.js';

let server: RunningStandalone;
let cli: CliEnv;
const get = (p: string) => http(server, 'GET', p, { auth: null });

beforeAll(async () => {
  server = await startStandalone({ env: { WHIRL_CONTAINERS: 'process', WHIRL_PREWARM: 'false' } });
  cli = cliEnv(server);
  const dir = cli.dir;
  writeFileSync(path.join(dir, 'hello.js'), 'function main(p) { return { payload: "Hello world " + (p.name || "Serverless API") }; }');
  writeFileSync(path.join(dir, 'book.js'), 'function main(p) { return { statusCode: 200, headers: { "content-type": "application/json" }, body: { path: p.__ow_path } }; }');
  for (const [name, file, web] of [['hello', 'hello.js', true], ['book', 'book.js', true], ['plain', 'hello.js', false]] as const) {
    const r = await cli.run(['action', 'create', name, path.join(dir, file), ...(web ? ['--web', 'true'] : [])]);
    expect(r.code, r.stderr).toBe(0);
  }
  const swagger = {
    swagger: '2.0',
    info: { title: 'Imported', version: '1.0.0' },
    basePath: '/imported',
    paths: { '/hi': { get: { operationId: 'getHi', 'x-openwhisk': { namespace: '_', package: '', action: 'hello', url: 'https://h/api/v1/web/_/default/hello.json' }, responses: {} } } },
  };
  writeFileSync(path.join(dir, 'api.json'), JSON.stringify(swagger));
  writeFileSync(path.join(dir, 'api.yaml'), 'swagger: "2.0"\ninfo:\n  title: Yaml\n  version: 1.0.0\nbasePath: /yaml\npaths:\n  /y:\n    post:\n      operationId: postY\n      x-openwhisk: {namespace: _, package: "", action: hello, url: "https://h/api/v1/web/_/default/hello.json"}\n      responses: {}\n');
  writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ swagger: '2.0', info: { title: 'x' }, basePath: '/bad', paths: { '/x': { get: { responses: {} } } } }));
});

afterAll(async () => {
  await server?.stop();
});

const url = (rel: string) => new RegExp(`^${server.apiHost.replace(/[.]/g, '\\.')}/api/guest${rel.replace(/[{}]/g, '\\$&')}$`, 'm');

describe('whirl api', () => {
  const cases: Case[] = [
    { name: 'create BASE PATH VERB ACTION', args: ['api', 'create', '/hello', '/world', 'get', 'hello'], stdout: /^ok: created API \/hello\/world GET for action \/_\/hello\n/ },
    { name: 'create with the default base path', args: ['api', 'create', '/top', 'post', 'hello', '--response-type', 'json'], stdout: /^ok: created API \/top POST for action \/_\/hello\n/ },
    {
      name: 'create with a path parameter and --apiname',
      args: ['api', 'create', '-n', 'Book Club', '/club', '/books/{isbn}', 'get', 'book', '--response-type', 'http'],
      stdout: /^ok: created API \/club\/books\/\{isbn\} GET for action \/_\/book\n/,
    },
    { name: 'path parameters need --response-type http', args: ['api', 'create', '/club', '/books/{isbn}', 'put', 'book'], code: 2, stderr: /A response type of 'http' is required when using path parameters\./ },
    { name: 'unknown action → 148', args: ['api', 'create', '/x', '/y', 'get', 'nope'], code: 148, stderr: /^error: Unable to get action '\/_\/nope': The requested resource does not exist\./ },
    {
      name: 'non-web action',
      args: ['api', 'create', '/x', '/y', 'get', 'plain'],
      code: 1,
      stderr: /Action '\/_\/plain' is not a web action\. Issue 'wsk action update "\/_\/plain" --web true' to convert the action to a web action\./,
    },
    { name: 'bad verb', args: ['api', 'create', '/x', '/y', 'fetch', 'hello'], code: 2, stderr: /'fetch' is not a valid API verb/ },
    { name: 'import a swagger file', args: () => ['api', 'create', '--config-file', path.join(cli.dir, 'api.json')], stdout: /^ok: created API \/imported\/hi get for action \/guest\/hello\n/ },
    { name: 'import a YAML swagger file', args: () => ['api', 'create', '-c', path.join(cli.dir, 'api.yaml')], stdout: /^ok: created API \/yaml\/y post for action \/guest\/hello\n/ },
    { name: 'a malformed swagger → 400 → 144', args: () => ['api', 'create', '-c', path.join(cli.dir, 'bad.json')], code: 144, stderr: /Unable to create API: paths\['\/x'\]\.get\['x-openwhisk'\] is missing/ },
    { name: 'list', args: ['api', 'list'], stdout: /^ok: APIs\nAction\s+Verb\s+API Name\s+URL\n[\s\S]*\/guest\/book\s+get\s+Book Club\s+http:\S+\/api\/guest\/club\/books\/\{isbn\}/ },
    { name: 'list one API, full', args: ['api', 'list', '/club', '-f'], stdout: /^ok: APIs\nAction: \/guest\/book\n {3}API Name: Book Club\n {3}Base path: \/club\n {3}Path: \/books\/\{isbn\}\n {3}Verb: get\n {3}URL: http/ },
    { name: 'list --json', args: ['api', 'list', '--json'], json: (v) => expect((v as { apis: unknown[] }).apis).toHaveLength(5) },
    { name: 'get by base path', args: ['api', 'get', '/club'], json: (v) => expect(v).toMatchObject({ swagger: '2.0', basePath: '/club', info: { title: 'Book Club' } }) },
    { name: 'get by API name, full', args: ['api', 'get', 'Book Club', '-f'], json: (v) => expect(v).toMatchObject({ gwApiActivated: true, apidoc: { basePath: '/club' } }) },
    { name: 'get --format yaml', args: ['api', 'get', '/club', '--format', 'yaml'], stdout: /^swagger: "2\.0"\n/ },
    { name: 'get a missing API', args: ['api', 'get', '/missing'], code: 1, stderr: /API does not exist for basepath \/missing/ },
  ];
  for (const c of cases) it(c.name, async () => void (await check(cli, c)));

  it('prints the URL line, and the URL serves the action', async () => {
    const r = await cli.run(['api', 'create', '/hello', '/world', 'get', 'hello']);
    expect(r.stdout).toMatch(url('/hello/world'));
    const called = await get('/api/guest/hello/world?name=OpenWhisk');
    expect(called.body).toEqual({ payload: 'Hello world OpenWhisk' });
    expect((await get('/api/guest/club/books/978-0596517748')).body).toEqual({ path: '/club/books/978-0596517748' });
    expect((await get('/api/guest/imported/hi')).body).toEqual({ payload: 'Hello world Serverless API' });
  });

  const deletes: Case[] = [
    { name: 'delete one operation', args: ['api', 'delete', '/club', '/books/{isbn}', 'get'], stdout: /^ok: deleted \/books\/\{isbn\} GET from \/club\n$/ },
    { name: 'delete one path', args: ['api', 'delete', '/yaml', '/y'], stdout: /^ok: deleted \/y from \/yaml\n$/ },
    { name: 'delete an API', args: ['api', 'delete', '/hello'], stdout: /^ok: deleted API \/hello\n$/ },
    { name: 'delete a missing API → 148', args: ['api', 'delete', '/hello'], code: 148, stderr: /Unable to delete API: API deletion failure: API '\/hello' does not exist\./ },
    { name: 'delete --json', args: ['api', 'delete', '/imported', '--json'], json: (v) => expect(v).toEqual({}) },
  ];
  for (const c of deletes) it(c.name, async () => void (await check(cli, c)));

  it('no longer serves what was deleted', async () => {
    expect((await get('/api/guest/hello/world')).status).toBe(404);
    expect((await get('/api/guest/club/books/1')).status).toBe(404);
    const r = await cli.run(['api', 'list', '--json']);
    expect((JSON.parse(r.stdout) as { apis: { value: { apidoc: { basePath: string } } }[] }).apis.map((a) => a.value.apidoc.basePath)).toEqual(['/']);
  });
});
