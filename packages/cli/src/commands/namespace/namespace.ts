/** `whirl namespace list|get|usage`. */
import { Command } from 'commander';
import type { Factory } from '../../factory.js';
import { printJson, printTable } from '../../output.js';
import type { UsageFigures } from '../../api/types.js';
import { parseTime } from '../activation/common.js';
import { makeListCommand } from '../root/list.js';
import { printList } from '../listing.js';
import { addJsonFlag, attempt, leaf, runsWith, type Deps } from '../shared.js';

export interface NamespaceListOptions extends Deps {
  json?: boolean;
}

export function makeNamespaceListCommand(f: Factory, run = runNamespaceList): Command {
  return runsWith(addJsonFlag(leaf('list', 'list the namespaces of your key')), f, run);
}

export async function runNamespaceList(o: NamespaceListOptions): Promise<void> {
  const list = await attempt('Unable to obtain the list of available namespaces', () => o.client().namespaces());
  printList(o, list, { title: 'namespaces', rows: (l) => l.map((n) => [n]) });
}

export interface NamespaceUsageOptions extends Deps {
  since?: number;
  upto?: number;
  json?: boolean;
}

export function makeNamespaceUsageCommand(f: Factory, run = runNamespaceUsage): Command {
  const cmd = leaf('usage', 'invocations, errors, duration and GB-seconds per action')
    .option('--since <time>', 'only activations started at or after: epoch ms, or an age like 1d', parseTime('--since'))
    .option('--upto <time>', 'only activations started at or before: epoch ms, or an age like 1h', parseTime('--upto'));
  return runsWith(addJsonFlag(cmd), f, run);
}

export const USAGE_HEADER = ['action', 'invocations', 'errors', 'duration', 'GB-s'] as const;

export async function runNamespaceUsage(o: NamespaceUsageOptions): Promise<void> {
  const ns = o.config().namespace.value;
  const usage = await attempt('Unable to obtain the usage of the namespace', () => o.client().usage(ns, { since: o.since, upto: o.upto }));
  if (o.json === true) return printJson(o.io, usage);
  const row = (name: string, u: UsageFigures): string[] => [name, String(u.invocations), String(u.errors), formatMs(u.duration), formatGbSeconds(u.gbSeconds)];
  printTable(o.io, undefined, [...usage.actions.map((a) => row(a.action, a)), row('total', usage.total)], USAGE_HEADER);
}

function formatMs(ms: number): string {
  return ms < 10_000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

/** Six decimals: 1 ms at 128 MB is 0.000125 GB-s. */
function formatGbSeconds(v: number): string {
  return v.toFixed(6);
}

export function makeNamespaceCommand(f: Factory): Command {
  return new Command('namespace')
    .description('work with namespaces')
    .addCommand(makeNamespaceListCommand(f))
    .addCommand(makeListCommand(f, 'get'))
    .addCommand(makeNamespaceUsageCommand(f));
}
