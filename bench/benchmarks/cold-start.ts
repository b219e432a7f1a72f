/**
 * A new action per iteration, (a) with no stem cell (WHIRL_PREWARM=false) and (b) with a stem cell
 * ready. Floors, interleaved with the measured invokes so both see the same noise: (a) create +
 * start + /init + first /run of the same image through dockerode, (b) /init + /run on a container
 * that is already up.
 */
import { performance } from 'node:perf_hooks';
import { phaseSeconds, sleep, smoke } from '../lib/config.js';
import type { Benchmark, BenchContext } from '../lib/bench.js';
import { coldFloorOnce, NODE_IMAGE, stemCells, stemFloorOnce } from '../lib/docker.js';
import { Scope } from '../lib/scope.js';
import { api, invokePath, putAction, runTag, startStandaloneWhirl, type Whirl } from '../lib/whirl.js';

const MAX_ITERATIONS = 20;

async function timedInvoke(w: Whirl, action: string): Promise<number> {
  const t0 = performance.now();
  await api(w, 'POST', invokePath(action), {});
  return performance.now() - t0;
}

async function waitForStemCell(w: Whirl): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await stemCells(w.containerApiHost)).length === 0) {
    if (Date.now() > deadline) throw new Error('no stem cell became ready within 30 s');
    await sleep(50);
  }
  // Docker says running a moment before the pool has registered the cell as prewarmed.
  await sleep(300);
}

async function variant(ctx: BenchContext, stem: boolean): Promise<void> {
  const scope = new Scope();
  try {
    // Room for every iteration's container: eviction is cold-churn's subject, not this one's.
    const w = await startStandaloneWhirl(scope, { env: { WHIRL_PREWARM: String(stem), WHIRL_USER_MEMORY_MB: '8192' } });
    const tag = runTag();
    const whirl: number[] = [];
    const floor: number[] = [];
    let errors = 0;
    let firstError: string | undefined;
    const end = Date.now() + phaseSeconds(60) * 1000;
    const iterations = smoke ? 3 : MAX_ITERATIONS;
    for (let i = 0; i < iterations && (i < 2 || Date.now() < end); i++) {
      const action = `${tag}_c${i}`;
      await putAction(w, action);
      if (stem) await waitForStemCell(w);
      try {
        whirl.push(await timedInvoke(w, action));
      } catch (e) {
        errors++;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
      if (stem) floor.push(await stemFloorOnce(scope, NODE_IMAGE));
      else {
        const f = await coldFloorOnce(scope, NODE_IMAGE);
        await f.removed;
        floor.push(f.ms);
      }
    }
    floor.sort((a, b) => a - b);
    ctx.emit({
      name: stem ? 'cold-start.stem-cell' : 'cold-start.no-stem-cell',
      unit: 'ms',
      samples: whirl,
      errors,
      floor: floor[Math.ceil(floor.length / 2) - 1] ?? null,
      extra: firstError ? { first_error: firstError } : undefined,
    });
  } finally {
    await scope.close();
  }
}

export const coldStartBench: Benchmark = {
  name: 'cold-start',
  description: 'new action per invoke, without and with a stem cell, vs dockerode create/start and /init+/run floors',
  async run(ctx) {
    await variant(ctx, false);
    await variant(ctx, true);
  },
};
