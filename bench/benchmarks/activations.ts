/**
 * Activation records, for the SQLite (standalone) and CouchDB-API (distributed) stores:
 * - records persisted per second while a 32-client throughput loop runs (floor: invokes completed per
 *   second in that loop: every invoke owes one record);
 * - lag from a blocking invoke's answer to its record being readable (floor: one store read);
 * - `activation list` latency with 100 000 records, through the store (floor: the same query over
 *   100 records) and through HTTP (floor: the store call it wraps);
 * - warm invoke p99 while the retention sweeper deletes those records (the namespace's retention is
 *   lowered below their age), against the warm p99 of the same action just before and just after (floor), with the
 *   sweep's duration and rate. The target: at most 1.2 with 1 000 000 records.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ActivationRecord, ActivationStore } from '@whirl/core';
import { phaseSeconds, sleep, smoke } from '../lib/config.js';
import type { Benchmark, BenchContext } from '../lib/bench.js';
import { runLoad } from '../lib/load.js';
import { Scope } from '../lib/scope.js';
import { summarize } from '../lib/stats.js';
import { authHeader, invokeForRecord, invokeTarget, startDistributedWhirl, startStandaloneWhirl, type Whirl } from '../lib/whirl.js';
import { primeAction, THROUGHPUT_ENV, throughputPhase } from './throughput.js';

const RECORDS = Number(process.env.BENCH_ACTIVATION_RECORDS ?? 100_000);
const BATCH = 1000;
const LIST_LIMIT = 30;

function seedRecord(namespace: string, start: number): ActivationRecord {
  return {
    namespace,
    name: 'seeded',
    version: '0.0.1',
    subject: namespace,
    publish: false,
    activationId: randomBytes(16).toString('hex'),
    start,
    end: start + 1,
    duration: 1,
    response: { statusCode: 0, result: {} },
    logs: [],
    annotations: [{ key: 'path', value: `${namespace}/seeded` }],
  };
}

/** Seeds `n` records in batches through the adapter's put; returns records per second. */
async function seed(store: ActivationStore, namespace: string, n: number): Promise<number> {
  const t0 = performance.now();
  // In the past, so that the benchmark's own records stay on top of `activation list`.
  const base = Date.now() - 86_400_000 - n;
  for (let i = 0; i < n; i += BATCH) {
    const batch: ActivationRecord[] = [];
    for (let j = i; j < Math.min(n, i + BATCH); j++) batch.push(seedRecord(namespace, base + j));
    await store.put(batch);
  }
  return n / ((performance.now() - t0) / 1000);
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

async function timeCalls(fn: () => Promise<unknown>, seconds: number, max: number): Promise<number[]> {
  const out: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (out.length < max && (out.length < 5 || performance.now() < end)) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

async function forStore(ctx: BenchContext, mode: 'standalone' | 'distributed'): Promise<void> {
  const label = mode === 'standalone' ? 'sqlite' : 'couchdb';
  const scope = new Scope();
  try {
    const env = { ...THROUGHPUT_ENV, WHIRL_RETENTION_SWEEP_MS: '500' };
    const w: Whirl = mode === 'standalone' ? await startStandaloneWhirl(scope, { env }) : await startDistributedWhirl(scope, { env });
    const handle = await w.openActivations();
    scope.defer(`${label} store handle`, () => handle.close());
    const store = handle.activations;
    const ns = w.namespace;

    // 1. Records per second under throughput.
    const action = await primeAction(w, 32);
    await sleep(2000);
    const before = await store.count({ namespace: ns });
    const seconds = phaseSeconds(30);
    const load = await throughputPhase(scope, w, action, 32, seconds);
    const atEnd = await store.count({ namespace: ns });
    let settled = atEnd;
    for (let i = 0; i < 20; i++) {
      await sleep(250);
      const c = await store.count({ namespace: ns });
      if (c === settled && i > 3) break;
      settled = c;
    }
    // The loop's warm-up second is in the count too; its requests are not in `load`.
    const phase = seconds + Math.min(1, seconds);
    ctx.emit({
      name: `activations.${label}.records_per_s`,
      unit: '/s',
      value: (atEnd - before) / phase,
      errors: load.errors,
      floor: (settled - before) / phase,
      extra: { invokes_per_s: Math.round(load.rate), behind_at_end: settled - atEnd },
    });

    // 2. Completion → visible.
    const lags: number[] = [];
    const reads: number[] = [];
    let missing = 0;
    for (let i = 0; i < (smoke ? 10 : 50); i++) {
      const { activationId } = await invokeForRecord(w, action);
      const done = performance.now();
      const deadline = done + 10_000;
      for (;;) {
        const r0 = performance.now();
        const found = await store.get(ns, activationId);
        reads.push(performance.now() - r0);
        if (found) {
          lags.push(performance.now() - done);
          break;
        }
        if (performance.now() > deadline) {
          missing++;
          break;
        }
        await sleep(2);
      }
    }
    ctx.emit({ name: `activations.${label}.visible_lag`, unit: 'ms', samples: lags, errors: missing, floor: summarize(reads).p50 });

    // 3. `activation list` with RECORDS records.
    const floorNs = `benchfloor${randomBytes(3).toString('hex')}`;
    await seed(store, floorNs, 100);
    const rate = await seed(store, ns, RECORDS);
    const listSeconds = phaseSeconds(10);
    const q = (namespace: string) => () => store.list({ namespace, limit: LIST_LIMIT, skip: 0 });
    const small = await timeCalls(q(floorNs), listSeconds, 500);
    const big = await timeCalls(q(ns), listSeconds, 500);
    const bigP50 = summarize(big).p50;
    ctx.emit({ name: `activations.${label}.seed_per_s`, unit: '/s', value: rate, floor: null, extra: { records: RECORDS, batch: BATCH } });
    ctx.emit({ name: `activations.${label}.list_store`, unit: 'ms', samples: big, floor: summarize(small).p50, extra: { records: RECORDS, limit: LIST_LIMIT } });
    const http = await runLoad(scope, {
      target: {
        origin: w.apiHost,
        paths: [`/api/v1/namespaces/_/activations?limit=${LIST_LIMIT}`],
        method: 'GET',
        headers: { authorization: authHeader(w) },
        insecure: w.insecure,
      },
      concurrency: 1,
      seconds: listSeconds,
      warmupSeconds: Math.min(1, listSeconds),
    });
    ctx.emit({ name: `activations.${label}.list_http`, unit: 'ms', samples: http.latenciesMs, errors: http.errors, floor: bigP50, extra: { records: RECORDS, limit: LIST_LIMIT } });

    // 4. Retention: the seeded records are a day old; a retention of half a day makes the sweeper
    // delete all of them while sequential warm invokes are timed.
    const warm = (s: number) => runLoad(scope, { target: invokeTarget(w, [action]), concurrency: 1, seconds: s, warmupSeconds: Math.min(1, s) });
    const warmSeconds = phaseSeconds(20);
    const quiet = await warm(warmSeconds);
    const oldUpto = Date.now() - 43_200_000;
    const old = await store.count({ namespace: ns, upto: oldUpto });
    const t0 = performance.now();
    await handle.subjects.putLimits(ns, { retention: 0.5 });
    // Warm invokes are timed in windows until the sweep is over, so the figure covers all of it.
    const during: number[] = [];
    let duringErrors = 0;
    let left = old;
    for (const deadline = performance.now() + (smoke ? 60_000 : 900_000); left > 0 && performance.now() < deadline; ) {
      const r = await warm(warmSeconds);
      during.push(...r.latenciesMs);
      duringErrors += r.errors;
      left = await store.count({ namespace: ns, upto: oldUpto });
    }
    const sweepS = (performance.now() - t0) / 1000;
    await handle.subjects.deleteLimits(ns);
    // The machine is shared: a quiet window after the sweep too, so the floor is not one lucky (or unlucky) stretch.
    const quietAfter = await warm(warmSeconds);
    const quietSamples = [...quiet.latenciesMs, ...quietAfter.latenciesMs];
    ctx.emit({
      name: `activations.${label}.warm_p99_while_sweeping`,
      unit: 'ms',
      value: summarize(during).p99,
      samples: during,
      errors: duringErrors + left,
      floor: summarize(quietSamples).p99,
      extra: { records: old, left, sweep_s: round1(sweepS), swept_per_s: Math.round((old - left) / sweepS), timed_s: Math.round(during.length > 0 ? sweepS : 0) },
    });
  } finally {
    await scope.close();
  }
}

export const activationsBench: Benchmark = {
  name: 'activations',
  description: 'records/s under throughput, completion→visible lag, activation list with 100 000 records, warm p99 while retention sweeps them (SQLite, CouchDB-API)',
  async run(ctx) {
    // BENCH_ACTIVATION_STORES=sqlite runs the standalone half alone (no dev services needed).
    const stores = (process.env.BENCH_ACTIVATION_STORES ?? 'sqlite,couchdb').split(',');
    if (stores.includes('sqlite')) await forStore(ctx, 'standalone');
    if (stores.includes('couchdb')) await forStore(ctx, 'distributed');
  },
};
