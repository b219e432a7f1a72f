/** `whirl action list [PACKAGE]`. */
import type { Command } from 'commander';
import { annotationValue, type Action } from '../../api/types.js';
import type { Factory } from '../../factory.js';
import { parseQName } from '../../names.js';
import { addPageFlags, entityRows, printList, type PageFlags } from '../listing.js';
import { addJsonFlag, attempt, leaf, runsWith, type Deps } from '../shared.js';

export interface ActionListOptions extends Deps, PageFlags {
  pkg?: string;
  nameSort?: boolean;
  json?: boolean;
}

export function makeActionListCommand(f: Factory, run = runActionList): Command {
  const cmd = addPageFlags(leaf('list', 'list actions').argument('[package]', 'list only the actions of this package (or /namespace)'));
  cmd.option('-n, --name-sort', 'sort by name');
  return runsWith(addJsonFlag(cmd), f, run, ['pkg']);
}

export function actionRows(list: readonly Action[], nameSort?: boolean): string[][] {
  return entityRows(list, nameSort, (a) => [String(annotationValue(a.annotations, 'exec') ?? a.exec?.kind ?? '')]);
}

export async function runActionList(o: ActionListOptions): Promise<void> {
  const cfg = o.config();
  let ns = cfg.namespace.value;
  let pkg: string | undefined;
  if (o.pkg !== undefined) {
    // `/ns` lists a namespace; anything else names a package.
    if (/^\/[^/]+\/?$/.test(o.pkg)) ns = o.pkg.replace(/\//g, '');
    else {
      const q = parseQName(o.pkg, ns);
      ns = q.namespace;
      pkg = q.entity;
    }
  }
  const list = await attempt('Unable to obtain the list of actions', () => o.client().listActions(ns, pkg, { limit: o.limit, skip: o.skip }));
  printList(o, list, { title: 'actions', rows: (l) => actionRows(l, o.nameSort) });
}
