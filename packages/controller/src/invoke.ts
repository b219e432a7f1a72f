/**
 * The controller's invoke: a dispatcher that hands each request to the first of its executors that
 * accepts the action. app.ts wires the order: compositions (sequences, conductor actions), then the
 * in-controller system actions, then the bus to an invoker, which accepts everything. The service
 * neither throttles nor resolves names: callers arrive with a resolved action, already counted.
 */
import type { Executor, InvokeOutcome, InvokeRequest } from './invocation.js';

export class InvokeService {
  constructor(private readonly executors: readonly Executor[]) {}

  invoke = async (req: InvokeRequest): Promise<InvokeOutcome> => {
    const doc = req.action.doc;
    const executor = this.executors.find((e) => e.accepts(doc));
    if (!executor) throw new Error(`no executor accepts action ${doc.namespace}/${doc.name}`);
    return executor.run(req);
  };
}
