/**
 * Rotating over 50 distinct actions with a pool too small to keep them (so every invoke is cold and
 * needs an eviction): cold invokes per second, p95, failures, containers created vs invokes. Floor:
 * the same number of clients doing create + start + /init + /run + remove through dockerode.
 */
import { floorSeconds, phaseSeconds } from '../lib/config.js';
import type { Benchmark } from '../lib/bench.js';
import { coldFloorOnce, docker, NODE_IMAGE } from '../lib/docker.js';
import { runLoad } from '../lib/load.js';
import { round, summarize } from '../lib/stats.js';
import { invokeTarget, putAction, runTag, startStandaloneWhirl } from '../lib/whirl.js';

const ACTIONS = 50;
const CLIENTS = 4;
const MEMORY_MB = 128;
/** Five containers' worth: a fraction of the 50 actions, so the pool must keep evicting. */
const USER_MEMORY_MB = 5 * MEMORY_MB;

/** Containers Whirl created between `since` and `until` (epoch s) whose name ends in one of our actions. */
async function createdContainers(tag: string, since: number, until: number): Promise<number> {
  const stream = await docker.getEvents({ since, until, filters: { type: ['container'], event: ['create'], label: ['whirl.invoker'] } });
  const text = await new Promise<string>((resolve, reject) => {
    let buf = '';
    stream.on('data', (d: Buffer) => (buf += d.toString()));
    stream.on('end', () => resolve(buf));
    stream.on('error', reject);
  });
  let n = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const e = JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> } };
    if ((e.Actor?.Attributes?.name ?? '').includes(`_guest_${tag}_`)) n++;
  }
  return n;
}

export const coldChurnBench: Benchmark = {
  name: 'cold-churn',
  description: `rotate over ${ACTIONS} actions with a ${USER_MEMORY_MB} MB pool: cold invokes/s, p95, failures, containers created`,
  async run(ctx) {
    const w = await startStandaloneWhirl(ctx.scope, { env: { WHIRL_PREWARM: 'false', WHIRL_USER_MEMORY_MB: String(USER_MEMORY_MB) } });
    const tag = runTag();
    const names = Array.from({ length: ACTIONS }, (_, i) => `${tag}_a${i}`);
    for (const n of names) await putAction(w, n, { memoryMB: MEMORY_MB });
    const since = Math.floor(Date.now() / 1000);
    const r = await runLoad(ctx.scope, { target: invokeTarget(w, names), concurrency: CLIENTS, seconds: phaseSeconds(60) });
    // Docker's event times have one-second resolution: look a little past the end.
    const created = await createdContainers(tag, since, Math.ceil(Date.now() / 1000) + 1);

    const floorLat: number[] = [];
    let floorErrors = 0;
    const floorEnd = Date.now() + floorSeconds(60) * 1000;
    const t0 = Date.now();
    const removals: Promise<void>[] = [];
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (Date.now() < floorEnd) {
          try {
            const f = await coldFloorOnce(ctx.scope, NODE_IMAGE, MEMORY_MB);
            floorLat.push(f.ms);
            removals.push(f.removed);
          } catch {
            floorErrors++;
          }
        }
      }),
    );
    const floorRate = floorLat.length / ((Date.now() - t0) / 1000);
    await Promise.allSettled(removals);
    const f = summarize(floorLat);
    const s = summarize(r.latenciesMs);
    const first: Record<string, string> = r.firstError ? { first_error: r.firstError } : {};
    ctx.emit({ name: 'cold-churn.rate', unit: '/s', value: r.rate, summary: s, errors: r.errors, floor: floorRate, extra: { floor_errors: floorErrors, ...first } });
    ctx.emit({ name: 'cold-churn.latency', unit: 'ms', value: s.p95, summary: s, errors: r.errors, floor: f.p95, extra: { p95: s.p95, floor_p50: round(f.p50) } });
    ctx.emit({
      name: 'cold-churn.containers',
      unit: 'count',
      value: created,
      errors: r.errors,
      // One container per invoke is what a cold-only workload needs; more means retries or waste.
      floor: r.count,
      extra: { invokes: r.count, actions: ACTIONS },
    });
  },
};
