/**
 * Keep-alive policies on an invocation trace: the default synthetic trace with the shape "Serverless
 * in the Wild" reports for Azure Functions (or the Azure Functions 2019 trace itself,
 * BENCH_KEEPALIVE_TRACE=invocations_per_function_md.anon.d01.csv), replayed in compressed time
 * against a real standalone Whirl (real containers) once per policy, and simulated with the same
 * policy objects: on the same compressed trace (to check the simulation against the real replay) and
 * on a long uncompressed trace (the policies' steady state, which a real replay could not afford).
 *
 * Figures per policy: cold-start percentage, idle memory-time (trace GB-s: container lifetime minus
 * busy time, times memory) and p99 latency. Floors: the compulsory cold starts (first call of each
 * function: what keeping everything forever gives), the fixed policy's idle memory-time (the
 * baseline hybrid must beat by 40 %), and the replay's warm p50.
 */
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { makeKeepAlivePolicy, type KeepAlivePolicyName } from '@whirl/invoker';
import { phaseSeconds, sleep, smoke } from '../lib/config.js';
import type { Benchmark, BenchContext } from '../lib/bench.js';
import { docker } from '../lib/docker.js';
import { simulate, type SimResult } from '../lib/keepalive-sim.js';
import { Scope } from '../lib/scope.js';
import { round, summarize } from '../lib/stats.js';
import { readAzureInvocationsCsv, syntheticTrace, type Trace } from '../lib/trace.js';
import { authHeader, putAction, runTag, startStandaloneWhirl } from '../lib/whirl.js';

const POLICIES: readonly KeepAlivePolicyName[] = ['fixed', 'hybrid'];
/** Trace ms per replay ms: one trace minute in 500 ms. */
const COMPRESSION = Number(process.env.BENCH_KEEPALIVE_COMPRESSION ?? 120);
/**
 * Calls in flight at most: on a loaded machine cold starts take seconds, calls pile up, and each
 * piled-up call would start another container. Beyond this, calls wait (counted in `extra.delayed`).
 */
const MAX_INFLIGHT = 24;
const MIN = 60_000;
const IDLE_TIMEOUT_MS = 10 * MIN;
const SLEEP_CODE = 'function main(p) { return new Promise((r) => setTimeout(() => r({}), p.ms || 0)); }';

interface Replay {
  calls: number;
  cold: number;
  errors: number;
  latencies: number[];
  /** Per cold call: wait (creation included) + /init, from the record. */
  coldCosts: number[];
  /** Per warm call: wait + duration, from the record. */
  warmCosts: number[];
  idleGbS: number;
  containers: number;
  /** Calls sent later than the trace says because MAX_INFLIGHT were in flight. */
  delayed: number;
  /** The trace as it was really sent (held-back calls at their send time), for the simulation. */
  sent: Trace;
  firstError?: string;
}

function defaultTrace(): { replay: Trace; long: Trace; source: string } {
  const functions = smoke ? 6 : 16;
  // 90 s of replay: 3 trace hours at the default compression.
  const minutes = smoke ? 20 : Math.max(40, Math.round((phaseSeconds(90) * 1000 * COMPRESSION) / MIN));
  const file = process.env.BENCH_KEEPALIVE_TRACE;
  if (file) {
    const text = readFileSync(file, 'utf8');
    return { replay: readAzureInvocationsCsv(text, { maxFunctions: functions, minutes }), long: readAzureInvocationsCsv(text), source: file };
  }
  return {
    replay: syntheticTrace({ seed: 1, functions, minutes }),
    long: syntheticTrace({ seed: 1, functions: smoke ? 50 : 200, minutes: (smoke ? 1 : 7) * 1440 }),
    source: 'synthetic seed 1',
  };
}

function compulsoryPct(t: Trace): number {
  const calls = t.functions.reduce((s, f) => s + f.arrivals.length, 0);
  const first = t.functions.filter((f) => f.arrivals.length > 0).length;
  return calls > 0 ? (100 * first) / calls : 0;
}

const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000 });

async function replay(ctx: BenchContext, trace: Trace, policy: KeepAlivePolicyName): Promise<Replay> {
  const scope = new Scope();
  try {
    const w = await startStandaloneWhirl(scope, {
      env: {
        WHIRL_KEEPALIVE: policy,
        WHIRL_KEEPALIVE_BIN_MS: String(Math.round(MIN / COMPRESSION)),
        WHIRL_IDLE_TIMEOUT_MS: String(Math.round(IDLE_TIMEOUT_MS / COMPRESSION)),
        WHIRL_PREWARM: 'false',
        WHIRL_USER_MEMORY_MB: String(Math.max(1024, trace.functions.length * 128 * 4)),
      },
    });
    const tag = runTag();
    for (const f of trace.functions) await putAction(w, `${tag}_${f.id.replace(/[^A-Za-z0-9]/g, '')}`, { code: SLEEP_CODE, memoryMB: f.memoryMB });
    const calls = trace.functions
      .flatMap((f, fi) => f.arrivals.map((a) => ({ fi, at: a / COMPRESSION, name: `${tag}_${f.id.replace(/[^A-Za-z0-9]/g, '')}`, ms: Math.round(f.durationMs / COMPRESSION) })))
      .sort((a, b) => a.at - b.at);
    const r: Replay = { calls: 0, cold: 0, errors: 0, latencies: [], coldCosts: [], warmCosts: [], idleGbS: 0, containers: 0, delayed: 0, sent: { minutes: trace.minutes, functions: trace.functions.map((f) => ({ ...f, arrivals: [] })) } };
    let busyMs = 0;
    const t0 = Date.now() + 500;
    const endAt = t0 + (trace.minutes * MIN) / COMPRESSION;
    const watch = await watchContainers(`_guest_${tag}_`);
    const inflight: Promise<void>[] = [];
    let active = 0;
    let freed: (() => void) | undefined;
    ctx.log(`keepalive ${policy}: replaying ${calls.length} calls of ${trace.functions.length} functions over ${((endAt - t0) / 1000).toFixed(0)} s`);
    for (const c of calls) {
      const wait = t0 + c.at - Date.now();
      if (wait > 1) await sleep(wait);
      if (active >= MAX_INFLIGHT) {
        r.delayed++;
        while (active >= MAX_INFLIGHT) await new Promise<void>((res) => (freed = res));
      }
      active++;
      r.sent.functions[c.fi]!.arrivals.push((Date.now() - t0) * COMPRESSION);
      inflight.push(
        (async () => {
          const started = Date.now();
          try {
            const res = await request(`${w.apiHost}/api/v1/namespaces/_/actions/${c.name}?blocking=true`, {
              method: 'POST',
              headers: { authorization: authHeader(w), 'content-type': 'application/json' },
              body: JSON.stringify({ ms: c.ms }),
              dispatcher: agent,
            });
            const text = await res.body.text();
            const ms = Date.now() - started;
            if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode} ${text.slice(0, 200)}`);
            const rec = JSON.parse(text) as { duration?: number; annotations?: { key: string; value: unknown }[] };
            const ann = (key: string): number | undefined => {
              const v = (rec.annotations ?? []).find((a) => a.key === key)?.value;
              return typeof v === 'number' ? v : undefined;
            };
            const initTime = ann('initTime');
            r.calls++;
            r.latencies.push(ms);
            // Time in the container (/init and /run): what the simulation counts as busy. The wait
            // before it (queueing, and container creation for a cold start) is not.
            busyMs += Math.max(0, Math.min(rec.duration ?? 0, endAt - started));
            const wait = ann('waitTime') ?? 0;
            if (initTime !== undefined) {
              r.cold++;
              r.coldCosts.push(wait + initTime);
            } else r.warmCosts.push(wait + (rec.duration ?? 0));
          } catch (err) {
            r.errors++;
            r.firstError ??= err instanceof Error ? err.message : String(err);
          } finally {
            active--;
            freed?.();
          }
        })(),
      );
    }
    await Promise.all(inflight);
    if (Date.now() < endAt) await sleep(endAt - Date.now());
    const lives = watch.stop();
    let lifeMs = 0;
    for (const l of lives) lifeMs += Math.max(0, Math.min(l.destroyed ?? endAt, endAt) - Math.max(l.created, t0));
    r.containers = lives.length;
    // Every function has the same memory in the generated trace and in the Azure reader's output.
    const memMB = trace.functions[0]?.memoryMB ?? 128;
    r.idleGbS = (Math.max(0, lifeMs - busyMs) * COMPRESSION * memMB) / 1000 / 1024;
    return r;
  } finally {
    await scope.close();
  }
}

/**
 * Watches Docker's event stream live for the containers whose name contains `part` (the daemon keeps
 * only a short backlog of past events, too short for a busy machine): their creation and removal times.
 */
async function watchContainers(part: string): Promise<{ stop(): { created: number; destroyed?: number }[] }> {
  const stream = (await docker.getEvents({ filters: { type: ['container'], event: ['create', 'destroy'], label: ['whirl.invoker'] } })) as Readable;
  const byId = new Map<string, { created: number; destroyed?: number }>();
  let rest = '';
  stream.on('data', (d: Buffer) => {
    const lines = (rest + d.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      const e = JSON.parse(line) as { id?: string; Action?: string; timeNano?: number; Actor?: { ID?: string; Attributes?: Record<string, string> } };
      if (!(e.Actor?.Attributes?.name ?? '').includes(part)) continue;
      const id = e.Actor?.ID ?? e.id ?? '';
      const at = (e.timeNano ?? 0) / 1e6;
      if (e.Action === 'create') byId.set(id, { created: at });
      else if (e.Action === 'destroy') {
        const l = byId.get(id);
        if (l) l.destroyed = at;
      }
    }
  });
  stream.on('error', () => undefined);
  return {
    stop: () => {
      stream.destroy();
      return [...byId.values()];
    },
  };
}

function simFor(trace: Trace, policy: KeepAlivePolicyName, compression: number, coldMs: number, warmMs: number): SimResult {
  return simulate(trace, {
    policy: makeKeepAlivePolicy(policy, { idleTimeoutMs: IDLE_TIMEOUT_MS / compression, binMs: MIN / compression }),
    compression,
    coldMs,
    warmMs,
  });
}

export const keepAliveBench: Benchmark = {
  name: 'keepalive',
  description: 'fixed vs hybrid keep-alive on an ATC\'20-shaped trace: real replay (compressed) and simulation; cold %, idle GB-s, p99',
  async run(ctx) {
    const { replay: trace, long, source } = defaultTrace();
    const real = new Map<KeepAlivePolicyName, Replay>();
    for (const p of POLICIES) real.set(p, await replay(ctx, trace, p));
    const compulsory = compulsoryPct(trace);
    const fixedIdle = real.get('fixed')!.idleGbS;
    // The simulations take their cold and warm costs from the real replays' records (medians, same run).
    const allCold = [...real.values()].flatMap((r) => r.coldCosts);
    const allWarm = [...real.values()].flatMap((r) => r.warmCosts);
    const warmMs = allWarm.length ? summarize(allWarm).p50 : 5;
    const coldMs = allCold.length ? Math.max(1, summarize(allCold).p50 - warmMs) : 300;
    // Each replay is simulated with the arrivals it really sent (calls held back at the in-flight bound
    // arrive later than the trace says), so that the comparison is of the pool, not of the driver.
    const sims = new Map(POLICIES.map((p) => [p, simFor(real.get(p)!.sent, p, COMPRESSION, coldMs, warmMs)] as const));
    const longs = new Map(POLICIES.map((p) => [p, simFor(long, p, 1, coldMs, warmMs)] as const));
    for (const p of POLICIES) {
      const r = real.get(p)!;
      const s = sims.get(p)!;
      const coldPct = r.calls ? (100 * r.cold) / r.calls : Number.NaN;
      const first: Record<string, string> = r.firstError ? { first_error: r.firstError.slice(0, 200) } : {};
      ctx.emit({
        name: `keepalive.${p}.cold_pct`,
        unit: '%',
        value: coldPct,
        errors: r.errors,
        floor: compulsory,
        extra: {
          calls: r.calls,
          cold: r.cold,
          sim_cold_pct: round(s.coldPct),
          sim_vs_real: round(s.coldPct / coldPct - 1, 3),
          functions: trace.functions.length,
          trace_minutes: trace.minutes,
          compression: COMPRESSION,
          delayed: r.delayed,
          trace: source,
          ...first,
        },
      });
      ctx.emit({
        name: `keepalive.${p}.idle_gb_s`,
        unit: 'GB-s',
        value: r.idleGbS,
        errors: r.errors,
        floor: fixedIdle,
        extra: { vs_fixed: round(r.idleGbS / fixedIdle - 1, 3), sim_idle_gb_s: round(s.idleGbS), containers: r.containers, sim_containers: s.containers, sim_loads_ahead: s.loadsAhead },
      });
      const lat = summarize(r.latencies);
      ctx.emit({ name: `keepalive.${p}.p99_ms`, unit: 'ms', value: lat.p99, summary: lat, errors: r.errors, floor: warmMs, extra: { cold_cost_p50: round(summarize(r.coldCosts).p50), warm_cost_p50: round(summarize(r.warmCosts).p50) } });
    }
    const longFixed = longs.get('fixed')!;
    for (const p of POLICIES) {
      const s = longs.get(p)!;
      const extra = { calls: s.calls, functions: long.functions.length, trace_minutes: long.minutes, cold_ms: round(coldMs), warm_ms: round(warmMs) };
      ctx.emit({ name: `keepalive.sim.${p}.cold_pct`, unit: '%', value: s.coldPct, floor: compulsoryPct(long), extra });
      ctx.emit({ name: `keepalive.sim.${p}.idle_gb_s`, unit: 'GB-s', value: s.idleGbS, floor: longFixed.idleGbS, extra: { vs_fixed: round(s.idleGbS / longFixed.idleGbS - 1, 3), loads_ahead: s.loadsAhead } });
      const lat = summarize(s.latenciesMs);
      ctx.emit({ name: `keepalive.sim.${p}.p99_ms`, unit: 'ms', value: lat.p99, summary: lat, floor: warmMs });
    }
  },
};
