/**
 * Activation logs from files rather than from the container's output stream.
 *
 * Whirl's proxies, given `WHIRL_PROXY_LOG_DIR` (runtimes.json `capabilities.logFiles`), write what an
 * activation prints to `<dir>/<activation id>` (packages/runtimes/nodejs/log-files.js states the
 * format: `<o|e><epoch ns> <text>\n` per line, `c<epoch ns> \n` where the proxy stopped writing). Every
 * line is written before the proxy answers, so once /run (or a failed /init) has answered, the file is
 * complete: one read after the answer, no sentinels, no idle wait. The rules the stream collector
 * keeps hold by construction:
 *   - attribution under intra-container concurrency: each activation has its own file;
 *   - anti-spoofing: the proxy splits the action's output at newlines and prefixes every piece, so
 *     nothing an action prints can end its file early, start a record of another activation, or
 *     reach another activation's file (an action that opens the log directory itself could; so could
 *     one writing to the stream's file descriptor today);
 *   - limits and truncation lines: the same LogLimiter as the stream collector, and reading stops at
 *     the first line past the limit, so a 10 MB log costs at most the limit plus one chunk of reading.
 * The file is removed after reading; the container's directory goes with the container.
 */
import { closeSync, constants, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import type { CollectedLogs, LogLimits, LogLine } from '@whirl/core';
import { LogLimiter } from '../logs.js';

const ACTIVATION_ID = /^[0-9a-f]{32}$/;
const CHUNK = 64 * 1024;
const NL = 0x0a;
const SPACE = 0x20;

/** Reads and removes one activation's log file in `dir`; no file means the activation printed nothing. */
export async function readActivationLogFile(dir: string, activationId: string, limits: LogLimits): Promise<CollectedLogs> {
  // The id names a file: nothing but the 32 hex digits the controller makes may reach the path.
  if (!ACTIVATION_ID.test(activationId)) return { lines: [], truncated: false, complete: true };
  const file = path.join(dir, activationId);
  let fd: number;
  try {
    // The directory is the container's to write in: what sits at that name may be a symlink to a
    // host file (not followed: ELOOP) or a FIFO (not waited on), and only a regular file is read.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { lines: [], truncated: false, complete: true };
    if (code === 'ELOOP' || code === 'ENXIO') return unreadable(file);
    throw e;
  }
  const kept = new LogLimiter(limits);
  try {
    // (Closed and removed below like the proxy's file.)
    if (!fstatSync(fd).isFile()) return { lines: [], truncated: false, complete: false };
    const parser = new RecordParser(kept);
    const buf = Buffer.allocUnsafe(CHUNK);
    let position = 0;
    for (let chunks = 0; ; chunks++) {
      const n = readSync(fd, buf, 0, CHUNK, position);
      if (n === 0) break;
      position += n;
      if (!parser.push(buf.subarray(0, n))) break;
      // A long log is read in slices, letting other work (the next activation's answer) in between.
      if (chunks % 16 === 15) await new Promise((r) => setImmediate(r));
    }
    parser.end();
  } finally {
    closeSync(fd);
    try {
      unlinkSync(file);
    } catch {
      // Gone with its container already.
    }
  }
  return { lines: kept.lines, truncated: kept.truncated, complete: true };
}

/** Something other than the proxy's file sits at its name: nothing of it is read; it is removed. */
function unreadable(file: string): CollectedLogs {
  try {
    unlinkSync(file);
  } catch {
    // Not ours to insist on.
  }
  return { lines: [], truncated: false, complete: false };
}

/** Splits the file's bytes into records and feeds them to the limiter; `push` is false once it is full. */
class RecordParser {
  private rest: Buffer | undefined;
  private lastStamp = '';
  private lastTime = 0;
  private lastIso = '';

  constructor(private readonly kept: LogLimiter) {}

  push(chunk: Buffer): boolean {
    let data = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = undefined;
    let from = 0;
    for (;;) {
      const nl = data.indexOf(NL, from);
      if (nl < 0) break;
      if (!this.record(data, from, nl)) return false;
      from = nl + 1;
    }
    if (from < data.length) {
      // Copied: `chunk` is the reader's buffer, which the next read overwrites.
      data = data.subarray(from);
      this.rest = Buffer.from(data);
    }
    return true;
  }

  /** A last record without its newline: the proxy died while writing it; keep what it wrote. */
  end(): void {
    if (this.rest && this.rest.length > 0) this.record(this.rest, 0, this.rest.length);
    this.rest = undefined;
  }

  private record(data: Buffer, from: number, to: number): boolean {
    const kind = data[from];
    const space = data.indexOf(SPACE, from + 1);
    // Not a record the proxies write (a torn write, or bytes put into the file by other means): skip it.
    if (space < 0 || space >= to || (kind !== 0x6f && kind !== 0x65 && kind !== 0x63)) return true;
    const stamp = data.toString('latin1', from + 1, space);
    if (!/^\d{10,}$/.test(stamp)) return true;
    const when = this.when(stamp);
    if (kind === 0x63) {
      this.kept.cutBytes(when);
      return false;
    }
    const line: LogLine = { ...when, stream: kind === 0x6f ? 'stdout' : 'stderr', text: data.toString('utf8', space + 1, to) };
    return this.kept.add(line);
  }

  /** Epoch ns (as the proxy wrote it) → ms and RFC3339 with nanoseconds; lines of one write share it. */
  private when(stamp: string): { time: number; iso: string } {
    if (stamp !== this.lastStamp) {
      this.lastStamp = stamp;
      this.lastTime = Number(stamp.slice(0, -6));
      this.lastIso = `${new Date(this.lastTime).toISOString().slice(0, 19)}.${stamp.slice(-9)}Z`;
    }
    return { time: this.lastTime, iso: this.lastIso };
  }
}
