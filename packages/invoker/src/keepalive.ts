/**
 * Keep-alive policies: how long an idle warm container of an action is kept, and whether it is better
 * to unload it at once and load it again just before the action's next likely call.
 *
 * These objects are pure: they never read a clock or start a timer. Every method takes `now` (ms),
 * so the container pool (real time) and the keep-alive simulator in `bench/` (virtual time) drive the
 * very same code. The pool's opening essay describes how the decisions are carried out.
 *
 * `fixed` is the classic rule: keep every idle container for `idleTimeoutMs`, then remove it.
 *
 * `hybrid` is the hybrid histogram policy of Shahrad et al., "Serverless in the Wild" (USENIX ATC'20),
 * summarised in docs/keepalive.md. Per action it keeps a histogram of idle times (the gap between the
 * end of the action's last activation and the arrival of its next one, when none was running), in
 * `binMs` bins over `bins × binMs` (1-minute bins over 4 hours by default). After each activation:
 *   - too few idle times seen (< `minSamples`): fall back to the fixed rule;
 *   - most idle times beyond the histogram's range (share > `outOfRangeShare`): forecast the next idle
 *     time from the out-of-range ones (an exponentially weighted mean; the paper uses ARIMA) and open
 *     a window around it: prewarm at forecast × (1 − margin), keep for forecast × 2 × margin;
 *   - the histogram is not representative (coefficient of variation of its bin counts < `minCoV`, the
 *     paper's 2: idle times spread evenly say nothing about the next one): fall back to the fixed rule;
 *   - otherwise head = lower edge of the bin holding the `headPercentile` (5th) idle time, tail = upper
 *     edge of the bin holding the `tailPercentile` (99th); prewarm window = head × (1 − margin), keep-alive
 *     window = tail × (1 + margin) − prewarm window. A prewarm window of 0 means "keep it loaded".
 * Whirl's default replaces the last three steps with a cost-aware rule (`minHazard`, see
 * `hazardWindows`): a bin of idle memory is kept only while the chance of the next call in it pays
 * for it. The paper's 99th percentile made the keep-alive window of Poisson and bursty actions span
 * hours (their longest gaps), which cost more idle memory than the fixed rule; on the default
 * synthetic trace the cost-aware rule has 14 % fewer cold starts than fixed with 44 % less idle
 * memory-time (bench/RESULTS.md). Caveat: it stops at the first low stretch, so a second mode of idle
 * times further out (bimodal gaps) is served cold.
 */

/** What to do with an action's container once its activation has ended. */
export interface KeepAliveDecision {
  /**
   * Without `prewarmAfterMs`: keep the idle container this long after the end, then remove it. With
   * it: how long the container loaded again is kept once ready.
   */
  keepAliveMs: number;
  /** Unload the container now and load (create and /init) one again this long after the end. */
  prewarmAfterMs?: number;
  /**
   * How long to keep the container instead when the action already has another idle one loaded: the
   * windows are about whether the action is loaded, and one container answers that; more were made
   * for concurrent calls.
   */
  surplusKeepAliveMs: number;
  /** Which rule chose the windows. */
  rule: 'fixed' | 'histogram' | 'forecast' | 'fallback';
}

/** One action's state as the policy sees it (read-only; for logs and metrics). */
export interface ActionKeepAlive {
  action: string;
  /** Idle times inside the histogram's range, and beyond it. */
  samples: number;
  outOfRange: number;
  /** Coefficient of variation of the histogram's bin counts (null before any sample). */
  cov: number | null;
  decision: KeepAliveDecision;
}

export interface PolicySnapshot {
  policy: KeepAlivePolicyName;
  actions: ActionKeepAlive[];
}

export type KeepAlivePolicyName = 'fixed' | 'hybrid';

/** The key a policy learns an action under: per invoking namespace, across the action's revisions. */
export function policyKey(namespace: string, docId: string): string {
  return `${namespace}|${docId}`;
}

/** The invoking namespace and the action of a policy key (a pool job's warm key parts the same way). */
export function policyKeyParts(key: string): { namespace: string; action: string } {
  const bar = key.indexOf('|');
  return { namespace: key.slice(0, bar), action: key.slice(bar + 1) };
}

/**
 * What a policy has learnt, in a form that outlives the process (JSON). Only idle times are kept,
 * never the time of an action's last end: the gap across a restart is not an idle time of the action.
 */
export interface KeepAliveState {
  version: 1;
  binMs: number;
  bins: number;
  /** Per action: non-empty histogram bins as [bin, count] pairs, and the out-of-range idle times. */
  actions: { action: string; bins: [number, number][]; outOfRange: number; forecastMs?: number }[];
}

export interface KeepAlivePolicy {
  readonly name: KeepAlivePolicyName;
  /** An activation of `action` arrived (was submitted to the pool). */
  arrived(action: string, now: number): void;
  /** An activation of `action` ended (or failed without a container): the windows for its container. */
  ended(action: string, now: number): KeepAliveDecision;
  /** Per action, the windows chosen last. */
  snapshot(): PolicySnapshot;
  /** What it has learnt (undefined: a policy that learns nothing). */
  exportState(): KeepAliveState | undefined;
  /**
   * Takes up what an earlier process learnt, and returns how many actions it knows from it. Throws,
   * changing nothing, when the state was learnt with other bins (its idle times would be misread).
   */
  importState(state: KeepAliveState): number;
}

export class FixedKeepAlive implements KeepAlivePolicy {
  readonly name = 'fixed' as const;
  constructor(private readonly idleTimeoutMs: number) {}
  arrived(): void {}
  ended(): KeepAliveDecision {
    return { keepAliveMs: this.idleTimeoutMs, surplusKeepAliveMs: this.idleTimeoutMs, rule: 'fixed' };
  }
  snapshot(): PolicySnapshot {
    return { policy: 'fixed', actions: [] };
  }
  exportState(): undefined {
    return undefined;
  }
  importState(): number {
    return 0;
  }
}

export interface HybridOptions {
  /** The fixed rule's keep-alive, used while an action's histogram is not representative. */
  idleTimeoutMs: number;
  /** @default 60_000 (one minute) */
  binMs?: number;
  /** @default 240 (four hours of one-minute bins) */
  bins?: number;
  /** @default 5 */
  headPercentile?: number;
  /** @default 99 */
  tailPercentile?: number;
  /** @default 0.1 (the paper's 10 %) */
  margin?: number;
  /** @default 2 (the paper's threshold) */
  minCoV?: number;
  /** Idle times needed before the histogram is trusted. @default 5 */
  minSamples?: number;
  /** Share of out-of-range idle times above which the forecast is used. @default 0.5 */
  outOfRangeShare?: number;
  /** Actions remembered; the least recently seen is forgotten beyond this. @default 10_000 */
  maxActions?: number;
  /**
   * Longest keep-alive of an action's surplus idle containers (see KeepAliveDecision): long enough to
   * serve the next concurrent call of a burst, short of the learnt window. @default binMs
   */
  surplusKeepAliveMs?: number;
  /**
   * The cost-aware rule: keep an action loaded through a bin only while the chance that its next
   * call comes in that bin, given none came before (the bin's hazard), is at least this: a bin of one
   * container's idle memory is taken to cost `minHazard` of a cold start. 0 turns it off and leaves
   * the paper's percentile windows. @default 0.1
   */
  minHazard?: number;
}

interface ActionState {
  counts: Uint32Array;
  samples: number;
  outOfRange: number;
  /** Exponentially weighted mean of the out-of-range idle times (the forecast). */
  forecastMs: number | undefined;
  running: number;
  lastEnd: number | undefined;
  decision: KeepAliveDecision;
  cov: number | null;
}

/** Bins in a row below the hazard threshold that end the cost-aware keep-alive window. */
const LOW_BINS_TO_STOP = 2;

/** Weight of the newest out-of-range idle time in the forecast. */
const FORECAST_ALPHA = 0.5;

export class HybridKeepAlive implements KeepAlivePolicy {
  readonly name = 'hybrid' as const;
  private readonly o: Required<HybridOptions>;
  /** Insertion order = least recently seen first (entries are re-inserted on every arrival). */
  private readonly actions = new Map<string, ActionState>();

  constructor(opts: HybridOptions) {
    this.o = {
      binMs: 60_000,
      bins: 240,
      headPercentile: 5,
      tailPercentile: 99,
      margin: 0.1,
      minCoV: 2,
      minSamples: 5,
      outOfRangeShare: 0.5,
      maxActions: 10_000,
      minHazard: 0.1,
      ...opts,
      surplusKeepAliveMs: opts.surplusKeepAliveMs ?? opts.binMs ?? 60_000,
    };
  }

  arrived(action: string, now: number): void {
    const s = this.state(action);
    if (s.running === 0 && s.lastEnd !== undefined) this.record(s, Math.max(0, now - s.lastEnd));
    s.running++;
    this.actions.delete(action);
    this.actions.set(action, s);
  }

  ended(action: string, now: number): KeepAliveDecision {
    const s = this.state(action);
    s.running = Math.max(0, s.running - 1);
    s.lastEnd = now;
    s.decision = this.decide(s);
    return s.decision;
  }

  snapshot(): PolicySnapshot {
    return {
      policy: 'hybrid',
      actions: [...this.actions].map(([action, s]) => ({ action, samples: s.samples, outOfRange: s.outOfRange, cov: s.cov, decision: { ...s.decision } })),
    };
  }

  exportState(): KeepAliveState {
    const actions: KeepAliveState['actions'] = [];
    for (const [action, s] of this.actions) {
      if (s.samples + s.outOfRange === 0) continue;
      const bins: [number, number][] = [];
      s.counts.forEach((c, k) => {
        if (c > 0) bins.push([k, c]);
      });
      actions.push({ action, bins, outOfRange: s.outOfRange, ...(s.forecastMs !== undefined ? { forecastMs: s.forecastMs } : {}) });
    }
    return { version: 1, binMs: this.o.binMs, bins: this.o.bins, actions };
  }

  importState(state: KeepAliveState): number {
    if (state.version !== 1 || state.binMs !== this.o.binMs || state.bins !== this.o.bins) {
      throw new Error(
        `the saved keep-alive state was learnt with ${state.bins} bins of ${state.binMs} ms, this policy has ${this.o.bins} of ${this.o.binMs} ms; it starts afresh`,
      );
    }
    let n = 0;
    for (const a of state.actions) {
      const s = this.state(a.action);
      s.counts.fill(0);
      s.samples = 0;
      for (const [k, c] of a.bins) {
        if (!(Number.isInteger(k) && k >= 0 && k < this.o.bins && Number.isInteger(c) && c > 0)) continue;
        s.counts[k] = c;
        s.samples += c;
      }
      s.outOfRange = Number.isInteger(a.outOfRange) && a.outOfRange > 0 ? a.outOfRange : 0;
      s.forecastMs = typeof a.forecastMs === 'number' && a.forecastMs > 0 ? a.forecastMs : undefined;
      s.cov = s.samples > 0 ? coefficientOfVariation(s.counts) : null;
      s.decision = this.decide(s);
      n++;
    }
    return n;
  }

  private state(action: string): ActionState {
    let s = this.actions.get(action);
    if (!s) {
      s = {
        counts: new Uint32Array(this.o.bins),
        samples: 0,
        outOfRange: 0,
        forecastMs: undefined,
        running: 0,
        lastEnd: undefined,
        decision: { keepAliveMs: this.o.idleTimeoutMs, surplusKeepAliveMs: this.o.idleTimeoutMs, rule: 'fallback' },
        cov: null,
      };
      this.actions.set(action, s);
      if (this.actions.size > this.o.maxActions) {
        const oldest = this.actions.keys().next().value;
        if (oldest !== undefined) this.actions.delete(oldest);
      }
    }
    return s;
  }

  private record(s: ActionState, idleMs: number): void {
    const bin = Math.floor(idleMs / this.o.binMs);
    if (bin >= this.o.bins) {
      s.outOfRange++;
      s.forecastMs = s.forecastMs === undefined ? idleMs : FORECAST_ALPHA * idleMs + (1 - FORECAST_ALPHA) * s.forecastMs;
      return;
    }
    s.counts[bin]!++;
    s.samples++;
    s.cov = coefficientOfVariation(s.counts);
  }

  private decide(s: ActionState): KeepAliveDecision {
    const d = this.windows(s);
    // The fallback is the fixed rule in full; the learnt windows are for one loaded container.
    if (d.rule === 'fallback') return { ...d, surplusKeepAliveMs: this.o.idleTimeoutMs };
    return { ...d, surplusKeepAliveMs: Math.min(this.o.surplusKeepAliveMs, d.prewarmAfterMs === undefined ? d.keepAliveMs : 0) };
  }

  private windows(s: ActionState): Omit<KeepAliveDecision, 'surplusKeepAliveMs'> {
    const { margin, binMs } = this.o;
    const total = s.samples + s.outOfRange;
    const fallback = { keepAliveMs: this.o.idleTimeoutMs, rule: 'fallback' as const };
    if (total < this.o.minSamples) return fallback;
    // The cost-aware rule decides from the histogram and the out-of-range count alike (measured: the
    // forecast before it saved 0.01 % of cold starts for 2 % more idle memory on the synthetic trace).
    if (this.o.minHazard > 0) return this.hazardWindows(s);
    if (s.outOfRange / total > this.o.outOfRangeShare && s.forecastMs !== undefined) {
      return { prewarmAfterMs: Math.round(s.forecastMs * (1 - margin)), keepAliveMs: Math.round(s.forecastMs * 2 * margin), rule: 'forecast' as const };
    }
    if (s.cov === null || s.cov < this.o.minCoV) return fallback;
    const head = percentileBin(s.counts, s.samples, this.o.headPercentile) * binMs;
    const tail = (percentileBin(s.counts, s.samples, this.o.tailPercentile) + 1) * binMs;
    const prewarm = Math.round(head * (1 - margin));
    const keepAlive = Math.round(tail * (1 + margin)) - prewarm;
    return prewarm > 0 ? { prewarmAfterMs: prewarm, keepAliveMs: keepAlive, rule: 'histogram' as const } : { keepAliveMs: keepAlive, rule: 'histogram' as const };
  }

  /**
   * The cost-aware windows: the hazard of bin k is the share of the idle times that reached bin k
   * and ended in it. Loaded from the first bin whose hazard reaches `minHazard` until two bins in a
   * row fall below it (one low bin is often noise; a second mode further out is left to a cold
   * start), and not at all when no bin reaches it. A bin needs two idle times reaching it to count:
   * one is no estimate.
   */
  private hazardWindows(s: ActionState): Omit<KeepAliveDecision, 'surplusKeepAliveMs'> {
    const { binMs, margin, minHazard } = this.o;
    let survivors = s.samples + s.outOfRange;
    let first = -1;
    let last = -1;
    for (let k = 0; k < s.counts.length && survivors >= 2; k++) {
      const c = s.counts[k]!;
      if (c / survivors >= minHazard) {
        if (first < 0) first = k;
        last = k;
      } else if (first >= 0 && k - last >= LOW_BINS_TO_STOP) break;
      survivors -= c;
    }
    if (first < 0) return { keepAliveMs: 0, rule: 'histogram' as const };
    const prewarm = Math.round(first * binMs * (1 - margin));
    const keepAlive = Math.round((last + 1) * binMs * (1 + margin)) - prewarm;
    return prewarm > 0 ? { prewarmAfterMs: prewarm, keepAliveMs: keepAlive, rule: 'histogram' as const } : { keepAliveMs: keepAlive, rule: 'histogram' as const };
  }
}

/** The bin holding the p-th percentile (nearest rank) of `n` samples. */

function percentileBin(counts: Uint32Array, n: number, p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i]!;
    if (seen >= rank) return i;
  }
  return counts.length - 1;
}

function coefficientOfVariation(counts: Uint32Array): number {
  let sum = 0;
  for (const c of counts) sum += c;
  const mean = sum / counts.length;
  if (mean === 0) return 0;
  let sq = 0;
  for (const c of counts) sq += (c - mean) ** 2;
  return Math.sqrt(sq / counts.length) / mean;
}

/**
 * How the pool carries out a decision, given how long loading a container takes (`leadMs`: create +
 * /init, measured). Unloading only pays when the container would be gone for longer than it takes to
 * load it again; otherwise it is kept loaded through the prewarm window. The load starts `leadMs`
 * early so that the container is ready when the window opens; `keepLoadedMs` counts from then (from
 * when it is ready). A `surplus` container (the action has another idle one loaded) is kept only
 * `surplusKeepAliveMs`. Shared by the pool and the simulator.
 */
export function keepAlivePlan(d: KeepAliveDecision, leadMs: number, surplus = false): { removeAfterMs: number; loadAfterMs?: number; keepLoadedMs: number } {
  if (surplus) return { removeAfterMs: d.surplusKeepAliveMs, keepLoadedMs: d.surplusKeepAliveMs };
  if (d.prewarmAfterMs === undefined) return { removeAfterMs: d.keepAliveMs, keepLoadedMs: d.keepAliveMs };
  if (d.prewarmAfterMs <= leadMs) return { removeAfterMs: d.prewarmAfterMs + d.keepAliveMs, keepLoadedMs: d.keepAliveMs };
  return { removeAfterMs: 0, loadAfterMs: d.prewarmAfterMs - leadMs, keepLoadedMs: d.keepAliveMs };
}

export function makeKeepAlivePolicy(name: KeepAlivePolicyName, opts: HybridOptions): KeepAlivePolicy {
  return name === 'fixed' ? new FixedKeepAlive(opts.idleTimeoutMs) : new HybridKeepAlive(opts);
}

/**
 * OpenWhisk's reactive prewarm rule for one stem-cell configuration (kind and memory): cold starts of
 * that kind within the last `ttlMs` decide how many stem cells to keep. At least `threshold` of them:
 * `increment × ⌊coldStarts / threshold⌋`; otherwise `minCount`; always within [minCount, maxCount].
 * Stem cells unused for `ttlMs` are removed down to that count.
 */
export interface ReactiveConfig {
  minCount: number;
  maxCount: number;
  ttlMs: number;
  threshold: number;
  increment: number;
}

export class ReactiveStemCells {
  private coldStarts: number[] = [];
  constructor(readonly config: ReactiveConfig) {}

  coldStart(now: number): void {
    this.coldStarts.push(now);
  }

  desired(now: number): number {
    const { minCount, maxCount, ttlMs, threshold, increment } = this.config;
    this.coldStarts = this.coldStarts.filter((t) => now - t < ttlMs);
    const n = this.coldStarts.length;
    const calculated = n >= threshold ? increment * Math.floor(n / threshold) : minCount;
    return Math.min(maxCount, Math.max(minCount, calculated));
  }
}
