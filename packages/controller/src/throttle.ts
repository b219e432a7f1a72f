/**
 * Per-namespace throttles, as OpenWhisk deploys them: invocations per minute and trigger fires per
 * minute over a fixed calendar-minute window (allowed while the count, this request included, is at
 * most the limit), and concurrent invocations (activations published and not yet completed, allowed
 * while fewer than the limit). A refusal is a 429 with OpenWhisk's message plus `Retry-After`: the
 * seconds left in the current minute for the rate limits, one second for concurrency.
 *
 * Each controller counts on its own; with several controllers each enforces its share (see
 * `share`), as OpenWhisk does.
 */
import { TooManyRequestsError, type UserLimits } from '@whirl/core';

export class Throttles {
  private readonly windows = new Map<string, { minute: number; count: number }>();
  /** Told of every refusal (metrics). */
  onRefusal?: (reason: 'invocations_per_minute' | 'concurrent_invocations' | 'fires_per_minute', namespace: string) => void;

  constructor(
    private readonly inFlight: (namespace: string) => number,
    /** Fraction of each limit this controller enforces (1 for a single controller). */
    private readonly share: (limit: number) => number = (l) => l,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one invoke of `namespace` and refuses it when over either invocation limit. */
  invoke(namespace: string, limits: UserLimits): void {
    this.rate(`invoke:${namespace}`, this.share(limits.invocationsPerMinute), 'INVOCATIONS_PER_MINUTE', () => this.onRefusal?.('invocations_per_minute', namespace));
    const concurrent = this.inFlight(namespace);
    const allowed = this.share(limits.concurrentInvocations);
    if (concurrent >= allowed) {
      this.onRefusal?.('concurrent_invocations', namespace);
      throw new TooManyRequestsError(`Too many concurrent requests in flight (count: ${concurrent}, allowed: ${allowed}).`, 1, 'CONCURRENT_INVOCATIONS');
    }
  }

  /** Counts one trigger fire of `namespace`. */
  fire(namespace: string, limits: UserLimits): void {
    this.rate(`fire:${namespace}`, this.share(limits.firesPerMinute), 'FIRES_PER_MINUTE', () => this.onRefusal?.('fires_per_minute', namespace));
  }

  private rate(key: string, limit: number, code: 'INVOCATIONS_PER_MINUTE' | 'FIRES_PER_MINUTE', refused: () => void): void {
    const now = this.now();
    const minute = Math.floor(now / 60_000);
    let w = this.windows.get(key);
    if (!w || w.minute !== minute) {
      if (this.windows.size > 100_000) this.windows.clear();
      w = { minute, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    if (w.count > limit) {
      refused();
      const retryAfter = ((minute + 1) * 60_000 - now) / 1000;
      throw new TooManyRequestsError(`Too many requests in the last minute (count: ${w.count}, allowed: ${limit}).`, retryAfter, code);
    }
  }
}

/**
 * The share of a limit one of `n` controllers enforces, as OpenWhisk computes it:
 * max(1, ceil(limit × 1.2) / n). A limit of 0 stays 0: it blocks everything.
 */
export function controllerShare(n: number): (limit: number) => number {
  return (limit) => (n <= 1 || limit === 0 ? limit : Math.max(1, Math.floor(Math.ceil(limit * 1.2) / n)));
}
