/**
 * Invocation traces for the keep-alive benchmark: a seeded synthetic generator with the shape that
 * "Serverless in the Wild" (Shahrad et al., USENIX ATC'20) reports for Azure Functions, and a reader
 * for the public Azure Functions 2019 trace (`invocations_per_function_md.anon.dNN.csv`).
 *
 * Times are trace milliseconds from the start of the trace; the replay compresses them.
 */

export type Trigger = 'http' | 'timer' | 'queue' | 'event' | 'storage' | 'orchestration' | 'others';

export interface TraceFunction {
  id: string;
  trigger: Trigger;
  /** What the generator made it (`periodic`, `poisson`, `bursty`, `rare`, `heavy`), or `azure`. */
  shape: string;
  memoryMB: number;
  /** Execution time of one call, in trace ms. */
  durationMs: number;
  /** Arrival times, trace ms, sorted. */
  arrivals: number[];
}

export interface Trace {
  minutes: number;
  functions: TraceFunction[];
}

const MIN = 60_000;

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function exp(r: () => number, mean: number): number {
  return -Math.log(1 - r()) * mean;
}

function logUniform(r: () => number, lo: number, hi: number): number {
  return Math.exp(Math.log(lo) + r() * (Math.log(hi) - Math.log(lo)));
}

function pick<T>(r: () => number, weighted: readonly (readonly [T, number])[]): T {
  const total = weighted.reduce((s, [, w]) => s + w, 0);
  let x = r() * total;
  for (const [v, w] of weighted) {
    x -= w;
    if (x <= 0) return v;
  }
  return weighted[weighted.length - 1]![0];
}

export interface SyntheticOptions {
  seed?: number;
  functions?: number;
  minutes?: number;
}

/**
 * The ATC'20 shape, scaled down: most functions are rare (the paper: 45 % of applications are called
 * at most once an hour), a heavy minority makes most of the calls; timers are periodic (inter-arrival
 * CoV ≈ 0), HTTP functions are Poisson (CoV ≈ 1) or bursty (CoV > 1). The mix, per function:
 *   - 25 % periodic timers, period 1, 2, 5, 10, 15, 30, 60, 120 or 240 min (a second of jitter);
 *   - 25 % Poisson HTTP, mean inter-arrival log-uniform in 2 min .. 6 h;
 *   - 20 % bursty HTTP: bursts of 2-30 calls (5 s apart on average) every 20 min .. 3 h;
 *   - 25 % rare queue/event functions, mean inter-arrival log-uniform in 3 .. 12 h;
 *   - 5 % (at least one) heavy HTTP functions, mean inter-arrival 20 .. 60 s.
 * Durations are log-normal around 300 ms; memory is 128 MB (the replay's containers).
 */
export function syntheticTrace(opts: SyntheticOptions = {}): Trace {
  const seed = opts.seed ?? 1;
  const n = opts.functions ?? 30;
  const minutes = opts.minutes ?? 360;
  const end = minutes * MIN;
  const r = rng(seed);
  const functions: TraceFunction[] = [];
  const heavy = Math.max(1, Math.round(n * 0.05));
  for (let i = 0; i < n; i++) {
    const shape = i < heavy ? 'heavy' : pick(r, [['periodic', 25], ['poisson', 25], ['bursty', 20], ['rare', 25]] as const);
    const arrivals: number[] = [];
    let trigger: Trigger = 'http';
    if (shape === 'periodic') {
      trigger = 'timer';
      const period = pick(r, [[1, 1], [2, 1], [5, 2], [10, 2], [15, 1], [30, 2], [60, 2], [120, 1], [240, 1]] as const) * MIN;
      for (let t = r() * period; t < end; t += period) arrivals.push(Math.max(0, t + (r() - 0.5) * 2_000));
    } else if (shape === 'poisson' || shape === 'heavy') {
      const mean = shape === 'heavy' ? logUniform(r, 20_000, 60_000) : logUniform(r, 2 * MIN, 360 * MIN);
      for (let t = exp(r, mean); t < end; t += exp(r, mean)) arrivals.push(t);
    } else if (shape === 'bursty') {
      const gap = logUniform(r, 20 * MIN, 180 * MIN);
      for (let t = exp(r, gap); t < end; t += exp(r, gap)) {
        const size = 2 + Math.floor(r() * 29);
        let u = t;
        for (let k = 0; k < size && u < end; k++, u += exp(r, 5_000)) arrivals.push(u);
      }
    } else {
      trigger = r() < 0.5 ? 'queue' : 'event';
      const mean = logUniform(r, 180 * MIN, 720 * MIN);
      for (let t = exp(r, mean); t < end; t += exp(r, mean)) arrivals.push(t);
    }
    arrivals.sort((a, b) => a - b);
    const durationMs = Math.round(Math.min(5_000, Math.exp(Math.log(300) + 0.8 * normal(r))));
    functions.push({ id: `f${i}`, trigger, shape, memoryMB: 128, durationMs, arrivals });
  }
  return { minutes, functions };
}

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

export interface AzureOptions {
  /** Keep only these many functions (the busiest first; ties by order in the file). @default all */
  maxFunctions?: number;
  /** Keep only the first N minutes. @default all columns */
  minutes?: number;
  /** Spreads the calls of a minute over it at random (the file has per-minute counts only). @default 1 */
  seed?: number;
  /** @default 300 */
  durationMs?: number;
  /** @default 128 */
  memoryMB?: number;
}

const AZURE_TRIGGERS: readonly Trigger[] = ['http', 'timer', 'queue', 'event', 'storage', 'orchestration', 'others'];

/**
 * Reads the Azure Functions 2019 trace's invocation counts: a header
 * `HashOwner,HashApp,HashFunction,Trigger,1,2,...,1440` and one row per function with its calls per
 * minute. Throws with the line number on anything else, rather than replay a half-read file.
 */
export function readAzureInvocationsCsv(text: string, opts: AzureOptions = {}): Trace {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error('the trace file is empty');
  const header = lines[0]!.split(',');
  const fixed = ['HashOwner', 'HashApp', 'HashFunction', 'Trigger'];
  if (fixed.some((h, i) => header[i] !== h)) throw new Error(`line 1: the header must start with ${fixed.join(',')}, not ${header.slice(0, 4).join(',')}`);
  const minuteCols = header.length - 4;
  if (minuteCols < 1) throw new Error('line 1: no minute columns (1,2,...,1440) after Trigger');
  for (let m = 1; m <= minuteCols; m++) {
    if (header[3 + m] !== String(m)) throw new Error(`line 1: column ${4 + m} must be minute ${m}, not ${JSON.stringify(header[3 + m])}`);
  }
  const minutes = Math.min(minuteCols, opts.minutes ?? minuteCols);
  const rows: { id: string; trigger: Trigger; counts: number[]; total: number; order: number }[] = [];
  for (let li = 1; li < lines.length; li++) {
    const cells = lines[li]!.split(',');
    if (cells.length !== header.length) throw new Error(`line ${li + 1}: ${cells.length} columns, the header has ${header.length}`);
    const trigger = cells[3] as Trigger;
    if (!AZURE_TRIGGERS.includes(trigger)) throw new Error(`line ${li + 1}: unknown trigger ${JSON.stringify(cells[3])} (one of ${AZURE_TRIGGERS.join(', ')})`);
    const counts: number[] = [];
    let total = 0;
    for (let m = 0; m < minutes; m++) {
      const c = Number(cells[4 + m]);
      if (!Number.isInteger(c) || c < 0) throw new Error(`line ${li + 1}: minute ${m + 1} count ${JSON.stringify(cells[4 + m])} is not a whole number ≥ 0`);
      counts.push(c);
      total += c;
    }
    rows.push({ id: `${cells[0]}/${cells[1]}/${cells[2]}`, trigger, counts, total, order: li });
  }
  const kept = opts.maxFunctions === undefined ? rows : [...rows].sort((a, b) => b.total - a.total || a.order - b.order).slice(0, opts.maxFunctions);
  const r = rng(opts.seed ?? 1);
  const functions = kept.map((row) => {
    const arrivals: number[] = [];
    row.counts.forEach((c, m) => {
      for (let k = 0; k < c; k++) arrivals.push((m + r()) * MIN);
    });
    arrivals.sort((a, b) => a - b);
    return { id: row.id, trigger: row.trigger, shape: 'azure', memoryMB: opts.memoryMB ?? 128, durationMs: opts.durationMs ?? 300, arrivals };
  });
  return { minutes, functions };
}

/** Inter-arrival coefficient of variation of one function (NaN with fewer than three calls). */
export function interArrivalCoV(arrivals: readonly number[]): number {
  if (arrivals.length < 3) return Number.NaN;
  const gaps = arrivals.slice(1).map((t, i) => t - arrivals[i]!);
  const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
  const sd = Math.sqrt(gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / gaps.length);
  return mean > 0 ? sd / mean : Number.NaN;
}

/**
 * Cuts a trace at a minute: the calls before it, and the calls from it on with their times moved to
 * start at 0 (a replay that begins where the history ends).
 */
export function splitTrace(t: Trace, atMinute: number): { before: Trace; after: Trace } {
  const at = Math.max(0, Math.min(t.minutes, atMinute));
  const cut = at * MIN;
  return {
    before: { minutes: at, functions: t.functions.map((f) => ({ ...f, arrivals: f.arrivals.filter((a) => a < cut) })) },
    after: { minutes: t.minutes - at, functions: t.functions.map((f) => ({ ...f, arrivals: f.arrivals.filter((a) => a >= cut).map((a) => a - cut) })) },
  };
}
