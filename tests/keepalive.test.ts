/**
 * The hybrid keep-alive policy in a real standalone with real containers: an action called every 20 s
 * is learnt (4 s histogram bins), then unloaded after each call and loaded again before the next one,
 * and that next call runs warm (no initTime) in the container loaded ahead. The decision is on
 * /metrics, and what was learnt is in <data-dir>/keepalive.json after a stop and in force again after
 * a restart, before the action's next call.
 */
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { http, startStandalone, type RunningStandalone } from './helpers/standalone.js';
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

  const env = { WHIRL_CONTAINERS: 'docker', WHIRL_KEEPALIVE: 'hybrid', WHIRL_KEEPALIVE_BIN_MS: '4000', WHIRL_PREWARM: 'false', WHIRL_PAUSE_GRACE_MS: '600000' };

  beforeAll(async () => {
    s = await startStandalone({ env });
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

  /** tick's `whirl_keepalive_window_seconds` samples: window → [rule, seconds]. */
  const windows = async (): Promise<Map<string, [string, number]>> => {
    const text = (await http(s, 'GET', '/metrics', { auth: null })).text;
    const out = new Map<string, [string, number]>();
    for (const m of text.matchAll(/^whirl_keepalive_window_seconds\{([^}]*)\} (\S+)$/gm)) {
      const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
      if (labels.namespace === 'guest' && labels.action === 'guest/tick') out.set(labels.window!, [labels.rule!, Number(m[2])]);
    }
    return out;
  };

  it('shows the decision on /metrics, and keeps what it learnt across a restart', { timeout: 120_000 }, async () => {
    const before = await windows();
    expect(before.get('prewarm')?.[0]).toBe('histogram');
    // Head bin 16-20 s: unloaded for 14.4 s (16 × 0.9), then kept past 20 s (how far depends on
    // whether a late call put an idle time in the next bin).
    expect(before.get('prewarm')?.[1]).toBeCloseTo(14.4, 1);
    expect(before.get('keepalive')?.[1]).toBeGreaterThan(20 - 14.4);
    expect((await http(s, 'GET', '/metrics', { auth: null })).text).toMatch(/^whirl_keepalive_lead_seconds\{invoker="0"\} [0-9.]+$/m);

    const dataDir = s.dataDir;
    expect(await s.stop({ keepData: true })).toBe(0);
    const saved = JSON.parse(readFileSync(path.join(dataDir, 'keepalive.json'), 'utf8')) as { binMs: number; actions: { action: string; bins: [number, number][] }[] };
    expect(saved.binMs).toBe(4000);
    const tick = saved.actions.find((a) => a.action === 'guest|guest/tick');
    // Six idle times of about 20 s (seven calls), in bin 4 (16-20 s), or 5 for a call that ran late.
    expect(tick?.bins.reduce((n, [, c]) => n + c, 0)).toBe(6);
    expect(tick?.bins.every(([bin]) => bin === 4 || bin === 5)).toBe(true);

    s = await startStandalone({ env, dataDir });
    ow = openwhisk({ apihost: s.apiHost, api_key: s.auth });
    expect(await windows()).toEqual(before);
  });
});
