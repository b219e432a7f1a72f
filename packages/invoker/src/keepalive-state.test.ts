/** The keep-alive state file on a real file system: round trip, a missing file, a damaged one. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HybridKeepAlive } from './keepalive.js';
import { loadKeepAliveState, saveKeepAliveState } from './keepalive-state.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'whirl-keepalive-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function logs() {
  const lines: string[] = [];
  return { lines, log: { info: (_o: object, m: string) => void lines.push(`info ${m}`), warn: (_o: object, m: string) => void lines.push(`warn ${m}`) } };
}

function learnt(): HybridKeepAlive {
  const p = new HybridKeepAlive({ idleTimeoutMs: 600_000 });
  for (let i = 0; i < 8; i++) {
    p.arrived('guest|guest/timer', i * 600_000);
    p.ended('guest|guest/timer', i * 600_000 + 1_000);
  }
  return p;
}

describe('keep-alive state file', () => {
  it('saves what the policy learnt (mode 0600) and a new policy loads it', async () => {
    const file = path.join(dir, 'keepalive.json');
    await saveKeepAliveState(file, learnt());
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const p = new HybridKeepAlive({ idleTimeoutMs: 600_000 });
    const { lines, log } = logs();
    expect(await loadKeepAliveState(file, p, log)).toBe(1);
    expect(p.snapshot().actions[0]).toMatchObject({ action: 'guest|guest/timer', samples: 7, decision: { rule: 'histogram' } });
    expect(lines).toEqual(['info keep-alive policy resumed what it had learnt']);
  });

  it('a missing file is a first start: nothing loaded, nothing said', async () => {
    const { lines, log } = logs();
    expect(await loadKeepAliveState(path.join(dir, 'none.json'), new HybridKeepAlive({ idleTimeoutMs: 1_000 }), log)).toBe(0);
    expect(lines).toEqual([]);
  });

  it('a damaged file is reported and ignored: the policy starts afresh', async () => {
    const file = path.join(dir, 'damaged.json');
    writeFileSync(file, '{"version":1,"binMs":');
    const { lines, log } = logs();
    const p = new HybridKeepAlive({ idleTimeoutMs: 1_000 });
    expect(await loadKeepAliveState(file, p, log)).toBe(0);
    expect(lines).toEqual(['warn ignoring the keep-alive state file; the policy starts afresh']);
    expect(p.snapshot().actions).toEqual([]);
    // Saving replaces it whole.
    await saveKeepAliveState(file, learnt());
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ version: 1, binMs: 60_000, bins: 240 });
  });
});
