import { describe, expect, it } from 'vitest';
import { busBytes, type ActivationMessage, type BusMessage, type BusValue, type MessageBus, type Subscription } from '@whirl/core';
import { ShardingBalancer, javaHash, probeOrder, stepSizes, type PingMessage } from './sharding.js';

/** A recording bus: the balancer's decisions are pure logic; the real buses have their own suites. */
class RecordingBus implements MessageBus {
  published: { topic: string; value: Buffer }[] = [];
  handlers = new Map<string, (m: BusMessage) => Promise<void>>();
  async ensureTopics(): Promise<void> {}
  async publish(topic: string, value: BusValue): Promise<void> {
    this.published.push({ topic, value: busBytes(value) });
  }
  async subscribe(topic: string, _group: string, handler: (m: BusMessage) => Promise<void>): Promise<Subscription> {
    this.handlers.set(topic, handler);
    return { close: async () => {} };
  }
  async close(): Promise<void> {}
  async ping(instance: number, userMemory = '1024 MB', isEnabled = true, pool?: unknown): Promise<void> {
    const p = { name: { instance, userMemory, instanceType: 'invoker' }, isEnabled, ...(pool !== undefined ? { pool } : {}) } as PingMessage;
    await this.handlers.get('health')!({ topic: 'health', value: Buffer.from(JSON.stringify(p)) });
  }
}

const msg = (id: string, name = 'hello'): ActivationMessage => ({
  v: 1,
  transid: 't',
  activationId: id,
  received: 0,
  deadline: 0,
  controller: '0',
  blocking: false,
  user: { subject: 'guest', namespace: 'guest', uuid: 'u', apiKey: 'k' },
  action: { docId: `guest/${name}`, rev: '1', path: 'guest', name, version: '0.0.1' },
  content: {},
  initArgs: [],
});
const opts = { memoryMB: 256, timeoutMs: 60_000, blackbox: false };

describe('sharding balancer', () => {
  it('computes Java hashes and co-prime step sizes as OpenWhisk does', () => {
    expect(javaHash('hello')).toBe(99162322);
    expect(javaHash('')).toBe(0);
    expect(javaHash('Aa')).toBe(javaHash('BB'));
    expect(stepSizes(10)).toEqual([1, 3, 7]);
    expect(stepSizes(4)).toEqual([1, 3]);
    const order = probeOrder('guest', 'guest/hello', 5);
    expect(new Set(order).size).toBe(5);
  });

  it("keeps each invoker's pool as its last ping reported it, and ignores a malformed report", async () => {
    const bus = new RecordingBus();
    const lb = new ShardingBalancer(bus, { controllerId: '0', controllers: 1 });
    await lb.start();
    const pool = { warm: 2, paused: 1, stemCells: 2, busy: 1, usedMB: 512, budgetMB: 2048, queued: 0 };
    await bus.ping(0, '2048 MB', true, pool);
    await bus.ping(1, '2048 MB', true);
    expect(lb.poolReports()).toEqual([{ invoker: 0, pool }]);
    await bus.ping(0, '2048 MB', true, { ...pool, warm: 3 });
    await bus.ping(0, '2048 MB', true, { ...pool, warm: 'many' });
    expect(lb.poolReports()).toEqual([{ invoker: 0, pool: { ...pool, warm: 3 } }]);
    // An invoker that says it is going away is down, and its pool is no longer shown.
    await bus.ping(0, '2048 MB', false, pool);
    expect(lb.poolReports()).toEqual([]);
    await lb.stop();
  });

  it('answers 503 when no invoker is healthy', async () => {
    const bus = new RecordingBus();
    const lb = new ShardingBalancer(bus, { controllerId: '0', controllers: 1 });
    await lb.start();
    await expect(lb.publish(msg('a'), opts)).rejects.toThrow('No invokers available.');
    await lb.stop();
  });

  it('sends an action to its home invoker while it has room, then to the next in the probe order', async () => {
    const bus = new RecordingBus();
    const lb = new ShardingBalancer(bus, { controllerId: '0', controllers: 1 });
    await lb.start();
    for (const i of [0, 1, 2]) await bus.ping(i, '512 MB');
    expect(lb.invokerStates()).toEqual({ invoker0: 'up', invoker1: 'up', invoker2: 'up' });
    const order = probeOrder('guest', 'guest/hello', 3);
    await lb.publish(msg('a1'), opts);
    await lb.publish(msg('a2'), opts);
    await lb.publish(msg('a3'), opts);
    const topics = bus.published.map((p) => p.topic);
    expect(topics).toEqual([`invoker${order[0]}`, `invoker${order[0]}`, `invoker${order[1]}`]);
    lb.release('a1');
    await lb.publish(msg('a4'), opts);
    expect(bus.published.at(-1)!.topic).toBe(`invoker${order[0]}`);
    expect(lb.inFlight('guest')).toBe(3);
    await lb.stop();
  });

  it('marks an invoker down after silence and skips it; system errors make it unhealthy', async () => {
    let now = 1_000_000;
    const bus = new RecordingBus();
    const lb = new ShardingBalancer(bus, { controllerId: '0', controllers: 2, now: () => now, offlineAfterMs: 10_000 });
    await lb.start();
    await bus.ping(0);
    await bus.ping(1);
    now += 5_000;
    await bus.ping(1);
    now += 6_000;
    (lb as unknown as { tick(): void }).tick();
    expect(lb.invokerStates()).toEqual({ invoker0: 'down', invoker1: 'up' });
    for (let i = 0; i < 4; i++) {
      await lb.publish(msg(`e${i}`), opts);
      expect(bus.published.at(-1)!.topic).toBe('invoker1');
      lb.release(`e${i}`, true);
    }
    expect(lb.invokerStates().invoker1).toBe('unhealthy');
    await expect(lb.publish(msg('x'), opts)).rejects.toThrow('No invokers available.');
    await lb.stop();
  });

  it('sends blackbox actions to the blackbox tenth of the invokers', async () => {
    const bus = new RecordingBus();
    const lb = new ShardingBalancer(bus, { controllerId: '0', controllers: 1 });
    await lb.start();
    for (let i = 0; i < 10; i++) await bus.ping(i, '4096 MB');
    await lb.publish(msg('b'), { ...opts, blackbox: true });
    expect(bus.published.at(-1)!.topic).toBe('invoker9');
    await lb.stop();
  });
});
