/** `whirl activation list [NAME]`. */
import type { Command } from 'commander';
import type { Factory } from '../../factory.js';
import { parseIntFlag } from '../../params.js';
import { printJson, printTable } from '../../output.js';
import { addJsonFlag, attempt, deps, leaf, type Deps } from '../shared.js';
import { ACTIVATION_HEADER, activationRow, parseTime } from './common.js';

export interface ActivationListOptions extends Deps {
  name?: string;
  limit?: number;
  skip?: number;
  since?: number;
  upto?: number;
  full?: boolean;
  json?: boolean;
}

export function makeActivationListCommand(f: Factory, run = runActivationList): Command {
  const cmd = leaf('list', 'list activations, newest first')
    .argument('[name]', 'only activations of this action (name or package/name)')
    .option('-l, --limit <n>', 'at most this many (default 30, 0 = 200)', parseIntFlag('--limit'))
    .option('-s, --skip <n>', 'skip this many', parseIntFlag('--skip'))
    .option('--since <time>', 'only those started after: epoch ms, or an age like 10m', parseTime('--since'))
    .option('--upto <time>', 'only those started before: epoch ms, or an age like 10m', parseTime('--upto'))
    .option('-f, --full', 'full activation records');
  addJsonFlag(cmd);
  return cmd.action(async (name: string | undefined, o: Omit<ActivationListOptions, keyof Deps | 'name'>) => {
    await run({ ...deps(f), ...o, name });
  });
}

export async function runActivationList(o: ActivationListOptions): Promise<void> {
  const ns = o.config().namespace.value;
  // The name filter takes `name` or `pkg/name`, without a namespace.
  const name = o.name?.replace(/^\/[^/]+\//, '');
  const list = await attempt('Unable to obtain the list of activations', () =>
    o.client().listActivations(ns, { limit: o.limit ?? 30, skip: o.skip ?? 0, name, since: o.since, upto: o.upto, docs: o.full === true ? true : undefined }),
  );
  if (o.json === true || o.full === true) return printJson(o.io, list);
  printTable(o.io, undefined, list.map(activationRow), ACTIVATION_HEADER);
}
