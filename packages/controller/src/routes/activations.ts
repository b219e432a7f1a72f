/** Activation routes (GET only): list, get, result, logs. */
import type { FastifyInstance } from 'fastify';
import {
  BadRequestError,
  NotFoundError,
  checkActivationId,
  isValidName,
  listPaging,
  queryBool,
  renderActivation,
  renderActivationSummary,
  type ActivationListQuery,
  type ActivationRecord,
} from '@whirl/core';
import { identityOf, type Ctx } from '../context.js';
import { ownNamespace } from './common.js';

type ListQuery = Record<string, string | undefined>;

export async function activationRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const base = '/api/v1/namespaces/:ns/activations';

  app.get<{ Params: { ns: string }; Querystring: ListQuery }>(base, async (req) => {
    const namespace = ownNamespace(identityOf(req), req.params.ns);
    const q = req.query;
    const docs = queryBool(q.docs, 'docs', false);
    const count = queryBool(q.count, 'count', false);
    if (docs && count) throw new BadRequestError("The parameter 'docs' is not permitted with 'count'.");
    const filter: Omit<ActivationListQuery, 'limit' | 'skip'> = { namespace };
    if (q.name !== undefined) filter.name = activationName(q.name);
    if (q.since !== undefined) filter.since = epoch(q.since);
    if (q.upto !== undefined) filter.upto = epoch(q.upto);
    const paging = listPaging(q, 'activations');
    if (count) return { activations: await ctx.activations.count(filter) };
    const list = await ctx.activations.list({ ...filter, ...paging });
    return list.map(docs ? renderActivation : renderActivationSummary);
  });

  const one = async (ns: string, id: string, req: Parameters<typeof identityOf>[0]): Promise<ActivationRecord> => {
    const namespace = ownNamespace(identityOf(req), ns);
    const record = await ctx.activations.get(namespace, checkActivationId(id));
    if (!record) throw new NotFoundError();
    return record;
  };

  app.get<{ Params: { ns: string; id: string } }>(`${base}/:id`, async (req) => renderActivation(await one(req.params.ns, req.params.id, req)));
  app.get<{ Params: { ns: string; id: string } }>(`${base}/:id/result`, async (req) => renderActivation(await one(req.params.ns, req.params.id, req)).response);
  app.get<{ Params: { ns: string; id: string } }>(`${base}/:id/logs`, async (req) => ({ logs: (await one(req.params.ns, req.params.id, req)).logs }));
}

function activationName(name: string): string {
  const parts = name.split('/');
  if (parts.length > 2 || !parts.every(isValidName)) {
    throw new BadRequestError(`Parameter may be a 'simple' name or 'package-name/simple' name: ${name}`);
  }
  return name;
}

function epoch(value: string): number {
  if (!/^\d+$/.test(value)) throw new BadRequestError(`Parameter is not a valid value for epoch seconds: ${value}`);
  return Number(value);
}
