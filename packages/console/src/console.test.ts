import { readFileSync } from 'node:fs';
import path from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { fmtMemory, occupancyOf, parsePoolMetrics } from '../web/metrics.js';
import { parseKeyPaste } from '../web/paste.js';
import { consoleDir, consolePlugin } from './index.js';
import { BUILD_INFO, sourceHash } from './source-hash.js';

describe('the checked-in console bundle', () => {
  it('was built from the sources as they are (else run `pnpm build:console` and commit dist/)', () => {
    const info = JSON.parse(readFileSync(path.join(consoleDir, BUILD_INFO), 'utf8')) as { sourceHash: string };
    expect(info.sourceHash).toBe(sourceHash());
  });
});

describe('consolePlugin', () => {
  it('redirects /console, serves index.html with a same-origin CSP, and 404s unknown files', async () => {
    const app = Fastify();
    await app.register(consolePlugin);
    const r = await app.inject({ url: '/console' });
    expect(r.statusCode).toBe(308);
    expect(r.headers.location).toBe('/console/');
    const index = await app.inject({ url: '/console/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-security-policy']).toMatch(/default-src 'self'.*connect-src 'self'/);
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.body).toContain('<div id="app">');
    expect((await app.inject({ url: '/console/assets/missing.js' })).statusCode).toBe(404);
    await app.close();
  });
});

describe('parseKeyPaste', () => {
  const key = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP';
  it.each([
    [key, { auth: key }],
    [`  ${key}\n`, { auth: key }],
    [`APIHOST=http://127.0.0.1:3233\nAUTH=${key}\nNAMESPACE=guest\n`, { auth: key, apiHost: 'http://127.0.0.1:3233' }],
    [`APIHOST=http://127.0.0.1:3233 AUTH=${key} NAMESPACE=guest`, { auth: key, apiHost: 'http://127.0.0.1:3233' }],
    [`export AUTH="${key}"`, { auth: key }],
  ])('reads %j', (text, want) => {
    expect(parseKeyPaste(text)).toEqual(want);
  });
  it.each([
    ['', 'Paste the namespace key'],
    ['APIHOST=http://x\n', 'no AUTH= line'],
    ['not a key', 'uuid:key'],
    ['AUTH=a:b:c', 'uuid:key'],
  ])('refuses %j with a sentence', (text, words) => {
    const r = parseKeyPaste(text);
    expect('error' in r && r.error).toContain(words);
  });
});

describe('parsePoolMetrics', () => {
  // The shape prom-client renders for the invoker's pool gauges, among other metrics.
  const scrape = [
    '# HELP whirl_invoker_containers Containers in the pool by state.',
    '# TYPE whirl_invoker_containers gauge',
    'whirl_invoker_containers{invoker="0",state="warm"} 2',
    'whirl_invoker_containers{invoker="0",state="paused"} 1',
    'whirl_invoker_containers{invoker="0",state="stem_cell"} 3',
    'whirl_invoker_containers{invoker="0",state="busy"} 0',
    'whirl_invoker_containers{invoker="1",state="busy"} 4',
    '# TYPE whirl_invoker_memory_used_bytes gauge',
    'whirl_invoker_memory_used_bytes{invoker="0"} 402653184',
    'whirl_invoker_memory_budget_bytes{invoker="0"} 2147483648',
    'whirl_invoker_queue_depth{invoker="0"} 5',
    'whirl_invoker_usage_samples_total{invoker="0",outcome="ok"} 9',
    'whirl_http_requests_total{method="GET",route="/metrics",status="200"} 1',
    'process_cpu_seconds_total 0.5',
    'openwhisk_action_status{namespace="guest",initiator="guest",action="a \\"b\\"",status="success"} 1',
    '',
  ].join('\n');

  it('reads each invoker\'s containers by state, memory and queue depth, and nothing else', () => {
    const pools = parsePoolMetrics(scrape);
    expect([...pools.keys()]).toEqual(['0', '1']);
    expect(pools.get('0')).toEqual({ warm: 2, paused: 1, stemCells: 3, busy: 0, memoryUsedBytes: 384 * 1024 * 1024, memoryBudgetBytes: 2048 * 1024 * 1024, queueDepth: 5 });
    expect(pools.get('1')).toEqual({ busy: 4 });
    expect(fmtMemory(pools.get('0')!)).toBe('384 of 2048 MB');
    expect(fmtMemory(pools.get('1')!)).toBe('— of — MB');
  });

  it('finds an invoker by the name GET /invokers gives it', () => {
    const pools = parsePoolMetrics(scrape);
    expect(occupancyOf(pools, 'invoker0')?.warm).toBe(2);
    expect(occupancyOf(pools, 'invoker7')).toBeUndefined();
  });

  it('returns no pools for a scrape without pool gauges', () => {
    expect(parsePoolMetrics('process_cpu_seconds_total 0.5\n').size).toBe(0);
  });
});
