/**
 * A warm 5-step sequence of no-op actions (standalone): its latency, and what each step adds on top
 * of a warm single invoke. Floors: 5 × the warm single invoke, and /run straight to a container.
 */
import { phaseSeconds } from '../lib/config.js';
import type { Benchmark } from '../lib/bench.js';
import { summarize } from '../lib/stats.js';
import { putAction, runTag, startStandaloneWhirl } from '../lib/whirl.js';
import { emitLatency, invokeLoop, warmLatency } from './warm-latency.js';

const STEPS = 5;

export const sequenceBench: Benchmark = {
  name: 'sequence',
  description: 'warm 5-step sequence: latency minus 5 × warm single latency, per step',
  async run(ctx) {
    // No stem cells: the first step's container is then named after it (the floor finds it by name).
    const w = await startStandaloneWhirl(ctx.scope, { env: { WHIRL_PREWARM: 'false' } });
    const tag = runTag();
    const steps = Array.from({ length: STEPS }, (_, i) => `${tag}_s${i}`);
    for (const s of steps) await putAction(w, s);
    await putAction(w, `${tag}_seq`, { components: steps });
    const seconds = phaseSeconds(60);
    // A sequence has no container of its own: its floor is its steps. The single-action loop runs on
    // the first step, warm from the sequence's warm-up.
    const seq = await invokeLoop(ctx.scope, w, `${tag}_seq`, seconds);
    const single = await warmLatency(ctx.scope, w, steps[0]!, seconds);
    emitLatency(ctx, 'sequence.single', single);
    const s = summarize(seq.latenciesMs);
    const one = summarize(single.whirl.latenciesMs);
    const direct = summarize(single.floor.latenciesMs);
    ctx.emit({ name: 'sequence.latency', unit: 'ms', samples: seq.latenciesMs, errors: seq.errors, floor: STEPS * one.p50 });
    ctx.emit({
      name: 'sequence.overhead_per_step',
      unit: 'ms',
      value: (s.p50 - STEPS * one.p50) / STEPS,
      floor: direct.p50,
      extra: { sequence_p50: s.p50, single_p50: one.p50 },
    });
  },
};
