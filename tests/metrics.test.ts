/**
 * Observability against a real standalone: GET /metrics after real Docker activations (counters,
 * cold-start reasons, histograms, pool gauges), the usage annotations each activation carries
 * (memoryPeakMB, cpuMs from the container's cgroup), the usage summary route and `whirl action get
 * --usage`, and who may scrape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv } from './cli/helpers.js';
import { http, startStandalone, waitFor, type RunningStandalone } from './helpers/standalone.js';
import { dockerUp } from './helpers/docker.js';

interface Activation {
  activationId: string;
  annotations: { key: string; value: unknown }[];
  response: { success: boolean };
}

const ann = (a: Activation, key: string): unknown => a.annotations.find((x) => x.key === key)?.value;

async function scrape(s: RunningStandalone): Promise<string> {
  const r = await http(s, 'GET', '/metrics', { auth: null });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return r.text;
}

/** The value of one sample, by metric name and a label subset; 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[3]);
  }
  return total;
}

describe.skipIf(!dockerUp)('metrics and usage in Docker', () => {
  let s: RunningStandalone;

  beforeAll(async () => {
    s = await startStandalone({ env: { WHIRL_CONTAINERS: 'docker', WHIRL_PAUSE_GRACE_MS: '60000' } });
  });

  afterAll(async () => {
    await s?.stop();
  });

  const put = async (name: string, code: string, limits: Record<string, number> = {}): Promise<void> => {
    const r = await http(s, 'PUT', `/api/v1/namespaces/_/actions/${name}?overwrite=true`, { body: { exec: { kind: 'nodejs:20', code }, limits } });
    expect(r.status, r.text).toBe(200);
  };
  const invoke = async (name: string, body: unknown = {}): Promise<Activation> => {
    const r = await http(s, 'POST', `/api/v1/namespaces/_/actions/${name}?blocking=true`, { body });
    expect([200, 502], r.text).toContain(r.status);
    return r.body as Activation;
  };

  it('counts activations, cold starts by reason, times and pool occupancy', async () => {
    const before = await scrape(s);
    await put('m-hello', 'function main(p) { return { hi: p.name || "you" }; }');
    await put('m-fail', 'function main() { return { error: "boom" }; }');
    const first = await invoke('m-hello');
    expect(ann(first, 'initTime')).toEqual(expect.any(Number));
    await invoke('m-hello');
    await invoke('m-hello');
    await invoke('m-fail');
    // Records are written just after the result is out; the counters follow the stored record.
    const text = await waitFor('metrics of 4 activations', async () => {
      const t = await scrape(s);
      return sample(t, 'openwhisk_action_activations_total', { action: 'm-hello' }) === 3 && sample(t, 'openwhisk_action_status', { action: 'm-fail' }) === 1 ? t : undefined;
    });
    const hello = { namespace: 'guest', initiator: 'guest', action: 'm-hello' };
    expect(sample(text, 'openwhisk_action_activations_total', { ...hello, kind: 'nodejs:20', memory: '256' })).toBe(3);
    expect(sample(text, 'openwhisk_action_status', { ...hello, status: 'success' })).toBe(3);
    expect(sample(text, 'openwhisk_action_status', { action: 'm-fail', status: 'application_error' })).toBe(1);
    // One cold start for m-hello (a fresh container or a stem cell, depending on what the pool had), then warm runs.
    const cold = sample(text, 'openwhisk_action_coldStarts_total', hello);
    expect(cold).toBe(1);
    expect(sample(text, 'openwhisk_action_coldStarts_total', { ...hello, reason: 'no_warm' }) + sample(text, 'openwhisk_action_coldStarts_total', { ...hello, reason: 'stem_cell' })).toBe(1);
    expect(sample(text, 'openwhisk_action_duration_seconds_count', hello)).toBe(3);
    expect(sample(text, 'openwhisk_action_waitTime_seconds_count', hello)).toBe(3);
    expect(sample(text, 'openwhisk_action_initTime_seconds_count', hello)).toBe(1);
    expect(sample(text, 'openwhisk_action_duration_seconds_bucket', { ...hello, le: '+Inf' })).toBe(3);
    expect(sample(text, 'openwhisk_action_memory', hello)).toBe(256);
    // Pool: m-hello's container is warm (idle); m-fail's was removed after its error.
    expect(sample(text, 'whirl_invoker_containers', { invoker: '0', state: 'warm' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'whirl_invoker_memory_used_bytes', { invoker: '0' })).toBeGreaterThanOrEqual(256 * 1024 * 1024);
    expect(sample(text, 'whirl_invoker_memory_budget_bytes', { invoker: '0' })).toBe(2048 * 1024 * 1024);
    expect(text).toMatch(/^whirl_invoker_queue_depth\{invoker="0"\} 0$/m);
    expect(sample(text, 'whirl_store_write_seconds_count', { store: 'activations', outcome: 'ok' })).toBeGreaterThan(
      sample(before, 'whirl_store_write_seconds_count', { store: 'activations', outcome: 'ok' }),
    );
    expect(
      sample(text, 'whirl_http_requests_total', { method: 'POST', route: '/api/v1/namespaces/:ns/actions/:name', status: '200' }) -
        sample(before, 'whirl_http_requests_total', { method: 'POST', route: '/api/v1/namespaces/:ns/actions/:name', status: '200' }),
    ).toBe(3);
    expect(sample(text, 'whirl_http_requests_total', { method: 'POST', route: '/api/v1/namespaces/:ns/actions/:name', status: '502' })).toBe(1);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
  });

  it('records memory peak and CPU time of each activation and recommends a memory limit', async () => {
    // Allocates ~40 MB and keeps it while busy for a moment, so both figures are well above noise.
    await put(
      'm-heavy',
      'function main() { const a = []; for (let i = 0; i < 40; i++) a.push(Buffer.alloc(1024 * 1024, i)); let x = 0; const end = Date.now() + 50; while (Date.now() < end) x++; return { n: a.length, x: x > 0 }; }',
      { memory: 256 },
    );
    const runs: Activation[] = [];
    for (let i = 0; i < 3; i++) runs.push(await invoke('m-heavy'));
    for (const a of runs) {
      expect(a.response.success).toBe(true);
      const peak = ann(a, 'memoryPeakMB');
      const cpu = ann(a, 'cpuMs');
      expect(peak, JSON.stringify(a.annotations)).toEqual(expect.any(Number));
      expect(peak as number).toBeGreaterThan(40);
      expect(peak as number).toBeLessThanOrEqual(256);
      expect(cpu as number).toBeGreaterThanOrEqual(0);
      expect(ann(a, 'usageShared')).toBeUndefined();
    }
    // The stored records carry them too.
    const stored = await waitFor('stored record', async () => {
      const r = await http(s, 'GET', `/api/v1/namespaces/_/activations/${runs[2]!.activationId}`);
      return r.status === 200 ? (r.body as Activation) : undefined;
    });
    expect(ann(stored, 'memoryPeakMB')).toBe(ann(runs[2]!, 'memoryPeakMB'));

    const usage = await waitFor('3 measured activations', async () => {
      const r = await http(s, 'GET', '/api/v1/namespaces/_/actions/m-heavy?usage=true');
      expect(r.status, r.text).toBe(200);
      const u = r.body as { measured: number };
      return u.measured === 3 ? (r.body as Record<string, unknown> & { memoryPeakMB: { p99: number }; recommendation: { memoryMB: number } }) : undefined;
    });
    expect(usage).toMatchObject({ namespace: 'guest', name: 'm-heavy', activations: 3, shared: 0, memoryLimitMB: 256 });
    expect(usage.memoryPeakMB.p99).toBeGreaterThan(40);
    expect(usage.recommendation.memoryMB % 32).toBe(0);
    expect(usage.recommendation.memoryMB).toBeGreaterThanOrEqual(Math.max(128, usage.memoryPeakMB.p99));

    const bad = await http(s, 'GET', '/api/v1/namespaces/_/actions/m-heavy?usage=true&last=0');
    expect(bad.status).toBe(400);
    expect((bad.body as { error: string }).error).toMatch(/'last' must be a whole number from 1 to 200/);
    expect((await http(s, 'GET', '/api/v1/namespaces/_/actions/m-nope?usage=true')).status).toBe(404);
    // Without usage=true the route is OpenWhisk's GET action, unchanged.
    expect((await http(s, 'GET', '/api/v1/namespaces/_/actions/m-heavy')).body).toMatchObject({ name: 'm-heavy', exec: { kind: 'nodejs:20' } });

    const cli = cliEnv(s);
    const json = await cli.json<{ recommendation: { memoryMB: number } }>(['action', 'get', 'm-heavy', '--usage']);
    expect(json.recommendation.memoryMB).toBe(usage.recommendation.memoryMB);
    const table = await cli.run(['action', 'get', 'm-heavy', '--usage', '--last', '2']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/2 of the last 2 activation\(s\) measured/);
    expect(table.stdout).toMatch(/memory peak \(MB\)/);
    expect(table.stdout).toMatch(new RegExp(`recommended: ${usage.recommendation.memoryMB} MB`));
    const wrong = await cli.run(['action', 'get', 'm-heavy', '--usage', '--last', 'many']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/--last must be a whole number/);

    const sampled = sample(await scrape(s), 'whirl_invoker_usage_samples_total', { outcome: 'ok' });
    expect(sampled).toBeGreaterThanOrEqual(3);
  });

  it('marks usage as shared when activations overlap in one container', async () => {
    await put('m-shared', 'async function main() { await new Promise((r) => setTimeout(r, 400)); return { ok: true }; }', { concurrency: 4 });
    const all = await Promise.all([invoke('m-shared'), invoke('m-shared'), invoke('m-shared')]);
    expect(all.every((a) => a.response.success)).toBe(true);
    expect(all.some((a) => ann(a, 'usageShared') === true)).toBe(true);
    for (const a of all) expect(ann(a, 'memoryPeakMB')).toEqual(expect.any(Number));
  });
});

describe('who may scrape standalone, and throttle metrics', () => {
  let s: RunningStandalone;

  beforeAll(async () => {
    s = await startStandalone({ args: ['--containers', 'process'], env: { WHIRL_METRICS_TOKEN: 'standalone-metrics-token-1234', WHIRL_PREWARM: 'false', WHIRL_INVOCATIONS_PER_MINUTE: '2' } });
  });

  afterAll(async () => {
    await s?.stop();
  });

  it('asks for the bearer token when WHIRL_METRICS_TOKEN is set, and never for a tenant key', async () => {
    const none = await http(s, 'GET', '/metrics', { auth: null });
    expect(none.status).toBe(401);
    expect((none.body as { error: string }).error).toMatch(/WHIRL_METRICS_TOKEN/);
    // A tenant's own key does not open it.
    expect((await http(s, 'GET', '/metrics')).status).toBe(401);
    const ok = await http(s, 'GET', '/metrics', { auth: null, headers: { authorization: 'Bearer standalone-metrics-token-1234' } });
    expect(ok.status).toBe(200);
    expect(ok.text).toMatch(/^whirl_invoker_memory_budget_bytes\{invoker="0"\} /m);
  });
  it('counts throttle refusals by reason', async () => {
    const put = await http(s, 'PUT', '/api/v1/namespaces/_/actions/m-throttle', { body: { exec: { kind: 'nodejs:20', code: 'function main() { return {}; }' } } });
    expect(put.status, put.text).toBe(200);
    // WHIRL_INVOCATIONS_PER_MINUTE=2: the third invoke within a minute is refused (unless the minute
    // turns over in between, when a later one is).
    let accepted = 0;
    while (accepted < 10) {
      const r = await http(s, 'POST', '/api/v1/namespaces/_/actions/m-throttle?blocking=true', { body: {} });
      if (r.status === 429) break;
      expect(r.status, r.text).toBe(200);
      // Local processes are metered from /proc.
      expect(ann(r.body as Activation, 'memoryPeakMB') as number).toBeGreaterThan(0);
      expect(ann(r.body as Activation, 'cpuMs') as number).toBeGreaterThanOrEqual(0);
      accepted++;
    }
    expect(accepted).toBeLessThan(10);
    const text = (await http(s, 'GET', '/metrics', { auth: null, headers: { authorization: 'Bearer standalone-metrics-token-1234' } })).text;
    expect(sample(text, 'whirl_throttle_rejections_total', { reason: 'invocations_per_minute' })).toBe(1);
    expect(sample(text, 'openwhisk_action_limit_timed_total', { namespace: 'guest' })).toBe(1);
    expect(sample(text, 'whirl_http_requests_total', { route: '/api/v1/namespaces/:ns/actions/:name', method: 'POST', status: '429' })).toBe(1);
  });
});
