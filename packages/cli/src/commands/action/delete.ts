/** `whirl action delete NAME`. wsk deletes without asking, and scripts rely on that, so there is no prompt. */
import type { Command } from 'commander';
import type { Factory } from '../../factory.js';
import { parseQName } from '../../names.js';
import { printJson, printOk } from '../../output.js';
import { addJsonFlag, attempt, leaf, runsWith, type Deps } from '../shared.js';

export interface ActionDeleteOptions extends Deps {
  name: string;
  json?: boolean;
}

export function makeActionDeleteCommand(f: Factory, run = runActionDelete): Command {
  const cmd = leaf('delete', 'delete an action').argument('<name>', 'action name');
  return runsWith(addJsonFlag(cmd), f, run, ['name']);
}

export async function runActionDelete(o: ActionDeleteOptions): Promise<void> {
  const q = parseQName(o.name, o.config().namespace.value);
  const deleted = await attempt(`Unable to delete action '${o.name}'`, () => o.client().deleteAction(q.namespace, q.entity));
  if (o.json === true) printJson(o.io, deleted);
  else printOk(o.io, `deleted action ${o.name}`);
}
