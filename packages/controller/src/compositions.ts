/**
 * Sequences and conductor actions, run by the controller (as OpenWhisk does): each component is an
 * ordinary blocking invoke, and the composition gets an activation record of its own whose `logs`
 * list the component activation ids.
 *
 * Sequences pass each result to the next component and stop at the first result that is an error.
 * Components are counted as they run, nested sequences inlined, and more than 50 atomic actions end the
 * run with `Too many actions in the sequence.`. Conductor actions drive a loop: the conductor names
 * the next action (`action`), its input (`params`) and state to carry (`state`); no `action` ends it.
 *
 * A blocking caller waits for the whole composition (up to its wait); past that it gets 202 with the
 * composition's id and the run goes on, its record stored when it ends.
 */
import {
  ActivationStatus,
  activationRecord,
  Limits,
  WhirlError,
  errorResponse,
  newActivationId,
  parseFqn,
  type ActivationJournal,
  type ActivationRecord,
  type ActivationStore,
  type KeyValue,
  type SequenceExec,
  type WhiskAction,
} from '@whirl/core';
import type { EntityCache } from './entity-cache.js';
import { pendingActivation, type Executor, type Invoke, type InvokeOutcome, type InvokeRequest } from './invocation.js';
import { resolveAction, type ResolvedAction } from './resolve.js';

type Response = ActivationRecord['response'];

/** Components and conductor runs seen so far in one top-level composition. */
interface Budget {
  atomic: number;
  conductorRuns: number;
}

const MAX_CONDUCTOR_RUNS = 100;
const causedBy: KeyValue = { key: 'causedBy', value: 'sequence' };

export class Compositions implements Executor {
  private readonly background = new Set<Promise<unknown>>();

  constructor(
    /** Runs one atomic component (a system action or a code action); nested compositions are run here. */
    private readonly atomic: Invoke,
    private readonly cache: EntityCache,
    private readonly activations: ActivationStore,
    private readonly journal?: ActivationJournal,
    private readonly log?: { error(o: object, m: string): void },
  ) {}

  accepts(action: WhiskAction): boolean {
    return action.exec.kind === 'sequence' || isConductor(action.annotations);
  }

  run = (req: InvokeRequest): Promise<InvokeOutcome> =>
    req.action.doc.exec.kind === 'sequence' ? this.sequence(req) : this.conductor(req);

  private sequence(req: InvokeRequest): Promise<InvokeOutcome> {
    return this.start(req, (id) => this.runSequence(req, id, { atomic: 0, conductorRuns: 0 }));
  }

  private conductor(req: InvokeRequest): Promise<InvokeOutcome> {
    return this.start(req, (id) => this.runConductor(req, id, { atomic: 0, conductorRuns: 0 }));
  }

  /** Runs a composition; stores its record when it ends; answers within the caller's wait. */
  private async start(req: InvokeRequest, run: (id: string) => Promise<ActivationRecord>): Promise<InvokeOutcome> {
    const activationId = newActivationId();
    const key = { namespace: req.identity.namespace.name, activationId };
    // The same entry as an atomic activation's (a nested composition's `cause` included).
    await this.journal?.begin(pendingActivation(req, activationId));
    const done = run(activationId).then(async (record) => {
      await this.activations.put([record]);
      await this.journal?.end([key]);
      return record;
    });
    const tracked = done.catch((err: unknown) => {
      this.log?.error({ err, activationId }, 'composition failed');
      return undefined;
    });
    this.background.add(tracked);
    void tracked.finally(() => this.background.delete(tracked));
    if (!req.blocking) return { activationId };
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      tracked,
      new Promise<undefined>((r) => {
        timer = setTimeout(() => r(undefined), req.waitMs);
      }),
    ]);
    clearTimeout(timer);
    return waited ? { activationId, record: waited } : { activationId };
  }

  private async runSequence(req: InvokeRequest, activationId: string, budget: Budget): Promise<ActivationRecord> {
    const seq = req.action.doc;
    const components = seq.exec.kind === 'sequence' ? (seq.exec as SequenceExec).components : [];
    const start = Date.now();
    const logs: string[] = [];
    let duration = 0;
    let memory = 0;
    let input: Record<string, unknown> | unknown[] = req.payload;
    let response: Response = { statusCode: ActivationStatus.Success, result: {} };
    for (const name of components) {
      let component: ResolvedAction;
      try {
        component = await resolveAction(this.cache, req.identity, parseFqn(name, req.identity.namespace.name));
      } catch {
        response = errorResponse(ActivationStatus.ApplicationError, 'Sequence component does not exist.');
        break;
      }
      const step = await this.runComponent(req, component, input, activationId, budget, 'Too many actions in the sequence.');
      if (step.id) logs.push(step.id);
      duration += step.duration;
      memory = Math.max(memory, component.action.doc.limits.memory);
      response = step.response;
      if (!isSuccess(response)) break;
      input = resultAsInput(response.result);
    }
    return this.compositionRecord(req, activationId, { start, duration, response, logs, memory, conductor: false });
  }

  private async runConductor(req: InvokeRequest, activationId: string, budget: Budget): Promise<ActivationRecord> {
    const start = Date.now();
    const logs: string[] = [];
    let duration = 0;
    let memory = req.action.doc.limits.memory;
    const conductor: ResolvedAction = { action: req.action, packageParams: req.packageParams ?? [], ...(req.binding ? { binding: req.binding } : {}) };
    let input: Record<string, unknown> | unknown[] = req.payload;
    let response: Response;
    for (;;) {
      // 1. Ask the conductor what to do next.
      if (++budget.conductorRuns > MAX_CONDUCTOR_RUNS) {
        response = errorResponse(ActivationStatus.ApplicationError, 'Too many actions in the composition.');
        break;
      }
      const step = await this.runAtomic(req, conductor, input, activationId);
      if (step.id) logs.push(step.id);
      duration += step.duration;
      response = step.response;
      if (!isSuccess(response)) break;
      const out = isObject(response.result) ? response.result : {};
      const state = out.state === undefined ? {} : isObject(out.state) ? out.state : { state: out.state };
      const params = out.params === undefined ? undefined : isObject(out.params) || Array.isArray(out.params) ? out.params : { value: out.params };
      if (out.action === undefined) {
        response = { ...response, result: params ?? out };
        break;
      }
      // 2. Run the component it named, then feed its result (with the state) back to the conductor.
      let component: ResolvedAction | undefined;
      let failure: string | undefined;
      if (typeof out.action !== 'string') {
        failure = `Failed to parse action name from json value ${JSON.stringify(out.action)} during composition.`;
      } else {
        try {
          component = await resolveAction(this.cache, req.identity, parseFqn(out.action, req.identity.namespace.name));
        } catch (err) {
          const forbidden = err instanceof WhirlError && err.code === 'NOT_ENTITLED';
          failure = forbidden
            ? `Failed entitlement check for action '${out.action}' during composition.`
            : `Failed to resolve action with name '${out.action}' during composition.`;
        }
      }
      if (!component) {
        input = { ...state, error: failure };
        continue;
      }
      memory = Math.max(memory, component.action.doc.limits.memory);
      const comp = await this.runComponent(req, component, params ?? {}, activationId, budget, 'Too many actions in the composition.');
      if (comp.id) logs.push(comp.id);
      duration += comp.duration;
      if (!isSuccess(comp.response)) {
        response = comp.response;
        break;
      }
      const result = comp.response.result;
      input = isObject(result) ? { ...result, ...state } : Array.isArray(result) ? result : { ...state };
    }
    return this.compositionRecord(req, activationId, { start, duration, response, logs, memory, conductor: true });
  }

  /** One component: an atomic action, or a nested sequence/conductor with its own record. */
  private async runComponent(
    req: InvokeRequest,
    component: ResolvedAction,
    input: Record<string, unknown> | unknown[],
    parentId: string,
    budget: Budget,
    tooMany: string,
  ): Promise<{ id?: string; duration: number; response: Response }> {
    const doc = component.action.doc;
    const nestedReq: InvokeRequest = {
      ...req,
      action: component.action,
      packageParams: component.packageParams,
      payload: input,
      cause: parentId,
      annotations: [causedBy],
      ...(component.binding !== undefined ? { binding: component.binding } : { binding: undefined }),
    };
    if (doc.exec.kind === 'sequence' || isConductor(doc.annotations)) {
      const id = newActivationId();
      const record =
        doc.exec.kind === 'sequence' ? await this.runSequence(nestedReq, id, budget) : await this.runConductor(nestedReq, id, budget);
      await this.activations.put([record]);
      return { id, duration: record.duration ?? 0, response: record.response };
    }
    if (++budget.atomic > Limits.sequenceLength) {
      return { duration: 0, response: errorResponse(ActivationStatus.ApplicationError, tooMany) };
    }
    return this.runAtomic(req, component, input, parentId);
  }

  private async runAtomic(
    req: InvokeRequest,
    component: ResolvedAction,
    input: Record<string, unknown> | unknown[],
    parentId: string,
  ): Promise<{ id?: string; duration: number; response: Response }> {
    const outcome = await this.atomic({
      identity: req.identity,
      action: component.action,
      packageParams: component.packageParams,
      ...(component.binding !== undefined ? { binding: component.binding } : {}),
      payload: input,
      blocking: true,
      waitMs: component.action.doc.limits.timeout + 60_000,
      transid: req.transid,
      received: Date.now(),
      cause: parentId,
      annotations: [causedBy],
    });
    if (!outcome.record) {
      return {
        id: outcome.activationId,
        duration: 0,
        response: errorResponse(
          ActivationStatus.WhiskError,
          `Timeout reached when retrieving activation ${outcome.activationId} for sequence component.`,
        ),
      };
    }
    return { id: outcome.activationId, duration: outcome.record.duration ?? 0, response: outcome.record.response };
  }

  private compositionRecord(
    req: InvokeRequest,
    activationId: string,
    r: { start: number; duration: number; response: Response; logs: string[]; memory: number; conductor: boolean },
  ): ActivationRecord {
    const a = req.action.doc;
    const nested = req.cause !== undefined;
    return activationRecord({
      namespace: req.identity.namespace.name,
      subject: req.identity.subject,
      name: a.name,
      version: a.version,
      activationId,
      start: r.start,
      end: Date.now(),
      duration: r.duration,
      ...(nested ? { cause: req.cause } : {}),
      response: r.response,
      logs: r.logs,
      leading: [{ key: 'topmost', value: !nested }, ...(nested ? [causedBy] : [])],
      path: `${a.namespace}/${a.name}`,
      waitTime: Math.max(0, r.start - req.received),
      kind: 'sequence',
      conductor: r.conductor,
      limits: { ...a.limits, memory: r.memory || a.limits.memory },
      ...(req.binding !== undefined ? { binding: req.binding } : {}),
    });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isSuccess(r: Response): boolean {
  return r.statusCode === ActivationStatus.Success && !(isObject(r.result) && 'error' in r.result);
}

function resultAsInput(result: unknown): Record<string, unknown> | unknown[] {
  return isObject(result) || Array.isArray(result) ? result : {};
}

export function isConductor(annotations: readonly KeyValue[]): boolean {
  const v = annotations.find((x) => x.key === 'conductor')?.value;
  return v !== undefined && v !== false && v !== null && v !== 0 && v !== '';
}
