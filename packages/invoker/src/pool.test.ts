/**
 * Placement decisions of the container pool, with a fake factory (pure logic: no container runs).
 * Docker itself is covered by the factory tests and the end-to-end tests.
 */
import { describe, expect, it } from 'vitest';
import type { Container, ContainerFactory, ContainerSpec, LogLine } from '@whirl/core';
import { ContainerPool, type PoolJob, type PooledContainer } from './pool.js';
import { LogBuffer, SENTINEL } from './logs.js';
import type { KeepAliveDecision, KeepAlivePolicy, PolicySnapshot } from './keepalive.js';

class FakeContainer implements Container {
  readonly host = '127.0.0.1';
  readonly port = 1;
  paused = false;
  destroyed = false;
  private listeners: ((l: LogLine) => void)[] = [];
  constructor(
    readonly id: string,
    readonly name: string,
  ) {}
  onLog(l: (line: LogLine) => void): void {
    this.listeners.push(l);
  }
  emit(stream: 'stdout' | 'stderr', text: string): void {
    for (const l of this.listeners) l({ time: Date.now(), stream, text });
  }
  async pause(): Promise<void> {
    this.paused = true;
  }
  async resume(): Promise<void> {
    this.paused = false;
  }
  async destroy(): Promise<void> {
    this.destroyed = true;
  }
  async wasOomKilled(): Promise<boolean> {
    return false;
  }
  async isAlive(): Promise<boolean> {
    return !this.destroyed;
  }
}

class FakeFactory implements ContainerFactory {
  readonly kind = 'process' as const;
  readonly isolated = false;
  created: FakeContainer[] = [];
  async hasImage(): Promise<boolean> {
    return true;
  }
  async create(spec: ContainerSpec): Promise<Container> {
    const c = new FakeContainer(String(this.created.length), spec.name);
    this.created.push(c);
    return c;
  }
  async removeAll(): Promise<number> {
    return 0;
  }
  async close(): Promise<void> {}
}

const quiet = { info: () => {}, warn: () => {} };
const tick = () => new Promise((r) => setTimeout(r, 5));

function pool(factory: FakeFactory, over: Partial<ConstructorParameters<typeof ContainerPool>[1]> = {}): ContainerPool {
  return new ContainerPool(factory, {
    invokerId: 't',
    owner: 'test/invoker-t',
    userMemoryMB: 512,
    pauseGraceMs: 50,
    idleTimeoutMs: 60_000,
    stemCells: [],
    env: {},
    log: quiet,
    ...over,
  });
}

/** A job whose run is held open until `finish()` is called. */
function job(warmKey: string, memoryMB = 256, kind = 'nodejs:20', maxConcurrency = 1) {
  let release: (keep: boolean) => void = () => {};
  const ran: { c?: PooledContainer; how?: string; failed?: unknown } = {};
  const j: PoolJob = {
    warmKey,
    maxConcurrency,
    kind,
    image: 'img',
    memoryMB,
    label: warmKey,
    run: (c, how) =>
      new Promise((resolve) => {
        ran.c = c;
        ran.how = how;
        release = (keep) => resolve({ keep });
      }),
    fail: async (err) => {
      ran.failed = err;
    },
  };
  return { j, ran, finish: (keep = true) => release(keep) };
}

describe('container pool placement', () => {
  it('reuses a warm container for the same action revision and namespace', async () => {
    const f = new FakeFactory();
    const p = pool(f);
    const a = job('ns|a@1');
    p.submit(a.j);
    await tick();
    expect(a.ran.how).toBe('cold');
    a.finish();
    await tick();
    const b = job('ns|a@1');
    p.submit(b.j);
    await tick();
    expect(b.ran.how).toBe('warm');
    expect(b.ran.c).toBe(a.ran.c);
    const other = job('ns|a@2');
    p.submit(other.j);
    await tick();
    expect(other.ran.how).toBe('cold');
    expect(f.created).toHaveLength(2);
    await p.close(10);
  });

  it('takes a stem cell of the same kind and memory, then refills it once the activation answered', async () => {
    const f = new FakeFactory();
    const p = pool(f, { stemCells: [{ kind: 'nodejs:20', image: 'img', memoryMB: 256, count: 1 }] });
    p.prewarm();
    await tick();
    expect(p.stats().prewarmed).toBe(1);
    const wrongSize = job('ns|x@1', 128);
    p.submit(wrongSize.j);
    await tick();
    expect(wrongSize.ran.how).toBe('cold');
    const a = job('ns|a@1', 256);
    p.submit(a.j);
    await tick();
    expect(a.ran.how).toBe('prewarm');
    // The refill waits for the taken cell's answer, so that it does not compete with its /init and /run.
    expect(p.stats().prewarmed).toBe(0);
    a.finish();
    await until('refilled', () => p.stats().prewarmed === 1);
    await p.close(10);
  });

  it('buffers jobs in FIFO order when memory is full and evicts idle containers LRU first', async () => {
    const f = new FakeFactory();
    const p = pool(f, { userMemoryMB: 512 });
    const a = job('ns|a@1');
    const b = job('ns|b@1');
    p.submit(a.j);
    p.submit(b.j);
    await tick();
    const c = job('ns|c@1');
    const d = job('ns|d@1', 128);
    p.submit(c.j);
    p.submit(d.j);
    await tick();
    expect(c.ran.how).toBeUndefined();
    expect(d.ran.how).toBeUndefined(); // strictly behind c, although it would fit... it does not
    expect(p.stats().buffered).toBe(2);
    a.finish();
    await tick();
    // a's idle container is evicted for c (LRU), then d waits for room again.
    expect(c.ran.how).toBe('cold');
    expect(f.created[0]!.destroyed).toBe(true);
    b.finish();
    await tick();
    expect(d.ran.how).toBe('cold');
    await p.close(10);
  });

  it('destroys a container whose activation failed instead of reusing it', async () => {
    const f = new FakeFactory();
    const p = pool(f);
    const a = job('ns|a@1');
    p.submit(a.j);
    await tick();
    a.finish(false);
    await tick();
    expect(f.created[0]!.destroyed).toBe(true);
    const b = job('ns|a@1');
    p.submit(b.j);
    await tick();
    expect(b.ran.how).toBe('cold');
    await p.close(10);
  });

  it('pauses idle containers after the grace period and resumes them for the next job', async () => {
    const f = new FakeFactory();
    const p = pool(f, { pauseGraceMs: 20 });
    const a = job('ns|a@1');
    p.submit(a.j);
    await tick();
    a.finish();
    await new Promise((r) => setTimeout(r, 60));
    expect(f.created[0]!.paused).toBe(true);
    expect(p.stats().paused).toBe(1);
    const b = job('ns|a@1');
    p.submit(b.j);
    await tick();
    expect(b.ran.how).toBe('warm');
    expect(f.created[0]!.paused).toBe(false);
    await p.close(10);
  });

  it('shares one container among concurrent activations up to the action concurrency', async () => {
    const f = new FakeFactory();
    const p = pool(f, { userMemoryMB: 256 });
    const jobs = [0, 1, 2, 3].map(() => job('ns|c@1', 256, 'nodejs:20', 3));
    for (const j of jobs) p.submit(j.j);
    await tick();
    expect(f.created).toHaveLength(1);
    expect(jobs.slice(0, 3).every((j) => j.ran.c === jobs[0]!.ran.c)).toBe(true);
    expect(jobs[3]!.ran.c).toBeUndefined(); // a fourth waits: no slot and no memory for a second container
    jobs[1]!.finish();
    await tick();
    expect(jobs[3]!.ran.c).toBe(jobs[0]!.ran.c);
    // A failure dooms the container, but the others in it finish first.
    jobs[0]!.finish(false);
    await tick();
    expect(f.created[0]!.destroyed).toBe(false);
    jobs[2]!.finish();
    jobs[3]!.finish();
    await tick();
    expect(f.created[0]!.destroyed).toBe(true);
    await p.close(10);
  });

  it('fails queued jobs when it closes', async () => {
    const f = new FakeFactory();
    const p = pool(f, { userMemoryMB: 256 });
    const a = job('ns|a@1');
    const b = job('ns|b@1');
    p.submit(a.j);
    p.submit(b.j);
    await tick();
    expect(p.stats().buffered).toBe(1);
    await p.close(10);
    expect(String(b.ran.failed)).toMatch(/shut down/);
  });
});

describe('log collection', () => {
  it('stops at a sentinel on each stream and drops leftovers before the next activation', async () => {
    const c = new FakeContainer('1', 'c');
    const buf = new LogBuffer(c);
    c.emit('stdout', 'one');
    c.emit('stdout', SENTINEL);
    c.emit('stderr', 'two');
    c.emit('stderr', SENTINEL);
    c.emit('stdout', 'late');
    const got = await buf.collect({ limitBytes: 1000, idleMs: 100, maxMs: 1000, waitForSentinels: true });
    expect(got.complete).toBe(true);
    expect(got.lines.map((l) => l.slice(31))).toEqual(['stdout: one', 'stderr: two']);
    // The next activation starts from its own mark: 'late' is not in its logs.
    const from = buf.mark();
    c.emit('stdout', 'next');
    c.emit('stdout', SENTINEL);
    c.emit('stderr', SENTINEL);
    const next = await buf.collect({ from, limitBytes: 1000, idleMs: 100, maxMs: 1000, waitForSentinels: true });
    expect(next.lines.map((l) => l.slice(31))).toEqual(['stdout: next']);
  });

  it('separates the tagged lines of concurrent activations', async () => {
    const c = new FakeContainer('1', 'c');
    const buf = new LogBuffer(c);
    const a = 'a'.repeat(32);
    const b = 'b'.repeat(32);
    const fromA = buf.mark();
    const fromB = buf.mark();
    const tag = (id: string, t: string) => `\x1e${id}\x1f${t}`;
    c.emit('stdout', tag(a, 'a1'));
    c.emit('stdout', tag(b, 'b1'));
    c.emit('stdout', 'untagged');
    c.emit('stdout', tag(b, SENTINEL));
    c.emit('stderr', tag(b, SENTINEL));
    c.emit('stderr', tag(a, 'a2'));
    c.emit('stdout', tag(a, SENTINEL));
    c.emit('stderr', tag(a, SENTINEL));
    const [la, lb] = await Promise.all([
      buf.collect({ from: fromA, activationId: a, limitBytes: 1000, idleMs: 100, maxMs: 1000, waitForSentinels: true }),
      buf.collect({ from: fromB, activationId: b, limitBytes: 1000, idleMs: 100, maxMs: 1000, waitForSentinels: true }),
    ]);
    expect(la.lines.map((l) => l.slice(31))).toEqual(['stdout: a1', 'stderr: a2']);
    expect(lb.lines.map((l) => l.slice(31))).toEqual(['stdout: b1']);
  });

  it('gives up after the idle time and says so', async () => {
    const c = new FakeContainer('1', 'c');
    const buf = new LogBuffer(c);
    c.emit('stdout', 'only stdout');
    c.emit('stdout', SENTINEL);
    const got = await buf.collect({ limitBytes: 1000, idleMs: 30, maxMs: 1000, waitForSentinels: true });
    expect(got.complete).toBe(false);
    expect(got.lines.at(-1)).toMatch(/There was an issue while collecting your logs. Data might be missing.$/);
  });

  it('truncates at the byte limit with the OpenWhisk notice', async () => {
    const c = new FakeContainer('1', 'c');
    const buf = new LogBuffer(c);
    for (let i = 0; i < 5; i++) c.emit('stdout', '0123456789');
    c.emit('stdout', SENTINEL);
    c.emit('stderr', SENTINEL);
    const got = await buf.collect({ limitBytes: 25, idleMs: 100, maxMs: 1000, waitForSentinels: true });
    expect(got.truncated).toBe(true);
    expect(got.lines).toHaveLength(3);
    expect(got.lines[2]).toMatch(/stderr: Logs were truncated because the total bytes size exceeds the limit of 25 bytes.$/);
  });
});

/** A policy that answers every end with the same decision, and records what it saw. */
class ScriptedPolicy implements KeepAlivePolicy {
  readonly name = 'hybrid' as const;
  arrivals: string[] = [];
  constructor(public decision: KeepAliveDecision) {}
  arrived(action: string): void {
    this.arrivals.push(action);
  }
  ended(): KeepAliveDecision {
    return this.decision;
  }
  snapshot(): PolicySnapshot {
    return { policy: 'hybrid', actions: [] };
  }
  exportState(): undefined {
    return undefined;
  }
  importState(): number {
    return 0;
  }
}

async function until(what: string, cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await tick();
  }
}

/** A job that runs to completion at once and can load its action ahead (prepare). */
function quickJob(warmKey: string, memoryMB = 256) {
  const ran: { c?: PooledContainer; how?: string }[] = [];
  const prepared: PooledContainer[] = [];
  const j: PoolJob = {
    warmKey,
    maxConcurrency: 1,
    kind: 'nodejs:20',
    image: 'img',
    memoryMB,
    label: warmKey,
    run: async (c, how) => {
      ran.push({ c, how: c.initialized ? 'warm' : how });
      return { keep: true };
    },
    fail: async () => {},
    prepare: async (c) => {
      prepared.push(c);
      return true;
    },
  };
  return { j, ran, prepared };
}

describe('container pool keep-alive policy', () => {
  it('removes an idle container after the keep-alive window the policy chose', async () => {
    const f = new FakeFactory();
    const policy = new ScriptedPolicy({ keepAliveMs: 30, surplusKeepAliveMs: 30, rule: 'histogram' });
    const p = pool(f, { keepAlive: policy, idleTimeoutMs: 60_000 });
    const a = quickJob('ns|a@1');
    p.submit(a.j);
    await until('the container removed', () => f.created[0]?.destroyed === true);
    expect(policy.arrivals).toEqual(['ns|a@1']);
    expect(p.stats().containers).toBe(0);
    await p.close();
  });

  it('unloads after the call, loads the action again before the next call, and serves it warm', async () => {
    const f = new FakeFactory();
    const p = pool(f, { keepAlive: new ScriptedPolicy({ prewarmAfterMs: 40, keepAliveMs: 60_000, surplusKeepAliveMs: 0, rule: 'histogram' }) });
    const a = quickJob('ns|a@1');
    p.submit(a.j);
    await until('the first container removed', () => f.created[0]?.destroyed === true);
    await until('a container loaded ahead', () => a.prepared.length === 1 && p.stats().warming === 0 && p.stats().containers === 1);
    expect(a.prepared[0]!.initialized).toBe(true);
    expect(a.prepared[0]!.warmKey).toBe('ns|a@1');
    p.submit(a.j);
    await until('the second call ran', () => a.ran.length === 2);
    expect(a.ran[1]!.how).toBe('warm');
    expect(a.ran[1]!.c).toBe(a.prepared[0]);
    expect(f.created).toHaveLength(2);
    expect(p.policySnapshot()).toMatchObject({ policy: 'hybrid', stemCells: [] });
    await p.close();
  });

  it('keeps one container per action for the learnt window; surplus ones only their own window', async () => {
    const f = new FakeFactory();
    const p = pool(f, { keepAlive: new ScriptedPolicy({ keepAliveMs: 60_000, surplusKeepAliveMs: 0, rule: 'histogram' }), userMemoryMB: 1024 });
    const a = job('ns|a@1');
    const b = job('ns|a@1');
    p.submit(a.j);
    p.submit(b.j);
    await until('both running', () => a.ran.how !== undefined && b.ran.how !== undefined);
    expect(f.created).toHaveLength(2);
    a.finish();
    await until('a idle', () => p.stats().busy === 1);
    b.finish();
    await until('the surplus container removed', () => f.created.filter((c) => c.destroyed).length === 1);
    expect(p.stats()).toMatchObject({ containers: 1, busy: 0 });
    await p.close();
  });

  it('cancels the load ahead when the next call comes first', async () => {
    const f = new FakeFactory();
    const p = pool(f, { keepAlive: new ScriptedPolicy({ prewarmAfterMs: 200, keepAliveMs: 60_000, surplusKeepAliveMs: 0, rule: 'histogram' }) });
    const a = quickJob('ns|a@1');
    p.submit(a.j);
    await until('the first container removed', () => f.created[0]?.destroyed === true);
    p.submit(a.j);
    await until('the second call ran', () => a.ran.length === 2);
    expect(a.ran[1]!.how).toBe('cold');
    // Its end schedules a new load; the first one (200 ms after the first end) must not have run.
    await new Promise((r) => setTimeout(r, 250));
    expect(a.prepared.length).toBeLessThanOrEqual(1);
    await p.close();
  });

  it('never loads ahead beyond the memory budget', async () => {
    const f = new FakeFactory();
    const p = pool(f, { keepAlive: new ScriptedPolicy({ prewarmAfterMs: 30, keepAliveMs: 60_000, surplusKeepAliveMs: 0, rule: 'histogram' }), userMemoryMB: 256 });
    const a = quickJob('ns|a@1');
    p.submit(a.j);
    await until('the first container removed', () => f.created[0]?.destroyed === true);
    // b takes the whole budget before a's load is due.
    const b = job('ns|b@1');
    p.submit(b.j);
    await until('b running', () => b.ran.how !== undefined);
    await new Promise((r) => setTimeout(r, 100));
    expect(a.prepared).toHaveLength(0);
    expect(p.stats()).toMatchObject({ containers: 1, usedMB: 256 });
    b.finish();
    await p.close();
  });

  it('grows reactive stem cells after cold starts of their kind and keeps initialCount at first', async () => {
    const f = new FakeFactory();
    const p = pool(f, {
      userMemoryMB: 4096,
      stemCells: [{ kind: 'nodejs:20', image: 'img', memoryMB: 256, count: 1, reactive: { minCount: 0, maxCount: 3, ttlMs: 60_000, threshold: 2, increment: 1 } }],
    });
    p.prewarm();
    await until('one stem cell', () => p.stats().prewarmed === 1);
    // Four jobs at once: the first takes the stem cell, the other three start cold.
    const jobs = [job('ns|a@1'), job('ns|b@1'), job('ns|c@1'), job('ns|d@1')];
    for (const j of jobs) p.submit(j.j);
    await until('all four running', () => jobs.every((j) => j.ran.how !== undefined));
    expect(jobs.map((j) => j.ran.how).filter((h) => h === 'cold')).toHaveLength(3);
    // Three cold starts ≥ threshold 2: target 1 (increment × ⌊3/2⌋), at least initialCount (1) in the first ttl.
    await until('stem cells refilled', () => p.stats().prewarmed >= 1);
    expect(p.policySnapshot().stemCells).toEqual([{ kind: 'nodejs:20', memoryMB: 256, target: 1, have: 1 }]);
    const more = [job('ns|e@1'), job('ns|f@1'), job('ns|g@1'), job('ns|h@1')];
    for (const j of more) p.submit(j.j);
    await until('four more running', () => more.every((j) => j.ran.how !== undefined));
    // Now 6 cold starts in the window (3 + 3 after the refilled stem cell was taken): target 3.
    await until('three stem cells', () => p.stats().prewarmed === 3);
    for (const j of [...jobs, ...more]) j.finish();
    await p.close();
  });
});
