/**
 * Sequential blocking invokes of a warm no-op action, standalone and distributed. Floor: the same
 * /run request sent straight to the same warm container, in the same run.
 */
import { floorSeconds, phaseSeconds } from '../lib/config.js';
import type { Benchmark, BenchContext } from '../lib/bench.js';
import { actionContainer, runBody, type FoundContainer } from '../lib/docker.js';
import { runLoad, type LoadResult } from '../lib/load.js';
import { Scope } from '../lib/scope.js';
import { summarize } from '../lib/stats.js';
import { api, invokePath, invokeTarget, putAction, runTag, startDistributedWhirl, startStandaloneWhirl, type Whirl } from '../lib/whirl.js';

/** Warm latency of one action plus the direct-to-container floor; shared with `sequence`. */
export async function warmLatency(scope: Scope, w: Whirl, action: string, seconds: number): Promise<{ whirl: LoadResult; floor: LoadResult }> {
  const whirl = await invokeLoop(scope, w, action, seconds);
  return { whirl, floor: await containerFloor(scope, w, action, seconds) };
}

/** Sequential blocking invokes after a short warm-up. */
export function invokeLoop(scope: Scope, w: Whirl, action: string, seconds: number): Promise<LoadResult> {
  return runLoad(scope, { target: invokeTarget(w, [action]), concurrency: 1, seconds, warmupSeconds: Math.min(2, seconds) });
}

/** The same /run the invoker sends, straight to the action's warm container. */
export async function containerFloor(scope: Scope, w: Whirl, action: string, seconds: number): Promise<LoadResult> {
  let c: FoundContainer | undefined;
  for (let attempt = 0; !c; attempt++) {
    try {
      c = await actionContainer(w.namespace, action);
    } catch (e) {
      // Another Whirl on this Docker daemon with the same invoker id may have removed it at its
      // start: one invoke makes a new warm container.
      if (attempt >= 2) throw e;
      await api(w, 'POST', invokePath(action), {});
    }
  }
  return runLoad(scope, {
    target: { origin: `http://127.0.0.1:${c.port}`, paths: ['/run'], method: 'POST', headers: { 'content-type': 'application/json' }, body: runBody(w.namespace, action) },
    concurrency: 1,
    seconds: floorSeconds(seconds),
    warmupSeconds: 0.5,
  });
}

export function emitLatency(ctx: BenchContext, name: string, r: { whirl: LoadResult; floor: LoadResult }): void {
  const f = summarize(r.floor.latenciesMs);
  ctx.emit({
    name,
    unit: 'ms',
    samples: r.whirl.latenciesMs,
    errors: r.whirl.errors,
    floor: f.p50,
    extra: { floor_p99: f.p99, per_second: Math.round(r.whirl.rate), ...(r.whirl.firstError ? { first_error: r.whirl.firstError } : {}) },
  });
}

export const warmLatencyBench: Benchmark = {
  name: 'warm-latency',
  description: 'sequential blocking invokes of a warm no-op action vs /run straight to its container',
  async run(ctx) {
    for (const mode of ['standalone', 'distributed'] as const) {
      const scope = new Scope();
      try {
        ctx.log(`warm-latency: starting ${mode} Whirl`);
        // No stem cells: the action's container is then named after it, which is how the floor finds it.
        const env = { WHIRL_PREWARM: 'false' };
        const w = mode === 'standalone' ? await startStandaloneWhirl(scope, { env }) : await startDistributedWhirl(scope, { env });
        const action = `${runTag()}_noop`;
        await putAction(w, action);
        const r = await warmLatency(scope, w, action, phaseSeconds(60));
        emitLatency(ctx, `warm-latency.${mode}`, r);
      } finally {
        await scope.close();
      }
    }
  },
};
