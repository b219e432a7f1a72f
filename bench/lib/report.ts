/**
 * One JSON line per figure on stdout (what CI and RESULTS.md read), and a table when stdout is a
 * terminal. `ratio` always reads "times worse than the floor": value/floor for latencies and memory,
 * floor/value for rates, so 1.0 is the physical best and bigger is worse.
 */
import { round, summarize, type Summary } from './stats.js';

export type Unit = 'ms' | '/s' | 'MB' | 'count' | '%' | 'GB-s';

export interface Figure {
  name: string;
  unit: Unit;
  /** The headline number the floor is compared with (p50 for latencies). */
  value: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  errors: number;
  floor: number | null;
  ratio: number | null;
  n: number;
  /** Anything else worth keeping (counts, p95, notes). */
  extra?: Record<string, number | string | boolean | null>;
}

export interface FigureInput {
  name: string;
  unit: Unit;
  value?: number | null;
  samples?: readonly number[];
  summary?: Summary;
  errors?: number;
  floor?: number | null;
  extra?: Record<string, number | string | boolean | null>;
}

export function figure(input: FigureInput): Figure {
  const s = input.summary ?? (input.samples ? summarize(input.samples) : undefined);
  const value = input.value !== undefined ? input.value : s ? s.p50 : null;
  const floor = input.floor ?? null;
  let ratio: number | null = null;
  if (value !== null && floor !== null && Number.isFinite(value) && Number.isFinite(floor) && value > 0 && floor > 0) {
    ratio = input.unit === '/s' ? floor / value : value / floor;
  }
  return {
    name: input.name,
    unit: input.unit,
    value: round(value),
    p50: round(s?.p50),
    p90: round(s?.p90),
    p99: round(s?.p99),
    errors: input.errors ?? 0,
    floor: round(floor),
    ratio: round(ratio, 2),
    n: s?.n ?? (value === null ? 0 : 1),
    ...(input.extra ? { extra: input.extra } : {}),
  };
}

export class Reporter {
  private readonly figures: Figure[] = [];

  emit(f: Figure): void {
    this.figures.push(f);
    process.stdout.write(`${JSON.stringify(f)}\n`);
  }

  all(): readonly Figure[] {
    return this.figures;
  }

  /** The table goes to a terminal only, so piping stdout gives pure JSON lines. */
  table(title: string, from = 0): void {
    if (!process.stdout.isTTY) return;
    const rows = this.figures.slice(from);
    if (rows.length === 0) return;
    const fmt = (x: number | null): string => (x === null ? '-' : String(x));
    const header = ['figure', 'value', 'unit', 'p50', 'p90', 'p99', 'errors', 'floor', 'ratio', 'n'];
    const body = rows.map((r) => [r.name, fmt(r.value), r.unit, fmt(r.p50), fmt(r.p90), fmt(r.p99), String(r.errors), fmt(r.floor), fmt(r.ratio), String(r.n)]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
    const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    process.stdout.write(`\n${title}\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${body.map(line).join('\n')}\n\n`);
  }
}

/** Progress goes to stderr so that stdout stays machine-readable. */
export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}
