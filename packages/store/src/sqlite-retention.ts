/**
 * Retention deletes of a SQLite file, off the main event loop. better-sqlite3 runs every statement
 * synchronously, and in standalone the same loop serves invocations: a 100-record delete (the record
 * and its four index entries each) takes milliseconds under load, and invokes that arrive meanwhile
 * wait behind it (bench/RESULTS.md, "Retention sweep"). Here the deletes run on a worker thread with
 * its own connection to the same WAL file: the main connection keeps reading while a batch runs, and
 * shares the write lock with it, so each call is one short autocommit transaction and the worker, not
 * the main thread, is the side that waits (busy_timeout) when the activation writer holds the lock.
 * The other way round, the activation store's `put` asks for the lock without waiting and tries again
 * a moment later (sqlite.ts), so a delete batch holding it never stalls the main thread either.
 *
 * The worker starts at the first delete (most processes that open the file never sweep) and is
 * restarted after it dies; `close` ends it.
 */
import { Worker } from 'node:worker_threads';

interface Reply {
  id: number;
  changes?: number;
  error?: string;
  code?: string;
}

interface Pending {
  resolve(n: number): void;
  reject(e: Error): void;
}

export class SqliteRetentionWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(private readonly path: string) {}

  deleteOlderThan(namespace: string, before: number, limit: number): Promise<number> {
    if (this.closed) return Promise.reject(new Error('the activation store is closed'));
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const w = this.start();
      w.ref();
      w.postMessage({ id, namespace, before, limit });
    });
  }

  /** Ends the worker after the deletes already asked for. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    if (!w) return;
    const exited = new Promise<void>((r) => w.once('exit', () => r()));
    // Held until it has exited, so that a caller awaiting close is not cut off by the process ending.
    w.ref();
    w.postMessage('close');
    await exited;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./sqlite-retention-worker.cjs', import.meta.url), { workerData: { path: this.path } });
    // An idle worker does not keep the process alive; one with a call pending does, like any I/O.
    w.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0 && !this.closed) w.unref();
      if (m.error === undefined) p.resolve(m.changes ?? 0);
      else p.reject(Object.assign(new Error(m.error), { code: m.code }));
    });
    const fail = (e: Error): void => {
      if (this.worker === w) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`the retention worker exited (code ${code}) before answering`)));
    this.worker = w;
    return w;
  }
}
