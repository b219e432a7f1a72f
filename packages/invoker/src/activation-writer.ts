/**
 * Writes activation records in batches (group commit): a record joins the open batch, which is written
 * as one store call when it reaches `maxBatch` records or `maxDelayMs` after its first record, whichever
 * comes first. At low load this costs at most a few milliseconds before the completion ack (blocking
 * callers already have their result); under load it turns many small writes into few transactions.
 * `afterWrite` runs once per stored batch (the journal entries are closed there, also in one go).
 * A failed batch is retried with back-off (capped at 2 s) for up to `retryForMs` (default 10 minutes),
 * so that a record whose id was handed out survives a store outage, not only a passing error.
 */
import { retryWithBackoff, type ActivationRecord, type ActivationStore } from '@whirl/core';

interface Entry {
  record: ActivationRecord;
  done(err?: unknown): void;
}

export interface ActivationWriterOptions {
  maxBatch?: number;
  maxDelayMs?: number;
  /** Give up on a batch after this many attempts (default: as many as fit in `retryForMs`). */
  retries?: number;
  retryForMs?: number;
  afterWrite?: (records: readonly ActivationRecord[]) => Promise<void>;
  /** Told how long each store call took and whether it succeeded (metrics). */
  onWrite?: (seconds: number, ok: boolean) => void;
  log: { warn(o: object, m: string): void };
}

export class ActivationWriter {
  private queue: Entry[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: ActivationStore,
    private readonly opts: ActivationWriterOptions,
  ) {}

  write(record: ActivationRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, done: (err) => (err ? reject(err) : resolve()) });
      if (this.queue.length >= (this.opts.maxBatch ?? 256)) this.kick();
      else this.timer ??= setTimeout(() => this.kick(), this.opts.maxDelayMs ?? 5);
    });
  }

  /** Resolves when everything queued so far is written. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.flushing) {
      this.kick();
      await this.flushing;
    }
  }

  private kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushing || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.opts.maxBatch ?? 256);
    this.flushing = this.writeBatch(batch).finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  private async writeBatch(batch: Entry[]): Promise<void> {
    const retries = this.opts.retries ?? Infinity;
    const giveUpAt = Date.now() + (this.opts.retryForMs ?? 600_000);
    const records = batch.map((e) => e.record);
    const put = async (): Promise<void> => {
      const t0 = performance.now();
      try {
        await this.store.put(records);
        this.opts.onWrite?.((performance.now() - t0) / 1000, true);
      } catch (err) {
        this.opts.onWrite?.((performance.now() - t0) / 1000, false);
        throw err;
      }
    };
    try {
      await retryWithBackoff(put, {
        initialMs: 50,
        maxMs: 2_000,
        giveUp: (_err, attempt) => attempt >= retries || Date.now() >= giveUpAt,
        onRetry: (err, attempt) => {
          if (attempt === 0) this.opts.log.warn({ err, count: batch.length }, 'storing activation records failed; retrying');
        },
      });
    } catch (err) {
      this.opts.log.warn({ err, count: batch.length }, 'could not store activation records');
      for (const e of batch) e.done(err);
      return;
    }
    try {
      await this.opts.afterWrite?.(records);
    } catch (err) {
      this.opts.log.warn({ err, count: batch.length }, 'post-write step failed');
    }
    for (const e of batch) e.done();
  }
}
