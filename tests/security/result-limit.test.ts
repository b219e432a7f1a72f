/**
 * A container that answers /run (or /init) with an endless or huge body: the invoker's proxy client
 * stops reading just past the result limit, keeps at most the limit, and returns well before the
 * action's deadline, so a hostile proxy can neither exhaust the invoker's memory nor hold it. Against
 * a real HTTP server that streams forever, as a hostile action proxy would.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivationStatus, Limits } from '@whirl/core';
import { postJson } from '../../packages/invoker/src/factory/http.js';
import { runResponse } from '../../packages/invoker/src/response.js';

let server: http.Server;
let port: number;
let bytesSent = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    const chunk = Buffer.alloc(64 * 1024, 'a');
    if (req.url === '/huge') res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(512 * 1024 * 1024) });
    else res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"result":"');
    // Endless: write as fast as the client reads, until the client goes away.
    const pump = (): void => {
      while (!res.destroyed && res.write(chunk)) bytesSent += chunk.length;
      if (!res.destroyed) res.once('drain', pump);
    };
    res.on('close', () => res.removeAllListeners('drain'));
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('container answers past the result limit', () => {
  for (const path of ['/run', '/huge']) {
    it(`cuts ${path === '/run' ? 'an endless chunked' : 'a huge declared'} body at the limit and returns before the deadline`, async () => {
      bytesSent = 0;
      // A deadline the test cannot outwait: without the cut the call would only end at it.
      const r = await postJson('127.0.0.1', port, path, {}, 600_000, { maxBodyBytes: Limits.resultBytes });
      expect(r.truncated).toBe(true);
      expect(Buffer.byteLength(r.body)).toBeLessThanOrEqual(Limits.resultBytes);
      expect(r.bodyBytes).toBeGreaterThan(Limits.resultBytes);
      if (path === '/huge') expect(r.bodyBytes).toBe(512 * 1024 * 1024);
      // The server was stopped from pushing much more than the limit (socket buffers aside).
      expect(bytesSent).toBeLessThan(64 * Limits.resultBytes);
      const response = runResponse(r.status, r.body, r.bodyBytes);
      expect(response.statusCode).toBe(ActivationStatus.ApplicationError);
      expect((response.result as { error: string }).error).toMatch(/^The action produced a response that exceeded the allowed length: \d+ > 1048576 bytes\./);
    }, 120_000);
  }
});
