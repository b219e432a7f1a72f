import { Command } from 'commander';
import type { Factory } from '../../factory.js';
import { makeActivationGetCommand, makeActivationLogsCommand, makeActivationResultCommand } from './get.js';
import { makeActivationListCommand } from './list.js';
import { makeActivationPollCommand } from './poll.js';

export function makeActivationCommand(f: Factory): Command {
  return new Command('activation')
    .description('work with activations')
    .addCommand(makeActivationListCommand(f))
    .addCommand(makeActivationGetCommand(f))
    .addCommand(makeActivationLogsCommand(f))
    .addCommand(makeActivationResultCommand(f))
    .addCommand(makeActivationPollCommand(f));
}
