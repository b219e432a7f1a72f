/**
 * Usage per namespace against a real standalone: actions run in real containers, then
 * `GET /namespaces/_/usage` and `whirl namespace usage` report invocations, errors, duration and
 * GB-seconds that match the stored activation records; bad queries get a 400 that says why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, type CliEnv } from './cli/helpers.js';
import { dockerUp } from './helpers/docker.js';
import { http, startStandalone, waitFor, type RunningStandalone } from './helpers/standalone.js';

interface Figures {
  invocations: number;
  errors: number;
  duration: number;
  gbSeconds: number;
}
interface Usage {
  namespace: string;
  since?: number;
  upto?: number;
  actions: (Figures & { action: string })[];
  total: Figures;
}
interface Record_ {
  activationId: string;
  start: number;
  duration: number;
  response: { success: boolean };
  annotations: { key: string; value: unknown }[];
}

describe('usage per namespace', () => {
  let s: RunningStandalone;
  let cli: CliEnv;
  const ids: string[] = [];

  beforeAll(async () => {
    s = await startStandalone({ env: { WHIRL_CONTAINERS: dockerUp ? 'docker' : 'process', WHIRL_PREWARM: 'false' } });
    cli = cliEnv(s);
  });

  afterAll(async () => {
    expect(await s.stop()).toBe(0);
  });

  const put = async (name: string, code: string, memory: number): Promise<void> => {
    const r = await http(s, 'PUT', `/api/v1/namespaces/_/actions/${name}`, { body: { exec: { kind: 'nodejs:20', code }, limits: { memory } } });
    expect(r.status, r.text).toBe(200);
  };
  const invoke = async (name: string, params: Record<string, unknown>): Promise<void> => {
    const r = await http(s, 'POST', `/api/v1/namespaces/_/actions/${name}?blocking=true`, { body: params });
    expect([200, 502]).toContain(r.status);
    ids.push((r.body as { activationId: string }).activationId);
  };
  const usage = async (query = ''): Promise<Usage> => {
    const r = await http(s, 'GET', `/api/v1/namespaces/_/usage${query}`);
    expect(r.status, r.text).toBe(200);
    return r.body as Usage;
  };

  it('counts invocations, errors, duration and GB-s per action from the records', async () => {
    expect(await usage()).toEqual({ namespace: 'guest', actions: [], total: { invocations: 0, errors: 0, duration: 0, gbSeconds: 0 } });
    await put('ok', 'function main(p) { return { n: p.n }; }', 128);
    await put('flaky', 'function main(p) { if (p.fail) return { error: "asked to fail" }; return {}; }', 256);
    for (let n = 0; n < 3; n++) await invoke('ok', { n });
    await invoke('flaky', { fail: true });
    await invoke('flaky', {});

    const records = await waitFor('all records', async () => {
      const got = await Promise.all(ids.map(async (id) => (await http(s, 'GET', `/api/v1/namespaces/_/activations/${id}`)).body as Record_));
      return got.every((r) => typeof r.activationId === 'string') ? got : undefined;
    });
    const expected = (action: string, memory: number): Figures & { action: string } => {
      const mine = records.filter((r) => r.annotations.find((a) => a.key === 'path')?.value === `guest/${action}`);
      return {
        action: `guest/${action}`,
        invocations: mine.length,
        errors: mine.filter((r) => !r.response.success).length,
        duration: mine.reduce((t, r) => t + r.duration, 0),
        gbSeconds: mine.reduce((t, r) => t + memory * Math.max(1, Math.ceil(r.duration)), 0) / 1024 / 1000,
      };
    };
    const u = await usage();
    expect(u.actions).toEqual([expected('flaky', 256), expected('ok', 128)]);
    expect(u.actions.map((a) => [a.action, a.invocations, a.errors])).toEqual([
      ['guest/flaky', 2, 1],
      ['guest/ok', 3, 0],
    ]);
    expect(u.total.invocations).toBe(5);
    expect(u.total.errors).toBe(1);
    expect(u.total.gbSeconds).toBeCloseTo(u.actions[0]!.gbSeconds + u.actions[1]!.gbSeconds, 12);
    expect(u.total.gbSeconds).toBeGreaterThan(0);

    // Bounded by start time: from the last record on, only it counts.
    const last = records.reduce((a, b) => (b.start > a.start ? b : a));
    const tail = await usage(`?since=${last.start}&upto=${last.start}`);
    expect(tail.since).toBe(last.start);
    expect(tail.total.invocations).toBe(records.filter((r) => r.start === last.start).length);
    expect((await usage(`?upto=${Math.min(...records.map((r) => r.start)) - 1}`)).total.invocations).toBe(0);
  });

  it('refuses unknown parameters, bad times and an inverted range with the reason, and other namespaces', async () => {
    const bad = async (query: string): Promise<{ status: number; error: string }> => {
      const r = await http(s, 'GET', `/api/v1/namespaces/_/usage${query}`);
      return { status: r.status, error: (r.body as { error: string }).error };
    };
    expect(await bad('?from=1')).toEqual({ status: 400, error: "Unknown query parameter 'from': this route takes only 'since', 'upto'." });
    expect(await bad('?since=2&upto=1')).toEqual({ status: 400, error: "The time range is inverted: 'since' (2) is after 'upto' (1)." });
    expect(await bad('?upto=-5')).toEqual({ status: 400, error: "The parameter 'upto' must be a time in epoch milliseconds (a whole number), got '-5'." });
    expect((await http(s, 'GET', '/api/v1/namespaces/someone/usage')).status).toBe(403);
    expect((await http(s, 'GET', '/api/v1/namespaces/_/usage', { auth: null })).status).toBe(401);
  });

  it('`whirl namespace usage` prints a table, and the same figures with --json', async () => {
    const api = await usage();
    expect(await cli.json<Usage>(['namespace', 'usage'])).toEqual(api);
    const r = await cli.run(['namespace', 'usage']);
    expect(r.code, r.stderr).toBe(0);
    // Piped output is tab-separated rows: action, invocations, errors, duration, GB-s; then the total.
    const rows = r.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(rows.map((row) => row.slice(0, 3))).toEqual([
      ['guest/flaky', '2', '1'],
      ['guest/ok', '3', '0'],
      ['total', '5', '1'],
    ]);
    expect(rows[2]![4]).toBe(api.total.gbSeconds.toFixed(6));
    const since = await cli.run(['namespace', 'usage', '--since', '1m', '--upto', '0']);
    expect(since.code).not.toBe(0);
    expect(since.stderr).toContain("The time range is inverted: 'since'");
  });
});
