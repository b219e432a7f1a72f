/**
 * buildApp(deps, config): the controller as a Fastify instance, with no sockets opened, so that tests
 * can drive it with inject() and main.ts can listen. Registration order is fixed: infrastructure
 * (request ids, CORS, body parsing, the one error handler), then the open routes, then the
 * authenticated context with the entity routes.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import type { FastifyBaseLogger } from 'fastify';
import {
  BadRequestError,
  Limits,
  Messages,
  WhirlError,
  effectiveUserLimits,
  randomHexId,
  type ActivationJournal,
  type Identity,
  type UserLimits,
} from '@whirl/core';
import { Authenticator } from './auth.js';
import { EntityCache } from './entity-cache.js';
import { InvokeService } from './invoke.js';
import { BusExecutor } from './bus-executor.js';
import { Compositions } from './compositions.js';
import { Throttles, controllerShare } from './throttle.js';
import type { LoadBalancer } from './loadbalancer/lean.js';
import type { ActivationWaiter } from './waiter.js';
import { acksRoute } from './acks-route.js';
import type { ControllerConfig } from './config.js';
import type { ControllerDeps, Ctx } from './context.js';
import { infoRoutes } from './routes/info.js';
import { namespaceRoutes } from './routes/namespaces.js';
import { actionRoutes } from './routes/actions.js';
import { activationRoutes } from './routes/activations.js';
import { webRoutes } from './routes/web.js';
import { packageRoutes } from './routes/packages.js';
import { triggerRoutes } from './routes/triggers.js';
import { ruleRoutes } from './routes/rules.js';
import { adminRoutes } from './routes/admin.js';
import { SystemActions } from './catalog/system-actions.js';
import { registerApiManagement } from './gateway/apimgmt.js';
import { gatewayRoutes } from './gateway/routes.js';
import { ApiDocument, apiDocsRoutes, zodValidatorCompiler } from './openapi.js';
import { usageRoutes } from './routes/usage.js';
import type { ControllerMetrics } from './metrics.js';
import { consolePlugin } from '@whirl/console';
import { AsyncDelivery } from './delivery.js';
import { webhookRoutes } from './feeds/webhook.js';

const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, DELETE, POST, PUT, HEAD',
  'Access-Control-Allow-Headers': 'Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent',
};

/** Paths the platform serves, to tell a wrong method (405) from an unknown path (404). */
const KNOWN_PATHS: RegExp[] = [
  /^\/api\/v1\/namespaces\/[^/]+\/(actions|activations|packages|triggers|rules)(\/.*)?$/,
  /^\/api\/v1\/namespaces\/[^/]+\/(limits|usage)$/,
  /^\/api\/v1\/namespaces\/?$/,
  /^\/api\/v1\/?$/,
  /^\/admin\/v1\/(subjects|namespaces)(\/.*)?$/,
];

export interface AppDeps extends ControllerDeps {
  lb: LoadBalancer;
  waiter: ActivationWaiter;
  /** Write-ahead journal of activations in flight (standalone: SQLite). */
  journal?: ActivationJournal;
  /**
   * Where compositions are journaled instead, when that differs (distributed: notes to the ledger;
   * atomic activations need none there, their invoker topic is their log).
   */
  compositionJournal?: ActivationJournal;
  /**
   * A direct channel for blocking results (distributed): invokers post results to `url` with `token`
   * instead of sending them back over the bus. `url` is filled in once the server listens.
   */
  directAcks?: { url?: string; token: string };
  logger?: FastifyBaseLogger;
  /** Told of every route as it is registered (the API document's coverage test listens here). */
  onRoute?: (route: RouteOptions) => void;
  /** Prometheus metrics: counts requests and throttle refusals, serves GET /metrics. */
  metrics?: ControllerMetrics;
}

export async function buildApp(deps: AppDeps, config: ControllerConfig): Promise<{ app: FastifyInstance; ctx: Ctx }> {
  const app = Fastify({
    // Code may be up to 48 MB, base64-encoded inside JSON; invoke bodies are capped separately at 1 MB.
    bodyLimit: Math.ceil(Limits.codeBytes * 1.4) + 1024 * 1024,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomHexId();
    },
    routerOptions: { maxParamLength: 1024 },
  });
  // Declared up front so that every request object has the same shape (Fastify's advice); the
  // secured context's onRequest hook fills it in.
  app.decorateRequest('identity', null);

  // Routes validate with the zod schemas they declare, and the API document is built from the same.
  const apiDoc = new ApiDocument({ version: config.buildNo });
  app.setValidatorCompiler(zodValidatorCompiler);
  app.addHook('onRoute', apiDoc.collect);
  if (deps.onRoute) app.addHook('onRoute', deps.onRoute);

  const cache = new EntityCache(deps.entities);
  // With several controllers each enforces its share of every limit.
  const throttles = new Throttles((ns) => deps.lb.inFlight(ns), controllerShare(config.controllers));
  if (deps.metrics) {
    const metrics = deps.metrics;
    throttles.onRefusal = (reason, ns) => metrics.throttle(reason, ns);
  }
  const userLimits = (identity: Identity): UserLimits =>
    effectiveUserLimits(
      {
        invocationsPerMinute: config.limits.invocationsPerMinute,
        concurrentInvocations: config.limits.concurrentInvocations,
        firesPerMinute: config.limits.firesPerMinute,
        retention: config.retentionDays,
        ...identity.limits,
      },
      { maxConcurrency: config.limits.maxActionConcurrency },
    );
  const systemActions = new SystemActions(deps.activations);
  const bus = new BusExecutor({
    lb: deps.lb,
    waiter: deps.waiter,
    activations: deps.activations,
    controllerId: config.controllerId,
    maxQueueMs: config.maxQueueMs,
    replyTo: () => (deps.directAcks?.url ? { url: deps.directAcks.url, token: deps.directAcks.token } : undefined),
    userLimits,
    ...(deps.journal ? { journal: deps.journal } : {}),
  });
  // The components of a composition are system or code actions; nested compositions stay inside it.
  const atomic = new InvokeService([systemActions, bus]);
  const compositions = new Compositions(atomic.invoke, cache, deps.activations, deps.compositionJournal ?? deps.journal, deps.logger);
  const ctx: Ctx = {
    ...deps,
    config,
    auth: new Authenticator(deps.subjects),
    cache,
    throttles,
    userLimits,
    systemActions,
    // Compositions before system actions: a sequence is a sequence wherever it is stored.
    invoker: new InvokeService([compositions, systemActions, bus]),
  };

  registerApiManagement(ctx, systemActions);
  if (deps.state) ctx.delivery = new AsyncDelivery(ctx, deps.state, { controllerId: config.controllerId, ...(deps.logger ? { log: deps.logger } : {}) });

  app.addHook('onRequest', async (req, reply) => {
    void reply.header('X-Request-ID', req.id);
    // Web actions set their own CORS headers (or none, with web-custom-options).
    if (req.url.startsWith('/api/v1') && !req.url.startsWith('/api/v1/web/')) void reply.headers(CORS_HEADERS);
  });

  // JSON bodies: an empty body is `undefined` (invoke and fire treat it as {}), malformed JSON is
  // OpenWhisk's 400, and any other content type is refused with 415 by Fastify itself.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(new BadRequestError(`The request content was malformed: ${(e as Error).message}.`), undefined);
    }
  });

  app.setErrorHandler((err: FastifyError | WhirlError, req, reply) => renderError(err, req, reply, deps.logger));
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    if (req.method === 'OPTIONS' && path.startsWith('/api/v1')) return reply.code(200).send();
    const known = KNOWN_PATHS.some((re) => re.test(path));
    return reply
      .code(known ? 405 : 404)
      .send({ error: known ? 'HTTP method not allowed, supported methods: GET, PUT, POST, DELETE' : Messages.routeNotFound, code: req.id });
  });

  deps.metrics?.register(app, deps.logger);
  await app.register(async (open) => infoRoutes(open, ctx));
  await app.register(async (open) => apiDocsRoutes(open, apiDoc));
  // The web console's static files (it signs in against /api/v1 itself).
  apiDoc.describePrefix('/console', {
    summary: 'The web console (a single-page app; /console redirects to /console/)',
    tags: ['console'],
    auth: false,
    responses: {
      200: { description: 'A file of the console.', contentType: '*/*' },
      308: 'Redirect from /console to /console/.',
      404: 'No such file.',
    },
  });
  await app.register(consolePlugin);
  const directAcks = deps.directAcks;
  if (directAcks) await app.register(async (acks) => acksRoute(acks, { token: directAcks.token, waiter: deps.waiter, lb: deps.lb }));
  await app.register(async (web) => webRoutes(web, ctx));
  await app.register(async (gateway) => gatewayRoutes(gateway, ctx));
  const state = deps.state;
  if (state) await app.register(async (hooks) => webhookRoutes(hooks, ctx, state));
  await app.register(async (admin) => adminRoutes(admin, ctx));
  await app.register(async (secured) => {
    secured.addHook('onRequest', async (req) => {
      req.identity = await ctx.auth.require(req.headers.authorization);
    });
    await namespaceRoutes(secured, ctx);
    await actionRoutes(secured, ctx);
    await activationRoutes(secured, ctx);
    await packageRoutes(secured, ctx);
    await triggerRoutes(secured, ctx);
    await ruleRoutes(secured, ctx);
    await usageRoutes(secured, ctx);
  });

  return { app, ctx };
}

/** The one place an error becomes an HTTP response: `{error, code}` with the transaction id. */
function renderError(err: FastifyError | WhirlError, req: FastifyRequest, reply: FastifyReply, log?: FastifyBaseLogger): FastifyReply {
  if (err instanceof WhirlError) {
    void reply.headers(err.headers);
    void reply.header('x-whirl-error-code', err.code);
    return reply.code(err.statusCode).send({ error: err.message, code: req.id });
  }
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
  if (status === 500) {
    log?.error({ err, transid: req.id }, 'unhandled error');
    return reply.code(500).send({ error: 'An internal error occurred; the transaction id identifies it in the logs.', code: req.id });
  }
  let message = err.message;
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    message = `The request's content type '${String(req.headers['content-type'])}' is not supported; send application/json.`;
  } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    message = `Request larger than allowed: ${String(req.headers['content-length'] ?? 'unknown')} > ${reply.server.initialConfig.bodyLimit ?? 0} bytes.`;
  }
  return reply.code(status).send({ error: message, code: req.id });
}
