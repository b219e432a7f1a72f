import { describe, expect, it } from 'vitest';
import type { ActivationRecord, ActivationStore } from '@whirl/core';
import { ActivationWriter } from './activation-writer.js';

/** Records the batches it is given (the SQLite and CouchDB adapters have their own suites). */
class BatchRecorder implements Pick<ActivationStore, 'put'> {
  batches: string[][] = [];
  failures = 0;
  async put(records: readonly ActivationRecord[]): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('store away');
    }
    this.batches.push(records.map((r) => r.activationId));
  }
}

const rec = (id: string): ActivationRecord => ({
  namespace: 'ns',
  name: 'a',
  version: '0.0.1',
  subject: 's',
  publish: false,
  activationId: id,
  start: 0,
  end: 1,
  response: { statusCode: 0, result: {} },
  logs: [],
  annotations: [],
});
const quiet = { warn: () => {} };

describe('activation writer', () => {
  it('group-commits records that arrive together, then runs afterWrite once per batch', async () => {
    const store = new BatchRecorder();
    const after: string[][] = [];
    const w = new ActivationWriter(store as unknown as ActivationStore, {
      maxDelayMs: 20,
      log: quiet,
      afterWrite: async (rs) => {
        after.push(rs.map((r) => r.activationId));
      },
    });
    await Promise.all(['a', 'b', 'c'].map((id) => w.write(rec(id))));
    expect(store.batches).toEqual([['a', 'b', 'c']]);
    expect(after).toEqual([['a', 'b', 'c']]);
  });

  it('writes at once when the batch is full', async () => {
    const store = new BatchRecorder();
    const w = new ActivationWriter(store as unknown as ActivationStore, { maxBatch: 2, maxDelayMs: 60_000, log: quiet });
    await Promise.all(['a', 'b'].map((id) => w.write(rec(id))));
    expect(store.batches).toEqual([['a', 'b']]);
  });

  it('retries a failed batch instead of losing it', async () => {
    const store = new BatchRecorder();
    store.failures = 2;
    const w = new ActivationWriter(store as unknown as ActivationStore, { maxDelayMs: 1, log: quiet });
    await w.write(rec('x'));
    expect(store.batches).toEqual([['x']]);
  });
});
