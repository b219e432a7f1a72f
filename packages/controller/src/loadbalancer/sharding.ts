/**
 * The sharding load balancer: which invoker runs an activation, in a deployment with several.
 *
 * The rule. Every action has a home invoker: hash(invoking namespace) XOR hash(action name), modulo
 * the number of invokers (Java's String.hashCode, as OpenWhisk computes it, so both place the same
 * action on the same home). From home we probe with a step size that is co-prime to the number of
 * invokers (so the probe visits every invoker once before repeating), picked from the list of such
 * steps by the same hash, and take the first Healthy invoker whose memory slots can hold the action's
 * memory limit. Each invoker's slots are its user memory divided among the controllers (each controller
 * keeps its own share). If no Healthy invoker has room, a random Healthy one is overloaded on purpose
 * (its own buffer queues the work); if none is Healthy, the request fails with 503. A slot is freed
 * by the invoker's completion ack, or, if no ack comes, by a forced completion after
 * max(timeout, 60 s) × 2 + 60 s, which also counts against the invoker's health.
 * Blackbox actions (user images) go to the last tenth of the invokers, everything else to the first
 * nine tenths (at least one each, so with one invoker both share it): user images pull and start
 * slowly and should not crowd the managed runtimes.
 *
 * Health. Invokers ping every second on the `health` topic. Ten seconds of silence (or a ping that
 * says disabled) makes an invoker Offline. A ping from an Offline invoker makes it Unhealthy and
 * triggers a test activation (`whisk.system/invokerHealthTestAction<controller>`); the outcomes of the
 * last ten activations decide the rest: more than 3 system errors → Unhealthy, more than 3 forced
 * completions → Unresponsive, a success with both under that → Healthy. While not Healthy, a test
 * activation goes out every minute.
 *
 * Worked example. Four invokers, 2048 MB each, two controllers: each controller has 1024 MB of slots
 * per invoker. Steps co-prime to 4: [1, 3]. Action `guest/hello` invoked by `guest` hashes to 10:
 * home = 10 % 4 = 2, step = [1,3][10 % 2] = 1, probe order 2, 3, 0, 1. With 256 MB actions, invoker 2
 * takes four concurrent activations from this controller, the fifth goes to invoker 3.
 *
 * Invokers are known from their pings; the ring is every invoker ever seen, in instance-number order
 * (numbers need not be dense), so a new host joins without a restart — and, as in OpenWhisk, shifts
 * the homes of some actions when it does.
 *
 * Caveats. Each controller counts only its own activations, so an invoker may be busier than any one
 * controller thinks (the invoker's own pool queues the excess). Slots are memory limits, not real
 * usage. Actions with intra-container concurrency take full slots per activation (conservative: they
 * will share containers on the invoker).
 */
import { randomInt } from 'node:crypto';
import {
  ServiceUnavailableError,
  Topics,
  pendingActivationOf,
  type ActivationMessage,
  type MessageBus,
  type PendingActivation,
  type PoolOccupancy,
  type Subscription,
} from '@whirl/core';
import type { LoadBalancer, PublishOptions, Published } from './lean.js';
import { directChannel, postActivation, type DirectChannel } from './direct.js';

export type InvokerStatus = 'up' | 'unhealthy' | 'unresponsive' | 'down';
type Outcome = 'success' | 'systemError' | 'timeout';

/** The ping every invoker sends on the `health` topic (OpenWhisk's PingMessage shape). */
export interface PingMessage {
  name: { instance: number; userMemory: string; instanceType: 'invoker'; uniqueName?: string };
  isEnabled: boolean;
  /** Whirl: the invoker's pool occupancy when it pinged (OpenWhisk's pings have none). */
  pool?: PoolReport;
  /** Whirl: where the invoker takes blocking activations directly (see direct.ts). */
  direct?: DirectChannel;
}

/** An invoker's container pool as its last ping described it. */
export type PoolReport = PoolOccupancy;

function poolReport(v: unknown): PoolReport | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  const keys = ['warm', 'paused', 'stemCells', 'busy', 'usedMB', 'budgetMB', 'queued'] as const;
  if (!keys.every((k) => typeof r[k] === 'number' && Number.isFinite(r[k]) && (r[k] as number) >= 0)) return undefined;
  return Object.fromEntries(keys.map((k) => [k, r[k] as number])) as unknown as PoolReport;
}

interface InvokerState {
  id: number;
  status: InvokerStatus;
  lastPing: number;
  /** Slots (MB) of this controller's share, and how many are taken. */
  capacityMB: number;
  usedMB: number;
  ring: Outcome[];
  nextTest: number;
  pool?: PoolReport;
  direct?: DirectChannel;
  /** A direct post failed: use only the bus until then. */
  directDownUntil?: number;
}

interface InFlight {
  invoker: number;
  memoryMB: number;
  namespace: string;
  timer: NodeJS.Timeout;
  test: boolean;
  /** What a record of the activation needs, should it have to be written here (forced completion). */
  summary: PendingActivation;
}

export interface ShardingOptions {
  controllerId: string;
  /** How many controllers share the invokers. */
  controllers: number;
  offlineAfterMs?: number;
  testIntervalMs?: number;
  /**
   * Called when an activation's ack never came (its invoker died or lost it): the controller makes
   * sure the activation has a record, so that its id still reads back.
   */
  onForcedCompletion?: (activation: PendingActivation) => Promise<void>;
  /** How long to wait for a completion ack; default OpenWhisk's max(timeout, 60 s) × 2 + 60 s. */
  ackTimeoutMs?: (actionTimeoutMs: number) => number;
  /** Sends a health test activation to an invoker (the controller knows the test action). */
  sendTestActivation?: (invoker: number) => Promise<string | undefined>;
  log?: { info(o: object, m: string): void; warn(o: object, m: string): void };
  now?: () => number;
}

const RING = 10;
const MAX_BAD = 3;

/** Java's String.hashCode, so that homes match OpenWhisk's for the same names. */
export function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Step sizes 1..n co-prime to n and pairwise co-prime to each other (n = 10 → [1, 3, 7]). */
export function stepSizes(n: number): number[] {
  const out: number[] = [];
  for (let s = 1; s <= n; s++) if (gcd(s, n) === 1 && out.every((o) => gcd(o, s) === 1)) out.push(s);
  return out.length > 0 ? out : [1];
}

/** The probe order for an action over `n` invokers. */
export function probeOrder(namespace: string, action: string, n: number): number[] {
  const hash = Math.abs(javaHash(namespace) ^ javaHash(action));
  const steps = stepSizes(n);
  const step = steps[hash % steps.length]!;
  const order: number[] = [];
  for (let i = 0, at = hash % n; i < n; i++, at = (at + step) % n) order.push(at);
  return order;
}

/** OpenWhisk's wait for a completion ack before it forces one: max(time limit, 60 s)·2 + 60 s. */
export function defaultAckTimeoutMs(actionTimeoutMs: number): number {
  return Math.max(actionTimeoutMs, 60_000) * 2 + 60_000;
}

export class ShardingBalancer implements LoadBalancer {
  /** Every invoker that has ever pinged, by instance number (ids may be sparse, e.g. per-node hashes). */
  private readonly byId = new Map<number, InvokerState>();
  /** The same, in id order: the ring that homes and steps are computed over. */
  private invokers: InvokerState[] = [];
  private readonly inflight = new Map<string, InFlight>();
  private readonly perNamespace = new Map<string, number>();
  private subscription: Subscription | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(
    private readonly bus: MessageBus,
    private readonly opts: ShardingOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  async start(): Promise<void> {
    await this.bus.ensureTopics([Topics.health]);
    this.subscription = await this.bus.subscribe(Topics.health, `health${this.opts.controllerId}`, async (m) => {
      this.onPing(JSON.parse(m.value.toString('utf8')) as PingMessage);
    });
    this.ticker = setInterval(() => this.tick(), 1_000);
    this.ticker.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.ticker);
    await this.subscription?.close();
    for (const f of this.inflight.values()) clearTimeout(f.timer);
    this.inflight.clear();
  }

  /** Every invoker a ping has been heard from, in any state. */
  invokerIds(): number[] {
    return this.invokers.map((i) => i.id);
  }

  /** `{"invoker0":"up",...}` as OpenWhisk's GET /invokers shows it. */
  invokerStates(): Record<string, InvokerStatus> {
    const out: Record<string, InvokerStatus> = {};
    for (const i of this.invokers) out[`invoker${i.id}`] = i.status;
    return out;
  }

  /** Each invoker's pool as its last ping described it (invokers that report one). */
  poolReports(): { invoker: number; pool: PoolReport }[] {
    return this.invokers.flatMap((i) => (i.pool && i.status !== 'down' ? [{ invoker: i.id, pool: i.pool }] : []));
  }

  inFlight(namespace: string): number {
    return this.perNamespace.get(namespace) ?? 0;
  }

  async publish(msg: ActivationMessage, o: PublishOptions): Promise<Published> {
    const invoker = this.choose(msg, o);
    return this.send(invoker, msg, o, false);
  }

  release(activationId: string, isSystemError = false): void {
    const f = this.inflight.get(activationId);
    if (!f) return;
    this.finish(activationId, f, isSystemError ? 'systemError' : 'success');
  }

  private choose(msg: ActivationMessage, o: PublishOptions): InvokerState {
    const n = this.invokers.length;
    const managed = Math.max(1, Math.ceil(n * 0.9));
    const blackbox = Math.max(1, Math.floor(n * 0.1));
    const pool = o.blackbox ? this.invokers.slice(n - blackbox) : this.invokers.slice(0, managed);
    const healthy = pool.filter((i) => i.status === 'up');
    if (healthy.length === 0) throw new ServiceUnavailableError('No invokers available.');
    const fq = `${msg.action.path}/${msg.action.name}`;
    for (const idx of probeOrder(msg.user.namespace, fq, pool.length)) {
      const inv = pool[idx]!;
      if (inv.status === 'up' && inv.usedMB + o.memoryMB <= inv.capacityMB) return inv;
    }
    const forced = healthy[randomInt(healthy.length)]!;
    this.opts.log?.warn({ invoker: forced.id, activationId: msg.activationId }, 'all invokers full; overloading one');
    return forced;
  }

  private async send(inv: InvokerState, msg: ActivationMessage, o: PublishOptions, test: boolean): Promise<Published> {
    inv.usedMB += o.memoryMB;
    const ackTimeout = (this.opts.ackTimeoutMs ?? defaultAckTimeoutMs)(o.timeoutMs);
    const timer = setTimeout(() => {
      const f = this.inflight.get(msg.activationId);
      if (!f) return;
      this.opts.log?.warn({ invoker: f.invoker, activationId: msg.activationId }, 'no completion ack in time; forcing completion');
      this.finish(msg.activationId, f, 'timeout');
      if (!f.test) {
        this.opts.onForcedCompletion?.(f.summary).catch((err: unknown) =>
          this.opts.log?.warn({ err, activationId: msg.activationId }, 'could not record the lost activation'),
        );
      }
    }, ackTimeout);
    timer.unref();
    const summary = pendingActivationOf(msg);
    this.inflight.set(msg.activationId, { invoker: inv.id, memoryMB: o.memoryMB, namespace: msg.user.namespace, timer, test, summary });
    if (!test) this.perNamespace.set(msg.user.namespace, this.inFlight(msg.user.namespace) + 1);
    try {
      if (!test && msg.blocking && inv.direct && this.now() >= (inv.directDownUntil ?? 0)) {
        return await this.sendDirect(inv, inv.direct, msg);
      }
      await this.bus.publish(Topics.invoker(inv.id), { object: msg });
      return {};
    } catch (e) {
      const f = this.inflight.get(msg.activationId);
      if (f) this.finish(msg.activationId, f, undefined);
      throw e;
    }
  }

  /**
   * A blocking activation goes to the invoker's direct channel, and its Kafka copy is published
   * behind it (not waited for): the invoker runs whichever copy comes first, once (both carry
   * `direct`). When the post fails the copy is all there is, and it is waited for as usual; the
   * channel is then left alone for a few seconds.
   */
  private async sendDirect(inv: InvokerState, ch: DirectChannel, msg: ActivationMessage): Promise<Published> {
    const copy: ActivationMessage = { ...msg, direct: true };
    const outcome = await postActivation(ch, copy, 1_000);
    const topic = Topics.invoker(inv.id);
    if (outcome === 'taken') {
      const logged = this.bus.publish(topic, { object: copy }).catch((err: unknown) => {
        this.opts.log?.warn({ err, activationId: msg.activationId }, 'the write-behind copy of a direct activation could not be published');
      });
      return { logged };
    }
    inv.directDownUntil = this.now() + 5_000;
    this.opts.log?.warn({ invoker: inv.id, outcome, activationId: msg.activationId }, 'direct channel to the invoker failed; using the bus');
    await this.bus.publish(topic, { object: copy });
    return {};
  }

  private finish(activationId: string, f: InFlight, outcome: Outcome | undefined): void {
    clearTimeout(f.timer);
    this.inflight.delete(activationId);
    const inv = this.byId.get(f.invoker);
    if (inv) {
      inv.usedMB = Math.max(0, inv.usedMB - f.memoryMB);
      if (outcome) this.record(inv, outcome, f.test);
    }
    if (!f.test) {
      const n = this.inFlight(f.namespace) - 1;
      if (n <= 0) this.perNamespace.delete(f.namespace);
      else this.perNamespace.set(f.namespace, n);
    }
  }

  private record(inv: InvokerState, outcome: Outcome, test: boolean): void {
    if (inv.status === 'down') return;
    inv.ring.push(outcome);
    if (inv.ring.length > RING) inv.ring.shift();
    const errors = inv.ring.filter((x) => x === 'systemError').length;
    const timeouts = inv.ring.filter((x) => x === 'timeout').length;
    const before = inv.status;
    if (errors > MAX_BAD) inv.status = 'unhealthy';
    else if (timeouts > MAX_BAD) inv.status = 'unresponsive';
    else if (outcome === 'success') inv.status = 'up';
    if (inv.status !== before) this.opts.log?.info({ invoker: inv.id, from: before, to: inv.status, test }, 'invoker health changed');
    if (inv.status !== 'up' && before === 'up') this.test(inv);
  }

  private onPing(p: PingMessage): void {
    const id = p.name.instance;
    if (!Number.isInteger(id) || id < 0 || id > 10_000) return;
    let inv = this.byId.get(id);
    if (!inv) {
      inv = { id, status: 'down', lastPing: 0, capacityMB: 0, usedMB: 0, ring: [], nextTest: 0 };
      this.byId.set(id, inv);
      this.invokers = [...this.byId.values()].sort((a, b) => a.id - b.id);
    }
    inv.lastPing = this.now();
    const pool = poolReport(p.pool);
    if (pool) inv.pool = pool;
    const direct = directChannel(p.direct);
    if (direct) inv.direct = direct;
    else delete inv.direct;
    const memory = Number.parseInt(p.name.userMemory, 10) || 0;
    // Each controller has its share of the invoker's memory, but always room for one small action.
    inv.capacityMB = Math.max(128, Math.floor(memory / Math.max(1, this.opts.controllers)));
    if (!p.isEnabled) {
      this.setDown(inv);
      return;
    }
    if (inv.status === 'down') {
      inv.ring = [];
      if (this.opts.sendTestActivation) {
        inv.status = 'unhealthy';
        this.opts.log?.info({ invoker: id }, 'invoker came up; testing it');
        this.test(inv);
      } else {
        // Without a test action, a live invoker is trusted as soon as it pings.
        inv.status = 'up';
      }
    }
  }

  private tick(): void {
    const now = this.now();
    for (const inv of this.invokers) {
      if (inv.status !== 'down' && now - inv.lastPing > (this.opts.offlineAfterMs ?? 10_000)) this.setDown(inv);
      else if ((inv.status === 'unhealthy' || inv.status === 'unresponsive') && now >= inv.nextTest) this.test(inv);
    }
  }

  private setDown(inv: InvokerState): void {
    if (inv.status !== 'down') this.opts.log?.warn({ invoker: inv.id }, 'invoker offline');
    inv.status = 'down';
  }

  private test(inv: InvokerState): void {
    inv.nextTest = this.now() + (this.opts.testIntervalMs ?? 60_000);
    const send = this.opts.sendTestActivation;
    if (!send) return;
    send(inv.id).catch((err: unknown) => this.opts.log?.warn({ err, invoker: inv.id }, 'could not send a health test activation'));
  }

  /** Publishes a health test activation straight to one invoker (bypassing the choice). */
  async publishTest(invoker: number, msg: ActivationMessage, o: PublishOptions): Promise<void> {
    const inv = this.byId.get(invoker);
    if (inv) await this.send(inv, msg, o, true);
  }
}
