import { readFileSync } from 'node:fs';
import path from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { findActivations, statusCodeOf, statusName, STATUS_NAMES, type ActivationLike as Activation } from '../web/activation.js';
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

describe('activation status', () => {
  const base = { activationId: 'a'.repeat(32), name: 'x', namespace: 'guest', start: 1 };
  it("reads the server's four status strings (docs=true) and the summaries' statusCode alike", () => {
    // The strings packages/core/src/activation.ts renders, in statusCode order.
    expect(STATUS_NAMES).toEqual(['success', 'application error', 'action developer error', 'whisk internal error']);
    STATUS_NAMES.forEach((status, code) => {
      const full: Activation = { ...base, response: { status, success: code === 0 } };
      expect(statusCodeOf(full)).toBe(code);
      expect(statusCodeOf({ ...base, statusCode: code })).toBe(code);
      expect(statusName({ ...base, statusCode: code })).toBe(status);
    });
    // A trigger's summary has no statusCode (it never ends): a success, as its full record says.
    expect(statusCodeOf(base)).toBe(0);
  });
});

describe('findActivations', () => {
  const acts: Activation[] = Array.from({ length: 230 }, (_, i) => ({
    activationId: i.toString(16).padStart(32, '0'),
    name: 'x',
    namespace: 'guest',
    start: 10_000 - i,
    statusCode: i % 40 === 0 ? 1 : 0,
  }));
  const pages: number[] = [];
  const fetchPage = (skip: number, limit: number) => {
    pages.push(skip);
    return Promise.resolve(acts.slice(skip, skip + limit));
  };
  const failed = (a: Activation) => statusCodeOf(a) === 1;

  it('reads further pages until enough match, newest first', async () => {
    pages.length = 0;
    const r = await findActivations(fetchPage, failed, { want: 3, pageSize: 50, maxPages: 4 });
    expect(r.items.map((a) => a.start)).toEqual([10_000, 9_960, 9_920]);
    expect(pages).toEqual([0, 50]);
    expect(r).toMatchObject({ scanned: 100, complete: false });
  });

  it('stops at the page bound and says how many it looked at', async () => {
    pages.length = 0;
    const r = await findActivations(fetchPage, failed, { want: 50, pageSize: 50, maxPages: 4 });
    expect(pages).toEqual([0, 50, 100, 150]);
    expect(r).toMatchObject({ scanned: 200, complete: false });
    expect(r.items).toHaveLength(5);
  });

  it('knows when it has seen them all, and counts an activation that moved to the next page once', async () => {
    const r = await findActivations(fetchPage, failed, { want: 50, pageSize: 100, maxPages: 4 });
    expect(r).toMatchObject({ scanned: 230, complete: true });
    expect(r.items).toHaveLength(6);
    // A new activation arrived between two pages: the second page starts with the first one's last.
    const shifted = (skip: number, limit: number) => Promise.resolve(skip === 0 ? acts.slice(0, limit) : acts.slice(skip - 1, skip - 1 + limit));
    const d = await findActivations(shifted, () => true, { want: 100, pageSize: 40, maxPages: 2 });
    expect(d.items).toHaveLength(79);
    expect(new Set(d.items.map((a) => a.activationId)).size).toBe(79);
  });
});
