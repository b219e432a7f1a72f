/** Routes that need no credentials: `/`, `/ping`, `/api/v1`. */
import type { FastifyInstance } from 'fastify';
import { Limits } from '@whirl/core';
import type { Ctx } from '../context.js';

const doc = (summary: string, responses: Record<number, string | { description: string; contentType: string }>, tags = ['info']) => ({
  config: { doc: { summary, tags, auth: false, responses } },
});

export async function infoRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  app.get('/ping', doc('Liveness', { 200: { description: '`pong`', contentType: 'text/plain' } }), async (_req, reply) => reply.type('text/plain').send('pong'));

  app.get('/', doc('Platform description, limits and runtimes', { 200: 'Description, limits and the runtimes by family.' }), async () => ({
    description: 'Whirl, an OpenWhisk-compatible FaaS platform',
    support: { github: 'https://github.com/whirl-faas/whirl', slack: '' },
    api_paths: ['/api/v1'],
    limits: {
      actions_per_minute: Limits.invocationsPerMinute,
      triggers_per_minute: Limits.firesPerMinute,
      concurrent_actions: Limits.concurrentInvocations,
      sequence_length: Limits.sequenceLength,
      min_action_duration: Limits.timeoutMs.min,
      max_action_duration: Limits.timeoutMs.max,
      min_action_memory: Limits.memoryMB.min * 1024 * 1024,
      max_action_memory: Limits.memoryMB.max * 1024 * 1024,
      min_action_logs: Limits.logsMB.min * 1024 * 1024,
      max_action_logs: Limits.logsMB.max * 1024 * 1024,
      default_min_action_duration: Limits.timeoutMs.min,
      default_max_action_duration: Limits.timeoutMs.max,
      default_min_action_memory: Limits.memoryMB.min * 1024 * 1024,
      default_max_action_memory: Limits.memoryMB.max * 1024 * 1024,
      default_min_action_logs: Limits.logsMB.min * 1024 * 1024,
      default_max_action_logs: Limits.logsMB.max * 1024 * 1024,
    },
    runtimes: ctx.kinds.runtimesView(),
  }));

  const apiInfo = async () => ({
    description: 'OpenWhisk API',
    api_version: '1.0.0',
    api_version_path: 'v1',
    build: ctx.config.build,
    buildno: ctx.config.buildNo,
    swagger_paths: { ui: '/docs', 'api-docs': '/api-docs' },
  });
  // Admin routes, as OpenWhisk has them (no credentials; keep them behind the edge in production).
  const admin = ['admin'];
  app.get('/invokers', doc('Invoker states', { 200: 'Each invoker and its state (up, unhealthy, unresponsive, offline).' }, admin), async () => ctx.lb.invokerStates());
  app.get('/invokers/healthy/count', doc('Number of healthy invokers', { 200: 'A number.' }, admin), async () => Object.values(ctx.lb.invokerStates()).filter((s) => s === 'up').length);
  app.get('/invokers/ready', doc('Readiness: are all invokers up', { 200: '{"healthy": "n/m"}', 500: '{"unhealthy": "n/m"}' }, admin), async (_req, reply) => {
    const states = Object.values(ctx.lb.invokerStates());
    const healthy = states.filter((s) => s === 'up').length;
    const ok = states.length > 0 && healthy === states.length;
    return reply.code(ok ? 200 : 500).send(ok ? { healthy: `${healthy}/${states.length}` } : { unhealthy: `${states.length - healthy}/${states.length}` });
  });

  const infoDoc = doc('API version and build', { 200: 'Description, version, build.' });
  app.get('/api/v1', infoDoc, apiInfo);
  app.get('/api/v1/', infoDoc, apiInfo);
}
