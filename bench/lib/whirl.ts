/** Whirl under test: standalone or distributed, started and stopped through a Scope, and its REST API. */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import type { ActivationStore, SubjectStore } from '@whirl/core';
import { openCouchStores, openSqliteStores } from '@whirl/store';
import { startDistributed, type Distributed } from '../../deploy/dev/distributed.js';
import { sleep } from './config.js';
import type { LoadTarget } from './load.js';
import { spawnReady, tsxArgv } from './proc.js';
import { log } from './report.js';
import type { Scope } from './scope.js';

/**
 * Benchmarks measure the invoke path, not the default per-namespace throttles (60/min) nor pausing
 * (a paused container would also make the direct-to-container floor impossible).
 */
export const BENCH_ENV: Readonly<Record<string, string>> = {
  WHIRL_INVOCATIONS_PER_MINUTE: '100000000',
  WHIRL_CONCURRENT_INVOCATIONS: '100000',
  WHIRL_FIRES_PER_MINUTE: '100000',
  WHIRL_PAUSE_GRACE_MS: '3600000',
  WHIRL_LOG_LEVEL: 'warn',
};

export interface Whirl {
  mode: 'standalone' | 'distributed';
  apiHost: string;
  auth: string;
  namespace: string;
  insecure: boolean;
  /** The standalone process (controller and invoker in one), when standalone. */
  pid?: number;
  /** `__OW_API_HOST` of the containers this deployment creates: tells them apart from other runs'. */
  containerApiHost: string;
  /** A second handle on the deployment's activation store (SQLite file or CouchDB-API server). */
  openActivations(): Promise<{ activations: ActivationStore; subjects: SubjectStore; close(): Promise<void> }>;
}

export async function startStandaloneWhirl(scope: Scope, opts: { env?: Record<string, string>; nodeArgs?: string[] } = {}): Promise<Whirl> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'whirl-bench-'));
  scope.defer(`data dir ${dataDir}`, async () => rmSync(dataDir, { recursive: true, force: true }));
  // A concrete port rather than 0: standalone hands its containers `__OW_API_HOST` built from the
  // configured port, and that is how this run's stem cells are told apart from anyone else's.
  const port = await freePort();
  const p = await spawnReady(scope, 'standalone', [...tsxArgv('packages/standalone/src/main.ts', opts.nodeArgs), '--port', String(port), '--data-dir', dataDir], {
    env: { ...BENCH_ENV, ...opts.env },
    ready: /^APIHOST=.*$/m,
  });
  const f = Object.fromEntries(p.line.split(' ').map((kv) => kv.split('=') as [string, string]));
  const apiHost = f.APIHOST!;
  return {
    mode: 'standalone',
    apiHost,
    auth: f.AUTH!,
    namespace: f.NAMESPACE!,
    insecure: false,
    pid: p.pid,
    containerApiHost: apiHost,
    openActivations: async () => {
      const s = openSqliteStores(path.join(dataDir, 'whirl.db'));
      return { activations: s.activations, subjects: s.subjects, close: () => s.close() };
    },
  };
}

export async function startDistributedWhirl(scope: Scope, opts: { env?: Record<string, string>; invokers?: number } = {}): Promise<Whirl> {
  const t0 = Date.now();
  const start = () =>
    startDistributed({
      controllers: 1,
      invokers: opts.invokers ?? 2,
      env: { ...BENCH_ENV, ...opts.env },
      log: (l) => log(l.slice(0, 300)),
    });
  let d: Distributed;
  try {
    d = await start();
  } catch (err) {
    // The dev services are shared with other runs on this machine (a test suite starting Kafka at
    // the same moment, say): one retry rides out such a race.
    log(`distributed start failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); retrying once`);
    await sleep(5000);
    d = await start();
  }
  scope.defer('distributed Whirl', () => d.stop());
  log(`distributed Whirl up in ${((Date.now() - t0) / 1000).toFixed(1)} s (prefix ${d.prefix})`);
  return {
    mode: 'distributed',
    apiHost: d.apiHost,
    auth: d.auth,
    namespace: d.namespace,
    insecure: true,
    containerApiHost: d.apiHost,
    openActivations: async () => {
      const s = await openCouchStores(d.couchdbUrl, { prefix: d.prefix });
      return { activations: s.activations, subjects: s.subjects, close: () => s.close() };
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const insecureAgent = new Agent({ connect: { rejectUnauthorized: false } });

export function authHeader(w: Whirl): string {
  return `Basic ${Buffer.from(w.auth).toString('base64')}`;
}

/** One REST call; throws on a status outside 2xx unless `allow` lists it. */
export async function api(w: Whirl, method: 'GET' | 'PUT' | 'POST' | 'DELETE', urlPath: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await request(`${w.apiHost}${urlPath}`, {
    method,
    headers: { authorization: authHeader(w), 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    ...(w.insecure ? { dispatcher: insecureAgent } : {}),
  });
  const text = await res.body.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the error message
  }
  if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`${method} ${urlPath}: HTTP ${res.statusCode} ${text.slice(0, 300)}`);
  return { status: res.statusCode, body: parsed };
}

export const NOOP_CODE = 'function main(params) { return {}; }';

export async function putAction(w: Whirl, name: string, opts: { code?: string; memoryMB?: number; components?: string[] } = {}): Promise<void> {
  const exec = opts.components
    ? { kind: 'sequence', components: opts.components.map((c) => `/${w.namespace}/${c}`) }
    : { kind: 'nodejs:20', code: opts.code ?? NOOP_CODE };
  await api(w, 'PUT', `/api/v1/namespaces/_/actions/${name}?overwrite=true`, {
    exec,
    ...(opts.memoryMB !== undefined ? { limits: { memory: opts.memoryMB } } : {}),
  });
}

export function invokePath(name: string): string {
  return `/api/v1/namespaces/_/actions/${name}?blocking=true&result=true`;
}

/** Blocking invokes of `names` (round-robin) as a load target. */
export function invokeTarget(w: Whirl, names: string[]): LoadTarget {
  return {
    origin: w.apiHost,
    paths: names.map(invokePath),
    method: 'POST',
    headers: { authorization: authHeader(w), 'content-type': 'application/json' },
    body: '{}',
    insecure: w.insecure,
  };
}

/** A blocking invoke that returns the whole activation record (its id included). */
export async function invokeForRecord(w: Whirl, name: string): Promise<{ activationId: string }> {
  const r = await api(w, 'POST', `/api/v1/namespaces/_/actions/${name}?blocking=true`, {});
  return r.body as { activationId: string };
}

/** Short random tag so that this run's actions and containers are told apart from anyone else's. */
export function runTag(): string {
  return `b${Math.random().toString(36).slice(2, 8)}`;
}
