/** Leadership over a real SQLite StateStore file shared by two electors (as two controllers share a store). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStateStore } from '@whirl/store';
import { Leadership } from './leader.js';

const until = async (what: string, cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('Leadership', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('elects one holder, hands over on a clean stop, and takes over from a holder that stopped renewing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'whirl-lease-'));
    dirs.push(dir);
    const file = join(dir, 'whirl.db');
    const stores = [openSqliteStateStore(file), openSqliteStateStore(file), openSqliteStateStore(file)];
    const events: string[] = [];
    const elector = (i: number): Leadership =>
      new Leadership(stores[i]!, {
        holder: `c${i}`,
        ttlMs: 1_000,
        renewMs: 100,
        onLead: async () => void events.push(`lead c${i}`),
        onLose: async () => void events.push(`lose c${i}`),
      });
    const a = elector(0);
    const b = elector(1);
    await a.start();
    await b.start();
    expect(a.isLeader).toBe(true);
    expect(b.isLeader).toBe(false);

    await a.stop();
    await until('b leads after a clean stop', () => b.isLeader);
    expect(events).toEqual(['lead c0', 'lose c0', 'lead c1']);

    // A holder that dies does not release: the lease must run out first. b's store is closed under
    // it, so b can neither renew nor release, as after a crash.
    const c = elector(2);
    await c.start();
    expect(c.isLeader).toBe(false);
    await stores[1]!.close();
    await until('c takes the expired lease over', () => c.isLeader);
    await until('b steps down when it cannot renew', () => !b.isLeader);
    expect(events.slice(3)).toEqual(expect.arrayContaining(['lead c2', 'lose c1']));
    await b.stop();
    await c.stop();
    for (const s of [stores[0]!, stores[2]!]) await s.close();
  });
});
