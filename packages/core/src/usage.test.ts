import { describe, expect, it } from 'vitest';
import { USAGE_BUCKET_MS as H, billedMs, gbSeconds, usageOf, usageRanges, type ActivationRecord } from './index.js';

const record = (over: Partial<ActivationRecord>): ActivationRecord => ({
  namespace: 'guest',
  name: 'a',
  version: '0.0.1',
  subject: 'guest',
  publish: false,
  activationId: '0'.repeat(32),
  start: 1000,
  end: 1010,
  duration: 10,
  response: { statusCode: 0 },
  logs: [],
  annotations: [
    { key: 'path', value: 'guest/a' },
    { key: 'limits', value: { memory: 256 } },
  ],
  ...over,
});

describe('usage rule', () => {
  it('bills memory × duration rounded up to the next ms, at least 1 ms', () => {
    expect(billedMs(0)).toBe(1);
    expect(billedMs(10.2)).toBe(11);
    expect(billedMs(10)).toBe(10);
    expect(usageOf(record({}))).toEqual({ action: 'guest/a', invocations: 1, errors: 0, durationMs: 10, mbMs: 2560 });
    expect(usageOf(record({ duration: 0, end: 1000, response: { statusCode: 2 } }))).toMatchObject({ errors: 1, durationMs: 0, mbMs: 256 });
    expect(gbSeconds(1024 * 1000)).toBe(1);
  });

  it('counts compositions without billing them, and skips trigger fires', () => {
    expect(usageOf(record({ annotations: [{ key: 'path', value: 'guest/seq' }, { key: 'kind', value: 'sequence' }] }))?.mbMs).toBe(0);
    expect(usageOf(record({ annotations: [], end: 0 }))).toBeUndefined();
  });

  it('splits a range into whole buckets and edges', () => {
    expect(usageRanges(0, 3 * H - 1)).toEqual({ buckets: { first: 0, last: 2 }, edges: [] });
    expect(usageRanges(5, 3 * H)).toEqual({ buckets: { first: 1, last: 2 }, edges: [{ since: 5, upto: H - 1 }, { since: 3 * H, upto: 3 * H }] });
    expect(usageRanges(H + 1, 2 * H - 2)).toEqual({ edges: [{ since: H + 1, upto: 2 * H - 2 }] });
  });
});
