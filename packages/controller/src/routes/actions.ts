/** Action routes: list, get, create/update, delete and invoke, in a namespace or inside a package. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  ActivationStatus,
  ActionPutSchema,
  BadRequestError,
  ConflictError,
  Limits,
  Messages,
  boolParam,
  checkArchiveExpansion,
  checkName,
  looksLikeBase64,
  queryParam,
  renderActivation,
  type Identity,
  type WhiskAction,
} from '@whirl/core';
import { buildAction, renderAction, renderActionSummary } from '../action-doc.js';
import { identityOf, type Ctx } from '../context.js';
import type { InvokeOutcome, InvokeRequest } from '../invocation.js';
import { retryAnnotationProblem } from '../delivery.js';
import { isBinding, ownNamespace, requireTyped, resolveAction, resolveNamespace, resolvePackage } from '../resolve.js';
import { validateSequence } from '../sequence-doc.js';
import { checkPayloadBytes, declaredPayloadGuard } from '../guards.js';
import { NameParams, NsParams, OverwriteQuery, PkgNameParams, PkgParams, entityResponses, jsonObjectBody, listQuery } from './schemas.js';

const ListQuery = listQuery('actions');
type ListQueryOut = z.output<typeof ListQuery>;
const GetQuery = z.object({
  code: boolParam('code', true, 'Include the code'),
  usage: boolParam('usage', false, 'Answer with the resource usage of recent activations and a memory recommendation instead (Whirl)'),
  last: queryParam((v) => usageWindow(v), `With usage: how many recent activations to look at (1 to ${Limits.list.max}, default 100).`),
});
const InvokeQuery = z.object({
  blocking: boolParam('blocking', false, 'Wait for the result (up to the blocking window; 202 with the id when it runs longer)'),
  result: boolParam('result', false, 'Answer with the result only (implies blocking)'),
  timeout: queryParam(
    (v) => (v === undefined ? undefined : blockingTimeout(v)),
    `How long to wait for a blocking result, ms (${Limits.blockingWaitMs.min} to ${Limits.blockingWaitMs.max}).`,
  ),
});
const InvokeBody = jsonObjectBody('The parameters of the activation.', 'The request content was malformed: the parameters must be a JSON object.');
import { summarizeUsage } from '../usage.js';

interface ActionParams {
  ns: string;
  pkg?: string;
  name: string;
}
type ActionRequest = FastifyRequest<{ Params: ActionParams }>;

export async function actionRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const base = '/api/v1/namespaces/:ns/actions';

  const tags = ['actions'];
  app.get<{ Params: { ns: string }; Querystring: ListQueryOut }>(
    base,
    {
      schema: { params: NsParams, querystring: ListQuery },
      config: { doc: { summary: 'List actions (also those in packages)', tags, responses: { ...entityResponses.list('actions'), 403: 'The namespace is not yours.' } } },
    },
    async (req) => {
      const ns = ownNamespace(identityOf(req), req.params.ns);
      return listActions(ctx, ns, true, req.query);
    },
  );

  const pkgListDoc = { summary: "List a package's actions (also a shared package of another namespace)", tags, responses: entityResponses.get('package') };
  app.get<{ Params: { ns: string; pkg: string }; Querystring: ListQueryOut }>(`${base}/:pkg/`, { schema: { params: PkgParams, querystring: ListQuery }, config: { doc: pkgListDoc } }, async (req) => {
    // Another namespace's public package (or a binding to one) may be listed too.
    const identity = identityOf(req);
    const resolved = await resolvePackage(ctx.cache, identity, resolveNamespace(identity, req.params.ns), checkName(req.params.pkg));
    return listActions(ctx, `${resolved.target.namespace}/${resolved.target.name}`, false, req.query);
  });

  for (const path of [`${base}/:name`, `${base}/:pkg/:name`]) {
    const params = path.includes(':pkg') ? PkgNameParams : NameParams;
    const where = path.includes(':pkg') ? ' in a package' : '';
    app.get<{ Params: ActionParams; Querystring: z.output<typeof GetQuery> }>(
      path,
      { schema: { params, querystring: GetQuery }, config: { doc: { summary: `Get an action${where}`, tags, responses: entityResponses.get('action') } } },
      async (req) => {
        const identity = identityOf(req);
        const fqn = target(req, false);
        const { action } = await resolveAction(ctx.cache, identity, fqn);
        if (!req.query.usage) return renderAction(action.doc, req.query.code);
        // Records belong to the invoking namespace: this is the caller's usage of the action.
        const name = fqn.pkg === undefined ? fqn.name : `${fqn.pkg}/${fqn.name}`;
        const records = await ctx.activations.list({ namespace: identity.namespace.name, name, limit: req.query.last, skip: 0 });
        return summarizeUsage({ namespace: fqn.namespace, name, memoryLimitMB: action.doc.limits.memory }, records);
      },
    );

    const putDoc = {
      summary: `Create or update an action${where}`,
      tags,
      responses: { ...entityResponses.put('action'), 400: 'The body does not fit (or the kind, limits, sequence components or package are not valid).' },
    };
    app.put<{ Params: ActionParams; Querystring: z.output<typeof OverwriteQuery>; Body: z.output<typeof ActionPutSchema> }>(
      path,
      { schema: { params, querystring: OverwriteQuery, body: ActionPutSchema }, config: { doc: putDoc } },
      async (req) => {
        const identity = identityOf(req);
        const { namespace: ns, pkg, name, docId } = target(req);
        const overwrite = req.query.overwrite;
        const put = req.body;
        const retryProblem = retryAnnotationProblem(put.annotations);
        if (retryProblem) throw new BadRequestError(retryProblem);
        if (pkg !== undefined) await requireWritablePackage(ctx, ns, pkg);
        if (put.exec?.kind === 'sequence') {
          put.exec.components = await validateSequence(ctx.cache, identity, { namespace: ns, ...(pkg !== undefined ? { pkg } : {}), name }, put.exec.components);
        }
        const existing = await ctx.entities.get(docId);
        if (existing && existing.doc.entityType !== 'action') throw new ConflictError(Messages.wrongCollection);
        if (existing && !overwrite) throw new ConflictError(Messages.exists);
        if (put.exec && typeof put.exec.code === 'string' && looksLikeBase64(put.exec.code)) {
          await checkArchiveExpansion(put.exec.code, Limits.archiveExpandedBytes);
        }
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
      },
    );

    const deleteDoc = { summary: `Delete an action${where}`, tags, responses: entityResponses.delete('action') };
    app.delete<{ Params: ActionParams }>(path, { schema: { params }, config: { doc: deleteDoc } }, async (req) => {
      const { namespace: ns, pkg, docId } = target(req);
      if (pkg !== undefined) await requireWritablePackage(ctx, ns, pkg);
      const action = await requireTyped(ctx, docId, 'action', { cached: false });
      await ctx.entities.delete(docId, action.rev);
      ctx.cache.invalidate(docId);
      return renderAction(action.doc);
    });

    const invokeDoc = {
      summary: `Invoke an action${where}`,
      tags,
      description: 'Non-blocking: 202 with the activation id. Blocking: the activation (or its result with result=true) once it ends.',
      responses: {
        200: 'Blocking: the activation (or result) of a successful run.',
        202: { description: 'Non-blocking, or still running when the blocking window ended: the activation id.', body: z.object({ activationId: z.string() }) },
        403: 'The action is not yours and not shared.',
        404: 'The action does not exist.',
        413: 'The parameters are larger than allowed.',
        429: 'Too many invocations (per minute or at once); Retry-After says when to retry.',
        502: 'Blocking: the action failed (application or developer error); the body is the activation.',
      },
    };
    app.post<{ Params: ActionParams; Querystring: z.output<typeof InvokeQuery>; Body: Record<string, unknown> }>(
      path,
      { onRequest: declaredPayloadGuard, schema: { params, querystring: InvokeQuery, body: InvokeBody }, config: { doc: invokeDoc } },
      async (req, reply) => {
        const identity = identityOf(req);
        const received = Date.now();
        // Throttles come before entitlement, as in OpenWhisk.
        ctx.throttles.invoke(identity.namespace.name, ctx.userLimits(identity));
        const blocking = req.query.blocking;
        const resultOnly = req.query.result;
        const waitMs = Math.min(req.query.timeout ?? ctx.config.blockingWaitMs, ctx.config.blockingWaitMs);
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
        });
        return sendOutcome(reply, outcome, resultOnly);
      },
    );
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

/** `last`: how many recent activations the usage summary looks at (default 100, 1..200). */
function usageWindow(value: string | undefined): number {
  if (value === undefined) return 100;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= Limits.list.max)) throw new BadRequestError(`The parameter 'last' must be a whole number from 1 to ${Limits.list.max}, got '${value}'.`);
  return n;
}

async function listActions(ctx: Ctx, namespace: string, includePackages: boolean, query: ListQueryOut): Promise<unknown> {
  const { limit, skip } = query;
  if (query.count) {
    return { actions: await ctx.entities.count({ entityType: 'action', namespace, includePackages }) };
  }
  const docs = await ctx.entities.list({ entityType: 'action', namespace, includePackages, limit, skip });
  return docs.map((d) => renderActionSummary(d as WhiskAction));
}

/** Writes inside a package need the package (404 / 409 as for any own entity), and not a binding. */
async function requireWritablePackage(ctx: Ctx, ns: string, pkg: string): Promise<void> {
  const p = await requireTyped(ctx, `${ns}/${pkg}`, 'package');
  if (isBinding(p.doc)) throw new BadRequestError('Operation not permitted on package binding.');
}

/** 413 from Content-Length before the body is read, so an oversized invoke costs nothing. */
function blockingTimeout(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < Limits.blockingWaitMs.min || n > Limits.blockingWaitMs.max) {
    throw new BadRequestError(`Timeout must be number of milliseconds up to ${Limits.blockingWaitMs.max}.`);
  }
  return n;
}

function invokePayload(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestError('The request content was malformed: the parameters must be a JSON object.');
  }
  checkPayloadBytes(Buffer.byteLength(JSON.stringify(body)));
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
  const code = r.response.statusCode === ActivationStatus.Success ? 200 : r.response.statusCode === ActivationStatus.WhiskError ? 500 : 502;
  const result = r.response.result;
  const body = Array.isArray(result) ? result : resultOnly ? (result ?? {}) : renderActivation(r);
  return reply.code(code).send(body);
}
