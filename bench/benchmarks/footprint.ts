/**
 * Resident memory: the standalone process idle, holding 20 warm containers (standalone's invoker
 * is in the same process), and under a 32-client throughput loop; each stem cell. Floors: a bare
 * Fastify process (idle and under the same loop), and an idle container of the same image started
 * through dockerode.
 */
import { floorSeconds, phaseSeconds, sleep } from '../lib/config.js';
import type { Benchmark } from '../lib/bench.js';
import { containerMemMB, NODE_IMAGE, startBareContainer, stemCells, whirlContainers } from '../lib/docker.js';
import { startFloorServer } from '../lib/floor.js';
import { runLoad } from '../lib/load.js';
import { rssMB, sampleRss } from '../lib/proc.js';
import { summarize } from '../lib/stats.js';
import { api, invokePath, putAction, runTag, startStandaloneWhirl } from '../lib/whirl.js';
import { primeAction, THROUGHPUT_ENV, throughputPhase } from './throughput.js';

const WARM = 20;

export const footprintBench: Benchmark = {
  name: 'footprint',
  description: 'RSS of standalone idle / with 20 warm containers / under throughput; stem cell memory',
  async run(ctx) {
    const floor = await startFloorServer(ctx.scope);
    await sleep(1000);
    const floorIdle = rssMB(floor.pid);
    const bare = await startBareContainer(ctx.scope, NODE_IMAGE);
    await sleep(1500);
    const bareMB = await containerMemMB(bare.id);
    await bare.remove();

    const w = await startStandaloneWhirl(ctx.scope, { env: THROUGHPUT_ENV });
    // Let start-up garbage be collected and the stem cells come up.
    await sleep(3000);
    ctx.emit({ name: 'footprint.standalone.idle', unit: 'MB', value: rssMB(w.pid!), floor: floorIdle });

    for (const [i, c] of (await stemCells(w.containerApiHost)).entries()) {
      ctx.emit({ name: `footprint.stem-cell.${i}`, unit: 'MB', value: await containerMemMB(c.id), floor: bareMB, extra: { container: c.name } });
    }

    const tag = runTag();
    const names = Array.from({ length: WARM }, (_, i) => `${tag}_w${i}`);
    for (const n of names) await putAction(w, n, { memoryMB: 128 });
    for (const n of names) await api(w, 'POST', invokePath(n), {});
    await sleep(2000);
    const warm = await whirlContainers((n) => n.includes(`_${w.namespace}_${tag}_`));
    let containersMB = 0;
    for (const c of warm) containersMB += (await containerMemMB(c.id)) ?? 0;
    ctx.emit({
      name: `footprint.standalone.warm${WARM}`,
      unit: 'MB',
      value: rssMB(w.pid!),
      floor: floorIdle,
      extra: { warm_containers: warm.length, containers_total_mb: Math.round(containersMB) },
    });

    const action = await primeAction(w, 32);
    const s = sampleRss(w.pid!);
    const load = await throughputPhase(ctx.scope, w, action, 32, phaseSeconds(30));
    const under = s.stop();
    const fs = sampleRss(floor.pid);
    await runLoad(ctx.scope, { target: floor.target, concurrency: 32, seconds: floorSeconds(30) });
    const floorUnder = summarize(fs.stop());
    ctx.emit({
      name: 'footprint.standalone.throughput',
      unit: 'MB',
      samples: under,
      errors: load.errors,
      floor: floorUnder.p50,
      extra: { max: Math.max(...under), invokes_per_s: Math.round(load.rate) },
    });
  },
};
