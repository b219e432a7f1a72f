/**
 * The built-in API gateway: `/api/{namespace}/{basepath}/{relpath}` with any verb.
 *
 * Lookup: the segments after the namespace are split into base path and relative path, longest base
 * path first, each candidate read as the entity `<ns>/api:<basepath>` through the entity cache (so a
 * route created on another controller is seen once the cacheInvalidation message arrives). The
 * relative path is matched against the API's paths, literal segments before `{param}` segments.
 *
 * Dispatch is what OpenWhisk's gateway does by proxying to the web action URL in `x-openwhisk.url`:
 * the request's method, headers, query and body reach the web action unchanged, `__ow_path` is the
 * whole path after the namespace for `.http` routes (so `/club/books/{isbn}` arrives as
 * `/club/books/978...`) and empty for the other response types, and the response type is the URL's
 * extension. Before that the gateway answers CORS preflights, checks the API key and the API's rate
 * limit when the swagger asks for them (gateway/swagger.ts).
 *
 * `/api/v1/...` stays the REST API: a path it does not serve falls through to the ordinary 404/405.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyError, Messages, MethodNotAllowedError, NotFoundError, TooManyRequestsError, type Revisioned, type WhiskEntity } from '@whirl/core';
import type { Ctx } from '../context.js';
import { controllerShare } from '../throttle.js';
import { rawBodies, webActionServer } from '../routes/web.js';
import { apiEntityName, compileApi, matchRoute, type CompiledApi, type Verb } from './swagger.js';

const CORS_HEADERS_DEFAULT = 'Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent';

/** Fixed windows per API, counted on this controller (each controller takes its share of the rate). */
class RateWindows {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(private readonly share: (n: number) => number) {}

  take(key: string, rate: number, perMs: number): void {
    const now = Date.now();
    const allowed = Math.max(1, this.share(rate));
    let w = this.windows.get(key);
    if (!w || now - w.start >= perMs) {
      if (this.windows.size > 10_000) this.windows.clear();
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    if (w.count >= allowed) {
      const retryAfter = Math.max(1, Math.ceil((w.start + perMs - now) / 1000));
      throw new TooManyRequestsError(`Too many requests: this API allows ${rate} calls per ${perMs / 1000} s; retry after ${retryAfter} s.`, retryAfter, 'API_RATE_LIMIT');
    }
    w.count++;
  }
}

export async function gatewayRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  rawBodies(app);
  const serve = webActionServer(ctx);
  const compiled = new Map<string, { rev: string; api: CompiledApi }>();
  const windows = new RateWindows(controllerShare(ctx.config.controllers));

  const compiledOf = (docId: string, found: Revisioned<WhiskEntity>): CompiledApi | undefined => {
    if (found.doc.entityType !== 'api') return undefined;
    const hit = compiled.get(docId);
    if (hit && hit.rev === found.rev) return hit.api;
    let api: CompiledApi;
    try {
      api = compileApi(found.doc.swagger);
    } catch {
      return undefined; // stored documents were checked on write; an unreadable one serves nothing
    }
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(docId, { rev: found.rev, api });
    return api;
  };

  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const path = req.url.split('?')[0] ?? '';
    const segments = path.slice('/api/'.length).split('/');
    const ns = decodeURIComponent(segments[0] ?? '');
    if (ns === 'v1' || ns === '') {
      reply.callNotFound();
      return reply;
    }
    const rest = segments.slice(1).map((s) => decodeURIComponent(s));
    let api: CompiledApi | undefined;
    let apiKey = '';
    let relPath = '/';
    for (let k = rest.length; k >= 0 && !api; k--) {
      const basePath = k === 0 ? '/' : `/${rest.slice(0, k).join('/')}`;
      if (k > 0 && rest[k - 1] === '') continue;
      const docId = `${ns}/${apiEntityName(basePath)}`;
      const found = await ctx.cache.get(docId);
      if (!found) continue;
      api = compiledOf(docId, found);
      apiKey = docId;
      relPath = `/${rest.slice(k).join('/')}`;
    }
    const fullPath = `/${rest.join('/')}`;
    if (!api) {
      // Not a namespace at all (say /api/v2/...): the platform's own answer for an unknown route.
      if (!(await ctx.subjects.getSubject(ns))) throw new NotFoundError(Messages.routeNotFound);
      throw new NotFoundError(`No API of namespace '${ns}' serves the path '${fullPath}'.`);
    }
    const match = matchRoute(api, relPath);
    if (!match) throw new NotFoundError(`The API ${api.basePath} of namespace '${ns}' has no path matching '${relPath}'.`);
    const verb = req.method.toLowerCase() as Verb;
    const defined = Object.keys(match.route.operations).map((v) => v.toUpperCase());
    if (api.cors) {
      void reply.header('Access-Control-Allow-Origin', '*');
      void reply.header('Access-Control-Allow-Methods', [...new Set([...defined, 'OPTIONS'])].join(', '));
      const asked = req.headers['access-control-request-headers'];
      void reply.header('Access-Control-Allow-Headers', typeof asked === 'string' && asked !== '' ? asked : CORS_HEADERS_DEFAULT);
      if (verb === 'options' && !match.route.operations.options) return reply.code(200).send();
    }
    const op = match.route.operations[verb] ?? (verb === 'head' ? match.route.operations.get : undefined);
    if (!op) {
      throw new MethodNotAllowedError(`The path '${api.basePath === '/' ? '' : api.basePath}${match.route.relPath}' serves ${defined.join(', ')}, not ${req.method}.`, defined.join(', '));
    }
    if (api.apiKey) {
      const rule = api.apiKey;
      const given = rule.in === 'header' ? req.headers[rule.name.toLowerCase()] : new URLSearchParams(req.url.split('?')[1] ?? '').get(rule.name);
      if (typeof given !== 'string' || given === '') throw new ApiKeyError(`This API requires an API key in the ${rule.in} '${rule.name}'.`);
      if (!rule.keys.includes(given)) throw new ApiKeyError(`The API key in the ${rule.in} '${rule.name}' is not valid for this API.`);
    }
    if (api.rateLimit) windows.take(apiKey, api.rateLimit.rate, api.rateLimit.perMs);

    const target = op.target;
    const fq = `/${target.namespace}/${op.pkg !== undefined ? `${op.pkg}/` : ''}${op.name}`;
    return serve(
      req,
      reply,
      { namespace: target.namespace, pkg: op.pkg, name: op.name, ext: op.ext, restPath: op.ext === 'http' ? fullPath : '' },
      {
        cors: false,
        trustedSecret: true,
        notFound: (why) =>
          new NotFoundError(
            why === 'missing'
              ? `The action ${fq} that this route calls does not exist.`
              : `Action '${fq}' is not a web action. Issue 'wsk action update "${fq}" --web true' to convert the action to a web action.`,
          ),
      },
    );
  };
  const gatewayDoc = {
    summary: 'API gateway: /api/{namespace}/{basepath}/{relpath}, routed by verb to the web action the API names',
    tags: ['gateway'],
    auth: false,
    description: "The API's swagger decides the verbs, the response type, CORS, an API key and a rate limit (see docs/api-gateway.md).",
    responses: {
      200: { description: "The target action's projected result (any content type).", contentType: '*/*' },
      401: 'The API requires an API key and the request has none or a wrong one.',
      404: 'No API or route for this path, or its action is gone or not a web action.',
      405: 'The route exists but not for this verb (Allow lists the verbs).',
      429: "Over the API's rate limit (Retry-After says when to try again).",
      502: 'The action failed.',
    },
  };
  app.all('/api/:ns', { config: { doc: gatewayDoc } }, handler);
  app.all('/api/:ns/*', { config: { doc: gatewayDoc } }, handler);
}
