/**
 * The API document against a real OpenAPI 3.1 validator, and its coverage: every route the Fastify
 * app registers (as its onRoute hook reports them) is an operation of the document. The app is the
 * real one (buildApp) over a real SQLite store; its validation of bad input keeps OpenWhisk's wording.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { Validator } from '@seriousme/openapi-schema-validator';
import { LocalMessageBus } from '@whirl/messaging';
import { loadManifest } from '@whirl/runtimes';
import { openSqliteStateStore, openSqliteStores, type SqliteStores } from '@whirl/store';
import { buildApp } from './app.js';
import { ControllerConfigSchema } from './config.js';
import { manifestKinds } from './kinds.js';
import { LeanBalancer } from './loadbalancer/lean.js';
import { openApiPath } from './openapi.js';
import { ensureSubject } from './subjects.js';
import { ActivationWaiter } from './waiter.js';

const OPENAPI_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'TRACE'];

let app: FastifyInstance;
let stores: SqliteStores;
let bus: LocalMessageBus;
let auth: string;
const registered: { method: string; url: string }[] = [];

beforeAll(async () => {
  stores = openSqliteStores(':memory:');
  bus = new LocalMessageBus();
  const built = await buildApp(
    {
      entities: stores.entities,
      activations: stores.activations,
      subjects: stores.subjects,
      // With a state store the webhook feed's route is registered too.
      state: openSqliteStateStore(':memory:'),
      kinds: manifestKinds(loadManifest()),
      lb: new LeanBalancer(bus, '0'),
      waiter: new ActivationWaiter(),
      // The distributed controller's extra route is part of the document too.
      directAcks: { token: 'secret' },
      onRoute: (r: RouteOptions) => {
        for (const m of Array.isArray(r.method) ? r.method : [r.method]) registered.push({ method: m.toUpperCase(), url: r.url });
      },
    },
    ControllerConfigSchema.parse({}),
  );
  app = built.app;
  await app.ready();
  const guest = await ensureSubject(stores.subjects, 'guest');
  auth = `Basic ${Buffer.from(`${guest.uuid}:${guest.key}`).toString('base64')}`;
});

afterAll(async () => {
  await app.close();
  await bus.close();
  await stores.close();
});

async function apiDocs(): Promise<{ paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }> {
  const res = await app.inject({ method: 'GET', url: '/api/v1/api-docs' });
  expect(res.statusCode).toBe(200);
  return res.json();
}

describe('GET /api/v1/api-docs', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const doc = await apiDocs();
    const validator = new Validator();
    const result = await validator.validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    // The validator does reject a broken document (a response without its description).
    const broken = structuredClone(doc);
    delete (broken.paths['/ping']!.get!.responses['200'] as { description?: string }).description;
    expect((await new Validator().validate(broken as never)).valid).toBe(false);
  });

  it('has every registered route as an operation, each with its status codes', async () => {
    const doc = await apiDocs();
    const routes = registered.filter((r) => OPENAPI_METHODS.includes(r.method));
    // Sanity: the hook saw the app's routes, HEAD variants and the web actions' any-method route included.
    expect(routes.length).toBeGreaterThan(60);
    const missing = routes.filter((r) => doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()] === undefined).map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
    for (const r of routes) {
      const op = doc.paths[openApiPath(r.url)]![r.method.toLowerCase()]!;
      const codes = Object.keys(op.responses).map(Number);
      expect(codes.some((c) => c < 400), `${r.method} ${r.url} has a success status`).toBe(true);
      expect(codes).toContain(500);
    }
    // And nothing in the document that the app does not serve.
    const served = new Set(routes.map((r) => `${r.method.toLowerCase()} ${openApiPath(r.url)}`));
    for (const [p, ops] of Object.entries(doc.paths)) for (const m of Object.keys(ops)) expect(served.has(`${m} ${p}`), `${m} ${p}`).toBe(true);
  });

  it('shows the schemas the routes validate with', async () => {
    const doc = (await apiDocs()) as unknown as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: { content: Record<string, { schema: { properties?: object } }> } }>>;
    };
    const invoke = doc.paths['/api/v1/namespaces/{ns}/actions/{name}']!.post!;
    expect(invoke.parameters!.map((p) => `${p.in}:${p.name}`)).toEqual(['path:ns', 'path:name', 'query:blocking', 'query:result', 'query:timeout']);
    const put = doc.paths['/api/v1/namespaces/{ns}/actions/{name}']!.put!;
    expect(Object.keys(put.requestBody!.content['application/json']!.schema.properties!)).toContain('exec');
    const usage = doc.paths['/api/v1/namespaces/{ns}/usage']!.get!;
    expect(usage.parameters!.map((p) => p.name)).toEqual(['ns', 'since', 'upto']);
  });
});

describe('validation from the declared schemas keeps OpenWhisk wording', () => {
  const get = async (url: string, method: 'GET' | 'POST' | 'PUT' = 'GET', body?: unknown) => {
    const res = await app.inject({ method, url, headers: { authorization: auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
    return { status: res.statusCode, error: (res.json() as { error?: string }).error };
  };

  it('query parameters', async () => {
    expect(await get('/api/v1/namespaces/_/actions?limit=201')).toEqual({ status: 400, error: "The value '201' is not in the range of 0 to 200 for actions." });
    expect(await get('/api/v1/namespaces/_/rules?skip=-1')).toEqual({ status: 400, error: "The value '-1' is not greater than or equal to 0 for rules." });
    expect(await get('/api/v1/namespaces/_/triggers?count=maybe')).toEqual({ status: 400, error: "The parameter 'count' must be true or false, got 'maybe'." });
    expect(await get('/api/v1/namespaces/_/activations?since=yesterday')).toEqual({ status: 400, error: 'Parameter is not a valid value for epoch seconds: yesterday' });
    expect(await get('/api/v1/namespaces/_/actions/x?blocking=true&timeout=0', 'POST')).toEqual({
      status: 400,
      error: 'Timeout must be number of milliseconds up to 60000.',
    });
  });

  it('bodies', async () => {
    expect(await get('/api/v1/namespaces/_/actions/x', 'PUT', { exec: { kind: 1 } })).toEqual({
      status: 400,
      error: "The request content was malformed: 'exec.kind' Invalid input: expected string, received number.",
    });
    expect(await get('/api/v1/namespaces/_/actions/x', 'POST', [1])).toEqual({
      status: 400,
      error: 'The request content was malformed: the parameters must be a JSON object.',
    });
    expect(await get('/api/v1/namespaces/_/rules/r', 'POST', { status: 'on' })).toEqual({
      status: 400,
      error: "'on' is not a recognized rule state, must be one of ['active', 'inactive']",
    });
  });

  it('usage: unknown parameters and an inverted range', async () => {
    expect(await get('/api/v1/namespaces/_/usage?sinse=1')).toEqual({ status: 400, error: "Unknown query parameter 'sinse': this route takes only 'since', 'upto'." });
    expect(await get('/api/v1/namespaces/_/usage?since=20&upto=10')).toEqual({ status: 400, error: "The time range is inverted: 'since' (20) is after 'upto' (10)." });
    expect(await get('/api/v1/namespaces/_/usage?since=soon')).toEqual({
      status: 400,
      error: "The parameter 'since' must be a time in epoch milliseconds (a whole number), got 'soon'.",
    });
    expect((await get('/api/v1/namespaces/_/usage?since=10&upto=20')).status).toBe(200);
  });
});
