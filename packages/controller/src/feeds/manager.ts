/**
 * Runs the sources of the kafka and couchdb feeds on the leading controller. Every `pollMs` it
 * compares the stored registrations with the sources it runs: a new or changed (generation) active
 * registration gets its source (re)started, a deleted or paused one is stopped. A source that cannot
 * start is retried with exponential back-off and reports `retrying` with the reason in its status
 * (which `trigger get` shows through the feed's READ).
 *
 * Fires go through `fireWithKey` and are retried until accepted: a 429 (the namespace's fire
 * throttle) waits for its Retry-After and holds the source back meanwhile, so nothing is dropped and
 * the source never outruns the namespace; a 404/401/403 (trigger deleted, key revoked) disables the
 * feed with that reason.
 */
import {
  feedStatusId,
  type FeedKind,
  type FeedRegistration,
  type FeedStatus,
  type StateStore,
} from '@whirl/core';
import type { Ctx } from '../context.js';
import { fireWithKey, retryableFire, sleep } from './fire.js';

/** Thrown to a source when it must stop handing over (closing, or the feed was disabled). */
export class SourceStopped extends Error {}

export interface SourceIO {
  readonly status: Readonly<FeedStatus>;
  readonly signal: AbortSignal;
  /** Fires the trigger until it is accepted; throws SourceStopped when it must not continue. */
  fire(payload: Record<string, unknown>, heartbeat?: () => Promise<void>): Promise<void>;
  /** Merges into the stored status (resume position, state). */
  report(patch: Partial<FeedStatus>): Promise<void>;
}

export interface RunningSource {
  close(): Promise<void>;
}

export type SourceStarter = (reg: FeedRegistration, io: SourceIO, log?: { warn(obj: object, msg: string): void }) => Promise<RunningSource>;

interface Running {
  generation: number;
  source?: RunningSource;
  abort: AbortController;
  /** While a start is retried: when the next attempt is due. */
  retryAt?: number;
  attempts: number;
}

export class FeedManager {
  private readonly running = new Map<string, Running>();
  private timer: NodeJS.Timeout | undefined;
  private active = false;
  private reconciling: Promise<void> | undefined;

  constructor(
    private readonly ctx: Ctx,
    private readonly state: StateStore,
    private readonly starters: Partial<Record<FeedKind, SourceStarter>>,
    private readonly opts: {
      pollMs?: number;
      /** Checked before every fire: a controller that may have lost its lease must not fire. */
      isLeader?: () => boolean;
      log?: { warn(obj: object, msg: string): void };
    } = {},
  ) {}

  async start(): Promise<void> {
    this.active = true;
    await this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), this.opts.pollMs ?? 1_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.active = false;
    if (this.timer) clearInterval(this.timer);
    await this.reconciling;
    await Promise.all([...this.running.keys()].map((id) => this.stopOne(id)));
  }

  reconcile(): Promise<void> {
    this.reconciling ??= this.doReconcile()
      .catch((err: unknown) => this.opts.log?.warn({ err }, 'feed reconcile failed'))
      .finally(() => (this.reconciling = undefined));
    return this.reconciling;
  }

  private async doReconcile(): Promise<void> {
    if (!this.active) return;
    const wanted = new Map<string, FeedRegistration>();
    for (const kind of Object.keys(this.starters) as FeedKind[]) {
      for (const { id, doc } of await this.state.list<FeedRegistration>(`feed:${kind}:`)) if (doc.active) wanted.set(id, doc);
    }
    for (const id of [...this.running.keys()]) {
      const want = wanted.get(id);
      if (!want || want.generation !== this.running.get(id)!.generation) await this.stopOne(id);
    }
    const now = Date.now();
    for (const [id, reg] of wanted) {
      if (!this.active) return;
      const cur = this.running.get(id);
      if (cur?.source || (cur?.retryAt !== undefined && cur.retryAt > now)) continue;
      await this.startOne(id, reg, cur);
    }
  }

  private async stopOne(id: string): Promise<void> {
    const r = this.running.get(id);
    if (!r) return;
    this.running.delete(id);
    r.abort.abort();
    await r.source?.close().catch((err: unknown) => this.opts.log?.warn({ err, feed: id }, 'closing a feed source failed'));
  }

  private async startOne(id: string, reg: FeedRegistration, prev: Running | undefined): Promise<void> {
    const starter = this.starters[reg.kind]!;
    const sid = feedStatusId(reg.kind, reg.namespace, reg.trigger);
    const status: FeedStatus = (await this.state.get<FeedStatus>(sid)) ?? { state: 'pending', since: Date.now(), fireCount: 0 };
    const r: Running = { generation: reg.generation, abort: new AbortController(), attempts: prev?.attempts ?? 0 };
    this.running.set(id, r);
    const io = this.io(id, sid, reg, status, r);
    try {
      r.source = await starter(reg, io, this.opts.log);
      r.attempts = 0;
      if (r.abort.signal.aborted) await r.source.close();
    } catch (err) {
      r.attempts += 1;
      r.retryAt = Date.now() + Math.min(30_000, 500 * 2 ** Math.min(r.attempts, 10));
      await io.report({ state: 'retrying', lastError: err instanceof Error ? err.message : String(err) }).catch(() => undefined);
      this.opts.log?.warn({ err, feed: id, attempts: r.attempts }, 'feed source could not start; retrying with back-off');
    }
  }

  private io(id: string, sid: string, reg: FeedRegistration, status: FeedStatus, r: Running): SourceIO {
    // One write at a time per source: concurrent writes of one document only conflict (CouchDB).
    let writes: Promise<void> = Promise.resolve();
    const report = (patch: Partial<FeedStatus>): Promise<void> => {
      if (patch.state !== undefined && patch.state !== status.state) status.since = Date.now();
      Object.assign(status, patch);
      if (patch.state === 'running') delete status.lastError;
      const write = writes.then(async () => {
        // A source stopped for a changed or deleted feed must not bring back a status doc.
        if (this.running.get(id) !== r) return;
        await this.state.put(sid, { ...status });
      });
      writes = write.catch(() => undefined);
      return write;
    };
    const disable = async (code: number, message: string): Promise<void> => {
      const cur = await this.state.get<FeedRegistration>(id);
      if (!cur || cur.generation !== reg.generation) return;
      await this.state.put(id, {
        ...cur,
        active: false,
        dateChanged: Date.now(),
        generation: cur.generation + 1,
        reason: { kind: 'AUTO', statusCode: code, message },
      } satisfies FeedRegistration);
      this.opts.log?.warn({ feed: id, status: code, message }, 'feed disabled after a failed fire');
    };
    return {
      status,
      signal: r.abort.signal,
      report,
      fire: async (payload, heartbeat) => {
        for (let attempt = 0; ; attempt++) {
          if (r.abort.signal.aborted) throw new SourceStopped('the feed source is stopping');
          if (this.opts.isLeader && !this.opts.isLeader()) {
            // Fenced: the lease may be someone else's by now; the new leader fires from the stored position.
            r.abort.abort();
            throw new SourceStopped('this controller no longer leads the event sources');
          }
          const res = await fireWithKey(this.ctx, reg.authKey, reg, payload, `whirl-${reg.kind}-feed`).catch((err: unknown) => ({
            status: 500,
            message: err instanceof Error ? err.message : String(err),
            retryAfterMs: undefined,
          }));
          if (res.status < 300) {
            status.fireCount += 1;
            status.lastFire = Date.now();
            return;
          }
          if (!retryableFire(res.status)) {
            await disable(res.status, res.status === 404 ? 'the trigger no longer exists' : (res.message ?? `the fire failed with status ${res.status}`));
            r.abort.abort();
            throw new SourceStopped('the feed was disabled');
          }
          let wait = res.status === 429 ? (res.retryAfterMs ?? 1_000) : Math.min(30_000, 250 * 2 ** Math.min(attempt, 10));
          // Waiting in slices keeps a Kafka group membership alive meanwhile.
          while (wait > 0 && !r.abort.signal.aborted) {
            const slice = Math.min(wait, 1_000);
            await sleep(slice, r.abort.signal);
            wait -= slice;
            await heartbeat?.().catch(() => undefined);
          }
        }
      },
    };
  }
}

