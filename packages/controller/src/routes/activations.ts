/** Activation routes (GET only): list, get, result, logs. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  BadRequestError,
  NotFoundError,
  boolParam,
  checkActivationId,
  isValidName,
  pagingParams,
  queryParam,
  renderActivation,
  renderActivationSummary,
  type ActivationListQuery,
  type ActivationRecord,
} from '@whirl/core';
import { identityOf, type Ctx } from '../context.js';
import { ownNamespace } from '../resolve.js';
import { IdParams, NsParams } from './schemas.js';

const ListQuery = z.object({
  docs: boolParam('docs', false, 'Return full activations instead of summaries'),
  count: boolParam('count', false, 'Return only the number of activations'),
  name: queryParam((v) => (v === undefined ? undefined : activationName(v)), 'Only activations of this action (`name` or `package/name`).'),
  since: queryParam((v) => (v === undefined ? undefined : epoch(v)), 'Only activations that started at or after this time, epoch ms.'),
  upto: queryParam((v) => (v === undefined ? undefined : epoch(v)), 'Only activations that started at or before this time, epoch ms.'),
  ...pagingParams('activations'),
});
const tags = ['activations'];
const oneResponses = { 403: 'The namespace is not yours.', 404: 'The activation does not exist.' };

export async function activationRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const base = '/api/v1/namespaces/:ns/activations';

  const listDoc = {
    summary: 'List activations (newest first)',
    tags,
    responses: { 200: 'Activation summaries (full activations with docs=true), or {"activations": n} with count=true.', 403: 'The namespace is not yours.' },
  };
  app.get<{ Params: { ns: string }; Querystring: z.output<typeof ListQuery> }>(base, { schema: { params: NsParams, querystring: ListQuery }, config: { doc: listDoc } }, async (req) => {
    const namespace = ownNamespace(identityOf(req), req.params.ns);
    const q = req.query;
    const { docs, count } = q;
    if (docs && count) throw new BadRequestError("The parameter 'docs' is not permitted with 'count'.");
    const filter: Omit<ActivationListQuery, 'limit' | 'skip'> = { namespace };
    if (q.name !== undefined) filter.name = q.name;
    if (q.since !== undefined) filter.since = q.since;
    if (q.upto !== undefined) filter.upto = q.upto;
    const paging = { limit: q.limit, skip: q.skip };
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

  const opts = (summary: string, ok: string) => ({ schema: { params: IdParams }, config: { doc: { summary, tags, responses: { 200: ok, ...oneResponses } } } });
  app.get<{ Params: { ns: string; id: string } }>(`${base}/:id`, opts('Get an activation', 'The activation.'), async (req) =>
    renderActivation(await one(req.params.ns, req.params.id, req)),
  );
  app.get<{ Params: { ns: string; id: string } }>(`${base}/:id/result`, opts("Get an activation's response", 'Its response: result, status, success.'), async (req) =>
    renderActivation(await one(req.params.ns, req.params.id, req)).response,
  );
  app.get<{ Params: { ns: string; id: string } }>(`${base}/:id/logs`, opts("Get an activation's logs", '{"logs": [lines]}.'), async (req) => ({
    logs: (await one(req.params.ns, req.params.id, req)).logs,
  }));
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
