/** `whirl property set|unset`: edits the properties file in place, keeping the lines it does not touch. */
import { Command } from 'commander';
import { normalizeApiHost, propsPath, readPropsFile, updateProps, writePropsFile, type PropKey } from '../../config.js';
import { UsageError } from '../../exit.js';
import type { Factory } from '../../factory.js';
import type { IOStreams } from '../../iostreams.js';
import { printOk } from '../../output.js';

export interface PropertySetOptions {
  io: IOStreams;
  env: NodeJS.ProcessEnv;
  apihost?: string;
  auth?: string;
  namespace?: string;
  apiversion?: string;
  cert?: string;
  key?: string;
}

export function makePropertySetCommand(f: Factory, run = runPropertySet): Command {
  return new Command('set')
    .description('set properties in the properties file ($WSK_CONFIG_FILE or ~/.wskprops)')
    .option('--apihost <host>', 'whisk API host')
    .option('-u, --auth <key>', 'authorization key')
    .option('--namespace <ns>', 'default namespace')
    .option('--apiversion <version>', 'whisk API version')
    .option('--cert <file>', 'client certificate file')
    .option('--key <file>', 'client key file')
    .action(async (o: Omit<PropertySetOptions, 'io' | 'env'>) => {
      await run({ io: f.io, env: f.env, ...o });
    });
}

export async function runPropertySet(o: PropertySetOptions): Promise<void> {
  const changes: Partial<Record<PropKey, string>> = {};
  const messages: string[] = [];
  if (o.apihost !== undefined) {
    normalizeApiHost(o.apihost); // rejects garbage now rather than at the next command
    changes.APIHOST = o.apihost;
    messages.push(`whisk API host set to ${o.apihost}`);
  }
  if (o.auth !== undefined) {
    changes.AUTH = o.auth;
    messages.push("whisk auth set. Run 'whirl property get --auth' to see the new value.");
  }
  if (o.namespace !== undefined) {
    changes.NAMESPACE = o.namespace;
    messages.push(`whisk namespace set to ${o.namespace}`);
  }
  if (o.apiversion !== undefined) {
    changes.APIVERSION = o.apiversion;
    messages.push(`whisk API version set to ${o.apiversion}`);
  }
  if (o.cert !== undefined) {
    changes.CERT = o.cert;
    messages.push(`client cert set. Run 'whirl property get --cert' to see the new value.`);
  }
  if (o.key !== undefined) {
    changes.KEY = o.key;
    messages.push(`client key set. Run 'whirl property get --key' to see the new value.`);
  }
  if (messages.length === 0) throw new UsageError('property set needs at least one of --apihost, --auth, --namespace, --apiversion, --cert, --key');
  writePropsFile(updateProps(readPropsFile(propsPath(o.env)), changes));
  for (const m of messages) printOk(o.io, m);
  await Promise.resolve();
}

export interface PropertyUnsetOptions {
  io: IOStreams;
  env: NodeJS.ProcessEnv;
  apihost?: boolean;
  auth?: boolean;
  namespace?: boolean;
  apiversion?: boolean;
  cert?: boolean;
  key?: boolean;
}

export function makePropertyUnsetCommand(f: Factory, run = runPropertyUnset): Command {
  return new Command('unset')
    .description('remove properties from the properties file')
    .option('--apihost', 'whisk API host')
    .option('-u, --auth', 'authorization key')
    .option('--namespace', 'default namespace')
    .option('--apiversion', 'whisk API version')
    .option('--cert', 'client certificate')
    .option('--key', 'client key')
    .action(async (o: Omit<PropertyUnsetOptions, 'io' | 'env'>) => {
      await run({ io: f.io, env: f.env, ...o });
    });
}

export async function runPropertyUnset(o: PropertyUnsetOptions): Promise<void> {
  const table: [keyof PropertyUnsetOptions, PropKey, string][] = [
    ['apihost', 'APIHOST', 'whisk API host unset.'],
    ['auth', 'AUTH', 'whisk auth unset.'],
    ['namespace', 'NAMESPACE', 'whisk namespace unset.'],
    ['apiversion', 'APIVERSION', 'whisk API version unset.'],
    ['cert', 'CERT', 'client cert unset.'],
    ['key', 'KEY', 'client key unset.'],
  ];
  const chosen = table.filter(([flag]) => o[flag] === true);
  if (chosen.length === 0) throw new UsageError('property unset needs at least one of --apihost, --auth, --namespace, --apiversion, --cert, --key');
  const changes: Partial<Record<PropKey, undefined>> = {};
  for (const [, key] of chosen) changes[key] = undefined;
  writePropsFile(updateProps(readPropsFile(propsPath(o.env)), changes));
  for (const [, , msg] of chosen) printOk(o.io, msg);
  await Promise.resolve();
}
