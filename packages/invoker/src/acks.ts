/**
 * Acks back to the controller that published the activation. Results and completions go straight to
 * the controller when it offered a direct channel (blocking activations: one HTTP hop instead of a
 * Kafka round trip); the bus is the fallback whenever that post is not answered with 204, so a
 * completion, which frees the controller's slot, is never lost (applying one twice does nothing).
 */
import { Topics, type AckMessage, type ActivationMessage, type MessageBus } from '@whirl/core';
import http from 'node:http';
import { postJson } from './factory/http.js';
import type { InvokerLog } from './types.js';

const ackAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export class AckSender {
  constructor(
    private readonly bus: MessageBus,
    private readonly invokerId: string,
    private readonly log: InvokerLog,
  ) {}

  async send(msg: ActivationMessage, body: Pick<AckMessage, 'result' | 'completion'>): Promise<void> {
    const ack: AckMessage = { v: 1, transid: msg.transid, activationId: msg.activationId, invoker: this.invokerId, ...body };
    if (msg.replyTo && (await postDirect(msg.replyTo, ack))) return;
    try {
      await this.bus.publish(Topics.completed(msg.controller), { object: ack });
    } catch (err) {
      this.log.error({ err, activationId: msg.activationId }, 'could not publish ack');
    }
  }
}

/** Posts an ack to a controller's direct channel; false when that did not work (use the bus). */
async function postDirect(replyTo: { url: string; token: string }, ack: AckMessage): Promise<boolean> {
  try {
    const url = new URL(replyTo.url);
    const r = await postJson(url.hostname, Number(url.port || 80), url.pathname, ack, 2_000, {
      agent: ackAgent,
      headers: { 'x-whirl-ack-token': replyTo.token },
      maxBodyBytes: 4096,
    });
    return r.status === 204;
  } catch {
    return false;
  }
}
