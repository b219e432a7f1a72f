/**
 * The ledger: the controllers' backstop for "every activation id handed out reads back as a record"
 * in the distributed deployment.
 *
 * The rule. Kafka already holds every activation a controller handed an id out for: a non-blocking
 * id leaves only after the message is in the invoker's topic, a blocking result only after its bus
 * copy is (see BusExecutor). The controllers read every invoker topic a second time, in one consumer
 * group `ledger` per topic, so each message is watched by exactly one living controller whichever
 * controller published it. A message is held until its record is overdue (its action's time limit
 * run through the load balancer's ack timeout, plus a grace so that the publishing controller's own
 * forced completion goes first), then one query asks the store which of the overdue ones have no
 * record, and those get a failed record. Only then does the group's position move past the message
 * (a concurrent subscription commits the oldest unsettled offset), so a ledger that dies hands its
 * held messages to the controller that takes its partitions over.
 *
 * Worked example: controller 0 accepts a non-blocking invoke of a 10 s action at t=0 and publishes
 * it to `invoker1`; invoker 1 takes it and both are SIGKILLed at t=1. Controller 1's ledger holds the
 * message; with the default ack timeout (max(10 s, 60 s)·2 + 60 s = 180 s) and 10 s of grace it asks
 * at t=190, finds no record, and writes "did not complete" for it. Had invoker 1 come back and run
 * it from its topic, the record would be there and the ledger would write nothing.
 *
 * Compositions run in the controller that accepted them, with no invoker topic behind their own
 * record; the controller writes a note to the `compositions` topic before their id leaves
 * (LedgerJournal), and the ledger holds notes the same way, due an hour after acceptance.
 *
 * Caveats: the ledger cannot know a result, so a blocking caller who already had one may later read
 * a failed record if both its controller and the invoker died before either stored it (the logs
 * would have been lost anyway). A successful blocking activation of a namespace or action that does
 * not store those (`storeActivations: false`) is not watched: no record is owed for it. Every
 * controller decodes every activation message once more, which is the price of needing no write on
 * the invoke path.
 */
import {
  activationMessageOf,
  encode,
  Limits,
  lostActivationRecord,
  pendingActivationOf,
  retryWithBackoff,
  Topics,
  type ActivationJournal,
  type ActivationStore,
  type BusMessage,
  type MessageBus,
  type PendingActivation,
  type Subscription,
} from '@whirl/core';
import type { FastifyBaseLogger } from 'fastify';

/** OpenWhisk's transaction id for the health test activations a load balancer sends; those owe no record. */
export const HEALTH_TEST_TRANSID = 'sid_invokerHealth';

export const LEDGER_GROUP = 'ledger';

export interface LedgerOptions {
  bus: MessageBus;
  activations: ActivationStore;
  log: FastifyBaseLogger;
  /** How long after it was accepted an activation's invoker has to complete it (the load balancer's ack timeout). */
  ackTimeoutMs(actionTimeoutMs: number): number;
  /** Past the ack timeout, so that the publishing controller's forced completion comes first. */
  graceMs?: number;
  /** Messages held at once per invoker topic; above it the topic is paused until some settle. */
  maxHeld?: number;
  now?: () => number;
}

const REASON = 'The activation did not complete: no record was written before it was overdue (its invoker and the controller that accepted it stopped).';

export class ActivationLedger {
  private readonly subscriptions = new Map<string, Promise<Subscription | undefined>>();
  private readonly batch: { entry: PendingActivation; settled: () => void }[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly sleeping = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private closed = false;
  private readonly now: () => number;
  private readonly graceMs: number;

  constructor(private readonly o: LedgerOptions) {
    this.now = o.now ?? Date.now;
    this.graceMs = o.graceMs ?? 10_000;
  }

  /**
   * Starts watching the topics of invokers not watched yet, and the compositions' notes (call
   * whenever the set of invokers may have grown).
   */
  watch(invokers: readonly number[]): void {
    this.subscribe(Topics.compositions, (m) => this.holdNote(m));
    for (const id of invokers) this.subscribe(Topics.invoker(String(id)), (m) => this.hold(m));
  }

  private subscribe(topic: string, handler: (m: BusMessage) => Promise<void>): void {
    if (this.closed || this.subscriptions.has(topic)) return;
    const subscribing = this.o.bus.subscribe(topic, LEDGER_GROUP, handler, { maxInFlight: this.o.maxHeld ?? 100_000 }).catch((err: unknown) => {
      // Tried again at the next watch.
      this.o.log.warn({ err, topic }, 'ledger: could not subscribe; retrying later');
      this.subscriptions.delete(topic);
      return undefined;
    });
    this.subscriptions.set(topic, subscribing);
  }

  async close(): Promise<void> {
    this.closed = true;
    // Held messages stay uncommitted: the next owner of each topic's group watches them.
    await Promise.all([...this.subscriptions.values()].map(async (s) => (await s)?.close()));
    for (const s of this.sleeping) {
      clearTimeout(s.timer);
      s.wake();
    }
    clearTimeout(this.flushTimer);
  }

  private async hold(m: BusMessage): Promise<void> {
    const watched = watchedOf(m);
    if (!watched) return;
    const { entry, timeoutMs } = watched;
    await this.settleWhenDue(entry, entry.received + this.o.ackTimeoutMs(timeoutMs) + this.graceMs);
  }

  private async holdNote(m: BusMessage): Promise<void> {
    const note = noteOf(m);
    if (!note) {
      this.o.log.warn({ topic: m.topic }, 'ledger: dropping a note that is not a composition note');
      return;
    }
    await this.settleWhenDue(note.entry, note.due);
  }

  private async settleWhenDue(entry: PendingActivation, due: number): Promise<void> {
    await this.sleepUntil(due);
    if (this.closed) return new Promise<void>(() => undefined); // never settles: left to the next owner
    await new Promise<void>((settled) => {
      this.batch.push({ entry, settled });
      this.flushSoon(this.batch.length >= 500 ? 0 : 100);
    });
  }

  private sleepUntil(at: number): Promise<void> {
    const ms = at - this.now();
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((wake) => {
      const s = { timer: setTimeout(() => (this.sleeping.delete(s), wake()), ms), wake };
      s.timer.unref();
      this.sleeping.add(s);
    });
  }

  private flushSoon(ms: number): void {
    if (this.flushTimer && ms > 0) return;
    clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flushing = this.flushing.then(() => this.flush()).catch((err: unknown) => this.o.log.error({ err }, 'ledger: a check failed'));
    }, ms);
    this.flushTimer.unref();
  }

  /** One query for the whole batch; a failed record for each that has none. Retries while the store is away. */
  private async flush(): Promise<void> {
    const items = this.batch.splice(0, this.batch.length);
    if (items.length === 0) return;
    await retryWithBackoff(
      async () => {
        const missing = await this.o.activations.missing(items.map((i) => i.entry));
        if (missing.length === 0) return;
        const lost = new Set(missing.map((k) => `${k.namespace}/${k.activationId}`));
        const now = this.now();
        const records = items.filter((i) => lost.has(`${i.entry.namespace}/${i.entry.activationId}`)).map((i) => lostActivationRecord(i.entry, now, REASON));
        // A record that landed since the query (an invoker's retried write) is kept, not replaced.
        await this.o.activations.put(records, { keepExisting: true });
        this.o.log.warn({ activationIds: records.map((r) => r.activationId) }, 'ledger: recorded activations that never completed');
      },
      {
        initialMs: 250,
        maxMs: 5_000,
        stopped: () => this.closed,
        onRetry: (err, attempt) => {
          if (attempt === 0) this.o.log.warn({ err, count: items.length }, 'ledger: could not check overdue activations yet; retrying');
        },
      },
    );
    if (this.closed) return; // unsettled: left to the next owner
    for (const i of items) i.settled();
  }
}

/** What the ledger keeps of a message while it holds it (not its parameters), or undefined when no record is owed. */
function watchedOf(m: BusMessage): { entry: PendingActivation; timeoutMs: number } | undefined {
  let msg;
  try {
    msg = activationMessageOf(m);
  } catch {
    return undefined; // the invoker drops it too, and says so
  }
  if (msg.transid === HEALTH_TEST_TRANSID) return undefined;
  if (msg.blocking && msg.store?.skipSuccessfulBlocking === true) return undefined;
  return { entry: pendingActivationOf(msg), timeoutMs: msg.timeoutMs ?? Limits.timeoutMs.max };
}

/**
 * How long a composition may run before the ledger writes a stand-in for it. Compositions have no
 * overall time limit (a sequence of 50 actions of 5 minutes is allowed); one still running past
 * this gets the stand-in, which its own record replaces if it ever ends (compositions upsert).
 */
export const COMPOSITION_DUE_MS = 60 * 60_000;

interface CompositionNote {
  v: 1;
  entry: PendingActivation;
  /** Epoch ms after which a missing record is written as a stand-in. */
  due: number;
}

/**
 * The journal compositions write to in the distributed deployment: a note on the `compositions`
 * topic before the id leaves the controller, which the ledger holds until the note is due. Nothing
 * to end (the ledger asks the store) and nothing to recover at start (the ledger has the notes).
 */
export class LedgerJournal implements ActivationJournal {
  constructor(
    private readonly bus: MessageBus,
    private readonly dueAfterMs = COMPOSITION_DUE_MS,
  ) {}

  async begin(entry: PendingActivation): Promise<void> {
    const note: CompositionNote = { v: 1, entry, due: entry.received + this.dueAfterMs };
    await this.bus.publish(Topics.compositions, encode(note));
  }

  async end(): Promise<void> {}

  async open(): Promise<PendingActivation[]> {
    return [];
  }

  async close(): Promise<void> {}
}

function noteOf(m: BusMessage): CompositionNote | undefined {
  try {
    const n = JSON.parse(m.value.toString('utf8')) as Partial<CompositionNote>;
    const e = n.entry;
    if (n.v !== 1 || typeof n.due !== 'number' || !e || typeof e.namespace !== 'string' || typeof e.activationId !== 'string' || typeof e.received !== 'number') return undefined;
    return n as CompositionNote;
  } catch {
    return undefined;
  }
}
