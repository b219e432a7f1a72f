/**
 * Per-container log buffer and per-activation collection.
 *
 * A container's output arrives as one ordered stream of lines. An activation's logs are the lines
 * printed after its /run was sent, up to the runtime's sentinel on stdout and on stderr. Two rules keep
 * one activation's lines out of another's record:
 *   - before each /run the buffer is cleared: whatever is left over (output printed after an earlier
 *     activation's sentinels) is dropped, never attributed to the next activation;
 *   - both streams need their own sentinel; a sentinel the user printed on one stream does not end
 *     collection early on the other (and our proxies alter sentinels printed by user code).
 * Collection stops after `idleMs` without a line, or `maxMs` in all, and then says logs may be missing.
 */
import type { Container, LogLine } from '@whirl/core';

export const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';

export interface CollectedLogs {
  lines: string[];
  truncated: boolean;
  complete: boolean;
}

export function formatLine(l: LogLine): string {
  const ts = l.iso ?? new Date(l.time).toISOString();
  return `${ts.padEnd(30)} ${l.stream}: ${l.text}`;
}

export class LogBuffer {
  private lines: LogLine[] = [];
  private wake: (() => void) | undefined;

  constructor(container: Container) {
    container.onLog((l) => {
      this.lines.push(l);
      const w = this.wake;
      this.wake = undefined;
      w?.();
    });
  }

  /** Drops everything buffered; returns how many lines were dropped. */
  reset(): number {
    const n = this.lines.length;
    this.lines = [];
    return n;
  }

  async collect(opts: { limitBytes: number; idleMs: number; maxMs: number; waitForSentinels: boolean }): Promise<CollectedLogs> {
    const out: string[] = [];
    let bytes = 0;
    let truncated = false;
    const seen = { stdout: false, stderr: false };
    const started = Date.now();
    let lastActivity = started;
    let i = 0;
    for (;;) {
      while (i < this.lines.length) {
        const l = this.lines[i++]!;
        lastActivity = Date.now();
        if (l.text === SENTINEL) {
          seen[l.stream] = true;
          if (seen.stdout && seen.stderr) {
            this.lines = this.lines.slice(i);
            return { lines: out, truncated, complete: true };
          }
          continue;
        }
        if (truncated) continue;
        const size = Buffer.byteLength(l.text);
        if (bytes + size > opts.limitBytes) {
          truncated = true;
          out.push(
            formatLine({ ...l, stream: 'stderr', text: `Logs were truncated because the total bytes size exceeds the limit of ${opts.limitBytes} bytes.` }),
          );
          continue;
        }
        bytes += size;
        out.push(formatLine(l));
      }
      if (!opts.waitForSentinels) {
        this.lines = [];
        return { lines: out, truncated, complete: true };
      }
      const now = Date.now();
      const remaining = Math.min(lastActivity + opts.idleMs, started + opts.maxMs) - now;
      if (remaining <= 0) {
        this.lines = [];
        out.push(
          formatLine({ time: now, stream: 'stderr', text: 'There was an issue while collecting your logs. Data might be missing.' }),
        );
        return { lines: out, truncated, complete: false };
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.wake = undefined;
          resolve();
        }, remaining);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }
}
