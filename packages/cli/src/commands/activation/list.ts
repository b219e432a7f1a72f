/** `whirl activation list [NAME]`. */
import type { Command } from 'commander';
import type { Factory } from '../../factory.js';
import { addPageFlags, printList, type PageFlags } from '../listing.js';
import { addJsonFlag, attempt, leaf, runsWith, type Deps } from '../shared.js';
import { ACTIVATION_HEADER, activationRow, parseTime } from './common.js';

export interface ActivationListOptions extends Deps, PageFlags {
  name?: string;
  since?: number;
  upto?: number;
  full?: boolean;
  json?: boolean;
}

export function makeActivationListCommand(f: Factory, run = runActivationList): Command {
  const cmd = addPageFlags(leaf('list', 'list activations, newest first').argument('[name]', 'only activations of this action (name or package/name)'), {
    limit: 'at most this many (default 30, 0 = 200)',
    skip: 'skip this many',
  })
    .option('--since <time>', 'only those started after: epoch ms, or an age like 10m', parseTime('--since'))
    .option('--upto <time>', 'only those started before: epoch ms, or an age like 10m', parseTime('--upto'))
    .option('-f, --full', 'full activation records');
  return runsWith(addJsonFlag(cmd), f, run, ['name']);
}

export async function runActivationList(o: ActivationListOptions): Promise<void> {
  const ns = o.config().namespace.value;
  // The name filter takes `name` or `pkg/name`, without a namespace.
  const name = o.name?.replace(/^\/[^/]+\//, '');
  const list = await attempt('Unable to obtain the list of activations', () =>
    o.client().listActivations(ns, { limit: o.limit ?? 30, skip: o.skip ?? 0, name, since: o.since, upto: o.upto, docs: o.full === true ? true : undefined }),
  );
  printList({ io: o.io, json: o.json === true || o.full === true }, list, { header: ACTIVATION_HEADER, rows: (l) => l.map(activationRow) });
}
