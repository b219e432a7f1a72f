/**
 * The retention sweeper: deletes activation records older than their namespace's retention
 * (`retention` days in the namespace's limits, else the system default; 0 keeps them forever).
 *
 * Every `intervalMs` it lists the namespaces that have records and, for each one with a retention,
 * deletes what started before `now - retention` in batches of `batch` (100), oldest first, through the
 * store's `deleteOlderThan` (SQLite: an indexed range delete; CouchDB: the by-start view and one
 * `_bulk_docs`; a SQLite file deletes on a worker thread). After each batch it pauses six times as long
 * as the batch took, so a sweep of a million records is spread over many short steps and invocations keep
 * their latency; see docs/retention.md.
 * One sweeper runs per deployment (standalone; controller 0 when distributed).
 */
import { performance } from 'node:perf_hooks';
import type { ActivationStore, SubjectStore } from '@whirl/core';

export interface RetentionOptions {
  defaultDays: number;
  intervalMs: number;
  /** Records per delete; each batch is one store call. */
  batch?: number;
  /** After each batch, pause this many times as long as it took (default 6: the sweep runs 1/7 of the time). */
  pauseFactor?: number;
  log?: { warn(o: object, m: string): void; info(o: object, m: string): void };
}

const DAY_MS = 86_400_000;

export class RetentionSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;

  constructor(
    private readonly activations: ActivationStore,
    private readonly subjects: SubjectStore,
    private readonly opts: RetentionOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One full sweep now; resolves with how many records went. Concurrent calls share the sweep. */
  sweep(now = Date.now()): Promise<number> {
    this.running ??= this.sweepAll(now).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.sweep().then(
        (n) => {
          if (n > 0) this.opts.log?.info({ deleted: n }, 'retention sweep removed old activations');
        },
        (err: unknown) => this.opts.log?.warn({ err }, 'retention sweep failed; trying again at the next interval'),
      ).finally(() => this.schedule());
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  private async sweepAll(now: number): Promise<number> {
    const overrides = new Map((await this.subjects.listLimits()).map((l) => [l.namespace, l.limits.retention]));
    const batch = this.opts.batch ?? 100;
    const pauseFactor = this.opts.pauseFactor ?? 6;
    let total = 0;
    for (const ns of await this.activations.namespaces()) {
      // Records of a package-qualified namespace belong to its root namespace's limits.
      const root = ns.split('/')[0]!;
      const days = overrides.get(root) ?? this.opts.defaultDays;
      if (!(days > 0)) continue;
      const before = now - days * DAY_MS;
      for (;;) {
        if (this.stopped) return total;
        const t0 = performance.now();
        const n = await this.activations.deleteOlderThan(ns, before, batch);
        total += n;
        if (n < batch) break;
        // Pause `pauseFactor` times as long as the batch took, so the sweep holds the store (and a
        // core) for at most 1/(1 + pauseFactor) of the time: SQLite has one write lock, shared with
        // the activation writer (the deletes run on a worker thread, not on this loop), CouchDB serves
        // invokes too, and on a small machine the deleting thread takes CPU from the invokes.
        await new Promise<void>((r) => setTimeout(r, Math.max(1, (performance.now() - t0) * pauseFactor)));
      }
    }
    return total;
  }
}
