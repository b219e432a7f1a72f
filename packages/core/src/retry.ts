/**
 * The one retry loop of the processes that wait out a store or broker that is away: capped
 * exponential back-off (initialMs, twice that, … up to maxMs) between attempts, until the attempt
 * succeeds, the caller gives up (the error is rethrown) or the caller is closing (resolves undefined).
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Wait before the first attempt too (restarting something that just crashed). */
  delayFirst?: boolean;
  /** After a failure: stop and rethrow it. */
  giveUp?(err: unknown, attempt: number): boolean;
  /** Asked before every attempt, and after every wait: true resolves undefined without trying again. */
  stopped?(): boolean;
  /** Told of every failure that will be retried (attempt 0 is the first). */
  onRetry?(err: unknown, attempt: number): void;
}

export async function retryWithBackoff<T>(fn: (attempt: number) => Promise<T>, o: BackoffOptions): Promise<T | undefined> {
  const wait = (attempt: number): Promise<void> => new Promise((r) => setTimeout(r, Math.min(o.maxMs, o.initialMs * 2 ** attempt)));
  for (let attempt = 0; ; attempt++) {
    if (o.stopped?.() === true) return undefined;
    if (o.delayFirst === true) {
      await wait(attempt);
      if (o.stopped?.() === true) return undefined;
    }
    try {
      return await fn(attempt);
    } catch (err) {
      if (o.giveUp?.(err, attempt) === true) throw err;
      o.onRetry?.(err, attempt);
      if (o.delayFirst !== true) await wait(attempt);
    }
  }
}
