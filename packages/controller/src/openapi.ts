/**
 * The API document (`GET /api/v1/api-docs`, OpenAPI 3.1), generated from the routes as they are
 * registered: each route declares the zod schemas of its path segments, query and body in Fastify's
 * `schema` (which Fastify validates with `zodValidatorCompiler`, so a request is checked against the
 * very schema the document shows) and its summary and status codes in `config.doc`. An `onRoute` hook
 * collects them; nothing is written twice, so the document cannot drift from what the routes accept.
 *
 * Bad input keeps OpenWhisk's wording: the schemas raise OpenWhisk's sentences as custom issues (see
 * `queryParam` in core/schemas.ts) and `requestError` turns an issue into the 400 the one error
 * handler renders.
 */
import type { FastifyInstance, FastifySchema, FastifySchemaCompiler, RouteOptions } from 'fastify';
import { z } from 'zod';
import { ErrorBodySchema, requestError } from '@whirl/core';

export interface ResponseDoc {
  description: string;
  /** The body's shape; omitted for a body described in words only, or none. */
  body?: z.ZodType;
  /** Default `application/json`. */
  contentType?: string;
}

export interface RouteDoc {
  summary: string;
  tags: string[];
  description?: string;
  /** Success and failure statuses this route answers with, beside the common ones added below. */
  responses: Record<number, ResponseDoc | string>;
  /** Whether it takes a subject's credentials; default: paths under `/api/v1/namespaces`. */
  auth?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    doc?: RouteDoc;
  }
}

type Part = 'body' | 'querystring' | 'params' | 'headers';

/**
 * Fastify's validator compiler for zod schemas. An absent body or query is validated as `{}` (invoke
 * and fire treat an empty body as no parameters); the parsed value (defaults filled in, strings
 * converted) replaces the request part.
 */
export const zodValidatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const s = schema as z.ZodType;
  const part = (httpPart ?? 'body') as Part;
  return (data: unknown) => {
    const r = s.safeParse(data ?? {});
    return r.success ? { value: r.data } : { error: requestError(r.error, part) };
  };
};

/** A route as the onRoute hook saw it. */
interface Collected {
  method: string;
  url: string;
  schema?: FastifySchema;
  doc?: RouteDoc;
}

const OPENAPI_METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'TRACE']);

/** `/a/:ns/b/*` as OpenAPI writes it: `/a/{ns}/b/{path}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{path}');
}

export class ApiDocument {
  private readonly routes: Collected[] = [];
  private built: Record<string, unknown> | undefined;

  private readonly prefixDocs: { prefix: string; doc: RouteDoc }[] = [];

  constructor(private readonly info: { version: string }) {}

  /**
   * The doc of routes under `prefix` that a third-party plugin registers (e.g. @fastify/static for
   * the console), which cannot carry `config.doc` themselves.
   */
  describePrefix(prefix: string, doc: RouteDoc): void {
    this.prefixDocs.push({ prefix, doc });
  }

  /** Register as the app's onRoute hook before any route. */
  readonly collect = (r: RouteOptions): void => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    for (const method of methods) {
      const entry: Collected = { method: method.toUpperCase(), url: r.url };
      if (r.schema) entry.schema = r.schema;
      const doc = r.config?.doc ?? this.prefixDocs.find((d) => r.url === d.prefix || r.url.startsWith(`${d.prefix}/`))?.doc;
      if (doc) entry.doc = doc;
      this.routes.push(entry);
    }
    this.built = undefined;
  };

  /** Every route that OpenAPI can name (it has no verbs such as PROPFIND) and that has no doc. */
  undocumented(): string[] {
    return this.routes.filter((r) => OPENAPI_METHODS.has(r.method) && !r.doc).map((r) => `${r.method} ${r.url}`);
  }

  document(): Record<string, unknown> {
    this.built ??= this.build();
    return this.built;
  }

  private build(): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of this.routes) {
      if (!OPENAPI_METHODS.has(r.method) || !r.doc) continue;
      const p = openApiPath(r.url);
      (paths[p] ??= {})[r.method.toLowerCase()] = operation(r, r.doc);
    }
    return {
      openapi: '3.1.0',
      info: {
        title: 'Whirl API',
        version: this.info.version,
        description:
          "Whirl's REST API: Apache OpenWhisk's `/api/v1` (same routes, bodies, status codes and messages) and Whirl's additions. Generated from the schemas the routes validate with.",
      },
      servers: [{ url: '/' }],
      tags: [...new Set(this.routes.flatMap((r) => r.doc?.tags ?? []))].sort().map((name) => ({ name })),
      paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      components: {
        securitySchemes: {
          basic: { type: 'http', scheme: 'basic', description: 'A subject key `uuid:key`, as in `.wskprops` AUTH.' },
        },
        schemas: { ErrorBody: jsonSchema(ErrorBodySchema, 'output') },
      },
    };
  }
}

function operation(r: Collected, doc: RouteDoc): Record<string, unknown> {
  const auth = doc.auth ?? r.url.startsWith('/api/v1/namespaces');
  const parameters: Record<string, unknown>[] = [];
  const declared = objectProperties(r.schema?.params);
  for (const name of [...r.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!)) {
    parameters.push({ name, in: 'path', required: true, ...(declared[name] ?? { schema: { type: 'string' } }) });
  }
  if (r.url.endsWith('*')) {
    parameters.push({ name: 'path', in: 'path', required: true, description: 'The rest of the path, slashes included.', schema: { type: 'string' } });
  }
  for (const [name, p] of Object.entries(objectProperties(r.schema?.querystring))) parameters.push({ name, in: 'query', ...p });

  const responses: Record<string, unknown> = {};
  const all: Record<number, ResponseDoc | string> = { ...doc.responses };
  if ((r.schema?.querystring || r.schema?.body || r.schema?.params) && all[400] === undefined) all[400] = 'The request does not fit the schema; the message says what to fix.';
  if (auth && all[401] === undefined) all[401] = 'The credentials are missing or not valid.';
  if (all[500] === undefined) all[500] = 'An internal error; the transaction id in the body finds it in the logs.';
  for (const [status, given] of Object.entries(all).sort(([a], [b]) => Number(a) - Number(b))) {
    const res = typeof given === 'string' ? { description: given } : given;
    const isError = Number(status) >= 400;
    const body = res.body ? jsonSchema(res.body, 'output') : isError ? { $ref: '#/components/schemas/ErrorBody' } : undefined;
    const content = r.method === 'HEAD' || body === undefined ? undefined : { [res.contentType ?? 'application/json']: { schema: body } };
    responses[status] = { description: res.description, ...(content ? { content } : {}) };
  }

  const body = r.schema?.body as z.ZodType | undefined;
  return {
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: doc.tags,
    operationId: `${r.method.toLowerCase()}${openApiPath(r.url).replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    ...(auth ? { security: [{ basic: [] }] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(body ? { requestBody: { required: false, content: { 'application/json': { schema: jsonSchema(body, 'input') } } } } : {}),
    responses,
  };
}

/** The properties of an object schema as OpenAPI parameter fields (schema, description, required). */
function objectProperties(schema: unknown): Record<string, Record<string, unknown>> {
  if (!schema) return {};
  const js = jsonSchema(schema as z.ZodType, 'input') as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, prop] of Object.entries(js.properties ?? {})) {
    const { description, ...rest } = prop;
    out[name] = {
      ...(typeof description === 'string' ? { description } : {}),
      ...(js.required?.includes(name) ? { required: true } : {}),
      schema: rest,
    };
  }
  return out;
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/** `GET /api/v1/api-docs`: the document, open like OpenWhisk's. */
export async function apiDocsRoutes(app: FastifyInstance, doc: ApiDocument): Promise<void> {
  app.get(
    '/api/v1/api-docs',
    { config: { doc: { summary: 'This OpenAPI 3.1 document', tags: ['info'], auth: false, responses: { 200: 'The document.' } } } },
    async () => doc.document(),
  );
}
