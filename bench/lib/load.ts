/**
 * The closed-loop load generator: `concurrency` clients, each sending its next request as soon as the
 * previous one answered, for a fixed time. Runs in a child process pinned to one core (taskset) so
 * that it competes with the measured system as little, and as reproducibly, as possible.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { machineBusyMs, pinPrefix, spawnReady, tsxArgv } from './proc.js';
import type { Scope } from './scope.js';

export interface LoadTarget {
  /** `http://127.0.0.1:port` or `https://127.0.0.1:port`. */
  origin: string;
  /** Request paths, taken round-robin across all clients (one path: every request the same). */
  paths: string[];
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Accept a self-signed certificate (the dev nginx). */
  insecure?: boolean;
}

export interface LoadSpec {
  target: LoadTarget;
  concurrency: number;
  seconds: number;
  /** Untimed traffic first (fills connection pools, JITs both sides). */
  warmupSeconds?: number;
  /** Stop early after this many timed requests. */
  maxRequests?: number;
}

export interface LoadResult {
  latenciesMs: number[];
  errors: number;
  count: number;
  seconds: number;
  /** Successful requests per second. */
  rate: number;
  firstError?: string;
  /**
   * CPU the whole machine spent per completed request during the timed phase, less the load
   * generator's own (ms, from /proc/stat; null off Linux). Includes whatever else runs: a figure for
   * a quiet machine.
   */
  cpuMsPerRequest?: number | null;
}

/** One request/response client over keep-alive connections, shared by load and one-off calls. */
export class HttpClient {
  private readonly pool: Pool;

  constructor(
    readonly target: LoadTarget,
    connections = 1,
  ) {
    this.pool = new Pool(target.origin, {
      connections,
      pipelining: 1,
      ...(target.insecure ? { connect: { rejectUnauthorized: false } } : {}),
    });
  }

  async send(path: string): Promise<{ status: number; text: string }> {
    const res = await this.pool.request({
      path,
      method: this.target.method,
      headers: this.target.headers ?? {},
      ...(this.target.body !== undefined ? { body: this.target.body } : {}),
    });
    return { status: res.statusCode, text: await res.body.text() };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export async function runLoadInProcess(spec: LoadSpec): Promise<LoadResult> {
  const client = new HttpClient(spec.target, spec.concurrency);
  const paths = spec.target.paths;
  let next = 0;
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const phase = async (seconds: number, record: boolean): Promise<number> => {
    const started = performance.now();
    const end = started + seconds * 1000;
    let sent = 0;
    const worker = async (): Promise<void> => {
      while (performance.now() < end && (!record || spec.maxRequests === undefined || sent < spec.maxRequests)) {
        sent++;
        const path = paths[next++ % paths.length]!;
        const t0 = performance.now();
        try {
          const r = await client.send(path);
          const dt = performance.now() - t0;
          if (r.status >= 200 && r.status < 300) {
            if (record) latencies.push(dt);
          } else if (record) {
            errors++;
            firstError ??= `HTTP ${r.status}: ${r.text.slice(0, 300)}`;
          }
        } catch (e) {
          if (record) {
            errors++;
            firstError ??= e instanceof Error ? e.message : String(e);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: spec.concurrency }, () => worker()));
    return (performance.now() - started) / 1000;
  };
  try {
    if (spec.warmupSeconds) await phase(spec.warmupSeconds, false);
    const busy0 = machineBusyMs();
    const own0 = process.cpuUsage();
    const seconds = await phase(spec.seconds, true);
    const busy1 = machineBusyMs();
    const own = process.cpuUsage(own0);
    const done = latencies.length + errors;
    const cpuMsPerRequest = busy0 === null || busy1 === null || done === 0 ? null : Math.max(0, busy1 - busy0 - (own.user + own.system) / 1000) / done;
    return {
      cpuMsPerRequest,
      latenciesMs: latencies,
      errors,
      count: latencies.length + errors,
      seconds,
      rate: latencies.length / seconds,
      ...(firstError !== undefined ? { firstError } : {}),
    };
  } finally {
    await client.close();
  }
}

/** The same loop in a child process pinned with `taskset -c 1` (when available). */
export async function runLoad(scope: Scope, spec: LoadSpec): Promise<LoadResult> {
  const p = await spawnReady(scope, 'load generator', [...pinPrefix(), ...tsxArgv('bench/lib/loadgen.ts')], {
    env: { BENCH_LOAD_SPEC: JSON.stringify(spec) },
    ready: /^RESULT (.*)\n/m,
    timeoutMs: ((spec.warmupSeconds ?? 0) + spec.seconds) * 1000 + 60_000,
  });
  await p.stop();
  return JSON.parse(p.line.slice('RESULT '.length)) as LoadResult;
}
