/** `GET /namespaces` and `GET /namespaces/{ns}/limits`. */
import type { FastifyInstance } from 'fastify';
import { identityOf, type Ctx } from '../context.js';
import { ownNamespace } from '../resolve.js';
import { NsParams } from './schemas.js';

export async function namespaceRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const list = async (req: Parameters<typeof identityOf>[0]) => [identityOf(req).namespace.name];
  const listOpts = { config: { doc: { summary: 'The namespaces of your key', tags: ['namespaces'], responses: { 200: 'An array with your namespace.' } } } };
  app.get('/api/v1/namespaces', listOpts, list);
  app.get('/api/v1/namespaces/', listOpts, list);

  const limitsOpts = {
    schema: { params: NsParams },
    config: { doc: { summary: "The namespace's limits (system defaults filled in)", tags: ['namespaces'], responses: { 200: 'The limits.', 403: 'The namespace is not yours.' } } },
  };
  app.get<{ Params: { ns: string } }>('/api/v1/namespaces/:ns/limits', limitsOpts, async (req) => {
    const identity = identityOf(req);
    ownNamespace(identity, req.params.ns);
    return ctx.userLimits(identity);
  });
}
