import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readActivationLogFile } from './log-files.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'whirl-logfiles-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const id = (i: number) => i.toString(16).padStart(32, '0');

/** A fresh directory holding the file `content` for activation `id(1)`. */
function dirWith(content: string | Buffer): string {
  const dir = path.join(root, String(n++));
  mkdirSync(dir);
  writeFileSync(path.join(dir, id(1)), content);
  return dir;
}

// 2026-12-03T14:00:00.123456789Z
const NS = '1796306400123456789';
const big = { limitBytes: 10 * 1024 * 1024 };

describe('activation log files', () => {
  it('reads records as the collector formats lines, and removes the file', async () => {
    const dir = dirWith(`o${NS} hello\ne${NS} to stderr\no${NS} \n`);
    const r = await readActivationLogFile(dir, id(1), big);
    expect(r).toEqual({
      lines: ['2026-12-03T14:00:00.123456789Z stdout: hello', '2026-12-03T14:00:00.123456789Z stderr: to stderr', '2026-12-03T14:00:00.123456789Z stdout: '],
      truncated: false,
      complete: true,
    });
    expect(existsSync(path.join(dir, id(1)))).toBe(false);
  });

  it('has no lines for an activation that printed nothing, and never leaves its directory for an odd id', async () => {
    const dir = dirWith('');
    expect(await readActivationLogFile(dir, id(2), big)).toEqual({ lines: [], truncated: false, complete: true });
    expect(await readActivationLogFile(dir, id(1), big)).toEqual({ lines: [], truncated: false, complete: true });
    writeFileSync(path.join(root, 'secret'), `o${NS} secret\n`);
    expect(await readActivationLogFile(dir, '../secret', big)).toEqual({ lines: [], truncated: false, complete: true });
    expect(existsSync(path.join(root, 'secret'))).toBe(true);
  });

  it('truncates at the byte limit like the stream collector (1025 lines of 1023 bytes in 1 MiB, then the notice)', async () => {
    const line = 'y'.repeat(1023);
    const dir = dirWith(Array.from({ length: 1100 }, () => `o${NS} ${line}\n`).join(''));
    const r = await readActivationLogFile(dir, id(1), { limitBytes: 1024 * 1024 });
    expect(r.lines).toHaveLength(1026);
    expect(r.truncated).toBe(true);
    expect(r.lines.at(-1)).toBe('2026-12-03T14:00:00.123456789Z stderr: Logs were truncated because the total bytes size exceeds the limit of 1048576 bytes.');
  });

  it('truncates at the line limit', async () => {
    const dir = dirWith(Array.from({ length: 10 }, (_, i) => `o${NS} line ${i}\n`).join(''));
    const r = await readActivationLogFile(dir, id(1), { limitBytes: 1000, limitLines: 3 });
    expect(r.lines.map((l) => l.slice(31))).toEqual([
      'stdout: line 0',
      'stdout: line 1',
      'stdout: line 2',
      'stderr: Logs were truncated because the number of lines exceeds the limit of 3 lines.',
    ]);
  });

  it("treats the proxy's cut record as truncation, keeps a torn last record, skips bytes that are no record", async () => {
    const dir = dirWith(`o${NS} kept\nnot a record\nx${NS} nor this\no${NS} after junk\nc${NS} \no${NS} never\n`);
    const r = await readActivationLogFile(dir, id(1), big);
    expect(r.lines.map((l) => l.slice(31))).toEqual([
      'stdout: kept',
      'stdout: after junk',
      'stderr: Logs were truncated because the total bytes size exceeds the limit of 10485760 bytes.',
    ]);
    const torn = dirWith(`o${NS} whole\ne${NS} half a li`);
    expect((await readActivationLogFile(torn, id(1), big)).lines.map((l) => l.slice(31))).toEqual(['stdout: whole', 'stderr: half a li']);
  });

  it('keeps UTF-8 across read chunks', async () => {
    const s = 'héllo ☃ 😀 日本語 ✓'.repeat(5000);
    const dir = dirWith(`o${NS} ${s}\ne${NS} end\n`);
    const r = await readActivationLogFile(dir, id(1), big);
    expect(r.lines.map((l) => l.slice(31))).toEqual([`stdout: ${s}`, 'stderr: end']);
  });

  it('reads no symlink (a host file the action points at) and no FIFO', async () => {
    const dir = path.join(root, String(n++));
    mkdirSync(dir);
    writeFileSync(path.join(root, 'host-file'), `o${NS} host secret\n`);
    symlinkSync(path.join(root, 'host-file'), path.join(dir, id(1)));
    expect(await readActivationLogFile(dir, id(1), big)).toEqual({ lines: [], truncated: false, complete: false });
    expect(existsSync(path.join(root, 'host-file'))).toBe(true);
    execFileSync('mkfifo', [path.join(dir, id(2))]);
    expect(await readActivationLogFile(dir, id(2), big)).toEqual({ lines: [], truncated: false, complete: false });
  });
});
