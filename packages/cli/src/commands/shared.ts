/** Pieces every command uses: the global flags on leaf commands, -p/-a flags, --json, error context. */
import { Command, Option } from 'commander';
import { ApiError, type WhiskClient } from '../api/client.js';
import type { Config } from '../config.js';
import { CliError, UsageError } from '../exit.js';
import type { Factory } from '../factory.js';
import type { IOStreams } from '../iostreams.js';
import { collectPair } from '../params.js';

/** What every runX needs; the client and config are functions so commands that need neither never load them. */
export interface Deps {
  io: IOStreams;
  client: () => WhiskClient;
  config: () => Config;
}

export function deps(f: Factory): Deps {
  return { io: f.io, client: () => f.client(), config: () => f.config() };
}

const withGlobals = new WeakSet<Command>();

/**
 * wsk accepts its global flags anywhere on the line; the root also declares them (for `whirl -i action ...`),
 * and positional options keep the two from fighting over `property set --auth`.
 */
export function addGlobalFlags(cmd: Command): Command {
  withGlobals.add(cmd);
  return cmd
    .option('--apihost <host>', 'whisk API host (no scheme means https://)')
    .option('-u, --auth <key>', 'authorization key (uuid:key)')
    .option('--apiversion <version>', 'whisk API version')
    .option('-i, --insecure', 'accept self-signed TLS certificates')
    .option('-v, --verbose', 'print HTTP requests and responses to stderr')
    .option('-d, --debug', 'same as --verbose');
}

export function hasGlobalFlags(cmd: Command): boolean {
  return withGlobals.has(cmd);
}

export function addParamFlags(cmd: Command, what = 'parameter'): Command {
  return cmd
    .addOption(new Option('-p, --param <KEY VALUE>', `${what} as KEY VALUE (VALUE is JSON if it parses as JSON)`).argParser(collectPair))
    .option('-P, --param-file <file>', `JSON object file of ${what}s`);
}

export function addAnnotationFlags(cmd: Command): Command {
  return cmd
    .addOption(new Option('-a, --annotation <KEY VALUE>', 'annotation as KEY VALUE').argParser(collectPair))
    .option('-A, --annotation-file <file>', 'JSON object file of annotations');
}

export function addJsonFlag(cmd: Command): Command {
  return cmd.option('--json', 'print the raw JSON answer, for scripts');
}

/**
 * Ends a leaf the gh way: commander's positionals (named in `positionals`, in their order) and parsed
 * options, the lazy deps, and what is fixed for this variant of the command (`update`, `statusOnly`),
 * all handed to `run` as one options object.
 */
export function runsWith<O extends Deps>(
  cmd: Command,
  f: Factory,
  run: (o: O) => Promise<void>,
  positionals: readonly (keyof O & string)[] = [],
  fixed: Partial<O> = {},
): Command {
  return cmd.action(async (...args: unknown[]) => {
    const o: Record<string, unknown> = { ...deps(f), ...(args[positionals.length] as Record<string, unknown>), ...fixed };
    positionals.forEach((key, i) => (o[key] = args[i]));
    await run(o as O);
  });
}

/** A leaf command: global flags on, help that mentions the exit codes. */
export function leaf(name: string, description: string): Command {
  return addGlobalFlags(new Command(name).description(description));
}

/** Prefixes the failing operation, wsk style: `Unable to create action 'x': <server message> (code <tid>)`. */
export function failed(context: string, e: unknown): unknown {
  if (e instanceof ApiError) return new CliError(`${context}: ${e.message}`, e.exitCode);
  if (e instanceof UsageError) return e;
  if (e instanceof CliError) return new CliError(`${context}: ${e.message}`, e.exitCode, e.hint);
  return e;
}

export async function attempt<T>(context: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw failed(context, e);
  }
}

export function parseBoolWord(flag: string, v: string): boolean {
  const t = v.toLowerCase();
  if (['true', 'yes', 'y', '1', 'on'].includes(t)) return true;
  if (['false', 'no', 'n', '0', 'off'].includes(t)) return false;
  throw new UsageError(`flag ${flag} expects yes|no|true|false, got '${v}'`);
}

/** Runs tasks with at most n in flight (per-rule status lookups). */
export async function mapLimit<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}
