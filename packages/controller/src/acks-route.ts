/**
 * The direct ack channel (distributed): invokers post the results and completions of blocking
 * activations to `/__whirl/acks` instead of going through Kafka, with the token this controller put
 * in each activation message's `replyTo`. Registered only when the controller offers the channel.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { BadRequestError, ForbiddenError, type AckMessage } from '@whirl/core';
import type { LoadBalancer } from './loadbalancer/lean.js';
import { applyAck, type ActivationWaiter } from './waiter.js';

const acksDoc = {
  summary: 'Internal: invokers post the results and completions of blocking activations here (distributed)',
  tags: ['internal'],
  auth: false,
  responses: { 204: 'Applied.', 400: 'Not an ack with a result or a completion.', 403: 'The ack token is wrong.' },
};

export async function acksRoute(app: FastifyInstance, o: { token: string; waiter: ActivationWaiter; lb: LoadBalancer }): Promise<void> {
  const expected = Buffer.from(o.token);
  app.post('/__whirl/acks', { config: { doc: acksDoc } }, async (req, reply) => {
    const given = Buffer.from(String(req.headers['x-whirl-ack-token'] ?? ''));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new ForbiddenError('The ack token is wrong.', 'INTERNAL_TOKEN_WRONG');
    const ack = req.body as AckMessage | undefined;
    if (!ack || ack.v !== 1 || typeof ack.activationId !== 'string' || (!ack.result && !ack.completion)) {
      throw new BadRequestError('The request content was malformed: expected an ack with a result or a completion.');
    }
    applyAck(ack, o.waiter, o.lb);
    return reply.code(204).send();
  });
}
