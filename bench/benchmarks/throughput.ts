/**
 * Closed loops of 4 and 32 clients against a warm no-op action, standalone and distributed, with a
 * container per client. Floor: the same loop against a bare Fastify route answering `{}`.
 */
import { floorSeconds, phaseSeconds } from '../lib/config.js';
import type { Benchmark, BenchContext } from '../lib/bench.js';
import { startFloorServer } from '../lib/floor.js';
import { runLoad, runLoadInProcess, type LoadResult } from '../lib/load.js';
import { Scope } from '../lib/scope.js';
import { invokeTarget, putAction, runTag, startDistributedWhirl, startStandaloneWhirl, type Whirl } from '../lib/whirl.js';

export const CLIENTS = [4, 32] as const;
/** One 128 MB container per client at 32 clients fits with room for stem cells. */
export const THROUGHPUT_ENV: Readonly<Record<string, string>> = { WHIRL_USER_MEMORY_MB: '8192' };
export const THROUGHPUT_MEMORY_MB = 128;

/** A fresh no-op action with `clients` warm containers (every client's first invoke is concurrent). */
export async function primeAction(w: Whirl, clients: number): Promise<string> {
  const action = `${runTag()}_tp`;
  await putAction(w, action, { memoryMB: THROUGHPUT_MEMORY_MB });
  await runLoadInProcess({ target: invokeTarget(w, [action]), concurrency: clients, seconds: 120, maxRequests: clients * 2 });
  return action;
}

export async function throughputPhase(scope: Scope, w: Whirl, action: string, clients: number, seconds: number): Promise<LoadResult> {
  return runLoad(scope, { target: invokeTarget(w, [action]), concurrency: clients, seconds, warmupSeconds: Math.min(1, seconds) });
}

export function emitThroughput(ctx: BenchContext, name: string, r: LoadResult, floor: LoadResult): void {
  // CPU per invoke across every process on the machine, against the same for a bare HTTP request.
  ctx.emit({ name: `${name}.cpu_per_invoke_ms`, unit: 'ms', value: r.cpuMsPerRequest ?? null, floor: floor.cpuMsPerRequest ?? null });
  ctx.emit({
    name,
    unit: '/s',
    value: r.rate,
    samples: r.latenciesMs,
    errors: r.errors,
    floor: floor.rate,
    extra: { floor_p99_ms: Math.round((floor.latenciesMs.sort((a, b) => a - b)[Math.floor(floor.latenciesMs.length * 0.99)] ?? NaN) * 1000) / 1000, ...(r.firstError ? { first_error: r.firstError } : {}) },
  });
}

export async function floorLoops(scope: Scope, seconds: number): Promise<Map<number, LoadResult>> {
  const floor = await startFloorServer(scope);
  const out = new Map<number, LoadResult>();
  for (const c of CLIENTS) out.set(c, await runLoad(scope, { target: floor.target, concurrency: c, seconds, warmupSeconds: Math.min(1, seconds) }));
  return out;
}

export const throughputBench: Benchmark = {
  name: 'throughput',
  description: 'closed loops of 4 and 32 clients vs the same loop against a bare Fastify route',
  async run(ctx) {
    const floors = await floorLoops(ctx.scope, floorSeconds(30));
    for (const mode of ['standalone', 'distributed'] as const) {
      const scope = new Scope();
      try {
        ctx.log(`throughput: starting ${mode} Whirl`);
        const w = mode === 'standalone' ? await startStandaloneWhirl(scope, { env: THROUGHPUT_ENV }) : await startDistributedWhirl(scope, { env: THROUGHPUT_ENV });
        for (const c of CLIENTS) {
          const action = await primeAction(w, c);
          const r = await throughputPhase(scope, w, action, c, phaseSeconds(30));
          emitThroughput(ctx, `throughput.${mode}.c${c}`, r, floors.get(c)!);
        }
      } finally {
        await scope.close();
      }
    }
  },
};
