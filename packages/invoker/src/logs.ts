/**
 * Per-container log buffer and per-activation collection.
 *
 * A container's output arrives as one ordered stream of lines. With one activation at a time, an
 * activation's logs are the lines printed after its /run (or /init) was sent, up to the runtime's
 * sentinel on stdout and on stderr. Two rules keep one activation's lines out of another's record:
 *   - each activation collects only from its own mark onwards; whatever an earlier activation left
 *     after its sentinels is dropped, never attributed to the next one;
 *   - both streams need their own sentinel; a sentinel the user printed on one stream does not end
 *     collection early on the other (and our proxies alter sentinels printed by user code).
 * With several activations in one container at once (intra-container concurrency), Whirl's proxies
 * tag every line with the activation it was printed in (`\x1e<activation id>\x1f<text>`), sentinels
 * included, and each activation collects only its own lines. Untagged lines cannot be attributed
 * and are dropped in that mode.
 * Collection stops after `idleMs` without a line, or `maxMs` in all, and then says logs may be missing.
 */
import type { CollectedLogs, Container, LogLimits, LogLine } from '@whirl/core';

export const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';
const TAG = /^\x1e([0-9a-f]{32})\x1f/;

export type { CollectedLogs };

export interface CollectOptions extends LogLimits {
  idleMs: number;
  maxMs: number;
  waitForSentinels: boolean;
  /** Where this activation's output starts (from `mark()`); default: everything buffered. */
  from?: number;
  /** Collect only lines tagged with this activation id (concurrent containers). */
  activationId?: string;
}

export function formatLine(l: LogLine): string {
  const ts = l.iso ?? new Date(l.time).toISOString();
  return `${ts.padEnd(30)} ${l.stream}: ${l.text}`;
}

/**
 * An activation's log lines within its limits: the first line past the line or byte limit becomes a
 * truncation notice, and nothing after it is kept. Shared by the stream collector below and the
 * log-file reader (factory/log-files.ts), so both truncate alike.
 */
export class LogLimiter {
  readonly lines: string[] = [];
  private bytes = 0;
  truncated = false;

  constructor(private readonly limits: LogLimits) {}

  /** Adds a line; false once truncated (later lines are ignored). */
  add(l: LogLine): boolean {
    if (this.truncated) return false;
    const size = Buffer.byteLength(l.text);
    if (this.limits.limitLines !== undefined && this.lines.length >= this.limits.limitLines) {
      this.cut(l, `Logs were truncated because the number of lines exceeds the limit of ${this.limits.limitLines} lines.`);
      return false;
    }
    if (this.bytes + size > this.limits.limitBytes) {
      this.cutBytes(l);
      return false;
    }
    this.bytes += size;
    this.lines.push(formatLine(l));
    return true;
  }

  /** Truncates for size at `l` (also when the runtime itself stopped writing past every limit). */
  cutBytes(l: Pick<LogLine, 'time' | 'iso'>): void {
    this.cut(l, `Logs were truncated because the total bytes size exceeds the limit of ${this.limits.limitBytes} bytes.`);
  }

  private cut(l: Pick<LogLine, 'time' | 'iso'>, text: string): void {
    if (this.truncated) return;
    this.truncated = true;
    this.lines.push(formatLine({ ...l, stream: 'stderr', text }));
  }
}

export class LogBuffer {
  private lines: LogLine[] = [];
  /** Sequence number of lines[0]. */
  private base = 0;
  /** Open marks (a multiset: concurrent activations may start at the same position). */
  private readonly marks = new Map<number, number>();
  private waiters = new Set<() => void>();

  constructor(container: Container) {
    container.onLog((l) => {
      this.lines.push(l);
      const ws = this.waiters;
      this.waiters = new Set();
      for (const w of ws) w();
    });
  }

  /** The position where an activation about to start begins; held until its collection ends. */
  mark(): number {
    const seq = this.base + this.lines.length;
    this.marks.set(seq, (this.marks.get(seq) ?? 0) + 1);
    return seq;
  }

  async collect(opts: CollectOptions): Promise<CollectedLogs> {
    const from = opts.from ?? this.base;
    try {
      return await this.scan(opts, Math.max(from, this.base));
    } finally {
      const n = (this.marks.get(from) ?? 1) - 1;
      if (n <= 0) this.marks.delete(from);
      else this.marks.set(from, n);
      this.trim(this.base + this.lines.length);
    }
  }

  /** Drops lines before `upTo` that no open mark still needs. */
  private trim(upTo: number): number {
    const keepFrom = Math.min(upTo, ...this.marks.keys());
    const n = Math.max(0, keepFrom - this.base);
    if (n > 0) {
      this.lines = this.lines.slice(n);
      this.base += n;
    }
    return n;
  }

  private async scan(opts: CollectOptions, start: number): Promise<CollectedLogs> {
    const kept = new LogLimiter(opts);
    const out = kept.lines;
    const seen = { stdout: false, stderr: false };
    const started = Date.now();
    let lastActivity = started;
    let seq = start;
    for (;;) {
      while (seq < this.base + this.lines.length) {
        const raw = this.lines[seq - this.base]!;
        seq++;
        const tag = TAG.exec(raw.text);
        if (opts.activationId !== undefined && tag?.[1] !== opts.activationId) continue;
        const l = tag ? { ...raw, text: raw.text.slice(tag[0].length) } : raw;
        lastActivity = Date.now();
        if (l.text === SENTINEL) {
          seen[l.stream] = true;
          if (seen.stdout && seen.stderr) return { lines: out, truncated: kept.truncated, complete: true };
          continue;
        }
        kept.add(l);
      }
      if (!opts.waitForSentinels) return { lines: out, truncated: kept.truncated, complete: true };
      const now = Date.now();
      const remaining = Math.min(lastActivity + opts.idleMs, started + opts.maxMs) - now;
      if (remaining <= 0) {
        out.push(formatLine({ time: now, stream: 'stderr', text: 'There was an issue while collecting your logs. Data might be missing.' }));
        return { lines: out, truncated: kept.truncated, complete: false };
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(() => {
          this.waiters.delete(wake);
          resolve();
        }, remaining);
        this.waiters.add(wake);
      });
    }
  }
}
