/**
 * Standalone without Docker: the local-process container factory runs the same Node.js proxy as
 * child processes. It must say loudly that there is no isolation, and still run actions end to end.
 */
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandalone, type RunningStandalone } from './helpers/standalone.js';

describe('standalone with the local-process factory', () => {
  let s: RunningStandalone;
  beforeAll(async () => {
    s = await startStandalone({ env: { WHIRL_CONTAINERS: 'process' } });
  });
  afterAll(async () => {
    expect(await s.stop()).toBe(0);
  });

  it('warns that actions run without isolation', () => {
    expect(s.stderr()).toMatch(/NO ISOLATION/);
  });

  it('creates and invokes an action, cold then warm', async () => {
    const ow = openwhisk({ apihost: s.apiHost, api_key: s.auth });
    await ow.actions.create({ name: 'p', action: 'function main(a) { console.log("in process"); return { sum: a.x + a.y }; }' });
    const cold = await ow.actions.invoke({ name: 'p', blocking: true, params: { x: 1, y: 2 } });
    expect(cold.response?.result).toEqual({ sum: 3 });
    expect(cold.annotations?.some((a) => a.key === 'initTime')).toBe(true);
    const warm = await ow.actions.invoke({ name: 'p', blocking: true, params: { x: 2, y: 2 } });
    expect(warm.response?.result).toEqual({ sum: 4 });
    expect(warm.annotations?.some((a) => a.key === 'initTime')).toBe(false);
  });
});
