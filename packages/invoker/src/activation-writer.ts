/**
 * Writes activation records in batches: each record joins the next batch, which is flushed as one
 * store call as soon as the event loop turns (or when it reaches `maxBatch`). Under load this turns many
 * small writes into few transactions; at rest it adds no delay. A failed batch is retried with back-off
 * so that a record whose id was handed out is not lost to a passing store error.
 */
import type { ActivationRecord, ActivationStore } from '@whirl/core';

interface Entry {
  record: ActivationRecord;
  done(err?: unknown): void;
}

export class ActivationWriter {
  private queue: Entry[] = [];
  private flushing: Promise<void> | undefined;
  private scheduled = false;

  constructor(
    private readonly store: ActivationStore,
    private readonly opts: { maxBatch?: number; retries?: number; log: { warn(o: object, m: string): void } },
  ) {}

  write(record: ActivationRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, done: (err) => (err ? reject(err) : resolve()) });
      if (this.queue.length >= (this.opts.maxBatch ?? 256)) this.kick();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.kick();
        });
      }
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
    if (this.flushing || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.opts.maxBatch ?? 256);
    this.flushing = this.writeBatch(batch).finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  private async writeBatch(batch: Entry[]): Promise<void> {
    const retries = this.opts.retries ?? 5;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.store.put(batch.map((e) => e.record));
        for (const e of batch) e.done();
        return;
      } catch (err) {
        if (attempt >= retries) {
          this.opts.log.warn({ err, count: batch.length }, 'could not store activation records');
          for (const e of batch) e.done(err);
          return;
        }
        await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      }
    }
  }
}
