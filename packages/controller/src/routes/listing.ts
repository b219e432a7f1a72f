/**
 * OpenWhisk's list route of a collection that only its own namespace may read (triggers, rules):
 * one page of summaries, or `{"<collection>": n}` with `count=true`. Actions and packages have
 * their own (packages of other namespaces, actions inside packages).
 */
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import type { WhiskRule, WhiskTrigger } from '@whirl/core';
import { identityOf, type Ctx } from '../context.js';
import { ownNamespace } from '../resolve.js';
import { NsParams, entityResponses, listQuery } from './schemas.js';

type Listed = { trigger: WhiskTrigger; rule: WhiskRule };

export function ownListRoute<K extends keyof Listed>(
  app: FastifyInstance,
  ctx: Ctx,
  o: { base: string; entityType: K; collection: string; tags: string[]; render(doc: Listed[K]): unknown },
): void {
  const ListQuery = listQuery(o.collection);
  const doc = { summary: `List ${o.collection}`, tags: o.tags, responses: { ...entityResponses.list(o.collection), 403: 'The namespace is not yours.' } };
  app.get<{ Params: { ns: string }; Querystring: z.output<typeof ListQuery> }>(o.base, { schema: { params: NsParams, querystring: ListQuery }, config: { doc } }, async (req) => {
    const ns = ownNamespace(identityOf(req), req.params.ns);
    const { limit, skip } = req.query;
    if (req.query.count) return { [o.collection]: await ctx.entities.count({ entityType: o.entityType, namespace: ns }) };
    const docs = (await ctx.entities.list({ entityType: o.entityType, namespace: ns, limit, skip })) as Listed[K][];
    return docs.map((d) => o.render(d));
  });
}
