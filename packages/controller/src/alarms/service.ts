/**
 * The alarms service: keeps one schedule per trigger in a ScheduleStore and fires the trigger when the
 * schedule comes due. It replaces OpenWhisk's separate alarms provider, but runs inside the
 * controller and fires in-process through the same code path as `POST .../triggers/{name}`.
 *
 * - A fire answered with 408, 409, 429 or 5xx is retried with exponential back-off; once the retries
 *   are used up a 429 disables the schedule (the namespace is over its fire limit for good), a 5xx
 *   just skips this occurrence.
 * - Any other 4xx (trigger deleted, key revoked, ...) disables the schedule.
 * - On start, a schedule whose fire was due while the server was down fires once, then continues
 *   with its next occurrence after now.
 *
 * Timers are unref'd so the service never keeps a process alive; `stop()` clears them all.
 */
import type { AlarmSchedule, ScheduleStore } from '@whirl/core';
import { nextFireTime, planOnStart } from './schedule.js';

export interface AlarmClock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** Node's clock; setTimeout caps delays at ~24.8 days, so long waits are re-armed in steps. */
export const systemClock: AlarmClock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, Math.min(ms, 2_000_000_000));
    t.unref();
    return t;
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** HTTP-like status of one fire: 202/204 success, anything else an error. */
export interface FireResult {
  status: number;
  message?: string;
}

export interface AlarmServiceDeps {
  store: ScheduleStore;
  fire(s: AlarmSchedule): Promise<FireResult>;
  /** After a `once` fire with deleteAfterFire true/rules: remove the trigger (and its rules). */
  deleteTrigger?(s: AlarmSchedule, withRules: boolean): Promise<void>;
  clock?: AlarmClock;
  log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  retry?: { attempts: number; baseMs: number; maxMs: number };
}

const RETRYABLE = (status: number): boolean => status === 408 || status === 409 || status === 429 || status >= 500;

export class AlarmService {
  private readonly clock: AlarmClock;
  private readonly retry: { attempts: number; baseMs: number; maxMs: number };
  /** Armed timers per schedule id, with the generation they were armed for. */
  private readonly timers = new Map<string, { handle: unknown; gen: number }>();
  /** Bumped on every change of a schedule, so that a fire in flight does not overwrite newer state. */
  private readonly gens = new Map<string, number>();
  private running = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly sleepers = new Set<() => void>();

  /**
   * The last version of each schedule this service wrote or saw, to tell a change made by another
   * controller (a feed call it served) from our own writes when reconciling.
   */
  private readonly known = new Map<string, string>();
  private readonly store: ScheduleStore;

  constructor(private readonly deps: AlarmServiceDeps) {
    this.clock = deps.clock ?? systemClock;
    this.retry = deps.retry ?? { attempts: 5, baseMs: 1000, maxMs: 60_000 };
    const inner = deps.store;
    this.store = {
      get: (id) => inner.get(id),
      list: () => inner.list(),
      close: () => inner.close(),
      put: async (s) => {
        await inner.put(s);
        this.known.set(s.id, JSON.stringify(s));
      },
      delete: async (id) => {
        this.known.delete(id);
        return inner.delete(id);
      },
    };
  }

  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Picks up schedules changed in the store by someone else (a feed call served by another
   * controller while this one leads): a changed one is re-armed at its stored next fire, a deleted
   * one disarmed. Fires in flight for a changed schedule are discarded, as after a local change.
   */
  async reconcile(): Promise<void> {
    if (!this.running) return;
    const seen = new Set<string>();
    for (const s of await this.store.list()) {
      seen.add(s.id);
      const json = JSON.stringify(s);
      if (this.known.get(s.id) === json) continue;
      this.known.set(s.id, json);
      this.bump(s.id);
      this.disarm(s.id);
      if (s.active && s.nextFire !== undefined) this.arm(s.id, s.nextFire);
    }
    for (const id of [...this.known.keys()]) {
      if (seen.has(id)) continue;
      this.known.delete(id);
      this.bump(id);
      this.disarm(id);
    }
  }

  now(): number {
    return this.clock.now();
  }

  async start(): Promise<void> {
    this.running = true;
    const now = this.clock.now();
    this.known.clear();
    for (const s of await this.store.list()) {
      this.known.set(s.id, JSON.stringify(s));
      if (!s.active) continue;
      const plan = planOnStart(s, now);
      if (plan.fireNow) {
        this.track(this.runFire(s.id, this.gen(s.id)));
      } else if (plan.next === undefined) {
        await this.finish(s);
      } else {
        if (plan.next !== s.nextFire) await this.store.put({ ...s, nextFire: plan.next });
        this.arm(s.id, plan.next);
      }
    }
  }

  /** Clears every timer; fires in flight complete but arm nothing new. */
  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers.values()) this.clock.clearTimer(t.handle);
    this.timers.clear();
    for (const wake of [...this.sleepers]) wake();
    await Promise.allSettled([...this.inFlight]);
  }

  get(id: string): Promise<AlarmSchedule | undefined> {
    return this.store.get(id);
  }

  /** Stores a new or changed schedule and (re)arms it. `nextFire` is computed here. */
  async put(s: AlarmSchedule): Promise<AlarmSchedule> {
    this.bump(s.id);
    this.disarm(s.id);
    const next = s.active ? nextFireTime(s, this.clock.now()) : undefined;
    const stored: AlarmSchedule = { ...s };
    if (next === undefined) delete stored.nextFire;
    else stored.nextFire = next;
    await this.store.put(stored);
    if (next !== undefined) this.arm(s.id, next);
    return stored;
  }

  async delete(id: string): Promise<boolean> {
    this.bump(id);
    this.disarm(id);
    return this.store.delete(id);
  }

  private gen(id: string): number {
    return this.gens.get(id) ?? 0;
  }

  private bump(id: string): void {
    this.gens.set(id, this.gen(id) + 1);
  }

  private disarm(id: string): void {
    const t = this.timers.get(id);
    if (t) this.clock.clearTimer(t.handle);
    this.timers.delete(id);
  }

  private arm(id: string, at: number): void {
    if (!this.running) return;
    this.disarm(id);
    const gen = this.gen(id);
    const delay = Math.max(0, at - this.clock.now());
    const handle = this.clock.setTimer(() => {
      this.timers.delete(id);
      if (this.gen(id) !== gen || !this.running) return;
      // Long waits are split by the clock; fire only when really due.
      if (this.clock.now() < at) this.arm(id, at);
      else this.track(this.runFire(id, gen));
    }, delay);
    this.timers.set(id, { handle, gen });
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((err: unknown) => this.deps.log?.warn({ err }, 'alarm fire failed')).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  /** A back-off wait that stop() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.sleepers.delete(wake);
        this.clock.clearTimer(handle);
        resolve();
      };
      const handle = this.clock.setTimer(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** One occurrence: fire with retries, then record the outcome and arm the next occurrence. */
  private async runFire(id: string, gen: number): Promise<void> {
    const s0 = await this.store.get(id);
    if (!s0 || !s0.active || this.gen(id) !== gen) return;
    let result: FireResult = { status: 500 };
    for (let attempt = 0; ; attempt++) {
      try {
        result = await this.deps.fire(s0);
      } catch (e) {
        result = { status: 500, message: (e as Error).message };
      }
      if (!RETRYABLE(result.status) || attempt + 1 >= this.retry.attempts || !this.running || this.gen(id) !== gen) break;
      await this.sleep(Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** attempt));
    }
    // A feed UPDATE/DELETE while firing wins over this outcome.
    if (this.gen(id) !== gen) return;
    const now = this.clock.now();
    const s: AlarmSchedule = { ...s0 };
    if (result.status < 300) {
      s.fireCount += 1;
      s.lastFire = now;
    } else if (result.status === 429 || !RETRYABLE(result.status)) {
      this.deps.log?.warn({ schedule: id, status: result.status, message: result.message }, 'alarm disabled after a failed fire');
      await this.disable(s, result.status, result.status === 404 ? 'the trigger no longer exists' : (result.message ?? `the fire failed with status ${result.status}`));
      return;
    }
    if (s.feed === 'once') {
      await this.finishOnce(s);
      return;
    }
    const next = nextFireTime(s, now);
    if (next === undefined) {
      await this.finish(s);
      return;
    }
    s.nextFire = next;
    await this.store.put(s);
    this.arm(id, next);
  }

  private async disable(s: AlarmSchedule, statusCode: number | undefined, message: string): Promise<void> {
    const out: AlarmSchedule = {
      ...s,
      active: false,
      dateChanged: this.clock.now(),
      reason: { kind: 'AUTO', ...(statusCode !== undefined ? { statusCode } : {}), message },
    };
    delete out.nextFire;
    await this.store.put(out);
  }

  /** A schedule with nothing left to fire (stopDate or maxTriggers reached). */
  private async finish(s: AlarmSchedule): Promise<void> {
    await this.disable(s, undefined, 'the schedule has no further fires (stopDate or maxTriggers reached)');
  }

  private async finishOnce(s: AlarmSchedule): Promise<void> {
    const mode = s.config.deleteAfterFire ?? 'false';
    if (mode !== 'false' && this.deps.deleteTrigger) {
      try {
        await this.deps.deleteTrigger(s, mode === 'rules');
      } catch (err) {
        this.deps.log?.warn({ err, schedule: s.id }, 'could not delete the trigger after its once alarm fired');
      }
      await this.store.delete(s.id);
      return;
    }
    await this.disable(s, undefined, 'the once alarm has fired');
  }
}
