/**
 * The distributed topology on one machine: nginx (TLS) → 2 controllers → Kafka → 2 invokers → Docker,
 * CouchDB-API store. Drives it with the official `openwhisk` client and the `whirl` CLI through nginx
 * and checks the balancer (homes, health, invoker loss and return), cache invalidation across
 * controllers, the API gateway, usage and the API document, stale work expiry, and 503 when no
 * invoker is left.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import type Dockerode from 'dockerode';
import openwhisk from 'openwhisk';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDistributed, type Distributed } from '../../deploy/dev/distributed.js';
import { waitFor } from '../helpers/standalone.js';
import { docker, dockerUp } from '../helpers/docker.js';
import { cliEnv, type CliEnv } from '../cli/helpers.js';
import type { ActionUsage } from '../../packages/controller/src/usage.js';

const insecure = new Agent({ connect: { rejectUnauthorized: false } });
const ADMIN_KEY = 'distributed-test-admin-key-0123456789abcdef';

async function call(
  base: string,
  auth: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (auth) headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    dispatcher: insecure,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

describe.skipIf(!dockerUp)('distributed Whirl', () => {
  let d: Distributed;
  let ow: ReturnType<typeof openwhisk>;
  // The real `whirl` CLI with nginx as its API host; nginx's certificate is self-signed, hence -i.
  let cli: CliEnv;
  const whirl = (...args: string[]) => cli.run([...args, '-i']);
  const admin = async (base: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      dispatcher: insecure,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    d = await startDistributed({
      controllers: 2,
      invokers: 2,
      env: { WHIRL_ADMIN_KEY: ADMIN_KEY, WHIRL_MAX_QUEUE_MS: '3000', WHIRL_PREWARM: 'false', WHIRL_PAUSE_GRACE_MS: '60000', WHIRL_INVOCATIONS_PER_MINUTE: '1000', WHIRL_ACK_TIMEOUT_MS: '8000' },
      log: () => {},
    });
    ow = openwhisk({ apihost: d.apiHost, api_key: d.auth, ignore_certs: true });
    cli = cliEnv(d);
    await waitFor('both invokers healthy', async () => {
      const r = await call(d.apiHost, null, 'GET', '/invokers');
      return JSON.stringify(r.body) === '{"invoker0":"up","invoker1":"up"}' ? r : undefined;
    }, 60_000);
  }, 600_000);

  afterAll(async () => {
    await d?.stop();
    const mine = (c: Dockerode.ContainerInfo): boolean => (c.Labels['whirl.owner'] ?? '').startsWith(`${d.prefix}invoker`);
    const left = (await docker.listContainers({ all: true, filters: { label: ['whirl.owner'] } })).filter(mine);
    for (const c of left) await docker.getContainer(c.Id).remove({ force: true });
    expect(left).toEqual([]);
  }, 120_000);

  it('serves the API through nginx with TLS, a redirect and a transaction id', async () => {
    const r = await call(d.apiHost, d.auth, 'GET', '/api/v1/namespaces');
    expect(r.status).toBe(200);
    expect(r.body).toEqual(['guest']);
    expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
    const ready = await call(d.apiHost, null, 'GET', '/invokers/ready');
    expect(ready.body).toEqual({ healthy: '2/2' });
  });

  it('passes the web console through nginx, its assets compressed', async () => {
    const index = await call(d.apiHost, null, 'GET', '/console/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(String(index.body))?.[1];
    expect(script).toBeDefined();
    const js = await call(d.apiHost, null, 'GET', script!);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-encoding')).toBe('gzip');
  });

  it('runs the standalone scenarios: CRUD, bad input, blocking and non-blocking, records and logs', async () => {
    const created = await ow.actions.create({ name: 'hello', action: 'function main(p) { console.log("hi " + p.name); return { greeting: "hello " + p.name }; }' });
    expect(created).toMatchObject({ namespace: 'guest', name: 'hello', version: '0.0.1', exec: { kind: 'nodejs:20' } });
    await expect(ow.actions.create({ name: 'hello', action: 'x' })).rejects.toMatchObject({ statusCode: 409 });
    const bad = await call(d.apiHost, d.auth, 'PUT', '/api/v1/namespaces/_/actions/bad', { exec: { kind: 'cobol:1', code: 'x' } });
    expect(bad.status).toBe(400);
    expect((bad.body as { error: string; code: string }).code).toBe(bad.headers.get('x-request-id'));
    expect((await call(d.apiHost, null, 'GET', '/api/v1/namespaces/_/actions')).status).toBe(401);
    expect((await call(d.apiHost, d.auth, 'GET', '/api/v1/namespaces/other/actions')).status).toBe(403);

    const blocking = await ow.actions.invoke({ name: 'hello', blocking: true, params: { name: 'd' } });
    expect(blocking.response?.result).toEqual({ greeting: 'hello d' });
    const nb = await ow.actions.invoke({ name: 'hello', params: { name: 'nb' } });
    const rec = await waitFor('non-blocking record', async () => {
      const r = await call(d.apiHost, d.auth, 'GET', `/api/v1/namespaces/_/activations/${nb.activationId}`);
      return r.status === 200 && (r.body as { logs: string[] }).logs.length > 0 ? (r.body as { logs: string[]; response: { result: unknown } }) : undefined;
    });
    expect(rec.response.result).toEqual({ greeting: 'hello nb' });
    expect(rec.logs[0]).toMatch(/stdout: hi nb$/);
    expect(await ow.activations.result({ name: nb.activationId })).toMatchObject({ result: { greeting: 'hello nb' }, success: true });
    const list = (await ow.activations.list({ name: 'hello', limit: 5 } as never)) as { name: string }[];
    expect(list.length).toBeGreaterThanOrEqual(2);
  });

  it('runs sequences, packages with bindings, the catalog, triggers with rules, and web actions', async () => {
    await ow.actions.create({ name: 'inc', action: 'function main(p) { return { n: (p.n || 0) + 1 }; }' });
    await ow.actions.create({ name: 'seq', sequence: ['/_/inc', '/_/inc', '/whisk.system/utils/echo'] } as never);
    const s = await ow.actions.invoke({ name: 'seq', blocking: true, params: { n: 1 } });
    expect(s.response?.result).toEqual({ n: 3 });

    await ow.packages.create({ name: 'tools', package: { parameters: [{ key: 'who', value: 'pkg' }] } });
    await ow.actions.create({ name: 'tools/who', action: 'function main(p) { return { who: p.who }; }' });
    await ow.packages.create({ name: 'mytools', package: { binding: { namespace: 'guest', name: 'tools' }, parameters: [{ key: 'who', value: 'binding' }] } });
    const viaBinding = await ow.actions.invoke({ name: 'mytools/who', blocking: true });
    expect(viaBinding.response?.result).toEqual({ who: 'binding' });

    await ow.triggers.create({ name: 'ping' });
    await ow.rules.create({ name: 'pingrule', trigger: 'ping', action: 'hello' });
    const fired = await ow.triggers.invoke({ name: 'ping', params: { name: 'trigger' } });
    const triggerRecord = await waitFor('trigger activation', async () => {
      const r = await call(d.apiHost, d.auth, 'GET', `/api/v1/namespaces/_/activations/${fired.activationId}`);
      return r.status === 200 ? (r.body as { logs: string[] }) : undefined;
    });
    const ruleLog = JSON.parse(triggerRecord.logs[0]!) as { activationId: string; success: boolean };
    expect(ruleLog.success).toBe(true);
    const ruled = await waitFor('rule activation', async () => {
      const r = await call(d.apiHost, d.auth, 'GET', `/api/v1/namespaces/_/activations/${ruleLog.activationId}`);
      return r.status === 200 ? (r.body as { response: { result: unknown } }) : undefined;
    });
    expect(ruled.response.result).toEqual({ greeting: 'hello trigger' });

    await call(d.apiHost, d.auth, 'PUT', '/api/v1/namespaces/_/actions/page', {
      exec: { kind: 'nodejs:20', code: 'function main(p) { return { body: "<p>" + p.x + "</p>" }; }' },
      annotations: [{ key: 'web-export', value: true }],
    });
    const page = await call(d.apiHost, null, 'GET', '/api/v1/web/guest/default/page.html?x=web');
    expect(page.status).toBe(200);
    expect(page.body).toBe('<p>web</p>');
  });

  it('runs actions on both invokers, each action at its home', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `spread${i}`);
    for (const name of names) await ow.actions.create({ name, action: 'function main(p) { return { at: process.env.HOSTNAME || "x", n: p.n }; }' });
    for (const name of names) {
      const a = await ow.actions.invoke({ name, blocking: true, params: { n: 1 } });
      expect(a.response?.success).toBe(true);
    }
    const byInvoker = new Map<string, Set<string>>();
    const ours = async () => (await docker.listContainers({ all: true, filters: { label: ['whirl.owner'] } })).filter((c) => (c.Labels['whirl.owner'] ?? '').startsWith(`${d.prefix}invoker`));
    for (const c of await ours()) {
      const inv = c.Labels['whirl.invoker']!;
      const set = byInvoker.get(inv) ?? new Set<string>();
      for (const name of names) if (c.Names.some((n) => n.endsWith(`_guest_${name}`))) set.add(name);
      byInvoker.set(inv, set);
    }
    expect(byInvoker.get('0')?.size ?? 0).toBeGreaterThan(0);
    expect(byInvoker.get('1')?.size ?? 0).toBeGreaterThan(0);
    // Warm: a second invoke of each creates no new container.
    const before = (await ours()).length;
    for (const name of names) await ow.actions.invoke({ name, blocking: true });
    const after = (await ours()).length;
    expect(after).toBe(before);
  });

  it('reports usage from the CouchDB aggregate, and serves the API document, through nginx', async () => {
    // The 16 invokes of `spread*` above, stored by two invokers.
    const names = Array.from({ length: 8 }, (_, i) => `guest/spread${i}`);
    const usage = await waitFor('usage of the spread actions', async () => {
      const r = await call(d.apiHost, d.auth, 'GET', '/api/v1/namespaces/_/usage');
      const actions = (r.body as { actions?: { action: string; invocations: number; errors: number; gbSeconds: number }[] }).actions ?? [];
      const mine = actions.filter((a) => names.includes(a.action));
      return mine.length === 8 && mine.every((a) => a.invocations === 2) ? mine : undefined;
    }, 30_000);
    for (const a of usage) {
      expect(a.errors).toBe(0);
      // 256 MB, at least 1 ms billed per invoke.
      expect(a.gbSeconds).toBeGreaterThanOrEqual((2 * 256) / 1024 / 1000);
    }
    const bad = await call(d.apiHost, d.auth, 'GET', '/api/v1/namespaces/_/usage?since=5&upto=4');
    expect(bad.status).toBe(400);
    expect((bad.body as { error: string }).error).toBe("The time range is inverted: 'since' (5) is after 'upto' (4).");
    const future = await call(d.apiHost, d.auth, 'GET', `/api/v1/namespaces/_/usage?since=${Date.now() + 3_600_000}`);
    expect((future.body as { total: { invocations: number } }).total.invocations).toBe(0);
    const docs = await call(d.apiHost, null, 'GET', '/api/v1/api-docs');
    expect(docs.status).toBe(200);
    expect((docs.body as { openapi: string }).openapi).toBe('3.1.0');
  });

  it('serves /metrics on every controller and invoker, and nginx keeps it internal', async () => {
    const scrape = async (url: string): Promise<string> => {
      const res = await fetch(url);
      expect(res.status, url).toBe(200);
      return res.text();
    };
    for (const base of d.controllerUrls) {
      const text = await scrape(`${base}/metrics`);
      // nginx spreads requests over both controllers: each has answered some.
      expect(text).toMatch(/^whirl_http_requests_total\{method="[A-Z]+",route="\/api\/v1\/[^"]*",status="\d+"\} [1-9]\d*$/m);
      expect(text).toMatch(/^whirl_bus_publish_seconds_count\{topic="[^"]+",outcome="ok"\} \d+$/m);
      expect(text).toMatch(/^whirl_bus_consumer_lag\{topic="completed\d",group="completed\d"\} \d+$/m);
      // Every invoker's pool, as its health pings report it (what the console's operators view reads).
      for (const i of [0, 1]) {
        expect(text).toMatch(new RegExp(`^whirl_invoker_containers\\{invoker="${i}",reported="health_ping",state="warm"\\} \\d+$`, 'm'));
        expect(text).toMatch(new RegExp(`^whirl_invoker_memory_budget_bytes\\{invoker="${i}",reported="health_ping"\\} [1-9]\\d*$`, 'm'));
      }
    }
    // The previous test ran actions on both invokers: each counts its own.
    expect(d.invokerMetricsUrls).toHaveLength(2);
    for (const [i, url] of d.invokerMetricsUrls.entries()) {
      const text = await scrape(url);
      expect(text).toMatch(/^openwhisk_action_activations_total\{namespace="guest",initiator="guest",action="[^"]+",kind="nodejs:20",memory="256"\} [1-9]\d*$/m);
      expect(text).toMatch(new RegExp(`^whirl_invoker_memory_budget_bytes\\{invoker="${i}"\\} \\d+$`, 'm'));
      expect(text).toMatch(new RegExp(`^whirl_bus_consumer_lag\\{topic="invoker${i}",group="invoker${i}"\\} \\d+$`, 'm'));
    }
    // From outside, through nginx: refused, with or without a tenant's key.
    const outside = await call(d.apiHost, null, 'GET', '/metrics');
    expect(outside.status).toBe(403);
    expect((outside.body as { error: string }).error).toMatch(/internal/);
    expect((await call(d.apiHost, d.auth, 'GET', '/metrics')).status).toBe(403);
  });

  it('hands blocking activations to the invoker directly, and runs each once although its Kafka copy follows', async () => {
    const copies = async (): Promise<{ direct: number; duplicate: number; activations: number }> => {
      const out = { direct: 0, duplicate: 0, activations: 0 };
      for (const url of d.invokerMetricsUrls) {
        const text = await (await fetch(url)).text();
        const sum = (re: RegExp): number => [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
        out.direct += sum(/^whirl_invoker_activation_messages_total\{invoker="\d+",via="direct",outcome="taken"\} (\d+)$/gm);
        out.duplicate += sum(/^whirl_invoker_activation_messages_total\{invoker="\d+",via="bus",outcome="duplicate"\} (\d+)$/gm);
        out.activations += sum(/^openwhisk_action_activations_total\{[^}]*action="once"[^}]*\} (\d+)$/gm);
      }
      return out;
    };
    await ow.actions.create({ name: 'once', action: 'function main(p) { return { i: p.i }; }' });
    const before = await copies();
    const n = 10;
    for (let i = 0; i < n; i++) {
      const r = await ow.actions.invoke({ name: 'once', blocking: true, params: { i } });
      expect(r.response?.result).toEqual({ i });
    }
    // The write-behind copies arrive on Kafka shortly after: each is recognised and dropped.
    const after = await waitFor('every Kafka copy seen', async () => {
      const c = await copies();
      return c.duplicate - before.duplicate >= n ? c : undefined;
    });
    expect(after.direct - before.direct).toBe(n);
    expect(after.duplicate - before.duplicate).toBe(n);
    expect(after.activations - before.activations).toBe(n);
  });

  it('carries a payload near the 1 MB limit through Kafka', async () => {
    await ow.actions.create({ name: 'sizer', action: 'function main(p) { return { length: p.big.length }; }' });
    const big = 'x'.repeat(1000 * 1024);
    const a = await ow.actions.invoke({ name: 'sizer', blocking: true, params: { big } });
    expect(a.response?.result).toEqual({ length: big.length });
  });

  it('shows an update made on one controller to the next invoke on the other', async () => {
    const [c0, c1] = d.controllerUrls as [string, string];
    const put = (v: number) =>
      call(c0, d.auth, 'PUT', '/api/v1/namespaces/_/actions/versioned?overwrite=true', {
        exec: { kind: 'nodejs:20', code: `function main() { return { v: ${v} }; }` },
      });
    expect((await put(1)).status).toBe(200);
    const first = await call(c1, d.auth, 'POST', '/api/v1/namespaces/_/actions/versioned?blocking=true&result=true', {});
    expect(first.body).toEqual({ v: 1 });
    expect((await put(2)).status).toBe(200);
    const second = await waitFor('controller1 to see the update', async () => {
      const r = await call(c1, d.auth, 'POST', '/api/v1/namespaces/_/actions/versioned?blocking=true&result=true', {});
      return (r.body as { v: number }).v === 2 ? r : undefined;
    }, 5_000);
    expect(second.body).toEqual({ v: 2 });
  });

  it('serves an API gateway route created through one controller on the other and through nginx', async () => {
    const [c0, c1] = d.controllerUrls as [string, string];
    for (const [name, word] of [['gwone', 'one'], ['gwtwo', 'two']] as const) {
      const r = await call(c0, d.auth, 'PUT', `/api/v1/namespaces/_/actions/${name}?overwrite=true`, {
        exec: { kind: 'nodejs:20', code: `function main(p) { return { said: "${word}", name: p.name }; }` },
        annotations: [{ key: 'web-export', value: true }],
      });
      expect(r.status).toBe(200);
    }
    const route = (action: string) =>
      call(c0, d.auth, 'POST', '/api/v1/web/whisk.system/apimgmt/createApi.http', {
        apidoc: { namespace: '_', gatewayBasePath: '/gw', gatewayPath: '/hello', gatewayMethod: 'GET', action: { name: action, namespace: '_', backendMethod: 'GET', backendUrl: 'x', authkey: d.auth } },
      });
    expect((await route('gwone')).status).toBe(200);
    // Through nginx: the URL it hands out carries nginx's host and port.
    const listed = await call(d.apiHost, d.auth, 'GET', '/api/v1/web/whisk.system/apimgmt/getApi.http?basepath=/gw');
    const gwApiUrl = (listed.body as { apis: { value: { gwApiUrl: string } }[] }).apis[0]!.value.gwApiUrl;
    expect(gwApiUrl).toBe(`${d.apiHost}/api/guest/gw`);
    const viaNginx = await call(d.apiHost, null, 'GET', '/api/guest/gw/hello?name=edge');
    expect(viaNginx.body).toEqual({ said: 'one', name: 'edge' });
    // controller1 now holds the API in its cache; an update made on controller0 must still reach it.
    expect((await call(c1, null, 'GET', '/api/guest/gw/hello')).body).toMatchObject({ said: 'one' });
    expect((await route('gwtwo')).status).toBe(200);
    const updated = await waitFor('controller1 to serve the updated route', async () => {
      const r = await call(c1, null, 'GET', '/api/guest/gw/hello');
      return (r.body as { said?: string }).said === 'two' ? r : undefined;
    }, 5_000);
    expect(updated.body).toMatchObject({ said: 'two' });
    expect((await call(c0, d.auth, 'DELETE', '/api/v1/web/whisk.system/apimgmt/deleteApi.http?basepath=/gw')).status).toBe(200);
    await waitFor('controller1 to drop the deleted route', async () => {
      const r = await call(c1, null, 'GET', '/api/guest/gw/hello');
      return r.status === 404 ? r : undefined;
    }, 5_000);
  });

  // --- Issue 12 (API gateway) with real clients, and issue 10 (observability), through nginx. Each
  // test makes its own actions, so that it also runs alone (-t).

  const putWebAction = async (name: string, code: string): Promise<void> => {
    const r = await call(d.apiHost, d.auth, 'PUT', `/api/v1/namespaces/_/actions/${name}?overwrite=true`, {
      exec: { kind: 'nodejs:20', code },
      annotations: [{ key: 'web-export', value: true }],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  };
  /** Through nginx and directly on each controller, until each answers `status` (a cache may lag, but not past 5 s). */
  const everywhere = async (path: string, status: number): Promise<unknown[]> => {
    const bodies: unknown[] = [];
    for (const base of [d.apiHost, ...d.controllerUrls]) {
      const r = await waitFor(`${base}${path} to answer ${status}`, async () => {
        const got = await call(base, null, 'GET', path);
        return got.status === status ? got : undefined;
      }, 5_000);
      bodies.push(r.body);
    }
    return bodies;
  };
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

  it('manages a route with the openwhisk client through nginx, served by nginx and both controllers', async () => {
    await putWebAction('dgwclient', 'function main(p) { return { via: "client", name: p.name }; }');
    interface Api {
      gwApiUrl: string;
      apidoc: { basePath: string; paths: Record<string, Record<string, { 'x-openwhisk': { namespace: string; action: string; url: string } }>> };
    }
    const created = (await ow.routes.create({ action: 'dgwclient', basepath: '/dclient', relpath: '/hi', operation: 'GET' })) as unknown as Api;
    // The URLs it hands out carry nginx's host and port, not a controller's.
    expect(created.gwApiUrl).toBe(`${d.apiHost}/api/guest/dclient`);
    expect(created.apidoc.paths['/hi']!.get!['x-openwhisk']).toEqual({
      namespace: 'guest',
      action: 'dgwclient',
      package: '',
      url: `${d.apiHost}/api/v1/web/guest/default/dgwclient.json`,
    });
    const listed = (await ow.routes.list({ basepath: '/dclient' })) as unknown as { apis: { value: Api }[] };
    expect(listed.apis).toHaveLength(1);
    expect(listed.apis[0]!.value.gwApiUrl).toBe(created.gwApiUrl);
    expect(listed.apis[0]!.value.apidoc.paths['/hi']!.get!['x-openwhisk'].action).toBe('dgwclient');
    // The client has routes.get; its type declarations leave it out.
    const got = (await (ow.routes as unknown as { get(o: { basepath: string }): Promise<unknown> }).get({ basepath: '/dclient' })) as { apis: { value: Api }[] };
    expect(got.apis.map((a) => a.value.apidoc.basePath)).toEqual(['/dclient']);

    const url = new URL(`${created.gwApiUrl}/hi`);
    expect(`${url.protocol}//${url.host}`).toBe(d.apiHost);
    expect(await everywhere(`${url.pathname}?name=edge`, 200)).toEqual(Array.from({ length: 3 }, () => ({ via: 'client', name: 'edge' })));

    await ow.routes.delete({ basepath: '/dclient' });
    expect(((await ow.routes.list({ basepath: '/dclient' })) as unknown as { apis: unknown[] }).apis).toEqual([]);
    await everywhere(url.pathname, 404);
    await expect(ow.routes.delete({ basepath: '/dclient' })).rejects.toMatchObject({ statusCode: 404 });
  }, 60_000);

  it('runs `whirl api` create, list, get and delete through nginx, printing what wsk prints', async () => {
    await putWebAction('dworld', 'function main(p) { return { payload: "Hello world " + (p.name || "Serverless API") }; }');
    const routeUrl = `${d.apiHost}/api/guest/dhello/world`;
    const run = async (args: string[], code = 0) => {
      const r = await whirl(...args);
      const where = `whirl ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
      expect(r.code, where).toBe(code);
      // Never a stack trace.
      expect(r.stderr, where).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
      return r;
    };

    const created = await run(['api', 'create', '/dhello', '/world', 'get', 'dworld', '--response-type', 'json']);
    expect(created.stdout).toBe(`ok: created API /dhello/world GET for action /_/dworld\n${routeUrl}\n`);
    const called = await call(d.apiHost, null, 'GET', `${new URL(routeUrl).pathname}?name=OpenWhisk`);
    expect(called.status).toBe(200);
    expect(called.body).toEqual({ payload: 'Hello world OpenWhisk' });

    const listed = await run(['api', 'list']);
    expect(listed.stdout).toMatch(/^ok: APIs\nAction\s+Verb\s+API Name\s+URL\n/);
    expect(listed.stdout).toMatch(new RegExp(`^/guest/dworld\\s+get\\s+/dhello\\s+${escape(routeUrl)}$`, 'm'));

    const got = await run(['api', 'get', '/dhello']);
    const doc = JSON.parse(got.stdout) as { swagger: string; basePath: string; info: { title: string }; paths: Record<string, Record<string, { 'x-openwhisk': { action: string; url: string } }>> };
    expect(doc).toMatchObject({ swagger: '2.0', basePath: '/dhello', info: { title: '/dhello' } });
    expect(doc.paths['/world']!.get!['x-openwhisk']).toMatchObject({ action: 'dworld', url: `${d.apiHost}/api/v1/web/guest/default/dworld.json` });

    const deleted = await run(['api', 'delete', '/dhello']);
    expect(deleted.stdout).toBe('ok: deleted API /dhello\n');
    await everywhere(new URL(routeUrl).pathname, 404);
    const missing = await run(['api', 'get', '/dhello'], 1);
    expect(missing.stderr).toMatch(/API does not exist for basepath \/dhello/);
  }, 90_000);

  interface UsageFigures {
    invocations: number;
    errors: number;
    duration: number;
    gbSeconds: number;
  }
  interface NamespaceUsage {
    namespace: string;
    since?: number;
    actions: (UsageFigures & { action: string })[];
    total: UsageFigures;
  }

  it('prints the namespace usage with `whirl namespace usage` through nginx, as a table and with --json', async () => {
    // Only what this test runs counts: activations started from now on.
    const since = Date.now();
    await ow.actions.create({ name: 'dusage', action: 'function main(p) { return { n: p.n }; }', limits: { memory: 128 } } as never);
    await ow.actions.create({ name: 'dusagefail', action: 'function main() { return { error: "asked to fail" }; }' });
    for (let n = 0; n < 3; n++) expect((await ow.actions.invoke({ name: 'dusage', blocking: true, params: { n } })).response?.result).toEqual({ n });
    expect((await call(d.apiHost, d.auth, 'POST', '/api/v1/namespaces/_/actions/dusagefail?blocking=true', {})).status).toBe(502);

    const api = await waitFor('the usage of the 4 invocations', async () => {
      const r = await call(d.apiHost, d.auth, 'GET', `/api/v1/namespaces/_/usage?since=${since}`);
      const u = r.body as NamespaceUsage;
      const of = (a: string) => u.actions?.find((x) => x.action === `guest/${a}`);
      return of('dusage')?.invocations === 3 && of('dusagefail')?.invocations === 1 ? u : undefined;
    }, 30_000);
    expect(api.namespace).toBe('guest');
    expect(api.actions.find((a) => a.action === 'guest/dusage')).toMatchObject({ errors: 0 });
    expect(api.actions.find((a) => a.action === 'guest/dusagefail')).toMatchObject({ errors: 1 });
    // 128 MB for at least 1 ms, three times.
    expect(api.actions.find((a) => a.action === 'guest/dusage')!.gbSeconds).toBeGreaterThanOrEqual((3 * 128) / 1024 / 1000);

    expect(await cli.json<NamespaceUsage>(['namespace', 'usage', '--since', String(since), '-i'])).toEqual(api);
    const table = await whirl('namespace', 'usage', '--since', String(since));
    expect(table.code, table.stderr).toBe(0);
    expect(table.stderr).toBe('');
    // Piped, the table is tab-separated rows (action, invocations, errors, duration, GB-s), then the total.
    const rows = table.stdout.trim().split('\n').map((l) => l.split('\t'));
    const ms = (v: number): string => (v < 10_000 ? `${v}ms` : `${(v / 1000).toFixed(1)}s`);
    const row = (name: string, u: UsageFigures): string[] => [name, String(u.invocations), String(u.errors), ms(u.duration), u.gbSeconds.toFixed(6)];
    expect(rows).toEqual([...api.actions.map((a) => row(a.action, a)), row('total', api.total)]);
    expect(rows.filter((r) => r[0]!.startsWith('guest/dusage')).map((r) => r.slice(0, 3))).toEqual([
      ['guest/dusage', '3', '0'],
      ['guest/dusagefail', '1', '1'],
    ]);
    const inverted = await whirl('namespace', 'usage', '--since', '1m', '--upto', '0');
    expect(inverted.code).not.toBe(0);
    expect(inverted.stderr).toContain("The time range is inverted: 'since'");
  }, 90_000);

  it('shows memory peak, CPU time and a memory recommendation for an action the invokers ran in Docker', async (ctx) => {
    // Allocates ~40 MB and keeps it while busy for a moment, so both figures are well above noise.
    await ow.actions.create({
      name: 'dheavy',
      action:
        'function main() { const a = []; for (let i = 0; i < 40; i++) a.push(Buffer.alloc(1024 * 1024, i)); let x = 0; const end = Date.now() + 50; while (Date.now() < end) x++; return { n: a.length, x: x > 0 }; }',
      limits: { memory: 256 },
    } as never);
    for (let i = 0; i < 3; i++) expect((await ow.actions.invoke({ name: 'dheavy', blocking: true })).response?.success).toBe(true);
    const usage = await waitFor('the 3 records in the usage summary', async () => {
      const r = await call(d.apiHost, d.auth, 'GET', '/api/v1/namespaces/_/actions/dheavy?usage=true');
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const u = r.body as ActionUsage;
      return u.activations === 3 ? u : undefined;
    }, 30_000);
    expect(usage).toMatchObject({ namespace: 'guest', name: 'dheavy', activations: 3, memoryLimitMB: 256 });
    if (usage.measured === 0) {
      // The invokers could not read the containers' cgroups here (no usage annotations on the records).
      ctx.skip('the distributed invokers recorded no memoryPeakMB/cpuMs for their Docker containers on this machine: usage figures not checked');
    }
    expect(usage.measured).toBe(3);
    expect(usage.shared).toBe(0);
    expect(usage.memoryPeakMB!.p99).toBeGreaterThan(40);
    expect(usage.memoryPeakMB!.max).toBeLessThanOrEqual(256);
    expect(usage.cpuMs!.max).toBeGreaterThanOrEqual(0);
    expect(usage.recommendation!.memoryMB % 32).toBe(0);
    expect(usage.recommendation!.memoryMB).toBeGreaterThanOrEqual(Math.max(128, usage.memoryPeakMB!.p99));
    expect(usage.recommendation!.reason).toMatch(new RegExp(`^p99 memory peak ${usage.memoryPeakMB!.p99} MB over 3 activation\\(s\\)`));
    // The same figures from the other controller, directly: the records live in the shared store.
    for (const base of d.controllerUrls) {
      expect((await call(base, d.auth, 'GET', '/api/v1/namespaces/_/actions/dheavy?usage=true')).body).toEqual(usage);
    }
    const table = await whirl('action', 'get', 'dheavy', '--usage');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/3 of the last 3 activation\(s\) measured/);
    expect(table.stdout).toMatch(new RegExp(`recommended: ${usage.recommendation!.memoryMB} MB`));
  }, 90_000);

  it('serves an API document through nginx that a real OpenAPI 3.1 validator accepts', async () => {
    const docs = await call(d.apiHost, null, 'GET', '/api/v1/api-docs');
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toMatch(/^application\/json/);
    const validator = new Validator();
    const result = await validator.validate(docs.body as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    const doc = docs.body as { paths: Record<string, Record<string, unknown>> };
    for (const p of ['/api/v1/namespaces/{ns}/actions/{name}', '/api/v1/namespaces/{ns}/usage', '/api/v1/web/{path}']) expect(Object.keys(doc.paths)).toContain(p);
    // Both controllers serve the same document.
    for (const base of d.controllerUrls) expect((await call(base, null, 'GET', '/api/v1/api-docs')).body).toEqual(docs.body);
  }, 30_000);

  it('takes a key rotation, a block and a limit change made on one controller to the other within 5 s', async () => {
    const [c0, c1] = d.controllerUrls as [string, string];
    const created = await admin(c0, 'PUT', '/subjects/rotating');
    expect(created.status).toBe(201);
    const oldAuth = created.body.auth as string;
    // Controller 1 verifies the key and caches it (for 30 s unless told otherwise).
    expect((await call(c1, oldAuth, 'GET', '/api/v1/namespaces')).status).toBe(200);
    const added = await admin(c0, 'POST', '/subjects/rotating/keys');
    const newAuth = added.body.auth as string;
    expect((await admin(c0, 'DELETE', `/subjects/rotating/keys/${created.body.uuid as string}`)).status).toBe(200);
    // The cache TTL is 30 s: only the cacheInvalidation message can make controller 1 refuse this soon.
    await waitFor('controller 1 to refuse the old key', async () => ((await call(c1, oldAuth, 'GET', '/api/v1/namespaces')).status === 401 ? true : undefined), 5_000);
    expect((await call(c1, newAuth, 'GET', '/api/v1/namespaces')).status).toBe(200);
    expect((await admin(c0, 'POST', '/subjects/rotating/block')).status).toBe(200);
    await waitFor('controller 1 to refuse the blocked subject', async () => ((await call(c1, newAuth, 'GET', '/api/v1/namespaces')).status === 403 ? true : undefined), 5_000);
    expect((await admin(c0, 'POST', '/subjects/rotating/unblock')).status).toBe(200);
    await waitFor('controller 1 to accept it again', async () => ((await call(c1, newAuth, 'GET', '/api/v1/namespaces')).status === 200 ? true : undefined), 5_000);
    expect((await admin(c0, 'PUT', '/namespaces/rotating/limits', { firesPerMinute: 7 })).status).toBe(200);
    await waitFor('controller 1 to show the new limit', async () => {
      const r = await call(c1, newAuth, 'GET', '/api/v1/namespaces/_/limits');
      return (r.body as { firesPerMinute?: number }).firesPerMinute === 7 ? true : undefined;
    }, 5_000);
    expect((await admin(c0, 'DELETE', '/subjects/rotating?cascade=true')).status).toBe(200);
  });

  it('keeps serving when an invoker dies, records expired work, and takes the invoker back', async () => {
    await ow.actions.create({ name: 'survivor', action: 'function main() { return { ok: true }; }' });
    // Kill invoker 1 without a goodbye: the controllers notice after 10 s of silence.
    await d.stopInvoker(1, 'SIGKILL');
    // Whatever the balancer sends it before then waits in Kafka, past its 3 s queue deadline.
    const queued: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await call(d.apiHost, d.auth, 'POST', `/api/v1/namespaces/_/actions/spread${i}`, { n: i });
      expect(r.status).toBe(202);
      queued.push((r.body as { activationId: string }).activationId);
    }
    await waitFor('invoker1 down', async () => {
      const r = await call(d.apiHost, null, 'GET', '/invokers');
      return (r.body as Record<string, string>).invoker1 === 'down' ? r : undefined;
    }, 30_000);
    for (let i = 0; i < 4; i++) {
      const a = await ow.actions.invoke({ name: `spread${i}`, blocking: true });
      expect(a.response?.success).toBe(true);
    }
    await new Promise((r) => setTimeout(r, 3_500));
    await d.startInvoker(1);
    await waitFor('invoker1 back up', async () => {
      const r = await call(d.apiHost, null, 'GET', '/invokers');
      return (r.body as Record<string, string>).invoker1 === 'up' ? r : undefined;
    }, 60_000);
    // Every id handed out reads back; those that waited for the dead invoker are recorded as expired.
    const records = await Promise.all(
      queued.map((id) =>
        waitFor(`record ${id}`, async () => {
          const r = await call(d.apiHost, d.auth, 'GET', `/api/v1/namespaces/_/activations/${id}`);
          return r.status === 200 ? (r.body as { response: { success: boolean; result: { error?: string } } }) : undefined;
        }, 60_000),
      ),
    );
    // Expired (the invoker came back and found them past their deadline), or recorded as lost by the
    // controller when no ack came in time, or run: never missing.
    const expired = records.filter((r) => /expired|did not complete/.test(r.response.result.error ?? ''));
    const ran = records.filter((r) => r.response.success);
    expect(expired.length + ran.length).toBe(queued.length);
  });

  it('records an activation whose invoker died while running it, once no ack comes', async () => {
    await ow.actions.create({ name: 'stuck', action: 'function main() { return new Promise((r) => setTimeout(() => r({}), 60000)); }' });
    const { activationId } = await ow.actions.invoke({ name: 'stuck' });
    const container = await waitFor('the container running it', async () => {
      const cs = (await docker.listContainers({ filters: { label: ['whirl.owner'], name: ['guest_stuck'] } })).filter((c) =>
        (c.Labels['whirl.owner'] ?? '').startsWith(`${d.prefix}invoker`),
      );
      return cs[0];
    });
    const invoker = Number(container.Labels['whirl.invoker']);
    await d.stopInvoker(invoker, 'SIGKILL');
    const rec = await waitFor('the lost activation recorded', async () => {
      const r = await call(d.apiHost, d.auth, 'GET', `/api/v1/namespaces/_/activations/${activationId}`);
      return r.status === 200 ? (r.body as { response: { status: string; result: { error: string } } }) : undefined;
    }, 30_000);
    expect(rec.response).toMatchObject({ status: 'whisk internal error', result: { error: expect.stringMatching(/invoker stopped answering/) } });
    await d.startInvoker(invoker);
    await docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
  });

  it('answers 503 when no invoker is left', async () => {
    await d.stopInvoker(0);
    await d.stopInvoker(1);
    await waitFor('all invokers down', async () => {
      const r = await call(d.apiHost, null, 'GET', '/invokers');
      return Object.values(r.body as Record<string, string>).every((s) => s === 'down') ? r : undefined;
    }, 30_000);
    const r = await call(d.apiHost, d.auth, 'POST', '/api/v1/namespaces/_/actions/survivor?blocking=true', {});
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ error: 'No invokers available.' });
  });
});
