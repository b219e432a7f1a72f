import Fastify from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { metricsRefusal, renderMetrics } from '@whirl/core';
import { ControllerMetrics } from './metrics.js';
import { recommendMemory, summarizeUsage } from './usage.js';

function registryWithBrokenCollector(): Registry {
  const registry = new Registry();
  const ok = new Counter({ name: 'test_ok_total', help: 'fine', registers: [registry] });
  ok.inc(3);
  new Gauge({
    name: 'test_broken',
    help: 'throws on collect',
    registers: [registry],
    collect() {
      throw new Error('store does not answer');
    },
  });
  new Gauge({
    name: 'test_async_broken',
    help: 'rejects on collect',
    registers: [registry],
    async collect() {
      throw new Error('broker does not answer');
    },
  });
  new Gauge({ name: 'test_after', help: 'after the broken ones', registers: [registry] }).set(7);
  return registry;
}

describe('GET /metrics', () => {
  it('leaves out a collector that throws, logs it, and still answers 200 with the rest', async () => {
    const registry = registryWithBrokenCollector();
    const warnings: string[] = [];
    const app = Fastify();
    new ControllerMetrics({ registries: [registry], access: {} }).register(app, { warn: (o) => warnings.push(String((o as { metric: string }).metric)) });
    const res = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toMatch(/^test_ok_total 3$/m);
    expect(res.body).toMatch(/^test_after 7$/m);
    expect(res.body).not.toMatch(/test_broken/);
    expect(warnings.sort()).toEqual(['test_async_broken', 'test_broken']);
    // The HTTP counter saw the scrape itself.
    const again = await app.inject({ method: 'GET', url: '/metrics' });
    expect(again.body).toMatch(/^whirl_http_requests_total\{method="GET",route="\/metrics",status="200"\} 1$/m);
  });

  it('renders several registries (the standalone process and its invoker) in one scrape', async () => {
    const a = new Registry();
    const b = new Registry();
    new Counter({ name: 'a_total', help: 'a', registers: [a] }).inc();
    new Counter({ name: 'b_total', help: 'b', registers: [b] }).inc(2);
    const text = await renderMetrics([a, b], () => undefined);
    expect(text).toMatch(/^a_total 1$/m);
    expect(text).toMatch(/^b_total 2$/m);
  });

  it("shows the invokers' pools from their health pings under the invokers' gauge names", async () => {
    const registry = new Registry();
    const metrics = new ControllerMetrics({ registries: [registry], access: {} });
    const reports = [{ invoker: 1, pool: { warm: 2, paused: 1, stemCells: 2, busy: 3, usedMB: 512, budgetMB: 2048, queued: 4 } }];
    metrics.watchInvokerPools(() => reports);
    const text = await renderMetrics([registry], () => undefined);
    expect(text).toContain('whirl_invoker_containers{invoker="1",reported="health_ping",state="busy"} 3');
    expect(text).toContain('whirl_invoker_containers{invoker="1",reported="health_ping",state="stem_cell"} 2');
    expect(text).toContain('whirl_invoker_memory_used_bytes{invoker="1",reported="health_ping"} 536870912');
    expect(text).toContain('whirl_invoker_memory_budget_bytes{invoker="1",reported="health_ping"} 2147483648');
    expect(text).toContain('whirl_invoker_queue_depth{invoker="1",reported="health_ping"} 4');
    // An invoker gone from the reports is gone from the scrape.
    reports.length = 0;
    expect(await renderMetrics([registry], () => undefined)).not.toContain('invoker="1"');
  });

  it('asks for the bearer token when one is set, and stays internal without one', async () => {
    const app = Fastify();
    new ControllerMetrics({ registries: [new Registry()], access: { token: 'a-token-of-enough-length' } }).register(app, undefined);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong-token-of-enough-len' } })).statusCode).toBe(401);
    const ok = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer a-token-of-enough-length', 'x-whirl-edge': '1' } });
    expect(ok.statusCode).toBe(200);

    expect(metricsRefusal({}, { viaEdge: true })?.status).toBe(403);
    expect(metricsRefusal({}, { viaEdge: false, remoteAddress: '10.0.0.5' })).toBeUndefined();
    expect(metricsRefusal({ loopbackOnly: true }, { viaEdge: false, remoteAddress: '10.0.0.5' })?.status).toBe(403);
    expect(metricsRefusal({ loopbackOnly: true }, { viaEdge: false, remoteAddress: '::ffff:127.0.0.1' })).toBeUndefined();
  });
});

describe('memory recommendation', () => {
  it('is the p99 peak plus 25% (at least 16 MB), rounded up to 32 MB, within the limits', () => {
    expect(recommendMemory(18)).toBe(128);
    expect(recommendMemory(120)).toBe(160); // 150 → 160
    expect(recommendMemory(200)).toBe(256); // 250 → 256
    expect(recommendMemory(500)).toBe(512);
  });

  it('summarises only measured activations and counts the shared ones', () => {
    const rec = (mem: number | undefined, cpu: number, shared = false) => ({
      namespace: 'guest',
      name: 'a',
      version: '0.0.1',
      subject: 'guest',
      publish: false,
      activationId: 'x',
      start: 0,
      end: 1,
      response: { statusCode: 0 as const, result: {} },
      logs: [],
      annotations: [
        ...(mem !== undefined ? [{ key: 'memoryPeakMB', value: mem }, { key: 'cpuMs', value: cpu }] : []),
        ...(shared ? [{ key: 'usageShared', value: true }] : []),
      ],
    });
    const records = [...Array.from({ length: 99 }, (_, i) => rec(10 + (i % 10), i)), rec(150, 1000, true), rec(undefined, 0)];
    const u = summarizeUsage({ namespace: 'guest', name: 'a', memoryLimitMB: 256 }, records);
    expect(u).toMatchObject({ activations: 101, measured: 100, shared: 1, memoryPeakMB: { p50: 14, max: 150 }, cpuMs: { max: 1000 } });
    expect(u.memoryPeakMB!.p99).toBe(19);
    expect(u.recommendation!.memoryMB).toBe(128);
    expect(summarizeUsage({ namespace: 'guest', name: 'a', memoryLimitMB: 256 }, [rec(undefined, 0)]).recommendation).toBeNull();
  });
});
