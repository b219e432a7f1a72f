/** `GET /namespaces` and `GET /namespaces/{ns}/limits`. */
import type { FastifyInstance } from 'fastify';
import { identityOf, type Ctx } from '../context.js';
import { ownNamespace } from './common.js';

export async function namespaceRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const list = async (req: Parameters<typeof identityOf>[0]) => [identityOf(req).namespace.name];
  app.get('/api/v1/namespaces', list);
  app.get('/api/v1/namespaces/', list);

  app.get<{ Params: { ns: string } }>('/api/v1/namespaces/:ns/limits', async (req) => {
    const identity = identityOf(req);
    ownNamespace(identity, req.params.ns);
    return ctx.userLimits(identity);
  });
}
