/**
 * The invoker: takes activation messages off its bus topic, runs each in a container from the pool,
 * answers blocking callers with the result as soon as `/run` returns, then collects the logs, stores the
 * record and releases the controller's slot. Every message it takes ends in a stored record, whatever
 * happens: action gone, container start failure, timeout, out-of-memory, crash, expiry, shutdown.
 *
 * Lifecycle: starting → running → draining → stopped. On stop it stops consuming, lets running
 * activations finish (up to a grace period), and removes its containers.
 */
import http from 'node:http';
import type { Registry } from 'prom-client';
import {
  ActivationStatus,
  Limits,
  Topics,
  annotation,
  decodeActivationMessage,
  encode,
  errorResponse,
  type AckMessage,
  type ActivationMessage,
  type ActivationRecord,
  type ContainerFactory,
  type EntityStore,
  type KeyValue,
  type MessageBus,
  type Subscription,
  type WhiskAction,
  type ActivationJournal,
  type ActivationStore,
  type BlackboxExec,
  type CodeExec,
  type ResourceUsage,
} from '@whirl/core';
import { ActivationWriter } from './activation-writer.js';
import { makeKeepAlivePolicy, type KeepAlivePolicyName } from './keepalive.js';
import { ContainerPool, type PooledContainer, type StemCell } from './pool.js';
import { ProxyHttpError, postJson } from './factory/http.js';
import { Msg, initFailure, runResponse, type Response } from './response.js';
import { InvokerMetrics, type ColdStartReason } from './metrics.js';

export interface InvokerLog {
  debug?(o: object, m: string): void;
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  error(o: object, m: string): void;
}

export interface RuntimeImages {
  /** The image that runs a kind, or undefined when the kind is unknown. */
  imageFor(kind: string): string | undefined;
  /**
   * The local image a blackbox action's image name stands for (e.g. OpenWhisk's
   * `openwhisk/dockerskeleton` → Whirl's own skeleton), or the name unchanged.
   */
  blackboxImage?(image: string): string;
  /** Whether a blackbox image is one of the platform's native skeletons (which print sentinels). */
  isNativeBlackbox?(image: string): boolean;
  /** Whether the runtime of a kind tags each log line with its activation id (Whirl's Node.js proxy). */
  tagsLogLines?(kind: string): boolean;
  stemCells(): StemCell[];
}

export interface InvokerOptions {
  id: string;
  /**
   * Marks this invoker's containers (label `whirl.owner`), unique per deployment: clean-up at start
   * and stop removes these and nothing else, so two deployments on one Docker host (two standalones,
   * a test run beside a benchmark) never remove each other's containers.
   */
  owner: string;
  userMemoryMB: number;
  pauseGraceMs: number;
  idleTimeoutMs: number;
  /**
   * Keep-alive policy: `fixed` keeps idle containers `idleTimeoutMs`; `hybrid` learns each action's
   * idle times (see keepalive.ts). @default 'fixed'
   */
  keepAlive?: KeepAlivePolicyName;
  /** Width of the hybrid policy's histogram bins (240 of them). @default 60_000 */
  keepAliveBinMs?: number;
  prewarm: boolean;
  apiHost: string;
  /** How long log collection waits for the next line before giving up. */
  logIdleMs?: number;
  /** Send a health ping on the `health` topic this often (distributed deployments); 0 = never. */
  healthPingMs?: number;
  /**
   * Pull blackbox images that are not present locally. Off by default: a pull reaches out to a
   * registry, which an operator must allow explicitly.
   */
  pullImages?: boolean;
}

export type InvokerState = 'starting' | 'running' | 'draining' | 'stopped';

export class Invoker {
  state: InvokerState = 'starting';
  readonly pool: ContainerPool;
  private readonly writer: ActivationWriter;
  private readonly actions = new Map<string, WhiskAction>();
  private readonly inflight = new Set<Promise<void>>();
  private subscription: Subscription | undefined;
  private pinger: NodeJS.Timeout | undefined;
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
    this.pool = new ContainerPool(deps.factory, {
      invokerId: opts.id,
      owner: opts.owner,
      userMemoryMB: opts.userMemoryMB,
      pauseGraceMs: opts.pauseGraceMs,
      idleTimeoutMs: opts.idleTimeoutMs,
      keepAlive: makeKeepAlivePolicy(opts.keepAlive ?? 'fixed', {
        idleTimeoutMs: opts.idleTimeoutMs,
        ...(opts.keepAliveBinMs !== undefined ? { binMs: opts.keepAliveBinMs } : {}),
      }),
      stemCells: opts.prewarm ? deps.runtimes.stemCells() : [],
      // Concurrency is allowed in every container so that stem cells can serve any action; the pool,
      // not the proxy, limits each container to its action's limits.concurrency.
      env: { __OW_API_HOST: opts.apiHost, __OW_ALLOW_CONCURRENT: 'true' },
      log: deps.log,
    });
    this.metrics?.watch(() => this.pool.stats());
    this.writer = new ActivationWriter(deps.activations, {
      log: deps.log,
      onWrite: (seconds, ok) => this.metrics?.storeWritten(seconds, ok),
      // Journal entries close with their records, one transaction per batch.
      afterWrite: async (records) => {
        await deps.journal?.end(records.map((r) => ({ namespace: r.namespace, activationId: r.activationId })));
      },
    });
  }

  async start(): Promise<void> {
    const removed = await this.deps.factory.removeAll('whirl.owner', this.opts.owner);
    if (removed > 0) this.deps.log.info({ removed }, 'removed containers left over from an earlier run');
    this.pool.prewarm();
    const topic = Topics.invoker(this.opts.id);
    await this.deps.bus.ensureTopics([topic]);
    this.subscription = await this.deps.bus.subscribe(topic, topic, async (m) => {
      let msg: ActivationMessage;
      try {
        msg = decodeActivationMessage(m.value);
      } catch (err) {
        this.deps.log.error({ err }, 'dropping a message that is not an activation message');
        return;
      }
      this.track(this.handle(msg));
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

  /** OpenWhisk's PingMessage: controllers track invoker health from these. */
  private async ping(isEnabled: boolean): Promise<void> {
    const s = this.pool.stats();
    const ping = {
      name: { instance: Number(this.opts.id), userMemory: `${this.opts.userMemoryMB} MB`, instanceType: 'invoker', uniqueName: `invoker${this.opts.id}` },
      isEnabled,
      // Whirl: the pool's occupancy, so that controllers can show it (the console's operators view).
      pool: { warm: s.warm, paused: s.paused, stemCells: s.prewarmed, busy: s.busy, usedMB: s.usedMB, budgetMB: this.opts.userMemoryMB, queued: s.buffered },
    };
    try {
      await this.deps.bus.publish(Topics.health, encode(ping));
    } catch (err) {
      this.deps.log.warn({ err }, 'health ping failed');
    }
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
    const now = Date.now();
    if (now > msg.deadline) {
      await this.finish(msg, this.failedRecord(msg, undefined, errorResponse(ActivationStatus.WhiskError, Msg.expired(now - msg.received))), false);
      return;
    }
    let action: WhiskAction | undefined;
    try {
      action = await this.loadAction(msg);
    } catch (err) {
      // The store is down: the activation fails (its record waits in the writer until the store is
      // back) rather than vanish without a record or an ack.
      this.deps.log.warn({ err, activationId: msg.activationId }, 'could not load the action');
      await this.finish(msg, this.failedRecord(msg, undefined, errorResponse(ActivationStatus.WhiskError, Msg.storeDown)), false);
      return;
    }
    if (!action) {
      await this.finish(msg, this.failedRecord(msg, undefined, errorResponse(ActivationStatus.ApplicationError, Msg.actionGone)), false);
      return;
    }
    const exec = action.exec as CodeExec | BlackboxExec;
    const image = exec.kind === 'blackbox' ? await this.blackboxImage((exec as BlackboxExec).image) : this.deps.runtimes.imageFor(exec.kind);
    if (image === null) {
      const name = (exec as BlackboxExec).image;
      await this.finish(msg, this.failedRecord(msg, action, errorResponse(ActivationStatus.DeveloperError, `Failed to pull container image '${name}'.`)), false);
      return;
    }
    if (!image) {
      await this.finish(
        msg,
        this.failedRecord(msg, action, errorResponse(ActivationStatus.WhiskError, `The runtime '${exec.kind}' is not available on this invoker.`)),
        false,
      );
      return;
    }
    await new Promise<void>((resolve) => {
      this.pool.submit({
        warmKey: `${msg.user.namespace}|${msg.action.docId}@${msg.action.rev}`,
        // Blackbox containers never match a stem cell: their kind carries the image.
        kind: exec.kind === 'blackbox' ? `blackbox:${image}` : exec.kind,
        image,
        memoryMB: action.limits.memory,
        maxConcurrency: action.limits.concurrency,
        label: `${msg.user.namespace}_${action.name}`,
        run: async (c, how, coldBecause) => {
          try {
            const reason: ColdStartReason | undefined = how === 'prewarm' ? 'stem_cell' : how === 'cold' ? (coldBecause ?? 'no_warm') : undefined;
            return await this.runOn(c, msg, action, exec, reason);
          } finally {
            resolve();
          }
        },
        // Loading the action ahead of its next call: the same /init, without an activation.
        prepare: async (c) => (await this.initWithRetry(c, { value: this.initValue(msg, action, exec, undefined) }, action.limits.timeout)).kind === 'ok',
        fail: async (err) => {
          try {
            const shuttingDown = this.state === 'draining';
            this.deps.log.warn({ err, activationId: msg.activationId }, 'no container for activation');
            const response = errorResponse(ActivationStatus.WhiskError, shuttingDown ? Msg.shutdown : Msg.provisionFailed);
            await this.finish(msg, this.failedRecord(msg, action, response), false);
          } finally {
            resolve();
          }
        },
      });
    });
  }

  /** The action at the revision the controller resolved; cached, since a revision never changes. */
  private async loadAction(msg: ActivationMessage): Promise<WhiskAction | undefined> {
    const key = `${msg.action.docId}@${msg.action.rev}`;
    const hit = this.actions.get(key);
    if (hit) return hit;
    const found = await this.deps.entities.get(msg.action.docId);
    if (!found || found.doc.entityType !== 'action') return undefined;
    // An update between the controller's read and ours: run what is stored now, cache it under its own revision.
    if (this.actions.size > 1000) this.actions.clear();
    this.actions.set(`${msg.action.docId}@${found.rev}`, found.doc);
    return found.doc;
  }

  /**
   * The image to run a blackbox action with: the local one, or null when it is missing and cannot be
   * pulled (the activation then fails with OpenWhisk's "Failed to pull container image").
   */
  private async blackboxImage(requested: string): Promise<string | null> {
    const image = this.deps.runtimes.blackboxImage?.(requested) ?? requested;
    if (await this.deps.factory.hasImage(image).catch(() => false)) return image;
    if (!this.opts.pullImages || !this.deps.factory.pull) return null;
    try {
      await this.deps.factory.pull(image);
      return image;
    } catch (err) {
      this.deps.log.warn({ err, image }, 'image pull failed');
      return null;
    }
  }

  private async runOn(
    c: PooledContainer,
    msg: ActivationMessage,
    action: WhiskAction,
    exec: CodeExec | BlackboxExec,
    coldStart: ColdStartReason | undefined,
  ): Promise<{ keep: boolean }> {
    const timeout = action.limits.timeout;
    const provideKey = annotation(action.annotations, 'provide-api-key');
    // An empty key (a web action called anonymously: keys are stored hashed) is never passed on.
    const withKey = (provideKey === undefined || provideKey === true) && !msg.user.apiKey.endsWith(':') && msg.user.apiKey !== '';
    const actionName = `/${action.namespace}/${action.name}`;
    // Whirl's Node.js proxy tags every line with its activation (containers get __OW_ALLOW_CONCURRENT),
    // so its logs can be told apart by tag; other runtimes' by position between sentinels.
    const tagged = c.maxConcurrency > 1 || this.deps.runtimes.tagsLogLines?.(c.kind) === true;
    const logsFrom = c.logs.mark();
    let initTime: number | undefined;
    let timedOut = false;
    let response: Response | undefined;
    let died = false;
    const firstStart = Date.now();
    const waitTime = firstStart - msg.received;
    // Usage covers the activation's /init too (a cold start's memory counts against its limit).
    const runsBefore = c.runs++;
    const activeBefore = c.active;
    const meter = await c.container.meterUsage?.().catch(() => undefined);

    if (!c.initialized && c.initializing) {
      // Another activation of this concurrent container is initialising it: share that /init.
      if (!(await c.initializing)) {
        response = errorResponse(ActivationStatus.DeveloperError, Msg.initExited);
        died = true;
      }
    } else if (!c.initialized) {
      const init = this.initWithRetry(c, { value: this.initValue(msg, action, exec, firstStart) }, timeout);
      c.initializing = init.then((r) => r.kind === 'ok');
      const r = await init;
      c.initializing = undefined;
      if (r.kind === 'ok') {
        initTime = Date.now() - firstStart;
        c.initialized = true;
      } else {
        response = r.response;
        timedOut = r.kind === 'timeout';
        died = r.kind !== 'failed';
      }
    }

    const runStart = Date.now();
    if (!response) {
      const body: Record<string, unknown> = {
        value: msg.content,
        namespace: msg.user.namespace,
        action_name: actionName,
        action_version: action.version,
        activation_id: msg.activationId,
        transaction_id: msg.transid,
        deadline: String(runStart + timeout),
      };
      if (withKey) body.api_key = msg.user.apiKey;
      try {
        // Only the first resultBytes are kept: a runaway result costs no more memory than that.
        const r = await postJson(c.container.host, c.container.port, '/run', body, timeout, { maxBodyBytes: Limits.resultBytes, agent: c.agent });
        response = runResponse(r.status, r.body, r.bodyBytes);
      } catch (err) {
        died = true;
        if (err instanceof ProxyHttpError && err.kind === 'timeout') {
          timedOut = true;
          response = errorResponse(ActivationStatus.DeveloperError, Msg.runTimeout(timeout));
        } else {
          response = errorResponse(ActivationStatus.DeveloperError, (await diedOfOom(c)) ? Msg.oom : Msg.runExited);
        }
      }
    }
    const end = Date.now();
    const usage = await meter?.stop().catch(() => undefined);
    if (c.container.meterUsage) this.metrics?.usageSampled(usage !== undefined);
    // Another activation in the same container at any moment of this one: the figures are the container's.
    const shared = activeBefore > 1 || c.active > 1 || c.runs !== runsBefore + 1;
    const start = initTime !== undefined || !c.initialized ? firstStart : runStart;
    const record = this.record(msg, action, {
      usage,
      shared,
      start,
      end,
      response,
      waitTime,
      initTime,
      timedOut,
    });
    // The blocking caller gets its result now; logs follow in the stored record.
    if (coldStart) this.metrics?.coldStart(record, coldStart);
    const resultSent = msg.blocking;
    if (resultSent) await this.publishAck(msg, { result: { ...record } });
    const keep = !died && response.statusCode <= ActivationStatus.ApplicationError;

    const collect = async (): Promise<void> => {
      // Collected even with a log limit of 0 (and then dropped): reading up to the sentinels keeps the
      // container's stream in step, so the next activation does not see this one's sentinels.
      const logs = await c.logs.collect({
        from: logsFrom,
        ...(tagged ? { activationId: msg.activationId } : {}),
        limitBytes: Math.min(action.limits.logs * 1024 * 1024, msg.store?.logBytes ?? Infinity),
        ...(msg.store?.logLines !== undefined ? { limitLines: msg.store.logLines } : {}),
        idleMs: action.limits.logs > 0 ? (this.opts.logIdleMs ?? 2_000) : 100,
        maxMs: Math.max(5, action.limits.logs) * 2_000,
        // A container that died or was killed prints no sentinels: take what is there. Blackbox
        // images other than our native skeletons are not expected to print them either.
        waitForSentinels: !died && (exec.kind !== 'blackbox' || (this.deps.runtimes.isNativeBlackbox?.(c.image) ?? false)),
      });
      if (action.limits.logs > 0) record.logs = logs.lines;
    };
    if (tagged && keep) {
      // Every line carries its activation's id, so the container can take the next activation while
      // this one's logs are still arriving: collect them, then store, off the container's time. (A
      // container that is about to be removed keeps its logs collected first: removal ends its stream.)
      this.track(collect().then(() => this.finish(msg, record, resultSent)));
      return { keep };
    }
    c.finishing = true;
    await collect();
    // The container is free as soon as its logs are in; storing the record and the completion ack
    // go on without holding it (the next activation of this action may be waiting for it).
    this.track(this.finish(msg, record, resultSent));
    return { keep };
  }

  /**
   * The /init body's value. `start` is the activation's start; without it (loading a container ahead
   * of the action's next call) there is no activation yet, so its id is left empty.
   */
  private initValue(msg: ActivationMessage, action: WhiskAction, exec: CodeExec | BlackboxExec, start: number | undefined): Record<string, unknown> {
    const provideKey = annotation(action.annotations, 'provide-api-key');
    const env: Record<string, string> = {
      __OW_NAMESPACE: msg.user.namespace,
      __OW_ACTION_NAME: `/${action.namespace}/${action.name}`,
      __OW_ACTION_VERSION: action.version,
      __OW_ACTIVATION_ID: start === undefined ? '' : msg.activationId,
      __OW_TRANSACTION_ID: start === undefined ? '' : msg.transid,
      __OW_DEADLINE: String((start ?? Date.now()) + action.limits.timeout),
    };
    if (provideKey === undefined || provideKey === true) env.__OW_API_KEY = msg.user.apiKey;
    for (const p of msg.initArgs) env[p.key] = envString(p.value);
    const value: Record<string, unknown> = { name: action.name, main: exec.main ?? 'main', binary: exec.binary, env };
    // Blackbox images may come without code; the field is then left out, as OpenWhisk does.
    if (exec.code !== undefined) value.code = exec.code;
    return value;
  }

  private async initWithRetry(
    c: PooledContainer,
    body: unknown,
    timeout: number,
  ): Promise<{ kind: 'ok' } | { kind: 'failed' | 'timeout' | 'exited'; response: Response }> {
    const deadline = Date.now() + timeout;
    for (let attempt = 0; ; attempt++) {
      const left = deadline - Date.now();
      if (left <= 0) return { kind: 'timeout', response: errorResponse(ActivationStatus.DeveloperError, Msg.initTimeout(timeout)) };
      try {
        // Bounded like /run: an /init answer is small, and an endless one must not fill our memory.
        const r = await postJson(c.container.host, c.container.port, '/init', body, left, { maxBodyBytes: Limits.resultBytes, agent: c.agent });
        if (r.truncated) return { kind: 'failed', response: errorResponse(ActivationStatus.DeveloperError, Msg.initTooLong(r.bodyBytes, Limits.resultBytes)) };
        if (r.status === 200) return { kind: 'ok' };
        return { kind: 'failed', response: initFailure(r.status, r.body) };
      } catch (err) {
        if (err instanceof ProxyHttpError && err.kind === 'timeout') {
          return { kind: 'timeout', response: errorResponse(ActivationStatus.DeveloperError, Msg.initTimeout(timeout)) };
        }
        // Refused or reset before any answer: the proxy is not listening yet (Docker's port proxy
        // accepts and then drops the connection), unless the container has already exited.
        const notYet = err instanceof ProxyHttpError && (err.kind === 'refused' || (err.kind === 'reset' && !err.responseStarted));
        // Only a container seen stopped counts as exited; a Docker API hiccup under load proves nothing.
        if (!notYet || (attempt > 5 && !(await c.container.isAlive().catch(() => true)))) {
          this.deps.log.warn({ err, attempt, container: c.container.name, alive: await c.container.isAlive().catch((e: unknown) => String(e)) }, 'init failed: the container is not answering');
          return { kind: 'exited', response: errorResponse(ActivationStatus.DeveloperError, (await diedOfOom(c)) ? Msg.oom : Msg.initExited) };
        }
        await new Promise((r) => setTimeout(r, Math.min(2 + attempt * 2, 20)));
      }
    }
  }

  private record(
    msg: ActivationMessage,
    action: WhiskAction,
    r: {
      start: number;
      end: number;
      response: Response;
      waitTime: number;
      initTime: number | undefined;
      timedOut: boolean;
      usage: ResourceUsage | undefined;
      shared: boolean;
    },
  ): ActivationRecord {
    const annotations: KeyValue[] = [
      ...(msg.annotations ?? []),
      { key: 'path', value: `${action.namespace}/${action.name}` },
      { key: 'waitTime', value: r.waitTime },
      { key: 'kind', value: action.exec.kind },
      { key: 'timeout', value: r.timedOut },
      { key: 'limits', value: action.limits },
    ];
    if (r.initTime !== undefined) annotations.push({ key: 'initTime', value: r.initTime });
    if (r.usage) {
      annotations.push(
        // Whole MB, rounded up, as Lambda's "Max Memory Used"; CPU in ms with microsecond precision.
        { key: 'memoryPeakMB', value: Math.max(1, Math.ceil(r.usage.memoryPeakBytes / (1024 * 1024))) },
        { key: 'cpuMs', value: Math.round(r.usage.cpuNs / 1000) / 1000 },
      );
      if (r.shared) annotations.push({ key: 'usageShared', value: true });
    }
    if (msg.action.binding !== undefined) annotations.push({ key: 'binding', value: msg.action.binding });
    return {
      namespace: msg.user.namespace,
      name: action.name,
      version: action.version,
      subject: msg.user.subject,
      publish: false,
      activationId: msg.activationId,
      start: r.start,
      end: r.end,
      duration: r.end - r.start,
      ...(msg.cause !== undefined ? { cause: msg.cause } : {}),
      response: r.response,
      logs: [],
      annotations,
    };
  }

  /** A record for an activation that never reached a container. */
  private failedRecord(msg: ActivationMessage, action: WhiskAction | undefined, response: Response): ActivationRecord {
    const now = Date.now();
    const annotations: KeyValue[] = [
      ...(msg.annotations ?? []),
      { key: 'path', value: `${msg.action.path}/${msg.action.name}` },
      { key: 'waitTime', value: now - msg.received },
    ];
    if (action) {
      annotations.push({ key: 'kind', value: action.exec.kind }, { key: 'timeout', value: false }, { key: 'limits', value: action.limits });
    }
    if (msg.action.binding !== undefined) annotations.push({ key: 'binding', value: msg.action.binding });
    return {
      namespace: msg.user.namespace,
      name: msg.action.name,
      version: msg.action.version,
      subject: msg.user.subject,
      publish: false,
      activationId: msg.activationId,
      start: now,
      end: now,
      duration: 0,
      ...(msg.cause !== undefined ? { cause: msg.cause } : {}),
      response,
      logs: [],
      annotations,
    };
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
    await this.publishAck(msg, {
      ...(msg.blocking && !resultSent ? { result: record } : {}),
      completion: { isSystemError: record.response.statusCode === ActivationStatus.WhiskError },
    });
  }

  private async publishAck(msg: ActivationMessage, body: Pick<AckMessage, 'result' | 'completion'>): Promise<void> {
    const ack: AckMessage = { v: 1, transid: msg.transid, activationId: msg.activationId, invoker: this.opts.id, ...body };
    // A result alone goes straight to the waiting controller when it offered a direct channel; the
    // bus is the fallback (and always carries completions, which must not be lost).
    if (msg.replyTo && body.result && !body.completion && (await postAck(msg.replyTo, ack))) return;
    try {
      await this.deps.bus.publish(Topics.completed(msg.controller), encode(ack));
    } catch (err) {
      this.deps.log.error({ err, activationId: msg.activationId }, 'could not publish ack');
    }
  }
}

const ackAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** Posts an ack to a controller's direct channel; false when that did not work (use the bus). */
function postAck(replyTo: { url: string; token: string }, ack: AckMessage): Promise<boolean> {
  const body = Buffer.from(JSON.stringify(ack));
  return new Promise((resolve) => {
    let req: http.ClientRequest;
    try {
      req = http.request(replyTo.url, {
        method: 'POST',
        agent: ackAgent,
        timeout: 2_000,
        headers: { 'content-type': 'application/json', 'content-length': body.length, 'x-whirl-ack-token': replyTo.token },
      });
    } catch {
      resolve(false);
      return;
    }
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode === 204);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end(body);
  });
}

/**
 * Whether a container whose connection just broke was killed for its memory limit. The kernel's kill
 * and Docker's bookkeeping trail the broken connection a little, so wait (briefly) for the container
 * to be seen as stopped before asking.
 */
async function diedOfOom(c: PooledContainer): Promise<boolean> {
  const until = Date.now() + 2_000;
  while (Date.now() < until && (await c.container.isAlive().catch(() => false))) {
    await new Promise((r) => setTimeout(r, 25));
  }
  return c.container.wasOomKilled().catch(() => false);
}

/** Init parameters reach `/init` as environment strings: objects as compact JSON, null as "". */
function envString(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}
