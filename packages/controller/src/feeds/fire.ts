/**
 * How an event source fires a trigger: as the identity whose key created the feed, through the same
 * trigger service as `POST .../triggers/{name}` (../triggers/fire.ts: throttles, rules, the trigger
 * activation), answered as an
 * HTTP-like status so that sources decide alike what to retry.
 */
import { randomBytes } from 'node:crypto';
import { WhirlError } from '@whirl/core';
import type { Ctx } from '../context.js';
import { fireTrigger } from '../triggers/fire.js';

export interface FireResult {
  status: number;
  message?: string;
  activationId?: string;
  /** From a 429's Retry-After. */
  retryAfterMs?: number;
}

export async function fireWithKey(
  ctx: Ctx,
  authKey: string,
  target: { namespace: string; trigger: string },
  payload: Record<string, unknown>,
  agent: string,
  headers: Record<string, string> = {},
): Promise<FireResult> {
  const colon = authKey.indexOf(':');
  // Verified like a request's key (hashed at rest, cached): a rotated, deleted or blocked key stops the feed.
  const identity = colon > 0 ? await ctx.auth.verify(authKey.slice(0, colon), authKey.slice(colon + 1)).catch(() => undefined) : undefined;
  if (!identity) return { status: 401, message: 'the key the feed was created with is no longer valid' };
  try {
    const r = await fireTrigger(ctx, {
      identity,
      namespace: target.namespace,
      name: target.trigger,
      payload,
      headers: { 'content-type': 'application/json', 'user-agent': agent, ...headers },
      transid: randomBytes(16).toString('hex'),
    });
    return r.activationId === undefined ? { status: 204 } : { status: 202, activationId: r.activationId };
  } catch (e) {
    if (e instanceof WhirlError) {
      const retryAfter = Number(e.headers['Retry-After'] ?? e.headers['retry-after']);
      return { status: e.statusCode, message: e.message, ...(Number.isFinite(retryAfter) ? { retryAfterMs: retryAfter * 1000 } : {}) };
    }
    throw e;
  }
}

/** Worth firing again later: the platform was busy or failing, not the request wrong. */
export const retryableFire = (status: number): boolean => status === 408 || status === 409 || status === 429 || status >= 500;

/** A wait that ends early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    t.unref();
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
