/**
 * Turns a container's raw stdout/stderr byte streams into LogLines for the Container.onLog contract.
 */
import { StringDecoder } from 'node:string_decoder';
import type { LogLine } from '@whirl/core';

// hrtime gives sub-millisecond resolution; anchoring it to the wall clock once keeps timestamps
// monotonic within the process, which the activation log ordering relies on.
const anchorNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Epoch ms plus the same instant as RFC3339 with nanoseconds (`2024-05-01T10:00:00.123456789Z`). */
export function nowStamp(): { time: number; iso: string } {
  const ns = anchorNs + process.hrtime.bigint();
  const ms = Number(ns / 1_000_000n);
  const secondsIso = new Date(ms).toISOString().slice(0, 19);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return { time: ms, iso: `${secondsIso}.${frac}Z` };
}

/** A line longer than this is emitted in pieces rather than buffered without bound. */
const MAX_LINE_CHARS = 1024 * 1024;

export class LogHub {
  private listeners: ((line: LogLine) => void)[] = [];
  private early: LogLine[] = [];
  private readonly partial = { stdout: '', stderr: '' };
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };

  onLog(listener: (line: LogLine) => void): void {
    this.listeners.push(listener);
    if (this.listeners.length === 1 && this.early.length > 0) {
      const lines = this.early;
      this.early = [];
      for (const l of lines) this.deliver(l);
    }
  }

  push(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    let text = this.partial[stream] + this.decoders[stream].write(chunk);
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      this.emit(stream, text.slice(0, nl));
      text = text.slice(nl + 1);
    }
    while (text.length > MAX_LINE_CHARS) {
      this.emit(stream, text.slice(0, MAX_LINE_CHARS));
      text = text.slice(MAX_LINE_CHARS);
    }
    this.partial[stream] = text;
  }

  /** Emits whatever is left without a trailing newline (the stream ended). */
  end(stream: 'stdout' | 'stderr'): void {
    const rest = this.partial[stream] + this.decoders[stream].end();
    this.partial[stream] = '';
    if (rest.length > 0) this.emit(stream, rest);
  }

  private emit(stream: 'stdout' | 'stderr', text: string): void {
    const line: LogLine = { ...nowStamp(), stream, text };
    if (this.listeners.length === 0) this.early.push(line);
    else this.deliver(line);
  }

  private deliver(line: LogLine): void {
    for (const l of this.listeners) {
      try {
        l(line);
      } catch {
        // A faulty listener must not stop the others or the stream.
      }
    }
  }
}
