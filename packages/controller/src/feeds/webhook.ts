/**
 * `/whisk.system/webhook/webhook`: gives a trigger a secret URL that fires it with the request body.
 * Every call must be signed as GitHub signs its webhooks: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256
 * of the raw body with the feed's secret>`; a missing or wrong signature is a 401 and fires nothing.
 * The URL carries an unguessable token too, so that it does not reveal which triggers exist. Any
 * controller serves the URL (no leadership needed: there is no source to consume).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import {
  NotFoundError,
  UnauthorizedError,
  WhirlError,
  checkName,
  feedId,
  feedStatusId,
  Limits,
  ConflictError,
  type FeedRegistration,
  type FeedStatus,
  type StateStore,
} from '@whirl/core';
import type { Ctx } from '../context.js';
import { fireWithKey } from './fire.js';
import { FeedError, type FeedSpec } from './lifecycle.js';
import { checkPayloadBytes } from '../guards.js';

export function webhookUrl(apiHost: string, reg: FeedRegistration): string {
  return `${apiHost.replace(/\/+$/, '')}/api/v1/feeds/webhook/${reg.namespace}/${reg.trigger}/${String(reg.config.token)}`;
}

export function webhookFeedSpec(apiHost: string): FeedSpec {
  return {
    kind: 'webhook',
    action: 'webhook/webhook',
    updatable: ['secret'],
    async configure(p, base) {
      const secret = p.secret ?? base?.secret ?? randomBytes(24).toString('hex');
      if (typeof secret !== 'string' || secret.length < 16) throw new FeedError('The secret parameter must be a string of at least 16 characters.');
      return { config: { token: base?.token ?? randomBytes(16).toString('hex'), secret } };
    },
    sourceOf: (c) => String(c.token),
    show: (_c, reg) => ({ url: webhookUrl(apiHost, reg) }),
    created: (reg) => ({ url: webhookUrl(apiHost, reg), secret: reg.config.secret }),
  };
}

function signatureOk(secret: string, body: Buffer, header: string): boolean {
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(m[1]!, 'hex'));
}

export async function webhookRoutes(app: FastifyInstance, ctx: Ctx, state: StateStore): Promise<void> {
  // The signature covers the exact bytes sent, so the body is kept raw whatever its content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: Limits.payloadBytes }, (_req, body, done) => done(null, body));
  const doc = {
    summary: "Webhook feed: fire the feed's trigger with the signed request body (the URL is the feed's secret)",
    tags: ['feeds'],
    auth: false,
    responses: {
      202: { description: 'Fired: the trigger activation id.', body: z.object({ activationId: z.string() }) },
      204: 'Fired; the trigger has no active rule, so no activation was recorded.',
      401: 'The call is not signed (X-Hub-Signature-256), or the signature does not match the body.',
      404: 'No such webhook (unknown trigger or wrong token).',
      409: 'The webhook is paused.',
      413: 'The body is larger than the payload limit.',
      429: "Over the namespace's fires per minute; Retry-After says when to retry.",
    },
  };
  app.post<{ Params: { ns: string; trigger: string; token: string } }>('/api/v1/feeds/webhook/:ns/:trigger/:token', { config: { doc } }, async (req, reply) => {
    const ns = checkName(req.params.ns, 'namespace');
    const trigger = checkName(req.params.trigger);
    const reg = await state.get<FeedRegistration>(feedId('webhook', ns, trigger));
    const token = Buffer.from(req.params.token);
    const known = Buffer.from(String(reg?.config.token ?? ''));
    if (!reg || token.length !== known.length || !timingSafeEqual(token, known)) throw new NotFoundError('The webhook does not exist.');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    checkPayloadBytes(body.length);
    const sig = req.headers['x-hub-signature-256'];
    if (typeof sig !== 'string') throw new UnauthorizedError('The webhook call is not signed; send X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body with the secret>.', 'BAD_SIGNATURE');
    if (!signatureOk(String(reg.config.secret), body, sig)) throw new UnauthorizedError('The webhook signature does not match the body; sign the exact body with the secret of the feed.', 'BAD_SIGNATURE');
    if (!reg.active) throw new ConflictError(`The webhook of trigger /${ns}/${trigger} is paused.`);
    const text = body.toString('utf8');
    let payload: Record<string, unknown> = text === '' ? {} : { body: text };
    if (text !== '') {
      try {
        const parsed = JSON.parse(text) as unknown;
        payload = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { body: parsed };
      } catch {
        // Not JSON: passed on as text.
      }
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (k === 'authorization' || v === undefined) continue;
      headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    const r = await fireWithKey(ctx, reg.authKey, reg, payload, String(req.headers['user-agent'] ?? 'whirl-webhook'), headers);
    if (r.status >= 300) throw new WhirlError(r.status === 429 ? 'FIRES_PER_MINUTE' : r.status === 404 ? 'NOT_FOUND' : r.status === 401 ? 'BAD_CREDENTIALS' : 'SERVICE_UNAVAILABLE', r.message ?? `The fire failed with status ${r.status}.`, r.retryAfterMs !== undefined ? { headers: { 'Retry-After': String(Math.ceil(r.retryAfterMs / 1000)) } } : {});
    const sid = feedStatusId('webhook', ns, trigger);
    const st = (await state.get<FeedStatus>(sid)) ?? { state: 'running', since: Date.now(), fireCount: 0 };
    await state.put(sid, { ...st, state: 'running', fireCount: st.fireCount + 1, lastFire: Date.now() } satisfies FeedStatus);
    if (r.activationId === undefined) return reply.code(204).send();
    return reply.code(202).send({ activationId: r.activationId });
  });
}
