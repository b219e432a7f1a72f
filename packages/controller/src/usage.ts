/**
 * Resource usage of an action over its recent activations, and a memory limit to set.
 *
 * The rule. Take the action's last N activation records of the caller's namespace that carry a
 * `memoryPeakMB` annotation (activations that reached a container whose counters could be read).
 * Percentiles are nearest-rank. The recommendation is the p99 memory peak plus a margin of 25%
 * (at least 16 MB), rounded up to the limits' step (32 MB) and kept within the memory limits
 * (128..512 MB). Worked example: peaks with p99 = 61 MB → 61 × 1.25 = 76.25 → 96 MB by the step →
 * 128 MB, the smallest limit there is.
 *
 * Caveat. Activations that shared a container (intra-container concurrency, `usageShared`) report the
 * container's figures, not their own; they are counted in `shared` and kept in the distribution,
 * since the memory limit bounds the container as a whole.
 */
import { Limits, annotation, type ActivationRecord } from '@whirl/core';

export interface Distribution {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface ActionUsage {
  namespace: string;
  name: string;
  /** Records looked at (the most recent, up to `last`). */
  activations: number;
  /** Of those, the ones with usage figures. */
  measured: number;
  /** Of the measured, the ones whose container ran other activations at the same time. */
  shared: number;
  memoryLimitMB: number;
  memoryPeakMB: Distribution | null;
  cpuMs: Distribution | null;
  recommendation: { memoryMB: number; reason: string } | null;
}

export const USAGE_MARGIN = 0.25;
export const USAGE_MIN_MARGIN_MB = 16;

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

function distribution(values: number[]): Distribution | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted[sorted.length - 1]! };
}

export function recommendMemory(p99PeakMB: number): number {
  const { min, max, step } = Limits.memoryMB;
  const wanted = p99PeakMB + Math.max(p99PeakMB * USAGE_MARGIN, USAGE_MIN_MARGIN_MB);
  return Math.min(max, Math.max(min, Math.ceil(wanted / step) * step));
}

export function summarizeUsage(target: { namespace: string; name: string; memoryLimitMB: number }, records: readonly ActivationRecord[]): ActionUsage {
  const memory: number[] = [];
  const cpu: number[] = [];
  let shared = 0;
  for (const r of records) {
    const m = annotation(r.annotations, 'memoryPeakMB');
    const c = annotation(r.annotations, 'cpuMs');
    if (typeof m !== 'number' || typeof c !== 'number') continue;
    memory.push(m);
    cpu.push(c);
    if (annotation(r.annotations, 'usageShared') === true) shared++;
  }
  const mem = distribution(memory);
  let recommendation: ActionUsage['recommendation'] = null;
  if (mem) {
    const memoryMB = recommendMemory(mem.p99);
    const { min, max, step } = Limits.memoryMB;
    recommendation = {
      memoryMB,
      reason:
        `p99 memory peak ${mem.p99} MB over ${memory.length} activation(s), plus ${USAGE_MARGIN * 100}% (at least ${USAGE_MIN_MARGIN_MB} MB), ` +
        `rounded up to ${step} MB and kept within ${min}..${max} MB` +
        (mem.p99 + Math.max(mem.p99 * USAGE_MARGIN, USAGE_MIN_MARGIN_MB) > max ? '; the action needs more than the largest limit allows' : '') +
        (memoryMB === target.memoryLimitMB ? '; the current limit is right' : `; the current limit is ${target.memoryLimitMB} MB`) +
        '.',
    };
  }
  return {
    namespace: target.namespace,
    name: target.name,
    activations: records.length,
    measured: memory.length,
    shared,
    memoryLimitMB: target.memoryLimitMB,
    memoryPeakMB: mem,
    cpuMs: distribution(cpu),
    recommendation,
  };
}
