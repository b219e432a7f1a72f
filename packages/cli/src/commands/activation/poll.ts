/** `whirl activation poll [NAME]`: streams new activations and their logs until Ctrl-C (or --exit). */
import type { Command } from 'commander';
import type { Factory } from '../../factory.js';
import { parseIntFlag } from '../../params.js';
import { printJson } from '../../output.js';
import { attempt, leaf, runsWith, type Deps } from '../shared.js';

export interface ActivationPollOptions extends Deps {
  name?: string;
  exit?: number;
  sinceSeconds?: number;
  sinceMinutes?: number;
  sinceHours?: number;
  sinceDays?: number;
  interval?: number;
  json?: boolean;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export function makeActivationPollCommand(f: Factory, run = runActivationPoll): Command {
  const cmd = leaf('poll', 'stream new activations and their logs (Ctrl-C to stop)')
    .argument('[name]', 'only activations of this action')
    .option('-e, --exit <seconds>', 'stop after this many seconds', parseIntFlag('--exit'))
    .option('--since-seconds <n>', 'start from this many seconds ago', parseIntFlag('--since-seconds'))
    .option('--since-minutes <n>', 'start from this many minutes ago', parseIntFlag('--since-minutes'))
    .option('--since-hours <n>', 'start from this many hours ago', parseIntFlag('--since-hours'))
    .option('--since-days <n>', 'start from this many days ago', parseIntFlag('--since-days'))
    .option('--interval <ms>', 'poll interval in milliseconds (default 2000)', parseIntFlag('--interval'))
    .option('--json', 'one JSON activation record per line');
  return runsWith(cmd, f, run, ['name']);
}

export async function runActivationPoll(o: ActivationPollOptions): Promise<void> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const ns = o.config().namespace.value;
  const back = (o.sinceSeconds ?? 0) * 1000 + (o.sinceMinutes ?? 0) * 60_000 + (o.sinceHours ?? 0) * 3_600_000 + (o.sinceDays ?? 0) * 86_400_000;
  let since = now() - back;
  const deadline = o.exit !== undefined ? now() + o.exit * 1000 : Infinity;
  const seen = new Set<string>();
  const name = o.name?.replace(/^\/[^/]+\//, '');
  if (o.json !== true) o.io.err.write('Enter Ctrl-c to exit.\nPolling for activation logs\n\n');
  while (now() < deadline) {
    const list = await attempt('Unable to poll for activations', () => o.client().listActivations(ns, { docs: true, limit: 0, since, name }));
    // The server answers newest first; print oldest first, like a log.
    for (const a of [...list].reverse()) {
      if (seen.has(a.activationId)) continue;
      seen.add(a.activationId);
      since = Math.max(since, a.start);
      if (o.json === true) {
        o.io.out.write(`${JSON.stringify(a)}\n`);
        continue;
      }
      o.io.out.write(`${o.io.colors().bold('Activation:')} '${a.name}' (${a.activationId})\n`);
      printJson(o.io, a.logs ?? []);
      o.io.out.write('\n');
    }
    await sleep(Math.min(o.interval ?? 2000, Math.max(0, deadline - now())));
  }
}
