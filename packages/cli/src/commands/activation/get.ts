/** `whirl activation get|logs|result ID|--last`. */
import type { Command } from 'commander';
import type { Factory } from '../../factory.js';
import { printJson } from '../../output.js';
import { printGot } from '../listing.js';
import { addJsonFlag, attempt, deps, leaf, runsWith, type Deps } from '../shared.js';
import { resolveActivationId, stripLogLine } from './common.js';

export interface ActivationGetOptions extends Deps {
  id?: string;
  field?: string;
  last?: boolean;
  summary?: boolean;
  json?: boolean;
}

export function makeActivationGetCommand(f: Factory, run = runActivationGet): Command {
  const cmd = leaf('get', 'get an activation')
    .argument('[id]', 'activation ID')
    .argument('[field]', 'print only this field (e.g. response, logs)')
    .option('-l, --last', 'the most recent activation')
    .option('-s, --summary', 'print a summary');
  addJsonFlag(cmd);
  return cmd.action(async (id: string | undefined, field: string | undefined, o: Omit<ActivationGetOptions, keyof Deps | 'id' | 'field'>) => {
    // With --last, the only positional is the field.
    if (o.last === true && field === undefined && id !== undefined) await run({ ...deps(f), ...o, field: id });
    else await run({ ...deps(f), ...o, id, field });
  });
}

export async function runActivationGet(o: ActivationGetOptions): Promise<void> {
  const ns = o.config().namespace.value;
  const id = await resolveActivationId(o.client(), ns, o.id, o.last);
  const a = await attempt(`Unable to get activation '${id}'`, () => o.client().getActivation(ns, id));
  const value: unknown = o.field !== undefined ? (a as unknown as Record<string, unknown>)[o.field] : a;
  const summary = (): void => {
    o.io.out.write(`activation result for '/${a.namespace}/${a.name}' (${a.response?.status ?? 'unknown'} at ${new Date(a.start).toISOString()})\n`);
    printJson(o.io, a.response?.result ?? {});
  };
  printGot(o, `activation ${id}${o.field !== undefined ? `, displaying field ${o.field}` : ''}`, value, o.summary === true ? summary : undefined);
}

export interface ActivationLogsOptions extends Deps {
  id?: string;
  last?: boolean;
  strip?: boolean;
  json?: boolean;
}

export function makeActivationLogsCommand(f: Factory, run = runActivationLogs): Command {
  const cmd = leaf('logs', 'get the logs of an activation')
    .argument('[id]', 'activation ID')
    .option('-l, --last', 'the most recent activation')
    .option('-r, --strip', 'only the log message, without timestamp and stream');
  return runsWith(addJsonFlag(cmd), f, run, ['id']);
}

export async function runActivationLogs(o: ActivationLogsOptions): Promise<void> {
  const ns = o.config().namespace.value;
  const id = await resolveActivationId(o.client(), ns, o.id, o.last);
  const { logs } = await attempt(`Unable to get logs for activation '${id}'`, () => o.client().activationLogs(ns, id));
  const lines = o.strip === true ? logs.map(stripLogLine) : logs;
  if (o.json === true) return printJson(o.io, { logs: lines });
  for (const l of lines) o.io.out.write(`${l}\n`);
}

export interface ActivationResultOptions extends Deps {
  id?: string;
  last?: boolean;
  json?: boolean;
}

export function makeActivationResultCommand(f: Factory, run = runActivationResult): Command {
  const cmd = leaf('result', 'get the result of an activation').argument('[id]', 'activation ID').option('-l, --last', 'the most recent activation');
  return runsWith(addJsonFlag(cmd), f, run, ['id']);
}

export async function runActivationResult(o: ActivationResultOptions): Promise<void> {
  const ns = o.config().namespace.value;
  const id = await resolveActivationId(o.client(), ns, o.id, o.last);
  const r = await attempt(`Unable to get the result of activation '${id}'`, () => o.client().activationResult(ns, id));
  printJson(o.io, o.json === true ? r : (r.result ?? {}));
}
