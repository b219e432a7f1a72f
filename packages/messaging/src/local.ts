/**
 * In-process MessageBus with Kafka consumer-group semantics, for the single-process deployment and
 * tests. Publishing only appends to queues and schedules a microtask, because it sits on the invoke
 * hot path.
 */
import type { BusMessage, BusValue, MessageBus, SubscribeOptions, Subscription } from '@whirl/core';
import { stderrBusLogger, type BusLogger } from './logger.js';

// Its old home; callers (and local.test.ts) still find it here.
export type { BusLogger };

export interface LocalMessageBusOptions {
  /**
   * Most messages a group with no live subscriber keeps for when one comes back; older ones are
   * dropped (with a warning). Stands in for Kafka's retention so an abandoned group cannot grow
   * without bound.
   */
  maxBacklog?: number;
}

type Handler = (msg: BusMessage) => Promise<void>;

const stderrLogger = stderrBusLogger('messaging');

/** FIFO with amortised O(1) shift: `Array#shift` is O(n) on large backlogs. */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes and returns everything queued. */
  drain(): T[] {
    const out = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return out;
  }
}

class Group {
  readonly subs: LocalSubscription[] = [];
  /** Messages published while the group had no subscriber. */
  readonly backlog = new Fifo<BusMessage>();
  private next = 0;
  /** One warning per overflow episode, not one per dropped message. */
  private overflowing = false;

  constructor(
    readonly topic: string,
    readonly name: string,
    private readonly bus: LocalMessageBus,
  ) {}

  deliver(msg: BusMessage): void {
    const n = this.subs.length;
    if (n === 0) {
      this.backlog.push(msg);
      if (this.backlog.size > this.bus.maxBacklog) {
        this.backlog.shift();
        if (!this.overflowing) this.bus.dropped(this);
        this.overflowing = true;
      }
      return;
    }
    const sub = n === 1 ? this.subs[0]! : this.subs[this.next++ % n]!;
    sub.enqueue(msg);
  }

  add(sub: LocalSubscription): void {
    this.subs.push(sub);
    this.overflowing = false;
    for (let m = this.backlog.shift(); m !== undefined; m = this.backlog.shift()) sub.enqueue(m);
  }

  /** Hands a leaving subscriber's undelivered messages back, as a Kafka rebalance would. */
  remove(sub: LocalSubscription, pending: readonly BusMessage[]): void {
    const i = this.subs.indexOf(sub);
    if (i >= 0) this.subs.splice(i, 1);
    if (this.subs.length === 0) {
      // Ahead of anything already in the backlog, to keep publish order for the next subscriber.
      const rest = this.backlog.drain();
      for (const m of pending) this.backlog.push(m);
      for (const m of rest) this.backlog.push(m);
    } else {
      for (const m of pending) this.deliver(m);
    }
  }
}

class LocalSubscription implements Subscription {
  private readonly queue = new Fifo<BusMessage>();
  private running: Promise<void> | undefined;
  private closed = false;
  /** Messages whose handlers are running (concurrent subscriptions only), handed back on close. */
  private readonly handling = new Set<BusMessage>();
  private slotFreed: (() => void) | undefined;

  constructor(
    private readonly group: Group,
    private readonly handler: Handler,
    private readonly logger: BusLogger,
    private readonly maxInFlight = 1,
  ) {}

  enqueue(msg: BusMessage): void {
    this.queue.push(msg);
    // Deferred so that publish never runs a handler on its own stack.
    if (this.running === undefined) this.running = Promise.resolve().then(() => this.run());
  }

  private async run(): Promise<void> {
    for (let msg = this.nextMessage(); msg !== undefined; msg = this.nextMessage()) {
      if (this.maxInFlight <= 1) {
        await this.handle(msg);
        continue;
      }
      this.handling.add(msg);
      const m = msg;
      void this.handle(m).then(() => {
        this.handling.delete(m);
        const freed = this.slotFreed;
        this.slotFreed = undefined;
        freed?.();
      });
      while (this.handling.size >= this.maxInFlight && !this.closed) await new Promise<void>((r) => (this.slotFreed = r));
    }
    // No await between the empty check and this reset, so an enqueue cannot slip in unnoticed.
    this.running = undefined;
  }

  private async handle(msg: BusMessage): Promise<void> {
    try {
      await this.handler(msg);
    } catch (err) {
      this.logger.warn({ err, topic: this.group.topic, group: this.group.name }, 'message handler failed');
    }
  }

  private nextMessage(): BusMessage | undefined {
    return this.closed ? undefined : this.queue.shift();
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      // Unresolved handlers' messages go back first, ahead of the undelivered ones, in their order.
      const unresolved = [...this.handling];
      this.handling.clear();
      this.group.remove(this, [...unresolved, ...this.queue.drain()]);
      const freed = this.slotFreed;
      this.slotFreed = undefined;
      freed?.();
    }
    await this.running;
  }
}

export class LocalMessageBus implements MessageBus {
  /** @internal */ readonly maxBacklog: number;
  private readonly topics = new Map<string, Map<string, Group>>();
  private readonly subscriptions = new Set<LocalSubscription>();
  private closed = false;
  private readonly logger: BusLogger;

  constructor(logger: BusLogger = stderrLogger, options: LocalMessageBusOptions = {}) {
    this.logger = logger;
    this.maxBacklog = options.maxBacklog ?? 100_000;
  }

  async ensureTopics(topics: readonly string[]): Promise<void> {
    this.assertOpen();
    for (const t of topics) this.topic(t);
  }

  async publish(topic: string, value: BusValue): Promise<void> {
    this.assertOpen();
    const groups = this.topic(topic);
    if (groups.size === 0) return;
    // One message shared by every group: handlers treat message values as read-only.
    const msg: BusMessage = typeof value === 'string' ? { topic, value: Buffer.from(value) } : Buffer.isBuffer(value) ? { topic, value } : objectMessage(topic, value.object);
    for (const g of groups.values()) g.deliver(msg);
  }

  async subscribe(topic: string, group: string, handler: Handler, options: SubscribeOptions = {}): Promise<Subscription> {
    this.assertOpen();
    const groups = this.topic(topic);
    let g = groups.get(group);
    if (!g) {
      g = new Group(topic, group, this);
      groups.set(group, g);
    }
    const sub = new LocalSubscription(g, handler, this.logger, options.maxInFlight);
    this.subscriptions.add(sub);
    g.add(sub);
    return {
      close: async () => {
        this.subscriptions.delete(sub);
        await sub.close();
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const subs = [...this.subscriptions];
    this.subscriptions.clear();
    await Promise.all(subs.map((s) => s.close()));
  }

  /** @internal */
  dropped(group: Group): void {
    this.logger.warn(
      { err: `backlog over ${this.maxBacklog} messages`, topic: group.topic, group: group.name },
      'dropping oldest message of a group with no subscriber',
    );
  }

  private topic(name: string): Map<string, Group> {
    let groups = this.topics.get(name);
    if (!groups) {
      groups = new Map();
      this.topics.set(name, groups);
    }
    return groups;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('message bus is closed');
  }
}

/** A message published as an object: passed on as it is; its bytes are made only if someone reads them. */
function objectMessage(topic: string, object: unknown): BusMessage {
  let bytes: Buffer | undefined;
  return {
    topic,
    object,
    get value(): Buffer {
      bytes ??= Buffer.from(JSON.stringify(object));
      return bytes;
    },
  };
}
