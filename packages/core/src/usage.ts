/**
 * Usage metering per namespace: invocations, errors, duration and GB-seconds per action, billed the
 * way Lambda bills. One rule (`usageOf`) decides what a record contributes; both store adapters keep
 * an aggregate of it as records are written, so a usage query does not read the records.
 *
 * Billing: an activation that ran in a container (it carries a `limits` annotation) bills
 * `limits.memory` MB × its duration rounded up to the next whole millisecond, at least 1 ms (Lambda's
 * 1 ms granularity since December 2020). Figures are kept as integer MB·ms, so sums are exact; GB-s is
 * MB·ms / 1024 / 1000, computed only when rendered. A sequence or conductor counts as an invocation
 * (with its duration) but bills nothing itself: its components bill for what they ran. Trigger fires
 * (records without a `path` annotation) are not action usage and are not counted.
 */
import { ActivationStatus, type ActivationRecord } from './activation.js';
import { annotation } from './entities.js';

/** Size of the aggregate's time buckets; queries combine whole buckets with the records at the edges. */
export const USAGE_BUCKET_MS = 3_600_000;

export interface UsageQuery {
  namespace: string;
  /** Inclusive bounds on the activation's `start`, epoch ms (as the activation list's since/upto). */
  since?: number;
  upto?: number;
}

export interface UsageFigures {
  invocations: number;
  /** Activations whose outcome was not success (application, developer or platform error). */
  errors: number;
  /** Sum of recorded durations, ms. */
  durationMs: number;
  /** Sum of memory limit (MB) × billed duration (ms). */
  mbMs: number;
}

export interface ActionUsage extends UsageFigures {
  /** The action's fully qualified path `ns/[pkg/]name` (an action of another namespace keeps its own). */
  action: string;
}

/** What one record adds to its action's usage, or undefined when it is not action usage. */
export function usageOf(r: ActivationRecord): ActionUsage | undefined {
  const path = annotation(r.annotations, 'path');
  if (typeof path !== 'string') return undefined;
  const durationMs = Math.max(0, Math.round(r.duration ?? (r.end > 0 ? r.end - r.start : 0)));
  const limits = annotation(r.annotations, 'limits') as { memory?: unknown } | undefined;
  const memory = typeof limits?.memory === 'number' && limits.memory > 0 ? limits.memory : 0;
  return {
    action: path,
    invocations: 1,
    errors: r.response.statusCode === ActivationStatus.Success ? 0 : 1,
    durationMs,
    mbMs: memory * billedMs(r.duration ?? durationMs),
  };
}

/** Lambda's rounding: up to the next whole millisecond, at least 1 ms. */
export function billedMs(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs));
}

export function gbSeconds(mbMs: number): number {
  return mbMs / 1024 / 1000;
}

export function addUsage(into: UsageFigures, more: UsageFigures): void {
  into.invocations += more.invocations;
  into.errors += more.errors;
  into.durationMs += more.durationMs;
  into.mbMs += more.mbMs;
}

/**
 * The split of an inclusive [since, upto] range into whole buckets [firstBucket, lastBucket] (bucket b
 * covers b·size .. (b+1)·size − 1) and the edge ranges left to read record by record. A range inside
 * one bucket has no whole buckets and one edge.
 */
export function usageRanges(since: number, upto: number, size = USAGE_BUCKET_MS): {
  buckets?: { first: number; last: number };
  edges: { since: number; upto: number }[];
} {
  const first = Math.ceil(since / size);
  const last = Math.floor((upto + 1) / size) - 1;
  if (first > last) return { edges: [{ since, upto }] };
  const edges: { since: number; upto: number }[] = [];
  if (since < first * size) edges.push({ since, upto: first * size - 1 });
  if (upto > (last + 1) * size - 1) edges.push({ since: (last + 1) * size, upto });
  return { buckets: { first, last }, edges };
}
