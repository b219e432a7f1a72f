import { Command } from 'commander';
import type { Factory } from '../../factory.js';
import { makePropertyGetCommand } from './get.js';
import { makePropertySetCommand, makePropertyUnsetCommand } from './set.js';

export function makePropertyCommand(f: Factory): Command {
  return new Command('property')
    .description('work with whisk properties (~/.wskprops or $WSK_CONFIG_FILE)')
    .addCommand(makePropertySetCommand(f))
    .addCommand(makePropertyUnsetCommand(f))
    .addCommand(makePropertyGetCommand(f));
}
