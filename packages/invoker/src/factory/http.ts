/**
 * HTTP client for talking to action proxies. Uses node:http rather than fetch because undici can
 * hang when a docker-published port accepts a connection before the server inside listens, and
 * because the invoker needs to tell "never reached the proxy" from "proxy died mid-request".
 */
import http from 'node:http';

/**
 * - `refused`: nothing listens (yet); safe to retry.
 * - `reset`: the connection was closed or reset before a complete response (docker-proxy does this
 *   while the server inside is not listening yet, and it is also what a crashing proxy looks like).
 * - `timeout`: no complete response within the deadline.
 * - `other`: anything else (DNS, invalid response, ...).
 */
export type ProxyHttpErrorKind = 'refused' | 'reset' | 'timeout' | 'other';

export class ProxyHttpError extends Error {
  override readonly name = 'ProxyHttpError';
  constructor(
    readonly kind: ProxyHttpErrorKind,
    message: string,
    /** The system error code (`ECONNREFUSED`, ...) when there is one. */
    readonly code?: string,
    /** True once any response byte arrived, so the proxy certainly processed the request. */
    readonly responseStarted = false,
  ) {
    super(message);
  }
}

export interface ProxyResponse {
  status: number;
  /** The body as UTF-8, cut at `maxBodyBytes` when that is set. */
  body: string;
  /**
   * Body length in bytes. When the body was cut, reading stopped there: this is the declared
   * Content-Length if there was one, else the bytes read up to the cut (just past the limit).
   */
  bodyBytes: number;
  truncated: boolean;
}

export interface PostJsonOptions {
  agent?: http.Agent;
  /** Keep only this many bytes of the body; past it the response is abandoned and marked truncated. */
  maxBodyBytes?: number;
  /** Headers besides the JSON ones (the controllers' ack channel wants its token). */
  headers?: Record<string, string>;
}

/** Shared keep-alive agent: one container gets many /run calls in a row. */
export const proxyAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' });

function classify(err: NodeJS.ErrnoException, responseStarted: boolean): ProxyHttpError {
  if (err instanceof ProxyHttpError) return err;
  const code = err.code;
  let kind: ProxyHttpErrorKind = 'other';
  if (code === 'ECONNREFUSED') kind = 'refused';
  else if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED' || code === 'ERR_STREAM_PREMATURE_CLOSE') kind = 'reset';
  else if (code === 'ETIMEDOUT') kind = 'timeout';
  else if (/socket hang up|aborted/i.test(err.message)) kind = 'reset';
  return new ProxyHttpError(kind, err.message, code, responseStarted);
}

/** POSTs `body` as JSON; resolves with any HTTP status, rejects with a ProxyHttpError. */
export function postJson(
  host: string,
  port: number,
  path: string,
  body: unknown,
  timeoutMs: number,
  opts: PostJsonOptions = {},
): Promise<ProxyResponse> {
  const payload = Buffer.from(JSON.stringify(body ?? {}), 'utf8');
  const max = opts.maxBodyBytes ?? Infinity;
  return new Promise((resolve, reject) => {
    let settled = false;
    let responseStarted = false;
    const fail = (e: ProxyHttpError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(e);
    };
    const req = http.request({
      host,
      port,
      path,
      method: 'POST',
      agent: opts.agent ?? proxyAgent,
      headers: { ...opts.headers, 'Content-Type': 'application/json', 'Content-Length': payload.length, Accept: 'application/json' },
    });
    // One deadline for the whole exchange: a socket idle timeout would let a slowly dribbling
    // response run past the action's time limit.
    const timer = setTimeout(() => {
      const e = new ProxyHttpError('timeout', `no response from ${host}:${port}${path} within ${timeoutMs} ms`, 'ETIMEDOUT', responseStarted);
      fail(e);
      req.destroy(e);
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => fail(classify(err, responseStarted)));
    req.on('response', (res) => {
      responseStarted = true;
      const chunks: Buffer[] = [];
      let kept = 0;
      let total = 0;
      const declared = Number(res.headers['content-length']);
      res.on('data', (c: Buffer) => {
        if (settled) return;
        total += c.length;
        if (kept < max) {
          const part = kept + c.length > max ? c.subarray(0, max - kept) : c;
          chunks.push(part);
          kept += part.length;
        }
        if (total > max) {
          // Past the limit the rest is of no use: stop reading rather than let an endless or huge
          // body hold the invoker (and its socket) until the action's deadline.
          settled = true;
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            bodyBytes: Number.isSafeInteger(declared) && declared > total ? declared : total,
            truncated: true,
          });
          req.destroy();
        }
      });
      res.on('aborted', () => fail(new ProxyHttpError('reset', 'response aborted', 'ECONNRESET', true)));
      res.on('error', (err: NodeJS.ErrnoException) => fail(classify(err, true)));
      res.on('end', () => {
        if (settled) return;
        if (!res.complete) {
          fail(new ProxyHttpError('reset', 'connection closed before the response was complete', 'ECONNRESET', true));
          return;
        }
        settled = true;
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          bodyBytes: total,
          truncated: total > kept,
        });
      });
    });
    req.end(payload);
  });
}

/**
 * postJson, retrying while the proxy is not reachable yet (`refused`, or `reset` before any response
 * byte) for up to `retryForMs`. `timeoutMs` bounds the whole call, retries included. Meant for /init
 * right after container start; /run must not be retried because the action may already have run.
 */
export async function postJsonWithRetry(
  host: string,
  port: number,
  path: string,
  body: unknown,
  timeoutMs: number,
  retryForMs: number,
  opts: PostJsonOptions & { retryDelayMs?: number } = {},
): Promise<ProxyResponse> {
  const start = Date.now();
  const deadline = start + timeoutMs;
  const retryUntil = start + Math.min(retryForMs, timeoutMs);
  const delay = opts.retryDelayMs ?? 25;
  for (;;) {
    try {
      return await postJson(host, port, path, body, Math.max(1, deadline - Date.now()), opts);
    } catch (e) {
      const retryable =
        e instanceof ProxyHttpError && (e.kind === 'refused' || (e.kind === 'reset' && !e.responseStarted));
      if (!retryable || Date.now() + delay >= retryUntil) throw e;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
