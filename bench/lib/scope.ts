/**
 * What a benchmark started, stopped in reverse order when it ends, fails, or the run is interrupted:
 * every process and container is released by its own id, never by name.
 */
import { log } from './report.js';

type Teardown = { what: string; fn: () => Promise<void> };

const open = new Set<Scope>();

export class Scope {
  private readonly stack: Teardown[] = [];
  private closing: Promise<void> | undefined;

  constructor() {
    open.add(this);
  }

  /** Registers a teardown; returns a function that runs it early (and only once). */
  defer(what: string, fn: () => Promise<void>): () => Promise<void> {
    const t: Teardown = { what, fn };
    this.stack.push(t);
    return async () => {
      const i = this.stack.indexOf(t);
      if (i < 0) return;
      this.stack.splice(i, 1);
      await runTeardown(t);
    };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.stack.length > 0) await runTeardown(this.stack.pop()!);
      open.delete(this);
    })();
    return this.closing;
  }
}

async function runTeardown(t: Teardown): Promise<void> {
  // A hung teardown must not keep the whole run (and everything after it) from stopping.
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      t.fn(),
      new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out after 60 s')), 60_000);
      }),
    ]);
  } catch (err) {
    log(`could not stop ${t.what}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Closes every open scope (newest first); for SIGINT/SIGTERM. */
export async function closeAll(): Promise<void> {
  for (const s of [...open].reverse()) await s.close();
}
