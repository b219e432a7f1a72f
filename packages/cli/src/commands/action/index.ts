import { Command } from 'commander';
import type { Factory } from '../../factory.js';
import { makeActionCreateCommand } from './create.js';
import { makeActionDeleteCommand } from './delete.js';
import { makeActionGetCommand } from './get.js';
import { makeActionInvokeCommand } from './invoke.js';
import { makeActionListCommand } from './list.js';

export function makeActionCommand(f: Factory): Command {
  return new Command('action')
    .description('work with actions')
    .addCommand(makeActionCreateCommand(f, false))
    .addCommand(makeActionCreateCommand(f, true))
    .addCommand(makeActionInvokeCommand(f))
    .addCommand(makeActionGetCommand(f))
    .addCommand(makeActionListCommand(f))
    .addCommand(makeActionDeleteCommand(f));
}
