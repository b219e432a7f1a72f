/** `whirl property get`: the effective settings (after flag > env > file precedence) and where each came from. */
import { Command } from 'commander';
import type { Config } from '../../config.js';
import type { Factory } from '../../factory.js';
import { printJson, printTable } from '../../output.js';
import type { WhiskClient } from '../../api/client.js';
import type { IOStreams } from '../../iostreams.js';

export interface PropertyGetOptions {
  io: IOStreams;
  config: () => Config;
  client: () => WhiskClient;
  cliVersion: string;
  apihost?: boolean;
  auth?: boolean;
  namespace?: boolean;
  apiversion?: boolean;
  cert?: boolean;
  key?: boolean;
  cliversion?: boolean;
  apibuild?: boolean;
  apibuildno?: boolean;
  all?: boolean;
  json?: boolean;
}

export function makePropertyGetCommand(f: Factory, run = runPropertyGet): Command {
  return new Command('get')
    .description('show properties (all of them without flags)')
    .option('--apihost', 'whisk API host')
    .option('-u, --auth', 'authorization key')
    .option('--namespace', 'namespace (asks the server when it is _)')
    .option('--apiversion', 'whisk API version')
    .option('--cert', 'client certificate')
    .option('--key', 'client key')
    .option('--cliversion', 'CLI version')
    .option('--apibuild', 'server build (asks the server)')
    .option('--apibuildno', 'server build number (asks the server)')
    .option('--all', 'everything')
    .option('--json', 'print a JSON object')
    .action(async (o: Omit<PropertyGetOptions, 'io' | 'config' | 'client' | 'cliVersion'>) => {
      await run({ io: f.io, config: () => f.config(), client: () => f.client(), cliVersion: f.cliVersion, ...o });
    });
}

type Row = { key: string; label: string; value: () => Promise<string> | string; source?: string };

export async function runPropertyGet(o: PropertyGetOptions): Promise<void> {
  const cfg = o.config();
  let info: Promise<{ build?: string; buildno?: string }> | undefined;
  const serverInfo = (): Promise<{ build?: string; buildno?: string }> => (info ??= o.client().info().catch(() => ({})));
  const rows: Row[] = [
    { key: 'apihost', label: 'whisk API host', value: () => cfg.apihost.value ?? '', source: cfg.apihost.from },
    { key: 'auth', label: 'whisk auth', value: () => cfg.auth.value ?? '', source: cfg.auth.from },
    {
      key: 'namespace',
      label: 'whisk namespace',
      value: async () => {
        if (cfg.namespace.value !== '_' || cfg.apihost.value === undefined || cfg.auth.value === undefined) return cfg.namespace.value;
        // `_` means "mine": the server knows which one that is.
        return o
          .client()
          .namespaces()
          .then((l) => l[0] ?? '_')
          .catch(() => '_');
      },
      source: cfg.namespace.from,
    },
    { key: 'cert', label: 'client cert', value: () => cfg.cert ?? '' },
    { key: 'key', label: 'Client key', value: () => cfg.key ?? '' },
    { key: 'apiversion', label: 'whisk API version', value: () => cfg.apiversion.value, source: cfg.apiversion.from },
    { key: 'cliversion', label: 'whisk CLI version', value: () => o.cliVersion },
    { key: 'apibuild', label: 'whisk API build', value: async () => (await serverInfo()).build ?? 'Unknown' },
    { key: 'apibuildno', label: 'whisk API build number', value: async () => (await serverInfo()).buildno ?? 'Unknown' },
  ];
  const flags = o as unknown as Record<string, boolean | undefined>;
  const selected = o.all === true || !rows.some((r) => flags[r.key] === true) ? rows : rows.filter((r) => flags[r.key] === true);
  // Only ask the server when a server-side value was asked for, or for a full listing with a host set.
  const usable = selected.filter((r) => !(r.key.startsWith('apibuild') && cfg.apihost.value === undefined));
  const values = await Promise.all(usable.map(async (r) => [r, await r.value()] as const));
  if (o.json === true) {
    const out: Record<string, string> = {};
    for (const [r, v] of values) out[r.key] = v;
    printJson(o.io, { ...out, propsFile: cfg.propsFile });
    return;
  }
  printTable(
    o.io,
    undefined,
    values.map(([r, v]) => [r.label, v]),
  );
}
