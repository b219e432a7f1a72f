/** `whirl rule create|update|enable|disable|status|get|delete|list` (OPENWHISK-COMPAT.md §1.5, §12). */
import { Command } from 'commander';
import type { WhiskClient } from '../../api/client.js';
import type { Rule } from '../../api/types.js';
import type { Factory } from '../../factory.js';
import { fqn, parseFlatName, parseQName } from '../../names.js';
import { annotationsFrom, type KVFlags } from '../../params.js';
import { printJson, printOk } from '../../output.js';
import { addPageFlags, entityRows, namespaceArg, printGot, printList, type PageFlags } from '../listing.js';
import { addAnnotationFlags, addJsonFlag, attempt, deps, leaf, mapLimit, runsWith, type Deps } from '../shared.js';

export interface RuleCreateOptions extends Deps, KVFlags {
  update: boolean;
  name: string;
  trigger: string;
  action: string;
}

export function makeRuleCreateCommand(f: Factory, update: boolean, run = runRuleCreate): Command {
  const cmd = leaf(update ? 'update' : 'create', update ? 'update an existing rule, or create it' : 'create a new rule')
    .argument('<name>', 'rule name')
    .argument('<trigger>', 'trigger name')
    .argument('<action>', 'action name');
  addAnnotationFlags(cmd);
  return runsWith(cmd, f, run, ['name', 'trigger', 'action'], { update });
}

export async function runRuleCreate(o: RuleCreateOptions): Promise<void> {
  const ns = o.config().namespace.value;
  const q = parseFlatName(o.name, ns, 'rule');
  const verb = o.update ? 'update' : 'create';
  // Names must be qualified in the body; `_` lets the server fill in the caller's namespace.
  const trigger = fqn(parseFlatName(o.trigger, ns, 'trigger'));
  const action = fqn(parseQName(o.action, ns));
  const annotations = annotationsFrom(o);
  await attempt(`Unable to ${verb} rule '${o.name}'`, () =>
    o.client().putRule(q.namespace, q.entity, { name: q.name, status: '', trigger, action, ...(annotations ? { annotations } : {}) }, o.update),
  );
  printOk(o.io, `${verb}d rule ${o.name}`);
}

export interface RuleStateOptions extends Deps {
  name: string;
  state: 'active' | 'inactive';
}

export function makeRuleStateCommand(f: Factory, state: 'active' | 'inactive', run = runRuleState): Command {
  return leaf(state === 'active' ? 'enable' : 'disable', state === 'active' ? 'enable a rule' : 'disable a rule')
    .argument('<name>', 'rule name')
    .action(async (name: string) => {
      await run({ ...deps(f), name, state });
    });
}

export async function runRuleState(o: RuleStateOptions): Promise<void> {
  const q = parseFlatName(o.name, o.config().namespace.value, 'rule');
  const verb = o.state === 'active' ? 'enable' : 'disable';
  await attempt(`Unable to ${verb} rule '${o.name}'`, () => o.client().setRuleState(q.namespace, q.entity, o.state));
  printOk(o.io, `${verb}d rule ${o.name}`);
}

export interface RuleGetOptions extends Deps {
  name: string;
  statusOnly: boolean;
  summary?: boolean;
  json?: boolean;
}

export function makeRuleGetCommand(f: Factory, statusOnly: boolean, run = runRuleGet): Command {
  const cmd = leaf(statusOnly ? 'status' : 'get', statusOnly ? 'get the status of a rule' : 'get a rule').argument('<name>', 'rule name');
  if (!statusOnly) cmd.option('-s, --summary', 'print a summary');
  return runsWith(addJsonFlag(cmd), f, run, ['name'], { statusOnly });
}

export async function runRuleGet(o: RuleGetOptions): Promise<void> {
  const q = parseFlatName(o.name, o.config().namespace.value, 'rule');
  const r = await attempt(`Unable to get ${o.statusOnly ? 'status of ' : ''}rule '${o.name}'`, () => o.client().getRule(q.namespace, q.entity));
  if (o.statusOnly) {
    if (o.json === true) printJson(o.io, { status: r.status });
    else printOk(o.io, `rule ${o.name} is ${r.status ?? 'unknown'}`);
    return;
  }
  const summary = (): void => {
    o.io.out.write(`${o.io.colors().bold('rule')} /${r.namespace}/${r.name}\n   (status: ${r.status ?? 'unknown'})\n`);
  };
  printGot(o, `rule ${o.name}`, r, o.summary === true ? summary : undefined);
}

export interface RuleDeleteOptions extends Deps {
  name: string;
  disable?: boolean;
  json?: boolean;
}

export function makeRuleDeleteCommand(f: Factory, run = runRuleDelete): Command {
  const cmd = leaf('delete', 'delete a rule').argument('<name>', 'rule name').option('--disable', 'disable the rule before deleting it');
  return runsWith(addJsonFlag(cmd), f, run, ['name']);
}

export async function runRuleDelete(o: RuleDeleteOptions): Promise<void> {
  const q = parseFlatName(o.name, o.config().namespace.value, 'rule');
  const context = `Unable to delete rule '${o.name}'`;
  if (o.disable === true) await attempt(context, () => o.client().setRuleState(q.namespace, q.entity, 'inactive'));
  const r = await attempt(context, () => o.client().deleteRule(q.namespace, q.entity));
  if (o.json === true) printJson(o.io, r);
  else printOk(o.io, `deleted rule ${o.name}`);
}

export interface RuleListOptions extends Deps, PageFlags {
  namespace?: string;
  json?: boolean;
}

export function makeRuleListCommand(f: Factory, run = runRuleList): Command {
  const cmd = addPageFlags(leaf('list', 'list rules').argument('[namespace]', 'namespace (default: yours)'));
  return runsWith(addJsonFlag(cmd), f, run, ['namespace']);
}

/** List items carry no status (it lives on the trigger), so wsk asks for each rule. */
export async function rulesWithStatus(client: WhiskClient, ns: string, q: { limit?: number; skip?: number }): Promise<Rule[]> {
  const list = await client.listRules(ns, q);
  return mapLimit(list, 8, async (r) => {
    const full = await client.getRule(ns, r.name).catch(() => undefined);
    return { ...r, status: full?.status ?? r.status };
  });
}

export async function runRuleList(o: RuleListOptions): Promise<void> {
  const ns = namespaceArg(o);
  const list = await attempt('Unable to obtain the list of rules', () => rulesWithStatus(o.client(), ns, { limit: o.limit, skip: o.skip }));
  printList(o, list, { title: 'rules', rows: (l) => entityRows(l, false, (r) => [r.status ?? '']) });
}

export function makeRuleCommand(f: Factory): Command {
  return new Command('rule')
    .description('work with rules')
    .addCommand(makeRuleCreateCommand(f, false))
    .addCommand(makeRuleCreateCommand(f, true))
    .addCommand(makeRuleStateCommand(f, 'active'))
    .addCommand(makeRuleStateCommand(f, 'inactive'))
    .addCommand(makeRuleGetCommand(f, true))
    .addCommand(makeRuleGetCommand(f, false))
    .addCommand(makeRuleDeleteCommand(f))
    .addCommand(makeRuleListCommand(f));
}
