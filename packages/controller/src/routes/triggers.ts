/**
 * Trigger routes: list, get, create/update, delete and fire (the fire itself is ../triggers/fire.ts).
 * Triggers live directly in a namespace; the statuses of the rules that use a trigger are kept in its
 * `rules` map (see ../rules/trigger-rules.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  BadRequestError,
  ConflictError,
  Limits,
  Messages,
  PayloadTooLargeError,
  TriggerPutSchema,
  bumpVersion,
  checkName,
  parseFqn,
  type Identity,
  type KeyValue,
  type WhiskTrigger,
} from '@whirl/core';
import { checkEntitySizes } from '../action-doc.js';
import { identityOf, type Ctx } from '../context.js';
import { getTyped, ownNamespace, requireTyped } from '../resolve.js';
import { fireTrigger } from '../triggers/fire.js';
import { ownListRoute } from './listing.js';
import { NameParams, OverwriteQuery, entityResponses, jsonObjectBody } from './schemas.js';

const FireBody = jsonObjectBody('The event: parameters passed to every rule’s action.', 'The request content was malformed: the event payload must be a JSON object.');
const tags = ['triggers'];

export async function triggerRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const base = '/api/v1/namespaces/:ns/triggers';

  ownListRoute(app, ctx, {
    base,
    entityType: 'trigger',
    collection: 'triggers',
    tags,
    render: (t) => ({ namespace: t.namespace, name: t.name, version: t.version, publish: t.publish, annotations: t.annotations, updated: t.updated }),
  });

  const getDoc = { summary: 'Get a trigger', tags, responses: entityResponses.get('trigger') };
  app.get<{ Params: { ns: string; name: string } }>(`${base}/:name`, { schema: { params: NameParams }, config: { doc: getDoc } }, async (req) => {
    const ns = ownNamespace(identityOf(req), req.params.ns);
    const t = await requireTyped(ctx, `${ns}/${checkName(req.params.name)}`, 'trigger');
    return renderTrigger(t.doc);
  });

  const putDoc = { summary: 'Create or update a trigger', tags, responses: { ...entityResponses.put('trigger'), 400: 'The body does not fit, or a feed annotation is not valid.' } };
  app.put<{ Params: { ns: string; name: string }; Querystring: z.output<typeof OverwriteQuery>; Body: z.output<typeof TriggerPutSchema> }>(
    `${base}/:name`,
    { schema: { params: NameParams, querystring: OverwriteQuery, body: TriggerPutSchema }, config: { doc: putDoc } },
    async (req) => {
      const identity = identityOf(req);
      const ns = ownNamespace(identity, req.params.ns);
      const name = checkName(req.params.name);
      const overwrite = req.query.overwrite;
      const put = req.body;
      checkEntitySizes(put);
      if (put.annotations) checkFeedAnnotation(put.annotations, identity);
      const docId = `${ns}/${name}`;
      const existing = await getTyped(ctx, docId, 'trigger', { cached: false });
      if (existing && !overwrite) throw new ConflictError(Messages.exists);
      const old = existing?.doc;
      const doc: WhiskTrigger = {
        entityType: 'trigger',
        namespace: ns,
        name,
        version: put.version ?? (old ? bumpVersion(old.version) : '0.0.1'),
        publish: put.publish ?? old?.publish ?? false,
        annotations: put.annotations ?? old?.annotations ?? [],
        parameters: put.parameters ?? old?.parameters ?? [],
        limits: {},
        ...(old?.rules !== undefined ? { rules: old.rules } : {}),
        updated: Date.now(),
      };
      const saved = existing ? await ctx.entities.update(doc, existing.rev) : await ctx.entities.create(doc);
      ctx.cache.invalidate(docId);
      return renderTrigger(saved.doc as WhiskTrigger);
    },
  );

  const deleteDoc = { summary: 'Delete a trigger', tags, responses: entityResponses.delete('trigger') };
  app.delete<{ Params: { ns: string; name: string } }>(`${base}/:name`, { schema: { params: NameParams }, config: { doc: deleteDoc } }, async (req) => {
    const ns = ownNamespace(identityOf(req), req.params.ns);
    const docId = `${ns}/${checkName(req.params.name)}`;
    const t = await requireTyped(ctx, docId, 'trigger', { cached: false });
    await ctx.entities.delete(docId, t.rev);
    ctx.cache.invalidate(docId);
    return renderTrigger(t.doc);
  });

  const fireDoc = {
    summary: 'Fire a trigger',
    tags,
    responses: {
      202: { description: 'Fired: the id of the trigger activation.', body: z.object({ activationId: z.string() }) },
      204: 'No active rule: nothing ran.',
      403: 'The namespace is not yours.',
      404: 'The trigger does not exist.',
      413: 'The event is larger than allowed.',
      429: 'Too many fires per minute; Retry-After says when to retry.',
    },
  };
  app.post<{ Params: { ns: string; name: string }; Body: Record<string, unknown> }>(
    `${base}/:name`,
    { onRequest: checkFireSize, schema: { params: NameParams, body: FireBody }, config: { doc: fireDoc } },
    async (req, reply) => {
      const identity = identityOf(req);
      const ns = ownNamespace(identity, req.params.ns);
      const name = checkName(req.params.name);
      const payload = firePayload(req.body);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        // The caller's credentials are not event data; everything else is passed on as sent.
        if (k === 'authorization' || v === undefined) continue;
        headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
      }
      const fired = await fireTrigger(ctx, { identity, namespace: ns, name, payload, headers, transid: req.id });
      if (fired.activationId === undefined) return reply.code(204).send();
      void reply.header('x-openwhisk-activation-id', fired.activationId);
      return reply.code(202).send({ activationId: fired.activationId });
    },
  );
}

export function renderTrigger(t: WhiskTrigger): Record<string, unknown> {
  return {
    namespace: t.namespace,
    name: t.name,
    version: t.version,
    publish: t.publish,
    annotations: t.annotations,
    parameters: t.parameters,
    limits: {},
    ...(t.rules !== undefined ? { rules: t.rules } : {}),
    updated: t.updated,
  };
}

function checkFeedAnnotation(annotations: KeyValue[], identity: Identity): void {
  const feed = annotations.find((a) => a.key === 'feed');
  if (!feed) return;
  let ok = typeof feed.value === 'string';
  if (ok) {
    try {
      parseFqn(feed.value as string, identity.namespace.name, { allowRelative: false });
    } catch {
      ok = false;
    }
  }
  if (!ok) throw new BadRequestError('Feed name is not valid');
}

async function checkFireSize(req: FastifyRequest): Promise<void> {
  const len = Number(req.headers['content-length'] ?? 0);
  if (len > Limits.payloadBytes) throw new PayloadTooLargeError('Request', len, Limits.payloadBytes);
}

function firePayload(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestError('The request content was malformed: the event payload must be a JSON object.');
  }
  return body as Record<string, unknown>;
}
