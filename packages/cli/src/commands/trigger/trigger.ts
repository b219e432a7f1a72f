/**
 * `whirl trigger create|update|get|delete|list|fire`. Feeds follow wsk's client-driven lifecycle
 * (OPENWHISK-COMPAT.md §7): the server never calls feed actions, the CLI does.
 */
import { Command } from 'commander';
import type { WhiskClient } from '../../api/client.js';
import { annotationValue, type KeyValue, type Trigger, type TriggerPut } from '../../api/types.js';
import { CliError, exitCodeForStatus } from '../../exit.js';
import type { Factory } from '../../factory.js';
import { fqn, parseFlatName, parseQName } from '../../names.js';
import { annotationsFrom, mergeKeyValues, paramsFrom, toObject, type KVFlags } from '../../params.js';
import { printJson, printOk } from '../../output.js';
import { addPageFlags, entityRows, namespaceArg, printGot, printList, type PageFlags } from '../listing.js';
import { addAnnotationFlags, addJsonFlag, addParamFlags, attempt, leaf, runsWith, type Deps } from '../shared.js';

type Lifecycle = 'CREATE' | 'READ' | 'UPDATE' | 'DELETE';

/** Invokes a feed action blocking; throws with the feed's own error message if it did not succeed. */
async function runFeed(client: WhiskClient, feed: string, event: Lifecycle, triggerName: string, params: Record<string, unknown>): Promise<unknown> {
  const q = parseQName(feed, client.namespace);
  const body = { ...params, lifecycleEvent: event, triggerName, authKey: client.opts.auth };
  const res = await client.invokeAction(q.namespace, q.entity, body, { blocking: true, result: false });
  const act = res.body as { response?: { success?: boolean; result?: unknown }; error?: unknown } | undefined;
  if (res.status === 200 && act?.response?.success === true) return act.response.result;
  const err = (act?.response?.result as { error?: unknown } | undefined)?.error ?? act?.error ?? `HTTP ${res.status}`;
  throw new CliError(`feed action '${feed}' failed on ${event}: ${typeof err === 'string' ? err : JSON.stringify(err)}`, res.status >= 400 ? exitCodeForStatus(res.status) : 1);
}

export interface TriggerCreateOptions extends Deps, KVFlags {
  update: boolean;
  name: string;
  feed?: string;
}

export function makeTriggerCreateCommand(f: Factory, update: boolean, run = runTriggerCreate): Command {
  const cmd = leaf(update ? 'update' : 'create', update ? 'update an existing trigger, or create it' : 'create a new trigger')
    .argument('<name>', 'trigger name')
    .option('-f, --feed <action>', 'feed action that will fire this trigger (e.g. /whisk.system/alarms/alarm)');
  addParamFlags(cmd);
  addAnnotationFlags(cmd);
  return runsWith(cmd, f, run, ['name'], { update });
}

export async function runTriggerCreate(o: TriggerCreateOptions): Promise<void> {
  const ns = o.config().namespace.value;
  const q = parseFlatName(o.name, ns, 'trigger');
  const verb = o.update ? 'update' : 'create';
  const context = `Unable to ${verb} trigger '${o.name}'`;
  const params = paramsFrom(o);
  const annotations = annotationsFrom(o);
  const body: TriggerPut = {};
  let feedName: string | undefined;
  if (o.feed !== undefined) {
    feedName = fqn(parseQName(o.feed, ns));
    body.annotations = mergeKeyValues(annotations ?? [], [{ key: 'feed', value: feedName }]);
    // With a feed, the parameters belong to the feed, not to the trigger (as in wsk).
  } else {
    if (params) body.parameters = params;
    if (annotations) body.annotations = annotations;
  }
  const client = o.client();
  await attempt(context, () => client.putTrigger(q.namespace, q.entity, body, o.update));
  if (feedName !== undefined) {
    const event: Lifecycle = o.update ? 'UPDATE' : 'CREATE';
    try {
      await runFeed(client, feedName, event, fqn(q), toObject(params));
    } catch (e) {
      if (!o.update) await client.deleteTrigger(q.namespace, q.entity).catch(() => undefined);
      throw new CliError(`${context}: ${e instanceof Error ? e.message : String(e)}`, e instanceof CliError ? e.exitCode : 1);
    }
  }
  printOk(o.io, `${verb}d trigger ${o.name}`);
}

export interface TriggerGetOptions extends Deps {
  name: string;
  summary?: boolean;
  json?: boolean;
}

export function makeTriggerGetCommand(f: Factory, run = runTriggerGet): Command {
  const cmd = leaf('get', 'get a trigger').argument('<name>', 'trigger name').option('-s, --summary', 'print a summary');
  return runsWith(addJsonFlag(cmd), f, run, ['name']);
}

export async function runTriggerGet(o: TriggerGetOptions): Promise<void> {
  const q = parseFlatName(o.name, o.config().namespace.value, 'trigger');
  const t = await attempt(`Unable to get trigger '${o.name}'`, () => o.client().getTrigger(q.namespace, q.entity));
  const summary = (): void => {
    o.io.out.write(`${o.io.colors().bold('trigger')} /${t.namespace}/${t.name}\n`);
    const params = (t.parameters ?? []).map((p: KeyValue) => p.key);
    o.io.out.write(`   (parameters: ${params.length ? params.join(', ') : 'none defined'})\n`);
  };
  printGot(o, `trigger ${o.name}`, t, o.summary === true ? summary : undefined);
  if (o.json === true || o.summary === true) return;
  // As wsk does: a trigger with a feed also shows what the feed says about it (lifecycle READ).
  const feed = annotationValue(t.annotations, 'feed');
  if (typeof feed === 'string') {
    try {
      const status = await runFeed(o.client(), feed, 'READ', fqn(q), {});
      printOk(o.io, `got feed status of trigger ${o.name} from ${feed}`);
      printJson(o.io, status);
    } catch (e) {
      o.io.err.write(`warning: could not read the feed status: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
}

export interface TriggerDeleteOptions extends Deps {
  name: string;
  json?: boolean;
}

export function makeTriggerDeleteCommand(f: Factory, run = runTriggerDelete): Command {
  const cmd = leaf('delete', 'delete a trigger (and stop its feed)').argument('<name>', 'trigger name');
  return runsWith(addJsonFlag(cmd), f, run, ['name']);
}

export async function runTriggerDelete(o: TriggerDeleteOptions): Promise<void> {
  const q = parseFlatName(o.name, o.config().namespace.value, 'trigger');
  const context = `Unable to delete trigger '${o.name}'`;
  const client = o.client();
  const t: Trigger = await attempt(context, () => client.getTrigger(q.namespace, q.entity));
  const feed = annotationValue(t.annotations, 'feed');
  if (typeof feed === 'string') {
    try {
      await runFeed(client, feed, 'DELETE', fqn(q), {});
    } catch (e) {
      throw new CliError(`${context}: ${e instanceof Error ? e.message : String(e)}`, e instanceof CliError ? e.exitCode : 1);
    }
  }
  const deleted = await attempt(context, () => client.deleteTrigger(q.namespace, q.entity));
  if (o.json === true) printJson(o.io, deleted);
  else printOk(o.io, `deleted trigger ${o.name}`);
}

export interface TriggerListOptions extends Deps, PageFlags {
  namespace?: string;
  json?: boolean;
}

export function makeTriggerListCommand(f: Factory, run = runTriggerList): Command {
  const cmd = addPageFlags(leaf('list', 'list triggers').argument('[namespace]', 'namespace (default: yours)'));
  return runsWith(addJsonFlag(cmd), f, run, ['namespace']);
}

export async function runTriggerList(o: TriggerListOptions): Promise<void> {
  const ns = namespaceArg(o);
  const list = await attempt('Unable to obtain the list of triggers', () => o.client().listTriggers(ns, { limit: o.limit, skip: o.skip }));
  printList(o, list, { title: 'triggers', rows: (l) => entityRows(l) });
}

export interface TriggerFireOptions extends Deps, KVFlags {
  name: string;
  json?: boolean;
}

export function makeTriggerFireCommand(f: Factory, run = runTriggerFire): Command {
  const cmd = leaf('fire', 'fire a trigger').argument('<name>', 'trigger name');
  addParamFlags(cmd);
  return runsWith(addJsonFlag(cmd), f, run, ['name']);
}

export async function runTriggerFire(o: TriggerFireOptions): Promise<void> {
  const q = parseFlatName(o.name, o.config().namespace.value, 'trigger');
  const id = await attempt(`Unable to fire trigger '${o.name}'`, () => o.client().fireTrigger(q.namespace, q.entity, toObject(paramsFrom(o))));
  // 204 (no active rule) has no id; wsk prints the line anyway, with an empty id.
  if (o.json === true) printJson(o.io, id !== undefined ? { activationId: id } : {});
  else printOk(o.io, `triggered ${fqn(q)} with id ${id ?? ''}`);
}

export function makeTriggerCommand(f: Factory): Command {
  return new Command('trigger')
    .description('work with triggers')
    .addCommand(makeTriggerCreateCommand(f, false))
    .addCommand(makeTriggerCreateCommand(f, true))
    .addCommand(makeTriggerGetCommand(f))
    .addCommand(makeTriggerDeleteCommand(f))
    .addCommand(makeTriggerListCommand(f))
    .addCommand(makeTriggerFireCommand(f));
}
