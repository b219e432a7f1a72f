/** Action routes: list, get, create/update, delete and invoke, in a namespace or inside a package. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  ActionPutSchema,
  BadRequestError,
  ConflictError,
  Limits,
  Messages,
  NotFoundError,
  PayloadTooLargeError,
  checkName,
  parseBody,
  queryBool,
  listPaging,
  renderActivation,
  type Identity,
  type KeyValue,
  type Revisioned,
  type WhiskAction,
  type WhiskEntity,
  type WhiskPackage,
} from '@whirl/core';
import { buildAction, renderAction, renderActionSummary } from '../action-doc.js';
import { identityOf, type Ctx } from '../context.js';
import type { InvokeOutcome, InvokeRequest } from '../invoke.js';
import { retryAnnotationProblem } from '../delivery.js';
import { ownNamespace } from './common.js';
import { resolveNamespace } from './resolve.js';
import { resolveAction, resolvePackage } from '../resolve.js';
import { validateSequence } from '../sequence-doc.js';

interface ActionParams {
  ns: string;
  pkg?: string;
  name: string;
}
type ActionRequest = FastifyRequest<{ Params: ActionParams; Querystring: Record<string, string | undefined> }>;

export async function actionRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const base = '/api/v1/namespaces/:ns/actions';

  app.get<{ Params: { ns: string }; Querystring: Record<string, string | undefined> }>(base, async (req) => {
    const ns = ownNamespace(identityOf(req), req.params.ns);
    return listActions(ctx, ns, true, req.query);
  });

  app.get<{ Params: { ns: string; pkg: string }; Querystring: Record<string, string | undefined> }>(`${base}/:pkg/`, async (req) => {
    // Another namespace's public package (or a binding to one) may be listed too.
    const identity = identityOf(req);
    const resolved = await resolvePackage(ctx.cache, identity, resolveNamespace(identity, req.params.ns), checkName(req.params.pkg));
    return listActions(ctx, `${resolved.target.namespace}/${resolved.target.name}`, false, req.query);
  });

  for (const path of [`${base}/:name`, `${base}/:pkg/:name`]) {
    app.get<{ Params: ActionParams; Querystring: Record<string, string | undefined> }>(path, async (req) => {
      const withCode = queryBool(req.query.code, 'code', true);
      const { action } = await resolveAction(ctx.cache, identityOf(req), target(req, false));
      return renderAction(action.doc, withCode);
    });

    app.put<{ Params: ActionParams; Querystring: Record<string, string | undefined> }>(path, async (req) => {
      const identity = identityOf(req);
      const { namespace: ns, pkg, name, docId } = target(req);
      const overwrite = queryBool(req.query.overwrite, 'overwrite', false);
      const put = parseBody(ActionPutSchema, req.body);
      const retryProblem = retryAnnotationProblem(put.annotations);
      if (retryProblem) throw new BadRequestError(retryProblem);
      if (pkg !== undefined) await requireWritablePackage(ctx, ns, pkg);
      if (put.exec?.kind === 'sequence') {
        put.exec.components = await validateSequence(ctx.cache, identity, { namespace: ns, ...(pkg !== undefined ? { pkg } : {}), name }, put.exec.components);
      }
      const existing = await ctx.entities.get(docId);
      if (existing && existing.doc.entityType !== 'action') throw new ConflictError(Messages.wrongCollection);
      if (existing && !overwrite) throw new ConflictError(Messages.exists);
      const doc = buildAction({
        put,
        existing: existing?.doc as WhiskAction | undefined,
        namespace: pkg === undefined ? ns : `${ns}/${pkg}`,
        name,
        kinds: ctx.kinds,
        userLimits: ctx.userLimits(identity),
        now: Date.now(),
      });
      const saved = existing ? await ctx.entities.update(doc, existing.rev) : await ctx.entities.create(doc);
      ctx.cache.invalidate(docId);
      return renderAction(saved.doc as WhiskAction);
    });

    app.delete<{ Params: ActionParams; Querystring: Record<string, string | undefined> }>(path, async (req) => {
      const { namespace: ns, pkg, docId } = target(req);
      if (pkg !== undefined) await requireWritablePackage(ctx, ns, pkg);
      const action = await loadAction(ctx, docId, false);
      await ctx.entities.delete(docId, action.rev);
      ctx.cache.invalidate(docId);
      return renderAction(action.doc);
    });

    app.post<{ Params: ActionParams; Querystring: Record<string, string | undefined> }>(path, { onRequest: checkPayloadSize }, async (req, reply) => {
      const identity = identityOf(req);
      const received = Date.now();
      // Throttles come before entitlement, as in OpenWhisk.
      ctx.throttles.invoke(identity.namespace.name, ctx.userLimits(identity));
      const blocking = queryBool(req.query.blocking, 'blocking', false);
      const resultOnly = queryBool(req.query.result, 'result', false);
      const waitMs = blockingTimeout(req.query.timeout, ctx.config.blockingWaitMs);
      const payload = invokePayload(req.body);
      const addressed = target(req, false);
      const { action, packageParams, binding } = await resolveAction(ctx.cache, identity, addressed);
      const invoke = (r: InvokeRequest): Promise<InvokeOutcome> => (ctx.delivery ? ctx.delivery.invoke(r, addressed) : ctx.invoker.invoke(r));
      const outcome = await invoke({
        identity,
        action,
        packageParams,
        ...(binding !== undefined ? { binding } : {}),
        payload,
        blocking: blocking || resultOnly,
        waitMs,
        transid: req.id,
        received,
        throttle: false,
      });
      return sendOutcome(reply, outcome, resultOnly);
    });
  }

  /** The addressed action; `own` (writes) requires the caller's namespace, reads and invokes may cross it. */
  function target(req: ActionRequest, own = true): { namespace: string; pkg?: string; name: string; docId: string } {
    const identity: Identity = identityOf(req);
    const namespace = own ? ownNamespace(identity, req.params.ns) : resolveNamespace(identity, req.params.ns);
    const name = checkName(req.params.name);
    if (req.params.pkg === undefined) return { namespace, name, docId: `${namespace}/${name}` };
    const pkg = checkName(req.params.pkg);
    return { namespace, pkg, name, docId: `${namespace}/${pkg}/${name}` };
  }
}

async function listActions(ctx: Ctx, namespace: string, includePackages: boolean, query: Record<string, string | undefined>): Promise<unknown> {
  const { limit, skip } = listPaging(query, 'actions');
  if (queryBool(query.count, 'count', false)) {
    return { actions: await ctx.entities.count({ entityType: 'action', namespace, includePackages }) };
  }
  const docs = await ctx.entities.list({ entityType: 'action', namespace, includePackages, limit, skip });
  return docs.map((d) => renderActionSummary(d as WhiskAction));
}

async function loadAction(ctx: Ctx, docId: string, cached = true): Promise<Revisioned<WhiskAction>> {
  const found = cached ? await ctx.cache.get(docId) : await ctx.entities.get(docId);
  if (!found) throw new NotFoundError();
  if (found.doc.entityType !== 'action') throw new ConflictError(Messages.wrongCollection);
  return found as Revisioned<WhiskAction>;
}

async function loadPackage(ctx: Ctx, ns: string, pkg: string): Promise<WhiskPackage> {
  const found: Revisioned<WhiskEntity> | undefined = await ctx.cache.get(`${ns}/${pkg}`);
  if (!found) throw new NotFoundError();
  if (found.doc.entityType !== 'package') throw new ConflictError(Messages.wrongCollection);
  return found.doc;
}

async function requireWritablePackage(ctx: Ctx, ns: string, pkg: string): Promise<void> {
  const p = await loadPackage(ctx, ns, pkg);
  if (p.binding && 'name' in p.binding) throw new BadRequestError('Operation not permitted on package binding.');
}

/** 413 from Content-Length before the body is read, so an oversized invoke costs nothing. */
async function checkPayloadSize(req: FastifyRequest): Promise<void> {
  const len = Number(req.headers['content-length'] ?? 0);
  if (len > Limits.payloadBytes) throw new PayloadTooLargeError('Request', len, Limits.payloadBytes);
}

function blockingTimeout(value: string | undefined, dflt: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < Limits.blockingWaitMs.min || n > Limits.blockingWaitMs.max) {
    throw new BadRequestError(`Timeout must be number of milliseconds up to ${Limits.blockingWaitMs.max}.`);
  }
  return Math.min(n, dflt);
}

function invokePayload(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestError('The request content was malformed: the parameters must be a JSON object.');
  }
  const size = Buffer.byteLength(JSON.stringify(body));
  if (size > Limits.payloadBytes) throw new PayloadTooLargeError('Request', size, Limits.payloadBytes);
  return body as Record<string, unknown>;
}

/**
 * OpenWhisk's invoke responses: 202 with the id while still running; otherwise 200 on success, 502 on
 * an application or developer error, 500 on a whisk error, with the full activation (or only the
 * result for `result=true`; an array result is sent as is either way).
 */
export function sendOutcome(reply: FastifyReply, outcome: InvokeOutcome, resultOnly: boolean): FastifyReply {
  void reply.header('x-openwhisk-activation-id', outcome.activationId);
  const r = outcome.record;
  if (!r) return reply.code(202).send({ activationId: outcome.activationId });
  const code = r.response.statusCode === 0 ? 200 : r.response.statusCode === 3 ? 500 : 502;
  const result = r.response.result;
  const body = Array.isArray(result) ? result : resultOnly ? (result ?? {}) : renderActivation(r);
  return reply.code(code).send(body);
}
