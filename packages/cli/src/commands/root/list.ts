/** `whirl list [NAMESPACE]` and `whirl namespace get`: every entity in a namespace, as wsk shows it. */
import type { Command } from 'commander';
import { ApiError, type WhiskClient } from '../../api/client.js';
import type { Action, Package, Rule, Trigger } from '../../api/types.js';
import type { Factory } from '../../factory.js';
import type { IOStreams } from '../../iostreams.js';
import { printJson, printTable, printWarning } from '../../output.js';
import { actionRows } from '../action/list.js';
import { rulesWithStatus } from '../rule/rule.js';
import { entityRows, namespaceArg } from '../listing.js';
import { addJsonFlag, attempt, leaf, runsWith, type Deps } from '../shared.js';

export interface ListOptions extends Deps {
  namespace?: string;
  nameSort?: boolean;
  json?: boolean;
}

export function makeListCommand(f: Factory, name = 'list', run = runList): Command {
  const cmd = leaf(name, name === 'list' ? 'list every entity in a namespace' : 'get the entities of a namespace')
    .argument('[namespace]', 'namespace (default: yours)')
    .option('-n, --name-sort', 'sort by name');
  return runsWith(addJsonFlag(cmd), f, run, ['namespace']);
}

export interface NamespaceContents {
  packages: Package[];
  actions: Action[];
  triggers: Trigger[];
  rules: Rule[];
}

/**
 * A server without a collection's route answers 404 for the list; show that collection as empty with a
 * warning instead of failing the whole listing.
 */
async function orEmpty<T>(io: IOStreams, what: string, p: Promise<T[]>): Promise<T[]> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405)) {
      printWarning(io, `the server does not list ${what} (${e.serverMessage})`);
      return [];
    }
    throw e;
  }
}

export async function namespaceContents(io: IOStreams, client: WhiskClient, ns: string): Promise<NamespaceContents> {
  const [packages, actions, triggers, rules] = await Promise.all([
    orEmpty(io, 'packages', client.listPackages(ns, { limit: 0 })),
    orEmpty(io, 'actions', client.listActions(ns, undefined, { limit: 0 })),
    orEmpty(io, 'triggers', client.listTriggers(ns, { limit: 0 })),
    orEmpty(io, 'rules', rulesWithStatus(client, ns, { limit: 0 })),
  ]);
  return { packages, actions, triggers, rules };
}

export async function runList(o: ListOptions): Promise<void> {
  const ns = namespaceArg(o);
  const c = await attempt(`Unable to obtain the list of entities for namespace '${ns}'`, () => namespaceContents(o.io, o.client(), ns));
  if (o.json === true) return printJson(o.io, c);
  if (o.io.isStdoutTTY()) o.io.out.write(`Entities in namespace: ${ns === '_' ? 'default' : ns}\n`);
  // In a pipe every row starts with its type so the sections survive `grep`.
  const tag = (type: string, rows: string[][]): string[][] => (o.io.isStdoutTTY() ? rows : rows.map((r) => [type, ...r]));
  printTable(o.io, 'packages', tag('package', entityRows(c.packages, o.nameSort)));
  printTable(o.io, 'actions', tag('action', actionRows(c.actions, o.nameSort)));
  printTable(o.io, 'triggers', tag('trigger', entityRows(c.triggers, o.nameSort)));
  printTable(o.io, 'rules', tag('rule', entityRows(c.rules, o.nameSort, (r) => [r.status ?? ''])));
}
