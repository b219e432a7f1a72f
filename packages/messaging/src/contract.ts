/** Conformance suite every MessageBus adapter must pass (in-process now, Kafka later). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BusMessage, MessageBus } from '@whirl/core';

export interface BusHarness {
  bus: MessageBus;
  cleanup(): Promise<void>;
  /**
   * Kafka's delivery is at-least-once: when a group rebalances (a member joins or leaves) a message
   * handled by the old owner but not yet committed is handed to the new owner again. Such adapters
   * set this, and the one case that races a rebalance against delivery then accepts a few
   * duplicates (still every message, none lost). Everything else holds exactly as for the local bus.
   */
  redeliversOnRebalance?: boolean;
}

/** Polls rather than sleeping a fixed time, so fast adapters finish fast and slow ones get time. */
async function eventually(check: () => void, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

const settle = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

function collector(): { seen: string[]; handler: (m: BusMessage) => Promise<void> } {
  const seen: string[] = [];
  return { seen, handler: async (m) => void seen.push(m.value.toString()) };
}

const range = (n: number, prefix = 'm'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

export function describeMessageBusContract(name: string, make: () => Promise<BusHarness>): void {
  describe(`MessageBus contract: ${name}`, () => {
    let h: BusHarness;
    let bus: MessageBus;
    beforeEach(async () => {
      h = await make();
      bus = h.bus;
      await bus.ensureTopics(['t']);
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('delivers in publish order with topic and value', async () => {
      const got: BusMessage[] = [];
      await bus.subscribe('t', 'g', async (m) => void got.push(m));
      for (const v of range(20)) await bus.publish('t', v);
      await bus.publish('t', Buffer.from([1, 2, 3]));
      await eventually(() => expect(got).toHaveLength(21));
      expect(got.slice(0, 20).map((m) => m.value.toString())).toEqual(range(20));
      expect(got[20]!.topic).toBe('t');
      expect([...got[20]!.value]).toEqual([1, 2, 3]);
    });

    it('delivers a published object as that object or as its JSON, and its bytes are always JSON', async () => {
      const got: BusMessage[] = [];
      await bus.subscribe('t', 'g', async (m) => void got.push(m));
      const sent = { v: 1, activationId: 'a1', content: { n: 1, s: 'ü' } };
      await bus.publish('t', { object: sent });
      await eventually(() => expect(got).toHaveLength(1));
      const m = got[0]!;
      // In one process the receiver gets the object itself (no JSON round trip); across processes a copy.
      if (m.object !== undefined) expect(m.object).toBe(sent);
      expect(JSON.parse(m.value.toString('utf8'))).toEqual(sent);
    });

    it('runs a subscription handler one message at a time', async () => {
      let active = 0;
      let maxActive = 0;
      const seen: string[] = [];
      await bus.subscribe('t', 'g', async (m) => {
        active++;
        maxActive = Math.max(maxActive, active);
        await settle(Math.random() * 3);
        seen.push(m.value.toString());
        active--;
      });
      for (const v of range(30)) await bus.publish('t', v);
      await eventually(() => expect(seen).toHaveLength(30));
      expect(seen).toEqual(range(30));
      expect(maxActive).toBe(1);
    });

    it('gives every group every message', async () => {
      const a = collector();
      const b = collector();
      await bus.subscribe('t', 'ga', a.handler);
      await bus.subscribe('t', 'gb', b.handler);
      for (const v of range(50)) await bus.publish('t', v);
      await eventually(() => {
        expect(a.seen).toEqual(range(50));
        expect(b.seen).toEqual(range(50));
      });
    });

    it('gives each message to exactly one subscriber of a group', async () => {
      const a = collector();
      const b = collector();
      await bus.subscribe('t', 'g', a.handler);
      await bus.subscribe('t', 'g', b.handler);
      for (const v of range(100)) await bus.publish('t', v);
      if (h.redeliversOnRebalance) {
        await eventually(() => expect(new Set([...a.seen, ...b.seen]).size).toBe(100));
        await settle();
        expect([...new Set([...a.seen, ...b.seen])].sort()).toEqual(range(100).sort());
        expect(a.seen.length + b.seen.length - 100).toBeLessThanOrEqual(10);
        return;
      }
      await eventually(() => expect(a.seen.length + b.seen.length).toBe(100));
      await settle();
      expect([...a.seen, ...b.seen].sort()).toEqual(range(100).sort());
    });

    it('keeps topics apart', async () => {
      await bus.ensureTopics(['u']);
      const t = collector();
      const u = collector();
      await bus.subscribe('t', 'g', t.handler);
      await bus.subscribe('u', 'g', u.handler);
      await bus.publish('t', 'for-t');
      await bus.publish('u', 'for-u');
      await eventually(() => expect([t.seen, u.seen]).toEqual([['for-t'], ['for-u']]));
    });

    it('delivers what an existing group missed once it subscribes again', async () => {
      const first = collector();
      const sub = await bus.subscribe('t', 'g', first.handler);
      await bus.publish('t', 'before');
      await eventually(() => expect(first.seen).toEqual(['before']));
      await sub.close();
      for (const v of range(5, 'missed')) await bus.publish('t', v);
      const second = collector();
      await bus.subscribe('t', 'g', second.handler);
      await bus.publish('t', 'after');
      await eventually(() => expect(second.seen).toEqual([...range(5, 'missed'), 'after']));
      expect(first.seen).toEqual(['before']);
    });

    it('does not deliver messages from before a new group existed', async () => {
      await bus.publish('t', 'early');
      const c = collector();
      await bus.subscribe('t', 'fresh', c.handler);
      await bus.publish('t', 'late');
      await eventually(() => expect(c.seen).toEqual(['late']));
      await settle();
      expect(c.seen).toEqual(['late']);
    });

    it('keeps delivering after a handler throws', async () => {
      const seen: string[] = [];
      await bus.subscribe('t', 'g', async (m) => {
        const v = m.value.toString();
        if (v === 'bad') throw new Error('handler failure (expected by the test)');
        seen.push(v);
      });
      await bus.publish('t', 'one');
      await bus.publish('t', 'bad');
      await bus.publish('t', 'two');
      await eventually(() => expect(seen).toEqual(['one', 'two']));
    });

    it('waits for the in-flight handler when a subscription closes', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let started = false;
      let finished = false;
      const seen: string[] = [];
      const sub = await bus.subscribe('t', 'g', async (m) => {
        seen.push(m.value.toString());
        started = true;
        await gate;
        finished = true;
      });
      await bus.publish('t', 'slow');
      await bus.publish('t', 'queued');
      await eventually(() => expect(started).toBe(true));
      let closed = false;
      const closing = sub.close().then(() => (closed = true));
      await settle();
      expect(closed).toBe(false);
      release();
      await closing;
      expect(finished).toBe(true);
      await settle();
      expect(seen).toEqual(['slow']);
    });

    it('runs up to maxInFlight handlers at once, started in publish order', async () => {
      let active = 0;
      let maxActive = 0;
      const started: string[] = [];
      const gates: (() => void)[] = [];
      await bus.subscribe(
        't',
        'g',
        async (m) => {
          started.push(m.value.toString());
          active++;
          maxActive = Math.max(maxActive, active);
          await new Promise<void>((r) => gates.push(r));
          active--;
        },
        { maxInFlight: 4 },
      );
      for (const v of range(10)) await bus.publish('t', v);
      // Four start without any of them resolving; the fifth waits for a free slot.
      await eventually(() => expect(started).toEqual(range(4)));
      await settle(300);
      expect(started).toHaveLength(4);
      // Resolving out of order frees slots just the same.
      gates.splice(2, 1)[0]!();
      await eventually(() => expect(started).toHaveLength(5));
      for (;;) {
        if (started.length === 10 && active === 0) break;
        gates.shift()?.();
        await settle(5);
      }
      expect(started).toEqual(range(10));
      expect(maxActive).toBe(4);
    });

    it('hands a concurrent subscription\'s unresolved messages to the group\'s next subscriber after a close', async () => {
      const first: string[] = [];
      const sub = await bus.subscribe(
        't',
        'g',
        async (m) => {
          const v = m.value.toString();
          first.push(v);
          // m1 never resolves: its handler is still running when the subscription closes.
          if (v === 'm1') await new Promise(() => undefined);
        },
        { maxInFlight: 8 },
      );
      for (const v of range(3)) await bus.publish('t', v);
      await eventually(() => expect(first).toEqual(range(3)));
      await settle(h.redeliversOnRebalance ? 1_500 : 50);
      // Close does not wait for m1's handler.
      await sub.close();
      const second = collector();
      await bus.subscribe('t', 'g', second.handler, { maxInFlight: 8 });
      await bus.publish('t', 'm3');
      await eventually(() => expect(second.seen).toContain('m3'));
      // m1 comes again (Kafka: from m1 on, its one-offset position); m0, resolved before it, does not.
      expect(second.seen).toContain('m1');
      expect(second.seen).not.toContain('m0');
    });

    it('delivers 10 000 messages, all in order', async () => {
      const n = 10_000;
      let count = 0;
      let inOrder = true;
      await bus.subscribe('t', 'g', async (m) => {
        if (m.value.toString() !== String(count)) inOrder = false;
        count++;
      });
      const other = collector();
      await bus.subscribe('t', 'g2', other.handler);
      await Promise.all(Array.from({ length: n }, (_, i) => bus.publish('t', String(i))));
      await eventually(() => expect(count).toBe(n), 30_000);
      await eventually(() => expect(other.seen).toHaveLength(n), 30_000);
      expect(inOrder).toBe(true);
    });
  });
}
