/**
 * Asynchronous delivery: a non-blocking invoke (a `POST .../actions/x` without `blocking`, or a rule
 * fired by a trigger) of an action with a retry policy or a dead-letter trigger is watched until its
 * record is stored, and retried when it failed:
 *
 * - policy: the action annotation `retry: {attempts, backoffMs, onApplicationError?}`, else the
 *   namespace's default (`asyncRetry` in its limits). `attempts` counts every run, the first included;
 *   the wait before attempt n+1 is `backoffMs * 2^(n-1)`.
 * - what is retried: developer errors (the function crashed, timed out, ran out of memory) and
 *   platform errors; an application error (`{error}` returned on purpose) only when
 *   `onApplicationError` is true.
 * - after the last failed attempt, the trigger named by the annotation `deadLetter` (`name` in the
 *   caller's namespace or `/ns/name`) is fired with `{activationId, attempts, action, activation}`.
 * - each attempt is an ordinary activation with its own id and record, annotated with `attempt` (1, 2,
 *   ...) and, from the second on, `cause` (the previous attempt's id).
 *
 * A pending retry is kept in the StateStore under this controller's id until it is settled, and a
 * restarted controller picks its own up again: no attempt is forgotten, and every id handed out has
 * a record because each attempt goes through the ordinary invoke path (journal, forced completion).
 */
import { randomBytes } from 'node:crypto';
import {
  ActivationStatus,
  WhirlError,
  annotation,
  parseFqn,
  type ActivationRecord,
  type Identity,
  type KeyValue,
  type StateStore,
} from '@whirl/core';
import type { Ctx } from './context.js';
import type { InvokeOutcome, InvokeRequest } from './invocation.js';
import { resolveAction } from './resolve.js';
import { fireWithKey, retryableFire, sleep } from './feeds/fire.js';

export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
  onApplicationError: boolean;
}

/** Limits of a policy, whatever the annotation says. */
const MAX_ATTEMPTS = 10;
const MAX_BACKOFF_MS = 15 * 60_000;
const POLICY_KEYS = new Set(['attempts', 'backoffMs', 'onApplicationError']);

/**
 * The one rule for a retry policy, the `retry` annotation's and the namespace default's (`asyncRetry`
 * of the admin limits API): an object, `attempts` an integer from 1 to 10 (default 1), `backoffMs` a
 * number from 0 to 900000 (default 1000), `onApplicationError` a boolean (default false), nothing else.
 * Every problem is listed, so that a 400 names them all at once.
 */
export function retryPolicyProblems(v: unknown): string[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return ['must be an object {attempts, backoffMs, onApplicationError}'];
  const o = v as Record<string, unknown>;
  const bad: string[] = [];
  const unknown = Object.keys(o).filter((k) => !POLICY_KEYS.has(k));
  if (unknown.length > 0) bad.push(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}`);
  if (o.attempts !== undefined && !(Number.isInteger(o.attempts) && (o.attempts as number) >= 1 && (o.attempts as number) <= MAX_ATTEMPTS)) {
    bad.push(`attempts must be an integer from 1 to ${MAX_ATTEMPTS}, got ${JSON.stringify(o.attempts)}`);
  }
  if (o.backoffMs !== undefined && !(typeof o.backoffMs === 'number' && o.backoffMs >= 0 && o.backoffMs <= MAX_BACKOFF_MS)) {
    bad.push(`backoffMs must be a number of milliseconds from 0 to ${MAX_BACKOFF_MS}, got ${JSON.stringify(o.backoffMs)}`);
  }
  if (o.onApplicationError !== undefined && typeof o.onApplicationError !== 'boolean') {
    bad.push(`onApplicationError must be true or false, got ${JSON.stringify(o.onApplicationError)}`);
  }
  return bad;
}

/** A policy that passed retryPolicyProblems, with its defaults filled in (what the admin API stores). */
export function normalRetryPolicy(v: { attempts?: number; backoffMs?: number; onApplicationError?: boolean }): RetryPolicy {
  return { attempts: v.attempts ?? 1, backoffMs: v.backoffMs ?? 1000, onApplicationError: v.onApplicationError === true };
}

/**
 * The policy in force at invoke time. Looser than retryPolicyProblems on purpose: an annotation or a
 * limits document stored before that check existed (attempts as a string, above the bounds) still runs,
 * clamped to the bounds, rather than silently losing its retries.
 */
export function parseRetryPolicy(v: unknown): RetryPolicy | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const attempts = Number(o.attempts ?? 1);
  const backoffMs = Number(o.backoffMs ?? 1000);
  if (!Number.isInteger(attempts) || attempts < 1 || !Number.isFinite(backoffMs) || backoffMs < 0) return undefined;
  return { attempts: Math.min(attempts, MAX_ATTEMPTS), backoffMs: Math.min(backoffMs, MAX_BACKOFF_MS), onApplicationError: o.onApplicationError === true };
}

/** Checks the annotations of an action being written, so that a bad policy is refused up front. */
export function retryAnnotationProblem(annotations: readonly KeyValue[] | undefined): string | undefined {
  const r = annotations?.find((a) => a.key === 'retry');
  const bad = r ? retryPolicyProblems(r.value) : [];
  if (bad.length > 0) return `The retry annotation must be an object {attempts, backoffMs, onApplicationError}: ${bad.join('; ')}.`;
  const d = annotations?.find((a) => a.key === 'deadLetter');
  if (d && (typeof d.value !== 'string' || d.value === '')) return 'The deadLetter annotation must name a trigger, e.g. "failures" or "/ns/failures".';
  return undefined;
}

export interface Target {
  namespace: string;
  pkg?: string;
  name: string;
}

interface RetryJob {
  /** The first attempt's id. */
  first: string;
  namespace: string;
  authKey: string;
  target: Target;
  payload: Record<string, unknown> | unknown[];
  transid: string;
  policy: RetryPolicy;
  deadLetter?: string;
  attempt: number;
  /** The id of the attempt being watched. */
  current: string;
  /** When the next attempt is due (set while waiting for it). */
  due?: number;
  ids: string[];
}

export class AsyncDelivery {
  private readonly watching = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(
    private readonly ctx: Ctx,
    private readonly state: StateStore,
    private readonly opts: { controllerId: string; pollMs?: number; log?: { warn(obj: object, msg: string): void } },
  ) {}

  private key(first: string): string {
    return `retry:${this.opts.controllerId}:${first}`;
  }

  policyOf(req: InvokeRequest): { policy: RetryPolicy; deadLetter?: string } | undefined {
    const a = req.action.doc.annotations;
    const own = parseRetryPolicy(annotation(a, 'retry'));
    const dflt = parseRetryPolicy(this.ctx.userLimits(req.identity).asyncRetry);
    const dl = annotation(a, 'deadLetter');
    const deadLetter = typeof dl === 'string' && dl !== '' ? dl : undefined;
    const policy = own ?? dflt ?? (deadLetter ? { attempts: 1, backoffMs: 0, onApplicationError: false } : undefined);
    if (!policy || (policy.attempts <= 1 && !deadLetter)) return undefined;
    return { policy, ...(deadLetter ? { deadLetter } : {}) };
  }

  /** Invokes as InvokeService does; a non-blocking invoke with a policy is then watched and retried. */
  async invoke(req: InvokeRequest, target: Target): Promise<InvokeOutcome> {
    const p = req.blocking ? undefined : this.policyOf(req);
    if (!p) return this.ctx.invoker.invoke(req);
    const outcome = await this.ctx.invoker.invoke({ ...req, annotations: [...(req.annotations ?? []), { key: 'attempt', value: 1 }] });
    const job: RetryJob = {
      first: outcome.activationId,
      namespace: req.identity.namespace.name,
      authKey: `${req.identity.namespace.uuid}:${req.identity.namespace.key}`,
      target,
      payload: req.payload,
      transid: req.transid,
      policy: p.policy,
      ...(p.deadLetter ? { deadLetter: p.deadLetter } : {}),
      attempt: 1,
      current: outcome.activationId,
      ids: [outcome.activationId],
    };
    await this.state.put(this.key(job.first), job);
    this.track(job);
    return outcome;
  }

  /** Picks up the retries this controller had pending when it stopped. */
  async resume(): Promise<number> {
    const jobs = await this.state.list<RetryJob>(`retry:${this.opts.controllerId}:`);
    for (const { doc } of jobs) this.track(doc);
    return jobs.length;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([...this.watching]);
  }

  private track(job: RetryJob): void {
    const p: Promise<void> = this.run(job)
      .catch((err: unknown) => this.opts.log?.warn({ err, activationId: job.current }, 'asynchronous delivery failed'))
      .finally(() => this.watching.delete(p));
    this.watching.add(p);
  }

  private async recordOf(job: RetryJob): Promise<ActivationRecord | undefined> {
    for (let wait = this.opts.pollMs ?? 200; !this.abort.signal.aborted; wait = Math.min(wait * 2, 2_000)) {
      const r = await this.ctx.activations.get(job.namespace, job.current);
      if (r) return r;
      await sleep(wait, this.abort.signal);
    }
    return undefined;
  }

  private async identity(job: RetryJob): Promise<Identity | undefined> {
    const colon = job.authKey.indexOf(':');
    return this.ctx.auth.verify(job.authKey.slice(0, colon), job.authKey.slice(colon + 1)).catch(() => undefined);
  }

  private async run(job: RetryJob): Promise<void> {
    const signal = this.abort.signal;
    for (;;) {
      if (job.due === undefined) {
        const record = await this.recordOf(job);
        if (!record) return;
        const code = record.response.statusCode;
        const retry =
          code !== ActivationStatus.Success &&
          job.attempt < job.policy.attempts &&
          (code !== ActivationStatus.ApplicationError || job.policy.onApplicationError);
        if (code === ActivationStatus.Success || !retry) {
          if (code !== ActivationStatus.Success && job.deadLetter) await this.deadLetter(job, record);
          await this.state.delete(this.key(job.first));
          return;
        }
        job.due = Date.now() + job.policy.backoffMs * 2 ** (job.attempt - 1);
        await this.state.put(this.key(job.first), job);
      }
      await sleep(Math.max(0, job.due - Date.now()), signal);
      if (signal.aborted) return;
      const next = await this.attempt(job);
      if (next === undefined) return;
      job.attempt += 1;
      job.current = next;
      job.ids.push(next);
      delete job.due;
      await this.state.put(this.key(job.first), job);
    }
  }

  /** Starts the next attempt; a throttled or unavailable platform is waited out rather than counted. */
  private async attempt(job: RetryJob): Promise<string | undefined> {
    for (let tries = 0; !this.abort.signal.aborted; tries++) {
      const identity = await this.identity(job);
      if (!identity) {
        this.opts.log?.warn({ activationId: job.current }, 'retry dropped: the key of the original invoke is no longer valid');
        await this.state.delete(this.key(job.first));
        return undefined;
      }
      try {
        const resolved = await resolveAction(this.ctx.cache, identity, job.target);
        // A retry is a new invoke of the namespace: counted like one (a 429 is waited out below).
        this.ctx.throttles.invoke(identity.namespace.name, this.ctx.userLimits(identity));
        const outcome = await this.ctx.invoker.invoke({
          identity,
          action: resolved.action,
          packageParams: resolved.packageParams,
          ...(resolved.binding !== undefined ? { binding: resolved.binding } : {}),
          payload: job.payload,
          blocking: false,
          waitMs: 0,
          transid: job.transid,
          received: Date.now(),
          annotations: [
            { key: 'attempt', value: job.attempt + 1 },
            { key: 'cause', value: job.current },
          ],
        });
        return outcome.activationId;
      } catch (e) {
        const status = e instanceof WhirlError ? e.statusCode : 500;
        if (!retryableFire(status)) {
          // The action is gone or no longer allowed: nothing more can run; the last failure stands.
          this.opts.log?.warn({ err: e, activationId: job.current }, 'retry abandoned: the action can no longer be invoked');
          const last = await this.ctx.activations.get(job.namespace, job.current);
          if (last && job.deadLetter) await this.deadLetter(job, last);
          await this.state.delete(this.key(job.first));
          return undefined;
        }
        await sleep(Math.min(60_000, 1_000 * 2 ** Math.min(tries, 6)), this.abort.signal);
      }
    }
    return undefined;
  }

  private async deadLetter(job: RetryJob, record: ActivationRecord): Promise<void> {
    const fqn = parseFqn(job.deadLetter!, job.namespace, { allowRelative: true });
    const payload = {
      activationId: record.activationId,
      attempts: job.ids.length,
      activationIds: job.ids,
      action: `${job.target.namespace}/${job.target.pkg ? `${job.target.pkg}/` : ''}${job.target.name}`,
      activation: record,
    };
    for (let tries = 0; tries < 8 && !this.abort.signal.aborted; tries++) {
      const r = await fireWithKey(this.ctx, job.authKey, { namespace: fqn.namespace, trigger: fqn.name }, payload, 'whirl-dead-letter', {
        'x-request-id': randomBytes(8).toString('hex'),
      });
      if (r.status < 300) return;
      if (!retryableFire(r.status)) {
        this.opts.log?.warn({ activationId: record.activationId, deadLetter: job.deadLetter, status: r.status, message: r.message }, 'the dead-letter trigger could not be fired');
        return;
      }
      await sleep(r.retryAfterMs ?? Math.min(30_000, 500 * 2 ** tries), this.abort.signal);
    }
  }
}
