import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { ActivationRecord } from '@whirl/core';
import { describeActivationStoreContract, fixtures } from './contract/index.js';
import { openSqliteStores } from './sqlite.js';

const dirs: string[] = [];
function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'whirl-retention-'));
  dirs.push(dir);
  return join(dir, 'whirl.db');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// The same port contract with deleteOlderThan on the worker thread (a file, not ':memory:').
describeActivationStoreContract('sqlite file, retention worker', async () => {
  const stores = openSqliteStores(tempFile());
  return { store: stores.activations, cleanup: () => stores.close() };
});

const records = (ns: string, from: number, n: number): ActivationRecord[] =>
  Array.from({ length: n }, (_, i) => fixtures.activation(ns, `a${from + i}`, from + i, { path: `${ns}/a${from + i}` }));

describe('sqlite retention worker', () => {
  it('deletes while the main thread is busy and never yields to its event loop', async () => {
    const stores = openSqliteStores(tempFile());
    try {
      await stores.activations.put(records('guest', 1, 500));
      // Warm the worker up (it starts at the first delete), then ask for a batch and, without yielding,
      // watch it go through the main connection: only another thread can have deleted them.
      expect(await stores.activations.deleteOlderThan('guest', 1, 10)).toBe(0);
      const done = stores.activations.deleteOlderThan('guest', 401, 1000);
      let seen = 500;
      for (let i = 0; i < 50_000_000 && seen > 100; i++) seen = await countNow(stores.activations, 'guest');
      expect(seen).toBe(100);
      expect(await done).toBe(400);
    } finally {
      await stores.close();
    }
  });

  it('keeps the event loop free while another connection holds the write lock, and writes once it is free', async () => {
    const file = tempFile();
    const stores = openSqliteStores(file);
    const other = new Database(file);
    try {
      await stores.activations.put(records('guest', 1, 1));
      expect(await stores.activations.deleteOlderThan('guest', 0, 10)).toBe(0); // a file store with its worker
      other.exec('BEGIN IMMEDIATE');
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 5);
      const put = stores.activations.put(records('guest', 100, 1));
      await new Promise((r) => setTimeout(r, 200));
      // busy_timeout would have held this thread for the whole 200 ms: no tick at all.
      expect(ticks).toBeGreaterThan(10);
      other.exec('COMMIT');
      await put;
      clearInterval(ticker);
      expect(await stores.activations.count({ namespace: 'guest' })).toBe(2);
    } finally {
      other.close();
      await stores.close();
    }
  });

  it('shares the write lock with the activation writer: puts during a sweep all land', async () => {
    const stores = openSqliteStores(tempFile());
    try {
      await stores.activations.put(records('guest', 1, 5000));
      let deleted = 0;
      const sweep = (async () => {
        for (let n = -1; n !== 0; deleted += n) n = await stores.activations.deleteOlderThan('guest', 5001, 100);
      })();
      for (let b = 0; b < 50; b++) await stores.activations.put(records('guest', 10_000 + b * 20, 20));
      await sweep;
      expect(deleted).toBe(5000);
      expect(await stores.activations.count({ namespace: 'guest' })).toBe(1000);
    } finally {
      await stores.close();
    }
  });

  it('can be turned off for a file, and ends with the store', async () => {
    const file = tempFile();
    const inThread = openSqliteStores(file, { retentionOffThread: false });
    await inThread.activations.put(records('guest', 1, 3));
    expect(await inThread.activations.deleteOlderThan('guest', 10, 10)).toBe(3);
    await inThread.close();

    const stores = openSqliteStores(file);
    await stores.activations.put(records('guest', 1, 3));
    expect(await stores.activations.deleteOlderThan('guest', 10, 2)).toBe(2);
    await stores.close();
    await expect(stores.activations.deleteOlderThan('guest', 10, 2)).rejects.toThrow(/closed/);
  });
});

/**
 * The main connection answers synchronously; the await only unwraps the already-settled promise
 * (a microtask, not a turn of the event loop, so the worker's reply is not handled meanwhile).
 */
async function countNow(store: { count(q: { namespace: string }): Promise<number> }, namespace: string): Promise<number> {
  return store.count({ namespace });
}
