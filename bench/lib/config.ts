/** Phase lengths: the defaults, each capped by BENCH_SECONDS (the CI smoke run sets it to 1). */

const raw = process.env.BENCH_SECONDS;
const cap = raw !== undefined && raw !== '' ? Number(raw) : Number.POSITIVE_INFINITY;
if (!(cap > 0)) throw new Error(`BENCH_SECONDS must be a positive number, not ${JSON.stringify(raw)}`);

/** Length of a measured phase whose default is `defaultSeconds`. */
export function phaseSeconds(defaultSeconds: number): number {
  return Math.min(defaultSeconds, cap);
}

/** Floors are stable, so their phases are shorter than the measured system's. */
export function floorSeconds(defaultSeconds: number): number {
  return phaseSeconds(Math.min(defaultSeconds, 15));
}

/** True when phases are capped to a few seconds: benchmarks shrink their fixed counts too. */
export const smoke = cap <= 5;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
