/**
 * Components killed under a steady, bounded load (`pnpm test:faults`): against the distributed tier
 * (nginx → 2 controllers → Kafka → 2 invokers, CouchDB-API store) an invoker and a controller are
 * SIGKILLed and restarted, Kafka and the CouchDB-API server are stopped for 30 s and started again;
 * and a standalone is SIGKILLed mid-load and restarted on its data dir. Each scenario asserts that
 * every activation id handed out reads back as a record, that no request hangs past its deadline,
 * that refusals during the outage carry a reason, and that a blocking call succeeds within 30 s of
 * recovery; each prints its figures (one JSON line, tabulated in bench/RESULTS.md). The suite's dev
 * services use their own ports and state (./env.ts), apart from tests/distributed's.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startStandalone, type RunningStandalone } from '../helpers/standalone.js';
import { docker, dockerUp } from '../helpers/docker.js';
import { FAULT_ENV, useFaultEnv } from './env.js';
import { call, figures, recovery, steadyLoad, unreadable, type Figures, type Outcome, type Target } from './load.js';

const run = promisify(execFile);
useFaultEnv();
const { startDistributed } = await import('../../deploy/dev/distributed.js');
type Distributed = Awaited<ReturnType<typeof startDistributed>>;

const OUTAGE_MS = 30_000;
const all: Figures[] = [];

async function service(name: 'kafka' | 'couchdb', verb: 'start' | 'stop'): Promise<void> {
  await run('bash', [path.join(repoRoot, 'deploy/dev', `${name}.sh`), verb], { cwd: repoRoot, env: { ...process.env, ...FAULT_ENV }, timeout: 300_000 });
}

function judge(name: string, outcomes: Outcome[], missing: string[], recoverySeconds: number): Figures {
  const f = figures(name, outcomes, missing.length, recoverySeconds);
  all.push(f);
  process.stdout.write(`${JSON.stringify({ fault: f })}\n`);
  // Refusals say why (503/502/429 with an error text), rather than dropping the connection.
  const refusals = outcomes.filter((o) => !o.activationId && !o.hung && !o.dropped);
  for (const o of refusals) {
    expect(o.status, JSON.stringify(o)).toBeGreaterThanOrEqual(400);
    expect(o.reason, JSON.stringify(o)).toBeTruthy();
  }
  expect(outcomes.filter((o) => o.hung), 'requests past their deadline').toEqual([]);
  expect(outcomes.filter((o) => o.dropped), 'dropped connections').toEqual([]);
  expect(missing, 'activation ids without a record').toEqual([]);
  expect(recoverySeconds).toBeLessThanOrEqual(30);
  return f;
}

afterAll(() => {
  if (all.length > 0) {
    const rows = all.map((f) => `| ${f.scenario} | ${f.sent} | ${f.accepted} | ${f.failedFast} | ${f.dropped} | ${f.hung} | ${f.lost} | ${f.recoverySeconds} |`);
    process.stdout.write(`\n| scenario | sent | accepted | failed fast | no connection | hung | lost | recovery s |\n|---|---|---|---|---|---|---|---|\n${rows.join('\n')}\n`);
  }
});

describe.skipIf(!dockerUp)('distributed tier under faults', () => {
  let d: Distributed;
  const target = (): Target => d;

  beforeAll(async () => {
    d = await startDistributed({
      controllers: 2,
      invokers: 2,
      prefix: `flt${randomBytes(3).toString('hex')}_`,
      controllerPorts: [28101, 28102],
      env: {
        // Bounded load well under the throttles, and lost acks forced in 20 s rather than 3 minutes.
        WHIRL_INVOCATIONS_PER_MINUTE: '100000',
        WHIRL_CONCURRENT_INVOCATIONS: '1000',
        WHIRL_ACK_TIMEOUT_MS: '20000',
        WHIRL_USER_MEMORY_MB: '1024',
      },
    });
    const put = await call(d, 'PUT', '/api/v1/namespaces/_/actions/steady?overwrite=true', {
      exec: { kind: 'nodejs:20', code: 'function main(p) { return new Promise((r) => setTimeout(() => r({ ok: true }), 200)); }' },
      limits: { memory: 128, timeout: 10_000 },
    });
    expect(put.status).toBe(200);
    // Long enough that a dozen are in flight at any moment: some are always caught by a kill.
    const slow = await call(d, 'PUT', '/api/v1/namespaces/_/actions/slow?overwrite=true', {
      exec: { kind: 'nodejs:20', code: 'function main(p) { return new Promise((r) => setTimeout(() => r({ ok: true }), 3000)); }' },
      limits: { memory: 128, timeout: 10_000 },
    });
    expect(slow.status).toBe(200);
    expect(await recovery(target, 'steady')).toBeLessThan(120);
  }, 600_000);
  afterAll(async () => {
    await d?.stop();
    // This run's containers only, should a stop have left any.
    const list = await docker.listContainers({ all: true });
    for (const c of list.filter((c) => (c.Labels['whirl.owner'] ?? '').startsWith(d?.prefix ?? '\0'))) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }, 300_000);

  /** Load of `action` for the outage and 12 s more, with `fault` run 2 s in; `restore` is timed for the recovery figure. */
  async function scenario(name: string, fault: () => Promise<void>, restore: () => Promise<void>, outageMs: number, action = 'steady'): Promise<void> {
    const intervalMs = 250;
    const count = Math.ceil((outageMs + 12_000) / intervalMs);
    const load = steadyLoad(target, action, count, intervalMs);
    await new Promise((r) => setTimeout(r, 2_000));
    await fault();
    await new Promise((r) => setTimeout(r, outageMs));
    await restore();
    const recoverySeconds = await recovery(target, 'steady');
    const outcomes = await load;
    const ids = outcomes.flatMap((o) => (o.activationId ? [o.activationId] : []));
    const missing = await unreadable(target, ids, 90_000);
    judge(name, outcomes, missing, recoverySeconds);
    // How many of those records the ledger wrote (its reason names the overdue record).
    let byLedger = 0;
    for (const id of ids) {
      const r = await call(d, 'GET', `/api/v1/namespaces/_/activations/${id}`);
      if (/before it was overdue/.test(JSON.stringify(r.body))) byLedger++;
    }
    process.stdout.write(`${JSON.stringify({ fault: { scenario: name, recordedByLedger: byLedger } })}\n`);
  }

  it('an invoker SIGKILLed and restarted', async () => {
    await scenario('invoker SIGKILL', () => d.stopInvoker(0, 'SIGKILL'), () => d.startInvoker(0), 0);
  });

  it('a controller SIGKILLed and restarted (nginx fails over)', async () => {
    await scenario('controller SIGKILL', () => d.stopController(0, 'SIGKILL'), () => d.startController(0), 0);
  });

  it('a controller and an invoker SIGKILLed together (the ledger records what they held), and restarted', async () => {
    // Activations accepted by controller 0 and running on invoker 0 when both die: no forced
    // completion will come from controller 0, and invoker 0 does not run them again (it had taken
    // them from its topic); controller 1's ledger of the invoker topics is what records them. The
    // 3 s action keeps both invokers busy, so some are always in flight on invoker 0.
    await scenario(
      'controller + invoker SIGKILL',
      () => Promise.all([d.stopController(0, 'SIGKILL'), d.stopInvoker(0, 'SIGKILL')]).then(() => undefined),
      () => Promise.all([d.startController(0), d.startInvoker(0)]).then(() => undefined),
      0,
      'slow',
    );
  });

  it('Kafka stopped for 30 s', async () => {
    await scenario('Kafka down 30 s', () => service('kafka', 'stop'), () => service('kafka', 'start'), OUTAGE_MS);
  });

  it('the CouchDB-API server stopped for 30 s', async () => {
    await scenario('CouchDB down 30 s', () => service('couchdb', 'stop'), () => service('couchdb', 'start'), OUTAGE_MS);
  });
});

describe.skipIf(!dockerUp)('standalone under faults', () => {
  let s: RunningStandalone;
  let dataDir: string;
  const target = (): Target => s;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'whirl-faults-'));
    s = await startStandalone({ dataDir, env: { WHIRL_CONTAINERS: 'docker', WHIRL_INVOCATIONS_PER_MINUTE: '100000', WHIRL_CONCURRENT_INVOCATIONS: '1000' } });
    const put = await call(s, 'PUT', '/api/v1/namespaces/_/actions/steady', {
      exec: { kind: 'nodejs:20', code: 'function main(p) { return new Promise((r) => setTimeout(() => r({ ok: true }), 200)); }' },
      limits: { memory: 128, timeout: 10_000 },
    });
    expect(put.status).toBe(200);
  }, 300_000);
  afterAll(async () => {
    await s?.stop({ keepData: true });
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  it('SIGKILLed mid-load and restarted on the same data dir', async () => {
    const intervalMs = 250;
    // Clients keep sending to the address they know; while the process is gone they are refused.
    let current: Target = s;
    const load = steadyLoad(() => current, 'steady', 40, intervalMs);
    await new Promise((r) => setTimeout(r, 3_000));
    const exited = new Promise((r) => s.child.once('exit', r));
    s.child.kill('SIGKILL');
    await exited;
    s = await startStandalone({ dataDir, env: { WHIRL_CONTAINERS: 'docker', WHIRL_INVOCATIONS_PER_MINUTE: '100000', WHIRL_CONCURRENT_INVOCATIONS: '1000' } });
    current = s;
    const recoverySeconds = await recovery(target, 'steady');
    const outcomes = await load;
    const ids = outcomes.flatMap((o) => (o.activationId ? [o.activationId] : []));
    const missing = await unreadable(target, ids, 60_000);
    // Requests in flight when the process died have their connections cut: that is the kill, not a
    // hang. Every id that was handed out must still read back.
    const f = figures('standalone SIGKILL', outcomes, missing.length, recoverySeconds);
    all.push(f);
    process.stdout.write(`${JSON.stringify({ fault: f })}\n`);
    expect(outcomes.filter((o) => o.hung)).toEqual([]);
    expect(missing).toEqual([]);
    expect(recoverySeconds).toBeLessThanOrEqual(30);
  });
});
