/**
 * The keep-alive policies on worked examples (the shapes of "Serverless in the Wild", Figs. 6-8 and
 * the policy of its Section 4): a periodic timer, bursty HTTP traffic, a rarely invoked action, and
 * idle times too spread out to trust. Virtual time: the policy never reads a clock.
 */
import { describe, expect, it } from 'vitest';
import { FixedKeepAlive, HybridKeepAlive, ReactiveStemCells, keepAlivePlan } from './keepalive.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** Feeds arrivals (ms) of one action, each running `execMs`; returns the last decision. */
function replay(policy: HybridKeepAlive | FixedKeepAlive, arrivals: number[], execMs = 1_000) {
  let last;
  for (const t of arrivals) {
    policy.arrived('ns|a@1', t);
    last = policy.ended('ns|a@1', t + execMs);
  }
  return last!;
}

describe('fixed keep-alive', () => {
  it('keeps every idle container for the idle timeout, whatever the history', () => {
    const p = new FixedKeepAlive(10 * MIN);
    expect(replay(p, [0, 10 * MIN, 20 * MIN])).toEqual({ keepAliveMs: 10 * MIN, surplusKeepAliveMs: 10 * MIN, rule: 'fixed' });
  });
});

describe('hybrid histogram keep-alive, the paper\'s percentile rule (minHazard 0)', () => {
  it('falls back to the fixed rule until it has seen a few idle times', () => {
    const p = new HybridKeepAlive({ idleTimeoutMs: 10 * MIN, minHazard: 0 });
    expect(replay(p, [0, 10 * MIN, 20 * MIN])).toEqual({ keepAliveMs: 10 * MIN, surplusKeepAliveMs: 10 * MIN, rule: 'fallback' });
  });

  it('periodic timer every 10 min: unload after the call, load at 8.1 min, keep until 11 min', () => {
    // Idle times are 10 min − 1 s: all in bin 9 (9-10 min). Head = 9 min, tail = 10 min.
    // Prewarm window 9 × 0.9 = 8.1 min; keep-alive window 10 × 1.1 − 8.1 = 2.9 min.
    const p = new HybridKeepAlive({ idleTimeoutMs: 10 * MIN, minHazard: 0 });
    const d = replay(
      p,
      Array.from({ length: 12 }, (_, i) => i * 10 * MIN),
    );
    expect(d).toEqual({ prewarmAfterMs: 8.1 * MIN, keepAliveMs: 2.9 * MIN, surplusKeepAliveMs: 0, rule: 'histogram' });
    const snap = p.snapshot().actions[0]!;
    expect(snap.samples).toBe(11);
    expect(snap.cov).toBeGreaterThan(2);
  });

  it('bursty HTTP (100 calls 2 s apart, then 45 min of silence): keep loaded 66 s after each call', () => {
    // 495 idle times of ~1 s (bin 0) and 4 of ~45 min: the 5th percentile is in bin 0, so no
    // prewarm window (keep it loaded); the 99th is in bin 0 too (rank 495 of 499), tail = 1 min.
    const arrivals: number[] = [];
    for (let b = 0; b < 5; b++) for (let i = 0; i < 100; i++) arrivals.push(b * 50 * MIN + i * 2_000);
    const p = new HybridKeepAlive({ idleTimeoutMs: 10 * MIN, minHazard: 0 });
    expect(replay(p, arrivals)).toEqual({ keepAliveMs: 1.1 * MIN, surplusKeepAliveMs: MIN, rule: 'histogram' });
  });

  it('bursty with rarer gaps in the tail keeps the container through the gaps', () => {
    // 10-call bursts: 45 short idle times and 4 of 45 min; the 99th percentile is a 45-min gap.
    const arrivals: number[] = [];
    for (let b = 0; b < 5; b++) for (let i = 0; i < 10; i++) arrivals.push(b * 46 * MIN + i * 2_000);
    const p = new HybridKeepAlive({ idleTimeoutMs: 10 * MIN, minHazard: 0 });
    const d = replay(p, arrivals);
    expect(d.rule).toBe('histogram');
    expect(d.prewarmAfterMs).toBeUndefined();
    expect(d.keepAliveMs).toBe(Math.round(46 * MIN * 1.1));
  });

  it('rare action (every 6 h, beyond the 4 h range): forecasts the next call and opens a window around it', () => {
    // All idle times are out of range; the forecast (weighted mean) is 6 h − 1 s.
    const p = new HybridKeepAlive({ idleTimeoutMs: 10 * MIN, minHazard: 0 });
    const d = replay(
      p,
      Array.from({ length: 7 }, (_, i) => i * 6 * HOUR),
    );
    const forecast = 6 * HOUR - 1_000;
    expect(d).toEqual({ prewarmAfterMs: Math.round(forecast * 0.9), keepAliveMs: Math.round(forecast * 0.2), surplusKeepAliveMs: 0, rule: 'forecast' });
  });

  it('idle times spread evenly over the range are not representative: fixed rule', () => {
    // One idle time in each of bins 0, 10, ..., 230 and again: bin counts have a CoV below 2.
    const arrivals: number[] = [];
    let t = 0;
    for (let round = 0; round < 4; round++) {
      for (let b = 0; b < 240; b += 3) {
        arrivals.push(t);
        t += 1_000 + b * MIN + 30_000;
      }
    }
    const p = new HybridKeepAlive({ idleTimeoutMs: 10 * MIN, minHazard: 0 });
    expect(replay(p, arrivals)).toEqual({ keepAliveMs: 10 * MIN, surplusKeepAliveMs: 10 * MIN, rule: 'fallback' });
    expect(p.snapshot().actions[0]!.cov).toBeLessThan(2);
  });

  it('scales with the bin width (compressed time): 100 ms bins give the same windows / 600', () => {
    const p = new HybridKeepAlive({ idleTimeoutMs: 1_000, binMs: 100, minHazard: 0 });
    const d = replay(
      p,
      Array.from({ length: 12 }, (_, i) => i * 1_000),
      2,
    );
    expect(d).toEqual({ prewarmAfterMs: 810, keepAliveMs: 290, surplusKeepAliveMs: 0, rule: 'histogram' });
  });

  it('measures idle time from the end of the last running activation: overlapping calls add none', () => {
    const p = new HybridKeepAlive({ idleTimeoutMs: 10 * MIN, minHazard: 0 });
    p.arrived('a', 0);
    p.arrived('a', 100);
    p.ended('a', 1_000);
    p.ended('a', 1_100);
    p.arrived('a', 5 * MIN);
    expect(p.snapshot().actions[0]!.samples).toBe(1);
  });

  it('forgets the least recently seen actions beyond maxActions', () => {
    const p = new HybridKeepAlive({ idleTimeoutMs: MIN, maxActions: 2, minHazard: 0 });
    for (const a of ['a', 'b', 'a', 'c']) {
      p.arrived(a, 0);
      p.ended(a, 1);
    }
    expect(p.snapshot().actions.map((x) => x.action).sort()).toEqual(['a', 'c']);
  });
});

describe('hybrid keep-alive, the cost-aware rule (the default, minHazard 0.1)', () => {
  it('periodic timer every 10 min: the same windows as the paper (the hazard is 1 in bin 9 and 0 before)', () => {
    const p = new HybridKeepAlive({ idleTimeoutMs: 10 * MIN });
    const d = replay(
      p,
      Array.from({ length: 12 }, (_, i) => i * 10 * MIN),
    );
    expect(d).toEqual({ prewarmAfterMs: 8.1 * MIN, keepAliveMs: 2.9 * MIN, surplusKeepAliveMs: 0, rule: 'histogram' });
  });

  it('bursty with rarer gaps in the tail: kept 66 s, not through the 45-min gaps the 99th percentile spans', () => {
    // Bin 0 holds 45 of 49 idle times (hazard 0.92); bins 1 and 2 none of the 4 that reach them
    // (hazard 0): the window ends after bin 0, × 1.1.
    const arrivals: number[] = [];
    for (let b = 0; b < 5; b++) for (let i = 0; i < 10; i++) arrivals.push(b * 46 * MIN + i * 2_000);
    const p = new HybridKeepAlive({ idleTimeoutMs: 10 * MIN });
    expect(replay(p, arrivals)).toEqual({ keepAliveMs: 1.1 * MIN, surplusKeepAliveMs: MIN, rule: 'histogram' });
  });

  it('rare action (every 6 h): no bin pays for its memory, so the container goes at once', () => {
    const p = new HybridKeepAlive({ idleTimeoutMs: 10 * MIN });
    const d = replay(
      p,
      Array.from({ length: 7 }, (_, i) => i * 6 * HOUR),
    );
    expect(d).toEqual({ keepAliveMs: 0, surplusKeepAliveMs: 0, rule: 'histogram' });
  });

  it('calls every 2-4 min: loaded through the bins where the next call is likely, then removed', () => {
    // Idle times cycle 2, 3, 4 min (+ 30 s): bins 2, 3, 4 hold them; hazards 1/3, 1/2, 1.
    const arrivals: number[] = [];
    let t = 0;
    for (let i = 0; i < 30; i++) {
      arrivals.push(t);
      t += 1_000 + (2 + (i % 3)) * MIN + 30_000;
    }
    const p = new HybridKeepAlive({ idleTimeoutMs: 10 * MIN });
    expect(replay(p, arrivals)).toEqual({ prewarmAfterMs: 1.8 * MIN, keepAliveMs: 5 * 1.1 * MIN - 1.8 * MIN, surplusKeepAliveMs: 0, rule: 'histogram' });
  });

  it('a low threshold keeps more, a high one less (the trade between cold starts and idle memory)', () => {
    // Per 10 idle times: 6 in bin 0, 1 in bin 1, 3 in bin 3: hazards 0.6, 0.25, 0, 1.
    const gaps = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1.5, 3.5, 3.5, 3.5];
    const arrivals: number[] = [];
    let t = 0;
    for (let i = 0; i < 50; i++) {
      arrivals.push(t);
      t += 1_000 + gaps[i % gaps.length]! * MIN;
    }
    // 0.05: bins 0-3 (bin 2 alone is not two low bins in a row); 0.5: bins 1 and 2 end it after bin 0.
    const low = replay(new HybridKeepAlive({ idleTimeoutMs: 10 * MIN, minHazard: 0.05 }), arrivals);
    const high = replay(new HybridKeepAlive({ idleTimeoutMs: 10 * MIN, minHazard: 0.5 }), arrivals);
    expect(low.keepAliveMs).toBe(Math.round(4 * MIN * 1.1));
    expect(high.keepAliveMs).toBe(Math.round(MIN * 1.1));
  });
});

describe('keepAlivePlan', () => {
  it('unloads and loads again lead time early when the prewarm window is long enough', () => {
    expect(keepAlivePlan({ prewarmAfterMs: 1_000, keepAliveMs: 300, surplusKeepAliveMs: 0, rule: 'histogram' }, 200)).toEqual({ removeAfterMs: 0, loadAfterMs: 800, keepLoadedMs: 300 });
  });
  it('keeps the container loaded when reloading would take longer than the window', () => {
    expect(keepAlivePlan({ prewarmAfterMs: 150, keepAliveMs: 300, surplusKeepAliveMs: 0, rule: 'histogram' }, 200)).toEqual({ removeAfterMs: 450, keepLoadedMs: 300 });
  });
  it('keeps a surplus container (the action has another idle one) only the surplus window', () => {
    expect(keepAlivePlan({ keepAliveMs: 300, surplusKeepAliveMs: 0, rule: 'histogram' }, 200, true)).toEqual({ removeAfterMs: 0, keepLoadedMs: 0 });
  });
  it('passes a plain keep-alive through', () => {
    expect(keepAlivePlan({ keepAliveMs: 300, surplusKeepAliveMs: 300, rule: 'fixed' }, 200)).toEqual({ removeAfterMs: 300, keepLoadedMs: 300 });
  });
});

describe('reactive stem cells', () => {
  const cfg = { minCount: 1, maxCount: 4, ttlMs: 2 * MIN, threshold: 2, increment: 1 };
  it('grows by increment per threshold cold starts within the ttl, up to maxCount', () => {
    const r = new ReactiveStemCells(cfg);
    expect(r.desired(0)).toBe(1);
    r.coldStart(0);
    expect(r.desired(1)).toBe(1);
    r.coldStart(1);
    expect(r.desired(2)).toBe(1);
    for (let i = 0; i < 4; i++) r.coldStart(10 + i);
    expect(r.desired(20)).toBe(3);
    for (let i = 0; i < 10; i++) r.coldStart(30 + i);
    expect(r.desired(40)).toBe(4);
  });
  it('shrinks back to minCount once the cold starts are older than the ttl', () => {
    const r = new ReactiveStemCells(cfg);
    for (let i = 0; i < 6; i++) r.coldStart(i);
    expect(r.desired(10)).toBe(3);
    expect(r.desired(2 * MIN + 10)).toBe(1);
  });
});

describe('hybrid keep-alive state across a restart', () => {
  const timer = Array.from({ length: 12 }, (_, i) => i * 10 * MIN);

  it('a policy that imports what another learnt decides the same from its next call on', () => {
    const learnt = new HybridKeepAlive({ idleTimeoutMs: 10 * MIN });
    const before = replay(learnt, timer);
    const state = JSON.parse(JSON.stringify(learnt.exportState())) as ReturnType<HybridKeepAlive['exportState']>;
    expect(state.actions).toEqual([{ action: 'ns|a@1', bins: [[9, 11]], outOfRange: 0 }]);
    const resumed = new HybridKeepAlive({ idleTimeoutMs: 10 * MIN });
    expect(resumed.importState(state)).toBe(1);
    // One call after the restart: its gap to the last end before it is unknown, so it adds no idle
    // time, and the windows are the learnt ones, not the fixed fallback.
    expect(replay(resumed, [200 * MIN])).toEqual(before);
    expect(resumed.snapshot().actions[0]!.samples).toBe(11);
  });

  it('refuses a state learnt with other bins, and keeps what it had', () => {
    const learnt = new HybridKeepAlive({ idleTimeoutMs: 10 * MIN, binMs: 500 });
    replay(learnt, timer.map((t) => t / 120));
    const p = new HybridKeepAlive({ idleTimeoutMs: 10 * MIN });
    expect(() => p.importState(learnt.exportState())).toThrow(/240 bins of 500 ms, this policy has 240 of 60000 ms/);
    expect(p.snapshot().actions).toEqual([]);
  });

  it('the fixed rule has nothing to keep', () => {
    expect(new FixedKeepAlive(MIN).exportState()).toBeUndefined();
  });
});
