/**
 * The direct channel to an invoker: a blocking activation is posted to the invoker's
 * `/__whirl/activations` (advertised in its health pings) so that it starts without waiting for the
 * Kafka round trip; the Kafka copy is still published, as the write-behind log (see sharding.ts).
 */
import http from 'node:http';
import type { ActivationMessage } from '@whirl/core';

export interface DirectChannel {
  url: string;
  token: string;
}

/** The direct channel a ping advertised, if it is well-formed. */
export function directChannel(v: unknown): DirectChannel | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const { url, token } = v as Record<string, unknown>;
  if (typeof url !== 'string' || typeof token !== 'string' || token.length < 16) return undefined;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' ? { url, token } : undefined;
  } catch {
    return undefined;
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' });

/**
 * Posts `msg` on the channel: `taken` on 202, `refused` when it certainly did not arrive (connection
 * refused, or an answer other than 202), `unknown` when it may have (timeout, connection reset).
 */
export function postActivation(ch: DirectChannel, msg: ActivationMessage, timeoutMs: number): Promise<'taken' | 'refused' | 'unknown'> {
  const body = Buffer.from(JSON.stringify(msg));
  return new Promise((resolve) => {
    let sent = false;
    let req: http.ClientRequest;
    try {
      req = http.request(ch.url, {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': body.length, 'x-whirl-invoke-token': ch.token },
      });
    } catch {
      resolve('refused');
      return;
    }
    const timer = setTimeout(() => {
      req.destroy();
      resolve('unknown');
    }, timeoutMs);
    req.on('response', (res) => {
      clearTimeout(timer);
      res.resume();
      resolve(res.statusCode === 202 ? 'taken' : 'refused');
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(!sent || err.code === 'ECONNREFUSED' ? 'refused' : 'unknown');
    });
    req.on('finish', () => {
      sent = true;
    });
    req.end(body);
  });
}
