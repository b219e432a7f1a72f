/** `whirl action list [PACKAGE]`. */
import type { Command } from 'commander';
import { annotationValue, type Action } from '../../api/types.js';
import type { Factory } from '../../factory.js';
import { parseQName } from '../../names.js';
import { parseIntFlag } from '../../params.js';
import { printJson, printTable, visibility } from '../../output.js';
import { addJsonFlag, attempt, deps, leaf, type Deps } from '../shared.js';

export interface ActionListOptions extends Deps {
  pkg?: string;
  limit?: number;
  skip?: number;
  nameSort?: boolean;
  json?: boolean;
}

export function makeActionListCommand(f: Factory, run = runActionList): Command {
  const cmd = leaf('list', 'list actions')
    .argument('[package]', 'list only the actions of this package (or /namespace)')
    .option('-l, --limit <n>', 'at most this many (0 = 200)', parseIntFlag('--limit'))
    .option('-s, --skip <n>', 'skip this many', parseIntFlag('--skip'))
    .option('-n, --name-sort', 'sort by name');
  addJsonFlag(cmd);
  return cmd.action(async (pkg: string | undefined, o: Omit<ActionListOptions, keyof Deps | 'pkg'>) => {
    await run({ ...deps(f), ...o, pkg });
  });
}

export function actionRows(list: readonly Action[], nameSort?: boolean): string[][] {
  const items = [...list];
  if (nameSort === true) items.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  return items.map((a) => {
    const kind = annotationValue(a.annotations, 'exec') ?? a.exec?.kind ?? '';
    return [`/${a.namespace}/${a.name}`, visibility(a.publish), String(kind)];
  });
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
  if (o.json === true) return printJson(o.io, list);
  printTable(o.io, 'actions', actionRows(list, o.nameSort));
}
