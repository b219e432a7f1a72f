/**
 * Usage per namespace (`GET /namespaces/{ns}/usage`, ActivationStore.usage) with many records, in the
 * SQLite store (BENCH_ACTIVATION_RECORDS, default 1 000 000) and the CouchDB-API store (the same
 * count, at most BENCH_USAGE_COUCH_RECORDS, default 100 000 (1 000 in a smoke run), 0 to skip it:
 * seeding pouchdb-server is slow):
 * - `usage.<store>.query`: a week's range whose ends cut through hours (whole hours come from the
 *   aggregate, the edges from the records); floor: a plain indexed count over the same range in the
 *   same store, which is what a usage query without an aggregate would at least have to do.
 * - `usage.<store>.query_small`: the same query against the same store; floor: it over a namespace
 *   with 100 records, so the ratio says how much the query grows with the number of records.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ActivationRecord, ActivationStore } from '@whirl/core';
import { openCouchStores, openSqliteStores } from '@whirl/store';
import type { Benchmark, BenchContext } from '../lib/bench.js';
import { phaseSeconds, smoke } from '../lib/config.js';
import { summarize } from '../lib/stats.js';

const RECORDS = Number(process.env.BENCH_ACTIVATION_RECORDS ?? 1_000_000);
// pouchdb-server seeds and builds views slowly (about 1 000 records/s): the smoke run keeps it short.
const COUCH_RECORDS = Math.min(RECORDS, Number(process.env.BENCH_USAGE_COUCH_RECORDS ?? (smoke ? 1000 : 100_000)));
const ACTIONS = 20;
const WEEK = 7 * 86_400_000;
const BATCH = 1000;
const run = promisify(execFile);

function record(namespace: string, action: number, start: number, failed: boolean): ActivationRecord {
  const duration = 1 + (start % 500);
  return {
    namespace,
    name: `a${action}`,
    version: '0.0.1',
    subject: namespace,
    publish: false,
    activationId: randomBytes(16).toString('hex'),
    start,
    end: start + duration,
    duration,
    response: { statusCode: failed ? 1 : 0, result: {} },
    logs: [],
    annotations: [
      { key: 'path', value: `${namespace}/a${action}` },
      { key: 'kind', value: 'nodejs:20' },
      { key: 'limits', value: { timeout: 60_000, memory: 256, logs: 10, concurrency: 1 } },
    ],
  };
}

/** `n` records spread evenly over the week before `end`, across ACTIONS actions, 1 in 20 failed. */
async function seed(store: ActivationStore, namespace: string, n: number, end: number): Promise<number> {
  const t0 = performance.now();
  const step = WEEK / n;
  for (let i = 0; i < n; i += BATCH) {
    const batch: ActivationRecord[] = [];
    for (let j = i; j < Math.min(n, i + BATCH); j++) batch.push(record(namespace, j % ACTIONS, Math.floor(end - WEEK + j * step), j % 20 === 0));
    await store.put(batch);
  }
  return n / ((performance.now() - t0) / 1000);
}

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

async function measure(ctx: BenchContext, label: string, store: ActivationStore, records: number): Promise<void> {
  const end = Date.now() - 3_600_000;
  const ns = `bench${randomBytes(3).toString('hex')}`;
  const small = `benchsmall${randomBytes(3).toString('hex')}`;
  const rate = await seed(store, ns, records, end);
  await seed(store, small, 100, end);
  // Ends off the hour, so both partial-hour edges are read from the records.
  const range = { since: end - WEEK + 1_234_567, upto: end - 7_654_321 };
  const seconds = phaseSeconds(10);
  // The first call builds CouchDB's view indexes; it is not what a user waits for afterwards.
  const first = performance.now();
  const check = await store.usage({ namespace: ns, ...range });
  const firstMs = performance.now() - first;
  await store.count({ namespace: ns, ...range });
  const counted = check.reduce((t, u) => t + u.invocations, 0);
  const expected = await store.count({ namespace: ns, ...range });
  if (counted !== expected) throw new Error(`usage counted ${counted} invocations where the store holds ${expected} records in the range`);

  const usage = await timeCalls(() => store.usage({ namespace: ns, ...range }), seconds, 200);
  const count = await timeCalls(() => store.count({ namespace: ns, ...range }), seconds, 200);
  const usageSmall = await timeCalls(() => store.usage({ namespace: small, ...range }), seconds, 200);
  const extra = { records, actions: ACTIONS, in_range: expected, seed_per_s: Math.round(rate), first_call_ms: Math.round(firstMs) };
  ctx.emit({ name: `usage.${label}.query`, unit: 'ms', samples: usage, floor: summarize(count).p50, extra: { ...extra, floor_is: 'indexed count, same range' } });
  ctx.emit({ name: `usage.${label}.query_small`, unit: 'ms', samples: usage, floor: summarize(usageSmall).p50, extra: { ...extra, floor_is: 'usage over 100 records' } });
}

async function sqlite(ctx: BenchContext): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'whirl-bench-usage-'));
  const stores = openSqliteStores(path.join(dir, 'whirl.db'));
  try {
    await measure(ctx, 'sqlite', stores.activations, RECORDS);
  } finally {
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Against COUCHDB_URL, or the dev pouchdb-server (started here and stopped again when it was not running). */
async function couchdb(ctx: BenchContext): Promise<void> {
  const script = fileURLToPath(new URL('../../deploy/dev/couchdb.sh', import.meta.url));
  let started = false;
  let url = process.env.COUCHDB_URL;
  if (url === undefined) {
    const { stdout } = await run(script, ['start'], { timeout: 120_000 });
    started = stdout.trim() === 'started';
    url = 'http://whirl:whirl@127.0.0.1:15984';
  }
  const prefix = `whirl_bench_${randomBytes(4).toString('hex')}_`;
  const stores = await openCouchStores(url, { prefix });
  try {
    await measure(ctx, 'couchdb', stores.activations, COUCH_RECORDS);
  } finally {
    await stores.close();
    await Promise.all(['whisks', 'activations', 'subjects'].map((n) => dropDatabase(url, `${prefix}${n}`)));
    if (started) await run(script, ['stop'], { timeout: 60_000 });
  }
}

async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const u = new URL(serverUrl);
  const authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  u.username = '';
  u.password = '';
  await fetch(new URL(encodeURIComponent(name), u), { method: 'DELETE', headers: { authorization }, signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
}

export const usageBench: Benchmark = {
  name: 'usage',
  description: 'usage per namespace over 1 000 000 records (SQLite) and 100 000 (CouchDB-API), against an indexed count and a small namespace',
  async run(ctx) {
    await sqlite(ctx);
    if (COUCH_RECORDS > 0) await couchdb(ctx);
  },
};
