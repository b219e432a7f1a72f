/**
 * A pure simulation of the container pool's keep-alive behaviour for long traces: the same policy
 * object the invoker uses (`@whirl/invoker`'s KeepAlivePolicy, driven with virtual time) and the same
 * `keepAlivePlan`, over a model of the pool with no memory pressure (the benchmark's pool has room for
 * every function) and concurrency 1 per container:
 *   - a call takes an idle loaded container of its function (most recently used first), else starts
 *     cold, which adds `coldMs` (create + /init), or `coldMsAt(t)` for a cold start at time t;
 *   - a container loaded ahead of time is usable `coldMsAt(t)` after its load starts at t (not
 *     before: a call that comes while it loads starts cold, as in the pool), and kept for the plan's
 *     window from then on, as the pool keeps it; loads start `leadMs` early (the pool's measured
 *     load time);
 *   - a call cancels its function's scheduled load;
 *   - at each end the policy's decision is planned with `keepAlivePlan(decision, leadMs)`.
 * Idle memory-time is container lifetime minus busy time, up to the end of the trace.
 *
 * Everything runs in replay time: trace ms divided by `compression` (the policy's bin width must be
 * scaled the same way, as the real replay does).
 */
import { keepAlivePlan, type KeepAlivePolicy } from '@whirl/invoker';
import type { Trace } from './trace.js';

export interface SimOptions {
  policy: KeepAlivePolicy;
  /** Trace ms per replay ms. */
  compression: number;
  /** Replay ms a cold start adds to a call. */
  coldMs: number;
  /** Replay ms a warm call costs beyond its execution. */
  warmMs: number;
  /**
   * Replay ms a cold start or load beginning at replay time t takes. On a real machine that depends
   * on what else starts then (two CPUs, a burst of container starts: each takes seconds; one alone:
   * a few hundred ms), so a simulation of a real replay takes it from the replay's own cold starts
   * nearest in time. @default () => coldMs
   */
  coldMsAt?: (t: number) => number;
  /** How early the plan starts a load ahead (the pool's measured load time). @default coldMs */
  leadMs?: number;
}

export interface SimResult {
  calls: number;
  cold: number;
  coldPct: number;
  /** Idle memory-time in trace seconds × GB. */
  idleGbS: number;
  /** Per call, replay ms. */
  latenciesMs: number[];
  containers: number;
  loadsAhead: number;
}

interface SimContainer {
  createdAt: number;
  readyAt: number;
  busyUntil: number;
  removeAt: number;
  busyMs: number;
  lastUsed: number;
}

export function simulate(trace: Trace, o: SimOptions): SimResult {
  const lead = o.leadMs ?? o.coldMs;
  const coldAt = o.coldMsAt ?? (() => o.coldMs);
  const endAt = (trace.minutes * 60_000) / o.compression;
  let calls = 0;
  let cold = 0;
  let containersMade = 0;
  let loadsAhead = 0;
  let idleMbMs = 0;
  const latencies: number[] = [];

  for (const f of trace.functions) {
    const key = f.id;
    const exec = f.durationMs / o.compression;
    const cs: SimContainer[] = [];
    let load: { at: number; keepMs: number } | undefined;
    /** Ends to process, kept sorted by time. */
    const ends: { t: number; c: SimContainer }[] = [];

    const applyLoad = (upTo: number): void => {
      if (!load || load.at > upTo) return;
      const at = load.at;
      const keepMs = load.keepMs;
      load = undefined;
      if (cs.some((c) => c.removeAt > at)) return;
      loadsAhead++;
      containersMade++;
      const ready = at + coldAt(at);
      cs.push({ createdAt: at, readyAt: ready, busyUntil: ready, removeAt: ready + keepMs, busyMs: 0, lastUsed: ready });
    };
    const processEnds = (upTo: number): void => {
      while (ends.length > 0 && ends[0]!.t <= upTo) {
        const { t, c } = ends.shift()!;
        applyLoad(t);
        const surplus = cs.some((x) => x !== c && x.removeAt > t && x.busyUntil <= t);
        const plan = keepAlivePlan(o.policy.ended(key, t), lead, surplus);
        if (plan.loadAfterMs !== undefined) {
          c.removeAt = t;
          load = { at: t + plan.loadAfterMs, keepMs: plan.keepLoadedMs };
        } else {
          c.removeAt = t + plan.removeAfterMs;
        }
      }
      applyLoad(upTo);
    };

    for (const a of f.arrivals) {
      const t = a / o.compression;
      processEnds(t);
      o.policy.arrived(key, t);
      if (load && load.at > t) load = undefined;
      calls++;
      let c: SimContainer | undefined;
      for (const x of cs) if (x.removeAt > t && x.readyAt <= t && x.busyUntil <= t && (!c || x.lastUsed > c.lastUsed)) c = x;
      let latency: number;
      if (c) {
        latency = o.warmMs + exec;
      } else {
        cold++;
        containersMade++;
        latency = coldAt(t) + o.warmMs + exec;
        c = { createdAt: t, readyAt: t, busyUntil: t, removeAt: Number.POSITIVE_INFINITY, busyMs: 0, lastUsed: t };
        cs.push(c);
      }
      c.busyUntil = t + latency;
      c.busyMs += Math.max(0, Math.min(t + latency, endAt) - Math.max(t, 0));
      c.removeAt = Number.POSITIVE_INFINITY;
      c.lastUsed = t + latency;
      latencies.push(latency);
      const end = { t: t + latency, c };
      const i = ends.findIndex((e) => e.t > end.t);
      if (i < 0) ends.push(end);
      else ends.splice(i, 0, end);
    }
    processEnds(Number.POSITIVE_INFINITY);
    for (const c of cs) {
      const life = Math.max(0, Math.min(c.removeAt, endAt) - Math.min(c.createdAt, endAt));
      idleMbMs += Math.max(0, life - c.busyMs) * f.memoryMB;
    }
  }
  return {
    calls,
    cold,
    coldPct: calls > 0 ? (100 * cold) / calls : 0,
    idleGbS: (idleMbMs * o.compression) / 1000 / 1024,
    latenciesMs: latencies,
    containers: containersMade,
    loadsAhead,
  };
}
