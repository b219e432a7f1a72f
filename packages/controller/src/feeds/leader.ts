/**
 * Leadership of the controller tier's event sources: one lease in the StateStore, held by one
 * controller at a time. The holder renews it every `renewMs`; a holder that dies stops renewing and
 * another controller takes the lease once it expired (`ttlMs`). A holder that cannot renew steps down
 * on its own before the lease can expire, so two controllers never run the sources at once (as
 * long as their clocks agree within ttl - stepDown).
 */
import type { StateStore } from '@whirl/core';

export interface LeadershipOptions {
  holder: string;
  name?: string;
  ttlMs?: number;
  renewMs?: number;
  onLead(): Promise<void>;
  onLose(): Promise<void>;
  /** Called on every tick while leading (the alarms service picks up changes made by other controllers). */
  onTick?(): Promise<void>;
  log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

export class Leadership {
  private leading = false;
  private lastRenew = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  /**
   * Starting and stopping the sources runs here, one after the other, outside the renewal ticks: a
   * slow start (a Kafka group join takes seconds) must not delay the renewal past the lease's expiry,
   * or another controller would take the lease while this one is still starting.
   */
  private transitions: Promise<void> = Promise.resolve();
  private readonly name: string;
  private readonly ttlMs: number;
  private readonly renewMs: number;

  constructor(
    private readonly state: StateStore,
    private readonly opts: LeadershipOptions,
  ) {
    this.name = opts.name ?? 'event-sources';
    this.ttlMs = opts.ttlMs ?? 10_000;
    this.renewMs = opts.renewMs ?? Math.max(200, Math.floor(this.ttlMs / 4));
  }

  /** True while this controller holds a lease renewed within the step-down margin. */
  get isLeader(): boolean {
    return this.leading && Date.now() - this.lastRenew < this.ttlMs * 0.6;
  }

  private transition(fn: () => Promise<void>): void {
    this.transitions = this.transitions.then(fn).catch((err: unknown) => this.opts.log?.warn({ err }, 'event-source start or stop failed'));
  }

  /** Takes part in the election; resolves once the first tick's start (if it leads) is done. */
  async start(): Promise<void> {
    await this.tick();
    await this.transitions;
    this.timer = setInterval(() => {
      if (!this.ticking) this.ticking = this.tick().finally(() => (this.ticking = undefined));
    }, this.renewMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    if (this.leading) {
      this.leading = false;
      this.transition(() => this.opts.onLose());
      await this.transitions;
      await this.state.releaseLease(this.name, this.opts.holder).catch(() => undefined);
    }
    await this.transitions;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const now = Date.now();
    let got: boolean;
    try {
      got = await this.state.acquireLease(this.name, this.opts.holder, this.ttlMs, now);
    } catch (err) {
      // The store is away: keep leading only while the lease surely has not run out for the others.
      if (this.leading && Date.now() - this.lastRenew > this.ttlMs * 0.6) {
        this.opts.log?.warn({ err }, 'cannot renew the event-source lease; stepping down');
        this.leading = false;
        this.transition(() => this.opts.onLose());
      }
      return;
    }
    if (this.stopped) {
      if (got) await this.state.releaseLease(this.name, this.opts.holder).catch(() => undefined);
      return;
    }
    if (got) {
      this.lastRenew = now;
      if (!this.leading) {
        this.leading = true;
        this.opts.log?.info({ holder: this.opts.holder }, 'leading the event sources');
        this.transition(() => this.opts.onLead());
      } else if (this.opts.onTick) {
        this.transition(this.opts.onTick);
      }
    } else if (this.leading) {
      this.leading = false;
      this.opts.log?.warn({ holder: this.opts.holder }, 'lost the event-source lease');
      this.transition(() => this.opts.onLose());
    }
  }
}
