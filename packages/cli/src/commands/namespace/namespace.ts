/** `whirl namespace list|get`. */
import { Command } from 'commander';
import type { Factory } from '../../factory.js';
import { printJson, printTable } from '../../output.js';
import { makeListCommand } from '../root/list.js';
import { addJsonFlag, attempt, deps, leaf, type Deps } from '../shared.js';

export interface NamespaceListOptions extends Deps {
  json?: boolean;
}

export function makeNamespaceListCommand(f: Factory, run = runNamespaceList): Command {
  const cmd = leaf('list', 'list the namespaces of your key');
  addJsonFlag(cmd);
  return cmd.action(async (o: Omit<NamespaceListOptions, keyof Deps>) => {
    await run({ ...deps(f), ...o });
  });
}

export async function runNamespaceList(o: NamespaceListOptions): Promise<void> {
  const list = await attempt('Unable to obtain the list of available namespaces', () => o.client().namespaces());
  if (o.json === true) return printJson(o.io, list);
  printTable(
    o.io,
    'namespaces',
    list.map((n) => [n]),
  );
}

export function makeNamespaceCommand(f: Factory): Command {
  return new Command('namespace')
    .description('work with namespaces')
    .addCommand(makeNamespaceListCommand(f))
    .addCommand(makeListCommand(f, 'get'));
}
