/**
 * The hybrid keep-alive policy in a real standalone with real containers: an action called every 20 s
 * is learnt (4 s histogram bins), then unloaded after each call and loaded again before the next one,
 * and that next call runs warm (no initTime) in the container loaded ahead.
 */
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandalone, type RunningStandalone } from './helpers/standalone.js';
import { docker, dockerUp } from './helpers/docker.js';

interface Activation {
  activationId: string;
  annotations: { key: string; value: unknown }[];
}

const PERIOD_MS = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!dockerUp)('hybrid keep-alive with real containers', () => {
  let s: RunningStandalone;
  let ow: ReturnType<typeof openwhisk>;

  beforeAll(async () => {
    s = await startStandalone({
      env: { WHIRL_CONTAINERS: 'docker', WHIRL_KEEPALIVE: 'hybrid', WHIRL_KEEPALIVE_BIN_MS: '4000', WHIRL_PREWARM: 'false', WHIRL_PAUSE_GRACE_MS: '600000' },
    });
    ow = openwhisk({ apihost: s.apiHost, api_key: s.auth });
  });

  afterAll(async () => {
    expect(await s.stop()).toBe(0);
    const left = await docker.listContainers({ all: true, filters: { label: [`whirl.owner=${s.owner}`] } });
    expect(left).toEqual([]);
  });

  const containersOf = async (action: string): Promise<string[]> =>
    (await docker.listContainers({ filters: { label: [`whirl.owner=${s.owner}`] } })).filter((c) => c.Names.some((n) => n.includes(action))).map((c) => c.Id);

  it('loads a periodic action ahead of its next call, which then runs warm in that container', { timeout: 300_000 }, async () => {
    await ow.actions.create({ name: 'tick', action: 'function main() { return { ok: true }; }' });
    const invoke = async (): Promise<Activation> => (await ow.actions.invoke({ name: 'tick', blocking: true })) as Activation;
    const initTime = (a: Activation): unknown => a.annotations.find((x) => x.key === 'initTime')?.value;

    // Six calls 20 s apart: five idle times, after which the histogram is trusted.
    let next = Date.now();
    const first = await invoke();
    expect(initTime(first)).toBeTypeOf('number');
    for (let i = 0; i < 5; i++) {
      next += PERIOD_MS;
      await sleep(next - Date.now());
      await invoke();
    }
    const served = await containersOf('tick');
    expect(served).toHaveLength(1);
    // The sixth end unloaded that container and scheduled a load about 14.4 s later (head bin 16-20 s × 0.9).
    next += PERIOD_MS;
    await sleep(next - 200 - Date.now());
    const loadedAhead = await containersOf('tick');
    expect(loadedAhead).toHaveLength(1);
    expect(loadedAhead[0]).not.toBe(served[0]);
    const seventh = await invoke();
    expect(initTime(seventh)).toBeUndefined();
    expect(await containersOf('tick')).toEqual(loadedAhead);
  });
});
