/** The keep-alive benchmark's traces and its simulator (pure logic: no container runs). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FixedKeepAlive, HybridKeepAlive } from '@whirl/invoker';
import { simulate } from './keepalive-sim.js';
import { interArrivalCoV, readAzureInvocationsCsv, splitTrace, syntheticTrace, type Trace } from './trace.js';

const MIN = 60_000;
const fixture = readFileSync(new URL('../fixtures/azure-invocations-sample.csv', import.meta.url), 'utf8');

describe('Azure Functions 2019 trace reader', () => {
  it('reads per-minute counts into arrivals within their minute', () => {
    const t = readAzureInvocationsCsv(fixture);
    expect(t.minutes).toBe(1440);
    expect(t.functions.map((f) => [f.id, f.trigger, f.arrivals.length])).toEqual([
      ['o1/a1/f1', 'http', 12],
      ['o1/a1/f2', 'timer', 288],
      ['o2/a2/f3', 'queue', 2],
      ['o2/a2/f4', 'event', 0],
    ]);
    const f1 = t.functions[0]!.arrivals;
    expect(f1.slice(0, 3).every((a) => a >= 9 * MIN && a < 10 * MIN)).toBe(true);
    expect(f1.slice(6).every((a) => a >= 299 * MIN && a < 301 * MIN + MIN)).toBe(true);
    expect([...f1].sort((a, b) => a - b)).toEqual(f1);
  });

  it('keeps the busiest functions and the first minutes when asked', () => {
    const t = readAzureInvocationsCsv(fixture, { maxFunctions: 2, minutes: 60 });
    expect(t.minutes).toBe(60);
    expect(t.functions.map((f) => [f.id, f.arrivals.length])).toEqual([
      ['o1/a1/f2', 12],
      ['o1/a1/f1', 6],
    ]);
  });

  it('is deterministic for a seed', () => {
    expect(readAzureInvocationsCsv(fixture, { seed: 7 })).toEqual(readAzureInvocationsCsv(fixture, { seed: 7 }));
  });

  it('rejects a file that is not in the trace format, saying where', () => {
    expect(() => readAzureInvocationsCsv('')).toThrow(/empty/);
    expect(() => readAzureInvocationsCsv('a,b,c,d,1\n')).toThrow(/line 1: the header must start with HashOwner/);
    expect(() => readAzureInvocationsCsv('HashOwner,HashApp,HashFunction,Trigger,1,3\n')).toThrow(/column 6 must be minute 2/);
    const head = 'HashOwner,HashApp,HashFunction,Trigger,1,2\n';
    expect(() => readAzureInvocationsCsv(`${head}o,a,f,http,1\n`)).toThrow(/line 2: 5 columns, the header has 6/);
    expect(() => readAzureInvocationsCsv(`${head}o,a,f,cron,1,2\n`)).toThrow(/line 2: unknown trigger "cron"/);
    expect(() => readAzureInvocationsCsv(`${head}o,a,f,http,1,-2\n`)).toThrow(/line 2: minute 2 count "-2"/);
  });
});

describe('synthetic trace (the ATC\'20 shape)', () => {
  const t = syntheticTrace({ seed: 1, functions: 200, minutes: 1440 });

  it('is the same for the same seed and differs for another', () => {
    expect(syntheticTrace({ seed: 1, functions: 20, minutes: 60 })).toEqual(syntheticTrace({ seed: 1, functions: 20, minutes: 60 }));
    expect(syntheticTrace({ seed: 2, functions: 20, minutes: 60 })).not.toEqual(syntheticTrace({ seed: 1, functions: 20, minutes: 60 }));
  });

  it('has mostly rare functions and a heavy minority that makes most calls', () => {
    const perHour = t.functions.map((f) => f.arrivals.length / 24);
    const rare = perHour.filter((r) => r <= 1).length / t.functions.length;
    expect(rare).toBeGreaterThan(0.3);
    const sorted = t.functions.map((f) => f.arrivals.length).sort((a, b) => b - a);
    const total = sorted.reduce((s, n) => s + n, 0);
    const top10pct = sorted.slice(0, 20).reduce((s, n) => s + n, 0);
    expect(top10pct / total).toBeGreaterThan(0.5);
  });

  it('spreads inter-arrival CoV: periodic ≈ 0, Poisson ≈ 1, bursty > 1', () => {
    const cov = (shape: string): number[] => t.functions.filter((f) => f.shape === shape && f.arrivals.length > 20).map((f) => interArrivalCoV(f.arrivals));
    expect(cov('periodic').every((c) => c < 0.1)).toBe(true);
    expect(cov('poisson').every((c) => c > 0.6 && c < 1.5)).toBe(true);
    expect(cov('bursty').every((c) => c > 1.5)).toBe(true);
    expect(new Set(t.functions.map((f) => f.trigger))).toEqual(new Set(['http', 'timer', 'queue', 'event']));
  });
});

describe('splitTrace', () => {
  it('cuts at a minute: history before it, the rest moved to start at 0, no call lost', () => {
    const t = syntheticTrace({ seed: 1, functions: 20, minutes: 180 });
    const { before, after } = splitTrace(t, 120);
    expect([before.minutes, after.minutes]).toEqual([120, 60]);
    t.functions.forEach((f, i) => {
      expect(before.functions[i]!.arrivals.every((a) => a < 120 * MIN)).toBe(true);
      expect(after.functions[i]!.arrivals.every((a) => a >= 0 && a < 60 * MIN)).toBe(true);
      expect([...before.functions[i]!.arrivals, ...after.functions[i]!.arrivals.map((a) => a + 120 * MIN)]).toEqual(f.arrivals);
      expect(after.functions[i]!.id).toBe(f.id);
    });
  });
});

describe('keep-alive simulator', () => {
  /** One function called every 10 min for 2 h, 1 s per call. */
  const periodic: Trace = { minutes: 120, functions: [{ id: 'f', trigger: 'timer', shape: 'periodic', memoryMB: 1024, durationMs: 1_000, arrivals: Array.from({ length: 12 }, (_, i) => i * 10 * MIN) }] };

  it('fixed 10 min keeps a 10-minute timer loaded: one cold start, idle the rest of the time', () => {
    const r = simulate(periodic, { policy: new FixedKeepAlive(10 * MIN + 5_000), compression: 1, coldMs: 0, warmMs: 0 });
    expect(r).toMatchObject({ calls: 12, cold: 1, containers: 1, loadsAhead: 0 });
    // Loaded from 0 to the end of the trace (2 h), busy 12 s: 7188 GB-s at 1 GB.
    expect(r.idleGbS).toBeCloseTo(7_188, 0);
  });

  it('fixed 5 min lets it go cold every time', () => {
    const r = simulate(periodic, { policy: new FixedKeepAlive(5 * MIN), compression: 1, coldMs: 0, warmMs: 0 });
    expect(r).toMatchObject({ calls: 12, cold: 12, containers: 12 });
    expect(r.idleGbS).toBeCloseTo(12 * 300, 0);
  });

  it('a cold start costs what coldMsAt says at its start: a slow one makes the next call cold too', () => {
    const two: Trace = { minutes: 1, functions: [{ id: 'f', trigger: 'http', shape: 'poisson', memoryMB: 128, durationMs: 10, arrivals: [0, 1_000] }] };
    const sim = (ms: number) => simulate(two, { policy: new FixedKeepAlive(MIN), compression: 1, coldMs: 100, warmMs: 0, coldMsAt: () => ms });
    expect(sim(100)).toMatchObject({ calls: 2, cold: 1 });
    expect(sim(5_000)).toMatchObject({ calls: 2, cold: 2 });
  });

  it('hybrid learns the period and loads the function just before each call', () => {
    const r = simulate(periodic, { policy: new HybridKeepAlive({ idleTimeoutMs: 10 * MIN + 5_000 }), compression: 1, coldMs: 300, warmMs: 0 });
    // The fixed fallback holds it for the first five idle times; then it is unloaded after each call
    // and loaded again 300 ms before 8.1 min: calls 7-12 run in a container loaded ahead (and one
    // more load follows the last call, for a call the trace no longer has).
    expect(r.cold).toBe(1);
    expect(r.loadsAhead).toBe(7);
    const fixed = simulate(periodic, { policy: new FixedKeepAlive(10 * MIN + 5_000), compression: 1, coldMs: 300, warmMs: 0 });
    expect(r.idleGbS).toBeLessThan(fixed.idleGbS * 0.75);
  });
});
