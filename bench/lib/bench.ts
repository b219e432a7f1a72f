/** What every benchmark module exports, and the context the runner hands it. */
import type { Figure, FigureInput } from './report.js';
import type { Scope } from './scope.js';

export interface BenchContext {
  /** Everything started through it is stopped when the benchmark ends. */
  scope: Scope;
  emit(f: FigureInput): Figure;
  log(msg: string): void;
}

export interface Benchmark {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<void>;
}
