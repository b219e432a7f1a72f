/**
 * The action protocol with one container: `/init` once per container (shared by concurrent
 * activations of a fresh one), `/run` within the action's time limit, the record from the outcome,
 * the blocking caller's result acked at once, then the logs. A timeout, a dead container or an
 * out-of-memory kill is a developer error; the container is then not reused.
 */
import {
  ActivationStatus,
  Limits,
  annotation,
  errorResponse,
  type ActivationMessage,
  type ActivationRecord,
  type BlackboxExec,
  type CodeExec,
  type WhiskAction,
} from '@whirl/core';
import type { AckSender } from './acks.js';
import { ProxyHttpError, postJson } from './factory/http.js';
import type { ColdStartReason, InvokerMetrics } from './metrics.js';
import type { ContainerPool, PooledContainer } from './pool.js';
import { ranRecord } from './records.js';
import { Msg, initFailure, runResponse, type Response } from './response.js';
import type { InvokerLog, RuntimeImages } from './types.js';

type InitOutcome = { ok: true; kind: 'ok' } | { ok: false; kind: 'failed' | 'timeout' | 'exited'; response: Response };

export interface RunnerDeps {
  pool: ContainerPool;
  runtimes: RuntimeImages;
  acks: AckSender;
  log: InvokerLog;
  metrics: InvokerMetrics | undefined;
  /** Stores the record and sends the completion (the invoker's `finish`). */
  finish(msg: ActivationMessage, record: ActivationRecord, resultSent: boolean): Promise<void>;
  /** Keeps a background task in the invoker's books, so that a stop waits for it. */
  track(p: Promise<void>): void;
  /** How long log collection waits for the next line before giving up. @default 2000 */
  logIdleMs: number | undefined;
}

export class ActivationRunner {
  constructor(private readonly deps: RunnerDeps) {}

  /** Runs one activation in `c`; resolves with whether the container may be reused. */
  async run(c: PooledContainer, msg: ActivationMessage, action: WhiskAction, exec: CodeExec | BlackboxExec, coldStart: ColdStartReason | undefined): Promise<{ keep: boolean }> {
    const timeout = action.limits.timeout;
    const provideKey = annotation(action.annotations, 'provide-api-key');
    // An empty key (a web action called anonymously: keys are stored hashed) is never passed on.
    const withKey = (provideKey === undefined || provideKey === true) && !msg.user.apiKey.endsWith(':') && msg.user.apiKey !== '';
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
    const runsAtStart = c.runs;
    const activeBefore = c.active;
    const meter = await c.container.meterUsage?.().catch(() => undefined);

    if (!c.initialized) {
      const init = await this.deps.pool.initialize(c, () => this.initWithRetry(c, { value: initValue(msg, action, exec, firstStart) }, timeout));
      if (!init.mine) {
        // Another activation of this concurrent container initialised it; its failure is ours too.
        if (!init.ok) {
          response = errorResponse(ActivationStatus.DeveloperError, Msg.initExited);
          died = true;
        }
      } else if (init.outcome.ok) {
        initTime = Date.now() - firstStart;
      } else {
        response = init.outcome.response;
        timedOut = init.outcome.kind === 'timeout';
        died = init.outcome.kind !== 'failed';
      }
    }

    const runStart = Date.now();
    if (!response) {
      const body: Record<string, unknown> = {
        value: msg.content,
        namespace: msg.user.namespace,
        action_name: `/${action.namespace}/${action.name}`,
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
    if (c.container.meterUsage) this.deps.metrics?.usageSampled(usage !== undefined);
    // Another activation in the same container at any moment of this one: the figures are the container's.
    const shared = activeBefore > 1 || c.active > 1 || c.runs !== runsAtStart;
    const start = initTime !== undefined || !c.initialized ? firstStart : runStart;
    const record = ranRecord(msg, action, { usage, shared, start, end, response, waitTime, initTime, timedOut });
    // The blocking caller gets its result now; logs follow in the stored record.
    if (coldStart) this.deps.metrics?.coldStart(record, coldStart);
    const resultSent = msg.blocking;
    if (resultSent) await this.deps.acks.send(msg, { result: { ...record } });
    const keep = !died && response.statusCode <= ActivationStatus.ApplicationError;

    const collect = async (): Promise<void> => {
      // Collected even with a log limit of 0 (and then dropped): reading up to the sentinels keeps the
      // container's stream in step, so the next activation does not see this one's sentinels.
      const logs = await c.logs.collect({
        from: logsFrom,
        ...(tagged ? { activationId: msg.activationId } : {}),
        limitBytes: Math.min(action.limits.logs * 1024 * 1024, msg.store?.logBytes ?? Infinity),
        ...(msg.store?.logLines !== undefined ? { limitLines: msg.store.logLines } : {}),
        idleMs: action.limits.logs > 0 ? (this.deps.logIdleMs ?? 2_000) : 100,
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
      this.deps.track(collect().then(() => this.deps.finish(msg, record, resultSent)));
      return { keep };
    }
    this.deps.pool.resultOut(c);
    await collect();
    // The container is free as soon as its logs are in; storing the record and the completion ack
    // go on without holding it (the next activation of this action may be waiting for it).
    this.deps.track(this.deps.finish(msg, record, resultSent));
    return { keep };
  }

  /** Loads the action into a fresh container ahead of its next call: the same /init, without an activation. */
  async prepare(c: PooledContainer, msg: ActivationMessage, action: WhiskAction, exec: CodeExec | BlackboxExec): Promise<boolean> {
    return (await this.initWithRetry(c, { value: initValue(msg, action, exec, undefined) }, action.limits.timeout)).ok;
  }

  private async initWithRetry(c: PooledContainer, body: unknown, timeout: number): Promise<InitOutcome> {
    const deadline = Date.now() + timeout;
    for (let attempt = 0; ; attempt++) {
      const left = deadline - Date.now();
      if (left <= 0) return { ok: false, kind: 'timeout', response: errorResponse(ActivationStatus.DeveloperError, Msg.initTimeout(timeout)) };
      try {
        // Bounded like /run: an /init answer is small, and an endless one must not fill our memory.
        const r = await postJson(c.container.host, c.container.port, '/init', body, left, { maxBodyBytes: Limits.resultBytes, agent: c.agent });
        if (r.truncated) return { ok: false, kind: 'failed', response: errorResponse(ActivationStatus.DeveloperError, Msg.initTooLong(r.bodyBytes, Limits.resultBytes)) };
        if (r.status === 200) return { ok: true, kind: 'ok' };
        return { ok: false, kind: 'failed', response: initFailure(r.status, r.body) };
      } catch (err) {
        if (err instanceof ProxyHttpError && err.kind === 'timeout') {
          return { ok: false, kind: 'timeout', response: errorResponse(ActivationStatus.DeveloperError, Msg.initTimeout(timeout)) };
        }
        // Refused or reset before any answer: the proxy is not listening yet (Docker's port proxy
        // accepts and then drops the connection), unless the container has already exited.
        const notYet = err instanceof ProxyHttpError && (err.kind === 'refused' || (err.kind === 'reset' && !err.responseStarted));
        // Only a container seen stopped counts as exited; a Docker API hiccup under load proves nothing.
        if (!notYet || (attempt > 5 && !(await c.container.isAlive().catch(() => true)))) {
          this.deps.log.warn({ err, attempt, container: c.container.name, alive: await c.container.isAlive().catch((e: unknown) => String(e)) }, 'init failed: the container is not answering');
          return { ok: false, kind: 'exited', response: errorResponse(ActivationStatus.DeveloperError, (await diedOfOom(c)) ? Msg.oom : Msg.initExited) };
        }
        await new Promise((r) => setTimeout(r, Math.min(2 + attempt * 2, 20)));
      }
    }
  }
}

/**
 * The /init body's value. `start` is the activation's start; without it (loading a container ahead
 * of the action's next call) there is no activation yet, so its id is left empty.
 */
function initValue(msg: ActivationMessage, action: WhiskAction, exec: CodeExec | BlackboxExec, start: number | undefined): Record<string, unknown> {
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
