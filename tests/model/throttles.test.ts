/**
 * Throttles against a real standalone: concurrent invocations, invocations per minute and trigger
 * fires per minute reach 429 with OpenWhisk's messages and a Retry-After header, and recover.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startStandalone, waitFor, type RunningStandalone } from '../helpers/standalone.js';

let s: RunningStandalone;
beforeAll(async () => {
  s = await startStandalone({
    env: { WHIRL_CONTAINERS: 'process', WHIRL_PREWARM: 'false', WHIRL_CONCURRENT_INVOCATIONS: '2', WHIRL_INVOCATIONS_PER_MINUTE: '8', WHIRL_FIRES_PER_MINUTE: '3' },
  });
  await http(s, 'PUT', '/api/v1/namespaces/_/triggers/tick', { body: {} });
  await http(s, 'PUT', '/api/v1/namespaces/_/actions/slow', {
    body: { exec: { kind: 'nodejs:20', code: 'function main(p) { return new Promise((r) => setTimeout(() => r({}), p.ms || 0)); }' } },
  });
});
afterAll(async () => {
  expect(await s.stop()).toBe(0);
});

const invoke = (params: object, blocking = false) =>
  http(s, 'POST', `/api/v1/namespaces/_/actions/slow${blocking ? '?blocking=true' : ''}`, { body: params });

describe('throttles', () => {
  it('shows the effective limits', async () => {
    const r = await http(s, 'GET', '/api/v1/namespaces/_/limits');
    expect(r.body).toMatchObject({ concurrentInvocations: 2, invocationsPerMinute: 8 });
  });

  it('refuses a third concurrent invocation, then recovers when one completes', async () => {
    // Start in a fresh minute so the per-minute limit does not interfere.
    await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 50));
    const a = await invoke({ ms: 1500 });
    const b = await invoke({ ms: 1500 });
    expect([a.status, b.status]).toEqual([202, 202]);
    const c = await invoke({});
    expect(c.status).toBe(429);
    expect((c.body as { error: string }).error).toBe('Too many concurrent requests in flight (count: 2, allowed: 2).');
    expect(c.headers.get('retry-after')).toBe('1');
    const id = (a.body as { activationId: string }).activationId;
    await waitFor('first slow activation', async () => ((await http(s, 'GET', `/api/v1/namespaces/_/activations/${id}`)).status === 200 ? true : undefined));
    await new Promise((r) => setTimeout(r, 1600));
    const d = await invoke({}, true);
    expect(d.status).toBe(200);
  });

  it('refuses invocations over the per-minute limit with Retry-After, then recovers next minute', async () => {
    // 4 were counted above (3 accepted or refused by concurrency count too); use up the rest.
    let last = await invoke({}, true);
    while (last.status === 200) last = await invoke({}, true);
    expect(last.status).toBe(429);
    expect((last.body as { error: string }).error).toMatch(/^Too many requests in the last minute \(count: 9, allowed: 8\)\.$/);
    const retryAfter = Number(last.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // Trigger fires have their own per-minute limit (a fire without an active rule still counts).
    const fire = () => http(s, 'POST', '/api/v1/namespaces/_/triggers/tick', { body: {} });
    for (let i = 0; i < 3; i++) expect((await fire()).status).toBe(204);
    const refused = await fire();
    expect(refused.status).toBe(429);
    expect((refused.body as { error: string }).error).toBe('Too many requests in the last minute (count: 4, allowed: 3).');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 100));
    expect((await invoke({}, true)).status).toBe(200);
    expect((await fire()).status).toBe(204);
  });
});
