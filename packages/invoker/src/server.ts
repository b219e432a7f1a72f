/**
 * The invoker's own small HTTP server: GET /metrics for Prometheus, and POST /__whirl/activations,
 * the direct channel on which controllers hand over blocking activations without waiting for a
 * Kafka round trip (the Kafka copy follows as the write-behind log; the invoker runs one of them).
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { Registry } from 'prom-client';
import { EDGE_HEADER, METRICS_CONTENT_TYPE, Limits, decodeActivationMessage, metricsRefusal, renderMetrics, type ActivationMessage } from '@whirl/core';

/** Largest direct post read: a message carries at most the payload limit plus its envelope. */
const maxDirectBytes = Limits.payloadBytes * 2 + 64 * 1024;

export interface InvokerServerOptions {
  registry: Registry;
  port: number;
  host: string;
  metricsToken?: string | undefined;
  /** The token controllers must send in `x-whirl-invoke-token` on the direct channel. */
  directToken: string;
  /** Takes a posted activation: `stopped` when the invoker is not running (the bus copy will do). */
  accept(msg: ActivationMessage, via: 'direct'): 'taken' | 'duplicate' | 'stopped';
  log: { warn(o: object, m: string): void };
}

export async function serveInvoker(o: InvokerServerOptions): Promise<http.Server> {
  const expected = Buffer.from(o.directToken);
  const server = http.createServer((req, res) => {
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    const sendError = (status: number, error: string): void => send(status, 'application/json', JSON.stringify({ error }));
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'POST' && path === '/__whirl/activations') {
      const given = Buffer.from(String(req.headers['x-whirl-invoke-token'] ?? ''));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        req.resume();
        sendError(403, 'The invoke token is wrong.');
        return;
      }
      readBody(req, maxDirectBytes).then(
        (body) => {
          let msg: ActivationMessage;
          try {
            msg = decodeActivationMessage(body);
          } catch {
            sendError(400, 'The request content was malformed: expected an activation message.');
            return;
          }
          // 202 also for a copy already taken: the activation is in hand either way.
          if (o.accept(msg, 'direct') === 'stopped') sendError(503, 'The invoker is not running.');
          else send(202, 'application/json', '{}');
        },
        (err: unknown) => sendError(413, err instanceof Error ? err.message : String(err)),
      );
      return;
    }
    if (req.method !== 'GET' || path !== '/metrics') {
      sendError(404, 'The invoker serves only GET /metrics (and its internal direct channel).');
      return;
    }
    const refusal = metricsRefusal(
      { token: o.metricsToken },
      { authorization: req.headers.authorization, viaEdge: req.headers[EDGE_HEADER] !== undefined, remoteAddress: req.socket.remoteAddress },
    );
    if (refusal) {
      sendError(refusal.status, refusal.error);
      return;
    }
    renderMetrics([o.registry], (name, err) => o.log.warn({ err, metric: name }, 'a metrics collector failed; left out of this scrape')).then(
      (text) => send(200, METRICS_CONTENT_TYPE, text),
      (err: unknown) => sendError(500, String(err)),
    );
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  return server;
}

function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.destroy();
        reject(new Error(`The activation message is larger than allowed: more than ${max} bytes.`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
