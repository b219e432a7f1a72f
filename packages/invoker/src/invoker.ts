/**
 * The invoker: takes activation messages off its bus topic, runs each in a container from the pool,
 * answers blocking callers with the result as soon as `/run` returns, then collects the logs, stores the
 * record and releases the controller's slot. Every message it takes ends in a stored record, whatever
 * happens: action gone, container start failure, timeout, out-of-memory, crash, expiry, shutdown.
 *
 * Lifecycle: starting → running → draining → stopped. On stop it stops consuming, lets running
 * activations finish (up to a grace period), and removes its containers.
 */
import type { Registry } from 'prom-client';
import {
  ActivationStatus,
  Topics,
  activationMessageOf,
  encode,
  errorResponse,
  type ActivationJournal,
  type ActivationMessage,
  type ActivationRecord,
  type ActivationStore,
  type ContainerFactory,
  type EntityStore,
  type MessageBus,
  type Subscription,
} from '@whirl/core';
import { AckSender } from './acks.js';
import { ActivationWriter } from './activation-writer.js';
import { DirectCopies } from './copies.js';
import { MessageChecks } from './checks.js';
import { makeKeepAlivePolicy, policyKey, type KeepAlivePolicy } from './keepalive.js';
import { loadKeepAliveState, saveKeepAliveState } from './keepalive-state.js';
import { InvokerMetrics, poolOccupancy, type ColdStartReason } from './metrics.js';
import { ContainerPool } from './pool.js';
import { failedRecord } from './records.js';
import { Msg } from './response.js';
import { ActivationRunner } from './runner.js';
import type { InvokerLog, InvokerOptions, RuntimeImages } from './types.js';

/** How often the keep-alive policy's learning is saved (besides at stop): a crash loses at most this. */
const KEEPALIVE_SAVE_MS = 5 * 60_000;

export type { InvokerLog, InvokerOptions, RuntimeImages } from './types.js';

export type InvokerState = 'starting' | 'running' | 'draining' | 'stopped';

export class Invoker {
  state: InvokerState = 'starting';
  readonly pool: ContainerPool;
  private readonly writer: ActivationWriter;
  private readonly checks: MessageChecks;
  private readonly runner: ActivationRunner;
  private readonly acks: AckSender;
  private readonly inflight = new Set<Promise<void>>();
  private readonly copies = new DirectCopies();
  private subscription: Subscription | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private readonly keepAlive: KeepAlivePolicy;
  private stateSaver: NodeJS.Timeout | undefined;
  /** The last save: saves run one after another (the stop's must not meet a periodic one's temp file). */
  private saving: Promise<void> = Promise.resolve();
  private readonly metrics: InvokerMetrics | undefined;

  constructor(
    private readonly deps: {
      bus: MessageBus;
      entities: EntityStore;
      activations: ActivationStore;
      factory: ContainerFactory;
      runtimes: RuntimeImages;
      log: InvokerLog;
      journal?: ActivationJournal;
      /** Where this invoker's Prometheus metrics go (GET /metrics renders it). */
      metrics?: Registry;
    },
    private readonly opts: InvokerOptions,
  ) {
    this.metrics = deps.metrics ? new InvokerMetrics(deps.metrics, opts.id, opts.userMemoryMB) : undefined;
    this.keepAlive = makeKeepAlivePolicy(opts.keepAlive ?? 'hybrid', {
      idleTimeoutMs: opts.idleTimeoutMs,
      ...(opts.keepAliveBinMs !== undefined ? { binMs: opts.keepAliveBinMs } : {}),
    });
    this.pool = new ContainerPool(deps.factory, {
      invokerId: opts.id,
      owner: opts.owner,
      userMemoryMB: opts.userMemoryMB,
      pauseGraceMs: opts.pauseGraceMs,
      idleTimeoutMs: opts.idleTimeoutMs,
      keepAlive: this.keepAlive,
      stemCells: opts.prewarm ? deps.runtimes.stemCells() : [],
      // Concurrency is allowed in every container so that stem cells can serve any action; the pool,
      // not the proxy, limits each container to its action's limits.concurrency.
      env: { __OW_API_HOST: opts.apiHost, __OW_ALLOW_CONCURRENT: 'true' },
      log: deps.log,
    });
    this.metrics?.watch(
      () => this.pool.stats(),
      () => this.pool.policySnapshot(),
    );
    this.writer = new ActivationWriter(deps.activations, {
      log: deps.log,
      onWrite: (seconds, ok) => this.metrics?.storeWritten(seconds, ok),
      // Journal entries close with their records, one transaction per batch.
      afterWrite: async (records) => {
        await deps.journal?.end(records.map((r) => ({ namespace: r.namespace, activationId: r.activationId })));
      },
    });
    this.checks = new MessageChecks(deps, opts.pullImages === true);
    this.acks = new AckSender(deps.bus, opts.id, deps.log);
    this.runner = new ActivationRunner({
      pool: this.pool,
      runtimes: deps.runtimes,
      acks: this.acks,
      log: deps.log,
      metrics: this.metrics,
      finish: (msg, record, resultSent) => this.finish(msg, record, resultSent),
      track: (p) => this.track(p),
      logIdleMs: opts.logIdleMs,
    });
  }

  async start(): Promise<void> {
    const removed = await this.deps.factory.removeAll('whirl.owner', this.opts.owner);
    if (removed > 0) this.deps.log.info({ removed }, 'removed containers left over from an earlier run');
    const stateFile = this.opts.keepAliveStateFile;
    if (stateFile) {
      await loadKeepAliveState(stateFile, this.keepAlive, this.deps.log);
      this.stateSaver = setInterval(() => void this.saveKeepAlive(), KEEPALIVE_SAVE_MS);
      this.stateSaver.unref();
    }
    this.pool.prewarm();
    const topic = Topics.invoker(this.opts.id);
    await this.deps.bus.ensureTopics([topic]);
    this.subscription = await this.deps.bus.subscribe(topic, topic, async (m) => {
      let msg: ActivationMessage;
      try {
        msg = activationMessageOf(m);
      } catch (err) {
        this.deps.log.error({ err }, 'dropping a message that is not an activation message');
        return;
      }
      this.accept(msg, 'bus');
    });
    this.state = 'running';
    if (this.opts.healthPingMs) {
      await this.deps.bus.ensureTopics([Topics.health]);
      await this.ping(true);
      this.pinger = setInterval(() => void this.ping(true), this.opts.healthPingMs);
      this.pinger.unref();
    }
    this.deps.log.info({ invoker: this.opts.id, factory: this.deps.factory.kind }, 'invoker running');
  }

  /**
   * Takes an activation to run, from the bus or the direct channel: `duplicate` when it is the second
   * copy of one that came both ways, `stopped` when the invoker is not running.
   */
  accept(msg: ActivationMessage, via: 'bus' | 'direct'): 'taken' | 'duplicate' | 'stopped' {
    // A bus message is always taken (while draining it gets its shutdown record); a direct one is
    // refused once the invoker stops running, and its bus copy then goes where the bus sends it.
    const outcome = via === 'direct' && this.state !== 'running' ? 'stopped' : this.copies.first(msg, Date.now()) ? 'taken' : 'duplicate';
    this.metrics?.messageTaken(via, outcome);
    if (outcome === 'taken') this.track(this.handle(msg));
    return outcome;
  }

  /** OpenWhisk's PingMessage: controllers track invoker health from these. */
  private async ping(isEnabled: boolean): Promise<void> {
    const ping = {
      name: { instance: Number(this.opts.id), userMemory: `${this.opts.userMemoryMB} MB`, instanceType: 'invoker', uniqueName: `invoker${this.opts.id}` },
      isEnabled,
      // Whirl: the pool's occupancy, so that controllers can show it (the console's operators view).
      pool: poolOccupancy(this.pool.stats(), this.opts.userMemoryMB),
      ...(this.opts.direct ? { direct: this.opts.direct } : {}),
    };
    try {
      await this.deps.bus.publish(Topics.health, encode(ping));
    } catch (err) {
      this.deps.log.warn({ err }, 'health ping failed');
    }
  }

  private saveKeepAlive(): Promise<void> {
    const file = this.opts.keepAliveStateFile;
    if (!file) return Promise.resolve();
    this.saving = this.saving.then(() =>
      saveKeepAliveState(file, this.keepAlive).catch((err: unknown) => this.deps.log.warn({ err, file }, 'could not save the keep-alive state')),
    );
    return this.saving;
  }

  async stop(graceMs = 10_000): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'draining';
    clearInterval(this.pinger);
    // Each step that needs Kafka or the store is bounded: when they went first (Ctrl-C reaches every
    // process of the group), the stop must still end, and end with the containers removed.
    const bounded = (what: string, p: Promise<unknown>, ms: number): Promise<void> =>
      Promise.race([
        p.then(
          () => undefined,
          (err: unknown) => this.deps.log.warn({ err }, `stop: ${what} failed`),
        ),
        new Promise<void>((r) => setTimeout(r, ms).unref()),
      ]);
    try {
      // Tell the controllers at once, rather than let them wait out ten seconds of silence.
      if (this.opts.healthPingMs) await bounded('the last health ping', this.ping(false), 2_000);
      await bounded('closing the subscription', this.subscription?.close() ?? Promise.resolve(), 5_000);
      await this.pool.close(graceMs);
      clearInterval(this.stateSaver);
      await this.saveKeepAlive();
      await Promise.race([Promise.allSettled([...this.inflight]), new Promise((r) => setTimeout(r, graceMs).unref())]);
      await bounded('writing the last records', this.writer.flush(), 10_000);
    } finally {
      await this.deps.factory.removeAll('whirl.owner', this.opts.owner);
      this.state = 'stopped';
    }
  }

  private track(p: Promise<void>): void {
    const t: Promise<void> = p
      .catch((err: unknown) => this.deps.log.error({ err }, 'activation handling failed'))
      .finally(() => this.inflight.delete(t));
    this.inflight.add(t);
  }

  private async handle(msg: ActivationMessage): Promise<void> {
    const checked = await this.checks.check(msg, Date.now());
    if (!checked.ok) {
      await this.finish(msg, failedRecord(msg, checked.action, checked.response), false);
      return;
    }
    const { action, exec, image } = checked;
    await new Promise<void>((resolve) => {
      this.pool.submit({
        warmKey: `${msg.user.namespace}|${msg.action.docId}@${msg.action.rev}`,
        policyKey: policyKey(msg.user.namespace, msg.action.docId),
        // Blackbox containers never match a stem cell: their kind carries the image.
        kind: exec.kind === 'blackbox' ? `blackbox:${image}` : exec.kind,
        image,
        memoryMB: action.limits.memory,
        maxConcurrency: action.limits.concurrency,
        label: `${msg.user.namespace}_${action.name}`,
        run: async (c, how, coldBecause) => {
          try {
            const reason: ColdStartReason | undefined = how === 'prewarm' ? 'stem_cell' : how === 'cold' ? (coldBecause ?? 'no_warm') : undefined;
            return await this.runner.run(c, msg, action, exec, reason);
          } finally {
            resolve();
          }
        },
        prepare: (c) => this.runner.prepare(c, msg, action, exec),
        fail: async (err) => {
          try {
            const shuttingDown = this.state === 'draining';
            this.deps.log.warn({ err, activationId: msg.activationId }, 'no container for activation');
            const response = errorResponse(ActivationStatus.WhiskError, shuttingDown ? Msg.shutdown : Msg.provisionFailed);
            await this.finish(msg, failedRecord(msg, action, response), false);
          } finally {
            resolve();
          }
        },
      });
    });
  }

  /**
   * Stores the record, then acks: the completion frees the controller's slot, and carries the result
   * too when a blocking caller has not had it yet. The record is stored before the completion so that
   * a caller who is told "done" can read it.
   */
  private async finish(msg: ActivationMessage, record: ActivationRecord, resultSent: boolean): Promise<void> {
    this.metrics?.activation(record);
    try {
      // The caller already has a successful blocking result and the namespace or action asked not to
      // keep it: close the journal entry instead of storing the record. Failures are always stored.
      if (msg.blocking && msg.store?.skipSuccessfulBlocking === true && record.response.statusCode === ActivationStatus.Success) {
        await this.deps.journal?.end([{ namespace: record.namespace, activationId: record.activationId }]);
      } else {
        await this.writer.write(record);
      }
    } catch (err) {
      // The journal entry stays, so the next start records the activation as lost rather than leave its id dangling.
      this.deps.log.error({ err, activationId: msg.activationId }, 'activation record could not be stored');
    }
    await this.acks.send(msg, {
      ...(msg.blocking && !resultSent ? { result: record } : {}),
      completion: { isSystemError: record.response.statusCode === ActivationStatus.WhiskError },
    });
  }
}
