/**
 * HTTP to an action container's proxy (`/init`, `/run`). node:http with an explicit deadline, not
 * fetch: undici can hang when a published port accepts a connection before the server inside the
 * container listens. Failures are classified, because the invoker treats them differently: a refused
 * connection during /init is retried (the server is still starting), a reset means the container
 * died (OOM or exit), a timeout means the action ran past its limit.
 */
import http from 'node:http';

export type ProxyFailure = 'refused' | 'reset' | 'timeout';

export class ProxyError extends Error {
  constructor(
    readonly kind: ProxyFailure,
    message: string,
  ) {
    super(message);
    this.name = 'ProxyError';
  }
}

export interface ProxyResponse {
  status: number;
  body: string;
  bytes: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export function postJson(host: string, port: number, path: string, body: unknown, timeoutMs: number): Promise<ProxyResponse> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: ProxyError | undefined, res?: ProxyResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(res!);
    };
    const req = http.request(
      {
        host,
        port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': payload.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          finish(undefined, { status: res.statusCode ?? 0, body: buf.toString('utf8'), bytes: buf.length });
        });
        res.on('error', () => finish(new ProxyError('reset', 'the connection to the action container was lost')));
        res.on('aborted', () => finish(new ProxyError('reset', 'the connection to the action container was lost')));
      },
    );
    const timer = setTimeout(() => {
      finish(new ProxyError('timeout', `no answer within ${timeoutMs} ms`));
      req.destroy();
    }, timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => {
      finish(new ProxyError(e.code === 'ECONNREFUSED' ? 'refused' : 'reset', e.message));
    });
    req.end(payload);
  });
}
