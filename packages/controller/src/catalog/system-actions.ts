/**
 * System actions: actions of the `whisk.system` namespace whose work is done by a TypeScript handler
 * inside the controller rather than in an action container. They exist because some catalog actions
 * (the alarms feeds) must talk to the controller itself, and action containers cannot always reach it
 * (Docker bridge networking has no route back to a controller on 127.0.0.1).
 *
 * An action opts in with the annotation `whirl-internal: "<handler id>"`. Only actions stored under
 * `whisk.system` are honoured, so a user cannot annotate an action of their own into the controller.
 * A run produces an ordinary activation record (owned by the invoker's namespace, OpenWhisk response
 * shape) so that clients see no difference from a container run.
 */
import {
  ActivationStatus,
  activationRecord,
  annotation,
  keyValuesToObject,
  newActivationId,
  type ActivationStore,
  type Identity,
  type StatusCode,
  type WhiskAction,
} from '@whirl/core';
import type { Executor, InvokeOutcome, InvokeRequest } from '../invocation.js';

export const SYSTEM_NAMESPACE = 'whisk.system';
export const INTERNAL_ANNOTATION = 'whirl-internal';

export interface SystemActionCall {
  identity: Identity;
  action: WhiskAction;
  /** Parameters merged as for any invoke: package < binding < action < request. */
  params: Record<string, unknown>;
  transid: string;
}

export interface SystemActionResult {
  statusCode: StatusCode;
  result: Record<string, unknown>;
}

export type SystemActionHandler = (call: SystemActionCall) => Promise<SystemActionResult>;

export class SystemActions implements Executor {
  private readonly handlers = new Map<string, SystemActionHandler>();

  constructor(private readonly activations: ActivationStore) {}

  register(id: string, handler: SystemActionHandler): void {
    this.handlers.set(id, handler);
  }

  /** The handler of a system action, or undefined for an ordinary action. */
  handlerFor(action: WhiskAction): SystemActionHandler | undefined {
    const id = annotation(action.annotations, INTERNAL_ANNOTATION);
    if (typeof id !== 'string') return undefined;
    const root = action.namespace.split('/')[0];
    if (root !== SYSTEM_NAMESPACE) return undefined;
    return this.handlers.get(id);
  }

  accepts(action: WhiskAction): boolean {
    return this.handlerFor(action) !== undefined;
  }

  /** Runs a system action in-process and stores its activation; the same contract as InvokeService.invoke. */
  run = async (req: InvokeRequest): Promise<InvokeOutcome> => {
    const a = req.action.doc;
    const handler = this.handlerFor(a);
    if (!handler) throw new Error(`${a.namespace}/${a.name} is not a system action`);
    const start = Date.now();
    const params = { ...keyValuesToObject([...(req.packageParams ?? []), ...a.parameters]), ...req.payload };
    let out: SystemActionResult;
    try {
      out = await handler({ identity: req.identity, action: a, params, transid: req.transid });
    } catch (e) {
      out = { statusCode: ActivationStatus.WhiskError, result: { error: `The system action failed: ${(e as Error).message}` } };
    }
    const record = activationRecord({
      namespace: req.identity.namespace.name,
      subject: req.identity.subject,
      name: a.name,
      version: a.version,
      activationId: newActivationId(),
      start,
      end: Date.now(),
      ...(req.cause !== undefined ? { cause: req.cause } : {}),
      response: { statusCode: out.statusCode, result: out.result, size: Buffer.byteLength(JSON.stringify(out.result)) },
      path: `${a.namespace}/${a.name}`,
      waitTime: Math.max(0, start - req.received),
      kind: a.exec.kind,
      timeout: false,
      limits: a.limits,
      ...(req.binding !== undefined ? { binding: req.binding } : {}),
      trailing: req.annotations ?? [],
    });
    await this.activations.put([record]);
    return req.blocking ? { activationId: record.activationId, record } : { activationId: record.activationId };
  };
}
