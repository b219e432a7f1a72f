/** The retention sweeper over a real (in-memory) SQLite store: defaults, overrides, forever, packages. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { ActivationRecord } from '@whirl/core';
import { openSqliteStores, type SqliteStores } from '@whirl/store';
import { RetentionSweeper } from './retention.js';

const DAY = 86_400_000;
const now = 100 * DAY;

function record(namespace: string, start: number): ActivationRecord {
  return {
    namespace,
    name: 'a',
    version: '0.0.1',
    subject: namespace,
    publish: false,
    activationId: randomBytes(16).toString('hex'),
    start,
    end: start + 1,
    duration: 1,
    response: { statusCode: 0, result: {} },
    logs: [],
    annotations: [],
  };
}

describe('RetentionSweeper', () => {
  let stores: SqliteStores;
  beforeEach(() => {
    stores = openSqliteStores(':memory:');
  });
  afterEach(async () => {
    await stores.close();
  });

  it('deletes what is older than each namespace retention, in batches, and keeps the rest', async () => {
    const put = (ns: string, ages: number[]) => stores.activations.put(ages.map((d) => record(ns, now - d * DAY)));
    await put('dflt', [1, 6, 8, 9, 10]);
    await put('short', [0.5, 2, 3]);
    await put('short/pkg', [2]);
    await put('forever', [50, 90]);
    await stores.subjects.putLimits('short', { retention: 1 });
    await stores.subjects.putLimits('forever', { retention: 0 });
    const sweeper = new RetentionSweeper(stores.activations, stores.subjects, { defaultDays: 7, intervalMs: 60_000, batch: 2 });
    expect(await sweeper.sweep(now)).toBe(6);
    const count = (namespace: string) => stores.activations.count({ namespace });
    expect(await count('dflt')).toBe(2);
    expect(await count('short')).toBe(1);
    expect(await count('short/pkg')).toBe(0);
    expect(await count('forever')).toBe(2);
    expect(await sweeper.sweep(now)).toBe(0);
  });

  it('keeps everything with a default of 0', async () => {
    await stores.activations.put([record('x', 0)]);
    const sweeper = new RetentionSweeper(stores.activations, stores.subjects, { defaultDays: 0, intervalMs: 60_000 });
    expect(await sweeper.sweep(now)).toBe(0);
    expect(await stores.activations.count({ namespace: 'x' })).toBe(1);
  });
});
