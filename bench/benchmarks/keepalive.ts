/**
 * Keep-alive policies on an invocation trace: the default synthetic trace with the shape "Serverless
 * in the Wild" reports for Azure Functions (or the Azure Functions 2019 trace itself,
 * BENCH_KEEPALIVE_TRACE=invocations_per_function_md.anon.d01.csv), replayed in compressed time
 * against a real standalone Whirl (real containers) once per policy, and simulated with the same
 * policy objects: on the same compressed trace (to check the simulation against the real replay) and
 * on a long uncompressed trace (the policies' steady state, which a real replay could not afford).
 *
 * The replay starts where a day of the same trace ends, and the hybrid policy starts it with what it
 * learnt from that day (run through the simulator, handed to the replay's standalone as its keep-alive
 * state file, and to the replay's simulation the same way): a replay of three trace hours from
 * nothing would measure the fallback rule of a policy that has just started, not the policy.
 *
 * Figures per policy: cold-start percentage, idle memory-time (trace GB-s: container lifetime, from
 * Docker's create to its kill, minus the time it serves calls — its own creation and /init included
 * for a cold call — times memory) and p99 latency. Floors: the compulsory cold starts (first call of each
 * function: what keeping everything forever gives), the fixed policy's idle memory-time (the
 * baseline hybrid must beat by 40 %), and the replay's warm p50.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { makeKeepAlivePolicy, policyKey, type KeepAlivePolicyName, type KeepAliveState } from '@whirl/invoker';
import { phaseSeconds, sleep, smoke } from '../lib/config.js';
import type { Benchmark, BenchContext } from '../lib/bench.js';
import { docker } from '../lib/docker.js';
import { simulate, type SimResult } from '../lib/keepalive-sim.js';
import { Scope } from '../lib/scope.js';
import { round, summarize } from '../lib/stats.js';
import { readAzureInvocationsCsv, splitTrace, syntheticTrace, type Trace } from '../lib/trace.js';
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
/** Trace minutes before the replay that the policies have seen (the smoke run's is short: it only checks the plumbing). */
const HISTORY_MINUTES = smoke ? 120 : 1440;
const SLEEP_CODE = 'function main(p) { return new Promise((r) => setTimeout(() => r({}), p.ms || 0)); }';

interface Replay {
  /** Actions the replay's policy knew from the history before its first call. */
  primed: number;
  calls: number;
  cold: number;
  errors: number;
  latencies: number[];
  /** Per cold call: when it was sent (replay ms from the start), and wait (creation included) + /init, from the record. */
  coldAt: [number, number][];
  /** Per trace function: cold calls (for BENCH_KEEPALIVE_DEBUG's comparison with the simulation). */
  coldBy: number[];
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

function defaultTrace(): { history: Trace; replay: Trace; long: Trace; source: string } {
  const functions = smoke ? 6 : 16;
  // 90 s of replay: 3 trace hours at the default compression.
  const minutes = smoke ? 20 : Math.max(40, Math.round((phaseSeconds(90) * 1000 * COMPRESSION) / MIN));
  const file = process.env.BENCH_KEEPALIVE_TRACE;
  if (file) {
    // The file's day: its last minutes are replayed, the rest is the history.
    const text = readFileSync(file, 'utf8');
    const day = readAzureInvocationsCsv(text, { maxFunctions: functions });
    const { before, after } = splitTrace(day, Math.max(0, day.minutes - minutes));
    return { history: before, replay: after, long: readAzureInvocationsCsv(text), source: file };
  }
  const { before, after } = splitTrace(syntheticTrace({ seed: 1, functions, minutes: HISTORY_MINUTES + minutes }), HISTORY_MINUTES);
  return {
    history: before,
    replay: after,
    long: syntheticTrace({ seed: 1, functions: smoke ? 50 : 200, minutes: (smoke ? 1 : 7) * 1440 }),
    source: 'synthetic seed 1',
  };
}

/**
 * What the hybrid policy learns from the history, keyed by trace function id: the history run through
 * the simulator (the same policy code the invoker runs), with no cold-start cost, so that the idle
 * times are the trace's own.
 */
function learntFrom(history: Trace): KeepAliveState {
  const policy = makeKeepAlivePolicy('hybrid', { idleTimeoutMs: IDLE_TIMEOUT_MS / COMPRESSION, binMs: MIN / COMPRESSION });
  simulate(history, { policy, compression: COMPRESSION, coldMs: 0, warmMs: 0 });
  return policy.exportState()!;
}

function rekeyed(state: KeepAliveState, key: (id: string) => string): KeepAliveState {
  return { ...state, actions: state.actions.map((a) => ({ ...a, action: key(a.action) })) };
}

const actionName = (tag: string, id: string): string => `${tag}_${id.replace(/[^A-Za-z0-9]/g, '')}`;

function compulsoryPct(t: Trace): number {
  const calls = t.functions.reduce((s, f) => s + f.arrivals.length, 0);
  const first = t.functions.filter((f) => f.arrivals.length > 0).length;
  return calls > 0 ? (100 * first) / calls : 0;
}

const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000 });

/** Standalone's namespace, which its keep-alive state file's keys name before it has started. */
const NAMESPACE = 'guest';

async function replay(ctx: BenchContext, trace: Trace, policy: KeepAlivePolicyName, learnt: KeepAliveState): Promise<Replay> {
  const scope = new Scope();
  try {
    const tag = runTag();
    const stateEnv: Record<string, string> = {};
    if (policy === 'hybrid') {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'whirl-keepalive-'));
      scope.defer(`keep-alive state ${dir}`, async () => rmSync(dir, { recursive: true, force: true }));
      stateEnv.WHIRL_KEEPALIVE_STATE_FILE = path.join(dir, 'keepalive.json');
      writeFileSync(stateEnv.WHIRL_KEEPALIVE_STATE_FILE, JSON.stringify(rekeyed(learnt, (id) => policyKey(NAMESPACE, `${NAMESPACE}/${actionName(tag, id)}`))));
    }
    const w = await startStandaloneWhirl(scope, {
      env: {
        ...stateEnv,
        WHIRL_KEEPALIVE: policy,
        WHIRL_KEEPALIVE_BIN_MS: String(Math.round(MIN / COMPRESSION)),
        WHIRL_IDLE_TIMEOUT_MS: String(Math.round(IDLE_TIMEOUT_MS / COMPRESSION)),
        WHIRL_PREWARM: 'false',
        WHIRL_USER_MEMORY_MB: String(Math.max(1024, trace.functions.length * 128 * 4)),
      },
    });
    if (w.namespace !== NAMESPACE) throw new Error(`standalone's namespace is ${w.namespace}; the keep-alive state was written for ${NAMESPACE}`);
    const primed = policy === 'hybrid' ? await learntActions(w.apiHost, tag) : 0;
    for (const f of trace.functions) await putAction(w, actionName(tag, f.id), { code: SLEEP_CODE, memoryMB: f.memoryMB });
    const calls = trace.functions
      .flatMap((f, fi) => f.arrivals.map((a) => ({ fi, at: a / COMPRESSION, name: actionName(tag, f.id), ms: Math.round(f.durationMs / COMPRESSION) })))
      .sort((a, b) => a.at - b.at);
    const r: Replay = { primed, calls: 0, cold: 0, errors: 0, latencies: [], coldAt: [], coldBy: trace.functions.map(() => 0), warmCosts: [], idleGbS: 0, containers: 0, delayed: 0, sent: { minutes: trace.minutes, functions: trace.functions.map((f) => ({ ...f, arrivals: [] })) } };
    let busyMs = 0;
    const t0 = Date.now() + 500;
    const endAt = t0 + (trace.minutes * MIN) / COMPRESSION;
    const watch = await watchContainers(`_guest_${tag}_`);
    const inflight: Promise<void>[] = [];
    let active = 0;
    let freed: (() => void) | undefined;
    ctx.log(`keepalive ${policy}: replaying ${calls.length} calls of ${trace.functions.length} functions over ${((endAt - t0) / 1000).toFixed(0)} s${policy === 'hybrid' ? ` (${primed} learnt from the history)` : ''}`);
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
            // The time a container serves the call (/init and /run, and for a cold call its own
            // creation, which is in the wait): what the simulation counts as busy.
            const wait = ann('waitTime') ?? 0;
            busyMs += Math.max(0, Math.min((rec.duration ?? 0) + (initTime !== undefined ? wait : 0), endAt - started));
            if (initTime !== undefined) {
              r.cold++;
              r.coldBy[c.fi]!++;
              r.coldAt.push([started - t0, wait + initTime]);
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
    for (const l of lives) lifeMs += Math.max(0, Math.min(l.ended ?? endAt, endAt) - Math.max(l.created, t0));
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
 * How many of the replay's actions (by `tag`) the standalone's keep-alive policy knows before any call:
 * its /metrics windows, which come from the state file it loaded at start.
 */
async function learntActions(apiHost: string, tag: string): Promise<number> {
  const res = await request(`${apiHost}/metrics`, { dispatcher: agent });
  const text = await res.body.text();
  const names = new Set<string>();
  for (const m of text.matchAll(/^whirl_keepalive_window_seconds\{[^}]*action="([^"]*)"/gm)) if (m[1]!.includes(`/${tag}_`)) names.add(m[1]!);
  return names.size;
}

/**
 * Watches Docker's event stream live for the containers whose name contains `part` (the daemon keeps
 * only a short backlog of past events, too short for a busy machine): their creation times, and when
 * their memory was given back (the first of kill, die and destroy: removal itself takes a while longer
 * on a busy daemon, and the simulation's containers go at once).
 */
async function watchContainers(part: string): Promise<{ stop(): { created: number; ended?: number }[] }> {
  const stream = (await docker.getEvents({ filters: { type: ['container'], event: ['create', 'kill', 'die', 'destroy'], label: ['whirl.invoker'] } })) as Readable;
  const byId = new Map<string, { created: number; ended?: number }>();
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
      else {
        const l = byId.get(id);
        if (l) l.ended ??= at;
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

const coldCosts = (r: Replay): number[] => r.coldAt.map(([, ms]) => ms);

/**
 * A real replay's cold-start cost at replay time t: that of its cold start sent nearest to t (what a
 * container start cost at that moment, beside whatever else was starting), less the warm overhead.
 */
function coldCostAt(r: Replay, warmMs: number): ((t: number) => number) | undefined {
  const at = [...r.coldAt].sort((a, b) => a[0] - b[0]);
  if (at.length === 0) return undefined;
  return (t) => {
    let lo = 0;
    let hi = at.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (at[mid]![0] < t) lo = mid + 1;
      else hi = mid;
    }
    const near = lo > 0 && t - at[lo - 1]![0] < at[lo]![0] - t ? at[lo - 1]! : at[lo]!;
    return Math.max(1, near[1] - warmMs);
  };
}

/** The pool's lead for a load ahead (mean load time plus four mean deviations), over a replay's cold starts. */
function leadOf(r: Replay, warmMs: number): number | undefined {
  const xs = coldCosts(r).map((ms) => Math.max(1, ms - warmMs));
  if (xs.length === 0) return undefined;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return mean + (4 * xs.reduce((a, b) => a + Math.abs(b - mean), 0)) / xs.length;
}

function simFor(
  trace: Trace,
  policy: KeepAlivePolicyName,
  compression: number,
  coldMs: number,
  warmMs: number,
  opts: { learnt?: KeepAliveState; coldMsAt?: (t: number) => number; leadMs?: number } = {},
): SimResult {
  const p = makeKeepAlivePolicy(policy, { idleTimeoutMs: IDLE_TIMEOUT_MS / compression, binMs: MIN / compression });
  if (opts.learnt) p.importState(opts.learnt);
  const { coldMsAt, leadMs } = opts;
  return simulate(trace, { policy: p, compression, coldMs, warmMs, ...(coldMsAt ? { coldMsAt } : {}), ...(leadMs !== undefined ? { leadMs } : {}) });
}

export const keepAliveBench: Benchmark = {
  name: 'keepalive',
  description: 'fixed vs hybrid keep-alive on an ATC\'20-shaped trace: real replay (compressed) and simulation; cold %, idle GB-s, p99',
  async run(ctx) {
    const { history, replay: trace, long, source } = defaultTrace();
    const learnt = learntFrom(history);
    const real = new Map<KeepAlivePolicyName, Replay>();
    for (const p of POLICIES) real.set(p, await replay(ctx, trace, p, learnt));
    const compulsory = compulsoryPct(trace);
    const fixedIdle = real.get('fixed')!.idleGbS;
    // The simulations take their cold and warm costs from the real replays' records (medians, same run).
    const allCold = [...real.values()].flatMap((r) => coldCosts(r));
    const allWarm = [...real.values()].flatMap((r) => r.warmCosts);
    const warmMs = allWarm.length ? summarize(allWarm).p50 : 5;
    const coldMs = allCold.length ? Math.max(1, summarize(allCold).p50 - warmMs) : 300;
    // Each replay is simulated with the arrivals it really sent (calls held back at the in-flight bound
    // arrive later than the trace says) and its own cold-start costs at each moment (a burst of starts
    // on two CPUs costs seconds each, one alone a few hundred ms), so that the comparison is of the
    // pool and the policy, not of the driver or the machine's load.
    const replaySim = (p: KeepAlivePolicyName, t: Trace): SimResult => {
      const at = coldCostAt(real.get(p)!, warmMs);
      const lead = leadOf(real.get(p)!, warmMs);
      return simFor(t, p, COMPRESSION, coldMs, warmMs, { learnt, ...(at ? { coldMsAt: at } : {}), ...(lead !== undefined ? { leadMs: lead } : {}) });
    };
    const sims = new Map(POLICIES.map((p) => [p, replaySim(p, real.get(p)!.sent)] as const));
    const longs = new Map(POLICIES.map((p) => [p, simFor(long, p, 1, coldMs, warmMs)] as const));
    if (process.env.BENCH_KEEPALIVE_DEBUG) {
      for (const p of POLICIES) {
        const r = real.get(p)!;
        const rows = r.sent.functions.map((f, i) => {
          const one = replaySim(p, { minutes: r.sent.minutes, functions: [f] });
          return `${f.id}/${f.shape} calls ${f.arrivals.length} cold real ${r.coldBy[i]} sim ${one.cold}`;
        });
        ctx.log(`keepalive ${p} per function (cold ${round(coldMs)} ms, warm ${round(warmMs)} ms):\n  ${rows.join('\n  ')}`);
      }
    }
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
          history_minutes: history.minutes,
          learnt: r.primed,
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
      ctx.emit({ name: `keepalive.${p}.p99_ms`, unit: 'ms', value: lat.p99, summary: lat, errors: r.errors, floor: warmMs, extra: { cold_cost_p50: round(summarize(coldCosts(r)).p50), warm_cost_p50: round(summarize(r.warmCosts).p50) } });
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
