/**
 * `GET /namespaces/{ns}/usage?since=&upto=`: invocations, errors, duration and GB-seconds per action
 * and in total, from the aggregate the activation store keeps (see core/usage.ts for what counts and
 * how it is billed). Unlike OpenWhisk's list routes it refuses unknown parameters: a misspelt `sinse`
 * silently widening a bill to all time would be worse than a 400.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { BadRequestError, addUsage, gbSeconds, queryParam, strictQuery, type UsageFigures } from '@whirl/core';
import { identityOf, type Ctx } from '../context.js';
import { ownNamespace } from '../resolve.js';

const epochMs = (name: string) =>
  queryParam((v) => {
    if (v === undefined) return undefined;
    if (!/^\d{1,16}$/.test(v)) throw new BadRequestError(`The parameter '${name}' must be a time in epoch milliseconds (a whole number), got '${v}'.`);
    return Number(v);
  }, `Only activations that started ${name === 'since' ? 'at or after' : 'at or before'} this time, epoch ms (inclusive).`);

export const UsageQuerySchema = strictQuery({ since: epochMs('since'), upto: epochMs('upto') }).check((c) => {
  const { since, upto } = c.value;
  if (since !== undefined && upto !== undefined && since > upto) {
    c.issues.push({ code: 'custom', input: c.value, message: `The time range is inverted: 'since' (${since}) is after 'upto' (${upto}).` });
  }
});

const FiguresSchema = z.object({
  invocations: z.number().int().describe('Activations that started in the range.'),
  errors: z.number().int().describe('Of those, the ones whose outcome was not success.'),
  duration: z.number().int().describe('Sum of their durations, ms.'),
  gbSeconds: z.number().describe('Sum of memory limit (GB) × billed duration (s); billed duration is rounded up to the next ms, at least 1 ms.'),
});

export const UsageResponseSchema = z.object({
  namespace: z.string(),
  since: z.number().int().optional(),
  upto: z.number().int().optional(),
  actions: z.array(FiguresSchema.extend({ action: z.string().describe('The action, `ns/[pkg/]name`.') })),
  total: FiguresSchema,
});
export type UsageResponse = z.infer<typeof UsageResponseSchema>;

const ParamsSchema = z.object({ ns: z.string().describe('The namespace, or `_` for your own.') });

export async function usageRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  app.get<{ Params: z.output<typeof ParamsSchema>; Querystring: z.output<typeof UsageQuerySchema> }>(
    '/api/v1/namespaces/:ns/usage',
    {
      schema: { params: ParamsSchema, querystring: UsageQuerySchema },
      config: {
        doc: {
          summary: 'Usage of the namespace per action: invocations, errors, duration, GB-seconds',
          tags: ['usage'],
          responses: {
            200: { description: 'Usage per action (ordered by action) and in total.', body: UsageResponseSchema },
            400: 'An unknown query parameter, a time that is not epoch ms, or since after upto.',
            403: 'The namespace is not yours.',
          },
        },
      },
    },
    async (req): Promise<UsageResponse> => {
      const namespace = ownNamespace(identityOf(req), req.params.ns);
      const { since, upto } = req.query;
      const rows = await ctx.activations.usage({ namespace, ...(since !== undefined ? { since } : {}), ...(upto !== undefined ? { upto } : {}) });
      const total: UsageFigures = { invocations: 0, errors: 0, durationMs: 0, mbMs: 0 };
      for (const r of rows) addUsage(total, r);
      const render = (f: UsageFigures) => ({ invocations: f.invocations, errors: f.errors, duration: f.durationMs, gbSeconds: gbSeconds(f.mbMs) });
      return {
        namespace,
        ...(since !== undefined ? { since } : {}),
        ...(upto !== undefined ? { upto } : {}),
        actions: rows.map((r) => ({ action: r.action, ...render(r) })),
        total: render(total),
      };
    },
  );
}
