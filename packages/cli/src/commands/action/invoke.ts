/** `whirl action invoke NAME [-b] [-r] [-p k v]`. */
import type { Command } from 'commander';
import { toApiError } from '../../api/client.js';
import type { Activation } from '../../api/types.js';
import { exitCodeForStatus, SilentExit } from '../../exit.js';
import type { Factory } from '../../factory.js';
import { fqn, parseQName } from '../../names.js';
import { paramsFrom, toObject, type KVFlags } from '../../params.js';
import { printJson, printOk } from '../../output.js';
import { addJsonFlag, addParamFlags, attempt, failed, leaf, runsWith, type Deps } from '../shared.js';

export interface ActionInvokeOptions extends Deps, KVFlags {
  name: string;
  blocking?: boolean;
  result?: boolean;
  json?: boolean;
}

export function makeActionInvokeCommand(f: Factory, run = runActionInvoke): Command {
  const cmd = leaf('invoke', 'invoke an action')
    .argument('<name>', 'action name')
    .option('-b, --blocking', 'wait for the result')
    .option('-r, --result', 'print only the result (implies --blocking)');
  addParamFlags(cmd);
  return runsWith(addJsonFlag(cmd), f, run, ['name']);
}

function errorText(result: unknown): string {
  const err = (result as { error?: unknown } | undefined)?.error;
  if (err === undefined) return 'The action did not succeed.';
  return typeof err === 'string' ? err : JSON.stringify(err);
}

export async function runActionInvoke(o: ActionInvokeOptions): Promise<void> {
  const cfg = o.config();
  const q = parseQName(o.name, cfg.namespace.value);
  const params = toObject(paramsFrom(o));
  const result = o.result === true;
  const blocking = o.blocking === true || result;
  const context = `Unable to invoke action '${o.name}'`;
  const stop = blocking ? o.io.startSpinner(`Invoking ${fqn(q)}`) : () => undefined;
  let res;
  try {
    res = await attempt(context, () => o.client().invokeAction(q.namespace, q.entity, params, { blocking, result }));
  } finally {
    stop();
  }
  const idHeader = res.headers['x-openwhisk-activation-id'];
  const body = res.body as (Partial<Activation> & { activationId?: string; code?: unknown; error?: unknown }) | undefined;
  const id = (typeof idHeader === 'string' ? idHeader : undefined) ?? body?.activationId ?? '';
  if (res.status === 202) {
    if (o.json === true) printJson(o.io, body);
    else if (blocking) printOk(o.io, `invoked ${fqn(q)}, but the request has not yet finished, with id ${id}`);
    else printOk(o.io, `invoked ${fqn(q)} with id ${id}`);
    return;
  }
  if (res.status === 200) {
    if (o.json === true || result) printJson(o.io, body);
    else {
      printOk(o.io, `invoked ${fqn(q)} with id ${id}`);
      printJson(o.io, body);
    }
    return;
  }
  // A failed activation (502 application/developer error, 500 whisk error) carries a record, not {error,code}.
  const isPlatformError = body !== undefined && body.code !== undefined && body.code !== null && body.error !== undefined;
  if ((res.status === 502 || res.status === 500) && body !== undefined && !isPlatformError) {
    const r = result ? body : body.response?.result;
    if (o.json === true || result) printJson(o.io, body);
    else {
      printOk(o.io, `invoked ${fqn(q)} with id ${id}`);
      printJson(o.io, body);
    }
    o.io.err.write(`${o.io.errColors().red('error:')} ${context}: ${errorText(r)}\n`);
    throw new SilentExit(exitCodeForStatus(res.status));
  }
  throw failed(context, toApiError(res));
}
